"""Bad parameters and faults: clear errors before any work, and a published site that nothing can damage.

- Command line and Makefile: user values are arguments, never shell code, and are checked (year, theme, --set).
- Faults: an unwritable site is refused before building; a byte flipped in ``data/raw/`` is noticed even when
  nothing changed; ``SOURCE_DATE_EPOCH`` is part of the build key; an interrupted write leaves no temporary file.
- Kills: a release killed (SIGKILL) in each stage leaves ``_site/`` as it was, and the next release succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import corpus
import pytest
from fixture_theme import FIXTURES, write_declaration, write_theme

from observatoire import cli
from observatoire.core import paths
from observatoire.core.checksums import sha256_file
from observatoire.core.errors import InputError
from observatoire.data import catalogue, themes
from observatoire.publishing import plan, release
from observatoire.publishing.release import ReleaseError, build_edition

# ---------------------------------------------------------------------------------------------------------------
# Command line and Makefile


#: A command line (and its environment) -> the exact one line it ends with on stderr, and its status.
CLI_CASES: dict[str, tuple[list[str], dict[str, str], tuple[int, str]]] = {
    "year with shell code": (
        ["release", "--year", "2024; touch x"],
        {},
        (
            2,
            "error: release: argument --year: '2024; touch x' is not a year written as four ASCII digits (YYYY)",
        ),
    ),
    "year not buildable": (
        ["release", "--year", "1990"],
        {},
        (2, "error: themes.yml: theme 'annual', years: 1990 is not buildable: the theme covers 2017..2024"),
    ),
    "year in fullwidth digits": (
        ["release", "--year", "２０２４"],
        {},
        (2, "error: release: argument --year: '２０２４' is not a year written as four ASCII digits (YYYY)"),
    ),
    "year in Arabic-Indic digits": (
        ["release", "--year", "٢٠٢٤"],
        {},
        (2, "error: release: argument --year: '٢٠٢٤' is not a year written as four ASCII digits (YYYY)"),
    ),
    "year of five digits": (
        ["release", "--year", "20245"],
        {},
        (2, "error: release: argument --year: '20245' is not a year written as four ASCII digits (YYYY)"),
    ),
    "theme with shell code": (
        ["release", "--theme", "annual;rm", "--year", "2024"],
        {},
        (
            2,
            "error: themes.yml: key 'themes': unknown theme 'annual;rm' (declared: annual, traite, violences_sexuelles, outre_mer, territoire, mutilations_sexuelles, mariages_forces)",
        ),
    ),
    "set without a value": (
        ["release", "--year", "2024", "--set", "ssmsi_source"],
        {},
        (
            2,
            "error: --set: 'ssmsi_source': expected KEY=VALUE with KEY a parameter name (e.g. ssmsi_source=ssmsi_dep_2023)",
        ),
    ),
    "set with bad YAML": (
        ["release", "--year", "2024", "--set", "ssmsi_source=["],
        {},
        (2, "error: --set: 'ssmsi_source=[': the value '[' is not a valid YAML scalar"),
    ),
    "set with shell code in the key": (
        ["release", "--year", "2024", "--set", "x;y=1"],
        {},
        (
            2,
            "error: --set: 'x;y=1': expected KEY=VALUE with KEY a parameter name (e.g. ssmsi_source=ssmsi_dep_2023)",
        ),
    ),
    "set of an unknown parameter": (
        ["release", "--year", "2024", "--set", "pirate=1"],
        {},
        (
            2,
            "error: themes.yml: theme 'annual', parameter override 'pirate': unknown parameter (the theme declares: letter_date, national_source, nomenclature_record, population_age_record, population_source, ssmsi_source); declare it first",
        ),
    ),
    "set of a path as source": (
        ["release", "--year", "2024", "--set", "ssmsi_source=../../x"],
        {},
        (
            2,
            "error: themes.yml: theme 'annual', parameter 'ssmsi_source': '../../x' is not a source id of data/sources.yml",
        ),
    ),
    "set of a source that does not cover the year": (
        ["release", "--year", "2024", "--set", "ssmsi_source=ssmsi_dep_2023"],
        {},
        (
            2,
            "error: themes.yml: theme 'annual', parameter 'ssmsi_source': source 'ssmsi_dep_2023' covers 2016..2023, not the year 2024",
        ),
    ),
    "workers in fullwidth digits": (
        ["release", "--year", "2024", "--workers", "２"],
        {},
        (2, "error: release: argument --workers: '２' is not a whole number written in ASCII digits (0-9)"),
    ),
    "unknown language": (
        ["release", "--year", "2024", "--langue", "de"],
        {},
        (1, "error: --langue 'de': unknown language (allowed: fr, en)"),
    ),
    "territory for a national theme": (
        ["release", "--year", "2024", "--territoire", "29"],
        {},
        (2, "error: themes.yml: theme 'annual': is not a territorial theme (no 'territories')"),
    ),
    "unknown territory": (
        ["release", "--theme", "territoire", "--year", "2024", "--territoire", "20"],
        {},
        (
            2,
            "error: themes.yml: theme 'territoire', parameter 'territoire': unknown territory '20': a département code (01 ... 95, 2A, 2B, 971 ... 976, optionally 'dep-29') or a région as 'reg-' and its code (reg-11 ... reg-94, reg-01 ... reg-06)",
        ),
    ),
    "all with an Arabic-Indic year": (
        ["all", "--year", "٢٠٢٤"],
        {},
        (2, "error: all: argument --year: '٢٠٢٤' is not a year written as four ASCII digits (YYYY)"),
    ),
    "correction of an edition never published": (
        ["release", "--year", "2017", "--correction", "Un taux corrigé."],
        {},
        (1, "error: annual 2017 is not published: there is nothing to correct"),
    ),
    "base URL javascript": (
        ["release", "--year", "2024"],
        {"OBSERVATOIRE_BASE_URL": "javascript:alert(1)//"},
        (
            2,
            "error: OBSERVATOIRE_BASE_URL: value: 'javascript:alert(1)//' must be an absolute http(s) URL (https://host/path/)",
        ),
    ),
    "base URL file": (
        ["release", "--year", "2024"],
        {"OBSERVATOIRE_BASE_URL": "file:///etc/"},
        (
            2,
            "error: OBSERVATOIRE_BASE_URL: value: 'file:///etc/' must be an absolute http(s) URL (https://host/path/)",
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_bad_command_line_values_give_one_line(case, capsys, monkeypatch, tmp_path):
    argv, environment, expected = CLI_CASES[case]
    monkeypatch.setattr(release, "_fetch", lambda ids: pytest.fail("a build started"))
    monkeypatch.setattr(paths, "SITE", tmp_path / "_site")  # a correction looks for the edition there
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with corpus.unchanged():
        try:
            status = cli.main(argv)
        except SystemExit as exc:  # argparse's own checks (a year in ASCII digits)
            status = exc.code
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert (status, err.strip()) == expected


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

        def export(executed, target, parameters, build_dir, publication, lang=None):
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

        def variables(out, lang="fr"):
            hang("stage")
            return {"fact": "1"}

        real_replace, real_changelog = os.replace, release.corrections.write_changelog

        def replace(origin, target):  # the publish stage's renames: the old edition aside, the new one in place
            real_replace(origin, target)
            if Path(target).name.startswith(release.REPLACED_PREFIX):
                hang("aside")
            elif Path(origin).name.startswith(release.STAGING_PREFIX) and "site" not in Path(origin).name:
                hang("moved")

        def write_changelog(site_dir):
            path = real_changelog(site_dir)
            hang("changelog")
            return path

        if hang_in in ("aside", "moved"):
            os.replace = replace  # this child process only
        patch(release.corrections, "write_changelog", write_changelog)
        patch(release, "_prestart", lambda *args: None)  # no warm kernel: the notebooks are fakes
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


#: Where the child is killed: each stage, then each point of the publish stage (copying into the staging folder,
#: the old edition set aside, the new one moved in, the site's index written, the changelog written).
KILL_POINTS = ["fetch", "validate", "execute", "stage", "render", "manifest"]
PUBLISH_POINTS = ["publish", "aside", "moved", "index", "changelog"]


@pytest.mark.parametrize("stage", KILL_POINTS + PUBLISH_POINTS)
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
    deadline = time.monotonic() + 300  # a loaded machine (four engineers' builds) starts Python slowly
    while not marker.exists():
        assert child.poll() is None, child.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, f"the child never reached {stage}"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    edition = site / "fixture" / "2024"
    if stage in (
        "moved",
        "index",
        "changelog",
    ):  # after the edition was moved into place: a whole new edition
        assert _published(site).keys() == before.keys()
        assert release.mf.verify_outputs(edition, release.mf.read_manifest(edition)) == []
        assert release.mf.read_manifest(edition)["built_at"] == "2023-11-14T22:13:20Z"
        assert not release.site_is_current(site)  # its pages are older than it: the next release repairs them
    elif (
        stage == "aside"
    ):  # the old edition set aside, the new one not in place: restored by the next release
        assert not edition.exists()
    else:
        assert _published(site) == before
    if stage in PUBLISH_POINTS:  # the next release, with nothing to build, leaves the site consistent
        repaired = fakes["build"](project)
        assert repaired.status == "unchanged"
        assert release.site_is_current(site)
        assert _published(site).keys() == before.keys()
        assert release.mf.verify_outputs(edition, release.mf.read_manifest(edition)) == []
    again = fakes["build"](project, force=True)
    assert again.status == "replaced"
    assert [
        p.name for p in site.iterdir() if p.name.startswith(".") and p.name not in release.SITE_FILES
    ] == []  # leftovers cleaned
    assert _published(site).keys() == before.keys()


# ---------------------------------------------------------------------------------------------------------------
# Faults found before building

#: The scripted faults of the corpus: each test asserts the exact one-line message and that nothing changed.
SCRIPTED_CASES = (
    "test_an_unwritable_site_is_refused_before_building",
    "test_a_read_only_site_index_is_refused_before_building",
    "test_a_flipped_byte_in_a_raw_file_is_noticed_by_a_no_change_release",
    "test_a_flip_that_keeps_size_and_modification_time_is_caught",
    "test_a_full_disk_while_publishing_gives_one_line_and_leaves_the_site_as_it_was",
    "test_a_full_disk_while_writing_the_changelog_keeps_the_old_one",
    "test_a_full_disk_while_fetching_gives_one_line_naming_the_file",
)


def test_every_scripted_case_is_a_test_of_this_module():
    assert all(callable(globals().get(name)) for name in SCRIPTED_CASES)


def _fixture_theme(project: Path):
    return themes.load_themes(project / "publications" / "themes.yml", notebooks_root=project / "notebooks")[
        "fixture"
    ]


def test_an_unwritable_site_is_refused_before_building(project, monkeypatch):
    calls = []
    monkeypatch.setattr(release, "_fetch", lambda ids: calls.append("fetch"))
    site = project / "_site"
    site.write_text("a file where the site folder should be", encoding="utf-8")
    with corpus.unchanged(), pytest.raises(ReleaseError) as caught:
        build_edition(
            _fixture_theme(project), 2024, site_dir=site, build_dir=project / "build", progress=False
        )
    assert str(caught.value) == f"{site} is not writable (Not a directory): nothing was built"
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
    with corpus.unchanged(), pytest.raises(ReleaseError) as caught:
        build_edition(
            _fixture_theme(project), 2024, site_dir=site, build_dir=project / "build", progress=False
        )
    assert str(caught.value) == f"{site / 'index.html'} is not writable: nothing was built"


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
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        fakes["build"](project)
    expected = catalogue.load_catalogue()["geo_reference"].sha256
    assert str(caught.value) == (
        "departements_regions_ref.csv: whole file: checksum mismatch for source 'geo_reference': "
        f"catalogue sha256 {expected}, file sha256 {sha256_file(raw / 'departements_regions_ref.csv')}"
    )


def test_a_flip_that_keeps_size_and_modification_time_is_caught(project, raw_data, monkeypatch):
    """Bit rot, or a tool that restores the time: size and mtime are no proof, a new process hashes again."""
    raw = project / "raw"
    raw.mkdir()
    target = raw / "departements_regions_ref.csv"
    shutil.copy2(paths.RAW / "departements_regions_ref.csv", target)
    monkeypatch.setattr(paths, "RAW", raw)
    monkeypatch.setattr(paths, "CACHE", project / "cache")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    assert fakes["build"](project).status == "published"
    site_before = _published(project / "_site")
    stat = target.stat()
    data = bytearray(target.read_bytes())
    data[40] ^= 0x01
    os.chmod(target, 0o644)
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    # the same process, which hashed the file when it built: the change time moved, so it is read again
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        fakes["build"](project)
    expected = catalogue.load_catalogue()["geo_reference"].sha256
    actual = sha256_file(target)
    assert str(caught.value) == (
        "departements_regions_ref.csv: whole file: checksum mismatch for source 'geo_reference': "
        f"catalogue sha256 {expected}, file sha256 {actual}"
    )
    assert _published(project / "_site") == site_before


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


# ---------------------------------------------------------------------------------------------------------------
# Signals: SIGINT and SIGTERM stop a release and a batch promptly, every child process ended

STOPPABLE = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path
    from observatoire.core import stopping
    import fault_child

    root, stage, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def spawn_then_hang(jobs, **kwargs):
        # A kernel runs in a session of its own: a signal to this process group never reaches it.
        kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        (root / "kernel.pid").write_text(str(kernel.pid))
        Path(marker).write_text(stage)
        import time
        time.sleep(120)

    prestart = fault_child.release._prestart
    fault_child.install(root)
    fault_child.release._prestart = prestart  # real warm kernels starting in a thread, as in a real release
    fault_child.release._execute = spawn_then_hang
    try:
        with stopping.handle_signals():
            fault_child.build(root, force=True)
    except stopping.Stopped as exc:
        stopping.exit_stopped(exc)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_release_and_every_child_within_10_s(project, signum, monkeypatch):
    import psutil

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    script, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    assert fakes["build"](project).status == "published"
    before = _published(project / "_site")
    (project / "stoppable.py").write_text(STOPPABLE, encoding="utf-8")
    marker = project / "in-execute"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(paths.ROOT / "src"), str(project)])}
    child = subprocess.Popen(
        [sys.executable, str(project / "stoppable.py"), str(project), "execute", str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert child.poll() is None, child.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, "the child never reached execute"
        time.sleep(0.05)
    kernel = psutil.Process(int((project / "kernel.pid").read_text()))
    assert kernel.is_running()
    sent = time.monotonic()
    os.killpg(child.pid, signum)  # to the process group, as Ctrl-C does
    try:
        _, err = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail(f"not stopped: {child.communicate()[1].decode()[-3000:]}")
    assert time.monotonic() - sent < 10, f"stopped after {time.monotonic() - sent:.1f} s"
    assert child.returncode == 130, err.decode()
    assert err.decode().strip().splitlines()[-1] == f"error: stopped by {signal.Signals(signum).name}"
    assert not kernel.is_running() or kernel.status() == psutil.STATUS_ZOMBIE
    assert _published(project / "_site") == before
    assert fakes["build"](project).status == "unchanged"  # the edition lock was released


@pytest.mark.e2e
def _cmdline(process) -> list[str]:
    """A process's command line, or nothing when it has ended meanwhile."""
    import psutil

    try:
        return process.cmdline()
    except psutil.Error:
        return []


