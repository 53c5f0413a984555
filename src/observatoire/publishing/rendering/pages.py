"""What every page of an edition gets after Quarto has written it: a place in the site, and nothing from outside.

Why a pass over the HTML: an edition is a Quarto website project of its own (:mod:`.edition`), so Quarto writes
its pages as if the edition were the whole site. A reader must not see the seam:

- the site's title in the navbar goes to the site's home page, not to the edition's own ``index.html``;
- the search box searches the whole site: the page's ``quarto:offset`` (from which Quarto's search script loads
  ``search.json`` and writes the links of its results) points at the site root, whose ``search.json`` holds the
  pages of every edition (:mod:`.site`);
- breadcrumbs (Accueil > the letter > the edition, then the notebook page) under the navbar;
- on a phone, each chart drawn for a phone (``figures/<name>.phone.svg``, :func:`observatoire.outputs.charts.save_figure`)
  instead of the letter's: its text stays at least 9 px tall on a 390 px screen;
- on a phone, where Quarto hides the table of contents, a "Sommaire" button that stays on screen and opens the
  contents in one tap (a CSS ``:target`` panel: no script);
- Quarto links require.js and jQuery from a CDN on a notebook page as soon as an output is HTML (it cannot know
  that ours run no script; its ``define('jquery')`` shim then throws when the CDN is out of reach): those three
  tags are removed. Nothing else on the site comes from another host (tests/test_e2e_site.py checks every page).

Each rule is a small function ``str -> str``, deterministic and idempotent; :func:`finish_edition` applies them to
every page of a rendered edition (a letter rendered alone or in a group gets the same bytes). The words are the
page language's ``site_words``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from observatoire.outputs.words import LANGUAGES, site_text, site_words

__all__ = [
    "breadcrumbs",
    "card_image_png",
    "phone_pictures",
    "drop_cdn_scripts",
    "finish_edition",
    "page_lang",
    "phone_toc",
    "site_chrome",
    "site_root_links",
]

#: The scripts Quarto adds for Jupyter "JavaScript widgets" (require.js, jQuery, and the shim defining jQuery
#: for require.js): our notebooks' outputs are tables and images, no widget uses them.
_CDN_SCRIPTS = re.compile(
    r'<script src="https://cdn\.jsdelivr\.net/npm/(?:requirejs@[\d.]+/require|jquery@[\d.]+/dist/jquery)'
    r'\.min\.js"[^>]*></script>\n?'
    r"|<script type=\"application/javascript\">define\('jquery', \[\],function\(\) \{return window\.jQuery;\}\)"
    r"</script>\n?"
)
_BRAND = re.compile(r'(<a class="navbar-brand" href=")[^"]*(")')
_OFFSET = re.compile(r'(<meta name="quarto:offset" content=")[^"]*(")')
_LANG = re.compile(r'<html[^>]*\blang="([a-z]{2})')
_TITLE_BLOCK_END = re.compile(r'(<header id="title-block-header"[^>]*>.*?</header>)', re.S)
_MAIN = re.compile(r'(<main class="content"[^>]*>)')
_H1 = re.compile(r'<h1 class="title">(.*?)</h1>', re.S)


def page_lang(text: str) -> str:
    """The page's language (its ``<html lang>``), among the site's languages; French by default."""
    found = _LANG.search(text)
    lang = found.group(1) if found else "fr"
    return lang if lang in LANGUAGES else "fr"


def drop_cdn_scripts(text: str) -> str:
    """Remove the require.js and jQuery tags (and their shim) Quarto adds to pages with HTML outputs."""
    return _CDN_SCRIPTS.sub("", text)


def site_root_links(text: str, root: str) -> str:
    """The navbar's site title links to the site's home page, and the search box searches the whole site.

    Parameters
    ----------
    text : str
        A page of an edition.
    root : str
        The site root relative to the page (``"../../"``).
    """
    text = _BRAND.sub(lambda m: f"{m.group(1)}{root}index.html{m.group(2)}", text)
    return _OFFSET.sub(lambda m: f"{m.group(1)}{root}{m.group(2)}", text)


_NAV_LINK = re.compile(
    r'(<a class="nav-link" href="[^"]*?(?<![\w.-])([\w-]+)\.html">\s*<span class="menu-text">)(.*?)(</span>)',
    re.S,
)
_NAV_MENU = re.compile(r'(id="nav-menu-[\w-]+"[^>]*>\s*<span class="menu-text">)(.*?)(</span>)', re.S)
_NAV_LETTER = re.compile(
    r'(<a class="dropdown-item" href="[^"]*/([\w-]+)\.html">\s*<span class="dropdown-text">)(.*?)(</span>)',
    re.S,
)
_NAV_TITLE = re.compile(r'(<span class="navbar-title">)(.*?)(</span>)', re.S)
_NAV_LABEL = re.compile(r'(<nav class="navbar[^"]*"[^>]*\baria-label=")([^"]*)(")')
_FOOTER = re.compile(r'(<div class="nav-footer-left">\s*<p>)(.*?)(</p>)', re.S)
_SITE_NAME = re.compile(r'(<title>[^<]*|<meta property="og:(?:title|site_name)" content="[^"]*)')


def site_chrome(text: str, letter_titles: Mapping[str, Mapping[str, str]]) -> str:
    """The navbar, the footer and the site's name in the page's language.

    An edition is rendered with the site's settings in French (one Quarto project may hold a letter's French and
    English pages, and Quarto's navbar is the project's); a page in another language gets its navbar's texts (the
    site's pages, the letters' titles), the navbar's name for screen readers, the footer and the site's name in its
    title in its own language here, from the site's words. French pages are left as they are.

    Parameters
    ----------
    text : str
        A page of an edition.
    letter_titles : Mapping
        Each letter's title by theme id, then by language (the navbar's "Lettres" menu).
    """
    lang = page_lang(text)
    if lang == "fr" or 'class="navbar' not in text:
        return text
    words, french = site_words(lang), site_words("fr")
    page_keys = {"index": "site.home", **{k: f"navbar.{k}" for k in words["navbar"]}}

    def _esc(value: str) -> str:
        return html.escape(value, quote=False)

    def page(match: re.Match) -> str:
        key = page_keys.get(match.group(2))
        return (
            match.group(0) if key is None else f"{match.group(1)}{_esc(site_text(lang, key))}{match.group(4)}"
        )

    def letter(match: re.Match) -> str:
        title = (letter_titles.get(match.group(2)) or {}).get(lang)
        return match.group(0) if not title else f"{match.group(1)}{_esc(title)}{match.group(4)}"

    text = _NAV_LINK.sub(page, text)
    text = _NAV_MENU.sub(lambda m: f"{m.group(1)}{_esc(words['site']['letters'])}{m.group(3)}", text)
    text = _NAV_LETTER.sub(letter, text)
    text = _NAV_TITLE.sub(lambda m: f"{m.group(1)}{_esc(words['site']['title'])}{m.group(3)}", text, count=1)
    label = html.escape(words["site"]["navbar_label"], quote=True)
    text = _NAV_LABEL.sub(lambda m: f"{m.group(1)}{label}{m.group(3)}", text, count=1)
    text = _FOOTER.sub(lambda m: f"{m.group(1)}{_esc(words['site']['footer'])}{m.group(3)}", text, count=1)
    french_name = html.escape(french["site"]["title"], quote=True)
    own_name = html.escape(words["site"]["title"], quote=True)
    return _SITE_NAME.sub(lambda m: m.group(0).replace(french_name, own_name), text)


def breadcrumbs(text: str, crumbs: Sequence[tuple[str, str | None]]) -> str:
    """Breadcrumbs at the top of the page's main content; the last crumb (no link) is the page itself.

    Parameters
    ----------
    text : str
        The page.
    crumbs : sequence of (label, href or None)
        From the home page down; labels are plain text (escaped here).
    """
    if 'class="breadcrumbs"' in text:
        return text
    lang = page_lang(text)
    items = "".join(
        f'<li class="breadcrumb-item"><a href="{html.escape(href)}">{html.escape(label)}</a></li>'
        if href
        else f'<li class="breadcrumb-item active" aria-current="page">{html.escape(label)}</li>'
        for label, href in crumbs
    )
    label = html.escape(site_text(lang, "site.breadcrumb_label"))
    nav = f'<nav class="breadcrumbs" aria-label="{label}"><ol class="breadcrumb">{items}</ol></nav>'
    return _MAIN.sub(lambda m: m.group(1) + "\n" + nav, text, count=1)


def phone_toc(text: str) -> str:
    """A "Sommaire" button that stays on a phone's screen and opens the page's contents in one tap.

    The contents are a copy of the table of contents Quarto writes in the margin (hidden on narrow screens), in a
    panel shown while the address ends in ``#sommaire`` (CSS ``:target``, see ``letter.scss``): a tap on the
    button opens it, a tap on a heading goes there and closes it. Pages without a table of contents are left
    as they are.
    """
    start = text.find('<nav id="TOC"')
    end = text.find("</nav>", start)
    if start < 0 or end < 0 or 'id="sommaire"' in text:
        return text
    nav = text[start:end]
    first, last = nav.find("<ul"), nav.rfind("</ul>")
    if first < 0 or last < 0:
        return text
    lang = page_lang(text)
    words = site_words(lang)["site"]
    entries = re.sub(r'\s(?:id|data-scroll-target)="[^"]*"', "", nav[first : last + len("</ul>")])
    entries = re.sub(r'<ul[^>]*class="collapse"[^>]*>', "<ul>", entries)
    label, title, close = (html.escape(words[k]) for k in ("toc_phone", "toc_title", "close"))
    block = (
        f'<a class="toc-phone-open" id="sommaire-ouvrir" href="#sommaire">{label}</a>'
        f'<nav class="toc-phone" id="sommaire" aria-label="{label}">'
        f'<p class="toc-phone-title">{title}</p>{entries}'
        f'<a class="toc-phone-close" href="#sommaire-ouvrir" aria-label="{close}">×</a></nav>'
    )
    found = _TITLE_BLOCK_END.search(text)
    if found:
        return text[: found.end()] + "\n" + block + text[found.end() :]
    return _MAIN.sub(lambda m: m.group(1) + "\n" + block, text, count=1)


_OG_SVG = re.compile(r'(<meta (?:property|name)="(?:og|twitter):image" content="[^"]+)\.svg(")')


def card_image_png(text: str) -> str:
    """The page's OpenGraph image as PNG (Quarto picks the letter's first figure, an SVG, which the cards of
    social networks and messaging apps do not show; its PNG is published beside it)."""
    return _OG_SVG.sub(r"\1.png\2", text)


_FIGURE_IMG = re.compile(r'<img src="(figures/([\w.-]+)\.svg)"[^>]*>')
#: Screens where the phone variant of a chart is shown (Bootstrap's "small" breakpoint).
PHONE_MEDIA = "(max-width: 575.98px)"


def phone_pictures(text: str, available: set[str]) -> str:
    """Wrap each figure's image in a ``<picture>`` offering its phone variant on narrow screens.

    Parameters
    ----------
    text : str
        The page.
    available : set of str
        The phone variants that exist (``"figures/x.phone.svg"``); other images are left as they are.
    """

    def wrap(match: re.Match) -> str:
        phone = f"figures/{match.group(2)}.phone.svg"
        if phone not in available:
            return match.group(0)
        return f'<picture><source media="{PHONE_MEDIA}" srcset="{phone}">{match.group(0)}</picture>'

    if "<picture>" in text:
        return text
    return _FIGURE_IMG.sub(wrap, text)


def _title(text: str) -> str:
    found = _H1.search(text)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


def edition_crumbs(
    edition: str, theme_title: str, lang: str, label: str | None, depth: int, page_title: str | None
) -> list[tuple[str, str | None]]:
    """Accueil > the letter > [the year's territorial letters >] the edition [> the notebook page].

    Parameters
    ----------
    edition : str
        The edition's place in the site (``"annual/2024"``, ``"annual/2024-en"``, ``"territoire/2024/29"``).
    theme_title : str
        The letter's title (the navbar's).
    lang : str
        The page's language.
    label : str or None
        The edition's own crumb (the publication's ``breadcrumb`` front matter), else "Édition <year>".
    depth : int
        The page's folder depth in the edition (0: the letter, 1: a notebook page).
    page_title : str or None
        A notebook page's title (None for the letter).
    """
    parts = [part for part in edition.strip("/").split("/") if part]
    root = "../" * (len(parts) + depth)
    here = "../" * depth
    year = re.match(r"\d{4}", parts[1]).group(0) if len(parts) > 1 and re.match(r"\d{4}", parts[1]) else ""
    crumbs: list[tuple[str, str | None]] = [
        (site_text(lang, "site.home"), f"{root}index.html"),
        (theme_title, f"{root}lettres/{parts[0]}.html"),
    ]
    if len(parts) > 2:  # a territorial letter: the year's listing
        crumbs.append((site_text(lang, "site.territorial_listing", year=year), f"{here}../index.html"))
    own = label or site_text(lang, "site.edition", year=year)
    if page_title is None:
        crumbs.append((own, None))
    else:
        crumbs += [(own, f"{here}index.html"), (page_title, None)]
    return crumbs


def finish_edition(
    folder: Path,
    edition: str,
    theme_titles: Mapping[str, str],
    label: str | None = None,
    figures: Path | None = None,
    letter_titles: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Path]:
    """Apply the rules of this module to every page of a rendered edition (in place; rewritten when changed).

    Parameters
    ----------
    folder : Path
        The edition's rendered pages (``index.html``, ``notebooks/*.html``).
    edition : str
        Its place in the site (``"annual/2024"``).
    theme_titles : Mapping of str to str
        The letter's title in each language, for the breadcrumbs (a page's own language is its ``<html lang>``).
    label : str, optional
        The edition's crumb (default "Édition <year>").
    figures : Path, optional
        The staged project's ``figures/`` (where the phone variants of the charts are).
    letter_titles : Mapping, optional
        Every letter's title by theme id and language, for the navbar of a page in another language
        (:func:`site_chrome`).

    Returns
    -------
    list of Path
        The pages changed, sorted.
    """
    depth_of_edition = len([p for p in edition.strip("/").split("/") if p])
    phones = (
        {f"figures/{p.name}" for p in figures.glob("*.phone.svg")} if figures and figures.is_dir() else set()
    )
    changed = []
    for page in sorted(Path(folder).rglob("*.html")):
        rel = page.relative_to(folder)
        if rel.parts[0] in ("site_libs", "revisions"):
            continue
        depth = len(rel.parts) - 1
        text = page.read_text(encoding="utf-8")
        lang = page_lang(text)
        new = drop_cdn_scripts(text)
        new = site_root_links(new, "../" * (depth_of_edition + depth))
        title = None if depth == 0 else _title(new)
        theme_title = theme_titles.get(lang) or theme_titles.get("fr") or edition.split("/")[0]
        new = breadcrumbs(new, edition_crumbs(edition, theme_title, lang, label, depth, title))
        new = phone_toc(new)
        new = site_chrome(new, letter_titles or {})
        if depth == 0:
            new = card_image_png(phone_pictures(new, phones))
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed
