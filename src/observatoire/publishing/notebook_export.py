"""The executed notebooks as pages of the edition: each notebook prepared for Quarto, and the "Voir les calculs"
section.

Why a module of its own: the release only decides when a page is prepared (as soon as its notebook has run, off
the critical path); what the page holds (parameters at the top, a link back to the letter's section, nothing that
changes between runs) is :mod:`observatoire.publishing.rendering.notebooks`; Quarto renders it with the letter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatoire.core import paths
from observatoire.data.themes import get_theme
from observatoire.outputs.words import site_words

#: The list of links to the notebooks' pages alone (no words), beside ``_calculs.qmd``: a publication in another
#: language writes its own section around it (``{{< include _notebook_links.md >}}``).
NOTEBOOK_LINKS = "_notebook_links.md"


def _notebook_title(notebook: Path) -> str:
    """The first Markdown heading of a notebook (its title), or its file stem."""
    from observatoire.publishing.rendering.notebooks import notebook_title  # lazy: as in notebook_page

    return notebook_title(json.loads(notebook.read_text(encoding="utf-8")), notebook.stem)


def write_calculations_page(target: Path, notebooks: list[Path], lang: str = "fr") -> None:
    """Write the "Voir les calculs" section the letter includes: a link to each executed notebook's HTML page.

    Generated at staging time from the theme's notebook list, so the links always match what was run; every
    publication includes it with ``{{< include _calculs.qmd >}}`` (its heading and sentence are the
    ``notebook`` words of ``site_words.yml``, in ``lang``). The links alone are also written to :data:`NOTEBOOK_LINKS`
    beside it.
    """
    links = [f"- [{_notebook_title(nb)}](notebooks/{nb.stem}.html)" for nb in notebooks]
    (target.parent / NOTEBOOK_LINKS).write_text("\n".join(links) + "\n", encoding="utf-8")
    words = site_words(lang)["notebook"]
    lines = [f"## {words['calculations']}", "", words["calculations_intro"], ""] + links
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def notebook_page(
    executed: Path,
    target: Path,
    parameters: Mapping[str, Any],
    build_dir: Path,
    publication: Path,
    lang: str | None = None,
) -> None:
    """Prepare an executed notebook as a page of the edition's website (``target``: an ``.ipynb`` Quarto renders).

    The page links back to the letter's section that quotes most of the notebook's facts (read from
    ``<output_dir>/facts/<notebook>.json``), in the publication of the letter's language ``lang`` (default: the
    run's parameter ``langue``; one run serves every language of a letter, so the English letter's pages pass
    ``"en"``); see :func:`observatoire.publishing.rendering.notebooks.notebook_page`.
    """
    from observatoire.publishing.rendering import (
        notebooks,  # lazy: rendering pulls Jinja and pandas; the no-change release path imports this module
    )

    lang = str(lang or parameters.get("langue") or "fr")
    if lang != "fr" and parameters.get("theme"):
        publication = get_theme(str(parameters["theme"])).publication_dir_for(lang)
    facts_file = Path(parameters.get("output_dir", "")) / "facts" / f"{executed.stem}.json"
    facts = (
        json.loads(facts_file.read_text(encoding="utf-8")).get("facts", {}) if facts_file.is_file() else {}
    )
    notebooks.notebook_page(
        executed,
        target,
        parameters=parameters,
        replace_paths={str(Path(build_dir).resolve()): "build", str(paths.ROOT): "."},
        section=notebooks.section_for(list(facts), notebooks.letter_sections(publication)),
        lang=lang,
    )
