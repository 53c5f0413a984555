"""The indicator registry: the name, definition, producer, nomenclature era and unit of every figure a letter shows.

Why. A label typed beside a number in one place and differently in another is how "Violences physiques
intrafamiliales" (the broader 2025 indicator) came to sit over the count of "Coups et blessures volontaires
intrafamiliaux". Labels are the public's words, so they live with the publications (``publications/indicators.yml``),
once, in French and English; notebooks and templates read them from here (a fact's ``label`` and the details
``definition``, ``producer``, ``era``), never type them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.localized import Localized
from observatoire.core.yamlfile import read_yaml

__all__ = ["Indicator", "REGISTRY_FILE", "load_registry", "get", "by_ssmsi_name"]

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
