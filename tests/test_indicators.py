"""Unit tests of the annual letter's domain logic (``observatoire.analysis.indicators``), with asserted values.

Values are checked against the raw files (SSMSI base edition 2024, INSEE population workbooks, the national
series) and recomputed by hand where the logic computes something. The rule tested most: a figure missing for
the year asked is None (a missing fact), never the figure of a neighbouring year.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from observatoire.analysis.indicators import (
    homicides,
    protection,
    published,
    recorded,
    sexual,
    surveys,
    wording,
)
from observatoire.core.formatting import NOT_AVAILABLE
from observatoire.outputs.facts import Facts
from observatoire.outputs.words import fact_words

INTRAFAMILY = "Coups et blessures volontaires intrafamiliaux"
SEXUAL = "Violences sexuelles"


# Fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ns(raw_data):
    from observatoire.data import datasets

    return published.citable(datasets.national_series("national_series_r3"))


@pytest.fixture(scope="module")
def ssmsi(raw_data):
    from observatoire.data import datasets

    return datasets.ssmsi_departement("ssmsi_dep_2024")


@pytest.fixture(scope="module")
def pop_dep(raw_data):
    from observatoire.analysis.indicators import territories
    from observatoire.data import datasets

    return territories.population_by_departement(datasets.population("insee_pop_gca"))


@pytest.fixture(scope="module")
def geo(raw_data):
    from observatoire.data import datasets

    return datasets.geography()


@pytest.fixture(scope="module")
def analysis_vs_2024(ssmsi, pop_dep, geo):
    return recorded.Analysis(ssmsi, SEXUAL, 2024, pop_dep, geo)


def _rows(**columns) -> pd.DataFrame:
    """A small national-series table: every column a list of the same length."""
    n = len(next(iter(columns.values())))
    base = {
        "sex": ["total"] * n,
        "unit": ["persons"] * n,
        "source_id": ["national_series_vff_r2"] * n,
        "source_title": [f"source {i}" for i in range(n)],
        "source_url": [""] * n,
        "source_date": [""] * n,
        "note": [""] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


# published ------------------------------------------------------------------------------------------------------


def test_pick_prefers_a_stated_period_then_an_official_page_and_keeps_the_alternatives():
    ns = _rows(
        indicator=["x", "x", "x"],
        year=[2021, 2021, 2021],
        value=[509.0, 245.0, 300.0],
        row_id=["t-0001", "t-0002", "t-0003"],
        period_explicit=["no", "yes", "yes"],
        read_at_kind=["official", "relay", "official"],
    )
    chosen = published.pick(ns, "x", 2021)
    assert (chosen.value, chosen.row_id, chosen.period_explicit) == (300.0, "t-0003", True)
    assert [a.value for a in chosen.alternatives] == [245.0, 509.0]  # in order of precedence
    # a figure whose source states no period is never the first choice, and says so when it is the only one
    alone = published.pick(ns.iloc[:1], "x", 2021)
    assert alone.period_explicit is False and alone.provenance()["period_explicit"] is False


def test_citable_drops_later_held_and_duplicate_rows():
    ns = _rows(
        indicator=["x", "x", "x", "x"],
        year=[2021, 2021, 2021, 2022],
        value=[1.0, 1.0, 2.0, 3.0],
        row_id=["t-0001", "t-0002", "t-0003", "t-0004"],
        duplicate_of=["", "t-0001", "", ""],
        note=["", "", "À vérifier avant usage", ""],
        source_date=["2022-03", "2022-03", "2022", "2023-12-01"],
    )
    kept = published.citable(ns, published.letter_date(2022, "+1-11-25"))
    assert kept["row_id"].tolist() == ["t-0001"]
    assert kept.attrs["excluded"].set_index("row_id")["reason"].to_dict() == {
        "t-0004": "after_letter",
        "t-0003": "held",
        "t-0002": "duplicate",
    }
    # a duplicate whose target is gone stands in for it
    assert published.citable(ns.iloc[1:2])["row_id"].tolist() == ["t-0002"]


def test_pick_never_returns_a_neighbouring_year():
    ns = _rows(indicator=["x", "x"], year=[2020, 2022], value=[1.0, 3.0])
    assert published.pick(ns, "x", 2021) is None
    assert published.series(ns, "x").to_dict() == {2020: 1.0, 2022: 3.0}  # no 2021, not filled


def test_pick_skips_part_year_figures():
    ns = _rows(
        indicator=["x"], year=[2011], value=[584.0], note=["period Oct-May (7 months), not a full year"]
    )
    assert published.pick(ns, "x", 2011) is None


@pytest.mark.parametrize(
    "note, qualifier",
    [
        ('"plus de 100 000" (lower bound; first time above 100 000)', "plus de"),
        ('"seulement 1 400 ordonnances en 2017" (rounded)', "environ"),
        ("~87%", "environ"),
        ('"près de 123 000 victimes"', "près de"),
        ("", ""),
        (None, ""),
    ],
)
def test_qualifier_from_note(note, qualifier):
    assert published.qualifier_from_note(note) == qualifier


def test_real_series_precedence_and_gaps(ns):
    bar_2021 = published.pick(ns, "bracelets_anti_rapprochement_actifs", 2021, sex=None)
    assert bar_2021.value == 245 and [a.value for a in bar_2021.alternatives] == [509]
    assert published.pick(ns, "morts_violentes_couple", 2007, "male") is None  # gap in the series
    assert published.pick(ns, "ordonnances_protection_delivrees", 2011, sex=None) is None  # 7 months only
    calls_2024 = published.pick(ns, "appels_3919_pris_en_charge", 2024, sex=None)
    assert calls_2024.value == 100000 and calls_2024.qualifier == "plus de"


def test_add_fact_records_missing_as_none_and_displays_the_qualifier(ns):
    facts = Facts("t", "annual", 2024)
    pub = published.pick(ns, "appels_3919_pris_en_charge", 2024, sex=None)
    published.add_fact(
        facts,
        "calls",
        pub,
        year=2024,
        unit="appels",
        edition="2025-11",
        source_id="national_series_r3",
        display=True,
    )
    published.add_fact(
        facts,
        "none",
        None,
        year=2024,
        unit="appels",
        edition="2025-11",
        source_id="national_series_r3",
        display=True,
    )
    rec = facts.records
    assert rec["calls"]["value"] == 100000 and rec["calls"]["source_id"] == "national_series_r3"
    assert rec["calls"]["qualifier"] == "plus de" and "phrase" not in rec["calls"]
    assert rec["calls_affiche"]["text"] == "plus de 100\u202f000"
    assert rec["none"]["value"] is None and rec["none"]["text"] == NOT_AVAILABLE
    assert rec["none"]["qualifier"] == ""
    assert rec["none_affiche"]["value"] is None


def test_official_source_first_and_the_relaying_site_named_as_such(ns):
    pub = published.pick(ns, "appels_3919_pris_en_charge", 2017, sex=None)
    line = pub.source_line()
    assert line.startswith(
        "FNSF (Fédération nationale Solidarité Femmes), Analyse annuelle des appels au 3919"
    )
    assert "tf1info" not in line  # the relay is where it was read, never the source
    assert pub.relayed_by == "tf1info.fr" and pub.provenance()["read_at_kind"] == "relay"


# homicides ------------------------------------------------------------------------------------------------------


def test_scope_break():
    assert homicides.scope_of(2015) == homicides.SCOPE_BEFORE
    assert homicides.scope_of(2016) == homicides.SCOPE_FROM
    assert not homicides.same_scope(2015, 2016)
    assert homicides.same_scope(2016, 2017)


def test_no_change_across_the_scope_break(ns):
    current, previous, test = homicides.change_on_year(ns, 2016, "female")
    assert current.value == 123 and previous.value == 115
    assert test is None


def test_change_on_year_2024(ns):
    current, previous, test = homicides.change_on_year(ns, 2024, "female")
    assert (current.value, previous.value) == (107, 96)
    assert test.change == pytest.approx(107 / 96 - 1)
    # Exact conditional test by hand: given n = 203, 107 ~ Binomial(203, 1/2) under "no change".
    n = 203
    p_by_hand = min(1.0, 2 * min(stats.binom.cdf(107, n, 0.5), stats.binom.sf(106, n, 0.5)))
    assert test.p_value_poisson == pytest.approx(p_by_hand)
    # The verdict allows for the dispersion of the 2016-2022 series (about 1.6): quasi-Poisson, 5 df.
    assert test.method == "quasi_poisson_test" and test.df_resid == 5 and test.dispersion > 1
    assert test.p_value > test.p_value_poisson
    assert not test.significant


def test_trend_since_break_uses_only_same_scope_years(ns):
    result = homicides.trend_since_break(ns, 2024, "female")
    assert (result.first_year, result.last_year, result.n_years) == (2016, 2024, 9)
    assert result.annual_change < 0
    # Audit of the 2024 letter: significant under Poisson (p = 0.020), not once the dispersion (1.46) is allowed for.
    assert result.dispersion == pytest.approx(1.4587, abs=1e-3)
    assert result.p_value_poisson < 0.05 < result.p_value and not result.significant
    assert homicides.trend_since_break(ns, 2017, "female").estimable is False  # two years only


def test_share_of_women_and_headline_table(ns):
    assert homicides.share_of_women(ns, 2024) == pytest.approx(100 * 107 / 138)
    table = homicides.figures_for_year(ns, 2024)
    ref = table.loc[table["retenu"] == "reference"]
    assert ref["valeur"].tolist() == [107]
    # the MIPROF letter's 107 is the DAV figure taken up (duplicate_of vff-0082): printed once, never beside it
    assert "vff-0023" not in set(table["row_id"]) and table["row_id"].tolist().count("vff-0082") == 1
    # figures named by their code (the notebook's metadata words them in each language)
    assert table["indicateur"].tolist()[:3] == ["dav_female", "dav_male", "dav_total"]
    assert set(table["indicateur"]) <= {code for code, _, _ in homicides.FIGURES_FOR_YEAR}


def test_other_figures_of_the_year_are_codes_and_values(ns):
    table = homicides.figures_for_year(ns, 2016)
    others = table.loc[table["retenu"] == "other"]
    assert others["indicateur"].tolist() == ["official_only_female", "official_only_total", "all_deaths"]
    facts = Facts("a", "annual", 2016)
    homicides.add_facts(facts, ns, 2016)
    record = facts.records["mvc_autres_sources"]
    assert record["value"] == 3
    assert [record[f"figure_{i}"] for i in (1, 2, 3)] == others["indicateur"].tolist()
    assert [record[f"value_{i}"] for i in (1, 2, 3)] == others["valeur"].tolist()
    assert facts.records["mvc_champ"]["value"] == homicides.SCOPE_FROM


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_letter_names_each_other_figure_as_the_notebooks_table_does(lang):
    """The letter's words for a figure of another scope or count are those of the sources table, in each language."""
    from observatoire.core import paths
    from observatoire.outputs import templates, words

    meta = words.load_meta(paths.ROOT / "notebooks" / "annual" / "01_morts_violentes_couple.meta.yml")
    table_labels = meta.outputs["tables"]["morts-violentes-couple-sources"]["labels"]
    for code, indicator, _ in homicides.FIGURES_FOR_YEAR:
        if indicator == homicides.DEATHS:  # never "other": the national study's own rows
            continue
        record = {"available": True, "value": 1, "kind": "number", "figure_1": code, "value_1": 12}
        text = templates.render_text(
            "[[ words.mvc_other_figures ]]",
            {"mvc_autres_sources": record},
            {"lang": lang},
            search_path=paths.ROOT / "publications" / "annual",
        )
        expected = f"{table_labels[code][lang]}{' :' if lang == 'fr' else ':'} 12"
        assert templates.french_typography(expected) == text if lang == "fr" else expected == text


