"""SSMSI's départemental base of recorded crime (police and gendarmerie), in any of its three layouts.

Why a loader of its own: the same dataset comes in three layouts, and the letters must never mix them up.

- ``edition-2024`` (2025-01-26 release): ``Code_departement;Code_region;annee;indicateur;unite_de_compte;
  nombre;taux_pour_mille;insee_pop;…``, every field quoted, decimal comma, 4-digit years.
- ``legacy-2023`` (edition 2023): ``classe;annee;Code.département;…;faits;POP;LOG;tauxpourmille``, 2-digit years
  (``"16"`` is 2016), lower-case units (``victime``), decimal comma, scientific notation for rates, and rows whose
  département is ``NA`` (facts SSMSI could not place in a département).
- ``geo2025`` (June 2025 re-release of edition 2024 in 2025 geography): lower-case column names, the new
  indicator nomenclature, unquoted fields, decimal point, unpadded codes (``"1"``).

The layout is detected from the header, never from the file name. Indicator names are kept exactly as published:
"Violences physiques intrafamiliales" (2025 nomenclature) is broader than "Coups et blessures volontaires
intrafamiliaux" and stays a different indicator. The legacy layout's ``classe`` names are the very strings of
edition 2024 (checked: its 16 classes are 16 of edition 2024's 17 indicators), so they are kept as they are; only
its units are capitalised (``victime`` -> ``Victime``). Editions are never merged: each row carries its
``source_id`` and ``edition``.

Un-localised rows (legacy layout, département ``NA``): they are not in any département, so they are left out of
the départemental table, but they are counted in France's totals. :func:`unlocalised` returns them and
:func:`national_totals` adds them (edition 2023 has 128 such rows, all 0 but one: one victim of sexual violence
in 2023).

``published_rate`` is SSMSI's rate per 1,000 as printed. It is per 1,000 inhabitants (``count / population``)
for every indicator but "Cambriolages de logement", whose rate is per 1,000 dwellings (SSMSI's ``insee_log``,
which this loader does not carry): do not recompute that one from ``population``.

Validation (each broken rule raises one :class:`~observatoire.core.errors.InputError` naming file, line or column, and
rule): UTF-8 bytes; ``;`` separator; a known header; every line complete; known indicator and its unit; years
2000 to the current year; known département and région codes; counts present, whole and non-negative in every
row; no two rows for one (indicator, year, département, unit); population > 0; each published rate equal to
1,000 x count / population (to SSMSI's 7 decimals; not for "Cambriolages de logement", per dwellings); every
indicator present for every département in every year it covers (a hole means rows removed or a file cut at a
line break). Numbers are plain digits with the layout's decimal mark (the legacy rates alone are written with an
exponent); ``1e3``, ``+5`` or ``1.000`` are refused. Empty values: the published files have none, so
an empty count, rate or population is an error. The only missing values the producer documents are the ``NA``
population, rate and vintage of the legacy layout's un-localised rows; ``NA`` is accepted there and nowhere else.

Speed: the csv module reads the 15,453 rows of edition 2024 in a few tens of milliseconds; numbers are converted
column-wise; the whole load with validation takes about 0.2-0.3 s. The result is cached per file state (path,
size, modification time), so :func:`load` and :func:`unlocalised` parse a file once; both return copies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from observatoire.core.errors import InputError
from observatoire.data import geography
from observatoire.data.loaders import schema

#: "Coups et blessures volontaires intrafamiliaux" (nomenclature until edition 2024; victims).
INTRAFAMILY = "Coups et blessures volontaires intrafamiliaux"
#: "Violences sexuelles" (victims; same name in every nomenclature, but revised between editions).
SEXUAL = "Violences sexuelles"
#: "Violences physiques intrafamiliales" (2025 nomenclature): broader than :data:`INTRAFAMILY`, never comparable.
INTRAFAMILY_2025 = "Violences physiques intrafamiliales"

#: Indicators (and their counting unit) of edition 2024 as published on 2025-01-26. "Usage de stupéfiants (AFD)"
#: appears in the 2025-03-14 release of the same layout (regional file), so it is known too.
INDICATORS_2024: Mapping[str, str] = {
    "Homicides": "Victime",
    "Tentatives d'homicides": "Victime",
    "Coups et blessures volontaires": "Victime",
    INTRAFAMILY: "Victime",
    "Autres coups et blessures volontaires": "Victime",
    SEXUAL: "Victime",
    "Vols avec armes": "Infraction",
    "Vols violents sans arme": "Infraction",
    "Vols sans violence contre des personnes": "Victime entendue",
    "Cambriolages de logement": "Infraction",
    "Vols de véhicules": "Véhicule",
    "Vols dans les véhicules": "Véhicule",
    "Vols d'accessoires sur véhicules": "Véhicule",
    "Destructions et dégradations volontaires": "Infraction",
    "Escroqueries": "Victime",
    "Trafic de stupéfiants": "Mis en cause",
    "Usage de stupéfiants": "Mis en cause",
    "Usage de stupéfiants (AFD)": "Mis en cause",
}
#: The legacy layout's 16 classes: the same strings as edition 2024 (no "Tentatives d'homicides", no AFD).
INDICATORS_LEGACY: Mapping[str, str] = {
    name: unit
    for name, unit in INDICATORS_2024.items()
    if name not in {"Tentatives d'homicides", "Usage de stupéfiants (AFD)"}
}
#: The 2025 nomenclature (18 indicators).
INDICATORS_2025: Mapping[str, str] = {
    "Homicides": "Victime",
    "Tentatives d'homicide": "Victime",
    INTRAFAMILY_2025: "Victime",
    "Violences physiques hors cadre familial": "Victime",
    SEXUAL: "Victime",
    "Vols avec armes": "Infraction",
    "Vols violents sans arme": "Infraction",
    "Vols sans violence contre des personnes": "Victime entendue",
    "Cambriolages de logement": "Infraction",
    "Vols de véhicule": "Véhicule",
    "Vols dans les véhicules": "Véhicule",
    "Vols d'accessoires sur véhicules": "Véhicule",
    "Destructions et dégradations volontaires": "Infraction",
    "Escroqueries et fraudes aux moyens de paiement": "Victime",
    "Trafic de stupéfiants": "Mis en cause",
    "Usage de stupéfiants": "Mis en cause",
    "Usage de stupéfiants (AFD)": "Mis en cause",
    "Usage de stupéfiants (hors AFD)": "Mis en cause",
}
_UNITS = ("Victime", "Victime entendue", "Infraction", "Véhicule", "Mis en cause")
_LEGACY_UNITS = {
    "victime": "Victime",
    "victime entendue": "Victime entendue",
    "infraction": "Infraction",
    "véhicule": "Véhicule",
    "Mis en cause": "Mis en cause",
}

#: Extra columns after the harmonised ones.
EXTRA_COLUMNS: tuple[str, ...] = ("population", "published_rate", "population_vintage")


@dataclass(frozen=True)
class Layout:
    """One SSMSI file layout: its columns and how to read them."""

    name: str
    columns: tuple[str, ...]
    geo: str
    region: str | None
    year: str
    indicator: str
    unit: str
    count: str
    rate: str
    population: str
    vintage: str
    decimal: str
    year_digits: int
    indicators: Mapping[str, str]
    units: Mapping[str, str] = field(default_factory=lambda: {u: u for u in _UNITS})
    missing: str | None = None  # the token for a documented missing value (legacy: "NA")
    exponent_rates: bool = False  # rates in scientific notation (legacy: "7,83e-03")


_COLUMNS_2024 = (
    "Code_departement",
    "Code_region",
    "annee",
    "indicateur",
    "unite_de_compte",
    "nombre",
    "taux_pour_mille",
    "insee_pop",
    "insee_pop_millesime",
    "insee_log",
    "insee_log_millesime",
)

LAYOUTS: Mapping[str, Layout] = {
    "edition-2024": Layout(
        name="edition-2024",
        columns=_COLUMNS_2024,
        geo="Code_departement",
        region="Code_region",
        year="annee",
        indicator="indicateur",
        unit="unite_de_compte",
        count="nombre",
        rate="taux_pour_mille",
        population="insee_pop",
        vintage="insee_pop_millesime",
        decimal=",",
        year_digits=4,
        indicators=INDICATORS_2024,
    ),
    "legacy-2023": Layout(
        name="legacy-2023",
        columns=(
            "classe",
            "annee",
            "Code.département",
            "Code.région",
            "unité.de.compte",
            "millPOP",
            "millLOG",
            "faits",
            "POP",
            "LOG",
            "tauxpourmille",
        ),
        geo="Code.département",
        region="Code.région",
        year="annee",
        indicator="classe",
        unit="unité.de.compte",
        count="faits",
        rate="tauxpourmille",
        population="POP",
        vintage="millPOP",
        decimal=",",
        year_digits=2,
        indicators=INDICATORS_LEGACY,
        units=_LEGACY_UNITS,
        missing="NA",
        exponent_rates=True,
    ),
    "geo2025": Layout(
        name="geo2025",
        columns=tuple(c.lower() for c in _COLUMNS_2024),
        geo="code_departement",
        region="code_region",
        year="annee",
        indicator="indicateur",
        unit="unite_de_compte",
        count="nombre",
        rate="taux_pour_mille",
        population="insee_pop",
        vintage="insee_pop_millesime",
        decimal=".",
        year_digits=4,
        indicators=INDICATORS_2025,
    ),
}

SSMSI_SCHEMA = schema.HARMONISED.add_columns(
    {
        "population": pa.Column(float, pa.Check.ge(0), nullable=True),
        "published_rate": pa.Column(float, pa.Check.ge(0), nullable=True),
        "population_vintage": pa.Column("Int64", nullable=True),
    }
)
_UNLOCALISED_COLUMNS = ("indicator", "year", "unit", "value", "source_id", "edition")


def read_ssmsi(
    path: str | Path,
    source_id: str,
    edition: str,
    layouts: Mapping[str, Layout],
    geo_level: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one SSMSI file (départemental or regional) strictly.

    Parameters
    ----------
    path : str or Path
        The raw file.
    source_id, edition : str
        Recorded on every row.
    layouts : mapping of str to Layout
        The layouts this file may have; the header decides.
    geo_level : str
        ``"departement"`` or ``"region"``.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The harmonised table (validated), and the un-localised rows (columns ``indicator, year, unit, value,
        source_id, edition``; empty unless the layout has them).

    Raises
    ------
    InputError
        On the first broken rule (see the module docstring).
    """
    path = Path(path)
    name, raw = schema.read_delimited(path, ";", {k: v.columns for k, v in layouts.items()})
    layout = layouts[name]

    # Indicators and units: known names only, and each indicator in its own unit.
    schema.check_known(raw[layout.indicator], layout.indicators, path, layout.indicator, "indicator")
    schema.check_known(raw[layout.unit], layout.units, path, layout.unit, "unit")
    units = raw[layout.unit].map(layout.units)
    expected = raw[layout.indicator].map(layout.indicators)
    wrong = units != expected
    if wrong.any():
        line = wrong.index[int(np.flatnonzero(wrong.to_numpy())[0])]
        raise InputError(
            path,
            schema.place(line, layout.unit),
            f"unit {raw.at[line, layout.unit]!r} is not the unit of indicator "
            f"{raw.at[line, layout.indicator]!r} (expected {expected.loc[line]!r})",
        )

    years = schema.parse_years(raw[layout.year], path, layout.year, digits=layout.year_digits, minimum=2000)

    # Geography: un-localised rows (legacy "NA") are set apart; every other code must be known.
    if layout.missing is not None:
        unlocalised = (raw[layout.geo].str.strip() == layout.missing).to_numpy()
    else:
        unlocalised = np.zeros(len(raw), dtype=bool)
    localised = ~unlocalised
    normalise = (
        geography.normalise_departements if geo_level == "departement" else geography.normalise_regions
    )
    codes = pd.Series("", index=raw.index, dtype=object)
    codes[localised] = normalise(
        raw.loc[localised, layout.geo], path, raw.index[localised], layout.geo
    ).to_numpy()
    if layout.region is not None:
        regions = geography.normalise_regions(
            raw.loc[localised, layout.region], path, raw.index[localised], layout.region
        )
        if geo_level == "departement":  # each département in its own région
            regions.index = raw.index[localised]
            geography.check_regions(codes[localised], regions, path, layout.region)

    missing_ok = pd.Series(unlocalised, index=raw.index)
    tokens = (layout.missing,) if layout.missing else ()
    counts = schema.parse_numbers(
        raw[layout.count], path, layout.count, decimal=layout.decimal, integer=True, minimum=0, what="count"
    )
    rates = schema.parse_numbers(
        raw[layout.rate],
        path,
        layout.rate,
        decimal=layout.decimal,
        minimum=0,
        allow_missing=missing_ok,
        missing_tokens=tokens,
        what="rate",
        exponent=layout.exponent_rates,
    )
    population = schema.parse_numbers(
        raw[layout.population],
        path,
        layout.population,
        decimal=layout.decimal,
        integer=True,
        minimum=0,
        allow_missing=missing_ok,
        missing_tokens=tokens,
        what="population",
    )
    vintage = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    if localised.any():
        vintage[localised] = schema.parse_years(
            raw.loc[localised, layout.vintage],
            path,
            layout.vintage,
            digits=layout.year_digits,
            minimum=1975,
        ).to_numpy()

    table = pd.DataFrame(
        {
            "indicator": raw[layout.indicator],
            "year": years,
            "geo_level": geo_level,
            "geo_code": codes,
            "sex": "total",
            "age_group": "all",
            "value": counts,
            "unit": units,
            "source_id": source_id,
            "edition": edition,
            "population": population,
            "published_rate": rates,
            "population_vintage": vintage,
        },
        index=raw.index,
    )
    table.loc[unlocalised, "geo_code"] = layout.missing or ""
    names = {
        "indicator": layout.indicator,
        "year": layout.year,
        "geo_code": layout.geo,
        "unit": layout.unit,
        "value": layout.count,
        "population": layout.population,
        "published_rate": layout.rate,
        "population_vintage": layout.vintage,
    }
    schema.check_unique(table, ("indicator", "year", "geo_code", "unit"), path, names)
    _check_population_and_rates(raw, layout, path, counts, rates, population)
    _check_complete_grid(table[localised], path, layout, geo_level)

    located = schema.deliver(table[localised], path, extra=EXTRA_COLUMNS, schema=SSMSI_SCHEMA, names=names)
    apart = table.loc[unlocalised, list(_UNLOCALISED_COLUMNS)].reset_index(drop=True)
    apart["year"] = apart["year"].astype("int64")
    for column in ("indicator", "unit", "source_id", "edition"):
        apart[column] = apart[column].astype("str")
    return located, apart


