"""EditionContext: output folder resolution, style, and saving through it."""

from __future__ import annotations

import json

import matplotlib as mpl
import pandas as pd
import pytest

from observatoire.core import paths
from observatoire.outputs import charts
from observatoire.outputs.context import EditionContext, default_output_dir


def test_default_output_dir_is_under_build(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "BUILD", tmp_path / "build")
    assert default_output_dir("annual", 2024) == tmp_path / "build" / "annual" / "2024" / "outputs"
    for empty in (None, ""):
        ctx = EditionContext("annual", "2024", "01_national", output_dir=empty)
        assert ctx.output_dir == (tmp_path / "build" / "annual" / "2024" / "outputs").resolve()
        assert ctx.output_dir.is_dir()
        assert ctx.year == 2024


def test_output_dir_as_str_or_path(tmp_path, monkeypatch):
    as_str = EditionContext("annual", 2024, "nb", output_dir=str(tmp_path / "a"))
    as_path = EditionContext("annual", 2024, "nb", output_dir=tmp_path / "b")
    assert as_str.output_dir == tmp_path / "a" and as_str.output_dir.is_dir()
    assert as_path.output_dir == tmp_path / "b"
    monkeypatch.chdir(tmp_path)
    relative = EditionContext("annual", 2024, "nb", output_dir="rel/out")
    assert relative.output_dir == tmp_path / "rel" / "out"


def test_context_applies_the_style(tmp_path):
    mpl.rcParams["svg.fonttype"] = "none"
    EditionContext("annual", 2024, "nb", output_dir=tmp_path)
    assert mpl.rcParams["svg.fonttype"] == "path"


@pytest.mark.parametrize(("theme", "year"), [("", 2024), ("annual", "deux"), ("annual", 24)])
def test_bad_edition(tmp_path, theme, year):
    with pytest.raises(ValueError):
        EditionContext(theme, year, "nb", output_dir=tmp_path)


def test_save_and_finish(tmp_path):
    ctx = EditionContext("traite", 2024, "01_national", output_dir=tmp_path)
    data = pd.DataFrame({"year": [2022, 2023, 2024], "value": [10.0, 11.0, 12.5]})
    fig = charts.line_chart(data, "year", "value")
    figure = ctx.save_figure(fig, "serie", data, title="Série", source="SSMSI", alt="Une courbe en hausse.")
    table = ctx.save_table(data, "serie", title="Série", source="SSMSI", formats={"value": "number:1"})
    ctx.facts.add("dernier", 12.5, unit="victimes", decimals=1, source_id="ssmsi_dep_2024", edition="2024")
    path = ctx.finish()
    assert (tmp_path / "figures" / "serie.svg").is_file() and (tmp_path / "tables" / "serie.md").is_file()
    assert ctx.figures == [figure] and ctx.tables == [table]
    assert path == tmp_path / "facts" / "01_national.json"
    assert json.loads(path.read_text(encoding="utf-8"))["facts"]["dernier"]["text"] == "12,5"


def test_saved_figure_is_shown_once_in_a_notebook(tmp_path, monkeypatch):
    import base64

    import IPython

    shown = []
    monkeypatch.setattr(charts, "display", lambda obj, raw=False: shown.append(obj))
    ctx = EditionContext("traite", 2024, "nb", output_dir=tmp_path)
    data = pd.DataFrame({"year": [2022, 2023], "value": [1.0, 2.0]})
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    outside = ctx.save_figure(
        charts.line_chart(data, "year", "value"), "a", data, title="A", source="S", alt="x"
    )
    assert shown == [] and isinstance(outside, dict)  # a script or a test: nothing displayed
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    meta = ctx.save_figure(
        charts.line_chart(data, "year", "value"), "b", data, title="B", source="S", alt='Une "courbe" <b>'
    )
    meta._ipython_display_()  # the cell's result as well: still shown once
    assert len(shown) == 1
    page = shown[0]["text/html"]
    svg = (tmp_path / "figures" / "b.svg").read_bytes()
    assert f'src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}"' in page
    assert 'alt="Une &quot;courbe&quot; &lt;b&gt;"' in page and "figures/b.xlsx" in page
    assert shown[0]["image/svg+xml"].encode("utf-8") == svg  # an image output too (nbval, nbconvert)


def test_typed_captions_write_french_only_and_no_second_word_mechanism(tmp_path):
    """A notebook still typing its captions (the thematic letters being converted) writes French only: the
    other languages' words come from the notebook's metadata file, never from French text translated."""
    with pytest.raises(ValueError, match="once"):
        EditionContext("annual", 2024, "nb", output_dir=tmp_path / "out", langue="en")
    ctx = EditionContext("annual", 2024, "nb", output_dir=tmp_path / "out")
    data = pd.DataFrame({"year": [2023, 2024], "value": [1.0, 2.0]})
    french = ctx.save_figure(charts.line_chart(data, "year", "value"), "serie", data, title="Série, 2023-2024",
                             source="SSMSI, édition 2024", alt="Une courbe en hausse.")  # fmt: skip
    ctx.save_table(data, "serie", title="Série", source="SSMSI", columns={"year": "Année", "value": "Valeur"})
    assert french["title"] == "Série, 2023-2024"
    assert (tmp_path / "out" / "figures" / "serie.json").is_file()
    assert "| Année | Valeur |" in (tmp_path / "out" / "tables" / "serie.md").read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "en").exists()
    assert not hasattr(ctx, "vocabularies")
    assert not list(paths.ROOT.joinpath("notebooks").glob("*/vocabulary.*.yml"))
