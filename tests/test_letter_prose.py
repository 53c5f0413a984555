"""Every annual letter, every buildable year, read as a proofreader reads it.

The templates of ``publications/annual/`` are rendered with the real facts of each year 2017-2024 (the annual
notebooks are run for each year, their facts cached by input digest under ``build/_facts``: the first run takes
minutes, later runs seconds) and the result must have no unfilled placeholder, no "(s)" plural, no sentence twice,
no English word and no breakable space where French typography wants a narrow no-break space. The typed-statistic
rule on the template sources is tests/test_publication_prose.py.
"""

from __future__ import annotations

import time

import pytest

from observatoire import prose, themes
from observatoire.formatting import NNBSP

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
    assert (
        f"En 2024, 107{NNBSP}femmes" not in letter
    )  # the number and its noun are separated by a plain space
    assert "En 2024, 107 femmes ont été tuées" in letter
    assert "Coups et blessures volontaires intrafamiliaux" in letter
    assert "Violences physiques intrafamiliales enregistrées**" not in letter


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
