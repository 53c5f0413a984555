"""What the build writes into a staged Quarto project: its metadata and variables, escaped and checked.

Why a module of its own: the staged project (``build/<theme>/<year>/publication``) receives keys and values that
the publication's authors did not write: the edition's meta values (year, theme, editions of its sources, the
variant, the letter's language and the addresses of its other languages) at the top level of ``_quarto.yml``,
and the facts as ``_variables.yml``. Two things went wrong there before:

- a key that Quarto reads as one of its own options changes what Quarto does. The meta value ``variant`` (a
  parameter variant's name) is pandoc's markdown ``variant`` option: Quarto appended it to the output format
  ("Unknown output format htmlssmsi_source-...") and every variant build stopped in Quarto. Every key the build
  writes into ``_quarto.yml`` is now checked against Quarto's option names (:func:`quarto_options`, from Quarto's
  own schema) and refused with one line naming it; the build sets one option on purpose: ``lang``
  (:data:`BUILD_OPTIONS`). ``_variables.yml`` is not checked: its keys are the namespace of ``{{< var >}}``
  only, which Quarto never reads as options (a fact may be called ``label``, a cell option, harmlessly).
- Quarto reads every string of its metadata and of ``_variables.yml`` as Markdown, shortcodes included. Every
  value from data or configuration (an edition label from the catalogue, a theme title from themes.yml) goes
  through one rule, :func:`observatoire.escaping.markdown_text`, before it is written; ``lang`` is checked
  against the declared languages instead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from observatoire.core.errors import InputError
from observatoire.core.escaping import markdown_text
from observatoire.core.textfile import read_utf8
from observatoire.core.yamlfile import read_yaml
from observatoire.publishing import manifest as mf
from observatoire.publishing.plan import EditionPlan, language_path

if TYPE_CHECKING:
    from observatoire.data.themes import Theme

log = logging.getLogger(__name__)

#: Quarto's option names (document, cell and project options), generated from Quarto's schema
#: (``<quarto share>/schema/*.yml``; tests/test_release.py compares it with the Quarto installed).
QUARTO_OPTIONS_FILE = Path(__file__).resolve().parent / "rendering" / "quarto-options.txt"
#: The Quarto options the build sets on purpose (the letter's language: Quarto prints its words in it).
BUILD_OPTIONS = frozenset({"lang"})
#: The Quarto options a letter with one source gets for its language (:func:`write_language_words`): the words
#: Quarto prints (cross-references, callouts, the table of contents), never from the meta values.
LANGUAGE_OPTIONS = BUILD_OPTIONS | {"crossref", "language"}
VARIABLES = "_variables.yml"
PROJECT = "_quarto.yml"


@functools.lru_cache(maxsize=1)
def quarto_options() -> frozenset[str]:
    """Quarto's option names, from :data:`QUARTO_OPTIONS_FILE` (one per line, ``#`` comments)."""
    lines = QUARTO_OPTIONS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_keys(
    path: Path, keys: list[str] | Mapping[str, Any], *, allowed: frozenset[str] = BUILD_OPTIONS
) -> None:
    """Refuse a key the build would write into ``path`` that Quarto reads as one of its options.

    Raises
    ------
    InputError
        Naming the file, the key and the rule (the first such key, in sorted order).
    """
    reserved = sorted(set(keys) & quarto_options() - allowed)
    if reserved:
        raise InputError(
            path,
            f"key '{reserved[0]}'",
            "is a Quarto option (Quarto would act on it, not print it): the build cannot write it as a "
            "value; rename it",
        )


def meta_values(
    theme: Theme, year: int, parameters: Mapping[str, Any], variant: str | None, lang: str = "fr"
) -> dict[str, str]:
    """Values the publication reads with ``{{< meta key >}}`` / ``{{< var key >}}`` / ``[[ meta.key ]]``.

    ``year``, ``theme_id``, ``theme_title``, ``<prefix>_edition`` for each ``<prefix>_source`` parameter (e.g.
    ``ssmsi_edition: "2024"``), ``edition``: the edition of the first source parameter (the letter's main data
    edition), or the year when the theme has none; ``build_variant`` for a parameter variant. ``theme_title`` is
    the title in the letter's language ``lang`` (themes.yml, ``title: {fr: ..., en: ...}``). All strings
    (pandoc's Lua filters read YAML numbers as floats: "2024.0"), escaped for Markdown
    (:func:`~observatoire.escaping.markdown_text`): an edition label comes from the catalogue, a title from
    themes.yml, and Quarto reads both as Markdown.
    """
    editions = theme.edition_names(parameters)
    values = {
        "year": str(int(year)),
        "theme_id": theme.id,
        "theme_title": theme.title_in(lang),
        "edition": next(iter(editions.values()), str(year)),
        **editions,
    }
    if variant:
        values["build_variant"] = variant
    return {key: markdown_text(value) for key, value in values.items()}


