"""Every thematic letter, every buildable year, read as a proofreader reads it.

The same checks as the annual letter's (tests/test_letter_prose.py, :func:`observatoire.publishing.prose.problems`): no
unfilled placeholder, no "(s)" plural, no sentence twice, no English word, no breakable space where French
typography wants a narrow no-break space. The notebooks of each edition run once; their facts are cached by input
digest under ``build/_facts``. A module of its own so that the test workers share the runs with the annual one.
"""

from __future__ import annotations

import pytest

from observatoire.data import themes
from observatoire.publishing import prose

#: The thematic letters (the territorial letters are read by their own end-to-end tests).
THEMATIC = ("traite", "violences_sexuelles", "outre_mer")
EDITIONS = [(theme, year) for theme in THEMATIC for year in themes.get_theme(theme).years]


def test_every_buildable_edition_is_covered():
    assert len(EDITIONS) == 21 and {year for _, year in EDITIONS} == set(range(2018, 2025))


@pytest.mark.parametrize(("theme", "year"), EDITIONS)
def test_thematic_letter_reads_as_french(raw_data, theme, year):
    rendered = prose.render_edition(theme, year)
    assert len(rendered.letter) > 2000, "the letter is nearly empty"
    found = prose.problems(rendered)
    assert not found, "\n".join(found)
