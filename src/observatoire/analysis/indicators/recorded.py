"""Violence recorded by police and gendarmerie (sections 2 and 3 of the annual letter).

Two kinds of input:

* the SSMSI départemental base (``datasets.ssmsi_departement``): victims by département and year for an
  indicator such as "Coups et blessures volontaires intrafamiliaux" or "Violences sexuelles". It has no sex
  split, and the intrafamily indicator covers every family member (children, parents, partners), both sexes:
  it is *not* a count of conjugal violence;
* the national series of published figures (conjugal violence recorded by SSMSI, shares of women and minors).

Denominators. Rates here divide by INSEE's population estimate at 1 January of the same year (the
``insee_pop_gca`` file: all ages, by département, to 2024, the latest year provisional). SSMSI's own published
rate (``published_rate``, from its ``insee_pop`` column) uses the 2022 census population for 2023 and 2024; both
are kept so that a letter can say which it prints. A year without a population estimate has no rate (missing),
never the rate of a neighbouring year.

Uncertainty. A rate carries the exact Poisson interval of its count. Recorded counts are over-dispersed, so
every claim of significance comes from a test that allows for it (``observatoire.analysis.statistics``): a change on the
year borrows the Pearson dispersion of the series' trend fit (quasi-Poisson; the exact Poisson test only where
the series shows no over-dispersion), a trend is a quasi-Poisson log-linear model, and départements are compared
with the national rate on a funnel widened by the between-département variance (Spiegelhalter 2005). The plain
Poisson answers are kept beside them for the notebooks. With 101 départements tested at once, about five
"significant" changes are expected by chance alone: :func:`departement_table` adds Benjamini-Hochberg adjusted
p-values so that the letter can count the changes that survive a false-discovery-rate control.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from observatoire.analysis import method
from observatoire.analysis.indicators import published, registry
from observatoire.analysis.indicators.published import sources_table
from observatoire.analysis.indicators.territories import extremes as select_extremes
from observatoire.analysis.indicators.territories import population_choice
from observatoire.analysis.indicators.wording import add_significance_fact, change_details, trend_details
from observatoire.analysis.method import constants
from observatoire.analysis.statistics import (
    add_series_rates,
    change_of,
    change_test,
    funnel,
    rank_rates,
    trend_of,
)
from observatoire.core.formatting import format_date

#: The SSMSI counting unit of the two violence indicators.
VICTIM = "Victime"


def _year_column(df: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(df["year"]).astype(int)


def indicator_rows(ssmsi: pd.DataFrame, indicator: str, unit: str = VICTIM) -> pd.DataFrame:
    """Rows of one indicator and counting unit at département level.

    Parameters
    ----------
    ssmsi : DataFrame
        Harmonised SSMSI table (``datasets.ssmsi_departement``).
    indicator : str
        Indicator name exactly as published.
    unit : str, default "Victime"

    Returns
    -------
    DataFrame
        The matching rows (``geo_level == "departement"`` when that column exists), ``year`` as int.
    """
    out = ssmsi.loc[(ssmsi["indicator"] == indicator) & (ssmsi["unit"] == unit)].copy()
    if "geo_level" in out:
        out = out.loc[out["geo_level"] == "departement"]
    out["year"] = _year_column(out)
    return out


def available_indicator(ssmsi: pd.DataFrame, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The first of ``candidates`` present in the base (nomenclatures change between releases), or None."""
    present = set(ssmsi["indicator"].unique())
    for name in candidates:
        if name in present:
            return name
    return None


def years_of(ssmsi: pd.DataFrame, indicator: str, unit: str = VICTIM) -> list[int]:
    """Years the base covers for an indicator (sorted)."""
    return sorted(int(y) for y in indicator_rows(ssmsi, indicator, unit)["year"].unique())


def national_totals(
    ssmsi: pd.DataFrame, indicator: str, unit: str = VICTIM, national: pd.DataFrame | None = None
) -> pd.DataFrame:
    """National totals of an indicator by year.

    Parameters
    ----------
    ssmsi : DataFrame
        Harmonised départemental table: the totals are the sums of its départements.
    indicator, unit : str
    national : DataFrame, optional
        France rows (``datasets.ssmsi_national``), which add the facts SSMSI could not place in a département
        (legacy edition 2023); used instead of the départemental sums when given.

    Returns
    -------
    DataFrame
        Columns ``year, count, ssmsi_population, ssmsi_rate`` (SSMSI's own denominator and the rate it implies,
        per 1,000 inhabitants), sorted by year.
    """
    if national is not None:
        rows = national.loc[(national["indicator"] == indicator) & (national["unit"] == unit)].copy()
        rows["year"] = _year_column(rows)
    else:
        rows = indicator_rows(ssmsi, indicator, unit)
    agg = {"value": "sum"}
    if "population" in rows:
        agg["population"] = "sum"
    out = rows.groupby("year", as_index=False).agg(agg).rename(columns={"value": "count"})
    if "population" in out:
        out = out.rename(columns={"population": "ssmsi_population"})
        out["ssmsi_rate"] = out["count"] / out["ssmsi_population"] * 1000
    else:
        out["ssmsi_population"] = np.nan
        out["ssmsi_rate"] = np.nan
    return out.sort_values("year").reset_index(drop=True)


