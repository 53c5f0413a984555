"""Downloads people can open: the numbers a figure or table shows, in a spreadsheet file of the page's language.

Why. The machine-readable CSV beside each figure and table (``<name>.csv``) keeps every column the notebook
computed, raw (decimal point, full precision, the code's column names): right for a program, wrong for a reader
who double-clicks it. So every figure and table also gets the file of the letter's language, holding what the
reader sees and nothing else (:func:`reader_frame`):

- the columns a reader needs: a table's own columns; a chart's series (its category or year, its series, its
  values and intervals, the words that tell its rows apart); for another figure, the columns that have a public
  name. Internal columns (test statistics, flags, intermediate values) stay in the machine file only;
- headers in the page's language and words: the author's header, else the chart's axis label, else the public
  name of the column (``columns`` in ``publications/_shared/site_words.yml``);
- values as the letter prints them: rounded the same way, changes and shares in percent (the letter's +0,7 %
  is 0,7 in a column whose header says "(%)"), yes/no or the chart's own legend words instead of True/False.

Files: ``<name>.fr.csv`` (French spreadsheets: semicolon, decimal comma, UTF-8 with a byte-order mark so Excel
detects the encoding) or ``<name>.en.csv`` (comma, decimal point) for an English letter; numbers carry no
thousands separator and no unit sign, so a spreadsheet reads them as numbers; a missing value is an empty cell,
never 0. ``<name>.xlsx``: a sheet of the same values (numbers as numbers) and a metadata sheet (title, source,
edition, note, licence), written with openpyxl then re-zipped with fixed dates, so the same inputs give the same
bytes. The data table under each chart in the HTML letter is the same view (:mod:`observatoire.outputs.interactive`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from observatoire.core.formatting import is_missing, parse_format
from observatoire.outputs.words import column_header, site_words

__all__ = [
    "FIXED_DATE",
    "ReaderData",
    "reader_header",
    "reader_columns",
    "reader_frame",
    "reader_csv",
    "reader_file_name",
    "xlsx_workbook",
    "shown_value",
]

#: Date written into the workbook's properties and zip entries (the earliest a zip file can carry).
FIXED_DATE = dt.datetime(1980, 1, 1)

#: CSV dialect of each language's spreadsheets: (separator, decimal mark, byte-order mark).
_DIALECT = {"fr": (";", ",", "\ufeff"), "en": (",", ".", "\ufeff")}


def reader_file_name(name: str, lang: str) -> str:
    """``<name>.fr.csv``, ``<name>.en.csv``: the reader's CSV of a figure or table."""
    return f"{name}.{lang}.csv"


def reader_header(column: str, header: str | None = None, kind: str | None = None, lang: str = "fr") -> str:
    """The column name a reader sees.

    Parameters
    ----------
    column : str
        The column's name in the data.
    header : str, optional
        A header already chosen by the author (a table's displayed header, a chart's axis label): used as given.
    kind : str, optional
        The display kind (``"change"`` or ``"percent"`` add " (%)" when the name does not say it).
    lang : str, default "fr"

    Returns
    -------
    str
        The author's header, else the public name of the column (site_words ``columns``), else the column's
        name made readable (first letter capitalised, ``_`` as spaces).
    """
    if header is not None and str(header).strip() and str(header) != str(column):
        label = str(header).strip()
    else:
        name = str(column)
        label = column_header(name, lang) or (name.replace("_", " ").strip() or name)
        label = label[:1].upper() + label[1:]
    if kind in ("change", "percent") and "%" not in label:
        label += " (%)"
    return label


def _is_flag(series: pd.Series) -> bool:
    """A yes/no column: booleans, or their text as a CSV gives them back."""
    values = series.dropna()
    return len(values) > 0 and set(values.astype(str)) <= {"True", "False"}


