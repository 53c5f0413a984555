"""Loaders: one module per source, each returning the harmonised long table (docs/ARCHITECTURE.md).

Why one module per source: each producer has its own layout and traps, and a reader checking a figure should
find, in one file, every rule applied to that producer's data. They share the strict reading helpers and the
pandera schema of :mod:`observatoire.data.loaders.schema`.

Every loader module has ``load(path, source_id, edition) -> DataFrame`` and raises only
:class:`~observatoire.core.errors.InputError` for bad input. The catalogue's ``loader`` field names the module;
:func:`get_loader` returns its ``load`` function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from observatoire.data.loaders import (
    boundaries,
    geography_reference,
    insee_population,
    national_series,
    ssmsi_departement,
    ssmsi_region,
)

#: Loader modules by the name ``data/sources.yml`` uses in its ``loader`` field (imported here, not by name at
#: run time, so that the import graph shows them).
_MODULES = {
    "ssmsi_departement": ssmsi_departement,
    "ssmsi_region": ssmsi_region,
    "insee_population": insee_population,
    "geography_reference": geography_reference,
    "national_series": national_series,
    "boundaries": boundaries,
}
LOADER_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_loader(name: str) -> Callable[[Path, str, str], pd.DataFrame]:
    """Return the ``load`` function of a loader module.

    Parameters
    ----------
    name : str
        One of :data:`LOADER_NAMES`.

    Raises
    ------
    KeyError
        For an unknown loader name (a catalogue error, not a data error).
    """
    if name not in LOADER_NAMES:
        raise KeyError(f"unknown loader '{name}'; known: {', '.join(LOADER_NAMES)}")
    return _MODULES[name].load