def national_rates(totals: pd.DataFrame, pop_fr: pd.DataFrame, level: float | None = None) -> pd.DataFrame:
    """Add the INSEE population at 1 January, the rate per 1,000 and its interval to national totals.

    Parameters
    ----------
    totals : DataFrame
        From :func:`national_totals`.
    pop_fr : DataFrame
        ``year, population``: the sum of the départements' populations.

    Returns
    -------
    DataFrame
        ``totals`` plus ``population, rate, rate_low, rate_high, small_count, dispersion``
        (``statistics.add_series_rates``: exact Poisson interval widened by the national series' dispersion) and
        the change on the previous year (``previous, change_abs, change_rel``). Years without a population have
        missing rates.
    """
    out = totals.merge(pop_fr[["year", "population"]], on="year", how="left").assign(_area="FR")
    out = add_series_rates(out, area="_area", level=level).drop(columns="_area")
    previous = out.set_index("year")["count"].reindex(out["year"] - 1).to_numpy()
    out["previous"] = previous
    out["change_abs"] = out["count"] - out["previous"]
    out["change_rel"] = out["change_abs"] / out["previous"]
    return out


def value_for(table: pd.DataFrame, year: int, column: str):
    """The value of ``column`` for ``year`` in a table with a ``year`` column, or None (never a neighbour)."""
    found = table.loc[table["year"] == int(year), column]
    if found.empty or pd.isna(found.iloc[0]):
        return None
    value = found.iloc[0]
    return value.item() if hasattr(value, "item") else value


def year_change(totals: pd.DataFrame, year: int):
    """Test of the national rate of ``year`` against ``year - 1`` (``statistics.change_of``: the series'
    over-dispersion from the other years, exact Poisson where there is none); None when a year is missing."""
    return change_of(totals, year)


