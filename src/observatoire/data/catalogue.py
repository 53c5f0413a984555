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

Next year's update is one command plus a review: :func:`register` records a new edition of a source (checksum
computed, completeness computed from the file and compared with the edition it follows) in ``sources.yml``. It is
transactional: the new catalogue is written to a temporary file, read back and checked, then renamed; any failure
leaves ``sources.yml`` byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url

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
#: A production date: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
_PRODUCED = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


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


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    try:
        document = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark else "whole file"
        raise InputError(path, place, f"not valid YAML ({exc.__class__.__name__})") from exc
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
                path, f"{where} ({entry.get('id', '?')})", f"missing field(s): {', '.join(missing)}"
            )
        source_id = str(entry["id"])
        if source_id in sources:
            raise InputError(path, where, f"source id '{source_id}' appears twice")
        if entry["file"] in files:
            raise InputError(path, where, f"file '{entry['file']}' is listed twice")
        _check_entry(path, f"{where} ({source_id})", entry)
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
    if not _PRODUCED.fullmatch(str(entry["produced"])):
        raise InputError(path, where, f"produced {entry['produced']!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    for name in ("title", "publisher", "licence", "edition"):
        value = entry[name]
        if not isinstance(value, str | int) or not str(value).strip() or "\n" in str(value):
            raise InputError(path, where, f"{name} must be one non-empty line of text")
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
    actual = sha256_of(path)
    if actual != source.sha256:
        raise InputError(
            path,
            "whole file",
            f"checksum mismatch for source '{source.id}': catalogue sha256 {source.sha256}, file sha256 {actual}",
        )


def _raw_state_file() -> Path:
    return paths.CACHE / "raw-checksums.json"


def verify_present(source_ids: list[str]) -> None:
    """Check that the raw files present for these sources are still the catalogue's bytes.

    Why: a release whose inputs did not change does no work, so it would never read the raw files; a byte flipped
    in ``data/raw/`` would go unnoticed until the next real build. A file whose size and modification time are
    those recorded after its last full check is trusted; any other is hashed in full (a few tens of
    milliseconds for the whole catalogue). Missing files are left to :func:`fetch`.

    Raises
    ------
    InputError
        Naming the file and both checksums, as :func:`verify`.
    """
    catalogue = load_catalogue()
    memo_path = _raw_state_file()
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    changed = False
    for source_id in source_ids:
        source = catalogue[source_id]
        target = _raw_file(source)
        try:
            stat = target.stat()
        except FileNotFoundError:
            continue
        state = [stat.st_size, stat.st_mtime_ns, source.sha256]
        key = str(target.resolve())
        if memo.get(key) == state:
            continue
        verify(source, target)
        memo[key] = state
        changed = True
    if changed:
        _write_atomic(memo_path, json.dumps(memo, sort_keys=True, indent=1) + "\n")


def _write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file beside it, removed whatever happens."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _atomic_copy(origin: Path, target: Path, expected: str, source: Source) -> None:
    """Copy ``origin`` to ``target`` through a temporary file, renamed only once its checksum is right."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(origin, temporary)
        actual = sha256_of(Path(temporary))
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
    if not source.url or not str(source.url).startswith(("http://", "https://")) or source.url.endswith("/"):
        raise InputError(
            target,
            "whole file",
            f"source '{source.id}' is not in the mirror and has no direct download URL: "
            "set OBSERVATOIRE_MIRROR to a folder that holds it",
        )
    import pooch  # imported here: only the download path needs it

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


def register(
    source_id: str,
    file: Path,
    edition: str,
    produced: str,
    new_id: str | None = None,
    url: str | None = None,
    catalogue_path: Path | None = None,
    accept_missing: list[str] | None = None,
) -> dict[str, Any]:
    """Record a new edition of a source in ``sources.yml`` (next year's update), transactionally.

    The new entry copies the descriptive fields of ``source_id`` (title, publisher, licence, format, loader) and
    sets the new file name, edition, production date and checksum. Before anything is written: the arguments are
    checked (safe id and file name, http(s) URL, date), the file is read by the source's loader (a file the
    pipeline cannot read is never registered), its completeness (rows, years, indicators, geographic units) is
    computed from the file and compared with the edition it follows (:func:`observatoire.data.completeness.
    compare_editions`: a dropped unit, indicator or year, or a national total moving beyond the declared
    tolerance, is refused). The new catalogue is then written to a temporary file, read back and checked, and
    renamed over ``sources.yml``; on any failure ``sources.yml`` is left byte-identical. Review the diff and
    commit it, then place the file in the mirror.

    Parameters
    ----------
    source_id : str
        An existing source whose new edition this is.
    file : Path
        The new raw file, as received from the publisher.
    edition, produced : str
        The new edition's name and production date (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``).
    new_id : str, optional
        The id of the new entry (default ``<source_id's prefix>_<edition>``).
    url : str, optional
        The official URL of the new file (default: the old one).
    catalogue_path : Path, optional
        The catalogue to update (default ``data/sources.yml``).
    accept_missing : list of str, optional
        Items of the previous edition whose absence was reviewed (``indicator:<name>``, ``year:<year>``,
        ``unit:<code>``), recorded in the new entry.

    Returns
    -------
    dict
        The new entry.

    Raises
    ------
    InputError
        A bad argument, a file its loader refuses, an incomplete edition, or a catalogue that would not read back.
    """
    from observatoire.data import (  # the loader validates the file before it is registered
        completeness,
        datasets,
    )

    catalogue_path = Path(catalogue_path or paths.SOURCES_YML)
    file = Path(file)
    original = catalogue_path.read_bytes()
    sources = read_catalogue(catalogue_path)
    if source_id not in sources:
        raise KeyError(f"unknown source id '{source_id}'")
    base = sources[source_id]
    new_id = new_id or f"{base.id.rsplit('_', 1)[0]}_{edition}".replace("-", "_")
    where = f"source '{new_id}'"
    if new_id in sources:
        raise InputError(catalogue_path, where, "already registered: choose another --new-id")
    if not paths.SAFE_ID.fullmatch(new_id):
        raise InputError(catalogue_path, where, f"id must match {paths.SAFE_ID.pattern}")
    if not paths.SAFE_FILE_NAME.fullmatch(file.name) or ".." in file.name:
        raise InputError(file, "file name", f"must match {paths.SAFE_FILE_NAME.pattern}: rename the file")
    listed = {s.file: s.id for s in sources.values()}
    if file.name in listed:
        raise InputError(file, "file name", f"already listed in the catalogue (source '{listed[file.name]}')")
    if url is not None and safe_url(url) is None:
        raise InputError(catalogue_path, where, f"url {url!r} must be an http(s) URL")
    if not _PRODUCED.fullmatch(str(produced)):
        raise InputError(catalogue_path, where, f"produced {produced!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    if not str(edition).strip() or "\n" in str(edition):
        raise InputError(catalogue_path, where, "edition must be one non-empty line of text")
    accepted = list(accept_missing or [])
    bad = [a for a in accepted if not re.fullmatch(r"(indicator|year|unit):.+", a)]
    if bad:
        raise InputError(
            catalogue_path, where, f"--accept-missing {bad[0]!r}: expected indicator:, year: or unit:"
        )

    table = datasets.load_file(file, base.loader, new_id, edition)
    declared = completeness.coverage_of(table)
    previous_declared = base.extra.get("completeness") or {}
    tolerance = previous_declared.get("total_tolerance")
    previous_file = _raw_file(base)
    verify(base, previous_file)
    previous = datasets.load_file(previous_file, base.loader, base.id, base.edition)
    completeness.compare_editions(table, previous, file, new_id, base.id, tolerance, accepted)
    declared["previous"] = base.id
    if tolerance is not None:
        declared["total_tolerance"] = tolerance
    if accepted:
        declared["accepted_missing"] = accepted
    entry = {
        "id": new_id,
        "title": base.title,
        "publisher": base.publisher,
        "url": url or base.url,
        "licence": base.licence,
        "edition": edition,
        "produced": produced,
        "file": file.name,
        "sha256": sha256_of(file),
        "format": base.format,
        "coverage": base.coverage,
        "loader": base.loader,
        "completeness": declared,
        "notes": f"Registered as a new edition of '{base.id}'. Review coverage, completeness and notes.",
    }
    text = original.decode("utf-8").rstrip("\n")
    described = {k: v for k, v in entry.items() if k not in ("completeness", "notes")}
    block = yaml.safe_dump([described], allow_unicode=True, sort_keys=False, width=110)
    block = "\n".join("  " + line if line else line for line in block.splitlines())
    block += "\n" + completeness.to_yaml(declared, "    ")
    block += "    notes: " + json.dumps(entry["notes"], ensure_ascii=False)
    for leftover in catalogue_path.parent.glob(f".{catalogue_path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)  # left by a register killed mid-write
    handle, temporary = tempfile.mkstemp(
        prefix=f".{catalogue_path.name}.", suffix=".tmp", dir=catalogue_path.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n\n" + block + "\n")
        reread = read_catalogue(Path(temporary))  # the new catalogue must read back, whole
        written = reread.get(new_id)
        if (
            written is None
            or written.sha256 != entry["sha256"]
            or written.extra.get("completeness") != declared
        ):
            raise InputError(
                catalogue_path, where, "the new entry did not read back as written; nothing changed"
            )
        if catalogue_path.read_bytes() != original:
            raise InputError(
                catalogue_path, "whole file", "changed while registering; nothing written, run again"
            )
        os.replace(temporary, catalogue_path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return entry
