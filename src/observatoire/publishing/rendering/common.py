"""What the rendering modules share: the error, the result, the output names, the PDF timestamp.

Kept apart from ``__init__`` so that the modules of the package can import it without a cycle.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from observatoire.core.errors import InputError

ASSETS = Path(__file__).resolve().parent
#: Quarto filters: the key-figures band and the data links (letter.lua); the PDF's images scaled to fit a page
#: and its links made absolute (letter-pdf.lua).
LUA_FILTERS = (ASSETS / "letter.lua", ASSETS / "letter-pdf.lua")
#: The web look: a Quarto (Bootstrap) SCSS theme.
SCSS_THEME = ASSETS / "letter.scss"
#: The site's icon (every page links it; each Quarto project carries a copy).
FAVICON = ASSETS / "favicon.svg"
#: The PDF look: Quarto's ``typst-template.typ`` partial (defines ``letter``, ``key-figures``) ...
TYPST_LIBRARY = ASSETS / "letter.typ"
#: ... and its ``typst-show.typ`` partial (maps the front matter onto ``letter(...)``).
TYPST_SHOW = ASSETS / "typst-show.typ"

#: Output names in an edition's folder (see API.md, "rendering/").
HTML_NAME = "index.html"
PDF_NAME = "letter.pdf"

#: Timestamp written into PDFs when the letter has no ISO date and SOURCE_DATE_EPOCH is not set:
#: 2024-01-01T00:00:00Z. Any fixed value gives byte-identical PDFs; this one is merely plausible.
FIXED_EPOCH = 1_704_067_200

RENDERER = "quarto"
FORMATS = ("html", "pdf")
#: The index of a website's pages Quarto writes (its search box reads it).
SEARCH = "search.json"


class RenderError(InputError):
    """A letter or a site that cannot be rendered: Quarto missing, too old, or failing.

    Subclass of :class:`~observatoire.core.errors.InputError`, so the command line reports it the same way: file,
    place, rule.
    """


@dataclass(frozen=True)
class RenderResult:
    """What :func:`observatoire.publishing.rendering.render` produced.

    Attributes
    ----------
    renderer : str
        ``"quarto"``.
    html : Path or None
        ``out_dir/index.html`` when HTML was asked for.
    pdf : Path or None
        ``out_dir/letter.pdf`` when PDF was asked for.
    log : str
        Commands run and tool messages, for the build log.
    version : str
        ``"quarto 1.10.18; pandoc 3.9; typst 0.15.0"``: Quarto and the tools it drove.
    timings : dict of str to float
        Wall seconds per format (``{"html": 5.8, "pdf": 5.9}``), for ``make bench``.
    date : str or None
        The letter's date as precise as it is printed: ``"2024-11-25"``, or ``"2025-11"`` for "novembre 2025"
        (the site's changelog dates the first publication with it).
    """

    renderer: str
    html: Path | None
    pdf: Path | None
    log: str = ""
    version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    date: str | None = None


def timestamp_for(date: object) -> int:
    """Seconds since the epoch to stamp into the PDF: the letter's date, so the PDF is dated like the letter.

    ``date`` is the letter's ISO date (``"2024-11-25"`` or a :class:`datetime.date`), read at midnight UTC.
    Without one, ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention), then :data:`FIXED_EPOCH`. Either
    way two renders give the same bytes.
    """
    if isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()):
        date = dt.date.fromisoformat(date.strip())
    if isinstance(date, dt.date):
        return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        try:
            return int(env)
        except ValueError as exc:
            raise RenderError("SOURCE_DATE_EPOCH", "environment", f"not an integer: {env!r}") from exc
    return FIXED_EPOCH


def _page_rank(entry: dict) -> tuple[int, str]:
    page = str(entry.get("href", "")).split("#")[0]
    return (0 if page == HTML_NAME else 1, page)


def order_search(entries: list[dict]) -> list[dict]:
    """The entries of a ``search.json`` in one order whatever the Quarto calls that wrote them: the letter's
    page first, then the other pages by path, each page's entries in Quarto's order (its sections in order).

    Quarto writes a project's pages in an order of its own (neither the render list's nor the names'), so a
    letter rendered by one call, by two (its notebook pages apart) or with other letters (:mod:`.group`) would
    otherwise get three files.
    """
    return sorted(entries, key=_page_rank)  # a stable sort: each page's entries keep their order


def write_search(path: Path, entries: list[dict]) -> None:
    """Write ``search.json`` entries in :func:`order_search`'s order, laid out as Quarto lays the file out."""
    path.write_text(json.dumps(order_search(entries), indent=2, ensure_ascii=False), encoding="utf-8")


def read_search(path: Path) -> list[dict]:
    """The entries of a ``search.json`` ([] when there is none)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
