"""The method's constants, declared once in ``publications/methods.yml``, for the code and for the letters.

Why. A letter's methods section that says "au seuil de 5 %" while the code tests at another level, or a threshold
of small counts of 20 in one letter and 100 in another, is a letter that claims a rule it does not apply. The
constants (confidence level, test threshold, small-count threshold, the funnel's winsorising and levels, the
minimum number of years of a dispersion or a trend, the population-choice rule) therefore live in one file beside
the publications; :mod:`observatoire.analysis.statistics` takes its defaults from :func:`constants`, and every
notebook declares them as facts (:func:`add_method_facts`, keys ``m_*``) that the methods sections cite.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.yamlfile import read_yaml

__all__ = ["Method", "METHODS_FILE", "SOURCE_ID", "add_method_facts", "constants", "load"]

#: The declaration (publications/methods.yml).
METHODS_FILE = paths.METHODS_YML
#: The ``source_id`` of the facts that cite a constant: the file that declares it.
SOURCE_ID = "methods.yml"


@dataclass(frozen=True)
class Method:
    """The declared constants (see ``publications/methods.yml`` for what each one means)."""

    schema_version: int
    confidence_level: float
    significance_level: float
    rate_per: float
    small_count: int
    dispersion_min_years: int
    trend_min_years: int
    funnel_winsorising: float
    funnel_consistency_factor: bool
    funnel_levels: tuple[float, ...]
    funnel_flag_level: float
    funnel_outlier_level: float
    sensitivity_winsorising: tuple[float, ...]
    sensitivity_consistency_factor: tuple[bool, ...]
    rank_shift: int


def _get(raw: dict, path: Path, dotted: str):
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise InputError(path, f"key '{dotted}'", "missing (every constant of the method is declared)")
        node = node[part]
    return node


def _fraction(raw: dict, path: Path, dotted: str, low: float = 0.0, high: float = 1.0) -> float:
    value = _get(raw, path, dotted)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= float(value) < high:
        raise InputError(
            path, f"key '{dotted}'", f"a fraction in [{low:g}, {high:g}) is expected, got {value!r}"
        )
    return float(value)


def _count(raw: dict, path: Path, dotted: str, low: int = 1) -> int:
    value = _get(raw, path, dotted)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(path, f"key '{dotted}'", f"an integer >= {low} is expected, got {value!r}")
    return int(value)


def _flag(raw: dict, path: Path, dotted: str) -> bool:
    value = _get(raw, path, dotted)
    if not isinstance(value, bool):
        raise InputError(path, f"key '{dotted}'", f"true or false is expected, got {value!r}")
    return value


def _list(raw: dict, path: Path, dotted: str) -> list:
    value = _get(raw, path, dotted)
    if not isinstance(value, list) or not value:
        raise InputError(path, f"key '{dotted}'", f"a non-empty list is expected, got {value!r}")
    return value


def load(path: Path = METHODS_FILE) -> Method:
    """Read and check the declaration.

    Raises
    ------
    InputError
        For a file that is not YAML, a missing constant or a value out of its range (file, key and rule).
    """
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(path, "whole file", "the declaration is a mapping of constants")
    if raw.get("schema_version") != 1:
        raise InputError(path, "key 'schema_version'", f"1 is expected, got {raw.get('schema_version')!r}")
    levels = _list(raw, path, "funnel.levels")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, float | int) or not 0.5 < float(level) < 1:
            raise InputError(path, "key 'funnel.levels'", f"levels in (0.5, 1) are expected, got {level!r}")
    flag_level = _fraction(raw, path, "funnel.flag_level", 0.5)
    outlier_level = _fraction(raw, path, "funnel.outlier_level", 0.5)
    for name, level in (("funnel.flag_level", flag_level), ("funnel.outlier_level", outlier_level)):
        if level not in [float(x) for x in levels]:
            raise InputError(path, f"key '{name}'", f"must be one of funnel.levels {levels}, got {level!r}")
    winsor = [
        _fraction({"w": w}, path, "w", 0.0, 0.5) for w in _list(raw, path, "funnel.sensitivity.winsorising")
    ]
    factors = _list(raw, path, "funnel.sensitivity.consistency_factor")
    if any(not isinstance(f, bool) for f in factors):
        raise InputError(
            path, "key 'funnel.sensitivity.consistency_factor'", "a list of true/false is expected"
        )
    method = Method(
        schema_version=1,
        confidence_level=_fraction(raw, path, "confidence_level", 0.5),
        significance_level=_fraction(raw, path, "significance_level", 1e-9, 0.5),
        rate_per=float(_count(raw, path, "rate_per")),
        small_count=_count(raw, path, "small_count", 0),
        dispersion_min_years=_count(raw, path, "dispersion.min_years", 3),
        trend_min_years=_count(raw, path, "trend.min_years", 3),
        funnel_winsorising=_fraction(raw, path, "funnel.winsorising", 0.0, 0.5),
        funnel_consistency_factor=_flag(raw, path, "funnel.consistency_factor"),
        funnel_levels=tuple(sorted(float(x) for x in levels)),
        funnel_flag_level=flag_level,
        funnel_outlier_level=outlier_level,
        sensitivity_winsorising=tuple(winsor),
        sensitivity_consistency_factor=tuple(factors),
        rank_shift=_count(raw, path, "population_choice.rank_shift", 0),
    )
    if method.funnel_winsorising not in method.sensitivity_winsorising:
        raise InputError(path, "key 'funnel.sensitivity.winsorising'", "must include funnel.winsorising")
    if method.funnel_consistency_factor not in method.sensitivity_consistency_factor:
        raise InputError(
            path, "key 'funnel.sensitivity.consistency_factor'", "must include funnel.consistency_factor"
        )
    if abs(method.confidence_level + method.significance_level - 1.0) > 1e-12:
        raise InputError(
            path,
            "key 'significance_level'",
            "must be 1 - confidence_level (a significant change is one whose interval excludes no change)",
        )
    return method


@functools.cache
def constants() -> Method:
    """The declared constants (read once per process)."""
    return load(METHODS_FILE)


def add_method_facts(facts, *, ref_year: int | None = None) -> None:
    """Declare the constants a letter's methods section cites (keys ``m_*``), from the declaration.

    Keys: ``m_niveau_confiance`` and ``m_seuil_signif`` (percent), ``m_seuil_petits`` (victims),
    ``m_annees_min_dispersion``, ``m_annees_min_tendance`` (years), ``m_winsorisation`` (percent),
    ``m_facteur_coherence`` (1 when the funnel divides by the winsorised normal moment, else 0),
    ``m_entonnoir_niveau``, ``m_entonnoir_niveau_large``, ``m_entonnoir_niveau_signal``,
    ``m_entonnoir_niveau_atypique`` (percent), ``m_sensibilite_winsor_min``, ``m_sensibilite_winsor_max``
    (percent), ``m_ecart_rang`` (places).
    """
    m = constants()
    base = dict(source_id=SOURCE_ID, edition=str(m.schema_version), ref_year=ref_year)

    def percent(key: str, fraction: float, note: str) -> None:
        value = 100 * fraction
        decimals = 0 if abs(value - round(value)) < 1e-9 else 1
        facts.add(
            key, round(value, decimals), kind="percent", decimals=decimals, unit="percent", note=note, **base
        )

    # Units and notes are codes, worded in publications/_shared/outputs.yml (fact_units, fact_notes).
    percent("m_niveau_confiance", m.confidence_level, "confidence_level")
    percent("m_seuil_signif", m.significance_level, "significance_level")
    facts.add("m_seuil_petits", m.small_count, unit="victims", note="small_count_threshold", **base)
    facts.add("m_annees_min_dispersion", m.dispersion_min_years, unit="years", **base)
    facts.add("m_annees_min_tendance", m.trend_min_years, unit="years", **base)
    percent("m_winsorisation", m.funnel_winsorising, "funnel_winsorising")
    facts.add("m_facteur_coherence", int(m.funnel_consistency_factor), unit="flag", **base)
    percent("m_entonnoir_niveau", min(m.funnel_levels), "funnel_narrow")
    percent("m_entonnoir_niveau_large", max(m.funnel_levels), "funnel_wide")
    percent("m_entonnoir_niveau_signal", m.funnel_flag_level, "funnel_flag")
    percent("m_entonnoir_niveau_atypique", m.funnel_outlier_level, "funnel_outlier")
    percent("m_sensibilite_winsor_min", min(m.sensitivity_winsorising), "sensitivity_min")
    percent("m_sensibilite_winsor_max", max(m.sensitivity_winsorising), "sensitivity_max")
    facts.add("m_ecart_rang", m.rank_shift, unit="ranks", note="rank_shift", **base)