def test_sigint_stops_make_all_within_10_s_with_a_consistent_site(raw_data, tmp_path):
    """A real batch (three traite editions on two Dask workers), Ctrl-C once an edition is published."""
    import psutil

    site, build_dir = tmp_path / "_site", tmp_path / "build"
    env = {**os.environ, "OBSERVATOIRE_SITE": str(site), "OBSERVATOIRE_BUILD": str(build_dir)}
    command = [sys.executable, "-m", "observatoire", "all", "--theme", "traite", "--no-progress"]
    command += ["--year", "2018", "--year", "2019", "--year", "2020", "--year", "2021"]
    child = subprocess.Popen(
        command,
        cwd=paths.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not list(site.glob("traite/*/manifest.json")):
        assert child.poll() is None, child.communicate()[1].decode()[-3000:]
        assert time.monotonic() < deadline, "no edition was published in 10 minutes"
        time.sleep(0.2)
    # a worker stops its kernel before Quarto renders: wait for one at work (the next edition's) before the stop
    while True:
        descendants = psutil.Process(child.pid).children(recursive=True)
        if any("ipykernel" in " ".join(_cmdline(p)) for p in descendants):
            break
        assert child.poll() is None, child.communicate()[1].decode()[-3000:]
        assert time.monotonic() < deadline, "no kernel at work after the first edition"
        time.sleep(0.1)
    sent = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    stopped = time.monotonic() - sent
    assert stopped < 10, f"stopped after {stopped:.1f} s"
    assert child.returncode == 130, err.decode()[-3000:]
    assert "error: stopped by SIGINT" in err.decode()
    time.sleep(1.5)  # a kernel whose parent died exits within a second (ipykernel's parent poller)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], [" ".join(p.cmdline())[:120] for p in alive]
    published = sorted(p.parent.name for p in site.glob("traite/*/manifest.json"))
    assert published, "the edition published before the stop is still there"
    for year in published:  # each published edition is whole
        edition = site / "traite" / year
        assert release.mf.verify_outputs(edition, release.mf.read_manifest(edition)) == []
    assert not [p for p in site.rglob(".staging-*")]
    index = site / "index.html"
    listed = index.is_file() and all(f"traite/{y}/" in index.read_text(encoding="utf-8") for y in published)
    assert listed or not release.site_is_current(site)  # listed, or known to be stale
    # The next run over the same years leaves what was published as it is (a language of one of those years that
    # the stop left unbuilt is built) and brings the pages up to date. An edition's folder is its year, then
    # "-<lang>" for a language other than French ("2018-en").
    years = sorted({name.partition("-")[0] for name in published})
    again = subprocess.run(
        [sys.executable, "-m", "observatoire", "all", "--theme", "traite", "--no-progress"]
        + [arg for y in years for arg in ("--year", y)],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"unchanged: {len(published)}" in again.stdout
    assert release.site_is_current(site)
    text = index.read_text(encoding="utf-8")
    assert all(f"traite/{y}/" in text for y in published)
    changelog = json.loads((site / "changelog.json").read_text(encoding="utf-8"))
    assert all(f"traite/{y}" in json.dumps(changelog) for y in published)


# ---------------------------------------------------------------------------------------------------------------
# A full disk (a real one: a 1 MiB tmpfs mounted for the test) and concurrent readers


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs mounted on tmp_path/disk (root can mount one here and in CI); unmounted after."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs to fill: {mounted.stderr}"
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` until at most ``leave`` bytes are free."""
    with open(disk / "filler", "wb") as out:
        try:
            while True:
                free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
                if free <= leave:
                    break
                out.write(b"\0" * min(65536, max(4096, free - leave)))
                out.flush()
        except OSError:
            pass


def test_a_full_disk_while_publishing_gives_one_line_and_leaves_the_site_as_it_was(
    project, small_disk, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    monkeypatch.setattr(release, "_execute", _big_figures(fakes))  # 200 KB of outputs: fits once, not twice
    site = small_disk / "_site"
    theme = _fixture_theme(project)
    build_edition(theme, 2024, site_dir=site, build_dir=project / "build", progress=False)
    before = _published(site)
    _fill(small_disk, leave=50_000)
    with pytest.raises(OSError) as caught:
        build_edition(theme, 2024, site_dir=site, build_dir=project / "build", progress=False, force=True)
    message = str(caught.value)
    assert "\n" not in message and message.endswith(
        ": no space left on device: nothing was written (free some space and run again)"
    ), message
    assert message.startswith(f"{site / 'fixture' / '2024'}: ")
    (small_disk / "filler").unlink()
    assert _published(site) == before
    assert not [p for p in site.rglob(".*") if p.name not in release.SITE_FILES]  # no staging, no .tmp


def _big_figures(fakes):
    real = release._execute

    def execute(jobs, **kwargs):
        real(jobs, **kwargs)
        for job in jobs:
            figure = Path(job.parameters["output_dir"]) / "figures" / "big.svg"
            figure.write_bytes(b"<svg>" + b"0" * 200_000 + b"</svg>")
        return {}

    return execute


def test_a_full_disk_while_writing_the_changelog_keeps_the_old_one(tmp_path, small_disk):
    from observatoire.core import atomic

    target = small_disk / "changelog.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    _fill(small_disk)
    with pytest.raises(atomic.DiskFullError) as caught:
        atomic.write_text(target, json.dumps({"new": "x" * 100_000}))
    assert (
        str(caught.value)
        == f"{target}: no space left on device: nothing was written (free some space and run again)"
    )
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert sorted(p.name for p in small_disk.iterdir()) == ["changelog.json", "filler"]


def test_a_full_disk_while_fetching_gives_one_line_naming_the_file(small_disk, monkeypatch, capsys):
    monkeypatch.setattr(paths, "RAW", small_disk / "raw")
    (small_disk / "raw").mkdir()
    _fill(small_disk, leave=1000)  # the geography reference is 3.3 KB
    status = cli.main(["data", "geo_reference"])
    err = capsys.readouterr().err
    target = small_disk / "raw" / "departements_regions_ref.csv"
    assert status == 1
    assert (
        err
        == f"error: {target}: no space left on device: nothing was written (free some space and run again)\n"
    )
    assert list((small_disk / "raw").iterdir()) == []  # no partial file, no temporary file


def test_concurrent_readers_of_the_changelog_never_see_half_a_file(tmp_path):
    """Ten readers while the changelog is rewritten 200 times: every read is a whole file, old or new."""
    import threading

    from observatoire.core import atomic

    target = tmp_path / "changelog.json"
    versions = [json.dumps({"revision": n, "entries": ["x" * 2000] * 20}) + "\n" for n in range(200)]
    atomic.write_text(target, versions[0])
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(target.read_text(encoding="utf-8"))

    readers = [threading.Thread(target=read) for _ in range(10)]
    for reader in readers:
        reader.start()
    for text in versions[1:]:
        atomic.write_text(target, text)
    done.set()
    for reader in readers:
        reader.join()
    assert len(seen) > 100
    assert set(seen) <= set(versions)  # never empty, never half a file
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------------------------
# Configuration files that are not UTF-8 (a file re-saved as Latin-1 by an editor)

#: A file of the fixture theme, with b"caf\xe9" (Latin-1) written at its end -> the exact error of a release.
CONFIG_CASES: dict[str, str] = {
    "publications/fixture/index.qmd": "index.qmd: line 6, column 4: the file must be UTF-8 (byte 0xe9 is not)",
    "publications/fixture/_quarto.yml": "_quarto.yml: line 2, column 4: the file must be UTF-8 (byte 0xe9 is not)",
    "publications/fixture/_phrases.jinja": "_phrases.jinja: line 1, column 4: the file must be UTF-8 (byte 0xe9 is not)",
    "notebooks/fixture/good.ipynb": "good.ipynb: line 4, column 13: the file must be UTF-8 (byte 0xe9 is not)",
}


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_a_configuration_file_that_is_not_utf8_gives_one_line(project, name, monkeypatch):
    _, fakes = _fakes_module(project)
    fakes["install"](project, patch=monkeypatch.setattr)
    (project / "publications" / "fixture" / "_quarto.yml").write_text("lang: fr\n", encoding="utf-8")
    path = project / name
    if not path.exists():
        path.write_bytes(b"")
    if path.suffix == ".ipynb":  # inside a JSON string: the file stays JSON, the bytes are not UTF-8
        path.write_bytes(path.read_bytes().replace(b'"cell_type"', b'"cell_typ\xe9"', 1))
    else:
        path.write_bytes(path.read_bytes() + b"caf\xe9\n")
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        fakes["build"](project)
    assert str(caught.value) == CONFIG_CASES[name]
    assert not (project / "_site").exists()
