"""A new letter without pipeline code: ``make new-theme ID=...`` scaffolds a theme from declared files.

Why. Adding a letter used to mean a new indicators module and edits of the release, the themes reader, the
datasets module and the Makefile. The theme contract (``publications/themes.yml``) already says everything a build
needs: the notebooks, the publication, the sources (``*_source`` parameters are fetched and validated) and the
years. So a new theme is files only: this module copies the templates of ``publications/_new_theme/`` (every
``__ID__`` replaced by the theme's id), appends the theme's entry to themes.yml (text appended, so its comments
stay), and runs the new notebook once to store its nbval reference. Nothing under ``src/`` is written.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.publishing import review

__all__ = ["TEMPLATES", "new_theme"]

#: The templates of a new theme (publications/_new_theme/, see its README.md).
TEMPLATES = paths.PUBLICATIONS / "_new_theme"
PLACEHOLDER = "__ID__"
_ID = re.compile(r"[a-z][a-z0-9_]{1,30}")
NOTEBOOK = "01_indicateur.ipynb"


def _fill(template: str, theme_id: str) -> str:
    return (TEMPLATES / template).read_text(encoding="utf-8").replace(PLACEHOLDER, theme_id)


def new_theme(theme_id: str, *, reference: bool = True) -> list[Path]:
    """Scaffold the theme ``theme_id``: its themes.yml entry, notebook, publication, nbval reference and test.

    Parameters
    ----------
    theme_id : str
        ``[a-z][a-z0-9_]*``: the folder name under notebooks/ and publications/ and the URL segment.
    reference : bool, default True
        Run the new notebook to store its nbval reference (``make refresh-nbval`` does the same later).

    Returns
    -------
    list of Path
        The files written (themes.yml last among the declarations).

    Raises
    ------
    InputError
        For an id that is not valid or already used (a theme, a notebook folder or a publication folder).
    """
    themes_yml = paths.THEMES_YML
    if not _ID.fullmatch(theme_id):
        raise InputError(
            themes_yml, f"new theme '{theme_id}'", "an id is [a-z][a-z0-9_]* (2 to 31 characters)"
        )
    notebook_dir = paths.NOTEBOOKS / theme_id
    publication = paths.PUBLICATIONS / theme_id
    declared = re.search(
        rf"^\s*-\s*id:\s*{re.escape(theme_id)}\s*$", themes_yml.read_text(encoding="utf-8"), re.M
    )
    if declared or notebook_dir.exists() or publication.exists():
        raise InputError(
            themes_yml, f"new theme '{theme_id}'", "already declared or its folders already exist"
        )
    try:
        return _write(theme_id, notebook_dir, publication, reference)
    except BaseException:
        remove_theme(theme_id)  # nothing half-written
        raise


def _write(theme_id: str, notebook_dir: Path, publication: Path, reference: bool) -> list[Path]:
    written = []
    notebook_dir.mkdir(parents=True)
    publication.mkdir(parents=True)
    targets = {
        "notebook.ipynb": notebook_dir / NOTEBOOK,
        "notebook.meta.yml": notebook_dir / NOTEBOOK.replace(".ipynb", ".meta.yml"),
        "_quarto.yml": publication / "_quarto.yml",
        "index.qmd": publication / "index.qmd",
        "_methodes.qmd": publication / "_methodes.qmd",
        "test_theme.py": paths.ROOT / "tests" / f"test_theme_{theme_id}.py",
    }
    for template, target in targets.items():
        target.write_text(_fill(template, theme_id), encoding="utf-8")
        written.append(target)
    with paths.THEMES_YML.open("a", encoding="utf-8") as handle:
        handle.write(_fill("themes_entry.yml", theme_id))
    written.append(paths.THEMES_YML)
    if reference:
        written.extend(review.refresh_references([notebook_dir / NOTEBOOK], workers=1))
    return written


def remove_theme(theme_id: str) -> None:
    """Undo :func:`new_theme` for a theme whose scaffold failed half-way (its folders and its themes.yml entry)."""
    for folder in (paths.NOTEBOOKS / theme_id, paths.PUBLICATIONS / theme_id, review.NBVAL_DIR / theme_id):
        shutil.rmtree(folder, ignore_errors=True)
    (paths.ROOT / "tests" / f"test_theme_{theme_id}.py").unlink(missing_ok=True)
    entry = _fill("themes_entry.yml", theme_id)
    text = paths.THEMES_YML.read_text(encoding="utf-8")
    if text.endswith(entry):
        paths.THEMES_YML.write_text(text[: -len(entry)], encoding="utf-8")