#: Indicators whose published rate is not per 1,000 inhabitants (per 1,000 dwellings: ``insee_log``).
RATE_NOT_PER_INHABITANT: tuple[str, ...] = ("Cambriolages de logement",)
#: Largest gap allowed between a published rate and 1,000 x count / population: SSMSI prints rates rounded to
#: 7 decimals (measured gap at most 5e-8 in every edition), so anything above 1e-6 is another number.
RATE_TOLERANCE = 1e-6


def _check_population_and_rates(
    raw: pd.DataFrame,
    layout: Layout,
    path: Path,
    counts: pd.Series,
    rates: pd.Series,
    population: pd.Series,
) -> None:
    """Population > 0 wherever it is given; each published rate equal to 1,000 x count / population.

    Raises
    ------
    InputError
        ``"line N, column 'insee_pop'"`` for a population of 0; ``"line N, column 'taux_pour_mille'"`` for a rate
        that does not follow from the row's count and population.
    """
    zero = population.eq(0) & population.notna()
    schema.check_rows(zero, path, layout.population, "population 0: a population must be > 0")
    per_inhabitant = ~raw[layout.indicator].isin(RATE_NOT_PER_INHABITANT)
    expected = counts / population * 1000.0
    gap = (rates - expected).abs()
    wrong = per_inhabitant & rates.notna() & population.notna() & (gap > RATE_TOLERANCE * (1.0 + expected))
    schema.check_rows(
        wrong,
        path,
        layout.rate,
        lambda line: (
            f"rate {raw.at[line, layout.rate]!r} does not match count {raw.at[line, layout.count]!r} and "
            f"population {raw.at[line, layout.population]!r} (1,000 x count / population = "
            f"{expected.loc[line]:.7f})"
        ),
    )


