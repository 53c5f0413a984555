"""Rendering with Quarto: the fixture letter (with a notebook page) rendered for real, the site's own pages, and
the small pure parts (settings, dates, finding Quarto, notebook pages, section anchors).

The fixture (tests/data/publication/) uses what the letters use: variables (text and integer), meta, nested
includes, two figures (SVG and PNG) with data, a table with its caption and data, @fig/@Fig/[-@fig] and @tbl
references, four callouts (default and custom titles), the key-figures band, footnotes, lists, links (one to its
notebook's page). tests/data/executed/01_exemple.ipynb is a notebook as papermill leaves it (timestamps, an
absolute path). Its figures were drawn once with matplotlib; they are test data, not regenerated.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from observatoire.publishing.rendering import (
    RenderError,
    RenderResult,
    common,
    edition,
    notebooks,
    pages,
    quarto,
    render,
    site,
)
from observatoire.publishing.rendering.website import SITE_PAGES, ThemeLink, navbar, website_settings

FIXTURE = Path(__file__).parent / "data" / "publication"
EXECUTED = Path(__file__).parent / "data" / "executed" / "01_exemple.ipynb"
LETTERS = [ThemeLink("annual", "Lettre annuelle", "Les chiffres de référence"), ThemeLink("traite", "Traite")]
EDITION = "annual/2023"
NBSP, NNBSP = "\u00a0", "\u202f"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def text_of(html: str) -> str:
    """The page's visible text, entities decoded, whitespace squeezed."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def pdf_strings(pdf: bytes, key: bytes) -> list[str]:
    """Values of a PDF string key (``/Alt``, ``/Title``, ``/URI``), literal or UTF-16 hex."""
    out = []
    for m in re.finditer(rb"/" + key + rb"\s*(?:\((?P<lit>(?:[^()\\]|\\.)*)\)|<(?P<hex>[0-9A-Fa-f]+)>)", pdf):
        if m.group("hex"):
            raw = bytes.fromhex(m.group("hex").decode())
            out.append(raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1"))
        else:
            out.append(m.group("lit").decode("latin-1"))
    return out


def project_with_notebook(tmp_path: Path) -> Path:
    """The fixture with the executed notebook prepared as its page, as the release stages it."""
    dest = tmp_path / "publication"
    shutil.copytree(FIXTURE, dest)
    notebooks.notebook_page(
        EXECUTED,
        dest / "notebooks" / EXECUTED.name,
        parameters={"year": 2023, "output_dir": "/home/someone/repo/build/annual/2023/outputs"},
        replace_paths={"/home/someone/repo/build": "build"},
        section=notebooks.letter_sections(FIXTURE)["victimes_2023"],
    )
    return dest


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# -- the fixture, rendered for real ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[RenderResult, RenderResult]:
    """The fixture (with its notebook page) rendered twice, into two folders: by one Quarto call, then by two at
    once (its notebook pages apart)."""
    project = project_with_notebook(tmp_path_factory.mktemp("project"))
    first = render(project, tmp_path_factory.mktemp("render1"), edition=EDITION, letters=LETTERS)
    second = render(
        project, tmp_path_factory.mktemp("render2"), edition=EDITION, letters=LETTERS, pages_apart=True
    )
    return first, second


@pytest.fixture(scope="module")
def html(rendered) -> str:
    return rendered[0].html.read_text(encoding="utf-8")


def test_result_names_versions_and_timings(rendered):
    result = rendered[0]
    assert result.renderer == "quarto"
    assert result.html.name == "index.html" and result.pdf.name == "letter.pdf"
    assert result.html.parent == result.pdf.parent
    assert re.fullmatch(r"quarto 1\.1\d\.\d+; pandoc 3\.\d+(\.\d+)*; typst 0\.\d+\.\d+", result.version)
    # both formats in one Quarto call
    assert set(result.timings) == {"html+pdf"} and all(s > 0 for s in result.timings.values())
    assert result.log.count("quarto render") == 1
    assert rendered[1].log.count("quarto render") == 2  # the notebook pages apart: two calls
    # the notebook pages are HTML only: no "other formats" links (they pointed to a letter.pdf beside them)
    page = (result.html.parent / "notebooks" / "01_exemple.html").read_text(encoding="utf-8")
    assert "quarto-alternate-formats" not in page and "letter.pdf" not in page


def test_two_renders_are_byte_identical(rendered):
    """Two renders, one in one Quarto call and one with its notebook pages apart, give the same files."""
    first, second = (files_of(r.html.parent) for r in rendered)
    assert set(first) == set(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert {"index.html", "letter.pdf", "search.json", "notebooks/01_exemple.html"} <= set(first)
    assert "sitemap.xml" not in first


def test_html_is_a_french_page_of_the_site(html):
    assert re.search(r'<html[^>]* lang="fr"', html)
    hrefs = [a.get("href") for a in tags(html, "a")]
    # the navbar: the site's pages and letters, relative to the site root two folders up
    for name, _ in SITE_PAGES:
        assert f"./../../{name.removesuffix('.qmd')}.html" in hrefs
    assert "./../../lettres/annual.html" in hrefs and "./../../lettres/traite.html" in hrefs
    assert 'id="TOC"' in html and "Sur cette page" in html  # table of contents
    assert "quarto-search" in html  # search box
    assert "letter.pdf" in hrefs  # the PDF, offered as another format


def test_every_image_has_alt_text(html):
    imgs = tags(html, "img")
    assert len(imgs) == 2
    assert all(img.get("alt", "").strip() for img in imgs)
    assert imgs[0]["alt"].startswith("Diagramme en barres")


def test_figures_tables_and_references_are_french(html):
    text = text_of(html)
    assert f"Figure{NBSP}1{NBSP}: Victimes de violences conjugales enregistrées" in text
    assert f"Figure{NBSP}2{NBSP}: Part des femmes" in text
    assert f"Tableau{NBSP}1{NBSP}: Victimes de violences conjugales enregistrées, SSMSI 2024" in text
    assert re.search(r'href="#fig-victimes_conjugales"[^>]*>figure&nbsp;1<', html)
    assert re.search(r'href="#tbl-victimes_par_annee"[^>]*>tableau&nbsp;1<', html)
    assert re.search(r'href="#fig-victimes_conjugales"[^>]*>1<', html)  # [-@fig-] is the bare number
    assert "@fig-" not in html and "@tbl-" not in html and "?@" not in html


def test_figures_and_tables_link_to_their_data(rendered, html):
    links = [a for a in tags(html, "a") if "data-link" in a.get("class", "")]
    # the file of the page's language, for spreadsheets (the numbers as printed), not the machine file
    assert [a["href"] for a in links] == [
        "figures/victimes_conjugales.fr.csv",
        "figures/part_femmes.fr.csv",
        "tables/victimes_par_annee.fr.csv",
    ]
    assert links[0]["aria-label"] == "Télécharger les données de la figure (CSV pour tableur)"
    assert links[2]["aria-label"] == "Télécharger les données du tableau (CSV pour tableur)"
    out = rendered[0].html.parent
    for a in links:
        assert (out / a["href"]).read_bytes() == (FIXTURE / a["href"]).read_bytes()


def test_callouts(html):
    text = text_of(html)
    for title in ("Lire les chiffres", "Important", "Attention", "Pour aller plus loin"):
        assert title in text
    assert (
        len(re.findall(r'class="callout callout-style-default callout-(note|important|warning|tip)', html))
        == 4
    )


def test_key_figures(html):
    band = [d for d in tags(html, "div") if d.get("class") == "key-figures"]
    figures = [d for d in tags(html, "div") if d.get("class") == "key-figure"]
    assert len(band) == 1 and len(figures) == 3
    assert re.search(rf'class="key-figure-value">\s*271{NNBSP}000\s*<', html)
    assert "victimes de violences conjugales enregistrées en 2023" in html


def test_variables_meta_and_includes_are_substituted(html):
    assert "{{<" not in html and "?var:" not in html and "?meta:" not in html
    assert f"271{NNBSP}000" in html and f"+10,9{NNBSP}%" in html
    assert "Les violences conjugales en 2023" in html
    assert "2023.0" not in html
    assert "Les chiffres de l’édition SSMSI 2024" in html or "Les chiffres de l'édition SSMSI 2024" in html
    assert "25 novembre 2024" in text_of(html)  # the date, in French


def test_the_letter_offers_its_pdf_once_under_its_own_name(html):
    block = re.search(r'<div class="quarto-alternate-formats">(.*?)</div>', html, re.S)
    assert block, "no 'Autres formats' block"
    links = re.findall(r'<a href="([^"]+)"[^>]*>(?:<i[^>]*></i>)?([^<]+)</a>', block.group(1))
    assert links == [("letter.pdf", "PDF (A4)")]


def test_notebook_page_is_french_with_a_way_back(rendered):
    page = (rendered[0].html.parent / "notebooks" / "01_exemple.html").read_text(encoding="utf-8")
    assert re.search(r'<html[^>]* lang="fr"', page)
    assert "Violences conjugales : les victimes enregistrées" in page  # title from the first heading
    # back to the section it computes, under its real title
    assert re.search(r'<a href="\.\./index\.html#les-faits-enregistrés">Les faits enregistrés</a>', page)
    assert "../../../index.html" in page  # the site navbar, one folder deeper
    assert "271000" in page  # the output, as executed
    assert "/home/someone" not in page and "papermill" not in page
    # read like the letter: the front matter, the fenced div and the parameters are rendered, not printed raw
    shown = text_of(page)
    assert "---" not in shown and "title:" not in shown and ":::" not in shown and "[[" not in shown
    assert '<div class="notebook-back">' in page
    assert re.search(r"<th[^>]*>paramètre</th>", page) and "<code>build/annual/2023/outputs</code>" in page
    # breadcrumbs down to the page, and no "Citer cette lettre" block (the letter has it)
    assert 'aria-label="Fil d\'Ariane"' in page or 'aria-label="Fil d&#x27;Ariane"' in page
    assert "Citer cette lettre" not in shown


def test_the_letter_ends_with_how_to_cite_it(html, rendered):
    text = text_of(html)
    assert "Citer cette lettre" in text
    cite = text.split("Citer cette lettre", 2)[-1]
    assert "Observatoire national des violences faites aux femmes (MIPROF)" in cite
    assert "« Les violences conjugales en 2023, Fixture de test du rendu »" in cite.replace(NNBSP, " ")
    assert "25 novembre 2024" in cite and "https://observatoire.example.org/annual/2023/" in cite
    pdf_text = subprocess.run(
        ["pdftotext", str(rendered[0].pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Citer cette lettre" in pdf_text


def test_pages_have_a_place_in_the_site(html):
    crumbs = re.search(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumbs) == [
        ("../../index.html", "Accueil"),
        ("../../lettres/annual.html", "Lettre annuelle"),
    ]
    assert 'aria-current="page">Édition 2023<' in crumbs
    assert '<a class="navbar-brand" href="../../index.html">' in html  # the site title goes home
    assert '<meta name="quarto:offset" content="../../">' in html  # search reads the site's index
    assert 'id="sommaire-ouvrir" href="#sommaire"' in html and '<nav class="toc-phone" id="sommaire"' in html
    assert 'rel="icon"' in html and 'property="og:title"' in html
    assert "cdn." not in html and "mathjax" not in html.lower()


def test_pdf_is_an_a4_letter_dated_like_the_letter(rendered):
    pdf = rendered[0].pdf.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert "Les violences conjugales en 2023" in pdf_strings(pdf, b"Title")
    alts = pdf_strings(pdf, b"Alt")
    assert any(a.startswith("Diagramme en barres") for a in alts)
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.27\d* 841\.88\d*\s*\]", pdf), "A4"
    assert b"LibertinusSerif" in pdf and b"/FontFile" in pdf  # built-in font, embedded
    assert any(d.startswith("D:20241125") for d in pdf_strings(pdf, b"CreationDate"))


def test_pdf_links_to_notebooks_are_absolute(rendered):
    uris = pdf_strings(rendered[0].pdf.read_bytes(), b"URI")
    assert "https://observatoire.example.org/annual/2023/notebooks/01_exemple.html" in uris
    assert not [u for u in uris if not u.startswith(("https://", "http://", "mailto:"))]


def test_one_format_only(tmp_path):
    result = render(FIXTURE, tmp_path, formats=("pdf",), edition=EDITION, letters=LETTERS)
    assert result.html is None and result.pdf.is_file() and set(result.timings) == {"pdf"}
    assert not (tmp_path / "index.html").exists()
    with pytest.raises(RenderError, match="formats"):
        render(FIXTURE, tmp_path, formats=("docx",))


# -- the site's own pages --------------------------------------------------------------------------------------


def test_site_pages_list_every_edition_and_search_all(rendered, tmp_path):
    site_dir = tmp_path / "_site"
    shutil.copytree(rendered[0].html.parent, site_dir / "annual" / "2023")
    (site_dir / "annual" / "2023" / "manifest.json").write_text(
        json.dumps(
            {"inputs": [{"source_id": "ssmsi_x", "file": "a.csv", "edition": "2024", "sha256": "ab" * 32}]}
        ),
        encoding="utf-8",
    )
    before = files_of(site_dir / "annual")
    edition_ = {
        "theme": "annual",
        "theme_title": "Lettre annuelle",
        "year": 2023,
        "html": "annual/2023/index.html",
        "pdf": "annual/2023/letter.pdf",
        "notebooks": ["annual/2023/notebooks/01_exemple.html"],
        "manifest": "annual/2023/manifest.json",
    }
    index = site.write_site(site_dir, [edition_], work_dir=tmp_path / "project", letters=LETTERS)
    html = index.read_text(encoding="utf-8")
    assert re.search(r'<html[^>]* lang="fr"', html)
    assert "quarto-listing" in html and 'href="annual/2023/index.html"' in html  # Quarto's listing
    for name in (
        "editions.html",
        "methodes.html",
        "donnees.html",
        "lettres/annual.html",
        "lettres/traite.html",
    ):
        assert (site_dir / name).is_file(), name
    theme_page = (site_dir / "lettres" / "annual.html").read_text(encoding="utf-8")
    assert 'href="../annual/2023/letter.pdf"' in theme_page and "Les chiffres de référence" in theme_page
    assert "ssmsi\\_x" not in (site_dir / "donnees.html").read_text(encoding="utf-8")
    assert "ssmsi_x" in (site_dir / "donnees.html").read_text(encoding="utf-8")
    hrefs = [e["href"] for e in json.loads((site_dir / "search.json").read_text(encoding="utf-8"))]
    assert (
        "index.html" in hrefs and "annual/2023/index.html" in hrefs
    )  # the letter is searchable from the root
    assert "annual/2023/notebooks/01_exemple.html" in hrefs
    assert files_of(site_dir / "annual") == before  # the edition is not touched
    assert not [p for p in site_dir.iterdir() if p.name.startswith(".")]  # no staging folder left


# -- the pure parts ---------------------------------------------------------------------------------------------


def test_navbar_links_are_relative_to_the_site_root():
    bar = navbar("../../", LETTERS)
    assert bar["left"][0] == {"text": "Accueil", "href": "../../index.html"}
    assert bar["left"][1]["menu"][1] == {"text": "Traite", "href": "../../lettres/traite.html"}


def test_navbar_and_settings_in_english():
    bar = navbar("", LETTERS, "en")
    assert [item["text"] for item in bar["left"]] == [
        "Home",
        "Letters",
        "Editions by year",
        "Methods",
        "Data",
        "History",
    ]
    settings = website_settings("", LETTERS, lang="en")
    assert settings["lang"] == "en" and settings["crossref"]["tbl-title"] == "Table"
    assert settings["website"]["title"] == "French National Observatory of Violence against Women"
    assert website_settings("", LETTERS)["crossref"]["title-delim"] == "\u00a0:"  # French: no-break space


def test_site_chrome_puts_an_english_page_in_english_and_leaves_french_pages_alone():
    page = (
        '<html lang="{lang}"><head><title>Forced marriage – Observatoire national des violences faites aux femmes'
        '</title></head><body><header id="quarto-header"><nav class="navbar navbar-expand-lg " '
        'aria-label="Navigation du site"><span class="navbar-title">Observatoire national des violences faites aux '
        'femmes</span><a class="nav-link" href="./../../index.html"> <span class="menu-text">Accueil</span></a>'
        '<a class="nav-link dropdown-toggle" href="#" id="nav-menu-lettres" role="link"> <span class="menu-text">'
        'Lettres</span></a><a class="dropdown-item" href="./../../lettres/traite.html"> <span class="dropdown-text">'
        'Traite</span></a><a class="nav-link" href="./../../changelog.html"> <span class="menu-text">Historique'
        '</span></a></nav></header><footer class="footer"><div class="nav-footer-left"><p>Observatoire national des '
        "violences faites aux femmes (MIPROF). Données SSMSI et Insee : Licence Ouverte / Etalab 2.0.</p></div>"
        "</footer></body></html>"
    )
    titles = {"traite": {"fr": "Traite", "en": "Trafficking <& co>"}}
    french = page.format(lang="fr")
    assert pages.site_chrome(french, titles) == french
    english = pages.site_chrome(page.format(lang="en"), titles)
    assert pages.site_chrome(english, titles) == english  # idempotent
    for words in (
        "<title>Forced marriage – French National Observatory of Violence against Women</title>",
        'aria-label="Site navigation"',
        '<span class="navbar-title">French National Observatory of Violence against Women</span>',
        '<span class="menu-text">Home</span>',
        '<span class="menu-text">Letters</span>',
        '<span class="dropdown-text">Trafficking &lt;&amp; co&gt;</span>',  # a title is escaped
        '<span class="menu-text">History</span>',
        "SSMSI and Insee data: Licence Ouverte / Etalab 2.0.</p>",
    ):
        assert words in english, words


def test_edition_settings():
    settings = edition.edition_settings("annual/2024", LETTERS, notebooks=True, url="https://x.org/site/")
    assert settings["project"]["type"] == "website"
    assert settings["project"]["render"] == ["index.qmd", "notebooks/*.ipynb"]
    assert settings["observatoire-url"] == "https://x.org/site/annual/2024/"
    assert settings["lang"] == "fr" and settings["crossref"]["tbl-title"] == "Tableau"
    assert settings["format"]["typst"]["papersize"] == "a4"
    assert settings["website"]["navbar"]["left"][0]["href"] == "../../index.html"
    merged = edition.merge_settings({"project": {"type": "default"}, "year": "2024"}, settings)
    assert merged["year"] == "2024" and merged["project"]["type"] == "website"


def test_letter_date_resolves_shortcodes(tmp_path):
    (tmp_path / "index.qmd").write_text(
        '---\ntitle: x\ndate: "{{< var lettre_date >}}"\n---\n', encoding="utf-8"
    )
    (tmp_path / "_variables.yml").write_text('lettre_date: "2025-11-25"\n', encoding="utf-8")
    assert edition.letter_date(tmp_path) == "2025-11-25"
    assert edition.letter_date(FIXTURE) == "2024-11-25"


def test_pdf_timestamp(monkeypatch):
    assert common.timestamp_for("2024-11-25") == 1_732_492_800
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert common.timestamp_for(None) == common.FIXED_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert common.timestamp_for("2024-11-25") == 1_732_492_800  # the letter's date wins
    assert common.timestamp_for(None) == 1_700_000_000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(RenderError, match="SOURCE_DATE_EPOCH"):
        common.timestamp_for(None)


def _fake_quarto(folder: Path, version: str) -> Path:
    path = folder / "quarto"
    path.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_find_quarto_prefers_the_explicit_one(tmp_path, monkeypatch):
    fake = _fake_quarto(tmp_path, "1.10.18")
    monkeypatch.setenv("OBSERVATOIRE_QUARTO", str(fake))
    assert quarto.find_quarto() == str(fake)
    assert quarto.quarto_version(str(fake)) == "1.10.18"


def test_an_old_quarto_is_refused(tmp_path):
    old = _fake_quarto(tmp_path, "1.6.40")
    with pytest.raises(RenderError, match=r"1\.6\.40 is older than 1\.10.*make quarto"):
        quarto.quarto_version(str(old))


def test_a_missing_quarto_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("OBSERVATOIRE_QUARTO", raising=False)
    monkeypatch.setattr(quarto, "REPO_QUARTO", tmp_path / "none")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="make quarto"):
        quarto.require_quarto()


def test_a_failing_render_names_the_letter(tmp_path):
    project = tmp_path / "publication"
    shutil.copytree(FIXTURE, project)
    index = project / "index.qmd"
    index.write_text(
        index.read_text(encoding="utf-8") + "\n```{=typst}\n#undefined-function()\n```\n", encoding="utf-8"
    )
    with pytest.raises(RenderError, match="index.qmd.*quarto.*failed"):
        render(project, tmp_path / "out", formats=("pdf",), edition=EDITION, letters=LETTERS)


def test_slug_is_pandocs():
    assert notebooks.slug("Les points clés") == "les-points-clés"
    assert notebooks.slug("La protection et l'accompagnement des victimes") == (
        "la-protection-et-laccompagnement-des-victimes"
    )
    assert notebooks.slug("Violences intrafamiliales et violences conjugales : deux mesures différentes") == (
        "violences-intrafamiliales-et-violences-conjugales-deux-mesures-différentes"
    )
    assert notebooks.slug("2024") == "section"


def test_letter_sections_map_facts_to_the_first_section_quoting_them():
    sections = notebooks.letter_sections(FIXTURE)
    assert sections["victimes_2023"][2:] == ("Les faits enregistrés", "les-faits-enregistrés")
    assert sections["victimes_2023"][:2] == ("index.qmd", 0)
    assert sections["annee_reference"] == ("_methode.qmd", 0, "Méthode", "méthode")


def test_notebook_page_drops_what_changes_between_runs(tmp_path):
    target = notebooks.notebook_page(
        EXECUTED,
        tmp_path / "nb.ipynb",
        parameters={"year": 2023},
        replace_paths={"/home/someone/repo/build": "build"},
        section=None,
    )
    text = target.read_text(encoding="utf-8")
    nb = json.loads(text)
    assert "papermill" not in text and "iopub" not in text and "/home/someone" not in text
    assert [c["id"] for c in nb["cells"]][:1] == ["cell-0"]
    assert "# Violences" not in "".join(nb["cells"][0]["source"])  # the title is not repeated
    # every source in nbformat's list form (Quarto drops the line breaks of a source given as one string)
    assert all(isinstance(c["source"], list) for c in nb["cells"])
    assert nb["metadata"]["observatoire"] == {
        "title": "Violences conjugales : les victimes enregistrées",
        "lang": "fr",
        "parameters": {"year": "2023"},
        "section": None,
    }


def test_headers_link_back_to_the_filled_letter(tmp_path):
    """The header is written once the letter's templates are filled: the heading's real title and pandoc's
    anchor (a repeated title gets -1), and "Voir les calculs" for a notebook no section quotes."""
    project = tmp_path / "publication"
    project.mkdir()
    (project / "index.qmd").write_text(
        "---\ntitle: T\n---\n\n## Intro\n\n{{< include _part.qmd >}}\n\n## Voir les calculs\n",
        encoding="utf-8",
    )
    (project / "_part.qmd").write_text(
        "## Intro\n\nx\n\n### Les taux en 2024, par département\n", encoding="utf-8"
    )
    source = notebooks.Heading("_part.qmd", 1, "Les taux en [[ meta.year ]], par département", "x")
    for name, section in (("a", source), ("b", None)):
        notebooks.notebook_page(
            EXECUTED,
            project / "notebooks" / f"{name}.ipynb",
            parameters={"year": 2024},
            replace_paths={},
            section=section,
        )
    assert [h.anchor for h, _ in notebooks.letter_headings(project)] == [
        "intro",
        "intro-1",
        "les-taux-en-2024-par-département",
        "voir-les-calculs",
    ]
    notebooks.write_headers(project)
    notebooks.write_headers(project)  # idempotent
    a = json.loads((project / "notebooks" / "a.ipynb").read_text(encoding="utf-8"))
    b = json.loads((project / "notebooks" / "b.ipynb").read_text(encoding="utf-8"))
    assert [c["id"] for c in a["cells"]][:3] == ["front-matter", "back-to-letter", "cell-0"]
    header = "".join(a["cells"][1]["source"])
    assert "[Les taux en 2024, par département](../index.html#les-taux-en-2024-par-département)" in header
    assert "".join(a["cells"][0]["source"]).startswith("---\ntitle: 'Violences conjugales")
    assert "[Voir les calculs](../index.html#voir-les-calculs)" in "".join(b["cells"][1]["source"])


def test_notebook_page_leaves_out_standard_error_and_logs_it(tmp_path, caplog):
    executed = json.loads(EXECUTED.read_text(encoding="utf-8"))
    code = next(c for c in executed["cells"] if c["cell_type"] == "code")
    noise = {"output_type": "stream", "name": "stderr", "text": "Matplotlib is building the font cache\n"}
    kept = {"output_type": "stream", "name": "stdout", "text": "122 610\n"}
    code["outputs"] = [noise, kept]
    source = tmp_path / "executed.ipynb"
    source.write_text(json.dumps(executed), encoding="utf-8")
    with caplog.at_level("WARNING"):
        target = notebooks.notebook_page(
            source, tmp_path / "nb.ipynb", parameters={}, replace_paths={}, section=None
        )
    text = target.read_text(encoding="utf-8")
    assert "font cache" not in text and "122 610" in text
    assert "executed.ipynb: standard-error output left out of the page: Matplotlib is building" in caplog.text


def test_repository_quarto_project_matches_the_build_settings():
    import yaml

    from observatoire.core.paths import ROOT

    repo = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    built = edition.edition_settings("annual/2024", LETTERS, notebooks=False, url="https://x.org/")
    assert repo["lang"] == built["lang"] and repo["date-format"] == built["date-format"]
    assert repo["crossref"] == built["crossref"]
    assert [(f["path"].rsplit("/", 1)[1], f["at"]) for f in repo["filters"]] == [
        (f["path"].rsplit("/", 1)[1], f["at"]) for f in built["filters"]
    ]
    for path in [f["path"] for f in repo["filters"]] + repo["format"]["typst"]["template-partials"]:
        assert (ROOT / path).is_file(), path


def test_quarto_date_prints_the_date_as_written():
    assert edition.quarto_date("2024-11-25") == ("2024-11-25", "D MMMM YYYY")
    assert edition.quarto_date("novembre 2025") == ("2025-11-01", "MMMM YYYY")
    assert edition.quarto_date("Novembre 2025") == ("2025-11-01", "MMMM YYYY")
    assert edition.quarto_date("bientôt") is None and edition.quarto_date(None) is None


def test_section_for_takes_the_section_with_most_facts():
    a, b = ("A", "a"), ("B", "b")
    sections = {"k1": a, "k2": b, "k3": b, "k4": a}
    assert notebooks.section_for(["k1", "k2", "k3"], sections) == b
    assert notebooks.section_for(["k1", "k2"], sections) == a  # tie: the first section of the letter
    assert notebooks.section_for(["zz"], sections) is None


# -- tools/install-quarto.sh (what `make quarto` runs) -----------------------------------------------------------


def _install(tmp_path: Path, path_version: str | None, kit: Path) -> subprocess.CompletedProcess:
    from observatoire.core.paths import ROOT

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if path_version:
        _fake_quarto(bin_dir, path_version)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "OBSERVATOIRE_QUARTO_KIT": str(kit),
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        ["bash", str(ROOT / "tools" / "install-quarto.sh"), str(tmp_path / "prefix")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_install_uses_a_recent_quarto_on_path(tmp_path):
    done = _install(tmp_path, "1.10.18", tmp_path / "no-kit")
    assert done.returncode == 0 and "on PATH" in done.stdout
    assert not (tmp_path / "prefix").exists()


def test_install_uses_the_kit_when_path_has_an_old_quarto(tmp_path):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "install.sh").write_text(
        '#!/bin/sh\nmkdir -p "$1/bin"\nprintf "#!/bin/sh\\necho 1.10.18\\n" > "$1/bin/quarto"\nchmod +x "$1/bin/quarto"\n',
        encoding="utf-8",
    )
    (kit / "install.sh").chmod(0o755)
    done = _install(tmp_path, "1.6.40", kit)
    assert done.returncode == 0, done.stderr
    assert "installed" in done.stdout and (tmp_path / "prefix" / "bin" / "quarto").is_file()


def test_install_without_kit_or_checksum_stops_with_a_clear_message(tmp_path):
    done = _install(tmp_path, None, tmp_path / "no-kit")
    assert done.returncode == 1
    assert "OBSERVATOIRE_QUARTO_KIT" in done.stderr and "QUARTO_SHA256" in done.stderr


def test_quarto_error_keeps_the_message_not_the_stack():
    stderr = (
        "[1/2] index.qmd\n\x1b[91mERROR: Include directive failed.\n  in file index.qmd, \n"
        "  could not find file /p/tables/x.md.\nStack trace:\n    at retrieveInclude (file:///a.ts:61:13)\n"
    )
    message = quarto.quarto_error(stderr)
    assert (
        message.startswith("ERROR: Include directive failed.")
        and "could not find file /p/tables/x.md" in message
    )
    assert "retrieveInclude" not in message and "\x1b" not in message
    assert quarto.quarto_error("") == "(no message)"


def test_a_heading_is_found_in_the_filled_letter_by_its_title():
    """Headings written by a macro or a condition move and change: the source's title, as a pattern, finds them;
    a callout's heading is its title, not a section (it has no anchor)."""
    pattern = notebooks.title_pattern(
        "[% if f.t_region.value %]Les départements de la région[% else %]Le département dans sa région[% endif %]"
    )
    assert re.match(pattern, "Le département dans sa région")
    assert re.match(
        notebooks.title_pattern("Évolution depuis [[ f.t_premiere_annee ]]"), "Évolution depuis 2016"
    )
    assert not re.match(notebooks.title_pattern("Évolution depuis [[ x ]]"), "Le territoire")


def test_callout_headings_are_not_sections(tmp_path):
    (tmp_path / "index.qmd").write_text(
        "## A\n\n::: {.callout-important}\n## Une rupture\n{{< var k >}}\n:::\n\n## B\n", encoding="utf-8"
    )
    headings = notebooks.letter_headings(tmp_path)
    assert [h.title for h, _ in headings] == ["A", "B"]
    assert notebooks.letter_sections(tmp_path)["k"].title == "A"
