"""Bad parameters and faults: clear errors before any work, and a published site that nothing can damage.

- Command line and Makefile: user values are arguments, never shell code, and are checked (year, theme, --set).
- Faults: an unwritable site is refused before building; a byte flipped in ``data/raw/`` is noticed even when
  nothing changed; ``SOURCE_DATE_EPOCH`` is part of the build key; an interrupted write leaves no temporary file.
- Kills: a release killed (SIGKILL) in each stage leaves ``_site/`` as it was, and the next release succeeds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fixture_theme import FIXTURES, write_declaration, write_theme

from observatoire import cli
from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.publishing import plan, release
from observatoire.publishing.release import ReleaseError, build_edition

# ---------------------------------------------------------------------------------------------------------------
# Command line and Makefile


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["release", "--year", "2024; touch x"], "invalid int value: '2024; touch x'"),
        (["release", "--year", "1990"], "1990 is not buildable: the theme covers"),
        (
            ["release", "--theme", "annual;rm", "--year", "2024"],
            "unknown theme 'annual;rm' (declared: annual",
        ),
        (["release", "--year", "2024", "--set", "ssmsi_source"], "'ssmsi_source': expected KEY=VALUE"),
        (
            ["release", "--year", "2024", "--set", "ssmsi_source=["],
            "the value '[' is not a valid YAML scalar",
        ),
        (
            ["release", "--year", "2024", "--set", "x;y=1"],
            "'x;y=1': expected KEY=VALUE with KEY a parameter name",
        ),
        (["release", "--year", "2024", "--set", "pirate=1"], "unknown parameter (the theme declares:"),
        (["release", "--year", "2024", "--set", "ssmsi_source=../../x"], "'../../x' is not a source id"),
    ],
)
def test_bad_command_line_values_give_one_line_and_status_2(argv, phrase, capsys, monkeypatch):
    monkeypatch.setattr(release, "_fetch", lambda ids: pytest.fail("a build started"))
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's own check (an integer year)
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert phrase in err, err
    assert "Traceback" not in err


def test_parse_overrides_splits_make_s_single_argument():
    assert themes.parse_overrides(["ssmsi_source=ssmsi_dep_2023 flag=true"]) == {
        "ssmsi_source": "ssmsi_dep_2023",
        "flag": True,
    }


@pytest.mark.parametrize(
    "variables",
    [
        {"YEAR": "2024; touch {marker}"},
        {"YEAR": "2024", "SET": "label=x; touch {marker}"},
        {"YEAR": "2024", "SET": "label=$(touch {marker})"},
        {"THEME": "annual`touch {marker}`", "YEAR": "2024"},
    ],
)
def test_make_variables_are_never_run_as_shell_code(tmp_path, variables):
    marker = tmp_path / "pwned"
    args = [f"{k}={v.format(marker=marker)}" for k, v in variables.items()]
    env = {
        **os.environ,
        "OBSERVATOIRE_SITE": str(tmp_path / "_site"),
        "OBSERVATOIRE_BUILD": str(tmp_path / "b"),
    }
    done = subprocess.run(
        ["make", "--no-print-directory", "release", *args],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode != 0
    assert "error:" in done.stderr, done.stderr
    assert not marker.exists()
    assert not (tmp_path / "_site").exists()


# ---------------------------------------------------------------------------------------------------------------
# A one-notebook fixture theme with fake stages (as in test_release.py)


@pytest.fixture
def project(tmp_path):
    entry = write_theme(tmp_path, "fixture", FIXTURES / "good.ipynb", "---\ntitle: Fixture\n---\n\nTexte.\n")
    write_declaration(tmp_path, entry)
    return tmp_path


FAKES = textwrap.dedent(
    '''
    import os, shutil, sys, time
    from pathlib import Path
    from types import SimpleNamespace
    from observatoire.publishing import release
    from observatoire.data import themes
    from observatoire.publishing import manifest as mf

    def install(root, hang_in=None, marker=None, patch=setattr):
        """Fake stages (no kernel, no renderer); the stage named hang_in writes marker and sleeps."""
        def hang(name):
            if name == hang_in:
                Path(marker).write_text(name)
                time.sleep(120)

        def execute(jobs, **kwargs):
            hang("execute")
            for job in jobs:
                out = Path(job.parameters["output_dir"])
                (out / "figures").mkdir(parents=True, exist_ok=True)
                (out / "figures" / "fig.svg").write_text("<svg>" + job.parameters["label"] + "</svg>")
                (out / "facts").mkdir(parents=True, exist_ok=True)
                Path(job.output).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(job.input, job.output)
            return {}

        def render(project_dir, out_dir, edition):
            (out_dir / "index.html").write_text("<p>lettre</p>")
            hang("render")
            (out_dir / "lettre.pdf").write_bytes(b"%PDF-fake")
            return SimpleNamespace(renderer="fake", html=out_dir / "index.html", pdf=out_dir / "lettre.pdf", version="1")

        def write_index(site_dir, editions):
            tmp = site_dir / ".index.html.tmp"
            tmp.write_text("<ul>partial")
            hang("index")
            os.replace(tmp, site_dir / "index.html")

        def export(executed, target, parameters, build_dir, publication):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("<html>" + executed.name + "</html>")

        real_copy, real_manifest = release._copy_tree, mf.write_manifest

        def copy_tree(origin, target, **kwargs):
            real_copy(origin, target, **kwargs)
            if Path(target).name.startswith(release.STAGING_PREFIX):
                hang("publish")

        def write_manifest(folder, manifest):
            path = real_manifest(folder, manifest)
            hang("manifest")
            return path

        def variables(out):
            hang("stage")
            return {"fact": "1"}

        patch(release, "_fetch", lambda ids: hang("fetch") or [])
        patch(release, "_validate", lambda ids: hang("validate"))
        patch(release, "_execute", execute)
        patch(release, "_facts", lambda out: {})
        patch(release, "_facts_variables", variables)
        patch(release, "_render", render)
        patch(release, "_write_index", write_index)
        patch(release, "notebook_page", export)
        patch(release, "_copy_tree", copy_tree)
        patch(mf, "write_manifest", write_manifest)

    def build(root, force=False):
        theme = themes.load_themes(root / "publications" / "themes.yml", notebooks_root=root / "notebooks")["fixture"]
        return release.build_edition(
            theme, 2024, force=force, site_dir=root / "_site", build_dir=root / "build", progress=False
        )

    if __name__ == "__main__":
        root, stage, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
        install(root, stage, marker)
        build(root, force=True)
    '''
)


def _fakes_module(project: Path):
    script = project / "fault_child.py"
    script.write_text(FAKES, encoding="utf-8")
    namespace: dict = {"__name__": "fault_fakes"}
    exec(compile(FAKES, str(script), "exec"), namespace)
    return script, namespace


def _published(site: Path) -> dict[str, bytes]:
    """Every visible file of the site with its bytes (hidden leftovers are the next release's to clean)."""
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(site).parts)
    }


