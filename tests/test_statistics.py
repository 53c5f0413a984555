"""Rates, exact Poisson intervals, two-year tests and GLM trends, against known values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from observatoire.statistics import (
    ChangeTest,
    TrendResult,
    add_rates,
    change_on_year,
    poisson_change_test,
    poisson_ci,
    rate_per,
    trend,
)

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
    assert math.isnan(none.rate_ratio) and none.p_value == 1.0 and not none.significant and none.reason
    assert "non estimable" in none.describe_fr()
    from_zero = poisson_change_test(0, 7)
    assert math.isinf(from_zero.rate_ratio) and from_zero.significant
    with pytest.raises(ValueError):
        poisson_change_test(1.5, 2)
    with pytest.raises(ValueError):
        poisson_change_test(1, 2, exposure0=0)


def test_change_test_describe_fr():
    rise = poisson_change_test(100, 150).describe_fr()
    assert rise.startswith("Hausse de +50,0\u202f% (IC à 95\u202f%\u00a0: +15,7\u202f%\u202f; +95,2\u202f%)")
    assert "statistiquement significative" in rise
    flat = poisson_change_test(100, 105).describe_fr()
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


def test_trend_chooses_negative_binomial_for_overdispersed_counts():
    rng = np.random.default_rng(20240601)
    mu = 500 * 1.02 ** (YEARS - YEARS[0])
    alpha = 0.05  # variance = mu + alpha * mu**2, about 13 times the Poisson variance here
    counts = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    auto = trend(YEARS, counts)
    poisson = trend(YEARS, counts, family="poisson")
    assert auto.dispersion > 1.5
    assert auto.family == "negative_binomial" and poisson.family == "poisson"
    assert auto.nb_alpha > 0
    # Same data, honest (wider) interval once the overdispersion is modelled.
    assert (auto.ci_high - auto.ci_low) > 2 * (poisson.ci_high - poisson.ci_low)
    assert auto.ci_low < 0.02 < auto.ci_high


def test_trend_keeps_poisson_for_poisson_counts():
    rng = np.random.default_rng(7)
    counts = rng.poisson(500 * 1.02 ** (YEARS - YEARS[0]))
    result = trend(YEARS, counts)
    assert result.dispersion < 1.5
    assert result.family == "poisson"
    assert result.ci_low < 0.02 < result.ci_high


def test_trend_with_too_few_years_returns_a_reason():
    result = trend([2022, 2023], [10, 12])
    assert math.isnan(result.annual_change) and not result.estimable and not result.significant
    assert "moins de trois années" in result.reason
    assert result.describe_fr().startswith("Tendance non estimable")
    assert trend([], []).n_years == 0


def test_trend_handles_zero_counts_and_missing_years():
    all_zero = trend(YEARS, np.zeros(len(YEARS)))
    assert math.isnan(all_zero.annual_change) and "aucun fait" in all_zero.reason
    single = trend(YEARS, [0] * 11 + [5])  # the slope's MLE would be infinite
    assert math.isnan(single.annual_change) and "une seule année" in single.reason
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
    up = trend(YEARS, 1000 * 1.05 ** (YEARS - YEARS[0])).describe_fr()
    assert up == (
        "Entre 2012 et 2023, évolution moyenne de +5,0\u202f% par an "
        "(IC à 95\u202f%\u00a0: +4,5\u202f%\u202f; +5,5\u202f%), hausse statistiquement significative "
        "(modèle de Poisson)."
    )
    down = trend(YEARS, 1000 * 0.95 ** (YEARS - YEARS[0])).describe_fr()
    assert "évolution moyenne de \u22125,0\u202f% par an" in down and "baisse statistiquement" in down
    assert "baisse moyenne" not in down
    flat = trend([2020, 2021, 2022, 2023], [100, 102, 99, 101]).describe_fr()
    assert "évolution moyenne" in flat and "non significative" in flat