def test_deaths_table_shows_the_overlap_figures(ns):
    table = homicides.deaths_table(ns, 2024)
    overlap = table.loc[table["serie"] != homicides.MAIN_SERIES]
    assert set(overlap["annee"]) == {2014, 2015, 2016}
    assert set(overlap["serie"]) == {homicides.OTHER_SCOPE}
    assert (
        table.loc[(table["serie"] == homicides.MAIN_SERIES) & (table["sexe"] == "female"), "annee"].max()
        == 2024
    )
    # codes only (the notebook's metadata words them): the 2016 overlap covers official couples only
    assert set(table["sexe"]) == {"female", "male", "total"}
    assert set(overlap.loc[overlap["annee"] == 2016, "champ"]) == {homicides.SCOPE_BEFORE}
    assert set(overlap.loc[overlap["annee"] == 2015, "champ"]) == {homicides.SCOPE_FROM}
    # the rows in the order of the published tables: overlap figures first, then all people, women, men
    assert table["serie"].iloc[0] == homicides.OTHER_SCOPE
    main = table.loc[table["serie"] == homicides.MAIN_SERIES, "sexe"]
    assert list(dict.fromkeys(main)) == ["total", "female", "male"]
    assert table["annee"].max() <= 2024
    assert homicides.deaths_table(ns, 2017)["annee"].max() == 2017  # never a later year


