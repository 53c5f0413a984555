"""The names of the départements and régions with their grammar, in every language of the letters.

Why. French glues articles and prepositions to place names in ways no rule of thumb gets right ("du Finistère",
"de l'Ain", "des Hauts-de-Seine", "de la Corse-du-Sud", "de Mayotte"; "dans le Finistère", "en Corse-du-Sud", "à
La Réunion"), and English has its own names (French Guiana, Brittany). Those words belong to the publications:
they are curated in ``publications/_shared/territories.yml`` (forms per language, see its header) and read here.
A template names a territory with a form (``[[ place.de ]]``), a notebook passes a :class:`Place`'s forms as
placeholder values of its outputs' words (``territory=place.label``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.localized import LANGUAGES, Localized
from observatoire.core.yamlfile import read_yaml
from observatoire.data.geography import DEPARTEMENTS, REGIONS
from observatoire.data.territory_codes import parse
from observatoire.outputs.words import entry, fill

__all__ = ["PLACES_FILE", "FORMS", "Place", "load_places", "place"]

#: The curated names and their grammar.
PLACES_FILE = paths.SHARED_TEMPLATES / "territories.yml"
#: The forms each language gives for every territory.
FORMS = {"fr": ("name", "le", "de", "dans"), "en": ("name", "of", "in")}
LEVELS = {"departements": "departement", "regions": "region"}
_REGION_PREFIX = "reg-"


class Forms(Mapping):
    """The forms of a name in one language, read as attributes in templates (``place.de``); an unknown form is
    an error naming the file."""

    def __init__(self, forms: Mapping[str, str], where: str) -> None:
        self._forms = dict(forms)
        self._where = where

    def __getitem__(self, name: str) -> str:
        try:
            return self._forms[name]
        except KeyError:
            raise KeyError(f"{self._where}: no form '{name}' (forms: {', '.join(self._forms)})") from None

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(str(exc)) from None

    def __iter__(self):
        return iter(self._forms)

    def __len__(self) -> int:
        return len(self._forms)

    def __str__(self) -> str:
        return self._forms["name"]


@dataclass(frozen=True)
class Place:
    """A département or a région with the forms of its name in every language.

    Attributes
    ----------
    level : str
        ``"departement"`` or ``"region"``.
    code : str
        INSEE code (``"29"``, ``"2A"``, ``"974"``; ``"53"`` for a région).
    forms : dict
        Language -> form name -> text.
    label : Localized
        The name with its code, as charts and tables label the territory ("Finistère (29)").
    """

    level: str
    code: str
    forms: dict[str, dict[str, str]]
    label: Localized

    @property
    def parameter(self) -> str:
        """The territory parameter of its letter (``"29"``, ``"reg-53"``)."""
        return self.code if self.level == "departement" else _REGION_PREFIX + self.code

    def in_(self, lang: str) -> Forms:
        """The forms in ``lang`` (attribute access: ``.name``, ``.de`` ...), and ``label`` (name and code)."""
        where = f"{PLACES_FILE.name}: {self.level} {self.code} ({lang})"
        return Forms({**self.forms[lang], "label": self.label[lang]}, where)

    def form(self, name: str) -> Localized:
        """One form in every language that has it; English falls back to its ``name`` for French-only forms."""
        return Localized({lang: self.forms[lang].get(name, self.forms[lang]["name"]) for lang in LANGUAGES})

    @property
    def name(self) -> Localized:
        """The name alone, in every language."""
        return self.form("name")


def _parse(path: Path, raw: object) -> dict[str, dict[str, Place]]:
    if not isinstance(raw, Mapping):
        raise InputError(path, "whole file", "must be a mapping with labels, departements and regions")
    labels = {
        level: entry(path, f"labels.{level}", (raw.get("labels") or {}).get(level))
        for level in LEVELS.values()
    }
    out: dict[str, dict[str, Place]] = {}
    for section, level in LEVELS.items():
        declared = raw.get(section)
        if not isinstance(declared, Mapping):
            raise InputError(path, section, "must map each code to its names")
        out[level] = {}
        for code, by_lang in declared.items():
            where = f"{section}.{code}"
            if not isinstance(by_lang, Mapping):
                raise InputError(path, where, "must give the forms in each language")
            unknown = sorted(set(by_lang) - set(LANGUAGES))
            if unknown:
                raise InputError(path, f"{where}.{unknown[0]}", "unknown language")
            forms: dict[str, dict[str, str]] = {}
            for lang in LANGUAGES:
                given = by_lang.get(lang)
                if not isinstance(given, Mapping):
                    raise InputError(path, where, f"no forms in language '{lang}'")
                missing = [
                    f for f in FORMS[lang] if not isinstance(given.get(f), str) or not given[f].strip()
                ]
                extra = sorted(set(given) - set(FORMS[lang]))
                if missing or extra:
                    rule = f"missing form '{missing[0]}'" if missing else f"unknown form '{extra[0]}'"
                    raise InputError(path, f"{where}.{lang}", f"{rule} (forms: {', '.join(FORMS[lang])})")
                name = given["name"].strip()
                bad = [f for f in FORMS[lang] if not given[f].strip().endswith(name)]
                if bad:
                    raise InputError(path, f"{where}.{lang}.{bad[0]}", f"must end with the name {name!r}")
                forms[lang] = {f: given[f].strip() for f in FORMS[lang]}
            label = Localized(
                {
                    lang: fill(
                        labels[level][lang],
                        {"name": forms[lang]["name"], "code": str(code)},
                        lang,
                        path=path,
                        place=f"labels.{level}",
                    )
                    for lang in LANGUAGES
                }
            )
            out[level][str(code)] = Place(level, str(code), forms, label)
    return out


@functools.cache
def _load(path: Path, stamp: int) -> dict[str, dict[str, Place]]:
    places = _parse(path, read_yaml(path))
    for level, codes in (("departement", DEPARTEMENTS), ("region", REGIONS)):
        missing = sorted(set(codes) - set(places[level]))
        extra = sorted(set(places[level]) - set(codes))
        if missing or extra:
            rule = f"no entry for {missing[0]}" if missing else f"{extra[0]} is not a code of the geography"
            raise InputError(path, f"{level}s", rule)
    return places


def load_places(path: Path = PLACES_FILE) -> dict[str, dict[str, Place]]:
    """Every département and région: ``{"departement": {code: Place}, "region": {code: Place}}``.

    Raises
    ------
    InputError
        A missing territory, language or form (naming the file and the key).
    """
    path = Path(path)
    return _load(path, path.stat().st_mtime_ns if path.exists() else 0)


def place(parameter: object, path: Path = PLACES_FILE) -> Place:
    """The :class:`Place` of a territory parameter (``"29"``, ``"2A"``, ``"reg-53"``) or of a département code.

    Raises
    ------
    ValueError
        An unknown territory.
    """
    level, code = parse(parameter)
    return load_places(path)[level][code]
