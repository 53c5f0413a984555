"""Charts specific to the letters' sections (the generic ones are in :mod:`observatoire.outputs.charts`).

Each function returns a matplotlib Figure in the letter's style (``charts.apply_style``, Okabe-Ito palette,
French number formatting); the notebook then exports it with ``ctx.save_figure`` (title, source, alt text,
note, data). Nothing here computes a figure of the letter: the data come ready from the section modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from observatoire.analysis.indicators import homicides, surveys
from observatoire.analysis.indicators.territories import FunnelResult, _level_tag, result_curve
from observatoire.outputs import charts

_YEAR_FMT = plt.FuncFormatter(lambda x, pos=None: f"{x:.0f}")


def deaths_chart(table: pd.DataFrame, break_year: int, label: Callable[[str], str]) -> Figure:
    """Deaths within the couple by sex, with the scope break and the overlap figures as open markers.

    Parameters
    ----------
    table : DataFrame
        From :func:`observatoire.analysis.indicators.homicides.deaths_table`.
    break_year : int
        First year of the new scope (2016).
    label : callable
        The chart's words in the letter's language (``OutputWords.label``): each sex of the table, ``break`` (the
        break marker) and ``overlap`` (the legend of the open markers).
    """
    main = table.loc[table["serie"] == homicides.MAIN_SERIES]
    order = [s for s in homicides.SEXES if s in set(main["sexe"])]
    fig = charts.line_chart(
        main.assign(sexe=main["sexe"].map(label)),
        x="annee",
        y="victimes",
        hue="sexe",
        hue_order=[label(s) for s in order],
        break_year=break_year,
        break_label=label("break"),
        decimals=0,
    )
    ax = fig.axes[0]
    colours = {s: charts.PALETTE[i] for i, s in enumerate(order)}
    overlap = table.loc[table["serie"] != homicides.MAIN_SERIES]
    for _, r in overlap.iterrows():
        if r["sexe"] not in colours:
            continue
        ax.plot(
            [r["annee"]],
            [r["victimes"]],
            marker="o",
            markersize=5,
            markerfacecolor="white",
            markeredgecolor=colours[r["sexe"]],
            linestyle="none",
            zorder=4,
        )
    if not overlap.empty:
        handles, labels = ax.get_legend_handles_labels()
        handles.append(
            Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor=charts.GREY, linestyle="none")
        )
        labels.append(label("overlap"))
        ax.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncols=4,
            frameon=False,
            borderaxespad=0.2,
        )
    return fig


def survey_chart(
    data: pd.DataFrame, cvs_last: int | None, vrs_first: int | None, label: Callable[[str], str]
) -> Figure:
    """Survey estimates as points (one marker per survey, no line), one panel per theme.

    Parameters
    ----------
    data : DataFrame
        From :func:`observatoire.analysis.indicators.surveys.chart_data`: ``theme, enquete, sexe, year, milliers``.
    cvs_last, vrs_first : int or None
        Last CVS year and first VRS year: a dashed line between them marks the change of survey.
    label : callable
        The chart's words in the letter's language (``OutputWords.label``): each theme (panel titles), ``ylabel``,
        ``cvs`` (the CVS marker's legend), ``survey_change`` (the words of the line between the surveys) and each
        sex of the data.
    """
    charts.apply_style()
    themes = [surveys.THEME_CONJUGAL, surveys.THEME_SEXUAL]
    fig, axes = plt.subplots(1, 2, figsize=(charts.FIG_WIDTH, 3.6), layout="constrained", sharey=False)
    markers = {"CVS": "o", "VRS": "s"}
    colours = {"Femmes": charts.PALETTE[1], "Ensemble": charts.PALETTE[0]}
    years = data["year"].dropna()
    for ax, theme in zip(axes, themes, strict=True):
        sel = data.loc[data["theme"] == theme]
        for (survey, sex), grp in sel.groupby(["enquete", "sexe"], sort=True):
            ax.scatter(
                grp["year"],
                grp["milliers"],
                marker=markers.get(survey, "D"),
                s=30,
                color=colours.get(sex, charts.GREY),
                zorder=3,
                linewidths=0,
            )
        if cvs_last is not None and vrs_first is not None:
            xb = (cvs_last + vrs_first) / 2
            ax.axvline(xb, color=charts.GREY, linestyle="--", linewidth=1.0)
            ax.text(
                xb,
                0.98,
                " " + label("survey_change"),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=7,
                color=charts.GREY,
                backgroundcolor="white",
            )
        ax.set_title(label(theme), loc="left", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(charts.french_formatter(0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.xaxis.set_major_formatter(_YEAR_FMT)
        if len(years):
            ax.set_xlim(years.min() - 1, years.max() + 1)
        ax.grid(axis="x", visible=False)
        if sel.empty:
            charts.mark_not_available(ax)
    axes[0].set_ylabel(label("ylabel"))
    handles = [
        Line2D([], [], marker="o", color=charts.GREY, linestyle="none", label=label("cvs")),
        Line2D([], [], marker="s", color=charts.GREY, linestyle="none", label="VRS"),
        *(
            Line2D([], [], marker="o", color=c, linestyle="none", label=label(sex))
            for sex, c in colours.items()
        ),
    ]
    # A figure legend in a band reserved at the bottom of the figure: the export draws the title above the
    # figure and the source below it, so the legend must stay inside the figure box, clear of the panels.
    legend = fig.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=4, frameon=False
    )
    legend.set_in_layout(False)
    fig.get_layout_engine().set(rect=(0.0, 0.08, 1.0, 0.92))
    return fig


def protection_chart(
    data: pd.DataFrame,
    families: tuple[str, ...],
    first_year: int,
    last_year: int,
    label: Callable[[str], str] = str,
) -> Figure:
    """Small multiples, one panel per family of measures: points, joined only across consecutive years.

    Parameters
    ----------
    data : DataFrame
        From :func:`observatoire.analysis.indicators.protection.chart_data`: ``famille, mesure, year, value, segment``.
    families : tuple of str
        Panel titles, in order.
    first_year, last_year : int
        Horizontal range (the same on every panel, so that gaps compare).
    label : callable, optional
        The chart's words in the letter's language (``OutputWords.label``): each family and measure.
    """
    charts.apply_style()
    n = len(families)
    cols = 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(charts.FIG_WIDTH, 2.5 * rows), layout="constrained", squeeze=False
    )
    markers = ["o", "s", "^", "D"]
    for ax, family in zip(axes.ravel(), families, strict=False):
        sel = data.loc[data["famille"] == family]
        for i, (measure, grp) in enumerate(sel.groupby("mesure", sort=False)):
            colour = charts.PALETTE[i % len(charts.PALETTE)]
            for _, seg in grp.groupby("segment"):
                ax.plot(
                    seg["year"],
                    seg["value"],
                    color=colour,
                    marker=markers[i % len(markers)],
                    markersize=4,
                    linewidth=1.4 if len(seg) > 1 else 0,
                    label=None,
                )
            ax.plot(
                [], [], color=colour, marker=markers[i % len(markers)], linestyle="none", label=label(measure)
            )
        ax.set_title(label(family), loc="left", fontsize=9)
        ax.set_xlim(first_year - 0.5, last_year + 0.5)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.xaxis.set_major_formatter(_YEAR_FMT)
        ax.yaxis.set_major_formatter(charts.french_formatter(None))
        ax.grid(axis="x", visible=False)
        if sel.empty:
            charts.mark_not_available(ax)
        elif sel["mesure"].nunique() > 1:
            ax.legend(loc="upper left", fontsize=7, frameon=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig


def empty_chart(message: str) -> Figure:
    """A placeholder figure saying that the data are not available (so that the letter still builds)."""
    charts.apply_style()
    fig, ax = plt.subplots(figsize=(charts.FIG_WIDTH, 2.0), layout="constrained")
    ax.set_axis_off()
    ax.text(
        0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=charts.GREY, fontsize=10
    )
    return fig


def national_series_chart(rates: pd.DataFrame, last_year: int, column: str = "count") -> Figure:
    """National counts of the SSMSI base by year (bars), up to ``last_year``."""
    sel = rates.loc[rates["year"] <= last_year, ["year", column]].copy()
    sel["year"] = sel["year"].astype(int)
    return charts.bar_chart(sel, x="year", y=column, decimals=0, value_labels=False)


# The thematic letters' funnel plot and the territorial letters' figures ---------------------------------------


def funnel_figure(
    result: FunnelResult,
    words: Mapping[str, str],
    label: str = "area",
    highlight: str = "is_overseas",
    per: float = 1000,
):
    """Draw the funnel plot: rates against population (log scale) with the control limits around the target.

    ``words`` are the chart's words in the letter's language (the labels of the figure's metadata): ``xlabel``,
    ``ylabel``, and the legend's ``metropole``, ``overseas``, ``target``, ``limits_95``, ``limits_998``,
    ``limits_adjusted``.

    Grey dashed: exact Poisson 95 % limits; grey solid: 99.8 %; black dotted: 99.8 % limits widened by the
    between-area variance (drawn when the counts are over-dispersed). Overseas départements in vermillion. Points outside the widened 99.8 % limits are
    labelled.

    Returns
    -------
    matplotlib.figure.Figure
    """
    charts.apply_style()
    table = result.table
    curve = result_curve(result, per)
    fig, ax = plt.subplots(figsize=(charts.FIG_WIDTH, 4.6), layout="constrained")
    styles = {
        0.95: dict(color=charts.GREY, linestyle="--", linewidth=0.9),
        0.998: dict(color=charts.GREY, linestyle="-", linewidth=0.9),
    }
    for level, part in curve.groupby("level"):
        style = styles.get(level, dict(color=charts.GREY, linewidth=0.8))
        ax.plot(part["population"], part["low"], **style)
        ax.plot(part["population"], part["high"], **style)
        if level == max(result.levels) and "high_adj" in part:
            ax.plot(part["population"], part["low_adj"], color="black", linestyle=":", linewidth=1.0)
            ax.plot(part["population"], part["high_adj"], color="black", linestyle=":", linewidth=1.0)
    ax.axhline(result.target_rate, color="black", linewidth=0.8)
    colours = np.where(table[highlight].fillna(False).astype(bool), charts.PALETTE[1], charts.PALETTE[0])
    ax.scatter(table["population"], table["rate"], c=colours, s=14, zorder=3, linewidths=0)
    tag = _level_tag(max(result.levels))
    flagged = table[table[f"outside_adj_{tag}"] != ""]
    for _, row in flagged.iterrows():
        ax.annotate(
            str(row[label]),
            (row["population"], row["rate"]),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=6.5,
            color="#333333",
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(charts.french_formatter(0))
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.yaxis.set_major_formatter(charts.french_formatter(None))
    ax.set_xlabel(words["xlabel"])
    ax.set_ylabel(words["ylabel"])
    ax.set_ylim(bottom=0)
    handles = [
        Line2D([], [], color=charts.PALETTE[0], marker="o", linestyle="", markersize=4),
        Line2D([], [], color=charts.PALETTE[1], marker="o", linestyle="", markersize=4),
        Line2D([], [], color="black", linewidth=0.8),
        Line2D([], [], **styles[0.95]),
        Line2D([], [], **styles[0.998]),
        Line2D([], [], color="black", linestyle=":", linewidth=1.0),
    ]
    labels = [
        words[key]
        for key in ("metropole", "overseas", "target", "limits_95", "limits_998", "limits_adjusted")
    ]
    # Anchored to the axes, above them (as observatoire.outputs.charts does): a figure legend would be re-placed over the
    # title by the tight bounding box of the export.
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncols=3,
        frameon=False,
        borderaxespad=0.2,
    )
    return fig


def territory_series_figure(panels: dict[str, pd.DataFrame], words: Mapping[str, str]):
    """Rates per 1 000 inhabitants by year: one panel per indicator, one line per area (the territory with its
    interval band).

    Parameters
    ----------
    panels : dict
        Indicator key -> long table ``area_label, role, year, rate, rate_low, rate_high`` (``role`` "territoire",
        "region", "france"); ``area_label`` is the legend's text.
    words : mapping
        The chart's words in the letter's language: each indicator key -> its panel title, and ``ylabel``.
    """
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
        ax.set_title(words[key], fontsize=9)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(charts.french_formatter(None))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, nbins=5))
        ax.grid(axis="y")
    np.atleast_1d(axes)[0].set_ylabel(words["ylabel"])
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    np.atleast_1d(axes)[0].legend(handles[::-1], labels[::-1], loc="lower left", fontsize=7)
    return fig


def territory_funnel_figure(results: dict, highlight: str, words: Mapping[str, str], per: float = 1000):
    """Funnel plots (one panel per indicator): the peers' rates against their population, the territory highlighted.

    Grey dashed: 95 % limits widened by the overdispersion; grey solid: 99,8 % widened limits (the limits the
    territory's place is read against: ``territories.result_curve``); black: France's rate.

    ``words`` are the chart's words in the letter's language: each indicator key -> its panel title, ``xlabel``,
    ``ylabel``, and the legend's ``territory``, ``others``, ``france``, ``limits_95``, ``limits_998``.
    """
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
        ax.set_title(words[key], fontsize=9)
        ax.set_xlabel(words["xlabel"], fontsize=8)
    axes[0].set_ylabel(words["ylabel"])
    handles = [
        Line2D([], [], color=charts.PALETTE[1], marker="o", markeredgecolor="black", linestyle=""),
        Line2D([], [], color=charts.PALETTE[0], marker="o", linestyle=""),
        Line2D([], [], color="black", linewidth=0.8),
        Line2D([], [], color=charts.GREY, linestyle="--", linewidth=0.8),
        Line2D([], [], color=charts.GREY, linestyle="-", linewidth=0.8),
    ]
    labels = [words[k] for k in ("territory", "others", "france", "limits_95", "limits_998")]
    legend_ax.legend(handles, labels, loc="center", ncols=5, fontsize=7)
    return fig
