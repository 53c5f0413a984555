"""What a notebook calls first: the edition it works for, where its outputs go, its facts.

Why. Every notebook of a letter needs the same four things: the edition (theme and year), the folder its
figures, tables and facts go to, the letter's chart style, and a facts collector. Gathering them in one object
keeps notebooks short and identical in shape (parameters cell, then ``ctx = EditionContext(theme, year,
notebook, output_dir)``), and makes the output folder a parameter papermill can set, with a sensible default
(``build/<theme>/<year>/outputs``) when a notebook is run by hand in JupyterLab.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import datasets
from observatoire.data.themes import get_theme
from observatoire.outputs.charts import SavedFigure, apply_style, save_figure, set_language
from observatoire.outputs.facts import Facts
from observatoire.outputs.notebook_display import show_frames_without_unnamed_index
from observatoire.outputs.tables import save_table
from observatoire.outputs.vocabulary import VOCABULARY_FILE, load_vocabulary

__all__ = ["EditionContext", "default_output_dir"]


def default_output_dir(theme: str, year: int) -> Path:
    """``build/<theme>/<year>/outputs`` (``build`` is ``observatoire.core.paths.BUILD``).

    Parameters
    ----------
    theme : str
        Theme of the edition.
    year : int
        Year of the edition.

    Returns
    -------
    Path
    """
    return paths.BUILD / theme / str(int(year)) / "outputs"


class EditionContext:
    """The edition a notebook works for: output folder, chart style and facts.

    Parameters
    ----------
    theme : str
        Theme of the edition (e.g. ``"annual"``).
    year : int or str
        Year of the edition (papermill may pass it as a string).
    notebook : str
        Name of the notebook: its facts go to ``facts/<notebook>.json``.
    output_dir : str or Path, optional
        Output folder; None or ``""`` means :func:`default_output_dir`. A relative path is taken from the
        current working directory. Created when absent.
    langue : {"fr", "en"}, default "fr"
        The letter's language (the notebook's ``langue`` parameter). In another language than French, the
        charts and tables take their words from the theme's publication in that language
        (:mod:`observatoire.outputs.vocabulary`) and print their numbers in it; the facts are the same.

    Attributes
    ----------
    theme, year, notebook : str, int, str
    output_dir : Path
        Absolute output folder.
    facts : Facts
        The notebook's facts; ``finish()`` saves them.
    figures, tables : list of dict
        Metadata of what this notebook saved, in order.

    Examples
    --------
    >>> ctx = EditionContext("annual", 2024, "01_national", output_dir)  # doctest: +SKIP
    >>> ctx.facts.add("victimes", 122610, unit="victimes", source_id="ssmsi_dep_2024", edition="2024")
    ... # doctest: +SKIP
    >>> ctx.finish()  # doctest: +SKIP
    """

    def __init__(
        self,
        theme: str,
        year: int | str,
        notebook: str,
        output_dir: str | Path | None = None,
        langue: str = "fr",
    ) -> None:
        if not isinstance(theme, str) or not theme.strip():
            raise ValueError(f"EditionContext: theme must be a non-empty string, got {theme!r}")
        try:
            year_int = int(year)
        except (TypeError, ValueError):
            raise ValueError(f"EditionContext: year must be an integer, got {year!r}") from None
        if isinstance(year, bool) or not 1900 <= year_int <= 2200:
            raise ValueError(f"EditionContext: year {year!r} is not a plausible edition year")
        self.theme = theme.strip()
        self.year = year_int
        self.facts = Facts(notebook, self.theme, self.year)
        self.notebook = notebook
        if output_dir is None or (isinstance(output_dir, str) and not output_dir.strip()):
            resolved = default_output_dir(self.theme, self.year)
        else:
            resolved = Path(output_dir).expanduser()
        self.output_dir = resolved.resolve()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.figures: list[dict] = []
        self.tables: list[dict] = []
        datasets.reset_reads()  # the sources this notebook reads, written by finish() for the release to check
        apply_style()
        show_frames_without_unnamed_index(langue)
        set_language(langue)
        self.lang = langue
        self.vocabulary = None if langue == "fr" else self._vocabulary(langue)

    def _vocabulary(self, lang: str):
        return load_vocabulary(get_theme(self.theme).publication_dir_for(lang) / VOCABULARY_FILE)

    @property
    def edition_label(self) -> str:
        """The edition as readers name it (the letter's title and year), for the downloads' metadata."""
        try:
            title = get_theme(self.theme).title
        except InputError:  # an ad hoc theme (tests, a notebook run outside the declared letters)
            title = f"Lettre « {self.theme} »"
        return f"{title}, édition {self.year}"

    def __repr__(self) -> str:
        return (
            f"EditionContext(theme={self.theme!r}, year={self.year}, notebook={self.notebook!r}, "
            f"output_dir={str(self.output_dir)!r})"
        )

    def save_figure(
        self,
        fig,
        name: str,
        data: pd.DataFrame | pd.Series,
        *,
        title: str,
        source: str,
        alt: str,
        note: str | None = None,
        caption: str | None = None,
        headers: Mapping[str, str] | None = None,
        formats: Mapping[str, str] | None = None,
    ) -> SavedFigure:
        """:func:`observatoire.outputs.charts.save_figure` into this edition's output folder, then show the figure.

        In a notebook (JupyterLab, papermill, the published notebook pages) the saved figure is displayed
        inline, once, as the letter shows it; elsewhere nothing is displayed.

        In another language than French, the title, note and alt text are the vocabulary's, and the chart's
        French labels are replaced by the vocabulary's terms.

        Returns
        -------
        SavedFigure
            The figure's metadata (a dict).
        """
        if self.vocabulary is not None:
            words = self.vocabulary
            title = words.text("figures", name, "title", title)
            note = words.text("figures", name, "note", note)
            alt = words.text("figures", name, "alt", alt)
            words.translate_figure(fig)
            data = words.translate_frame(data) if isinstance(data, pd.DataFrame) else data
        meta = save_figure(
            fig,
            name,
            self.output_dir,
            data,
            title=title,
            source=source,
            alt=alt,
            note=note,
            caption=caption,
            headers=dict(headers or {}),
            formats=dict(formats or {}),
            edition=self.edition_label,
        )
        self.figures.append(meta)
        meta.show()
        return meta

    def save_table(
        self,
        df: pd.DataFrame,
        name: str,
        *,
        title: str,
        source: str,
        columns: Mapping[str, str] | Iterable[str] | None = None,
        formats: Mapping[str, str] | None = None,
        note: str | None = None,
    ) -> dict:
        """:func:`observatoire.outputs.tables.save_table` into this edition's output folder.

        In another language than French, the caption, note and headers are the vocabulary's, the text cells that
        are terms of the vocabulary are translated, and the numbers are printed in that language.

        Returns
        -------
        dict
            The table's metadata.
        """
        if self.vocabulary is not None:
            words = self.vocabulary
            title = words.text("tables", name, "title", title)
            note = words.text("tables", name, "note", note)
            shown = dict(columns) if isinstance(columns, Mapping) else {c: c for c in (columns or df.columns)}
            columns = words.headers(name, shown)
            df = words.translate_frame(df)
        meta = save_table(
            df,
            name,
            self.output_dir,
            title=title,
            source=source,
            columns=columns,
            formats=formats,
            note=note,
            edition=self.edition_label,
            lang=self.lang,
        )
        self.tables.append(meta)
        return meta

    def finish(self) -> Path:
        """Save the notebook's facts to ``output_dir/facts/<notebook>.json`` and return the path.

        Also writes ``output_dir/reads/<notebook>.json``: the sources the notebook read (``datasets.sources_read``),
        which a release checks against the sources the theme declares.

        Returns
        -------
        Path
            The facts file.
        """
        reads = self.output_dir / "reads"
        reads.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "sources": datasets.sources_read()}
        (reads / f"{self.notebook}.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return self.facts.save(self.output_dir)
