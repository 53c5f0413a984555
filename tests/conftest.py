"""Shared fixtures.

``raw_data`` fills ``data/raw/`` once per test session (copied from the mirror, checksums verified) and returns
that folder; tests that read the real files depend on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from observatoire.core import paths
from observatoire.data import catalogue


@pytest.fixture(scope="session")
def raw_data() -> Path:
    """Fetch every raw file of the catalogue once; return ``data/raw/``."""
    catalogue.fetch(quiet=True)
    return paths.RAW


# Fixture notebooks (one fails on purpose) and test artefacts are data, not tests for nbval to collect.
collect_ignore_glob = ["data/*", "artifacts/*"]
