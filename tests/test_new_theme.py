"""A letter added without pipeline code: ``make new-theme`` then ``make release`` publish it, ``src/`` untouched.

The project is copied into a temporary folder (its tracked files; the raw data and Quarto are shared through
``OBSERVATOIRE_RAW`` and a link), the commands run there as a user runs them (``python -m observatoire``, what the
Makefile targets call), with the copy's ``src/`` first on the path of the CLI and of the notebooks' kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from observatoire.core import paths
from observatoire.publishing import scaffold

ROOT = paths.ROOT


def _tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    return [name for name in listing.split("\0") if name]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("project") / "observatoire"
    for name in _tracked_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    if (ROOT / ".tools").exists():
        (copy / ".tools").symlink_to((ROOT / ".tools").resolve())
    return copy


def _run(project: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "OBSERVATOIRE_RAW": str(paths.RAW),
        "PYTHONHASHSEED": "0",
    }
    for name in ("OBSERVATOIRE_BUILD", "OBSERVATOIRE_SITE", "OBSERVATOIRE_CACHE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "observatoire", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.e2e
def test_a_scaffolded_theme_is_built_and_published_with_no_change_under_src(project):
    before = _digest(project / "src")
    made = _run(project, "new-theme", "exemple")
    assert made.returncode == 0, made.stderr[-3000:]
    for name in (
        "notebooks/exemple/01_indicateur.ipynb",
        "publications/exemple/index.qmd",
        "publications/exemple/_methodes.qmd",
        "tests/nbval/exemple/01_indicateur.ipynb",
        "tests/test_theme_exemple.py",
    ):
        assert (project / name).is_file(), name
    assert "- id: exemple" in (project / "publications" / "themes.yml").read_text(encoding="utf-8")
    # the nbval reference holds the key numbers the notebook printed
    reference = json.loads((project / "tests/nbval/exemple/01_indicateur.ipynb").read_text(encoding="utf-8"))
    printed = "".join(
        "".join(o.get("text", ""))
        for c in reference["cells"]
        if c["cell_type"] == "code"
        for o in c["outputs"]
    )
    assert "exemple_victimes = 122" in printed.replace("\u202f", "")

    built = _run(project, "release", "--theme", "exemple", "--year", "2024")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    page = project / "_site" / "exemple" / "2024" / "index.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    assert "122\u202f610" in html or "122&#8239;610" in html  # the national count of edition 2024
    assert "Sources et méthodes" in html and "95\u202f%" in html.replace("&#8239;", "\u202f")
    assert (project / "_site" / "exemple" / "2024" / "manifest.json").is_file()
    # a letter added without pipeline code
    assert _digest(project / "src") == before == _digest(ROOT / "src")


def test_a_bad_or_used_id_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    from observatoire.core.errors import InputError

    with pytest.raises(InputError, match="an id is"):
        scaffold.new_theme("Bad-Id", reference=False)
    with pytest.raises(InputError, match="already declared"):
        scaffold.new_theme("annual", reference=False)


def test_the_templates_declare_what_the_contract_needs():
    entry = (scaffold.TEMPLATES / "themes_entry.yml").read_text(encoding="utf-8")
    for key in ("- id: __ID__", "notebooks:", "publication: __ID__", "sources:", "years:", "parameters:"):
        assert key in entry
    notebook = json.loads((scaffold.TEMPLATES / "notebook.ipynb").read_text(encoding="utf-8"))
    parameters = "".join(notebook["cells"][1]["source"])
    assert "parameters" in notebook["cells"][1]["metadata"]["tags"]
    for name in ("year", "output_dir", "theme", "ssmsi_source", "population_source"):
        assert f"{name} = " in parameters
    methods = (scaffold.TEMPLATES / "_methodes.qmd").read_text(encoding="utf-8")
    assert "f.m_niveau_confiance" in methods and "f.m_seuil_signif" in methods
