"""Text from data made inert for the place it is shown: Markdown/Quarto, HTML, typst, CSV cells, links.

Why one module: source titles, labels and notes come from files we do not write (the SSMSI bases, the national
series, the catalogue). Pasted as they are into a letter they become markup: ``<b onmouseover=...>`` an element
with its handler, ``<script>`` an empty cell, ``[x](javascript:...)`` a link, ``{{< var x >}}`` a shortcode,
``=HYPERLINK(...)`` a spreadsheet formula. Every writer that puts such text into an output calls the function for
its target here, so the reader sees the characters as they were published, and nothing runs.

- :func:`markdown_text` for pandoc/Quarto Markdown (table cells, captions, text facts inserted into prose);
- :func:`html_text` for HTML written directly (the site index, notebook pages);
- :func:`typst_text` for typst markup written directly;
- :func:`csv_cell` (and :func:`csv_frame`) for downloadable CSV files opened in a spreadsheet;
- :func:`safe_url` for any URL that becomes a link: only ``http`` and ``https``.

Each function takes any value (``None`` gives ``""``) and returns one line of text: runs of whitespace, line
breaks included, become one space and control characters are dropped, so a value cannot start a new Markdown
block (a heading, a list, a table row) or end the one it is in.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported only where a frame is escaped: the catalogue uses this module too
    import pandas as pd

__all__ = ["markdown_text", "html_text", "typst_text", "csv_cell", "csv_frame", "safe_url", "one_line"]

#: Put between two adjacent braces (invisible). Quarto reads a ``{{< var >}}`` value as Markdown and expands
#: shortcodes in the result even when every brace was backslash-escaped (measured with Quarto 1.10.18:
#: ``\{\{\< meta title \>\}\}`` in ``_variables.yml`` printed the title); no shortcode starts without ``{{``.
WORD_JOINER = "\u2060"
#: Quarto finds shortcodes in the parsed text, backslashes gone: a word joiner between any two of { < > } breaks
#: both "{{<" and ">}}" (a joiner between the braces alone still fails Quarto 1.10's shortcode parser).
_SHORTCODE_PAIR = re.compile(r"([{}<>])(?=[{}<>])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
#: ASCII punctuation that pandoc Markdown (and Quarto shortcodes) give a meaning to. Quotes, apostrophes, commas,
#: full stops and hyphens are left alone so that typography (curly quotes, dashes) keeps working inside text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~^$@&])")
#: What starts a block when it opens a line: a list item, a block quote, a caption, a numbered item, a div.
_MARKDOWN_BLOCK_START = re.compile(r"^(?:([-+:]|\d+[.)])(?=\s|$)|([>%]))")
#: typst markup specials (escapable with a backslash in markup mode).
_TYPST_SPECIAL = re.compile(r"([\\#$*_`<>@=\-+/\[\]~{}])")
#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
_URL_FORBIDDEN = re.compile(r"[\s<>\"'`\\{}|^\x00-\x1f\x7f]")


def one_line(value: object) -> str:
    """Return ``value`` as one line of text: control characters dropped, whitespace runs made one space.

    U+00A0 and U+202F (the no-break spaces of French typography) are kept.
    """
    if value is None:
        return ""
    return _SPACES.sub(" ", _CONTROL.sub("", str(value))).strip()


def markdown_text(value: object) -> str:
    """Escape text for pandoc/Quarto Markdown so that it is shown as written and never parsed as markup.

    Every character Markdown, raw HTML, math, citations, attributes and Quarto shortcodes rely on is
    backslash-escaped (pandoc's ``all_symbols_escapable``); a leading list, quote or caption marker is escaped
    too; two adjacent characters of ``{ < > }`` get an invisible word joiner between them (:data:`WORD_JOINER`). The result shows the
    original characters in HTML and PDF, in the document and in a ``{{< var >}}`` value alike.

    Parameters
    ----------
    value : object
        Any value; ``None`` gives ``""``.

    Returns
    -------
    str
        One line of inert Markdown.
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", _SHORTCODE_PAIR.sub(r"\1" + WORD_JOINER, one_line(value)))
    return _MARKDOWN_BLOCK_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], text)


def html_text(value: object) -> str:
    """Escape text for HTML element content or a quoted attribute value (``& < > " '``)."""
    return html.escape(one_line(value), quote=True)


def typst_text(value: object) -> str:
    """Escape text for typst markup: every special character is backslash-escaped (``#`` cannot start code)."""
    return _TYPST_SPECIAL.sub(r"\\\1", one_line(value))


def csv_cell(value: object) -> object:
    """Make a CSV cell safe to open in a spreadsheet.

    Text that starts with ``= + - @`` (or a tab or carriage return) is a formula to a spreadsheet: it is
    prefixed with an apostrophe, which spreadsheets show as text. Numbers, and text that is a plain number such
    as ``-3,5``, are returned unchanged; non-text values are returned as they are.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NUMBER.fullmatch(value.strip()):
        return value
    return "'" + value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells (and column names) went through :func:`csv_cell`."""
    import pandas as pd  # lazy: the catalogue uses this module without pandas

    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def safe_url(url: object) -> str | None:
    """Return ``url`` when it is an absolute ``http``/``https`` URL with a host, else None.

    ``javascript:``, ``data:``, ``file:``, relative or protocol-relative URLs, and URLs holding spaces, quotes,
    angle brackets or control characters are refused: a link is made only from a URL that can be nothing else.
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or _URL_FORBIDDEN.search(text):
        return None
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text
