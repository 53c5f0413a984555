"""Words declared beside what shows them, every language side by side (issue 19).

The words of figures and tables live in ``notebooks/<theme>/<notebook>.meta.yml`` and
``publications/_shared/outputs.yml``; those of the letters in ``publications/<theme>/words.yml`` and
``publications/_shared/words.yml``. A notebook runs once and writes each output in every language; a template
holds the logic once and prints each entry in the letter's language. These tests check the files as they are
(every entry in every language), the errors an author meets (file, key, language), the numbers written the way
of each language, and the outputs a notebook writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.outputs import charts
from observatoire.outputs.context import EditionContext
from observatoire.outputs.templates import load_words, render_text
from observatoire.outputs.words import LANGUAGES, Localized, entry, fill, label, load_meta

META_FILES = sorted(paths.NOTEBOOKS.rglob("*.meta.yml"))
WORDS_FILES = sorted(paths.PUBLICATIONS.rglob("words.yml"))


# The files as they are -----------------------------------------------------------------------------------------


def test_there_are_words_files():
    assert META_FILES and WORDS_FILES
    assert paths.SHARED_TEMPLATES / "words.yml" in WORDS_FILES


@pytest.mark.parametrize("path", META_FILES, ids=lambda p: str(p.relative_to(paths.NOTEBOOKS)))
def test_every_output_has_its_words_in_every_language(path):
    meta = load_meta(path)  # raises on a missing language
    assert meta.names("figures") or meta.names("tables")
    for kind, outputs in meta.outputs.items():
        for name, words in outputs.items():
            for field in ("title", "source") + (("alt",) if kind == "figures" else ()):
                assert field in words, f"{path.name}: {kind}.{name} has no {field}"


@pytest.mark.parametrize("path", WORDS_FILES, ids=lambda p: str(p.relative_to(paths.PUBLICATIONS)))
def test_every_entry_of_the_letters_is_in_every_language(path):
    words, _ = load_words(path)
    assert words
    for key, text in words.items():
        assert set(text) == set(LANGUAGES), key


def _without(path: Path, tmp_path: Path, text: str) -> Path:
    """A copy of a words file without ``text`` (which must be in it)."""
    original = path.read_text(encoding="utf-8")
    assert text in original
    copy = tmp_path / path.name
    copy.write_text(original.replace(text, "", 1), encoding="utf-8")
    return copy


def test_a_removed_english_entry_stops_with_file_key_and_language(tmp_path):
    meta = paths.NOTEBOOKS / "territoire" / "01_territoire.meta.yml"
    copy = _without(meta, tmp_path, ', en: "95% limits"')
    with pytest.raises(InputError) as caught:
        load_meta(copy)
    assert (
        str(caught.value)
        == "01_territoire.meta.yml: figures.t_entonnoir.labels.limits_95: no text in language 'en'"
    )


def test_a_removed_english_sentence_stops_the_letter(tmp_path):
    copy = _without(
        paths.PUBLICATIONS / "territoire" / "words.yml",
        tmp_path,
        "  en: this change is statistically significant.\n",
    )
    with pytest.raises(InputError, match=r"words.yml: change_significant: no text in language 'en'"):
        load_words(copy)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("texte seul", "must give the text in each language"),
        ({"fr": "texte"}, "no text in language 'en'"),
        ({"fr": "texte", "en": "text", "de": "Text"}, "unknown language 'de'"),
        ({"fr": "texte", "en": "  "}, "the text in language 'en' must be a non-empty string"),
    ],
)
def test_an_entry_is_checked(value, rule):
    with pytest.raises(InputError, match=rule) as caught:
        entry(Path("x.meta.yml"), "figures.f.title", value)
    assert str(caught.value).startswith("x.meta.yml: figures.f.title: ")


# Placeholders: numbers written the way of each language ----------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "fr",
            "272\u202f400 victimes, 2,8 pour mille, +3,4\u202f%, 12,5\u202f% ; 2024 ; 26 janvier 2025, juin 2025",
        ),
        ("en", "272,400 victims, 2.8 per thousand, +3.4%, 12.5%; 2024; 26 January 2025, June 2025"),
    ],
)
def test_placeholders_are_written_in_the_language(lang, expected):
    text = {
        "fr": "{n:number} victimes, {r:rate1} pour mille, {c:change1}, {p:percent1} ; {year} ; {d:date}, {m:month}",
        "en": "{n:number} victims, {r:rate1} per thousand, {c:change1}, {p:percent1}; {year}; {d:date}, {m:month}",
    }[lang]
    values = {
        "n": 272400,
        "r": 2.83,
        "c": 0.0341,
        "p": 12.5,
        "year": 2024,
        "d": "2025-01-26",
        "m": "2025-06-04",
    }
    assert fill(text, values, lang, path=Path("x"), place="k") == expected


def test_a_localized_value_prints_in_the_language_being_written():
    name = Localized({"fr": "La Réunion", "en": "Réunion"})
    assert fill("à {place} ({place:lower})", {"place": name}, "fr", path=Path("x"), place="k") == (
        "à La Réunion (la réunion)"
    )
    assert fill("in {place}", {"place": name}, "en", path=Path("x"), place="k") == "in Réunion"
    assert fill("{{year}} {year}", {"year": 2024}, "en", path=Path("x"), place="k") == "{year} 2024"


@pytest.mark.parametrize(
    ("text", "values", "rule"),
    [
        ("{missing}", {}, r"no value for \{missing\}"),
        ("{rate}", {"rate": 2.83}, "needs a format"),
        ("{n:bogus}", {"n": 1}, "unknown format 'bogus'"),
        ("{p}", {"p": label("peers")}, "label\\('peers'\\) is not one of this output's labels"),
    ],
)
def test_a_placeholder_without_a_printable_value_stops(text, values, rule):
    with pytest.raises(InputError, match=rule) as caught:
        fill(text, values, "fr", path=Path("n.meta.yml"), place="tables.t.title")
    assert str(caught.value).startswith("n.meta.yml: tables.t.title: ")


# A notebook writes every language ------------------------------------------------------------------------------

META = """
labels:
  female: {fr: Femmes, en: Women}
  male: {fr: Hommes, en: Men}
