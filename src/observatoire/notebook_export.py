"""The executed notebooks as pages of the edition: each notebook's HTML page and the "Voir les calculs" section.

Why a module of its own: the release only decides when a page is written (as soon as its notebook has run, off
the critical path); how a page looks (deterministic HTML, parameters at the top, no timestamps or absolute paths)
is this module's concern, and the only one here that imports nbconvert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatoire import paths


def _notebook_title(notebook: Path) -> str:
    """The first Markdown heading of a notebook (its title), or its file stem."""

    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def write_calculations_page(target: Path, notebooks: list[Path]) -> None:
    """Write the "Voir les calculs" section the letter includes: a link to each executed notebook's HTML page.

    Generated at staging time from the theme's notebook list, so the links always match what was run; every
    publication includes it with ``{{< include _calculs.qmd >}}``.
    """
    lines = [
        "## Voir les calculs",
        "",
        "Chaque chiffre de cette lettre est calculé par un notebook exécuté pour cette édition. Ses pages montrent "
        "les paramètres utilisés, le code et les résultats intermédiaires :",
        "",
    ]
    lines += [f"- [{_notebook_title(nb)}](notebooks/{nb.stem}.html)" for nb in notebooks]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def export_notebook_html(
    executed: Path, target: Path, parameters: Mapping[str, Any], build_dir: Path
) -> None:
    """Write an executed notebook as a deterministic HTML page, its parameters shown at the top.

    papermill's timestamps and durations, nbclient's execution metadata and the random cell ids are removed, and
    the absolute build and repository paths are replaced by ``build`` and ``.``, so the page depends only on
    what the notebook did, not on when or where it ran.
    """

    import nbformat
    from nbconvert import HTMLExporter

    text = executed.read_text(encoding="utf-8")
    for absolute, shown in ((str(Path(build_dir).resolve()), "build"), (str(paths.ROOT), ".")):
        text = text.replace(json.dumps(absolute)[1:-1], shown)
    nb = nbformat.reads(text, as_version=4)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    shown = {k: (str(v).replace(str(Path(build_dir).resolve()), "build")) for k, v in parameters.items()}
    rows = "\n".join(f"| `{name}` | `{value}` |" for name, value in sorted(shown.items()))
    header = nbformat.v4.new_markdown_cell(
        f"**Notebook exécuté : `{executed.name}`**\n\n| paramètre | valeur |\n| --- | --- |\n{rows}\n"
    )
    header.id = "parameters-summary"
    nb.cells.insert(0, header)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": executed.stem}})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
