"""One entry point for notebooks: a source id in, its harmonised table out.

Why: a notebook should never know where a raw file lives, which layout it has or which checks it needs. It asks
for a source id of ``data/sources.yml``; this module fetches the file when missing (checksum verified, through
:func:`observatoire.data.catalogue.ensure`), calls the source's loader, and caches the result in-process (one parse
per source per process; every call returns a copy, so a notebook cannot alter another's data). Each table is
checked against the completeness its catalogue entry declares (:mod:`observatoire.data.completeness`), so an
incomplete edition stops a release at its validate stage. Parsed tables are kept on disk as Parquet (data only,
nothing that runs when read), keyed by the checksum of the file read.

Nothing here writes a file: a load that fails raises :class:`~observatoire.core.errors.InputError` and leaves the
project as it was.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from observatoire.core import paths
from observatoire.core.checksums import sha256_file
from observatoire.data import catalogue, completeness
from observatoire.data.loaders import get_loader
from observatoire.data.loaders import national_series as _national_series
from observatoire.data.loaders import ssmsi_departement as _ssmsi_departement


class MissingData(LookupError):
    """The data asked for is not in the sources (e.g. a year a file does not cover): never a neighbouring year."""


def load_file(path: str | Path, loader: str, source_id: str, edition: str) -> pd.DataFrame:
    """Load a file with a named loader, without the catalogue (used to check a new edition before registering it).

    Parameters
    ----------
    path : str or Path
        The file.
    loader : str
        A loader module name (``ssmsi_departement``, ``insee_population`` ...).
    source_id, edition : str
        Recorded on every row.

    Returns
    -------
    pandas.DataFrame
        The loader's table.

    Raises
    ------
    InputError
        When the file breaks one of the loader's rules.
    """
    return get_loader(loader)(Path(path), source_id, edition)


@functools.cache
def _loader_code_digest() -> str:
    """Hash of the code that turns a raw file into a table: a change to it invalidates the disk cache."""
    digest = hashlib.sha256()
    for path in sorted((paths.PACKAGE / "data" / "loaders").glob("*.py")) + [
        paths.PACKAGE / "data" / "geography.py",
        paths.PACKAGE / "data" / "territory_codes.py",  # the code lists geography checks against
    ]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(pd.__version__.encode())
    return digest.hexdigest()[:16]


def _cache_file(source: catalogue.Source, raw: Path) -> Path:
    # Keyed by the checksum of the file actually read (not the catalogue's): a table is only ever served for
    # the very bytes it was parsed and validated from. The id was checked against paths.SAFE_ID by the
    # catalogue; the path is confined to the cache folder all the same.
    name = f"{source.id}-{sha256_file(raw)[:16]}-{_loader_code_digest()}.parquet"
    return paths.confined(paths.CACHE, name)


def _read_cache(cache: Path) -> pd.DataFrame | None:
    """The table stored in a cache file, or None when there is none or it cannot be read (it is then removed).

    Parquet holds data only (no code runs when it is read, unlike a pickle); pandas keeps the dtypes and
    ``attrs`` in its metadata.
    """
    if not cache.is_file():
        return None
    try:
        return pd.read_parquet(cache, engine="pyarrow")
    except Exception:  # a corrupt cache entry is rebuilt, never trusted
        cache.unlink(missing_ok=True)
        return None


def _writer_alive(leftover: Path) -> bool:
    """Whether the process that named a temporary cache file ``.<name>.<pid>.<random>.tmp`` still runs."""
    parts = leftover.name.split(".")
    pid = next((int(part) for part in reversed(parts[:-2]) if part.isdigit()), None)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_cache(cache: Path, table: pd.DataFrame) -> None:
    """Store a table in the cache atomically (temporary file beside it, renamed; removed on any failure).

    Several kernels may fill the cache at once: a temporary file carries its writer's process id, and only the
    leftovers of processes that no longer run (killed while writing) are removed, never a concurrent write.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Left by a process killed while writing, or pickles of earlier versions (never loaded: removed).
    for leftover in cache.parent.glob(".*.tmp"):
        if not _writer_alive(leftover):
            leftover.unlink(missing_ok=True)
    for leftover in cache.parent.glob("*.pickle"):
        leftover.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{cache.name}.{os.getpid()}.", suffix=".tmp", dir=cache.parent
    )
    os.close(handle)
    try:
        table.to_parquet(temporary, engine="pyarrow", index=False)
        os.replace(temporary, cache)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _check_completeness(
    source: catalogue.Source, raw: Path, table: pd.DataFrame, previous_table: Callable[[str], pd.DataFrame]
) -> None:
    """The table against its declared completeness, and against the edition it follows when one is declared
    (read with ``previous_table``)."""
    declared = source.extra.get("completeness")
    completeness.check_declared(table, declared, raw, source.id)
    previous = (declared or {}).get("previous")
    if previous:
        completeness.compare_editions(
            table,
            previous_table(str(previous)),
            raw,
            source.id,
            str(previous),
            declared.get("total_tolerance"),
            declared.get("accepted_missing") or (),
        )


@functools.cache
def _cached(source_id: str) -> pd.DataFrame:
    """Load a source once per process, and once per (file checksum, loader code) on disk.

    The disk cache is what keeps a release fast: the validate stage parses each raw file once and the notebooks,
    each in its own kernel, read the validated table back instead of parsing the file again (the INSEE
    workbooks take seconds). The key holds the raw file's sha256 (verified by ``catalogue.ensure`` first) and a
    hash of the loader code, so a new edition or a loader change is never served a stale table.
    """
    source = catalogue.get_source(source_id)
    raw = catalogue.ensure(source_id)
    return _checked_table(source, raw, _cache_file(source, raw), _cached)


def _checked_table(
    source: catalogue.Source, raw: Path, cache: Path, previous_table: Callable[[str], pd.DataFrame]
) -> pd.DataFrame:
    """The table of ``raw`` from the disk cache (else parsed and cached), checked against its declaration."""
    table = _read_cache(cache)
    if table is None:
        table = load_file(raw, source.loader, source.id, source.edition)
        _check_completeness(source, raw, table, previous_table)
        _write_cache(cache, table)
    else:  # the declaration may have changed since the table was cached
        _check_completeness(source, raw, table, previous_table)
    return table


#: What :func:`validate` checked in this process: (source id, disk cache file, declaration).
_VALIDATED: set[tuple[str, str, str]] = set()


def validate(source_id: str) -> None:
    """Check a source as :func:`load` does (parsed, or read from the disk cache, and checked against its
    declaration), without keeping its table in this process.

    The build process validates the sources of each edition and reads no table afterwards (the notebooks do, in
    their kernels): holding them cost a batch's process about 300 MB (the territorial letters' five sources
    220 MB). A source is checked once per process for the same raw file (its checksum and the loader's code
    name the cache file) and the same declaration.

    Raises
    ------
    KeyError, InputError
        As :func:`load`.
    """
    source = catalogue.get_source(source_id)
    raw = catalogue.ensure(source_id)
    cache = _cache_file(source, raw)
    key = (source_id, str(cache), repr(source.extra.get("completeness")))
    if key in _VALIDATED and cache.is_file():
        return
    _checked_table(source, raw, cache, _table_not_kept)
    _VALIDATED.add(key)
    import pyarrow  # lazy: as pandas' parquet reader; its pool keeps freed pages (about 50 MB) until asked

    pyarrow.default_memory_pool().release_unused()


def _table_not_kept(source_id: str) -> pd.DataFrame:
    """A source's table for one check (an earlier edition compared with a new one), not kept in this process."""
    source = catalogue.get_source(source_id)
    raw = catalogue.ensure(source_id)
    return _checked_table(source, raw, _cache_file(source, raw), _table_not_kept)


#: Source ids read in this process since :func:`reset_reads` (a release checks them against the theme's sources).
_READ: set[str] = set()


def _read(source_id: str) -> pd.DataFrame:
    """:func:`_cached`, remembering that ``source_id`` was read."""
    _READ.add(source_id)
    return _cached(source_id)


def sources_read() -> list[str]:
    """The source ids read since the last :func:`reset_reads`, sorted (what a notebook really used)."""
    return sorted(_READ)


def reset_reads() -> None:
    """Forget the sources read (each notebook starts with an empty list: see ``EditionContext``)."""
    _READ.clear()


