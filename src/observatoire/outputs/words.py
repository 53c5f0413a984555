"""The words readers see, declared beside what shows them, one entry per language.

Why. A letter is published in French and in English from one execution of its notebooks: the numbers are the
same, the words are not. Words therefore never sit in Python (where a translator cannot find them and a language
can silently lack one); they are declared in YAML files an author edits, each entry holding the text of every
language side by side::

    title:
      fr: "Victimes enregistrées pour 1 000 habitants, {territory}, {first}-{year}"
      en: "Recorded victims per 1,000 inhabitants, {territory}, {first}-{year}"

Four kinds of files use this module:

* the metadata of a notebook's outputs, ``notebooks/<theme>/<notebook>.meta.yml`` (Our World in Data's
  ``*.meta.yml``): per figure and table its title, caption, alt text, note, source line, column headers and the
  labels of its series and categories (:class:`OutputMeta`);
* the words shared by every notebook, ``publications/_shared/outputs.yml``: source lines, labels, the edition's
  name in the downloads (the same format), and the words of the facts' unit and note codes (sections
  ``fact_units`` and ``fact_notes``, :func:`fact_words`: a fact carries codes, whoever shows it words them);
* the words of a publication's templates, ``publications/<theme>/words.yml`` and ``publications/_shared/words.yml``
  (:mod:`observatoire.outputs.templates`: each entry is a small template);
* the words of the site around the letters, ``publications/_shared/site_words.yml`` (breadcrumbs, the "cite this
  letter" block, the notebook pages' header, the download links and the headers of the downloaded files, the data
  tables under the charts, the screen-reader labels, the territorial listing), in sections:
  ``site_words("fr")["downloads"]["main"]``, or ``site_text("fr", "cite.text", title=..., url=...)`` for a
  sentence with values (values are inserted as given: escape them for where they are shown).

Parity is checked when a file is read: an entry without one of :data:`LANGUAGES`, or with a language the project
does not know, stops with the file, the key and the language. A French figure, table or sentence therefore cannot
exist without its English counterpart.

Placeholders. ``{name}`` in an output's words is filled with the value the notebook passes under that name:
a text as is, a whole number plainly (a year: "2024"), a :class:`Localized` value in the language being written
(a territory's name, a label), and a number with a format, ``{count:number}``, ``{rate:rate1}``,
``{share:percent1}``, ``{change:change1}``, ``{produced:date}``, ``{produced:month}``, written the way of the
language (272 400 and 2,8 in French; 272,400 and 2.8 in English). ``{{`` and ``}}`` print braces. A placeholder
without its value, or a number with decimals and no format, stops the build naming the file and the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.formatting import LANGUAGES, format_date, format_value, is_missing
from observatoire.core.localized import Localized
from observatoire.core.yamlfile import read_yaml

if TYPE_CHECKING:  # only in annotations: the site's words are read on the no-change release path (no pandas)
    import pandas as pd

__all__ = [
    "LANGUAGES",
    "label",
    "SHARED_OUTPUTS",
    "Localized",
    "entry",
    "fill",
    "OutputMeta",
    "OutputWords",
    "load_meta",
    "shared_outputs",
    "SITE_WORDS",
    "site_words",
    "site_text",
    "column_header",
    "fact_words",
]

#: The words every notebook shares (source lines, labels, the edition's name in the downloads).
SHARED_OUTPUTS = paths.SHARED_TEMPLATES / "outputs.yml"
#: The words of the site around the letters (sections of entries, every language side by side).
SITE_WORDS = paths.SHARED_TEMPLATES / "site_words.yml"
#: The fields of a figure's or table's words, and whether each is required.
OUTPUT_FIELDS = {
    "figures": {"title": True, "alt": True, "source": True, "caption": False, "note": False},
    "tables": {"title": True, "source": True, "note": False},
}
#: The sections of the shared outputs file that word the facts' unit and note codes (:func:`fact_words`).
FACT_SECTIONS = {"unit": "fact_units", "note": "fact_notes"}
#: The mappings an output may hold besides its texts: column headers and labels of values and chart words.
OUTPUT_MAPS = ("columns", "labels")

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+)(\d*))?\}")
_KINDS = {"number", "percent", "change", "rate", "signed", "date", "month", "lower"}


@dataclass(frozen=True)
class label:  # noqa: N801 - used like a function in notebooks: label("peers_region")
    """A placeholder value that is one of the output's labels, in the language being written.

    For words that depend on the case (a département or a région): ``ctx.save_figure(..., peers=label(
    "peers_" + level))`` prints the label ``peers_region`` of the output's metadata in each language.
    """

    key: str


def entry(path: Path, key: str, value: Any) -> Localized:
    """One entry of a words file, checked: a mapping with a non-empty text for each of :data:`LANGUAGES`.

    Raises
    ------
    InputError
        Naming the file, the key and the language missing, unknown or empty.
    """
    if not isinstance(value, Mapping):
        raise InputError(path, key, f"must give the text in each language ({', '.join(LANGUAGES)})")
    unknown = sorted(str(lang) for lang in value if lang not in LANGUAGES)
    if unknown:
        raise InputError(path, key, f"unknown language '{unknown[0]}' (languages: {', '.join(LANGUAGES)})")
    for lang in LANGUAGES:
        text = value.get(lang)
        if text is None:
            raise InputError(path, key, f"no text in language '{lang}'")
        if not isinstance(text, str | int | float) or isinstance(text, bool) or not str(text).strip():
            raise InputError(path, key, f"the text in language '{lang}' must be a non-empty string")
    # Only ASCII whitespace is trimmed (a block scalar's newline): a no-break space may be the text itself.
    return Localized({lang: str(value[lang]).strip(" \t\r\n") for lang in LANGUAGES})


def entries(path: Path, key: str, value: Any) -> dict[str, Localized]:
    """A mapping of entries (``columns``, ``labels``, ``sources`` ...), each checked by :func:`entry`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(path, key, "must be a mapping of names to entries")
    return {str(name): entry(path, f"{key}.{name}", text) for name, text in value.items()}


