"""The bad-input corpus: what every case checks besides its message, and how many cases there are.

A case is one fault (a malformed file in ``tests/data/bad/``, a catalogue entry, a command line, a registration,
a configuration file, a scripted fault such as a full disk) and asserts the exact one-line message it gives.
:func:`unchanged` is the other half of every case: ``_site/`` and ``data/`` are as they were before it.
The case tables live in the test modules; :data:`TABLES` names them and ``tests/test_bad_input.py`` counts them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from observatoire.core import paths
from observatoire.data import catalogue

#: (test module, name of its case table): every table of the corpus (tests/test_bad_input.py counts them).
TABLES = (
    ("test_bad_input", "CASES"),
    ("test_bad_input", "INSEE_CASES"),
    ("test_bad_input", "SCHEMA_CASES"),
    ("test_catalogue_hardening", "CATALOGUE_CASES"),
    ("test_catalogue_hardening", "REGISTER_CASES"),
    ("test_faults", "CLI_CASES"),
    ("test_faults", "SCRIPTED_CASES"),
    ("test_faults", "CONFIG_CASES"),
    ("test_catalogue_hardening", "YAML_CASES"),
)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time (none when it does not exist)."""
    if not folder.exists():
        return {}
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def _raw_names() -> set[str]:
    """The names in ``data/raw/`` a fault could have written: not the catalogued files and not the hidden
    temporary copies a parallel worker's fetch (the ``raw_data`` fixture) may be writing meanwhile."""
    catalogued = {
        source.file for source in catalogue.load_catalogue(paths.ROOT / "data" / "sources.yml").values()
    }
    raw = paths.ROOT / "data" / "raw"
    if not raw.exists():
        return set()
    return {
        p.name
        for p in raw.iterdir()
        if p.name not in catalogued
        and not (p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.startswith(".fetch-")))
    }


def state() -> tuple:
    """``_site/`` (every file, size and time), ``data/sources.yml`` (its bytes), ``data/curated/`` and the names
    in ``data/raw/`` of the repository. ``build/`` is left out: other tests, run in parallel, write there."""
    sources = paths.ROOT / "data" / "sources.yml"
    return (
        _files(paths.ROOT / "_site"),
        hashlib.sha256(sources.read_bytes()).hexdigest() if sources.exists() else None,
        _files(paths.ROOT / "data" / "curated"),
        _raw_names(),
    )


@contextlib.contextmanager
def unchanged() -> Iterator[None]:
    """Assert that ``_site/`` and ``data/`` are the same after the block as before it."""
    before = state()
    yield
    assert state() == before, "a bad input changed _site/ or data/"
