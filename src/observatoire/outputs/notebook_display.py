"""How a notebook shows a table (a pandas DataFrame): without pandas' unnamed index.

Why. pandas shows a DataFrame with its index as a first column under an empty header cell: row numbers
(``0, 1, 2`` or ``52, 53`` after ``tail``) that mean nothing to a reader of the published notebook page, and an
empty header that screen readers cannot announce (axe-core's ``empty-table-header``). A table whose index has no
name is therefore shown without it; a named index is shown as an ordinary first column under its name. Tables
with hierarchical rows or columns keep pandas' own display. Only the display changes: the data, the files the
notebooks write and the text output stay as they are. :class:`observatoire.outputs.context.EditionContext` installs it
in the kernel.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["frame_html", "show_frames_without_unnamed_index"]


def frame_html(frame: pd.DataFrame) -> str:
    """The HTML a notebook shows for ``frame``: pandas' own, without an unnamed index.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
        As pandas' ``_repr_html_`` (same truncation options), the index dropped when unnamed and shown as a
        column when named; pandas' own HTML for a MultiIndex on either axis.
    """
    if isinstance(frame.index, pd.MultiIndex) or isinstance(frame.columns, pd.MultiIndex):
        return frame._repr_html_()
    shown = frame if frame.index.name is None else frame.reset_index()
    return shown.to_html(
        index=False,
        notebook=True,
        border=1,
        max_rows=pd.get_option("display.max_rows"),
        max_cols=pd.get_option("display.max_columns"),
        show_dimensions=pd.get_option("display.show_dimensions"),
    )


def show_frames_without_unnamed_index() -> bool:
    """Show DataFrames with :func:`frame_html` in the running IPython kernel; False (nothing done) outside one.

    Returns
    -------
    bool
        Whether a kernel was found.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the kernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, frame_html)
    return True
