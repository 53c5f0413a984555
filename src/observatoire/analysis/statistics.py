"""The one statistical core of every letter: rates, intervals, the year-on-year test, trends, funnel limits, ranks.

Every letter (annual, violences_sexuelles, outre_mer, territoire) computes these through this module, with the
constants declared in ``publications/methods.yml`` (:mod:`observatoire.analysis.method`), so that the same
département in two letters gets the same number, interval and verdict.

Why these methods. Recorded counts of violence are counts of events: their natural model is Poisson, and a
letter that says "a rise of 3 %" must also say whether chance alone could produce it. But they vary from year to
year far more than Poisson allows (the Pearson dispersion of a log-linear trend is about 344 for intrafamily
assault and 149 for sexual violence nationally), so:

* the dispersion of a series (:func:`series_dispersion`) is the Pearson chi2 / df of its Poisson log-linear trend
  (with the population as exposure): the one rule every interval and every test below uses;
* a rate's interval (:func:`add_rates`, :func:`add_series_rates`) is the exact (Garwood) Poisson interval of its
  count, the population taken as known, widened on the log scale by the square root of the area's own series
  dispersion (:func:`widened_interval`); with no over-dispersion it is the exact interval, which stays valid for
  the small counts of small départements. Counts below ``small_count`` are flagged (:func:`is_small`);
* a change between two years (:func:`change_test`) compares the two rates with the dispersion of the *other*
  years of the series (quasi-Poisson, Student t); the exact conditional Poisson test
  (:func:`poisson_change_test`: given ``n = c0 + c1``, ``c1`` is binomial with ``p = e1 / (e0 + e1)``) stands
  only where the series shows no over-dispersion;
* a trend over several years is a log-linear model, ``log E[y] = a + b * year (+ log exposure)``;
  ``exp(b) - 1`` is the average annual change; :func:`trend` reads its verdict from the quasi-Poisson model
  (variance ``phi * mu``, Student t on ``n - 2`` degrees of freedom; McCullagh and Nelder 1989) whenever
  ``phi > 1``, and from Poisson only when ``phi <= 1``; a negative binomial (NB2) is available on request;
* areas are compared on a funnel plot (:func:`funnel`): Spiegelhalter (2005), additive random effects on
  winsorised z-scores, with the over-dispersion estimate made consistent for normal z-scores (the winsorised mean
  square divided by its normal expectation, :func:`winsorised_phi`; the sensitivity table shows the published
  estimator too, at every winsorising fraction declared); ranks by :func:`rank_rates`.

Every result carries both answers, the plain Poisson one and the over-dispersion-aware one, so that a notebook
shows both; only the latter supports a claim of significance.

Nothing here ever fills a missing year: missing values are dropped from a trend fit (the GLM does not need
equally spaced years) and a change whose previous year is absent is itself missing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from observatoire.analysis.method import constants

__all__ = [
    "ChangeTest",
    "TrendResult",
    "add_rates",
    "add_series_rates",
    "both_answers",
    "change_on_year",
    "change_of",
    "change_test",
    "change_test_batch",
    "exact_poisson_change_p",
    "funnel",
    "funnel_limits",
    "funnel_sensitivity",
    "is_small",
    "rank_rates",
    "series_dispersion",
    "widened_interval",
    "winsor_consistency",
    "winsorised_phi",
    "loglinear_poisson",
    "quasi_poisson_change_p",
    "slope_tests",
    "poisson_change_test",
    "poisson_ci",
    "rate_per",
    "trend",
    "trend_of",
]

FAMILIES = ("auto", "poisson", "quasi_poisson", "negative_binomial")
#: Why a test, a trend or a dispersion gives no answer (the ``reason`` of a result), and why a negative binomial
#: fit gave way to quasi-Poisson (the ``note`` of a trend): codes, worded in every language by the macro
#: ``reason`` of publications/_shared/statistics.jinja (entries ``stat_reason_*`` of words.yml beside it). A
#: change test whose series' dispersion could not be estimated says why with ``dispersion_`` and the reason of
#: that fit (``dispersion_no_events`` ...).
REASONS = (
    "no_events_both_periods",  # a change test between two zero counts
    "too_few_years",  # fewer years than methods.yml's minimum (trend.min_years, dispersion.min_years)
    "no_events",  # no event in the whole period
    "events_one_year_only",  # events in a single year of the period
    "not_converged",  # the model's fit did not converge
    "no_residual_df",  # no residual degree of freedom left for the dispersion
    "dispersion_min_years",  # a change test: fewer other years than dispersion.min_years
    "zero_count_quasi_poisson",  # a change test: a zero count, where the quasi-Poisson test is not defined
    "nb_failed",  # the negative binomial fit failed (an exception)
    "nb_not_converged",  # the negative binomial fit did not converge
    "nb_alpha_not_identifiable",  # the negative binomial's over-dispersion parameter is zero or not identifiable
)
#: Short method names (French) for tables: the method of a trend or of a change test.
METHOD_SHORT_FR = {
    "poisson": "Poisson",
    "quasi_poisson": "quasi-Poisson",
    "negative_binomial": "binomial négatif",
    "exact_poisson": "Poisson exact",
    "quasi_poisson_test": "quasi-Poisson",
}


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


def is_small(count):
    """True where a count is below the declared small-count threshold (``small_count`` in methods.yml).

    A rate on fewer victims is fragile (its 95 % interval is wider than about +/-20 %); a missing count is not
    flagged. Scalar in, bool out; array or Series in, the same shape out.
    """
    threshold = constants().small_count
    if isinstance(count, pd.Series):
        return (count.astype(float) < threshold).fillna(False).astype(bool)
    array = np.asarray(count, dtype=float)
    flags = np.where(np.isnan(array), False, array < threshold)
    return bool(flags) if flags.ndim == 0 else flags


def widened_interval(count, rate, low, high, dispersion):
    """Exact Poisson bounds of a rate widened by a dispersion, on the log scale: the interval of every letter.

    ``low_w = rate * (low / rate) ** sqrt(phi)`` and likewise ``high``, with ``phi = max(dispersion, 1)``: for a
    large count the exact log-interval is about ``+/- z / sqrt(count)``, so the widened one is the quasi-Poisson
    ``+/- z * sqrt(phi / count)``; with ``phi <= 1`` (or unknown) it is the exact interval. A zero rate keeps its
    exact bounds (the log scale has no room below 0).

    Parameters
    ----------
    count, rate, low, high : array-like or Series
        Counts, rates and their exact Poisson bounds (:func:`poisson_ci` scaled to the rate).
    dispersion : float or array-like
        The series' dispersion (:func:`series_dispersion`), one per row or one for all.

    Returns
    -------
    tuple
        ``(low, high)`` of the same shape as ``rate``.
    """
    rate_a = np.asarray(rate, dtype=float)
    phi = np.asarray(dispersion, dtype=float)
    widen = np.sqrt(np.where(np.isfinite(phi) & (phi > 1.0), phi, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        new_low = rate_a * (np.asarray(low, dtype=float) / rate_a) ** widen
        new_high = rate_a * (np.asarray(high, dtype=float) / rate_a) ** widen
    keep = ~(rate_a > 0)
    new_low = np.where(keep, np.asarray(low, dtype=float), new_low)
    new_high = np.where(keep, np.asarray(high, dtype=float), new_high)
    return _restore(new_low, rate), _restore(new_high, rate)


def add_rates(
    df: pd.DataFrame,
    count: str = "value",
    population: str = "population",
    per: float | None = None,
    level: float | None = None,
    dispersion=None,
) -> pd.DataFrame:
    """Add a rate, its interval and a small-count flag to a table.

    The interval is the exact (Garwood) Poisson interval of the count, the population taken as known, widened by
    ``dispersion`` when one is given (:func:`widened_interval`): the letters pass the series' dispersion
    (:func:`add_series_rates`), so that the same rate gets the same interval in every letter.

    Parameters
    ----------
    df : DataFrame
        One row per unit (département, year ...).
    count, population : str
        Column names of the count and of its denominator.
    per : float, optional
        Rate per how many inhabitants (default: ``rate_per`` of methods.yml).
    level : float, optional
        Confidence level of the interval (default: ``confidence_level`` of methods.yml).
    dispersion : float, str or array-like, optional
        The dispersion widening each row's interval: a number, a column name or one value per row.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``rate``, ``rate_low``, ``rate_high`` (float) and ``small_count`` (bool, count
        below ``small_count`` of methods.yml; False for a missing count).

    Raises
    ------
    KeyError
        When a named column is absent.
    """
    m = constants()
    per = m.rate_per if per is None else per
    level = m.confidence_level if level is None else level
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
    if dispersion is not None:
        phi = out[dispersion] if isinstance(dispersion, str) else dispersion
        out["rate_low"], out["rate_high"] = widened_interval(
            counts, out["rate"], out["rate_low"], out["rate_high"], np.asarray(phi, dtype=float)
        )
    out["small_count"] = is_small(counts)
    return out


def add_series_rates(
    table: pd.DataFrame,
    area: str = "geo_code",
    count: str = "count",
    population: str = "population",
    last_year: int | None = None,
    per: float | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Rates of a long table (area x year) with the one interval of the letters: exact Poisson widened by the
    area's own dispersion.

    Each area's dispersion is :func:`series_dispersion` of its rows up to ``last_year`` (years with a count and a
    population), the same for every year of the area; it is 1 (exact Poisson) when the area has fewer than
    ``dispersion.min_years`` such years.

    Parameters
    ----------
    table : DataFrame
        ``area``, ``year``, ``count``, ``population`` columns.
    last_year : int, optional
        The letter's year: later years do not enter the dispersion (default: every year of the table).

    Returns
    -------
    DataFrame
        :func:`add_rates`' columns and ``dispersion`` (the area's, at least 1).
    """
    rows = table if last_year is None else table[table["year"].astype(int) <= int(last_year)]
    phis = {}
    for key, group in rows.groupby(area, sort=False):
        result = series_dispersion(group["year"], group[count], group[population])
        phis[key] = scale_from_dispersion(result.dispersion) if math.isfinite(result.dispersion) else 1.0
    out = add_rates(table, count, population, per, level, dispersion=table[area].map(phis).fillna(1.0))
    out["dispersion"] = table[area].map(phis).fillna(1.0).to_numpy()
    return out


