"""The département and région reference table (COG 2024): names, régions, metropolitan or overseas.

Why a loader: charts and tables name départements and régions, and région sums need each département's région.
The reference must be complete (all 101 départements, 18 régions) and agree with
:mod:`observatoire.data.geography`'s list of codes; a gap here would silently drop a département from a map or a
regional sum, so it is an error.

This is the one source that is not a statistical table: :func:`load` returns the reference itself (columns
``code_departement, nom_departement, code_region, nom_region, is_overseas``), not the harmonised long table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from observatoire.core.errors import InputError
from observatoire.data import geography
from observatoire.data.loaders import schema

COLUMNS: tuple[str, ...] = ("code_departement", "nom_departement", "code_region", "nom_region")

REFERENCE = pa.DataFrameSchema(
    {
        "code_departement": pa.Column(str, pa.Check.isin(geography.DEPARTEMENTS), unique=True),
        "nom_departement": pa.Column(str, pa.Check.str_length(min_value=1)),
        "code_region": pa.Column(str, pa.Check.isin(geography.REGIONS)),
        "nom_region": pa.Column(str, pa.Check.str_length(min_value=1)),
        "is_overseas": pa.Column(bool),
    },
    strict=True,
    ordered=True,
    name="département reference",
)


def load(path: str | Path, source_id: str = "geo_reference", edition: str = "") -> pd.DataFrame:
    """Load the reference table.

    Parameters
    ----------
    path : str or Path
        ``departements_regions_ref.csv`` (comma-separated, UTF-8).
    source_id, edition : str
        Accepted for the loader interface; the reference carries no such columns.

    Returns
    -------
    pandas.DataFrame
        One row per département, in file order: ``code_departement`` (canonical), ``nom_departement``,
        ``code_region``, ``nom_region``, ``is_overseas``.

    Raises
    ------
    InputError
        Bad bytes, separator or header; an unknown or repeated code; a département missing; a région with two
        names.
    """
    path = Path(path)
    _, raw = schema.read_delimited(path, ",", {"reference": COLUMNS})
    codes = geography.normalise_departements(raw["code_departement"], path, raw.index, "code_departement")
    regions = geography.normalise_regions(raw["code_region"], path, raw.index, "code_region")
    table = pd.DataFrame(
        {
            "code_departement": codes.to_numpy(),
            "nom_departement": raw["nom_departement"].str.strip().to_numpy(),
            "code_region": regions.to_numpy(),
            "nom_region": raw["nom_region"].str.strip().to_numpy(),
        },
        index=raw.index,
    )
    schema.check_unique(table, ["code_departement"], path)
    # The reference and the package's table of régions (which every other loader checks against) must agree.
    geography.check_regions(
        table["code_departement"],
        table["code_region"],
        path,
        "code_region",
        "the COG 2024 (geography.REGION_OF)",
    )
    for column in ("nom_departement", "nom_region"):
        empty = table[column] == ""
        if empty.any():
            line = table.index[empty.to_numpy()][0]
            raise InputError(path, schema.place(line, column), f"empty value: every {column} must be given")
    names = table.groupby("code_region")["nom_region"].nunique()
    if (names > 1).any():
        region = names[names > 1].index[0]
        raise InputError(path, "column 'nom_region'", f"région {region} has more than one name")
    missing = [c for c in geography.DEPARTEMENTS if c not in set(table["code_departement"])]
    if missing:
        raise InputError(
            path, "whole file", f"incomplete reference: département(s) {', '.join(missing)} missing"
        )
    table["is_overseas"] = table["code_departement"].isin(geography.OVERSEAS)
    for column in COLUMNS:
        table[column] = table[column].astype("str")
    table = schema.validate(table, REFERENCE, path)
    return table.reset_index(drop=True)
