"""Downloads people can open: a CSV for French spreadsheets and an Excel workbook with its metadata.

Why. The machine-readable CSV beside each figure and table keeps raw values (decimal point, full precision,
the code's column names): right for a program, wrong for a reader who double-clicks it, since French Excel
expects a semicolon separator and a decimal comma and shows the whole file in one column otherwise. So every
figure and table also gets:

- ``<name>.fr.csv``: semicolon-separated, decimal comma, UTF-8 with a byte-order mark (so Excel detects the
  encoding), French column names, values rounded as the letter shows them. Numbers carry no thousands separator
  and no unit sign, so a spreadsheet (or ``pandas.read_csv(sep=";", decimal=",")``) reads them as numbers; the
  unit is in the column name ("(%)"). A missing value is an empty cell, never 0; the workbook says so.
- ``<name>.xlsx``: a sheet "Données" (the same values, numbers as numbers) and a sheet "Métadonnées" (title,
  source, edition, notes, licence, files). Written with openpyxl, then re-zipped with fixed dates so that the same
  inputs give the same bytes (openpyxl stamps the save time in ``docProps/core.xml`` and in the zip entries).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from observatoire.core.formatting import NOT_AVAILABLE, is_missing, parse_format

__all__ = [
    "LICENCE",
    "FIXED_DATE",
    "COLUMN_LABELS",
    "french_header",
    "french_csv",
    "xlsx_workbook",
]

#: Licence of the published figures and tables (the sources' own, the Licence Ouverte, applies to derived data).
LICENCE = (
    "Licence Ouverte / Etalab 2.0 : réutilisation libre, sous réserve de mentionner la source "
    "(Observatoire national des violences faites aux femmes, MIPROF) et la date de la lettre."
)
#: Date written into the workbook's properties and zip entries (the earliest a zip file can carry).
FIXED_DATE = dt.datetime(1980, 1, 1)

#: French names of the column names the notebooks use in English (others are kept, first letter capitalised).
COLUMN_LABELS = {
    "year": "Année",
    "annee": "Année",
    "value": "Valeur",
    "count": "Nombre",
    "total": "Total",
    "female": "Femmes",
    "male": "Hommes",
    "population": "Population",
    "rate": "Taux",
    "rate_low": "Taux, borne basse de l'intervalle",
    "rate_high": "Taux, borne haute de l'intervalle",
    "low": "Borne basse de l'intervalle",
    "high": "Borne haute de l'intervalle",
    "previous": "Année précédente",
    "change_abs": "Évolution en nombre",
    "change_rel": "Évolution sur un an (%)",
    "share": "Part (%)",
    "code": "Code",
    "nom": "Nom",
    "label": "Libellé",
    "libelle": "Libellé",
    "geo_code": "Code géographique",
    "indicator": "Indicateur",
    "source_id": "Source",
    "edition": "Édition",
    "unit": "Unité",
    "note": "Note",
    "small_count": "Petit effectif (moins de 20)",
    "outre_mer": "Outre-mer",
    "is_overseas": "Outre-mer",
    "published_rate": "Taux publié par le SSMSI",
    "serie": "Série",
    "enquete": "Enquête",
    "periode": "Période",
    "ages": "Âges",
    "theme": "Thème",
    "rank": "Rang",
    "p_value": "Valeur p",
    "p_adjusted": "Valeur p ajustée (Benjamini-Hochberg)",
    "ssmsi_population": "Population (SSMSI)",
    "ssmsi_rate": "Taux (population SSMSI)",
}

_DATA_SHEET = "Données"
_META_SHEET = "Métadonnées"


def french_header(column: str, header: str | None = None, kind: str | None = None) -> str:
    """The column name a French reader sees.

    Parameters
    ----------
    column : str
        The column's name in the data.
    header : str, optional
        A header already chosen by the author (a table's displayed header): used as given.
    kind : str, optional
        The display kind (``"change"`` or ``"percent"`` add " (%)" when the name does not say it).

    Returns
    -------
    str
    """
    if header is not None and str(header).strip() and str(header) != str(column):
        label = str(header).strip()
    else:
        name = str(column)
        label = COLUMN_LABELS.get(name.lower(), name.replace("_", " ").strip() or name)
        label = label[:1].upper() + label[1:]
    if kind in ("change", "percent") and "%" not in label:
        label += " (%)"
    return label


def _shown_value(value, spec: str):
    """The value as the letter shows it, as a number (or text): rounded, changes in percent."""
    if is_missing(value):
        return None
    kind, decimals = parse_format(spec)
    if kind == "text":
        return str(value)
    if kind == "year":
        return int(value)
    number = float(value) * (100.0 if kind == "change" else 1.0)
    # Half away from zero on the decimal value, as formatting.py rounds the numbers of the letter.
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return int(rounded) if decimals == 0 else float(rounded)


def _shown_frame(
    df: pd.DataFrame, headers: Mapping[str, str], formats: Mapping[str, str]
) -> tuple[list[str], list[list], list[str]]:
    columns = [str(c) for c in df.columns]
    kinds = {c: parse_format(formats[c])[0] for c in columns}
    names = [french_header(c, headers.get(c), kinds[c]) for c in columns]
    rows = [
        [_shown_value(v, formats[c]) for c, v in zip(columns, values, strict=True)]
        for values in df.itertuples(index=False, name=None)
    ]
    decimals = [formats[c] for c in columns]
    return names, rows, decimals


def _csv_cell(value, spec: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.replace('"', '""')
        return f'"{text}"' if any(ch in value for ch in ';"\n\r') else value
    decimals = parse_format(spec)[1]
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}".replace(".", ",")


def french_csv(df: pd.DataFrame, headers: Mapping[str, str], formats: Mapping[str, str]) -> bytes:
    """The CSV for French spreadsheets (see the module docstring).

    Parameters
    ----------
    df : DataFrame
        The data, one column per field.
    headers : mapping
        Column -> header chosen by the author (others are translated with :data:`COLUMN_LABELS`).
    formats : mapping
        Column -> display format (``observatoire.outputs.tables`` specs: ``"number:1"``, ``"percent:0"``, ``"year"``...),
        for every column.

    Returns
    -------
    bytes
        UTF-8 with BOM, ``;`` separator, ``\\r\\n`` line ends (what spreadsheets write).
    """
    names, rows, specs = _shown_frame(df, headers, formats)
    lines = [";".join(_csv_cell(n, "text") for n in names)]
    for row in rows:
        lines.append(";".join(_csv_cell(v, s) for v, s in zip(row, specs, strict=True)))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


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


def xlsx_workbook(
    df: pd.DataFrame,
    headers: Mapping[str, str],
    formats: Mapping[str, str],
    metadata: Sequence[tuple[str, str | None]],
) -> bytes:
    """An Excel workbook: the data as shown, and a metadata sheet; byte-identical for the same inputs.

    Parameters
    ----------
    df, headers, formats
        As for :func:`french_csv`.
    metadata : sequence of (label, text)
        Rows of the "Métadonnées" sheet, in order (e.g. ``("Titre", ...)``, ``("Source", ...)``); a None text
        is written as "—".

    Returns
    -------
    bytes
    """
    names, rows, specs = _shown_frame(df, headers, formats)
    workbook = Workbook()
    data = workbook.active
    data.title = _DATA_SHEET
    data.append(names)
    for cell in data[1]:
        cell.font = Font(bold=True)
    for row in rows:
        data.append(row)
    for index, spec in enumerate(specs, start=1):
        if parse_format(spec)[0] == "text":
            continue
        for (cell,) in data.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = _number_format(spec)
    for index, name in enumerate(names, start=1):
        width = max([len(name)] + [len(str(r[index - 1])) for r in rows if r[index - 1] is not None])
        data.column_dimensions[data.cell(1, index).column_letter].width = min(60, width + 2)
    data.freeze_panes = "A2"

    meta = workbook.create_sheet(_META_SHEET)
    rows_meta = list(metadata) + [
        ("Cellule vide", NOT_AVAILABLE),
        ("Licence", LICENCE),
    ]
    for label, text in rows_meta:
        meta.append([label, text if text not in (None, "") else "—"])
    for (cell,) in meta.iter_rows(min_col=1, max_col=1):
        cell.font = Font(bold=True)
    for (cell,) in meta.iter_rows(min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    meta.column_dimensions["A"].width = 18
    meta.column_dimensions["B"].width = 100

    workbook.properties.creator = "Observatoire national des violences faites aux femmes"
    workbook.properties.created = FIXED_DATE
    workbook.properties.modified = FIXED_DATE
    workbook.properties.lastModifiedBy = None
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip(buffer.getvalue())
