"""The 2024 annual letter in English: the same facts, the same templates, reachable from the French letter.

A second language proves that the letter's words live in its words files, not in Python: the English letter
(``make release YEAR=2024`` builds both; ``LANGUE=en`` English alone) comes from the same run of the notebooks
(their chart and table words declared in ``notebooks/annual/<notebook>.meta.yml``, every language side by side) and the same templates,
``publications/annual/`` with its ``words.yml``. One end-to-end build only (marked e2e): the CPU is shared.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from observatoire import cli
from observatoire.core.errors import InputError
from observatoire.core.formatting import format_change, format_number, format_percent
from observatoire.data import themes
from observatoire.outputs.facts import load_facts
from observatoire.outputs.templates import render_text
from observatoire.outputs.words import label, load_meta
from observatoire.publishing import manifest, prose
from observatoire.publishing.plan import resolve_plan

YEAR = 2024
#: Words a French sentence left in the English letter would show (whole words, case-sensitive: the French
#: proper names the letter cites, such as the survey *Vécu et ressenti en matière de sécurité*, have none).
FRENCH_WORDS = (
    "victimes",
    "donnée",
    "disponible",
    "évolution",
    "significative",
    "enregistrées",
    "selon",
    "taux",
    "hausse",
    "baisse",
    "femmes tuées",
    "les",
    "des",
    "sur un an",
    "pour mille",
)
_FRENCH = re.compile(r"(?<![\w'])(" + "|".join(re.escape(w) for w in FRENCH_WORDS) + r")(?![\w'])")
#: French names the English letter cites as they are: titles of French publications and surveys (in italics) and
#: the Observatory's own name.
_PROPER_NAMES = re.compile(r"\*[^*\n]+\*|Observatoire\s+national\s+des\s+violences\s+faites\s+aux\s+femmes")


# The language parameter ------------------------------------------------------------------------------------


def test_an_unknown_language_is_one_line_error(capsys):
    assert cli.main(["release", "--theme", "annual", "--year", "2024", "--langue", "de"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "'de'" in err and "fr, en" in err


def test_a_theme_without_english_templates_is_refused(tmp_path, capsys, monkeypatch):
    """Every declared letter has its English now: a theme declared without ``translations`` is refused."""
    from fixture_theme import FIXTURES, write_declaration, write_theme

    entry = write_theme(tmp_path, "fixture", FIXTURES / "good.ipynb", "---\ntitle: Fixture\n---\n\nTexte.\n")
    fixture = themes.load_themes(write_declaration(tmp_path, entry), notebooks_root=tmp_path / "notebooks")
    with pytest.raises(InputError, match="translations"):
        fixture["fixture"].publication_dir_for("en")
    real_get = themes.get_theme
    monkeypatch.setattr(
        themes, "get_theme", lambda tid, *a, **k: fixture[tid] if tid == "fixture" else real_get(tid)
    )
    monkeypatch.setattr(themes, "load_themes", lambda *a, **k: fixture)
    assert cli.main(["release", "--theme", "fixture", "--year", "2024", "--langue", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no publication in 'en'" in err


def test_the_english_plan_lives_beside_the_french_one(tmp_path):
    french = resolve_plan("annual", YEAR, site_dir=tmp_path / "site", build_dir=tmp_path / "build")
    english = resolve_plan(
        "annual", YEAR, site_dir=tmp_path / "site", build_dir=tmp_path / "build", lang="en"
    )
    assert (french.edition_path, english.edition_path) == ("2024", "2024-en")
    assert english.target == tmp_path / "site" / "annual" / "2024-en"
    assert english.edition_dir == tmp_path / "build" / "annual" / "2024-en"
    assert english.publication_dir == french.publication_dir == themes.get_theme("annual").publication_dir
    assert english.key != french.key and english.key_inputs["lang"]
    # one run of the notebooks serves both languages: the same jobs, in the French edition's folder
    assert [job.parameters for job in english.jobs] == [job.parameters for job in french.jobs]
    assert all("langue" not in job.parameters for job in french.jobs)  # the notebooks' default: "fr"


def _saved_outputs(path: Path, kind: str) -> set[str]:
    """The names a notebook saves figures or tables under (``ctx.save_figure(draw, "name", ...)``)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return {
        node.args[1].value
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == f"save_{kind}"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
    }


