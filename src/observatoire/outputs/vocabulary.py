"""The words, in another language, of the charts and tables of notebooks that still type their French captions.

Why. The annual letter's notebooks label their outputs in French (titles, notes, column headers, legends) as they
compute them. Its English letter needs the same charts and tables with English words, from the same run; those
words belong to authors and translators, not to Python, so they live beside the notebooks, in
``notebooks/<theme>/vocabulary.<lang>.yml`` (the notebooks' metadata files, ``*.meta.yml``, are the form that
replaces it: every language side by side, no French text to match):

.. code-block:: yaml

    figures:   # by output name: title, note and alt text of the chart
      morts-violentes-couple: {title: "People killed ..., {1}-{2}", note: "...", alt: "..."}
    tables:    # by output name: caption, note and the header of every column shown
      enfants-tues: {title: "...", note: "...", columns: {annee: Year, enfants: Children}}
    terms:     # chart labels (legends, axes, panel titles) and table text cells, French -> English
      Femmes: Women

``{1}``, ``{2}`` ... in an English text are the first, second ... number of the French text it replaces (the
years of a title, an edition in a header), so that no number is typed in the vocabulary. A figure or table
without an entry stops the build, naming the file and the output: a chart is never half translated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.text import Text

from observatoire.core.errors import InputError
from observatoire.core.yamlfile import read_yaml
from observatoire.outputs.charts import chart_description, set_chart_description

__all__ = ["Vocabulary", "load_vocabulary", "vocabulary_path"]
_NUMBER = re.compile(r"\d+")
_SLOT = re.compile(r"\{(\d+)\}")
_SPACES = re.compile("[\u00a0\u202f]")


@dataclass(frozen=True)
class Vocabulary:
    """The words of one publication's charts and tables (see the module docstring).

    Attributes
    ----------
    path : Path
    figures, tables : mapping
        Entries by output name.
    terms : mapping
        French text -> text in the publication's language.
    """

    path: Path
    figures: Mapping[str, Mapping[str, Any]]
    tables: Mapping[str, Mapping[str, Any]]
    terms: Mapping[str, str]

    def entry(self, kind: str, name: str) -> Mapping[str, Any]:
        """The entry of figure or table ``name`` (``kind`` ``"figures"`` or ``"tables"``)."""
        entries = self.figures if kind == "figures" else self.tables
        if name not in entries:
            raise InputError(self.path, f"{kind}.{name}", "no words for this output: add its entry")
        return entries[name]

    def text(self, kind: str, name: str, field: str, french: str | None, required: bool = True) -> str | None:
        """The entry's ``field``, its ``{n}`` slots filled with the numbers of the French text.

        Returns None when the French text is None (an absent note stays absent); the French text itself when
        the field is not ``required`` and the entry has none (a source line naming producers and documents).
        """
        if french is None:
            return None
        entry = self.entry(kind, name)
        if field not in entry:
            if not required:
                return self.term(french)
            raise InputError(self.path, f"{kind}.{name}", f"missing '{field}'")
        return self.fill(str(entry[field]), french, f"{kind}.{name}.{field}")

    def fill(self, text: str, french: str, place: str) -> str:
        """Replace ``{n}`` in ``text`` by the n-th number of ``french``."""
        numbers = _NUMBER.findall(french)

        def slot(match: re.Match) -> str:
            index = int(match.group(1))
            if not 1 <= index <= len(numbers):
                raise InputError(
                    self.path,
                    place,
                    f"{{{index}}} but the French text has {len(numbers)} number(s): {french!r}",
                )
            return numbers[index - 1]

        return _SLOT.sub(slot, text)

    def headers(self, name: str, columns: Mapping[str, str]) -> dict[str, str]:
        """The table's headers: each column's entry in ``tables.<name>.columns``, slots filled from the French."""
        translated = self.entry("tables", name).get("columns") or {}
        missing = [column for column in columns if column not in translated]
        if missing:
            raise InputError(
                self.path, f"tables.{name}.columns", f"no header for column(s) {', '.join(missing)}"
            )
        return {
            column: self.fill(str(translated[column]), str(french), f"tables.{name}.columns.{column}")
            for column, french in columns.items()
        }

    def term(self, value: Any) -> Any:
        """``value`` in the publication's language when it is a French term of the vocabulary, else unchanged.

        A term may hold ``{1}``, ``{2}`` ... for the numbers of the French text: ``"Inclus à partir de {1}"``
        matches "Inclus à partir de 2016" and gives its English text with 2016 in place of ``{1}``.
        """
        if not isinstance(value, str):
            return value
        if value in self.terms:
            return self.terms[value]
        plain = _SPACES.sub(" ", value)  # "1 000" is written with a narrow no-break space in a chart
        if plain != value:
            return self.term(plain)
        count = iter(range(1, 1000))
        pattern = _NUMBER.sub(lambda _: f"{{{next(count)}}}", value)
        if pattern != value and pattern in self.terms:
            return self.fill(self.terms[pattern], value, f"terms.{pattern}")
        return value

    def translate_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its text cells that are terms of the vocabulary in the publication's language."""
        return frame.apply(lambda col: col if pd.api.types.is_numeric_dtype(col) else col.map(self.term))

    def translate_figure(self, fig) -> None:
        """Replace every text of a matplotlib figure (legend, axis labels, panel titles, category ticks) that is a
        term of the vocabulary, and the words of what it shows (its series, categories, axis labels and legend,
        which its interactive version and its data table print)."""
        description = chart_description(fig)
        if description:
            set_chart_description(
                fig,
                {
                    key: (
                        value
                        if key not in _CHART_WORDS
                        else [self.term(v) for v in value]
                        if isinstance(value, list)
                        else self.term(value)
                    )
                    for key, value in description.items()
                },
            )
        for artist in fig.findobj(Text):
            text = artist.get_text()
            if self.term(text) != text:
                artist.set_text(self.term(text))
        for ax in fig.axes:  # category tick labels are regenerated at draw time from the formatter
            for axis in (ax.xaxis, ax.yaxis):
                labels = [label.get_text() for label in axis.get_ticklabels()]
                if any(self.term(label) != label for label in labels):
                    axis.set_ticks(axis.get_ticklocs(), [self.term(label) for label in labels])


#: The entries of a chart's description that are words (the others name columns or hold numbers).
_CHART_WORDS = (
    "hue_order",
    "order",
    "highlight_labels",
    "highlight_label",
    "other_label",
    "reference_label",
    "xlabel",
    "ylabel",
)


def _mapping(path: Path, raw: Mapping, key: str) -> dict:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise InputError(path, key, "must be a mapping")
    return value


def vocabulary_path(notebook_dir: Path, lang: str) -> Path:
    """The vocabulary in ``lang`` of the notebooks of ``notebook_dir``: ``vocabulary.<lang>.yml`` beside them."""
    return Path(notebook_dir) / f"vocabulary.{lang}.yml"


@functools.cache
def load_vocabulary(path: Path) -> Vocabulary:
    """Read a publication's ``vocabulary.yml``.

    Raises
    ------
    InputError
        A missing or malformed file (naming it and the key).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            path,
            "whole file",
            "the notebooks type French captions and their letter has this language: no vocabulary",
        )
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise InputError(path, "whole file", "must be a mapping with figures, tables and terms")
    terms = _mapping(path, raw, "terms")
    bad = [k for k, v in terms.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise InputError(path, f"terms.{bad[0]}", "a term maps a text to a text")
    return Vocabulary(path, _mapping(path, raw, "figures"), _mapping(path, raw, "tables"), terms)
