"""The settings every page of the published site shares: French, the navbar, search, the look.

Why one place: the site is assembled from editions rendered one at a time (each a Quarto website project of its
own, see :mod:`.edition`) and from the site's own pages (listings, methods, data, see :mod:`.site`); a reader must
not see where one ends and the other begins. Both take their Quarto settings from :func:`website_settings`, with
links written relative to the page's distance from the site root, so ``_site/`` works from a file system, from a
sub-path of a server, or at a domain root.

Extension point: :data:`SITE_PAGES` lists the site's own pages (file, key of the navbar text in
``publications/_shared/site_words.yml``); a new page (a changelog, an interactive chart gallery) is one entry there,
its navbar words, plus its ``.qmd`` text in :mod:`.site`. Every word is the site's words' (no text in this module).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url
from observatoire.data import themes
from observatoire.outputs.words import site_text, site_words

SITE_TITLE = site_text("fr", "site.title")
#: Where ``_site/`` is served; the PDF's links (notebooks, data) are made absolute under it, so that they still
#: work in a downloaded PDF. Set OBSERVATOIRE_BASE_URL to the real address before publishing; the default is a
#: reserved documentation domain, never a guess at the real one.
DEFAULT_BASE_URL = "https://observatoire.example.org/"

#: The site's own pages: (file in the site root, key of its navbar text in the site's words). ``index`` is the
#: home page.
SITE_PAGES: tuple[tuple[str, str], ...] = (
    ("index.qmd", "site.home"),
    ("editions.qmd", "navbar.editions"),
    ("methodes.qmd", "navbar.methodes"),
    ("donnees.qmd", "navbar.donnees"),
    ("changelog.qmd", "navbar.changelog"),
)
#: The navbar's name for screen readers (the pages have a second navigation landmark, the table of contents).
NAVBAR_LABEL = site_text("fr", "site.navbar_label")
#: Folder (in the site root) of the one page per theme that lists its editions.
THEMES_DIR = "lettres"


@dataclass(frozen=True)
class ThemeLink:
    """A letter in the navbar: theme id, French title, one-line description and its title in every language."""

    id: str
    title: str
    description: str = ""
    titles: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        """The letter's title in ``lang`` (the French title when the theme declares none in that language)."""
        return self.titles.get(lang) or self.title


def base_url() -> str:
    """The public address of the site root, ending with ``/`` (``OBSERVATOIRE_BASE_URL`` or the default)."""
    url = os.environ.get("OBSERVATOIRE_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if safe_url(url) is None:  # the PDF's links are made from it: only an http(s) address can be one
        raise InputError(
            "OBSERVATOIRE_BASE_URL", "value", f"{url!r} must be an absolute http(s) URL (https://host/path/)"
        )
    return url if url.endswith("/") else url + "/"


def require_public_base_url() -> str:
    """The public address of the site root, for a build published for real (``make release PUBLIC=1``).

    Every PDF's links, every letter's "Citer cette lettre" address and every OpenGraph card are written under it:
    published with the placeholder, they would all point to a domain that is not the Observatoire's.

    Raises
    ------
    InputError
        ``OBSERVATOIRE_BASE_URL`` unset, not an ``https://`` address, or the placeholder domain.
    """
    url = os.environ.get("OBSERVATOIRE_BASE_URL", "").strip()
    placeholder = DEFAULT_BASE_URL.split("//")[1].strip("/")
    if not url or placeholder in url or not url.startswith("https://"):
        raise InputError(
            "OBSERVATOIRE_BASE_URL",
            "environment",
            f"a build published for real (PUBLIC=1) needs the site's public https:// address, not "
            f"{url or 'nothing'} (e.g. OBSERVATOIRE_BASE_URL=https://www.example.gouv.fr/observatoire/)",
        )
    return base_url()


def site_themes() -> list[ThemeLink]:
    """The declared letters, in the order of ``publications/themes.yml``."""
    return [
        ThemeLink(t.id, t.title, t.description or "", dict(t.titles)) for t in themes.load_themes().values()
    ]


def navbar(root: str, letters: list[ThemeLink], lang: str = "fr") -> dict:
    """The navbar in ``lang``, its links relative to the page's project (``root``: ``""`` or ``"../../"``)."""
    pages = [
        {"text": site_text(lang, key), "href": f"{root}{name.removesuffix('.qmd')}.html"}
        for name, key in SITE_PAGES
    ]
    menu = {
        "text": site_text(lang, "site.letters"),
        "menu": [{"text": t.title_in(lang), "href": f"{root}{THEMES_DIR}/{t.id}.html"} for t in letters],
    }
    return {"background": "primary", "left": [pages[0], menu, *pages[1:]]}


#: The site's icon, as each Quarto project carries it (written there by ``edition.write_assets`` and ``site``).
FAVICON_PATH = "_observatoire/favicon.svg"


def website_settings(
    root: str, letters: list[ThemeLink], site_url: str | None = None, lang: str = "fr"
) -> dict:
    """The Quarto settings of every page of the site (merged into a project's ``_quarto.yml``).

    Parameters
    ----------
    root : str
        Path from the project to the site root: ``""`` for the site's own pages, ``"../../"`` for an edition
        (``_site/<theme>/<year>/``).
    letters : list of ThemeLink
        The letters of the navbar's "Lettres" menu.
    site_url : str, optional
        The public address of the project's root (``base_url()`` for the site's own pages, the edition's address
        for an edition): OpenGraph's image and page addresses are made absolute under it.
    lang : str, default "fr"
        The language of the project's words (navbar, footer, Quarto's crossref and callout titles). An edition is
        rendered with the site's French settings, whatever its language: its pages are put in their own language
        after the render (:func:`observatoire.publishing.rendering.pages.site_chrome`), so that a letter rendered
        alone and in a group of letters of several languages are the same bytes.
    """
    words = site_words(lang)
    quarto = words["quarto"]
    return {
        "lang": lang,
        "date-format": "D MMMM YYYY" if lang == "fr" else "MMMM D, YYYY",
        "crossref": {
            k: quarto[k] for k in ("fig-title", "tbl-title", "fig-prefix", "tbl-prefix", "title-delim")
        },
        "language": {k: v for k, v in quarto.items() if k.startswith(("callout-", "toc-"))},
        "website": {
            "title": words["site"]["title"],
            "favicon": FAVICON_PATH,
            # title, description and image of each page for the cards of social networks and messaging apps
            "open-graph": True,
            **({"site-url": site_url} if site_url else {}),
            "search": {"location": "navbar", "type": "overlay"},
            "navbar": navbar(root, letters, lang),
            "page-footer": {"left": words["site"]["footer"]},
        },
    }
