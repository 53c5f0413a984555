"""Tables of the letters: raw values for reuse, a French-formatted Markdown table for the letter.

Why two files. The CSV keeps the raw values (full precision, decimal point) so that anyone can reuse or check the
numbers; the Markdown file is what the reader sees, formatted once here with the same typography as the prose
(:mod:`observatoire.core.formatting`). The Markdown is a pandoc/Quarto pipe table followed, after a blank line, by the
caption line ``: <title> {#tbl-<name>}`` and nothing else, so that ``{{< include >}}`` of the file gives a
numbered, cross-referenceable table (``@tbl-<name>``). Source and note live in the JSON metadata beside it.

A missing cell is printed "—" (never 0, never blank) and the note then says "— : donnée non disponible."
Text from data (source titles, labels) is escaped for Markdown in the table and its caption, and for
spreadsheets in the CSV (a cell starting with = + - @ is prefixed with an apostrophe): see
:mod:`observatoire.core.escaping`. Files are written atomically and byte-identically for the same input.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from observatoire.core.escaping import csv_frame, markdown_text
from observatoire.core.formatting import (
    NBSP,
    format_value,
    is_missing,
    not_available,
    numbers_kept_together,
    parse_format,
)
from observatoire.outputs import downloads

__all__ = [
    "MISSING_CELL",
    "MISSING_NOTE",
    "save_table",
    "format_column",
    "to_markdown",
    "default_format",
]

#: What a missing cell shows.
MISSING_CELL = "—"
#: Sentence added to the note when a table has missing cells.
MISSING_NOTE = f"{MISSING_CELL}{NBSP}: donnée non disponible."


def missing_note(lang: str = "fr") -> str:
    """:data:`MISSING_NOTE` in ``lang`` ("— : donnée non disponible.", "—: not available.")."""
    return MISSING_NOTE if lang == "fr" else f"{MISSING_CELL}: {not_available(lang)}."


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_YEAR_NAMES = {"year", "annee", "année", "an"}
#: Formats of columns whose name says what they hold, when the author gives none: a relative change is a
#: fraction printed in percent (the letter's "+0,7 %"), a p-value needs its small decimals.
NAMED_FORMATS = {
    "change_rel": "change:1",
    "p_value": "number:3",
    "p_adjusted": "number:3",
    "p_value_poisson": "number:3",
}


def default_format(name: str, series: pd.Series) -> str:
    """Format used when none is given: :data:`NAMED_FORMATS`, years plainly, whole numbers with 0 decimals,
    other floats with 1."""
    if (
        str(name) in NAMED_FORMATS
        and pd.api.types.is_numeric_dtype(series)
        and not pd.api.types.is_bool_dtype(series)
    ):
        return NAMED_FORMATS[str(name)]
    if str(name).strip().lower() in _YEAR_NAMES and pd.api.types.is_numeric_dtype(series):
        return "year"
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "text"
    values = series.dropna()
    if pd.api.types.is_integer_dtype(series) or (len(values) and (values % 1 == 0).all()):
        return "number:0"
    return "number:1"


def format_column(series: pd.Series, spec: str, lang: str = "fr") -> list[str]:
    """Format one column for display.

    Parameters
    ----------
    series : Series
        The raw values.
    spec : str
        ``"number:0"``, ``"percent:1"`` (values in percent), ``"change:1"`` (fractions), ``"rate:1"``,
        ``"signed:0"`` (absolute differences), ``"year"`` (plain integer) or ``"text"``.
    lang : {"fr", "en"}, default "fr"
        The language numbers are written in.

    Returns
    -------
    list of str
        One cell per value; missing values give :data:`MISSING_CELL`.
    """
    kind, decimals = parse_format(spec)
    cells = []
    for value in series.tolist():
        if is_missing(value):
            cells.append(MISSING_CELL)
        elif kind == "year":
            cells.append(f"{int(value)}")
        elif kind == "text":
            cells.append(str(value))
        else:
            cells.append(format_value(value, kind, decimals, lang))
    return cells


def _escape(cell: str) -> str:
    """One line of inert Markdown (:func:`observatoire.core.escaping.markdown_text`): pipes, HTML, links, shortcodes
    and every other markup character escaped; U+202F and U+00A0 are kept."""
    return markdown_text(cell)


def to_markdown(
    df: pd.DataFrame,
    title: str,
    name: str,
    formats: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    lang: str = "fr",
) -> tuple[str, bool]:
    """Render a pipe table and its caption line.

    Parameters
    ----------
    df : DataFrame
        The columns to show, in order.
    title : str
        Caption.
    name : str
        Cross-reference name (``tbl-<name>``).
    formats : mapping, optional
        Column -> format spec (see :func:`format_column`); others get a default by dtype.
    headers : mapping, optional
        Column -> header shown.
    lang : {"fr", "en"}, default "fr"

    Returns
    -------
    (str, bool)
        The Markdown text (ending with a newline) and whether any cell was missing.
    """
    formats = dict(formats or {})
    headers = dict(headers or {})
    columns, aligns, any_missing = [], [], False
    for col in df.columns:
        spec = formats.get(col) or default_format(col, df[col])
        cells = format_column(df[col], spec, lang)
        any_missing = any_missing or bool(df[col].isna().any())
        columns.append(cells)
        aligns.append("---" if parse_format(spec)[0] in ("text", "year") else "--:")
    header = [_escape(headers.get(col, str(col))) for col in df.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(aligns) + "|"]
    for row in zip(*columns, strict=True) if columns else []:
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    lines += ["", f": {_escape(title)} {{#tbl-{name}}}"]
    return "\n".join(lines) + "\n", any_missing


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def _select(df: pd.DataFrame, columns: Mapping[str, str] | Iterable[str] | None) -> tuple[pd.DataFrame, dict]:
    if columns is None:
        return df, {}
    if isinstance(columns, Mapping):
        wanted, headers = list(columns), {k: str(v) for k, v in columns.items()}
    else:
        wanted, headers = list(columns), {}
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise KeyError(f"save_table: column(s) {missing} not in the table (columns: {list(df.columns)})")
    return df[wanted], headers


def save_table(
    df: pd.DataFrame,
    name: str,
    out_dir: str | Path,
    *,
    title: str,
    source: str,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    formats: Mapping[str, str] | None = None,
    note: str | None = None,
    edition: str | None = None,
    lang: str = "fr",
) -> dict:
    """Write a table as CSV (raw values), Markdown (formatted in ``lang``, caption), downloads and JSON metadata.

    Parameters
    ----------
    df : DataFrame
        The table (a named index is kept as a first column).
    name : str
        File stem and cross-reference label (``@tbl-<name>``): lower-case letters, digits, ``-``, ``_``.
    out_dir : str or Path
        The edition's output folder; files go to ``out_dir/tables/``.
    title : str
        Caption of the table.
    source : str
        Where the numbers come from (required).
    columns : mapping or list, optional
        Columns to keep, in order; a mapping ``{column: header}`` also renames them in the Markdown (the CSV
        keeps the original names). Default: every column, headers as named.
    formats : mapping, optional
        ``{column: spec}`` with spec ``"number:0"``, ``"percent:1"``, ``"change:1"``, ``"rate:1"``,
        ``"signed:0"``, ``"year"`` or ``"text"``. Default: a column named year/annee prints plainly, whole
        numbers with no decimals, other numbers with one, anything else as text.
    note : str, optional
        Note for the reader; "— : donnée non disponible." is appended when a cell is missing.
    edition : str, optional
        The edition, for the workbook's metadata sheet (``EditionContext`` passes it).
    lang : {"fr", "en"}, default "fr"
        The language of the Markdown table's numbers and missing-cell note, and of the reader's downloads.

    Returns
    -------
    dict
        The metadata written to ``<name>.json``: ``name, title, source, note, edition, lang, files`` (``csv`` raw
        values, ``md``, ``csv_<lang>`` the CSV for spreadsheets in the letter's language (``csv_fr``:
        ``<name>.fr.csv``), ``xlsx`` the workbook with its metadata sheet; see :mod:`observatoire.outputs.downloads`),
        ``columns`` (name, header, format), ``n_rows`` and ``sha256`` of each file.

    Raises
    ------
    ValueError
        For a bad name, an empty title or source, or an unknown format.
    KeyError
        For a column that is not in the table.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"save_table: name {name!r} must match {_NAME.pattern}")
    for label, value in (("title", title), ("source", source)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"save_table: {label} is required and must be a non-empty string (got {value!r})"
            )
    if any(level is not None for level in df.index.names):
        df = df.reset_index()
    table, headers = _select(df, columns)
    if table.columns.duplicated().any():
        raise ValueError(
            f"save_table: duplicate column names {list(table.columns[table.columns.duplicated()])}"
        )
    formats = dict(formats or {})
    unknown = [c for c in formats if c not in table.columns]
    if unknown:
        raise KeyError(f"save_table: formats given for absent column(s) {unknown}")
    specs = {col: formats.get(col) or default_format(col, table[col]) for col in table.columns}
    for spec in specs.values():
        parse_format(spec)

    title = numbers_kept_together(title.strip())  # "1 000" typed with a plain space never breaks in a caption
    markdown, any_missing = to_markdown(table, title, name, specs, headers, lang)
    notes = [n for n in ((note or "").strip(), missing_note(lang) if any_missing else "") if n]
    full_note = " ".join(notes) or None
    safe = csv_frame(table)  # text cells a spreadsheet would run as formulas are neutralised
    safe_values = safe.set_axis(table.columns, axis=1)
    reader = downloads.reader_frame(
        safe_values, headers={str(k): v for k, v in headers.items()}, formats=specs, lang=lang, table=True
    )
    contents = {
        "csv": safe.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "md": markdown.encode("utf-8"),
        f"csv_{lang}": downloads.reader_csv(reader),
        "xlsx": downloads.xlsx_workbook(
            reader,
            [("title", title.strip()), ("source", source.strip()), ("edition", edition), ("note", full_note)],
        ),
    }

    folder = Path(out_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    suffixes = {f"csv_{lang}": f"{lang}.csv"}
    files = {kind: f"{name}.{suffixes.get(kind, kind)}" for kind in contents}
    for kind, content in contents.items():
        _write(folder / files[kind], content)
    meta = {
        "name": name,
        "title": title.strip(),
        "source": source.strip(),
        "note": full_note,
        "edition": edition,
        "lang": lang,
        "files": files,
        "columns": [
            {"name": str(col), "header": headers.get(col, str(col)), "format": specs[col]}
            for col in table.columns
        ],
        "n_rows": int(len(table)),
        "sha256": {kind: hashlib.sha256(content).hexdigest() for kind, content in contents.items()},
    }
    text = json.dumps(meta, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    _write(folder / f"{name}.json", text.encode("utf-8"))
    return meta