def _keys(facts: Facts) -> set[str]:
    return set(facts.records)


def test_homicide_facts_same_keys_every_year_and_missing_not_borrowed(ns):
    f17, f24 = Facts("a", "annual", 2017), Facts("a", "annual", 2024)
    homicides.add_facts(f17, ns, 2017)
    homicides.add_facts(f24, ns, 2024)
    assert _keys(f17) == _keys(f24)
    # Children killed: published for 2016 (25) and 2018 (21), not for 2017.
    assert f17.records["mvc_enfants"]["value"] is None
    assert f17.records["mvc_enfants"]["text"] == NOT_AVAILABLE
    assert f17.records["mvc_femmes_tendance"]["value"] is None
    assert f24.records["mvc_femmes"]["value"] == 107
    assert (
        f24.records["mvc_femmes_evol_signif"]["value"] == 0
    )  # a value (1 or 0): the letter words it in its language


# recorded: national ---------------------------------------------------------------------------------------------


def test_national_totals_2024(ssmsi):
    vs = recorded.national_totals(ssmsi, SEXUAL).set_index("year")["count"]
    cbv = recorded.national_totals(ssmsi, INTRAFAMILY).set_index("year")["count"]
    assert vs[2024] == 122_610
    assert cbv[2024] == 192_978
    assert vs[2016] == 51_913  # edition 2024 (edition 2023 says 37 742: a revision)
    assert cbv[2023] == 191_679