def language_values(plan: EditionPlan) -> dict[str, str]:
    """The letter's language and its links to the same letter in other languages, for the templates.

    ``lang`` (``"fr"``, ``"en"``: a declared language, checked by the plan), and ``version_<lang>`` for each
    other language the theme declares (``plan.other_languages``): the relative address of that letter
    (``"../2024-en/index.html"``), which the templates turn into "English version" / "Version française".
    """
    values = {"lang": plan.lang}
    for other in plan.other_languages:  # a sibling folder: <theme>/2024 and <theme>/2024-en
        sibling = language_path(plan.theme.edition_path(plan.year, plan.parameters), other)
        manifest = mf.read_manifest(plan.site_dir / plan.theme.id / sibling) or {}
        html = (manifest.get("letter") or {}).get("html", "index.html")
        values[f"version_{other}"] = markdown_text(f"../{sibling.rsplit('/', 1)[-1]}/{html}")
    return values


#: The publication's text files (templates, Quarto settings, includes): read as UTF-8 by the build and Quarto.
TEXT_SUFFIXES = (".qmd", ".jinja", ".yml", ".yaml", ".md", ".typ", ".lua", ".scss", ".css", ".bib")


def check_text_files(publication: Path) -> None:
    """Refuse a publication whose text files are not UTF-8, naming the file, line and column (before staging).

    Raises
    ------
    InputError
        From :func:`observatoire.core.textfile.read_utf8`.
    """
    for path in sorted(Path(publication).rglob("*")):
        if path.suffix in TEXT_SUFFIXES and path.is_file():
            read_utf8(path)


def write_metadata(
    project: Path, variables: Mapping[str, str], meta: Mapping[str, str], facts_dir: Path
) -> None:
    """Write ``_variables.yml`` (facts and meta values) and the meta values at the top of ``_quarto.yml``.

    ``variables`` are the facts as Quarto variables (already escaped by the caller), ``meta`` the values of
    :func:`meta_values` and :func:`language_values`. Quarto merges a project's top-level metadata into each
    document, so one place serves every page; the build's values win over a stale value in the publication.

    Raises
    ------
    InputError
        A fact key that is also a meta key, or a meta key Quarto reads as its own option (:func:`check_keys`).
    """
    clash = sorted(set(variables) & set(meta))
    if clash:
        raise InputError(facts_dir, f"key '{clash[0]}'", "this key is reserved for the build's meta values")
    # Only _quarto.yml holds options: _variables.yml is the namespace of {{< var >}} alone (a fact may be named
    # "label", a cell option, without Quarto ever reading it as one).
    check_keys(project / PROJECT, meta)
    _dump_yaml(project / VARIABLES, {**variables, **meta})
    _add_project_meta(project / PROJECT, meta)


def language_words(lang: str) -> dict[str, Any]:
    """The words Quarto and the letter's filter print, in ``lang``, as settings of a publication's ``_quarto.yml``:
    cross-references (Figure, Table), callout titles, the table of contents. They are the entries ``quarto_*`` of
    ``publications/_shared/words.yml``, every language side by side (a publication with one source writes no
    ``_quarto.yml`` per language); the data links under figures and tables are the site's words
    (:func:`observatoire.publishing.rendering.edition.letter_metadata`)."""
    from observatoire.outputs import templates  # lazy: Jinja, not on the no-change path

    words = {key: text[lang] for key, text in templates.load_words(templates.SHARED_WORDS)[0].items()}
    return {
        "lang": lang,
        "crossref": {
            "fig-title": words["quarto_fig_title"],
            "tbl-title": words["quarto_tbl_title"],
            "fig-prefix": words["quarto_fig_prefix"],
            "tbl-prefix": words["quarto_tbl_prefix"],
            "title-delim": words["quarto_title_delim"],
        },
        "language": {
            "callout-note-title": words["quarto_callout_note"],
            "callout-important-title": words["quarto_callout_important"],
            "callout-warning-title": words["quarto_callout_warning"],
            "callout-tip-title": words["quarto_callout_tip"],
            "toc-title-website": words["quarto_toc_title"],
        },
    }


def _laid_over(base: Any, over: Any) -> Any:
    """``over`` laid over ``base``, mappings merged key by key (the words win)."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    return {**base, **{key: _laid_over(base.get(key), value) for key, value in over.items()}}


def write_language_words(project: Path, lang: str) -> None:
    """Lay the words of ``lang`` (:func:`language_words`) over the staged ``_quarto.yml``: Quarto options the
    build sets on purpose, for a letter with one source in every language."""
    import yaml  # lazy: only a build that stages writes YAML

    path = project / PROJECT
    data = (read_yaml(path) or {}) if path.is_file() else {}
    if not isinstance(data, dict):
        raise InputError(path, "whole file", "must be a mapping")
    merged = _laid_over(data, language_words(lang))
    path.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


def _dump_yaml(path: Path, values: Mapping[str, Any]) -> None:
    import yaml  # lazy: only a build that stages writes YAML

    text = yaml.safe_dump(dict(sorted(values.items())), allow_unicode=True, sort_keys=True, width=1000)
    path.write_text(text, encoding="utf-8")


def _add_project_meta(path: Path, meta: Mapping[str, str]) -> None:
    """Put the meta values at the top level of the staged ``_quarto.yml``, where ``{{< meta key >}}`` finds them."""
    import yaml  # lazy: only a build that stages writes YAML

    data = {}
    if path.is_file():
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise InputError(path, "whole file", "must be a mapping")
    for key, value in meta.items():
        if key in data and data[key] != value:
            log.warning("%s: %s=%r replaced by the build's value %r", path.name, key, data[key], value)
        data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
