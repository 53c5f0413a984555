"""The letter's look, and deterministic figure export with its data, alt text, source and note.

Why one module. A published figure is a statement of the Observatoire: it must say where its numbers come from
(a "Source : ..." line drawn on the image itself, so it survives being copied out of the letter), carry its data
(a CSV beside it, as Our World in Data does), be readable by everyone (Okabe-Ito colours, which stay distinct for
the common colour-vision deficiencies; alt text required) and be reproducible: building the same edition twice
must give byte-identical files, so that a changed checksum in the manifest always means a changed figure.

Determinism (checked by tests/test_charts.py, including the negative cases): SVG element ids are hashed with
``svg.hashsalt`` set to the figure's name (fixed, yet unique per figure so several SVGs inlined in one HTML page do
not clash); text is drawn as paths (``svg.fonttype = "path"``: typst, which compiles the PDF with its own fonts,
would otherwise silently substitute another font); the SVG ``Date`` and ``Creator`` and the PNG ``Software``
metadata are removed; the PNG resolution is fixed (:data:`PNG_DPI`); the layout is solved with Agg at a fixed
resolution until constrained layout settles, then frozen at rounded positions, so the output depends neither on
the session's backend (inline in notebooks, Agg in scripts) nor on how often the figure was drawn before; the
CSV has fixed line endings and pandas' shortest round-trip float format.

Numbers on axes use French typography through :func:`french_formatter` (U+202F thousands separator, decimal
comma, U+2212 minus); years are printed plainly ("2016", never "2 016").
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import html
import io
import json
import math
import os
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from observatoire.core import paths
from observatoire.core.formatting import (
    LANGUAGES,
    NBSP,
    format_number,
    format_percent,
    not_available,
    numbers_kept_together,
    parse_format,
)
from observatoire.outputs import downloads, interactive
from observatoire.outputs.palette import GREY, OKABE_ITO, PALETTE
from observatoire.outputs.tables import default_format

__all__ = [
    "PALETTE",
    "OKABE_ITO",
    "GREY",
    "PNG_DPI",
    "FIG_WIDTH",
    "apply_style",
    "french_formatter",
    "FrenchFormatter",
    "line_chart",
    "bar_chart",
    "rate_ci_chart",
    "chart_description",
    "set_chart_description",
    "save_figure",
    "SavedFigure",
]

#: Resolution of the PNG export (dots per inch).
PNG_DPI = 150
#: Default figure width in inches (the letter's text width).
FIG_WIDTH = 7.0
#: Resolution at which the layout is solved before export (see ``_freeze_layout``).
LAYOUT_DPI = 100

_TEXT = "#222222"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ROLE = "_observatoire_role"
#: The layout engine a figure had before its layout was frozen (its phone variant is laid out again with it).
_LAYOUT = "_observatoire_layout"
_CHART = "_observatoire_chart"
_TITLE_SIZE = 11.0
_FOOT_SIZE = 7.5

_STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titlelocation": "left",
    "axes.labelsize": 9.0,
    "axes.labelcolor": _TEXT,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "axes.axisbelow": True,
    "axes.facecolor": "white",
    "figure.facecolor": "white",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "xtick.color": _TEXT,
    "ytick.color": _TEXT,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 4.0,
    "text.color": _TEXT,
    "svg.fonttype": "path",
    "savefig.dpi": PNG_DPI,
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,
}


#: The language of the charts' numbers, "not available" marks and "Source"/"Note" lines (set per notebook by
#: :class:`observatoire.outputs.context.EditionContext`; French by default).
_LANGUAGE = {"lang": "fr"}


def set_language(lang: str) -> None:
    """Draw the next charts' numbers and standard words in ``lang`` (``"fr"`` or ``"en"``).

    Raises
    ------
    ValueError
        For another language.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    _LANGUAGE["lang"] = lang


def _lang() -> str:
    return _LANGUAGE["lang"]


@contextlib.contextmanager
def language(lang: str):
    """Draw (and export) the charts of the block in ``lang``, then go back to the previous language."""
    previous = _lang()
    set_language(lang)
    try:
        yield
    finally:
        set_language(previous)


def _colon(label: str) -> str:
    """``label`` followed by a colon, with the French no-break space before it in French."""
    return f"{label}{NBSP}:" if _lang() == "fr" else f"{label}:"


def apply_style() -> None:
    """Set the letter's look: seaborn "whitegrid" base, Okabe-Ito colours, DejaVu Sans, light grid.

    Idempotent (it sets the same values each time). Every chart function of this module calls it, so a figure
    looks the same whether or not a notebook called it first. It also sets ``svg.fonttype = "path"`` globally,
    so SVGs shown inline in a notebook match the exported ones.
    """
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font="DejaVu Sans", rc=_STYLE)


class FrenchFormatter(Formatter):
    """Tick formatter printing numbers the French way (see :func:`french_formatter`).

    Parameters
    ----------
    decimals : int or None
        Decimal places; None chooses the fewest that print every tick of the axis exactly (same for all ticks).
    percent : bool
        Append U+202F ``%`` (the values are already in percent).
    """

    def __init__(self, decimals: int | None = 0, percent: bool = False) -> None:
        self.decimals = decimals
        self.percent = percent
        self._auto = 0

    def set_locs(self, locs) -> None:
        """Choose the decimals for the current ticks when ``decimals`` is None."""
        super().set_locs(locs)
        if self.decimals is None:
            values = [float(v) for v in locs if math.isfinite(v)]
            self._auto = next(
                (d for d in range(7) if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in values)),
                6,
            )

    def __call__(self, x, pos=None) -> str:
        decimals = self._auto if self.decimals is None else self.decimals
        if self.percent:
            return format_percent(x, decimals, _lang())
        return format_number(x, decimals, _lang())