def national_trend(rates: pd.DataFrame, last_year: int, first_year: int | None = None, family: str = "auto"):
    """Log-linear trend of the national rate up to ``last_year`` (``statistics.trend_of``).

    Parameters
    ----------
    rates : DataFrame
        From :func:`national_rates`.
    last_year : int
        Last year of the fit (the letter's year); later years are never used.
    first_year : int, optional
        First year of the fit (default: the first year of the table).

    Returns
    -------
    TrendResult
        ``TrendResult.reason`` says when it cannot be estimated.
    """
    return trend_of(rates, last_year, first_year, family=family)


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept)."""
    out = np.full_like(p, np.nan, dtype=float)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def departement_table(
    ssmsi: pd.DataFrame,
    indicator: str,
    year: int,
    pop_dep: pd.DataFrame,
    geography: pd.DataFrame,
    unit: str = VICTIM,
) -> pd.DataFrame:
    """Rates by département for one year, with intervals, change on the year, rank and overseas flag.

    Parameters
    ----------
    ssmsi : DataFrame
        Harmonised SSMSI table.
    indicator : str
        Indicator name.
    year : int
        The year. A year absent from the base gives an empty table (never another year's figures).
    pop_dep : DataFrame
        ``geo_code, year, population`` (``territories.population_by_departement``).
    geography : DataFrame
        ``datasets.geography()``: ``code_departement, nom_departement, code_region, nom_region, is_overseas``.

    Returns
    -------
    DataFrame
        One row per département: ``code, nom, region, outre_mer, count, population, rate, rate_low, rate_high,
        small_count, ssmsi_rate, previous, change_rel, rate_ratio, p_value, p_adjusted, significant,
        significant_fdr, rank`` (``statistics.rank_rates``), sorted by rate, highest first. The interval is the
        letters' one (``statistics.add_series_rates``: exact Poisson widened by the département's series
        dispersion, ``rate_dispersion``). The change of the rate on the year is tested with each département's
        own series (``statistics.change_of``): ``p_value``/``significant`` are the over-dispersion-aware answer,
        ``p_value_poisson``/``significant_poisson`` the exact Poisson one, ``test_method`` and ``dispersion``
        (of the other years) say which. The comparison with the national rate is the adjusted funnel
        (``statistics.funnel``): ``z_adj``, ``flag`` ("above", "below", "within" at ``funnel.flag_level``) and
        ``flag_poisson`` (exact Poisson limits). ``attrs``: ``funnel_phi``, ``funnel_tau2``,
        ``funnel_sensitivity``.
    """
    m = constants()
    rows = indicator_rows(ssmsi, indicator, unit)
    cur = rows.loc[rows["year"] == int(year)]
    columns = [
        "code",
        "nom",
        "region",
        "outre_mer",
        "count",
        "population",
        "rate",
        "rate_low",
        "rate_high",
        "small_count",
        "rate_dispersion",
        "ssmsi_rate",
        "previous",
        "change_rel",
        "rate_ratio",
        "p_value",
        "p_adjusted",
        "significant",
        "significant_fdr",
        "rank",
        "p_value_poisson",
        "significant_poisson",
        "test_method",
        "dispersion",
        "z_adj",
        "flag",
        "flag_poisson",
    ]
    if cur.empty:
        return pd.DataFrame(columns=columns)
    history = rows.loc[rows["year"] <= int(year), ["geo_code", "year", "value"]].rename(
        columns={"value": "count"}
    )
    history = history.merge(pop_dep[["geo_code", "year", "population"]], on=["geo_code", "year"], how="left")
    history = add_series_rates(history, area="geo_code", last_year=year)
    now = history.loc[history["year"] == int(year)].set_index("geo_code")
    prev = rows.loc[rows["year"] == int(year) - 1].set_index("geo_code")["value"]
    out = cur[["geo_code"]].rename(columns={"geo_code": "code"}).reset_index(drop=True)
    for column in ("count", "population", "rate", "rate_low", "rate_high", "small_count"):
        out[column] = out["code"].map(now[column])
    out["rate_dispersion"] = out["code"].map(now["dispersion"])
    out["ssmsi_rate"] = cur["published_rate"].to_numpy() if "published_rate" in cur else np.nan
    geo = geography.set_index("code_departement")
    out["nom"] = out["code"].map(geo["nom_departement"])
    out["region"] = out["code"].map(geo["nom_region"])
    out["outre_mer"] = out["code"].map(geo["is_overseas"]).fillna(False).astype(bool)
    out["previous"] = out["code"].map(prev)
    out["change_rel"] = out["count"] / out["previous"] - 1
    by_code = dict(tuple(history.groupby("geo_code")))
    tests = [change_of(by_code[code], int(year)) if code in by_code else None for code in out["code"]]
    out["rate_ratio"] = [t.rate_ratio if t else np.nan for t in tests]
    out["p_value"] = [t.p_value if t else np.nan for t in tests]
    out["p_value_poisson"] = [t.p_value_poisson if t else np.nan for t in tests]
    out["test_method"] = [t.method_fr if t and not t.reason else "" for t in tests]
    out["dispersion"] = [t.dispersion if t else np.nan for t in tests]
    out["p_adjusted"] = _bh(out["p_value"].to_numpy(dtype=float))
    alpha = m.significance_level
    out["significant"] = out["p_value"] < alpha
    out["significant_poisson"] = out["p_value_poisson"] < alpha
    out["significant_fdr"] = out["p_adjusted"] < alpha
    rated = out.dropna(subset=["count", "population"])
    national = float(rated["count"].sum() / rated["population"].sum() * m.rate_per) if len(rated) else np.nan
    if len(rated) >= 3:
        adjusted = funnel(rated["count"], rated["population"], national)
        for column in ("z_adj", "flag", "flag_poisson"):
            out[column] = adjusted[column]
        out.attrs.update(
            funnel_phi=adjusted.attrs["phi"],
            funnel_tau2=adjusted.attrs["tau2"],
            funnel_sensitivity=adjusted.attrs["sensitivity"],
        )
    out["rank"] = rank_rates(out["rate"])
    out = out.sort_values(["rate", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return out.reindex(columns=columns)


def extremes(dep: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` highest and ``n`` lowest rates, for the letter's table.

    Returns
    -------
    DataFrame
        Columns ``groupe, rang, code, nom, count, rate, rate_low, rate_high, change_rel``; ``groupe`` is the
        code "highest" or "lowest" (its words: the notebook's metadata file).
    """
    cols = ["rank", "code", "nom", "count", "rate", "rate_low", "rate_high", "change_rel"]
    top = select_extremes(dep, "rate", n, largest=True, key="code")[cols].assign(groupe="highest")
    bottom = select_extremes(dep, "rate", n, largest=False, key="code")[cols].iloc[::-1]
    bottom = bottom.assign(groupe="lowest")
    out = pd.concat([top, bottom], ignore_index=True)
    out = out.rename(columns={"rank": "rang"})
    return out[["groupe", "rang", "code", "nom", "count", "rate", "rate_low", "rate_high", "change_rel"]]


