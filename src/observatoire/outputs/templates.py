"""The letter's words: publication templates filled from the facts at staging.

Why. The sentences of a letter belong to its authors, not to the Python that computes its numbers. Each section
of a publication (``publications/<theme>/*.qmd``) is therefore a Jinja2 template: the author writes the French
(or English) sentence, with its grammar, and places the computed values in it; Python only computes values and
their metadata (the facts). At staging, :func:`render_tree` renders every ``.qmd`` of the staged publication
before Quarto runs.

Syntax (chosen so as not to clash with Quarto shortcodes ``{{< >}}`` nor pandoc attributes ``{#id}``):

* ``[[ f.vs_total ]]``: a value; a fact prints as its formatted text ("122 610"), a text fact is escaped for
  Markdown (it comes from data);
* ``[% if f.vs_total.available %] ... [% else %] ... [% endif %]``: logic;
* ``[# a comment for authors #]``;
* ``[[ words.intro ]]``: the prose of entry ``intro`` of the publication's words file, in the letter's language.

One source, every language (the gettext model). A template holds the structure and the logic of a letter; its
prose sits in ``words.yml`` beside it (``publications/<theme>/words.yml``; entries every publication shares in
``publications/_shared/words.yml``), one entry per key with the text of every language side by side::

    intro:
      fr: Cette lettre présente, pour [[ place.le ]], les victimes ...
      en: This letter presents, for [[ place.name ]], the victims ...

Each entry is itself a small template, compiled in place of its ``[[ words.KEY ]]`` when the letter is built
in a language: it sees everything the template sees at that point (facts, ``meta``, the variables of a macro
or a loop, filters) and may hold logic of its own (a plural, an article). A French letter and an English letter
are therefore the same template with the same branches: a section, a figure or a caveat cannot exist in one
language only. An entry missing a language stops when the words are read (file, key, language); an unknown key
stops the render (template, line, key).

The context: ``f`` (the facts of the edition, ``f.KEY`` -> a :class:`Fact` with ``value``, ``text``,
``available``, ``ref_year``, ``unit``, ``label``, ``source_id``, ``edition``, ``note`` and every other field of the
record), ``meta`` (year, theme, edition, ``lang`` ...) and ``NA`` ("donnée non disponible", "not available").
Values and plurals are printed in ``meta.lang`` (French by default; English: "1,234", "+0.7%"). Filters:
``plural(n, "victime", "victimes")``, ``number(decimals)``, ``percent(decimals)``, ``change(decimals)``,
``capfirst``, ``magnitude(decimals)`` (a change without its sign), ``pvalue``, ``date`` and ``month`` (an ISO date
in words), ``interval(high, decimals, kind)`` (``[[ low|interval(high, 1) ]]``). Globals: ``place(code)`` (a
territory's name and its grammar in the letter's language, :mod:`observatoire.outputs.places`),
``indicator(id)`` (the registry's label and words, :mod:`observatoire.analysis.indicators.registry`),
``survey(code)`` (a survey's name, ``.label``, from the registry's ``surveys``),
``figure(name)`` and ``table(name)`` (a figure or a table of the edition, with its caption and alt text in the
letter's language). An unknown fact or field stops the build, naming the template, its line and the key: a
letter is never published with a hole in a sentence.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from observatoire.analysis.indicators import registry
from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.escaping import markdown_text
from observatoire.core.formatting import (
    NNBSP,
    format_change,
    format_date,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_value,
    not_available,
)
from observatoire.core.yamlfile import read_yaml
from observatoire.outputs import places
from observatoire.outputs.words import entry

__all__ = [
    "Fact",
    "FactSet",
    "environment",
    "render_text",
    "render_tree",
    "french_typography",
    "typeset_tables",
]

#: The extension of the files rendered as templates.
TEMPLATE_SUFFIX = ".qmd"


class Fact:
    """One fact of the edition as a template sees it: prints as its formatted text.

    Parameters
    ----------
    record : mapping
        A record of the facts file (see :mod:`observatoire.outputs.facts`).
    lang : {"fr", "en"}, default "fr"
        The letter's language: the value is formatted for it (the facts file holds the French text; the values
        are the same in every language).
    """

    __slots__ = ("_record", "_lang")

    def __init__(self, record: Mapping[str, Any], lang: str = "fr") -> None:
        self._record = dict(record)
        self._lang = lang

    def __getattr__(self, name: str) -> Any:
        record = object.__getattribute__(self, "_record")
        if name in record:
            return record[name]
        raise AttributeError(
            f"fact '{record.get('key')}' has no field '{name}' (fields: {', '.join(sorted(record))})"
        )

    def has(self, name: str) -> bool:
        """True when the fact's record has the field ``name`` (a template lists, e.g., the facts with a ``row_id``)."""
        return name in self._record

    def __str__(self) -> str:
        record = self._record
        if self._lang == "fr":
            text = str(record.get("text", ""))
        else:
            kind = record.get("kind", "number")
            text = format_value(record.get("value"), kind, int(record.get("decimals") or 0), self._lang)
        return markdown_text(text) if record.get("kind") == "text" else text

    def __html__(self) -> str:  # never used as HTML; defined so that Jinja2 does not guess
        return str(self)

    def __bool__(self) -> bool:
        return bool(self._record.get("available"))

    def __repr__(self) -> str:
        return f"Fact({self._record.get('key')!r}, {self._record.get('text')!r})"


