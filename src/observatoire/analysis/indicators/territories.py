"""Territorial comparisons of recorded violence: rates, funnel plots, trends, the overseas départements.

Used by the thematic letters ``violences_sexuelles`` (101 départements) and ``outre_mer`` (the five overseas
départements against metropolitan France). Inputs are harmonised long tables (docs/ARCHITECTURE.md): the SSMSI
départemental base for counts and the INSEE population estimates for denominators.

Choices, and why:

* **Denominator.** Rates use the INSEE estimates of the population on 1 January of the same year
  (``insee_pop_gca``), not the ``insee_pop`` column of the SSMSI file: the latter is a census population that
  stops at millésime 2022 (2023 and 2024 reuse it) and, for Mayotte, is the same figure (256 518) for every year,
  while INSEE's estimate goes from about 241 000 to 321 000 over 2016-2024. :func:`denominator_gap` measures the
  gap so the letter can state it.
* **Intervals.** A rate gets the exact Poisson interval of its count, the population being taken as known
  (``observatoire.analysis.statistics.add_rates``).
* **Funnel plot.** Whether a département's rate is "unusual" depends on its size: a small département varies
  more by chance. :func:`funnel_limits` gives the exact Poisson control limits around the national rate for
  any population (Spiegelhalter 2005, interpolated quantiles). Administrative counts vary more than Poisson
  between areas (recording practices, services, population structure): :func:`funnel` widens the limits by the
  between-area variance (``observatoire.analysis.statistics.funnel``: additive random effects on winsorised z-scores,
  with the sensitivity to the winsorising), and :func:`compare_to_reference` judges the overseas départements
  against metropolitan France with the same between-area variance. A point outside the limits is a signal to
  look at, not a ranking.
* **Trends.** Per area, a log-linear model of counts with the population as exposure
  (``observatoire.analysis.statistics.trend``): quasi-Poisson when the series is over-dispersed, Poisson otherwise.

Missing is missing: an area-year without a count or a population is dropped from a rate and reported, never
filled from another year. Mayotte has INSEE estimates only from 2014.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from observatoire.analysis.method import constants
from observatoire.analysis.statistics import (
    add_series_rates,
    funnel_limits,
    funnel_sensitivity,
    poisson_change_test,
    rank_rates,
    rate_per,
    trend_of,
)
from observatoire.analysis.statistics import funnel as adjusted_funnel
from observatoire.core.formatting import format_interval
from observatoire.data.catalogue import load_catalogue
from observatoire.data.geography import METROPOLITAN, OVERSEAS

__all__ = [
    "AGE_GROUPS",
    "AREA_NAMES",
    "FRANCE",
    "MAYOTTE",
    "MAYOTTE_FIRST_YEAR",
    "METRO",
    "OVERSEAS_NAMES",
    "OVERSEAS_SLUGS",
    "FunnelResult",
    "age_structure_long",
    "aggregate_areas",
    "catalogue_edition",
    "check_year",
    "compare_to_reference",
    "counts_by_departement",
    "denominator_gap",
    "edition_of",
    "extremes",
    "funnel",
    "funnel_curve",
    "funnel_limits",
    "label_with_code",
    "panel",
    "population_by_departement",
    "population_choice",
    "ssmsi_population_by_departement",
    "ratio_long",
    "result_curve",
    "source_values",
    "trend_table",
    "trends",
    "women_age_structure",
]

#: Code of the aggregate "France métropolitaine" (96 départements) in the tables of this module.
METRO = "FRM"
#: Code of the aggregate "France" (metropolitan France and the five overseas départements).
FRANCE = "FR"
MAYOTTE = "976"
#: First year of INSEE's population estimates for Mayotte (a département since 2011).
MAYOTTE_FIRST_YEAR = 2014

OVERSEAS_NAMES: dict[str, str] = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
#: Short ascii names used in fact keys (``om_..._guadeloupe``).
OVERSEAS_SLUGS: dict[str, str] = {
    "971": "guadeloupe",
    "972": "martinique",
    "973": "guyane",
    "974": "reunion",
    "976": "mayotte",
}
AREA_NAMES: dict[str, str] = {**OVERSEAS_NAMES, METRO: "France métropolitaine", FRANCE: "France entière"}
#: The five broad age groups of INSEE's gca file, in order.
AGE_GROUPS = ("0-19", "20-39", "40-59", "60-74", "75+")


# Counts and populations ---------------------------------------------------------------------------------------


def counts_by_departement(
    ssmsi: pd.DataFrame, indicator: str, first_year: int | None = None, last_year: int | None = None
) -> pd.DataFrame:
    """Counts of one SSMSI indicator by département and year.

    Parameters
    ----------
    ssmsi : DataFrame
        Harmonised SSMSI départemental base (``observatoire.data.datasets.ssmsi_departement``).
    indicator : str
        The indicator, exactly as published (``"Violences sexuelles"``).
    first_year, last_year : int, optional
        Years kept (both included).

    Returns
    -------
    DataFrame
        Columns ``geo_code, year, count`` (one row per département and year), sorted.

    Raises
    ------
    LookupError
        When the indicator is not in this edition (say, "Coups et blessures volontaires intrafamiliaux" in the
        2025 nomenclature): a different indicator is never substituted.
    """
    rows = ssmsi[(ssmsi["indicator"] == indicator) & (ssmsi["geo_level"] == "departement")]
    if rows.empty:
        editions = ", ".join(sorted(map(str, ssmsi["edition"].unique()))) if "edition" in ssmsi else "?"
        raise LookupError(f"indicator {indicator!r} is not in this SSMSI edition ({editions})")
    if "sex" in rows:
        rows = rows[rows["sex"].isin(["total"])] if (rows["sex"] == "total").any() else rows
    out = rows[["geo_code", "year", "value"]].rename(columns={"value": "count"}).copy()
    out["year"] = out["year"].astype(int)
    if first_year is not None:
        out = out[out["year"] >= int(first_year)]
    if last_year is not None:
        out = out[out["year"] <= int(last_year)]
    out = out.groupby(["geo_code", "year"], as_index=False)["count"].sum(min_count=1)
    return out.sort_values(["geo_code", "year"], kind="stable").reset_index(drop=True)


def population_by_departement(
    population: pd.DataFrame, sex: str = "total", age_group: str = "all"
) -> pd.DataFrame:
    """INSEE population by département and year for one sex and age group.

    Parameters
    ----------
    population : DataFrame
        Harmonised INSEE estimates (``observatoire.data.datasets.population("insee_pop_gca")``).
    sex : {"total", "female", "male"}
    age_group : str
        ``"all"`` or one of the file's groups (``"0-19"`` ...). When the table has no ``"all"`` rows the age
        groups are summed.

    Returns
    -------
    DataFrame
        Columns ``geo_code, year, population``.
    """
    rows = population[(population["geo_level"] == "departement") & (population["sex"] == sex)]
    if age_group == "all" and not (rows["age_group"] == "all").any():
        rows = rows.groupby(["geo_code", "year"], as_index=False)["value"].sum(min_count=1)
    else:
        rows = rows[rows["age_group"] == age_group]
    out = rows[["geo_code", "year", "value"]].rename(columns={"value": "population"}).copy()
    out["year"] = out["year"].astype(int)
    return out.sort_values(["geo_code", "year"], kind="stable").reset_index(drop=True)


def aggregate_areas(df: pd.DataFrame, columns: tuple[str, ...] = ("count", "population")) -> pd.DataFrame:
    """Add the rows of metropolitan France (:data:`METRO`) and of France (:data:`FRANCE`) to a département table.

    An aggregate is the sum over its départements; it is missing for a year where one of them is missing (a
    partial sum would be a different territory). Mayotte before 2014 (no INSEE estimate) thus leaves "France"
    missing for those years, which is correct.

    Parameters
    ----------
    df : DataFrame
        ``geo_code, year`` and the ``columns`` to sum, one row per département and year.

    Returns
    -------
    DataFrame
        The input rows followed by the aggregates, with a column ``area`` (French name) for every row.
    """
    parts = [df]
    for code, members in ((METRO, METROPOLITAN), (FRANCE, METROPOLITAN + OVERSEAS)):
        sub = df[df["geo_code"].isin(members)]
        grouped = sub.groupby("year")
        agg = grouped[list(columns)].sum(min_count=1)
        complete = grouped[list(columns)].count().eq(len(members))
        agg = agg.where(complete)
        agg = agg.reset_index()
        agg.insert(0, "geo_code", code)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["area"] = out["geo_code"].map(AREA_NAMES)
    return out


def denominator_gap(ssmsi: pd.DataFrame, population: pd.DataFrame, indicator: str, code: str) -> pd.DataFrame:
    """Compare the population SSMSI divides by (``insee_pop``) with INSEE's estimate, by year, for one area.

    Returns
    -------
    DataFrame
        Columns ``year, ssmsi_population, insee_population, gap`` (``insee / ssmsi - 1``).
    """
    rows = ssmsi[(ssmsi["indicator"] == indicator) & (ssmsi["geo_code"] == code)]
    if "population" not in rows.columns:
        raise KeyError("the SSMSI table has no 'population' column (the loader's insee_pop)")
    left = rows[["year", "population"]].rename(columns={"population": "ssmsi_population"})
    pop = population_by_departement(population)
    right = pop[pop["geo_code"] == code][["year", "population"]].rename(
        columns={"population": "insee_population"}
    )
    out = left.merge(right, on="year", how="left").sort_values("year").reset_index(drop=True)
    out["year"] = out["year"].astype(int)
    out["gap"] = out["insee_population"] / out["ssmsi_population"] - 1
    return out


# The population a rate divides by ------------------------------------------------------------------------------


def ssmsi_population_by_departement(ssmsi: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """The population the SSMSI base divides by (its ``insee_pop`` column, a legal population), by département.

    Returns
    -------
    DataFrame
        ``geo_code, year, population`` (the alternative denominator of :func:`population_choice`).
    """
    rows = ssmsi[(ssmsi["indicator"] == indicator) & (ssmsi["geo_level"] == "departement")]
    if "population" not in rows.columns:
        raise KeyError("the SSMSI table has no 'population' column (the loader's insee_pop)")
    out = rows[["geo_code", "year", "population"]].copy()
    out["year"] = out["year"].astype(int)
    out = out.groupby(["geo_code", "year"], as_index=False)["population"].first()
    return out.sort_values(["geo_code", "year"], kind="stable").reset_index(drop=True)


def population_choice(
    counts: pd.Series, main: pd.Series, alternative: pd.Series, reference: list[str] | None = None
) -> pd.DataFrame:
    """Each area's rate, rank and verdicts with two populations, and whether a conclusion depends on the choice.

    The letters divide by INSEE's estimate (``main``); the SSMSI base divides by its own legal population
    (``alternative``: the 2022 census for 2023 and 2024, a fixed figure for Mayotte). For every area the rate,
    its rank among the areas (``statistics.rank_rates``), its side of the reference rate and its funnel verdict
    (``statistics.funnel`` at ``funnel.flag_level``, around the reference rate) are computed with both; an
    area's conclusion depends on the population (``depends``) when its rank moves by more than
    ``population_choice.rank_shift`` places of methods.yml or its funnel verdict differs. ``side_depends`` says
    that the side of the reference rate differs (what a letter that states the side, as the overseas letter
    does for Mayotte, must then say too). A letter says so and concludes on neither (docs/METHODS.md).

    Parameters
    ----------
    counts : Series
        Count by area (index: area code), one year; areas missing a count or a population are left out.
    main, alternative : Series
        Population by area code.
    reference : list of str, optional
        The areas whose pooled rate is the reference (default: every area).

    Returns
    -------
    DataFrame
        Index: area code. ``count``; for each population ``p`` in ``main``, ``alt``: ``rate_p, rank_p, side_p``
        (``"above"`` or ``"below"`` the reference rate), ``flag_p`` (``"above"``, ``"below"``, ``"within"``);
        ``rank_shift``, ``depends`` and ``side_depends`` (bool).
    """
    m = constants()
    table = pd.DataFrame({"count": counts, "main": main, "alt": alternative}).dropna()
    members = table.index if reference is None else table.index.intersection(list(reference))
    for tag in ("main", "alt"):
        target = float(table.loc[members, "count"].sum() / table.loc[members, tag].sum() * m.rate_per)
        rate = rate_per(table["count"], table[tag], m.rate_per)
        table[f"rate_{tag}"] = rate
        table[f"rank_{tag}"] = rank_rates(rate).to_numpy()
        table[f"side_{tag}"] = np.where(rate > target, "above", "below")
        table[f"flag_{tag}"] = adjusted_funnel(table["count"], table[tag], target)["flag"].to_numpy()
    table["rank_shift"] = (table["rank_main"] - table["rank_alt"]).abs().astype(int)
    table["depends"] = (table["rank_shift"] > m.rank_shift) | (table["flag_main"] != table["flag_alt"])
    table["side_depends"] = table["side_main"] != table["side_alt"]
    return table


# Comparison with a reference area -----------------------------------------------------------------------------


def compare_to_reference(
    df: pd.DataFrame,
    reference: str = METRO,
    level: float | None = None,
    winsor: float | None = None,
    per: float | None = None,
) -> pd.DataFrame:
    """Rate ratio of every area to the reference area of the same year, judged against the between-area variation.

    Areas differ far more than Poisson chance allows, so an exact Poisson test calls nearly every gap
    "significant". For each year the départements of ``df`` (rows other than :data:`METRO` and :data:`FRANCE`)
    are placed on a funnel around the reference rate (``observatoire.analysis.statistics.funnel``, additive random
    effects, winsorised at ``winsor``); an area's rate then differs significantly from the reference only when
    ``|rate - ref| / sqrt(ref * per / population + tau2)`` exceeds the normal quantile of ``level``. The
    interval of the ratio is ``(rate ± q * sqrt(ref * per / population + tau2)) / ref``, so "significant" and
    "the interval excludes 1" agree. When the départements show no over-dispersion (``tau2 = 0``) the exact
    conditional Poisson test stands.

    Parameters
    ----------
    df : DataFrame
        ``geo_code, year, count, population`` (with the reference rows, see :func:`aggregate_areas`, and every
        département of the year, whose spread measures the between-area variation).
    reference : str
        ``geo_code`` of the reference area (metropolitan France by default).
    level : float, optional
        Confidence level (default ``confidence_level`` of methods.yml).
    winsor, per : float, optional
        Winsorising of the z-scores; rates per ``per`` inhabitants (defaults from methods.yml).

    Returns
    -------
    DataFrame
        The input with ``rate_ratio, rr_low, rr_high, rr_p_value, rr_significant`` (over-dispersion aware),
        ``rr_low_poisson, rr_high_poisson, rr_p_value_poisson, rr_significant_poisson`` (exact Poisson test),
        ``rr_method`` and ``rr_tau2``; NaN (not significant) for the reference itself and where a count or
        population is missing.
    """
    m = constants()
    level = m.confidence_level if level is None else level
    winsor = m.funnel_winsorising if winsor is None else winsor
    per = m.rate_per if per is None else per
    zq = stats.norm.ppf(0.5 + level / 2)
    ref = df[df["geo_code"] == reference].set_index("year")
    spread = {}
    for year, group in df[~df["geo_code"].isin([METRO, FRANCE])].groupby("year"):
        ok = group.dropna(subset=["count", "population"])
        if year in ref.index and len(ok) >= 3 and pd.notna(ref.at[year, "count"]):
            target = ref.at[year, "count"] / ref.at[year, "population"] * per
            spread[year] = adjusted_funnel(
                ok["count"], ok["population"], target, "additive", winsor, per
            ).attrs
    names = ["rate_ratio", "rr_low", "rr_high", "rr_p_value", "rr_significant"]
    names += [f"{n}_poisson" for n in names[1:]] + ["rr_method", "rr_tau2"]
    cols = {key: [] for key in names}
    for _, row in df.iterrows():
        year = row["year"]
        ok = row["geo_code"] != reference and year in ref.index
        if ok:
            c0, e0 = ref.at[year, "count"], ref.at[year, "population"]
            c1, e1 = row["count"], row["population"]
            ok = not any(pd.isna(v) for v in (c0, e0, c1, e1))
        if not ok:
            values = (np.nan, np.nan, np.nan, np.nan, False, np.nan, np.nan, np.nan, False, "", np.nan)
        else:
            exact = poisson_change_test(int(c0), int(c1), float(e0), float(e1), level=level)
            poisson = (exact.low, exact.high, exact.p_value, exact.significant)
            attrs = spread.get(year)
            if attrs is not None and attrs["adjusted"] and attrs["tau2"] > 0:
                target = attrs["target_rate"]
                sd = math.sqrt(target * per / float(e1) + attrs["tau2"])
                rate = float(c1) / float(e1) * per
                p_value = float(2 * stats.norm.sf(abs(rate - target) / sd))
                main = (
                    max(rate - zq * sd, 0.0) / target,
                    (rate + zq * sd) / target,
                    p_value,
                    p_value < 1 - level,
                )
                method = "effets aléatoires additifs"
            else:
                main, method = poisson, "Poisson exact"
            tau2 = np.nan if attrs is None else attrs["tau2"]
            values = (exact.rate_ratio, *main, *poisson, method, tau2)
        for key, value in zip(cols, values, strict=True):
            cols[key].append(value)
    out = df.copy()
    for key, values in cols.items():
        out[key] = values
    out["rr_significant"] = out["rr_significant"].astype(bool)
    out["rr_significant_poisson"] = out["rr_significant_poisson"].astype(bool)
    return out


# Funnel plot --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelResult:
    """Result of :func:`funnel`.

    Attributes
    ----------
    table : DataFrame
        One row per area: ``count, population, rate, expected, z`` and, for each level ``L`` (as ``95``,
        ``998``), ``low_L, high_L`` (exact Poisson limits), ``outside_L`` (``"au-dessus"``, ``"en dessous"`` or
        ``""``), and ``outside_adj_L`` for the limits widened by the over-dispersion.
    target_rate : float
        The rate the areas are compared with.
    phi : float
        Over-dispersion factor (``statistics.winsorised_phi``).
    levels : tuple of float
    tau2 : float
        Between-area variance of the rates (additive random effects; 0 when ``phi <= 1``).
    sensitivity : DataFrame or None
        ``statistics.funnel_sensitivity``: ``phi``, ``tau2`` and the areas outside the widest adjusted limits
        for 5, 10 and 20 % winsorising.
    """

    table: pd.DataFrame
    target_rate: float
    phi: float
    levels: tuple[float, ...]
    tau2: float = 0.0
    sensitivity: pd.DataFrame | None = None

    def count_outside(self, level: float, side: str, adjusted: bool = False) -> int:
        """Number of areas above (``side="au-dessus"``) or below (``"en dessous"``) the limits of ``level``."""
        column = f"outside_{'adj_' if adjusted else ''}{_level_tag(level)}"
        return int((self.table[column] == side).sum())


def level_tag(level: float) -> str:
    """The suffix of a level's columns: 0.95 -> ``"95"``, 0.998 -> ``"998"``."""
    return f"{level * 100:g}".replace(".", "")


