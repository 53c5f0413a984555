"""The batch (make all): every edition planned here, built on Dask workers, published here.

Two cheap editions of a one-notebook fixture theme keep this test short: built one by one in this process, then
on a LocalCluster of two worker threads, the published sites must be byte-identical; a failing edition is
reported with its reason and never stops the others nor touches what is published.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from fixture_theme import FIXTURES, write_declaration, write_theme

from observatoire.data import themes
from observatoire.publishing import batch, release

CHEAP = """
import json
from pathlib import Path
out = Path(output_dir)
(out / "facts").mkdir(parents=True, exist_ok=True)
(out / "figures").mkdir(parents=True, exist_ok=True)
fact = {"label": {"text": f"{label} {year}", "value": year}}
payload = {"facts": fact, "notebook": "cheap", "theme": theme, "year": year}
(out / "facts" / "cheap.json").write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
(out / "figures" / "cheap.svg").write_text(f"<svg><title>{label} {year}</title></svg>", encoding="utf-8")
"""


def _cheap_notebook(path: Path) -> None:
    """A notebook that writes one fact and one figure, in well under a second."""
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('year = 2024\ntheme = "fixture"\noutput_dir = ""\nlabel = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Essai"), parameters, nbformat.v4.new_code_cell(CHEAP)]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    nb.metadata["kernelspec"] = {"name": "observatoire", "display_name": "Observatoire", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def fixture_themes(tmp_path, monkeypatch):
    """Two themes in tmp_path: 'fixture' (one cheap notebook, 2023-2024) and 'broken' (its notebook fails)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notebooks = tmp_path / "notebooks"
    cheap = tmp_path / "cheap.ipynb"
    _cheap_notebook(cheap)
    index_qmd = "---\ntitle: Essai\n---\n\nAnnée {{< var year >}}.\n"
    themes_yml = write_declaration(
        tmp_path,
        write_theme(tmp_path, "fixture", cheap, index_qmd, years=(2023, 2024)),
        write_theme(
            tmp_path, "broken", FIXTURES / "failing_cell.ipynb", index_qmd, years=(2023, 2024), parameters={}
        ),
    )
    return themes.load_themes(themes_yml, notebooks_root=notebooks)