def test_every_output_of_the_annual_notebooks_has_its_words_declared_and_no_typed_caption():
    counts = {"figures": 0, "tables": 0}
    for path in themes.get_theme("annual").notebook_paths:
        meta = load_meta(path.with_suffix(".meta.yml"))
        for kind in counts:
            saved = _saved_outputs(path, kind[:-1])
            assert saved == set(meta.names(kind)), (path.name, kind)
            counts[kind] += len(saved)
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(title|source|alt|note)=", code), path.name  # no caption typed in a notebook
    assert counts == {"figures": 9, "tables": 17}
    assert not list(themes.get_theme("annual").notebook_dir.glob("vocabulary.*.yml"))


def test_a_figure_whose_source_states_no_period_is_not_given_a_year():
    meta = load_meta(themes.get_theme("annual").notebook_dir / "01_morts_violentes_couple.meta.yml")
    values = {"year": 2024, "first": 2006, "break_year": 2016, "before_break": 2015, "women": 107, "men": 31}
    stated = meta.words(
        "figures", "morts-violentes-couple", "en", {**values, "by_sex": label("by_sex_stated")}
    )
    unstated = meta.words(
        "figures", "morts-violentes-couple", "fr", {**values, "by_sex": label("by_sex_unstated")}
    )
    assert stated.alt.endswith(
        "In 2024, 107 women and 31 men were killed by their partner or former partner."
    )
    assert "période non précisée dans la source" in unstated.alt and "En 2024, 107" not in unstated.alt
    assert stated.labels["break"] == "Unofficial couples included from 2016"


def test_a_missing_word_stops_the_build_naming_the_file():
    meta = load_meta(themes.get_theme("annual").notebook_dir / "06_revisions.meta.yml")
    with pytest.raises(InputError, match=r"06_revisions.meta.yml.*figures.b.*no words"):
        meta.words("figures", "b", "en", {})
    with pytest.raises(InputError, match=r"06_revisions.meta.yml.*no value for \{edition\}"):
        meta.words("tables", "revisions-ssmsi", "en", {"year": 2024, "previous_edition": 2023})


# The English templates ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def facts_2024(raw_data):
    return prose.edition_facts("annual", YEAR)


@pytest.fixture(scope="module")
def english_2024(facts_2024):
    return prose.render_edition("annual", YEAR, records=facts_2024, lang="en")


def test_the_english_templates_render_with_no_placeholder_left(english_2024):
    letter = prose.visible(english_2024.letter)
    assert not re.search(r"\[\[|\]\]|\[%|%\]|\[#|#\]|\{\{<\s*var", english_2024.letter)
    assert "Violent deaths within the couple" in letter and "Key points" in letter
    assert "(s)" not in letter


def test_the_english_letter_has_no_french_sentence_left(english_2024):
    for name, part in english_2024.parts.items():
        found = sorted(set(_FRENCH.findall(_PROPER_NAMES.sub(" ", prose.visible(part)))))
        assert not found, f"{name}: French words {found}"


def test_a_count_date_is_printed_in_the_letters_language(english_2024, facts_2024):
    """A stock counted at a date ("au 1er février 2025" in the source) reads "as of 1 February 2025" in English;
    the French letter prints the source's words as they are."""
    dated = sorted(key for key, record in facts_2024.items() if record.get("period_date"))
    assert dated, "the 2024 letter cites devices counted at a date"
    english = prose.visible(english_2024.letter)
    assert "as of 1 February 2025" in english
    assert "au 1er" not in english  # (French titles of documents may name a month: they are titles)
    french = prose.visible(prose.render_edition("annual", YEAR, records=facts_2024, lang="fr").letter)
    assert "au 1er février 2025" in french and "as of" not in french


def test_the_english_letter_writes_numbers_the_english_way(english_2024, facts_2024):
    letter = "".join(english_2024.parts.values())  # the templates (the tables are checked in the build below)
    total = facts_2024["vs_total"]["value"]
    assert total >= 1000
    assert format_number(total, lang="en") in letter and format_number(total) not in letter
    assert format_change(facts_2024["if_evol"]["value"], lang="en") in letter
    assert format_percent(facts_2024["vc_part_femmes"]["value"], lang="en") in letter
    assert "\u202f%" not in letter