_level_tag = level_tag


def funnel(
    df: pd.DataFrame,
    target_rate: float | None = None,
    levels: tuple[float, ...] | None = None,
    per: float | None = None,
    winsor: float | None = None,
) -> FunnelResult:
    """Funnel-plot table: each area's rate against the target's control limits for its population.

    The exact Poisson limits (``low_L``, ``high_L``) and the limits adjusted for the between-area variation
    (``low_adj_L``, ``high_adj_L``: ``observatoire.analysis.statistics.funnel``, additive random effects on z-scores
    winsorised at ``winsor``, Spiegelhalter 2005); only the latter support a claim that an area differs.

    Parameters
    ----------
    df : DataFrame
        One row per area: ``count`` and ``population`` (rows with either missing are dropped).
    target_rate : float, optional
        Per ``per`` inhabitants; by default the pooled rate ``sum(count) / sum(population)`` of the table.
    levels : tuple of float, optional
        Coverages of the limits (0.95 and/or 0.998; default ``funnel.levels`` of methods.yml).
    per : float, optional
        Default ``rate_per`` of methods.yml.
    winsor : float, optional
        Winsorisation of the z-scores for the over-dispersion factor (default ``funnel.winsorising``; the
        sensitivity to every declared winsorising and consistency factor is in ``FunnelResult.sensitivity``).

    Returns
    -------
    FunnelResult
    """
    m = constants()
    levels = m.funnel_levels if levels is None else tuple(levels)
    if not set(levels) <= {0.95, 0.998}:
        raise ValueError(f"funnel: levels must be 0.95 and/or 0.998, got {levels!r}")
    table = df.dropna(subset=["count", "population"]).reset_index(drop=True)
    # the sensitivity table reads the limits the letters name atypical areas by (funnel.outlier_level)
    outlier = m.funnel_outlier_level if m.funnel_outlier_level in levels else max(levels)
    result = adjusted_funnel(
        table["count"], table["population"], target_rate, "additive", winsor, per, flag_level=outlier
    )
    target_rate = result.attrs["target_rate"]
    for column in ("rate", "expected", "z", "z_adj", "p_adj"):
        table[column] = result[column]
    for level in levels:
        tag = _level_tag(level)
        table[f"low_{tag}"], table[f"high_{tag}"] = (
            result[f"lower{tag}_poisson"],
            result[f"upper{tag}_poisson"],
        )
        table[f"low_adj_{tag}"], table[f"high_adj_{tag}"] = result[f"lower{tag}"], result[f"upper{tag}"]
        table[f"outside_{tag}"] = _side(table["rate"], table[f"low_{tag}"], table[f"high_{tag}"])
        table[f"outside_adj_{tag}"] = _side(table["rate"], table[f"low_adj_{tag}"], table[f"high_adj_{tag}"])
    sensitivity = funnel_sensitivity(result)
    if "area" in table:  # name the flagged areas rather than their row numbers
        names = dict(zip(table.index.astype(str), table["area"].astype(str), strict=True))
        for side in ("above", "below"):
            sensitivity[side] = [
                ", ".join(names[i] for i in cell.split(", ") if i) for cell in sensitivity[side]
            ]
    return FunnelResult(
        table,
        float(target_rate),
        float(result.attrs["phi"]),
        tuple(levels),
        float(result.attrs["tau2"]),
        sensitivity,
    )