def test_national_rate_uses_the_insee_estimate_of_the_same_year(analysis_vs_2024):
    row = analysis_vs_2024.totals.set_index("year").loc[2024]
    assert row["population"] == 68_373_433  # INSEE, 1 January 2024 (provisional), sum of the 101 départements
    assert row["rate"] == pytest.approx(122_610 / 68_373_433 * 1000)
    assert row["ssmsi_rate"] == pytest.approx(122_610 / 68_017_091 * 1000)  # census 2022 population


def test_national_change_2024(analysis_vs_2024):
    test = analysis_vs_2024.change
    # the rates are compared (statistics.change_of), as in every letter
    pop = analysis_vs_2024.totals.set_index("year")["population"]
    assert test.change == pytest.approx((122_610 / pop[2024]) / (114_079 / pop[2023]) - 1)
    # Exact Poisson calls +7.5 % hugely significant; with the series' dispersion (about 128) it is not.
    assert test.significant_poisson and test.p_value_poisson < 1e-10
    assert test.method == "quasi_poisson_test" and test.dispersion > 100
    assert not test.significant and test.low < 1 < test.high


def test_missing_year_gives_none_not_a_neighbour(ssmsi, pop_dep, geo):
    a = recorded.Analysis(ssmsi, SEXUAL, 2025, pop_dep, geo)
    assert not a.covered
    assert a.value("count") is None
    assert a.national_rate is None
    assert a.departements.empty
    assert a.change is None
    assert all(v is None for v in a.summary.values())
    assert recorded.value_for(a.totals, 2015, "count") is None


def test_missing_year_facts_keep_the_same_keys(ssmsi, pop_dep, geo, analysis_vs_2024):
    f25, f24 = Facts("b", "annual", 2025), Facts("b", "annual", 2024)
    for facts, analysis in (
        (f25, recorded.Analysis(ssmsi, SEXUAL, 2025, pop_dep, geo)),
        (f24, analysis_vs_2024),
    ):
        recorded.add_facts(
            facts,
            "vs",
            analysis,
            source_id="ssmsi_dep_2024",
            edition="2024",
            pop_edition="x",
        )
    assert _keys(f25) == _keys(f24)
    assert f25.records["vs_total"]["value"] is None
    assert f24.records["vs_total"]["value"] == 122_610
    # units and notes are codes; their words, in each language, come from publications/_shared/outputs.yml
    rate, trend = f24.records["vs_taux"], f24.records["vs_tendance"]
    assert (rate["unit"], rate["note"], rate["pop_edition"]) == (
        "per_1000_inhabitants",
        "rate_denominator_insee",
        "x",
    )
    assert (
        fact_words(rate, "fr")["note"]
        == "dénominateur : population estimée par l'Insee au 1er janvier 2024 (édition x)"
    )
    assert fact_words(rate, "en")["unit"] == "per 1,000 inhabitants"
    assert fact_words(trend, "fr") == {
        "unit": "évolution annuelle moyenne",
        "note": f"modèle log-linéaire {trend['first_year']}-2024 sur le nombre de victimes avec la population en "
        "exposition ; quasi-Poisson si la dispersion de Pearson dépasse 1",
    }
    assert fact_words(f25.records["vs_tendance"], "en")["note"] is None  # no trend, no model to describe


