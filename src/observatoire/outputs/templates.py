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
* ``[# a comment for authors #]``.

The context: ``f`` (the facts of the edition, ``f.KEY`` -> a :class:`Fact` with ``value``, ``text``,
``available``, ``ref_year``, ``unit``, ``label``, ``source_id``, ``edition``, ``note`` and every other field of the
record), ``meta`` (year, theme, edition, ``lang`` ...) and ``NA`` ("donnée non disponible", "not available").
Values and plurals are printed in ``meta.lang`` (French by default; English: "1,234", "+0.7%"). Filters:
``plural(n, "victime", "victimes")``, ``number(decimals)``, ``percent(decimals)``, ``change(decimals)``,
``capfirst``, ``magnitude(decimals)`` (a change without its sign), ``pvalue``. An unknown fact or field stops the build, naming the template, its line and the key: a letter is
never published with a hole in a sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2

from observatoire.core.errors import InputError
from observatoire.core.escaping import markdown_text
from observatoire.core.formatting import (
    NNBSP,
    format_change,
    format_number,
    format_p_value,
    format_percent,
    format_value,
    not_available,
)

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

    return {
        "number": number,
        "percent": percent,
        "change": change,
        "magnitude": magnitude,
        "pvalue": pvalue,
        "plural": word,
    }


def _capfirst(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


class _Environment(jinja2.Environment):
    """Jinja2, except that a missing fact or field is an error naming it (not a silent undefined)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Fact | FactSet):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def environment(search_path: Path | None = None, lang: str = "fr") -> jinja2.Environment:
    """The Jinja2 environment of the publication templates (delimiters, filters, strict undefined).

    Parameters
    ----------
    search_path : Path, optional
        Folder from which ``[% include "..." %]`` loads other templates.
    lang : {"fr", "en"}, default "fr"
        The language the filters print numbers and plurals in.

    Returns
    -------
    jinja2.Environment
    """
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(search_path)) if search_path else None,
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
    )
    filters = _number_filters(lang)
    env.filters.update(filters, capfirst=_capfirst, md=markdown_text)
    env.globals.update(NA=not_available(lang), plural=filters["plural"])
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
        Folder for ``[% include %]``.

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
    env = environment(search_path, lang)
    try:
        template = env.from_string(source)
        rendered = template.render(f=FactSet(facts, lang), meta=dict(meta))
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(name, f"line {exc.lineno}", f"template syntax: {exc.message}") from None
    except (jinja2.TemplateError, AttributeError, KeyError, ValueError, TypeError) as exc:
        raise InputError(name, _template_line(exc), f"template value: {exc}") from None
    rendered = no_accidental_lists(rendered)
    if lang == "fr":
        rendered = french_typography(rendered)
    return rendered


def _template_line(exc: BaseException) -> str:
    """The template line of an error raised while rendering, from the traceback."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"line {line}" if line else "template"


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
    done = []
    for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(folder)
        name = str(Path(origin) / relative) if origin else str(relative)
        rendered = render_text(text, facts, meta, name=name, search_path=folder)
        if rendered != text:
            path.write_text(rendered, encoding="utf-8")
        done.append(path)
    return done