class FactSet(Mapping):
    """The facts of an edition by key, printed in ``lang``; an unknown key is an error naming it."""

    def __init__(self, records: Mapping[str, Mapping[str, Any]], lang: str = "fr") -> None:
        self._facts = {key: Fact({"key": key, **record}, lang) for key, record in records.items()}

    def __getitem__(self, key: str) -> Fact:
        try:
            return self._facts[key]
        except KeyError:
            raise KeyError(f"no fact '{key}' in this edition") from None

    def __getattr__(self, key: str) -> Fact:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._facts[key]
        except KeyError:
            raise AttributeError(f"no fact '{key}' in this edition") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Fact) else x


def plural(n: Any, singular: str, plural_form: str, lang: str = "fr") -> str:
    """The form of a word that goes with ``n``: in French the singular for 0 and 1 (values below 2), in English
    the singular for 1 only.

    Parameters
    ----------
    n : number or Fact
        The count the word goes with.
    singular, plural_form : str
        The two forms.
    lang : {"fr", "en"}, default "fr"

    Returns
    -------
    str
    """
    value = _value(n)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return plural_form
    if lang == "en":
        return singular if abs(float(value)) == 1 else plural_form
    return singular if abs(float(value)) < 2 else plural_form


def _finalize(value: Any) -> Any:
    if isinstance(value, Fact):
        return str(value)
    if value is None:
        raise ValueError("a template printed an empty value (None): test '.available' before printing")
    return value


def _number_filters(lang: str) -> dict[str, Any]:
    """The template filters that print a value, for the letter's language."""

    def number(value: Any, decimals: int = 0) -> str:
        return format_number(_value(value), decimals, lang)

    def percent(value: Any, decimals: int = 0) -> str:
        return format_percent(_value(value), decimals, lang)

    def change(value: Any, decimals: int = 1) -> str:
        return format_change(_value(value), decimals, lang)

    def magnitude(value: Any, decimals: int = 1) -> str:
        """The size of a change without its sign (the verb carries the direction): ``-0.027`` -> "2,7 %"."""
        value = _value(value)
        return format_percent(None if value is None else abs(float(value)) * 100, decimals, lang)

    def pvalue(value: Any) -> str:
        return format_p_value(_value(value), lang=lang)

    def word(n: Any, singular: str, plural_form: str) -> str:
        return plural(n, singular, plural_form, lang)

    def date(value: Any) -> str:
        return format_date(_value(value), day=True, lang=lang)

    def month(value: Any) -> str:
        return format_date(_value(value), day=False, lang=lang)

    def interval(low: Any, high: Any, decimals: int = 1, kind: str = "number") -> str:
        return format_interval(_value(low), _value(high), decimals, kind, lang)

    return {
        "number": number,
        "percent": percent,
        "change": change,
        "magnitude": magnitude,
        "pvalue": pvalue,
        "plural": word,
        "date": date,
        "month": month,
        "interval": interval,
    }


def _capfirst(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


class _Environment(jinja2.Environment):
    """Jinja2, except that a missing fact or field is an error naming it (not a silent undefined).

    ``words`` (key -> text in every language) and ``lang`` are what ``[[ words.KEY ]]`` compiles to.
    """

    words: Mapping[str, Mapping[str, str]] = {}
    words_origin: Mapping[str, Path] = {}
    lang: str = "fr"

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Fact | FactSet):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


