"""Fixes that make the published pages pass axe-core (WCAG 2.1 AA): the letter and the notebook pages.

Why here and not in each page's template. The notebook pages come from nbconvert's "lab" template, whose prompt
and syntax-highlighting colours are below the 4.5:1 contrast ratio on their grey code background (axe counted 32
serious violations on one page), and whose pandas tables have an empty header cell above the index; the
letter's tables can have an empty header above a column of row labels. These fixes are small, deterministic text
edits applied to the rendered HTML, tested with axe-core in headless Chromium (tests/test_e2e_accessibility.py).
"""

from __future__ import annotations

import re

__all__ = ["VISUALLY_HIDDEN_CSS", "NOTEBOOK_CSS", "label_empty_headers", "accessible_notebook_page"]

#: Text read by screen readers and not shown (the usual "visually hidden" recipe).
VISUALLY_HIDDEN_CSS = (
    ".visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;"
    " overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }"
)

#: Colours of the notebook pages with a contrast of at least 4.5:1 on the code background (#f5f5f5).
NOTEBOOK_CSS = f"""<style id="observatoire-accessibility">
{VISUALLY_HIDDEN_CSS}
.jp-InputPrompt, .jp-OutputPrompt, .jp-InputArea-prompt, .jp-OutputArea-prompt {{
  color: #4a4a4a !important; opacity: 1 !important;
}}
.highlight, .highlight span {{ color: #1a1a1a !important; }}
.highlight .k, .highlight .kn, .highlight .kc, .highlight .kd, .highlight .ow, .highlight .nb, .highlight .bp,
.highlight .mi, .highlight .mf {{ color: #0b5a2a !important; }}
.highlight .s, .highlight .s1, .highlight .s2, .highlight .sa, .highlight .si, .highlight .se, .highlight .sd
{{ color: #9a1b1b !important; }}
.highlight .c, .highlight .c1, .highlight .cm {{ color: #35595a !important; font-style: italic; }}
.highlight .o, .highlight .p {{ color: #5a2d91 !important; }}
.highlight .nf, .highlight .nc, .highlight .nn {{ color: #0a4b8c !important; }}
.jp-RenderedText pre .ansi-red-fg, .jp-RenderedText pre .ansi-green-fg {{ color: #1a1a1a !important; }}
</style>
"""

_EMPTY_HEADER = re.compile(r"<th((?:\s[^>]*)?)>(\s*)</th>")


def label_empty_headers(text: str, label: str = "Ligne") -> str:
    """Give every empty header cell a visually hidden label (a header cell must have text for screen readers).

    Parameters
    ----------
    text : str
        HTML.
    label : str, default "Ligne"
        What the column holds (usually the labels or numbers of the rows).

    Returns
    -------
    str
    """
    return _EMPTY_HEADER.sub(rf'<th\1><span class="visually-hidden">{label}</span></th>', text)


def accessible_notebook_page(text: str) -> str:
    """An nbconvert "lab" page in French with contrasted colours and labelled header cells.

    Parameters
    ----------
    text : str
        The page nbconvert wrote.

    Returns
    -------
    str
    """
    text = re.sub(r'<html lang="[^"]*"', '<html lang="fr"', text, count=1)
    text = label_empty_headers(text)
    return text.replace("</head>", NOTEBOOK_CSS + "</head>", 1)
