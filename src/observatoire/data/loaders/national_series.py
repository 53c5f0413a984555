"""National annual figures compiled from published sources (DAV, SSMSI Interstats, MIPROF, Justice, FNSF ...).

Why a loader and a curated copy: these figures are read by hand from publications, so each row carries its
source (title, URL, date) and a note; the letters cite them as published. The compilation comes in two files
(a main table and a supplement) and in two editions (see data/sources.yml):

* edition 1 (``national_series_vff.csv``, ``national_series_supplement.csv``): ``source_title`` and
  ``source_url`` often name the press article where the figure was read;
* edition 2 (``*_r2.csv``, the one the letters use): two more columns, ``publisher`` (the official producer) and
  ``consulted_via`` (the page where the figure was read when it is not ``source_url``); ``source_title`` names the
  official study; a figure known only through the press keeps "chiffre officiel relayé par <site>" in ``note``
  (:func:`relayed_by` reads it), so a letter shows the publisher first and says who relayed the figure;
* edition 3 (``national_series_r3.csv``, one file for both r2 files): one row per published figure with its
  provenance spelled out (:data:`R3_COLUMNS`): a stable ``row_id``, the period as the source states it and
  whether it states one (``reference_period``, ``period_explicit``), population and concept as worded, the
  producer, the document that first published it, where it was read and the kind of that page (``read_at``,
  ``read_at_kind``: official, relay or data_file), a verbatim quote and ``duplicate_of``. Its rules: row ids
  unique, closed vocabularies, a document URL only where one was seen (``read_at`` always), a duplicate pointing
  to a row of the file that is not itself a duplicate. The provenance columns (:data:`PROVENANCE_COLUMNS`) are
  kept in the harmonised table, empty for rows of earlier editions.

Editions are never mixed: the project commits the compilation of the edition the letters use (the source id a
theme names in ``publications/themes.yml``, parameter ``national_source``) as ``data/curated/national_series.csv``:
every row of its file(s), in file order, values exactly as written (the text of each field is copied, never
re-formatted), plus a column ``compiled_in`` holding the source id of the file the row comes from. Nothing is
filled, merged or dropped: where two sources disagree, both rows stay and ``note`` says so. :func:`rebuild_curated`
writes that copy from the files it is given; ``tests/test_loaders.py`` checks that the committed copy equals the
rebuild from the raw files. No source id is written here: the caller names the compilation.

Validation (one :class:`~observatoire.core.errors.InputError` per broken rule): UTF-8, comma-separated, the exact
header; indicator ids in snake_case (``[a-z0-9_]+``: these ids are the project's own, so the rule is their
form, not a list); years 1950 to the current year (the compilation has a 1982 estimate and early-2025 figures);
values numeric and present (negative values are allowed: some rows are changes in percent); sex empty, female,
male or total; every row cites a source title and an http(s) URL (the date may be empty: two rows have none); no
two rows for one (indicator, year, sex, unit, source_url).

Harmonised form: ``geo_level`` "france", ``geo_code`` "FR", ``age_group`` "all" (ages, when restricted, are in
``unit``, e.g. "women 18-75 per year"). An empty ``sex`` means the figure is not split by sex; it becomes
``"total"`` (the whole population the indicator covers; the indicator and unit say whom).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url
from observatoire.data.loaders import schema

RAW_COLUMNS: tuple[str, ...] = (
    "indicator",
    "year",
    "value",
    "unit",
    "sex",
    "source_title",
    "source_url",
    "source_date",
    "note",
)
#: Columns added by the second edition of the compilation.
R2_COLUMNS: tuple[str, ...] = ("publisher", "consulted_via")
CURATED_COLUMNS: tuple[str, ...] = RAW_COLUMNS + R2_COLUMNS + ("compiled_in",)
#: The third edition: one file, one row per published figure, its provenance spelled out
#: (national_series_r3_CHANGES.md in the mirror).
R3_COLUMNS: tuple[str, ...] = (
    "row_id",
    "indicator",
    "year",
    "reference_period",
    "period_explicit",
    "value",
    "unit",
    "sex",
    "population",
    "concept",
    "producer",
    "source_title",
    "source_url",
    "source_date",
    "read_at",
    "read_at_kind",
    "quote",
    "duplicate_of",
    "verified_r3",
    "note",
    "status",
)
#: Provenance columns of the third edition kept in the harmonised table (empty for rows of earlier editions).
PROVENANCE_COLUMNS: tuple[str, ...] = (
    "row_id",
    "reference_period",
    "period_explicit",
    "population",
    "concept",
    "producer",
    "read_at",
    "read_at_kind",
    "quote",
    "duplicate_of",
    "verified_r3",
    "status",
)
#: Where a figure of the third edition was read: the producer's or a government page, a relay (press,
#: associations, mirrors), or computed from a raw file of the catalogue.
READ_AT_KINDS: tuple[str, ...] = ("official", "relay", "data_file")
LAYOUTS: Mapping[str, tuple[str, ...]] = {
    "compilation": RAW_COLUMNS,
    "compilation_r2": RAW_COLUMNS + R2_COLUMNS,
    "compilation_r3": R3_COLUMNS,
    "curated": CURATED_COLUMNS,
    "curated_r3": R3_COLUMNS + ("compiled_in",),
}
#: The layout of the curated copy made from compilation files of each layout.
CURATED_LAYOUT: Mapping[str, str] = {"compilation_r2": "curated", "compilation_r3": "curated_r3"}
FIRST_YEAR = 1950
EXTRA_COLUMNS: tuple[str, ...] = (
    "source_title",
    "source_url",
    "source_date",
    "note",
    "publisher",
    "consulted_via",
    "compiled_in",
    *PROVENANCE_COLUMNS,
)
#: The words the second edition puts in ``note`` for a figure known only through a secondary page.
RELAYED_MARK = "chiffre officiel relayé par "

NATIONAL_SCHEMA = schema.HARMONISED.add_columns(
    {
        "source_title": pa.Column(str),
        "source_url": pa.Column(str),
        "source_date": pa.Column(str),
        "note": pa.Column(str),
        "publisher": pa.Column(str),
        "consulted_via": pa.Column(str),
        "compiled_in": pa.Column(str, pa.Check.str_length(min_value=1)),
        **{column: pa.Column(str) for column in PROVENANCE_COLUMNS},
    }
)


def _read(path: Path) -> tuple[str, pd.DataFrame]:
    """Read and check a compilation or curated file; return its layout and its string rows (by line)."""
    layout, raw = schema.read_delimited(path, ",", LAYOUTS)
    ids = raw["indicator"]
    bad = ~ids.str.fullmatch(r"[a-z0-9_]+").fillna(False).astype(bool)
    if bad.any():
        line = ids.index[bad.to_numpy()][0]
        raise InputError(
            path,
            schema.place(line, "indicator"),
            f"unknown indicator {ids.loc[line]!r}: indicator ids are snake_case ([a-z0-9_]+)",
        )
    schema.parse_years(raw["year"], path, "year", minimum=FIRST_YEAR)
    schema.parse_numbers(raw["value"], path, "value")
    schema.check_known(raw["sex"], ("", "female", "male", "total"), path, "sex", "sex")
    r3 = layout in ("compilation_r3", "curated_r3")
    required = (
        ("unit", "source_title", "read_at", "producer")
        if r3
        else (
            "unit",
            "source_title",
            "source_url",
        )
    )
    for column in required:
        empty = raw[column].str.strip() == ""
        if empty.any():
            line = raw.index[empty.to_numpy()][0]
            raise InputError(
                path, schema.place(line, column), f"empty value: every figure needs its {column}"
            )
    if layout in ("compilation_r2", "curated"):
        empty = raw["publisher"].str.strip() == ""
        if empty.any():
            line = raw.index[empty.to_numpy()][0]
            raise InputError(
                path, schema.place(line, "publisher"), "empty value: every figure names its publisher"
            )
    urls = raw["source_url"]
    if r3:  # the third edition states a document's URL only where it was seen
        urls = urls[urls.str.strip() != ""]
    schema.check_rows(
        urls.map(lambda url: safe_url(url) is None),
        path,
        "source_url",
        lambda line: f"{raw.at[line, 'source_url']!r} is not an http(s) URL: a source is cited by a web address",
    )
    if r3:
        _check_r3(raw, path)
        schema.check_unique(raw, ("row_id",), path)
    else:
        schema.check_unique(raw, ("indicator", "year", "sex", "unit", "source_url"), path)
    if "compiled_in" in raw:
        bad = ~raw["compiled_in"].str.fullmatch(r"[a-z0-9_]+").fillna(False).astype(bool)
        schema.check_rows(
            bad, path, "compiled_in", "compiled_in names the source id of a compilation file ([a-z0-9_]+)"
        )
    return layout, raw


def _check_r3(raw: pd.DataFrame, path: Path) -> None:
    """The provenance rules of the third edition: one row id each, closed vocabularies, duplicates that exist."""
    bad = ~raw["row_id"].str.fullmatch(r"[a-z]+-[0-9]{4}").fillna(False).astype(bool)
    schema.check_rows(
        bad, path, "row_id", lambda line: f"row id {raw.at[line, 'row_id']!r} must look like 'vff-0001'"
    )
    schema.check_known(raw["period_explicit"], ("yes", "no"), path, "period_explicit", "period_explicit")
    schema.check_known(raw["verified_r3"], ("yes", "no"), path, "verified_r3", "verified_r3")
    schema.check_known(raw["read_at_kind"], READ_AT_KINDS, path, "read_at_kind", "read_at_kind")
    schema.check_known(raw["status"], ("kept", "corrected", "added"), path, "status", "status")
    empty = raw["reference_period"].str.strip() == ""
    schema.check_rows(
        empty, path, "reference_period", "empty value: every figure states its reference period"
    )
    data_file = raw["read_at_kind"] == "data_file"
    schema.check_rows(
        ~data_file & raw["read_at"].map(lambda url: safe_url(url) is None),
        path,
        "read_at",
        lambda line: f"{raw.at[line, 'read_at']!r} is not an http(s) URL: the page a figure was read on",
    )
    schema.check_rows(
        data_file & ~raw["read_at"].str.fullmatch(r"[A-Za-z0-9_./-]+\.(csv|xls|xlsx|geojson)").fillna(False),
        path,
        "read_at",
        lambda line: f"{raw.at[line, 'read_at']!r}: a figure computed from a data file names that file",
    )
    target = raw["duplicate_of"].str.strip()
    schema.check_rows(
        (target != "") & ~target.isin(set(raw["row_id"])),
        path,
        "duplicate_of",
        lambda line: f"duplicate_of {raw.at[line, 'duplicate_of']!r} names no row of this file",
    )
    duplicates = set(raw.loc[target != "", "row_id"])
    schema.check_rows(
        target.isin(duplicates),
        path,
        "duplicate_of",
        "duplicate_of must point to the row to print, not to another duplicate (or to itself)",
    )


def _harmonise(raw: pd.DataFrame, path: Path, source_ids: pd.Series, editions: pd.Series) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "indicator": raw["indicator"],
            "year": raw["year"].str.strip().astype("int64"),
            "geo_level": "france",
            "geo_code": "FR",
            "sex": raw["sex"].where(raw["sex"] != "", "total"),
            "age_group": "all",
            "value": schema.parse_numbers(raw["value"], path, "value"),
            "unit": raw["unit"],
            "source_id": source_ids,
            "edition": editions,
            "source_title": raw["source_title"],
            "source_url": raw["source_url"],
            "source_date": raw["source_date"],
            "note": raw["note"],
            "publisher": raw["publisher"] if "publisher" in raw else raw.get("producer", ""),
            "consulted_via": raw["consulted_via"] if "consulted_via" in raw else _consulted_via(raw),
            "compiled_in": source_ids,
            **{column: raw[column] if column in raw else "" for column in PROVENANCE_COLUMNS},
        },
        index=raw.index,
    )
    for column in EXTRA_COLUMNS:
        table[column] = table[column].astype("str")
    return schema.deliver(table, path, extra=EXTRA_COLUMNS, schema=NATIONAL_SCHEMA, names={"value": "value"})


def _consulted_via(raw: pd.DataFrame):
    """The third edition's page read, where it is not the document's own address (the second edition's meaning)."""
    if "read_at" not in raw:
        return ""
    return raw["read_at"].where(raw["read_at"] != raw["source_url"], "")


def load(path: str | Path, source_id: str, edition: str) -> pd.DataFrame:
    """Load one compilation file (``national_series_vff.csv`` or the supplement) as the harmonised table.

    Parameters
    ----------
    path : str or Path
        The raw compilation file (or the curated copy, whose ``compiled_in`` then gives each row's source id).
    source_id, edition : str
        Its id in ``data/sources.yml`` and its edition.

    Returns
    -------
    pandas.DataFrame
        Harmonised columns (geo FR), then ``source_title, source_url, source_date, note, publisher,
        consulted_via, compiled_in`` (the last two empty for an edition-1 file).

    Raises
    ------
    InputError
        When the file breaks a rule (see the module docstring).
    """
    path = Path(path)
    layout, raw = _read(path)
    if "compiled_in" in raw:
        ids = raw["compiled_in"]
    else:
        ids = pd.Series(source_id, index=raw.index)
    return _harmonise(raw, path, ids, pd.Series(edition, index=raw.index))


def load_curated(path: str | Path, editions: Mapping[str, str]) -> pd.DataFrame:
    """Load the curated copy, each row with the source id and edition of the compilation it comes from.

    Parameters
    ----------
    path : str or Path
        ``data/curated/national_series.csv``.
    editions : mapping of str to str
        Edition of each compilation source id (from the catalogue).

    Returns
    -------
    pandas.DataFrame
        As :func:`load`.
    """
    path = Path(path)
    layout, raw = _read(path)
    if "compiled_in" not in raw:
        raise InputError(path, "column 'compiled_in'", "missing column 'compiled_in' (curated copy expected)")
    ids = raw["compiled_in"]
    missing = sorted(set(ids) - set(editions))
    if missing:
        raise InputError(path, "column 'compiled_in'", f"no edition known for {', '.join(missing)}")
    return _harmonise(raw, path, ids, ids.map(dict(editions)))


def compiled_in(path: str | Path) -> set[str]:
    """The source ids named in the ``compiled_in`` column of a curated copy (empty set when it has none).

    A cheap look at which compilation the committed copy holds, before reading it in full (:func:`load_curated`
    then checks every row).
    """
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if "compiled_in" not in (reader.fieldnames or ()):
            return set()
        return {row["compiled_in"] for row in reader}


def curated_rows(files: Mapping[str, str | Path]) -> list[list[str]]:
    """Return the curated copy's rows (header first) from the compilation files, each one checked first.

    Parameters
    ----------
    files : mapping of str to path
        Source id to raw file of each file of the compilation the letters use (one for the third edition, the
        main table then the supplement for the second), in the order the copy lists them.

    Returns
    -------
    list of list of str
        The header (the files' columns and ``compiled_in``) then every row of each file, in the mapping's order
        and file order, fields exactly as read, with ``compiled_in`` appended.

    Raises
    ------
    InputError
        When a file breaks a rule, is not a raw compilation file, or its layout differs from the first file's.
    """
    rows: list[list[str]] = []
    first = None
    for source_id, name in files.items():
        path = Path(name)
        layout, raw = _read(path)
        if layout not in CURATED_LAYOUT:
            raise InputError(path, "line 1", "a raw compilation file (second or third edition) is expected")
        if first is None:
            first = layout
            rows.append([*LAYOUTS[layout], "compiled_in"])
        elif layout != first:
            raise InputError(path, "line 1", f"layout {layout} differs from the first file's ({first})")
        for record in raw.loc[:, list(LAYOUTS[layout])].itertuples(index=False):
            rows.append([*record, source_id])
    if first is None:
        raise ValueError("curated_rows: no compilation file given")
    return rows


def rebuild_curated(files: Mapping[str, str | Path], target: str | Path) -> Path:
    """Write the curated copy from the compilation files (UTF-8, comma-separated, ``\\n`` line ends).

    The file is written to a temporary name beside ``target`` and renamed, and only after both inputs passed
    every check, so a failure leaves ``target`` as it was.

    Parameters
    ----------
    files : mapping of str to path
        Compilation source id to raw file (see :func:`curated_rows`).
    target : str or Path
        Where to write (the committed copy is ``data/curated/national_series.csv``).

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    rows = curated_rows(files)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            csv.writer(out, lineterminator="\n").writerows(rows)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def relayed_by(note: str) -> str | None:
    """Return the site that relayed an official figure, or None when the row cites the official document.

    Parameters
    ----------
    note : str
        The ``note`` of a row of the second edition.

    Returns
    -------
    str or None
        E.g. ``"TF1 Info (« Violences sexuelles ... »)"`` for a row whose note says "chiffre officiel relayé par
        TF1 Info (...)".
    """
    text = str(note or "")
    at = text.rfind(RELAYED_MARK)
    if at < 0:
        return None
    site = text[at + len(RELAYED_MARK) :].strip().rstrip(".")
    return site or None
