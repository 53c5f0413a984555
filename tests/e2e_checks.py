"""Checks shared by the end-to-end tests: build a letter, read it as a reader would (Chromium, poppler).

End to end, as a reader sees it: each letter built from the real data, then read in Chromium and as PDF pages.

The annual letter is built twice from the same inputs: every output (figures, CSV, facts, tables, notebook pages,
letter HTML and PDF, all rendered by Quarto) must be byte-identical, only the manifest's build time may differ.
Each thematic letter is built once. The HTML is opened in headless Chromium (the page loads, every image decodes,
no broken link to a data file, a screenshot kept in tests/artifacts/), and at a phone's width (390 px) no page
(letter, notebook page, site index) is wider than the screen; the PDF is read with poppler (page count, the key
figures in its text, absolute links, every page rendered to a non-blank PNG).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image

from observatoire.core import paths
from observatoire.data import themes
from observatoire.publishing import release

ARTIFACTS = paths.ROOT / "tests" / "artifacts"
THEMATIC = ["traite", "violences_sexuelles", "outre_mer"]
VAR = re.compile(r"\{\{<\s*var\s+([a-z0-9_]+)\s*>\}\}")


def _require(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} is missing: run `make system-deps` (Debian packages chromium and poppler-utils)"
    return found


def build(theme: str, year: int, tmp: Path, force: bool = False) -> release.EditionResult:
    return release.build_edition(
        theme, year, site_dir=tmp / "site", build_dir=tmp / "build", force=force, progress=False
    )


def letter(theme: str, tmp_path_factory) -> release.EditionResult:
    year = themes.get_theme(theme).years[-1]
    return build(theme, year, tmp_path_factory.mktemp(theme))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
        if tag == "img":
            self.images.append(values)


def _key_figure_texts(result: release.EditionResult) -> list[str]:
    """Texts of the facts shown in the key-figures band of the letter (read from the staged publication)."""
    index = (result.build_dir / "publication" / "index.qmd").read_text(encoding="utf-8")
    band = index.split(".key-figures", 1)[1].split("\n## ", 1)[0] if ".key-figures" in index else ""
    keys = VAR.findall(band)
    facts = {}
    for path in (result.site_path / "facts").glob("*.json"):
        facts.update(json.loads(path.read_text(encoding="utf-8"))["facts"])
    return [facts[k]["text"] for k in keys if k in facts]


def _normalise(text: str) -> str:
    return re.sub(r"[\s\u202f\u00a0]+", " ", text)


def _flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
    ]


#: A phone's screen width in CSS pixels (an iPhone 12 to 15).
PHONE_WIDTH = 390


def page_width_on_a_phone(page: Path) -> tuple[int, int]:
    """``(document.documentElement.scrollWidth, window.innerWidth)`` of a page shown 390 px wide in Chromium.

    Headless Chromium will not open a window narrower than 500 px, so the page is loaded in a 390 px wide frame:
    its media queries and layout are those of a 390 px screen.
    """
    chromium = _require("chromium")
    probe = page.parent / f"_phone_{page.stem}.html"
    probe.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe id="f" src="{page.name}" style="width:{PHONE_WIDTH}px;height:844px;border:0"></iframe>'
        "<script>const f=document.getElementById('f');f.addEventListener('load',()=>{const w=f.contentWindow;"
        "document.body.setAttribute('data-widths',w.document.documentElement.scrollWidth+','+w.innerWidth);});"
        "</script></body></html>",
        encoding="utf-8",
    )
    profile = page.parent / ".chromium-phone"
    try:
        dom = subprocess.run(
            [
                chromium,
                *_flags(profile),
                "--allow-file-access-from-files",
                "--window-size=1000,900",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        probe.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'data-widths="(\d+),(\d+)"', dom)
    assert found, f"{page.name} did not finish loading in Chromium"
    return int(found.group(1)), int(found.group(2))


def check_phone_width(pages: list[Path]) -> None:
    """No page scrolls sideways on a phone: its content is no wider than the 390 px viewport."""
    for page in pages:
        scroll, inner = page_width_on_a_phone(page)
        assert inner == PHONE_WIDTH, f"the browser window is {inner} px wide, not {PHONE_WIDTH}"
        assert scroll <= PHONE_WIDTH, f"{page} is {scroll} px wide on a {PHONE_WIDTH} px phone screen"


def check_site_pages(result: release.EditionResult) -> None:
    """The letter is a page of the Quarto website: navbar, search, table of contents, notebook pages alike."""
    letter = (result.site_path / "index.html").read_text(encoding="utf-8")
    assert 'id="quarto-header"' in letter and "./../../index.html" in letter, "no navbar back to the site"
    assert "quarto-search" in letter, "no search box"
    assert 'id="TOC"' in letter, "no table of contents"
    site_index = result.site_path.parent.parent / "index.html"
    index = site_index.read_text(encoding="utf-8")
    assert "quarto-listing" in index and f"{result.theme}/{result.year}/index.html" in index
    pages = sorted((result.site_path / "notebooks").glob("*.html"))
    assert pages, "no notebook page"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert re.search(r'<html[^>]* lang="fr"', text) and 'id="quarto-header"' in text
        assert 'href="../index.html#' in text, f"{page.name} has no link back to the letter"
    check_phone_width([result.site_path / "index.html", pages[0], site_index])


def check_html_in_chromium(result: release.EditionResult, name: str) -> None:
    chromium = _require("chromium")
    page = result.site_path / "index.html"
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.lang == "fr"
    assert parser.images, "the letter shows no figure"
    assert all((img.get("alt") or "").strip() for img in parser.images), "an image has no alt text"
    data_links = [h for h in parser.hrefs if h.endswith(".csv")]
    assert data_links, "no data download link"
    for href in data_links:
        assert (page.parent / href).is_file(), f"broken data link: {href}"
    notebook_links = [h for h in parser.hrefs if h.startswith("notebooks/")]
    for href in notebook_links:
        assert (page.parent / href).is_file(), f"broken notebook link: {href}"

    # Let the browser decode every image and write the verdict into the DOM it dumps.
    probe = page.parent / "_probe.html"
    script = (
        "<script>window.addEventListener('load',()=>{const r=[...document.images].map(i=>i.complete&&"
        "i.naturalWidth>0);document.body.setAttribute('data-images',r.join(','));});</script></body>"
    )
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    flags = _flags(page.parent / ".chromium")
    try:
        dom = subprocess.run(
            [chromium, *flags, "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        verdict = re.search(r'data-images="([^"]*)"', dom)
        assert verdict, "the page did not finish loading in Chromium"
        decoded = verdict.group(1).split(",")
        assert len(decoded) == len(parser.images)
        assert all(v == "true" for v in decoded), f"images that did not render: {decoded.count('false')}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"{name}.png"
        subprocess.run(
            [chromium, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
        picture = matplotlib.image.imread(shot)
        assert picture.shape[0] == 1600 and picture.std() > 0.01, "the screenshot is blank"
    finally:
        probe.unlink(missing_ok=True)
        shutil.rmtree(page.parent / ".chromium", ignore_errors=True)
    text = _normalise(re.sub(r"<[^>]+>", " ", dom))
    for figure in _key_figure_texts(result):
        assert _normalise(figure) in text, f"key figure {figure!r} not on the page"
    assert "{{<" not in text


def check_pdf(result: release.EditionResult, name: str, min_pages: int) -> None:
    pdfinfo, pdftotext, pdftoppm = (_require(t) for t in ("pdfinfo", "pdftotext", "pdftoppm"))
    pdf = result.site_path / "letter.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert min_pages <= pages <= 40
    assert re.search(r"Page size:\s+595(\.\d+)? x 841(\.\d+)? pts", info), "the PDF is not A4"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip()), (
        "a font is not embedded"
    )
    text = _normalise(
        subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    )
    assert "Observatoire national des violences faites aux femmes" in text
    assert "Sources et méthodes" in text
    assert "3919" in text
    for figure in _key_figure_texts(result):
        assert _normalise(figure) in text, f"key figure {figure!r} not in the PDF text"
    assert "{{<" not in text
    # Links still work once the PDF is downloaded: every one is absolute, the notebooks' under the edition's URL.
    uris = re.findall(rb"/URI\s*\(([^)]*)\)", pdf.read_bytes())
    assert uris and all(re.match(rb"(https?|mailto):", u) for u in uris), "a relative link in the PDF"
    parts = result.site_path.parts
    edition = "/".join(
        parts[len(parts) - 1 - parts[::-1].index(result.theme) :]
    )  # annual/2024, territoire/2024/75
    assert any(re.search(rf"/{re.escape(edition)}/notebooks/\w+\.html$".encode(), u) for u in uris), (
        f"no link to a notebook page under /{edition}/ in the PDF"
    )
    out = ARTIFACTS / f"{name}-pdf"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run([pdftoppm, "-png", "-r", "40", str(pdf), str(out / "page")], check=True)
    rendered = sorted(out.glob("page*.png"))
    assert len(rendered) == pages
    for png in rendered:
        assert matplotlib.image.imread(png).std() > 0.01, f"{png.name} is blank"


# axe-core: accessibility checked as auditors check it (0 violations expected) ----------------------------------------

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, fetched with ``npm pack`` once and verified."""
    cache = paths.ROOT / ".cache" / "npm"
    tarball = cache / f"axe-core-{AXE_VERSION}.tgz"
    if not tarball.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is missing (Debian package npm): it fetches axe-core from the npm registry"
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=cache, check=True)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert digest == AXE_INTEGRITY, f"{tarball}: integrity {digest} is not the registry's"
    with tarfile.open(tarball) as archive:
        return archive.extractfile("package/axe.min.js").read().decode("utf-8")


