"""Interactive charts in the HTML letter: specs from the chart functions, data from the figure's own CSV,
progressive enhancement (static chart without JavaScript), data tables with header scopes, vendored scripts."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pandas as pd
import pytest

from observatoire.core.formatting import format_number
from observatoire.outputs import charts, interactive


def _line_data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2021, 2022, 2023, 2024] * 2,
            "victimes": [1000.0, 1200.0, 1500.0, 1710.0, 800.0, 900.0, None, 1100.0],
            "serie": ["Ensemble"] * 4 + ["Femmes"] * 4,
        }
    )


def _save_line(out, name="serie"):
    data = _line_data()
    fig = charts.line_chart(data, "year", "victimes", hue="serie", break_year=2023)
    return charts.save_figure(
        fig, name, out, data, title="Victimes", source="SSMSI", alt="Deux courbes en hausse."
    )


def test_vendored_scripts_match_their_recorded_checksums():
    record = json.loads((interactive.VENDOR / "vendor.json").read_text(encoding="utf-8"))
    files = {entry["file"]: entry for entry in record["files"]}
    assert set(files) == set(interactive.VENDOR_FILES)
    for name, entry in files.items():
        assert hashlib.sha256((interactive.VENDOR / name).read_bytes()).hexdigest() == entry["sha256"], name
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]) and entry["npm_integrity"].startswith(
            "sha512-"
        )


def test_line_spec_reads_the_figure_csv_and_toggles_series(tmp_path):
    meta = _save_line(tmp_path)
    spec = json.loads((tmp_path / "figures" / meta["files"]["vega_lite"]).read_text(encoding="utf-8"))
    # screen readers: axes and legend out of the accessibility tree, each mark described in the page's words
    assert spec["config"]["axis"] == {"aria": False} and spec["config"]["legend"] == {"aria": False}
    assert spec["encoding"]["description"] == {"field": "_description", "type": "nominal"}
    described = spec["transform"][-1]
    assert described["as"] == "_description" and '"Année : "' in described["calculate"]
    assert [layer["mark"].get("ariaRoleDescription") for layer in spec["layer"]][:2] == ["courbe", "point"]
    assert spec["data"] == {"url": "serie.csv", "format": {"type": "csv"}}
    assert spec["description"] == "Deux courbes en hausse."
    assert [p["bind"]["input"] for p in spec["params"]] == ["checkbox", "checkbox"]
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Ensemble", "Femmes"]
    assert spec["encoding"]["color"]["scale"]["range"] == charts.PALETTE[:2]
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["year", "serie", "victimes"]
    assert spec["encoding"]["detail"]["field"] == "_segment"  # runs: never joined across a gap or the break
    assert meta["chart"]["kind"] == "line" and meta["chart"]["break_year"] == 2023


def test_bar_and_rate_specs(tmp_path):
    bars = pd.DataFrame({"annee": [2023, 2024], "n": [3, 4]})
    meta = charts.save_figure(
        charts.bar_chart(bars, "annee", "n"), "barres", tmp_path, bars, title="T", source="S", alt="A"
    )
    spec = json.loads((tmp_path / "figures" / "barres.vl.json").read_text(encoding="utf-8"))
    assert spec["mark"] == {"type": "bar", "ariaRoleDescription": "barre"}
    assert spec["encoding"]["x"]["sort"] == ["2023", "2024"]
    rates = pd.DataFrame({"nom": ["A", "B"], "rate": [2.0, 3.0], "lo": [1.5, 2.5], "hi": [2.5, 3.5]})
    fig = charts.rate_ci_chart(rates, "nom", "rate", "lo", "hi", highlight=["B"], reference=2.5)
    charts.save_figure(fig, "taux", tmp_path, rates, title="T", source="S", alt="A")
    spec = json.loads((tmp_path / "figures" / "taux.vl.json").read_text(encoding="utf-8"))
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "point", "rule"]
    assert spec["layer"][2]["data"] == {"values": [{"x": 2.5}]}
    assert meta["files"]["vega_lite"] == "barres.vl.json"


def test_no_interactive_version_without_the_chart_columns(tmp_path):
    data = _line_data()
    fig = charts.line_chart(data, "year", "victimes", hue="serie")
    meta = charts.save_figure(
        fig, "autre", tmp_path, data[["year", "victimes"]], title="T", source="S", alt="A"
    )
    assert "vega_lite" not in meta["files"]
    assert interactive.vega_lite_spec(None, name="x", alt="a", columns=[]) is None


def _letter(tmp_path, extra_figures=()):
    """A rendered-letter stand-in: the renderer's figure markup, then enhance_letter."""
    project = tmp_path / "publication"
    site = tmp_path / "site"
    site.mkdir(parents=True)
    meta = _save_line(project)
    shutil.copytree(project / "figures", site / "figures")
    html = (
        '<!DOCTYPE html><html lang="fr"><head><title>t</title></head><body><main>\n'
        '<figure id="fig-serie" class="letter-figure"><img src="figures/serie.svg" alt="Deux courbes en hausse." />'
        "<figcaption>Figure 1 : Victimes</figcaption></figure>\n"
        '<div class="data-download"><p><a href="figures/serie.fr.csv">Télécharger les données (CSV)</a></p></div>\n'
        "<table><thead><tr><th>Année</th></tr></thead><tbody><tr><td>2024</td></tr></tbody></table>\n"
        "</main></body></html>\n"
    )
    (site / "index.html").write_text(html, encoding="utf-8")
    done = interactive.enhance_letter(site / "index.html", project)
    return site / "index.html", done, meta