def load(source_id: str) -> pd.DataFrame:
    """Return the harmonised long table of a source (see docs/ARCHITECTURE.md).

    Parameters
    ----------
    source_id : str
        An id of ``data/sources.yml``.

    Returns
    -------
    pandas.DataFrame
        A copy of the cached table (``geo_reference`` returns the reference table, see :func:`geography`).

    Raises
    ------
    KeyError
        Unknown source id.
    InputError
        Missing file that cannot be fetched, checksum mismatch, or a file that breaks its loader's rules.
    """
    table = _read(source_id)
    copy = table.copy()
    copy.attrs = dict(table.attrs)
    return copy


def clear_cache() -> None:
    """Forget every loaded table and every validated source (after a raw file changed, or in tests)."""
    _cached.cache_clear()
    _VALIDATED.clear()
    _unlocalised.cache_clear()
    _national.cache_clear()


def _expect(source_id: str, loader: str) -> None:
    actual = catalogue.get_source(source_id).loader
    if actual != loader:
        raise ValueError(f"source '{source_id}' is read by loader '{actual}', not '{loader}'")


def ssmsi_departement(source_id: str) -> pd.DataFrame:
    """Return an SSMSI départemental table (one edition; un-localised rows excluded, see :func:`ssmsi_national`)."""
    _expect(source_id, "ssmsi_departement")
    return load(source_id)


def ssmsi_region(source_id: str) -> pd.DataFrame:
    """Return an SSMSI regional table (one edition)."""
    _expect(source_id, "ssmsi_region")
    return load(source_id)


@functools.cache
def _unlocalised(source_id: str) -> pd.DataFrame:
    source = catalogue.get_source(source_id)
    return _ssmsi_departement.unlocalised(catalogue.ensure(source_id), source_id, source.edition)


def ssmsi_national(source_id: str) -> pd.DataFrame:
    """Return France's yearly totals of an SSMSI départemental edition, un-localised rows included.

    Returns
    -------
    pandas.DataFrame
        Harmonised rows with ``geo_level`` "france" and ``geo_code`` "FR" (see
        :func:`observatoire.data.loaders.ssmsi_departement.national_totals`).
    """
    _expect(source_id, "ssmsi_departement")
    return _ssmsi_departement.national_totals(_read(source_id), _unlocalised(source_id))


def boundaries(level: str = "departement") -> pd.DataFrame:
    """Return the boundaries of the 101 départements (``level="departement"``) or the 18 régions (``"region"``).

    Returns
    -------
    pandas.DataFrame
        ``geo_level, code, nom, geometry_type, polygons`` (see :mod:`observatoire.data.loaders.boundaries`).
    """
    source_id = {"departement": "boundaries_dep", "region": "boundaries_reg"}[level]
    _expect(source_id, "boundaries")
    return load(source_id)


def population(source_id: str) -> pd.DataFrame:
    """Return an INSEE population table (harmonised, persons; ``provisional`` column; départements only)."""
    _expect(source_id, "insee_population")
    return load(source_id)


def population_sources() -> list[str]:
    """The catalogue's INSEE population sources (loader ``insee_population``), the finest age bands first."""
    ids = [sid for sid, source in catalogue.load_catalogue().items() if source.loader == "insee_population"]
    return sorted(ids, key=lambda sid: (-_read(sid)["age_group"].nunique(), sid))


def _bands(age_groups: list[str]) -> dict[str, tuple[int, float]]:
    bands = {}
    for label in age_groups:
        if label == "all":
            continue
        if label.endswith("+"):
            bands[label] = (int(label[:-1]), float("inf"))
        else:
            low, high = label.split("-")
            bands[label] = (int(low), float(high))
    return bands