@pytest.mark.parametrize(
    "stage", ["fetch", "validate", "execute", "stage", "render", "manifest", "publish", "index"]
)
def test_a_release_killed_in_any_stage_leaves_the_site_intact(project, stage, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    script, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    site = project / "_site"
    assert fakes["build"](project).status == "published"
    before = _published(site)
    marker = project / f"in-{stage}"
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT / "src")}
    child = subprocess.Popen(
        [sys.executable, str(script), str(project), stage, str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, f"the child never reached {stage}"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    edition = site / "fixture" / "2024"
    if stage == "index":  # killed after the edition was moved into place: a whole new edition, old index
        assert _published(site).keys() == before.keys()
        assert release.mf.verify_outputs(edition, release.mf.read_manifest(edition)) == []
        assert (site / "index.html").read_bytes() == before["index.html"]
    else:
        assert _published(site) == before
    again = fakes["build"](project, force=True)
    assert again.status == "replaced"
    assert [p.name for p in site.iterdir() if p.name.startswith(".")] == []  # leftovers cleaned
    assert _published(site).keys() == before.keys()


# ---------------------------------------------------------------------------------------------------------------
# Faults found before building


def _fixture_theme(project: Path):
    return themes.load_themes(project / "publications" / "themes.yml", notebooks_root=project / "notebooks")[
        "fixture"
    ]


def test_an_unwritable_site_is_refused_before_building(project, monkeypatch):
    calls = []
    monkeypatch.setattr(release, "_fetch", lambda ids: calls.append("fetch"))
    site = project / "_site"
    site.write_text("a file where the site folder should be", encoding="utf-8")
    with pytest.raises(ReleaseError, match="is not writable"):
        build_edition(
            _fixture_theme(project), 2024, site_dir=site, build_dir=project / "build", progress=False
        )
    assert calls == [] and not (project / "build" / "fixture" / "2024").exists()


def test_a_read_only_site_index_is_refused_before_building(project, monkeypatch):
    site = project / "_site"
    site.mkdir()
    (site / "index.html").write_text("<ul></ul>", encoding="utf-8")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p).name == "index.html" else real_access(p, mode)
    )
    monkeypatch.setattr(release, "_fetch", lambda ids: pytest.fail("built"))
    with pytest.raises(ReleaseError, match=r"index\.html is not writable: nothing was built"):
        build_edition(
            _fixture_theme(project), 2024, site_dir=site, build_dir=project / "build", progress=False
        )


def test_a_flipped_byte_in_a_raw_file_is_noticed_by_a_no_change_release(project, raw_data, monkeypatch):
    raw = project / "raw"
    raw.mkdir()
    shutil.copy2(paths.RAW / "departements_regions_ref.csv", raw / "departements_regions_ref.csv")
    monkeypatch.setattr(paths, "RAW", raw)
    monkeypatch.setattr(paths, "CACHE", project / "cache")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    script, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    assert fakes["build"](project).status == "published"
    assert fakes["build"](project).status == "unchanged"
    data = bytearray((raw / "departements_regions_ref.csv").read_bytes())
    data[40] ^= 0x01
    (raw / "departements_regions_ref.csv").write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum mismatch for source 'geo_reference'"):
        fakes["build"](project)


def test_source_date_epoch_is_part_of_the_build_key(project, monkeypatch):
    theme = _fixture_theme(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = plan.key_inputs(theme, 2024, theme.parameters_for(2024), "observatoire")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    second = plan.key_inputs(theme, 2024, theme.parameters_for(2024), "observatoire")
    assert [k for k in first if first[k] != second[k]] == ["SOURCE_DATE_EPOCH"]


def test_the_batch_refuses_an_unwritable_site_before_building(raw_data, tmp_path, monkeypatch):
    from observatoire.publishing import batch

    monkeypatch.setattr(batch, "build_task", lambda *args: pytest.fail("an edition was built"))
    site = tmp_path / "_site"
    site.write_text("a file where the site folder should be", encoding="utf-8")
    outcomes = batch.run_batch(
        edition_requests=[batch.EditionRequest("annual", 2024)],
        site_dir=site,
        build_dir=tmp_path / "build",
        serial=True,
        progress=False,
    )
    assert [o.status for o in outcomes] == ["failed"]
    assert "is not writable" in outcomes[0].reason
