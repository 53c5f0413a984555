"""The post-render pass that makes Quarto's HTML pages pass axe-core (WCAG 2.1 AA) with 0 violations.

Why a pass over the HTML rather than a Quarto option: what axe-core finds on Quarto's website pages comes from
markup Quarto writes from its own templates, with no option to change it (quarto-dev/quarto-cli#14376 for the
navbar):

- two navigation landmarks without a name (the navbar and the table of contents): ``landmark-unique``;
- boxes that scroll sideways (wide tables, made scroll boxes by ``letter.scss`` so that a phone never scrolls
  the page; notebook outputs in ``<pre>``) that a keyboard cannot reach: ``scrollable-region-focusable``;
- the listing's category filter in the margin, outside any landmark: ``region``;
- on a narrow screen, the navbar's toggle button announced as a menu (``role="menu"`` on a ``<button>``):
  ``aria-allowed-role``; it is a disclosure button (``aria-expanded``, ``aria-controls``).

Each rule is one small function ``str -> str``, deterministic and idempotent (a page already fixed is returned
unchanged), tested input -> output in tests/test_accessibility.py; :func:`accessible_page` applies them all and
:func:`make_accessible` rewrites every page of a rendered folder. Same page in, same bytes out. Faults in our
own output are fixed where they are made, not here: the notebooks show tables without pandas' unnamed index
(:mod:`observatoire.outputs.notebook_display`), the letter's tables get header scopes from :mod:`observatoire.outputs.interactive`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

__all__ = [
    "VISUALLY_HIDDEN_CSS",
    "accessible_page",
    "focusable_scroll_boxes",
    "label_empty_headers",
    "label_navigation",
    "make_accessible",
    "margin_landmark",
    "toggler_is_a_button",
]

#: Text read by screen readers and not shown (the usual "visually hidden" recipe).
VISUALLY_HIDDEN_CSS = (
    ".visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;"
    " overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }"
)

_EMPTY_HEADER = re.compile(r"<th((?:\s[^>]*)?)>(\s*)</th>")
_NAVBAR = re.compile(r'<nav class="navbar(?=[\s"])(?![^>]*\baria-label)([^>]*)>')
_TOC = re.compile(r'<nav id="TOC"(?![^>]*\baria-label)([^>]*)>(\s*<h2 id="(toc-title)")')
_SCROLL_BOX = re.compile(r"<(table|pre)(?=[\s>])(?![^>]*\btabindex=)")
_TOGGLER_ROLE = re.compile(r'(<button class="navbar-toggler"[^>]*?) role="menu"')
_MARGIN = re.compile(
    r'<div id="quarto-margin-sidebar"(?![^>]*\brole=)([^>]*)>(\s*<h([1-6])[^>]*>(.*?)</h\3>)', re.S
)


def label_empty_headers(text: str, label: str = "Ligne") -> str:
    """Give every empty header cell a visually hidden label (a header cell must have text for screen readers).

    Parameters
    ----------
    text : str
        HTML.
    label : str, default "Ligne"
        What the column holds (usually the labels or numbers of the rows).

    Returns
    -------
    str
    """
    return _EMPTY_HEADER.sub(rf'<th\1><span class="visually-hidden">{label}</span></th>', text)


def label_navigation(text: str, site_label: str) -> str:
    """Name the page's navigation landmarks, so that a screen reader can tell them apart (``landmark-unique``).

    The navbar gets ``aria-label=site_label``; the table of contents is labelled by its own visible title
    (``aria-labelledby="toc-title"``, "Sur cette page").

    Parameters
    ----------
    text : str
        A page Quarto wrote.
    site_label : str
        The navbar's name (:data:`observatoire.publishing.rendering.website.NAVBAR_LABEL`).

    Returns
    -------
    str
    """
    label = html.escape(site_label, quote=True)
    text = _NAVBAR.sub(lambda m: f'<nav class="navbar{m.group(1)} aria-label="{label}">', text)
    return _TOC.sub(r'<nav id="TOC"\1 aria-labelledby="\3">\2', text)


def focusable_scroll_boxes(text: str) -> str:
    """Let the keyboard reach every box that may scroll sideways (``scrollable-region-focusable``).

    Tables (scroll boxes on narrow screens, see ``letter.scss``) and preformatted blocks (code, notebook
    outputs) get ``tabindex="0"``: a keyboard user can then focus the box and scroll it with the arrow keys.
    A table keeps its role and is announced by its caption. Elements that already have a ``tabindex`` are left
    as they are.

    Parameters
    ----------
    text : str
        HTML.

    Returns
    -------
    str
    """
    return _SCROLL_BOX.sub(r'<\1 tabindex="0"', text)


def margin_landmark(text: str) -> str:
    """Make the margin column a complementary landmark named by its heading, when it holds content (``region``).

    On a listing page the margin holds the category filter ("Catégories"), content outside any landmark; on a
    letter it holds the table of contents, already a landmark, and is left alone (the rule only applies when
    the column starts with a heading).

    Parameters
    ----------
    text : str
        A page Quarto wrote.

    Returns
    -------
    str
    """

    def named(match: re.Match) -> str:
        name = html.escape(html.unescape(re.sub(r"<[^>]+>", "", match.group(4))).strip(), quote=True)
        return (
            f'<div id="quarto-margin-sidebar"{match.group(1)} role="complementary" aria-label="{name}">'
            f"{match.group(2)}"
        )

    return _MARGIN.sub(named, text)


def toggler_is_a_button(text: str) -> str:
    """Drop ``role="menu"`` from the navbar's toggle button (shown on narrow screens): ``aria-allowed-role``.

    The button opens the collapsed navbar; ``aria-expanded`` and ``aria-controls`` already say so, and a menu
    role would promise menu items and arrow-key navigation that the navbar does not have.

    Parameters
    ----------
    text : str
        A page Quarto wrote.

    Returns
    -------
    str
    """
    return _TOGGLER_ROLE.sub(r"\1", text)


def accessible_page(text: str, site_label: str) -> str:
    """All the rules of this module, in order, on one page.

    Parameters
    ----------
    text : str
        A page Quarto wrote.
    site_label : str
        The navbar's name.

    Returns
    -------
    str
    """
    text = label_navigation(text, site_label)
    return toggler_is_a_button(margin_landmark(focusable_scroll_boxes(text)))


def make_accessible(folder: Path, site_label: str) -> list[Path]:
    """Apply :func:`accessible_page` to every ``.html`` file under ``folder`` (rewritten only when changed).

    Parameters
    ----------
    folder : Path
        Quarto's output folder (``_site`` of a project), before it is published.
    site_label : str
        The navbar's name.

    Returns
    -------
    list of Path
        The pages changed, sorted.
    """
    changed = []
    for page in sorted(Path(folder).rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        fixed = accessible_page(text, site_label)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
            changed.append(page)
    return changed