def french_formatter(decimals: int | None = 0, percent: bool = False) -> FrenchFormatter:
    """Axis tick formatter with French typography.

    Parameters
    ----------
    decimals : int or None, default 0
        Decimal places; None chooses them from the ticks (the fewest that show every tick exactly).
    percent : bool, default False
        Values are in percent: ``12.5`` prints ``"12,5 %"``.

    Returns
    -------
    FrenchFormatter
        A matplotlib ``Formatter``: ``ax.yaxis.set_major_formatter(french_formatter(1))``.
        ``12500`` -> ``"12 500"`` (U+202F), ``-2.5`` -> ``"−2,5"`` (U+2212).
    """
    return FrenchFormatter(decimals, percent)


def _year_formatter(x, pos=None) -> str:
    return f"{x:.0f}"


def _is_year_axis(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(v)) and bool(np.all(np.mod(v, 1) == 0)) and v.between(1800, 2200).all()


def _check_columns(data: pd.DataFrame, *columns: str | None) -> None:
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise KeyError(f"column(s) {missing} not in the data (columns: {list(data.columns)})")


def _hue_levels(data: pd.DataFrame, hue: str | None, hue_order: Iterable | None) -> list:
    if hue is None:
        return [None]
    if hue_order is not None:
        return list(hue_order)
    return list(pd.unique(data[hue].dropna()))


def _value_axis(axis, decimals: int | None, percent: bool) -> None:
    axis.set_major_formatter(french_formatter(decimals, percent))


_LEGEND = "_observatoire_legend"


def _legend(ax, handles: list, labels: list, inside: str | None = None, ncols: int | None = None) -> None:
    """Legend anchored to the axes: above them (default, ``ncols`` columns, up to 4 by default) or inside at
    ``inside``.

    Anchored to the axes rather than the figure on purpose: the tight bounding box used at export freezes axes
    positions but would re-place a figure legend against the enlarged canvas, over the title. What it was made
    from is kept on the axes, so that the phone variant of the chart can stack it in one column.
    """
    if not handles:
        return
    setattr(ax, _LEGEND, (list(handles), list(labels), inside))
    if inside:
        ax.legend(
            handles, labels, loc=inside, frameon=True, facecolor="white", edgecolor="white", framealpha=0.9
        )
    else:
        ax.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncols=ncols or min(len(handles), 4),
            frameon=False,
            borderaxespad=0.2,
        )


