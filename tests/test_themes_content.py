"""The domain logic of the thematic letters (traite, violences sexuelles, outre-mer), and their missing years.

Values are asserted against independent computations: Poisson quantiles summed by hand for the funnel limits,
the raw SSMSI CSV read with the csv module and INSEE's own subtotal row for the overseas rate ratio, the published
counts for the trafficking ratios. The end-to-end checks (marked ``e2e``) run each theme's notebooks for two
years and check that the facts have the same keys whatever the year.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from observatoire.analysis.indicators import published
from observatoire.analysis.indicators import territories as terr
from observatoire.analysis.indicators import trafficking as tr
from observatoire.analysis.statistics import winsor_consistency
from observatoire.core import paths
from observatoire.data import datasets
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL

# -- helpers -----------------------------------------------------------------------------------------------------


def _poisson_quantile_by_hand(p: float, mean: float) -> float:
    """Spiegelhalter's interpolated Poisson quantile, with the cdf summed term by term (no scipy)."""

    def pmf(k: int) -> float:  # in log space: exp(-mean) underflows for large means
        return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))

    cdf_prev, cdf, r = 0.0, pmf(0), 0
    while cdf < p:
        r += 1
        cdf_prev, cdf = cdf, cdf + pmf(r)
    return r - (cdf - p) / (cdf - cdf_prev)


@pytest.fixture(scope="module")
def national(raw_data):
    return published.citable(datasets.national_series("national_series_r3"))


@pytest.fixture(scope="module")
def ssmsi(raw_data):
    return datasets.ssmsi_departement("ssmsi_dep_2024")


@pytest.fixture(scope="module")
def population(raw_data):
    return datasets.population("insee_pop_gca")


# -- funnel plot limits -------------------------------------------------------------------------------------------


def test_funnel_limits_for_a_known_population():
    # 100,000 inhabitants at 1 per 1,000: 100 expected; exact 95 % limits 80.37 and 119.58 events.
    low, high = terr.funnel_limits(100_000, 1.0, level=0.95)
    assert low == pytest.approx(0.803663, abs=1e-6)
    assert high == pytest.approx(1.195809, abs=1e-6)
    assert low * 100 == pytest.approx(_poisson_quantile_by_hand(0.025, 100.0), abs=1e-9)
    assert high * 100 == pytest.approx(_poisson_quantile_by_hand(0.975, 100.0), abs=1e-9)
    # Close to the normal approximation 1 +/- 1.96 * sqrt(1/100) for a large expected count.
    assert low == pytest.approx(1 - 1.96 * 0.1, abs=0.002)
    assert high == pytest.approx(1 + 1.96 * 0.1, abs=0.002)


def test_funnel_limits_vectorised_and_narrowing():
    pops = np.array([20_000, 100_000, 1_000_000, 2_000_000])
    low, high = terr.funnel_limits(pops, 1.8, level=0.998)
    for n, lo, hi in zip(pops, low, high, strict=True):
        mean = n * 1.8 / 1000
        assert lo == pytest.approx(_poisson_quantile_by_hand(0.001, mean) * 1000 / n, rel=1e-9)
        assert hi == pytest.approx(_poisson_quantile_by_hand(0.999, mean) * 1000 / n, rel=1e-9)
    assert np.all(np.diff(high - low) < 0)  # the funnel narrows as the population grows
    assert np.all(low < 1.8) and np.all(high > 1.8)


def test_funnel_limits_small_population_and_bad_input():
    low, high = terr.funnel_limits(500, 1.0, level=0.998)  # 0.5 expected: the lower limit is zero
    assert low == 0.0 and high > 4
    with pytest.raises(ValueError):
        terr.funnel_limits(0, 1.0)
    with pytest.raises(ValueError):
        terr.funnel_limits(1000, 0.0)
    with pytest.raises(ValueError):
        terr.funnel_limits(1000, 1.0, level=1.0)


