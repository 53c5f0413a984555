"""Rates, Poisson intervals, changes on the year and log-linear trends.

Why these methods. Recorded counts of violence are counts of events: their natural model is Poisson, and a
letter that says "a rise of 3 %" must also say whether chance alone could produce it. So:

* rates come with an exact (Garwood) Poisson interval on the count, the population being taken as known
  (census or estimate, far more precise than the count). Exact intervals stay valid for the small counts of small
  départements where the normal approximation fails; counts below ``small`` are flagged for the reader.
* a change between two years is tested exactly, conditionally on the total: given ``n = c0 + c1``, ``c1`` is
  binomial with ``p = e1 / (e0 + e1)`` under "same rate". The rate ratio's interval is the Clopper-Pearson
  interval of ``p`` mapped to the ratio scale, and the p-value is the matching central one
  (``2 * min(tails)``), so "significant" and "the interval excludes 1" never disagree.
* a trend over several years is a GLM with log link, ``log E[y] = a + b * year (+ log exposure)``;
  ``exp(b) - 1`` is the average annual change. Administrative counts are usually over-dispersed (the year-to-year
  variation exceeds Poisson noise), which makes Poisson intervals far too narrow. ``family="auto"`` therefore
  measures the Pearson dispersion of the Poisson fit and, above 1.5, switches to a negative binomial (NB2)
  model: its ``alpha`` is estimated by maximum likelihood (``statsmodels.discrete.NegativeBinomial``), then the
  GLM is refitted with that ``alpha`` fixed. The GLM's coefficients equal the joint MLE; its standard errors
  treat ``alpha`` as known, which is standard (the NB2 coefficients and ``alpha`` are asymptotically
  orthogonal). If the MLE does not converge, a moment estimate of ``alpha`` is used and a warning raised.

Nothing here ever fills a missing year: missing values are dropped from a trend fit (the GLM does not need
equally spaced years) and a change whose previous year is absent is itself missing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from observatoire.formatting import NBSP, NNBSP, format_change, format_number, format_p_value

__all__ = [
    "ChangeTest",
    "TrendResult",
    "add_rates",
    "change_on_year",
    "poisson_change_test",
    "poisson_ci",
    "rate_per",
    "trend",
]

#: Pearson dispersion above which ``trend(family="auto")`` uses a negative binomial model.
DISPERSION_THRESHOLD = 1.5
FAMILIES = ("auto", "poisson", "negative_binomial")
_FAMILY_FR = {"poisson": "modèle de Poisson", "negative_binomial": "modèle binomial négatif"}


def _level_fr(level: float) -> str:
    pct = round(level * 100, 6)
    return f"IC à {format_number(pct, 0 if pct.is_integer() else 1)}{NNBSP}%"


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return level


def _as_array(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.any(array[~np.isnan(array)] < 0):
        raise ValueError(f"{name} must be non-negative")
    return array


def _restore(result: np.ndarray, like):
    """Return a float for scalar input, a Series (same index) for a Series, an array otherwise."""
    if isinstance(like, pd.Series):
        return pd.Series(result, index=like.index, name=like.name)
    if np.ndim(result) == 0:
        return float(result)
    return result


# Rates and intervals ------------------------------------------------------------------------------------------


def rate_per(count, population, per: float = 1000):
    """Rate of ``count`` per ``per`` inhabitants of ``population``.

    Parameters
    ----------
    count : scalar, array-like or Series
        Counts (events, victims).
    population : scalar, array-like or Series
        The denominator: the population at risk (all inhabitants, or women of an age band, as the indicator
        says). A zero or missing population gives a missing rate, never an infinite one.
    per : float, default 1000
        Rate per how many inhabitants.

    Returns
    -------
    float, ndarray or Series
        Same shape as the input (a Series keeps the index of ``count`` when it is a Series).

    Raises
    ------
    ValueError
        For a negative count or population.
    """
    c = _as_array(count, "count")
    p = _as_array(population, "population")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(p > 0, c * per / np.where(p > 0, p, 1.0), np.nan)
    like = count if isinstance(count, pd.Series) else population
    return _restore(rate, like)


def poisson_ci(count, level: float = 0.95):
    """Exact (Garwood) confidence interval for the mean of a Poisson count.

    ``low = chi2.ppf(a/2, 2k) / 2`` (0 when ``k = 0``) and ``high = chi2.ppf(1 - a/2, 2k + 2) / 2`` with
    ``a = 1 - level``.

    Parameters
    ----------
    count : scalar, array-like or Series
        Observed counts (non-negative). Missing counts give missing bounds.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    tuple
        ``(low, high)``, each a float for a scalar count, else an array (or Series) of the input's shape.

    Examples
    --------
    >>> [round(b, 3) for b in poisson_ci(10)]
    [4.795, 18.39]
    """
    level = _check_level(level)
    k = _as_array(count, "count")
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * np.where(k > 0, k, 1)) / 2, 0.0)
        high = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    low = np.where(np.isnan(k), np.nan, low)
    return _restore(low, count), _restore(high, count)


def add_rates(
    df: pd.DataFrame,
    count: str = "value",
    population: str = "population",
    per: float = 1000,
    level: float = 0.95,
    small: int = 20,
) -> pd.DataFrame:
    """Add a rate, its exact Poisson interval and a small-count flag to a table.

    Parameters
    ----------
    df : DataFrame
        One row per unit (département, year ...).
    count, population : str
        Column names of the count and of its denominator.
    per : float, default 1000
        Rate per how many inhabitants.
    level : float, default 0.95
        Confidence level of the interval.
    small : int, default 20
        Counts below it are flagged ``small_count`` (their rate is fragile; say so in the letter).

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``rate``, ``rate_low``, ``rate_high`` (float) and ``small_count`` (bool; False
        for a missing count).

    Raises
    ------
    KeyError
        When a named column is absent.
    """
    missing = [c for c in (count, population) if c not in df.columns]
    if missing:
        raise KeyError(f"add_rates: column(s) {missing} not in the table (columns: {list(df.columns)})")
    out = df.copy()
    counts = out[count].astype(float)
    pops = out[population].astype(float)
    out["rate"] = rate_per(counts, pops, per)
    low, high = poisson_ci(counts, level)
    scale = rate_per(1.0, pops, per)  # per / population, missing when the population is
    out["rate_low"] = low * scale
    out["rate_high"] = high * scale
    out["small_count"] = (counts < small).fillna(False).astype(bool)
    return out


def change_on_year(series: pd.Series) -> pd.DataFrame:
    """Change of each year on the previous calendar year.

    Parameters
    ----------
    series : Series
        Values indexed by year (int-like). Missing years are not filled: a year whose previous year is absent
        or missing gets a missing change.

    Returns
    -------
    DataFrame
        Columns ``year`` (int), ``value``, ``previous``, ``change_abs`` and ``change_rel`` (a fraction;
        missing when ``previous`` is 0), one row per year, sorted by year.

    Raises
    ------
    ValueError
        When a year appears twice.
    """
    s = pd.Series(series, dtype=float)
    years = pd.Index(s.index).astype(int)
    if years.has_duplicates:
        raise ValueError(f"change_on_year: duplicate years {sorted(set(years[years.duplicated()]))}")
    s.index = years
    s = s.sort_index()
    previous = s.reindex(s.index - 1).to_numpy()
    value = s.to_numpy()
    change_abs = value - previous
    with np.errstate(divide="ignore", invalid="ignore"):
        change_rel = np.where(previous != 0, change_abs / np.where(previous != 0, previous, 1.0), np.nan)
    return pd.DataFrame(
        {
            "year": s.index.to_numpy(dtype=int),
            "value": value,
            "previous": previous,
            "change_abs": change_abs,
            "change_rel": np.where(np.isnan(change_abs), np.nan, change_rel),
        }
    )


# Two-year test ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeTest:
    """Result of :func:`poisson_change_test`.

    Attributes
    ----------
    rate_ratio : float
        ``(c1 / e1) / (c0 / e0)``; ``rate_ratio - 1`` is the relative change.
    low, high : float
        Exact confidence interval of the rate ratio.
    p_value : float
        Exact two-sided p-value (central: twice the smaller tail, capped at 1).
    significant : bool
        ``p_value < 1 - level`` (equivalently, the interval excludes 1).
    level : float
        Confidence level (extra field, default 0.95).
    reason : str
        Why the test could not be done (both counts zero), else empty (extra field).
    """

    rate_ratio: float
    low: float
    high: float
    p_value: float
    significant: bool
    level: float = 0.95
    reason: str = ""

    @property
    def change(self) -> float:
        """Relative change ``rate_ratio - 1`` (a fraction)."""
        return self.rate_ratio - 1.0

    def describe_fr(self) -> str:
        """One sober French sentence for the letter.

        Returns
        -------
        str
            E.g. ``"Hausse de +5,2 % (IC à 95 % : +3,1 % ; +7,4 %), statistiquement significative
            (test exact, p < 0,001)."``
        """
        if self.reason or not math.isfinite(self.rate_ratio):
            why = self.reason or "aucun fait l'année de référence"
            return f"Évolution non estimable{NBSP}: {why}."
        ci = f"{_level_fr(self.level)}{NBSP}: {format_change(self.low - 1)}{NNBSP}; " + (
            format_change(self.high - 1) if math.isfinite(self.high) else "+∞"
        )
        if self.significant:
            head = "Hausse" if self.rate_ratio > 1 else "Baisse"
            verdict = "statistiquement significative"
        else:
            head, verdict = "Évolution", "non significative"
        return (
            f"{head} de {format_change(self.change)} ({ci}), {verdict} "
            f"(test exact de Poisson, {format_p_value(self.p_value)})."
        )


def poisson_change_test(
    c0: float, c1: float, exposure0: float = 1.0, exposure1: float = 1.0, level: float = 0.95
) -> ChangeTest:
    """Exact conditional test that two Poisson counts share the same rate.

    Parameters
    ----------
    c0, c1 : int
        Counts of the reference and of the compared period (non-negative integers).
    exposure0, exposure1 : float, default 1.0
        Their exposures (populations); equal by default, which compares the counts themselves.
    level : float, default 0.95
        Confidence level; a change is significant at ``1 - level``.

    Returns
    -------
    ChangeTest
        Rate ratio, its exact interval, the p-value and the verdict. When both counts are zero the ratio is
        undefined: NaN fields, ``p_value = 1``, not significant, and a ``reason``. When only ``c0`` is zero the
        ratio and the upper bound are infinite.

    Raises
    ------
    ValueError
        For negative or non-integer counts, or non-positive exposures.
    """
    level = _check_level(level)
    counts = []
    for name, c in (("c0", c0), ("c1", c1)):
        if c is None or not math.isfinite(float(c)) or float(c) < 0 or not float(c).is_integer():
            raise ValueError(f"{name} must be a non-negative integer count, got {c!r}")
        counts.append(int(c))
    k0, k1 = counts
    e0, e1 = float(exposure0), float(exposure1)
    if not (e0 > 0 and e1 > 0 and math.isfinite(e0) and math.isfinite(e1)):
        raise ValueError(f"exposures must be positive and finite, got {exposure0!r} and {exposure1!r}")
    n = k0 + k1
    if n == 0:
        nan = float("nan")
        return ChangeTest(nan, nan, nan, 1.0, False, level, "aucun fait sur les deux périodes")
    p0 = e1 / (e0 + e1)
    lower_tail = stats.binom.cdf(k1, n, p0)
    upper_tail = stats.binom.sf(k1 - 1, n, p0)
    p_value = float(min(1.0, 2.0 * min(lower_tail, upper_tail)))
    ci = stats.binomtest(k1, n, p0).proportion_ci(confidence_level=level, method="exact")
    odds = e0 / e1

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * odds

    ratio = math.inf if k0 == 0 else (k1 / e1) / (k0 / e0)
    return ChangeTest(
        rate_ratio=float(ratio),
        low=float(to_ratio(ci.low)),
        high=float(to_ratio(ci.high)),
        p_value=p_value,
        significant=bool(p_value < 1.0 - level),
        level=level,
    )


# Trend --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendResult:
    """Result of :func:`trend`.

    Attributes
    ----------
    annual_change : float
        Average annual change, a fraction (0.052 = +5,2 % per year); NaN when not estimable.
    ci_low, ci_high : float
        Its confidence interval.
    p_value : float
        Wald p-value of the slope.
    family : str
        ``"poisson"`` or ``"negative_binomial"`` (the model used), or ``""`` when nothing was fitted.
    dispersion : float
        Pearson chi2 / residual df of the Poisson fit (NaN when there is no residual df).
    first_year, last_year, n_years : int
        The years actually used (missing values dropped).
    level : float
        Confidence level (extra field, default 0.95).
    reason : str
        Why the trend is not estimable, else empty (extra field).
    nb_alpha : float
        The negative binomial's ``alpha`` (variance = mu + alpha * mu**2), NaN for Poisson (extra field).
    """

    annual_change: float
    ci_low: float
    ci_high: float
    p_value: float
    family: str
    dispersion: float
    first_year: int
    last_year: int
    n_years: int
    level: float = 0.95
    reason: str = ""
    nb_alpha: float = float("nan")

    @property
    def estimable(self) -> bool:
        """True when a trend was estimated."""
        return not self.reason and math.isfinite(self.annual_change)

    @property
    def significant(self) -> bool:
        """True when the p-value is below ``1 - level`` (the interval then excludes 0)."""
        return self.estimable and self.p_value < 1.0 - self.level

    def describe_fr(self) -> str:
        """One sober French sentence for the letter.

        Returns
        -------
        str
            E.g. ``"Entre 2016 et 2023, évolution moyenne de +5,2 % par an (IC à 95 % : +4,1 % ; +6,3 %),
            hausse statistiquement significative (modèle de Poisson)."``; for a non-significant trend the sentence says
            "évolution moyenne ... non significative"; when not estimable it says why.
        """
        if not self.estimable:
            return f"Tendance non estimable{NBSP}: {self.reason or 'estimation impossible'}."
        span = f"Entre {self.first_year} et {self.last_year}, "
        # the sign is carried by the number: "baisse de −2,7 %" would be a double negative
        what = "évolution moyenne"
        if self.significant:
            verdict = ("hausse" if self.annual_change > 0 else "baisse") + " statistiquement significative"
        else:
            verdict = "non significative"
        model = _FAMILY_FR.get(self.family, self.family)
        if self.family == "negative_binomial":
            model += ", données surdispersées"
        return (
            f"{span}{what} de {format_change(self.annual_change)} par an "
            f"({_level_fr(self.level)}{NBSP}: {format_change(self.ci_low)}{NNBSP}; {format_change(self.ci_high)}),"
            f" {verdict} ({model})."
        )


def _empty_trend(
    years: np.ndarray, level: float, reason: str, dispersion: float = float("nan")
) -> TrendResult:
    nan = float("nan")
    first = int(years.min()) if years.size else 0
    last = int(years.max()) if years.size else 0
    return TrendResult(nan, nan, nan, nan, "", dispersion, first, last, int(years.size), level, reason)


def _nb_alpha(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray | None, mu: np.ndarray, df_resid: int
) -> float:
    """NB2 alpha by maximum likelihood; a moment estimate (with a warning) when the MLE fails."""
    import statsmodels.api as sm

    alpha = float("nan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.NegativeBinomial(y, X, offset=offset, loglike_method="nb2")
            fit = model.fit(disp=0, maxiter=500)
        if fit.mle_retvals.get("converged", False):
            alpha = float(fit.params[-1])
    except (np.linalg.LinAlgError, ValueError, RuntimeError):
        pass
    if math.isfinite(alpha) and alpha > 0:
        return alpha
    moment = float(np.sum(((y - mu) ** 2 - mu) / mu**2) / max(df_resid, 1))
    warnings.warn(
        f"trend: negative binomial alpha MLE did not converge; using the moment estimate {moment:.4g}",
        RuntimeWarning,
        stacklevel=3,
    )
    return max(moment, 1e-8)


def trend(years, counts, exposure=None, family: str = "auto", level: float = 0.95) -> TrendResult:
    """Average annual change of a count over years, from a log-linear GLM.

    Fits ``log E[count] = a + b * (year - first_year) [+ log(exposure)]`` and reports ``exp(b) - 1`` with the
    interval ``exp(conf_int) - 1``.

    Parameters
    ----------
    years : array-like of int
        The years (need not be consecutive; must be unique).
    counts : array-like
        Counts for those years; missing values are dropped with their year.
    exposure : array-like, optional
        Population at risk each year: the trend is then one of the rate (an offset ``log(exposure)``).
    family : {"auto", "poisson", "negative_binomial"}, default "auto"
        ``auto`` uses Poisson unless the Poisson fit's Pearson dispersion exceeds 1.5, then negative binomial.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    TrendResult
        With NaN figures and a ``reason`` (never an exception) when fewer than 3 years remain, fewer than two
        years have a non-zero count, or the fit does not converge.

    Raises
    ------
    ValueError
        For mismatched lengths, duplicate years, negative counts, non-positive exposure or an unknown family.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    level = _check_level(level)
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    yrs = np.asarray(years, dtype=float).ravel()
    y = _as_array(counts, "counts").ravel()
    if yrs.shape != y.shape:
        raise ValueError(f"years and counts differ in length ({yrs.size} and {y.size})")
    if exposure is not None:
        expo = np.asarray(exposure, dtype=float).ravel()
        if expo.shape != y.shape:
            raise ValueError(f"exposure and counts differ in length ({expo.size} and {y.size})")
        if np.any(expo[~np.isnan(expo)] <= 0):
            raise ValueError("exposure must be positive")
    else:
        expo = np.ones_like(y)
    keep = ~(np.isnan(yrs) | np.isnan(y) | np.isnan(expo))
    yrs, y, expo = yrs[keep], y[keep], expo[keep]
    if np.unique(yrs).size != yrs.size:
        raise ValueError("trend: a year appears twice")
    order = np.argsort(yrs)
    yrs, y, expo = yrs[order], y[order], expo[order]
    if yrs.size < 3:
        return _empty_trend(yrs, level, f"moins de trois années disponibles ({yrs.size})")
    if not np.any(y > 0):
        return _empty_trend(yrs, level, "aucun fait enregistré sur la période")
    if np.count_nonzero(y > 0) < 2:
        # With one non-zero year at an end of the period the maximum likelihood slope is infinite.
        return _empty_trend(yrs, level, "des faits enregistrés une seule année de la période")

    X = np.column_stack([np.ones_like(yrs), yrs - yrs[0]])
    offset = np.log(expo) if exposure is not None else None
    with warnings.catch_warnings():
        # An exact fit (mu == y) triggers statsmodels' separation heuristic; it means nothing for counts.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
    df_resid = int(poisson.df_resid)
    dispersion = float(poisson.pearson_chi2 / df_resid) if df_resid > 0 else float("nan")
    use_nb = family == "negative_binomial" or (
        family == "auto" and math.isfinite(dispersion) and dispersion > DISPERSION_THRESHOLD
    )
    result, chosen, nb_alpha = poisson, "poisson", float("nan")
    if use_nb:
        nb_alpha = _nb_alpha(y, X, offset, np.asarray(poisson.fittedvalues), df_resid)
        result = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=nb_alpha), offset=offset).fit()
        chosen = "negative_binomial"
    if not result.converged:
        return _empty_trend(yrs, level, "l'estimation du modèle n'a pas convergé", dispersion)
    slope = float(np.asarray(result.params)[1])
    low, high = np.asarray(result.conf_int(alpha=1.0 - level))[1]
    return TrendResult(
        annual_change=float(np.expm1(slope)),
        ci_low=float(np.expm1(low)),
        ci_high=float(np.expm1(high)),
        p_value=float(np.asarray(result.pvalues)[1]),
        family=chosen,
        dispersion=dispersion,
        first_year=int(yrs[0]),
        last_year=int(yrs[-1]),
        n_years=int(yrs.size),
        level=level,
        nb_alpha=nb_alpha,
    )
