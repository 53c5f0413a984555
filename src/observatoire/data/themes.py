"""The themes of the letters, declared in one place: ``publications/themes.yml``.

A theme (the annual letter, or a thematic one: traite, violences sexuelles, outre-mer) is a list of notebooks, a
Quarto publication folder, the data sources it reads, the years it can be built for and the default parameters of
its notebooks. Keeping that in one YAML file, checked here against hand-written rules, means adding a theme or a
year never touches Python code, and a typo stops the build with the file, the key and the rule it breaks instead
of a ``KeyError`` halfway through a release.

This module only reads YAML (PyYAML): it is imported on the no-change release path, which must stay fast. It
reads ``data/sources.yml`` lightly (ids, files, editions, coverage years) to derive the buildable years and to
check source parameters; fetching and checksum verification stay with :mod:`observatoire.data.catalogue`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.yamlfile import load_yaml_text, read_yaml
from observatoire.data import catalogue
from observatoire.data.territory_codes import all_territories, canonical

#: Parameters every notebook receives from the build; a theme may not declare or override them.
CORE_PARAMETERS = ("year", "theme", "output_dir")
#: A parameter whose name ends with this suffix names a source id of ``data/sources.yml``.
SOURCE_SUFFIX = "_source"
#: A parameter naming a catalogue record read for its metadata only (a date, an edition), never fetched nor loaded.
RECORD_SUFFIX = "_record"
SCHEMA_VERSION = 1

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"^[a-z_][a-z0-9_]*$")
_NOTEBOOK = re.compile(r"^[A-Za-z0-9_.-]+\.ipynb$")
_THEME_KEYS = {
    "id",
    "title",
    "description",
    "notebooks",
    "publication",
    "sources",
    "years",
    "parameters",
    "by_year",
    "territories",
    "translations",
}
#: The language of every letter's own publication (``publication``); ``translations`` add others.
BASE_LANGUAGE = "fr"
_REQUIRED_KEYS = ("id", "title", "notebooks", "publication", "sources", "years")
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class SourceInfo:
    """What the themes need to know of one ``data/sources.yml`` entry.

    Attributes
    ----------
    id, file, edition, sha256, title : str
        As declared in the catalogue.
    years : tuple of int or None
        ``coverage.years`` as ``(first, last)``, or None when the source does not declare it.
    """

    id: str
    file: str
    edition: str
    sha256: str
    title: str
    years: tuple[int, int] | None


@dataclass(frozen=True)
class Theme:
    """One theme as declared in ``publications/themes.yml`` (validated).

    Attributes
    ----------
    id : str
        ``annual``, ``traite``, ``violences_sexuelles``, ``outre_mer`` ...
    title, description : str
        French title and one-line description of the letter.
    notebooks : tuple of str
        Notebook file names under ``notebooks/<id>/``, in order.
    publication : str
        Folder name under ``publications/``.
    sources : tuple of str
        Source ids of ``data/sources.yml`` the theme reads.
    first_year, last_year : int
        Buildable years, both included.
    parameters : Mapping
        Default notebook parameters (besides year, theme and output_dir).
    by_year : Mapping
        Per-year defaults overriding ``parameters``.
    notebooks_root, publications_root : Path
        Where ``notebooks/`` and ``publications/`` are (the repository's unless a test says otherwise).
    themes_file : Path
        The YAML file the theme was read from (named in errors).
    catalogue : Mapping
        Every source of ``data/sources.yml`` as :class:`SourceInfo`, by id.
    """

    id: str
    title: str
    description: str
    notebooks: tuple[str, ...]
    publication: str
    sources: tuple[str, ...]
    first_year: int
    last_year: int
    parameters: Mapping[str, Any]
    by_year: Mapping[int, Mapping[str, Any]]
    notebooks_root: Path
    publications_root: Path
    themes_file: Path
    catalogue: Mapping[str, SourceInfo] = field(compare=False, repr=False)
    territory_parameter: str | None = None
    translations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    descriptions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def title_in(self, lang: str) -> str:
        """The letter's title in ``lang`` (``title: {fr: ..., en: ...}`` in themes.yml; French otherwise)."""
        return self.titles.get(lang, self.title)

    def description_in(self, lang: str) -> str:
        """The letter's one-line description in ``lang`` (French when the theme gives none in it)."""
        return self.descriptions.get(lang, self.description)

    def one_source(self, lang: str) -> bool:
        """True when the letter in ``lang`` comes from the theme's own publication and the same run of its
        notebooks (``translations: [en]``), False for a language with a copied publication of its own."""
        return lang == BASE_LANGUAGE or self.translations.get(lang) == self.publication

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the letter can be built in: French, then those of ``translations``."""
        return (BASE_LANGUAGE, *self.translations)

    def publication_dir_for(self, lang: str) -> Path:
        """The Quarto sources of the letter in ``lang``: ``publications/<publication>/`` for French, the folder
        declared under ``translations`` for another language.

        Raises
        ------
        InputError
            The theme has no publication in ``lang``.
        """
        if lang == BASE_LANGUAGE:
            return self.publication_dir
        if lang not in self.translations:
            raise InputError(
                self.themes_file,
                f"theme '{self.id}'",
                f"has no publication in '{lang}' (languages: {', '.join(self.languages)}); "
                "declare one under 'translations'",
            )
        return self.publications_root / self.translations[lang]

    @property
    def territories(self) -> list[str]:
        """The territories of a territorial theme (``"01"`` ... ``"976"``, ``"reg-01"`` ... ``"reg-94"``), else []."""
        if self.territory_parameter is None:
            return []

        return all_territories()

    @property
    def parameter_sets(self) -> list[dict[str, Any]]:
        """The editions of one year as parameter overrides (the batch expands a theme with them): one per
        territory for a territorial theme, else a single empty set."""
        if self.territory_parameter is None:
            return [{}]
        return [{self.territory_parameter: territory} for territory in self.territories]

    def territory_of(self, parameters: Mapping[str, Any]) -> str | None:
        """The territory an edition is about (its canonical parameter value), None for a national theme."""
        return None if self.territory_parameter is None else parameters[self.territory_parameter]

    def edition_path(self, year: int, parameters: Mapping[str, Any]) -> str:
        """Where an edition lives under ``build/<theme>/`` and ``_site/<theme>/``: ``"2024"``, or ``"2024/29"``."""
        territory = self.territory_of(parameters)
        return str(year) if territory is None else f"{year}/{territory}"

    @property
    def notebook_dir(self) -> Path:
        """Folder of the theme's notebooks: ``notebooks/<id>/``."""
        return self.notebooks_root / self.id

    @property
    def notebook_paths(self) -> list[Path]:
        """Absolute paths of the theme's notebooks, in order."""
        return [self.notebook_dir / name for name in self.notebooks]

    @property
    def publication_dir(self) -> Path:
        """Folder of the theme's Quarto sources: ``publications/<publication>/``."""
        return self.publications_root / self.publication

    @property
    def years(self) -> list[int]:
        """Buildable years, oldest first."""
        return list(range(self.first_year, self.last_year + 1))

    def missing(self) -> list[str]:
        """Say what is missing before this theme can be built (empty list = buildable).

        Returns
        -------
        list of str
            Plain descriptions, e.g. ``"no notebooks declared"`` or ``"missing notebooks/traite/01_x.ipynb"``.
        """
        problems: list[str] = []
        if not self.notebooks:
            problems.append("no notebooks declared")
        problems += [f"missing {_display(p)}" for p in self.notebook_paths if not p.is_file()]
        if not self.publication_dir.is_dir():
            problems.append(f"missing publication folder {_display(self.publication_dir)}/")
        elif not any(self.publication_dir.glob("*.qmd")):
            problems.append(f"no .qmd document in {_display(self.publication_dir)}/")
        return problems

    @property
    def buildable(self) -> bool:
        """True when every declared file exists."""
        return not self.missing()

    def check_year(self, year: int) -> int:
        """Return ``year`` when the theme can be built for it, else raise :class:`InputError`."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise InputError(
                self.themes_file, f"theme '{self.id}', years", f"year must be an integer, got {year!r}"
            )
        if not self.first_year <= year <= self.last_year:
            raise InputError(
                self.themes_file,
                f"theme '{self.id}', years",
                f"{year} is not buildable: the theme covers {self.first_year}..{self.last_year}",
            )
        return year

    def parameters_for(self, year: int, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The notebook parameters of one edition: defaults, then ``by_year``, then ``overrides``.

        The core parameters (year, theme, output_dir) are not included: the build adds them.

        Parameters
        ----------
        year : int
            The edition's year (checked against the theme's years).
        overrides : Mapping, optional
            Values given on the command line (``--set key=value``). Only parameters the theme declares can be
            overridden.

        Returns
        -------
        dict
            Sorted by name.

        Raises
        ------
        InputError
            Unknown parameter, a core parameter overridden, a non-scalar value, or a ``*_source`` parameter naming
            an unknown source or one whose coverage does not include ``year``.
        """
        self.check_year(year)
        params = dict(self.parameters)
        params.update(self.by_year.get(year, {}))
        for key, value in (overrides or {}).items():
            place = f"theme '{self.id}', parameter override '{key}'"
            if key in CORE_PARAMETERS:
                raise InputError(
                    self.themes_file, place, f"'{key}' is set by the build and cannot be overridden"
                )
            if key not in self.parameters:
                known = ", ".join(sorted(self.parameters)) or "none"
                raise InputError(
                    self.themes_file,
                    place,
                    f"unknown parameter (the theme declares: {known}); declare it first",
                )
            if not isinstance(value, _SCALARS):
                raise InputError(
                    self.themes_file, place, f"value must be a scalar, got {type(value).__name__}"
                )
            params[key] = value
        if self.territory_parameter is not None:
            params[self.territory_parameter] = self._check_territory(params[self.territory_parameter])
        for key, value in params.items():
            if key.endswith(SOURCE_SUFFIX):
                self._check_source_parameter(key, value, year)
            elif key.endswith(RECORD_SUFFIX) and value not in self.catalogue:
                raise InputError(
                    self.themes_file,
                    f"theme '{self.id}', parameter '{key}'",
                    f"{value!r} is not a source id of data/sources.yml",
                )
        return dict(sorted(params.items()))

    def _check_territory(self, value: Any) -> str:
        try:
            return canonical(value)
        except ValueError as exc:
            raise InputError(
                self.themes_file, f"theme '{self.id}', parameter '{self.territory_parameter}'", str(exc)
            ) from None

    def _check_source_parameter(self, key: str, value: Any, year: int) -> None:
        place = f"theme '{self.id}', parameter '{key}'"
        if value not in self.catalogue:
            raise InputError(self.themes_file, place, f"{value!r} is not a source id of data/sources.yml")
        cover = self.catalogue[value].years
        if cover is not None and not cover[0] <= year <= cover[1]:
            raise InputError(
                self.themes_file,
                place,
                f"source {value!r} covers {cover[0]}..{cover[1]}, not the year {year}",
            )

    def source_ids(self, parameters: Mapping[str, Any] | None = None) -> list[str]:
        """Sources an edition reads: the theme's, plus those named by ``*_source`` parameters (ordered, unique)."""
        ids = list(self.sources)
        for key, value in sorted((parameters or {}).items()):
            if key.endswith(SOURCE_SUFFIX) and value not in ids:
                ids.append(value)
        return ids

    def edition_names(self, parameters: Mapping[str, Any]) -> dict[str, str]:
        """Meta values naming the editions used: ``ssmsi_edition: "2024"`` for ``ssmsi_source: ssmsi_dep_2024``."""
        names = {}
        for key, value in parameters.items():
            if key.endswith(SOURCE_SUFFIX) and value in self.catalogue:
                names[key[: -len(SOURCE_SUFFIX)] + "_edition"] = self.catalogue[value].edition
        return names

    def as_record(self) -> dict[str, Any]:
        """The declaration as plain data (for the build key and the manifest)."""
        return {
            "id": self.id,
            "title": self.title,
            "notebooks": list(self.notebooks),
            "publication": self.publication,
            "sources": list(self.sources),
            "years": [self.first_year, self.last_year],
            "parameters": dict(self.parameters),
            "by_year": {str(k): dict(v) for k, v in self.by_year.items()},
            **({"territories": self.territory_parameter} if self.territory_parameter else {}),
            **({"translations": dict(self.translations)} if self.translations else {}),
        }


def _display(path: Path) -> str:
    """Path relative to the repository when inside it (shorter, and the same on every machine)."""
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def read_source_infos(path: Path | str = paths.SOURCES_YML) -> dict[str, SourceInfo]:
    """The catalogue entries the themes need (ids, files, editions, checksums, coverage years).

    Read by the one reader of ``data/sources.yml``, :func:`observatoire.data.catalogue.read_catalogue`.

    Parameters
    ----------
    path : Path, default ``data/sources.yml``

    Returns
    -------
    dict
        :class:`SourceInfo` by source id, in file order.

    Raises
    ------
    InputError
        A missing file, or an entry the catalogue refuses.
    """
    infos: dict[str, SourceInfo] = {}
    for source in catalogue.read_catalogue(Path(path)).values():
        cover = source.coverage.get("years") if isinstance(source.coverage, dict) else None
        years = None
        if isinstance(cover, list) and len(cover) == 2 and all(isinstance(y, int) for y in cover):
            years = (cover[0], cover[1])
        infos[source.id] = SourceInfo(
            id=source.id,
            file=source.file,
            edition=source.edition,
            sha256=source.sha256,
            title=source.title,
            years=years,
        )
    return infos


class _Checker:
    """Hand-written schema checks; each failure names the file, the key and the rule."""

    def __init__(self, path: Path, catalogue: Mapping[str, SourceInfo]) -> None:
        self.path = path
        self.catalogue = catalogue

    def fail(self, place: str, rule: str) -> None:
        raise InputError(self.path, place, rule)

    def theme(self, index: int, raw: Any, notebooks_root: Path, publications_root: Path) -> Theme:
        if not isinstance(raw, dict):
            self.fail(f"themes[{index}]", "each theme must be a mapping of keys")
        tid = raw.get("id")
        where = f"themes[{index}]" + (f" ({tid})" if isinstance(tid, str) else "")
        for key in _REQUIRED_KEYS:
            if key not in raw:
                self.fail(f"{where}, key '{key}'", "required key is missing")
        unknown = sorted(set(raw) - _THEME_KEYS)
        if unknown:
            self.fail(
                f"{where}, key '{unknown[0]}'", f"unknown key (allowed: {', '.join(sorted(_THEME_KEYS))})"
            )
        if not isinstance(tid, str) or not _ID.match(tid):
            self.fail(
                f"{where}, key 'id'", "must match [a-z][a-z0-9_]* (it is a folder name and a URL segment)"
            )
        if not isinstance(raw["publication"], str) or not raw["publication"].strip():
            self.fail(f"{where}, key 'publication'", "must be a non-empty string")
        titles = self.localized(where, "title", raw["title"], required=True)
        descriptions = self.localized(where, "description", raw.get("description", ""), required=False)
        if "/" in raw["publication"] or "\\" in raw["publication"] or raw["publication"].startswith("."):
            self.fail(f"{where}, key 'publication'", "must be a folder name under publications/, not a path")

        notebooks = self.string_list(where, "notebooks", raw["notebooks"])
        for name in notebooks:
            if not _NOTEBOOK.match(name):
                self.fail(
                    f"{where}, key 'notebooks'", f"{name!r} must be a file name ending in .ipynb, no folder"
                )
        sources = self.string_list(where, "sources", raw["sources"])
        for sid in sources:
            if sid not in self.catalogue:
                self.fail(f"{where}, key 'sources'", f"{sid!r} is not a source id of data/sources.yml")

        first, last = self.years(where, raw["years"])
        parameters = self.parameters(where, "parameters", raw.get("parameters") or {}, first, last)
        by_year_raw = raw.get("by_year") or {}
        if not isinstance(by_year_raw, dict):
            self.fail(f"{where}, key 'by_year'", "must map a year to parameters")
        by_year: dict[int, Mapping[str, Any]] = {}
        for year, values in by_year_raw.items():
            if isinstance(year, bool) or not isinstance(year, int) or not first <= year <= last:
                self.fail(f"{where}, key 'by_year.{year}'", f"must be a buildable year ({first}..{last})")
            checked = self.parameters(where, f"by_year.{year}", values or {}, year, year)
            for key in checked:
                if key not in parameters:
                    self.fail(
                        f"{where}, key 'by_year.{year}.{key}'", "declare the parameter in 'parameters' first"
                    )
            by_year[year] = MappingProxyType(checked)
        territory_parameter = self.territories(where, raw.get("territories"), parameters)
        translations = self.translations(where, raw.get("translations") or {}, raw["publication"])
        for lang, folder in translations.items():
            if folder == raw["publication"] and lang not in titles:
                self.fail(f"{where}, key 'title'", f"no title in '{lang}', a language of 'translations'")

        return Theme(
            id=tid,
            title=titles[BASE_LANGUAGE],
            description=descriptions.get(BASE_LANGUAGE, ""),
            notebooks=tuple(notebooks),
            publication=raw["publication"],
            sources=tuple(sources),
            first_year=first,
            last_year=last,
            parameters=MappingProxyType(parameters),
            by_year=MappingProxyType(by_year),
            notebooks_root=notebooks_root,
            publications_root=publications_root,
            themes_file=self.path,
            catalogue=self.catalogue,
            territory_parameter=territory_parameter,
            translations=MappingProxyType(translations),
            titles=MappingProxyType(titles),
            descriptions=MappingProxyType(descriptions),
        )

    def localized(self, where: str, key: str, value: Any, *, required: bool) -> dict[str, str]:
        """A text of the theme: French (a string), or one per language (``{fr: ..., en: ...}``)."""
        from observatoire.core.formatting import LANGUAGES  # lazy: babel; CLI start (--help) without it

        texts = value if isinstance(value, dict) else {BASE_LANGUAGE: value}
        for lang, text in texts.items():
            if lang not in LANGUAGES:
                self.fail(
                    f"{where}, key '{key}.{lang}'", f"unknown language (languages: {', '.join(LANGUAGES)})"
                )
            if not isinstance(text, str) or (required and not text.strip()):
                self.fail(f"{where}, key '{key}'" + (f" ({lang})" if isinstance(value, dict) else ""),
                          "must be a non-empty string" if required else "must be a string")  # fmt: skip
        if BASE_LANGUAGE not in texts:
            self.fail(f"{where}, key '{key}'", f"no text in '{BASE_LANGUAGE}'")
        return {str(lang): str(text).strip() for lang, text in texts.items()}

    def translations(self, where: str, value: Any, publication: str) -> dict[str, str]:
        """``translations: [en]``: the letter in each other language, from the theme's own publication and the same
        run of its notebooks (its words are in the publication's words files). ``{en: annual_en}`` (a folder
        holding a copied publication, its notebooks run again in that language) is the former form, kept while
        the annual letter moves to one source."""
        from observatoire.core.formatting import LANGUAGES  # lazy: babel; CLI start (--help) without it

        if isinstance(value, list):
            value = {lang: publication for lang in value}
        if not isinstance(value, dict):
            self.fail(f"{where}, key 'translations'", "must list the letter's other languages ([en])")
        for lang, folder in value.items():
            if lang not in LANGUAGES or lang == BASE_LANGUAGE:
                allowed = ", ".join(x for x in LANGUAGES if x != BASE_LANGUAGE)
                self.fail(f"{where}, key 'translations.{lang}'", f"unknown language (allowed: {allowed})")
            if not isinstance(folder, str) or not _ID.match(folder):
                self.fail(f"{where}, key 'translations.{lang}'", "must be a folder name under publications/")
        return {str(k): str(v) for k, v in value.items()}

    def territories(self, where: str, value: Any, parameters: Mapping[str, Any]) -> str | None:
        """``territories: {parameter: NAME, from: geo_reference}``: one edition per territory, named by NAME."""
        if value is None:
            return None
        place = f"{where}, key 'territories'"
        if not isinstance(value, dict) or set(value) != {"parameter", "from"}:
            self.fail(place, "must be a mapping {parameter: NAME, from: geo_reference}")
        if value["from"] != "geo_reference":
            self.fail(
                f"{place[:-1]}.from'",
                "the only list of territories is 'geo_reference' (101 départements, 18 régions)",
            )
        name = value["parameter"]
        if name not in parameters:
            self.fail(
                f"{place[:-1]}.parameter'",
                f"{name!r} must be declared in 'parameters' with a default territory",
            )
        return name

    def string_list(self, where: str, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"{where}, key '{key}'", "must be a list of non-empty strings")
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            self.fail(f"{where}, key '{key}'", f"{duplicates[0]!r} is listed twice")
        return list(value)

    def years(self, where: str, value: Any) -> tuple[int, int]:
        place = f"{where}, key 'years'"
        if not isinstance(value, dict):
            self.fail(
                place, "must be a mapping: {first: YEAR, last: YEAR} or {first: YEAR, last_from: SOURCE}"
            )
        unknown = sorted(set(value) - {"first", "last", "last_from"})
        if unknown:
            self.fail(f"{where}, key 'years.{unknown[0]}'", "unknown key (allowed: first, last, last_from)")
        first = value.get("first")
        if isinstance(first, bool) or not isinstance(first, int) or not 1900 <= first <= 2100:
            self.fail(f"{where}, key 'years.first'", "must be a four-digit year")
        if ("last" in value) == ("last_from" in value):
            self.fail(place, "give exactly one of 'last' (a year) and 'last_from' (a source id)")
        if "last" in value:
            last = value["last"]
            if isinstance(last, bool) or not isinstance(last, int):
                self.fail(f"{where}, key 'years.last'", "must be a four-digit year")
        else:
            sid = value["last_from"]
            if sid not in self.catalogue:
                self.fail(
                    f"{where}, key 'years.last_from'", f"{sid!r} is not a source id of data/sources.yml"
                )
            cover = self.catalogue[sid].years
            if cover is None:
                self.fail(f"{where}, key 'years.last_from'", f"source {sid!r} declares no coverage.years")
            last = cover[1]
        if last < first:
            self.fail(place, f"last year {last} is before first year {first}")
        return first, last

    def parameters(self, where: str, key: str, value: Any, first: int, last: int) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{where}, key '{key}'", "must be a mapping of parameter name to value")
        for name, default in value.items():
            place = f"{where}, key '{key}.{name}'"
            if not isinstance(name, str) or not _PARAM.match(name):
                self.fail(place, "parameter names are Python identifiers in lower case")
            if name in CORE_PARAMETERS:
                self.fail(place, f"'{name}' is set by the build; do not declare it")
            if not isinstance(default, _SCALARS):
                self.fail(place, "values must be scalars (string, number, boolean or null)")
            if name.endswith(RECORD_SUFFIX) and default not in self.catalogue:
                self.fail(place, f"{default!r} is not a source id of data/sources.yml")
            if name.endswith(SOURCE_SUFFIX):
                if default not in self.catalogue:
                    self.fail(place, f"{default!r} is not a source id of data/sources.yml")
                cover = self.catalogue[default].years
                if cover is not None and (cover[0] > first or cover[1] < last):
                    self.fail(place, f"source {default!r} covers {cover[0]}..{cover[1]}, not {first}..{last}")
        return dict(value)


_CACHE: dict[tuple, dict[str, Theme]] = {}


def load_themes(
    path: Path | str = paths.THEMES_YML,
    *,
    sources_path: Path | str = paths.SOURCES_YML,
    notebooks_root: Path | str = paths.NOTEBOOKS,
    publications_root: Path | str | None = None,
) -> dict[str, Theme]:
    """Read and validate ``themes.yml``.

    Parameters
    ----------
    path : Path, default ``publications/themes.yml``
    sources_path : Path, default ``data/sources.yml``
        The catalogue that source ids are checked against.
    notebooks_root : Path, default ``notebooks/``
    publications_root : Path, optional
        Default: the folder holding ``path``.

    Returns
    -------
    dict
        :class:`Theme` by id, in file order.

    Raises
    ------
    InputError
        Naming the file, the key (``themes[1] (traite), key 'years.first'``) and the rule broken.
    """
    path, sources_path = Path(path), Path(sources_path)
    publications_root = Path(publications_root) if publications_root is not None else path.parent
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else None for p in (path, sources_path))
    cache_key = (str(path), str(sources_path), str(notebooks_root), str(publications_root), stamp)
    if cache_key in _CACHE:
        return _CACHE[cache_key]

    catalogue = read_source_infos(sources_path)
    data = read_yaml(path)
    check = _Checker(path, catalogue)
    if not isinstance(data, dict):
        check.fail("whole file", "must be a mapping with keys 'schema_version' and 'themes'")
    unknown = sorted(set(data) - {"schema_version", "themes"})
    if unknown:
        check.fail(f"key '{unknown[0]}'", "unknown top-level key (allowed: schema_version, themes)")
    if data.get("schema_version") != SCHEMA_VERSION:
        check.fail("key 'schema_version'", f"must be {SCHEMA_VERSION}")
    if not isinstance(data.get("themes"), list) or not data["themes"]:
        check.fail("key 'themes'", "must be a non-empty list of themes")
    themes: dict[str, Theme] = {}
    for index, raw in enumerate(data["themes"]):
        theme = check.theme(index, raw, Path(notebooks_root), publications_root)
        if theme.id in themes:
            check.fail(f"themes[{index}], key 'id'", f"theme id {theme.id!r} is declared twice")
        themes[theme.id] = theme
    _CACHE[cache_key] = themes
    return themes