def _side(rate, low, high) -> np.ndarray:
    rate = np.asarray(rate, dtype=float)
    return np.where(rate > np.asarray(high), "au-dessus", np.where(rate < np.asarray(low), "en dessous", ""))


def funnel_curve(
    pop_min: float,
    pop_max: float,
    target_rate: float,
    levels: tuple[float, ...] = (0.95, 0.998),
    per: float = 1000,
    tau2: float | None = None,
    points: int = 200,
) -> pd.DataFrame:
    """The control limits on a log-spaced grid of populations, to draw the funnel.

    Returns
    -------
    DataFrame
        Columns ``population, level, low, high`` and, when ``tau2`` (the between-area variance of
        :class:`FunnelResult`) is given, ``low_adj, high_adj``.
    """
    grid = np.geomspace(pop_min, pop_max, points)
    parts = []
    for level in levels:
        low, high = funnel_limits(grid, target_rate, level, per)
        part = pd.DataFrame({"population": grid, "level": level, "low": low, "high": high})
        if tau2 is not None and math.isfinite(tau2):
            half = stats.norm.ppf((1 + level) / 2) * np.sqrt(target_rate * per / grid + tau2)
            part["low_adj"] = np.maximum(target_rate - half, 0.0)
            part["high_adj"] = target_rate + half
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def result_curve(result: FunnelResult, per: float = 1000) -> pd.DataFrame:
    """The control limits of a :func:`funnel` result on the populations of its areas (from 0.8 x the smallest to
    1.2 x the largest), as its figures draw them.

    Returns
    -------
    DataFrame
        :func:`funnel_curve`'s columns; ``low_adj, high_adj`` (the limits widened by the between-area variance
        ``result.tau2``) only when the counts are over-dispersed (``tau2 > 0``): otherwise the exact Poisson
        limits ``low, high`` are the ones the flags follow.
    """
    table = result.table
    return funnel_curve(
        table["population"].min() * 0.8,
        table["population"].max() * 1.2,
        result.target_rate,
        result.levels,
        per=per,
        tau2=result.tau2 if result.tau2 > 0 else None,
    )


