"""The post-render pass over Quarto's pages (one test per rule, input HTML -> output HTML) and the notebooks'
display of tables: what makes axe-core find 0 violations (checked end to end in test_e2e_readers.py)."""

from __future__ import annotations

import pandas as pd

from observatoire.outputs import accessibility as a11y
from observatoire.outputs.notebook_display import frame_html

NAVBAR = '<nav class="navbar navbar-expand-lg " data-bs-theme="dark">'
TOC = '<nav id="TOC" role="doc-toc" class="toc-active">\n    <h2 id="toc-title">Sur cette page</h2>'


def test_the_navbar_and_the_table_of_contents_get_distinct_names():
    page = f"<header>{NAVBAR}<a>Accueil</a></nav></header><div>{TOC}<ul></ul></nav></div>"
    fixed = a11y.label_navigation(page, "Navigation du site")
    assert fixed == (
        '<header><nav class="navbar navbar-expand-lg " data-bs-theme="dark" aria-label="Navigation du site">'
        '<a>Accueil</a></nav></header><div><nav id="TOC" role="doc-toc" class="toc-active" '
        'aria-labelledby="toc-title">\n    <h2 id="toc-title">Sur cette page</h2><ul></ul></nav></div>'
    )
    assert a11y.label_navigation(fixed, "Navigation du site") == fixed  # idempotent
    assert 'aria-label="a &quot;b&quot;"' in a11y.label_navigation(NAVBAR, 'a "b"')  # escaped


def test_tables_and_preformatted_blocks_can_be_reached_with_the_keyboard():
    page = (
        '<table class="caption-top table"><tr><td>1</td></tr></table><pre><code>long</code></pre>'
        '<pre class="sourceCode python" tabindex="-1"></pre><tablet></tablet><p>&lt;table x&gt;</p>'
    )
    fixed = a11y.focusable_scroll_boxes(page)
    assert fixed == (
        '<table tabindex="0" class="caption-top table"><tr><td>1</td></tr></table><pre tabindex="0"><code>long'
        '</code></pre><pre class="sourceCode python" tabindex="-1"></pre><tablet></tablet><p>&lt;table x&gt;</p>'
    )
    assert a11y.focusable_scroll_boxes(fixed) == fixed


def test_the_margin_of_a_listing_becomes_a_landmark_named_by_its_heading():
    listing = (
        '<div id="quarto-margin-sidebar" class="sidebar margin-sidebar">\n    <h5 class="quarto-listing-category-'
        'title">Catégories &amp; années</h5><div class="category">2024</div></div>'
    )
    fixed = a11y.margin_landmark(listing)
    assert fixed.startswith(
        '<div id="quarto-margin-sidebar" class="sidebar margin-sidebar" role="complementary" '
        'aria-label="Catégories &amp; années">\n    <h5 class="quarto-listing-category-title">'
    )
    assert a11y.margin_landmark(fixed) == fixed
    letter = f'<div id="quarto-margin-sidebar" class="sidebar margin-sidebar">\n{TOC}</nav></div>'
    assert a11y.margin_landmark(letter) == letter  # the table of contents is a landmark already


def test_the_navbar_toggle_is_a_disclosure_button_not_a_menu():
    button = (
        '<button class="navbar-toggler" type="button" data-bs-toggle="collapse" aria-controls="navbarCollapse" '
        'role="menu" aria-expanded="false" aria-label="Basculer la navigation">'
    )
    fixed = a11y.toggler_is_a_button(button)
    assert fixed == button.replace(' role="menu"', "")
    assert a11y.toggler_is_a_button(fixed) == fixed
    menu = '<ul class="dropdown-menu" role="menu">'
    assert a11y.toggler_is_a_button(menu) == menu  # a real menu keeps its role


def test_empty_header_cells_get_a_hidden_label():
    assert a11y.label_empty_headers('<tr><th scope="col"></th><th>a</th></tr>') == (
        '<tr><th scope="col"><span class="visually-hidden">Ligne</span></th><th>a</th></tr>'
    )


def test_make_accessible_rewrites_the_pages_of_a_folder_and_only_those_that_change(tmp_path):
    (tmp_path / "notebooks").mkdir()
    page = tmp_path / "notebooks" / "a.html"
    page.write_text(f"{NAVBAR}</nav><table></table>", encoding="utf-8")
    plain = tmp_path / "b.html"
    plain.write_text("<p>rien</p>", encoding="utf-8")
    assert a11y.make_accessible(tmp_path, "Site") == [page]
    assert page.read_text(encoding="utf-8") == a11y.accessible_page(f"{NAVBAR}</nav><table></table>", "Site")
    assert a11y.make_accessible(tmp_path, "Site") == []  # same bytes on a second pass


def test_notebook_tables_hide_an_unnamed_index_and_show_a_named_one_as_a_column():
    frame = pd.DataFrame({"annee": [2023, 2024], "nom": ["a", "<b>"]}, index=[52, 53])
    shown = frame_html(frame)
    assert "<th></th>" not in shown and ">52<" not in shown and "&lt;b&gt;" in shown
    assert "<th>annee</th>" in shown and 'class="dataframe"' in shown
    named = frame_html(frame.set_index("nom"))
    assert "<th></th>" not in named and "<th>nom</th>" in named and "<td>&lt;b&gt;</td>" in named
    wide = frame.set_index(["annee", "nom"]).assign(x=1)
    assert frame_html(wide) == wide._repr_html_()  # hierarchical rows: pandas' own display


def test_notebook_tables_write_numbers_in_the_page_language():
    frame = pd.DataFrame(
        {"annee": [2023, 2024], "victimes": [122610, 9], "taux": [34.0, 4.25], "p": [1e-7, 0.5]}
    )
    shown = frame_html(frame)
    assert "<td>2024</td>" in shown and "<td>122\u202f610</td>" in shown  # a year is not split, a count is
    assert "<td>34,00</td>" in shown and "<td>4,25</td>" in shown and "34.0" not in shown
    assert "<td>1,000000e-07</td>" in shown  # pandas' precision and notation, the French decimal mark
    english = frame_html(frame, "en")
    assert "<td>122,610</td>" in english and "<td>4.25</td>" in english
