"""What a notebook calls first: the edition it works for, where its outputs go, its facts.

Why. Every notebook of a letter needs the same four things: the edition (theme and year), the folder its
figures, tables and facts go to, the letter's chart style, and a facts collector. Gathering them in one object
keeps notebooks short and identical in shape (parameters cell, then ``ctx = EditionContext(theme, year,
notebook, output_dir)``), and makes the output folder a parameter papermill can set, with a sensible default
(``build/<theme>/<year>/outputs``) when a notebook is run by hand in JupyterLab.

Every language from one run. A notebook runs once per edition; its figures and tables are written in every
language of the letters (:data:`~observatoire.outputs.words.LANGUAGES`): French in ``figures/`` and ``tables/``,
another language in ``<lang>/figures/`` and ``<lang>/tables/``. Their words are not in the notebook: they are
declared in its metadata file, ``notebooks/<theme>/<notebook>.meta.yml`` (:mod:`observatoire.outputs.words`), and
the notebook passes only the values they need::

    ctx.save_figure(lambda w: charts.line_chart(w.relabel(data, "sexe"), ...), "morts", data, first=2006)

A chart is drawn once per language by the function given (``w`` is the output's words in that language: labels
of its series and categories, axis words); the data of a table or figure may be a function of ``w`` too.

A notebook that still types its French captions (``title=`` ...) writes French only: its letter has no other
language until its words are declared in its metadata file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import datasets
from observatoire.data.themes import get_theme
from observatoire.outputs.charts import SavedFigure, apply_style, language, save_figure, set_language
from observatoire.outputs.facts import Facts
from observatoire.outputs.notebook_display import show_frames_without_unnamed_index
from observatoire.outputs.tables import save_table
from observatoire.outputs.words import LANGUAGES, OutputMeta, OutputWords, load_meta, shared_text

#: The language of the folders ``figures/`` and ``tables/``; the others write to ``<lang>/figures/`` ...
BASE_LANGUAGE = "fr"
#: The suffix of a notebook's metadata file (``01_territoire.meta.yml`` beside ``01_territoire.ipynb``).
META_SUFFIX = ".meta.yml"

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
    langue : {"fr"}, default "fr"
        Kept for the notebooks' parameters cell (papermill passes it when a reader sets it): every language is
        written from one run, so only French is accepted.
    meta : str or Path, optional
        The notebook's metadata file; default ``notebooks/<theme>/<notebook>.meta.yml`` (else, for a theme not
        declared in themes.yml, the file of that name in the working directory).

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
        meta: str | Path | None = None,
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
        if langue != BASE_LANGUAGE:
            raise ValueError(
                f"EditionContext: langue={langue!r}: a notebook runs once and writes every language of its letter"
            )
        set_language(langue)
        self.lang = langue
        self._meta_path = Path(meta) if meta is not None else None
        self._meta: OutputMeta | None = None
        self._values: dict[str, Any] = {}

    @property
    def meta_path(self) -> Path:
        """The notebook's metadata file (words of its figures and tables)."""
        if self._meta_path is None:
            name = f"{self.notebook}{META_SUFFIX}"
            try:
                self._meta_path = get_theme(self.theme).notebook_dir / name
            except InputError:  # an ad hoc theme (tests, a notebook run outside the declared letters)
                self._meta_path = Path.cwd() / name
        return self._meta_path

    @property
    def meta(self) -> OutputMeta:
        """The notebook's metadata, read and checked (every entry in every language) on first use."""
        if self._meta is None:
            self._meta = load_meta(self.meta_path)
        return self._meta

    def values(self, **values: Any) -> None:
        """Values every output's words may print (``{edition}``, ``{territory}`` ...), besides ``{year}``.

        A value is a text, a whole number, a number printed through a format (``{rate:rate1}``), or a
        :class:`~observatoire.outputs.words.Localized` text (one per language).
        """
        self._values.update(values)

    def words(self, kind: str, name: str, lang: str, **values: Any) -> OutputWords:
        """The words of figure or table ``name`` (``kind`` ``"figures"`` or ``"tables"``) in ``lang``."""
        return self.meta.words(kind, name, lang, {"year": self.year, **self._values, **values})

    def language_dir(self, lang: str) -> Path:
        """Where the outputs of ``lang`` go: the output folder in French, ``<output folder>/<lang>`` otherwise."""
        return self.output_dir if lang == BASE_LANGUAGE else self.output_dir / lang

    def edition_label_in(self, lang: str) -> str:
        """The edition as readers name it in ``lang`` (the downloads' metadata)."""
        try:
            title = get_theme(self.theme).title_in(lang)
        except InputError:
            title = self.theme
        return shared_text("edition", lang, {"title": title, "year": self.year})

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
        data: pd.DataFrame | pd.Series | Callable[[OutputWords], pd.DataFrame],
        *,
        title: str | None = None,
        source: str | None = None,
        alt: str | None = None,
        note: str | None = None,
        caption: str | None = None,
        headers: Mapping[str, str] | None = None,
        formats: Mapping[str, str] | None = None,
        **values: Any,
    ) -> SavedFigure:
        """:func:`observatoire.outputs.charts.save_figure` into this edition's output folder, then show the figure.

        With no ``title``, ``source`` nor ``alt``, the words are the metadata file's (``figures.<name>``) and the
        figure is written in every language: ``fig`` is then a function drawing the chart from the words of one
        language (``lambda w: ...``), ``data`` a frame or a function of the words, ``values`` fill the words'
        placeholders. The French figure is shown.

        In a notebook (JupyterLab, papermill, the published notebook pages) the saved figure is displayed
        inline, once, as the letter shows it; elsewhere nothing is displayed.

        A notebook that still types its captions (``title=`` ...) writes French only.

        Returns
        -------
        SavedFigure
            The figure's metadata (a dict), in French.
        """
        if title is None and source is None and alt is None:
            return self._save_figure_every_language(fig, name, data, caption, headers, formats, values)
        if values:
            raise TypeError(f"save_figure: unexpected argument(s) {', '.join(values)}")
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

    def _save_figure_every_language(self, draw, name, data, caption, headers, formats, values) -> SavedFigure:
        if not callable(draw) or hasattr(draw, "savefig"):
            raise TypeError(
                f"save_figure('{name}'): pass a function of the words that draws the chart (lambda w: ...): "
                "it is drawn once per language"
            )
        if caption is not None or headers is not None:
            raise TypeError(
                f"save_figure('{name}'): caption and headers are words: declare them in {self.meta_path.name}"
            )
        shown = None
        for lang in LANGUAGES:
            words = self.words("figures", name, lang, **values)
            with language(lang):
                fig = draw(words)
                frame = data(words) if callable(data) else data
                meta = save_figure(
                    fig,
                    name,
                    self.language_dir(lang),
                    frame,
                    title=words.title,
                    source=words.source,
                    alt=words.alt,
                    note=words.note,
                    caption=words.caption,
                    headers=dict(words.headers),
                    formats=dict(formats or {}),
                    edition=self.edition_label_in(lang),
                    lang=lang,
                )
            if lang == BASE_LANGUAGE:
                shown = meta
        self.figures.append(shown)
        shown.show()
        return shown

    def save_table(
        self,
        df: pd.DataFrame | Callable[[OutputWords], pd.DataFrame],
        name: str,
        *,
        title: str | None = None,
        source: str | None = None,
        columns: Mapping[str, str] | Iterable[str] | None = None,
        formats: Mapping[str, str] | None = None,
        note: str | None = None,
        **values: Any,
    ) -> dict:
        """:func:`observatoire.outputs.tables.save_table` into this edition's output folder.

        With no ``title`` nor ``source``, the words are the metadata file's (``tables.<name>``: title, note,
        source, the header of every column shown, labels) and the table is written in every language; ``df``
        may be a function of the words (``lambda w: w.relabel(table, "sexe")``), ``columns`` lists the columns
        shown, in order (default: all), ``values`` fill the placeholders.

        A notebook that still types its captions writes French only.

        Returns
        -------
        dict
            The table's metadata (in French).
        """
        if title is None and source is None:
            if note is not None or isinstance(columns, Mapping):
                raise TypeError(
                    f"save_table('{name}'): note and headers are words: declare them in {self.meta_path.name}"
                )
            return self._save_table_every_language(df, name, columns, formats, values)
        if values:
            raise TypeError(f"save_table: unexpected argument(s) {', '.join(values)}")
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

    def _save_table_every_language(self, df, name, columns, formats, values) -> dict:
        shown = None
        for lang in LANGUAGES:
            words = self.words("tables", name, lang, **values)
            frame = df(words) if callable(df) else df
            if any(level is not None for level in frame.index.names):
                frame = frame.reset_index()
            wanted = list(columns) if columns is not None else [str(c) for c in frame.columns]
            missing = [c for c in wanted if c not in words.headers]
            if missing:
                raise InputError(
                    self.meta_path, f"tables.{name}.columns", f"no header for column(s) {', '.join(missing)}"
                )
            meta = save_table(
                frame,
                name,
                self.language_dir(lang),
                title=words.title,
                source=words.source,
                columns={c: words.headers[c] for c in wanted},
                formats=formats,
                note=words.note,
                edition=self.edition_label_in(lang),
                lang=lang,
            )
            if lang == BASE_LANGUAGE:
                shown = meta
        self.tables.append(shown)
        return shown

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
