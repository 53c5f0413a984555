"""The thematic letters written from published studies (issue 23): female genital mutilation, forced marriage.

They are added through the theme contract only (themes.yml, a notebook reading the compilation of published
figures through ``analysis.indicators.published``, a publication with its words): no module of their own under
``src/``. What is checked here, on the real compilation (national_series_r3) and the letters as rendered from their
notebooks' facts, in French and in English:

* every number the data and methods sections print is a fact whose row of the compilation states its producer and
  its period (or a value computed from such rows), or a number the cited rows themselves print (a census year, a
  document's number): nothing typed, nothing from another row;
* no row the compilation holds back (producer or method unknown, "à confirmer"...) is printed, in any section;
* each estimate is the one its row publishes, and no change is computed between estimates of different methods.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_language_parity import structure

from observatoire.analysis.indicators import published as pub
from observatoire.core import paths
from observatoire.core.formatting import format_number, format_percent
from observatoire.data import datasets, themes
from observatoire.outputs.templates import publication_words
from observatoire.publishing import batch, prose

YEAR = 2025
#: Theme -> what its letter is about in the compilation (indicator ids), the rows it must hold back.
THEMES = {
    "mutilations_sexuelles": {"subject": "mgf", "held": {"sup-0034", "sup-0035", "sup-0047"}},
    "mariages_forces": {"subject": "mariage", "held": {"sup-0036"}},
}
#: The sections the author writes without statistics (the law, the tools, the resources, the notebooks' links):
#: articles, penalties and telephone numbers, never a figure of the compilation.
AUTHOR_SECTIONS = ("h_law", "h_practices", "calculations")
LANGS = ("fr", "en")
_ROW_ID = re.compile(r"\b(?:vff|sup)-\d{4}\b")
_NUMBER = {
    "fr": re.compile(r"\d+(?:[\u202f\u00a0 ]\d{3})*(?:,\d+)?"),
    "en": re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?"),
}


def _value(token: str, lang: str) -> float:
    if lang == "fr":
        return float(re.sub(r"[\u202f\u00a0 ]", "", token).replace(",", "."))
    return float(token.replace(",", ""))


def _numbers(text: str, lang: str) -> set[float]:
    text = _ROW_ID.sub(" ", text)
    text = re.sub(r"\d+(?:-\d+)+", " ", text)  # ranges and article numbers inside a row's text (2007-2009)
    return {_value(t, lang) for t in _NUMBER[lang].findall(text)}


@pytest.fixture(scope="module")
def compilation() -> pd.DataFrame:
    theme = themes.get_theme("mutilations_sexuelles")
    return datasets.national_series(theme.parameters["national_source"])


@pytest.fixture(scope="module", params=list(THEMES))
def edition(request):
    theme = request.param
    records = prose.edition_facts(theme, YEAR)
    letters = {lang: prose.render_edition(theme, YEAR, records, lang=lang).letter for lang in LANGS}
    return theme, records, letters


def _citable(ns: pd.DataFrame, theme: str) -> pd.DataFrame:
    spec = themes.get_theme(theme).parameters["letter_date"]
    return pub.citable(ns, pub.letter_date(YEAR, spec))


def _stated(row: pd.Series) -> bool:
    producer = str(row["producer"]).strip().lower()
    return (
        bool(producer)
        and not producer.startswith("non précisé")
        and bool(str(row["reference_period"]).strip())
    )


def _data_sections(letter: str, theme: str, lang: str) -> str:
    """The letter without the sections the author writes without statistics (split at level-two headings)."""
    words = publication_words(themes.get_theme(theme).publication_dir)[0]
    headings = {str(words[key][lang]).strip() for key in AUTHOR_SECTIONS if key in words}
    headings |= {"Ressources", "Help and support"}
    kept = [part for part in re.split(r"(?m)^## ", letter) if part.split("\n", 1)[0].strip() not in headings]
    return prose.visible("\n".join(kept))


def test_no_module_under_src_names_these_letters():
    text = "\n".join(p.read_text(encoding="utf-8") for p in (paths.PACKAGE).rglob("*.py"))
    for word in (*THEMES, "mgf", "mariage", "excision"):
        assert word not in text, f"src/ names {word!r}: the letter must go through the theme contract"


def test_the_themes_are_one_source_letters_in_french_and_english():
    for theme_id in THEMES:
        theme = themes.get_theme(theme_id)
        assert theme.years == [YEAR] or list(theme.years) == [YEAR]
        assert tuple(theme.translations) == ("en",) and theme.one_source("en")
        assert theme.parameters["national_source"] == "national_series_r3"


def test_every_figure_printed_traces_to_a_row_with_producer_and_period(edition, compilation):
    theme, records, letters = edition
    rows = compilation.set_index("row_id")
    citable = set(_citable(compilation, theme)["row_id"])
    subject = THEMES[theme]["subject"]
    for lang in LANGS:
        # the edition's year, the letter's date and the compilation's edition ("2026-r3") are printed as such
        allowed = {float(YEAR), float(records["lettre_date"]["iso"][:4])}
        allowed |= _numbers(str(records["ns_edition"]["value"]).replace("-", " "), lang)
        printed = 0
        for key, record in records.items():
            if not record.get("available") or record.get("kind") == "text":
                continue
            cited = [record["row_id"]] if record.get("row_id") else str(record.get("rows") or "").split(", ")
            cited = [c for c in cited if c]
            if not cited:
                continue
            if key.endswith("_non_imprimees"):  # a count of the rows held back, never one of their figures
                assert record["value"] == len(cited) and not set(cited) & citable, key
            else:
                for row_id in cited:
                    row = rows.loc[row_id]
                    assert row_id in citable and _stated(row), f"{key}: row {row_id} may not be printed"
                    assert subject in row["indicator"], f"{key}: row {row_id} is not on the subject"
                    for field in ("reference_period", "population", "concept", "source_title"):
                        # the source's words, in French in both letters (a table prints them as worded)
                        allowed |= _numbers(str(row[field]), "fr") | _numbers(str(row[field]), lang)
            formatter = format_percent if record["kind"] == "percent" else format_number
            text = formatter(record["value"], record.get("decimals") or 0, lang=lang)
            allowed |= _numbers(text, lang)
            printed += 1
        assert printed >= 4
        shown = _numbers(_data_sections(letters[lang], theme, lang), lang)
        assert shown - allowed == set(), f"{theme} ({lang}): numbers from nowhere: {sorted(shown - allowed)}"


def test_no_row_held_back_is_printed(edition, compilation):
    theme, records, letters = edition
    subject = THEMES[theme]["subject"]
    excluded = _citable(compilation, theme).attrs["excluded"]
    held = excluded[excluded["indicator"].str.contains(subject) & (excluded["reason"] == "held")]
    assert set(held["row_id"]) == THEMES[theme]["held"]
    cited = {r.get("row_id") for r in records.values()}
    for _, row in compilation[compilation["row_id"].isin(held["row_id"])].iterrows():
        assert row["row_id"] not in cited
        for lang in LANGS:
            figure = format_number(row["value"], 0 if float(row["value"]).is_integer() else 1, lang=lang)
            assert figure not in letters[lang], f"{row['row_id']} ({figure}) printed in the {lang} letter"


def test_both_languages_have_the_same_sections_figures_tables_and_list_items(edition):
    _, _, letters = edition
    assert structure(letters["fr"]) == structure(letters["en"])
    # the "see the calculations" section (_calculs.qmd) is written at staging, not part of this rendering
    assert len(structure(letters["fr"])["headings"]) >= 9


def test_make_all_builds_them_in_both_languages():
    planned = {(r.theme, r.year, r.lang) for r in batch.requests([])}
    for theme in THEMES:
        assert {(theme, YEAR, "fr"), (theme, YEAR, "en")} <= planned


def test_no_change_is_computed_between_estimates(edition):
    _, records, _ = edition
    assert not [k for k, r in records.items() if r.get("kind") == "change"]


def test_the_french_letter_reads_cleanly(edition):
    theme, records, _ = edition
    rendered = prose.render_edition(theme, YEAR, records)
    assert prose.problems(rendered) == []


def test_the_genital_mutilation_estimates_are_the_rows_published():
    records = prose.edition_facts("mutilations_sexuelles", YEAR)
    expected = {
        "mgf_total_2010": (125000, "sup-0030", "environ"),
        "mgf_premiere_generation": (86343, "sup-0033", ""),
        "mgf_deuxieme_generation": (38012, "sup-0032", ""),
        "mgf_total_2000": (60000, "sup-0029", "environ"),
    }
    for key, (value, row_id, qualifier) in expected.items():
        record = records[key]
        assert (record["value"], record["row_id"], record["qualifier"]) == (value, row_id, qualifier)
    # the period is the source's, never the compilation's placement year
    assert records["mgf_total_2010"]["reference_period"].startswith("début des années 2010")
    assert (
        records["mgf_total_2010"]["period_explicit"] is False
        and records["mgf_total_2010"]["ref_year"] is None
    )
    assert records["mgf_somme_generations"]["value"] == 124355
    assert records["mgf_part_premiere_generation"]["value"] == pytest.approx(100 * 86343 / 124355)
    assert records["mgf_non_imprimees"]["value"] == 3


def test_the_forced_marriage_shares_are_the_rows_published():
    records = prose.edition_facts("mariages_forces", YEAR)
    expected = {
        "mf_immigrees_51_60": (9, "sup-0045", 51, 60),
        "mf_immigrees_26_50": (4, "sup-0044", 26, 50),
        "mf_immigrees_16_30": (2, "sup-0046", 16, 30),
        "mf_filles_immigres_26_30": (1, "sup-0048", 26, 30),
    }
    for key, (value, row_id, age_min, age_max) in expected.items():
        record = records[key]
        assert (record["value"], record["row_id"], record["age_min"], record["age_max"]) == (
            value,
            row_id,
            age_min,
            age_max,
        )
        assert record["survey_year"] == "2008" and record["kind"] == "percent"
    # one survey, one question: the gap between the oldest and the youngest immigrant women, in points
    assert records["mf_ecart_generations"]["value"] == 7
    assert records["mf_ecart_generations"]["rows"] == "sup-0045, sup-0046"
    assert records["mf_non_imprimees"]["value"] == 1
