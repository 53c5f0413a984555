"""Render a letter (a staged Quarto project) to HTML and PDF, check it uses the supported subset, index the site.

Why two renderers: the letters are written in Quarto Markdown, and Quarto renders them where it is installed;
where it cannot be (no network for its installer), pandoc 3 and typst render the same subset with the same
look. :func:`lint` keeps authors inside that subset, so both renderers agree.

Files of this package:

- ``quarto.py``: the Quarto path (``quarto render --to html|typst`` on a scratch copy of the project);
- ``fallback.py``: the pandoc + typst path; ``shortcodes.py``: var/meta/include expansion with file and line;
- ``quarto_subset.lua``: the pandoc Lua filter (figures, tables, cross-references, callouts, key figures);
- ``letter.html`` + ``letter.css``: the HTML look; ``letter.typ`` (+ ``template.typ`` for pandoc,
  ``typst-show.typ`` for Quarto): the PDF look;
- ``lint.py``: the subset check; ``site.py``: ``_site/index.html``.

Outputs in ``out_dir``: ``index.html`` (self-contained: CSS and images embedded), ``figures/*.csv`` and
``tables/*.csv`` (the data its download links point to), and ``letter.pdf`` (A4, fonts embedded, fixed
timestamp). Two renders of the same project give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .common import FORMATS, HTML_NAME, PDF_NAME, RENDERERS, RenderError, RenderResult
from .fallback import render_fallback
from .lint import lint
from .quarto import find_quarto, render_quarto
from .site import write_site_index

__all__ = [
    "HTML_NAME",
    "PDF_NAME",
    "RenderError",
    "RenderResult",
    "choose_renderer",
    "lint",
    "render",
    "write_site_index",
]


def choose_renderer(renderer: str = "auto") -> str:
    """Resolve ``"auto"``: ``"quarto"`` when ``quarto`` is on PATH, else ``"pandoc+typst"``.

    Raises
    ------
    RenderError
        Unknown renderer name, or ``"quarto"`` asked for without quarto on PATH.
    """
    if renderer == "auto":
        return "quarto" if find_quarto() else "pandoc+typst"
    if renderer not in RENDERERS:
        raise RenderError(
            "renderer", "argument", f"unknown renderer {renderer!r} (auto, {', '.join(RENDERERS)})"
        )
    if renderer == "quarto" and find_quarto() is None:
        raise RenderError("quarto", "environment", "renderer='quarto' asked for, but quarto is not on PATH")
    return renderer


def _formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    wanted = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise RenderError("formats", "argument", f"formats must be among {FORMATS} (got {wanted!r})")
    return tuple(f for f in FORMATS if f in wanted)


def render(
    project_dir: str | Path,
    out_dir: str | Path,
    *,
    formats: Iterable[str] = FORMATS,
    renderer: str = "auto",
) -> RenderResult:
    """Render a staged letter project to ``out_dir/index.html`` and ``out_dir/letter.pdf``.

    Parameters
    ----------
    project_dir : str or Path
        Staged Quarto project: ``_quarto.yml``, ``index.qmd`` (the letter), ``_variables.yml``,
        ``figures/*.svg|png|csv``, ``tables/*.md|csv``, included ``.qmd`` files.
    out_dir : str or Path
        Output folder (created). Receives ``index.html``, ``letter.pdf``, and copies of ``figures/*.csv`` and
        ``tables/*.csv`` for the HTML's download links.
    formats : iterable of str
        ``"html"`` and/or ``"pdf"``.
    renderer : {"auto", "quarto", "pandoc+typst"}
        ``"auto"`` uses Quarto when it is on PATH.

    Returns
    -------
    RenderResult
        ``renderer``, ``html`` and ``pdf`` paths (None for a format not asked for), ``log``.

    Raises
    ------
    RenderError
        The letter uses features outside the subset (``.problems`` lists them all, the message names the first
        by file and line), an unknown variable, or a renderer failure.
    """
    wanted = _formats(formats)
    chosen = choose_renderer(renderer)
    project_dir = Path(project_dir)
    problems = lint(project_dir)
    if problems:
        first = problems[0]
        file, _, rest = first.partition(":")
        line, _, rule = rest.partition(": ") if rest[:1].isdigit() else ("", "", rest.strip())
        more = (
            f" (and {len(problems) - 1} more problem(s): {'; '.join(problems[1:])})"
            if len(problems) > 1
            else ""
        )
        raise RenderError(
            project_dir / file, f"line {line}" if line else "whole file", rule + more, problems=problems
        )
    if chosen == "quarto":
        return render_quarto(project_dir, out_dir, wanted)
    return render_fallback(project_dir, out_dir, wanted)
