"""INSEE population estimates by département, sex and age, from INSEE's original Excel 97 workbooks.

Why a loader of its own: rates per 1,000 women need INSEE's denominators, and INSEE publishes them as
spreadsheets meant for people, not programs. Each workbook (``estim-pop-dep-sexe-gca-1975-2024.xls``, five broad
age groups; ``estim-pop-dep-sexe-aq-1975-2023.xls``, five-year bands) has a notes sheet ("À savoir"), then one
sheet per year: a title block ("Année 2024"), two header rows (Ensemble / Hommes / Femmes, each split into age
bands and a Total), one row per département (code, name), subtotal rows (France métropolitaine, DOM, France
métropolitaine et DOM) and a source note. Overseas codes are stored as numbers (``971.0``). In the five-year
workbook, 1990-1998 place the overseas départements in a second block with its own header row (their oldest band
is "90 ans et plus"): the loader reads every header block it meets and applies it to the rows below it.

What the loader guarantees, or it raises :class:`~observatoire.core.errors.InputError` naming the sheet and row:

- every data row has a known département code and whole, non-negative numbers in every column of its block;
- men + women = total, and the age bands add up to the Total column, for every département;
- the départements add up to INSEE's own subtotal rows (France métropolitaine, DOM, France métropolitaine et
  DOM), for every sex and age band that all départements of the subtotal share; the subtotal rows are then
  dropped from the table (they stay available from :func:`subtotals`);
- the sheet's title year is its name, and years lie between 1975 and the current year.

Output: the harmonised long table with ``indicator`` "population", ``unit`` "persons", ``geo_level``
"departement", ``sex`` female/male/total, ``age_group`` the band ("0-19", "15-19", "95+", "90+") or "all" (the
Total column), plus a ``provisional`` column: True for the years INSEE flags as provisional in the sheet's source
note ("résultats provisoires", e.g. 2022-2024 in the broad-age workbook). The same years are in
``DataFrame.attrs["provisional_years"]``.

Speed: every year sheet is read (pandas ``read_excel`` with the xlrd engine, about 0.3 s and 0.8 s for the two
workbooks); the parsed result is cached in-process per file (path, size, modification time), so a second call
costs only a copy. Reading only some years would save under a second and make the cross-checks partial, so the
loader reads them all.
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from observatoire.core.errors import InputError
from observatoire.data import geography
from observatoire.data.loaders import schema

INDICATOR = "population"
UNIT = "persons"
#: INSEE's subtotal rows and the départements each one adds up.
SUBTOTALS: dict[str, tuple[str, ...]] = {
    "France métropolitaine": geography.METROPOLITAN,
    "DOM": geography.OVERSEAS,
    "France métropolitaine et DOM": geography.DEPARTEMENTS,
}
_SEXES = {"Ensemble": "total", "Hommes": "male", "Femmes": "female"}
_BAND = re.compile(r"^([0-9]+) à ([0-9]+) ans$")
_OPEN = re.compile(r"^([0-9]+) ans et plus$")
_YEAR_SHEET = re.compile(r"^[0-9]{4}$")
FIRST_YEAR = 1975

POPULATION_SCHEMA = schema.HARMONISED.add_columns({"provisional": pa.Column(bool)})


def age_label(text: object) -> str | None:
    """Return the harmonised age group of an INSEE header cell, or None when the cell is not an age band.

    ``"0 à 19 ans"`` -> ``"0-19"``, ``"75 ans et plus"`` -> ``"75+"``, ``"Total"`` -> ``"all"``.
    """
    label = str(text).strip() if text is not None and not _blank(text) else ""
    if label == "Total":
        return "all"
    if match := _BAND.match(label):
        return f"{int(match.group(1))}-{int(match.group(2))}"
    if match := _OPEN.match(label):
        return f"{int(match.group(1))}+"
    return None


def _blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and np.isnan(value))
    )


def _read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """Read every sheet as raw cells (no header), or raise InputError for a file that is not a workbook."""
    if not path.is_file():
        raise InputError(path, "whole file", "missing file")
    if path.stat().st_size == 0:
        raise InputError(path, "whole file", "empty file")
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # pandas 3 deprecates the xlrd engine; python-calamine is not pinned here
        try:
            return pd.read_excel(path, sheet_name=None, header=None, engine="xlrd")
        except Exception as exc:  # xlrd raises its own XLRDError, or ValueError/AssertionError on garbage
            raise InputError(
                path, "whole file", f"not a readable Excel 97-2003 workbook ({type(exc).__name__}: {exc})"
            ) from None


def _column_map(
    sex_row: np.ndarray, age_row: np.ndarray, path: Path, where: str
) -> dict[int, tuple[str, str]]:
    """Map column positions to (sex, age group) from the two header rows of a block."""
    columns: dict[int, tuple[str, str]] = {}
    sex = None
    for position in range(2, len(age_row)):
        if not _blank(sex_row[position]):
            label = str(sex_row[position]).strip()
            if label not in _SEXES:
                raise InputError(
                    path, where, f"unknown sex header {label!r} (expected Ensemble, Hommes, Femmes)"
                )
            sex = _SEXES[label]
        if _blank(age_row[position]):
            continue
        age = age_label(age_row[position])
        if age is None:
            raise InputError(path, where, f"unknown age band header {age_row[position]!r}")
        if sex is None:
            raise InputError(path, where, "age band header before any sex header")
        columns[position] = (sex, age)
    if len(set(columns.values())) != len(columns):
        raise InputError(path, where, "an age band appears twice for one sex")
    return columns


def parse_sheet(cells: pd.DataFrame, year: int, path: Path) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Parse one year sheet.

    Parameters
    ----------
    cells : pandas.DataFrame
        The sheet as raw cells (``read_excel(header=None)``).
    year : int
        The sheet's year (its name).
    path : Path
        The workbook, for error messages (places are ``"sheet '2024', row 12"``, rows as Excel numbers them).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, bool)
        Long rows ``geo_code, sex, age_group, value`` for the départements; the subtotal rows as ``subtotal, sex,
        age_group, value``; whether the sheet's note calls the figures provisional.

    Raises
    ------
    InputError
        On the first broken rule (see the module docstring).
    """
    values = cells.to_numpy(dtype=object)
    is_number = np.frompyfunc(_is_number, 1, 1)(values).astype(bool)
    floats = np.where(is_number, values, np.nan).astype(float)
    sheet = f"sheet '{year}'"
    columns: dict[int, tuple[str, str]] | None = None
    positions = np.empty(0, dtype=np.int64)
    blocks: list[tuple[list[int], list[np.ndarray], dict[int, tuple[str, str]]]] = []
    subtotal_rows: list[tuple[str, int, np.ndarray, dict[int, tuple[str, str]]]] = []
    provisional = False
    seen: dict[str, int] = {}
    for index, row in enumerate(values):
        where = f"{sheet}, row {index + 1}"
        first = row[0]
        has_numbers = bool(is_number[index, 2:].any())
        if not has_numbers:
            labels = {str(v).strip() for v in row if isinstance(v, str)}
            if "Ensemble" in labels and index + 1 < len(values):
                columns = _column_map(row, values[index + 1], path, f"{sheet}, rows {index + 1}-{index + 2}")
                positions = np.fromiter(columns, dtype=np.int64)
            elif isinstance(first, str) and first.strip().startswith("Année"):
                title = first.strip().removeprefix("Année").strip()
                if title != str(year):
                    raise InputError(
                        path, where, f"the sheet's title says {first.strip()!r}, its name says {year}"
                    )
            elif isinstance(first, str) and "provisoire" in first.lower():
                provisional = True
            continue  # titles, header rows, blank rows, notes
        if _blank(first):
            raise InputError(path, where, "a row of numbers without a département code")
        if columns is None:
            raise InputError(path, where, "data before the header rows")
        ok = is_number[index, positions]
        if not ok.all():
            position = int(positions[np.flatnonzero(~ok)[0]])
            cell = row[position]
            sex, age = columns[position]
            rule = (
                f"empty value for {sex} {age}"
                if _blank(cell)
                else f"non-numeric value {cell!r}: population must be a whole number"
            )
            raise InputError(path, f"{where}, column {position + 1}", rule)
        row_values = floats[index, positions]
        bad = (row_values < 0) | (row_values != np.round(row_values))
        if bad.any():
            position = int(positions[np.flatnonzero(bad)[0]])
            raise InputError(
                path,
                f"{where}, column {position + 1}",
                f"population must be a whole number >= 0 (found {row[position]!r})",
            )
        label = str(first).strip()
        if label in SUBTOTALS:
            subtotal_rows.append((label, index, row_values, columns))
            continue
        code = geography.normalise_departement(first, path, where)
        if code in seen:
            raise InputError(
                path, where, f"duplicate row for département {code} (first at row {seen[code] + 1})"
            )
        seen[code] = index
        if not blocks or blocks[-1][2] is not columns:
            blocks.append(([], [], columns))
        blocks[-1][0].append(index)
        blocks[-1][1].append(row_values)
    if not seen:
        raise InputError(path, sheet, "no département rows")

    code_at = {index: code for code, index in seen.items()}
    matrices = []
    for rows, row_values, block_columns in blocks:
        matrix = np.vstack(row_values)
        _check_sums(matrix, list(block_columns.values()), rows, path, sheet)
        matrices.append(([code_at[r] for r in rows], matrix, list(block_columns.values())))
    subtotals = _check_subtotals(matrices, subtotal_rows, path, sheet)
    long = pd.DataFrame(
        {
            "geo_code": np.concatenate([np.repeat(codes, len(keys)) for codes, _, keys in matrices]),
            "sex": np.concatenate([[k[0] for k in keys] * len(codes) for codes, _, keys in matrices]),
            "age_group": np.concatenate([[k[1] for k in keys] * len(codes) for codes, _, keys in matrices]),
            "value": np.concatenate([matrix.ravel() for _, matrix, _ in matrices]),
        }
    )
    return long, subtotals, provisional


