"""The settings every page of the published site shares: French, the navbar, search, the look.

Why one place: the site is assembled from editions rendered one at a time (each a Quarto website project of its
own, see :mod:`.edition`) and from the site's own pages (listings, methods, data, see :mod:`.site`); a reader must
not see where one ends and the other begins. Both take their Quarto settings from :func:`website_settings`, with
links written relative to the page's distance from the site root, so ``_site/`` works from a file system, from a
sub-path of a server, or at a domain root.

Extension point: :data:`SITE_PAGES` lists the site's own pages (file, navbar text); a new page (a changelog, an
interactive chart gallery) is one entry there plus its ``.qmd`` text in :mod:`.site`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from observatoire.core.errors import InputError
from observatoire.core.escaping import safe_url
from observatoire.data import themes
from observatoire.outputs.words import site_text

SITE_TITLE = site_text("fr", "site.title")
#: Where ``_site/`` is served; the PDF's links (notebooks, data) are made absolute under it, so that they still
#: work in a downloaded PDF. Set OBSERVATOIRE_BASE_URL to the real address before publishing; the default is a
#: reserved documentation domain, never a guess at the real one.
DEFAULT_BASE_URL = "https://observatoire.example.org/"

#: The site's own pages: (file in the site root, text in the navbar). ``index`` is the home page.
SITE_PAGES: tuple[tuple[str, str], ...] = (
    ("index.qmd", site_text("fr", "site.home")),
    ("editions.qmd", "Éditions par année"),
    ("methodes.qmd", "Méthodes"),
    ("donnees.qmd", "Données"),
    ("changelog.qmd", "Historique"),
)
#: The navbar's name for screen readers (the pages have a second navigation landmark, the table of contents).
NAVBAR_LABEL = site_text("fr", "site.navbar_label")
#: Folder (in the site root) of the one page per theme that lists its editions.
THEMES_DIR = "lettres"

#: French wording Quarto does not take from ``lang: fr`` alone.
CROSSREF = {
    "fig-title": "Figure",
    "tbl-title": "Tableau",
    "fig-prefix": "figure",
    "tbl-prefix": "tableau",
    "title-delim": "\u00a0:",
}
LANGUAGE = {
    "callout-note-title": "Note",
    "callout-important-title": "Important",
    "callout-warning-title": "Attention",
    "callout-tip-title": "Conseil",
    "toc-title-website": "Sur cette page",
}


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


def navbar(root: str, letters: list[ThemeLink]) -> dict:
    """The navbar, its links relative to the page's project (``root``: ``""`` or ``"../../"``)."""
    pages = dict((name, text) for name, text in SITE_PAGES)
    html = {name: f"{root}{name.removesuffix('.qmd')}.html" for name in pages}
    return {
        "background": "primary",
        "left": [
            {"text": pages["index.qmd"], "href": html["index.qmd"]},
            {
                "text": site_text("fr", "site.letters"),
                "menu": [{"text": t.title, "href": f"{root}{THEMES_DIR}/{t.id}.html"} for t in letters],
            },
            {"text": pages["editions.qmd"], "href": html["editions.qmd"]},
            {"text": pages["methodes.qmd"], "href": html["methodes.qmd"]},
            {"text": pages["donnees.qmd"], "href": html["donnees.qmd"]},
            {"text": pages["changelog.qmd"], "href": html["changelog.qmd"]},
        ],
    }


#: The site's icon, as each Quarto project carries it (written there by ``edition.write_assets`` and ``site``).
FAVICON_PATH = "_observatoire/favicon.svg"


def website_settings(root: str, letters: list[ThemeLink], site_url: str | None = None) -> dict:
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
    """
    return {
        "lang": "fr",
        "date-format": "D MMMM YYYY",
        "crossref": dict(CROSSREF),
        "language": dict(LANGUAGE),
        "website": {
            "title": SITE_TITLE,
            "favicon": FAVICON_PATH,
            # title, description and image of each page for the cards of social networks and messaging apps
            "open-graph": True,
            **({"site-url": site_url} if site_url else {}),
            "search": {"location": "navbar", "type": "overlay"},
            "navbar": navbar(root, letters),
            "page-footer": {
                "left": "Observatoire national des violences faites aux femmes (MIPROF). Données SSMSI et "
                "Insee : Licence Ouverte / Etalab 2.0.",
            },
        },
    }
