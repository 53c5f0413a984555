"""Why a test or a trend gives no answer: a code from the statistics, worded by each letter in its language.

:mod:`observatoire.analysis.statistics` returns reason codes (:data:`~observatoire.analysis.statistics.REASONS`);
the macro ``reason`` of ``publications/_shared/statistics.jinja`` words them (entries ``stat_reason_*`` of
``publications/_shared/words.yml``). These tests read the sentences a reader reads: in the notebooks' one-line
readings (:func:`observatoire.outputs.describe.describe`), in the annual letter and in a territorial letter, in
French (the words the statistics module used to type) and in English (which now says why too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from observatoire.analysis import statistics as st
from observatoire.core import paths
from observatoire.outputs.describe import describe
from observatoire.outputs.templates import environment, publication_words, render_text

DATA = Path(__file__).parent / "data" / "facts"
NNBSP = "\u202f"

#: Every reason code with a sample of its French and English words (n_years=2, minimum=3 where they are needed).
WORDED = {
    "no_events_both_periods": ("aucun fait sur les deux périodes", "no event in either period"),
    "too_few_years": ("moins de trois années disponibles (2)", "fewer than three years available (2)"),
    "no_events": ("aucun fait enregistré sur la période", "no event recorded over the period"),
    "events_one_year_only": (
        "des faits enregistrés une seule année de la période",
        "events recorded in a single year of the period",
    ),
    "not_converged": ("l'estimation du modèle n'a pas convergé", "the model's estimation did not converge"),
    "no_residual_df": (
        "dispersion non estimable (aucun degré de liberté résiduel)",
        "dispersion not estimable (no residual degree of freedom)",
    ),
    "dispersion_min_years": (
        "dispersion de la série non estimable (il faut au moins trois autres années)",
        "dispersion of the series not estimable (at least three other years are needed)",
    ),
    "zero_count_quasi_poisson": (
        "comptage nul une des deux années : le test de quasi-Poisson n'est pas défini",
        "a zero count in one of the two years: the quasi-Poisson test is not defined",
    ),
    "nb_failed": ("l'estimation binomiale négative a échoué", "the negative binomial estimation failed"),
    "nb_not_converged": (
        "l'estimation binomiale négative n'a pas convergé",
        "the negative binomial estimation did not converge",
    ),
    "nb_alpha_not_identifiable": (
        "le paramètre de surdispersion binomial négatif est nul ou non identifiable",
        "the negative binomial's overdispersion parameter is zero or not identifiable",
    ),
}


def _reason(code: str, lang: str) -> str:
    macros = environment(paths.SHARED_TEMPLATES, lang).get_template("statistics.jinja").module
    return str(macros.reason(code, 2, 3))


def test_every_reason_code_is_worded_in_every_language():
    assert set(WORDED) == set(st.REASONS)
    for code, (fr, en) in WORDED.items():
        assert (_reason(code, "fr"), _reason(code, "en")) == (fr, en), code
    # a series' dispersion that could not be fitted says why, in the words of that fit's reason
    assert _reason("dispersion_no_events", "fr") == (
        "dispersion de la série non estimable (aucun fait enregistré sur la période)"
    )
    assert _reason("dispersion_not_converged", "en") == (
        "dispersion of the series not estimable (the model's estimation did not converge)"
    )


def test_the_results_carry_codes_and_the_readings_word_them():
    short = st.change_test([2021, 2022, 2023], [5, 6, 7], 2023)
    assert short.reason == "dispersion_min_years"
    assert describe(short) == (
        f"Évolution non estimable{NNBSP}: dispersion de la série non estimable (il faut au moins trois autres années)."
    )
    zero = st.change_test([2018, 2019, 2020, 2021, 2022, 2023], [10, 30, 12, 40, 0, 7], 2023)
    assert zero.reason == "zero_count_quasi_poisson"
    assert describe(zero, "en") == (
        "Change not estimable (a zero count in one of the two years: the quasi-Poisson test is not defined)."
    )
    nested = st.change_test([2018, 2019, 2020, 2021, 2022, 2023], [0, 0, 0, 0, 6, 7], 2023)
    assert nested.reason == "dispersion_no_events"
    every = set(st.REASONS) | {f"dispersion_{code}" for code in st.REASONS}
    for result in (
        short,
        zero,
        nested,
        st.trend([2022, 2023], [1, 2]),
        st.trend([2020, 2021, 2022], [0, 0, 0]),
    ):
        assert result.reason in every


def _letter(theme: str, name: str, facts: dict, lang: str) -> str:
    publication = paths.PUBLICATIONS / theme
    meta = {"lang": lang, "year": "2024", "theme_title": "T", "version_en": "x", "version_fr": "x"}
    outputs = {"figures": {}, "tables": {}}
    figure = {"title": "T", "caption": "C", "alt": "A", "files": {"svg": "x.svg", "md": "x.md"}}
    for kind in ("figures", "tables"):
        names = re.findall(rf'{kind[:-1]}\("([^"]+)"\)', (publication / name).read_text(encoding="utf-8"))
        outputs[kind] = {n: {"name": n, **figure} for n in names}
    return render_text(
        (publication / name).read_text(encoding="utf-8"),
        facts,
        meta,
        name=name,
        search_path=publication,
        outputs=outputs,
        words=publication_words(publication)[0],
    )


def _facts(file: str) -> dict:
    return json.loads((DATA / file).read_text(encoding="utf-8"))["facts"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "sa significativité n'est pas évaluée (dispersion de la série non estimable (il faut au moins trois "
               "autres années))."),
        ("en", "its significance is not assessed (dispersion of the series not estimable (at least three other "
               "years are needed))."),
    ],
)  # fmt: skip
def test_a_territorial_letter_says_why_a_change_is_not_assessed(lang, expected):
    facts = _facts("territoire_2024_29.json")
    facts["if_evol_signif"].update(value=None, available=False, text="", reason="dispersion_min_years")
    text = re.sub(r"\s+", " ", _letter("territoire", "index.qmd", facts, lang))
    assert expected in text.replace(NNBSP, " ").replace("\u00a0", " ")


@pytest.mark.parametrize(
    ("lang", "change", "trend"),
    [
        ("fr", "sa significativité n'est pas évaluée (comptage nul une des deux années : le test de quasi-Poisson "
               "n'est pas défini)",
         "Aucune tendance n'est estimée pour le taux de victimes de violences sexuelles pour mille habitants "
         "(l'estimation du modèle n'a pas convergé)."),
        ("en", "its significance is not assessed (a zero count in one of the two years: the quasi-Poisson test is "
               "not defined)",
         "(the model's estimation did not converge)."),
    ],
)  # fmt: skip
def test_the_annual_letter_says_why_a_change_or_a_trend_has_no_verdict(lang, change, trend):
    facts = _facts("annual_2024.json")
    facts["vs_evol"].update(reason="zero_count_quasi_poisson")
    facts["vs_tendance"].update(value=None, available=False, text="", reason="not_converged")
    text = re.sub(r"\s+", " ", _letter("annual", "_violences_sexuelles.qmd", facts, lang))
    text = text.replace(NNBSP, " ").replace("\u00a0", " ")
    assert change in text
    assert trend in text
