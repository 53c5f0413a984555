"""What readers get, end to end: every page of the 2024 site read in Chromium, the downloads against the numbers
printed, the PDFs laid out without faults, the phone, and corrections published as dated revisions.

The site: the 2024 annual letter in French and in English, a thematic letter (traite), a territorial letter
(Finistère) with its région's (Bretagne) and the year's listing, the notebook pages of each, the site's own pages; built from the real data
into one folder and served over HTTP (as ``python -m http.server -d _site`` serves it). Every page is read at a
laptop's (1,280 px) and a phone's (390 px) width: no console error, no request to another host, no raw Markdown
(front matter, ``:::``, ``[[``, ``{{<``); every internal link and anchor of the site leads somewhere; axe-core
(npm, pinned, integrity-checked, cached in .cache/npm/) finds 0 violations on every page kind at both widths.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import re
import subprocess

import pytest
from e2e_checks import (
    VIEWPORTS,
    SiteServer,
    axe_on,
    axe_source,
    broken_internal_links,
    build,
    launch,
    overlapping_words,
    pdf_date,
    pdf_lines,
    read_page,
    tables_split_after_one_row,
)

from observatoire.data import themes
from observatoire.outputs import charts
from observatoire.publishing import corrections, release

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

YEAR = 2024
VIEWPORT_WIDTHS = {"laptop": 1280, "phone": 390}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The 2024 site: annual letter (French, English), traite, Finistère and Bretagne; the results by kind."""
    tmp = tmp_path_factory.mktemp("site")
    built = {
        "annual": build("annual", YEAR, tmp),
        "annual-en": release.build_edition(
            "annual", YEAR, site_dir=tmp / "site", build_dir=tmp / "build", progress=False, lang="en"
        ),
        "thematic": build("traite", max(themes.years("traite")), tmp),
        "territorial": release.build_edition(
            "territoire",
            YEAR,
            overrides={"territoire": "29"},
            site_dir=tmp / "site",
            build_dir=tmp / "build",
            progress=False,
        ),
        # its région's letter, which it links to
        "regional": release.build_edition(
            "territoire",
            YEAR,
            overrides={"territoire": "reg-53"},
            site_dir=tmp / "site",
            build_dir=tmp / "build",
            progress=False,
        ),
    }
    # the letters link to their English versions: the site holds them as a release writes it
    release.build_edition(
        "traite",
        max(themes.years("traite")),
        site_dir=tmp / "site",
        build_dir=tmp / "build",
        progress=False,
        lang="en",
    )
    for code in ("29", "reg-53"):
        release.build_edition(
            "territoire",
            YEAR,
            overrides={"territoire": code},
            site_dir=tmp / "site",
            build_dir=tmp / "build",
            progress=False,
            lang="en",
        )
    return tmp, built


def _page_kinds(site_dir, built) -> dict:
    """One page of every kind the site has."""
    pages = {
        "site index": site_dir / "index.html",
        "changelog": site_dir / "changelog.html",
        "letter page": site_dir / "lettres" / "annual.html",
        "territorial listing": site_dir / "territoire" / str(YEAR) / "index.html",
    }
    for kind, result in built.items():
        pages[f"{kind} letter"] = result.site_path / "index.html"
        pages[f"{kind} notebook"] = sorted((result.site_path / "notebooks").glob("*.html"))[0]
    return pages


def test_every_internal_link_and_anchor_of_the_site_leads_somewhere(site):
    tmp, _ = site
    assert broken_internal_links(tmp / "site") == []


def test_every_page_reads_cleanly_at_both_widths(site):
    """Every page of every letter (and every notebook page), the listing and the site's pages: no console error,
    no request to another host, no raw Markdown on the page."""
    from playwright.sync_api import sync_playwright

    tmp, built = site
    root = tmp / "site"
    pages = sorted(
        p
        for p in root.rglob("*.html")
        if "site_libs" not in p.parts and "revisions" not in p.parts and not p.name.startswith("_")
    )
    assert len(pages) >= 25
    found = {}
    with SiteServer(root) as server, sync_playwright() as play:
        browser = launch(play)
        try:
            for page in pages:
                for size, width in VIEWPORT_WIDTHS.items():
                    # every page at a laptop's width; a phone's for one page of each kind (it is slow)
                    if size == "phone" and page not in _page_kinds(root, built).values():
                        continue
                    report = read_page(browser, server, page, width)
                    if any(report.values()):
                        found[f"{page.relative_to(root)} ({size})"] = report
        finally:
            browser.close()
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_axe_core_finds_no_violation_on_any_page_kind(site):
    from playwright.sync_api import sync_playwright

    tmp, built = site
    axe = axe_source()
    found = {}
    with SiteServer(tmp / "site") as server, sync_playwright() as play:
        browser = launch(play)
        try:
            for name, page in _page_kinds(tmp / "site", built).items():
                for size, viewport in VIEWPORTS.items():
                    found[f"{name} ({size})"] = axe_on(browser, server, page, axe, viewport)
        finally:
            browser.close()
    assert found == dict.fromkeys(found, []), json.dumps(found, ensure_ascii=False, indent=1)


