"""Every annual letter, every buildable year, read as a proofreader reads it.

The templates of ``publications/annual/`` are rendered with the real facts of each year 2017-2024 (the annual
notebooks are run for each year, their facts cached by input digest under ``build/_facts``: the first run takes
minutes, later runs seconds) and the result must have no unfilled placeholder, no "(s)" plural, no sentence twice,
no English word and no breakable space where French typography wants a narrow no-break space. The typed-statistic
rule on the template sources is tests/test_publication_prose.py.
"""

from __future__ import annotations

import re
import time

import pytest

from observatoire.core.formatting import NNBSP
from observatoire.data import themes
from observatoire.publishing import prose

ANNUAL_YEARS = themes.get_theme("annual").years


@pytest.fixture(scope="session")
def annual_letters(raw_data):
    started = time.perf_counter()
    letters = {year: prose.render_edition("annual", year) for year in ANNUAL_YEARS}
    print(
        f"\nannual letters {ANNUAL_YEARS[0]}-{ANNUAL_YEARS[-1]} rendered in {time.perf_counter() - started:.1f} s"
    )
    return letters


def test_every_buildable_year_is_covered():
    assert list(ANNUAL_YEARS) == list(range(2017, 2025))


@pytest.mark.parametrize("year", ANNUAL_YEARS)
def test_annual_letter_reads_as_french(annual_letters, year):
    found = prose.problems(annual_letters[year])
    assert not found, "\n".join(found)


def test_the_letter_says_what_the_facts_say(annual_letters):
    letter = annual_letters[2024].letter
    flat = re.sub(r"[ \t]*\n[ \t]*", " ", letter)  # line breaks of the source: spaces (no-break spaces kept)
    assert "107 femmes ont été tuées par leur partenaire ou ex-partenaire en 2024" in flat
    # the key point over the CBV count is the CBV indicator, not the broader 2025 one
    assert "**Coups et blessures volontaires intrafamiliaux** (toutes" in letter
    assert "Violences physiques intrafamiliales enregistrées" not in letter
    # the survey figure says what it counts and whom, as the source words them, and never a year it does not
    # state (r3: the 277 000 has no stated reference year; r2 had placed it on 2023)
    assert f"on compte 277{NNBSP}000 victimes de viol, tentative de viol ou agression sexuelle" in flat
    assert "année de référence non précisée), population" in flat
    assert "année 2023" not in flat
    # the newest complaint figure, in its own unit, with what its source says of its period
    assert "une victime de violences conjugales sur 6 déclare avoir porté plainte" in flat
    # the producer first; a press site only as the page the figure was read on
    assert (
        "DAV (ministère de l'Intérieur, Délégation aux victimes)\u202f; chiffre lu sur cnews.fr, qui le reprend"
        in flat
    )
    # stocks with their count date; the Observatoire's own counts as such, never its letter as a source
    assert "bracelets anti-rapprochement étaient actifs (au 1er février 2025)" in flat
    assert "Selon le décompte propre de l'Observatoire" in flat
    assert "Lettre de l'Observatoire" not in prose.visible(
        letter
    )  # the series' name, in the front matter only
    assert "absent des sources réunies pour cette lettre" in flat and "non publié" not in flat
    # no change chained across two SSMSI studies
    assert "Aucune évolution sur un an n'est calculée ici" in flat
    # revisions said as a revision of the whole series, not explained away
    assert "La révision porte sur toute la série" in letter and "tardivement" not in letter


# The checks themselves: each catches what it is meant to catch. -----------------------------------------------


def _one(text: str) -> list[str]:
    return prose.problems(prose.Rendered("x", 2024, text, {"index.qmd": text}))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Il reste [[ f.x ]] à remplir.", "unfilled placeholder"),
        ("Valeur : {{< var inconnue >}}.", "unfilled placeholder"),
        ("Huit année(s) révisée(s).", "'(s)' plural"),
        ("Une victime sur sept files a complaint.", "English word"),
        ("Part : 12\u202f% des victimes.", "breakable space before punctuation"),
        ("Soit 12 % des victimes.", "breakable space before punctuation"),
        ("Il y a 122 610 victimes.", "breakable space inside a number"),
        (
            "Cette phrase assez longue pour compter revient deux fois dans la lettre. Autre chose.\n\n"
            "Cette phrase assez longue pour compter revient deux fois dans la lettre.",
            "sentence repeated 2 times",
        ),
    ],
)
def test_check_catches(text, rule):
    found = _one(text)
    assert any(rule in p for p in found), found


def test_check_lets_clean_french_through():
    text = (
        f"En 2024, 122{NNBSP}610 victimes{NNBSP}; soit 12{NNBSP}% («{NNBSP}part{NNBSP}»).\n\n"
        '![Figure](figures/a.svg){#fig-a fig-alt="Courbe en hausse."}\n\n'
        "Voir [le site](https://example.org/the-page?a=1&b=2).\n"
    )
    assert _one(text) == []
