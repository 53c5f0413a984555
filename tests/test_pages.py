"""The rules every page of an edition gets after Quarto (publishing/rendering/pages.py), and the territorial
listing's page body (publishing/territorial_site.py): input -> output, idempotent."""

from __future__ import annotations

import re

from observatoire.publishing import territorial_site
from observatoire.publishing.rendering import pages

PAGE = """<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="fr" xml:lang="fr"><head>
<script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" integrity="sha384-y" crossorigin="anonymous" data-relocate-top="true"></script>
<script type="application/javascript">define('jquery', [],function() {return window.jQuery;})</script>
<meta name="quarto:offset" content="./">
</head><body>
<a class="navbar-brand" href="./index.html">
<nav id="TOC" role="doc-toc" aria-labelledby="toc-title"><h2 id="toc-title">Sur cette page</h2>
<ul>
<li><a href="#a" id="toc-a" class="nav-link active" data-scroll-target="#a">A</a>
<ul class="collapse"><li><a href="#a1" id="toc-a1" class="nav-link" data-scroll-target="#a1">A1</a></li></ul></li>
<li><a href="#b" id="toc-b" class="nav-link" data-scroll-target="#b">B</a></li>
</ul>
</nav>
<main class="content" id="quarto-document-content">
<header id="title-block-header" class="quarto-title-block default"><h1 class="title">Titre</h1></header>
<figure><img src="figures/serie.svg" class="img-fluid figure-img" alt="x"></figure>
<figure><img src="figures/carte.svg" class="img-fluid figure-img" alt="y"></figure>
</main></body></html>
"""


def test_no_script_from_a_cdn():
    text = pages.drop_cdn_scripts(PAGE)
    assert "cdn." not in text and "define(" not in text and "<script" not in text


def test_the_site_title_goes_home_and_search_reads_the_site_index():
    text = pages.site_root_links(PAGE, "../../")
    assert '<a class="navbar-brand" href="../../index.html">' in text
    assert '<meta name="quarto:offset" content="../../">' in text
    assert pages.site_root_links(text, "../../") == text


def test_breadcrumbs_from_home_to_the_page():
    crumbs = pages.edition_crumbs(
        "territoire/2024/29", "Les territoires", "fr", "Finistère (29)", 1, "Carnet"
    )
    assert crumbs == [
        ("Accueil", "../../../../index.html"),
        ("Les territoires", "../../../../lettres/territoire.html"),
        ("Lettres territoriales 2024", "../../index.html"),
        ("Finistère (29)", "../index.html"),
        ("Carnet", None),
    ]
    assert pages.edition_crumbs("annual/2024-en", "Letter", "en", None, 0, None)[-1] == ("2024 edition", None)
    text = pages.breadcrumbs(PAGE, crumbs)
    nav = re.search(r'<nav class="breadcrumbs" aria-label="Fil d&#x27;Ariane">(.*?)</nav>', text).group(1)
    assert nav.count("<li") == 5 and 'aria-current="page">Carnet</li>' in nav
    assert text.index('class="breadcrumbs"') > text.index('<main class="content"')
    assert pages.breadcrumbs(text, crumbs) == text


def test_the_phone_contents_are_a_copy_of_the_table_of_contents():
    text = pages.phone_toc(PAGE)
    panel = re.search(r'<nav class="toc-phone" id="sommaire" aria-label="Sommaire">(.*?)</nav>', text, re.S)
    assert panel and re.findall(r'href="(#[\w-]+)"', panel.group(1)) == [
        "#a",
        "#a1",
        "#b",
        "#sommaire-ouvrir",
    ]
    assert "toc-a" not in panel.group(1) and 'class="collapse"' not in panel.group(1)  # ids stay unique
    assert '<a class="toc-phone-open" id="sommaire-ouvrir" href="#sommaire">Sommaire</a>' in text
    assert text.index('id="sommaire"') > text.index("</header>")  # under the title
    assert pages.phone_toc(text) == text


def test_figures_offer_their_phone_variant_on_narrow_screens():
    text = pages.phone_pictures(PAGE, {"figures/serie.phone.svg"})
    assert (
        '<picture><source media="(max-width: 575.98px)" srcset="figures/serie.phone.svg">'
        '<img src="figures/serie.svg"'
    ) in text
    assert '<figure><img src="figures/carte.svg"' in text  # no variant: left as it is
    assert pages.phone_pictures(text, {"figures/serie.phone.svg"}) == text


def test_the_listing_filter_ignores_accents_case_and_punctuation():
    assert territorial_site.search_key("Côtes-d'Armor (22)") == "cotes d armor 22"
    assert territorial_site.search_key("FINISTÈRE") == "finistere"
    title, body = territorial_site.listing_page(
        "Les territoires", 2024, [{"territory": "29", "html": "29/index.html", "pdf": None}]
    )
    assert title == "Les territoires : lettres 2024"
    assert '## Bretagne {#region-53 .region data-search="bretagne"}' in body
    assert '<li data-search="finistere 29"><a href="29/index.html">Finistère (29)</a></li>' in body
    assert 'data-no-match="Aucun département ni aucune région ne correspond à « {query} »."' in body
    assert 'role="status" aria-live="polite"' in body and '.normalize("NFD")' in body


def test_the_card_image_is_a_png():
    page = '<meta property="og:image" content="https://x.org/annual/2024/figures/serie.svg">'
    assert pages.card_image_png(page) == page.replace(".svg", ".png")