def test_notebook_pages_read_like_the_letter_and_link_back_to_their_section(site):
    """Every notebook page of the French and English letters: its header is rendered (a paragraph and a table of
    parameters, in the page's language), and its link back goes to an existing section of its letter."""
    _, built = site
    for kind in ("annual", "annual-en", "thematic", "territorial"):
        letter = (built[kind].site_path / "index.html").read_text(encoding="utf-8")
        anchors = set(re.findall(r'<section id="([^"]+)"', letter)) | set(
            re.findall(r'\sid="([^"]+)"', letter)
        )
        for page in sorted((built[kind].site_path / "notebooks").glob("*.html")):
            text = page.read_text(encoding="utf-8")
            back = re.search(r'<div class="notebook-back">\s*<p>(.*?)</p>', text, re.S)
            assert back, f"{page.name}: no rendered header"
            link = re.search(r'<a href="\.\./index\.html#([^"]+)">([^<]+)</a>', back.group(1))
            assert link and html.unescape(link.group(1)) in anchors, (
                f"{kind}/{page.name}: {back.group(1)[:200]}"
            )
            assert "section" in back.group(1)
            assert re.search(r"<th[^>]*>(paramètre|parameter)</th>", text), page.name
            assert ("This notebook" in back.group(1)) == (kind == "annual-en"), page.name


def _number(cell: str) -> float | None:
    """A number as the page prints it ("1 234,5", "+0,7 %", "−2,1 %") or as the French CSV writes it."""
    plain = cell.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("%", "")
    plain = plain.replace("−", "-").replace("+", "").replace(",", ".")
    try:
        return float(plain)
    except ValueError:
        return None