def list_themes() -> list[Theme]:
    """Every declared theme, in the order of ``themes.yml``."""
    return list(load_themes().values())


def get_theme(theme_id: str | Theme) -> Theme:
    """Return the theme ``theme_id`` (a :class:`Theme` is returned as is).

    Raises
    ------
    InputError
        Unknown id; the message lists the declared ones.
    """
    if isinstance(theme_id, Theme):
        return theme_id
    themes = load_themes()
    if theme_id not in themes:
        raise InputError(
            paths.THEMES_YML, "key 'themes'", f"unknown theme {theme_id!r} (declared: {', '.join(themes)})"
        )
    return themes[theme_id]


def years(theme: str | Theme) -> list[int]:
    """Years the theme can be built for, oldest first."""
    return get_theme(theme).years


def parse_overrides(items: Iterable[str] | None) -> dict[str, Any]:
    """Turn ``["ssmsi_source=ssmsi_dep_2023", "n=3"]`` into a dict; values are read as YAML scalars.

    An item may hold several ``KEY=VALUE`` separated by spaces (``make release SET="a=1 b=2"`` passes one).

    Raises
    ------
    InputError
        An item without ``=``, a key that is not a parameter name, or a value YAML cannot read (``[``).
    """
    result: dict[str, Any] = {}
    for part in (p for item in items or () for p in str(item).split()):
        key, sep, text = part.partition("=")
        if not sep or not re.fullmatch(r"[a-z_][a-z0-9_]*", key):
            raise InputError(
                "--set",
                repr(part),
                "expected KEY=VALUE with KEY a parameter name (e.g. ssmsi_source=ssmsi_dep_2023)",
            )
        try:
            value = load_yaml_text(text, "--set") if text.strip() else ""
        except InputError:
            raise InputError("--set", repr(part), f"the value {text!r} is not a valid YAML scalar") from None
        result[key] = value if isinstance(value, _SCALARS) else text
    return result


