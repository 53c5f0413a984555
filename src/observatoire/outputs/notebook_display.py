"""How a notebook shows a table (a pandas DataFrame): without pandas' unnamed index, numbers in its language.

Why. pandas shows a DataFrame with its index as a first column under an empty header cell: row numbers
(``0, 1, 2`` or ``52, 53`` after ``tail``) that mean nothing to a reader of the published notebook page, and an
empty header that screen readers cannot announce (axe-core's ``empty-table-header``). A table whose index has no
name is therefore shown without it; a named index is shown as an ordinary first column under its name. Tables
with hierarchical rows or columns keep pandas' own display. Only the display changes: the data, the files the
notebooks write and the text output stay as they are. :class:`observatoire.outputs.context.EditionContext` installs it
in the kernel.
"""

from __future__ import annotations

import re

import pandas as pd

from observatoire.core.formatting import NNBSP

__all__ = ["frame_html", "local_numbers", "show_frames_without_unnamed_index"]

#: Thousands separator and decimal mark of each language's numbers.
_MARKS = {"fr": (NNBSP, ","), "en": (",", ".")}
_NUMBER_CELL = re.compile(r"<td>(-?)(\d+)(?:\.(\d+))?(e[-+]\d+)?</td>")


def local_numbers(html: str, lang: str = "fr") -> str:
    """The numbers of a table's cells written in ``lang``, as pandas chose to print them otherwise (its precision,
    its scientific notation): decimal comma in French, thousands grouped from 10 000 on (a year stays "2024")."""
    separator, mark = _MARKS.get(lang, _MARKS["fr"])

    def local(match: re.Match) -> str:
        sign, integer, fraction, exponent = match.groups()
        if len(integer) > 4:
            integer = separator.join(integer[max(0, i - 3) : i] for i in range(len(integer), 0, -3)[::-1])
        number = sign + integer + (mark + fraction if fraction is not None else "") + (exponent or "")
        return f"<td>{number}</td>"

    return _NUMBER_CELL.sub(local, html)


def frame_html(frame: pd.DataFrame, lang: str = "fr") -> str:
    """The HTML a notebook shows for ``frame``: pandas' own, without an unnamed index.

    Parameters
    ----------
    frame : pandas.DataFrame

    lang : str, default "fr"
        The language its numbers are written in.

    Returns
    -------
    str
        As pandas' ``_repr_html_`` (same truncation options), the index dropped when unnamed and shown as a
        column when named, numbers in ``lang``; pandas' own HTML for a MultiIndex on either axis.
    """
    if isinstance(frame.index, pd.MultiIndex) or isinstance(frame.columns, pd.MultiIndex):
        return frame._repr_html_()
    shown = frame if frame.index.name is None else frame.reset_index()
    return local_numbers(
        shown.to_html(
            index=False,
            notebook=True,
            border=1,
            max_rows=pd.get_option("display.max_rows"),
            max_cols=pd.get_option("display.max_columns"),
            show_dimensions=pd.get_option("display.show_dimensions"),
        ),
        lang,
    )


def show_frames_without_unnamed_index(lang: str = "fr") -> bool:
    """Show DataFrames with :func:`frame_html` (numbers in ``lang``) in the running IPython kernel; False (nothing
    done) outside one.

    Returns
    -------
    bool
        Whether a kernel was found.
    """
    try:
        from IPython import get_ipython  # lazy: IPython is optional here: outside a kernel, nothing to do
    except ImportError:  # pragma: no cover - IPython comes with the kernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, lambda f: frame_html(f, lang))
    return True