def _check_sums(
    matrix: np.ndarray, keys: list[tuple[str, str]], rows: list[int], path: Path, sheet: str
) -> None:
    """Men + women = total, and the age bands add up to Total, for every département of a block (exactly)."""
    where = {key: position for position, key in enumerate(keys)}
    for age in dict.fromkeys(a for _, a in keys):
        trio = [where.get((sex, age)) for sex in ("male", "female", "total")]
        if None in trio:
            continue
        bad = matrix[:, trio[0]] + matrix[:, trio[1]] != matrix[:, trio[2]]
        if bad.any():
            row = rows[int(np.flatnonzero(bad)[0])]
            raise InputError(path, f"{sheet}, row {row + 1}", f"men + women != total for age group {age}")
    for sex in dict.fromkeys(s for s, _ in keys):
        bands = [where[(s, a)] for s, a in keys if s == sex and a != "all"]
        if (sex, "all") not in where or not bands:
            continue
        bad = matrix[:, bands].sum(axis=1) != matrix[:, where[(sex, "all")]]
        if bad.any():
            row = rows[int(np.flatnonzero(bad)[0])]
            raise InputError(
                path, f"{sheet}, row {row + 1}", f"age bands do not add up to the Total column ({sex})"
            )


def _check_subtotals(matrices, subtotal_rows, path: Path, sheet: str) -> pd.DataFrame:
    """Compare INSEE's subtotal rows with the sums of their départements; return them as a long table."""
    records = []
    for label, index, row_values, columns in subtotal_rows:
        members = set(SUBTOTALS[label])
        sums: dict[tuple[str, str], float] = {}
        counts: dict[tuple[str, str], int] = {}
        total_members = 0
        for codes, matrix, keys in matrices:
            inside = np.fromiter((c in members for c in codes), dtype=bool, count=len(codes))
            total_members += int(inside.sum())
            column_sums = matrix[inside].sum(axis=0)
            for key, value in zip(keys, column_sums, strict=True):
                sums[key] = sums.get(key, 0.0) + float(value)
                counts[key] = counts.get(key, 0) + int(inside.sum())
        for key, value in zip(columns.values(), row_values, strict=True):
            records.append((label, key[0], key[1], value))
            if counts.get(key) != total_members:
                continue  # a band not shared by every member (1990-1998 overseas "90+"): nothing to compare
            if sums[key] != value:
                raise InputError(
                    path,
                    f"{sheet}, row {index + 1}",
                    f"subtotal {label!r} ({key[0]}, {key[1]}) is {value:,.0f} but its départements add up to "
                    f"{sums[key]:,.0f}",
                )
    return pd.DataFrame(records, columns=["subtotal", "sex", "age_group", "value"])