def women_population(
    year: int,
    age_min: int = 0,
    age_max: int | None = None,
    geo_level: str = "france",
    source_id: str | None = None,
) -> pd.DataFrame:
    """Return the number of women of an age range on 1 January of ``year``.

    The catalogue's population sources (those read by the ``insee_population`` loader) are tried, the one with the
    finest age bands first (the five-year workbook before the broad-age one, which covers one more year): the
    first source that covers the year and whose bands fit ``age_min`` and ``age_max`` exactly. A year no source
    covers is missing data, never replaced by a neighbouring year.

    Parameters
    ----------
    year : int
        Reference year.
    age_min, age_max : int
        Inclusive age range (``age_max=None``: no upper bound). ``15, 64`` gives women aged 15-64.
    geo_level : str
        ``"france"`` (one row, geo_code "FR"), ``"departement"`` or ``"region"``.
    source_id : str, optional
        Force one INSEE source.

    Returns
    -------
    pandas.DataFrame
        Columns ``geo_code, value``; ``attrs`` record ``source_id``, ``edition`` and ``provisional``.

    Raises
    ------
    MissingData
        When no source covers the year with bands that fit the age range.
    ValueError
        For an unknown ``geo_level``.
    """
    if geo_level not in {"france", "departement", "region"}:
        raise ValueError(f"geo_level must be france, departement or region, not {geo_level!r}")
    candidates = [source_id] if source_id else population_sources()
    tried = []
    for candidate in candidates:
        table = _read(candidate)
        rows = table[(table["year"] == year) & (table["sex"] == "female")]
        if rows.empty:
            tried.append(f"{candidate}: no {year}")
            continue
        bands = _bands(sorted(set(rows["age_group"])))
        if age_min == 0 and age_max is None:
            chosen = ["all"]
        else:
            high = float("inf") if age_max is None else float(age_max)
            inside = [b for b, (lo, hi) in bands.items() if lo >= age_min and hi <= high]
            covered = sorted(bands[b] for b in inside)
            fits = (
                bool(covered)
                and covered[0][0] == age_min
                and covered[-1][1] == high
                and all(covered[i][1] + 1 == covered[i + 1][0] for i in range(len(covered) - 1))
            )
            if not fits:
                tried.append(
                    f"{candidate}: bands do not fit {age_min}-{age_max if age_max is not None else ''}"
                )
                continue
            chosen = inside
        selected = rows[rows["age_group"].isin(chosen)]
        if selected.groupby("geo_code")["age_group"].nunique().lt(len(chosen)).any():
            tried.append(f"{candidate}: some départements lack a band")
            continue
        by_dep = selected.groupby("geo_code", sort=True)["value"].sum()
        if geo_level == "france":
            out = pd.DataFrame({"geo_code": ["FR"], "value": [float(by_dep.sum())]})
        elif geo_level == "departement":
            out = by_dep.rename("value").reset_index()
        else:
            regions = geography().set_index("code_departement")["code_region"]
            out = by_dep.groupby(regions.reindex(by_dep.index).to_numpy()).sum().rename("value").reset_index()
            out.columns = ["geo_code", "value"]
        out["geo_code"] = out["geo_code"].astype("str")
        out.attrs.update(
            source_id=candidate,
            edition=str(table["edition"].iloc[0]),
            provisional=bool(selected["provisional"].any()),
        )
        return out
    raise MissingData(
        f"no INSEE population for women aged {age_min}-{age_max} in {year} ({'; '.join(tried)})"
    )


def geography() -> pd.DataFrame:
    """Return the département reference: ``code_departement, nom_departement, code_region, nom_region,
    is_overseas`` (101 rows)."""
    return load("geo_reference")


@functools.lru_cache(maxsize=1)
def _national(path_text: str, editions: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    return _national_series.load_curated(Path(path_text), dict(editions))


def national_series(source_id: str) -> pd.DataFrame:
    """Return the national series of published figures of one compilation, harmonised (geo FR).

    The letters name the compilation they use (theme parameter ``national_source`` in
    ``publications/themes.yml``). When the committed curated copy (``data/curated/national_series.csv``) is that
    compilation it is read (the copy equals its raw files: ``tests/test_loaders.py``); any other registered
    compilation is read from its raw file, checksum verified.

    Parameters
    ----------
    source_id : str
        A source of ``data/sources.yml`` read by the ``national_series`` loader (e.g. the third edition).

    Returns
    -------
    pandas.DataFrame
        Harmonised columns plus the provenance columns (:data:`observatoire.data.loaders.national_series.EXTRA_COLUMNS`);
        ``source_id`` and ``edition`` are those of the compilation each row comes from.
    """
    _expect(source_id, "national_series")
    source = catalogue.get_source(source_id)
    curated = paths.CURATED / "national_series.csv"
    if _national_series.compiled_in(curated) != {source_id}:  # another compilation's copy: read the raw file
        return load(source_id)
    _READ.add(source_id)
    return _national(str(curated), ((source_id, source.edition),)).copy()
