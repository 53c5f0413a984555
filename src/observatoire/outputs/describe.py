"""The one-sentence reading of a change test or a trend, printed in the notebooks' calculation pages.

Why. That sentence ("Hausse de +5,2 % (IC à 95 % : ...), statistiquement significative ...") is prose a reader
sees: its words belong with the publication's words (the macros of ``publications/_shared/statistics.jinja``,
whose words are the ``stat_*`` entries of ``publications/_shared/words.yml``, every language side by side), not
in :mod:`observatoire.analysis.statistics`, which returns values only. This module hands a result's values to
the macro of its kind and returns the sentence, with French typography in French.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from observatoire.analysis.method import constants
from observatoire.analysis.statistics import ChangeTest, TrendResult
from observatoire.core import paths
from observatoire.outputs.templates import environment, french_typography

__all__ = ["describe"]


def _values(result: ChangeTest | TrendResult) -> dict[str, Any]:
    """The fields of a result and the derived values its sentence needs."""
    values = dataclasses.asdict(result)
    values["significant"] = bool(result.significant)
    if isinstance(result, ChangeTest):
        values.update(
            kind="change",
            change=result.change,
            estimable=not result.reason and math.isfinite(result.rate_ratio),
            high_finite=math.isfinite(result.high),
            min_years=constants().dispersion_min_years,  # the reason codes that need it (statistics.REASONS)
        )
    else:
        values.update(
            kind="trend",
            method=result.family,
            estimable=result.estimable,
            min_years=max(3, constants().trend_min_years),  # as statistics.trend asks for
        )
    return values


def describe(result: ChangeTest | TrendResult, lang: str = "fr") -> str:
    """One sober sentence reading a change test or a trend, in ``lang``.

    Parameters
    ----------
    result : ChangeTest or TrendResult
        From :func:`observatoire.analysis.statistics.poisson_change_test`, ``change_test`` or ``trend``.
    lang : {"fr", "en"}, default "fr"

    Returns
    -------
    str
        E.g. ``"Hausse de +5,2 % (IC à 95 % : +3,1 % ; +7,4 %), statistiquement significative (test exact de
        Poisson, p < 0,001)."``; when the result is not estimable, the sentence says why.

    Raises
    ------
    TypeError
        For anything else than a ChangeTest or a TrendResult.
    """
    if not isinstance(result, ChangeTest | TrendResult):
        raise TypeError(f"describe: expected a ChangeTest or a TrendResult, got {type(result).__name__}")
    values = _values(result)
    env = environment(paths.SHARED_TEMPLATES, lang)
    macros = env.get_template("statistics.jinja").module
    sentence = str(getattr(macros, values["kind"])(values)).strip()
    return french_typography(sentence) if lang == "fr" else sentence
