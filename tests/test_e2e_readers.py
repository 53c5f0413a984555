"""What readers get, end to end: accessible pages, and corrections published as dated revisions.

Accessibility is checked the way auditors check it: axe-core in headless Chromium, 0 violations, on four pages: the
2024 annual letter (interactive charts drawn), the site index, a thematic letter and a notebook page, each at a
laptop's and at a phone's width. axe-core comes from the npm registry at a pinned version, its tarball checked
against the registry's integrity hash, and is cached in .cache/npm/ (the test set-up fetches it once with
``npm pack``).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess

import pytest
from e2e_checks import VIEWPORTS, axe_source, axe_violations, build

from observatoire.data import themes
from observatoire.publishing import corrections, release

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accessibility")
    annual = build("annual", 2024, tmp)
    thematic = build("traite", max(themes.years("traite")), tmp)
    return annual, thematic, tmp


def test_axe_core_finds_no_violation_on_the_four_pages(site):
    annual, thematic, _ = site
    axe = axe_source()
    pages = {
        "annual letter": annual.site_path / "index.html",
        "site index": annual.site_path.parent.parent / "index.html",
        "thematic letter": thematic.site_path / "index.html",
        "notebook page": sorted((annual.site_path / "notebooks").glob("*.html"))[1],
    }
    found = {
        f"{name} ({size})": axe_violations(path, axe, viewport)
        for name, path in pages.items()
        for size, viewport in VIEWPORTS.items()
    }
    assert found == dict.fromkeys(found, []), json.dumps(found, ensure_ascii=False, indent=1)


def test_letter_tables_have_header_scopes_and_charts_a_table_alternative(site):
    annual, _, _ = site
    text = (annual.site_path / "index.html").read_text(encoding="utf-8")
    assert "<th>" not in text and "<th " not in text.replace('<th scope="col"', "")
    figures = text.count('class="chart-extras"')
    assert figures >= 5 and text.count('<details class="chart-data">') == figures


def test_the_notebook_pages_show_every_chart(site):
    """Every chart a 2024 notebook saves is shown in its Quarto page: the very SVG published beside the letter."""
    annual, _, _ = site
    # Quarto keeps the notebook's HTML output (SavedFigure._repr_html_), adding its own class to the figure
    figure = re.compile(
        r'<figure class="observatoire-figure[^"]*"><img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"'
    )
    shown = [
        base64.b64decode(data)
        for page in sorted((annual.site_path / "notebooks").glob("*.html"))
        for data in figure.findall(page.read_text(encoding="utf-8"))
    ]
    saved = sorted(
        p.stem for p in (annual.site_path / "figures").glob("*.json") if not p.name.endswith(".vl.json")
    )
    assert len(saved) >= 9
    svgs = {name: (annual.site_path / "figures" / f"{name}.svg").read_bytes() for name in saved}
    assert sorted(name for name, svg in svgs.items() if svg in shown) == saved
    assert len(shown) == len(saved)  # each once


def test_the_letter_charts_are_interactive_and_hovering_a_point_shows_its_value(site):
    from playwright.sync_api import sync_playwright

    annual, _, _ = site
    letter = annual.site_path / "index.html"
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(180_000)  # a loaded CI machine parses 2 MB slowly
            page.goto(letter.as_uri())
            boxes = page.locator(".chart-interactive")
            assert boxes.count() >= 5
            page.wait_for_selector(".chart-interactive.ready", timeout=180_000)
            point = page.locator(".chart-interactive.ready .mark-symbol.role-mark path").first
            spec = json.loads(
                page.locator(
                    f"#spec-{point.locator('xpath=ancestor::div[@data-spec]').get_attribute('id')[6:]}"
                ).text_content()
            )
            y_field = spec["encoding"]["y"]["field"]
            label = point.get_attribute("aria-label")  # Vega's: "field: raw value; ..."
            raw = dict(part.split(": ", 1) for part in label.split("; "))[y_field]
            point.scroll_into_view_if_needed()
            point.hover(force=True)
            tooltip = page.locator("#vg-tooltip-element")
            tooltip.wait_for(state="visible", timeout=30_000)
            shown = "".join(tooltip.text_content().split()).replace("\u202f", "").replace("\u00a0", "")
            assert str(int(float(raw))) in shown  # the value from the figure's CSV, formatted
        finally:
            browser.close()
    assert "Voir les données de la figure" in letter.read_text(encoding="utf-8")


def test_a_correction_publishes_a_dated_revision_and_keeps_the_first_reachable(site):
    """Runs last in this module: it publishes revision 2 of the 2024 letter over the one checked above."""
    annual, _, tmp = site
    folder = annual.site_path
    first_html = (folder / "index.html").read_bytes()
    first_key = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["build_key"]
    result = release.build_edition(
        "annual",
        2024,
        site_dir=tmp / "site",
        build_dir=tmp / "build",
        progress=False,
        correction="Le taux de 2023 était mal arrondi.",
    )
    assert result.status == "replaced"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["revision"] == 2 and manifest["replaced"]["build_key"] == first_key
    assert [h["text"] for h in manifest["history"]] == [
        "Première publication",
        "Le taux de 2023 était mal arrondi.",
    ]
    assert (folder / "revisions" / "1" / "index.html").read_bytes() == first_html  # still reachable
    assert json.loads((folder / "revisions" / "1" / "manifest.json").read_text(encoding="utf-8"))[
        "build_key"
    ] == (first_key)
    today = corrections.french_date(manifest["built_at"])
    letter = html.unescape((folder / "index.html").read_text(encoding="utf-8"))
    assert re.search(f"Version corrigée[\u00a0\u202f ]: révision 2 du {today}", letter), letter[:3000]
    assert "Le taux de 2023 était mal arrondi." in letter and 'href="revisions/1/index.html"' in letter
    pdf_text = subprocess.run(
        ["pdftotext", str(folder / "letter.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "révision 2" in pdf_text and "mal arrondi" in pdf_text
    changelog = json.loads((tmp / "site" / "changelog.json").read_text(encoding="utf-8"))
    entry = next(e for e in changelog if e["theme"] == "annual" and e["year"] == 2024)
    assert [r["revision"] for r in entry["revisions"]] == [1, 2]
    assert entry["revisions"][0]["href"] == "annual/2024/revisions/1/index.html"
    assert any(e["theme"] == "traite" for e in changelog)  # every edition is listed
    page = (tmp / "site" / "changelog.html").read_text(encoding="utf-8")
    assert "Le taux de 2023 était mal arrondi." in page
    assert 'href="annual/2024/revisions/1/index.html"' in page
    # reachable from the navbar of every page: the site index and the letter (two folders down)
    assert 'href="./changelog.html"' in (tmp / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="./../../changelog.html"' in letter
