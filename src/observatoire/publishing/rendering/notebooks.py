"""An executed notebook made into a page of its edition's website.

Why: a reader who wants to check a number follows "Voir les calculs" to the notebook that computed it, and must
find the same site (navbar, search, French) and a way back to the part of the letter the notebook computes.
Quarto renders the page from the executed ``.ipynb`` with its outputs, never re-running it; this module only
prepares that ``.ipynb``: front matter (title, French), the parameters of the run and the link back at the top,
and nothing that changes from one run to the next (papermill's timestamps, execution metadata, random cell ids,
absolute paths of the build machine).

Which section: each fact the letter quotes (``{{< var key >}}`` or a template's ``f.key``) belongs to the first
section quoting it (the letter's included ``.qmd`` files first, in the order the letter includes them, then
``index.qmd``); a notebook goes back to the section holding most of its facts (the first such section on a tie).
A notebook no section quotes is linked back to "Voir les calculs".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from observatoire.core import paths
from observatoire.core.escaping import markdown_text
from observatoire.outputs.templates import render_text

log = logging.getLogger(__name__)

#: The words of a notebook page's header (link back to the letter, parameters), written by the authors.
HEADER_TEMPLATE = paths.PUBLICATIONS / "_shared" / "notebook_header.md"

#: The letter's section listing the notebooks (written by the release as _calculs.qmd).
CALCULATIONS = ("Voir les calculs", "voir-les-calculs")
_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*(?:\{#([\w:.-]+)[^}]*\})?\s*$")
_INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
_FACT = re.compile(r"\{\{<\s*var\s+([A-Za-z0-9_]+)\s*>\}\}|\[\[[^\]]*?\bf\.([A-Za-z0-9_]+)")
_SHORTCODE = re.compile(r"\{\{<\s*(?:var|meta)\s+([\w.-]+)\s*>\}\}")


def slug(text: str) -> str:
    """The identifier pandoc gives a heading (its ``auto_identifiers`` rule): ``"Les points clés"`` ->
    ``"les-points-clés"``; apostrophes and punctuation go, letters with accents stay."""
    text = re.sub(r"[*_`]", "", text) if "`" in text or "*" in text else text
    kept = "".join(c for c in text if c.isalnum() or c in "_-. \n")
    out = re.sub(r"\s+", "-", kept.strip()).lower()
    out = re.sub(r"^[^a-zà-ÿ]+", "", out)
    return out or "section"


def letter_sections(publication: Path, values: Mapping[str, Any] | None = None) -> dict[str, tuple[str, str]]:
    """Map each fact key the letter quotes to the first section quoting it: ``{key: (title, anchor)}``.

    Parameters
    ----------
    publication : Path
        The publication folder (``index.qmd`` and the files it includes).
    values : Mapping, optional
        Values for ``{{< var >}}``/``{{< meta >}}`` in headings.
    """
    values = values or {}
    index = publication / "index.qmd"
    text = index.read_text(encoding="utf-8")
    files = [publication / name for name in _INCLUDE.findall(text)] + [index]
    found: dict[str, tuple[str, str]] = {}
    for path in files:
        if not path.is_file() or path.suffix != ".qmd":
            continue
        section: tuple[str, str] | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            heading = _HEADING.match(line)
            if heading:
                title = _SHORTCODE.sub(lambda m: str(values.get(m.group(1), "")), heading.group(2)).strip()
                section = (title, heading.group(3) or slug(title))
                continue
            if section is None:
                continue
            for var, template in _FACT.findall(line):
                found.setdefault(var or template, section)
    return found


def section_for(keys: list[str], sections: Mapping[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The section holding most of ``keys`` (see :func:`letter_sections`); the first such on a tie; None if none."""
    votes: dict[tuple[str, str], int] = {}
    order = list(dict.fromkeys(sections.values()))
    for key in keys:
        if key in sections:
            votes[sections[key]] = votes.get(sections[key], 0) + 1
    if not votes:
        return None
    return max(votes, key=lambda s: (votes[s], -order.index(s)))


def notebook_title(notebook: Mapping[str, Any], fallback: str) -> str:
    """The first Markdown heading of a notebook (its title), or ``fallback``."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def _drop_first_heading(notebook: dict) -> None:
    """Remove the title heading from the first Markdown cell (Quarto shows the title from the front matter)."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    cell["source"] = "".join(lines[:i] + lines[i + 1 :])
                    return
            return


def _drop_stderr(cell: dict, notebook: str) -> None:
    """Remove a cell's standard-error output from its page, and log it for the person running the release.

    Our notebooks write nothing to standard error (they say what they must in their own output); what lands there
    comes from the machine (a library's font cache being built, a lock waited for under load) and would make two
    builds of the same inputs differ.
    """
    kept = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", ""))
            log.warning("%s: standard-error output left out of the page: %s", notebook, text.strip()[:500])
        else:
            kept.append(output)
    if "outputs" in cell:
        cell["outputs"] = kept


def notebook_page(
    executed: Path,
    target: Path,
    *,
    parameters: Mapping[str, Any],
    replace_paths: Mapping[str, str],
    section: tuple[str, str] | None,
    letter_href: str = "../index.html",
) -> Path:
    """Write ``target`` (an ``.ipynb``): the executed notebook ready to be rendered as a page of its edition.

    Parameters
    ----------
    executed : Path
        The notebook as papermill wrote it.
    target : Path
        Where to write the page's notebook (``<project>/notebooks/<name>.ipynb``).
    parameters : Mapping
        The parameters of the run, shown in a table at the top.
    replace_paths : Mapping of str to str
        Absolute paths of the build machine and what to show instead (``{"/…/build": "build"}``).
    section : tuple of (str, str) or None
        Title and anchor of the letter's section the notebook computes (see :func:`letter_sections`).
    letter_href : str
        The letter, relative to the page.

    Returns
    -------
    Path
        ``target``.
    """
    text = executed.read_text(encoding="utf-8")
    for absolute, shown in sorted(replace_paths.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(absolute)[1:-1], shown)
    notebook = json.loads(text)
    title = notebook_title(notebook, executed.stem)
    _drop_first_heading(notebook)
    for key in ("papermill", "widgets"):
        notebook.get("metadata", {}).pop(key, None)
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{index}"
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
        _drop_stderr(cell, executed.name)
    shown = dict(parameters)
    for absolute, short in replace_paths.items():
        shown = {k: str(v).replace(absolute, short) for k, v in shown.items()}
    rows = "\n".join(f"| `{name}` | `{value}` |" for name, value in sorted(shown.items()))
    where = section or CALCULATIONS
    front = {"title": title, "lang": "fr", "format-links": False, "toc": True}
    header = [
        {
            "cell_type": "raw",
            "id": "front-matter",
            "metadata": {},
            "source": "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n",
        },
        {
            "cell_type": "markdown",
            "id": "back-to-letter",
            "metadata": {},
            # the words are the publication's (publications/_shared/notebook_header.md), filled here
            "source": render_text(
                HEADER_TEMPLATE.read_text(encoding="utf-8"),
                {},
                {
                    "lang": "fr",
                    "section": markdown_text(where[0]),
                    "href": f"{letter_href}#{where[1]}",
                    "rows": rows,
                },
                name=str(HEADER_TEMPLATE),
            ).strip()
            + "\n",
        },
    ]
    notebook["cells"] = header + notebook["cells"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(notebook, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target
