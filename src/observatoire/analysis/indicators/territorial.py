"""The territorial letters: one département or one région, its series, its place among its peers, its région.

A territorial letter (theme ``territoire``) is built once per territory: the 101 départements and the 18 régions.
Everything a letter needs is computed here from the national tables, loaded once (parse cache), so one letter
costs a few hundred milliseconds of computation on top of the kernel.

Choices, and why:

* **Territory parameter.** A département is its code as in the geography reference (``"29"``, ``"2A"``,
  ``"974"``; ``"dep-29"`` is accepted), a région is ``"reg-"`` and its code (``"reg-53"``): département and
  région codes overlap (``"53"`` is both the Mayenne and Bretagne), so a bare code is always a département.
  :func:`parse` is pure Python, so the build can validate the parameter without loading any data.
* **Counts.** SSMSI départemental base (one edition, never spliced with another); a région is the sum of its
  départements, France the sum of the 101 départements (the few un-localised victims are not in any territory,
  so France here is the sum of the territories; the national letter's total includes them). The tests check every
  région's sums against SSMSI's regional base.
* **Denominators.** INSEE's estimates of the population on 1 January (``insee_pop_gca``), as the thematic letters:
  SSMSI's own ``insee_pop`` stops at the 2022 census and is frozen for Mayotte.
* **Overdispersion.** Yearly counts of a territory vary more than Poisson. The dispersion ``phi`` of the
  territory's log-linear trend (Pearson chi2 / df of the Poisson fit, at least 1) widens the rate intervals (on the
  log scale) and the test of the change on the year (quasi-Poisson Wald test of the ratio of the two counts);
  the trend itself is a negative binomial GLM when over-dispersed (``observatoire.analysis.statistics.trend``). A change
  or a trend is called significant at the 5 % level, as in the annual letter.
* **Place among the peers.** Rank of the rate among the 101 départements (or 18 régions), 1 = highest rate, and the
  funnel plot of :func:`observatoire.analysis.indicators.territories.funnel` around France's rate with limits widened by
  the between-territory over-dispersion (Spiegelhalter 2005): "au-dessus" or "en dessous" only outside the widened
  95 % limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from observatoire.analysis.indicators.recorded import value_for

#: The parameter's prefixes: a région is always prefixed; a département may be.
REGION_PREFIX = "reg-"
DEPARTEMENT_PREFIX = "dep-"
FRANCE = "FR"
#: The value of a column in one year, or None (never a neighbouring year's): the national letters' rule.
value_at = value_for
#: Below this count a rate's 95 % interval is wider than about +/-20 %: the letter says "petit effectif".
SMALL_COUNT = 100
LEVEL = 0.95


# The territory parameter ---------------------------------------------------------------------------------------


def parse(value: object) -> tuple[str, str]:
    """``(level, code)`` of a territory parameter: ``"29"`` -> ``("departement", "29")``, ``"reg-53"`` -> région.

    Raises
    ------
    ValueError
        For a value that is not one of the 101 départements or 18 régions (the message lists the accepted forms).
    """
    from observatoire.data.geography import DEPARTEMENTS, REGIONS

    text = str(value).strip()
    lowered = text.lower()
    if lowered.startswith(REGION_PREFIX):
        level, code = "region", text[len(REGION_PREFIX) :]
        known = REGIONS
    else:
        level, code = "departement", text[len(DEPARTEMENT_PREFIX) :] if lowered.startswith("dep-") else text
        known = DEPARTEMENTS
    code = code.upper()
    if code.isdigit() and len(code) == 1:  # YAML reads TERRITOIRE=01 as the number 1
        code = "0" + code
    if code not in known:
        raise ValueError(
            f"unknown territory {text!r}: a département code (01 ... 95, 2A, 2B, 971 ... 976, optionally "
            f"'dep-29') or a région as 'reg-' and its code (reg-11 ... reg-94, reg-01 ... reg-06)"
        )
    return level, code


def canonical(value: object) -> str:
    """The one spelling of a territory parameter: ``"29"``, ``"2A"``, ``"974"``, ``"reg-53"``."""
    level, code = parse(value)
    return code if level == "departement" else REGION_PREFIX + code


def all_territories() -> list[str]:
    """The 119 parameter values: the 101 départements, then the 18 régions (geography reference order)."""
    from observatoire.data.geography import DEPARTEMENTS, REGIONS

    return list(DEPARTEMENTS) + [REGION_PREFIX + code for code in REGIONS]


@dataclass(frozen=True)
class Territory:
    """One territory of a letter, resolved against the geography reference.

    Attributes
    ----------
    parameter : str
        Canonical parameter value (``"29"``, ``"reg-53"``).
    level : str
        ``"departement"`` or ``"region"``.
    code, name : str
        INSEE code and name.
    region_code, region_name : str
        Its région (itself for a région).
    members : tuple of str
        Département codes it covers (itself for a département).
    overseas : bool
        An overseas département or région.
    """

    parameter: str
    level: str
    code: str
    name: str
    region_code: str
    region_name: str
    members: tuple[str, ...]
    overseas: bool

    @property
    def is_region(self) -> bool:
        return self.level == "region"

    @property
    def area(self) -> str:
        """Code of the territory in the area tables (``"29"``, ``"R53"``)."""
        return area_code(self.level, self.code)

    @property
    def label(self) -> str:
        """``"Finistère (29)"``, ``"Bretagne (région 53)"``."""
        return f"{self.name} ({'région ' if self.is_region else ''}{self.code})"


def area_code(level: str, code: str) -> str:
    """Départements keep their code; régions get ``R`` + code (``"R53"``) so that both live in one table."""
    return code if level == "departement" else "R" + code


def resolve(value: object, geography: pd.DataFrame) -> Territory:
    """Resolve a territory parameter against the reference (``observatoire.data.datasets.geography()``).

    Raises
    ------
    ValueError
        Unknown territory (see :func:`parse`).
    """
    level, code = parse(value)
    if level == "departement":
        row = geography.loc[geography["code_departement"] == code].iloc[0]
        return Territory(
            canonical(value),
            level,
            code,
            str(row["nom_departement"]),
            str(row["code_region"]),
            str(row["nom_region"]),
            (code,),
            bool(row["is_overseas"]),
        )
    rows = geography.loc[geography["code_region"] == code]
    return Territory(
        canonical(value),
        level,
        code,
        str(rows["nom_region"].iloc[0]),
        code,
        str(rows["nom_region"].iloc[0]),
        tuple(rows["code_departement"]),
        bool(rows["is_overseas"].all()),
    )


# Area tables ----------------------------------------------------------------------------------------------------


def area_table(counts: pd.DataFrame, populations: pd.DataFrame, geography: pd.DataFrame) -> pd.DataFrame:
    """Counts and populations of every département, région and France, by year.

    Parameters
    ----------
    counts : DataFrame
        ``geo_code, year, count`` by département (``territories.counts_by_departement``).
    populations : DataFrame
        ``geo_code, year, population`` by département (``territories.population_by_departement``).
    geography : DataFrame
        The reference (``datasets.geography()``).

    Returns
    -------
    DataFrame
        ``level, code, area, name, year, count, population`` with ``level`` in ``departement``, ``region``,
        ``france``. A sum is missing for a year where one of its départements is missing (a partial sum would be
        another territory): Mayotte before 2014 leaves its région and France without a population.
    """
    deps = counts.merge(populations, on=["geo_code", "year"], how="left")
    deps = deps.merge(
        geography[["code_departement", "nom_departement", "code_region", "nom_region"]],
        left_on="geo_code",
        right_on="code_departement",
        how="left",
    )
    n_members = geography.groupby("code_region").size()
    parts = [
        pd.DataFrame(
            {
                "level": "departement",
                "code": deps["geo_code"],
                "name": deps["nom_departement"],
                "year": deps["year"],
                "count": deps["count"],
                "population": deps["population"],
            }
        )
    ]
    regions = _complete_sums(deps, ["code_region", "year"], deps["code_region"].map(n_members))
    names = geography.drop_duplicates("code_region").set_index("code_region")["nom_region"]
    parts.append(
        pd.DataFrame(
            {
                "level": "region",
                "code": regions["code_region"],
                "name": regions["code_region"].map(names),
                "year": regions["year"],
                "count": regions["count"],
                "population": regions["population"],
            }
        )
    )
    deps["_all"] = FRANCE
    france = _complete_sums(deps, ["_all", "year"], pd.Series(len(geography), index=deps.index))
    parts.append(
        pd.DataFrame(
            {
                "level": "france",
                "code": FRANCE,
                "name": "France",
                "year": france["year"],
                "count": france["count"],
                "population": france["population"],
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    out.insert(
        2,
        "area",
        [
            area_code(lv, c) if lv != "france" else FRANCE
            for lv, c in zip(out["level"], out["code"], strict=False)
        ],
    )
    return out.sort_values(["level", "code", "year"], kind="stable").reset_index(drop=True)


def _complete_sums(df: pd.DataFrame, keys: list[str], expected: pd.Series) -> pd.DataFrame:
    """Sums of count and population by ``keys``, missing where a member is missing or absent."""
    work = df.assign(_expected=expected.to_numpy())
    grouped = work.groupby(keys)
    sums = grouped[["count", "population"]].sum(min_count=1)
    present = grouped[["count", "population"]].count()
    expected_n = grouped["_expected"].first()
    sums = sums.where(present.ge(expected_n, axis=0))
    return sums.reset_index()


# Statistics of one area -----------------------------------------------------------------------------------------


def dispersion(series: pd.DataFrame) -> float:
    """Overdispersion factor of an area's yearly counts: Pearson dispersion of its log-linear trend, at least 1.

    1 when it cannot be estimated (fewer than four years): intervals are then exact Poisson ones.
    """
    from observatoire.analysis.statistics import trend

    ok = series.dropna(subset=["count", "population"])
    if len(ok) < 4:
        return 1.0
    result = trend(ok["year"], ok["count"], exposure=ok["population"], family="poisson")
    phi = result.dispersion
    return float(max(phi, 1.0)) if math.isfinite(phi) else 1.0


def add_intervals(series: pd.DataFrame, phi: float, per: float = 1000, level: float = LEVEL) -> pd.DataFrame:
    """Rates with intervals widened for overdispersion.

    The exact Poisson interval of each count is widened on the log scale by ``sqrt(phi)``:
    ``low = rate * (low_poisson / rate) ** sqrt(phi)`` (likewise ``high``); with ``phi = 1`` it is the exact
    interval.

    Returns
    -------
    DataFrame
        A copy with ``rate, rate_low, rate_high, small_count`` (count below :data:`SMALL_COUNT`).
    """
    from observatoire.analysis.statistics import add_rates

    out = add_rates(series, count="count", population="population", per=per, level=level, small=SMALL_COUNT)
    widen = math.sqrt(max(phi, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        low = out["rate"] * (out["rate_low"] / out["rate"]) ** widen
        high = out["rate"] * (out["rate_high"] / out["rate"]) ** widen
    out["rate_low"] = low.where(out["rate"] > 0, out["rate_low"])
    out["rate_high"] = high.where(out["rate"] > 0, out["rate_high"])
    return out


@dataclass(frozen=True)
class Change:
    """Change of a count on the previous year with a quasi-Poisson test (see :func:`change_test`)."""

    previous: float
    current: float
    change: float
    low: float
    high: float
    p_value: float
    phi: float
    significant: bool


def change_test(
    previous: float | None, current: float | None, phi: float, level: float = LEVEL
) -> Change | None:
    """Quasi-Poisson Wald test of the ratio of two yearly counts.

    ``log(c1 / c0)`` has variance ``phi * (1 / c0 + 1 / c1)``: the Poisson variance inflated by the area's
    dispersion. None when a count is missing or zero.
    """
    if previous is None or current is None or not previous > 0 or not current > 0:
        return None
    log_ratio = math.log(current / previous)
    se = math.sqrt(max(phi, 1.0) * (1 / previous + 1 / current))
    z = sps.norm.ppf((1 + level) / 2)
    p_value = float(2 * sps.norm.sf(abs(log_ratio) / se))
    return Change(
        float(previous),
        float(current),
        current / previous - 1,
        math.exp(log_ratio - z * se) - 1,
        math.exp(log_ratio + z * se) - 1,
        p_value,
        float(max(phi, 1.0)),
        p_value < 1 - level,
    )


def series_of(table: pd.DataFrame, area: str, last_year: int) -> pd.DataFrame:
    """One area's years up to ``last_year``, with rates and overdispersion-widened intervals (attrs ``phi``)."""
    rows = table[(table["area"] == area) & (table["year"] <= int(last_year))].sort_values("year")
    phi = dispersion(rows)
    out = add_intervals(rows.reset_index(drop=True), phi)
    out.attrs["phi"] = phi
    return out


