"""The harmonised long table's schema, and the strict reading helpers every CSV loader shares.

Why one module: every source is read with the same suspicion. A raw file is accepted only when its bytes are
UTF-8, its separator and header are the ones its layout expects, every line has the header's number of fields,
its codes are known and its numbers are numbers. The first broken rule stops the load with one
:class:`~observatoire.core.errors.InputError` naming the file, the place (``line N`` = physical line in the file,
header = line 1, or ``column 'x'``) and the rule. Nothing is coerced, guessed or dropped silently.

While a file is parsed, its rows are indexed by their physical line number, so that a rule broken by a row (even
one found later by pandera) can name its line. Loaders reset the index before returning.

:data:`HARMONISED` is the pandera contract of the long table every loader returns (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from observatoire.core.errors import InputError

#: The columns of the harmonised long table, in order.
HARMONISED_COLUMNS: tuple[str, ...] = (
    "indicator",
    "year",
    "geo_level",
    "geo_code",
    "sex",
    "age_group",
    "value",
    "unit",
    "source_id",
    "edition",
)
GEO_LEVELS: tuple[str, ...] = ("departement", "region", "france")
SEXES: tuple[str, ...] = ("total", "female", "male")
#: Candidate separators looked for when the expected one is absent from the header.
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")


def _on_distinct(predicate, error: str) -> pa.Check:
    """A vectorised check that tests each distinct value once (the long tables repeat a few codes many times).

    pandera's ``str_matches`` runs a regex on every row: about 0.2 s per column on INSEE's 300,000 rows. Testing
    the few distinct values and mapping back with ``isin`` gives the same answer in a few milliseconds.
    """

    def check(series: pd.Series) -> pd.Series:
        good = [v for v in pd.unique(series.to_numpy()) if isinstance(v, str) and predicate(v)]
        return series.isin(good)

    return pa.Check(check, error=error)


def _pattern(regex: str, error: str) -> pa.Check:
    compiled = re.compile(regex)
    return _on_distinct(lambda v: compiled.fullmatch(v) is not None, error)


_NON_EMPTY = _on_distinct(lambda v: bool(v.strip()), "must not be empty")

HARMONISED = pa.DataFrameSchema(
    {
        "indicator": pa.Column(str, _NON_EMPTY),
        "year": pa.Column("int64", pa.Check.in_range(1900, 2100, error="year must be within 1900..2100")),
        "geo_level": pa.Column(
            str, pa.Check.isin(GEO_LEVELS, error="geo_level must be departement/region/france")
        ),
        "geo_code": pa.Column(
            str,
            _pattern(
                r"[0-9]{2}|2[AB]|97[1-6]|FR", "geo_code must be a canonical département/région code or FR"
            ),
        ),
        "sex": pa.Column(str, pa.Check.isin(SEXES, error="sex must be total/female/male")),
        "age_group": pa.Column(
            str, _pattern(r"all|[0-9]{1,2}-[0-9]{1,3}|[0-9]{1,3}\+", "age_group must be all, a-b or a+")
        ),
        "value": pa.Column(float, nullable=False),
        "unit": pa.Column(str, _NON_EMPTY),
        "source_id": pa.Column(str, _NON_EMPTY),
        "edition": pa.Column(str, _NON_EMPTY),
    },
    strict=False,
    name="harmonised long table",
)


def current_year() -> int:
    """Return the calendar year today: the latest year a published figure can refer to."""
    return dt.date.today().year


def place(line: object | None = None, column: str | None = None) -> str:
    """Format the ``place`` of an :class:`InputError`: ``"line 12, column 'nombre'"``."""
    parts = []
    if line is not None:
        parts.append(f"line {line}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts) or "whole file"


# ----------------------------------------------------------------------------------------------------------------
# Bytes, encoding, separator, header
# ----------------------------------------------------------------------------------------------------------------


def read_text(path: str | Path) -> str:
    """Return the text of a UTF-8 file (a byte-order mark is allowed and removed).

    Raises
    ------
    InputError
        ``"whole file"`` when the file is missing or empty; ``"line N"`` when it holds bytes that are not UTF-8
        (the usual cause: a file re-saved as Latin-1 / Windows-1252 by a spreadsheet).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, "whole file", f"cannot be read ({exc.strerror or exc})") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(path, "whole file", "empty file: no header and no rows")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(
            path,
            f"line {line}",
            "NUL byte (0x00) in a text file: the file is corrupted, or saved as UTF-16 (re-save it as UTF-8)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        hint = ""
        try:
            sample = data[max(0, exc.start - 20) : exc.start + 20].decode("cp1252")
            hint = f" near {sample.strip()!r}; it looks like Latin-1/Windows-1252: re-save the file as UTF-8"
        except UnicodeDecodeError:
            pass
        raise InputError(path, f"line {line}", f"not valid UTF-8 (byte 0x{byte}){hint}") from None


def check_separator(header_line: str, separator: str, file: str | Path) -> None:
    """Check that the header is split by ``separator``.

    Raises
    ------
    InputError
        ``"line 1"``, rule ``"wrong separator ..."`` naming the separator the header does use.
    """
    if separator in header_line:
        return
    found = [s for s in SEPARATORS if s != separator and s in header_line]
    if found:
        best = max(found, key=header_line.count)
        rule = f"wrong separator: expected {separator!r}, the header is split by {best!r}"
    else:
        rule = f"wrong separator: expected {separator!r}, the header holds a single field"
    raise InputError(file, "line 1", rule)


def detect_layout(header: Sequence[str], layouts: Mapping[str, Sequence[str]], file: str | Path) -> str:
    """Return the name of the layout whose columns are exactly ``header`` (order free).

    Parameters
    ----------
    header : sequence of str
        The column names read from line 1.
    layouts : mapping of str to sequence of str
        Known layouts: name to expected columns.
    file : str or Path
        For the error message.

    Raises
    ------
    InputError
        ``"column 'x'"`` with ``"missing column"`` (and the unexpected names, when one looks renamed) or
        ``"unexpected column"``; ``"line 1"`` for a repeated column name or a header no layout resembles.
    """
    repeated = sorted({c for c in header if list(header).count(c) > 1})
    if repeated:
        raise InputError(file, f"line 1, column '{repeated[0]}'", "duplicate column name in the header")
    names = set(header)
    for name, columns in layouts.items():
        if names == set(columns):
            return name
    best = max(layouts, key=lambda n: len(names & set(layouts[n])))
    expected = list(layouts[best])
    if not names & set(expected):
        raise InputError(
            file,
            "line 1",
            f"header matches no known layout (expected e.g. {', '.join(expected)}; found {list(header)})",
        )
    missing = [c for c in expected if c not in names]
    extra = [c for c in header if c not in set(expected)]
    if missing:
        rule = f"missing column '{missing[0]}' (layout '{best}')"
        if extra:
            rule += f"; unexpected column(s) {', '.join(repr(c) for c in extra)}: renamed?"
        raise InputError(file, f"column '{missing[0]}'", rule)
    raise InputError(file, f"column '{extra[0]}'", f"unexpected column '{extra[0]}' (layout '{best}')")


def read_delimited(
    path: str | Path, separator: str, layouts: Mapping[str, Sequence[str]]
) -> tuple[str, pd.DataFrame]:
    """Read a delimited text file strictly.

    Checks, in order: the file exists and is not empty; it holds no NUL byte; its bytes are UTF-8; the header uses
    ``separator``; the header is one of ``layouts``; quoting is well formed; the header is not repeated; every
    line has as many fields as the header (a short last line means a truncated file); there is at least one data
    row; no blank line inside the table.

    Parameters
    ----------
    path : str or Path
        The file.
    separator : str
        The expected field separator.
    layouts : mapping of str to sequence of str
        The layouts this source may have, by name; the header decides which one applies.

    Returns
    -------
    (str, pandas.DataFrame)
        The layout name, and the rows as strings (nothing converted, nothing stripped), one column per header
        field, indexed by physical line number (header = line 1).

    Raises
    ------
    InputError
        On the first broken rule.
    """
    path = Path(path)
    text = read_text(path)
    header_line = text.split("\n", 1)[0].rstrip("\r")
    check_separator(header_line, separator, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    blank: int | None = None
    header: list[str] | None = None
    try:
        for record in reader:
            if header is None:
                header = [name.strip() for name in record]
                layout = detect_layout(header, layouts, path)
                continue
            if not record or (len(record) == 1 and not record[0].strip()):
                blank = blank or reader.line_num
                continue
            if blank is not None:
                raise InputError(path, f"line {blank}", "blank line inside the table")
            if [field.strip() for field in record] == header:
                raise InputError(
                    path,
                    f"line {reader.line_num}",
                    "the header line is repeated inside the table (two files pasted together?)",
                )
            records.append(record)
            lines.append(reader.line_num)
    except csv.Error as exc:
        if "end of data" in str(exc) or "EOF" in str(exc):
            raise InputError(
                path, f"line {reader.line_num}", "truncated file: it ends inside a quoted field"
            ) from None
        raise InputError(path, f"line {reader.line_num}", f"malformed CSV quoting ({exc})") from None
    assert header is not None  # the text is not empty
    if not records:
        raise InputError(path, "whole file", "empty file: a header but no data rows")
    width = len(header)
    lengths = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    wrong = np.flatnonzero(lengths != width)
    if wrong.size:
        position = int(wrong[0])
        found = int(lengths[position])
        if position == len(records) - 1 and found < width:
            rule = f"truncated file: the last line has {found} of the header's {width} fields"
        elif found < width:
            rule = f"line has {found} fields where the header has {width} (malformed or truncated line)"
        else:
            rule = f"line has {found} fields where the header has {width} (stray separator?)"
        raise InputError(path, f"line {lines[position]}", rule)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame.index = pd.Index(lines, name="line")
    return layout, frame


# ----------------------------------------------------------------------------------------------------------------
# Values: known codes, numbers, years, keys
# ----------------------------------------------------------------------------------------------------------------


def _first(mask: pd.Series) -> object:
    """Return the index label (physical line) of the first True in ``mask``."""
    return mask.index[int(np.flatnonzero(mask.to_numpy())[0])]


def check_rows(bad: pd.Series, file: str | Path, column: str | None, rule) -> None:
    """Raise one :class:`InputError` at the first row where ``bad`` is True (rows indexed by physical line).

    Parameters
    ----------
    bad : pandas.Series of bool
        The rows that break the rule.
    file, column : str
        For the message (``column`` None: the place is the line alone).
    rule : str or callable
        The rule, or a function of the line returning it (to quote the row's values).
    """
    if bad.any():
        line = _first(bad)
        raise InputError(file, place(line, column), rule(line) if callable(rule) else rule)


def check_known(values: pd.Series, known: Iterable[str], file: str | Path, column: str, what: str) -> None:
    """Check every value is one of ``known``.

    Raises
    ------
    InputError
        ``"line N, column 'x'"``, rule ``"unknown <what> 'value'"``.
    """
    known = list(known)
    bad = ~values.isin(known)
    if bad.any():
        line = _first(bad)
        raise InputError(
            file,
            place(line, column),
            f"unknown {what} {values.loc[line]!r} (not one of the {len(known)} known {what}s of this layout)",
        )


def parse_numbers(
    values: pd.Series,
    file: str | Path,
    column: str,
    *,
    decimal: str = ".",
    integer: bool = False,
    minimum: float | None = None,
    allow_missing: pd.Series | None = None,
    missing_tokens: Sequence[str] = ("",),
    what: str = "value",
    exponent: bool = False,
    thousands: str | None = None,
) -> pd.Series:
    """Convert a column of strings to floats, strictly.

    A number is written as the layout writes numbers, and nothing else: digits, the layout's decimal mark, an
    optional leading minus (a negative count is then reported as such). No ``+`` sign, no exponent (``1e3``,
    ``1e308``) unless the layout writes them (``exponent``), no thousands separator unless the layout has one
    (``thousands``), no ``inf`` or ``nan``.

    Parameters
    ----------
    values : pandas.Series of str
        Indexed by physical line.
    file, column : str
        For the error message.
    decimal : str
        The decimal mark of the layout (``","`` or ``"."``).
    integer : bool
        Require whole numbers (counts, populations).
    minimum : float, optional
        Smallest value allowed (0 for counts).
    allow_missing : pandas.Series of bool, optional
        Rows where a missing value (one of ``missing_tokens``) is allowed because the producer documents it;
        elsewhere a missing value is an error. Missing values become NaN.
    missing_tokens : sequence of str
        What the layout writes for a missing value (``""``, or ``"NA"`` in SSMSI's legacy files).
    what : str
        What the numbers are, for the rule (``"count"``, ``"rate"``).
    exponent : bool
        The layout writes some numbers in scientific notation (SSMSI's legacy rates: ``7,83e-03``).
    thousands : str, optional
        The layout's thousands separator, when it has one.

    Raises
    ------
    InputError
        ``"line N, column 'x'"`` with ``"empty value"``, ``"non-numeric value"``, ``"number written ... is not
        allowed"``, ``"not a whole number"`` or ``"negative value"``.
    """
    text = values.astype(str).str.strip()
    missing = text.isin(list(missing_tokens) + [""])
    allowed = allow_missing if allow_missing is not None else pd.Series(False, index=values.index)
    bad = missing & ~allowed
    if bad.any():
        line = _first(bad)
        shown = values.loc[line]
        label = "empty value" if not str(shown).strip() else f"missing value {shown!r}"
        raise InputError(file, place(line, column), f"{label}: every {what} must be a number")
    written = _number_pattern(decimal, exponent, thousands)
    distinct = pd.unique(text[~missing].to_numpy())
    good = [v for v in distinct if written.fullmatch(v)]
    bad = ~text.isin(good) & ~missing
    if bad.any():
        line = _first(bad)
        shown = values.loc[line]
        rule = f"non-numeric value {shown!r}: every {what} must be a number"
        if any(c.isdigit() and not c.isascii() for c in str(shown)):
            rule = (
                f"{shown!r} is written with non-ASCII digits: every {what} is written in ASCII digits (0-9)"
            )
        elif pd.notna(pd.to_numeric(str(shown).strip().replace(decimal, "."), errors="coerce")):
            rule = (
                f"number written {shown!r} is not allowed: every {what} is plain ASCII digits (0-9) with "
                f"{decimal!r} as decimal mark (no sign, exponent, thousands separator or special value)"
            )
        raise InputError(file, place(line, column), rule)
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").astype(float)
    bad = ~np.isfinite(numbers.fillna(0.0)) & ~missing
    if bad.any():  # 1e999 written with an exponent the layout allows
        line = _first(bad)
        raise InputError(
            file, place(line, column), f"number {values.loc[line]!r} is out of range for a {what}"
        )
    if integer:
        bad = (numbers != np.round(numbers)) & ~missing
        if bad.any():
            line = _first(bad)
            raise InputError(
                file,
                place(line, column),
                f"not a whole number ({values.loc[line]!r}): every {what} is a count",
            )
    if minimum is not None:
        bad = (numbers < minimum) & ~missing
        if bad.any():
            line = _first(bad)
            raise InputError(
                file,
                place(line, column),
                f"negative value {values.loc[line]!r}: every {what} must be >= {minimum:g}",
            )
    return numbers


def _number_pattern(decimal: str, exponent: bool, thousands: str | None) -> re.Pattern:
    """The regular expression of a number as a layout writes it (see :func:`parse_numbers`)."""
    digits = rf"[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+|[0-9]+" if thousands else r"[0-9]+"
    pattern = rf"-?(?:{digits})(?:{re.escape(decimal)}[0-9]+)?"
    if exponent:
        pattern += r"(?:[eE][-+]?[0-9]{1,3})?"
    return re.compile(pattern)


def parse_years(
    values: pd.Series,
    file: str | Path,
    column: str,
    *,
    digits: int = 4,
    minimum: int = 2000,
    maximum: int | None = None,
) -> pd.Series:
    """Convert a column of year strings to int64 years and check their range.

    Parameters
    ----------
    values : pandas.Series of str
        Indexed by physical line.
    digits : int
        4, or 2 for SSMSI's legacy layout (``"16"`` is 2016).
    minimum, maximum : int
        Allowed range (``maximum`` defaults to the current calendar year: no figure refers to the future).

    Raises
    ------
    InputError
        ``"line N, column 'x'"``, rule ``"year out of range"`` or ``"not a year"``.
    """
    maximum = current_year() if maximum is None else maximum
    text = values.astype(str).str.strip()
    ok = text.str.fullmatch(rf"[0-9]{{{digits}}}").fillna(False).astype(bool)
    if not ok.all():
        line = _first(~ok)
        shown = values.loc[line]
        written = (
            " written with non-ASCII digits"
            if any(c.isdigit() and not c.isascii() for c in str(shown))
            else ""
        )
        raise InputError(
            file, place(line, column), f"not a year: {shown!r}{written} (expected {digits} ASCII digits)"
        )
    years = text.astype("int64") + (2000 if digits == 2 else 0)
    bad = (years < minimum) | (years > maximum)
    if bad.any():
        line = _first(bad)
        raise InputError(
            file,
            place(line, column),
            f"year out of range: {years.loc[line]} (from {values.loc[line]!r}) is outside {minimum}..{maximum}",
        )
    return years


def _show(value: object) -> str:
    """Show a key value as the reader would write it: text quoted, numbers plain."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def check_unique(
    frame: pd.DataFrame, key: Sequence[str], file: str | Path, names: Mapping[str, str] | None = None
):
    """Check that no two rows share a key.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by physical line.
    key : sequence of str
        The key columns.
    names : mapping, optional
        Column name as the reader should see it (the file's name) for each key column.

    Raises
    ------
    InputError
        ``"line N"`` of the second occurrence, rule ``"duplicate row for key (...): same key as line M"``.
    """
    duplicated = frame.duplicated(subset=list(key), keep="first")
    if duplicated.any():
        line = _first(duplicated)
        row = frame.loc[line]
        if isinstance(row, pd.DataFrame):  # repeated index labels: take the first
            row = row.iloc[0]
        same = (frame[list(key)] == row[list(key)]).all(axis=1)
        first = _first(same)
        names = names or {}
        shown = ", ".join(f"{names.get(k, k)}={_show(row[k])}" for k in key)
        raise InputError(file, f"line {line}", f"duplicate row for key ({shown}): same key as line {first}")


def validate(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    file: str | Path,
    names: Mapping[str, str] | None = None,
    index_is_line: bool = True,
) -> pd.DataFrame:
    """Validate a table with pandera; turn the first failure into an :class:`InputError`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, indexed by physical line when ``index_is_line``.
    schema : pandera.DataFrameSchema
        Usually :data:`HARMONISED` or a loader's extension of it.
    file : str or Path
        The raw file, for the error message.
    names : mapping, optional
        File column name for each harmonised column (``{"value": "nombre"}``), so that the message names a column
        the reader can find in the file.
    index_is_line : bool
        Whether the index holds physical line numbers.

    Returns
    -------
    pandas.DataFrame
        The validated table.
    """
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        names = names or {}
        missing = cases[cases["check"] == "column_in_dataframe"]
        if len(missing):  # a missing column first: row failures would only be its consequences
            absent = str(missing.iloc[0]["failure_case"])
            raise InputError(
                file, place(None, names.get(absent, absent)), f"missing column '{absent}'"
            ) from None
        with_index = cases[cases["index"].notna()]
        case = (with_index.sort_values("index", kind="stable") if len(with_index) else cases).iloc[0]
        column = case.get("column")
        column = None if column is None or (isinstance(column, float) and np.isnan(column)) else str(column)
        shown = names.get(column, column) if column else None
        line = case.get("index") if index_is_line else None
        if line is not None and isinstance(line, float) and np.isnan(line):
            line = None
        rule = f"{case['check']} (found {case['failure_case']!r})"
        raise InputError(file, place(line, shown), rule) from None


def deliver(
    frame: pd.DataFrame,
    file: str | Path,
    *,
    extra: Sequence[str] = (),
    schema: pa.DataFrameSchema = HARMONISED,
    names: Mapping[str, str] | None = None,
    index_is_line: bool = True,
) -> pd.DataFrame:
    """Put a loader's table in harmonised form, validate it, and return it with a fresh index.

    The harmonised columns come first, in order, then ``extra``; text columns get the string dtype, ``year``
    int64 and ``value`` float64. Validation errors name the physical line (the index) and the file's column.
    """
    columns = list(HARMONISED_COLUMNS) + list(extra)
    out = frame.loc[:, columns].copy()
    for name in ("indicator", "geo_level", "geo_code", "sex", "age_group", "unit", "source_id", "edition"):
        out[name] = out[name].astype("str")
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype(float)
    out = validate(out, schema, file, names=names, index_is_line=index_is_line)
    return out.reset_index(drop=True)