def _site(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_requests_expand_every_declared_theme_and_year():
    asked = batch.requests()
    declared = [
        (t.id, y, lang)
        for t in themes.list_themes()
        for y in t.years
        for _ in t.parameter_sets
        for lang in t.languages
    ]
    assert [(r.theme, r.year, r.lang) for r in asked] == declared
    # the annual letter in French, then in English (the two link to one another)
    assert [r.label for r in asked[:2]] == [f"annual {declared[0][1]}", f"annual {declared[0][1]} (en)"]
    territoire = themes.get_theme("territoire")
    assert len(territoire.parameter_sets) == 119  # 101 départements and 18 régions, each its own edition
    assert asked[0].overrides == () and asked[0].lang == "fr"
    # a thematic letter in both languages, each year French first (translations: [en])
    assert [(r.theme, r.lang) for r in batch.requests(["traite"])] == [
        ("traite", lang) for _ in themes.get_theme("traite").years for lang in ("fr", "en")
    ]


def test_a_failed_edition_is_reported_and_the_others_are_published(fixture_themes, tmp_path):
    good, broken = fixture_themes["fixture"], fixture_themes["broken"]
    asked = [
        batch.EditionRequest(broken, 2024),
        batch.EditionRequest(good, 2024),
        batch.EditionRequest(good, 2031),  # not buildable: fails at planning
    ]
    site = tmp_path / "site"
    outcomes = batch.run_batch(
        edition_requests=asked,
        serial=True,
        progress=False,
        site_dir=site,
        build_dir=tmp_path / "build",
        warm=False,
    )
    assert [o.status for o in outcomes] == ["failed", "published", "failed"], [o.reason for o in outcomes]
    assert "failing_cell.ipynb failed in cell" in outcomes[0].reason
    assert "2031 is not buildable" in outcomes[2].reason
    names = {p.name for p in site.iterdir()}  # the site's own pages (Quarto) beside the one published theme
    assert {"fixture", "index.html"} <= names and "broken" not in names
    assert not [
        n for n in names if n.startswith(".") and n not in release.SITE_FILES
    ]  # no staging left behind
    assert json.loads((site / "fixture" / "2024" / "manifest.json").read_text())["year"] == 2024
    summary = batch.format_summary(outcomes)
    assert "built: 1, unchanged: 0, failed: 2" in summary and "failing_cell.ipynb failed in cell" in summary

    again = batch.run_batch(
        edition_requests=asked[1:2],
        serial=True,
        progress=False,
        site_dir=site,
        build_dir=tmp_path / "build",
        warm=False,
    )
    assert [o.status for o in again] == ["unchanged"]


def test_two_dask_workers_publish_what_the_serial_run_publishes(fixture_themes, tmp_path):
    good = fixture_themes["fixture"]
    asked = [batch.EditionRequest(good, 2023), batch.EditionRequest(good, 2024)]
    runs = {}
    for name, serial in (("serial", True), ("dask", False)):
        outcomes = batch.run_batch(
            edition_requests=asked,
            serial=serial,
            workers=2,
            progress=False,
            site_dir=tmp_path / name / "site",
            build_dir=tmp_path / name / "build",
            warm=False,  # the fixture notebook imports nothing heavy: a new kernel starts faster than a warm one
        )
        assert [o.status for o in outcomes] == ["published", "published"], [o.reason for o in outcomes]
        runs[name] = _site(tmp_path / name / "site")
    assert "fixture/2023/manifest.json" in runs["serial"] and "fixture/2024/index.html" in runs["serial"]
    assert runs["dask"] == runs["serial"]


def test_territorial_letters_go_in_groups_of_one_year_and_the_others_alone():
    from types import SimpleNamespace

    def plan(theme_id, year, sets=None, lang="fr"):
        return SimpleNamespace(theme=SimpleNamespace(id=theme_id, parameter_sets=sets), year=year, lang=lang)

    sets = [{"territoire": "29"}]
    plans = {
        0: plan("annual", 2024),
        1: plan("territoire", 2024, sets),
        2: plan("territoire", 2024, sets),
        3: plan("territoire", 2024, sets),
        4: plan("territoire", 2023, sets),
        5: plan("annual", 2023),
        7: plan("territoire", 2024, sets),
    }
    assert batch.groups(plans, size=3) == [[0], [1, 2, 3], [4], [5], [7]]
    assert batch.groups(plans, size=1) == [[0], [1], [2], [3], [4], [5], [7]]


def test_the_languages_of_a_letter_go_in_one_group():
    """They share one run of the notebooks: the same task builds them, French first."""
    from types import SimpleNamespace

    def plan(theme_id, year, lang, sets=None):
        theme = SimpleNamespace(
            id=theme_id, parameter_sets=sets, languages=("fr", "en"), one_source=lambda lang: True
        )
        return SimpleNamespace(theme=theme, year=year, lang=lang, variant=None)

    sets = [{"territoire": "29"}]
    plans = {
        0: plan("annual", 2024, "fr"),
        1: plan("annual", 2024, "en"),
        2: plan("annual", 2023, "fr"),
        3: plan("annual", 2023, "en"),
        4: plan("territoire", 2024, "fr", sets),
        5: plan("territoire", 2024, "en", sets),
        6: plan("territoire", 2024, "fr", sets),
        7: plan("territoire", 2024, "en", sets),
    }
    assert batch.groups(plans, size=8) == [[0, 1], [2, 3], [4, 5, 6, 7]]
    assert batch.groups(plans, size=2) == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_the_longest_tasks_go_first_by_their_notebooks_and_letters():
    """A task's cost counts one run of the notebooks per execution key (the languages of a letter share one)
    and one render per letter; the batch gives the workers the costliest tasks first."""
    from types import SimpleNamespace

    def plan(run, notebooks):
        return SimpleNamespace(execution_key=run, key=f"key-{run}", jobs=tuple(range(notebooks)))

    annual = [plan("annual-2024", 6), plan("annual-2024", 6)]  # French and English: one run
    thematic = [plan("traite-2024", 1)]
    places = [plan(f"place-{i}", 2) for i in range(3)]  # three letters of places: three runs
    assert batch.task_cost(annual) == 6 + 2
    assert batch.task_cost(thematic) == 1 + 1
    assert batch.task_cost(places) == 3 * 2 + 3


def test_a_group_of_letters_from_different_places_is_refused_before_quarto(tmp_path):
    from observatoire.publishing.rendering import RenderError, render_group

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.qmd").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    with pytest.raises(RenderError, match="one folder"):
        render_group(
            [(tmp_path / "a", tmp_path / "oa", "t/2024/a"), (tmp_path / "b", tmp_path / "ob", "t/2023/b")]
        )
    with pytest.raises(RenderError, match="index.qmd is missing"):
        render_group(
            [(tmp_path / "a", tmp_path / "oa", "t/2024/a"), (tmp_path / "c", tmp_path / "oc", "t/2024/c")]
        )