def reader_columns(columns: Sequence[str], chart: Mapping | None, public: Sequence[str] = ()) -> list[str]:
    """The columns of a figure's data a reader needs, in order.

    Parameters
    ----------
    columns : sequence of str
        The data's columns.
    chart : mapping or None
        What the chart shows (:func:`observatoire.outputs.charts.chart_description`).
    public : sequence of str
        Columns with a public name (the others are internal); beside a line or bar chart's series, only its text
        columns (:func:`reader_frame` chooses them).

    Returns
    -------
    list of str
        A line or bar chart: its category (x), series (hue) and value (y), then the other text columns with a
        public name (they tell rows apart: a scope, a series). A dot-and-interval chart: label, value, interval,
        highlight. Another figure: the columns with a public name.
    """
    kind = (chart or {}).get("kind")
    if kind in ("line", "bar"):
        used = [chart["x"]] + ([chart["hue"]] if chart.get("hue") else []) + [chart["y"]]
        used = [c for c in used if c in columns] + [c for c in columns if c in public and c not in used]
    elif kind == "rate_ci":
        used = [chart[k] for k in ("label", "rate", "low", "high", "highlight") if chart.get(k)]
    else:
        used = [c for c in columns if c in public]
    return [c for c in used if c in columns]


@dataclass(frozen=True)
class ReaderData:
    """What a reader gets of a figure's or table's data: columns, headers, display formats, values.

    Attributes
    ----------
    frame : DataFrame
        The columns a reader needs, yes/no columns as words.
    headers : dict
        Column -> header in the page's language.
    formats : dict
        Column -> display format (``observatoire.outputs.tables`` specs).
    lang : str
    """

    frame: pd.DataFrame
    headers: dict[str, str]
    formats: dict[str, str]
    lang: str


def _chart_header(column: str, chart: Mapping | None) -> str | None:
    """A chart's own label of one of its columns: its value axis, or its category axis."""
    if not chart:
        return None
    kind = chart.get("kind")
    if kind in ("line", "bar"):
        return (
            chart.get("ylabel")
            if column == chart["y"]
            else chart.get("xlabel")
            if column == chart["x"]
            else None
        )
    if kind == "rate_ci" and column == chart["rate"]:
        return chart.get("xlabel")
    return None


def reader_frame(
    frame: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None,
    formats: Mapping[str, str],
    chart: Mapping | None = None,
    lang: str = "fr",
    table: bool = False,
) -> ReaderData:
    """The reader's view of a figure's or table's data (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The data as saved (every column).
    headers : mapping, optional
        Headers chosen by the author (a table's ``columns`` mapping, a figure's ``headers``).
    formats : mapping
        Display format of every column.
    chart : mapping, optional
        The chart's description (figures of :mod:`observatoire.outputs.charts`).
    lang : str, default "fr"
    table : bool, default False
        A table: every column is the reader's (the letter prints them all).
    """
    headers = dict(headers or {})
    columns = [str(c) for c in frame.columns]
    public = [c for c in columns if c in headers or column_header(c, lang)]
    if (chart or {}).get("kind") in ("line", "bar"):  # beside a chart's series: the words telling rows apart
        public = [c for c in public if formats.get(c, "text") == "text" and not _is_flag(frame[c])]
    wanted = columns if table else reader_columns(columns, chart, public)
    shown = frame[wanted].copy() if wanted else frame.iloc[:, :0].copy()
    yes_no = site_words(lang)["data_table"]
    highlight = (chart or {}).get("highlight")
    out_formats = {}
    for column in wanted:
        spec = formats.get(column) or "text"
        if _is_flag(shown[column]):
            if column == highlight:
                words = {"True": chart.get("highlight_label"), "False": chart.get("other_label")}
            else:
                words = {"True": yes_no["yes"], "False": yes_no["no"]}
            shown[column] = shown[column].map(lambda v, w=words: None if is_missing(v) else w[str(v)])
            spec = "text"
        out_formats[column] = spec
    out_headers = {
        c: reader_header(c, headers.get(c) or _chart_header(c, chart), parse_format(out_formats[c])[0], lang)
        for c in wanted
    }
    return ReaderData(shown, out_headers, out_formats, lang)


