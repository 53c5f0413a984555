"""Interactive charts, data tables and downloads in the HTML letter, built from the figures' own data files.

Why Vega-Lite (through vega-embed). A chart is described as data (a JSON spec) rather than as code, so the spec is
written once per figure by :func:`vega_lite_spec` from what the chart functions record (kind and columns) and is
filled, at publication, with the rows of the very CSV written beside the static chart: the interactive and the
static charts cannot show different numbers. Vega is a well-kept library (University of Washington IDL, released
on the npm registry under BSD-3), draws SVG with its text as text (searchable, copyable, zoomable on a phone), has
tooltips and input bindings built in and takes a French number locale. Its three browser builds weigh about
0.85 MB, against about 4.5 MB for Plotly's. They are vendored (``vendor/``, pinned versions and checksums in
``vendor/vendor.json``, fetched from the npm registry by ``make vendor``): no script comes from a CDN.

Progressive enhancement. The renderer's static figure (SVG image, numbered caption, alt text) stays as it is,
and the PDF is never touched. :func:`enhance_letter` adds, after each figure: an empty chart container that the
script fills (and only then hides the static image, so without JavaScript the static chart shows), a data table
(``<details>``, formatted as the letter formats numbers, headers with ``scope``) that is also the accessible
alternative of the chart, and the downloads (French CSV, Excel, raw CSV, SVG, PNG). Series are toggled with
labelled checkboxes (keyboard-operable), values show on hover. Same inputs, same bytes.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from observatoire.core.formatting import NBSP, numbers_kept_together, parse_format
from observatoire.outputs.accessibility import (
    VISUALLY_HIDDEN_CSS,
    focusable_scroll_boxes,
    label_empty_headers,
)
from observatoire.outputs.downloads import reader_frame, reader_header
from observatoire.outputs.palette import PALETTE
from observatoire.outputs.tables import format_column
from observatoire.outputs.words import site_text, site_words

__all__ = [
    "VENDOR",
    "VENDOR_FILES",
    "FORMAT_LOCALE",
    "vega_lite_spec",
    "figure_block",
    "table_downloads",
    "enhance_letter",
]

#: Folder of the vendored browser builds (see vendor/vendor.json).
VENDOR = Path(__file__).parent / "vendor"
#: The scripts, in load order.
VENDOR_FILES = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
#: French number formatting for d3-format (thousands U+202F, decimal comma, U+2212 minus).
FORMAT_LOCALE = {
    "decimal": ",",
    "thousands": NBSP,
    "grouping": [3],
    "currency": ["", f"{NBSP}€"],
    "minus": "−",
}
#: Number formatting of each language's pages (English: thousands comma, decimal point).
FORMAT_LOCALES = {
    "fr": FORMAT_LOCALE,
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["€", ""], "minus": "−"},
}
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
_GREY = "#6E6E6E"


def _palette() -> list[str]:
    return list(PALETTE)


def _field(name: str) -> str:
    """A column name as a Vega-Lite field (dots and brackets would otherwise mean nested access)."""
    return re.sub(r"([.\[\]\\])", r"\\\1", str(name))


def _number_format(spec: str | None) -> str:
    """d3-format of a display spec (``"number:1"`` -> ``",.1f"``); changes show as percentages."""
    kind, _, decimals = (spec or "number:1").partition(":")
    if kind in ("year", "text"):
        return "d" if kind == "year" else ""
    places = int(decimals) if decimals else (1 if kind in ("rate", "change") else 0)
    return f",.{places}%" if kind == "change" else f",.{places}f"


def _tooltip(field: str, title: str, spec: str | None = None, kind: str = "quantitative") -> dict:
    entry = {"field": _field(field), "title": title, "type": kind}
    fmt = _number_format(spec) if kind == "quantitative" else ""
    if fmt:
        entry["format"] = fmt
    return entry


def _series_params(hue: str, levels: list[str]) -> tuple[list[dict], list[dict]]:
    """One checkbox per series (labelled, keyboard-operable) and the filter that hides unticked series."""
    params, tests = [], []
    for i, level in enumerate(levels):
        params.append(
            {"name": f"serie_{i}", "value": True, "bind": {"input": "checkbox", "name": f" {level}"}}
        )
        tests.append(f"(datum[{json.dumps(hue)}] !== {json.dumps(level)} || serie_{i})")
    return params, ([{"filter": " && ".join(tests)}] if tests else [])


def _header(column: str, headers: Mapping[str, str], lang: str = "fr") -> str:
    return headers.get(column) or reader_header(column, lang=lang)


def _js(value) -> str:
    """A string as a Vega expression literal (JSON, accents kept)."""
    return json.dumps(value, ensure_ascii=False)


def _description(fields: list[tuple[str, str, str | None, str]], lang: str) -> dict:
    """A transform writing each mark's description in the page's language (``"Année : 2016 ; Victimes : 122"``),
    which Vega gives the mark as its ``aria-label`` (its own is in English, with the data's column names)."""
    words = site_words(lang)["chart"]
    parts = []
    for field, title, spec, kind in fields:
        value = f"datum[{_js(field)}]"
        fmt = _number_format(spec) if kind == "quantitative" else ""
        shown = f"(isValid({value}) ? format({value}, {_js(fmt)}) : '—')" if fmt else f"{value} + ''"
        label, _, rest = words["pair"].partition("{value}")
        prefix = label.replace("{label}", title)
        parts.append(f"{_js(prefix)} + {shown}" + (f" + {_js(rest)}" if rest else ""))
    return {"calculate": f" + {_js(words['join'])} + ".join(parts), "as": "_description"}


def vega_lite_spec(
    description: Mapping | None,
    *,
    name: str,
    alt: str,
    columns: list[str],
    headers: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    lang: str = "fr",
) -> dict | None:
    """The Vega-Lite spec of a chart made by :mod:`observatoire.outputs.charts`, its data read from ``<name>.csv``.

    Parameters
    ----------
    description : mapping or None
        :func:`observatoire.outputs.charts.chart_description` of the figure.
    name : str
        The figure's name (its data file is ``<name>.csv``).
    alt : str
        The alt text (the spec's description: Vega puts it in the SVG's ``aria-label``).
    columns : list of str
        Columns of the data file: a chart whose columns are not all there has no interactive version.
    headers, formats : mapping, optional
        Headers (in the page's language) and display formats of the columns (tooltips use them).
    lang : str, default "fr"
        The page's language: each mark's description for screen readers is written in it (axes and legends are
        left out of the accessibility tree: the chart is described by its alt text and its data table).

    Returns
    -------
    dict or None
        None for a figure that is not one of the module's charts, or whose data file lacks its columns.
    """
    if not description:
        return None
    headers, formats = dict(headers or {}), dict(formats or {})
    kind = description.get("kind")
    if kind in ("line", "bar"):
        used = [description["x"], description["y"]] + ([description["hue"]] if description.get("hue") else [])
    elif kind == "rate_ci":
        used = [description[k] for k in ("label", "rate", "low", "high")]
        if description.get("highlight"):
            used.append(description["highlight"])
    else:
        return None
    if any(column not in columns for column in used):
        return None
    spec: dict = {
        "$schema": _SCHEMA,
        "description": alt,
        "data": {"url": f"{name}.csv", "format": {"type": "csv"}},
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {
            "font": "DejaVu Sans, Verdana, sans-serif",
            "view": {"stroke": None},
            "axis": {"aria": False},
            "legend": {"aria": False},
        },
    }
    palette = _palette()
    if kind == "line":
        spec.update(_line_spec(description, headers, formats, palette))
    elif kind == "bar":
        spec.update(_bar_spec(description, headers, formats, palette))
    else:
        spec.update(_rate_ci_spec(description, headers, formats, palette))
    encoding = spec["encoding"] if "encoding" in spec else spec["layer"][0]["encoding"]
    fields = [
        (
            re.sub(r"\\(.)", r"\1", t["field"]),
            t["title"],
            formats.get(re.sub(r"\\(.)", r"\1", t["field"])),
            t["type"],
        )
        for t in encoding["tooltip"]
    ]
    spec["transform"] = list(spec.get("transform") or []) + [_description(fields, lang)]
    chart_words = site_words(lang)["chart"]
    for mark in [spec.get("mark")] + [layer.get("mark") for layer in spec.get("layer", [])]:
        if isinstance(mark, dict) and mark.get(
            "aria", True
        ):  # what a screen reader calls it (Vega's: English)
            mark["ariaRoleDescription"] = chart_words[f"mark_{mark['type']}"]
    described = {"field": "_description", "type": "nominal"}
    if "encoding" in spec:
        spec["encoding"]["description"] = described
    else:
        for layer in spec["layer"]:
            if "data" not in layer:
                layer["encoding"]["description"] = described
    return spec


def _colour(hue: str | None, levels: list[str], palette: list[str]) -> dict:
    if not hue:
        return {"value": palette[0]}
    return {
        "field": _field(hue),
        "type": "nominal",
        "title": None,
        "scale": {"domain": levels, "range": [palette[i % len(palette)] for i in range(len(levels))]},
        "legend": {"orient": "top", "direction": "horizontal"},
    }


def _line_spec(d: Mapping, headers: Mapping, formats: Mapping, palette: list[str]) -> dict:
    x, y, hue = d["x"], d["y"], d.get("hue")
    levels = list(d.get("hue_order") or [])
    params, transform = _series_params(hue, levels) if hue else ([], [])
    x_enc = {"field": _field(x), "type": "quantitative", "title": d.get("xlabel") or None}
    if d.get("year_axis"):
        x_enc["axis"] = {"format": "d", "tickMinStep": 1}
        x_enc["scale"] = {"zero": False}
    y_enc = {"field": _field(y), "type": "quantitative", "title": d.get("ylabel") or None}
    tooltip = [_tooltip(x, _header(x, headers), formats.get(x) or ("year" if d.get("year_axis") else None))]
    if hue:
        tooltip.append(_tooltip(hue, _header(hue, headers), kind="nominal"))
    tooltip.append(_tooltip(y, _header(y, headers), formats.get(y)))
    encoding = {"x": x_enc, "y": y_enc, "color": _colour(hue, levels, palette), "tooltip": tooltip}
    break_year = d.get("break_year")
    transform = transform + _segments(x, y, hue, bool(d.get("year_axis")), break_year)
    encoding["detail"] = {"field": "_segment", "type": "nominal"}
    layers: list[dict] = [
        {"mark": {"type": "line", "strokeWidth": 2}},
        {"mark": {"type": "point", "filled": True, "size": 70}},
    ]
    if break_year is not None:
        layers.append(
            {
                "data": {"values": [{"x": float(break_year) - 0.5}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": _GREY, "aria": False},
                "encoding": {"x": {"field": "x", "type": "quantitative"}},
            }
        )
    return {"height": 300, "params": params, "transform": transform, "encoding": encoding, "layer": layers}


def _segments(x: str, y: str, hue: str | None, year_axis: bool, break_year: int | None) -> list[dict]:
    """Transforms numbering the runs of a line that may be joined: a new run after a missing value, a missing year
    (on a year axis) or the series break, so that no line joins two points across a gap or a break (as the static
    chart, :func:`observatoire.outputs.charts.line_chart`)."""
    field = f"datum[{json.dumps(x)}]"
    groupby = [hue] if hue else []
    starts = ["datum._previous === null"]
    if year_axis:
        starts.append(f"{field} - datum._previous > 1")
    if break_year is not None:
        starts.append(f"({field} >= {int(break_year)} && datum._previous < {int(break_year)})")
    return [
        {"filter": f"isValid(datum[{json.dumps(y)}]) && isFinite(datum[{json.dumps(y)}])"},
        {
            "window": [{"op": "lag", "field": x, "as": "_previous"}],
            "groupby": groupby,
            "sort": [{"field": x}],
        },
        {"calculate": " || ".join(starts) + " ? 1 : 0", "as": "_run_start"},
        {
            "window": [{"op": "sum", "field": "_run_start", "as": "_segment"}],
            "groupby": groupby,
            "sort": [{"field": x}],
            "frame": [None, 0],
        },
    ]


def _bar_spec(d: Mapping, headers: Mapping, formats: Mapping, palette: list[str]) -> dict:
    x, y, hue = d["x"], d["y"], d.get("hue")
    levels = list(d.get("hue_order") or [])
    params, transform = _series_params(hue, levels) if hue else ([], [])
    horizontal = bool(d.get("horizontal"))
    category = {
        "field": _field(x),
        "type": "nominal",
        "sort": list(d.get("order") or []),
        "title": d.get("xlabel") or None,
        "axis": {"labelAngle": 0, "labelLimit": 260},
    }
    value = {"field": _field(y), "type": "quantitative", "title": d.get("ylabel") or None}
    tooltip = [_tooltip(x, _header(x, headers), kind="nominal")]
    if hue:
        tooltip.append(_tooltip(hue, _header(hue, headers), kind="nominal"))
    tooltip.append(_tooltip(y, _header(y, headers), formats.get(y)))
    encoding = {
        "x": value if horizontal else category,
        "y": category if horizontal else value,
        "color": _colour(hue, levels, palette),
        "tooltip": tooltip,
    }
    if hue:
        encoding["yOffset" if horizontal else "xOffset"] = {"field": _field(hue), "sort": levels}
    return {
        "height": {"step": 18} if horizontal else 300,
        "params": params,
        "transform": transform,
        "mark": {"type": "bar"},
        "encoding": encoding,
    }


def _rate_ci_spec(d: Mapping, headers: Mapping, formats: Mapping, palette: list[str]) -> dict:
    label, rate, low, high = d["label"], d["rate"], d["low"], d["high"]
    transform: list[dict] = []
    if d.get("highlight"):
        flag = f"datum[{json.dumps(d['highlight'])}]"
        test = f"({flag} === true || {flag} === 'True' || {flag} === 'true' || {flag} === 1)"
    elif d.get("highlight_labels"):
        test = f"indexof({json.dumps(list(d['highlight_labels']))}, datum[{json.dumps(label)}]) >= 0"
    else:
        test = "false"
    other, accent = d.get("other_label", "Métropole"), d.get("highlight_label", "Outre-mer")
    transform.append({"calculate": f"{test} ? {json.dumps(accent)} : {json.dumps(other)}", "as": "_groupe"})
    levels = [other, accent] if test != "false" else [other]
    sort = {"field": _field(rate), "order": "descending"} if d.get("sort", True) else None
    y_enc = {
        "field": _field(label),
        "type": "nominal",
        "sort": sort,
        "title": None,
        "axis": {"labelFontSize": 10, "labelLimit": 240},
    }
    tooltip = [
        _tooltip(label, _header(label, headers), kind="nominal"),
        _tooltip(rate, _header(rate, headers), formats.get(rate) or "number:1"),
        _tooltip(low, _header(low, headers), formats.get(low) or "number:1"),
        _tooltip(high, _header(high, headers), formats.get(high) or "number:1"),
    ]
    colour = {
        "field": "_groupe",
        "type": "nominal",
        "title": None,
        "scale": {"domain": levels, "range": palette[: len(levels)]},
        "legend": {"orient": "top", "direction": "horizontal"},
    }
    shared = {"y": y_enc, "color": colour, "tooltip": tooltip}
    x_title = d.get("xlabel") or None
    layers: list[dict] = [
        {
            "mark": {"type": "rule", "strokeWidth": 1.5},
            "encoding": {
                **shared,
                "x": {
                    "field": _field(low),
                    "type": "quantitative",
                    "title": x_title,
                    "axis": {"orient": "top"},
                },
                "x2": {"field": _field(high)},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 50},
            "encoding": {**shared, "x": {"field": _field(rate), "type": "quantitative"}},
        },
    ]
    reference = d.get("reference")
    if reference is not None:
        layers.append(
            {
                "data": {"values": [{"x": reference}]},
                "mark": {"type": "rule", "strokeDash": [2, 2], "color": "#222222", "aria": False},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative"},
                    "tooltip": {"value": f"{d.get('reference_label', 'France')}"},
                },
            }
        )
    return {
        "height": {"step": 14},
        "transform": transform,
        "layer": layers,
    }


# The HTML letter ------------------------------------------------------------------------------------------------

_STYLE = """<style id="observatoire-interactive">
.chart-interactive { width: 100%; margin: 0.5rem 0; }
.chart-interactive .vega-bindings { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; font-size: 0.9rem; }
.chart-data summary, .chart-downloads { font-size: 0.9rem; }
.chart-data summary { cursor: pointer; }
.chart-data table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
.chart-data th, .chart-data td { border-bottom: 1px solid #ccc; padding: 0.15rem 0.5rem; }
.chart-data td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#vg-tooltip-element { font-size: 0.85rem; }
VISUALLY_HIDDEN
</style>
"""

_SCRIPT = """<script>
(function () {
  "use strict";
  if (typeof vegaEmbed !== "function") { return; }
  var locale = %s, role = %s;
  document.querySelectorAll(".chart-interactive[data-spec]").forEach(function (box) {
    var spec = JSON.parse(document.getElementById(box.dataset.spec).textContent);
    box.hidden = false;
    vegaEmbed(box, spec, { renderer: "svg", actions: false, formatLocale: locale, tooltip: { theme: "light" } })
      .then(function () {
        // Vega's own words for screen readers are English: the chart is named in the page's language, and
        // the containers of its marks (each mark has its description) are not announced
        // (again whenever Vega redraws the chart)
        var words = function () {
          [box].concat(Array.from(box.querySelectorAll("[role=graphics-document]"))).forEach(function (el) {
            if (el.getAttribute("role") === "graphics-document" && el.getAttribute("aria-roledescription") !== role) {
              el.setAttribute("aria-roledescription", role);
            }
          });
          box.querySelectorAll("[role=graphics-object][aria-roledescription]").forEach(function (el) {
            el.removeAttribute("aria-roledescription");
          });
        };
        words();
        new MutationObserver(words).observe(box, { subtree: true, childList: true, attributes: true,
                                                   attributeFilter: ["aria-roledescription", "role"] });
        var figure = document.getElementById(box.dataset.figure);
        var image = figure ? figure.querySelector("img") : null;
        if (image) { image.hidden = true; }
        box.classList.add("ready");
      })
      .catch(function (error) { box.hidden = true; console.error(error); });
  });
})();
</script>
"""


def _read_rows(path: Path) -> list[dict]:
    """The rows of a data CSV as JSON values (numbers as numbers, an empty cell as null)."""

    def value(cell: str):
        if cell == "":
            return None
        for kind in (int, float):
            try:
                number = kind(cell)
            except ValueError:
                continue
            return number if number == number else None  # NaN is missing
        return cell

    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _script_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")


def read_data(csv_path: Path, formats: Mapping[str, str]) -> pd.DataFrame:
    """A figure's machine CSV as saved: text columns (codes such as "01", "2A") kept as text."""
    text = [c for c, spec in formats.items() if spec == "text"]
    return pd.read_csv(csv_path, dtype=dict.fromkeys(text, str), keep_default_na=True)


def data_table_view(meta: Mapping, csv_path: Path):
    """The reader's view of a figure's data (:func:`observatoire.outputs.downloads.reader_frame`): what its data table
    shows and its reader's CSV holds."""
    formats = dict(meta.get("formats") or {})
    return reader_frame(
        read_data(csv_path, formats),
        headers=meta.get("headers") or {},
        formats=formats,
        chart=meta.get("chart"),
        lang=meta.get("lang") or "fr",
    )


def _data_table(csv_path: Path, meta: Mapping, caption: str) -> str:
    """The chart's data as an HTML table, as the letter prints numbers (the chart's text alternative): the
    reader's columns, headers and values, the same as the reader's CSV."""
    view = data_table_view(meta, csv_path)
    head, body_columns, numeric = [], [], []
    for column in view.frame.columns:
        spec = view.formats[column]
        head.append(f'<th scope="col">{html.escape(view.headers[column])}</th>')
        body_columns.append(format_column(view.frame[column], spec, view.lang))
        numeric.append(parse_format(spec)[0] not in ("text", "year"))
    rows = []
    for cells in zip(*body_columns, strict=True) if body_columns else []:
        tds = [
            f'<td class="num">{html.escape(c)}</td>' if is_num else f"<td>{html.escape(c)}</td>"
            for c, is_num in zip(cells, numeric, strict=True)
        ]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<table class="data-table"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


#: The other downloads under a figure and a table, after the main link (the reader's CSV, written by
#: letter.lua): key of ``files`` and key of the ``downloads`` words.
_FIGURE_DOWNLOADS = [("xlsx", "xlsx"), ("csv", "machine"), ("svg", "svg"), ("png", "png")]
_TABLE_DOWNLOADS = [("xlsx", "xlsx"), ("csv", "machine")]


def _download_links(folder: str, files: Mapping[str, str], kinds: list[tuple[str, str]], lang: str) -> str:
    words = site_words(lang)["downloads"]
    links = [
        f'<a href="{folder}/{html.escape(files[key])}" download>{html.escape(words[label])}</a>'
        for key, label in kinds
        if key in files
    ]
    colon = f"{NBSP}: " if lang == "fr" else ": "
    return f'<p class="chart-downloads">{html.escape(words["other"])}{colon}' + " · ".join(links) + "</p>"


def figure_block(meta: Mapping, figures_dir: Path, element_id: str) -> tuple[str, bool]:
    """What follows a figure in the HTML letter: interactive chart, data table, the other downloads.

    Parameters
    ----------
    meta : mapping
        The figure's metadata (``figures/<name>.json``).
    figures_dir : Path
        The folder holding its files.
    element_id : str
        The id of the figure's element in the page (its image is hidden once the interactive chart is drawn).

    Returns
    -------
    (str, bool)
        The HTML and whether it holds an interactive chart.
    """
    name = meta["name"]
    lang = meta.get("lang") or "fr"
    words = site_words(lang)["data_table"]
    files = meta.get("files") or {}
    parts = [f'<div class="chart-extras" id="extras-{name}">']
    spec_file = files.get("vega_lite")
    interactive = bool(spec_file) and (figures_dir / spec_file).is_file()
    if interactive:
        spec = json.loads((figures_dir / spec_file).read_text(encoding="utf-8"))
        spec["data"] = {"values": _read_rows(figures_dir / files["csv"])}
        parts.append(
            f'<div class="chart-interactive" id="chart-{name}" data-spec="spec-{name}" '
            f'data-figure="{html.escape(element_id)}" hidden></div>'
        )
        parts.append(f'<script type="application/json" id="spec-{name}">{_script_json(spec)}</script>')
    caption = numbers_kept_together(site_text(lang, "data_table.caption", title=meta.get("title", name)))
    parts.append(
        f'<details class="chart-data"><summary>{html.escape(words["summary"])}</summary>'
        + _data_table(figures_dir / files["csv"], meta, caption)
        + "</details>"
    )
    parts.append(_download_links("figures", files, _FIGURE_DOWNLOADS, lang))
    parts.append("</div>")
    return "\n".join(parts) + "\n", interactive


def table_downloads(meta: Mapping) -> str:
    """The other download links that follow a table in the HTML letter (Excel, the machine file)."""
    return (
        _download_links("tables", meta.get("files") or {}, _TABLE_DOWNLOADS, meta.get("lang") or "fr") + "\n"
    )


def _element_end(text: str, id_at: int) -> int:
    """Index just past the element whose start tag holds position ``id_at`` (same-name tags nested counted)."""
    start = text.rfind("<", 0, id_at)
    tag = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)", text[start:]).group(1)
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>", re.IGNORECASE)
    depth = 0
    for match in pattern.finditer(text, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    raise ValueError(f"unclosed <{tag}> in the letter's HTML")


def _after_data_link(text: str, end: int) -> int:
    """Past the renderer's data-link block when it follows the element (so extras come after it)."""
    match = re.compile(r'\s*<div class="data-download"[^>]*>').match(text, end)
    return _element_end(text, match.start() + len(match.group(0)) - 1) if match else end


def _insert_after(text: str, element_id: str, block: str) -> str | None:
    match = re.search(rf'\sid="{re.escape(element_id)}"', text)
    if match is None:
        return None
    end = _after_data_link(text, _element_end(text, match.start()))
    return text[:end] + "\n" + block + text[end:]


def _load_metas(folder: Path) -> list[dict]:
    metas = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name.endswith(".vl.json"):
            continue
        meta = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(meta, dict) and "name" in meta and "files" in meta:
            metas.append(meta)
    return metas


def enhance_letter(html_path: Path, project_dir: Path, lang: str | None = None) -> dict[str, list[str]]:
    """Add interactive charts, data tables, downloads and header scopes to a rendered HTML letter, in place.

    Parameters
    ----------
    html_path : Path
        The rendered letter (``index.html``). The vendored scripts are copied beside it (``js/``); the files its
        links point to (``figures/``, ``tables/``) are copied there by the release's data stage.
    project_dir : Path
        The staged publication (``figures/*.json``, ``tables/*.json`` and the files they name).
    lang : {"fr", "en"}, optional
        The letter's language: the numbers of the data tables and of the charts (d3-format locale), the
        screen-reader words; default: the language its figures and tables were written in (else French).

    Returns
    -------
    dict
        ``{"interactive": [...], "figures": [...], "tables": [...]}``: the names enhanced, in file order.
    """
    text = html_path.read_text(encoding="utf-8")
    figures, tables = _load_metas(project_dir / "figures"), _load_metas(project_dir / "tables")
    if lang is None:
        lang = next((m["lang"] for m in figures + tables if m.get("lang")), "fr")  # the outputs' language
    out_dir = html_path.parent
    done: dict[str, list[str]] = {"interactive": [], "figures": [], "tables": []}
    for meta in figures:
        element_id = f"fig-{meta['name']}"
        block, interactive = figure_block(meta, project_dir / "figures", element_id)
        updated = _insert_after(text, element_id, block)
        if updated is None:
            continue
        text = updated
        done["figures"].append(meta["name"])
        if interactive:
            done["interactive"].append(meta["name"])
    for meta in tables:
        updated = _insert_after(text, f"tbl-{meta['name']}", table_downloads(meta))
        if updated is None:
            continue
        text = updated
        done["tables"].append(meta["name"])
    row_label = site_text(lang, "data_table.row_label")
    text = label_empty_headers(re.sub(r"<th(?![^>]*\bscope=)(?=[\s>])", '<th scope="col"', text), row_label)
    text = focusable_scroll_boxes(text)  # the data tables added above scroll on a phone, like the letter's
    head = _STYLE.replace("VISUALLY_HIDDEN", VISUALLY_HIDDEN_CSS)
    tail = ""
    if done["interactive"]:
        scripts = out_dir / "js"
        scripts.mkdir(exist_ok=True)
        for name in VENDOR_FILES:
            shutil.copyfile(VENDOR / name, scripts / name)
        tail = "".join(f'<script src="js/{name}"></script>\n' for name in VENDOR_FILES)
        role = site_text(lang, "chart.roledescription")
        tail += _SCRIPT % (
            json.dumps(FORMAT_LOCALES[lang], ensure_ascii=False),
            json.dumps(role, ensure_ascii=False),
        )
    text = text.replace("</head>", head + "</head>", 1).replace("</body>", tail + "</body>", 1)
    html_path.write_text(text, encoding="utf-8")
    return done