def published_years(theme_id: str, site_dir: Path | None = None) -> list[int]:
    """Years of the theme already published under ``_site/<theme>/`` (those with a manifest)."""
    base = Path(site_dir or paths.SITE) / theme_id
    if not base.is_dir():
        return []
    return sorted(int(p.parent.name) for p in base.glob("*/manifest.json") if p.parent.name.isdigit())


def format_themes_table(themes: Iterable[Theme] | None = None, site_dir: Path | None = None) -> str:
    """A plain-text table of the themes for ``make themes``: years, notebooks found, what is missing.

    A theme whose notebooks or publication do not exist yet is reported as not buildable, with the missing
    files, rather than raising: a placeholder theme is a normal state while it is being written.
    """
    themes = list(themes) if themes is not None else list_themes()
    rows = [("theme", "title", "years", "notebooks", "published", "status")]
    notes: list[str] = []
    for theme in themes:
        found = sum(p.is_file() for p in theme.notebook_paths)
        missing = theme.missing()
        published = published_years(theme.id, site_dir)
        rows.append(
            (
                theme.id,
                theme.title if len(theme.title) <= 48 else theme.title[:47] + "…",
                f"{theme.first_year}-{theme.last_year}",
                f"{found}/{len(theme.notebooks)}",
                _year_ranges(published) or "-",
                "ready" if not missing else "not buildable",
            )
        )
        if missing:
            notes.append(f"  {theme.id}: " + "; ".join(missing))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if notes:
        lines += ["", "Not buildable yet:"] + notes
    return "\n".join(lines)


def _year_ranges(values: list[int]) -> str:
    """``[2017, 2018, 2019, 2022]`` -> ``"2017-2019, 2022"``."""
    parts: list[tuple[int, int]] = []
    for year in values:
        if parts and parts[-1][1] == year - 1:
            parts[-1] = (parts[-1][0], year)
        else:
            parts.append((year, year))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)
