"""Charts never join points across a missing year or a series break, and the break's label hides no point.

Read where a reader meets them: the saved SVG of the static chart (every segment of a series' path joins two
consecutive years of the same side of the break) and the interactive Vega-Lite spec (its transforms, evaluated
here on the chart's own data, number the runs a line may join: a new run after a gap and at the break).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from matplotlib.transforms import Bbox

from observatoire.outputs import charts

DATA = pd.DataFrame(
    {
        "annee": [2016, 2017, 2019, 2020, 2021, 2016, 2017, 2018, 2020, 2021],
        "serie": ["A"] * 5 + ["B"] * 5,
        "victimes": [10.0, 12.0, 13.0, 30.0, 31.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    }
)
BREAK = 2020
#: Runs a line may join, by series: consecutive years, on one side of the break.
RUNS = {"A": [[2016, 2017], [2019], [2020, 2021]], "B": [[2016, 2017, 2018], [2020, 2021]]}


def _points(path: str) -> list[list[tuple[float, float]]]:
    """The sub-paths (``M`` then ``L``...) of an SVG path, as lists of points."""
    runs = []
    for command, x, y in re.findall(r"([ML])\s*([-\d.]+)\s+([-\d.]+)", path):
        if command == "M":
            runs.append([])
        runs[-1].append((float(x), float(y)))
    return runs


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("gaps")
    fig = charts.line_chart(DATA, "annee", "victimes", hue="serie", break_year=BREAK, break_label="Rupture")
    ax = fig.axes[0]
    fig.canvas.draw()
    to_px = ax.transData
    label = next(t for t in ax.texts if t.get_text() == "Rupture").get_window_extent()
    points = [to_px.transform((x, y)) for x, y in zip(DATA["annee"], DATA["victimes"], strict=True)]
    meta = charts.save_figure(fig, "gaps", out, DATA, title="T", source="S", alt="A")
    svg = (out / "figures" / meta["files"]["svg"]).read_text(encoding="utf-8")
    spec = json.loads((out / "figures" / meta["files"]["vega_lite"]).read_text(encoding="utf-8"))
    return svg, spec, label, points


def test_the_svg_draws_one_sub_path_per_run(saved):
    svg = saved[0]
    for i, level in enumerate(("A", "B")):
        group = re.search(rf'<g id="series-{i}">\s*<path d="([^"]*)"', svg)
        assert group, f"no path for series {level}"
        runs = _points(group.group(1))
        assert [len(r) for r in runs] == [len(r) for r in RUNS[level]], level
        # x positions: one year apart inside a run, more than one year between runs
        years = [y for run in RUNS[level] for y in run]
        xs = [p[0] for run in runs for p in run]
        step = (xs[-1] - xs[0]) / (years[-1] - years[0])
        for run in runs:
            for (x0, _), (x1, _) in zip(run, run[1:], strict=False):
                assert x1 - x0 == pytest.approx(step, rel=1e-3), "a segment spans more than one year"


def test_the_break_label_hides_no_point(saved):
    label, points = saved[2], saved[3]
    box = Bbox(label.get_points()).expanded(1.02, 1.1)
    assert not any(box.contains(x, y) for x, y in points)


class _Datum(dict):
    __getattr__ = dict.get


def _js(expression: str) -> str:
    """The few JavaScript operators the segment transforms use, in Python."""
    text = expression.replace("===", "==").replace("&&", " and ").replace("||", " or ")
    text = text.replace("null", "None")
    condition, _, rest = text.partition("?")
    then, _, otherwise = rest.partition(":")
    return f"({then.strip()}) if ({condition.strip()}) else ({otherwise.strip()})"


def _segments(spec: dict, rows: list[dict]) -> dict:
    """Apply the spec's segment transforms (lag window, calculate, running sum) to rows of one series."""
    rows = sorted(rows, key=lambda r: r["annee"])
    transforms = spec["transform"]
    lag = next(t for t in transforms if "window" in t and t["window"][0]["op"] == "lag")
    start = next(t for t in transforms if t.get("as") == "_run_start")
    assert lag["window"][0]["field"] == "annee" and lag["groupby"] == ["serie"]
    previous, total, out = None, 0, {}
    for row in rows:
        datum = _Datum(row, _previous=previous)
        total += eval(_js(start["calculate"]), {}, {"datum": datum})  # noqa: S307 - the spec's own expression
        out[row["annee"]] = total
        previous = row["annee"]
    return out


def test_the_interactive_spec_splits_lines_at_gaps_and_at_the_break(saved):
    spec = saved[1]
    assert spec["encoding"]["detail"]["field"] == "_segment"
    for level, runs in RUNS.items():
        rows = DATA.loc[DATA["serie"] == level].to_dict("records")
        segment = _segments(spec, rows)
        found = {}
        for year, number in segment.items():
            found.setdefault(number, []).append(year)
        assert list(found.values()) == runs, level


def test_missing_values_are_filtered_before_the_runs_are_numbered(saved):
    spec = saved[1]
    filters = [t["filter"] for t in spec["transform"] if "filter" in t]
    assert any("isValid" in f and "victimes" in f for f in filters)