def _check_complete_grid(table: pd.DataFrame, path: Path, layout: Layout, geo_level: str) -> None:
    """Every indicator has a row for every geographic unit in every year it covers.

    Why: a file cut exactly at a line break, or with a département's rows removed for some indicators, passes
    every per-row rule; the hole in the grid is what gives it away.

    Raises
    ------
    InputError
        ``whole file``, naming the indicator, the year and the missing codes.
    """
    if table.empty:
        return
    units = sorted(pd.unique(table["geo_code"]))
    counts = table.groupby(["indicator", "year"], sort=True, observed=True)["geo_code"].nunique()
    short = counts[counts < len(units)]
    if short.empty:
        return
    indicator, year = short.index[0]
    present = set(table.loc[(table["indicator"] == indicator) & (table["year"] == year), "geo_code"])
    missing = [u for u in units if u not in present]
    what = "département" if geo_level == "departement" else "région"
    shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
    raise InputError(
        path,
        "whole file",
        f"incomplete table: indicator {indicator!r} has no row for {what}(s) {shown} in {year} "
        f"({len(present)} of {len(units)}): rows removed, or a file cut short",
    )


@functools.lru_cache(maxsize=16)
def _read_cached(
    path_text: str, size: int, mtime_ns: int, source_id: str, edition: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_ssmsi(Path(path_text), source_id, edition, LAYOUTS, "departement")


def _read(path: str | Path, source_id: str, edition: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read once per (file state, source id, edition); :func:`load` and :func:`unlocalised` share the parse."""
    path = Path(path)
    try:
        stat = path.resolve().stat()
    except OSError:
        return read_ssmsi(path, source_id, edition, LAYOUTS, "departement")  # raises the InputError
    return _read_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns, source_id, edition)


def load(path: str | Path, source_id: str, edition: str) -> pd.DataFrame:
    """Load a départemental SSMSI file as the harmonised long table.

    Parameters
    ----------
    path : str or Path
        The raw file, in any of the three layouts (detected from its header).
    source_id : str
        Its id in ``data/sources.yml``.
    edition : str
        Its edition (``"2024"``, ``"2023"``, ``"2024-geo2025"``).

    Returns
    -------
    pandas.DataFrame
        Harmonised columns (``geo_level`` "departement", ``sex`` "total", ``age_group`` "all", ``value`` the count
        in ``unit``), then ``population`` (INSEE population used by SSMSI), ``published_rate`` (per 1,000, as
        published) and ``population_vintage`` (the census year of that population). Un-localised rows are not in
        it: see :func:`unlocalised`.

    Raises
    ------
    InputError
        When the file breaks a rule (see the module docstring).
    """
    return _read(path, source_id, edition)[0].copy()


def unlocalised(path: str | Path, source_id: str, edition: str) -> pd.DataFrame:
    """Return the rows SSMSI could not place in a département (legacy layout, département ``NA``).

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator, year, unit, value, source_id, edition``; empty for layouts without such rows.
    """
    return _read(path, source_id, edition)[1].copy()


def national_totals(table: pd.DataFrame, unlocalised: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sum a départemental table to France, adding the un-localised rows when given.

    Parameters
    ----------
    table : pandas.DataFrame
        A table returned by :func:`load` (one or several editions: they are summed separately).
    unlocalised : pandas.DataFrame, optional
        The rows returned by :func:`unlocalised` for the same file(s).

    Returns
    -------
    pandas.DataFrame
        Harmonised rows with ``geo_level`` "france", ``geo_code`` "FR"; ``population`` is the sum of the
        départements' populations, ``published_rate`` and ``population_vintage`` are missing (SSMSI publishes no
        national row in this file).
    """
    key = ["indicator", "year", "unit", "source_id", "edition"]
    grouped = table.groupby(key, sort=True, observed=True)
    sums = pd.DataFrame(
        {"value": grouped["value"].sum(), "population": grouped["population"].sum(min_count=1)}
    )
    if unlocalised is not None and len(unlocalised):
        extra = unlocalised.groupby(key, observed=True)["value"].sum()
        sums["value"] = sums["value"].add(extra.reindex(sums.index), fill_value=0.0)
    out = sums.reset_index()
    out["geo_level"] = "france"
    out["geo_code"] = "FR"
    out["sex"] = "total"
    out["age_group"] = "all"
    out["published_rate"] = np.nan
    out["population_vintage"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return schema.deliver(
        out, "<national totals>", extra=EXTRA_COLUMNS, schema=SSMSI_SCHEMA, index_is_line=False
    )


def known_indicators(layout: str) -> Sequence[str]:
    """Return the indicator names a layout may contain (``"edition-2024"``, ``"legacy-2023"``, ``"geo2025"``)."""
    return tuple(LAYOUTS[layout].indicators)
