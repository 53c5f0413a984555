"""The profile of a clean build (``make bench PROFILE=1``): its readers of papermill's metadata and of the Quarto
calls, its clocks and its table, on small fixtures (the measurements themselves are not tested)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

# The release tests' one-notebook theme and their fakes of the stages that call other modules.
from test_release import fakes, project, snapshot  # noqa: F401, F811

from observatoire.publishing import manifest as mf
from observatoire.publishing import profile, release
from observatoire.publishing.rendering import RenderError
from observatoire.publishing.rendering import quarto as q


def _cell(source: str, duration: float | None, start: str | None = None, tags=(), kind: str = "code") -> dict:
    papermill = {} if duration is None else {"duration": duration}
    if start is not None:
        papermill["start_time"] = f"2026-12-06T09:00:{start}+00:00"
    return {"cell_type": kind, "source": source, "metadata": {"tags": list(tags), "papermill": papermill}}


@pytest.mark.parametrize(
    ("source", "tags", "phase"),
    [
        ("year = 2024\noutput_dir = ''", ["parameters"], "imports"),
        ("year = 2023\n", ["injected-parameters"], "imports"),
        ("from observatoire.data import datasets\nctx = EditionContext(theme, year)", [], "imports"),
        ("ns = published.citable(datasets.national_series(source), as_of)", [], "load"),
        ("table = pd.read_csv(path)", [], "load"),
        ("import pandas as pd\nfig = bar_chart(t)\nctx.save_figure(fig, 'x', t)", [], "figure export"),
        ("fig = chart(datasets.population('x'))\nctx.save_figure(fig, 'y', t)", [], "figure export"),
        ("recorded.add_facts(ctx.facts, analysis)\nctx.finish()", [], "compute"),
        ("%matplotlib inline\nimport numpy", [], "imports"),
        ("%time x = 1", [], "compute"),
    ],
)
def test_each_cell_falls_in_one_phase_by_the_documented_rule(source, tags, phase):
    assert profile.cell_phase({"cell_type": "code", "source": source, "metadata": {"tags": tags}}) == phase


def _notebook() -> dict:
    return {
        "metadata": {"papermill": {"duration": 10.0, "start_time": "2026-12-06T09:00:00.000000+00:00"}},
        "cells": [
            _cell("# Title", 0.25, "02.000000", kind="markdown"),
            _cell("year = 2024", 0.5, "02.500000", ["parameters"]),
            _cell(["from observatoire import x\n", "ctx = x.Context()"], 1.0, "03.000000"),
            _cell("ns = datasets.national_series('r3')", 2.0, "04.000000"),
            _cell("fig = f(ns)\nctx.save_figure(fig, 'a', ns)", 3.0, "06.000000"),
            _cell("ctx.finish()", 1.5, "09.000000"),
            _cell("print(1)", None),  # not run: counts nothing
        ],
    }


def test_a_notebook_s_seconds_are_split_from_papermill_s_metadata():
    phases = profile.notebook_phases(_notebook())
    assert phases == pytest.approx(
        {
            "total": 10.0,
            "kernel wait": 2.0,  # notebook start 09:00:00, first cell 09:00:02
            "cells": 8.0,  # code cells only
            "imports": 1.5,
            "load": 2.0,
            "compute": 1.5,
            "figure export": 3.0,
            "other": 0.0,  # 10 - 2 - 8: the markdown cell and papermill's writes
        }
    )


def test_a_notebook_without_papermill_metadata_counts_zero():
    phases = profile.notebook_phases({"cells": [_cell("x = 1", None)], "metadata": {}})
    assert phases == {k: 0.0 for k in ("total", "kernel wait", "cells", *profile.PHASES, "other")}


def test_the_executed_notebooks_of_a_folder_are_read_by_name(tmp_path):
    (tmp_path / "01_a.ipynb").write_text(json.dumps(_notebook()), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a notebook", encoding="utf-8")
    read = profile.notebooks_profile(tmp_path)
    assert list(read) == ["01_a.ipynb"]
    assert read["01_a.ipynb"]["figure export"] == pytest.approx(3.0)


# --------------------------------------------------------------------------------------------------------------
# Quarto calls: wall and CPU of each subprocess


def _script(folder: Path, body: str) -> Path:
    """A fake ``quarto``: answers ``--version``, else runs ``body`` (shell)."""
    path = folder / "quarto"
    path.write_text(
        f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo 1.10.18; exit 0; fi\n{body}\n', encoding="utf-8"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


BURN = (
    f"{sys.executable} -c 'import time; t = time.process_time()\nwhile time.process_time() - t < 0.3: pass'"
)


def test_a_quarto_call_is_recorded_with_its_wall_and_the_cpu_of_what_it_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATOIRE_QUARTO", str(_script(tmp_path, f"{BURN}\nsleep 0.3\necho rendered")))
    with q.recording() as calls:
        log, seconds = q.run_quarto(
            ["render", "--no-execute"], cwd=tmp_path, env={"PATH": "/bin:/usr/bin"}, what="x"
        )
    q.run_quarto(
        ["render"], cwd=tmp_path, env={"PATH": "/bin:/usr/bin"}, what="y"
    )  # after the with: not kept
    assert "rendered" in log
    assert len(calls) == 1
    call = calls[0]
    assert call.args == ("render", "--no-execute") and call.what == "x"
    assert call.wall == pytest.approx(seconds)
    assert call.wall >= 0.55  # 0.3 s of CPU, then 0.3 s asleep
    assert 0.25 <= call.cpu <= call.wall  # the grandchild's CPU (waited for by the shell) is counted


def test_a_failing_quarto_call_still_names_what_and_quarto_s_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATOIRE_QUARTO", str(_script(tmp_path, "echo 'ERROR: bad typst' >&2\nexit 1")))
    with q.recording() as calls, pytest.raises(RenderError, match="(?s)letter.qmd.*ERROR: bad typst"):
        q.run_quarto(["render"], cwd=tmp_path, env={"PATH": "/bin:/usr/bin"}, what="letter.qmd")
    assert [c.args for c in calls] == [("render",)]


def test_a_quarto_call_over_its_time_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATOIRE_QUARTO", str(_script(tmp_path, "exec sleep 30")))
    monkeypatch.setattr(q, "TIMEOUT", 0.5)
    with pytest.raises(RenderError, match="took more than 0.5 s"):
        q.run_quarto(["render"], cwd=tmp_path, env={"PATH": "/bin:/usr/bin"}, what="x")


def test_the_cpu_of_the_process_tree_counts_reaped_children():
    before = profile.tree_cpu()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; t = time.process_time()\nwhile time.process_time() - t < 0.3: pass",
        ],
        check=True,
    )
    assert profile.tree_cpu() - before >= 0.25


@pytest.mark.parametrize(
    ("cmdline", "tool"),
    [
        (["/q/bin/tools/x86_64/pandoc", "+RTS", "-K512m"], "pandoc"),
        (["/q/bin/tools/x86_64/dart-sass/src/dart", "sass.snapshot", "a.scss"], "dart-sass"),
        (["/q/bin/tools/x86_64/typst", "compile", "letter.typ"], "typst"),
        (["/usr/bin/python3", "/q/bin/tools/x86_64/typst", "compile", "letter.typ"], "typst"),
        (["/usr/bin/python3", "-c", "pass"], None),
        (["/q/bin/tools/x86_64/deno", "run", "quarto.ts"], None),
        ([], None),
    ],
)
def test_the_programs_quarto_runs_are_known_by_their_executable(cmdline, tool):
    assert profile.tool_of(cmdline) == tool


def test_a_quarto_call_is_split_into_the_tools_it_ran_and_quarto_itself():
    processes = [
        {"tool": "pandoc", "start": 99.0, "end": 99.5, "cpu": 0.5},  # before the call: another call's
        {"tool": "dart-sass", "start": 101.0, "end": 102.0, "cpu": 0.75},
        {"tool": "pandoc", "start": 102.5, "end": 103.0, "cpu": 0.5},
        {"tool": "pandoc", "start": 103.0, "end": 103.25, "cpu": 0.25},
        {"tool": "typst", "start": 104.0, "end": 106.0, "cpu": 1.5},
        {"tool": "typst", "start": 111.0, "end": 112.0, "cpu": 1.0},  # after the call
    ]
    split = profile.split_call({"started": 100.0, "wall": 10.0, "cpu": 6.0}, processes)
    assert list(split) == ["dart-sass", "pandoc", "typst", "quarto (Deno)"]
    assert split["pandoc"] == {"runs": 2, "wall": 0.75, "cpu": 0.75}
    assert split["dart-sass"] == {"runs": 1, "wall": 1.0, "cpu": 0.75}
    assert split["typst"] == {"runs": 1, "wall": 2.0, "cpu": 1.5}
    assert split["quarto (Deno)"] == {"runs": 1, "wall": 6.25, "cpu": 3.0}


def test_two_quarto_calls_at_once_each_get_the_tools_they_ran():
    """A letter built alone renders its notebook pages by a second call at the same time: its tools are the
    descendants of its own Quarto process, not whatever ran meanwhile."""
    processes = [
        {"tool": "pandoc", "start": 101.0, "end": 103.0, "cpu": 2.0, "ancestors": [7, 5, 1]},
        {"tool": "pandoc", "start": 101.5, "end": 102.5, "cpu": 1.0, "ancestors": [8, 5, 1]},
        {"tool": "typst", "start": 104.0, "end": 105.0, "cpu": 1.0, "ancestors": [7, 5, 1]},
    ]
    letter = profile.split_call({"started": 100.0, "wall": 8.0, "cpu": 6.0, "pid": 7}, processes)
    pages = profile.split_call({"started": 100.0, "wall": 6.0, "cpu": 3.0, "pid": 8}, processes)
    assert letter["pandoc"] == {"runs": 1, "wall": 2.0, "cpu": 2.0} and letter["typst"]["runs"] == 1
    assert pages["pandoc"] == {"runs": 1, "wall": 1.0, "cpu": 1.0} and "typst" not in pages
    assert pages["quarto (Deno)"] == {"runs": 1, "wall": 5.0, "cpu": 2.0}


def test_each_quarto_call_of_a_clean_build_is_named_by_its_step_and_arguments():
    steps = [
        {"step": "render: Quarto", "started": 100.0, "wall": 12.0},
        {"step": "_write_index", "started": 120.0, "wall": 9.0},
    ]
    assert (
        profile._step_of(101.0, steps) == "render: Quarto"
        and profile._step_of(121.0, steps) == "_write_index"
    )
    apart = [
        ("render", "--no-execute"),
        ("render", "--no-execute", "--to", "html"),
        ("render", ".", "--to", "html"),
    ]
    named = [
        profile.call_label(args, step, 3)
        for args, step in zip(apart, ["render: Quarto"] * 2 + ["_write_index"], strict=True)
    ]
    assert named == ["render: letter (HTML, PDF)", "render: notebook pages", "site pages"]
    assert (
        profile.call_label(("render", "--no-execute"), "render: Quarto", 2)
        == "render (letter, notebooks, PDF)"
    )


def test_the_sampler_sees_a_tool_s_process_with_its_wall_and_cpu(tmp_path):
    typst = tmp_path / "typst"  # a program named as a tool (Python under that name), burning 0.3 s of CPU
    typst.symlink_to(os.path.realpath(sys.executable))
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\ntime.sleep(0.2)"
    sampler = profile.ProcessSampler(every=0.02)
    # Started through a shell that sleeps first, then execs the tool: the process is a tool only from then on.
    subprocess.run(["sh", "-c", f'sleep 0.2; exec "{typst}" -c "$0"', burn], check=True)
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # not a tool: not kept
    seen = sampler.stop()
    assert [entry["tool"] for entry in seen] == ["typst"]
    assert 0.2 <= seen[0]["cpu"] <= 0.4
    assert 0.35 <= seen[0]["end"] - seen[0]["start"] <= 30  # a busy machine stretches the wall time


# --------------------------------------------------------------------------------------------------------------
# The clocks around the release's functions


def test_the_profile_times_the_publish_steps_and_restores_the_release(monkeypatch):
    def fake_publish(edition_site, site_dir, theme_id, year, replace):
        return f"published {theme_id} {year}"

    monkeypatch.setattr(release, "_publish", fake_publish)
    original_stage = release._stage
    recorder = profile.Recorder()
    timings: dict[str, float] = {}
    with profile.instrumented(recorder):
        assert release._publish is not fake_publish
        with release._stage(timings, "publish"):
            answer = release._publish(Path("a"), Path("b"), "annual", 2024, replace=False)
        with release._stage(timings, "data"):
            release._publish(Path("a"), Path("b"), "annual", 2023, replace=False)
    assert answer == "published annual 2024"  # what the release's function returns, unchanged
    assert release._publish is fake_publish and release._stage is original_stage
    assert [(s["step"], s["stage"]) for s in recorder.steps] == [
        ("_publish", "publish"),
        ("_publish", "data"),
    ]
    assert set(timings) == {"publish", "data"}  # the release's own wall clock still runs
    assert set(recorder.stages_cpu) == {"publish", "data"}
    assert all(s["wall"] >= 0 and s["cpu"] >= 0 for s in recorder.steps)


def test_a_failing_step_is_timed_and_its_error_passes(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(release, "_write_index", broken)
    recorder = profile.Recorder()
    with profile.instrumented(recorder), contextlib.suppress(OSError):
        release._write_index(Path("site"), [])
    assert [s["step"] for s in recorder.steps] == ["_write_index"]
    assert release._write_index is broken


# --------------------------------------------------------------------------------------------------------------
# The table


def _profile() -> dict:
    return {
        "status": "published",
        "stages": {
            "plan": {"wall": 0.5, "cpu": 0.25},
            "execute": {"wall": 12.0, "cpu": 20.0},
            "render": {"wall": 10.0, "cpu": 9.0},
            "publish": {"wall": 6.0, "cpu": 5.0},
        },
        "notebooks": {"01_a.ipynb": {**profile.notebook_phases(_notebook()), "wall": 11.0}},
        "quarto": [
            {
                "step": "render (letter, notebooks, PDF)",
                "args": ["render", "--no-execute"],
                "wall": 9.5,
                "cpu": 8.5,
            },
            {
                "step": "site pages",
                "args": ["render", ".", "--to", "html"],
                "wall": 5.5,
                "cpu": 4.5,
                "tools": {
                    "pandoc": {"runs": 7, "wall": 2.0, "cpu": 1.75},
                    "quarto (Deno)": {"runs": 1, "wall": 3.5, "cpu": 2.75},
                },
            },
        ],
        "publish": [
            {"step": "_publish", "stage": "publish", "wall": 0.25, "cpu": 0.125},
            {"step": "_write_index", "stage": "publish", "wall": 5.75, "cpu": 4.75},
        ],
    }


def _row(text: str, start: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.strip().startswith(start))
    return line.split()


def test_the_profile_table_shows_wall_and_cpu_of_each_place():
    text = profile.format_profile(_profile(), wall=30.0, cpu=40.0, load=(3.25, 2.5, 1.0))
    assert text.splitlines()[0] == "Profile of a clean build, load average 3.2 / 2.5 / 1.0 at its start"
    assert _row(text, "clean build, whole process")[-2:] == ["30.00", "40.00"]
    assert _row(text, "outside the stages")[-2:] == ["1.50", "5.75"]  # 30 - 28.5 wall, 40 - 34.25 CPU
    assert _row(text, "stage execute")[-2:] == ["12.00", "20.00"]
    assert _row(text, "01_a.ipynb")[-1] == "11.00"
    assert "papermill 10.00: kernel wait 2.00, cells 8.00, other 0.00" in text
    assert "cells: imports 1.50, load 2.00, compute 1.50, figure export 3.00" in text
    assert _row(text, "render (letter, notebooks, PDF): quarto render --no-execute")[-2:] == ["9.50", "8.50"]
    assert _row(text, "site pages: quarto render . --to html")[-2:] == ["5.50", "4.50"]
    assert _row(text, "pandoc (7 runs)")[-2:] == ["2.00", "1.75"]
    assert _row(text, "quarto (Deno)") == ["quarto", "(Deno)", "3.50", "2.75"]
    assert _row(text, "copy the edition into the site")[-2:] == ["0.25", "0.12"]
    assert _row(text, "site pages (Quarto call")[-2:] == ["5.75", "4.75"]
    numbers = [line for line in text.splitlines() if re.search(r"  \d+\.\d\d +\d+\.\d\d$", line)]
    assert len(numbers) == 12 and len({len(line) for line in numbers}) == 1  # the columns are aligned


# --------------------------------------------------------------------------------------------------------------
# A profiled build is the release's build


def test_a_profiled_build_writes_the_same_bytes_as_a_release(project, fakes, tmp_path):  # noqa: F811
    plain_site = tmp_path / "plain" / "_site"
    release.build_edition(
        project.theme, 2024, site_dir=plain_site, build_dir=tmp_path / "plain" / "build", progress=False
    )
    original = (release._stage, release._render, release._publish, release._write_index)
    measured = profile.profiled_build(project.theme, 2024, project.build, project.site, 1)
    assert snapshot(project.site) == snapshot(plain_site)  # every file of the site, the manifest included
    assert (release._stage, release._render, release._publish, release._write_index) == original
    assert measured["status"] == "published"
    assert list(measured["stages"]) == list(release.STAGES)
    assert all(entry["cpu"] is not None and entry["cpu"] >= 0 for entry in measured["stages"].values())
    assert [step["step"] for step in measured["publish"]] == [
        "_cleanup_leftovers",
        "_publish",
        "list_editions",
        "_write_index",
        "write_changelog",
    ]
    assert measured["quarto"] == []  # the fake renderer runs no Quarto
    assert measured["outputs"] == mf.output_checksums(plain_site / "fixture" / "2024")