def departement_summary(dep: pd.DataFrame, national_rate: float | None) -> dict:
    """Counts the letter cites about the départemental table.

    Returns
    -------
    dict
        ``n_departements``, ``n_small`` (``small_count`` of methods.yml), ``n_above`` / ``n_below`` (above / below
        the national rate on the over-dispersion-adjusted funnel at 95 %), ``n_up`` / ``n_down`` (significant
        rises / falls at 5 %, over-dispersion-aware test), ``n_up_fdr`` / ``n_down_fdr`` (after
        Benjamini-Hochberg), ``max_rate``, ``max_nom``, ``min_rate``, ``min_nom``, ``ratio_max_min``; and, for
        the methods section, the plain Poisson counts ``n_above_poisson``, ``n_below_poisson``,
        ``n_up_poisson``, ``n_down_poisson``; values None when the table is empty.
    """
    if dep.empty:
        keys = [
            "n_departements",
            "n_small",
            "n_above",
            "n_below",
            "n_up",
            "n_down",
            "n_up_fdr",
            "n_down_fdr",
            "max_rate",
            "max_nom",
            "min_rate",
            "min_nom",
            "max_code",
            "min_code",
            "ratio_max_min",
            "n_above_poisson",
            "n_below_poisson",
            "n_up_poisson",
            "n_down_poisson",
        ]
        return dict.fromkeys(keys)
    rated = dep.dropna(subset=["rate"])
    top = rated.sort_values("rate", ascending=False).iloc[0]
    low = rated.sort_values("rate", ascending=True).iloc[0]
    up = dep["change_rel"] > 0
    out = {
        "n_departements": int(len(dep)),
        "n_small": int(dep["small_count"].sum()),
        "n_above": None if national_rate is None else int((rated["flag"] == "above").sum()),
        "n_below": None if national_rate is None else int((rated["flag"] == "below").sum()),
        "n_above_poisson": None if national_rate is None else int((rated["flag_poisson"] == "above").sum()),
        "n_below_poisson": None if national_rate is None else int((rated["flag_poisson"] == "below").sum()),
        "n_up_poisson": int((dep["significant_poisson"].fillna(False).astype(bool) & up).sum()),
        "n_down_poisson": int((dep["significant_poisson"].fillna(False).astype(bool) & ~up).sum()),
        "n_up": int((dep["significant"].fillna(False).astype(bool) & up).sum()),
        "n_down": int((dep["significant"].fillna(False).astype(bool) & ~up).sum()),
        "n_up_fdr": int((dep["significant_fdr"].fillna(False).astype(bool) & up).sum()),
        "n_down_fdr": int((dep["significant_fdr"].fillna(False).astype(bool) & ~up).sum()),
        "max_rate": float(top["rate"]),
        "max_nom": str(top["nom"]),
        "min_rate": float(low["rate"]),
        "min_nom": str(low["nom"]),
        "max_code": str(top["code"]) if "code" in top else str(top.name),
        "min_code": str(low["code"]) if "code" in low else str(low.name),
        "ratio_max_min": float(top["rate"] / low["rate"]) if low["rate"] > 0 else None,
    }
    if dep["previous"].isna().all():
        for key in ("n_up", "n_down", "n_up_fdr", "n_down_fdr", "n_up_poisson", "n_down_poisson"):
            out[key] = None
    return out


def published_vs_base(
    base_count: float | None,
    pubs: list,
    labels: list[str],
    base_label: str,
    year: int,
    edition: str,
    lang: str = "fr",
) -> pd.DataFrame:
    """Compare the départemental base total with published national figures for the same year.

    The provenance cells (source line, period, where read) are worded in ``lang``.

    A reconciliation compares different producers or editions, never a source with itself: a figure the
    compilation computed from a raw data file (``read_at_kind`` ``data_file``, the SSMSI base itself) is left
    out, whatever its label.

    Returns
    -------
    DataFrame
        Columns ``indicateur, annee, periode, valeur, retenu, source, date_source, lu_sur, row_id, adresse_lue,
        note`` (:data:`observatoire.analysis.indicators.published.SOURCES_COLUMNS`); the first row is the base total (the
        figure the letter cites: the sum of the base's départements, an empty note), then the published figures and
        their alternatives.
    """

    first = pd.DataFrame(
        [
            {
                "indicateur": base_label,
                "annee": year,
                "periode": str(year),
                "valeur": base_count,
                "retenu": "cited" if base_count is not None else "",
                "source": published.words(lang)["ssmsi_base"].format(edition=edition),
                "date_source": "",
                "lu_sur": "",
                "row_id": "",
                "adresse_lue": "",
                "note": "",  # the base's total (the sum of its départements): the notebook's text says so
            }
        ]
    )
    kept = [
        (replace(p, alternatives=tuple(a for a in p.alternatives if a.read_at_kind != "data_file")), lab)
        for p, lab in zip(pubs, labels, strict=True)
        if p is not None and p.read_at_kind != "data_file"
    ]
    others = sources_table([p for p, _ in kept], [lab for _, lab in kept], lang)
    others["retenu"] = "comparison"
    return pd.concat([first, others], ignore_index=True)


# Conjugal violence recorded by police and gendarmerie (national series) ---------------------------------------

#: Series ids of the national series (SSMSI's yearly study of conjugal violence).
CONJUGAL = "victimes_violences_conjugales_enregistrees"
CONJUGAL_SHARE_WOMEN = "victimes_violences_conjugales_enregistrees_part_femmes"
CONJUGAL_RATE_WOMEN = "victimes_violences_conjugales_enregistrees_taux_pour_1000_femmes_15_64"
#: The change on the year of the recorded victims, as SSMSI publishes it (percent).
CONJUGAL_CHANGE = "victimes_violences_conjugales_enregistrees_evolution"
#: Shares of each type of violence among the recorded conjugal violence, as SSMSI publishes them (percent).
CONJUGAL_BY_TYPE = {
    "physiques": "victimes_violences_conjugales_enregistrees_part_violences_physiques",
    "verbales": "victimes_violences_conjugales_enregistrees_part_violences_verbales_psychologiques",
    "sexuelles": "victimes_violences_conjugales_enregistrees_part_violences_sexuelles",
}


