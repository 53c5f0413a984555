"""The data catalogue: which raw files the letters stand on, where they come from, and their checksums.

Raw files are never committed. Each one is described in ``data/sources.yml`` (publisher, official URL, licence,
edition, production date, sha256, format, coverage, loader) and fetched into ``data/raw/`` by :func:`fetch`:
copied from a mirror folder when one is present (``OBSERVATOIRE_MIRROR``, else ``../shared/data``), otherwise
downloaded from the publisher with pooch, which verifies the checksum. A file lands in ``data/raw/`` only once its
checksum is verified: it is written to a temporary name in the same folder and renamed, so an interrupted copy or
download never leaves a file behind.

Next year's update is one command plus a review: :func:`register` records a new edition of a source (checksum
computed) in ``sources.yml``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from observatoire import paths
from observatoire.errors import InputError

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
        checksum = str(entry["sha256"])
        if len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum):
            raise InputError(path, f"{where} ({source_id})", "sha256 must be 64 lowercase hex digits")
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


def get_source(source_id: str) -> Source:
    """Return one source of the catalogue, or raise a KeyError that lists the known ids."""
    sources = load_catalogue()
    if source_id not in sources:
        raise KeyError(f"unknown source id '{source_id}'; known: {', '.join(sources)}")
    return sources[source_id]


def raw_path(source_id: str) -> Path:
    """Return where the raw file of a source lives (``data/raw/<file>``), whether or not it is there yet."""
    return paths.RAW / get_source(source_id).file


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

    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
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
        Folder to copy from (default: :func:`observatoire.paths.default_mirror`).
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
    results = []
    for source_id in wanted:
        source = catalogue[source_id]
        target = paths.RAW / source.file
        if target.exists():
            verify(source, target)
            how = "present"
        elif mirror is not None and (mirror / source.file).is_file():
            _atomic_copy(mirror / source.file, target, source.sha256, source)
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
) -> dict[str, Any]:
    """Record a new edition of a source in ``sources.yml`` (next year's update).

    The new entry copies the descriptive fields of ``source_id`` (title, publisher, licence, format, loader) and
    sets the new file name, edition, production date and checksum. The file is checked by the source's loader
    before anything is written, so a file the pipeline cannot read is never registered. The catalogue is
    rewritten atomically; review the diff and commit it, then place the file in the mirror.

    Parameters
    ----------
    source_id : str
        An existing source whose new edition this is.
    file : Path
        The new raw file, as received from the publisher.
    edition, produced : str
        The new edition's name and production date.
    new_id : str, optional
        The id of the new entry (default ``<source_id's prefix>_<edition>``).
    url : str, optional
        The official URL of the new file (default: the old one).
    catalogue_path : Path, optional
        The catalogue to update (default ``data/sources.yml``).

    Returns
    -------
    dict
        The new entry.
    """
    catalogue_path = Path(catalogue_path or paths.SOURCES_YML)
    file = Path(file)
    sources = load_catalogue(catalogue_path)
    if source_id not in sources:
        raise KeyError(f"unknown source id '{source_id}'")
    base = sources[source_id]
    new_id = new_id or f"{base.id.rsplit('_', 1)[0]}_{edition}".replace("-", "_")
    if new_id in sources:
        raise InputError(catalogue_path, f"source '{new_id}'", "already registered: choose another --new-id")
    from observatoire.loaders import get_loader  # the loader validates the file before it is registered

    get_loader(base.loader)(file, new_id, edition)
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
        "notes": f"Registered as a new edition of '{base.id}'. Review coverage and notes.",
    }
    text = catalogue_path.read_text(encoding="utf-8").rstrip("\n")
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=110)
    block = "\n".join("  " + line if line else line for line in block.splitlines())
    handle, temporary = tempfile.mkstemp(dir=catalogue_path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text + "\n\n" + block + "\n")
    os.replace(temporary, catalogue_path)
    load_catalogue(catalogue_path)  # the file must still read back
    return entry