def test_older_edition_does_not_cover_2024(raw_data, pop_dep, geo):
    from observatoire.data import datasets

    old = datasets.ssmsi_departement("ssmsi_dep_2023")
    a = recorded.Analysis(old, SEXUAL, 2024, pop_dep, geo, national=datasets.ssmsi_national("ssmsi_dep_2023"))
    assert a.value("count") is None  # not the 2023 figure
    assert recorded.value_for(a.totals, 2023, "count") == pytest.approx(
        recorded.national_totals(old, SEXUAL).set_index("year").loc[2023, "count"]
        + 1  # one un-localised victim
    )


# recorded: départements -----------------------------------------------------------------------------------------


def test_departement_rate_recomputed_by_hand(analysis_vs_2024):
    dep = analysis_vs_2024.departements.set_index("code")
    assert len(dep) == 101
    lozere = dep.loc["48"]
    # Lozère, 2024: 148 victims of sexual violence (SSMSI base); 76 647 inhabitants on 1 January 2024 (INSEE).
    assert lozere["count"] == 148
    assert lozere["population"] == 76_647
    assert lozere["rate"] == pytest.approx(148 / 76_647 * 1000)
    # exact Poisson bounds widened on the log scale by sqrt of Lozère's series dispersion (statistics.add_rates)
    rate, widen = 148 / 76_647 * 1000, np.sqrt(lozere["rate_dispersion"])
    low = stats.chi2.ppf(0.025, 2 * 148) / 2 / 76_647 * 1000
    high = stats.chi2.ppf(0.975, 2 * 149) / 2 / 76_647 * 1000
    assert lozere["rate_dispersion"] >= 1
    expected = (rate * (low / rate) ** widen, rate * (high / rate) ** widen)
    assert (lozere["rate_low"], lozere["rate_high"]) == (
        pytest.approx(expected[0]),
        pytest.approx(expected[1]),
    )
    assert lozere["outre_mer"] is np.False_ or lozere["outre_mer"] is False
    assert dep["outre_mer"].sum() == 5


def test_departement_ranks_and_changes(analysis_vs_2024):
    dep = analysis_vs_2024.departements
    assert dep["rank"].iloc[0] == 1 and dep["rate"].is_monotonic_decreasing
    assert dep.loc[dep["rank"] == 1, "nom"].item() == "Paris"
    row = dep.set_index("code").loc["48"]
    assert row["change_rel"] == pytest.approx(row["count"] / row["previous"] - 1)
    # Benjamini-Hochberg never makes a p-value smaller.
    assert (dep["p_adjusted"] >= dep["p_value"] - 1e-12).all()
    assert not (dep["significant_fdr"] & ~dep["significant"]).any()


def test_departement_summary_counts(analysis_vs_2024):
    s = analysis_vs_2024.summary
    dep = analysis_vs_2024.departements
    rate = analysis_vs_2024.national_rate
    assert s["n_departements"] == 101
    # Above / below: the funnel widened by the between-département variance (its adjusted z-score says the same).
    assert s["n_above"] == int((dep["flag"] == "above").sum()) == int((dep["z_adj"] > 1.959964).sum())
    assert s["n_below"] == int((dep["flag"] == "below").sum()) == int((dep["z_adj"] < -1.959964).sum())
    assert rate > 0
    assert s["n_above_poisson"] == int((dep["flag_poisson"] == "above").sum()) > 3 * s["n_above"]
    assert dep.attrs["funnel_tau2"] > 0
    assert s["max_nom"] == "Paris"
    assert s["ratio_max_min"] == pytest.approx(dep["rate"].max() / dep["rate"].min())