#: Viewports axe-core checks the pages in: a laptop, and a phone (where the navbar collapses and boxes scroll).
VIEWPORTS = {"laptop": {"width": 1280, "height": 1500}, "phone": {"width": 390, "height": 844}}


def axe_violations(page_path, axe: str, viewport: dict) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(180_000)  # a loaded CI machine parses 2 MB slowly
            page.goto(page_path.as_uri())
            if page.locator(".chart-interactive").count():
                page.wait_for_function(
                    "document.querySelectorAll('.chart-interactive.ready').length"
                    " === document.querySelectorAll('.chart-interactive').length",
                    timeout=180_000,
                )
            page.add_script_tag(content=axe)
            return page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
                     v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
            )
        finally:
            browser.close()


# The whole site, as a reader meets it: served over HTTP, every page and link ------------------------------------


class SiteServer:
    """``_site/`` served over HTTP on 127.0.0.1 (Quarto's scripts are ES modules: a browser runs them only from a
    server), as ``python -m http.server -d _site`` serves it (README). A context manager; ``url(path)``."""

    def __init__(self, root: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

        self.root = Path(root)
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(self.root))
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}/"

    def url(self, path: Path | str) -> str:
        rel = Path(path).relative_to(self.root).as_posix() if Path(path).is_absolute() else str(path)
        return self.base + rel

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Refs(HTMLParser):
    """Every address a page refers to (links, scripts, styles, images, sources) and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(values[key])
        for key in ("href", "src"):
            if values.get(key) and not (tag == "link" and values.get("rel") in ("canonical",)):
                self.refs.append((tag, values[key]))
        if values.get("srcset"):
            self.refs.append((tag, values["srcset"].split()[0]))


def _page_ids(page: Path, cache: dict[Path, set[str]]) -> set[str]:
    if page not in cache:
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        cache[page] = parser.ids
    return cache[page]


def broken_internal_links(site: Path) -> list[str]:
    """Every internal link, script, style, image and anchor of every page of the site that leads nowhere.

    External addresses (``http(s):``, ``mailto:``) are not followed; the OpenGraph and canonical addresses
    under the public base URL are not links of the page. Each problem is ``page: address (why)``.
    """
    from urllib.parse import unquote, urlsplit

    problems, ids = [], {}
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        if any(part.startswith(".") for part in rel.parts) or rel.parts[0] == "site_libs":
            continue
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        for _tag, ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//") or ref.startswith("javascript:"):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/"):
                target = target / "index.html"
            if not target.is_relative_to(site.resolve()) or not target.exists():
                problems.append(f"{rel}: {ref} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _page_ids(target, ids):
                    problems.append(f"{rel}: {ref} (no such anchor)")
    return problems


#: What a page must never show: raw front matter, fenced-div markers, unfilled placeholders or shortcodes.
RAW_MARKUP = {
    "raw front matter": re.compile(r"(?:^|\s)---\s*title:|format-links:|(?:^|\s)lang: (?:fr|en)(?:\s|$)"),
    "fenced-div marker": re.compile(r":::"),
    "unfilled placeholder": re.compile(r"\[\[|\]\]|\[%|\{\{<"),
}


def read_page(browser, server: SiteServer, page: Path, width: int) -> dict:
    """Load a page as a reader's browser does (``width`` px wide) and report what went wrong.

    Returns
    -------
    dict
        ``errors``: console errors and uncaught exceptions; ``outside``: requests to another host than the
        site's; ``markup``: raw Markdown markers in the visible text (see :data:`RAW_MARKUP`).
    """
    view = browser.new_page(viewport={"width": width, "height": 900})
    view.set_default_timeout(180_000)
    errors, outside = [], []
    view.on("console", lambda m: errors.append(m.text[:300]) if m.type == "error" else None)
    view.on("pageerror", lambda e: errors.append(f"uncaught: {str(e)[:300]}"))
    view.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((server.base, "data:", "blob:")) else None,
    )
    try:
        view.goto(server.url(page), wait_until="load")
        if view.locator(".chart-interactive").count():
            view.wait_for_function(
                "document.querySelectorAll('.chart-interactive.ready').length"
                " === document.querySelectorAll('.chart-interactive').length",
                timeout=180_000,
            )
        view.wait_for_timeout(300)
        # the page's prose and tables: code (a notebook's ``df[["a", "b"]]``) may hold any characters
        text = view.evaluate(
            """() => { const b = document.body.cloneNode(true);
                 b.querySelectorAll('pre, code, script, style').forEach(e => e.remove());
                 return b.textContent; }"""
        )
    finally:
        view.close()
    markup = sorted({name for name, pattern in RAW_MARKUP.items() if pattern.search(text)})
    return {"errors": errors, "outside": sorted(set(outside)), "markup": markup}


def launch(play):
    """Debian's Chromium, headless, through Playwright."""
    chromium = _require("chromium")
    return play.chromium.launch(executable_path=chromium, args=["--no-sandbox"])