# Trends -------------------------------------------------------------------------------------------------------


def trends(
    df: pd.DataFrame,
    first_year: int,
    last_year: int,
    family: str = "auto",
) -> pd.DataFrame:
    """Average annual change of the rate of each area over ``first_year..last_year`` (``statistics.trend_of``).

    Parameters
    ----------
    df : DataFrame
        ``geo_code, year, count, population``.
    first_year, last_year : int
        The period (both included).

    Returns
    -------
    DataFrame
        One row per ``geo_code``: ``annual_change, ci_low, ci_high, p_value, significant, direction``
        (``"hausse"``, ``"baisse"`` or ``"non significative"``, from the over-dispersion-aware model), ``family,
        method`` (French), ``dispersion, p_value_poisson, significant_poisson`` (plain Poisson, for comparison),
        ``first_year, last_year, n_years, reason``. Figures are fractions (0.05 = +5 % a year).
    """
    period = df[(df["year"] >= int(first_year)) & (df["year"] <= int(last_year))]
    out = []
    for code, group in period.groupby("geo_code", sort=True):
        result = trend_of(group.sort_values("year"), last_year, first_year, family=family)
        direction = "non significative"
        if result.significant:
            direction = "hausse" if result.annual_change > 0 else "baisse"
        out.append(
            {
                "geo_code": code,
                "annual_change": result.annual_change,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p_value": result.p_value,
                "significant": bool(result.significant),
                "direction": direction,
                "family": result.family,
                "method": result.method_fr if result.estimable else "",
                "dispersion": result.dispersion,
                "p_value_poisson": result.p_value_poisson,
                "significant_poisson": bool(result.significant_poisson),
                "first_year": result.first_year,
                "last_year": result.last_year,
                "n_years": result.n_years,
                "reason": result.reason,
            }
        )
    return pd.DataFrame(out)


