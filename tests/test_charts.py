"""Charts: the look, French axes, gaps and breaks, and deterministic export (with its negative cases)."""

from __future__ import annotations

import hashlib
import io
import json

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from observatoire.core import paths
from observatoire.outputs import charts
from observatoire.outputs.charts import PALETTE, apply_style, french_formatter, save_figure


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _series() -> pd.DataFrame:
    years = list(range(2012, 2025))
    df = pd.DataFrame(
        {
            "year": years * 2,
            "value": [1000 * 1.05**i for i in range(13)] + [800 + 20 * i for i in range(13)],
            "indicator": ["Violences sexuelles"] * 13 + ["Coups et blessures volontaires"] * 13,
        }
    )
    df.loc[3, "value"] = np.nan  # 2015 missing for the first series
    return df.drop(index=[20])  # 2019 absent for the second series


def _departements(n: int = 101) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rate = rng.uniform(4, 15, n)
    return pd.DataFrame(
        {
            "nom": [f"Département {i:03d}" for i in range(n)],
            "rate": rate,
            "low": rate - 1.0,
            "high": rate + 1.2,
            "is_overseas": [i >= n - 5 for i in range(n)],
        }
    )


def _build_and_save(out_dir, name="evolution"):
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator", break_year=2016)
    return save_figure(
        fig,
        name,
        out_dir,
        df,
        title="Victimes enregistrées, 2012-2024",
        source="SSMSI, base départementale, édition 2024",
        alt="Deux courbes en hausse de 2012 à 2024.",
        note="Changement de périmètre en 2016.",
    )


def _files(out_dir, name="evolution"):
    folder = out_dir / "figures"
    return {ext: (folder / f"{name}.{ext}").read_bytes() for ext in ("svg", "png", "csv", "json")}


# Style --------------------------------------------------------------------------------------------------------


def test_palette_is_okabe_ito():
    assert len(PALETTE) == 8
    assert set(PALETTE) == {
        "#E69F00",
        "#56B4E9",
        "#009E73",
        "#F0E442",
        "#0072B2",
        "#D55E00",
        "#CC79A7",
        "#000000",
    }


def test_apply_style_is_idempotent_and_draws_text_as_paths():
    apply_style()
    first = dict(mpl.rcParams)
    apply_style()
    assert dict(mpl.rcParams) == first
    assert mpl.rcParams["svg.fonttype"] == "path"
    assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"


def test_french_formatter_exact_strings():
    fmt = french_formatter()
    assert fmt(12500) == "12\u202f500"
    assert fmt(-2) == "\u22122"
    assert french_formatter(1)(2.5) == "2,5"
    assert french_formatter(1, percent=True)(12.5) == "12,5\u202f%"
    auto = french_formatter(None)
    assert auto.format_ticks([0, 2.5, 5.0]) == ["0,0", "2,5", "5,0"]
    assert auto.format_ticks([0, 20000, 40000]) == ["0", "20\u202f000", "40\u202f000"]


# Charts -------------------------------------------------------------------------------------------------------


def test_line_chart_leaves_gaps_and_marks_the_break():
    fig = charts.line_chart(
        _series(), "year", "value", hue="indicator", break_year=2016, break_label="Changement de périmètre"
    )
    ax = fig.axes[0]
    lines = [
        line
        for line in ax.get_lines()
        if line.get_label() in ("Violences sexuelles", "Coups et blessures volontaires")
    ]
    assert len(lines) == 2
    first = dict(zip(lines[0].get_xdata(), lines[0].get_ydata(), strict=True))
    second = dict(zip(lines[1].get_xdata(), lines[1].get_ydata(), strict=True))
    assert np.isnan(first[2015.0])  # missing value: a gap
    assert np.isnan(second[2019.0])  # absent year: a gap too, not a straight line from 2018 to 2020
    assert np.isnan(first[2015.5]) and np.isnan(second[2015.5])  # not joined across the break
    breaks = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(breaks) == 1 and list(breaks[0].get_xdata()) == [2015.5, 2015.5]
    assert "Changement de périmètre" in [t.get_text() for t in ax.texts]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "2016" in labels and not any("\u202f" in label for label in labels)  # years are not "2 016"
    assert ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Violences sexuelles",
        "Coups et blessures volontaires",
    ]