def test_extremes_table(analysis_vs_2024):
    table = recorded.extremes(analysis_vs_2024.departements, n=5)
    assert len(table) == 10
    assert table["rang"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert table["rang"].tolist()[-1] == 101


def test_small_counts_are_flagged():
    ssmsi = pd.DataFrame(
        {
            "indicator": [SEXUAL] * 2,
            "unit": ["Victime"] * 2,
            "geo_level": ["departement"] * 2,
            "geo_code": ["01", "02"],
            "year": [2024, 2024],
            "value": [5.0, 500.0],
        }
    )
    pop = pd.DataFrame({"geo_code": ["01", "02"], "year": [2024, 2024], "population": [10_000.0, 100_000.0]})
    geo = pd.DataFrame(
        {
            "code_departement": ["01", "02"],
            "nom_departement": ["A", "B"],
            "code_region": ["1", "1"],
            "nom_region": ["R", "R"],
            "is_overseas": [False, True],
        }
    )
    dep = recorded.departement_table(ssmsi, SEXUAL, 2024, pop, geo).set_index("code")
    assert dep.loc["01", "small_count"] and not dep.loc["02", "small_count"]
    assert dep.loc["01", "rate"] == pytest.approx(0.5)
    assert dep["previous"].isna().all()  # no 2023 rows: no change, not a borrowed one
    assert recorded.departement_summary(dep.reset_index(), 1.0)["n_up"] is None


def test_revision_between_editions(raw_data, ssmsi):
    from observatoire.data import datasets

    rev = recorded.revision(datasets.ssmsi_departement("ssmsi_dep_2023"), ssmsi, SEXUAL)
    assert rev == {
        "year": 2016,
        "older": 37_742.0,
        "newer": 51_913.0,
        "older_edition": "2023",
        "newer_edition": "2024",
    }


# recorded: conjugal violence (national series) ------------------------------------------------------------------


def test_conjugal_table_published_and_computed(ns):
    women = {2019: 20_000_000.0, 2020: 20_000_000.0}

    def women_15_64(year):
        if year not in women:
            raise LookupError(year)
        return women[year]

    table = recorded.conjugal_table(ns, 2024, women_15_64).set_index("year")
    assert table.loc[2019, "share_origin"] == "calculé"
    assert table.loc[2019, "share"] == pytest.approx(100 * 125_840 / 142_310)
    assert table.loc[2023, "share_origin"] == "publié" and table.loc[2023, "share"] == 85
    assert table.loc[2022, "rate_origin"] == "publié" and table.loc[2022, "rate"] == 9.8
    assert table.loc[2019, "rate"] == pytest.approx(125_840 / 20_000_000 * 1000)
    assert pd.isna(table.loc[2024, "rate"])  # neither published nor computable: missing
    # 2023 and 2024 come from two SSMSI studies (each revises the year before): no change is chained across them
    assert not recorded.same_study(ns, 2024) and pd.isna(table.loc[2024, "change_rel"])
    assert table["change_rel"].isna().all()
    assert 2017 not in table.index  # no published total: absent, never filled


def test_conjugal_change_is_missing_without_the_previous_year_or_across_studies(ns):
    _, previous, test = recorded.conjugal_change(ns, 2018)
    assert previous is None and test is None
    current, previous, test = recorded.conjugal_change(ns, 2024)
    assert (current.value, previous.value, test) == (272_400, 271_263, None)


# sexual ----------------------------------------------------------------------------------------------------------


def test_sexual_shares_only_for_published_years(ns):
    facts = Facts("c", "annual", 2023)
    sexual.add_facts(facts, ns, 2023)
    rec = facts.records
    assert rec["vs_part_mineurs"]["value"] == 57
    assert rec["vs_part_femmes"]["value"] is None  # published for 2022 and 2024, not 2023
    shares = sexual.shares_table(ns, 2023)
    assert shares["annee"].max() <= 2023


# surveys ---------------------------------------------------------------------------------------------------------


def test_survey_break_and_estimates(ns):
    table = surveys.survey_table(ns, 2024)
    # r3 states no reference year for any VRS victim estimate: none is placed on a year
    assert surveys.break_between(table) == (2018, None)
    assert surveys.estimate(table, surveys.THEME_CONJUGAL, surveys.MEASURE_VICTIMS, "Femmes", 2024) is None
    last = surveys.latest_estimate(table, surveys.THEME_CONJUGAL, surveys.MEASURE_VICTIMS, "Femmes", 2024)
    # the survey is not named on the page read: no survey is claimed; its period is not stated either
    assert (last["enquete"], last["value"], last["period_explicit"]) == ("", 376_000, False)
    assert last["periode"] == "non précisée (chiffre publié en novembre 2025)"
    cvs = surveys.estimate(table, surveys.THEME_CONJUGAL, surveys.MEASURE_VICTIMS, "Femmes", 2018)
    assert cvs["enquete"] == "CVS" and cvs["periode"] == "moyenne annuelle 2011-2018"
    assert cvs["population"] == "femmes de 18 à 75 ans vivant en ménage ordinaire, France métropolitaine"


def test_survey_chart_keeps_surveys_apart_and_measures_comparable(ns):
    data = surveys.chart_data(surveys.survey_table(ns, 2024))
    assert set(data["enquete"]) == {"CVS"}  # the VRS estimates of r3 state no reference year: table only
    # Harassment and image-based abuse is not "sexual violence" in the chart's sense.
    assert not (data["milliers"] > 1000).any()


def test_survey_facts_same_keys_and_latest_carries_its_year(ns):
    f17, f24 = Facts("d", "annual", 2017), Facts("d", "annual", 2024)
    surveys.add_facts(f17, surveys.survey_table(ns, 2017), ns, 2017)
    surveys.add_facts(f24, surveys.survey_table(ns, 2024), ns, 2024)
    assert _keys(f17) == _keys(f24)
    latest = f24.records["enq_vc_femmes_dernier"]
    assert latest["ref_year"] is None and latest["period_explicit"] is False and latest["survey"] == ""
    assert latest["published_on"] == "novembre 2025"
    assert f24.records["enq_vc_femmes"]["value"] is None
    # what the figure counts and its population come from the source record, as worded
    rape = f24.records["enq_vs_femmes_dernier"]
    assert rape["definition"].startswith("victimes de viol, tentative de viol ou agression sexuelle")
    assert rape["population"] == "femmes majeures (âge exact non vu)" and rape["value"] == 277_000
    harassment = f24.records["enq_harcelement_dernier"]
    assert (harassment["value"], harassment["row_id"]) == (1_371_000, "vff-0180")


def test_the_latest_complaint_figure_is_not_skipped_for_its_unit(ns):
    facts = Facts("d", "annual", 2024)
    surveys.add_facts(facts, surveys.survey_table(ns, 2024), ns, 2024)
    latest = facts.records["enq_plainte_vc_dernier"]
    assert (latest["estimate_year"], latest["value"], latest["one_in_n"]) == (2023, 6, True)
    assert latest["kind"] == "number" and latest["unit"] == "one_in_n"


# protection ------------------------------------------------------------------------------------------------------


def test_protection_chart_segments_leave_gaps(ns):
    data = protection.chart_data(protection.measures_table(ns, 2024))
    calls = data.loc[data["mesure"] == "pris_en_charge"].set_index("year")["segment"]
    # 2021 (vff-0003) states no period in r3: not drawn, so 2020 and 2022 are not joined across it
    assert 2021 not in calls.index
    assert calls[2019] == calls[2020] and calls[2022] != calls[2020]
    assert len({calls[2017], calls[2019], calls[2022], calls[2024]}) == 4  # 2018, 2021 and 2023: four runs
    assert 2011 not in set(data.loc[data["famille"] == protection.FAMILIES[0], "year"])  # part-year figure


def test_protection_availability_says_missing(ns):
    table = protection.availability(protection.measures_table(ns, 2024), 2024).set_index("mesure")
    op = table.loc["delivrees"]
    assert pd.isna(op["valeur_annee"]) and op["derniere_annee"] == 2021
    assert table.loc["pris_en_charge", "valeur_annee"] == 100000


def test_protection_facts(ns):
    facts = Facts("e", "annual", 2024)
    protection.add_facts(facts, ns, 2024)
    rec = facts.records
    assert rec["op_delivrees"]["value"] is None
    assert rec["bar_actifs"]["value"] == 983
    assert rec["appels_3919"]["qualifier"] == "plus de" and rec["appels_3919"]["publisher"].startswith("FNSF")
    assert rec["prot_n_disponibles"]["value"] == 2


# wording ---------------------------------------------------------------------------------------------------------


def test_trend_and_change_details_carry_values_not_words():
    from observatoire.analysis.statistics import ChangeTest, TrendResult

    down = TrendResult(-0.027, -0.05, -0.004, 0.02, "poisson", 1.0, 2016, 2024, 9)
    d = wording.trend_details(down)
    assert (d["direction"], d["significant"], d["method"], d["first_year"], d["ci_low"]) == (
        "baisse",
        True,
        "poisson",
        2016,
        -0.05,
    )
    short = TrendResult(math.nan, math.nan, math.nan, math.nan, "", math.nan, 2016, 2017, 2, reason="x")
    d = wording.trend_details(short)
    assert (d["n_years"], d["significant"], d["ci_low"], d["reason"]) == (2, None, None, "x")
    assert set(d) == set(wording.trend_details(None)) == set(wording.trend_details(down))
    test = ChangeTest(1.115, 0.84, 1.48, 0.48, False)
    c = wording.change_details(test, 96, 2023)
    assert (c["previous"], c["previous_year"], c["direction"], c["method"]) == (
        96,
        2023,
        "hausse",
        "exact_poisson",
    )
    assert c["ci_low"] == pytest.approx(-0.16)


def test_cited_rows_once_each_and_the_official_share_in_the_manifest():
    from observatoire.publishing import manifest

    def record(row_id, kind, available=True):
        return {
            "row_id": row_id,
            "read_at_kind": kind,
            "available": available,
            "source_id": "s",
            "edition": "e",
        }

    records = {
        "a": record("vff-0001", "official"),
        "b": record("vff-0001", "official"),  # the same row cited twice counts once
        "c": record("vff-0002", "relay"),
        "d": record("vff-0003", "data_file"),
        "e": record("vff-0004", "relay", available=False),  # not printed: not counted
        "f": {"available": True},  # not a published figure
    }
    rows = published.cited_rows(records)
    assert [r["row_id"] for r in rows] == ["vff-0001", "vff-0002", "vff-0003"] and rows[0]["facts"] == "a, b"
    share = published.official_share(records)
    assert (share["n_cited"], share["n_official"], share["n_relay"]) == (3, 2, 1)
    assert share["share"] == pytest.approx(200 / 3)
    assert published.official_share({"f": {"available": True}}) is None
    built = manifest.make_manifest(
        theme="t", title="T", year=2024, parameters={}, key="k", key_inputs={}, inputs=[], renderer="quarto",
        renderer_version="1", letter={}, outputs={}, cited_rows=rows,
    )  # fmt: skip
    assert [r["row_id"] for r in built["cited_rows"]] == ["vff-0001", "vff-0002", "vff-0003"]


# provenance words in each language ------------------------------------------------------------------------------


def _untranslated(french, english, columns):
    """The cells of ``columns`` the English table prints as the French one does (rows in the same order)."""
    assert len(french) == len(english) and list(french["row_id"]) == list(english["row_id"])
    return {
        c: [f for f, e in zip(french[c], english[c], strict=True) if isinstance(f, str) and f and f == e]
        for c in columns
    }


def test_the_provenance_words_exist_in_every_language():
    french, english = published.words("fr"), published.words("en")
    assert set(french) == set(english) and set(french["read_at_kind"]) == set(english["read_at_kind"])
    assert english["read_at_kind"]["relay"].format(site="x.fr") == "relay: x.fr"


def test_the_english_tables_of_published_figures_have_no_french_cells(ns):
    """What the code words (a series' label, where a figure was read, a period the source does not state) is in
    English, row by row; the source's own words (what is counted, whom, a period it states) and the producers'
    names stay as published; the values are the same."""
    from observatoire.analysis.indicators import registry

    def unstated(frame):
        return frame.assign(
            periode=frame["periode"].where(frame["periode"].str.startswith("non précisée"), "")
        )

    french, english = surveys.survey_table(ns, 2024), surveys.survey_table(ns, 2024, "en")
    assert _untranslated(unstated(french), english, ["libelle", "lu_sur", "periode"]) == {
        "libelle": [],
        "lu_sur": [],
        "periode": [],
    }
    assert list(french["value"]) == list(english["value"])
    assert "non précisée (chiffre publié en novembre 2025)" in set(french["periode"])
    assert "not stated (figure published in November 2025)" in set(english["periode"])
    assert "Victimes de violences conjugales" in set(french["libelle"])
    assert "Victims of intimate-partner violence" in set(english["libelle"])
    french = registry.relabel(sexual.shares_table(ns, 2024), "fr", "mesure")
    english = registry.relabel(sexual.shares_table(ns, 2024, "en"), "en", "mesure")
    assert _untranslated(french, english, ["mesure", "lu_sur"]) == {"mesure": [], "lu_sur": []}
    assert "Share of women among victims" in set(english["mesure"])
    french, english = protection.measures_table(ns, 2024), protection.measures_table(ns, 2024, "en")
    assert _untranslated(unstated(french), english, ["lu_sur", "periode"]) == {"lu_sur": [], "periode": []}
    assert list(french["value"]) == list(english["value"]) and "official page" in set(english["lu_sur"])
    assert set(english["famille"]) <= set(protection.FAMILIES)
    # an older edition's pooled period, worded in each language
    assert surveys._period("x", "persons per year", "", 2018, "CVS", "en").startswith("yearly average over")
