"""The site's words are data: one file per language, the same keys in each, every slot filled by the code."""

from __future__ import annotations

import re

import pytest

from observatoire.core import site_words
from observatoire.core.errors import InputError


def _keys(mapping, prefix=""):
    out = set()
    for key, value in mapping.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return out


def test_every_language_has_the_same_words_and_the_same_slots():
    french, english = site_words.words("fr"), site_words.words("en")
    assert _keys(french) == _keys(english)
    for key in _keys(french):
        section, name = key.split(".", 1)
        slots = {
            lang: set(re.findall(r"\{(\w+)\}", site_words.words(lang)[section][name]))
            for lang in ("fr", "en")
        }
        assert slots["fr"] == slots["en"], key
        assert site_words.words("fr")[section][name].strip(), key


def test_text_fills_its_slots_and_names_a_missing_one():
    assert site_words.text("fr", "site.edition", year=2024) == "Édition 2024"
    assert site_words.text("en", "site.edition", year=2024) == "2024 edition"
    with pytest.raises(InputError, match="site.edition"):
        site_words.text("fr", "site.edition")
    with pytest.raises(InputError, match="no such entry"):
        site_words.text("fr", "site.nothing")
    with pytest.raises(InputError, match="no words file"):
        site_words.words("de")


def test_internal_columns_have_no_public_name():
    assert site_words.column_header("change_rel") == "Évolution sur un an (%)"
    assert site_words.column_header("change_rel", "en") == "Change on the year (%)"
    for internal in ("z_adj", "flag_poisson", "significant_fdr", "test_method", "dispersion"):
        assert site_words.column_header(internal) is None