def test_line_chart_rejects_duplicates():
    df = pd.DataFrame({"year": [2020, 2020, 2021], "value": [1, 2, 3]})
    with pytest.raises(ValueError, match="twice"):
        charts.line_chart(df, "year", "value")
    with pytest.raises(KeyError):
        charts.line_chart(df, "year", "nope")


def test_bar_chart_values_and_duplicates():
    df = pd.DataFrame({"year": [2022, 2023], "victimes": [12000, 13500]})
    fig = charts.bar_chart(df, "year", "victimes", value_labels=True)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["12\u202f000", "13\u202f500"]
    assert len(ax.patches) == 2
    with pytest.raises(ValueError, match="aggregate"):
        charts.bar_chart(pd.concat([df, df]), "year", "victimes")
    fig = charts.bar_chart(
        pd.DataFrame({"g": ["a", "b"], "v": [1.5, 2.5], "h": ["x", "y"]}),
        "g",
        "v",
        hue="h",
        horizontal=True,
        percent=True,
    )
    assert fig.axes[0].get_legend() is not None


def test_rate_ci_chart_fits_101_departements():
    data = _departements()
    fig = charts.rate_ci_chart(
        data,
        "nom",
        "rate",
        "low",
        "high",
        highlight="is_overseas",
        reference=9.8,
        xlabel="Taux pour 1 000 habitants",
    )
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 101 and len(set(labels)) == 101
    # Sorted: the highest rate at the top (largest y position).
    assert labels[-1] == data.sort_values("rate", ascending=False)["nom"].iloc[0]
    assert fig.get_figheight() >= 13
    colours = {tuple(c) for c in ax.collections[1].get_facecolors()}
    assert colours == {mpl.colors.to_rgba(PALETTE[0]), mpl.colors.to_rgba(PALETTE[1])}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Métropole", "Outre-mer", "France\u00a0: 9,8"]
    assert any(list(line.get_xdata()) == [9.8, 9.8] for line in ax.get_lines())