def _formatted(value: Any, kind: str | None, decimals: str, lang: str, place: str, path: Path) -> str:
    if isinstance(value, Localized):
        value = value[lang]
    if isinstance(value, label):
        raise InputError(path, place, f"label('{value.key}') is not one of this output's labels")
    if kind == "lower":
        return str(value).lower()
    if kind is None:
        if isinstance(value, bool) or (isinstance(value, float) and not float(value).is_integer()):
            raise InputError(path, place, f"the value {value!r} needs a format ({{name:number1}} ...)")
        if isinstance(value, float):
            value = int(value)
        if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
            value = value.item()
        return str(value)
    if kind not in _KINDS:
        raise InputError(path, place, f"unknown format '{kind}' (formats: {', '.join(sorted(_KINDS))})")
    if kind in ("date", "month"):
        return format_date(value, day=kind == "date", lang=lang)
    if is_missing(value):
        return format_value(None, "number", 0, lang)
    return format_value(value, kind, int(decimals) if decimals else 0, lang)


def fill(text: str, values: Mapping[str, Any], lang: str, *, path: Path, place: str) -> str:
    """Fill the placeholders of ``text`` (see the module docstring) with ``values``, written in ``lang``.

    Raises
    ------
    InputError
        A placeholder without a value, or a value it cannot print (naming the file and the key).
    """

    def one(match: re.Match) -> str:
        whole = match.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        name, kind, decimals = match.group(1), match.group(2), match.group(3)
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise InputError(path, place, f"no value for {{{name}}} (values given: {known})")
        return _formatted(values[name], kind, decimals, lang, place, path)

    return _PLACEHOLDER.sub(one, text)


