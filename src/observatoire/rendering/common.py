"""What every renderer shares: the error, the result, the asset files, the output names, the timestamp.

Kept apart from ``__init__`` so that the renderer modules can import it without a cycle.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from observatoire.errors import InputError
from observatoire.formatting import MONTHS_FR

ASSETS = Path(__file__).resolve().parent
#: pandoc Lua filter for the Quarto subset (also declared as a Quarto filter, where it does less).
LUA_FILTER = ASSETS / "quarto_subset.lua"
#: pandoc HTML template (header band, main, footer) and its stylesheet.
HTML_TEMPLATE = ASSETS / "letter.html"
CSS = ASSETS / "letter.css"
#: The typst look (a library, no pandoc variables): pandoc partial for the fallback, Quarto's
#: ``typst-template.typ`` partial under Quarto.
TYPST_LIBRARY = ASSETS / "letter.typ"
#: pandoc typst template for the fallback: maps front matter onto ``letter(...)``.
TYPST_TEMPLATE = ASSETS / "template.typ"
#: Quarto's ``typst-show.typ`` partial: the same mapping, for Quarto.
TYPST_SHOW = ASSETS / "typst-show.typ"

#: Output names in ``out_dir`` (see API.md, "rendering/").
HTML_NAME = "index.html"
PDF_NAME = "letter.pdf"
#: Data files copied next to the HTML so that its download links work (same relative paths as in the project).
DATA_GLOBS = ("figures/*.csv", "tables/*.csv")

#: Timestamp written into PDFs when neither SOURCE_DATE_EPOCH nor an ISO ``date`` is given:
#: 2024-01-01T00:00:00Z. Any fixed value gives byte-identical PDFs; this one is merely plausible.
FIXED_EPOCH = 1_704_067_200

RENDERERS = ("quarto", "pandoc+typst")
FORMATS = ("html", "pdf")


class RenderError(InputError):
    """A letter that cannot be rendered: a rule of the subset broken, or a tool that failed.

    Subclass of :class:`~observatoire.errors.InputError`, so the command line reports it the same way: file,
    place, rule.

    Parameters
    ----------
    file : str or Path
        The file at fault (a ``.qmd``, ``_variables.yml``, or the project folder when a tool failed).
    place : str
        ``"line 12"``, ``"whole file"``, ``"pandoc"``, ``"typst"`` ...
    rule : str
        What is wrong, said plainly.
    problems : list of str, optional
        Every lint problem, when the error comes from :func:`observatoire.rendering.lint`.
    """

    def __init__(self, file: str | Path, place: str, rule: str, problems: list[str] | None = None) -> None:
        super().__init__(file, place, rule)
        self.problems = list(problems or [])


@dataclass(frozen=True)
class RenderResult:
    """What :func:`observatoire.rendering.render` produced.

    Attributes
    ----------
    renderer : str
        ``"quarto"`` or ``"pandoc+typst"``.
    html : Path or None
        ``out_dir/index.html`` when HTML was asked for.
    pdf : Path or None
        ``out_dir/letter.pdf`` when PDF was asked for.
    log : str
        Commands run, tool messages and timings, for the build log.
    """

    renderer: str
    html: Path | None
    pdf: Path | None
    log: str = ""


def french_date(value: object) -> str:
    """Write a date the French way: ``2024-11-25`` -> ``"25 novembre 2024"`` (``1er`` for the first).

    Text that is not an ISO date (``"novembre 2024"``) is returned unchanged.
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.date):
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {MONTHS_FR[value.month - 1]} {value.year}"
    return str(value)


def timestamp_for(meta: dict) -> int:
    """Seconds since the epoch to stamp into the PDF, so that two renders give the same bytes.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) wins; then the letter's ISO ``date`` at
    midnight UTC; then :data:`FIXED_EPOCH`.
    """
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        try:
            return int(env)
        except ValueError as exc:
            raise RenderError("SOURCE_DATE_EPOCH", "environment", f"not an integer: {env!r}") from exc
    date = meta.get("date")
    if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()):
        date = dt.date.fromisoformat(date.strip())
    if isinstance(date, dt.date):
        return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())
    return FIXED_EPOCH