def test_rate_ci_chart_highlight_by_labels_and_missing_rate():
    data = _departements(10)
    data.loc[2, ["rate", "low", "high"]] = np.nan
    fig = charts.rate_ci_chart(data, "nom", "rate", "low", "high", highlight=["Département 001"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Département 002"  # bottom row
    assert "donnée non disponible" in [t.get_text() for t in ax.texts]


# Export -------------------------------------------------------------------------------------------------------


def test_save_figure_writes_four_files_with_checksums(tmp_path):
    meta = _build_and_save(tmp_path)
    files = _files(tmp_path)
    on_disk = json.loads(files["json"])
    assert on_disk == meta
    assert files["json"].endswith(b"\n")
    for ext in ("svg", "png", "csv"):
        assert meta["sha256"][ext] == hashlib.sha256(files[ext]).hexdigest()
        assert meta["files"][ext] == f"evolution.{ext}"
    assert meta["alt"] == "Deux courbes en hausse de 2012 à 2024."
    assert meta["caption"] == meta["title"]
    assert meta["columns"] == ["year", "value", "indicator"] and meta["n_rows"] == 25
    csv = files["csv"].decode("utf-8")
    assert csv.startswith("year,value,indicator\n2012,1000.0,Violences sexuelles\n") and "\r" not in csv
    assert "2015,,Violences sexuelles" in csv  # missing stays empty, not 0


def test_a_facts_only_run_writes_the_data_and_metadata_of_a_figure_without_drawing_it(tmp_path, monkeypatch):
    drawn = _build_and_save(tmp_path / "drawn")
    plt.close("all")
    monkeypatch.setenv(paths.DRAW_FIGURES_VARIABLE, "no")
    meta = _build_and_save(tmp_path / "facts")
    assert sorted(p.name for p in (tmp_path / "facts" / "figures").iterdir()) == [
        "evolution.csv",
        "evolution.fr.csv",
        "evolution.json",
        "evolution.vl.json",
    ]
    # the words, data and data files are the release's, byte for byte; only the drawings are missing
    assert sorted(meta["sha256"]) == ["csv", "csv_fr", "vega_lite"]
    for kind in ("csv", "csv_fr", "vega_lite"):
        assert meta["sha256"][kind] == drawn["sha256"][kind]
    unchanged = ("sha256",)  # the file names too: the templates cite the figure's SVG
    assert {k: v for k, v in meta.items() if k not in unchanged} == {
        k: v for k, v in drawn.items() if k not in unchanged
    }
    assert not plt.get_fignums()  # closed all the same


@pytest.mark.parametrize(
    ("wanted", "french", "english"),
    [
        ("", True, True),
        ("fr,en", True, True),
        ("fr", True, False),
        (" en ", False, True),
        ("no", False, False),
    ],
)
def test_a_run_draws_the_figures_of_the_languages_it_is_told(monkeypatch, wanted, french, english):
    monkeypatch.setenv(paths.DRAW_FIGURES_VARIABLE, wanted)
    assert (charts.draws_figures("fr"), charts.draws_figures("en")) == (french, english)
    monkeypatch.delenv(paths.DRAW_FIGURES_VARIABLE)
    assert charts.draws_figures("en")  # unset: every language


def test_a_figure_in_a_language_not_drawn_gets_its_data_and_metadata(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.DRAW_FIGURES_VARIABLE, "fr")
    french = _build_and_save(tmp_path / "fr")
    assert {"svg", "png", "xlsx", "phone_svg"} <= set(french["sha256"])
    df = _series()
    with charts.language("en"):
        fig = charts.line_chart(df, "year", "value", hue="indicator")
    meta = save_figure(fig, "fig", tmp_path / "en", df, title="Title", source="SSMSI", alt="Lines", lang="en")
    assert sorted(meta["sha256"]) == ["csv", "csv_en", "vega_lite"]
    assert sorted(p.name for p in (tmp_path / "en" / "figures").iterdir()) == [
        "fig.csv",
        "fig.en.csv",
        "fig.json",
        "fig.vl.json",
    ]
    assert meta["files"]["svg"] == "fig.svg"  # named all the same: the templates cite it


def test_save_figure_draws_title_source_and_note_as_paths(tmp_path):
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator")
    save_figure(fig, "fig", tmp_path, df, title="Titre", source="SSMSI", alt="Courbes", note="Une note.")
    texts = [t.get_text() for t in fig.texts]
    assert "Titre" in texts and "Source\u00a0: SSMSI\nNote\u00a0: Une note." in texts
    svg = (tmp_path / "figures" / "fig.svg").read_text(encoding="utf-8")
    assert "<text" not in svg  # text drawn as paths: typst cannot substitute fonts
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    png = Image.open(io.BytesIO((tmp_path / "figures" / "fig.png").read_bytes()))
    assert round(png.info["dpi"][0]) == charts.PNG_DPI
    assert "Software" not in png.info


def test_save_figure_closes_the_figure(tmp_path):
    df = _series()
    plt.close("all")  # (figures of other tests)
    fig = charts.line_chart(df, "year", "value", hue="indicator")
    number = fig.number
    save_figure(fig, "fig", tmp_path, df, title="Titre", source="SSMSI", alt="Courbes")
    assert not plt.fignum_exists(number)
    assert not plt.get_fignums()  # nor the copies drawn for the phone: a warm kernel would keep them all


def test_two_builds_are_byte_identical(tmp_path):
    _build_and_save(tmp_path / "a")
    _build_and_save(tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    for ext in ("svg", "png", "csv", "json"):
        assert hashlib.sha256(a[ext]).hexdigest() == hashlib.sha256(b[ext]).hexdigest(), ext


def test_saving_the_same_figure_twice_is_byte_identical(tmp_path):
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator")
    kwargs = {"title": "Titre", "source": "SSMSI", "alt": "Courbes", "note": "Note."}
    save_figure(fig, "fig", tmp_path / "a", df, **kwargs)
    save_figure(fig, "fig", tmp_path / "b", df, **kwargs)
    assert _files(tmp_path / "a", "fig") == _files(tmp_path / "b", "fig")
    assert sum(1 for t in fig.texts if t.get_text() == "Titre") == 1  # annotations replaced, not stacked


def test_output_does_not_depend_on_earlier_draws(tmp_path):
    # A notebook may display the figure (draw it) before saving; constrained layout would then drift.
    _build_and_save(tmp_path / "fresh")
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator", break_year=2016)
    for _ in range(3):
        fig.canvas.draw()
    save_figure(
        fig,
        "evolution",
        tmp_path / "drawn",
        df,
        title="Victimes enregistrées, 2012-2024",
        source="SSMSI, base départementale, édition 2024",
        alt="Deux courbes en hausse de 2012 à 2024.",
        note="Changement de périmètre en 2016.",
    )
    assert _files(tmp_path / "fresh") == _files(tmp_path / "drawn")


def test_output_does_not_depend_on_the_backend_or_screen_dpi(tmp_path):
    # Notebooks draw through the inline backend, scripts through Agg, MPLBACKEND may say svg.
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    _build_and_save(tmp_path / "fresh")
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator", break_year=2016)
    FigureCanvasSVG(fig)
    fig.set_dpi(72)
    fig.canvas.draw()
    save_figure(
        fig,
        "evolution",
        tmp_path / "svg",
        df,
        title="Victimes enregistrées, 2012-2024",
        source="SSMSI, base départementale, édition 2024",
        alt="Deux courbes en hausse de 2012 à 2024.",
        note="Changement de périmètre en 2016.",
    )
    assert _files(tmp_path / "fresh") == _files(tmp_path / "svg")


def test_salt_is_the_figure_name(tmp_path):
    _build_and_save(tmp_path, "first")
    _build_and_save(tmp_path, "second")
    first = (tmp_path / "figures" / "first.svg").read_bytes()
    second = (tmp_path / "figures" / "second.svg").read_bytes()
    assert first != second  # different ids: two figures can share one HTML page
    assert (tmp_path / "figures" / "first.png").read_bytes() == (
        tmp_path / "figures" / "second.png"
    ).read_bytes()


# Negative cases: what the deterministic settings protect against ---------------------------------------------


def _raw_svg(fig, **kwargs) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", **kwargs)
    return buffer.getvalue()


def _plain_figure():
    fig, ax = plt.subplots(figsize=(4, 3))  # no layout engine: only the SVG settings vary below
    ax.plot([2020, 2021, 2022], [1.0, 3.0, 2.0])
    return fig


def test_without_a_fixed_salt_svg_ids_change_between_saves():
    fig = _plain_figure()
    with mpl.rc_context({"svg.hashsalt": None}):
        first = _raw_svg(fig, metadata={"Date": None})
        second = _raw_svg(fig, metadata={"Date": None})
    assert first != second  # random ids (uuid4) for clip paths
    with mpl.rc_context({"svg.hashsalt": "fixed"}):
        assert _raw_svg(fig, metadata={"Date": None}) == _raw_svg(fig, metadata={"Date": None})


def test_default_svg_metadata_carries_a_date(monkeypatch):
    fig = _plain_figure()
    with mpl.rc_context({"svg.hashsalt": "fixed"}):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
        first = _raw_svg(fig)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
        second = _raw_svg(fig)
    assert first != second and b"<dc:date>" in first


@pytest.mark.parametrize("alt", [None, "", "   "])
def test_alt_text_is_required(tmp_path, alt):
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator")
    with pytest.raises(ValueError, match="alt"):
        save_figure(fig, "fig", tmp_path, df, title="Titre", source="SSMSI", alt=alt)
    assert not (tmp_path / "figures").exists()  # nothing half-written


@pytest.mark.parametrize(("field", "value"), [("title", ""), ("source", None)])
def test_title_and_source_are_required(tmp_path, field, value):
    df = _series()
    fig = charts.line_chart(df, "year", "value", hue="indicator")
    kwargs = {"title": "Titre", "source": "SSMSI", "alt": "Courbe", field: value}
    with pytest.raises(ValueError, match=field):
        save_figure(fig, "fig", tmp_path, df, **kwargs)


@pytest.mark.parametrize("name", ["Fig", "fig 1", "../fig", ""])
def test_bad_figure_names_are_refused(tmp_path, name):
    fig = charts.line_chart(_series(), "year", "value", hue="indicator")
    with pytest.raises(ValueError, match="name"):
        save_figure(fig, name, tmp_path, _series(), title="Titre", source="SSMSI", alt="Courbes")