# Population structure -----------------------------------------------------------------------------------------


def women_age_structure(population: pd.DataFrame, year: int, codes: tuple[str, ...]) -> pd.DataFrame:
    """Women by broad age group for some départements and metropolitan France, one year (INSEE gca file).

    Parameters
    ----------
    population : DataFrame
        Harmonised INSEE gca estimates (age groups ``0-19`` ... ``75+``).
    year : int
    codes : tuple of str
        Département codes (the five overseas départements).

    Returns
    -------
    DataFrame
        One row per area (the départements asked that have an estimate for the year, then :data:`METRO`):
        ``geo_code, area, women, total, part_femmes`` (percent of the population) and, per age group ``g``,
        ``women_<g>`` and ``share_<g>`` (percent of women in that group). An area without an estimate for the
        year (Mayotte before 2014) is absent.
    """
    pop = population[
        (population["geo_level"] == "departement") & (population["year"].astype(int) == int(year))
    ]
    women = pop[(pop["sex"] == "female") & pop["age_group"].isin(AGE_GROUPS)]
    wide = women.pivot_table(index="geo_code", columns="age_group", values="value", aggfunc="sum")
    total = population_by_departement(pop, "total")
    total = total.set_index("geo_code")["population"]
    rows = []
    for code in (*codes, METRO):
        members = METROPOLITAN if code == METRO else (code,)
        if not set(members) <= set(wide.index) or not set(members) <= set(total.index):
            continue
        by_group = wide.loc[list(members), list(AGE_GROUPS)].sum()
        n_women = float(by_group.sum())
        n_total = float(total.loc[list(members)].sum())
        row = {"geo_code": code, "area": AREA_NAMES[code], "women": n_women, "total": n_total}
        row["part_femmes"] = 100 * n_women / n_total
        for group in AGE_GROUPS:
            row[f"women_{group}"] = float(by_group[group])
            row[f"share_{group}"] = 100 * float(by_group[group]) / n_women
        rows.append(row)
    return pd.DataFrame(rows)