def test_overdispersion_factor():
    from observatoire.analysis.statistics import winsorised_phi

    # Winsorised mean square made consistent for normal z-scores (statistics.winsor_consistency).
    assert winsorised_phi([1.0, -1.0] * 10, 0.1, True) == pytest.approx(1.0 / winsor_consistency(0.1))
    assert winsorised_phi([1.0, -1.0] * 10, 0.1, False) == pytest.approx(1.0)
    z = np.linspace(-2, 2, 41)
    assert winsorised_phi(2 * z) == pytest.approx(4 * winsorised_phi(z))
    # Winsorising: one huge z-score barely moves the estimate.
    assert winsorised_phi([*z, 50.0]) < 1.5 * winsorised_phi(z)
    assert math.isnan(winsorised_phi([]))


def test_funnel_flags_an_area_above_the_limits():
    pops = np.array([50_000, 80_000, 120_000, 200_000, 300_000, 500_000, 800_000, 1_000_000])
    counts = np.round(pops * 2.0 / 1000)
    counts[-1] = 2600  # 2.6 per 1,000 where 2.0 is expected: far outside the Poisson limits
    df = pd.DataFrame({"area": list("abcdefgh"), "count": counts, "population": pops})
    result = terr.funnel(df, target_rate=2.0)
    row = result.table.set_index("area").loc["h"]
    assert row["outside_998"] == "au-dessus"
    assert row["expected"] == pytest.approx(2000)
    assert row["z"] == pytest.approx(600 / math.sqrt(2000))
    assert result.count_outside(0.998, "au-dessus") == 1
    assert result.count_outside(0.998, "en dessous") == 0
    # Default target: the pooled rate of the table.
    assert terr.funnel(df).target_rate == pytest.approx(counts.sum() / pops.sum() * 1000)


# -- overseas départements against metropolitan France ---------------------------------------------------------


def _raw_ssmsi_counts(indicator: str, year: int) -> dict[str, int]:
    """Counts by département read straight from the raw CSV (csv module, no loader)."""
    path = paths.RAW / "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.DictReader(handle, delimiter=";")
        return {
            r["Code_departement"]: int(r["nombre"])
            for r in rows
            if r["indicateur"] == indicator and r["annee"] == str(year) and r["unite_de_compte"] == "Victime"
        }


def _raw_insee_totals(year: int) -> dict[str, float]:
    """Total population by département and INSEE's 'France métropolitaine' row, read from the workbook itself."""
    sheet = pd.read_excel(
        paths.RAW / "estim-pop-dep-sexe-gca-1975-2024.xls", sheet_name=str(year), header=None, engine="xlrd"
    )
    out = {}
    for _, row in sheet.iterrows():
        key = str(row[0]).strip()
        if key.replace(".0", "").isdigit() or key in ("2A", "2B", "France métropolitaine"):
            out[key.replace(".0", "").zfill(2) if key[0].isdigit() else key] = float(row[7])
    return out


def test_overseas_rate_ratio_recomputed_from_raw_files(ssmsi, population):
    year, code = 2024, "974"
    counts = _raw_ssmsi_counts(SEXUAL, year)
    pops = _raw_insee_totals(year)
    metro_count = sum(v for k, v in counts.items() if not k.startswith("97"))
    expected = (counts[code] / pops[code]) / (metro_count / pops["France métropolitaine"])
    assert counts[code] == 2186 and metro_count == 117_600

    panel = terr.panel(ssmsi, population, SEXUAL, last_year=year)
    compared = terr.compare_to_reference(panel[panel["year"] == year]).set_index("geo_code")
    row = compared.loc[code]
    assert row["rate_ratio"] == pytest.approx(expected, rel=1e-12)
    assert row["rate_ratio"] == pytest.approx(1.3882, abs=1e-4)
    # Exact conditional interval: Clopper-Pearson (beta quantiles) on the share of La Réunion in the pooled count.
    n = counts[code] + metro_count
    odds = pops["France métropolitaine"] / pops[code]
    p_low = stats.beta.ppf(0.025, counts[code], n - counts[code] + 1)
    p_high = stats.beta.ppf(0.975, counts[code] + 1, n - counts[code])
    assert row["rr_low_poisson"] == pytest.approx(p_low / (1 - p_low) * odds, rel=1e-6)
    assert row["rr_high_poisson"] == pytest.approx(p_high / (1 - p_high) * odds, rel=1e-6)
    assert bool(row["rr_significant_poisson"])
    # The verdict the letter prints allows for the between-département variation: a wider interval.
    assert row["rr_method"] == "effets aléatoires additifs" and row["rr_tau2"] > 0
    assert row["rr_low"] < row["rr_low_poisson"] and row["rr_high"] > row["rr_high_poisson"]
    assert bool(row["rr_significant"]) == (row["rr_low"] > 1 or row["rr_high"] < 1)
    assert math.isnan(compared.loc[terr.METRO, "rate_ratio"])  # the reference is not compared with itself
    # Rates: the metropolitan aggregate is the sum of the 96 départements (INSEE's own subtotal).
    assert compared.loc[terr.METRO, "population"] == pops["France métropolitaine"]
    assert compared.loc[terr.METRO, "rate"] == pytest.approx(
        metro_count / pops["France métropolitaine"] * 1000
    )