#: The name of a publication's words file; the one every publication shares is in ``publications/_shared/``.
WORDS_FILE = "words.yml"
SHARED_WORDS = paths.SHARED_TEMPLATES / WORDS_FILE
#: What a template writes to print the words of ``KEY``: ``[[ words.KEY ]]``.
WORDS_NAME = "words"


@functools.cache
def _read_words(path: Path, stamp: int) -> dict[str, Any]:
    raw = read_yaml(path) or {}
    if not isinstance(raw, Mapping):
        raise InputError(path, "whole file", "must map each key to its text in every language")
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise InputError(
                path, f"key {key!r}", "a key is a name: letters, digits and _ (it follows 'words.')"
            )
        out[key] = entry(path, key, value)
    return out


def load_words(*files: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The words of one or several words files, checked (every key in every language, no key twice).

    Parameters
    ----------
    *files : Path
        Words files; an absent file has no words.

    Returns
    -------
    (dict, dict)
        Key -> :class:`~observatoire.outputs.words.Localized`, and key -> the file declaring it.

    Raises
    ------
    InputError
        A malformed entry, a missing language, or a key declared in two files.
    """
    words: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in files:
        path = Path(path)
        if not path.is_file():
            continue
        for key, value in _read_words(path, path.stat().st_mtime_ns).items():
            if key in words:
                raise InputError(path, key, f"declared twice (also in {origin[key]})")
            words[key] = value
            origin[key] = path
    return words, origin


def publication_words(folder: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The words a publication's templates may print: its own ``words.yml`` and the shared one."""
    own = Path(folder) / WORDS_FILE
    if own.resolve() == SHARED_WORDS.resolve():  # the shared templates themselves
        return load_words(SHARED_WORDS)
    return load_words(own, SHARED_WORDS)


class WordsExtension(Extension):
    """Compiles ``[[ words.KEY ]]`` into the template text of entry ``KEY`` in the environment's language.

    The entry's tokens replace the marker's, all carrying the marker's line: the entry is part of the template
    (its variables, its macros' arguments, its loops), and an error in it is reported at the line that prints
    it. An entry may print another entry (never itself, directly or not).
    """

    _expanding: tuple[str, ...] = ()

    def filter_stream(self, stream: TokenStream):
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            window = tokens[i : i + 5]
            if (
                len(window) == 5
                and [t.type for t in window] == ["variable_begin", "name", "dot", "name", "variable_end"]
                and window[1].value == WORDS_NAME
            ):
                yield from self._expand(window[3].value, window[0].lineno, stream.name, stream.filename)
                i += 5
                continue
            yield tokens[i]
            i += 1

    def _expand(self, key: str, lineno: int, name: str | None, filename: str | None):
        env = self.environment
        if key not in env.words:
            raise jinja2.TemplateSyntaxError(
                f"no entry '{key}' in the words ({WORDS_FILE} beside the publication, or the shared one)",
                lineno,
                name,
                filename,
            )
        if key in WordsExtension._expanding:
            raise jinja2.TemplateSyntaxError(f"the words '{key}' print themselves", lineno, name, filename)
        text = env.words[key][env.lang]
        WordsExtension._expanding = (*WordsExtension._expanding, key)
        try:
            for token in env._tokenize(text, name, filename):
                if token.type != "eof":
                    yield Token(lineno, token.type, token.value)
        finally:
            WordsExtension._expanding = WordsExtension._expanding[:-1]


def _attribute(text: str) -> str:
    """Text inside a double-quoted pandoc attribute: backslashes and quotes escaped, one line."""
    return re.sub(r"\s+", " ", str(text)).replace("\\", "\\\\").replace('"', '\\"')


#: A space between the digits of a number's thousands ("1 000", "272 400").
_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def _outputs_globals(outputs: Mapping[str, Mapping[str, Mapping]] | None, lang: str = "fr") -> dict[str, Any]:
    """``figure(name)`` and ``table(name)``: an output of the edition as the letter shows it (in French, a number's
    thousands separated by a narrow no-break space in its caption and alt text, as in the prose)."""
    outputs = outputs or {}
    typeset = (lambda text: _THOUSANDS.sub(NNBSP, str(text))) if lang == "fr" else str

    def _meta(kind: str, name: str) -> Mapping:
        found = (outputs.get(kind) or {}).get(name)
        if found is None:
            known = ", ".join(sorted(outputs.get(kind) or {})) or "none"
            raise KeyError(f"no {kind[:-1]} '{name}' in this edition ({kind}: {known})")
        return found

    def figure(name: str) -> str:
        meta = _meta("figures", name)
        caption = markdown_text(typeset(meta.get("caption") or meta["title"]))
        alt = typeset(_attribute(meta["alt"]))  # after: _attribute turns any space (U+202F too) into " "
        return f'![{caption}](figures/{meta["files"]["svg"]}){{#fig-{name} fig-alt="{alt}"}}'

    def table(name: str) -> str:
        meta = _meta("tables", name)
        return f"{{{{< include tables/{meta['files']['md']} >}}}}"

    return {"figure": figure, "table": table}


def _language_globals(lang: str) -> dict[str, Any]:
    """``place(code)``, ``indicator(id)`` and ``survey(code)``: names with their grammar, labels, in the letter's
    language."""

    def place(code: Any) -> Any:
        return places.place(_value(code)).in_(lang)

    def indicator(indicator_id: Any) -> Any:
        return registry.get(str(_value(indicator_id))).in_(lang)

    def survey(code: Any) -> Any:
        return registry.survey(str(_value(code))).in_(lang)

    return {"place": place, "indicator": indicator, "survey": survey}


def environment(
    search_path: Path | None = None,
    lang: str = "fr",
    words: Mapping[str, Mapping[str, str]] | None = None,
) -> jinja2.Environment:
    """The Jinja2 environment of the publication templates (delimiters, filters, strict undefined).

    Parameters
    ----------
    search_path : Path, optional
        Folder from which ``[% include "..." %]`` loads other templates.
    lang : {"fr", "en"}, default "fr"
        The language the filters print numbers and plurals in, and of the words.
    words : mapping, optional
        Key -> text in every language (:func:`publication_words`); default: those of ``search_path``.

    Returns
    -------
    jinja2.Environment
    """
    env = _Environment(
        # The publication's own templates, then those every publication shares (_languages.jinja ...).
        loader=jinja2.FileSystemLoader([str(search_path), str(paths.SHARED_TEMPLATES)])
        if search_path
        else None,
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        extensions=[WordsExtension],
    )
    env.lang = lang
    if words is None:
        words = publication_words(search_path)[0] if search_path else {}
    env.words = words
    filters = _number_filters(lang)
    env.filters.update(filters, capfirst=_capfirst, md=markdown_text)
    env.globals.update(NA=not_available(lang), plural=filters["plural"], **_language_globals(lang))
    return env


# "!" before "[" opens an image, not an exclamation.
_SPACE_BEFORE = re.compile(r"[ \u00a0]([;:?%»]|!(?!\[))")
_SPACE_AFTER = re.compile(r"(«)[ \u00a0]")
_FENCE = re.compile(r"^(```|~~~)")


# A value printed at the start of a line ("sur\n5.") would open a numbered list; authors never type one (no digit
# is typed in a template), so a line starting with "<digits>." or "<digits>)" always comes from a value.
_ACCIDENTAL_LIST = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")


def _outside_code(text: str, change) -> str:
    """Apply ``change`` to every line of Markdown that is not inside a fenced code block."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if _FENCE.match(line.lstrip()):
            in_code = not in_code
        elif not in_code:
            line = change(line)
        out.append(line)
    return "\n".join(out)


def no_accidental_lists(text: str) -> str:
    """Escape a number that starts a line and is followed by "." or ")", outside code blocks.

    Parameters
    ----------
    text : str
        Rendered Markdown.

    Returns
    -------
    str
    """
    return _outside_code(text, lambda line: _ACCIDENTAL_LIST.sub(r"\1\\\2", line))


def french_typography(text: str) -> str:
    """Put a narrow no-break space before ``; : ! ? % »`` and after ``«``, outside code blocks.

    Parameters
    ----------
    text : str
        Rendered Markdown.

    Returns
    -------
    str
    """
    return _outside_code(
        text, lambda line: _SPACE_AFTER.sub(r"\1" + NNBSP, _SPACE_BEFORE.sub(NNBSP + r"\1", line))
    )


def typeset_tables(folder: Path) -> list[Path]:
    """Apply :func:`french_typography` to the generated Markdown tables of a staged publication (``tables/*.md``).

    The tables are included by Quarto after the templates are rendered, so the template pass never sees them;
    their captions and cells (column labels such as "IC à 95 %") get the same narrow no-break spaces here.

    Parameters
    ----------
    folder : Path
        The staged publication (or any folder holding a ``tables`` subfolder).

    Returns
    -------
    list of Path
        The files changed.
    """
    changed = []
    for path in sorted(Path(folder).glob("tables/*.md")):
        text = path.read_text(encoding="utf-8")
        typeset = french_typography(text)
        if typeset != text:
            path.write_text(typeset, encoding="utf-8")
            changed.append(path)
    return changed


def render_text(
    source: str,
    facts: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    *,
    name: str = "<template>",
    search_path: Path | None = None,
    outputs: Mapping[str, Mapping[str, Mapping]] | None = None,
    words: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """Render one template.

    Parameters
    ----------
    source : str
        The template text.
    facts : mapping
        Fact records by key (:func:`observatoire.outputs.facts.load_facts`).
    meta : mapping
        Build values (year, theme, edition, ``lang`` ...).
    name : str
        The template's file name, for error messages.
    search_path : Path, optional
        Folder for ``[% include %]`` (and its ``words.yml``).
    outputs : mapping, optional
        ``{"figures": {name: metadata}, "tables": {...}}`` of the edition in the letter's language, for
        ``figure(name)`` and ``table(name)`` (:func:`edition_outputs`).
    words : mapping, optional
        The words (default: those of ``search_path`` and the shared ones).

    Returns
    -------
    str
        The Markdown, with French typography applied when ``meta["lang"]`` is ``"fr"`` (the default).

    Raises
    ------
    InputError
        Naming the template, the line and what is wrong (unknown fact or field, syntax error, empty value).
    """
    lang = str(meta.get("lang", "fr"))
    try:
        if words is None:
            words = publication_words(search_path)[0] if search_path else {}
        template = _compiled(
            source, lang, str(search_path or ""), tuple((k, v[lang]) for k, v in words.items())
        )
        rendered = template.render(f=FactSet(facts, lang), meta=dict(meta), **_outputs_globals(outputs, lang))
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(name, f"line {exc.lineno}", f"template syntax: {exc.message}") from None
    except (jinja2.TemplateError, AttributeError, KeyError, ValueError, TypeError) as exc:
        raise InputError(name, _template_line(exc), f"template value: {exc}") from None
    rendered = no_accidental_lists(rendered)
    if lang == "fr":
        rendered = french_typography(rendered)
    return rendered


@functools.lru_cache(maxsize=256)
def _compiled(
    source: str, lang: str, search_path: str, words: tuple[tuple[str, str], ...]
) -> jinja2.Template:
    """A template compiled in ``lang`` with its words (the same letter rendered again reuses it: 119 territories)."""
    env = environment(
        Path(search_path) if search_path else None, lang, {k: {lang: text} for k, text in words}
    )
    return env.from_string(source)


def _template_line(exc: BaseException) -> str:
    """The template line of an error raised while rendering, from the traceback."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"line {line}" if line else "template"


def edition_outputs(folder: Path) -> dict[str, dict[str, dict]]:
    """The metadata of the figures and tables of a staged publication (``figures/*.json``, ``tables/*.json``)."""
    out: dict[str, dict[str, dict]] = {"figures": {}, "tables": {}}
    for kind in out:
        for path in sorted((Path(folder) / kind).glob("*.json")):
            if path.name.endswith(".vl.json"):
                continue
            meta = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(meta, dict) and "name" in meta and "files" in meta:
                out[kind][meta["name"]] = meta
    return out


def render_tree(
    folder: Path,
    facts: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    origin: Path | None = None,
) -> list[Path]:
    """Render every ``.qmd`` below ``folder`` in place (the staged copy of a publication, never the source).

    Parameters
    ----------
    folder : Path
        The staged publication.
    facts, meta : mapping
        As for :func:`render_text`.
    origin : Path, optional
        The publication's source folder, to name the author's file in error messages.

    Returns
    -------
    list of Path
        The files rendered, sorted.
    """
    folder = Path(folder)
    outputs = edition_outputs(folder)
    words = publication_words(folder)[0]
    done = []
    for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(folder)
        name = str(Path(origin) / relative) if origin else str(relative)
        rendered = render_text(text, facts, meta, name=name, search_path=folder, outputs=outputs, words=words)
        if rendered != text:
            path.write_text(rendered, encoding="utf-8")
        done.append(path)
    return done
