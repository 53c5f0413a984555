"""The edition diff: every changed fact and table cell, with old and new values and the input that explains it."""

from __future__ import annotations

import json

from observatoire.publishing import diff


def _outputs(root, facts, table_rows, inputs):
    (root / "facts").mkdir(parents=True)
    (root / "tables").mkdir()
    (root / "facts" / "02.json").write_text(json.dumps({"facts": facts}), encoding="utf-8")
    lines = ["indicateur,annee,valeur"] + [",".join(map(str, r)) for r in table_rows]
    (root / "tables" / "series.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "tables" / "series.json").write_text(json.dumps({"source_id": "ssmsi"}), encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps({"inputs": inputs}), encoding="utf-8")
    return root


def test_diff_reports_values_changes_and_explanations(tmp_path):
    old = _outputs(
        tmp_path / "old",
        {
            "vs_total": {"value": 94864, "source_id": "ssmsi_dep_2023"},
            "mvc_femmes": {"value": 96, "source_id": "national_series"},
        },
        [("VS", 2016, 37742), ("VS", 2023, 94864)],
        [
            {"source_id": "ssmsi_dep_2023", "edition": "2023", "sha256": "a" * 64, "file": "old.csv"},
            {"source_id": "national_series", "edition": "2025-11", "sha256": "c" * 64, "file": "ns.csv"},
        ],
    )
    new = _outputs(
        tmp_path / "new",
        {
            "vs_total": {"value": 114079, "source_id": "ssmsi_dep_2024"},
            "mvc_femmes": {"value": 96, "source_id": "national_series"},
            "rev_n": {"value": 16, "source_id": "ssmsi_dep_2024"},
        },
        [("VS", 2016, 51913), ("VS", 2023, 114079), ("VS", 2024, 122610)],
        [
            {"source_id": "ssmsi_dep_2024", "edition": "2024", "sha256": "b" * 64, "file": "new.csv"},
            {"source_id": "national_series", "edition": "2025-11", "sha256": "c" * 64, "file": "ns.csv"},
        ],
    )
    report = diff.compare(old, new)
    [fact] = report.revised_facts
    assert (fact.item, fact.old, fact.new) == ("vs_total", 94864, 114079)
    assert abs(fact.relative - (114079 / 94864 - 1)) < 1e-12
    assert "ssmsi_dep_2023 (edition 2023) -> ssmsi_dep_2024 (edition 2024)" in fact.explanation
    cells = {c.item: c for c in report.changes if c.kind == "table"}
    assert set(cells) == {"series: VS / 2016: valeur", "series: VS / 2023: valeur"}
    assert cells["series: VS / 2016: valeur"].old == "37742"
    assert "fact rev_n" in report.added and "series: row VS / 2024" in report.added
    assert report.unchanged == 1  # mvc_femmes

    md, page = diff.write_report(report, tmp_path / "report")
    text = md.read_text(encoding="utf-8")
    assert "| vs_total | 94\u202f864 | 114\u202f079 | +20,3 % |" in text
    assert '<html lang="fr">' in page.read_text(encoding="utf-8")


def test_same_inputs_means_code_or_method(tmp_path):
    inputs = [{"source_id": "s", "edition": "1", "sha256": "d" * 64, "file": "f"}]
    old = _outputs(tmp_path / "a", {"k": {"value": 1, "source_id": "s"}}, [], inputs)
    new = _outputs(tmp_path / "b", {"k": {"value": 2, "source_id": "s"}}, [], inputs)
    [change] = diff.compare(old, new).changes
    assert "change of code or method" in change.explanation