def conjugal_table(ns: pd.DataFrame, last_year: int, women_15_64=None) -> pd.DataFrame:
    """Conjugal-violence victims recorded by police and gendarmerie, year by year, up to ``last_year``.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    last_year : int
        Last year kept.
    women_15_64 : callable, optional
        ``women_15_64(year) -> float`` the number of women aged 15-64 at 1 January (INSEE); it raises
        ``LookupError`` (``datasets.MissingData``) for a year it does not cover. Without it no rate is computed.

    Returns
    -------
    DataFrame
        One row per year with a published total or female count: ``year, total, female, share_published,
        share_computed, share, share_origin, women_15_64, rate_published, rate_computed, rate, rate_origin,
        previous, change_rel``. ``share`` is the published share when there is one, else women / total
        computed from the two published counts; ``rate`` is the published rate per 1,000 women aged 15-64
        when there is one, else female victims / INSEE women aged 15-64; ``*_origin`` says "publié" or
        "calculé" (or None). Nothing is filled.
    """

    total = published.series(ns, CONJUGAL, "total", last=last_year)
    female = published.series(ns, CONJUGAL, "female", last=last_year)
    share_pub = published.series(ns, CONJUGAL_SHARE_WOMEN, "female", last=last_year)
    rate_pub = published.series(ns, CONJUGAL_RATE_WOMEN, "female", last=last_year)
    years = sorted(set(total.index) | set(female.index) | set(share_pub.index) | set(rate_pub.index))
    out = pd.DataFrame({"year": years})
    out["total"] = out["year"].map(total)
    out["female"] = out["year"].map(female)
    out["share_published"] = out["year"].map(share_pub)
    out["share_computed"] = 100 * out["female"] / out["total"]
    out["share"] = out["share_published"].fillna(out["share_computed"])
    out["share_origin"] = np.where(
        out["share_published"].notna(), "publié", np.where(out["share_computed"].notna(), "calculé", None)
    )
    pops = []
    for year in out["year"]:
        try:
            pops.append(float(women_15_64(int(year))) if women_15_64 is not None else np.nan)
        except LookupError:
            pops.append(np.nan)
    out["women_15_64"] = pops
    out["rate_published"] = out["year"].map(rate_pub)
    out["rate_computed"] = out["female"] / out["women_15_64"] * 1000
    out["rate"] = out["rate_published"].fillna(out["rate_computed"])
    out["rate_origin"] = np.where(
        out["rate_published"].notna(), "publié", np.where(out["rate_computed"].notna(), "calculé", None)
    )
    # A change on the year only within one study: each SSMSI annual study revises the previous year, so two
    # totals from two studies are not a change (the study's own published change is what a letter may cite).
    prev = out.set_index("year")["total"].reindex(out["year"] - 1).to_numpy()
    same = [same_study(ns, int(y)) for y in out["year"]]
    out["previous"] = np.where(same, prev, np.nan)
    out["change_rel"] = out["total"] / out["previous"] - 1
    return out


def same_study(ns: pd.DataFrame, year: int) -> bool:
    """True when the conjugal-violence totals of ``year`` and ``year - 1`` come from the same published study."""

    current = published.pick(ns, CONJUGAL, year, "total")
    previous = published.pick(ns, CONJUGAL, year - 1, "total")
    return current is not None and previous is not None and current.source_title == previous.source_title


def conjugal_change(ns: pd.DataFrame, year: int, level: float | None = None):
    """Test of the conjugal-violence total of ``year`` against ``year - 1``, with the series' over-dispersion,
    within one study.

    Returns
    -------
    tuple
        ``(current, previous, test)``: the two :class:`~observatoire.analysis.indicators.published.Published` totals (or
        None) and the :class:`~observatoire.analysis.statistics.ChangeTest` (None when a year is missing or the two
        totals come from two different studies: see :func:`same_study`). Published
        totals are sometimes rounded (to the hundred or the thousand): the test then is approximate, and the
        note of the figure says so.
    """

    current = published.pick(ns, CONJUGAL, year, "total")
    previous = published.pick(ns, CONJUGAL, year - 1, "total")
    if current is None or previous is None or not same_study(ns, year):
        return current, previous, None
    series = published.series(ns, CONJUGAL, "total", last=year).round()
    return current, previous, change_test(series.index.to_numpy(), series.to_numpy(), year, level=level)


# One indicator of the départemental base, end to end (sections 2 and 3 share it) -----------------------------


