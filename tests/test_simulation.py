"""The year-on-year test of every letter, simulated: its size under no change and its power, on series like the real.

Design (docs/METHODS.md quotes it with the figures this test prints):

* nine yearly counts (the span of SSMSI edition 2024, 2016-2024) drawn from a gamma-Poisson (negative binomial)
  model with a constant mean ``mu`` and a variance ``phi * mu``: the gamma shape is ``k = mu / (phi - 1)``;
* ``mu`` and ``phi`` are those of the real series, measured here with the letters' own rule
  (``statistics.series_dispersion``): the national count of sexual violence and of intrafamily assault in 2024 and
  its dispersion, and a typical département (median 2024 count and median dispersion of the 101 départements);
* the last year is multiplied by 1 (size), 1.10 and 1.20 (power); 20,000 series per cell, seed 20240101;
* the test is ``statistics.change_test_batch``, the letters' ``change_test`` vectorised (their p-values agree:
  tests/test_statistics.py), so the whole simulation takes about a second.
"""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.analysis import statistics as st
from observatoire.analysis.indicators import territories as terr
from observatoire.data import datasets
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL

SEED = 20240101
N_SERIES = 20_000
N_YEARS = 9
EFFECTS = (1.0, 1.10, 1.20)


def simulate(mu: float, phi: float, effect: float, seed: int = SEED, n: int = N_SERIES) -> float:
    """Share of the ``n`` simulated series whose last-year change the letters' test calls significant."""
    rng = np.random.default_rng(seed)
    means = np.full((n, N_YEARS), float(mu))
    means[:, -1] *= effect
    shape = mu / (phi - 1.0)
    counts = rng.poisson(rng.gamma(shape, means / shape))
    return float(st.change_test_batch(counts)["significant"].mean())


@pytest.fixture(scope="module")
def real_designs() -> dict[str, tuple[float, float]]:
    """``(mu, phi)`` of the real series: national and typical département, both indicators (edition 2024)."""
    ssmsi = datasets.ssmsi_departement("ssmsi_dep_2024")
    population = terr.population_by_departement(datasets.population("insee_pop_gca"))
    designs = {}
    for key, indicator in (("vs", SEXUAL), ("if", INTRAFAMILY)):
        table = terr.counts_by_departement(ssmsi, indicator).merge(population, on=["geo_code", "year"])
        nat = table.groupby("year")[["count", "population"]].sum().reset_index()
        phi = st.series_dispersion(nat["year"], nat["count"], nat["population"]).dispersion
        designs[f"{key}_national"] = (float(nat["count"].iloc[-1]), float(phi))
        phis = [
            st.series_dispersion(g["year"], g["count"], g["population"]).dispersion
            for _, g in table.groupby("geo_code")
        ]
        typical = float(table.loc[table["year"] == table["year"].max(), "count"].median())
        designs[f"{key}_departement"] = (typical, float(np.median(phis)))
    return designs


def test_designs_are_those_of_the_real_series(real_designs):
    # the national dispersions quoted in docs/METHODS.md (149 and 344), and a département's few hundred victims
    assert real_designs["vs_national"][1] == pytest.approx(148.7, abs=0.1)
    assert real_designs["if_national"][1] == pytest.approx(344.0, abs=0.1)
    assert real_designs["vs_departement"] == pytest.approx((896.0, 3.49), abs=0.01)
    assert real_designs["if_departement"] == pytest.approx((1360.0, 4.80), abs=0.01)


@pytest.mark.parametrize("design", ["vs_national", "if_national", "vs_departement", "if_departement"])
def test_size_is_close_to_five_percent_and_power_grows_with_the_change(real_designs, design, capsys):
    mu, phi = real_designs[design]
    size, power10, power20 = (simulate(mu, phi, effect) for effect in EFFECTS)
    with capsys.disabled():
        print(
            f"\n{design}: mu={mu:.0f} phi={phi:.1f} size={size:.3f} power+10%={power10:.3f} power+20%={power20:.3f}"
        )
    # 20,000 series: the standard error of a 5 % rejection rate is 0.15 point
    assert 0.042 <= size <= 0.058
    assert size < power10 < power20
    if design.endswith("departement"):
        assert power20 > 0.4  # a +20 % change in a typical département is detected about half the time


def test_the_simulated_test_is_the_letters_test():
    rng = np.random.default_rng(SEED)
    counts = rng.poisson(rng.gamma(300.0, np.full((40, N_YEARS), 1000.0) / 300.0))
    population = np.linspace(1.0e6, 1.05e6, N_YEARS)
    batch = st.change_test_batch(counts, population)
    years = np.arange(2016, 2016 + N_YEARS)
    for row, p_value in zip(counts, batch["p_value"], strict=True):
        assert st.change_test(years, row, years[-1], exposure=population).p_value == pytest.approx(p_value)


def test_the_territorial_letters_old_test_was_less_powerful():
    """The test the territorial letters used before (dispersion of the whole series, normal z) detected a +20 %
    change in a typical département less often; the unified test keeps its size."""
    rng = np.random.default_rng(SEED)
    mu, shape = 1200.0, 1200.0 / 2.5  # a dispersion of 3.5
    means = np.full((N_SERIES, N_YEARS), mu)
    means[:, -1] *= 1.2
    counts = rng.poisson(rng.gamma(shape, means / shape))
    fit = st.loglinear_poisson(np.arange(N_YEARS, dtype=float), counts)
    old_phi = np.maximum(fit["pearson"] / fit["df"], 1.0)
    log_ratio = np.log(counts[:, -1] / counts[:, -2])
    z = np.abs(log_ratio) / np.sqrt(old_phi * (1 / counts[:, -1] + 1 / counts[:, -2]))
    old_power = float((z > 1.959964).mean())
    new_power = float(st.change_test_batch(counts)["significant"].mean())
    assert new_power > old_power + 0.05