def trend_of(series: pd.DataFrame, last_year: int):
    """Trend of the rate over the series' years up to ``last_year`` (``statistics.trend``, family auto)."""
    from observatoire.analysis.statistics import trend

    ok = series[(series["year"] <= int(last_year))].dropna(subset=["count"])
    exposure = ok["population"] if ok["population"].notna().all() else None
    return trend(ok["year"], ok["count"], exposure=exposure, family="auto", level=LEVEL)


def peers(table: pd.DataFrame, level: str, year: int) -> pd.DataFrame:
    """The areas of one level in ``year`` with a rate, ranked (1 = highest rate; ties share the better rank)."""
    rows = table[(table["level"] == level) & (table["year"] == int(year))].dropna(
        subset=["count", "population"]
    )
    rows = rows.assign(rate=rows["count"] / rows["population"] * 1000)
    rows["rank"] = rows["rate"].rank(ascending=False, method="min").astype(int)
    return rows.sort_values(["rank", "code"], kind="stable").reset_index(drop=True)


def funnel_of(ranked: pd.DataFrame, france_rate: float):
    """The funnel table of the peers around France's rate (``territories.funnel``, limits 95 % and 99,8 %)."""
    from observatoire.analysis.indicators.territories import funnel

    return funnel(ranked[["area", "name", "code", "count", "population"]], target_rate=france_rate)


