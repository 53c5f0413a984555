"""Letters that agree: the same indicator x territory x year through every letter that shows it.

A reader who sees a département in the national letter, a thematic letter and its own territorial letter must read
the same count, rate, interval, rank and verdict. Each letter's notebook calls functions of the package; this test
calls the same functions, as the notebooks do, on the real data (SSMSI edition 2024, INSEE estimates), for a
sample of territories (Paris, Corse-du-Sud, La Réunion, Mayotte and the Île-de-France région) and both indicators,
and asserts that they agree exactly.

* annual letter (notebooks/annual/02, 03): ``recorded.Analysis`` -> ``departements`` (count, rate, interval,
  rank, change verdict, funnel verdict) and ``population_choice``;
* violences_sexuelles letter (01-03): ``territories.panel`` (count, rate, interval), ``territories.funnel``
  (atypical or not), ``territories.trends``;
* outre_mer letter (02, 03): ``territories.panel``, ``territories.trends`` and ``population_choice`` around the
  metropolitan rate;
* territorial letter (01): ``territorial.area_table`` -> ``series_of``, ``statistics.change_of``, ``peers``,
  ``funnel_of``/``funnel_position``, ``statistics.trend_of`` and ``territories.population_choice``.
"""

from __future__ import annotations

import pytest

from observatoire.analysis import statistics as st
from observatoire.analysis.indicators import recorded
from observatoire.analysis.indicators import territorial as tl
from observatoire.analysis.indicators import territories as terr
from observatoire.analysis.method import constants
from observatoire.data import datasets
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL

YEAR = 2024
SAMPLE = ("75", "2A", "974", "976")
REGION = "reg-11"
INDICATORS = {"vs": SEXUAL, "if": INTRAFAMILY}


@pytest.fixture(scope="module")
def data():
    ssmsi = datasets.ssmsi_departement("ssmsi_dep_2024")
    population = datasets.population("insee_pop_gca")
    return ssmsi, population, datasets.geography()


@pytest.fixture(scope="module")
def annual(data):
    """The annual letter's analysis of each indicator (notebooks/annual/02 and 03)."""
    ssmsi, population, geo = data
    pop_dep = terr.population_by_departement(population)
    national = datasets.ssmsi_national("ssmsi_dep_2024")
    return {
        key: recorded.Analysis(
            ssmsi,
            name,
            YEAR,
            pop_dep,
            geo,
            national=national,
            alternative_population=terr.ssmsi_population_by_departement(ssmsi, name),
        )
        for key, name in INDICATORS.items()
    }


@pytest.fixture(scope="module")
def panels(data):
    """The thematic letters' panels (violences_sexuelles 01-03, outre_mer 02-03)."""
    ssmsi, population, geo = data
    names = geo.set_index("code_departement")["nom_departement"].to_dict()
    return {
        key: terr.panel(ssmsi, population, name, last_year=YEAR, names=names)
        for key, name in INDICATORS.items()
    }


@pytest.fixture(scope="module")
def territorial(data):
    """The territorial letter's tables and results (notebooks/territoire/01), per indicator and territory."""
    ssmsi, population, geo = data
    pops = terr.population_by_departement(population)
    out = {}
    for key, name in INDICATORS.items():
        counts = terr.counts_by_departement(ssmsi, name, last_year=YEAR)
        table = tl.area_table(counts, pops, geo)
        table_ssmsi = tl.area_table(counts, terr.ssmsi_population_by_departement(ssmsi, name), geo)
        for parameter in (*SAMPLE, REGION):
            t = tl.resolve(parameter, geo)
            series = tl.series_of(table, t.area, YEAR)
            france = tl.series_of(table, tl.FRANCE, YEAR)
            ranked = tl.peers(table, t.level, YEAR)
            funnel = tl.funnel_of(ranked, tl.value_at(france, YEAR, "rate"))
            now = table[(table["level"] == t.level) & (table["year"] == YEAR)].set_index("area")
            now_ssmsi = table_ssmsi[(table_ssmsi["level"] == t.level) & (table_ssmsi["year"] == YEAR)]
            choice = terr.population_choice(
                now["count"], now["population"], now_ssmsi.set_index("area")["population"]
            )
            out[key, parameter] = {
                "territory": t,
                "series": series,
                "change": st.change_of(series, YEAR),
                "trend": st.trend_of(series, YEAR),
                "ranked": ranked,
                "position": tl.funnel_position(funnel, t.area),
                "choice": choice.loc[t.area],
                "departements": tl.peers(table, "departement", YEAR).set_index("code"),
            }
    return out


def _row(frame, column, code):
    return frame.loc[frame[column] == code].iloc[0]


