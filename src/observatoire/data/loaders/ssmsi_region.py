"""SSMSI's regional base of recorded crime (edition 2024, 2025-03-14 release).

Why a loader of its own: the regional file is the producer's own aggregation of the départemental base. The
letters use it as an independent check (département sums must equal it for the violence indicators, see
``tests/test_crosschecks.py``) and for regional figures. It has the edition-2024 layout without the département
column; the reading rules are those of :mod:`observatoire.data.loaders.ssmsi_departement`, with région codes
(``"01"`` … ``"94"``, the 18 régions of COG 2024) instead of département codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from observatoire.data.loaders.ssmsi_departement import LAYOUTS as _DEP_LAYOUTS
from observatoire.data.loaders.ssmsi_departement import Layout, read_ssmsi

#: Known layouts: edition 2024 (quoted, decimal comma) and its 2025-geography twin (decimal point).
LAYOUTS: Mapping[str, Layout] = {
    "region-2024": replace(
        _DEP_LAYOUTS["edition-2024"],
        name="region-2024",
        columns=tuple(c for c in _DEP_LAYOUTS["edition-2024"].columns if c != "Code_departement"),
        geo="Code_region",
        region=None,
    ),
    "region-geo2025": replace(
        _DEP_LAYOUTS["geo2025"],
        name="region-geo2025",
        columns=tuple(c for c in _DEP_LAYOUTS["geo2025"].columns if c != "code_departement"),
        geo="code_region",
        region=None,
    ),
}


def load(path: str | Path, source_id: str, edition: str) -> pd.DataFrame:
    """Load a regional SSMSI file as the harmonised long table.

    Parameters
    ----------
    path : str or Path
        The raw file.
    source_id, edition : str
        Its id in ``data/sources.yml`` and its edition.

    Returns
    -------
    pandas.DataFrame
        Harmonised columns with ``geo_level`` "region", then ``population``, ``published_rate`` and
        ``population_vintage`` as in the départemental loader.

    Raises
    ------
    InputError
        When the file breaks a rule (unknown région code, unknown indicator, bad number, ...).
    """
    return read_ssmsi(path, source_id, edition, LAYOUTS, "region")[0]
