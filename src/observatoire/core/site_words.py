"""The words of the site around the letters, read from the publications (one file per language).

Why a file, not Python: the words readers see belong to the publication's authors (and a translator), not to
the code. What the site prints besides a letter's own text (breadcrumbs, the "cite this letter" block, the
notebook pages' header, the download links and the headers of the downloaded files, the data tables under the
charts, the screen-reader labels, the territorial listing) is written in
``publications/_shared/site_words.<lang>.yml``; every language has the same keys (tests/test_site_words.py).

Usage: ``words("fr")["downloads"]["main"]``, or ``text("fr", "cite.text", title=..., url=...)`` for a sentence
with values (``{name}`` in the file; values are inserted as given, so escape them for where they are shown).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.yamlfile import read_yaml

__all__ = ["LANGUAGES", "words", "text", "words_file", "column_header"]

#: The languages with a words file.
LANGUAGES = ("fr", "en")


def words_file(lang: str) -> Path:
    """``publications/_shared/site_words.<lang>.yml``."""
    return paths.SHARED_TEMPLATES / f"site_words.{lang}.yml"


@functools.cache
def words(lang: str = "fr") -> Mapping[str, Any]:
    """The words of ``lang`` (a nested mapping, read once per process).

    Raises
    ------
    InputError
        For a language without a file, or a file that is not a mapping of sections.
    """
    if lang not in LANGUAGES:
        raise InputError("site_words", "language", f"no words file for {lang!r} (languages: {LANGUAGES})")
    path = words_file(lang)
    loaded = read_yaml(path)
    if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
        raise InputError(path, "whole file", "must be a mapping of sections, each a mapping of words")
    return loaded


def text(lang: str, key: str, **values: Any) -> str:
    """One entry (``"section.name"``) of the words of ``lang``, its ``{name}`` slots filled with ``values``.

    Raises
    ------
    InputError
        For an unknown key or a slot without a value (naming the file and the key).
    """
    section, _, name = key.partition(".")
    entry = words(lang).get(section, {}).get(name)
    if not isinstance(entry, str):
        raise InputError(words_file(lang), key, "no such entry")
    try:
        return entry.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(words_file(lang), key, f"cannot fill {entry!r}: {exc}") from exc


def column_header(column: str, lang: str = "fr") -> str | None:
    """The public header of a data column (``"change_rel"`` -> ``"Évolution sur un an (%)"``), or None for a
    column that is internal (not in the ``columns`` section)."""
    return words(lang)["columns"].get(str(column).lower())
