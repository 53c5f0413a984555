"""Corrections and history: notice, archived revisions, manifest history and the site changelog."""

from __future__ import annotations

import json

import pytest
import test_release

from observatoire.publishing import corrections
from observatoire.publishing import manifest as mf
from observatoire.publishing.release import ReleaseError, list_editions
from observatoire.publishing.rendering.site import site_pages


def _changelog_page(site) -> str:
    """The Markdown of the site's changelog page (rendered by Quarto with the site's other pages)."""
    return site_pages(list_editions(site), [], site)["changelog.qmd"]


def _publish(site, theme, year, territory=None, **extra):
    folder = site / theme / str(year) / (territory or "")
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(f"<p>{theme} {year}</p>", encoding="utf-8")
    manifest = {"theme": theme, "title": f"Lettre {theme}", "year": year, "built_at": "2024-11-25T00:00:00Z"}
    manifest.update(letter={"html": "index.html"}, outputs={"index.html": "x"}, **extra)
    mf.write_manifest(folder, manifest)
    return folder, manifest


def test_notice_is_dated_escaped_and_links_the_previous_revision(tmp_path):
    notice = corrections.notice_markdown("Taux *2023* corrigé [erreur]", "2025-01-15T10:00:00Z", 2)
    assert notice.startswith(
        "::: {.callout-important}\n## Version corrigée\u00a0: révision 2 du 15 janvier 2025"
    )
    assert "Taux \\*2023\\* corrigé \\[erreur\\]" in notice
    assert "[révision 1](revisions/1/index.html)" in notice
    index = tmp_path / "index.qmd"
    index.write_text("---\ntitle: Lettre\n---\n\nTexte.\n", encoding="utf-8")
    corrections.add_notice(index, notice)
    text = index.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Lettre\n---\n\n::: {.callout-important}") and text.endswith(
        "Texte.\n"
    )


def test_history_and_changelog_list_every_edition_and_revision(tmp_path):
    site = tmp_path / "_site"
    folder, first = _publish(site, "annual", 2024)
    _publish(site, "annual", 2023)
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_text("<p>corrigée</p>", encoding="utf-8")
    assert corrections.archive_previous(folder, new) == 1
    assert (new / "revisions" / "1" / "index.html").read_text(encoding="utf-8") == "<p>annual 2024</p>"
    fields = corrections.revision_fields(first, "Taux corrigé.", "2025-01-15T10:00:00Z", ["taux: 4,9 → 5,0"])
    assert fields["revision"] == 2
    assert [h["revision"] for h in fields["history"]] == [1, 2]
    assert fields["history"][0] == {
        "revision": 1,
        "date": "2024-11-25T00:00:00Z",
        "text": "Première publication",
    }
    # the corrected edition replaces the published one, its past inside it
    manifest = {**first, **fields}
    mf.write_manifest(new, manifest)
    for path in list(folder.iterdir()):
        path.unlink()
    folder.rmdir()
    new.rename(folder)
    data_path = corrections.write_changelog(site)
    entries = json.loads(data_path.read_text(encoding="utf-8"))
    assert [(e["year"], len(e["revisions"])) for e in entries] == [(2024, 2), (2023, 1)]
    revisions = entries[0]["revisions"]
    assert revisions[0]["href"] == "annual/2024/revisions/1/index.html"
    assert revisions[1]["href"] == "annual/2024/index.html"
    assert revisions[1]["changes"] == ["taux: 4,9 → 5,0"] and revisions[1]["text"] == "Taux corrigé."
    assert corrections.write_changelog(site).read_bytes() == data_path.read_bytes()  # deterministic
    page = _changelog_page(site)
    assert "- [Révision 1](annual/2024/revisions/1/index.html) du 25 novembre 2024\u00a0: Première" in page
    assert (
        "- [Révision 2](annual/2024/index.html) du 15 janvier 2025\u00a0: Taux corrigé.\n    - taux: 4,9 → 5,0\n"
    ) in page
    assert page.index("Révision 2") < page.index("Révision 1")  # newest first