def funnel_position(result, area: str) -> str:
    """``"au-dessus"``, ``"en dessous"`` or ``"dans les limites"`` of the widened 95 % limits."""
    row = result.table.loc[result.table["area"] == area]
    if row.empty:
        return ""
    side = str(row["outside_adj_95"].iloc[0])
    return side or "dans les limites"


# Figures ----------------------------------------------------------------------------------------------------------


def series_figure(panels: dict[str, pd.DataFrame], titles: dict[str, str]):
    """Rates per 1 000 inhabitants by year: one panel per indicator, one line per area (the territory with its
    interval band).

    Parameters
    ----------
    panels : dict
        Indicator key -> long table ``area_label, role, year, rate, rate_low, rate_high`` (``role`` "territoire",
        "region", "france").
    titles : dict
        Indicator key -> panel title.
    """
    import matplotlib.pyplot as plt

    from observatoire.outputs import charts

    charts.apply_style()
    colours = {"territoire": charts.PALETTE[1], "region": charts.PALETTE[0], "france": charts.GREY}
    styles = {"territoire": "-", "region": "--", "france": ":"}
    fig, axes = plt.subplots(
        1, len(panels), figsize=(charts.FIG_WIDTH, 3.0), layout="constrained", sharey=False
    )
    for ax, (key, data) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        for role in ("france", "region", "territoire"):
            part = data[data["role"] == role].sort_values("year")
            if part.empty:
                continue
            if role == "territoire":
                ax.fill_between(
                    part["year"],
                    part["rate_low"],
                    part["rate_high"],
                    color=colours[role],
                    alpha=0.2,
                    linewidth=0,
                )
            ax.plot(
                part["year"],
                part["rate"],
                styles[role],
                color=colours[role],
                label=part["area_label"].iloc[0],
                marker="o",
                markersize=2.5,
            )
        if data["rate"].notna().sum() == 0:
            charts.mark_not_available(ax)
        ax.set_title(titles[key], fontsize=9)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(charts.french_formatter(None))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, nbins=5))
        ax.grid(axis="y")
    np.atleast_1d(axes)[0].set_ylabel("Victimes pour 1\u202f000 habitants")
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    np.atleast_1d(axes)[0].legend(handles[::-1], labels[::-1], loc="lower left", fontsize=7)
    return fig