def test_intrafamily_rates_of_the_overseas_departements(ssmsi, population):
    panel = terr.panel(ssmsi, population, INTRAFAMILY, last_year=2024)
    now = panel[panel["year"] == 2024].set_index("geo_code")
    assert now.loc["971", "count"] == 1839
    assert now.loc["971", "rate"] == pytest.approx(1839 / 378_561 * 1000)
    # exact Poisson bounds widened on the log scale by the square root of Guadeloupe's series dispersion
    low, high = stats.chi2.ppf(0.025, 2 * 1839) / 2, stats.chi2.ppf(0.975, 2 * 1840) / 2
    rate, widen = 1839 / 378_561 * 1000, math.sqrt(now.loc["971", "dispersion"])
    assert now.loc["971", "dispersion"] > 1
    assert now.loc["971", "rate_low"] == pytest.approx(rate * (low / 378_561 * 1000 / rate) ** widen)
    assert now.loc["971", "rate_high"] == pytest.approx(rate * (high / 378_561 * 1000 / rate) ** widen)
    assert now.loc[terr.FRANCE, "count"] == 192_978  # the published national total of edition 2024


def test_mayotte_denominators(ssmsi, population):
    gap = terr.denominator_gap(ssmsi, population, SEXUAL, terr.MAYOTTE).set_index("year")
    assert gap.loc[2024, "ssmsi_population"] == 256_518
    assert gap.loc[2024, "insee_population"] == 320_901
    assert gap.loc[2024, "gap"] == pytest.approx(320_901 / 256_518 - 1)
    alt = terr.ssmsi_population_by_departement(ssmsi, SEXUAL).set_index(["geo_code", "year"])["population"]
    assert alt.loc[(terr.MAYOTTE, 2024)] == 256_518
    assert (terr.MAYOTTE, 2030) not in alt.index


def test_women_age_structure_and_mayotte_before_2014(population):
    now = terr.women_age_structure(population, 2024, tuple(terr.OVERSEAS_NAMES)).set_index("geo_code")
    assert list(now.index) == ["971", "972", "973", "974", "976", terr.METRO]
    assert now.loc["976", "women"] == 167_956
    shares = now[[f"share_{g}" for g in terr.AGE_GROUPS]].sum(axis=1)
    assert np.allclose(shares, 100)
    before = terr.women_age_structure(population, 2013, tuple(terr.OVERSEAS_NAMES))
    assert "976" not in set(before["geo_code"])  # no estimate for Mayotte before 2014: absent, not filled
    assert "974" in set(before["geo_code"])


def test_trends_per_area(ssmsi, population):
    panel = terr.panel(ssmsi, population, SEXUAL, last_year=2024)
    result = terr.trends(panel[panel["geo_code"].isin(["974", terr.METRO])], 2016, 2024).set_index("geo_code")
    assert set(result["n_years"]) == {9}
    assert result.loc[terr.METRO, "direction"] == "hausse"
    assert result.loc["974", "ci_low"] < result.loc["974", "annual_change"] < result.loc["974", "ci_high"]


# -- missing years: territories ---------------------------------------------------------------------------------


def test_a_year_outside_the_edition_is_refused(ssmsi, population):
    panel = terr.panel(ssmsi, population, SEXUAL, last_year=2024)
    terr.check_year(panel, 2024)
    with pytest.raises(LookupError, match="2025"):
        terr.check_year(panel, 2025)
    with pytest.raises(LookupError, match="not in this SSMSI edition"):
        terr.counts_by_departement(datasets.ssmsi_departement("ssmsi_dep_2024_geo2025"), INTRAFAMILY)