def test_enhance_letter_adds_chart_table_and_downloads_after_the_figure(tmp_path):
    page, done, meta = _letter(tmp_path)
    text = page.read_text(encoding="utf-8")
    assert done == {"interactive": ["serie"], "figures": ["serie"], "tables": []}
    assert text.index("Télécharger les données (CSV)") < text.index('id="extras-serie"')
    spec = json.loads(re.search(r'id="spec-serie">(.*?)</script>', text).group(1))
    csv_rows = pd.read_csv(page.parent / "figures" / "serie.csv")
    assert len(spec["data"]["values"]) == len(csv_rows)
    assert spec["data"]["values"][6] == {"year": 2023, "victimes": None, "serie": "Femmes"}
    assert '<th scope="col">Année</th>' in text  # every header cell gets its scope
    assert '<td class="num">1\u202f710</td>' in text  # the data table formats numbers as the letter
    # the main link (letter.lua's) is the reader's file; the others follow: Excel, the machine file, the images
    others = text.split('class="chart-downloads"')[1].split("</p>")[0]
    assert "Autres formats" in others and 'href="figures/serie.xlsx" download' in others
    assert 'href="figures/serie.csv" download>toutes les colonnes, format machine (CSV)</a>' in others
    assert 'href="figures/serie.fr.csv"' not in others
    table = text.split('<details class="chart-data">')[1].split("</details>")[0]
    assert "<summary>Voir les données de la figure (tableau)</summary>" in table
    assert re.findall(r'<th scope="col">([^<]*)</th>', table) == ["Année", "Série", "Victimes"]
    for name in interactive.VENDOR_FILES:
        assert f'<script src="js/{name}"></script>' in text and (page.parent / "js" / name).is_file()
    assert "cdn" not in text.lower() and "https://" not in text.replace(
        "https://vega.github.io/schema/vega-lite/v6.json", ""
    )
    # The static image stays in the page: only the script hides it, once the chart is drawn.
    assert '<img src="figures/serie.svg"' in text and "hidden" not in text.split('id="fig-serie"')[1][:200]


def test_enhance_letter_is_deterministic(tmp_path):
    first, _, _ = _letter(tmp_path / "a")
    second, _, _ = _letter(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.browser
def test_chromium_hover_shows_the_value_and_a_checkbox_hides_a_series(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path, _, _ = _letter(tmp_path)
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: run `make system-deps`"
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.set_default_timeout(180_000)  # a loaded CI machine parses 2 MB slowly
            page.goto(page_path.as_uri())
            page.wait_for_selector("#chart-serie.ready", timeout=180_000)
            assert page.locator("#fig-serie img").is_hidden()  # replaced by the interactive chart
            points = page.locator("#chart-serie .mark-symbol.role-mark path")
            assert points.count() == 7  # 8 rows, one missing value
            points.nth(3).hover(force=True)
            tooltip = page.locator("#vg-tooltip-element")
            tooltip.wait_for(state="visible", timeout=30_000)
            # vega-tooltip turns every space into U+00A0; the number itself is formatted the French way.
            text = tooltip.text_content().replace("\u00a0", " ")
            assert (
                "2024" in text and "Ensemble" in text and format_number(1710).replace("\u202f", " ") in text
            )
            axis = [
                t.replace("\u00a0", " ")
                for t in page.locator("#chart-serie .role-axis-label text").all_text_contents()
            ]
            assert "1 600" in axis and "1,600" not in axis  # French thousands separator on the ticks
            page.get_by_role("checkbox", name="Femmes").uncheck()
            page.wait_for_timeout(300)
            assert page.locator("#chart-serie .mark-symbol.role-mark path").count() == 4
        finally:
            browser.close()


@pytest.mark.browser
def test_without_javascript_the_static_chart_shows(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path, _, _ = _letter(tmp_path)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(java_script_enabled=False)
            page.set_default_timeout(180_000)  # a loaded CI machine parses 2 MB slowly
            page.goto(page_path.as_uri())
            assert page.locator("#fig-serie img").is_visible()
            assert page.locator("#chart-serie").is_hidden()
            assert page.locator(".chart-data table").count() == 1
        finally:
            browser.close()