def funnel_figure(results: dict, highlight: str, titles: dict[str, str], per: float = 1000):
    """Funnel plots (one panel per indicator): the peers' rates against their population, the territory highlighted.

    Grey dashed: 95 % limits widened by the overdispersion; grey solid: 99,8 % widened limits (the limits the
    territory's place is read against: ``territories.result_curve``); black: France's rate.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from observatoire.analysis.indicators.territories import result_curve
    from observatoire.outputs import charts

    charts.apply_style()
    fig = plt.figure(figsize=(charts.FIG_WIDTH, 3.5), layout="constrained")
    # A row of its own for the legend: above the panels' titles, inside the figure (the export draws the
    # letter's title above the figure and the source below it).
    grid = fig.add_gridspec(2, len(results), height_ratios=[0.1, 1])
    legend_ax = fig.add_subplot(grid[0, :])
    legend_ax.set_axis_off()
    axes = [fig.add_subplot(grid[1, i]) for i in range(len(results))]
    for ax, (key, result) in zip(axes, results.items(), strict=True):
        table = result.table
        curve = result_curve(result, per)
        # The limits the flags follow: widened by the between-area variance when over-dispersed, else Poisson.
        low, high = ("low_adj", "high_adj") if "high_adj" in curve else ("low", "high")
        for level, part in curve.groupby("level"):
            style = "--" if level < 0.99 else "-"
            ax.plot(part["population"], part[low], style, color=charts.GREY, linewidth=0.8)
            ax.plot(part["population"], part[high], style, color=charts.GREY, linewidth=0.8)
        ax.axhline(result.target_rate, color="black", linewidth=0.8)
        others = table[table["area"] != highlight]
        ax.scatter(
            others["population"],
            others["rate"],
            s=10,
            color=charts.PALETTE[0],
            alpha=0.7,
            linewidths=0,
            zorder=3,
        )
        mine = table[table["area"] == highlight]
        ax.scatter(
            mine["population"],
            mine["rate"],
            s=36,
            color=charts.PALETTE[1],
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
        )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(charts.french_formatter(0))
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.yaxis.set_major_formatter(charts.french_formatter(None))
        ax.set_ylim(bottom=0)
        ax.set_title(titles[key], fontsize=9)
        ax.set_xlabel("Population (échelle logarithmique)", fontsize=8)
    axes[0].set_ylabel("Victimes pour 1\u202f000 habitants")
    handles = [
        Line2D([], [], color=charts.PALETTE[1], marker="o", markeredgecolor="black", linestyle=""),
        Line2D([], [], color=charts.PALETTE[0], marker="o", linestyle=""),
        Line2D([], [], color="black", linewidth=0.8),
        Line2D([], [], color=charts.GREY, linestyle="--", linewidth=0.8),
        Line2D([], [], color=charts.GREY, linestyle="-", linewidth=0.8),
    ]
    labels = ["Le territoire", "Les autres", "Taux France", "Limites à 95\u202f%", "Limites à 99,8\u202f%"]
    legend_ax.legend(handles, labels, loc="center", ncols=5, fontsize=7)
    return fig
