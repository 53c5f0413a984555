"""The data catalogue: which raw files the letters stand on, where they come from, and their checksums.

Raw files are never committed. Each one is described in ``data/sources.yml`` (publisher, official URL, licence,
edition, production date, sha256, format, coverage, loader) and fetched into ``data/raw/`` by :func:`fetch`:
copied from a mirror folder when one is present (``OBSERVATOIRE_MIRROR``, else ``../shared/data``), otherwise
downloaded from the publisher with pooch, which verifies the checksum. A file lands in ``data/raw/`` only once its
checksum is verified: it is written to a temporary name in the same folder and renamed, so an interrupted copy or
download never leaves a file behind.

Nothing in the catalogue is trusted as a path: ids and file names must match :data:`observatoire.core.paths.SAFE_ID`
and :data:`observatoire.core.paths.SAFE_FILE_NAME`, URLs must be ``http(s)``, and every path built from them is checked
to stay in its folder. Temporary files a killed copy left in ``data/raw/`` are removed at the next fetch.

Next year's update is one command plus a review: :func:`observatoire.data.register.register` records a new
edition of a source in ``sources.yml`` (it lives apart so that this module does not import the datasets).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import functools
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire.core import atomic, paths
from observatoire.core.checksums import sha256_file
from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url
from observatoire.core.yamlfile import read_yaml

REQUIRED_FIELDS = (
    "id",
    "title",
    "publisher",
    "url",
    "licence",
    "edition",
    "produced",
    "file",
    "sha256",
    "format",
    "coverage",
    "loader",
)
#: Keys a ``completeness`` declaration may hold (see :mod:`observatoire.data.completeness`).
COMPLETENESS_KEYS = (
    "rows",
    "years",
    "indicators",
    "units",
    "previous",
    "total_tolerance",
    "accepted_missing",
)
#: A production date: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, in ASCII digits (see :func:`is_date`).
_PRODUCED = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
#: Characters an edition label cannot hold: control and format characters, line and paragraph separators.
_UNPRINTABLE = ("Cc", "Cf", "Zl", "Zp")


def is_date(text: object) -> bool:
    """True for a real calendar date written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` in ASCII digits.

    ``re``'s ``\\d`` and ``int()`` also accept other scripts' digits ("２０２４", "٢٠٢٤"), and a pattern alone
    accepts 2025-02-30: both are refused here.
    """
    text = str(text)
    if not _PRODUCED.fullmatch(text):
        return False
    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        datetime.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return parts[0] >= 1900


def check_label(value: object) -> str | None:
    """Why ``value`` cannot be a one-line label (an edition, a title), or None when it can."""
    text = str(value)
    if not text.strip():
        return "must be one non-empty line of text"
    bad = next((c for c in text if unicodedata.category(c) in _UNPRINTABLE or c in "\n\r"), None)
    if bad is not None:
        return f"must be one line of printable text (found U+{ord(bad):04X}, a control or format character)"
    return None


@dataclass(frozen=True)
class Source:
    """One raw file of the catalogue (one edition of one producer's dataset)."""

    id: str
    title: str
    publisher: str
    url: str | None
    licence: str
    edition: str
    produced: str
    file: str
    sha256: str
    format: dict[str, Any]
    coverage: dict[str, Any]
    loader: str
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_catalogue(path: Path | None = None) -> dict[str, Source]:
    """Read and check ``data/sources.yml`` (cached while the file is unchanged); see :func:`read_catalogue`."""
    path = Path(path or paths.SOURCES_YML)
    try:
        stat = path.stat()
    except OSError:
        return read_catalogue(path)
    return dict(_cached_catalogue(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _cached_catalogue(path: str, mtime_ns: int, size: int) -> dict[str, Source]:
    return read_catalogue(Path(path))


def read_catalogue(path: Path | None = None) -> dict[str, Source]:
    """Read and check ``data/sources.yml``.

    Parameters
    ----------
    path : Path, optional
        The catalogue file (default ``data/sources.yml``).

    Returns
    -------
    dict of str to Source
        Sources by id, in file order.

    Raises
    ------
    InputError
        When an entry lacks a field, repeats an id or a file name, or has a malformed checksum.
    """
    path = Path(path or paths.SOURCES_YML)
    document = read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise InputError(path, "top level", "must be a mapping with a 'sources' list")
    sources: dict[str, Source] = {}
    files: set[str] = set()
    for position, entry in enumerate(document["sources"], start=1):
        where = f"sources[{position}]"
        if not isinstance(entry, dict):
            raise InputError(path, where, "each source must be a mapping")
        missing = [name for name in REQUIRED_FIELDS if name not in entry]
        if missing:
            raise InputError(
                path,
                f"{where} ({_shown_id(entry.get('id', '?'))})",
                f"missing field(s): {', '.join(missing)}",
            )
        source_id = str(entry["id"])
        if source_id in sources:
            raise InputError(path, where, f"source id '{source_id}' appears twice")
        if entry["file"] in files:
            raise InputError(path, where, f"file '{entry['file']}' is listed twice")
        _check_entry(path, f"{where} ({_shown_id(source_id)})", entry)
        known = {name: entry[name] for name in REQUIRED_FIELDS}
        extra = {k: v for k, v in entry.items() if k not in REQUIRED_FIELDS and k != "notes"}
        sources[source_id] = Source(
            **{
                **known,
                "id": source_id,
                "edition": str(entry["edition"]),
                "produced": str(entry["produced"]),
            },
            notes=str(entry.get("notes", "") or ""),
            extra=extra,
        )
        files.add(entry["file"])
    return sources


def _shown_id(value: object) -> str:
    """An id as shown in an error's place: as written when it is a safe id, else quoted and escaped (one line)."""
    return str(value) if paths.SAFE_ID.fullmatch(str(value)) else ascii(str(value))


def _check_entry(path: Path, where: str, entry: dict[str, Any]) -> None:
    """Check the fields of one catalogue entry that become paths, links or checks (see the module docstring)."""
    source_id, file = entry["id"], entry["file"]
    if not isinstance(source_id, str) or not paths.SAFE_ID.fullmatch(source_id):
        raise InputError(
            path, where, f"id {source_id!r} must match {paths.SAFE_ID.pattern} (ids name cache files)"
        )
    if not isinstance(file, str) or not paths.SAFE_FILE_NAME.fullmatch(file) or ".." in file:
        raise InputError(
            path,
            where,
            f"file {file!r} must be a plain file name matching {paths.SAFE_FILE_NAME.pattern} "
            "(no folder, no '..'): raw files live in data/raw/",
        )
    checksum = str(entry["sha256"])
    if len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum):
        raise InputError(path, where, "sha256 must be 64 lowercase hex digits")
    if entry["url"] is not None and safe_url(entry["url"]) is None:
        raise InputError(path, where, f"url {entry['url']!r} must be an http(s) URL or null")
    if not isinstance(entry["loader"], str) or not re.fullmatch(r"[a-z_]+", entry["loader"]):
        raise InputError(path, where, f"loader {entry['loader']!r} must be a loader module name")
    if not is_date(entry["produced"]):
        raise InputError(
            path,
            where,
            f"produced {entry['produced']!r} must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
        )
    for name in ("title", "publisher", "licence", "edition"):
        value = entry[name]
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(path, where, f"{name} must be one non-empty line of text")
        problem = check_label(value)
        if problem:
            raise InputError(path, where, f"{name} {problem}")
    declared = entry.get("completeness")
    if declared is None:
        return
    if not isinstance(declared, dict):
        raise InputError(path, where, "completeness must be a mapping")
    unknown = sorted(set(declared) - set(COMPLETENESS_KEYS))
    if unknown:
        raise InputError(
            path,
            where,
            f"completeness: unknown key(s) {', '.join(unknown)} (known: {', '.join(COMPLETENESS_KEYS)})",
        )
    if "rows" in declared and (isinstance(declared["rows"], bool) or not isinstance(declared["rows"], int)):
        raise InputError(path, where, "completeness: rows must be an integer")
    for name in ("years", "indicators", "units", "accepted_missing"):
        if name in declared and not isinstance(declared[name], list):
            raise InputError(path, where, f"completeness: {name} must be a list")
    tolerance = declared.get("total_tolerance")
    if tolerance is not None:
        values = tolerance.values() if isinstance(tolerance, dict) else [tolerance]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values):
            raise InputError(
                path, where, "completeness: total_tolerance must be a number >= 0, or a mapping of them"
            )


def get_source(source_id: str) -> Source:
    """Return one source of the catalogue, or raise a KeyError that lists the known ids."""
    sources = load_catalogue()
    if source_id not in sources:
        raise KeyError(f"unknown source id '{source_id}'; known: {', '.join(sources)}")
    return sources[source_id]


def raw_path(source_id: str) -> Path:
    """Return where the raw file of a source lives (``data/raw/<file>``), whether or not it is there yet."""
    return _raw_file(get_source(source_id))


def _raw_file(source: Source, folder: Path | None = None) -> Path:
    """``folder/<file>`` (default ``data/raw``), checked to stay inside ``folder``."""
    folder = Path(folder or paths.RAW)
    try:
        return paths.confined(folder, source.file)
    except ValueError as exc:
        raise InputError(paths.SOURCES_YML, f"source '{source.id}'", f"file: {exc}") from None


def remove_leftovers(folder: Path | None = None) -> list[Path]:
    """Remove the temporary files an interrupted copy or download left in ``folder`` (default ``data/raw``).

    They are hidden files named ``.<file>.<random>.tmp`` (see :func:`_atomic_copy`) and scratch folders
    ``.fetch-<random>``; nothing else is touched.

    Returns
    -------
    list of Path
        What was removed.
    """
    folder = Path(folder or paths.RAW)
    removed = []
    if not folder.is_dir():
        return removed
    for leftover in sorted(folder.glob(".*.tmp")) + sorted(folder.glob(".fetch-*")):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def verify(source: Source, path: Path) -> None:
    """Check a file against the catalogue's checksum.

    Raises
    ------
    InputError
        Naming the file and both checksums when they differ, or when the file is missing.
    """
    if not path.is_file():
        raise InputError(
            path, "whole file", f"missing: source '{source.id}' expects {source.file} (run `make data`)"
        )
    actual = sha256_file(path)
    if actual != source.sha256:
        raise InputError(
            path,
            "whole file",
            f"checksum mismatch for source '{source.id}': catalogue sha256 {source.sha256}, file sha256 {actual}",
        )


def verify_present(source_ids: list[str]) -> None:
    """Check that the raw files present for these sources are still the catalogue's bytes: a sha256 of each.

    Why: a release whose inputs did not change does no work, so it would never read the raw files; a byte flipped
    in ``data/raw/`` would go unnoticed until the next real build. Size and modification time prove nothing (a
    flip can keep both), so every file is hashed in full once per process (about 45 ms for the 6.6 MB the annual
    letter reads); a file this process already hashed is hashed again only when its size, times (the change time
    included, which no tool can set back) or inode changed (:func:`observatoire.core.checksums.sha256_file`).
    Missing files are left to :func:`fetch`.

    Raises
    ------
    InputError
        Naming the file and both checksums, as :func:`verify`.
    """
    catalogue = load_catalogue()
    for source_id in source_ids:
        source = catalogue[source_id]
        target = _raw_file(source)
        if target.exists():  # a missing file is fetch's
            verify(source, target)


def _atomic_copy(origin: Path, target: Path, expected: str, source: Source) -> None:
    """Copy ``origin`` to ``target`` through a temporary file, renamed only once its checksum is right."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = atomic.temporary_name(target)
    os.close(handle)
    try:
        try:
            shutil.copyfile(origin, temporary)
        except OSError as exc:
            if atomic.is_disk_full(exc):  # one line naming the file that could not be written
                raise atomic.DiskFullError(target) from None
            raise
        actual = sha256_file(Path(temporary))
        if actual != expected:
            raise InputError(
                origin,
                "whole file",
                f"checksum mismatch for source '{source.id}': catalogue sha256 {expected}, file sha256 {actual}",
            )
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _download(source: Source, target: Path) -> None:
    """Download a source from its publisher URL with pooch (checksum verified before the file is kept)."""
    import pooch  # lazy: only when a file is downloaded (requests)

    if not source.url or not str(source.url).startswith(("http://", "https://")) or source.url.endswith("/"):
        raise InputError(
            target,
            "whole file",
            f"source '{source.id}' is not in the mirror and has no direct download URL: "
            "set OBSERVATOIRE_MIRROR to a folder that holds it",
        )

    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=target.parent) as scratch:
        try:
            fetched = pooch.retrieve(
                source.url,
                known_hash=f"sha256:{source.sha256}",
                fname=target.name,
                path=scratch,
                progressbar=False,
            )
        except ValueError as exc:  # pooch's checksum mismatch
            raise InputError(target, "whole file", f"download from {source.url}: {exc}") from exc
        except Exception as exc:  # network errors: say which file and where it was looked for
            raise InputError(target, "whole file", f"could not download from {source.url}: {exc}") from exc
        _atomic_copy(Path(fetched), target, source.sha256, source)


def fetch(source_ids: list[str] | None = None, mirror: Path | None = None, quiet: bool = False) -> list[Path]:
    """Fill ``data/raw/`` with verified raw files.

    A file already present with the right checksum is left as it is. A present file with a wrong checksum is an
    error (it is never silently replaced: a reviewer must see it).

    Parameters
    ----------
    source_ids : list of str, optional
        The sources to fetch (default: every source of the catalogue).
    mirror : Path, optional
        Folder to copy from (default: :func:`observatoire.core.paths.default_mirror`).
    quiet : bool
        Print nothing.

    Returns
    -------
    list of Path
        The verified raw files.
    """
    catalogue = load_catalogue()
    wanted = list(source_ids) if source_ids else list(catalogue)
    unknown = [s for s in wanted if s not in catalogue]
    if unknown:
        raise KeyError(f"unknown source id(s): {', '.join(unknown)}")
    mirror = Path(mirror) if mirror else paths.default_mirror()
    paths.RAW.mkdir(parents=True, exist_ok=True)
    with _fetch_lock(paths.RAW):
        return _fetch_locked(catalogue, wanted, mirror, quiet)


@contextlib.contextmanager
def _fetch_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on filling ``folder``: one fetch at a time per raw folder, across processes.

    Why: two processes filling the same folder (two pytest workers, a ``make letter`` beside a ``make test``)
    would otherwise remove each other's temporary files as leftovers of an interrupted copy, and one would fail on
    a file that vanished under it. The lock file lives in the system's temporary folder, named from the folder's
    resolved path, so ``data/raw`` holds nothing but the raw files.
    """
    key = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"observatoire-fetch-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fetch_locked(
    catalogue: dict[str, Source], wanted: list[str], mirror: Path | None, quiet: bool
) -> list[Path]:
    """The body of :func:`fetch`, run while holding :func:`_fetch_lock`."""
    remove_leftovers(paths.RAW)
    results = []
    for source_id in wanted:
        source = catalogue[source_id]
        target = _raw_file(source)
        if target.exists():
            verify(source, target)
            how = "present"
        elif mirror is not None and _raw_file(source, mirror).is_file():
            _atomic_copy(_raw_file(source, mirror), target, source.sha256, source)
            how = f"copied from {mirror}"
        else:
            _download(source, target)
            how = f"downloaded from {source.url}"
        if not quiet:
            print(f"  {source.id:<28} {source.file}  sha256 ok ({how})")
        results.append(target)
    return results


def ensure(source_id: str) -> Path:
    """Return the verified raw file of a source, fetching it first when it is missing."""
    target = raw_path(source_id)
    if not target.exists():
        fetch([source_id], quiet=True)
    else:
        verify(get_source(source_id), target)
    return target