@pytest.mark.parametrize(
    ("lang", "other", "words"), [("fr", "en", "English version"), ("en", "fr", "Version française")]
)
def test_each_letter_links_to_the_other_language_only_when_it_exists(lang, other, words):
    folder = themes.get_theme("annual").publication_dir_for(lang)
    head = (folder / "index.qmd").read_text(encoding="utf-8").split("::: {.key-figures}")[0]
    meta = {"year": "2024", "lang": lang, "theme_title": "T"}
    facts = json.loads((Path(__file__).parent / "data" / "facts" / "annual_2024.json").read_text("utf-8"))[
        "facts"
    ]
    assert words not in render_text(head, facts, meta, search_path=folder)
    linked = render_text(
        head, facts, {**meta, f"version_{other}": f"../2024-{other}/index.html"}, search_path=folder
    )
    assert f'[{words}](../2024-{other}/index.html){{hreflang="{other}"' in linked


# One build, end to end ---------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_english_2024_letter_builds_in_html_and_pdf(tmp_path, raw_data, facts_2024):
    from observatoire.publishing.release import build_edition

    site, build = tmp_path / "site", tmp_path / "build"
    result = build_edition("annual", YEAR, site_dir=site, build_dir=build, lang="en", progress=False)
    assert result.status == "published" and result.site_path == site / "annual" / "2024-en"
    data = manifest.read_manifest(result.site_path)
    assert data["lang"] == "en"
    assert data["letter"] == {"html": "index.html", "pdf": "letter.pdf", "date": "2025-11"}  # "November 2025"

    # same facts: the English letter is built from the French edition's run (build/annual/2024/outputs)
    run = build / "annual" / str(YEAR) / "outputs"
    english_facts = load_facts(run)
    assert {k: r["value"] for k, r in english_facts.items()} == {k: r["value"] for k, r in facts_2024.items()}

    html = (result.site_path / "index.html").read_text(encoding="utf-8")
    assert 'lang="en"' in html.split("<head>")[0] and "On this page" in html
    assert format_number(facts_2024["vs_total"]["value"], lang="en") in html
    assert "Download the data (CSV)" in html and "Télécharger" not in html and "Voir les données" not in html
    # the downloads and the data tables in English: the file for English spreadsheets, English headers and words
    assert 'href="figures/morts-violentes-couple.en.csv"' in html and "See the data of the figure" in html
    assert "Other formats" in html and "Autres formats" not in html and "Cite this letter" in html
    english_csv = (result.site_path / "figures" / "morts-violentes-couple.en.csv").read_text(
        encoding="utf-8-sig"
    )
    assert english_csv.splitlines()[0].startswith("Year,") and "Femmes" not in english_csv
    assert "Figure&nbsp;1" in html and "Table&nbsp;1" in html and "Tableau" not in html
    table = (run / "en" / "tables" / "intrafamilial-extremes.md").read_text(encoding="utf-8")
    assert "| Rank |" in table and "Highest rates" in table and "Taux" not in table
    svg = (result.site_path / "figures" / "violences-sexuelles-departements.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) is required"
    text = subprocess.run(
        [pdftotext, "-layout", str(result.site_path / "letter.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Violent deaths within the couple" in text
    # the series name, in English, tops the first page's band and runs at the head of the others (the French
    # title is only cited)
    pages = text.split("\f")
    head = "Letter of the French National Observatory of Violence against Women"
    assert all(head in page for page in pages[1:] if page.strip())
    assert head.upper() in pages[0] and "LETTRE DE L" not in pages[0]
    assert format_number(facts_2024["vs_total"]["value"], lang="en") in text


def test_each_letter_links_to_the_declared_languages_whatever_is_published(tmp_path):
    """The links come from themes.yml (translations), not from the site's state: the same inputs give the same
    build key and the same letter in whatever order the two languages are published."""
    from observatoire.publishing.plan import resolve_plan

    french = resolve_plan("annual", YEAR, site_dir=tmp_path / "empty", build_dir=tmp_path / "build")
    english = resolve_plan(
        "annual", YEAR, site_dir=tmp_path / "empty", build_dir=tmp_path / "build", lang="en"
    )
    assert french.other_languages == ("en",) and english.other_languages == ("fr",)
    (tmp_path / "other" / "annual" / "2024-en").mkdir(parents=True)
    (tmp_path / "other" / "annual" / "2024-en" / "manifest.json").write_text("{}", encoding="utf-8")
    again = resolve_plan("annual", YEAR, site_dir=tmp_path / "other", build_dir=tmp_path / "build")
    assert again.key == french.key