@functools.lru_cache(maxsize=8)
def _parse(path_text: str, size: int, mtime_ns: int) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int, ...]]:
    """Parse a whole workbook once per (path, size, modification time)."""
    path = Path(path_text)
    sheets = _read_workbook(path)
    years = [name for name in sheets if _YEAR_SHEET.match(str(name).strip())]
    if not years:
        raise InputError(path, "whole file", "no year sheet (sheets named like '2024')")
    tables, subtotal_tables, provisional = [], [], []
    for name in years:
        year = int(str(name).strip())
        if not FIRST_YEAR <= year <= schema.current_year():
            raise InputError(
                path,
                f"sheet '{name}'",
                f"year out of range: {year} is outside {FIRST_YEAR}..{schema.current_year()}",
            )
        long, subtotals, is_provisional = parse_sheet(sheets[name], year, path)
        long["year"] = year
        subtotals["year"] = year
        tables.append(long)
        subtotal_tables.append(subtotals)
        if is_provisional:
            provisional.append(year)
    table = pd.concat(tables, ignore_index=True).sort_values("year", kind="stable", ignore_index=True)
    return table, pd.concat(subtotal_tables, ignore_index=True), tuple(sorted(provisional))


def _parsed(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int, ...]]:
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(path, "whole file", "missing file")
    stat = path.stat()
    return _parse(str(path), stat.st_size, stat.st_mtime_ns)


