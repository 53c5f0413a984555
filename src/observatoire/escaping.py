"""Escaping of text that comes from data or the catalogue, one function per target.

Why. Titles, labels and notes are written by others (the publishers, the compilers of the national series) and
end up inside Markdown that pandoc turns into HTML and typst. Pandoc keeps raw HTML and reads Quarto shortcodes,
so a title containing ``<script>``, ``[x](javascript:...)`` or ``{{< var x >}}`` would become live markup. Every
text from data passes through the function of the place it is written to; numbers formatted by
:mod:`observatoire.formatting` contain no special character and need none.
"""

from __future__ import annotations

import re

__all__ = ["markdown_text"]

# Characters with a meaning in pandoc Markdown inline text: emphasis, code, links and images, raw HTML and
# entities, Quarto shortcodes and attributes, headings, tables, strike-out, super/subscript, math, citations.
# A backslash before ASCII punctuation makes pandoc print it literally. French punctuation (: ; ! ? %) is left
# alone so that typography (narrow no-break spaces) still applies to it.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~^$@&])")
# At the start of a block, these would open a list or a quote.
_LEADING = re.compile(r"^([-+>]|\d+[.)])(\s)")


_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def markdown_text(text: object) -> str:
    """Return ``text`` escaped so that pandoc Markdown shows it literally, as text.

    Parameters
    ----------
    text : object
        Any value; ``str(text)`` is escaped. Line breaks become spaces (a value never opens a new block).

    Returns
    -------
    str
        Every ASCII punctuation character pandoc could read as markup is preceded by a backslash.

    Examples
    --------
    >>> print(markdown_text("<b onmouseover=alert(1)>x</b> : 10 %"))
    \\<b onmouseover=alert(1)\\>x\\</b\\> : 10 %
    """
    # ASCII whitespace only: the no-break spaces of French typography (U+00A0, U+202F) are kept
    flat = _ASCII_SPACE.sub(" ", str(text)).strip(" ")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    return _LEADING.sub(lambda m: "\\" + m.group(1) + m.group(2), escaped)