class Analysis:
    """Everything sections 2 and 3 compute for one indicator of the SSMSI base and one year.

    Attributes
    ----------
    indicator : str
        Indicator analysed (as published).
    year : int
        The letter's year.
    totals : DataFrame
        National totals with INSEE rates and changes (:func:`national_rates`), every year of the base up to
        ``year``.
    departements : DataFrame
        :func:`departement_table` for ``year`` (empty when the base does not cover it).
    change : ChangeTest or None
        National change on the year.
    trend : TrendResult
        National trend from the first year of the base to ``year``.
    summary : dict
        :func:`departement_summary`.
    covered : bool
        True when the base covers ``year``.
    population_choice : DataFrame or None
        ``territories.population_choice`` of the départements with ``alternative_population`` (the SSMSI base's
        own population, ``geo_code, year, population``) when given: where a rank or a verdict depends on it.
    """

    def __init__(
        self,
        ssmsi: pd.DataFrame,
        indicator: str,
        year: int,
        pop_dep: pd.DataFrame,
        geography: pd.DataFrame,
        unit: str = VICTIM,
        national: pd.DataFrame | None = None,
        alternative_population: pd.DataFrame | None = None,
    ) -> None:
        self.indicator = indicator
        self.year = int(year)
        pop_fr = (
            pop_dep.groupby("year", as_index=False)["population"].sum().assign(geo_code="FR")
            if not pop_dep.empty
            else pd.DataFrame(columns=["geo_code", "year", "population"])
        )
        totals = national_totals(ssmsi, indicator, unit, national)
        self.totals = national_rates(totals.loc[totals["year"] <= self.year], pop_fr)
        self.covered = bool((self.totals["year"] == self.year).any())
        self.departements = departement_table(ssmsi, indicator, self.year, pop_dep, geography, unit)
        self.change = year_change(self.totals, self.year)
        self.trend = national_trend(self.totals, self.year) if self.covered else None
        self.national_rate = value_for(self.totals, self.year, "rate")
        self.summary = departement_summary(self.departements, self.national_rate)
        self.population_choice = None
        if alternative_population is not None and not self.departements.empty:
            alt = alternative_population.loc[alternative_population["year"] == self.year]
            dep = self.departements.set_index("code")
            self.population_choice = population_choice(
                dep["count"], dep["population"], alt.set_index("geo_code")["population"]
            ).join(dep["nom"])

    def value(self, column: str, year: int | None = None):
        """A column of the national table for ``year`` (default: the letter's year), or None."""
        return value_for(self.totals, self.year if year is None else year, column)


def add_facts(
    facts, prefix: str, analysis: Analysis, *, source_id: str, edition: str, pop_edition: str
) -> None:
    """Declare the facts of one analysed indicator (the same keys every year; missing values as None).

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    prefix : str
        Key prefix (``"if"`` intrafamily, ``"vs"`` sexual violence).
    analysis : Analysis
    source_id, edition : str
        The SSMSI source and its edition.
    pop_edition : str
        Edition of the INSEE population file used as denominator.
    """

    a = analysis
    y = a.year
    base = dict(source_id=source_id, edition=edition, ref_year=y)
    # Units and notes are codes, worded in publications/_shared/outputs.yml (fact_units, fact_notes).
    facts.add(f"{prefix}_indicateur", a.indicator, kind="text", unit="", **base, note="ssmsi_indicator_name")
    facts.add(f"{prefix}_edition", edition, kind="text", unit="", **base, note="ssmsi_edition")
    entry = registry.by_ssmsi_name(a.indicator)
    facts.add(
        f"{prefix}_total",
        a.value("count"),
        unit="victims",
        **base,
        label=entry.label,
        details=entry.details(),
        note="national_total",
    )
    facts.add(
        f"{prefix}_taux",
        a.national_rate,
        kind="rate",
        decimals=1,
        unit="per_1000_inhabitants",
        **base,
        note="rate_denominator_insee",
        details={"pop_edition": str(pop_edition)},
    )
    facts.add(
        f"{prefix}_taux_ssmsi",
        a.value("ssmsi_rate"),
        kind="rate",
        decimals=1,
        unit="per_1000_inhabitants",
        **base,
        note="rate_population_ssmsi",
    )
    facts.add(
        f"{prefix}_evol",
        None if a.change is None else a.change.change,
        kind="change",
        decimals=1,
        unit="change_on_year",
        **base,
        details=change_details(a.change, a.value("count", y - 1), y - 1),
    )
    add_significance_fact(facts, f"{prefix}_evol_signif", a.change, **base, note="change_test")
    first = None if a.trend is None else a.trend.first_year
    facts.add(
        f"{prefix}_tendance",
        a.trend.annual_change if a.trend is not None and a.trend.estimable else None,
        kind="change",
        decimals=1,
        unit="average_annual_change",
        **base,
        note=None if first is None else "trend_model",
        details=trend_details(a.trend),
    )
    add_significance_fact(facts, f"{prefix}_tendance_signif", a.trend, **base)
    s = a.summary
    for key in ("n_above_poisson", "n_below_poisson", "n_up_poisson", "n_down_poisson"):
        facts.add(f"{prefix}_dep_{key}", s[key], unit="departements", **base, note="poisson_only")
    tau2 = a.departements.attrs.get("funnel_tau2")
    facts.add(
        f"{prefix}_dep_tau2",
        tau2,
        kind="number",
        decimals=3,
        unit="variance_rates_per_1000",
        **base,
        note="funnel_tau2",
    )
    # The names as the reference writes them; the code, for the letter to name the place in its language.
    facts.add(
        f"{prefix}_dep_max_nom", s["max_nom"], kind="text", unit="", **base, details={"code": s["max_code"]}
    )
    facts.add(
        f"{prefix}_dep_max_taux",
        s["max_rate"],
        kind="rate",
        decimals=1,
        unit="per_1000_inhabitants",
        **base,
    )
    facts.add(
        f"{prefix}_dep_min_nom", s["min_nom"], kind="text", unit="", **base, details={"code": s["min_code"]}
    )
    facts.add(
        f"{prefix}_dep_min_taux",
        s["min_rate"],
        kind="rate",
        decimals=1,
        unit="per_1000_inhabitants",
        **base,
    )
    facts.add(
        f"{prefix}_dep_ecart",
        s["ratio_max_min"],
        kind="rate",
        decimals=1,
        unit="ratio",
        **base,
        note="ratio_max_min",
    )
    facts.add(f"{prefix}_dep_n_dessus", s["n_above"], unit="departements", **base)
    facts.add(f"{prefix}_dep_n_dessous", s["n_below"], unit="departements", **base)
    facts.add(
        f"{prefix}_dep_n_hausse",
        s["n_up"],
        unit="departements",
        **base,
        note="departements_up",
        details={"previous_year": y - 1, "n_up_fdr": s["n_up_fdr"], "n_down_fdr": s["n_down_fdr"]},
    )
    facts.add(f"{prefix}_dep_n_baisse", s["n_down"], unit="departements", **base)
    choice = a.population_choice
    depends = None if choice is None else choice[choice["depends"]]
    facts.add(
        f"{prefix}_dep_choix_population",
        None if depends is None else ", ".join(depends["nom"].astype(str)) or None,
        kind="text",
        unit="departements",
        **base,
        note="population_choice",
        details={
            "n": None if depends is None else len(depends),
            "codes": None if depends is None else " ".join(map(str, depends.index)),
        },
    )
    facts.add(
        f"{prefix}_dep_n_petits",
        s["n_small"],
        unit="departements",
        **base,
        note="small_counts",
        details={"threshold": constants().small_count},
    )


