"""Rates, exact Poisson intervals, two-year tests and GLM trends, against known values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from observatoire.analysis.statistics import (
    ChangeTest,
    TrendResult,
    add_rates,
    change_on_year,
    change_test,
    exact_poisson_change_p,
    funnel,
    funnel_sensitivity,
    loglinear_poisson,
    poisson_change_test,
    poisson_ci,
    quasi_poisson_change_p,
    rate_per,
    slope_tests,
    trend,
    winsor_consistency,
)
from observatoire.outputs.describe import describe

YEARS = np.arange(2012, 2024)


# Rates and intervals ------------------------------------------------------------------------------------------


def test_rate_per_thousand_and_denominators():
    assert rate_per(98, 10_000) == pytest.approx(9.8)
    assert rate_per(98, 10_000, per=100_000) == pytest.approx(980.0)
    rates = rate_per(
        pd.Series([1, 2, 3], index=["a", "b", "c"]), pd.Series([0, 1000, np.nan], index=["a", "b", "c"])
    )
    assert list(rates.index) == ["a", "b", "c"]
    assert math.isnan(rates["a"]) and rates["b"] == pytest.approx(2.0) and math.isnan(rates["c"])
    with pytest.raises(ValueError):
        rate_per(-1, 100)


def test_poisson_ci_known_values():
    low, high = poisson_ci(0)
    assert low == 0.0
    assert high == pytest.approx(3.689, abs=5e-4)
    low, high = poisson_ci(10)
    assert low == pytest.approx(4.795, abs=5e-4)
    assert high == pytest.approx(18.39, abs=5e-3)
    low90, high90 = poisson_ci(10, level=0.90)
    assert low < low90 < high90 < high


def test_poisson_ci_is_vectorised_and_keeps_missing():
    low, high = poisson_ci(np.array([0, 10, np.nan]))
    assert low.shape == (3,) and high.shape == (3,)
    assert low[1] == pytest.approx(4.795, abs=5e-4) and math.isnan(low[2]) and math.isnan(high[2])
    with pytest.raises(ValueError):
        poisson_ci(-1)


def test_add_rates_columns_and_small_flag():
    df = pd.DataFrame({"value": [5, 100, np.nan], "population": [1000, 20_000, 300]})
    out = add_rates(df)
    assert list(out.columns) == ["value", "population", "rate", "rate_low", "rate_high", "small_count"]
    assert out["rate"].tolist()[:2] == pytest.approx([5.0, 5.0])
    assert out.loc[1, "rate_low"] == pytest.approx(poisson_ci(100)[0] / 20_000 * 1000)
    assert out["small_count"].tolist() == [True, False, False]
    assert math.isnan(out.loc[2, "rate_low"])
    assert "rate" not in df.columns  # the input is left alone
    with pytest.raises(KeyError, match="pop"):
        add_rates(df, population="pop")


def test_change_on_year_never_bridges_a_gap():
    out = change_on_year(pd.Series({2019: 100, 2020: 110, 2022: 121, 2023: 0, 2024: 5}))
    assert out["year"].tolist() == [2019, 2020, 2022, 2023, 2024]
    assert out.loc[1, "change_abs"] == 10 and out.loc[1, "change_rel"] == pytest.approx(0.1)
    assert math.isnan(out.loc[2, "previous"]) and math.isnan(out.loc[2, "change_rel"])  # 2021 missing
    assert out.loc[3, "change_rel"] == pytest.approx(-1.0)
    assert math.isnan(out.loc[4, "change_rel"])  # previous is 0
    with pytest.raises(ValueError, match="duplicate"):
        change_on_year(pd.Series([1, 2], index=[2020, 2020]))


# Two-year test ------------------------------------------------------------------------------------------------


def test_poisson_change_test_matches_exact_binomial():
    result = poisson_change_test(10, 20)
    assert isinstance(result, ChangeTest)
    assert result.rate_ratio == pytest.approx(2.0)
    expected_p = 2 * stats.binom.sf(19, 30, 0.5)
    assert result.p_value == pytest.approx(expected_p)
    assert result.p_value == pytest.approx(0.0987, abs=1e-4)
    assert not result.significant
    # Clopper-Pearson bounds of p = 20/30 (beta quantiles) mapped to the ratio scale p / (1 - p).
    p_low, p_high = stats.beta.ppf(0.025, 20, 11), stats.beta.ppf(0.975, 21, 10)
    assert result.low == pytest.approx(p_low / (1 - p_low))
    assert result.high == pytest.approx(p_high / (1 - p_high))
    assert (result.low, result.high) == pytest.approx((0.8935, 4.7846), abs=1e-4)


def test_poisson_change_test_significance_agrees_with_interval():
    for c0, c1 in [(100, 150), (100, 105), (1000, 1090), (1000, 1100), (5, 0), (0, 7)]:
        result = poisson_change_test(c0, c1)
        excludes_one = result.low > 1 or result.high < 1
        assert result.significant == excludes_one, (c0, c1)


def test_poisson_change_test_with_exposures_compares_rates():
    same_rate = poisson_change_test(100, 200, exposure0=10_000, exposure1=20_000)
    assert same_rate.rate_ratio == pytest.approx(1.0)
    assert same_rate.p_value == pytest.approx(1.0)
    assert not same_rate.significant


def test_poisson_change_test_edge_cases():
    none = poisson_change_test(0, 0)
    assert math.isnan(none.rate_ratio) and none.p_value == 1.0 and not none.significant
    assert none.reason == "no_events_both_periods"  # a code, worded by statistics.jinja in each language
    assert describe(none) == "Évolution non estimable\u202f: aucun fait sur les deux périodes."
    assert describe(none, "en") == "Change not estimable (no event in either period)."
    from_zero = poisson_change_test(0, 7)
    assert math.isinf(from_zero.rate_ratio) and from_zero.significant
    with pytest.raises(ValueError):
        poisson_change_test(1.5, 2)
    with pytest.raises(ValueError):
        poisson_change_test(1, 2, exposure0=0)


def test_change_test_describe_fr():
    rise = describe(poisson_change_test(100, 150))
    assert rise.startswith("Hausse de +50,0\u202f% (IC à 95\u202f%\u202f: +15,7\u202f%\u202f; +95,2\u202f%)")
    assert "statistiquement significative" in rise
    flat = describe(poisson_change_test(100, 105))
    assert flat.startswith("Évolution de +5,0\u202f%") and "non significative" in flat


# Trend --------------------------------------------------------------------------------------------------------


def test_trend_recovers_exact_exponential_growth():
    counts = 1000 * 1.05 ** (YEARS - YEARS[0])
    result = trend(YEARS, counts)
    assert isinstance(result, TrendResult)
    assert result.annual_change == pytest.approx(0.05, abs=1e-9)
    assert result.family == "poisson"
    assert result.dispersion == pytest.approx(0.0, abs=1e-9)
    assert result.ci_low < 0.05 < result.ci_high
    assert (result.first_year, result.last_year, result.n_years) == (2012, 2023, 12)
    assert result.significant


def test_trend_with_exposure_is_a_trend_of_the_rate():
    population = 60e6 * 1.01 ** (YEARS - YEARS[0])
    counts = population * 0.002 * 1.03 ** (YEARS - YEARS[0])
    assert trend(YEARS, counts, exposure=population).annual_change == pytest.approx(0.03, abs=1e-9)
    assert trend(YEARS, counts).annual_change == pytest.approx(1.03 * 1.01 - 1, abs=1e-9)


def test_trend_reads_its_verdict_from_quasi_poisson_for_overdispersed_counts():
    rng = np.random.default_rng(20240601)
    mu = 500 * 1.02 ** (YEARS - YEARS[0])
    alpha = 0.05  # variance = mu + alpha * mu**2, about 13 times the Poisson variance here
    counts = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    auto = trend(YEARS, counts)
    poisson = trend(YEARS, counts, family="poisson")
    assert auto.dispersion > 1.5
    assert auto.family == "quasi_poisson" and poisson.family == "poisson"
    assert auto.method_fr == "quasi-Poisson"
    # Same data, honest (wider) interval once the overdispersion is modelled.
    assert (auto.ci_high - auto.ci_low) > 2 * (poisson.ci_high - poisson.ci_low)
    assert auto.ci_low < 0.02 < auto.ci_high
    # Both answers are carried by the one result.
    assert auto.p_value_poisson == pytest.approx(poisson.p_value)
    assert auto.ci_low_poisson == pytest.approx(poisson.ci_low)
    assert auto.annual_change == pytest.approx(poisson.annual_change)


def test_trend_keeps_poisson_for_poisson_counts():
    rng = np.random.default_rng(7)
    counts = rng.poisson(500 * 1.02 ** (YEARS - YEARS[0]))
    result = trend(YEARS, counts)
    assert result.dispersion < 1.0  # this draw shows no extra-Poisson variation: Poisson stands
    assert result.family == "poisson" and result.p_value == result.p_value_poisson
    assert result.ci_low < 0.02 < result.ci_high


def test_trend_with_too_few_years_returns_a_reason():
    result = trend([2022, 2023], [10, 12])
    assert math.isnan(result.annual_change) and not result.estimable and not result.significant
    assert result.reason == "too_few_years"
    assert describe(result) == "Tendance non estimable\u202f: moins de trois années disponibles (2)."
    assert describe(result, "en") == "Trend not estimable (fewer than three years available (2))."
    assert trend([], []).n_years == 0


def test_trend_handles_zero_counts_and_missing_years():
    all_zero = trend(YEARS, np.zeros(len(YEARS)))
    assert math.isnan(all_zero.annual_change) and all_zero.reason == "no_events"
    single = trend(YEARS, [0] * 11 + [5])  # the slope's MLE would be infinite
    assert math.isnan(single.annual_change) and single.reason == "events_one_year_only"
    assert describe(single) == (
        "Tendance non estimable\u202f: des faits enregistrés une seule année de la période."
    )
    some_zero = trend(YEARS, [0, 0, 1, 0, 2, 0, 0, 3, 1, 0, 0, 1])
    assert math.isfinite(some_zero.annual_change)
    counts = 1000 * 1.05 ** (YEARS - YEARS[0])
    counts[3] = np.nan  # a missing year is dropped, never filled
    gap = trend(YEARS, counts)
    assert gap.n_years == 11 and gap.annual_change == pytest.approx(0.05, abs=1e-9)


def test_trend_rejects_bad_input():
    with pytest.raises(ValueError, match="length"):
        trend([2020, 2021, 2022], [1, 2])
    with pytest.raises(ValueError, match="twice"):
        trend([2020, 2020, 2022], [1, 2, 3])
    with pytest.raises(ValueError, match="family"):
        trend(YEARS, np.ones(len(YEARS)), family="gaussian")


def test_trend_describe_fr():
    up = describe(trend(YEARS, 1000 * 1.05 ** (YEARS - YEARS[0])))
    assert up == (
        "Entre 2012 et 2023, évolution moyenne de +5,0\u202f% par an "
        "(IC à 95\u202f%\u202f: +4,5\u202f%\u202f; +5,5\u202f%), hausse statistiquement significative "
        "(modèle de Poisson)."
    )
    down = describe(trend(YEARS, 1000 * 0.95 ** (YEARS - YEARS[0])))
    assert "évolution moyenne de \u22125,0\u202f% par an" in down and "baisse statistiquement" in down
    assert "baisse moyenne" not in down
    flat = describe(trend([2020, 2021, 2022, 2023], [100, 102, 99, 101]))
    assert "évolution moyenne" in flat and "non significative" in flat


def test_describe_in_english():
    up = describe(trend(YEARS, 1000 * 1.05 ** (YEARS - YEARS[0])), "en")
    assert up == (
        "Between 2012 and 2023, average change of +5.0% a year (95% CI: +4.5% to +5.5%), "
        "statistically significant rise (Poisson model)."
    )
    rise = describe(poisson_change_test(100, 150), "en")
    assert rise.startswith("Rise of +50.0% (95% CI: +15.7% to +95.2%), statistically significant")
    with pytest.raises(TypeError):
        describe(0.5)


# Over-dispersion: agreement with statsmodels' reference fits -------------------------------------------------

#: A fixed over-dispersed series (nine years, like 2016-2024) and its population.
FIXED_YEARS = np.arange(2016, 2025)
FIXED_COUNTS = np.array([88_000, 97_500, 112_300, 130_100, 139_800, 160_200, 176_400, 185_100, 192_978])
FIXED_POP = np.array([66.6, 66.8, 66.9, 67.1, 67.3, 67.4, 67.6, 67.8, 68.0]) * 1e6


def _glm(counts, years, exposure=None):
    import statsmodels.api as sm

    X = sm.add_constant(years - years[0])
    offset = None if exposure is None else np.log(exposure)
    return sm.GLM(counts, X, family=sm.families.Poisson(), offset=offset)


def test_loglinear_fit_matches_statsmodels_poisson_glm():
    ref = _glm(FIXED_COUNTS, FIXED_YEARS, FIXED_POP).fit()
    fit = loglinear_poisson(FIXED_YEARS - 2016, FIXED_COUNTS, np.log(FIXED_POP))
    assert fit["slope"] == pytest.approx(ref.params[1], rel=1e-9)
    assert fit["se"] == pytest.approx(ref.bse[1], rel=1e-7)
    assert fit["pearson"] == pytest.approx(ref.pearson_chi2, rel=1e-7)
    assert fit["df"] == ref.df_resid and fit["converged"]
    # A batch gives each series' own fit.
    batch = loglinear_poisson(FIXED_YEARS - 2016, np.vstack([FIXED_COUNTS, FIXED_COUNTS[::-1]]))
    assert batch["slope"][0] == pytest.approx(_glm(FIXED_COUNTS, FIXED_YEARS).fit().params[1], rel=1e-9)
    assert batch["slope"][1] == pytest.approx(-batch["slope"][0], rel=1e-9)


def test_quasi_poisson_trend_matches_statsmodels_pearson_scale():
    ref = _glm(FIXED_COUNTS, FIXED_YEARS, FIXED_POP).fit(scale="X2", use_t=True)
    result = trend(FIXED_YEARS, FIXED_COUNTS, exposure=FIXED_POP)
    assert result.family == "quasi_poisson" and result.dispersion > 100
    assert result.dispersion == pytest.approx(ref.scale, rel=1e-7)
    assert result.p_value == pytest.approx(ref.pvalues[1], rel=1e-6)
    low, high = ref.conf_int(alpha=0.05)[1]
    assert (result.ci_low, result.ci_high) == pytest.approx((np.expm1(low), np.expm1(high)), rel=1e-7)
    assert result.df_resid == 7
    plain = _glm(FIXED_COUNTS, FIXED_YEARS, FIXED_POP).fit()
    assert result.p_value_poisson == pytest.approx(plain.pvalues[1], rel=1e-6, abs=1e-300)
    forced = trend(FIXED_YEARS, FIXED_COUNTS, FIXED_POP, family="quasi_poisson")
    assert (forced.p_value, forced.ci_low, forced.family) == (result.p_value, result.ci_low, result.family)


def test_negative_binomial_trend_matches_statsmodels_nb2():
    import statsmodels.api as sm

    X = sm.add_constant(FIXED_YEARS - 2016.0)
    ref = sm.NegativeBinomial(FIXED_COUNTS, X, offset=np.log(FIXED_POP), loglike_method="nb2").fit(
        disp=0, maxiter=500
    )
    result = trend(FIXED_YEARS, FIXED_COUNTS, exposure=FIXED_POP, family="negative_binomial")
    assert result.family == "negative_binomial" and result.note == ""
    assert result.nb_alpha == pytest.approx(ref.params[-1], rel=1e-4)
    assert np.log1p(result.annual_change) == pytest.approx(ref.params[1], rel=1e-5)
    assert result.p_value == pytest.approx(ref.pvalues[1], rel=1e-3)


def test_a_failed_negative_binomial_fit_is_reported_not_hidden(monkeypatch):
    import statsmodels.api as sm

    class Failing:
        def __init__(self, *args, **kwargs):
            pass

        def fit(self, **kwargs):
            raise np.linalg.LinAlgError("singular Hessian")

    monkeypatch.setattr(sm, "NegativeBinomial", Failing)
    result = trend(FIXED_YEARS, FIXED_COUNTS, exposure=FIXED_POP, family="negative_binomial")
    assert result.family == "quasi_poisson" and result.method_fr == "quasi-Poisson"
    assert result.note == "nb_failed"
    assert result.p_value == trend(FIXED_YEARS, FIXED_COUNTS, exposure=FIXED_POP).p_value


def test_women_killed_dispersion_of_one_and_a_half_is_not_ignored():
    # Women killed by a partner, 2016-2024 (DAV study): Poisson says p = 0.020, the Pearson dispersion is 1.46.
    counts = np.array([123, 130, 121, 146, 102, 122, 118, 96, 107])
    result = trend(FIXED_YEARS, counts)
    assert result.dispersion == pytest.approx(1.4587, abs=1e-3)
    assert result.p_value_poisson == pytest.approx(0.0201, abs=1e-3) and result.significant_poisson
    assert result.family == "quasi_poisson" and result.p_value > 0.05 and not result.significant
    assert "non significative" in describe(result) and "quasi-Poisson" in describe(result)


def test_change_test_borrows_the_series_dispersion():
    import statsmodels.api as sm

    result = change_test(FIXED_YEARS, FIXED_COUNTS, 2024, exposure=FIXED_POP)
    series = trend(FIXED_YEARS[:-2], FIXED_COUNTS[:-2], exposure=FIXED_POP[:-2], family="poisson")
    assert result.method == "quasi_poisson_test" and result.method_fr == "quasi-Poisson"
    assert result.dispersion == pytest.approx(series.dispersion) and result.df_resid == 5
    # Reference: the two-year Poisson GLM with the scale fixed at the other years' dispersion, Student t on 5 df.
    two = sm.GLM(
        FIXED_COUNTS[-2:],
        np.array([[1.0, 0.0], [1.0, 1.0]]),
        family=sm.families.Poisson(),
        offset=np.log(FIXED_POP[-2:]),
    ).fit(scale=series.dispersion)
    assert math.log(result.rate_ratio) == pytest.approx(two.params[1], rel=1e-9)
    t_stat = two.params[1] / two.bse[1]
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t_stat), 5), rel=1e-6)
    exact = poisson_change_test(FIXED_COUNTS[-2], FIXED_COUNTS[-1], FIXED_POP[-2], FIXED_POP[-1])
    assert result.p_value_poisson == exact.p_value and result.significant_poisson
    assert not result.significant and result.low < 1 < result.high
    assert "quasi-Poisson" in describe(result)


def test_change_test_keeps_the_exact_test_where_poisson_holds():
    counts = np.array([1000, 1010, 995, 1003, 1008, 999, 1001, 1100])  # dispersion below 1, then a jump
    years = np.arange(2017, 2025)
    result = change_test(years, counts, 2024)
    assert result.dispersion <= 1.0 and result.method == "exact_poisson"
    exact = poisson_change_test(1001, 1100)
    assert (result.p_value, result.low, result.high) == (exact.p_value, exact.low, exact.high)
    assert result.significant


def test_change_test_without_a_series_gives_no_verdict():
    result = change_test([2023, 2024], [100, 150], 2024)
    assert not result.significant and math.isnan(result.p_value)
    assert result.reason == "dispersion_min_years"
    assert describe(result) == (
        "Évolution non estimable\u202f: dispersion de la série non estimable (il faut au moins trois autres années)."
    )
    assert describe(result, "en") == (
        "Change not estimable (dispersion of the series not estimable (at least three other years are needed))."
    )
    assert result.significant_poisson  # the exact test alone would have claimed it
    with pytest.raises(ValueError, match="2023"):
        change_test([2022, 2024], [1, 2], 2024)


# Simulation: how often a trendless over-dispersed series is called significant ---------------------------------


def _nb_series(rng, n_series, mean, dispersion, n_years=9):
    """Negative-binomial counts without trend whose variance is ``dispersion * mean``."""
    alpha = (dispersion - 1) / mean
    return rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mean), size=(n_series, n_years)).astype(float)


@pytest.mark.parametrize(("mean", "dispersion"), [(120_000, 150.0), (190_000, 344.0)])
def test_simulation_overdispersion_aware_tests_hold_their_level(mean, dispersion):
    # 1,000 trendless series of nine years at the dispersion of the real series, through the vectorised core
    # that trend() and change_test() use.
    rng = np.random.default_rng(int(dispersion))
    counts = _nb_series(rng, 1000, mean, dispersion)
    tests = slope_tests(np.arange(9.0), counts)
    assert tests["quasi"].all() and tests["converged"].all()
    flagged_trend = np.mean(tests["p_value"] < 0.05)
    flagged_trend_poisson = np.mean(tests["p_value_poisson"] < 0.05)
    c0, c1 = counts[:, -2], counts[:, -1]
    others = slope_tests(np.arange(7.0), counts[:, :7])  # the dispersion of the years not compared
    flagged_change = np.mean(
        quasi_poisson_change_p(c0, c1, 1.0, 1.0, others["dispersion"], others["df"]) < 0.05
    )
    flagged_change_poisson = np.mean(exact_poisson_change_p(c0, c1) < 0.05)
    assert 0.02 <= flagged_trend <= 0.09, flagged_trend
    assert 0.02 <= flagged_change <= 0.09, flagged_change
    # Plain Poisson calls most of these trendless series "significant".
    assert flagged_trend_poisson > 0.30 and flagged_change_poisson > 0.30
    # The batch core is what the public functions return, series by series.
    years = np.arange(2016, 2025)
    for row, p_trend in zip(counts[:3], tests["p_value"][:3], strict=True):
        assert trend(years, row).p_value == pytest.approx(p_trend)
        change = change_test(years, row, 2024)
        assert change.p_value == pytest.approx(quasi_poisson_change_p(row[-2], row[-1], 1, 1, *_disp(row)))


def _disp(row):
    series = trend(np.arange(2016, 2023), row[:7], family="poisson")
    return series.dispersion, series.df_resid


# Funnel plot ---------------------------------------------------------------------------------------------------


def _areas(rng, n_areas=101, tau=0.4, rate=1.5):
    """Areas whose true rates (per 1,000) vary around ``rate`` with sd ``tau``, and their Poisson counts."""
    pops = np.geomspace(2e5, 2.6e6, n_areas)
    true = np.maximum(rate + tau * rng.standard_normal(n_areas), 0.05)
    return rng.poisson(true * pops / 1000).astype(float), pops


def test_funnel_additive_matches_spiegelhalter_formulas():
    rng = np.random.default_rng(11)
    counts, pops = _areas(rng)
    result = funnel(pd.Series(counts, index=[f"d{i}" for i in range(101)]), pops, target_rate=1.5)
    sd = np.sqrt(1.5 * 1000 / pops)
    z = (counts / pops * 1000 - 1.5) / sd
    low, high = np.quantile(z, [0.1, 0.9])
    # Spiegelhalter (2005)'s winsorised mean square, made consistent (methods.yml: consistency_factor true)
    phi = np.mean(np.clip(z, low, high) ** 2) / winsor_consistency(0.1)
    w = 1 / sd**2
    tau2 = (101 * phi - 100) / (w.sum() - (w**2).sum() / w.sum())
    assert result.attrs["phi"] == pytest.approx(phi) and result.attrs["tau2"] == pytest.approx(tau2)
    assert result.attrs["consistency"]
    published = funnel(pd.Series(counts), pops, target_rate=1.5, consistency=False)
    assert published.attrs["phi"] == pytest.approx(phi * winsor_consistency(0.1))
    assert result.attrs["adjusted"] and result.attrs["method"] == "additive"
    assert result["z_adj"].to_numpy() == pytest.approx(z * sd / np.sqrt(sd**2 + tau2))
    assert result["upper95"].to_numpy() == pytest.approx(1.5 + 1.959964 * np.sqrt(sd**2 + tau2), rel=1e-6)
    assert set(result["flag"]) <= {"above", "below", "within"}
    assert list(result.index[:2]) == ["d0", "d1"]
    # Exact Poisson limits flag many more areas than the adjusted ones.
    assert (result["flag_poisson"] != "within").sum() > 3 * (result["flag"] != "within").sum()
    multiplicative = funnel(counts, pops, target_rate=1.5, method="multiplicative")
    assert multiplicative["z_adj"].to_numpy() == pytest.approx(z / np.sqrt(phi))


def test_funnel_keeps_exact_poisson_limits_without_overdispersion():
    rng = np.random.default_rng(3)
    pops = np.geomspace(2e5, 2.6e6, 101)
    counts = rng.poisson(1.5 * pops / 1000).astype(float)
    result = funnel(counts, pops, target_rate=1.5)
    if result.attrs["phi"] <= 1:
        assert not result.attrs["adjusted"] and result.attrs["tau2"] == 0
        assert (result["lower998"] == result["lower998_poisson"]).all()
    assert (result["flag"] != "within").sum() <= 10


def test_funnel_reports_its_sensitivity_to_every_tuning_choice():
    rng = np.random.default_rng(5)
    counts, pops = _areas(rng)
    result = funnel(counts, pops)
    table = funnel_sensitivity(result)
    # every winsorising of methods.yml, with and without the consistency factor
    assert list(zip(table["consistency"], table["winsor"], strict=True)) == [
        (False, 0.05),
        (False, 0.10),
        (False, 0.20),
        (True, 0.05),
        (True, 0.10),
        (True, 0.20),
    ]
    main = table[table["main"]].iloc[0]
    assert (main["winsor"], main["consistency"]) == (0.10, True)
    assert main["phi"] == pytest.approx(result.attrs["phi"]) and main["same_as_main"]
    assert main["n_above"] == (result["flag"] == "above").sum()
    # Raw winsorised means fall with the fraction; made consistent, the three estimate the same variance.
    raw, consistent = table[~table["consistency"]], table[table["consistency"]]
    assert raw["phi"].is_monotonic_decreasing
    assert consistent["phi"].max() / consistent["phi"].min() < 1.3


def test_simulation_funnel_flags_about_five_percent_of_ordinary_areas():
    """Why the consistency factor: with it about 5 % of ordinary areas fall outside the 95 % limits; with the
    published estimator alone (the between-area variance underestimated) about 13 %."""
    rng = np.random.default_rng(2005)
    adjusted, published, poisson = [], [], []
    for _ in range(60):
        counts, pops = _areas(rng)
        result = funnel(counts, pops, target_rate=1.5)
        adjusted.append(np.mean(result["flag_95"] != "within"))
        poisson.append(np.mean(result["flag_95_poisson"] != "within"))
        plain = funnel(counts, pops, target_rate=1.5, consistency=False)
        published.append(np.mean(plain["flag_95"] != "within"))
    assert 0.02 <= np.mean(adjusted) <= 0.09, np.mean(adjusted)
    assert np.mean(published) > 0.11, np.mean(published)
    assert np.mean(poisson) > 0.30


def test_funnel_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        funnel([1, 2, 3], [10, 10, 10], method="other")
    with pytest.raises(ValueError, match="three areas"):
        funnel([1, 2], [10, 10])


def test_winsor_consistency_factor_is_the_normal_winsorised_second_moment():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(400_000)
    for w in (0.05, 0.10, 0.20):
        low, high = np.quantile(z, [w, 1 - w])
        assert winsor_consistency(w) == pytest.approx(np.mean(np.clip(z, low, high) ** 2), abs=3e-3)
    assert winsor_consistency(0.1) == pytest.approx(0.6787, abs=1e-3)