# Panels for the notebooks -------------------------------------------------------------------------------------


def panel(
    ssmsi: pd.DataFrame,
    population: pd.DataFrame,
    indicator: str,
    first_year: int | None = None,
    last_year: int | None = None,
    names: dict[str, str] | None = None,
    per: float | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Counts, INSEE populations and rates by département and year, plus metropolitan France and France.

    Parameters
    ----------
    ssmsi : DataFrame
        Harmonised SSMSI départemental base (one edition).
    population : DataFrame
        Harmonised INSEE estimates (``insee_pop_gca``).
    indicator : str
        SSMSI indicator, exactly as published.
    first_year, last_year : int, optional
        Years kept.
    names : dict, optional
        Département code -> name (``datasets.geography()``); the aggregates are named by :data:`AREA_NAMES`.

    Returns
    -------
    DataFrame
        ``geo_code, year, count, population, area, is_overseas, rate, rate_low, rate_high, small_count,
        dispersion`` (``statistics.add_series_rates``: the interval of every letter, exact Poisson widened by the
        area's series dispersion up to ``last_year``); one row per département and year of the edition, then
        :data:`METRO` and :data:`FRANCE`. A département-year without
        an INSEE estimate keeps its count and has a missing population and rate (never another year's).
    """
    counts = counts_by_departement(ssmsi, indicator, first_year, last_year)
    pops = population_by_departement(population)
    df = counts.merge(pops, on=["geo_code", "year"], how="left")
    df = aggregate_areas(df)
    if names:
        df["area"] = df["geo_code"].map({**names, **AREA_NAMES}).fillna(df["area"])
    df["is_overseas"] = df["geo_code"].isin(OVERSEAS)
    return add_series_rates(df, area="geo_code", last_year=last_year, per=per, level=level)


def check_year(df: pd.DataFrame, year: int) -> None:
    """Raise ``LookupError`` when ``year`` has no count in the panel (an edition that stops before it)."""
    years = sorted(df.loc[df["count"].notna(), "year"].unique())
    if int(year) not in years:
        raise LookupError(
            f"no recorded count for {year} in this SSMSI edition (years available: {years[0]}-{years[-1]})"
            if years
            else f"no recorded count for {year}"
        )


def edition_of(ssmsi: pd.DataFrame) -> str:
    """The edition of an SSMSI table (one edition per table: editions are never mixed)."""
    editions = sorted(map(str, ssmsi["edition"].unique()))
    if len(editions) != 1:
        raise ValueError(f"one SSMSI edition expected, found {editions}")
    return editions[0]


def source_values(
    ssmsi_source: str, insee_source: str = "insee_pop_gca", catalogue: dict | None = None
) -> dict:
    """The values a source line of SSMSI counts and INSEE populations prints (``sources.ssmsi_insee`` in
    ``publications/_shared/outputs.yml``): ``ssmsi_edition``, ``ssmsi_produced`` (ISO date), ``insee_edition``
    (its year) and ``insee_closed`` (the year its provisional estimates were closed), from ``data/sources.yml``.
    """
    if catalogue is None:
        catalogue = load_catalogue()
    ssmsi, insee = catalogue[ssmsi_source], catalogue[insee_source]
    edition = str(insee.edition)
    closed = re.search(r"(\d{4})\)?\s*$", edition)
    return {
        "ssmsi_edition": str(ssmsi.edition),
        "ssmsi_produced": str(ssmsi.produced),
        "insee_edition": edition[:4],
        "insee_closed": closed.group(1) if closed else edition[:4],
    }


def label_with_code(df: pd.DataFrame) -> pd.Series:
    """``"Nom (code)"`` for départements, the plain name for aggregates (for chart labels)."""
    is_dep = ~df["geo_code"].isin([METRO, FRANCE])
    return df["area"].where(~is_dep, df["area"] + " (" + df["geo_code"] + ")")


def extremes(
    df: pd.DataFrame, column: str, n: int = 10, largest: bool = True, key: str = "geo_code"
) -> pd.DataFrame:
    """The ``n`` départements with the largest (or smallest) ``column``, ties broken by code (``key``, stable);
    the aggregates (:data:`METRO`, :data:`FRANCE`) are left out."""
    deps = df[~df[key].isin([METRO, FRANCE])].dropna(subset=[column])
    ordered = deps.sort_values([column, key], ascending=[not largest, True], kind="stable")
    return ordered.head(n).reset_index(drop=True)


def catalogue_edition(source_id: str, catalogue: dict | None = None) -> str:
    """The edition of a catalogue source (``data/sources.yml``), as the facts record it."""
    if catalogue is None:
        catalogue = load_catalogue()
    return str(catalogue[source_id].edition)


def age_structure_long(structure: pd.DataFrame) -> pd.DataFrame:
    """:func:`women_age_structure` in long form for a grouped bar chart: ``geo_code, area, age, share``, ``age``
    the code of the age group (:data:`AGE_GROUPS`; its words are the notebook's labels)."""
    columns = {f"share_{g}": g for g in AGE_GROUPS}
    long = structure.melt(
        id_vars=["geo_code", "area"], value_vars=list(columns), var_name="age", value_name="share"
    )
    long["age"] = long["age"].map(columns)
    return long.reset_index(drop=True)


def ratio_long(compared: dict[str, pd.DataFrame], labels: dict[str, str]) -> pd.DataFrame:
    """Rate ratios of the overseas départements for several indicators, stacked for one dot-and-interval chart.

    Parameters
    ----------
    compared : dict
        Indicator key -> :func:`compare_to_reference` table of one year.
    labels : dict
        Indicator key -> French label.

    Returns
    -------
    DataFrame
        ``indicateur, geo_code, area, libelle`` ("<area> : <indicator>"), ``rate_ratio, rr_low, rr_high,
        rr_p_value``, in the order indicators x overseas départements.
    """
    parts = []
    for key, table in compared.items():
        sub = table[table["geo_code"].isin(OVERSEAS)].copy()
        sub["_order"] = sub["geo_code"].map({c: i for i, c in enumerate(OVERSEAS)})
        sub = sub.sort_values("_order")
        sub["indicateur"] = labels[key]
        sub["libelle"] = sub["area"] + " : " + labels[key].lower()
        parts.append(
            sub[
                ["indicateur", "geo_code", "area", "libelle", "rate_ratio", "rr_low", "rr_high", "rr_p_value"]
            ]
        )
    return pd.concat(parts, ignore_index=True)


def trend_table(trends_by_indicator: dict[str, pd.DataFrame], codes: list[str]) -> pd.DataFrame:
    """One row per area, the annual change and its interval (French text) for each indicator, side by side.

    Parameters
    ----------
    trends_by_indicator : dict
        Indicator key -> :func:`trends` table.
    codes : list of str
        Areas, in the order of the rows.

    Returns
    -------
    DataFrame
        ``geo_code, area`` then, per key ``k``: ``annual_change_<k>`` (fraction), ``ci_low_<k>``, ``ci_high_<k>``
        and ``ic_<k>`` (``"[+4,1 % ; +6,3 %]"``).
    """
    out = pd.DataFrame({"geo_code": codes})
    out["area"] = out["geo_code"].map(AREA_NAMES)
    for key, table in trends_by_indicator.items():
        rows = table.set_index("geo_code").reindex(codes)
        for column in ("annual_change", "ci_low", "ci_high"):
            out[f"{column}_{key}"] = rows[column].to_numpy()
        out[f"ic_{key}"] = [
            format_interval(lo, hi, 1, "change")
            for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
        ]
    return out