def _rate_gap(table: pd.DataFrame, year: int) -> str:
    """Why the rate per 1,000 women of ``year`` cannot be computed: an id the template words."""
    if value_for(table, year, "female") is None:
        return "femmes_non_publie"
    if value_for(table, year, "women_15_64") is None:
        return "population_non_disponible"
    return ""


def add_conjugal_facts(facts, ns: pd.DataFrame, table: pd.DataFrame, year: int, pop_edition: str) -> None:
    """Declare the facts of conjugal violence recorded by police and gendarmerie (national series).

    Keys: ``vc_total``, ``vc_femmes``, ``vc_part_femmes``, ``vc_evol``, ``vc_evol_signif``, ``vc_taux_femmes``,
    ``vc_evol_publiee`` (the change on the year as SSMSI publishes it, beside the letter's own ``vc_evol``) and
    ``vc_type_<type>`` (the share of each type of violence among the recorded conjugal violence, as published:
    :data:`CONJUGAL_BY_TYPE`). A figure absent from the compilation is recorded as missing.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    ns : DataFrame
        The rows of the national series the letter may cite.
    table : DataFrame
        From :func:`conjugal_table`.
    year : int
    pop_edition : str
        Edition of the INSEE five-year-band file (denominator of computed rates).
    """

    source_id, edition = published.compilation(ns)
    common = dict(year=year, edition=edition, source_id=source_id)
    total = published.pick(ns, CONJUGAL, year, "total")
    published.add_fact(facts, "vc_total", total, display=True, unit="victims", **common)
    female = published.pick(ns, CONJUGAL, year, "female")
    published.add_fact(facts, "vc_femmes", female, unit="women", **common)

    share = value_for(table, year, "share")
    origin = value_for(table, year, "share_origin")
    share_pub = published.pick(ns, CONJUGAL_SHARE_WOMEN, year, "female")
    how = "share_published" if origin == "publié" else "share_computed"
    facts.add(
        "vc_part_femmes",
        share,
        kind="percent",
        decimals=0,
        unit="percent",
        source_id=source_id,
        edition=edition,
        ref_year=year,
        note=share_pub.fact_note() if share_pub is not None else how,
        details={
            "origin": "" if origin is None else str(origin),
            **(share_pub.provenance() if share_pub is not None and origin == "publié" else {}),
        },
    )

    current, previous, test = conjugal_change(ns, year)
    rounded = [p for p in (current, previous) if p is not None and p.qualifier]
    facts.add(
        "vc_evol",
        None if test is None else test.change,
        kind="change",
        decimals=1,
        unit="change_on_year",
        source_id=source_id,
        edition=edition,
        ref_year=year,
        note="change_on_published_totals_rounded" if rounded else "change_on_published_totals",
        details={
            **change_details(test, None if previous is None else previous.value, year - 1),
            "gap": "" if test is not None else ("annee" if current is None or previous is None else "etudes"),
        },
    )
    add_significance_fact(facts, "vc_evol_signif", test, source_id=source_id, edition=edition, ref_year=year)
    published.add_fact(
        facts,
        "vc_evol_publiee",
        published.pick(ns, CONJUGAL_CHANGE, year, None),
        kind="signed",
        unit="percent",
        **common,
    )
    for kind, indicator in CONJUGAL_BY_TYPE.items():
        published.add_fact(
            facts,
            f"vc_type_{kind}",
            published.pick(ns, indicator, year, None),
            kind="percent",
            unit="percent",
            **common,
        )

    rate = value_for(table, year, "rate")
    rate_origin = value_for(table, year, "rate_origin")
    facts.add(
        "vc_taux_femmes",
        rate,
        kind="rate",
        decimals=1,
        unit="per_1000_women_15_64",
        source_id=source_id,
        edition=edition,
        ref_year=year,
        note="rate_published_ssmsi" if rate_origin == "publié" else "rate_computed_women_15_64",
        details={
            "origin": "" if rate_origin is None else str(rate_origin),
            "pop_edition": str(pop_edition),
            "gap": _rate_gap(table, year) if rate is None else "",
        },
    )


