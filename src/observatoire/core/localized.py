"""A text in every language of the letters, as one value.

Why in the core: words are declared in files an author edits (:mod:`observatoire.outputs.words`), but a value
that has a text per language is also made below the outputs (an indicator's label in the registry, a territory's
name) and handed up to the words that print it. One small type every layer can hold, printed only through a
language: printing it without one is a bug, said so.
"""

from __future__ import annotations

from collections.abc import Mapping

from observatoire.core.formatting import LANGUAGES

__all__ = ["LANGUAGES", "Localized"]


class Localized(Mapping):
    """A text in every language: ``{"fr": "Finistère", "en": "Finistère"}``.

    Passed as a placeholder value, it prints in the language being written. Read-only.

    Parameters
    ----------
    texts : mapping
        Language -> text, for every language of :data:`LANGUAGES`.
    """

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str]) -> None:
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"Localized: no text in {', '.join(missing)} ({dict(texts)!r})")
        self._texts = {lang: str(texts[lang]) for lang in LANGUAGES}

    def __getitem__(self, lang: str) -> str:
        return self._texts[lang]

    def __iter__(self):
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return f"Localized({self._texts!r})"

    def __str__(self) -> str:  # a Localized printed without a language is a bug: say which value it was
        raise TypeError(f"{self!r} has no language: print it through a words entry or .in_(lang)")

    def in_(self, lang: str) -> str:
        """The text in ``lang``."""
        return self._texts[lang]

    def map(self, change) -> Localized:
        """A new value with ``change(text, lang)`` applied in each language."""
        return Localized({lang: change(text, lang) for lang, text in self._texts.items()})
