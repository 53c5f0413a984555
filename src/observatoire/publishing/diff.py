"""Edition diff: what changed between two builds of a letter, value by value, and which input explains it.

Producers revise the past with every edition (SSMSI's edition 2024 changes its 2016-2023 figures), so a
reviewer's first question about a new letter is "what moved, and why?". :func:`compare` answers it for two
output folders (each holding ``facts/*.json`` and ``tables/*.csv``, as the notebooks write them, and a
``manifest.json`` beside or above them): for every fact and every table cell, the old and new value, the
relative change, and the input whose change explains it (a new edition or file of the fact's source, or, when
the inputs are identical, a change of code or method).

``make diff`` with no arguments demonstrates it on the real data: the 2023 annual letter built on SSMSI edition
2023 and on edition 2024.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire.data import themes
from observatoire.data.catalogue import load_catalogue
from observatoire.outputs.words import site_text, site_words

#: Relative changes smaller than this are rounding noise, not revisions.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Change:
    """One value that differs between two builds."""

    kind: str  # "fact" or "table"
    item: str  # fact key, or "table: row key: column"
    old: float | str | None
    new: float | str | None
    relative: float | None
    explanation: str


@dataclass
class DiffReport:
    """Every change between two builds, with the inputs on each side."""

    old_label: str
    new_label: str
    changes: list[Change] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    inputs_old: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs_new: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def revised_facts(self) -> list[Change]:
        """The facts whose value changed."""
        return [c for c in self.changes if c.kind == "fact"]


def _find_manifest(outputs: Path) -> dict[str, Any]:
    for candidate in (
        outputs / "manifest.json",
        outputs.parent / "manifest.json",
        outputs.parent / "site" / "manifest.json",
    ):
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    return {}


def _inputs(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = manifest.get("inputs", [])
    if isinstance(entries, dict):
        entries = [{"source_id": k, **v} for k, v in entries.items()]
    return {e["source_id"]: e for e in entries if "source_id" in e}


def _read_facts(outputs: Path) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for path in sorted((outputs / "facts").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        records = document.get("facts", document) if isinstance(document, dict) else document
        if isinstance(records, dict):
            records = [
                {"key": k, **v} if isinstance(v, dict) else {"key": k, "value": v} for k, v in records.items()
            ]
        for record in records:
            if isinstance(record, dict) and "key" in record:
                facts[record["key"]] = record
    return facts


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _relative(old: Any, new: Any) -> float | None:
    a, b = _number(old), _number(new)
    if a is None or b is None or a == 0:
        return None
    return (b - a) / abs(a)


def _same(old: Any, new: Any) -> bool:
    a, b = _number(old), _number(new)
    if a is not None and b is not None:
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return (None if old in ("", None) else str(old)) == (None if new in ("", None) else str(new))


def explain(source_old: str | None, source_new: str | None, report: DiffReport) -> str:
    """Say which input change explains a changed value.

    Parameters
    ----------
    source_old, source_new : str or None
        The source id the value came from in each build.
    report : DiffReport
        Holds the inputs (id, edition, checksum) of both builds from their manifests.

    Returns
    -------
    str
        A sentence naming the input, its editions and checksums, or saying the inputs are the same.
    """
    old = report.inputs_old.get(source_old or "", {})
    new = report.inputs_new.get(source_new or "", {})
    if source_old != source_new:
        return (
            f"source changed: {source_old} (edition {old.get('edition', '?')}) -> "
            f"{source_new} (edition {new.get('edition', '?')})"
        )
    if old and new and old.get("sha256") != new.get("sha256"):
        return (
            f"input revised: {source_new} file {old.get('file', '?')} (edition {old.get('edition', '?')}) -> "
            f"{new.get('file', '?')} (edition {new.get('edition', '?')})"
        )
    if old and new:
        return (
            f"same input ({source_new}, sha256 {str(new.get('sha256', ''))[:12]}): change of code or method"
        )
    return f"source {source_new or '?'}: inputs not recorded in a manifest"


def _compare_facts(old_dir: Path, new_dir: Path, report: DiffReport) -> None:
    old, new = _read_facts(old_dir), _read_facts(new_dir)
    report.added += [f"fact {k}" for k in sorted(set(new) - set(old))]
    report.removed += [f"fact {k}" for k in sorted(set(old) - set(new))]
    for key in sorted(set(old) & set(new)):
        a, b = old[key].get("value"), new[key].get("value")
        if _same(a, b):
            report.unchanged += 1
            continue
        why = explain(old[key].get("source_id"), new[key].get("source_id"), report)
        report.changes.append(Change("fact", key, a, b, _relative(a, b), why))


def _table_sources(directory: Path, name: str) -> str | None:
    meta = directory / "tables" / f"{name}.json"
    if meta.is_file():
        document = json.loads(meta.read_text(encoding="utf-8"))
        return document.get("source_id") or document.get("source")
    return None


def _raw_tables(directory: Path) -> dict[str, Path]:
    """The machine-readable table files (``<name>.csv``), not the downloads for French spreadsheets."""
    return {p.stem: p for p in (directory / "tables").glob("*.csv") if not p.name.endswith(".fr.csv")}


def _compare_tables(old_dir: Path, new_dir: Path, report: DiffReport) -> None:
    import pandas as pd  # lazy: pandas, not on the no-change path

    old_tables, new_tables = _raw_tables(old_dir), _raw_tables(new_dir)
    report.added += [f"table {k}" for k in sorted(set(new_tables) - set(old_tables))]
    report.removed += [f"table {k}" for k in sorted(set(old_tables) - set(new_tables))]
    for name in sorted(set(old_tables) & set(new_tables)):
        a = pd.read_csv(old_tables[name], dtype=str, keep_default_na=False)
        b = pd.read_csv(new_tables[name], dtype=str, keep_default_na=False)
        keys = [
            c for c in a.columns if c in b.columns and not _numeric_column(a[c]) and not _numeric_column(b[c])
        ]
        keys += [
            c
            for c in ("year", "annee", "geo_code", "code")
            if c in a.columns and c in b.columns and c not in keys
        ]
        values = [c for c in a.columns if c in b.columns and c not in keys]
        if not keys:
            a, b = a.reset_index(), b.reset_index()
            keys = ["index"]
        a_rows = {tuple(row[k] for k in keys): row for _, row in a.iterrows()}
        b_rows = {tuple(row[k] for k in keys): row for _, row in b.iterrows()}
        why = explain(_table_sources(old_dir, name), _table_sources(new_dir, name), report)
        for row_key in sorted(set(a_rows) & set(b_rows)):
            for column in values:
                x, y = a_rows[row_key][column], b_rows[row_key][column]
                if _same(x, y):
                    report.unchanged += 1
                    continue
                label = f"{name}: {' / '.join(map(str, row_key))}: {column}"
                report.changes.append(Change("table", label, x, y, _relative(x, y), why))
        report.added += [f"{name}: row {' / '.join(k)}" for k in sorted(set(b_rows) - set(a_rows))]
        report.removed += [f"{name}: row {' / '.join(k)}" for k in sorted(set(a_rows) - set(b_rows))]


def _numeric_column(column) -> bool:
    filled = [v for v in column if v != ""]
    return bool(filled) and all(_number(v) is not None for v in filled)


def compare(old: Path, new: Path, old_label: str | None = None, new_label: str | None = None) -> DiffReport:
    """Compare two output folders of the same letter.

    Parameters
    ----------
    old, new : Path
        Output folders (``facts/``, ``tables/``; a ``manifest.json`` beside or one level above).
    old_label, new_label : str, optional
        Names for the report (default: the folder paths).

    Returns
    -------
    DiffReport
        Every changed value with its explanation, and the added and removed items.
    """
    old, new = Path(old), Path(new)
    report = DiffReport(old_label or str(old), new_label or str(new))
    report.inputs_old = _inputs(_find_manifest(old))
    report.inputs_new = _inputs(_find_manifest(new))
    _compare_facts(old, new, report)
    _compare_tables(old, new, report)
    return report


def _fmt(value: Any, lang: str = "fr") -> str:
    number = _number(value)
    if number is None:
        return "—" if value in (None, "") else str(value)
    if number.is_integer():  # no separator below 10 000 (so years read as years)
        grouped = f"{number:,.0f}".replace(",", "\u202f" if lang == "fr" else ",")
        return grouped if abs(number) >= 10000 else f"{number:.0f}"
    return f"{number:.4g}".replace(".", ",") if lang == "fr" else f"{number:.4g}"


def _fmt_rel(rel: float | None, lang: str = "fr") -> str:
    if rel is None:
        return "—"
    if lang != "fr":
        return f"{rel * 100:+.1f}%".replace("-", "\u2212")
    return f"{rel * 100:+.1f} %".replace(".", ",").replace("-", "\u2212")


def to_markdown(report: DiffReport, lang: str = "fr") -> str:
    """Render the report as Markdown (for the pull request and the review folder), in ``lang``: its words are the
    section ``revisions`` of ``publications/_shared/site_words.yml``."""
    words = site_words(lang)["revisions"]

    def text(name: str, **values: Any) -> str:
        return site_text(lang, f"revisions.{name}", **values)

    lines = [
        f"# {words['title']}",
        "",
        f"- {text('old', old=report.old_label)}",
        f"- {text('new', new=report.new_label)}",
        f"- {text('counts', changed=len(report.changes), facts=len(report.revised_facts), unchanged=report.unchanged)}",
        "",
        f"## {words['inputs']}",
        "",
        words["inputs_header"],
        "| --- | --- | --- | --- |",
    ]
    for source_id in sorted(set(report.inputs_old) | set(report.inputs_new)):
        a, b = report.inputs_old.get(source_id, {}), report.inputs_new.get(source_id, {})
        changed = words["yes"] if a.get("sha256") != b.get("sha256") else words["no"]
        lines.append(f"| {source_id} | {a.get('edition', '—')} | {b.get('edition', '—')} | {changed} |")
    for title, kind in (("facts", "fact"), ("cells", "table")):
        rows = [c for c in report.changes if c.kind == kind]
        lines += ["", f"## {text(title, n=len(rows))}", ""]
        if not rows:
            lines.append(words["none"])
            continue
        lines += [words["changes_header"], "| --- | ---: | ---: | ---: | --- |"]
        for c in rows:
            lines.append(
                f"| {c.item} | {_fmt(c.old, lang)} | {_fmt(c.new, lang)} | {_fmt_rel(c.relative, lang)} | "
                f"{c.explanation} |"
            )
    if report.added or report.removed:
        lines += ["", f"## {words['added_removed']}", ""]
        lines += [f"- {text('added', item=item)}" for item in report.added]
        lines += [f"- {text('removed', item=item)}" for item in report.removed]
    return "\n".join(lines) + "\n"


def to_html(report: DiffReport, lang: str = "fr") -> str:
    """Render the report as a standalone HTML page in ``lang`` (accessible tables)."""
    import pypandoc  # lazy: pandoc only for the HTML report

    body = pypandoc.convert_text(to_markdown(report, lang), "html", format="gfm")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
        "table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem}"
        "th{background:#f0eef5}"
    )
    title = f"{site_words(lang)['revisions']['title']} — {report.new_label}"
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n"
        f"</head>\n<body>\n{body}</body>\n</html>\n"
    )


def write_report(report: DiffReport, out_dir: Path, lang: str = "fr") -> tuple[Path, Path]:
    """Write ``revisions.md`` and ``revisions.html`` in ``lang`` into ``out_dir`` (atomically) and return their
    paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("revisions.md", to_markdown(report, lang)),
        ("revisions.html", to_html(report, lang)),
    ):
        handle, temporary = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, out_dir / name)
        written.append(out_dir / name)
    return written[0], written[1]


def catalogue_edition(source_id: str) -> str:
    """The edition of a catalogue source (``data/sources.yml``)."""
    return str(load_catalogue()[source_id].edition)


def default_editions(theme: str, year: int) -> tuple[str, str]:
    """The two editions ``make diff`` compares by default, from the declarations (no source id written here).

    The newer is the theme's ``ssmsi_source`` for ``year`` (publications/themes.yml); the older is the catalogue's
    source read by the same loader whose edition is the year before the newer's (data/sources.yml).

    Raises
    ------
    LookupError
        When the catalogue has no such previous edition.
    """
    newer = themes.get_theme(theme).parameters_for(year)["ssmsi_source"]
    catalogue = load_catalogue()
    loader, edition = catalogue[newer].loader, str(catalogue[newer].edition)
    previous = str(int(edition) - 1) if edition.isdigit() else ""
    older = [sid for sid, s in catalogue.items() if s.loader == loader and str(s.edition) == previous]
    if not older:
        raise LookupError(
            f"no {loader} source of edition {previous or '?'} before {newer} in data/sources.yml"
        )
    return older[0], newer