sources:
  survey: {fr: "Enquête {edition}", en: "Survey, {edition} edition"}
figures:
  serie:
    title: {fr: "Victimes, {first}-{year}", en: "Victims, {first}-{year}"}
    alt: {fr: "Deux courbes : {who}.", en: "Two lines: {who}."}
    note: {fr: "Total {total:number}.", en: "Total {total:number}."}
    source: survey
    columns:
      year: {fr: Année, en: Year}
      sexe: {fr: Sexe, en: Sex}
      victims: {fr: Victimes, en: Victims}
    labels:
      who_region: {fr: "la région", en: "the region"}
tables:
  serie:
    title: {fr: "Victimes par sexe", en: "Victims by sex"}
    source: {fr: "SSMSI", en: "SSMSI"}
    columns:
      year: {fr: Année, en: Year}
      sexe: {fr: Sexe, en: Sex}
      victims: {fr: Victimes, en: Victims}
"""


@pytest.fixture
def ctx(tmp_path):
    meta = tmp_path / "01_essai.meta.yml"
    meta.write_text(META, encoding="utf-8")
    context = EditionContext("essai", 2024, "01_essai", output_dir=tmp_path / "out", meta=meta)
    context.values(edition="2024")
    return context


DATA = pd.DataFrame(
    {
        "year": [2023, 2023, 2024, 2024],
        "sexe": ["female", "male"] * 2,
        "victims": [271000, 1200, 272400, 1300],
    }
)


def _chart(w):
    return charts.line_chart(w.relabel(DATA, "sexe"), "year", "victims", hue="sexe", decimals=0)


def test_a_figure_is_written_in_every_language(ctx):
    shown = ctx.save_figure(
        _chart, "serie", lambda w: w.relabel(DATA, "sexe"), first=2023, who=label("who_region"), total=273600
    )
    out = ctx.output_dir
    french = json.loads((out / "figures" / "serie.json").read_text(encoding="utf-8"))
    english = json.loads((out / "en" / "figures" / "serie.json").read_text(encoding="utf-8"))
    assert shown["title"] == french["title"] == "Victimes, 2023-2024" and french["lang"] == "fr"
    assert english["title"] == "Victims, 2023-2024" and english["lang"] == "en"
    assert (french["source"], english["source"]) == ("Enquête 2024", "Survey, 2024 edition")
    assert (french["alt"], english["alt"]) == ("Deux courbes : la région.", "Two lines: the region.")
    assert (french["note"], english["note"]) == ("Total 273\u202f600.", "Total 273,600.")
    assert english["headers"] == {"year": "Year", "sexe": "Sex", "victims": "Victims"}
    assert english["chart"]["hue_order"] == ["Women", "Men"] and french["chart"]["hue_order"] == [
        "Femmes",
        "Hommes",
    ]
    svg_fr = (out / "figures" / "serie.svg").read_text(encoding="utf-8")
    svg_en = (out / "en" / "figures" / "serie.svg").read_text(encoding="utf-8")
    assert svg_fr != svg_en  # text is drawn as paths: the words and the axis numbers differ
    assert "Women" in (out / "en" / "figures" / "serie.csv").read_text(encoding="utf-8")
    assert ctx.figures == [shown]


def test_a_table_is_written_in_every_language(ctx):
    ctx.save_table(
        lambda w: w.relabel(DATA, "sexe"), "serie", formats={"year": "year", "victims": "number:0"}
    )
    french = (ctx.output_dir / "tables" / "serie.md").read_text(encoding="utf-8")
    english = (ctx.output_dir / "en" / "tables" / "serie.md").read_text(encoding="utf-8")
    assert "| Année | Sexe | Victimes |" in french and "| 2024 | Femmes | 272\u202f400 |" in french
    assert "| Year | Sex | Victims |" in english and "| 2024 | Women | 272,400 |" in english
    assert english.rstrip().endswith(": Victims by sex {#tbl-serie}")


def test_a_chart_drawn_once_is_refused(ctx):
    with pytest.raises(TypeError, match="drawn once per language"):
        ctx.save_figure(charts.line_chart(DATA, "year", "victims", hue="sexe"), "serie", DATA)


def test_a_shown_column_needs_a_header(ctx):
    with pytest.raises(InputError, match=r"tables.serie.columns: no header for column\(s\) extra"):
        ctx.save_table(DATA.assign(extra=1), "serie")


def test_an_undeclared_output_names_the_metadata_file(ctx):
    with pytest.raises(InputError, match=r"01_essai.meta.yml: figures.autre: no words for this output"):
        ctx.save_figure(_chart, "autre", DATA)


def test_a_label_missing_for_a_code_names_the_output(ctx):
    with pytest.raises(KeyError, match=r"01_essai.meta.yml: figures.serie: no label for 'total'"):
        ctx.save_figure(lambda w: charts.line_chart(w.relabel(DATA.assign(sexe="total"), "sexe"), "year", "victims"),
                        "serie", DATA, first=2023, who="x", total=1)  # fmt: skip


# Templates: one logic, the words of each language -----------------------------------------------------------


def test_words_are_compiled_in_the_templates_context():
    words = {
        "count": Localized(
            {
                "fr": "[[ f.n ]] [[ plural(f.n, 'victime', 'victimes') ]] [[ here ]]",
                "en": "[[ f.n ]] [[ plural(f.n, 'victim', 'victims') ]] [[ here ]]",
            }
        ),
        "line": Localized(
            {"fr": "Ligne [[ i ]] : [[ words.count ]]", "en": "Line [[ i ]]: [[ words.count ]]"}
        ),
    }
    facts = {
        "n": {"value": 272400, "text": "272\u202f400", "kind": "number", "decimals": 0, "available": True}
    }
    source = "[% macro m(here) %]\n[% for i in [1] %]\n[[ words.line ]]\n[% endfor %]\n[% endmacro %]\n[[ m('ici') ]]"
    assert (
        render_text(source, facts, {"lang": "fr"}, words=words)
        == "Ligne 1\u202f: 272\u202f400 victimes ici\n"
    )
    assert render_text(source, facts, {"lang": "en"}, words=words) == "Line 1: 272,400 victims ici\n"


def test_an_unknown_entry_stops_at_its_line():
    with pytest.raises(
        InputError, match=r"^index.qmd: line 3: template syntax: no entry 'missing' in the words"
    ):
        render_text("a\n\n[[ words.missing ]]\n", {}, {"lang": "fr"}, name="index.qmd", words={})


def test_an_error_in_an_entry_is_reported_at_the_line_printing_it():
    words = {"bad": Localized({"fr": "[[ f.absent ]]", "en": "x"})}
    with pytest.raises(InputError, match=r"^index.qmd: line 2: template value: no fact 'absent'"):
        render_text("a\n[[ words.bad ]]\n", {}, {"lang": "fr"}, name="index.qmd", words=words)


def test_an_entry_printing_itself_is_refused():
    words = {"loop": Localized({"fr": "[[ words.loop ]]", "en": "x"})}
    with pytest.raises(InputError, match="print themselves"):
        render_text("[[ words.loop ]]\n", {}, {"lang": "fr"}, words=words)


def test_a_key_declared_twice_is_refused(tmp_path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("title: {fr: Titre, en: Title}\n", encoding="utf-8")
    second.write_text("title: {fr: Autre, en: Other}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b.yml: title: declared twice"):
        load_words(first, second)
