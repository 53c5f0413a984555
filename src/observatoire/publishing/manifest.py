"""The manifest of a published edition, and the build key that decides whether it must be rebuilt.

Every edition in ``_site/<theme>/<year>/`` carries a ``manifest.json`` saying exactly what it was built from
(input files with their edition and checksum, parameters, package versions, renderer) and what it contains
(every output file with its checksum). A reader can check a downloaded PDF against it; a reviewer can see what a
forced rebuild replaced; the release uses it as a cache: when the build key (a hash over every input) and the
output checksums match, there is nothing to do.

The JSON is deterministic (sorted keys, indent 2, UTF-8, final newline) so two builds of the same inputs give the
same file except for ``built_at``, the one volatile field, itself fixed by ``SOURCE_DATE_EPOCH`` when set.

Only the standard library is imported here: this module is on the no-change release path, which must stay fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from observatoire.core import paths
from observatoire.core.checksums import sha256_file
from observatoire.publishing.execution import read_notebook

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
LOCKFILE = paths.ROOT / "requirements.lock.txt"
_IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".quarto", ".pytest_cache"}
_IGNORED_SUFFIXES = {".pyc", ".pyo"}


def sha256_json(value: Any) -> str:
    """Hex sha256 of a value's canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notebook_digest(path: Path | str) -> str:
    """Hash of what a notebook *does*: cell types, sources and tags, not outputs or execution metadata.

    Re-running a notebook in Jupyter or refreshing its nbval reference outputs changes the file but not the
    letter, so it must not trigger a rebuild; editing a cell or its tags does.
    """
    nb = read_notebook(path)
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        cells.append(
            {
                "type": cell.get("cell_type"),
                "source": "".join(source) if isinstance(source, list) else source,
                "tags": sorted((cell.get("metadata") or {}).get("tags") or []),
            }
        )
    kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    return sha256_json({"cells": cells, "kernel": kernel})


def iter_files(root: Path | str, exclude: Iterable[str] = ()) -> list[Path]:
    """Files under ``root``, recursively, sorted by relative path; caches and bytecode skipped."""
    root_path = Path(root)
    return [root_path / rel for rel in _relative_files(Path(root), set(exclude))]


def _relative_files(root: Path, excluded: set[str]) -> list[str]:
    """The relative paths (``a/b.txt``) of :func:`iter_files`, sorted; ``os.walk`` rather than ``rglob``: a
    no-change run lists 238 letters of 50 files each."""
    found = []
    for folder, folders, names in os.walk(root, followlinks=True):
        folders[:] = [f for f in folders if f not in _IGNORED_PARTS]
        base = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in names:
            rel = name if base == "." else f"{base}/{name}"
            if rel in excluded or os.path.splitext(name)[1] in _IGNORED_SUFFIXES:
                continue
            if os.path.isfile(os.path.join(folder, name)):
                found.append(rel)
    return sorted(found)


def tree_digests(root: Path | str, prefix: str, exclude: Iterable[str] = ()) -> dict[str, str]:
    """``{prefix + relative path: sha256}`` for every file under ``root`` (empty when it does not exist)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    names = _relative_files(root, set(exclude))
    return {f"{prefix}{rel}": sha256_file(root / rel) for rel in names}


def build_key(inputs: Mapping[str, str]) -> str:
    """One sha256 over labelled input digests (``{"notebook:01_x.ipynb": "ab12…", …}``), order-independent."""
    digest = hashlib.sha256()
    for label in sorted(inputs):
        digest.update(f"{label}\0{inputs[label]}\n".encode())
    return digest.hexdigest()


def changed_inputs(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Labels added, removed or changed between two sets of build inputs (to say why a rebuild happens)."""
    return sorted(label for label in set(old) | set(new) if old.get(label) != new.get(label))


def output_checksums(folder: Path | str) -> dict[str, str]:
    """sha256 of every file of an edition folder except the manifest itself, by relative path (sorted)."""
    return tree_digests(folder, "", exclude=(MANIFEST_NAME,))


def verify_outputs(folder: Path | str, manifest: Mapping[str, Any]) -> list[str]:
    """Compare an edition folder with its manifest.

    Returns
    -------
    list of str
        Problems (``"missing: letter.pdf"``, ``"changed: index.html"``, ``"unexpected: x.txt"``); empty when the
        folder holds exactly the files the manifest lists, byte for byte.
    """
    folder = Path(folder)
    expected = dict(manifest.get("outputs") or {})
    actual = output_checksums(folder)
    problems = [f"missing: {name}" for name in sorted(set(expected) - set(actual))]
    problems += [
        f"changed: {name}" for name in sorted(set(expected) & set(actual)) if expected[name] != actual[name]
    ]
    problems += [f"unexpected: {name}" for name in sorted(set(actual) - set(expected))]
    return problems


