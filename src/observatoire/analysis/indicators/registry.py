"""The indicator registry: the name, definition, producer, nomenclature era and unit of every figure a letter shows.

Why. A label typed beside a number in one place and differently in another is how "Violences physiques
intrafamiliales" (the broader 2025 indicator) came to sit over the count of "Coups et blessures volontaires
intrafamiliaux". Labels are the public's words, so they live with the publications (``publications/indicators.yml``),
once, in French and English; notebooks and templates read them from here (a fact's ``label`` and the details
``definition``, ``producer``, ``era``), never type them. The names of the surveys the figures come from (CVS, VRS
...) are declared there too (``surveys``), once, in both languages: a figure carries the survey's code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.localized import Localized
from observatoire.core.yamlfile import read_yaml

__all__ = [
    "Indicator",
    "Survey",
    "REGISTRY_FILE",
    "load_registry",
    "load_surveys",
    "get",
    "survey",
    "by_ssmsi_name",
    "relabel",
]

#: The registry file.
REGISTRY_FILE = paths.INDICATORS_YML
_FIELDS = ("label", "label_en", "definition", "producer", "era", "unit")


@dataclass(frozen=True)
class Indicator:
    """One entry of the registry (see ``publications/indicators.yml`` for the meaning of each field)."""

    id: str
    label: str
    label_en: str
    definition: str
    producer: str
    era: str
    unit: str
    ssmsi_name: str = ""
    inputs: str = ""

    def label_in(self, lang: str) -> str:
        """The label in ``lang`` (``"fr"`` or ``"en"``)."""
        return self.label_en if lang == "en" else self.label

    @property
    def labels(self):
        """The label in every language (a :class:`~observatoire.core.localized.Localized`, for outputs' words)."""
        return Localized({"fr": self.label, "en": self.label_en})

    def in_(self, lang: str) -> dict[str, str]:
        """What a template prints of the indicator in ``lang``: ``label`` (and the other fields)."""
        return {"id": self.id, **self.details(), "label": self.label_in(lang)}

    def details(self) -> dict[str, str]:
        """The fields a fact carries for its template: ``definition``, ``producer``, ``era``, ``label_en``."""
        return {
            "definition": self.definition,
            "producer": self.producer,
            "era": self.era,
            "label_en": self.label_en,
        }


@dataclass(frozen=True)
class Survey:
    """A survey the figures come from: its code (``CVS``) and its name in each language."""

    code: str
    label: str
    label_en: str

    def label_in(self, lang: str) -> str:
        """The name in ``lang`` (``"fr"`` or ``"en"``)."""
        return self.label_en if lang == "en" else self.label

    def in_(self, lang: str) -> dict[str, str]:
        """What a template prints of the survey in ``lang``: ``code`` and ``label``."""
        return {"code": self.code, "label": self.label_in(lang)}


def _parse(path: Path) -> dict[str, Indicator]:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("indicators"), dict):
        raise InputError(path, "whole file", "the registry is a mapping with an 'indicators' mapping")
    out = {}
    for key, entry in raw["indicators"].items():
        if not isinstance(entry, dict):
            raise InputError(path, f"indicator '{key}'", "an entry is a mapping")
        missing = [f for f in _FIELDS if not isinstance(entry.get(f), str) or not entry[f].strip()]
        if missing:
            raise InputError(path, f"indicator '{key}'", f"missing or empty: {', '.join(missing)}")
        unknown = sorted(set(entry) - set(_FIELDS) - {"ssmsi_name", "inputs"})
        if unknown:
            raise InputError(path, f"indicator '{key}'", f"unknown field(s): {', '.join(unknown)}")
        out[str(key)] = Indicator(id=str(key), **{k: str(v).strip() for k, v in entry.items()})
    return out


@functools.cache
def load_registry(path: Path = REGISTRY_FILE) -> dict[str, Indicator]:
    """Read and check the registry.

    Parameters
    ----------
    path : Path, default ``publications/indicators.yml``

    Returns
    -------
    dict of str to Indicator

    Raises
    ------
    InputError
        Naming the file, the indicator and the rule broken.
    """
    return _parse(Path(path))


@functools.cache
def load_surveys(path: Path = REGISTRY_FILE) -> dict[str, Survey]:
    """The surveys the registry names (its ``surveys`` mapping: code -> ``label``, ``label_en``), checked.

    Raises
    ------
    InputError
        Naming the file, the survey and the rule broken.
    """
    raw = read_yaml(Path(path))
    entries = raw.get("surveys") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise InputError(path, "whole file", "the registry has a 'surveys' mapping (code -> label, label_en)")
    out = {}
    for code, entry in entries.items():
        if not isinstance(entry, dict) or sorted(entry) != ["label", "label_en"]:
            raise InputError(path, f"survey '{code}'", "an entry has exactly a label and a label_en")
        if not all(isinstance(v, str) and v.strip() for v in entry.values()):
            raise InputError(path, f"survey '{code}'", "label and label_en are non-empty texts")
        out[str(code)] = Survey(str(code), entry["label"].strip(), entry["label_en"].strip())
    return out


def survey(code: str) -> Survey:
    """The survey of ``code`` (``CVS``, ``VRS`` ...); an unknown code is an error naming the registry."""
    surveys = load_surveys()
    if code not in surveys:
        raise InputError(REGISTRY_FILE, f"survey '{code}'", "not in the registry's surveys: add it there")
    return surveys[code]


def relabel(frame, lang: str, *columns: str):
    """A copy of ``frame`` whose ``columns`` hold the registry's labels in ``lang`` instead of indicator ids.

    Empty cells stay empty; an id the registry does not know is an error naming the registry (a label is never
    made up).
    """
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(lambda v: get(str(v)).label_in(lang) if isinstance(v, str) and v else v)
    return out


def get(indicator_id: str) -> Indicator:
    """The registry entry of ``indicator_id``; an unknown id is an error naming the registry."""
    registry = load_registry()
    if indicator_id not in registry:
        raise InputError(REGISTRY_FILE, f"indicator '{indicator_id}'", "not in the registry: add it there")
    return registry[indicator_id]


def by_ssmsi_name(name: str) -> Indicator:
    """The entry whose ``ssmsi_name`` is the indicator name as SSMSI publishes it."""
    for entry in load_registry().values():
        if entry.ssmsi_name == name:
            return entry
    raise InputError(REGISTRY_FILE, f"SSMSI indicator '{name}'", "no registry entry has this ssmsi_name")