def axe_on(browser, server: SiteServer, page: Path, axe: str, viewport: dict) -> list[dict]:
    """axe-core's violations on a served page (interactive charts drawn first)."""
    view = browser.new_page(viewport=viewport)
    view.set_default_timeout(180_000)
    try:
        view.goto(server.url(page))
        if view.locator(".chart-interactive").count():
            view.wait_for_function(
                "document.querySelectorAll('.chart-interactive.ready').length"
                " === document.querySelectorAll('.chart-interactive').length",
                timeout=180_000,
            )
        view.add_script_tag(content=axe)
        return view.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
                 v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
        )
    finally:
        view.close()


# The PDF as laid out: text positions read with poppler ----------------------------------------------------------


def pdf_lines(pdf: Path) -> list[list[dict]]:
    """Each page's lines of text, top to bottom: ``{"text", "y", "words": [(x0, y0, x1, y1, text)]}``."""
    import xml.etree.ElementTree as ET

    xml = subprocess.run(
        [_require("pdftotext"), "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        lines = []
        for line in page.iterfind(".//h:line", ns):
            words = [
                (
                    float(w.get("xMin")),
                    float(w.get("yMin")),
                    float(w.get("xMax")),
                    float(w.get("yMax")),
                    w.text or "",
                )
                for w in line.iterfind("h:word", ns)
            ]
            if words:
                lines.append({"text": " ".join(w[4] for w in words), "y": words[0][1], "words": words})
        pages.append(sorted(lines, key=lambda item: (round(item["y"], 1), item["words"][0][0])))
    return pages


def overlapping_words(pages: list[list[dict]]) -> list[str]:
    """Words printed over other words (a table header too long for its column runs into the next one)."""
    found = []
    for number, lines in enumerate(pages, start=1):
        words = [w for line in lines for w in line["words"]]
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                if dx > 1.0 and dy > 0.5 * min(a[3] - a[1], b[3] - b[1]):
                    found.append(f"page {number}: {a[4]!r} over {b[4]!r}")
    return found


_CAPTION = re.compile(r"^(Tableau|Table)\s+\d+")


def tables_split_after_one_row(pages: list[list[dict]]) -> list[str]:
    """Tables that start at the foot of a page with their header and fewer than two rows, the rest on the next
    page (recognised by the header repeated at its top)."""
    found = []
    for number, lines in enumerate(pages[:-1], start=1):
        body_next = [line["text"] for line in pages[number][1:]]  # the next page, its running head left out
        for i, line in enumerate(lines):
            if not _CAPTION.match(line["text"]):
                continue
            after = [x["text"] for x in lines[i + 1 :] if not re.match(r"^page \d+ / \d+", x["text"])]
            after = [t for t in after if not t.startswith(("Lettre de l", "Sources", "The letter"))]
            header = 0
            while header < len(after) and after[header] in body_next[:4]:
                header += 1
            if header and len(after) - header < 2:
                found.append(f"page {number}: {line['text'][:60]!r} starts with {len(after) - header} row(s)")
    return found


def pdf_date(pdf: Path) -> str:
    """The PDF's creation date (``pdfinfo``), ``"2025-11-01"``."""
    info = subprocess.run([_require("pdfinfo"), "-isodates", str(pdf)], capture_output=True, text=True).stdout
    found = re.search(r"CreationDate:\s+(\d{4}-\d{2}-\d{2})", info)
    assert found, f"{pdf}: no creation date"
    return found.group(1)