def pinned_packages(lockfile: Path | str = LOCKFILE) -> list[str]:
    """Package names pinned in ``requirements.lock.txt`` (``name==version`` lines), in file order."""
    names = []
    for line in Path(lockfile).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==", line)
        if match:
            names.append(match.group(1))
    return names


def package_versions(names: Iterable[str] | None = None) -> dict[str, str | None]:
    """Installed version of each pinned package (None when not installed), plus ``observatoire`` itself."""
    versions: dict[str, str | None] = {}
    for name in list(names if names is not None else pinned_packages()) + ["observatoire"]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def version_mismatches(lockfile: Path | str = LOCKFILE) -> list[str]:
    """Packages whose installed version differs from the lockfile (``"pandas 3.0.0 (pinned 3.1.1)"``)."""
    problems = []
    for line in Path(lockfile).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if not match:
            continue
        name, pinned = match.groups()
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            problems.append(f"{name} {installed} (pinned {pinned})")
    return problems


def built_at(epoch: int | None = None) -> str:
    """UTC build time, ISO 8601: ``SOURCE_DATE_EPOCH`` (or ``epoch``) when set, else the clock."""
    if epoch is None:
        value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        epoch = int(value) if value.isdigit() else None
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def make_manifest(
    *,
    theme: str,
    title: str,
    year: int,
    parameters: Mapping[str, Any],
    key: str,
    key_inputs: Mapping[str, str],
    inputs: Iterable[Mapping[str, str]],
    renderer: str,
    renderer_version: str,
    letter: Mapping[str, str],
    outputs: Mapping[str, str],
    replaced: Mapping[str, Any] | None = None,
    variant: str | None = None,
    epoch: int | None = None,
    lang: str = "fr",
    cited_rows: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Assemble the manifest of one edition (see the module docstring for why each field is there).

    Parameters
    ----------
    theme, title : str
        Theme id and French title.
    year : int
    parameters : Mapping
        The notebooks' parameters (without the machine-specific ``output_dir``).
    key : str
        The build key.
    key_inputs : Mapping
        The labelled digests the key was computed from (they say why the next build is not a cache hit).
    inputs : iterable of Mapping
        ``{"source_id", "file", "edition", "sha256"}`` per raw file.
    renderer, renderer_version : str
        ``"quarto"`` and its version (with the pandoc and typst it drives).
    letter : Mapping
        Relative paths of the letter's files: ``{"html": "index.html", "pdf": "lettre.pdf"}``.
    outputs : Mapping
        sha256 by relative path of every file of the edition but the manifest.
    replaced : Mapping, optional
        For a forced rebuild: build key, built_at and output checksums of the edition it replaced.
    variant : str, optional
        Name of a parameter variant (``"ssmsi_source-ssmsi_dep_2023"``), None for the standard edition.
    epoch : int, optional
        Fixed build time (default: ``SOURCE_DATE_EPOCH`` or the clock).
    lang : str, default "fr"
        The letter's language.
    cited_rows : iterable of Mapping, optional
        The rows of the national series the edition cites, with their provenance (row id, producer, document,
        period as stated, page read and its kind; ``analysis.indicators.published.cited_rows``).
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "theme": theme,
        "title": title,
        "year": int(year),
        "variant": variant,
        "lang": lang,
        "parameters": dict(sorted(parameters.items())),
        "build_key": key,
        "build_inputs": dict(sorted(key_inputs.items())),
        "inputs": sorted((dict(item) for item in inputs), key=lambda item: item["source_id"]),
        "packages": package_versions(),
        "python": ".".join(map(str, sys.version_info[:3])),
        "renderer": {"name": renderer, "version": renderer_version},
        "letter": dict(letter),
        "outputs": dict(sorted(outputs.items())),
        "built_at": built_at(epoch),
        "replaced": dict(replaced) if replaced else None,
        "cited_rows": [dict(row) for row in cited_rows],
    }


def dumps(manifest: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, indent 2, UTF-8 characters kept, final newline."""
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_manifest(folder: Path | str, manifest: Mapping[str, Any]) -> Path:
    """Write ``folder/manifest.json``; return its path."""
    path = Path(folder) / MANIFEST_NAME
    path.write_text(dumps(manifest), encoding="utf-8")
    return path


def read_manifest(folder: Path | str) -> dict[str, Any] | None:
    """The manifest of an edition folder, or None when there is none (or it is unreadable)."""
    path = Path(folder) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