def shown_value(value, spec: str):
    """The value as the letter shows it, as a number (or text): rounded, changes in percent."""
    if is_missing(value):
        return None
    kind, decimals = parse_format(spec)
    if kind == "text":
        return str(value)
    if kind == "year":
        return int(float(value))
    number = float(value) * (100.0 if kind == "change" else 1.0)
    # Half away from zero on the decimal value, as formatting.py rounds the numbers of the letter.
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return int(rounded) if decimals == 0 else float(rounded)


def _rows(data: ReaderData) -> tuple[list[str], list[list], list[str]]:
    columns = list(data.frame.columns)
    names = [data.headers[c] for c in columns]
    specs = [data.formats[c] for c in columns]
    rows = [
        [shown_value(v, s) for v, s in zip(values, specs, strict=True)]
        for values in data.frame.itertuples(index=False, name=None)
    ]
    return names, rows, specs


def _csv_cell(value, spec: str, separator: str, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.replace('"', '""')
        return f'"{text}"' if any(ch in value for ch in f'{separator}"\n\r') else value
    if isinstance(value, int):
        return str(value)
    return f"{value:.{parse_format(spec)[1]}f}".replace(".", decimal)


def reader_csv(data: ReaderData) -> bytes:
    """The reader's CSV (see the module docstring): UTF-8 with BOM, ``\\r\\n`` line ends (what spreadsheets
    write), the separator and decimal mark of the data's language."""
    separator, decimal, bom = _DIALECT[data.lang]
    names, rows, specs = _rows(data)
    lines = [separator.join(_csv_cell(n, "text", separator, decimal) for n in names)]
    for row in rows:
        lines.append(
            separator.join(_csv_cell(v, s, separator, decimal) for v, s in zip(row, specs, strict=True))
        )
    return (bom + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _number_format(spec: str) -> str:
    kind, decimals = parse_format(spec)
    if kind == "year":
        return "0"
    return "#,##0" + ("." + "0" * decimals if decimals else "")


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_zip(content: bytes) -> bytes:
    """Re-write a workbook with fixed dates: zip entries and ``dcterms:modified`` (openpyxl stamps save time)."""
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, data)
    return out.getvalue()


def xlsx_workbook(data: ReaderData, metadata: Sequence[tuple[str, str | None]]) -> bytes:
    """An Excel workbook: the data as shown, and a metadata sheet; byte-identical for the same inputs.

    Parameters
    ----------
    data : ReaderData
        :func:`reader_frame` of the figure or table.
    metadata : sequence of (key, text)
        Rows of the metadata sheet, in order, by key of the ``spreadsheet`` words (``("title", ...)``,
        ``("source", ...)``); a None text is written as "—".

    Returns
    -------
    bytes
    """
    words = site_words(data.lang)["spreadsheet"]
    names, rows, specs = _rows(data)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = words["data_sheet"]
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, spec in enumerate(specs, start=1):
        if parse_format(spec)[0] == "text":
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = _number_format(spec)
    for index, name in enumerate(names, start=1):
        width = max([len(name)] + [len(str(r[index - 1])) for r in rows if r[index - 1] is not None])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    sheet.freeze_panes = "A2"

    meta = workbook.create_sheet(words["metadata_sheet"])
    rows_meta = [(words[key], text) for key, text in metadata] + [
        (words["empty_cell"], words["empty_cell_means"]),
        (words["licence"], words["licence_text"]),
    ]
    for label, text in rows_meta:
        meta.append([label, text if text not in (None, "") else "—"])
    for (cell,) in meta.iter_rows(min_col=1, max_col=1):
        cell.font = Font(bold=True)
    for (cell,) in meta.iter_rows(min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    meta.column_dimensions["A"].width = 18
    meta.column_dimensions["B"].width = 100

    workbook.properties.creator = words["creator"]
    workbook.properties.created = FIXED_DATE
    workbook.properties.modified = FIXED_DATE
    workbook.properties.lastModifiedBy = None
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip(buffer.getvalue())