def load(path: str | Path, source_id: str, edition: str) -> pd.DataFrame:
    """Load an INSEE population workbook as the harmonised long table.

    Parameters
    ----------
    path : str or Path
        The ``.xls`` workbook (broad age groups or five-year bands; the header rows tell which).
    source_id, edition : str
        Its id in ``data/sources.yml`` and its edition.

    Returns
    -------
    pandas.DataFrame
        Harmonised columns (``indicator`` "population", ``unit`` "persons", ``geo_level`` "departement"), then
        ``provisional`` (bool). ``attrs["provisional_years"]`` lists the provisional years. A fresh copy on
        every call (the parsed workbook is cached in-process).

    Raises
    ------
    InputError
        When the workbook breaks a rule (see the module docstring).
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(path, "whole file", "missing file")
    stat = path.stat()
    out = _delivered(str(path), stat.st_size, stat.st_mtime_ns, source_id, edition).copy()
    out.attrs["provisional_years"] = provisional_years(path)
    return out


@functools.lru_cache(maxsize=8)
def _delivered(path_text: str, size: int, mtime_ns: int, source_id: str, edition: str) -> pd.DataFrame:
    table, _, provisional = _parse(path_text, size, mtime_ns)
    out = table.copy()
    out["indicator"] = INDICATOR
    out["unit"] = UNIT
    out["geo_level"] = "departement"
    out["source_id"] = source_id
    out["edition"] = edition
    out["provisional"] = out["year"].isin(provisional)
    return schema.deliver(
        out, path_text, extra=("provisional",), schema=POPULATION_SCHEMA, index_is_line=False
    )


def subtotals(path: str | Path) -> pd.DataFrame:
    """Return INSEE's own subtotal rows of a workbook (already checked against the départements by :func:`load`).

    Returns
    -------
    pandas.DataFrame
        Columns ``subtotal`` ("France métropolitaine", "DOM", "France métropolitaine et DOM"), ``year``, ``sex``,
        ``age_group``, ``value``.
    """
    return _parsed(path)[1].loc[:, ["subtotal", "year", "sex", "age_group", "value"]].copy()


def provisional_years(path: str | Path) -> list[int]:
    """Return the years whose sheet INSEE labels provisional ("résultats provisoires")."""
    return list(_parsed(path)[2])
