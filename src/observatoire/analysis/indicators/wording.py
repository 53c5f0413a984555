"""What a template needs to word a change or a trend: values and their metadata, no words.

Why. The letter says "Par rapport à 2023 (96 femmes tuées), le nombre évolue de −4,2 % ; cette évolution n'est pas
statistiquement significative (test exact de Poisson, p = 0,48)". The sentence belongs to the publication's
template (``publications/<theme>/*.qmd``); Python gives it the previous value and year, the test, its p-value and
verdict, or the trend's period, interval and model, as the ``details`` of a fact (see
:meth:`observatoire.outputs.facts.Facts.add`). The template maps the method's id (``poisson_exact``, ``poisson``,
``negative_binomial`` ...) to words.
"""

from __future__ import annotations

import math

__all__ = ["change_details", "trend_details", "add_significance_fact"]


def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def change_details(test, previous_value: float | None, previous_year: int) -> dict:
    """Details of a change on the year for a template.

    Parameters
    ----------
    test : ChangeTest or None
        From :func:`observatoire.analysis.statistics.poisson_change_test`.
    previous_value : float or None
        The count of the previous year (the reader is told what the change is computed from).
    previous_year : int

    Returns
    -------
    dict
        ``previous, previous_year, p_value, significant, direction`` (``"hausse"``, ``"baisse"`` or ``""``),
        ``method`` (id of the test), ``reason`` (why its significance is not assessed, else empty), ``level`` (confidence level, a fraction), ``ci_low, ci_high`` (interval of
        the change, a fraction).
    """
    out = {
        "previous": previous_value,
        "previous_year": int(previous_year),
        "p_value": None,
        "significant": None,
        "direction": "",
        "method": "",
        "level": None,
        "ci_low": None,
        "ci_high": None,
        "reason": "",
    }
    if test is None:
        return out
    ratio = _finite(test.rate_ratio)
    out.update(
        p_value=_finite(test.p_value),
        significant=bool(test.significant),
        direction="" if ratio is None or ratio == 1 else ("hausse" if ratio > 1 else "baisse"),
        method=str(getattr(test, "method", "exact_poisson")),
        reason=str(getattr(test, "reason", "") or ""),
        level=float(test.level),
        ci_low=None if _finite(test.low) is None else float(test.low) - 1,
        ci_high=None if _finite(test.high) is None else float(test.high) - 1,
    )
    return out


def trend_details(result) -> dict:
    """Details of a trend for a template (also when it is not estimable, so that the template can say why).

    Parameters
    ----------
    result : TrendResult or None
        From :func:`observatoire.analysis.statistics.trend`.

    Returns
    -------
    dict
        ``first_year, last_year, n_years, ci_low, ci_high, p_value, significant, direction, method`` (the model
        family id), ``dispersion``, ``level``, ``reason`` (why it was not estimated, as the statistics module
        says it, else empty).
    """
    out = dict.fromkeys(
        ("first_year", "last_year", "ci_low", "ci_high", "p_value", "significant", "dispersion", "level")
    )
    out.update(n_years=0, direction="", method="", reason="")
    if result is None:
        return out
    estimable = result.estimable
    out.update(
        first_year=None if result.first_year is None else int(result.first_year),
        last_year=None if result.last_year is None else int(result.last_year),
        n_years=int(result.n_years),
        dispersion=_finite(result.dispersion),
        level=float(result.level),
        reason="" if estimable else str(result.reason or ""),
    )
    if estimable:
        out.update(
            ci_low=_finite(result.ci_low),
            ci_high=_finite(result.ci_high),
            p_value=_finite(result.p_value),
            significant=bool(result.significant),
            direction="hausse" if result.annual_change > 0 else "baisse",
            method=str(result.family),
        )
    return out


def add_significance_fact(facts, key: str, test, **provenance) -> None:
    """Declare whether a test or trend is significant (1 or 0), with the test that says so and the Poisson answer.

    Values only, no words (the letter words them in its language): ``key`` is 1 when significant, 0 when not,
    missing when there is no test; beside it, with ``stem = key`` without its ``_signif`` suffix:
    ``<stem>_methode`` (the test or model's id, e.g. ``"quasi_poisson_test"``), ``<stem>_dispersion`` (Pearson
    dispersion of the series), ``<stem>_p`` (its p-value), ``<stem>_signif_poisson`` and ``<stem>_p_poisson``
    (what plain Poisson would say, for the methods section). All missing when there is no test. Their units are
    codes too: ``flag`` (1 yes, 0 no), ``method_id``, ``pearson_dispersion``, ``p``, ``p_poisson``.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    key : str
        The fact key (e.g. ``vc_evol_signif``).
    test : ChangeTest, TrendResult or None
        From :func:`observatoire.analysis.statistics.change_test` or :func:`observatoire.analysis.statistics.trend`.
    **provenance
        ``source_id``, ``edition``, ``ref_year``, ``note`` as for :meth:`Facts.add`.
    """
    estimable = test is not None and not test.reason and math.isfinite(test.p_value)
    facts.add(key, None if not estimable else int(bool(test.significant)), unit="flag", **provenance)
    stem = key.removesuffix("_signif")
    extra = {k: v for k, v in provenance.items() if k != "note"}
    poisson = None if test is None else int(bool(test.significant_poisson))
    dispersion = None if test is None or not math.isfinite(test.dispersion) else test.dispersion
    method = None if not estimable else str(getattr(test, "method", None) or getattr(test, "family", ""))
    facts.add(f"{stem}_methode", method, kind="text", unit="method_id", **extra)
    facts.add(f"{stem}_dispersion", dispersion, kind="number", decimals=1, unit="pearson_dispersion", **extra)
    facts.add(f"{stem}_p", test.p_value if estimable else None, kind="number", decimals=3, unit="p", **extra)
    facts.add(f"{stem}_signif_poisson", poisson, unit="flag", **extra)
    p_poisson = None if test is None or not math.isfinite(test.p_value_poisson) else test.p_value_poisson
    facts.add(f"{stem}_p_poisson", p_poisson, kind="number", decimals=3, unit="p_poisson", **extra)