@pytest.mark.parametrize("key", list(INDICATORS))
@pytest.mark.parametrize("code", SAMPLE)
def test_count_rate_and_interval_agree(annual, panels, territorial, key, code):
    letter = _row(annual[key].departements, "code", code)
    thematic = _row(panels[key][panels[key]["year"] == YEAR], "geo_code", code)
    own = _row(territorial[key, code]["series"], "year", YEAR)
    for column in ("count", "population", "rate", "rate_low", "rate_high"):
        assert letter[column] == thematic[column] == own[column], column
    assert bool(letter["small_count"]) == bool(thematic["small_count"]) == bool(own["small_count"])
    # the interval is the exact Poisson one widened by the département's own dispersion
    assert own["rate_low"] < own["rate"] < own["rate_high"]
    assert (
        letter["rate_dispersion"] == thematic["dispersion"] == territorial[key, code]["series"].attrs["phi"]
    )


@pytest.mark.parametrize("key", list(INDICATORS))
@pytest.mark.parametrize("code", SAMPLE)
def test_change_on_the_year_agrees(annual, territorial, key, code):
    letter = _row(annual[key].departements, "code", code)
    change = territorial[key, code]["change"]
    assert letter["rate_ratio"] == pytest.approx(change.rate_ratio, rel=1e-12)
    assert letter["p_value"] == pytest.approx(change.p_value, rel=1e-12)
    assert bool(letter["significant"]) == change.significant
    assert letter["test_method"] == (change.method_fr if not change.reason else "")


@pytest.mark.parametrize("key", list(INDICATORS))
@pytest.mark.parametrize("code", SAMPLE)
def test_rank_and_funnel_verdict_agree(annual, panels, territorial, key, code):
    letter = _row(annual[key].departements, "code", code)
    mine = territorial[key, code]
    own_rank = int(_row(mine["ranked"], "area", code)["rank"])
    assert int(letter["rank"]) == own_rank
    # the région letter's table of départements ranks them as every other letter does
    assert int(territorial[key, REGION]["departements"].loc["75", "rank"]) == int(
        _row(annual[key].departements, "code", "75")["rank"]
    )
    assert letter["flag"] == mine["position"]
    # the thematic letter's funnel (violences_sexuelles 03) around the France rate: same verdict at flag_level
    now = panels[key][panels[key]["year"] == YEAR]
    france = _row(now, "geo_code", terr.FRANCE)
    deps = now[~now["geo_code"].isin([terr.FRANCE, terr.METRO])]
    result = terr.funnel(deps, target_rate=france["rate"])
    tag = terr.level_tag(constants().funnel_flag_level)
    side = _row(result.table, "geo_code", code)[f"outside_adj_{tag}"]
    assert tl.FUNNEL_POSITIONS[side] == mine["position"]
    # and the rank the thematic letter's ordering implies
    assert int(st.rank_rates(deps.set_index("geo_code")["rate"]).loc[code]) == own_rank


@pytest.mark.parametrize("key", list(INDICATORS))
@pytest.mark.parametrize("code", SAMPLE)
def test_trend_agrees(panels, territorial, key, code):
    first = int(panels[key]["year"].min())
    thematic = terr.trends(panels[key][panels[key]["geo_code"] == code], first, YEAR).iloc[0]
    own = territorial[key, code]["trend"]
    assert thematic["annual_change"] == pytest.approx(own.annual_change, rel=1e-12)
    assert (thematic["ci_low"], thematic["ci_high"]) == pytest.approx((own.ci_low, own.ci_high), rel=1e-12)
    assert bool(thematic["significant"]) == own.significant


@pytest.mark.parametrize("key", list(INDICATORS))
@pytest.mark.parametrize("code", SAMPLE)
def test_population_choice_agrees(annual, territorial, key, code):
    letter = annual[key].population_choice.loc[code]
    own = territorial[key, code]["choice"]
    for column in ("rate_main", "rate_alt", "rank_main", "rank_alt", "flag_main", "flag_alt", "depends"):
        assert letter[column] == own[column], column


def test_mayotte_sexual_violence_rank_depends_on_the_population(annual, territorial):
    """Mayotte: rank 83 of 101 on INSEE's estimate, 29 on the SSMSI base's legal population (2024): every letter
    that ranks it says that its rank depends on the population."""
    own = territorial["vs", "976"]["choice"]
    assert (int(own["rank_main"]), int(own["rank_alt"])) == (83, 29)
    assert bool(own["depends"])
    assert "Mayotte" in annual["vs"].population_choice.query("depends")["nom"].tolist()


def test_region_sums_its_departements(territorial):
    region = territorial["vs", REGION]
    row = _row(region["series"], "year", YEAR)
    members = region["territory"].members
    assert row["count"] == region["departements"].loc[list(members), "count"].sum()
    # the région letter's interval is the same rule on the région's own series
    assert row["rate_low"] < row["rate"] < row["rate_high"]
    assert region["change"] is not None and region["change"].method in ("quasi_poisson_test", "exact_poisson")
