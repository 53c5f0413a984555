"""Register a new edition of a source in ``data/sources.yml`` (next year's update), transactionally.

Why apart from :mod:`observatoire.data.catalogue`: registering reads the new file with its loader
(:mod:`observatoire.data.datasets`) and compares its completeness with the edition it follows, while the datasets
themselves are found through the catalogue; kept in the catalogue, this step made catalogue and datasets import each
other. The new catalogue is written to a temporary file, read back and checked, then renamed; any failure leaves
``sources.yml`` byte-identical.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from observatoire.core import atomic, paths
from observatoire.core.checksums import sha256_file
from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url
from observatoire.data import completeness, datasets
from observatoire.data.catalogue import _raw_file, check_label, is_date, read_catalogue, verify


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
    catalogue_path = Path(catalogue_path or paths.SOURCES_YML)
    file = Path(file)
    original = catalogue_path.read_bytes()
    sources = read_catalogue(catalogue_path)
    if source_id not in sources:
        raise KeyError(f"unknown source id '{source_id}'")
    base = sources[source_id]
    problem = check_label(edition)
    if (
        problem
    ):  # first: the edition makes the default id, and an error line must not print a control character
        raise InputError(catalogue_path, "--edition", f"edition {problem}")
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
    if not is_date(produced):
        raise InputError(
            catalogue_path,
            where,
            f"produced {produced!r} must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
        )
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
        "sha256": sha256_file(file),
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
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text + "\n\n" + block + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if atomic.is_disk_full(exc):  # sources.yml untouched, the temporary file removed below
                raise atomic.DiskFullError(catalogue_path) from None
            raise
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
