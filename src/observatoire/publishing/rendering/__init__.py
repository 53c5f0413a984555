"""Render the letters and the published site with Quarto.

Why Quarto alone: the letters are written in Quarto Markdown, and Quarto renders every letter, every year, to
HTML and to PDF (through typst); the site around them is a Quarto website too. What Quarto does not do lives
here, small: the key-figures band and the data links (``letter.lua``), the look (``letter.scss`` for the web,
``letter.typ`` + ``typst-show.typ`` for the PDF), and the assembly of editions rendered one at a time into one
site.

Files of this package:

- ``quarto.py``: find Quarto (``.tools/quarto`` installed by ``make quarto``, else PATH), its versions, run it;
- ``website.py``: the settings every page shares (French, navbar, search, footer) and the list of site pages;
- ``edition.py``: one edition (a staged letter project with its executed notebooks) -> web pages + PDF;
- ``group.py``: several letters of one theme and year in one Quarto call, each the bytes of a render alone;
- ``notebooks.py``: an executed notebook made into a page of its edition (parameters, link back to the letter);
- ``site.py``: the site's own pages (Quarto listings of the editions, methods, data) rendered into ``_site/``.

Two renders of the same inputs give the same bytes (README, "Reproducible builds", says what is pinned).
"""

from __future__ import annotations

import importlib
from typing import Any

from .common import FORMATS, HTML_NAME, PDF_NAME, RENDERER, RenderError, RenderResult
from .quarto import find_quarto, versions

#: Imported when first asked for (PEP 562): they load the templates and pandas (0.7 s), which the no-change
#: release path must not pay when it only asks Quarto's version (``plan.renderer_available``).
_HEAVY = {"render": ".edition", "render_group": ".group", "write_site": ".site"}


def __getattr__(name: str) -> Any:
    if name in _HEAVY:
        return getattr(importlib.import_module(_HEAVY[name], __name__), name)  # lazy: see _HEAVY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "HTML_NAME",
    "PDF_NAME",
    "RENDERER",
    "RenderError",
    "RenderResult",
    "find_quarto",
    "render",
    "render_group",
    "versions",
    "write_site",
]