def test_the_changelog_lists_territorial_letters_with_their_revisions(tmp_path):
    site = tmp_path / "_site"
    _publish(site, "annual", 2024)
    _publish(
        site,
        "territoire",
        2024,
        "75",
        revision=2,
        history=[
            {"revision": 1, "date": "2024-11-25", "text": "Première publication"},
            {"revision": 2, "date": "2024-12-01", "text": "Erratum", "changes": []},
        ],
    )
    _publish(site, "territoire", 2024, "reg-53")
    entries = json.loads(corrections.write_changelog(site).read_text(encoding="utf-8"))
    territorial = [(e["territory"], e["place"], len(e["revisions"])) for e in entries if e["territory"]]
    assert territorial == [("75", "Paris", 2), ("reg-53", "Bretagne", 1)]
    paris = next(e for e in entries if e["territory"] == "75")
    assert [r["href"] for r in paris["revisions"]] == [
        "territoire/2024/75/revisions/1/index.html",
        "territoire/2024/75/index.html",
    ]
    page = _changelog_page(site)
    assert (
        "- **Paris**\n    - [Révision 2](territoire/2024/75/index.html) du 1er décembre 2024\u00a0: Erratum"
        in page
    )


def test_text_from_the_command_line_is_escaped_in_the_changelog(tmp_path):
    site = tmp_path / "_site"
    _publish(
        site,
        "annual",
        2024,
        revision=2,
        history=[
            {"revision": 1, "date": "2024-11-25", "text": "Première publication"},
            {"revision": 2, "date": "2024-12-01", "text": "<script>alert(1)</script>", "changes": []},
        ],
    )
    page = _changelog_page(site)
    assert "<script>" not in page and "\\<script\\>alert(1)\\</script\\>" in page


# Through the release, with the stages that call other modules replaced (the fixtures of test_release.py).
project = test_release.project
fakes = test_release.fakes
build = test_release.build


def test_a_correction_needs_a_published_edition_and_a_text(project, fakes):
    with pytest.raises(ReleaseError, match="nothing to correct"):
        build(project, correction="Erratum.")
    build(project)
    with pytest.raises(ReleaseError, match="needs a text"):
        build(project, correction="  ")


def test_correction_through_the_release(project, fakes):
    first = build(project)
    edition = first.site_path
    first_html = (edition / "index.html").read_bytes()
    result = build(project, correction="Le chiffre de 2023 était faux.")
    assert result.status == "replaced"
    letter = (edition / "index.html").read_text(encoding="utf-8")
    assert "## Version corrigée\u00a0: révision 2 du 14 novembre 2023" in letter  # SOURCE_DATE_EPOCH's date
    assert "Le chiffre de 2023 était faux." in letter and "(revisions/1/index.html)" in letter
    assert (edition / "revisions" / "1" / "index.html").read_bytes() == first_html
    manifest = mf.read_manifest(edition)
    assert manifest["revision"] == 2 and "revisions/1/index.html" in manifest["outputs"]
    assert mf.verify_outputs(edition, manifest) == []
    # a later FORCE rebuild keeps the history and the past revisions
    build(project, force=True)
    again = mf.read_manifest(edition)
    assert again["revision"] == 2 and again["history"] == manifest["history"]
    assert (edition / "revisions" / "1" / "index.html").read_bytes() == first_html
    # a second correction archives revision 2 beside revision 1
    build(project, correction="Deuxième correction.")
    third = mf.read_manifest(edition)
    assert third["revision"] == 3 and [h["revision"] for h in third["history"]] == [1, 2, 3]
    assert sorted(p.name for p in (edition / "revisions").iterdir()) == ["1", "2"]
    assert not (edition / "revisions" / "2" / "revisions").exists()
    changelog = json.loads((project.site / "changelog.json").read_text(encoding="utf-8"))
    assert [r["href"] for r in changelog[0]["revisions"]] == [
        "fixture/2024/revisions/1/index.html",
        "fixture/2024/revisions/2/index.html",
        "fixture/2024/index.html",
    ]


def test_changes_are_read_from_the_raw_tables_not_the_french_downloads(tmp_path):
    import pandas as pd

    from observatoire.outputs.tables import save_table

    for folder, rate in (("old", 4.9), ("new", 5.1)):
        data = pd.DataFrame({"code": ["01", "02"], "rate": [rate, 3.0]})
        save_table(data, "taux", tmp_path / folder, title="Taux", source="SSMSI")
    assert (tmp_path / "new" / "tables" / "taux.fr.csv").is_file()
    assert corrections.describe_changes(tmp_path / "old", tmp_path / "new") == [
        "taux: 01: rate\u00a0: 4,9 → 5,1"
    ]
