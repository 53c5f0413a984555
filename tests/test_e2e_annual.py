"""End to end: the 2024 annual letter, built twice from the same inputs, read as a reader would.

Every output of the two builds (figures, CSV, facts, tables, notebook pages, letter HTML and PDF) must be
byte-identical; only the manifest's build time may differ.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import shutil
import subprocess
import sys

import pytest
from e2e_checks import build, check_html_in_chromium, check_pdf, check_site_pages

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def busy_machine(processes: int = 2):
    """Keep every core busy (a kernel's output is flushed in other pieces on a loaded machine)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.fixture(scope="module")
def annual(tmp_path_factory):
    """The 2024 annual letter built twice into the same folders, the second time on a busy machine."""
    tmp = tmp_path_factory.mktemp("annual")
    first = build("annual", 2024, tmp)
    # The second build replaces the first in place: keep a copy of the first to show what differs, if anything.
    shutil.copytree(first.site_path, tmp / "first-site")
    with busy_machine():
        second = build("annual", 2024, tmp, force=True)
    return first, second


def _first_difference(old_folder, new_folder, names) -> str:
    """A short unified diff of the first differing text output (or its size when binary)."""
    for name in names:
        old, new = old_folder / name, new_folder / name
        if not (old.is_file() and new.is_file()):
            continue
        try:
            a, b = old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return f"{name}: binary, {old.stat().st_size} vs {new.stat().st_size} bytes"
        diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "first", "second", n=1, lineterm="")
        return f"{name}:\n" + "\n".join(line[:200] for line in list(diff)[:30])
    return "(the differing files are not in the site folder)"


def test_annual_letter_published_with_manifest(annual):
    first, second = annual
    assert first.status == "published" and second.status == "replaced"
    site = second.site_path
    for name in ("index.html", "letter.pdf", "manifest.json"):
        assert (site / name).is_file()
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["theme"] == "annual" and int(manifest["year"]) == 2024
    assert manifest["renderer"]["name"] == "quarto"
    assert (
        manifest["renderer"]["version"].startswith("quarto 1.1")
        and "pandoc 3" in manifest["renderer"]["version"]
    )
    assert "typst 0." in manifest["renderer"]["version"]
    assert {i["source_id"] for i in manifest["inputs"]} >= {"ssmsi_dep_2024", "insee_pop_gca"}
    assert manifest["replaced"], "a forced rebuild must record the edition it replaced"
    assert (site.parent.parent / "index.html").is_file()
    assert "annual/2024/index.html" in (site.parent.parent / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in (site / "notebooks").glob("*.html")) == [
        "01_morts_violentes_couple.html",
        "02_violences_couple_intrafamiliales.html",
        "03_violences_sexuelles.html",
        "04_enquetes_victimation.html",
        "05_protection_accompagnement.html",
        "06_revisions.html",
    ]
    letter = (site / "index.html").read_text(encoding="utf-8")
    assert "Voir les calculs" in letter and 'href="notebooks/06_revisions.html"' in letter
    assert (
        "Révisions" in letter and "années révisées" in letter
    )  # the revisions box, computed from the two editions


def test_annual_letter_is_byte_for_byte_reproducible(annual):
    """Strict: the executed notebooks' printed output used to be split differently under load (now coalesced)."""
    first, second = annual
    a, b = first.manifest["outputs"], second.manifest["outputs"]
    assert set(a) == set(b)
    different = sorted(name for name in a if a[name] != b[name])
    first_site = second.site_path.parents[2] / "first-site"
    assert different == [], (
        f"outputs differ between two builds of the same inputs: {different}\n"
        + _first_difference(first_site, second.site_path, different)
    )
    assert len(a) > 30
    assert any(n.endswith(".pdf") for n in a) and any(n.endswith(".svg") for n in a)


def test_annual_letter_html_in_chromium(annual):
    check_html_in_chromium(annual[1], "annual-2024")


def test_annual_letter_is_a_page_of_the_website(annual):
    check_site_pages(annual[1])


def test_annual_letter_pdf(annual):
    check_pdf(annual[1], "annual-2024", min_pages=4)
