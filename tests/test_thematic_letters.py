"""What the thematic letters assert is what their sources support (issue 12).

Unit tests on the real national series (fast): the trafficking survey is described year by year as its record
says (producer, reference year, the word used for supported victims, the file of the series holding each figure,
the 2024 figures), survey estimates on sexual violence carry their population and reference year from their
record, the overseas letter's title states its scope.

End to end (``e2e``): each thematic letter of the last buildable year is built once; its rendered text is read for
generated French that a reader would stumble on, and its survey tables for the columns that say which edition,
reference year and population a figure belongs to.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from observatoire.analysis.indicators import published, surveys
from observatoire.analysis.indicators import sexual as vs
from observatoire.analysis.indicators import territories as terr
from observatoire.analysis.indicators import trafficking as tr
from observatoire.core import paths
from observatoire.data import datasets, themes
from observatoire.publishing import release

THEMATIC = ("traite", "violences_sexuelles", "outre_mer")


@pytest.fixture(scope="module")
def national(raw_data):
    return published.citable(datasets.national_series("national_series_r3"))


@pytest.fixture(scope="module")
def rows(national):
    return tr.survey_rows(national)


# -- traite: what each edition's record says ------------------------------------------------------------------


def test_traite_producer_is_read_per_year(rows):
    producers = tr.producers_by_year(rows)
    assert producers[2018] == "MIPROF / ONDRP"
    assert producers[2021] == "MIPROF / SSMSI"
    assert producers[2024] == "MIPROF"  # "enquête pilotée par la Miprof seule"
    assert producers[2023] == "MIPROF"  # "enquête 2024 pilotée par la Miprof" (the 2023 data)
    # the source line of the figures and tables names them by period (its words: notebooks/traite/*.meta.yml)
    spans = tr.producer_spans(rows, 2024)
    assert spans == "MIPROF / ONDRP (2015-2019), MIPROF / SSMSI (2020-2022), MIPROF (2023-2024)"
    assert tr.producer_spans(rows, 2019) == "MIPROF / ONDRP (2015-2019)"


def test_traite_victims_followed_are_not_called_supported(rows):
    table = tr.editions_table(rows, tr.survey_years(rows))
    assert table.loc[[2015, 2016], "terme"].tolist() == ["suivies"] * 2
    assert set(table.loc[[2019, 2020, 2021, 2022, 2024], "terme"]) == {"accompagnées"}
    assert pd.isna(table.loc[2023, "terme"])  # no count of supported victims for 2023 in the series
    assert pd.isna(table.loc[2018, "terme"])  # r3: the page read states no period for the 2018 count


def test_traite_reference_year_and_survey_year(rows):
    # r3 no longer states the period of the record naming the 2023 data "enquête 2024": no run year is claimed
    assert 2023 not in tr.survey_run_years(rows)


def test_traite_each_figure_names_its_file_and_producer_first(rows):
    assert tr.source_of(rows, "accompagnees", 2024) == "national_series_r3"
    assert (
        tr.source_of(rows, "accompagnees", 2023) == "national_series_r3"
    )  # absent: the compilation is named
    note = tr.note_for(rows, "accompagnees", 2024)
    assert note.startswith("MIPROF : La traite des êtres humains en France")
    assert note.endswith("lu sur onemedia.fr")  # the relay, after the producer and the document
    provenance = tr.provenance(rows, "accompagnees", 2024)
    assert (provenance["row_id"], provenance["read_at_kind"], provenance["period_year"]) == (
        "sup-0104",
        "relay",
        "2024",
    )
    assert tr.note_for(rows, "accompagnees", 2023) is None


def test_traite_uses_the_2024_figures_of_the_series(national):
    values = tr.year_values(tr.annual_table(national, last_year=2024), 2024)
    assert values["part_reseau"] == 72.0
    assert values["part_famille"] == 31.0
    assert values["part_mineurs_debut"] == 52.0
    assert values["part_addiction"] == 83.0
    before = tr.year_values(tr.annual_table(national, last_year=2023), 2023)
    assert before["part_reseau"] is None  # another year: missing, never borrowed


# -- violences sexuelles: survey estimates with their record ---------------------------------------------------


def test_survey_estimates_carry_population_and_reference_year(national):
    table = surveys.survey_table(national, 2024)
    records = vs.survey_records(table[table["theme"] == surveys.THEME_SEXUAL], national)
    # populations as the source words them; the held "18 à 76 ans" row (vff-0011) is never shown
    pooled = records[records["indicator"] == "cvs_victimes_viol_tentative_attouchements_18_75_annuel"]
    assert set(pooled["population"]) == {
        "personnes de 18 à 75 ans, France métropolitaine",
        "femmes de 18 à 75 ans, France métropolitaine",
    }
    assert not any("76" in p for p in records["population"])
    # the source states no period: no reference year is claimed, for both sexes
    assert len(pooled) == 2 and pooled["annee_reference"].isna().all()
    vrs = records[records["indicator"] == "vrs_victimes_viol_tentative_agression_sexuelle"].iloc[0]
    assert pd.isna(vrs["annee_reference"]) and vrs["population"].startswith("personnes de 18 à 74 ans")
    assert vrs["edition"] == "VRS, publication 2023-12-14"
    # producers first; a press site only as the page read, never as the producer
    assert "staging.libe.io" not in " ".join(records["producteur"])
    assert all(r == "page officielle" or r.startswith("relais : ") for r in records["relais"])
    producers = [p for p in dict.fromkeys(records["producteur"]) if p]  # the source line's, in this order
    assert "Insee, ONDRP et SSMSI" not in producers and producers[0].startswith("SSMSI")


# -- outre-mer: the title states the scope ---------------------------------------------------------------------


def test_outre_mer_title_states_its_scope():
    theme = themes.get_theme("outre_mer")
    front = (paths.ROOT / "publications" / "outre_mer" / "index.qmd").read_text(encoding="utf-8")
    assert yaml.safe_load(front.split("---")[1])["title"] == "[[ meta.theme_title ]]"  # the declared title
    assert theme.title_in("fr") == "Les violences enregistrées dans les départements d'outre-mer"
    assert theme.title_in("en") == "Recorded violence in the overseas départements"
    assert "femmes" not in theme.title_in("fr") and "women" not in theme.title_in("en")


# -- end to end: the built letters ------------------------------------------------------------------------------

#: Generated French a reader stumbles on: (pattern, why).
BAD_FRENCH = (
    (re.compile(r"\(s\)"), "a plural left to the reader"),
    (
        re.compile(r"(?<![\d\u202f ])[01] (départements|associations|victimes|couples)\b"),
        "a plural after 0 or 1",
    ),
    (re.compile(r"\bdans 1\b"), "'dans 1' instead of a word"),
    (re.compile(r"\d,\d+ victimes\b"), "a fractional count of victims"),
    (re.compile(r"\bnotebook\b", re.IGNORECASE), "an English word"),
    (
        re.compile(r"[:;]\s+(Le|La|Les|Un|Une|Des|Il|Elle|Ce|Cette|Aucun|Aucune)\s"),
        "a capital after a colon or a semicolon",
    ),
    (re.compile(r"\b(un|deux|trois|quatre|cinq|six|sept|huit|neuf|dix) départements? sur\b"), "spelled out"),
    (
        re.compile(r"n'a pas été publiée? pour"),
        "'not published' where the figure is only absent from the series",
    ),
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    for theme in THEMATIC:
        year = themes.get_theme(theme).years[-1]
        tmp = tmp_path_factory.mktemp(theme)
        out[theme] = release.build_edition(
            theme, year, site_dir=tmp / "site", build_dir=tmp / "build", publish=False, progress=False
        )
    return out


def _letter_text(result) -> str:
    publication = result.build_dir / "publication"
    parts = [p.read_text(encoding="utf-8") for p in sorted(publication.rglob("*.qmd"))]
    text = "\n".join(parts)
    text = re.sub(r"^\s*:{3,}.*$", " ", text, flags=re.MULTILINE)  # div fences are not prose
    text = re.sub(r"\{\{<.*?>\}\}|\{#[^}]*\}|\]\([^)]*\)", " ", text)
    return re.sub(r"[\s\u202f\u00a0]+", " ", text)


@pytest.mark.e2e
@pytest.mark.parametrize("theme", THEMATIC)
def test_rendered_letter_reads_as_french(built, theme):
    text = _letter_text(built[theme])
    for pattern, why in BAD_FRENCH:
        found = pattern.findall(text)
        assert not found, f"{theme}: {why}: {found[:3]}"
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 60]
    repeated = {s for s in sentences if sentences.count(s) > 1}
    assert not repeated, f"{theme}: the same sentence twice: {sorted(repeated)[:2]}"


def _header(result, table: str) -> list[str]:
    md = (result.build_dir / "outputs" / "tables" / f"{table}.md").read_text(encoding="utf-8")
    line = next(ln for ln in md.splitlines() if ln.startswith("|"))
    return [cell.strip() for cell in line.strip("|").split("|")]


@pytest.mark.e2e
def test_survey_tables_show_edition_reference_year_and_population(built):
    header = _header(built["violences_sexuelles"], "vs_enquetes")
    assert {"Enquête et édition", "Année de référence", "Population"} <= set(header)
    header = _header(built["traite"], "traite_series")
    assert {"Année de référence", "Enquête conduite par", "Publication", "Terme publié"} <= set(header)
    assert "Année" not in header


@pytest.mark.e2e
def test_traite_letter_says_who_ran_the_2024_survey(built):
    text = _letter_text(built["traite"])
    assert "conduite par la MIPROF." in text
    assert "la MIPROF et le SSMSI interrogent" not in text
    # a 2024 figure of the series, used with its own base: the share of the victims exploited within a network
    # whose network organised their transfer to France, not a share of all the victims followed
    assert "organisé leur transfert vers la France : 72 %" in text
    assert "72 % des victimes accompagnées" not in text


# -- significance: every claim of the thematic letters, both tests ---------------------------------------------


@pytest.fixture(scope="module")
def panels(raw_data):
    from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL

    ssmsi = datasets.ssmsi_departement("ssmsi_dep_2024")
    population = datasets.population("insee_pop_gca")
    return {
        key: terr.panel(ssmsi, population, name, last_year=2024)
        for key, name in (("cbvif", INTRAFAMILY), ("vs", SEXUAL))
    }


def _overseas_comparison(panel, year=2024):
    compared = terr.compare_to_reference(panel[panel["year"] == year])
    return compared[compared["geo_code"].isin(terr.OVERSEAS_NAMES)]


def test_overseas_comparisons_poisson_and_overdispersion_aware(panels):
    # The audit: with the between-département variation, only two of the four "significantly higher" sexual
    # violence rates remain (Guyane and La Réunion), and Mayotte is no longer "significantly lower".
    vs_dom = _overseas_comparison(panels["vs"]).set_index("area")
    above = vs_dom["rate_ratio"] > 1
    assert sorted(vs_dom.index[vs_dom["rr_significant_poisson"] & above]) == [
        "Guadeloupe",
        "Guyane",
        "La Réunion",
        "Martinique",
    ]
    assert sorted(vs_dom.index[vs_dom["rr_significant"] & above]) == ["Guyane", "La Réunion"]
    assert not (vs_dom["rr_significant"] & ~above).any()
    for dom in (vs_dom, _overseas_comparison(panels["cbvif"]).set_index("area")):
        assert (
            dom["rr_significant"] <= dom["rr_significant_poisson"]
        ).all()  # the aware test is never bolder


def _facts(result) -> dict:
    import json

    facts = {}
    for path in sorted((result.build_dir / "outputs" / "facts").glob("*.json")):
        facts.update(json.loads(path.read_text(encoding="utf-8"))["facts"])
    return facts


@pytest.mark.e2e
def test_outre_mer_claims_significance_only_where_the_aware_test_does(built, panels):
    facts = _facts(built["outre_mer"])
    year = built["outre_mer"].year
    first = int(panels["vs"]["year"].min())
    areas = [*terr.OVERSEAS_NAMES, terr.METRO]
    for key, panel in panels.items():
        dom = _overseas_comparison(panel, year)
        for sign, fact in ((1, f"om_{key}_nb_dom_dessus"), (-1, f"om_{key}_nb_dom_dessous")):
            direction = sign * (dom["rate_ratio"] - 1) > 0
            aware = int((dom["rr_significant"] & direction).sum())
            poisson = int((dom["rr_significant_poisson"] & direction).sum())
            assert facts[fact]["value"] == aware, (fact, aware, poisson)
        trends = terr.trends(panel[panel["geo_code"].isin(areas)], first, year)
        dom_trends = trends[trends["geo_code"].isin(terr.OVERSEAS_NAMES)]
        aware = int((dom_trends["significant"] & (dom_trends["annual_change"] > 0)).sum())
        assert facts[f"om_{key}_nb_dom_tendance_hausse"]["value"] == aware
        assert aware <= int((dom_trends["significant_poisson"] & (dom_trends["annual_change"] > 0)).sum())
    # The key figure and the key points print these facts (template and its words), never a Poisson count.
    publication = paths.ROOT / "publications" / "outre_mer"
    index = (publication / "index.qmd").read_text(encoding="utf-8")
    words = (publication / "words.yml").read_text(encoding="utf-8")
    assert "_poisson" not in index + words and "f.om_vs_nb_dom_dessus" in words


@pytest.mark.e2e
def test_violences_sexuelles_claims_significance_only_where_the_aware_test_does(built, panels):
    from observatoire.analysis import statistics

    result = built["violences_sexuelles"]
    facts = _facts(result)
    year = result.year
    panel = panels["vs"]
    national = panel[panel["geo_code"] == terr.FRANCE].set_index("year").sort_index().loc[:year]
    change = statistics.change_test(national.index, national["count"], year, exposure=national["population"])
    assert change.significant_poisson  # plain Poisson calls the one-year change significant ...
    verdict = facts["vs_evolution_taux_signif"]["value"]
    assert verdict == int(change.significant)  # ... the letter's test (1 = significant) does not
    deps = terr.trends(
        panel[~panel["geo_code"].isin([terr.FRANCE, terr.METRO])], int(panel["year"].min()), year
    )
    for fact, sign in (("vs_nb_dep_hausse", 1), ("vs_nb_dep_baisse", -1)):
        moving = sign * deps["annual_change"] > 0
        aware = int((deps["significant"] & moving).sum())
        assert facts[fact]["value"] == aware
        assert aware <= int((deps["significant_poisson"] & moving).sum())
    text = _letter_text(result)
    assert f"cette évolution est {'significative' if verdict else 'non significative'}" in text