@dataclass(frozen=True)
class OutputWords:
    """The words of one figure or table in one language, placeholders filled.

    A chart function takes what it draws from here: ``words.label("france")`` for a series, ``words.relabel(df,
    "role")`` to turn a column of codes into the labels of the language.

    Attributes
    ----------
    name, kind, lang : str
        The output's name, ``"figures"`` or ``"tables"``, the language.
    title, alt, source : str
        (``alt`` is empty for a table.)
    caption, note : str or None
    headers : dict
        Column -> header (the columns the metadata names).
    labels : dict
        Code -> label (values of the data, series, panels, axis words).
    where : str
        The file and key, for error messages.
    """

    name: str
    kind: str
    lang: str
    title: str
    source: str
    alt: str = ""
    caption: str | None = None
    note: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    where: str = ""

    def label(self, code: Any) -> str:
        """The label of ``code`` in this language.

        Raises
        ------
        KeyError
            Naming the metadata file and output when the code has no label.
        """
        try:
            return self.labels[str(code)]
        except KeyError:
            raise KeyError(
                f"{self.where}: no label for {str(code)!r} in labels (add it, in every language)"
            ) from None

    def relabel(self, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        """A copy of ``frame`` whose ``columns`` hold labels instead of codes (missing values and empty texts stay
        as they are)."""
        out = frame.copy()
        for column in columns:
            out[column] = out[column].map(lambda v: v if is_missing(v) or v == "" else self.label(v))
        return out


def _localized_maps(path: Path, where: str, raw: Mapping) -> dict[str, dict[str, Localized]]:
    return {name: entries(path, f"{where}.{name}", raw.get(name)) for name in OUTPUT_MAPS}


@dataclass(frozen=True)
class OutputMeta:
    """A notebook's metadata file, read and checked (see the module docstring).

    Attributes
    ----------
    path : Path
    outputs : dict
        ``{"figures": {name: {field: Localized or str}}, "tables": {...}}``.
    sources : dict
        Named source lines of the notebook (``source: <name>`` refers to one; else to a shared one).
    labels : dict
        Labels every output of the notebook shares.
    shared : OutputMeta or None
        The shared words (``publications/_shared/outputs.yml``).
    """

    path: Path
    outputs: dict[str, dict[str, dict[str, Any]]]
    sources: dict[str, Localized]
    labels: dict[str, Localized]
    shared: OutputMeta | None = None

    def names(self, kind: str) -> list[str]:
        """The outputs of ``kind`` (``"figures"``, ``"tables"``) the file declares."""
        return list(self.outputs.get(kind, {}))

    def source_line(self, name: str) -> Localized | None:
        """A named source line: the notebook's, else the shared one."""
        if name in self.sources:
            return self.sources[name]
        return self.shared.source_line(name) if self.shared is not None else None

    def _all_labels(self) -> dict[str, Localized]:
        """The labels every output sees: the shared ones, then the notebook's."""
        return {**(self.shared._all_labels() if self.shared is not None else {}), **self.labels}

    def words(self, kind: str, name: str, lang: str, values: Mapping[str, Any]) -> OutputWords:
        """The words of output ``name`` in ``lang``, placeholders filled from ``values``.

        Raises
        ------
        InputError
            The output is not declared, a source line is unknown, a placeholder has no value.
        """
        declared = self.outputs.get(kind, {})
        if name not in declared:
            raise InputError(self.path, f"{kind}.{name}", "no words for this output: declare them here")
        raw = declared[name]
        where = f"{kind}.{name}"

        def text(field_name: str) -> str | None:
            value = raw.get(field_name)
            if value is None:
                return None
            if isinstance(value, str):  # a named source line
                line = self.source_line(value)
                if line is None:
                    raise InputError(self.path, f"{where}.{field_name}", f"no source line named '{value}'")
                value = line
            return fill(value[lang], values, lang, path=self.path, place=f"{where}.{field_name}")

        plain = {k: v for k, v in values.items() if not isinstance(v, label)}
        labels = {
            code: fill(text[lang], plain, lang, path=self.path, place=f"{where}.labels.{code}")
            for code, text in {**self._all_labels(), **raw["labels"]}.items()
        }
        values = {
            k: (labels[v.key] if isinstance(v, label) and v.key in labels else v) for k, v in values.items()
        }
        headers = {
            column: fill(header[lang], values, lang, path=self.path, place=f"{where}.columns.{column}")
            for column, header in raw["columns"].items()
        }
        return OutputWords(
            name=name,
            kind=kind,
            lang=lang,
            title=text("title") or "",
            source=text("source") or "",
            alt=text("alt") or "",
            caption=text("caption"),
            note=text("note"),
            headers=headers,
            labels=labels,
            where=f"{Path(self.path).name}: {where}",
        )


def _parse_meta(path: Path, raw: Any, shared: OutputMeta | None) -> OutputMeta:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputError(path, "whole file", "must be a mapping (figures, tables, sources, labels)")
    unknown = sorted(
        set(raw) - {"figures", "tables", "sources", "labels", "edition", *FACT_SECTIONS.values()}
    )
    if unknown:
        raise InputError(
            path, f"key '{unknown[0]}'", "unknown key (allowed: figures, tables, sources, labels)"
        )
    outputs: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, fields in OUTPUT_FIELDS.items():
        declared = raw.get(kind) or {}
        if not isinstance(declared, Mapping):
            raise InputError(path, kind, "must map each output's name to its words")
        outputs[kind] = {}
        for name, words in declared.items():
            where = f"{kind}.{name}"
            if not isinstance(words, Mapping):
                raise InputError(path, where, "must be a mapping of fields (title, source ...)")
            allowed = set(fields) | set(OUTPUT_MAPS)
            extra = sorted(set(words) - allowed)
            if extra:
                raise InputError(
                    path, f"{where}.{extra[0]}", f"unknown field (allowed: {', '.join(sorted(allowed))})"
                )
            checked: dict[str, Any] = {}
            for field_name, required in fields.items():
                value = words.get(field_name)
                if value is None:
                    if required:
                        raise InputError(path, f"{where}.{field_name}", "required")
                    continue
                if field_name == "source" and isinstance(value, str):
                    checked[field_name] = value  # a named source line, resolved when used
                else:
                    checked[field_name] = entry(path, f"{where}.{field_name}", value)
            checked.update(_localized_maps(path, where, words))
            outputs[kind][str(name)] = checked
    meta = OutputMeta(
        path=path,
        outputs=outputs,
        sources=entries(path, "sources", raw.get("sources")),
        labels=entries(path, "labels", raw.get("labels")),
        shared=shared,
    )
    for kind, declared in outputs.items():  # named source lines resolve now, not at the first output saved
        for name, words in declared.items():
            if isinstance(words.get("source"), str) and meta.source_line(words["source"]) is None:
                raise InputError(path, f"{kind}.{name}.source", f"no source line named '{words['source']}'")
    return meta


@functools.cache
def _shared(path: Path, stamp: int) -> OutputMeta:
    return _parse_meta(path, read_yaml(path), None)


def shared_outputs(path: Path = SHARED_OUTPUTS) -> OutputMeta:
    """The shared words of the notebooks' outputs (``publications/_shared/outputs.yml``)."""
    path = Path(path)
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _shared(path, stamp)


@functools.cache
def _fact_sections(path: Path, stamp: int) -> dict[str, dict[str, Localized]]:
    raw = read_yaml(path) or {}
    return {field: entries(path, section, raw.get(section)) for field, section in FACT_SECTIONS.items()}


def fact_words(
    record: Mapping[str, Any], lang: str = "fr", path: Path = SHARED_OUTPUTS
) -> dict[str, str | None]:
    """The unit and the note of a fact as a reader reads them in ``lang``: ``{"unit": ..., "note": ...}``.

    A fact carries codes (``unit: per_1000_inhabitants``, ``note: rate_denominator_insee``); their words are the
    entries of the sections ``fact_units`` and ``fact_notes`` of the shared outputs file, every language side by
    side, a note's placeholders filled from the fact's own fields and details (``{ref_year}``, ``{pop_edition}``).
    A unit or note that is not one of those codes (free text: a published figure's provenance, or a module whose
    words are still being moved) is returned as written; a missing note is None.

    Raises
    ------
    InputError
        For a language the project does not know, or a placeholder the fact has no value for.
    """
    if lang not in LANGUAGES:
        raise InputError(path, "language", f"no words in {lang!r} (languages: {', '.join(LANGUAGES)})")
    path = Path(path)
    sections = _fact_sections(path, path.stat().st_mtime_ns if path.exists() else 0)
    out: dict[str, str | None] = {}
    for field_name, section in FACT_SECTIONS.items():
        code = record.get(field_name)
        declared = sections[field_name].get(str(code)) if isinstance(code, str) else None
        if declared is None:
            out[field_name] = code
            continue
        values = {k: v for k, v in record.items() if v is not None}
        out[field_name] = fill(declared[lang], values, lang, path=path, place=f"{section}.{code}")
    return out


def shared_text(key: str, lang: str, values: Mapping[str, Any] | None = None) -> str:
    """A top-level text of the shared outputs file (``edition`` ...), filled in ``lang``."""
    raw = read_yaml(SHARED_OUTPUTS) or {}
    value = entry(SHARED_OUTPUTS, key, raw.get(key))
    return fill(value[lang], values or {}, lang, path=SHARED_OUTPUTS, place=key)


def load_meta(path: Path, shared: Path | None = SHARED_OUTPUTS) -> OutputMeta:
    """Read and check a notebook's metadata file (every entry in every language).

    Parameters
    ----------
    path : Path
        ``notebooks/<theme>/<notebook>.meta.yml``.
    shared : Path, optional
        The shared words (default ``publications/_shared/outputs.yml``); None for none.

    Raises
    ------
    InputError
        Naming the file, the key and the rule broken (a missing language among them).
    """
    path = Path(path)
    base = shared_outputs(shared) if shared is not None and Path(shared).is_file() else None
    return _parse_meta(path, read_yaml(path), base)


def missing_values(text: str) -> set[str]:
    """The placeholder names of ``text`` (for checks that every value is passed)."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1)}


def every_text(meta: OutputMeta) -> Iterable[tuple[str, str, str]]:
    """``(key, lang, text)`` of every text of a metadata file (for tests)."""
    for kind, declared in meta.outputs.items():
        for name, words in declared.items():
            for field_name, value in words.items():
                if isinstance(value, Localized):
                    for lang in LANGUAGES:
                        yield f"{kind}.{name}.{field_name}", lang, value[lang]
                elif isinstance(value, dict):
                    for code, text in value.items():
                        for lang in LANGUAGES:
                            yield f"{kind}.{name}.{field_name}.{code}", lang, text[lang]


@functools.cache
def _site_words(path: Path, stamp: int) -> dict[str, dict[str, Localized]]:
    raw = read_yaml(path)
    if not isinstance(raw, Mapping) or not all(isinstance(v, Mapping) for v in raw.values()):
        raise InputError(path, "whole file", "must be a mapping of sections, each a mapping of entries")
    out: dict[str, dict[str, Localized]] = {}
    for section, names in raw.items():
        for name, value in names.items():
            key = f"{section}.{name}"
            entry(path, key, value)  # checked: every language, no other
            # kept as written (a separator such as " ; " is its spaces)
            out.setdefault(str(section), {})[str(name)] = Localized(
                {lang: str(value[lang]) for lang in LANGUAGES}
            )
    return out


def site_words(lang: str = "fr", path: Path = SITE_WORDS) -> Mapping[str, Mapping[str, str]]:
    """The words of the site around the letters in ``lang``: ``{section: {name: text}}``.

    Raises
    ------
    InputError
        For a language the project does not know, an entry without one of :data:`LANGUAGES`, or a file that is
        not a mapping of sections.
    """
    if lang not in LANGUAGES:
        raise InputError(path, "language", f"no words in {lang!r} (languages: {', '.join(LANGUAGES)})")
    path = Path(path)
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return {section: {name: text[lang] for name, text in names.items()} for section, names in
            _site_words(path, stamp).items()}  # fmt: skip


def site_text(lang: str, key: str, path: Path = SITE_WORDS, **values: Any) -> str:
    """One entry (``"section.name"``) of the site's words in ``lang``, its ``{name}`` placeholders filled with
    ``values`` (see :func:`fill`).

    Raises
    ------
    InputError
        For an unknown key or a placeholder without a value (naming the file and the key).
    """
    section, _, name = key.partition(".")
    text = site_words(lang, path).get(section, {}).get(name)
    if text is None:
        raise InputError(path, key, "no such entry")
    return fill(text, values, lang, path=Path(path), place=key)


def column_header(column: str, lang: str = "fr") -> str | None:
    """The public header of a data column (``"change_rel"`` -> ``"Évolution sur un an (%)"``), or None for a
    column that is internal (not in the ``columns`` section of the site's words)."""
    return site_words(lang)["columns"].get(str(column).lower())