def test_every_number_of_a_chart_data_table_is_the_number_of_its_french_csv(site):
    """The data table under each chart (what the page prints) against the reader's CSV linked under it: same
    columns, same headers, same numbers, row by row; and each table of the letter against its CSV."""
    _, built = site
    folder = built["annual"].site_path
    letter = (folder / "index.html").read_text(encoding="utf-8")
    tables = re.findall(
        r'<div class="chart-extras" id="extras-([^"]+)">.*?<table[^>]*>(.*?)</table>', letter, re.S
    )
    assert len(tables) >= 9
    for name, table in tables:
        headers = [html.unescape(h) for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table)]
        rows = [
            [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1])
        ]
        with open(folder / "figures" / f"{name}.fr.csv", encoding="utf-8-sig", newline="") as handle:
            data = list(csv.reader(handle, delimiter=";"))
        assert headers == data[0], name
        assert len(rows) == len(data) - 1, name
        for printed, written in zip(rows, data[1:], strict=True):
            for cell, value in zip(printed, written, strict=True):
                if cell == "—":
                    assert value == "", (name, printed, written)
                elif _number(cell) is not None and _number(value) is not None:
                    assert _number(cell) == _number(value), (name, cell, value)
                else:
                    assert cell == value, (name, cell, value)
        assert "True" not in table and "False" not in table, name
        # the main link under the chart is this file
        assert f'href="figures/{name}.fr.csv"' in letter.split(f'id="extras-{name}"')[0][-3000:], name
    # the tables of the letter: every printed number is in the CSV, in the same place
    for meta_path in sorted((folder / "tables").glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        block = re.search(rf'id="tbl-{re.escape(meta["name"])}".*?<table[^>]*>(.*?)</table>', letter, re.S)
        if block is None:
            continue
        body = block.group(1).split("</thead>")[-1]
        printed = [
            [
                re.sub(r"<[^>]+>", "", html.unescape(c)).strip()
                for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
            ]
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        ]
        with open(folder / "tables" / meta["files"]["csv_fr"], encoding="utf-8-sig", newline="") as handle:
            data = list(csv.reader(handle, delimiter=";"))[1:]
        assert len(printed) == len(data), meta["name"]
        for row, written in zip(printed, data, strict=True):
            for cell, value in zip(row, written, strict=True):
                if _number(cell) is not None and _number(value) is not None:
                    assert _number(cell) == _number(value), (meta["name"], cell, value)


def test_pdfs_have_no_overlapping_text_nor_a_table_cut_after_one_row_and_carry_the_letters_date(site):
    _, built = site
    for kind, result in built.items():
        pdf = result.site_path / "letter.pdf"
        pages = pdf_lines(pdf)
        assert overlapping_words(pages) == [], kind
        assert tables_split_after_one_row(pages) == [], kind
        date = result.manifest["letter"]["date"]  # "2025-11": the letter says "novembre 2025"
        assert pdf_date(pdf).startswith(date), (kind, pdf_date(pdf), date)
        assert pdf_date(pdf) != "2024-01-01"


def test_on_a_phone_the_contents_are_one_tap_away_and_chart_text_is_readable(site):
    """At 390 px: from the middle of the letter, one tap on the "Sommaire" button shows the contents; the text
    of every chart shown is at least 9 px tall (measured on its SVG: Vega's text, or the glyphs of the static
    chart scaled to the width it is shown); no number is broken across lines in a caption."""
    from playwright.sync_api import sync_playwright

    tmp, built = site
    small = {}
    with SiteServer(tmp / "site") as server, sync_playwright() as play:
        browser = launch(play)
        try:
            for kind, result in built.items():
                view = browser.new_page(viewport={"width": 390, "height": 844})
                view.set_default_timeout(180_000)
                view.goto(server.url(result.site_path / "index.html"))
                if view.locator(".chart-interactive").count():
                    view.wait_for_selector(".chart-interactive.ready")
                view.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
                view.locator("#sommaire-ouvrir").click()
                links = view.locator("#sommaire li a")
                assert links.count() >= 3 and links.first.is_visible(), kind
                assert links.first.bounding_box()["y"] < 844, kind
                links.nth(1).click()  # (Quarto's script makes it the page's address without index.html)
                view.wait_for_load_state()
                view.wait_for_timeout(300)
                assert not view.locator("#sommaire").is_visible(), kind  # a tap on a heading closes it
                for image in view.locator("figure img").all():
                    if not image.is_visible():
                        continue
                    source = image.evaluate("i => i.currentSrc")
                    shown = image.bounding_box()["width"]
                    svg = (
                        result.site_path / source.split(server.url(result.site_path) + "/", 1)[-1]
                    ).read_bytes()
                    size = charts.smallest_text_px(svg, shown)
                    if size < 9:
                        small[f"{kind}: {source.rsplit('/', 1)[-1]}"] = round(size, 2)
                vega = view.evaluate(
                    """() => [...document.querySelectorAll('.chart-interactive svg text')]
                        .filter(t => t.getBoundingClientRect().width > 0)
                        .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
                )
                if vega and min(vega) < 9:
                    small[f"{kind}: interactive"] = round(min(vega), 2)
                captions = view.locator("figcaption, caption").all_inner_texts()
                broken = [c for c in captions if re.search(r"\d \d{3}(?!\d)", c)]
                assert broken == [], (kind, broken)
                view.close()
        finally:
            browser.close()
    assert small == {}, small


def test_navigation_has_no_loose_ends(site):
    """The listing is a page of the site; its filter ignores accents and case and says when nothing matches;
    the territorial letter links to the listing and its région; the site title goes home from every letter;
    the search of a letter reads the whole site's index."""
    from playwright.sync_api import sync_playwright

    tmp, built = site
    root = tmp / "site"
    listing = root / "territoire" / str(YEAR) / "index.html"
    text = listing.read_text(encoding="utf-8")
    assert 'id="quarto-header"' in text and "quarto-search" in text and 'class="breadcrumbs"' in text
    letter = (built["territorial"].site_path / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in letter and 'href="../reg-53/index.html"' in letter
    for result in built.values():
        page = (result.site_path / "index.html").read_text(encoding="utf-8")
        depth = len(result.site_path.relative_to(root).parts)
        assert f'<a class="navbar-brand" href="{"../" * depth}index.html">' in page
        assert f'<meta name="quarto:offset" content="{"../" * depth}">' in page
    hrefs = {e["href"].split("#")[0] for e in json.loads((root / "search.json").read_text(encoding="utf-8"))}
    assert {
        f"annual/{YEAR}/index.html",
        f"territoire/{YEAR}/29/index.html",
        f"territoire/{YEAR}/index.html",
    } <= hrefs
    with SiteServer(root) as server, sync_playwright() as play:
        browser = launch(play)
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 900})
            view.goto(server.url(listing))
            view.fill("#filtre", "FINISTERE")
            assert view.locator("li[data-search]:visible").count() == 1
            assert "1" in view.locator("#filtre-statut").inner_text()
            view.fill("#filtre", "cotes d armor")
            assert view.locator("li[data-search]:visible").count() == 1
            view.fill("#filtre", "zzz")
            assert view.locator("li[data-search]:visible").count() == 0
            assert "Aucun" in view.locator("#filtre-statut").inner_text()
            view.close()
        finally:
            browser.close()


def test_what_readers_of_statistical_bulletins_expect(site):
    """How to cite each letter (its address and date), OpenGraph cards, an icon, breadcrumbs; the changelog
    dated by the letters' dates."""
    tmp, built = site
    for kind, result in built.items():
        page = (result.site_path / "index.html").read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        heading = "Cite this letter" if kind == "annual-en" else "Citer cette lettre"
        assert heading in text, kind
        address = (
            "https://observatoire.example.org/" + result.site_path.relative_to(tmp / "site").as_posix() + "/"
        )
        assert address in text.split(heading)[-1], kind
        for prop in ("og:title", "og:description", "og:image"):
            assert f'property="{prop}"' in page, (kind, prop)
        image = re.search(r'property="og:image" content="([^"]+)"', page).group(1)
        assert image.startswith(address) and image.endswith(".png"), image
        assert (result.site_path / image.removeprefix(address)).is_file(), image
        assert 'rel="icon"' in page and 'class="breadcrumbs"' in page, kind
    changelog = json.loads((tmp / "site" / "changelog.json").read_text(encoding="utf-8"))
    annual = next(e for e in changelog if e["theme"] == "annual" and e["year"] == YEAR)
    assert annual["revisions"][0]["date"] == "2025-11"  # "novembre 2025", not the day it was built
    assert "novembre 2025" in (tmp / "site" / "changelog.html").read_text(encoding="utf-8")


def test_the_notebook_pages_show_every_chart(site):
    """Every chart a 2024 notebook saves is shown in its Quarto page: the very SVG published beside the letter."""
    _, built = site
    annual = built["annual"]
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
    # and as image outputs, for nbval, nbconvert and review tools
    executed = json.loads(
        (annual.site_path / "notebooks" / "03_violences_sexuelles.ipynb").read_text("utf-8")
    )
    images = [
        o for c in executed["cells"] for o in c.get("outputs", []) if "image/svg+xml" in (o.get("data") or {})
    ]
    assert images


def test_the_letter_charts_are_interactive_and_hovering_a_point_shows_its_value(site):
    from playwright.sync_api import sync_playwright

    tmp, built = site
    letter = built["annual"].site_path / "index.html"
    with SiteServer(tmp / "site") as server, sync_playwright() as play:
        browser = launch(play)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(180_000)  # a loaded CI machine parses 2 MB slowly
            page.goto(server.url(letter))
            assert page.locator(".chart-interactive").count() >= 5
            page.wait_for_selector(".chart-interactive.ready", timeout=180_000)
            chart = page.locator(
                ".chart-interactive.ready"
            ).first  # vega-embed's container, a graphics-document
            assert chart.get_attribute("role") == "graphics-document"
            assert chart.get_attribute("aria-roledescription") == "graphique"
            point = page.locator(".chart-interactive.ready .mark-symbol.role-mark path").first
            label = point.get_attribute("aria-label")  # the mark's description, in French
            assert " : " in label and not re.search(r"\b(year|value|count|rate)\b", label), label
            point.scroll_into_view_if_needed()
            point.hover(force=True)
            tooltip = page.locator("#vg-tooltip-element")
            tooltip.wait_for(state="visible", timeout=30_000)
            shown = "".join(tooltip.text_content().split()).replace("\u202f", "").replace("\u00a0", "")
            value = label.rsplit(" : ", 1)[-1]
            assert value.replace("\u202f", "").replace("\u00a0", "").replace(" ", "") in shown
            # no label of the page's accessibility tree in English
            english = page.evaluate(
                """() => [...document.querySelectorAll('[aria-label], [aria-roledescription]')]
                     .map(e => (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('aria-roledescription') || ''))
                     .filter(t => /\\b(mark|axis|legend|visualization|titled|Download)\\b/.test(t))"""
            )
            assert english == []
        finally:
            browser.close()


def test_a_correction_publishes_a_dated_revision_and_keeps_the_first_reachable(site):
    """Runs last in this module: it publishes revision 2 of the 2024 letter over the one checked above."""
    tmp, built = site
    folder = built["annual"].site_path
    first_html = (folder / "index.html").read_bytes()
    first_key = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["build_key"]
    result = release.build_edition(
        "annual",
        YEAR,
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
    assert manifest["history"][0]["date"] == "2025-11"  # the first publication: the letter's date
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
    entry = next(e for e in changelog if e["theme"] == "annual" and e["year"] == YEAR)
    assert [r["revision"] for r in entry["revisions"]] == [1, 2]
    assert entry["revisions"][0]["href"] == f"annual/{YEAR}/revisions/1/index.html"
    assert any(e["theme"] == "traite" for e in changelog)  # every edition is listed
    page = (tmp / "site" / "changelog.html").read_text(encoding="utf-8")
    assert "Le taux de 2023 était mal arrondi." in page
    assert f'href="annual/{YEAR}/revisions/1/index.html"' in page
    # reachable from the navbar of every page: the site index and the letter (two folders down)
    assert 'href="./changelog.html"' in (tmp / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="./../../changelog.html"' in letter
