"""The publication templates: values from facts, French grammar and typography, escaping, clear errors."""

from __future__ import annotations

import pytest

from observatoire.core.errors import InputError
from observatoire.core.formatting import NNBSP
from observatoire.outputs.templates import french_typography, plural, render_text, render_tree

FACTS = {
    "vs_total": {"value": 122610, "text": "122 610", "available": True, "kind": "number", "ref_year": 2024},
    "vs_evol": {"value": 0.071, "text": "+7,1 %", "available": True, "kind": "change", "ref_year": 2024},
    "absent": {"value": None, "text": "donnée non disponible", "available": False, "kind": "number"},
    "titre": {
        "value": "<script>alert(1)</script> [x](javascript:y)",
        "text": "<script>alert(1)</script> [x](javascript:y)",
        "available": True,
        "kind": "text",
    },
    "n_dep": {"value": 1, "text": "1", "available": True, "kind": "number"},
}
META = {"year": "2024", "lang": "fr"}


def test_a_fact_prints_its_formatted_text_and_logic_reads_its_fields():
    text = render_text(
        "En [[ meta.year ]], [[ f.vs_total ]] victimes[% if f.vs_evol.available %] ([[ f.vs_evol ]])[% endif %].",
        FACTS,
        META,
    )
    assert text == f"En 2024, 122 610 victimes (+7,1{NNBSP}%)."


def test_a_missing_fact_takes_the_authors_other_sentence():
    source = "[% if f.absent %]Il y a [[ f.absent ]] cas.[% else %]Le nombre n'est pas publié.[% endif %]"
    assert render_text(source, FACTS, META) == "Le nombre n'est pas publié."


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "département"), (1, "département"), (1.8, "département"), (2, "départements")]
)
def test_french_plural(n, expected):
    assert plural(n, "département", "départements") == expected


def test_plural_filter_reads_a_fact():
    assert render_text(
        "[[ f.n_dep ]] [[ f.n_dep | plural('département', 'départements') ]]", FACTS, META
    ) == ("1 département")


def test_text_from_data_is_escaped_for_markdown():
    text = render_text("Source : [[ f.titre ]]", FACTS, META)
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\[x\\](javascript:y)" in text


@pytest.mark.parametrize(
    ("source", "place", "words"),
    [
        ("Ligne 1\n[[ f.inconnu ]]", "line 2", "no fact 'inconnu'"),
        ("[[ f.vs_total.inconnu ]]", "line 1", "has no field 'inconnu'"),
        ("[% if f.vs_total %]", "line 1", "template syntax"),
        ("[[ f.absent.value ]]", "line 1", "empty value"),
    ],
)
def test_a_hole_in_a_sentence_stops_the_build_naming_file_line_and_key(source, place, words):
    with pytest.raises(InputError) as excinfo:
        render_text(source, FACTS, META, name="publications/annual/_x.qmd")
    error = excinfo.value
    assert error.file == "publications/annual/_x.qmd"
    assert str(error).startswith("_x.qmd: " + place)
    assert words in str(error)


def test_french_typography_outside_code_only():
    source = "Note : 10 % ; « oui » !\n```\na : b\n```\n"
    assert (
        french_typography(source)
        == f"Note{NNBSP}: 10{NNBSP}%{NNBSP}; «{NNBSP}oui{NNBSP}»{NNBSP}!\n```\na : b\n```\n"
    )


def test_english_text_keeps_its_spaces():
    assert render_text("Note: 10% ; x", FACTS, {"lang": "en"}) == "Note: 10% ; x"


def test_quarto_shortcodes_and_pandoc_attributes_pass_through():
    source = '{{< var vs_total >}} ![Titre](a.svg){#fig-a fig-alt="Texte"} {{< include _b.qmd >}}\n'
    assert render_text(source, FACTS, META) == source


def test_render_tree_renders_every_qmd_in_place_and_names_the_authors_file(tmp_path):
    staged = tmp_path / "staged"
    (staged / "sub").mkdir(parents=True)
    (staged / "index.qmd").write_text("[[ f.vs_total ]]\n", encoding="utf-8")
    (staged / "sub" / "_a.qmd").write_text("sans gabarit\n", encoding="utf-8")
    (staged / "data.csv").write_text("[[ not a template ]]\n", encoding="utf-8")
    done = render_tree(staged, FACTS, META, origin=tmp_path / "publications" / "annual")
    assert [p.name for p in done] == ["index.qmd", "_a.qmd"]
    assert (staged / "index.qmd").read_text(encoding="utf-8") == "122 610\n"
    assert (staged / "data.csv").read_text(encoding="utf-8") == "[[ not a template ]]\n"
    (staged / "index.qmd").write_text("[[ f.nope ]]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^index\.qmd: line 1: template value: no fact 'nope'") as excinfo:
        render_tree(staged, FACTS, META, origin=tmp_path / "publications" / "annual")
    assert excinfo.value.file == str(tmp_path / "publications" / "annual" / "index.qmd")


def test_a_value_at_the_start_of_a_line_never_opens_a_numbered_list():
    """Seen in the 2024 letter: "disponibles : 2 sur" then "5." on the next line became a list item."""
    facts = {"a": {"text": "2", "available": True, "kind": "number"}, "b": {"text": "5", "available": True}}
    text = render_text("Indicateurs : [[ f.a ]] sur\n[[ f.b ]].\n```\n1. code\n```\n", facts, META)
    assert text.splitlines()[1] == "5\\." and "1. code" in text
