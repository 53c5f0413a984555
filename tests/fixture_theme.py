"""A small theme declared in a temporary folder, for the tests of the release, its faults and the batch.

Each test module used to write its own copy of the same declaration (notebook folder, publication, themes.yml);
they all call :func:`write_theme` now, so a change of the themes.yml schema is made once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parent / "data" / "notebooks"


def write_theme(
    root: Path,
    theme_id: str,
    notebook: Path,
    index_qmd: str,
    *,
    years: tuple[int, int] = (2020, 2024),
    parameters: dict | None = None,
    words: str | None = None,
    translations: list[str] | None = None,
) -> dict:
    """Create ``notebooks/<theme_id>/``, ``publications/<theme_id>/index.qmd``; return the theme's declaration.

    Parameters
    ----------
    root : Path
        The temporary project folder.
    theme_id : str
        The theme's id (also its notebook folder and publication folder).
    notebook : Path
        The notebook copied into the theme's folder (e.g. ``FIXTURES / "good.ipynb"``).
    index_qmd : str
        The publication's ``index.qmd``.
    years : (int, int)
        First and last buildable years.
    parameters : dict, optional
        Default parameters (default: ``{"label": "défaut"}``).
    words : str, optional
        The publication's ``words.yml`` (its prose in every language).
    translations : list of str, optional
        The letter's other languages (``["en"]``): one source, one run of the notebook; the title is then given
        in each language.

    Returns
    -------
    dict
        The theme's entry for themes.yml (see :func:`write_declaration`).
    """
    folder = root / "notebooks" / theme_id
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, folder / notebook.name)
    publication = root / "publications" / theme_id
    publication.mkdir(parents=True, exist_ok=True)
    (publication / "index.qmd").write_text(index_qmd, encoding="utf-8")
    if words is not None:
        (publication / "words.yml").write_text(words, encoding="utf-8")
    extra = {"translations": list(translations)} if translations else {}
    return {
        "id": theme_id,
        "title": {"fr": "Lettre d'essai", **{lang: f"Test letter ({lang})" for lang in translations or ()}},
        **extra,
        "notebooks": [notebook.name],
        "publication": theme_id,
        "sources": ["geo_reference"],
        "years": {"first": years[0], "last": years[1]},
        "parameters": {"label": "défaut"} if parameters is None else parameters,
    }


def write_declaration(root: Path, *entries: dict) -> Path:
    """Write ``publications/themes.yml`` declaring ``entries``; return its path."""
    themes_yml = root / "publications" / "themes.yml"
    themes_yml.parent.mkdir(parents=True, exist_ok=True)
    declaration = {"schema_version": 1, "themes": list(entries)}
    themes_yml.write_text(yaml.safe_dump(declaration, allow_unicode=True), encoding="utf-8")
    return themes_yml
