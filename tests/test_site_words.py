"""The site's words are data: one file, every language side by side (outputs/words), every slot filled by the code."""

from __future__ import annotations

import re

import pytest

from observatoire.core.errors import InputError
from observatoire.outputs import words


def _keys(mapping, prefix=""):
    out = set()
    for key, value in mapping.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return out


def test_every_language_has_the_same_words_and_the_same_slots():
    french, english = words.site_words("fr"), words.site_words("en")
    assert _keys(french) == _keys(english)
    for key in _keys(french):
        section, name = key.split(".", 1)
        slots = {
            lang: set(re.findall(r"\{(\w+)\}", words.site_words(lang)[section][name]))
            for lang in ("fr", "en")
        }
        assert slots["fr"] == slots["en"], key
        assert words.site_words("fr")[section][name].strip(), key


def test_text_fills_its_slots_and_names_a_missing_one():
    assert words.site_text("fr", "site.edition", year=2024) == "Édition 2024"
    assert words.site_text("en", "site.edition", year=2024) == "2024 edition"
    with pytest.raises(InputError, match="site.edition"):
        words.site_text("fr", "site.edition")
    with pytest.raises(InputError, match="no such entry"):
        words.site_text("fr", "site.nothing")
    with pytest.raises(InputError, match="no words in"):
        words.site_words("de")


def test_internal_columns_have_no_public_name():
    assert words.column_header("change_rel") == "Évolution sur un an (%)"
    assert words.column_header("change_rel", "en") == "Change on the year (%)"
    for internal in ("z_adj", "flag_poisson", "significant_fdr", "test_method", "dispersion"):
        assert words.column_header(internal) is None


def test_an_entry_without_a_language_is_refused_naming_file_and_key(tmp_path):
    path = tmp_path / "site_words.yml"
    path.write_text("site:\n  home: {fr: Accueil}\n  close: {fr: Fermer, en: Close}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"site_words\.yml.*site\.home.*'en'"):
        words.site_words("fr", path)


def test_separators_keep_their_spaces():
    assert words.site_words("fr")["chart"]["join"] == " ; "
    assert words.site_text("fr", "chart.pair", label="Taux", value="2,8") == "Taux : 2,8"
