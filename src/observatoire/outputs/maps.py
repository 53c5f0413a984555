"""Maps of the territorial letters: a région's départements, one highlighted, and where the région lies in France.

Why plain matplotlib: a map here is a handful of polygons (IGN boundaries, simplified; see
:mod:`observatoire.data.loaders.boundaries`), drawn as :class:`~matplotlib.patches.PathPatch` objects (holes handled by
compound paths) in longitude and latitude with the aspect of the région's mean latitude (an equirectangular view,
faithful enough at the scale of a région). No geopandas or shapely: the figure goes through the same
deterministic export as every chart (:func:`observatoire.outputs.charts.save_figure`).

Every département patch carries its code as SVG id (``gid`` ``dep-<code>``, région outlines ``reg-<code>``), so a
test reads the exported SVG and checks that the highlighted shape is the right one. The overseas départements
lie thousands of kilometres away at their real coordinates: the locator panel draws metropolitan France and the
five overseas régions as separate insets, each at its own scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from observatoire.data.geography import OVERSEAS_REGIONS
from observatoire.data.loaders.boundaries import features
from observatoire.outputs import charts

__all__ = ["HIGHLIGHT", "OTHER", "feature_path", "region_map"]

#: Fill of the territory the letter is about, and of the other départements of its région.
HIGHLIGHT = charts.OKABE_ITO["vermillion"]
OTHER = "#D9D9D9"
_EDGE = "#FFFFFF"
_OUTLINE = "#555555"
_SEQUENTIAL = "Blues"


def feature_path(polygons: tuple, step: int = 1) -> MplPath:
    """One compound path of a feature's polygons (every ring closed; holes drawn by the even-odd rule).

    ``step`` keeps one vertex in ``step`` (first and last kept): enough for a small locator map, and much less
    to draw and to write into the SVG.
    """
    vertices, codes = [], []
    for polygon in polygons:
        for ring in polygon:
            ring = np.asarray(ring, dtype=float)
            if step > 1:
                if len(ring) < 4 * step:
                    continue
                ring = np.vstack([ring[:-1:step], ring[-1:]])
            vertices.append(ring)
            ring_codes = np.full(len(ring), MplPath.LINETO, dtype=MplPath.code_type)
            ring_codes[0], ring_codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            codes.append(ring_codes)
    return MplPath(np.vstack(vertices), np.concatenate(codes))


def _draw(
    ax, rows: pd.DataFrame, colours: Mapping[str, str], prefix: str, edge: str, width: float, step: int = 1
) -> None:
    # add_artist, not add_patch: add_patch walks every vertex in Python to update the data limits (seconds for
    # a région); _frame sets the limits from the vertices with numpy instead.
    for row in rows.itertuples(index=False):
        patch = PathPatch(
            feature_path(row.polygons, step),
            facecolor=colours.get(row.code, OTHER),
            edgecolor=edge,
            linewidth=width,
        )
        patch.set_gid(f"{prefix}-{row.code}")
        ax.add_artist(patch)


def _frame(ax, rows: pd.DataFrame, pad: float = 0.04) -> None:
    """Fit the axes to the features, with the aspect of their mean latitude, and hide the frame."""
    stacked = np.vstack([ring for polygons in rows["polygons"] for polygon in polygons for ring in polygon])
    (x0, y0), (x1, y1) = stacked.min(axis=0), stacked.max(axis=0)
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_axis_off()


def _label(ax, rows: pd.DataFrame) -> None:
    """Write each département's code at the mean of its largest ring's vertices."""
    for row in rows.itertuples(index=False):
        largest = max((polygon[0] for polygon in row.polygons), key=len)
        x, y = np.asarray(largest)[:-1].mean(axis=0)
        ax.text(x, y, row.code, ha="center", va="center", fontsize=7, color="#111111")


def region_map(
    departements: pd.DataFrame,
    regions: pd.DataFrame,
    region: str,
    members: list[str],
    *,
    highlight: str | None = None,
    values: Mapping[str, float] | None = None,
    value_label: str = "",
    legend: tuple[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
) -> Figure:
    """Draw a région's départements (one highlighted, or shaded by a value) beside a locator map of France.

    Parameters
    ----------
    departements, regions : DataFrame
        Boundaries (``observatoire.data.datasets.boundaries("departement")`` and ``("region")``: one row per vertex).
    region : str
        Code of the région drawn (``"53"``).
    members : list of str
        Codes of its départements (from the geography reference).
    highlight : str, optional
        Code of the département filled in :data:`HIGHLIGHT` (the others in :data:`OTHER`).
    values : mapping, optional
        Code -> value: the départements are shaded on a sequential scale (with a colour bar) instead; a
        département without a value stays grey.
    value_label : str
        Label of the colour bar.
    legend : (str, str), optional
        The legend's words of a highlighted département: its name, and the other départements of its région
        (the words are the letter's, in its language; without them, no legend).
    region_names : mapping, optional
        Code -> name of the overseas régions written under their insets (default: the boundaries' names).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        An unknown région, a member without a boundary, or a highlighted code that is not a member.
    """
    charts.apply_style()
    departements, regions = features(departements), features(regions)
    rows = departements[departements["code"].isin(members)]
    missing = sorted(set(members) - set(rows["code"]))
    if missing:
        raise ValueError(f"no boundary for département(s) {', '.join(missing)}")
    if region not in set(regions["code"]):
        raise ValueError(f"no boundary for région {region!r}")
    if highlight is not None and highlight not in members:
        raise ValueError(f"département {highlight!r} is not in région {region!r}")

    fig = plt.figure(figsize=(charts.FIG_WIDTH, 4.2))
    main = fig.add_axes((0.0, 0.0, 0.62, 1.0))
    colours: dict[str, str] = {}
    if values is not None:
        known = {c: float(v) for c, v in values.items() if c in members and v is not None and np.isfinite(v)}
        if known:
            low, high = min(known.values()), max(known.values())
            norm = plt.Normalize(vmin=low, vmax=high if high > low else low + 1)
            cmap = plt.get_cmap(_SEQUENTIAL)
            colours = {c: _hex(cmap(0.25 + 0.7 * norm(v))) for c, v in known.items()}
            bar = fig.colorbar(
                plt.cm.ScalarMappable(norm=norm, cmap=_truncated(cmap)),
                ax=main,
                orientation="horizontal",
                fraction=0.04,
                pad=0.02,
                shrink=0.7,
            )
            bar.set_label(value_label, fontsize=8)
            bar.ax.xaxis.set_major_formatter(charts.french_formatter(None))
            bar.outline.set_linewidth(0.5)
    elif highlight is not None:
        colours = {highlight: HIGHLIGHT}
    _draw(main, rows, colours, "dep", _EDGE, 0.8)
    _label(main, rows)
    _frame(main, rows)
    if highlight is not None and values is None and legend is not None:
        handles = [Patch(facecolor=HIGHLIGHT), Patch(facecolor=OTHER)][: 1 if len(members) == 1 else 2]
        main.legend(
            handles=handles,
            labels=list(legend)[: len(handles)],
            loc="upper left",
            bbox_to_anchor=(0.0, 1.0),
            fontsize=7.5,
        )
    _locator(fig, regions, region, region_names or {})
    return fig


def _hex(rgba) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in rgba[:3])


def _truncated(cmap):
    """The part of the colour map the patches use (0.25 to 0.95), for the colour bar."""
    return ListedColormap(cmap(np.linspace(0.25, 0.95, 128)))


def _locator(fig: Figure, regions: pd.DataFrame, region: str, names: Mapping[str, str]) -> None:
    """Metropolitan France and the five overseas régions (insets), the région of the letter filled."""
    colours = {region: HIGHLIGHT}
    metro = regions[~regions["code"].isin(OVERSEAS_REGIONS)]
    ax = fig.add_axes((0.64, 0.28, 0.36, 0.72))
    _draw(ax, metro, colours, "reg", _EDGE, 0.5, step=8)
    _frame(ax, metro)
    width = 0.36 / len(OVERSEAS_REGIONS)
    for i, code in enumerate(OVERSEAS_REGIONS):
        inset = fig.add_axes((0.64 + i * width, 0.05, width * 0.92, 0.2))
        one = regions[regions["code"] == code]
        _draw(inset, one, colours, "reg", _EDGE, 0.5, step=2)
        _frame(inset, one, pad=0.08)
        inset.text(
            0.5,
            -0.02,
            names.get(code, one["nom"].iloc[0]),
            transform=inset.transAxes,
            ha="center",
            va="top",
            fontsize=5.5,
        )
