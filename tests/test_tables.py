"""Tables: raw CSV, French Markdown with its caption line last, metadata, missing cells."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from observatoire.outputs.tables import MISSING_NOTE, format_column, save_table


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "annee": [2022, 2023],
            "departement": ["Ain | Bugey", "Aisne"],
            "victimes": [12345, np.nan],
            "taux": [9.84, 10.25],
            "evolution": [0.053, -0.021],
            "part": [85.3, None],
        }
    )


def _save(out_dir, **kwargs):
    return save_table(
        _table(),
        "victimes",
        out_dir,
        title="Victimes par département",
        source="SSMSI, édition 2024",
        columns={
            "annee": "Année",
            "departement": "Département",
            "victimes": "Victimes",
            "taux": "Taux",
            "evolution": "Évolution",
            "part": "Part",
        },
        formats={"taux": "rate:1", "evolution": "change:1", "part": "percent:1"},
        **kwargs,
    )


def test_markdown_is_french_and_ends_with_the_caption(tmp_path):
    _save(tmp_path, note="Champ : France entière.")
    md = (tmp_path / "tables" / "victimes.md").read_text(encoding="utf-8")
    assert md == (
        "| Année | Département | Victimes | Taux | Évolution | Part |\n"
        "|---|---|--:|--:|--:|--:|\n"
        "| 2022 | Ain \\| Bugey | 12\u202f345 | 9,8 | +5,3\u202f% | 85,3\u202f% |\n"
        "| 2023 | Aisne | — | 10,3 | \u22122,1\u202f% | — |\n"
        "\n"
        ": Victimes par département {#tbl-victimes}\n"
    )


def test_csv_keeps_raw_values_and_json_describes_the_table(tmp_path):
    meta = _save(tmp_path, note="Champ : France entière.")
    folder = tmp_path / "tables"
    csv = (folder / "victimes.csv").read_bytes()
    assert csv.decode("utf-8") == (
        "annee,departement,victimes,taux,evolution,part\n"
        "2022,Ain | Bugey,12345.0,9.84,0.053,85.3\n"
        "2023,Aisne,,10.25,-0.021,\n"
    )
    assert json.loads((folder / "victimes.json").read_text(encoding="utf-8")) == meta
    assert meta["note"] == f"Champ : France entière. {MISSING_NOTE}"
    assert MISSING_NOTE == "—\u00a0: donnée non disponible."
    assert meta["sha256"]["csv"] == hashlib.sha256(csv).hexdigest()
    assert meta["columns"][0] == {"name": "annee", "header": "Année", "format": "year"}
    assert meta["n_rows"] == 2 and meta["files"] == {
        "csv": "victimes.csv",
        "md": "victimes.md",
        "csv_fr": "victimes.fr.csv",
        "xlsx": "victimes.xlsx",
    }


def test_save_table_is_byte_identical(tmp_path):
    _save(tmp_path / "a")
    _save(tmp_path / "b")
    for ext in ("csv", "md", "json"):
        assert (tmp_path / "a" / "tables" / f"victimes.{ext}").read_bytes() == (
            tmp_path / "b" / "tables" / f"victimes.{ext}"
        ).read_bytes()


def test_defaults_and_no_missing_note(tmp_path):
    df = pd.DataFrame({"year": [2023], "count": [1500], "rate": [2.25], "name": ["x"]})
    meta = save_table(df, "plain", tmp_path, title="T", source="S")
    md = (tmp_path / "tables" / "plain.md").read_text(encoding="utf-8")
    assert "| 2023 | 1\u202f500 | 2,3 | x |" in md  # year plain, whole numbers 0 decimals, others 1
    assert meta["note"] is None
    assert md.endswith(": T {#tbl-plain}\n")


def test_named_index_is_kept(tmp_path):
    df = pd.DataFrame({"v": [1, 2]}, index=pd.Index([2022, 2023], name="year"))
    meta = save_table(df, "indexed", tmp_path, title="T", source="S")
    assert [c["name"] for c in meta["columns"]] == ["year", "v"]


def test_format_column():
    assert format_column(pd.Series([1234.5, None]), "number:1") == ["1\u202f234,5", "—"]
    assert format_column(pd.Series([-25.0]), "signed:0") == ["\u221225"]
    with pytest.raises(ValueError, match="unknown table format"):
        format_column(pd.Series([1]), "money:2")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"title": ""}, ValueError),
        ({"source": " "}, ValueError),
        ({"columns": ["nope"]}, KeyError),
        ({"formats": {"nope": "text"}}, KeyError),
        ({"formats": {"taux": "rate:x"}}, ValueError),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error):
    args = {"title": "T", "source": "S", **kwargs}
    with pytest.raises(error):
        save_table(_table(), "t", tmp_path, **args)


def test_bad_name(tmp_path):
    with pytest.raises(ValueError, match="name"):
        save_table(_table(), "Bad Name", tmp_path, title="T", source="S")