def _describe(fig: Figure, **description) -> None:
    """Record what the chart shows (kind and columns), for its interactive version (see interactive.py).

    Stored as plain JSON values (numpy scalars become Python ones), since it goes into the figure's metadata.
    """
    plain = json.loads(json.dumps(description, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    setattr(fig, _CHART, plain)


def set_chart_description(fig: Figure, description: dict) -> None:
    """Replace what a chart of this module shows (:func:`chart_description`): the same columns, other words (a
    translation of its series and labels)."""
    _describe(fig, **description)


def chart_description(fig: Figure) -> dict | None:
    """What a chart of this module shows: ``kind`` (line, bar, rate_ci) and its columns; None for other figures.

    Parameters
    ----------
    fig : Figure

    Returns
    -------
    dict or None
    """
    description = getattr(fig, _CHART, None)
    return dict(description) if description else None


def line_chart(
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    break_year: int | None = None,
    break_label: str | None = None,
    *,
    hue_order: Iterable | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    decimals: int | None = None,
    percent: bool = False,
    ylim_zero: bool = True,
    split_at_break: bool = True,
    markers: bool = True,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Line chart of one or several series, with gaps for missing values and an optional series break.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per (x, hue).
    x, y : str
        Columns of the horizontal (numeric, usually the year) and vertical values.
    hue : str, optional
        Column naming the series; one line per value, in order of appearance (or ``hue_order``).
    break_year : int, optional
        First year of a new series (e.g. 2016, change of scope): a dashed vertical line is drawn between
        ``break_year - 1`` and ``break_year``, labelled ``break_label``.
    break_label : str, optional
        Text of the break marker, in the chart's language (from the output's words: ``words.label("break")``);
        none: the dashed line alone.
    hue_order : iterable, optional
        Order (and selection) of the series.
    xlabel, ylabel : str, optional
        Axis labels (none by default: the title says what is shown).
    decimals : int, optional
        Decimals of the value axis; None chooses them from the ticks.
    percent : bool, default False
        The values are percentages (the axis prints ``%``).
    ylim_zero : bool, default True
        Start the value axis at zero when all values are non-negative (honest scale).
    split_at_break : bool, default True
        Do not join the points on either side of ``break_year`` (they are not comparable).
    markers : bool, default True
        Draw a marker at each point (keeps an isolated point between gaps visible).
    figsize : (float, float), optional
        Size in inches; default (:data:`FIG_WIDTH`, 3.8).

    Returns
    -------
    Figure
        Missing values (NaN, or a year absent from an integer year axis) leave a gap: nothing is interpolated.

    Raises
    ------
    KeyError
        When a column is absent.
    ValueError
        When an x value appears twice in one series.
    """
    apply_style()
    _check_columns(data, x, y, hue)
    fig, ax = plt.subplots(figsize=figsize or (FIG_WIDTH, 3.8), layout="constrained")
    year_axis = _is_year_axis(data[x])
    handles, labels = [], []
    all_values = []
    for i, level in enumerate(_hue_levels(data, hue, hue_order)):
        group = data if level is None else data[data[hue] == level]
        group = group[[x, y]].copy()
        group[x] = pd.to_numeric(group[x])
        if group[x].duplicated().any():
            dup = sorted(group.loc[group[x].duplicated(), x].unique().tolist())
            raise ValueError(f"line_chart: {x} values {dup} appear twice in series {level!r}")
        series = group.set_index(x)[y].astype(float).sort_index()
        if year_axis and len(series):
            series = series.reindex(np.arange(int(series.index.min()), int(series.index.max()) + 1))
        if break_year is not None and split_at_break:
            series.loc[break_year - 0.5] = np.nan
            series = series.sort_index()
        all_values.extend(series.dropna().tolist())
        color = PALETTE[i % len(PALETTE)]
        (line,) = ax.plot(
            series.index.to_numpy(float),
            series.to_numpy(float),
            color=color,
            marker="o" if markers else None,
            label=None if level is None else str(level),
        )
        line.set_gid(f"series-{i}")  # the SVG names each series' line (checked: no segment spans a gap)
        if level is not None:
            handles.append(line)
            labels.append(str(level))
    if break_year is not None:
        xb = break_year - 0.5
        ax.axvline(xb, color=GREY, linestyle="--", linewidth=1.0)
        trans = offset_copy(
            blended_transform_factory(ax.transData, ax.transAxes), fig=fig, x=3, units="points"
        )
        if break_label:  # the caller's words, in the chart's language (a bare dashed line without them)
            ax.text(xb, 0.98, break_label, transform=trans, ha="left", va="top", fontsize=7.5, color=GREY)
    if ylim_zero and all_values and min(all_values) >= 0:
        ax.set_ylim(bottom=0)
    if break_year is not None and all_values:
        # the break's label sits in the top band of the axes: keep the data below it, so no point is hidden
        low, high = ax.get_ylim()
        ax.set_ylim(low, max(high, low + (max(all_values) - low) / 0.82))
    ax.grid(axis="x", visible=False)
    _value_axis(ax.yaxis, decimals, percent)
    if year_axis:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(_year_formatter)
    else:
        _value_axis(ax.xaxis, None, False)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    _legend(ax, handles, labels)
    _describe(
        fig,
        kind="line",
        x=x,
        y=y,
        hue=hue,
        hue_order=[str(v) for v in _hue_levels(data, hue, hue_order) if v is not None],
        percent=percent,
        break_year=None if break_year is None else int(break_year),
        year_axis=year_axis,
        xlabel=xlabel,
        ylabel=ylabel,
    )
    return fig


def bar_chart(
    data: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    horizontal: bool = False,
    *,
    order: Iterable | None = None,
    hue_order: Iterable | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    decimals: int | None = None,
    percent: bool = False,
    value_labels: bool = False,
    label_decimals: int = 0,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Bar chart: one bar per category (and per ``hue`` level), values as given (no aggregation).

    Parameters
    ----------
    data : DataFrame
        One row per (x, hue).
    x : str
        Column of the categories (years are printed plainly).
    y : str
        Column of the values.
    hue : str, optional
        Column splitting each category into coloured bars.
    horizontal : bool, default False
        Horizontal bars (categories on the vertical axis), for long labels.
    order, hue_order : iterable, optional
        Order of the categories and of the hue levels (default: order of appearance).
    xlabel, ylabel : str, optional
        Label of the category axis and of the value axis.
    decimals : int, optional
        Decimals of the value axis; None chooses them from the ticks.
    percent : bool, default False
        The values are percentages.
    value_labels : bool, default False
        Print each value at the end of its bar (French format, ``label_decimals`` decimals).
    label_decimals : int, default 0
        Decimals of the value labels.
    figsize : (float, float), optional
        Size in inches.

    Returns
    -------
    Figure

    Raises
    ------
    KeyError
        When a column is absent.
    ValueError
        When a (category, hue) pair appears twice (a bar chart here never averages silently).
    """
    apply_style()
    _check_columns(data, x, y, hue)
    keys = [x] + ([hue] if hue else [])
    if data.duplicated(keys).any():
        raise ValueError(f"bar_chart: several rows for the same {keys}; aggregate first")
    df = data[keys + [y]].copy()
    if order is None:
        order = list(pd.unique(df[x]))
    hue_levels = _hue_levels(df, hue, hue_order) if hue else None
    n_cat = len(list(order))
    size = figsize or (
        (FIG_WIDTH, max(2.5, 0.28 * n_cat * (len(hue_levels) if hue else 1) ** 0.5 + 1.0))
        if horizontal
        else (FIG_WIDTH, 3.8)
    )
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    colours = {"palette": PALETTE[: len(hue_levels)]} if hue else {"color": PALETTE[0]}
    sns.barplot(
        data=df,
        x=y if horizontal else x,
        y=x if horizontal else y,
        hue=hue,
        order=order,
        hue_order=hue_levels,
        orient="h" if horizontal else "v",
        errorbar=None,
        saturation=1.0,
        ax=ax,
        **colours,
    )
    value_axis = ax.xaxis if horizontal else ax.yaxis
    _value_axis(value_axis, decimals, percent)
    ax.grid(axis="y" if horizontal else "x", visible=False)
    if value_labels:
        for container in ax.containers:
            texts = [
                ""
                if not math.isfinite(v)
                else (
                    format_percent(v, label_decimals, _lang())
                    if percent
                    else format_number(v, label_decimals, _lang())
                )
                for v in container.datavalues
            ]
            ax.bar_label(container, labels=texts, padding=2, fontsize=7)
    category_label, value_label = xlabel or "", ylabel or ""
    ax.set_xlabel(value_label if horizontal else category_label)
    ax.set_ylabel(category_label if horizontal else value_label)
    legend = ax.get_legend()
    if legend is not None:
        handles, labels = ax.get_legend_handles_labels()
        legend.remove()
        _legend(ax, handles, labels)
    _describe(
        fig,
        kind="bar",
        x=x,
        y=y,
        hue=hue,
        order=[str(v) for v in order],
        hue_order=[str(v) for v in hue_levels] if hue else [],
        horizontal=horizontal,
        percent=percent,
        xlabel=xlabel,
        ylabel=ylabel,
    )
    return fig


def rate_ci_chart(
    data: pd.DataFrame,
    label: str,
    rate: str,
    low: str,
    high: str,
    highlight: str | Iterable | None = None,
    reference: float | None = None,
    *,
    highlight_label: str = "Outre-mer",
    other_label: str = "Métropole",
    reference_label: str = "France",
    xlabel: str | None = None,
    decimals: int = 1,
    sort: bool = True,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Dot and confidence interval per unit (101 départements fit, legibly, on one tall chart).

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    label : str
        Column of the unit names shown on the vertical axis.
    rate, low, high : str
        Columns of the rate and of its interval bounds.
    highlight : str or iterable, optional
        Either the name of a boolean column (e.g. ``"is_overseas"``) or the labels to highlight; those units
        are drawn in vermillion, the others in blue, with a legend (``highlight_label`` / ``other_label``).
    reference : float, optional
        Reference value (the rate for France): a dotted vertical line, named ``reference_label`` in the legend
        with its value.
    highlight_label, other_label, reference_label : str
        Legend texts.
    xlabel : str, optional
        Label of the rate axis (e.g. "Taux pour 1 000 habitants").
    decimals : int, default 1
        Decimals of the reference value in the legend (the axis chooses its own).
    sort : bool, default True
        Sort units by rate, highest at the top; units with a missing rate go to the bottom, marked
        "donnée non disponible".
    figsize : (float, float), optional
        Size in inches; by default the height grows with the number of units (0.13 inch per unit).

    Returns
    -------
    Figure
    """
    apply_style()
    _check_columns(data, label, rate, low, high)
    df = data.copy()
    if highlight is None:
        flag = np.zeros(len(df), dtype=bool)
    elif isinstance(highlight, str):
        _check_columns(df, highlight)
        flag = df[highlight].fillna(False).astype(bool).to_numpy()
    else:
        wanted = {str(v) for v in highlight}
        flag = df[label].astype(str).isin(wanted).to_numpy()
    df["_flag"] = flag
    if sort:
        df = df.sort_values([rate, label], ascending=[False, True], na_position="last", kind="mergesort")
    n = len(df)
    ypos = (n - 1 - np.arange(n)).astype(float)  # first row at the top
    height = max(3.0, 0.13 * n + 1.3)
    fig, ax = plt.subplots(figsize=figsize or (FIG_WIDTH, height), layout="constrained")
    base, accent = PALETTE[0], PALETTE[1]
    colours = np.where(df["_flag"].to_numpy(), accent, base)
    values = df[rate].to_numpy(float)
    ax.hlines(ypos, df[low].to_numpy(float), df[high].to_numpy(float), colors=colours, linewidth=1.1)
    ax.scatter(values, ypos, c=colours, s=12, zorder=3, linewidths=0)
    label_size = 6.5 if n > 40 else 8.0
    ax.yaxis.set_major_locator(FixedLocator(ypos[::-1]))  # ascending: bottom row first
    ax.set_yticklabels(df[label].astype(str).tolist()[::-1], fontsize=label_size)
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for yp, v in zip(ypos, values, strict=True):
        if not math.isfinite(v):
            ax.text(
                0.01,
                yp,
                not_available(_lang()),
                transform=trans,
                va="center",
                fontsize=label_size,
                color=GREY,
            )
    handles, labels = [], []
    if highlight is not None:
        for colour, text in ((base, other_label), (accent, highlight_label)):
            handles.append(Line2D([], [], color=colour, marker="o", markersize=4, linewidth=1.1))
            labels.append(text)
    if reference is not None and math.isfinite(float(reference)):
        ax.axvline(float(reference), color=_TEXT, linestyle=":", linewidth=1.0, zorder=1)
        handles.append(Line2D([], [], color=_TEXT, linestyle=":", linewidth=1.0))
        labels.append(f"{_colon(reference_label)} {format_number(reference, decimals, _lang())}")
    _value_axis(ax.xaxis, None, False)
    ax.xaxis.set_tick_params(labeltop=True)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel("")
    # Sorted by rate, the lower right corner is empty (low rates sit on the left).
    _legend(ax, handles, labels, inside="lower right" if sort else "best")
    _describe(
        fig,
        kind="rate_ci",
        label=label,
        rate=rate,
        low=low,
        high=high,
        highlight=highlight if isinstance(highlight, str) else None,
        highlight_labels=None if highlight is None or isinstance(highlight, str) else sorted(wanted),
        highlight_label=highlight_label,
        other_label=other_label,
        reference=None if reference is None or not math.isfinite(float(reference)) else float(reference),
        reference_label=reference_label,
        xlabel=xlabel,
        sort=sort,
    )
    return fig


# Export -------------------------------------------------------------------------------------------------------


def _check_text(name: str, value: object, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"save_figure: {name} is required and must be a non-empty string (got {value!r})")
    return value.strip()


def _remove_annotations(fig: Figure) -> None:
    for text in list(fig.texts):
        if getattr(text, _ROLE, None):
            text.remove()


def _wrap(text: str, fig: Figure, fontsize: float) -> str:
    width_pt = fig.get_figwidth() * 72
    chars = max(20, int(width_pt / (fontsize * 0.56)))
    return "\n".join(textwrap.fill(part, chars) for part in text.split("\n"))


def mark_not_available(ax) -> None:
    """Say "donnée non disponible" in the middle of an empty panel (a gap is shown, never filled)."""
    ax.text(0.5, 0.5, not_available(_lang()), transform=ax.transAxes, ha="center", va="center", color=GREY)


def _annotate(fig: Figure, title: str, source: str, note: str | None, scale: float = 1.0) -> None:
    """Draw the title above and the source and note lines below the figure (outside its box).

    Placed outside the figure box, they never overlap the axes whatever the layout engine; the tight bounding
    box used at export grows the image to include them. ``scale`` enlarges their type (the phone variant).
    """
    _remove_annotations(fig)
    top = offset_copy(fig.transFigure, fig=fig, x=2, y=8, units="points")
    bottom = offset_copy(fig.transFigure, fig=fig, x=2, y=-8, units="points")
    title_text = fig.text(
        0,
        1,
        _wrap(title, fig, _TITLE_SIZE * scale),
        transform=top,
        ha="left",
        va="bottom",
        fontsize=_TITLE_SIZE * scale,
        fontweight="bold",
        color=_TEXT,
    )
    src = source if re.match(r"(?i)^sources?\s*:", source) else f"{_colon('Source')} {source}"
    lines = [src] + (
        [note if re.match(r"(?i)^notes?\s*:", note) else f"{_colon('Note')} {note}"] if note else []
    )
    foot_text = fig.text(
        0,
        0,
        _wrap("\n".join(lines), fig, _FOOT_SIZE * scale),
        transform=bottom,
        ha="left",
        va="top",
        fontsize=_FOOT_SIZE * scale,
        color="#444444",
        linespacing=1.4,
    )
    for text, role in ((title_text, "title"), (foot_text, "footer")):
        setattr(text, _ROLE, role)


def _freeze_layout(fig: Figure) -> None:
    """Run the layout engine until it settles, then fix the axes at positions rounded to 1e-6.

    Constrained layout re-solves at every draw and only converges over a few passes (the first pass can be off
    by 1e-5), so its result depends on how often the figure was drawn before (a notebook that displayed it drew
    it more often). Those differences leak into SVG coordinates. Drawing until the positions settle, then
    freezing them rounded, makes the output depend on the figure alone.
    """
    # Text metrics, hence the layout, depend on the renderer and its resolution: solve it with Agg at a fixed
    # dpi whatever the session's backend (Agg in scripts and tests, inline in notebooks, svg, a GUI ...).
    original_canvas = fig.canvas
    fig.set_dpi(LAYOUT_DPI)
    FigureCanvasAgg(fig)
    try:
        previous = None
        for _ in range(8):  # constrained layout converges in two to four passes
            fig.draw_without_rendering()
            current = np.array([ax.get_position().bounds for ax in fig.axes]).ravel()
            if previous is not None and np.allclose(current, previous, rtol=0, atol=1e-9):
                break
            previous = current
    finally:
        fig.set_canvas(original_canvas)
    engine = fig.get_layout_engine()
    if not hasattr(fig, _LAYOUT):  # what the layout was before it was first frozen (setting positions below
        # takes the axes out of a layout engine's hands)
        kind = type(engine).__name__.removesuffix("LayoutEngine").lower() if engine is not None else ""
        managed = [ax.get_in_layout() for ax in fig.axes]
        setattr(fig, _LAYOUT, (kind if kind in ("constrained", "tight") else None, managed))
    if engine is not None:
        fig.set_layout_engine("none")
    for ax in fig.axes:
        ax.set_position([round(float(v), 6) for v in ax.get_position().bounds])


def _figure_bytes(fig: Figure, fmt: str, name: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    with mpl.rc_context({"svg.hashsalt": name, "svg.fonttype": "path", "svg.image_inline": True}):
        fig.savefig(
            buffer,
            format=fmt,
            dpi=PNG_DPI,
            metadata=metadata,
            bbox_inches="tight",
            pad_inches=0.12,
            facecolor="white",
        )
    return buffer.getvalue()


#: The phone variant of a chart (``<name>.phone.svg``, shown by the HTML letter on screens narrower than 576 px):
#: drawn this wide (inches) with its type enlarged so that, shown :data:`PHONE_DISPLAY_PX` pixels wide (a 390 px
#: phone minus the page's margins), its smallest text is at least :data:`PHONE_MIN_TEXT_PX` pixels tall.
PHONE_WIDTH = 4.4
PHONE_DISPLAY_PX = 330
PHONE_MIN_TEXT_PX = 9.5
#: The first try's type is enlarged this much more than the figure's width alone asks: its texts overhang the
#: drawn width by up to 11 % (measured on the 2024 annual letter: 8 of 18 first tries fell short by 0.2-4 %).
PHONE_FIRST_MARGIN = 1.05
PHONE_RETRY_MARGIN = 1.05
_SVG_WIDTH = re.compile(rb'<svg[^>]*\swidth="([\d.]+)pt"')
_SVG_TEXT_SCALE = re.compile(rb"scale\(([\d.]+) -\1\)")


def svg_text_sizes(svg: bytes) -> tuple[float, list[float]]:
    """The width (pt) of an SVG this module wrote, and the size (pt) of each of its texts.

    Texts are drawn as glyph paths (``svg.fonttype = "path"``), each placed with ``scale(s -s)`` where ``s`` is
    the font size divided by 100 (matplotlib's glyph unit): on a page showing the SVG ``w`` pixels wide, a text
    of ``size`` pt is ``size * w / width`` pixels tall.
    """
    width = _SVG_WIDTH.search(svg)
    if width is None:
        raise ValueError("not an SVG written by matplotlib: no width in pt")
    return float(width.group(1)), [round(float(m.group(1)) * 100, 4) for m in _SVG_TEXT_SCALE.finditer(svg)]


def smallest_text_px(svg: bytes, shown_px: float) -> float:
    """Height in pixels of the smallest text of an SVG shown ``shown_px`` pixels wide (at most its own width)."""
    width, sizes = svg_text_sizes(svg)
    shown = min(shown_px, width * 4 / 3)  # an image is never enlarged past its natural size (1 pt = 4/3 px)
    return min(sizes) * shown / width if sizes else float("inf")


def _enlarge_type(fig: Figure, scale: float) -> None:
    """Multiply the size of every text of a figure by ``scale`` (tick labels through their axis' settings, which
    the ticks drawn later follow too), and stack its legends in one column (a phone is narrow)."""
    ticks = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            all_ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            ticks.update(id(label) for tick in all_ticks for label in (tick.label1, tick.label2))
            size = all_ticks[0].label1.get_fontsize() if all_ticks else mpl.rcParams["xtick.labelsize"]
            axis.set_tick_params(which="both", labelsize=float(size) * scale)
        made, legend = getattr(ax, _LEGEND, None), ax.get_legend()
        if made is not None and legend is not None:
            legend.remove()
            _legend(ax, *made, ncols=1)
        elif legend is not None and legend._ncols > 2:  # another figure's legend: at most two columns
            texts = legend.get_texts()
            legend.remove()
            ax.legend(
                legend.legend_handles,
                [t.get_text() for t in texts],
                loc=legend._loc,
                ncols=2,
                frameon=legend.get_frame_on(),
                fontsize=texts[0].get_fontsize() if texts else None,
            )
        # titles and axis labels wider than their panel wrap onto several lines
        box = ax.get_position()
        width_pt, height_pt = (fig.get_figwidth() * 72 * box.width, fig.get_figheight() * 72 * box.height)
        for text, room in (
            (ax.title, width_pt),
            (ax._left_title, width_pt),
            (ax._right_title, width_pt),
            (ax.xaxis.label, width_pt),
            (ax.yaxis.label, height_pt),
        ):
            if text.get_text():
                chars = max(12, int(room / (text.get_fontsize() * scale * 0.56)))
                text.set_text("\n".join(textwrap.fill(part, chars) for part in text.get_text().split("\n")))
        if ax.get_position().width < 0.6 and ax.axison:  # panels side by side: slanted value labels
            ax.tick_params(axis="x", which="both", labelrotation=40)
            for label in ax.get_xticklabels(which="both"):
                label.set_horizontalalignment("right")
        for axis in (ax.xaxis, ax.yaxis):  # fewer ticks on a narrow axis (labels never overlap)
            locator = axis.get_major_locator()
            if isinstance(locator, MaxNLocator):
                locator.set_params(nbins=5)
    for text in fig.findobj(Text):
        if id(text) in ticks or getattr(text, _ROLE, None):
            continue
        ticks.add(id(text))
        text.set_fontsize(text.get_fontsize() * scale)


def _phone_svg(original: Figure, name: str, texts: tuple[str, str, str | None], smallest_pt: float) -> bytes:
    """The phone variant of a figure (see :data:`PHONE_WIDTH`): re-laid out narrower and its type enlarged (its
    height grows with its type) until its smallest text reaches :data:`PHONE_MIN_TEXT_PX` at
    :data:`PHONE_DISPLAY_PX`, measured on the SVG. ``texts`` are the title, source and note drawn around it;
    ``smallest_pt`` the size of its smallest text as drawn for the letter; ``original`` (a copy of the figure
    before its layout was frozen) is copied again for each try."""
    title, source, note = texts
    first = PHONE_MIN_TEXT_PX / smallest_pt * (PHONE_WIDTH * 72 + 20) / PHONE_DISPLAY_PX
    scale = first * PHONE_FIRST_MARGIN
    svg = b""
    for _ in range(4):
        fig = copy.deepcopy(original)
        if hasattr(fig, _LAYOUT):  # saved before: its layout was frozen, give it back to its engine
            kind, managed = getattr(fig, _LAYOUT)
            for ax, in_layout in zip(fig.axes, managed, strict=False):
                ax.set_in_layout(in_layout)
            if kind:
                fig.set_layout_engine(kind)
        height = fig.get_size_inches()[1]
        fig.set_size_inches(PHONE_WIDTH, height * scale)
        _enlarge_type(fig, scale)
        _annotate(fig, title, source, note, scale)
        _freeze_layout(fig)
        svg = _figure_bytes(fig, "svg", f"{name}-phone")
        plt.close(fig)
        smallest = smallest_text_px(svg, PHONE_DISPLAY_PX)
        if smallest >= PHONE_MIN_TEXT_PX:
            break
        # the figure widens as its type grows, so a try scaled to just reach the minimum falls short again:
        # 5 % more settles it in one retry (measured on the annual letters: 2-3 tries with 2 %)
        scale = min(scale * PHONE_MIN_TEXT_PX / smallest * PHONE_RETRY_MARGIN, first * 2)
    return svg


def _data_frame(data: pd.DataFrame | pd.Series) -> pd.DataFrame:
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "value")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"save_figure: data must be a DataFrame or Series, got {type(data).__name__}")
    if any(level is not None for level in data.index.names):  # a named index carries data (e.g. the year)
        data = data.reset_index()
    return data


def _display_formats(data: pd.DataFrame, formats: dict | None) -> dict[str, str]:
    """Display format of every column (as tables.py formats them): the given ones, else a default by dtype."""
    formats = dict(formats or {})
    unknown = [c for c in formats if c not in data.columns]
    if unknown:
        raise KeyError(f"save_figure: formats given for absent column(s) {unknown}")
    specs = {str(c): formats.get(c) or default_format(c, data[c]) for c in data.columns}
    for spec in specs.values():
        parse_format(spec)
    return specs


class SavedFigure(dict):
    """The metadata of a saved figure (a plain dict), which a notebook displays as the figure itself.

    In JupyterLab and in the notebooks' HTML pages, the output of ``ctx.save_figure(...)`` is the exported SVG
    (what the letter shows), with its alt text and the files written; the same SVG is an ``image/svg+xml``
    output too (nbval, nbconvert and review tools read image outputs); elsewhere it is the metadata dict.
    """

    def __init__(self, meta: dict, svg: bytes) -> None:
        super().__init__(meta)
        self._svg = svg
        self._shown = False

    def _repr_html_(self) -> str:
        source = "data:image/svg+xml;base64," + base64.b64encode(self._svg).decode("ascii")
        files = ", ".join(f"<code>figures/{html.escape(f)}</code>" for f in self["files"].values())
        return (
            f'<figure class="observatoire-figure"><img src="{source}" alt="{html.escape(self["alt"])}" '
            f'style="max-width:100%"><figcaption>{html.escape(self["caption"])}<br><small>Fichiers'
            f"{NBSP}: {files}</small></figcaption></figure>"
        )

    def _ipython_display_(self) -> None:
        """Show the figure once, whether displayed explicitly, as a cell's result, or both."""
        if self._shown:
            return
        self._shown = True

        # the HTML (alt text, caption, files) for JupyterLab and the notebook pages; the SVG as an image output
        # too, for the tools that read images (nbval, nbconvert to PDF, review tools)
        display(
            {
                "text/html": self._repr_html_(),
                "image/svg+xml": self._svg.decode("utf-8"),
                "text/plain": f"<figure {self['name']}>",
            },
            raw=True,
        )

    def show(self) -> None:
        """Display the figure when running in IPython (a kernel); do nothing elsewhere."""
        try:
            from IPython import (
                get_ipython,  # lazy: IPython is optional here: outside a kernel, show() does nothing
            )
        except ImportError:  # pragma: no cover - IPython comes with the kernel
            return
        if get_ipython() is not None:
            self._ipython_display_()


def _write(path: Path, content: bytes) -> None:
    """Write atomically: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def _drawn_files(
    fig: Figure, name: str, texts: tuple, edition: str | None, reader: downloads.ReaderData
) -> dict[str, bytes]:
    """The drawn files of a figure: the letter's SVG and PNG (its title, source and note drawn around it, its
    layout frozen), the workbook, and the phone variant drawn from a copy taken before the layout was frozen.
    ``texts`` are the checked title, source, note, caption and alt text. The figure is closed."""
    title_s, source_s, note_s, caption_s, alt_s = texts
    _remove_annotations(fig)  # (a figure saved before carries them)
    unfrozen = copy.deepcopy(fig)  # the figure before its layout is frozen, for its phone variant
    _annotate(fig, title_s, source_s, note_s)
    _freeze_layout(fig)
    contents = {
        "svg": _figure_bytes(fig, "svg", name),
        "png": _figure_bytes(fig, "png", name),
        "xlsx": downloads.xlsx_workbook(
            reader,
            [
                ("title", title_s),
                ("caption", caption_s),
                ("source", source_s),
                ("edition", edition),
                ("note", note_s),
                ("description", alt_s),
            ],
        ),
    }
    plt.close(fig)
    smallest = min(svg_text_sizes(contents["svg"])[1] or [_FOOT_SIZE])
    contents["phone_svg"] = _phone_svg(unfrozen, name, (title_s, source_s, note_s), smallest)
    plt.close(unfrozen)  # a copy of a pyplot figure is registered with pyplot too: a kernel would keep it
    return contents


def draws_figures(lang: str) -> bool:
    """Whether this run draws the figures of ``lang`` (:data:`observatoire.core.paths.DRAW_FIGURES_VARIABLE`)."""
    wanted = os.environ.get(paths.DRAW_FIGURES_VARIABLE, "").strip()
    if not wanted:
        return True
    return wanted != "no" and lang in {part.strip() for part in wanted.split(",")}


def save_figure(
    fig: Figure,
    name: str,
    out_dir: str | Path,
    data: pd.DataFrame | pd.Series,
    *,
    title: str,
    source: str,
    alt: str,
    note: str | None = None,
    caption: str | None = None,
    headers: dict[str, str] | None = None,
    formats: dict[str, str] | None = None,
    edition: str | None = None,
    lang: str | None = None,
) -> SavedFigure:
    """Export a figure with its data, downloads and metadata, deterministically, then close it.

    Parameters
    ----------
    fig : Figure
        The figure (from this module's chart functions or any matplotlib figure).
    name : str
        File stem and cross-reference label (``@fig-<name>``): lower-case letters, digits, ``-`` and ``_``.
    out_dir : str or Path
        The edition's output folder; files go to ``out_dir/figures/``.
    data : DataFrame or Series
        The data behind the figure, written as CSV (a meaningful index is kept as a column).
    title : str
        Drawn above the figure, in bold.
    source : str
        Drawn below as "Source : ..." (required: every figure says where its numbers come from).
    alt : str
        Alternative text for screen readers (required, non-empty).
    note : str, optional
        Drawn below the source as "Note : ...".
    caption : str, optional
        Caption for the letter; defaults to ``title``.
    headers : mapping, optional
        Column names for the downloads and the data table, in the chart's language (default: the chart's axis
        labels, then the public names of ``publications/_shared/site_words.yml``).
    formats : mapping, optional
        Display formats of columns (``tables.save_table`` specs, e.g. ``{"rate": "rate:1"}``), for the reader's
        CSV, the workbook and the data table; other columns get a default by dtype.
    edition : str, optional
        The edition, for the workbook's metadata sheet (``EditionContext`` passes it).
    lang : {"fr", "en"}, optional
        The language the figure is written in (its numbers, "Source" and "Note" lines); default: the current
        chart language (:func:`set_language`). Recorded in the metadata.

    Returns
    -------
    SavedFigure
        A dict of the metadata written to ``<name>.json``: ``name, title, caption, alt, source, note, edition,
        lang, files`` (file names relative to ``figures/``: ``svg``, ``png``, ``phone_svg`` the phone variant,
        ``csv`` every column, raw (the machine file), ``csv_<lang>`` the reader's CSV (``<name>.fr.csv``),
        ``xlsx`` workbook, ``vega_lite`` interactive spec when the chart is one of this module's), ``sha256`` (of
        each file), ``columns``, ``headers`` (the author's), ``formats``, ``reader`` (the reader's columns and
        headers, see :func:`observatoire.outputs.downloads.reader_frame`), ``n_rows`` and ``chart`` (what the chart
        shows, or None). Shown as the figure in a notebook. When the run does not draw the figures of ``lang``
        (:func:`draws_figures`: ``OBSERVATOIRE_DRAW_FIGURES=no`` in a facts-only run, or a list of languages
        without it) only the data files, the interactive spec and the metadata are written (``files`` still
        names the drawn files, which ``sha256`` does not list); nothing is drawn.

    Raises
    ------
    ValueError
        For a bad name or an empty title, source or alt text.
    """
    if lang is not None and lang != _lang():
        with language(lang):
            return save_figure(
                fig, name, out_dir, data, title=title, source=source, alt=alt, note=note, caption=caption,
                headers=headers, formats=formats, edition=edition, lang=lang,
            )  # fmt: skip
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"save_figure: name {name!r} must match {_NAME.pattern}")
    title_s = numbers_kept_together(_check_text("title", title))
    source_s = _check_text("source", source)
    alt_s = _check_text("alt", alt)
    note_s = _check_text("note", note, required=False)
    note_s = numbers_kept_together(note_s) if note_s else None
    caption_s = numbers_kept_together(_check_text("caption", caption, required=False) or title_s)
    lang = _lang()
    frame = _data_frame(data)
    columns = [str(c) for c in frame.columns]
    specs = _display_formats(frame, formats)
    csv_bytes = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    description = chart_description(fig)
    reader = downloads.reader_frame(frame, headers=headers, formats=specs, chart=description, lang=lang)
    spec = interactive.vega_lite_spec(
        description, name=name, alt=alt_s, columns=columns, headers=reader.headers, formats=specs, lang=lang
    )

    folder = Path(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"csv": csv_bytes, f"csv_{lang}": downloads.reader_csv(reader)}
    if not draws_figures(lang):  # a facts-only run, or a language no letter of this run shows
        plt.close(fig)
    else:
        contents.update(
            _drawn_files(fig, name, (title_s, source_s, note_s, caption_s, alt_s), edition, reader)
        )
    if spec is not None:
        contents["vega_lite"] = (
            json.dumps(spec, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
        ).encode()
    suffixes = {f"csv_{lang}": f"{lang}.csv", "vega_lite": "vl.json", "phone_svg": "phone.svg"}
    # the names of every file, drawn or not (the templates cite the figure's SVG); the checksums of those written
    drawn_kinds = ("svg", "png", "xlsx", "phone_svg")
    files = {kind: f"{name}.{suffixes.get(kind, kind)}" for kind in (*contents, *drawn_kinds)}
    for kind, content in contents.items():
        _write(folder / files[kind], content)
    meta = {
        "name": name,
        "title": title_s,
        "caption": caption_s,
        "alt": alt_s,
        "source": source_s,
        "note": note_s,
        "edition": edition,
        "lang": lang,
        "files": files,
        "sha256": {kind: hashlib.sha256(content).hexdigest() for kind, content in contents.items()},
        "columns": columns,
        "headers": {str(k): str(v) for k, v in (headers or {}).items()},
        "formats": specs,
        "reader": {"columns": list(reader.frame.columns), "headers": reader.headers},
        "n_rows": int(len(frame)),
        "chart": description,
    }
    text = json.dumps(meta, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    _write(folder / f"{name}.json", text.encode("utf-8"))
    return SavedFigure(meta, contents.get("svg", b""))