def test_aggregates_are_missing_when_a_departement_is_missing():
    # Mayotte without a population for one year: France is missing that year, metropolitan France is not.
    codes = list(terr.METROPOLITAN) + list(terr.OVERSEAS)
    df = pd.DataFrame(
        {
            "geo_code": codes * 2,
            "year": [2013] * len(codes) + [2014] * len(codes),
            "count": 10.0,
            "population": 1000.0,
        }
    )
    df.loc[(df["geo_code"] == "976") & (df["year"] == 2013), "population"] = np.nan
    out = terr.aggregate_areas(df).set_index(["geo_code", "year"])
    assert math.isnan(out.loc[(terr.FRANCE, 2013), "population"])
    assert out.loc[(terr.FRANCE, 2014), "population"] == 101_000
    assert out.loc[(terr.METRO, 2013), "population"] == 96_000


# -- trafficking survey -----------------------------------------------------------------------------------------


def test_victims_per_responding_association(national):
    table = tr.annual_table(national)
    assert table.loc[2019, "accompagnees_par_association"] == pytest.approx(2573 / 37)
    assert table.loc[2024, "accompagnees_par_association"] == pytest.approx(4823 / 44)
    assert table.loc[2024, "reperees_par_association"] == pytest.approx(7285 / 44)
    assert table.loc[2020, "part_accompagnees"] == pytest.approx(100 * 2259 / 3489)
    assert table.loc[2021, "part_exploitees_en_france"] == pytest.approx(100 * 2637 / 2872)
    assert tr.per_association(2573, 37) == pytest.approx(69.5405, abs=1e-4)
    assert tr.per_association(2573, None) is None and tr.per_association(10, 0) is None


def test_two_sources_disagree_both_kept_one_used(national):
    table = tr.annual_table(national)
    assert table.loc[2021, "associations"] == 44  # Interstats (the survey's publication), not 45 (Collectif)
    assert table.loc[2021, "accompagnees_par_association"] == pytest.approx(2872 / 44)
    # r3 dropped the 45 (sup-0059: the results page and Interstats say 44): nothing left to disagree
    conflicts = tr.disagreements(tr.survey_rows(national))
    asso = conflicts[
        (conflicts["indicator"] == "traite_associations_repondantes") & (conflicts["year"] == 2021)
    ]
    assert asso.empty


def test_source_rule_on_synthetic_rows():
    rows = pd.DataFrame(
        [
            {
                "indicator": "traite_x",
                "year": 2020,
                "value": 1.0,
                "source_id": "national_series_vff_r2",
                "source_title": "Presse",
                "source_date": "2021",
            },
            {
                "indicator": "traite_x",
                "year": 2020,
                "value": 2.0,
                "source_id": "national_series_supplement_r2",
                "source_title": "Interstats n°1",
                "source_date": "2020",
            },
            {
                "indicator": "traite_y",
                "year": 2020,
                "value": 3.0,
                "source_id": "national_series_supplement_r2",
                "source_title": "Association",
                "source_date": "2022",
                "read_at_kind": "relay",
            },
            {
                "indicator": "traite_y",
                "year": 2020,
                "value": 4.0,
                "source_id": "national_series_vff_r2",
                "source_title": "Presse",
                "source_date": "2020",
                "read_at_kind": "official",
            },
            {
                "indicator": "traite_z",
                "year": 2020,
                "value": 5.0,
                "source_id": "national_series_supplement_r2",
                "source_title": "A",
                "source_date": "2020",
            },
            {
                "indicator": "traite_z",
                "year": 2020,
                "value": 6.0,
                "source_id": "national_series_supplement_r2",
                "source_title": "B",
                "source_date": "2023",
            },
        ]
    )
    chosen = tr.select_values(rows).set_index("indicator")
    assert chosen.loc["traite_x", "value"] == 2.0  # official publication first
    assert chosen.loc["traite_y", "value"] == 4.0  # then a figure read on an official page
    assert chosen.loc["traite_z", "value"] == 6.0  # then the most recent publication
    assert chosen["conflict"].all() and chosen.loc["traite_x", "alternatives"] == "1 (Presse)"


