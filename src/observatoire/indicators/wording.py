"""French sentences on changes and trends, worded the way a statistical bulletin words them.

"Baisse de 2,7 %" (not "baisse de −2,7 %"): the verb carries the direction, the number its size; every change
is said to be statistically significant or not, with the test or model that says so.
"""

from __future__ import annotations

from observatoire.formatting import NBSP, NNBSP, format_change, format_number, format_p_value

_FAMILY_FR = {
    "poisson": "modèle log-linéaire de Poisson",
    "quasi_poisson": "modèle log-linéaire de quasi-Poisson, données surdispersées",
    "negative_binomial": "modèle log-linéaire binomial négatif, données surdispersées",
}
_TEST_FR = {
    "exact_poisson": "test exact de Poisson",
    "quasi_poisson_test": "test de quasi-Poisson, dispersion estimée sur la série",
}


def _size(rel: float) -> str:
    """``0.027`` and ``-0.027`` both give ``"2,7 %"``."""
    return format_number(abs(rel) * 100, 1) + NNBSP + "%"


def trend_sentence(result, what: str) -> str | None:
    """One sentence on a :class:`~observatoire.statistics.TrendResult`, or None when it is not estimable.

    Parameters
    ----------
    result : TrendResult or None
    what : str
        Subject of the sentence, e.g. "le nombre de femmes tuées" or "le taux de victimes".

    Returns
    -------
    str or None
        E.g. "Entre 2016 et 2024, le nombre de femmes tuées diminue en moyenne de 2,7 % par an (IC à 95 % :
        −5,0 % ; −0,4 %) ; cette baisse est statistiquement significative (modèle log-linéaire de Poisson)."
    """
    if result is None or not result.estimable:
        return None
    rel = result.annual_change
    verb = "augmente" if rel > 0 else "diminue"
    noun = "hausse" if rel > 0 else "baisse"
    ci = f"IC à 95{NNBSP}%{NBSP}: {format_change(result.ci_low)}{NNBSP}; {format_change(result.ci_high)}"
    model = _FAMILY_FR.get(result.family, result.family)
    if result.significant:
        verdict = f"cette {noun} est statistiquement significative"
    else:
        verdict = "cette évolution n'est pas statistiquement significative"
    return (
        f"Entre {result.first_year} et {result.last_year}, {what} {verb} en moyenne de {_size(rel)} par an "
        f"({ci}){NNBSP}; {verdict} ({model}, {format_p_value(result.p_value)})."
    )


def change_clause(test) -> str:
    """Clause on a :class:`~observatoire.statistics.ChangeTest`: significant or not, test and p-value."""
    method = _TEST_FR.get(test.method, "test exact de Poisson")
    if test.reason:
        return f"sa significativité n'est pas évaluée ({test.reason})"
    if test.significant:
        noun = "hausse" if test.rate_ratio > 1 else "baisse"
        return (
            f"cette {noun} est statistiquement significative au seuil de 5{NNBSP}% ({method}, "
            f"{format_p_value(test.p_value)})"
        )
    return (
        f"cette évolution n'est pas statistiquement significative au seuil de 5{NNBSP}% ({method}, "
        f"{format_p_value(test.p_value)})"
    )


def change_sentence(
    test, previous_value: float, previous_year: int, unit_word: str, subject: str = "le nombre"
) -> str:
    """Sentence template (with ``{value}``, the signed change) on a change on the year.

    Returns
    -------
    str
        E.g. "Par rapport à 2023 (96 femmes tuées), le nombre évolue de {value} ; cette évolution n'est pas
        statistiquement significative au seuil de 5 % (test exact de Poisson, p = 0,48)."
    """
    return (
        f"Par rapport à {previous_year} ({format_number(previous_value)} {unit_word}), {subject} évolue de "
        f"{{value}}{NNBSP}; {change_clause(test)}."
    )


def trend_unavailable(result, scope: str = "") -> str:
    """Sentence saying why a trend is not estimated (``scope``: e.g. " à champ constant").

    Returns
    -------
    str
        E.g. "La tendance n'est pas estimée : il faut au moins trois années à champ constant, la période
        2016-2017 n'en compte que deux."
    """
    if result is None:
        return "La tendance n'est pas estimée."
    if result.n_years < 3:
        words = {0: "aucune", 1: "une", 2: "deux"}
        span = f"la période {result.first_year}-{result.last_year}" if result.n_years >= 2 else "la période"
        return (
            f"La tendance n'est pas estimée : il faut au moins trois années{scope}, {span} n'en compte que "
            f"{words.get(result.n_years, str(result.n_years))}."
        )
    return f"La tendance n'est pas estimée ({result.reason or 'estimation impossible'})."


def add_significance_fact(facts, key: str, test, **provenance) -> None:
    """Declare ``key`` as "significative" / "non significative", with the test that says so and the Poisson answer.

    The verdict comes from the over-dispersion-aware test (``ChangeTest`` / ``TrendResult`` main fields); beside
    it, with ``stem = key`` without its ``_signif`` suffix: ``<stem>_methode`` (French name of the test or model,
    e.g. "quasi-Poisson"), ``<stem>_dispersion`` (Pearson dispersion of the series), ``<stem>_p`` (its p-value),
    ``<stem>_signif_poisson`` and ``<stem>_p_poisson`` (what plain Poisson would say, for the methods section).
    All missing when there is no test.

    Parameters
    ----------
    facts : observatoire.facts.Facts
    key : str
        The fact key (e.g. ``vc_evol_signif``).
    test : ChangeTest, TrendResult or None
        From :func:`observatoire.statistics.change_test` or :func:`observatoire.statistics.trend`.
    **provenance
        ``source_id``, ``edition``, ``ref_year``, ``note`` as for :meth:`Facts.add`.
    """
    import math

    estimable = test is not None and not test.reason and math.isfinite(test.p_value)
    verdict = None if not estimable else ("significative" if test.significant else "non significative")
    facts.add(key, verdict, kind="text", unit="", **provenance)
    stem = key.removesuffix("_signif")
    extra = {k: v for k, v in provenance.items() if k != "note"}
    poisson = None if test is None else ("significative" if test.significant_poisson else "non significative")
    dispersion = None if test is None or not math.isfinite(test.dispersion) else test.dispersion
    facts.add(f"{stem}_methode", None if not estimable else test.method_fr, kind="text", unit="", **extra)
    facts.add(
        f"{stem}_dispersion", dispersion, kind="number", decimals=1, unit="dispersion de Pearson", **extra
    )
    p_text = format_p_value(test.p_value) if estimable else None
    facts.add(f"{stem}_p", p_text, kind="text", unit="", **extra, note="p-value du test retenu")
    facts.add(f"{stem}_signif_poisson", poisson, kind="text", unit="", **extra)
    p_poisson = None if test is None or not math.isfinite(test.p_value_poisson) else test.p_value_poisson
    facts.add(
        f"{stem}_p_poisson",
        None if p_poisson is None else format_p_value(p_poisson),
        kind="text",
        unit="",
        **extra,
        note="p-value du seul modèle de Poisson",
    )