def population_vintage(ssmsi: pd.DataFrame, indicator: str, year: int, unit: str = VICTIM) -> int | None:
    """Vintage of the population SSMSI's base divides by for ``year`` (the most frequent one), or None."""
    rows = indicator_rows(ssmsi, indicator, unit)
    rows = rows.loc[rows["year"] == int(year)]
    if rows.empty or "population_vintage" not in rows or rows["population_vintage"].dropna().empty:
        return None
    return int(rows["population_vintage"].dropna().mode().iloc[0])


def add_method_facts(
    facts,
    ssmsi: pd.DataFrame,
    indicator: str,
    year: int,
    *,
    source_id: str,
    edition: str,
    catalogue: dict,
    population_sources: dict[str, str],
    nomenclature_record: str,
) -> None:
    """Declare the method constants the letter's "Sources et méthodes" cites (so that no number is typed).

    Keys: the declared constants of methods.yml (``m_*``, :func:`observatoire.analysis.method.add_method_facts`),
    ``if_millesime_pop``, one key per entry of ``population_sources`` (the edition of that population file,
    e.g. ``{"pop_edition_gca": "insee_pop_gca"}``) and ``ssmsi_nomenclature_date`` (the month the base was
    re-released in the 2025 nomenclature, from the catalogue record ``nomenclature_record``).
    """
    method.add_method_facts(facts, ref_year=year)
    base = dict(source_id=source_id, edition=edition, ref_year=year)
    vintage = population_vintage(ssmsi, indicator, year)
    facts.add(
        "if_millesime_pop",
        None if vintage is None else str(vintage),
        kind="text",
        unit="",
        **base,
        note="population_vintage",
        details={"same_year": vintage == year},
    )
    for key, sid in population_sources.items():
        entry = catalogue.get(sid)
        closed = None if entry is None else re.search(r"(\d{4})\)?\s*$", str(entry.edition))
        facts.add(
            key,
            None if entry is None else str(entry.edition).replace("provisional", "provisoire"),
            kind="text",
            unit="",
            source_id=sid,
            edition=str(entry.edition) if entry is not None else "inconnue",
            ref_year=year,
            details={  # the edition's year, and the year its provisional estimates were closed, for any language
                "year": None if entry is None else str(entry.edition)[:4],
                "closed": None if closed is None else closed.group(1),
            },
        )
    entry = catalogue.get(nomenclature_record)
    facts.add(
        "ssmsi_nomenclature_date",
        None if entry is None or not entry.produced else format_date(entry.produced, day=False),
        kind="text",
        unit="",
        source_id=nomenclature_record if entry is not None else source_id,
        edition=str(entry.edition) if entry is not None else edition,
        ref_year=year,
        note="nomenclature_date",
        details={"iso": None if entry is None or not entry.produced else str(entry.produced)},
    )


def revision(older: pd.DataFrame, newer: pd.DataFrame, indicator: str, unit: str = VICTIM) -> dict | None:
    """The first year both editions cover, with the national count in each (to show a revision), or None.

    Parameters
    ----------
    older, newer : DataFrame
        Two editions of the départemental base (harmonised).
    indicator : str

    Returns
    -------
    dict or None
        ``year, older, newer, older_edition, newer_edition``: the year with the largest relative revision
        among the years both cover (ties: the earliest).
    """
    a = national_totals(older, indicator, unit).set_index("year")["count"]
    b = national_totals(newer, indicator, unit).set_index("year")["count"]
    common = sorted(set(a.index) & set(b.index))
    if not common:
        return None
    rel = {y: abs(b[y] / a[y] - 1) if a[y] else 0.0 for y in common}
    year = max(common, key=lambda y: (rel[y], -y))
    return {
        "year": int(year),
        "older": float(a[year]),
        "newer": float(b[year]),
        "older_edition": str(older["edition"].iloc[0]),
        "newer_edition": str(newer["edition"].iloc[0]),
    }


def rounded_years(ns: pd.DataFrame, table: pd.DataFrame) -> list[int]:
    """The years of the conjugal-violence table whose published total is rounded (a qualifier such as "plus de").

    The chart's note names them (its words: the notebook's metadata file).
    """
    return [
        int(y)
        for y in table["year"]
        if (p := published.pick(ns, CONJUGAL, int(y), "total")) is not None and p.qualifier
    ]