# -- missing years: trafficking ---------------------------------------------------------------------------------


def test_year_without_survey_edition_is_refused(national):
    assert tr.survey_years(national) == [2015, 2016, 2018, 2019, 2020, 2021, 2022, 2023, 2024]
    with pytest.raises(tr.NoSurveyYear, match="2017"):
        tr.check_year(national, 2017)
    assert issubclass(tr.NoSurveyYear, datasets.MissingData) and issubclass(tr.NoSurveyYear, LookupError)
    tr.check_year(national, 2023)


def test_missing_figures_stay_missing(national):
    table = tr.annual_table(national, last_year=2024)
    assert 2017 not in table.index  # no row of NaN for a year without an edition
    y2023, y2024 = tr.year_values(table, 2023), tr.year_values(table, 2024)
    assert y2023.keys() == y2024.keys() == tr.year_values(table, 2017).keys()  # same keys whatever the year
    assert all(v is None for v in tr.year_values(table, 2017).values())
    # r3: the 70 respondents of 2023 (vff-0136) have no stated period: missing, not placed on 2023
    assert y2023["associations"] is None and y2023["mineurs_accompagnes"] == 409
    assert y2023["accompagnees"] is None  # not 2022's 2,994
    assert y2023["accompagnees_par_association"] is None
    assert y2024["part_mineurs"] is None  # never 100 - share of adults
    # 2023 lacks the counts to compare; the 72 respondents of 2022 are held back by r3 ("à vérifier")
    assert tr.comparison_year(table, 2024) == 2021
    assert tr.comparison_year(table, 2015) is None
    assert tr.relative_change(None, 3.0) is None
    # A letter for 2022 never sees later editions.
    assert tr.annual_table(national, last_year=2022).index.max() == 2022


def test_administrative_series_is_kept_apart(national):
    assert tr.administrative_latest(national, "victimes_enregistrees", 2022) is None
    admin = tr.administrative_latest(national, "victimes_enregistrees", 2024)
    assert admin["value"] == 2100 and admin["year"] == 2023
    assert "traite_exploitation_victimes_enregistrees_services_securite" not in set(
        tr.survey_rows(national)["indicator"]
    )


# -- end to end: same fact keys every buildable year -----------------------------------------------------------

THEME_YEARS = {"traite": (2018, 2023, 2024), "violences_sexuelles": (2018, 2024), "outre_mer": (2018, 2024)}


def _facts_of(theme: str, year: int) -> dict[str, dict]:
    """The facts the edition's notebooks write, as written (no derived fact): the run of the prose checks
    (``prose.edition_facts``, cached under ``build/_facts`` and shared with the other modules that read them)."""
    from observatoire.publishing import prose

    prose.edition_facts(theme, year)
    root = paths.BUILD / "_facts" / theme / str(year)
    folder = next(p for p in root.iterdir() if (p / "facts").is_dir())
    facts = {}
    for path in sorted((folder / "facts").glob("*.json")):
        facts.update(json.loads(path.read_text(encoding="utf-8"))["facts"])
    return facts


@pytest.mark.e2e
@pytest.mark.parametrize("theme", sorted(THEME_YEARS))
def test_fact_keys_are_the_same_every_year(theme, raw_data):
    by_year = {year: _facts_of(theme, year) for year in THEME_YEARS[theme]}
    keys = [set(f) for f in by_year.values()]
    assert all(k == keys[0] for k in keys), {y: sorted(set(f) ^ keys[0]) for y, f in by_year.items()}
    # each key is the theme's own, or one every letter shares: the method's constants (m_*, cited by the
    # methods sections) and the date and compilation of the published figures it cites
    own = {"traite": "traite_", "violences_sexuelles": "vs_", "outre_mer": "om_"}[theme]
    strays = sorted(
        k for k in keys[0] if not k.startswith((own, "m_")) and k not in {"ns_edition", "lettre_date"}
    )
    assert not strays, strays
    for facts in by_year.values():
        for record in facts.values():
            if record["value"] is None:
                assert record["text"] == "donnée non disponible" and not record["available"]