def rank_rates(rates) -> pd.Series:
    """Rank of each rate, 1 = the highest; ties share the best rank (``method="min"``); missing stays missing."""
    series = pd.Series(rates, dtype=float)
    return series.rank(ascending=False, method="min").astype("Int64")


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
        Why the test could not be done (both counts zero, dispersion unknown), else empty (extra field): a code
        of :data:`REASONS` (``dispersion_<code>`` when the series' dispersion could not be fitted).
    method : str
        ``"exact_poisson"`` (:func:`poisson_change_test`) or ``"quasi_poisson_test"`` (:func:`change_test` on
        an over-dispersed series); ``""`` when no verdict could be given.
    dispersion : float
        Pearson dispersion of the series the test borrowed its variance from (NaN for a bare two-count test).
    df_resid : int
        Its residual degrees of freedom (0 for a bare two-count test).
    p_value_poisson, low_poisson, high_poisson : float
        The exact Poisson answer, always given beside the main one.
    """

    rate_ratio: float
    low: float
    high: float
    p_value: float
    significant: bool
    level: float = 0.95
    reason: str = ""
    method: str = "exact_poisson"
    dispersion: float = float("nan")
    df_resid: int = 0
    p_value_poisson: float = float("nan")
    low_poisson: float = float("nan")
    high_poisson: float = float("nan")

    @property
    def change(self) -> float:
        """Relative change ``rate_ratio - 1`` (a fraction)."""
        return self.rate_ratio - 1.0

    @property
    def significant_poisson(self) -> bool:
        """The verdict of the exact Poisson test (for comparison; over-dispersed counts make it optimistic)."""
        return bool(self.p_value_poisson < 1.0 - self.level)

    @property
    def method_fr(self) -> str:
        """Short French name of the test the verdict comes from ("Poisson exact", "quasi-Poisson")."""
        return METHOD_SHORT_FR.get(self.method, self.method)


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
        return ChangeTest(nan, nan, nan, 1.0, False, level, "no_events_both_periods", p_value_poisson=1.0)
    p0 = e1 / (e0 + e1)
    p_value = float(exact_poisson_change_p(k0, k1, e0, e1))
    ci = stats.binomtest(k1, n, p0).proportion_ci(confidence_level=level, method="exact")
    odds = e0 / e1

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * odds

    ratio = math.inf if k0 == 0 else (k1 / e1) / (k0 / e0)
    low, high = float(to_ratio(ci.low)), float(to_ratio(ci.high))
    return ChangeTest(
        rate_ratio=float(ratio),
        low=low,
        high=high,
        p_value=p_value,
        significant=bool(p_value < 1.0 - level),
        level=level,
        p_value_poisson=p_value,
        low_poisson=low,
        high_poisson=high,
    )


# Trend --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendResult:
    """Result of :func:`trend`: the answer that accounts for over-dispersion, and the plain Poisson one.

    Attributes
    ----------
    annual_change : float
        Average annual change, a fraction (0.052 = +5,2 % per year); NaN when not estimable.
    ci_low, ci_high : float
        Its confidence interval, under the model in ``family``.
    p_value : float
        p-value of the slope under the model in ``family`` (the one significance is read from).
    family : str
        The model the interval and p-value come from: ``"poisson"`` (the Pearson dispersion does not exceed 1),
        ``"quasi_poisson"`` (Poisson variance times the Pearson dispersion, Student t with ``df_resid``
        degrees of freedom) or ``"negative_binomial"`` (NB2 maximum likelihood, asked for explicitly);
        ``""`` when nothing was fitted.
    dispersion : float
        Pearson chi2 / residual df of the Poisson fit (NaN when there is no residual df).
    first_year, last_year, n_years : int
        The years actually used (missing values dropped).
    level : float
        Confidence level.
    reason : str
        Why the trend is not estimable, else empty: a code of :data:`REASONS`.
    nb_alpha : float
        The negative binomial's ``alpha`` (variance = mu + alpha * mu**2), NaN unless ``family`` is NB2.
    df_resid : int
        Residual degrees of freedom of the fit (``n_years - 2``).
    p_value_poisson, ci_low_poisson, ci_high_poisson : float
        The same slope tested under plain Poisson variation (what over-dispersed counts make far too
        optimistic); shown beside the main answer, never used for a claim.
    note : str
        Why the method differs from the one asked for (a negative binomial fit that failed: ``nb_*`` of
        :data:`REASONS`), else empty.
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
    df_resid: int = 0
    p_value_poisson: float = float("nan")
    ci_low_poisson: float = float("nan")
    ci_high_poisson: float = float("nan")
    note: str = ""

    @property
    def estimable(self) -> bool:
        """True when a trend was estimated."""
        return not self.reason and math.isfinite(self.annual_change)

    @property
    def significant(self) -> bool:
        """True when the p-value of ``family``'s model is below ``1 - level`` (the interval then excludes 0)."""
        return self.estimable and self.p_value < 1.0 - self.level

    @property
    def significant_poisson(self) -> bool:
        """The verdict plain Poisson would give (for comparison only)."""
        return self.estimable and self.p_value_poisson < 1.0 - self.level

    @property
    def method_fr(self) -> str:
        """Short French name of the model the verdict comes from (e.g. "quasi-Poisson")."""
        return METHOD_SHORT_FR.get(self.family, self.family)


def _empty_trend(
    years: np.ndarray, level: float, reason: str, dispersion: float = float("nan")
) -> TrendResult:
    nan = float("nan")
    first = int(years.min()) if years.size else 0
    last = int(years.max()) if years.size else 0
    return TrendResult(nan, nan, nan, nan, "", dispersion, first, last, int(years.size), level, reason)


def loglinear_poisson(t, counts, offset=None, max_iter: int = 100, tol: float = 1e-10) -> dict:
    """Poisson log-linear fit ``log E[y] = a + b * t (+ offset)`` for one series or many at once.

    Iteratively reweighted least squares with the two-parameter closed form (no matrix library), so that
    thousands of series fit in milliseconds (the simulation tests) and one series gives what
    ``statsmodels.GLM(..., family=Poisson())`` gives (tested).

    Parameters
    ----------
    t : array-like, shape (n,)
        The covariate (years minus the first year).
    counts : array-like, shape (n,) or (m, n)
        One series, or ``m`` series sharing ``t``; no missing values.
    offset : array-like, optional
        ``log(exposure)``, broadcastable to ``counts``.

    Returns
    -------
    dict
        Arrays (or floats for one series): ``slope``, ``se`` (Poisson standard error of the slope), ``pearson``
        (Pearson chi2), ``df`` (n - 2), ``converged``.
    """
    t = np.asarray(t, dtype=float)
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    off = np.zeros_like(y) if offset is None else np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    # statsmodels' start: mu = (y + mean(y)) / 2
    mu = (y + y.mean(axis=1, keepdims=True)) / 2.0
    eta = np.log(mu)
    a = np.zeros(y.shape[0])
    b = np.zeros(y.shape[0])
    converged = np.zeros(y.shape[0], dtype=bool)
    for _ in range(max_iter):
        z = eta - off + (y - mu) / mu  # working response
        w = mu
        sw, swt, swtt = w.sum(1), (w * t).sum(1), (w * t * t).sum(1)
        swz, swtz = (w * z).sum(1), (w * t * z).sum(1)
        det = sw * swtt - swt**2
        b_new = (sw * swtz - swt * swz) / det
        a_new = (swz - b_new * swt) / sw
        step = np.abs(b_new - b) + np.abs(a_new - a)
        a, b = a_new, b_new
        eta = a[:, None] + b[:, None] * t[None, :] + off
        mu = np.exp(eta)
        converged = step < tol * (1 + np.abs(a) + np.abs(b))
        if converged.all():
            break
    w = mu
    sw, swt, swtt = w.sum(1), (w * t).sum(1), (w * t * t).sum(1)
    se = np.sqrt(sw / (sw * swtt - swt**2))
    pearson = (((y - mu) ** 2) / mu).sum(1)
    out = {"slope": b, "se": se, "pearson": pearson, "df": y.shape[1] - 2, "converged": converged}
    if np.ndim(counts) == 1:
        out = {k: (v.item() if isinstance(v, np.ndarray) else v) for k, v in out.items()}
    return out


def scale_from_dispersion(dispersion: float) -> float:
    """The variance multiplier the over-dispersion-aware answer uses: the Pearson dispersion, at least 1.

    Below 1 the Poisson model is not contradicted (and a scale under 1 would claim more precision than Poisson):
    the plain Poisson answer stands. NaN when the dispersion is unknown.
    """
    return max(float(dispersion), 1.0) if math.isfinite(dispersion) else float("nan")


def slope_tests(t, counts, offset=None, level: float = 0.95) -> dict:
    """The slope of a log-linear trend tested under Poisson and, where over-dispersed, quasi-Poisson; batchable.

    The core of :func:`trend` (``family="auto"``), vectorised so that a simulation can test thousands of series
    with the very code the letters use.

    Parameters
    ----------
    t, counts, offset
        As for :func:`loglinear_poisson`.
    level : float, default 0.95

    Returns
    -------
    dict
        Arrays (floats for one series): ``slope``, ``dispersion`` (Pearson chi2 / df, NaN without df), ``df``,
        ``quasi`` (True where ``dispersion > 1``: the verdict is quasi-Poisson), ``p_value`` and ``half`` (half
        width of the interval of the slope) of the verdict, ``p_value_poisson`` and ``half_poisson``,
        ``converged``.
    """
    fit = loglinear_poisson(t, counts, offset)
    df = fit["df"]
    with np.errstate(divide="ignore", invalid="ignore"):
        dispersion = np.asarray(fit["pearson"] / df if df > 0 else np.full_like(fit["pearson"], np.nan))
    se = np.asarray(fit["se"], dtype=float)
    slope = np.asarray(fit["slope"], dtype=float)
    zq = stats.norm.ppf(0.5 + level / 2)
    p_poisson = 2 * stats.norm.sf(np.abs(slope) / se)
    quasi = np.nan_to_num(dispersion, nan=0.0) > 1.0
    se_quasi = se * np.sqrt(np.where(quasi, dispersion, 1.0))
    df_t = max(df, 1)
    p_value = np.where(quasi, 2 * stats.t.sf(np.abs(slope) / se_quasi, df_t), p_poisson)
    half = np.where(quasi, stats.t.ppf(0.5 + level / 2, df_t) * se_quasi, zq * se)
    out = {
        "slope": slope,
        "dispersion": dispersion,
        "df": df,
        "quasi": quasi,
        "p_value": p_value,
        "half": half,
        "p_value_poisson": p_poisson,
        "half_poisson": zq * se,
        "converged": np.asarray(fit["converged"]),
    }
    if np.ndim(counts) == 1:
        out = {k: (v.item() if isinstance(v, np.ndarray) else v) for k, v in out.items()}
    return out


def quasi_poisson_change_p(c0, c1, exposure0, exposure1, dispersion, df):
    """Two-sided p-value of the quasi-Poisson test of a change between two counts; vectorised.

    ``log(r1 / r0) / sqrt(dispersion * (1/c0 + 1/c1))`` against Student t with ``df`` degrees of freedom
    (NaN where a count is zero). The test :func:`change_test` applies where ``dispersion > 1``.
    """
    c0, c1 = np.asarray(c0, dtype=float), np.asarray(c1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (c0 > 0) & (c1 > 0)
        log_ratio = np.log(np.where(ok, c1, 1) / exposure1) - np.log(np.where(ok, c0, 1) / exposure0)
        se = np.sqrt(np.asarray(dispersion) * (1 / np.where(ok, c0, 1) + 1 / np.where(ok, c1, 1)))
        p = 2 * stats.t.sf(np.abs(log_ratio) / se, df)
    return np.where(ok, p, np.nan)


def exact_poisson_change_p(c0, c1, exposure0=1.0, exposure1=1.0):
    """Two-sided p-value of the exact conditional Poisson test (:func:`poisson_change_test`); vectorised."""
    k0, k1 = np.asarray(c0, dtype=float), np.asarray(c1, dtype=float)
    n = k0 + k1
    p0 = np.asarray(exposure1, dtype=float) / (np.asarray(exposure0, dtype=float) + exposure1)
    tails = np.minimum(stats.binom.cdf(k1, n, p0), stats.binom.sf(k1 - 1, n, p0))
    return np.where(n > 0, np.minimum(1.0, 2.0 * tails), 1.0)


def _nb2(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None):
    """NB2 by maximum likelihood: ``(slope, se, alpha)``, or the code of the reason why it failed (:data:`REASONS`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(disp=0, maxiter=500)
    except (np.linalg.LinAlgError, ValueError, RuntimeError):
        return "nb_failed"
    params, bse = np.asarray(fit.params), np.asarray(fit.bse)
    if not fit.mle_retvals.get("converged", False):
        return "nb_not_converged"
    if not (math.isfinite(params[-1]) and params[-1] > 1e-8 and np.all(np.isfinite(bse[:2]))):
        return "nb_alpha_not_identifiable"
    return float(params[1]), float(bse[1]), float(params[-1])


def trend(years, counts, exposure=None, family: str = "auto", level: float | None = None) -> TrendResult:
    """Average annual change of a count over years, from a log-linear model that accounts for over-dispersion.

    Fits ``log E[count] = a + b * (year - first_year) [+ log(exposure)]`` by Poisson maximum likelihood (the
    quasi-likelihood estimate whatever the variance) and reports ``exp(b) - 1``. The interval and the p-value
    come from the variance model in ``family``:

    * ``"auto"`` (default): the Pearson dispersion ``phi = X2 / (n - 2)`` of the Poisson fit is measured. When
      ``phi <= 1`` the counts show no extra-Poisson variation and the Poisson answer stands (Wald, normal);
      when ``phi > 1`` the quasi-Poisson answer is used: standard error times ``sqrt(phi)``, Student t with
      ``n - 2`` degrees of freedom (McCullagh and Nelder 1989, sections 4.5 and 6.2). No threshold above 1:
      a dispersion of 1.46 on 7 degrees of freedom is already enough to turn p = 0.02 into p > 0.05.
    * ``"quasi_poisson"``: the same, whatever ``phi``.
    * ``"negative_binomial"``: NB2 by maximum likelihood (``alpha`` estimated from the series, Wald normal).
      When that fit fails the result is the quasi-Poisson one, ``family`` says so and ``note`` says why.
    * ``"poisson"``: plain Poisson (for comparison; over-dispersed counts make it far too optimistic).

    The plain Poisson interval and p-value are always returned too (``*_poisson`` fields).

    Parameters
    ----------
    years : array-like of int
        The years (need not be consecutive; must be unique).
    counts : array-like
        Counts for those years; missing values are dropped with their year.
    exposure : array-like, optional
        Population at risk each year: the trend is then one of the rate (an offset ``log(exposure)``).
    family : {"auto", "quasi_poisson", "negative_binomial", "poisson"}, default "auto"
    level : float, optional
        Confidence level (default: ``confidence_level`` of methods.yml).

    Returns
    -------
    TrendResult
        With NaN figures and a ``reason`` (never an exception) when fewer than ``trend.min_years`` of
        methods.yml (3) years remain, fewer than two
        years have a non-zero count, or the fit does not converge.

    Raises
    ------
    ValueError
        For mismatched lengths, duplicate years, negative counts, non-positive exposure or an unknown family.
    """
    level = _check_level(constants().confidence_level if level is None else level)
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
    min_years = max(3, constants().trend_min_years)  # a slope and a dispersion need n - 2 >= 1
    if yrs.size < min_years:
        return _empty_trend(yrs, level, "too_few_years")
    if not np.any(y > 0):
        return _empty_trend(yrs, level, "no_events")
    if np.count_nonzero(y > 0) < 2:
        # With one non-zero year at an end of the period the maximum likelihood slope is infinite.
        return _empty_trend(yrs, level, "events_one_year_only")

    t = yrs - yrs[0]
    offset = np.log(expo) if exposure is not None else None
    fit = slope_tests(t, y, offset, level)
    df_resid, dispersion = int(fit["df"]), float(fit["dispersion"])
    if not fit["converged"] or not math.isfinite(fit["slope"]):
        return _empty_trend(yrs, level, "not_converged", dispersion)
    slope_poisson, half_poisson = float(fit["slope"]), float(fit["half_poisson"])
    slope, half, p_value = slope_poisson, half_poisson, float(fit["p_value_poisson"])
    chosen, note, nb_alpha = family, "", float("nan")
    if family == "auto":
        chosen = "quasi_poisson" if fit["quasi"] else "poisson"
    if chosen == "negative_binomial":
        nb = _nb2(y, np.column_stack([np.ones_like(t), t]), offset)
        if isinstance(nb, str):
            chosen, note = "quasi_poisson", nb  # the template says that quasi-Poisson was used instead
        else:
            slope, se, nb_alpha = nb
            half = stats.norm.ppf(0.5 + level / 2) * se
            p_value = float(2 * stats.norm.sf(abs(slope) / se))
    if chosen == "quasi_poisson":
        if not math.isfinite(dispersion):
            return _empty_trend(yrs, level, "no_residual_df")
        # at least the Poisson variance: slope_tests gives exactly that (quasi where dispersion > 1)
        half, p_value = float(fit["half"]), float(fit["p_value"])
        if not fit["quasi"]:  # forced quasi-Poisson on a series without over-dispersion: scale 1, t on df
            se = half_poisson / stats.norm.ppf(0.5 + level / 2)
            half = stats.t.ppf(0.5 + level / 2, df_resid) * se
            p_value = float(2 * stats.t.sf(abs(slope) / se, df_resid))
    return TrendResult(
        annual_change=float(np.expm1(slope)),
        ci_low=float(np.expm1(slope - half)),
        ci_high=float(np.expm1(slope + half)),
        p_value=p_value,
        family=chosen,
        dispersion=dispersion,
        first_year=int(yrs[0]),
        last_year=int(yrs[-1]),
        n_years=int(yrs.size),
        level=level,
        nb_alpha=nb_alpha,
        df_resid=df_resid,
        p_value_poisson=float(fit["p_value_poisson"]),
        ci_low_poisson=float(np.expm1(slope_poisson - half_poisson)),
        ci_high_poisson=float(np.expm1(slope_poisson + half_poisson)),
        note=note,
    )


# Change on the year, over-dispersion aware --------------------------------------------------------------------


@dataclass(frozen=True)
class Dispersion:
    """Result of :func:`series_dispersion`.

    Attributes
    ----------
    dispersion : float
        Pearson chi2 / residual df of the Poisson log-linear trend; NaN when not estimable.
    df_resid : int
        Residual degrees of freedom (``n_years - 2``).
    n_years : int
        Years used (missing values dropped).
    reason : str
        Why it is not estimable, else empty: a code of :data:`REASONS`.
    """

    dispersion: float
    df_resid: int
    n_years: int
    reason: str = ""


def series_dispersion(years, counts, exposure=None) -> Dispersion:
    """The over-dispersion of a yearly series: the one rule every interval and every test of the letters uses.

    Pearson chi2 / residual df of the Poisson log-linear trend ``log E[count] = a + b * year (+ log exposure)``
    (McCullagh and Nelder 1989, section 4.5): how much more the counts vary around their trend than Poisson
    allows. Not estimated (NaN, with a ``reason``) on fewer than ``dispersion.min_years`` years of methods.yml.

    Parameters
    ----------
    years, counts : array-like
        The series; missing counts (or exposures) are dropped with their year.
    exposure : array-like, optional
        The population each year (the trend is then one of the rate).

    Returns
    -------
    Dispersion
    """
    yrs = np.asarray(years, dtype=float).ravel()
    y = np.asarray(counts, dtype=float).ravel()
    expo = np.ones_like(y) if exposure is None else np.asarray(exposure, dtype=float).ravel()
    keep = ~(np.isnan(yrs) | np.isnan(y) | np.isnan(expo))
    n = int(keep.sum())
    minimum = constants().dispersion_min_years
    if n < minimum:
        return Dispersion(float("nan"), 0, n, "too_few_years")
    fit = trend(yrs[keep], y[keep], exposure=None if exposure is None else expo[keep], family="poisson")
    return Dispersion(float(fit.dispersion), int(fit.df_resid), int(fit.n_years), fit.reason)


def change_test(years, counts, year: int, exposure=None, level: float | None = None) -> ChangeTest:
    """Test the change of ``year`` on ``year - 1`` with the over-dispersion of the whole series.

    Two counts alone cannot show over-dispersion; the series can. The Pearson dispersion ``phi`` of the
    series' log-linear trend fit (:func:`trend`) measures how much more the counts vary than Poisson. It is fitted
    on the *other* years up to ``year`` (at least three): a dispersion that includes the two years compared is
    inflated by the very change under test, and the test then almost never rejects (0.1 % instead of 5 % on
    simulated trendless series, tests/test_statistics.py). Then:

    * ``phi <= 1``: Poisson is not contradicted and the exact conditional test stands
      (:func:`poisson_change_test`), ``method="exact_poisson"``;
    * ``phi > 1``: quasi-Poisson test of the log rate ratio, ``log(r1 / r0)`` with standard error
      ``sqrt(phi * (1/c0 + 1/c1))`` and Student t with the trend fit's ``n - 4`` degrees of freedom,
      ``method="quasi_poisson_test"``;
    * fewer than three other years (no dispersion estimable): no verdict (``reason`` says why).

    Because ``phi`` is measured around a straight log-linear trend, a series whose trend bends gets a larger
    ``phi`` (lack of fit counts as noise): the test is then conservative, never optimistic.

    Parameters
    ----------
    years, counts : array-like
        The series (missing values dropped); must hold ``year`` and ``year - 1``. Years after ``year`` are
        ignored.
    year : int
        The year compared with ``year - 1``.
    exposure : array-like, optional
        Population each year: the rates are compared (and the trend is one of the rate). The letters pass it
        whenever every year has a population: they compare rates.
    level : float, optional
        Default: ``confidence_level`` of methods.yml.

    Returns
    -------
    ChangeTest
        Main fields from the method in ``method``; ``*_poisson`` fields from the exact Poisson test.

    Raises
    ------
    ValueError
        When ``year`` or ``year - 1`` has no count (or exposure), or for invalid counts.
    """
    level = _check_level(constants().confidence_level if level is None else level)
    yrs = np.asarray(years, dtype=float).ravel()
    y = np.asarray(counts, dtype=float).ravel()
    expo = np.ones_like(y) if exposure is None else np.asarray(exposure, dtype=float).ravel()
    keep = (yrs <= int(year)) & ~(np.isnan(y) | np.isnan(expo))
    yrs, y, expo = yrs[keep], y[keep], expo[keep]
    pair = []
    for wanted in (int(year) - 1, int(year)):
        hit = np.flatnonzero(yrs == wanted)
        if hit.size != 1:
            raise ValueError(f"change_test: no single count (and exposure) for {wanted}")
        pair.append(int(hit[0]))
    (i0, i1) = pair
    c0, c1 = round(y[i0]), round(y[i1])
    exact = poisson_change_test(c0, c1, expo[i0], expo[i1], level=level)
    rest = np.ones(yrs.size, dtype=bool)
    rest[[i0, i1]] = False
    series = series_dispersion(yrs[rest], y[rest], None if exposure is None else expo[rest])
    base = dict(
        dispersion=series.dispersion,
        df_resid=series.df_resid,
        p_value_poisson=exact.p_value,
        low_poisson=exact.low,
        high_poisson=exact.high,
    )
    if not math.isfinite(series.dispersion):
        nan = float("nan")
        why = "dispersion_min_years"
        if series.reason and series.n_years >= constants().dispersion_min_years:
            why = f"dispersion_{series.reason}"
        return ChangeTest(exact.rate_ratio, nan, nan, nan, False, level, why, method="", **base)
    if series.dispersion <= 1.0 or exact.reason:
        return replace(exact, method="exact_poisson", **base)
    if c0 == 0 or c1 == 0:
        nan = float("nan")
        why = "zero_count_quasi_poisson"
        return ChangeTest(
            exact.rate_ratio, nan, nan, nan, False, level, why, method="quasi_poisson_test", **base
        )
    log_ratio = math.log((c1 / expo[i1]) / (c0 / expo[i0]))
    se = math.sqrt(series.dispersion * (1.0 / c0 + 1.0 / c1))
    half = stats.t.ppf(0.5 + level / 2, series.df_resid) * se
    p_value = float(quasi_poisson_change_p(c0, c1, expo[i0], expo[i1], series.dispersion, series.df_resid))
    return ChangeTest(
        rate_ratio=math.exp(log_ratio),
        low=math.exp(log_ratio - half),
        high=math.exp(log_ratio + half),
        p_value=p_value,
        significant=bool(p_value < 1.0 - level),
        level=level,
        method="quasi_poisson_test",
        **base,
    )


def change_test_batch(counts, exposure=None, level: float | None = None) -> dict:
    """:func:`change_test` of the last year against the one before, for many series at once (the simulations).

    The same rule, vectorised: the Pearson dispersion of the Poisson log-linear trend of the *other* years
    (:func:`loglinear_poisson`), then the quasi-Poisson test of the two rates (Student t on ``n - 4`` df) where it
    exceeds 1, the exact conditional Poisson test elsewhere. tests/test_statistics.py checks that it gives
    :func:`change_test`'s p-values series by series.

    Parameters
    ----------
    counts : array-like, shape (m, n)
        ``m`` series of ``n`` consecutive years (no missing values, the last two non-zero); the last column is
        the year tested.
    exposure : array-like, shape (n,) or (m, n), optional
        Populations (the rates are compared).
    level : float, optional
        Default: ``confidence_level`` of methods.yml.

    Returns
    -------
    dict
        Arrays: ``p_value``, ``significant``, ``quasi`` (the verdict is quasi-Poisson), ``dispersion``.
    """
    level = _check_level(constants().confidence_level if level is None else level)
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    n = y.shape[1]
    if n - 2 < max(3, constants().dispersion_min_years):
        raise ValueError(f"change_test_batch: {n} years leave fewer than three other years")
    expo = (
        np.ones_like(y) if exposure is None else np.broadcast_to(np.asarray(exposure, dtype=float), y.shape)
    )
    t = np.arange(n - 2, dtype=float)
    offset = None if exposure is None else np.log(expo[:, :-2])
    fit = loglinear_poisson(t, y[:, :-2], offset)
    dispersion = np.asarray(fit["pearson"], dtype=float) / fit["df"]
    c0, c1, e0, e1 = y[:, -2], y[:, -1], expo[:, -2], expo[:, -1]
    quasi = dispersion > 1.0
    p_quasi = quasi_poisson_change_p(c0, c1, e0, e1, np.where(quasi, dispersion, 1.0), fit["df"])
    p_exact = exact_poisson_change_p(np.round(c0), np.round(c1), e0, e1)
    p_value = np.where(quasi, p_quasi, p_exact)
    return {
        "p_value": p_value,
        "significant": p_value < 1.0 - level,
        "quasi": quasi,
        "dispersion": dispersion,
    }


def change_of(table: pd.DataFrame, year: int, count: str = "count", population: str | None = "population"):
    """The year-on-year test of one area's series as every letter runs it: :func:`change_test` on its rates.

    Parameters
    ----------
    table : DataFrame
        One area's rows: ``year``, ``count`` and (optionally) ``population``.
    year : int
        The year compared with ``year - 1``; later years are ignored.
    population : str or None
        The exposure column: the rates are compared when every year up to ``year`` with a count has a
        population, else the counts (and None compares the counts).

    Returns
    -------
    ChangeTest or None
        None when ``year`` or ``year - 1`` has no count (or no population, when the rates are compared).
    """
    rows = table[table["year"].astype(int) <= int(year)].dropna(subset=[count])
    use_rates = population is not None and population in rows and rows[population].notna().all()
    years = rows["year"].astype(int).to_numpy()
    if not {int(year), int(year) - 1} <= set(years.tolist()):
        return None
    exposure = rows[population].to_numpy(dtype=float) if use_rates else None
    return change_test(years, rows[count].to_numpy(dtype=float), int(year), exposure=exposure)


def trend_of(
    table: pd.DataFrame,
    last_year: int,
    first_year: int | None = None,
    count: str = "count",
    population: str | None = "population",
    family: str = "auto",
) -> TrendResult:
    """The trend of one area's rate as every letter estimates it: :func:`trend` over the years with a count and a
    population, from ``first_year`` (default: the first year of the table) to ``last_year``.

    With ``population=None`` (or no such column) the trend is one of the count.
    """
    rows = table[table["year"].astype(int) <= int(last_year)]
    if first_year is not None:
        rows = rows[rows["year"].astype(int) >= int(first_year)]
    use_rates = population is not None and population in rows
    rows = rows.dropna(subset=[count, population] if use_rates else [count])
    exposure = rows[population].to_numpy(dtype=float) if use_rates else None
    return trend(rows["year"].astype(int).to_numpy(), rows[count].to_numpy(dtype=float), exposure, family)


# Funnel plot: comparing areas, over-dispersion aware ----------------------------------------------------------

FUNNEL_METHODS = ("additive", "multiplicative")
_FLAGS = {1: "above", -1: "below", 0: "within"}


def funnel_limits(population, target_rate: float, level: float = 0.998, per: float = 1000):
    """Exact Poisson control limits of a rate around a target, for a given population size.

    For a population ``n`` and a target rate ``t`` (per ``per`` inhabitants) the expected count is
    ``m = n * t / per``. The limits are the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of
    Poisson(``m``), interpolated between integers as in Spiegelhalter (2005, *Statistics in Medicine* 24,
    appendix A.1.1) so that they are smooth in ``n``: for the quantile ``p``, with ``r`` the smallest integer
    such that ``F(r) >= p``, the limit is ``r - (F(r) - p) / (F(r) - F(r - 1))``; it is then divided by ``n``.

    Parameters
    ----------
    population : scalar or array-like
        Population sizes (positive).
    target_rate : float
        The rate the areas are compared with (the national rate), per ``per`` inhabitants.
    level : float, default 0.998
        Coverage of the limits (0.95 and 0.998 are customary: about 2 and 3 standard deviations).
    per : float, default 1000

    Returns
    -------
    tuple
        ``(low, high)`` rates per ``per`` inhabitants (floats for a scalar population, arrays otherwise).

    Raises
    ------
    ValueError
        For a non-positive population or target, or a level outside (0, 1).

    Examples
    --------
    >>> low, high = funnel_limits(100_000, 1.0, level=0.95)  # 100 expected events
    >>> round(low, 4), round(high, 4)
    (0.8037, 1.1958)
    """
    level = _check_level(level)
    n = np.asarray(population, dtype=float)
    if np.any(~(n > 0)):
        raise ValueError("population sizes must be positive")
    if not target_rate > 0:
        raise ValueError(f"the target rate must be positive, got {target_rate!r}")
    mean = n * target_rate / per
    bounds = []
    for p in ((1 - level) / 2, (1 + level) / 2):
        r = stats.poisson.ppf(p, mean)
        f_r = stats.poisson.cdf(r, mean)
        f_r1 = stats.poisson.cdf(r - 1, mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
        limit = np.maximum(r - alpha, 0.0) * per / n
        bounds.append(float(limit) if limit.ndim == 0 else limit)
    return bounds[0], bounds[1]


def winsor_consistency(winsor: float) -> float:
    """``E[clip(Z, -q, q)^2]`` for a standard normal ``Z`` clipped at its ``winsor`` quantiles ``±q``.

    Winsorising shrinks the mean square of normal z-scores (to 0.68 at 10 %): dividing by this factor makes the
    winsorised estimate consistent for the variance whatever the fraction, as 1.4826 does for the MAD.
    """
    if winsor == 0:
        return 1.0
    q = stats.norm.ppf(1 - winsor)
    return float((1 - 2 * winsor) - 2 * q * stats.norm.pdf(q) + 2 * winsor * q**2)


def winsorised_phi(z, winsor: float = 0.1, consistency: bool = False) -> float:
    """Over-dispersion factor: the mean of the squared z-scores winsorised at ``winsor`` (Spiegelhalter 2005).

    The z-scores below the ``winsor`` quantile are set to it and those above ``1 - winsor`` likewise, so that the
    few areas under suspicion do not inflate the estimate; ``phi = mean(z_w ** 2)`` is the published estimator
    (Spiegelhalter 2005, *Qual Saf Health Care* 14:347-351, section "Estimating over-dispersion"). It estimates
    only part of the variance of normal z-scores (0.68 of it at 10 % winsorising, 0.80 at 5 %, 0.52 at 20 %):
    with ``consistency=True`` the mean is divided by :func:`winsor_consistency`, so that every fraction estimates
    the same ``phi`` (the usual consistency correction of a winsorised variance; Dixon and Tukey 1968,
    *Technometrics* 10:83-98). The letters apply it (``funnel.consistency_factor`` in methods.yml): without it the
    between-area variance is underestimated and about 13 % of ordinary areas fall outside the 95 % limits instead
    of 5 % (tests/test_statistics.py); their sensitivity table shows both estimators. NaN without z-scores.
    """
    values = np.asarray(z, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan")
    if not 0.0 <= winsor < 0.5:
        raise ValueError(f"winsor must lie in [0, 0.5), got {winsor!r}")
    low, high = np.quantile(values, [winsor, 1 - winsor])
    mean_square = float(np.mean(np.clip(values, low, high) ** 2))
    return mean_square / winsor_consistency(winsor) if consistency else mean_square


def _tau2(phi: float, sd: np.ndarray) -> float:
    """Additive between-area variance from ``phi`` (Spiegelhalter 2005, eq. 4; DerSimonian-Laird form)."""
    w = 1.0 / sd**2
    n = sd.size
    denominator = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (n * phi - (n - 1)) / denominator) if denominator > 0 else 0.0


def _funnel_core(counts, pops, target_rate, per, method, phi_winsor, consistency):
    rate = counts / pops * per
    sd = np.sqrt(target_rate * per / pops)  # sd of the rate under Poisson at the target
    z = (rate - target_rate) / sd
    phi = winsorised_phi(z, phi_winsor, consistency)
    tau2 = _tau2(phi, sd) if math.isfinite(phi) else 0.0
    if method == "additive":
        sd_adj = np.sqrt(sd**2 + tau2)
    else:
        sd_adj = sd * math.sqrt(scale_from_dispersion(phi)) if math.isfinite(phi) else sd
    return rate, sd, z, phi, tau2, sd_adj


def funnel(
    counts,
    populations,
    target_rate: float | None = None,
    method: str = "additive",
    winsor: float | None = None,
    per: float | None = None,
    flag_level: float | None = None,
    consistency: bool | None = None,
) -> pd.DataFrame:
    """Funnel-plot comparison of areas' rates with a target, adjusted for over-dispersion.

    Areas differ in their recorded rates far more than Poisson chance allows (recording practices, services,
    population structure): exact Poisson limits then flag most large areas. Following Spiegelhalter (2005,
    "Handling over-dispersion of performance indicators", *Qual Saf Health Care* 14:347-351):

    1. z-scores ``z = (rate - target) / s`` with ``s = sqrt(target * per / population)`` the Poisson sd;
    2. ``phi``: mean of the squared z-scores winsorised at ``winsor`` (:func:`winsorised_phi`; divided by the
       winsorised normal moment when ``consistency``);
    3. ``method="additive"`` (default): between-area variance ``tau2 = max(0, (I phi - (I - 1)) /
       (sum w - sum w^2 / sum w))``, ``w = 1 / s^2``, and ``z_adj = (rate - target) / sqrt(s^2 + tau2)``:
       large areas are no longer flagged for small relative gaps. ``method="multiplicative"``: ``z_adj = z /
       sqrt(phi)``.
    4. When ``phi <= 1`` (and so ``tau2 = 0``) Poisson is not contradicted: the limits are the exact Poisson
       ones (:func:`funnel_limits`) and the flags follow them.

    The winsorising fraction and the consistency factor are tuning choices: the result's
    ``attrs["sensitivity"]`` gives ``phi``, ``tau2`` and the areas flagged for every pair of them declared in
    methods.yml (``funnel.sensitivity``) so that a letter says whether its list of outliers depends on them.

    Parameters
    ----------
    counts, populations : array-like or Series
        One value per area (a Series keeps its index in the result); areas missing either are dropped.
    target_rate : float, optional
        Per ``per`` inhabitants; default the pooled rate ``sum(counts) / sum(populations) * per``.
    method : {"additive", "multiplicative"}, default "additive"
    winsor : float, optional
        Default: ``funnel.winsorising`` of methods.yml.
    per : float, optional
        Default: ``rate_per`` of methods.yml.
    flag_level : float, optional
        Coverage of the limits that ``flag`` reads (``flag_95`` and ``flag_998`` are always given); default
        ``funnel.flag_level`` of methods.yml.
    consistency : bool, optional
        Divide ``phi`` by the winsorised normal moment; default ``funnel.consistency_factor`` of methods.yml.

    Returns
    -------
    DataFrame
        One row per area: ``count, population, rate, expected, z, z_adj, p_adj`` (two-sided, from ``z_adj``),
        ``lower95, upper95, lower998, upper998`` (the over-dispersion-adjusted limits, rates per ``per``),
        ``lower95_poisson ... upper998_poisson`` (exact Poisson limits), ``flag_95``, ``flag_998`` and ``flag``
        (``"above"``, ``"below"`` or ``"within"`` the adjusted limits), ``flag_poisson`` (exact Poisson limits
        at ``flag_level``). ``attrs``: ``target_rate, method, winsor, phi, tau2, adjusted`` (False when the
        exact Poisson limits were kept) and ``sensitivity`` (a list of dicts, see :func:`funnel_sensitivity`).

    Raises
    ------
    ValueError
        For an unknown method, fewer than three areas, non-positive populations or target.
    """
    m = constants()
    winsor = m.funnel_winsorising if winsor is None else winsor
    per = m.rate_per if per is None else per
    flag_level = m.funnel_flag_level if flag_level is None else flag_level
    consistency = m.funnel_consistency_factor if consistency is None else consistency
    if method not in FUNNEL_METHODS:
        raise ValueError(f"method must be one of {FUNNEL_METHODS}, got {method!r}")
    index = counts.index if isinstance(counts, pd.Series) else None
    table = pd.DataFrame(
        {"count": np.asarray(counts, dtype=float), "population": np.asarray(populations, dtype=float)},
        index=index,
    ).dropna()
    if len(table) < 3:
        raise ValueError(f"funnel: at least three areas are needed, got {len(table)}")
    c, n = table["count"].to_numpy(), table["population"].to_numpy()
    if np.any(n <= 0) or np.any(c < 0):
        raise ValueError("funnel: populations must be positive and counts non-negative")
    if target_rate is None:
        target_rate = float(c.sum() / n.sum() * per)
    rate, sd, z, phi, tau2, sd_adj = _funnel_core(c, n, target_rate, per, method, winsor, consistency)
    adjusted = math.isfinite(phi) and phi > 1.0
    table["rate"] = rate
    table["expected"] = n * target_rate / per
    table["z"] = z
    table["z_adj"] = (rate - target_rate) / sd_adj if adjusted else z
    table["p_adj"] = 2 * stats.norm.sf(np.abs(table["z_adj"]))
    for level, tag in ((0.95, "95"), (0.998, "998")):
        low_p, high_p = funnel_limits(n, target_rate, level, per)
        half = stats.norm.ppf(0.5 + level / 2) * sd_adj
        low, high = (np.maximum(target_rate - half, 0.0), target_rate + half) if adjusted else (low_p, high_p)
        table[f"lower{tag}"], table[f"upper{tag}"] = low, high
        table[f"lower{tag}_poisson"], table[f"upper{tag}_poisson"] = low_p, high_p
        table[f"flag_{tag}"] = _flag(rate, low, high)
        table[f"flag_{tag}_poisson"] = _flag(rate, low_p, high_p)
    tag = {0.95: "95", 0.998: "998"}.get(flag_level)
    if tag is None:
        raise ValueError(f"flag_level must be 0.95 or 0.998, got {flag_level!r}")
    table["flag"] = table[f"flag_{tag}"]
    table["flag_poisson"] = table[f"flag_{tag}_poisson"]
    table.attrs.update(
        target_rate=float(target_rate),
        method=method,
        winsor=float(winsor),
        consistency=bool(consistency),
        phi=float(phi),
        tau2=float(tau2) if adjusted else 0.0,
        adjusted=bool(adjusted),
        flag_level=float(flag_level),
        sensitivity=_sensitivity(c, n, target_rate, per, method, flag_level, table.index),
    )
    return table


def _flag(rate, low, high) -> np.ndarray:
    side = np.where(rate > high, 1, np.where(rate < low, -1, 0))
    return np.vectorize(_FLAGS.get, otypes=[object])(side).astype(str)


def _sensitivity(c, n, target_rate, per, method, flag_level, index) -> list[dict]:
    m = constants()
    zq = stats.norm.ppf(0.5 + flag_level / 2)
    rows = []
    for factor in m.sensitivity_consistency_factor:
        for w in m.sensitivity_winsorising:
            rows.append(_sensitivity_row(c, n, target_rate, per, method, w, factor, flag_level, zq, index))
    return rows


def _sensitivity_row(c, n, target_rate, per, method, w, factor, flag_level, zq, index) -> dict:
    rate, _, _, phi, tau2, sd_adj = _funnel_core(c, n, target_rate, per, method, w, factor)
    if math.isfinite(phi) and phi > 1.0:
        z_adj = (rate - target_rate) / sd_adj
        above, below = z_adj > zq, z_adj < -zq
    else:
        low, high = funnel_limits(n, target_rate, flag_level, per)
        above, below = rate > high, rate < low
    return {
        "winsor": w,
        "consistency": bool(factor),
        "phi": float(phi),
        "tau2": float(tau2) if phi > 1.0 else 0.0,
        "n_above": int(above.sum()),
        "n_below": int(below.sum()),
        "above": tuple(str(i) for i in index[above]),
        "below": tuple(str(i) for i in index[below]),
    }


def funnel_sensitivity(result: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity of a :func:`funnel` result to its tuning (winsorising fraction, consistency factor).

    Returns
    -------
    DataFrame
        One row per pair declared in methods.yml: ``winsor, consistency, phi, tau2, n_above, n_below, above,
        below`` (the areas' index labels, comma-separated), ``main`` (True for the pair the result used) and
        ``same_as_main`` (True when the flagged areas equal those of the result).
    """
    rows = pd.DataFrame(result.attrs["sensitivity"])
    rows["main"] = [
        math.isclose(w, result.attrs["winsor"]) and c == result.attrs["consistency"]
        for w, c in zip(rows["winsor"], rows["consistency"], strict=True)
    ]
    main_above = tuple(str(i) for i in result.index[result["flag"] == "above"])
    main_below = tuple(str(i) for i in result.index[result["flag"] == "below"])
    rows["same_as_main"] = [
        a == main_above and b == main_below for a, b in zip(rows["above"], rows["below"], strict=True)
    ]
    rows["above"] = rows["above"].map(", ".join)
    rows["below"] = rows["below"].map(", ".join)
    return rows


# Both answers side by side -------------------------------------------------------------------------------------


def both_answers(results: dict) -> pd.DataFrame:
    """The plain Poisson and the over-dispersion-aware verdicts of several tests, one row each, for a notebook.

    Parameters
    ----------
    results : dict
        Label -> :class:`ChangeTest` or :class:`TrendResult` (None entries are skipped).

    Returns
    -------
    DataFrame
        Columns ``mesure, estimation`` (relative change, a fraction), ``p_poisson, poisson``
        ("significatif" / "non significatif"), ``methode`` (French), ``dispersion``, ``p, verdict`` (the answer
        a claim may rest on).
    """

    def verdict(flag: bool) -> str:
        return "significatif" if flag else "non significatif"

    rows = []
    for label, r in results.items():
        if r is None:
            continue
        is_trend = isinstance(r, TrendResult)
        rows.append(
            {
                "mesure": label,
                "estimation": r.annual_change if is_trend else r.change,
                "p_poisson": r.p_value_poisson,
                "poisson": verdict(r.significant_poisson),
                "methode": r.method_fr if not r.reason else "",
                "dispersion": r.dispersion,
                "p": r.p_value,
                "verdict": verdict(r.significant) if not r.reason else r.reason,
            }
        )
    columns = ["mesure", "estimation", "p_poisson", "poisson", "methode", "dispersion", "p", "verdict"]
    return pd.DataFrame(rows, columns=columns)
