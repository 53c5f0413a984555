"""Where the seconds of a clean build go (``make bench PROFILE=1``): stages, notebooks, Quarto calls, publish steps.

Why it is built this way:

- The build profiled is the ordinary one (:func:`observatoire.publishing.release.build_edition`): the profile only
  wraps, for the time of one build, a few of the release's own stage functions with a clock
  (:func:`profiled_build`), so what it builds is what a release builds, byte for byte; nothing is added to the
  release's path when no profile runs.
- CPU time is that of the whole process tree (this process, the warm kernels, Quarto and what it runs), read
  from the live processes and the reaped ones (:func:`tree_cpu`): kernels are children that live across stages,
  so ``RUSAGE_CHILDREN`` alone would book their CPU at the moment they are stopped, not where it was spent.
- Per notebook, the cells' durations are papermill's (``metadata.papermill.duration`` of each executed cell).
  The notebooks carry no tags for phases, so a rule maps each code cell to one phase (:func:`cell_phase`):
  ``figure export`` when it calls ``save_figure``, else ``load`` when it reads data (``datasets.``, ``read_``),
  else ``imports`` when it is the parameters cell or has a top-level import, else ``compute``. A cell that both
  draws a figure and computes it counts as figure export: the split is by cell, not by line.
- Per Quarto call, wall and CPU come from :func:`observatoire.publishing.rendering.quarto.recording` (``os.wait4``
  of each ``quarto`` process). Quarto's ordinary log has no timings (its debug log has none either, and it runs
  pandoc with ``--trace``, which would change what is measured), so a call is split by the programs it runs:
  a thread samples this process's descendants every :data:`SAMPLE_EVERY` seconds (:class:`ProcessSampler`) and
  each pandoc, dart-sass and typst process is booked to the Quarto call it ran in (:func:`split_call`). What is
  left is Quarto's own work in Deno: its start, the theme's SCSS variables, the project scan, the HTML
  post-processing; these are not split. A sampled process's wall runs from its first sample to its last and
  its CPU is that of its last sample: each under by at most about two intervals.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from observatoire.publishing import corrections, release
from observatoire.publishing.rendering import quarto

#: The phases of a notebook, in the order shown.
PHASES = ("imports", "load", "compute", "figure export")
#: Seconds between two samples of the process tree (:class:`ProcessSampler`).
SAMPLE_EVERY = 0.05
#: The programs a Quarto call is split into: the name of a process's executable -> the name shown.
TOOLS = {"pandoc": "pandoc", "dart": "dart-sass", "sass": "dart-sass", "typst": "typst"}
#: The steps of the publish stage, as the profile names the release's functions it times.
PUBLISH_STEPS = {
    "_cleanup_leftovers": "clean leftovers of an interrupted release",
    "_publish": "copy the edition into the site, rename into place",
    "list_editions": "list the published editions",
    "_write_index": "site pages (Quarto call, search index, swap in)",
    "write_changelog": "changelog",
}


# --------------------------------------------------------------------------------------------------------------
# Notebooks: papermill's per-cell durations, grouped into phases


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_phase(cell: Mapping[str, Any]) -> str:
    """The phase of a code cell (see the module docstring for the rule): one of :data:`PHASES`."""
    source = _source(cell)
    tags = (cell.get("metadata") or {}).get("tags") or []
    if "save_figure(" in source:
        return "figure export"
    if "datasets." in source or "read_" in source:
        return "load"
    if "parameters" in tags or "injected-parameters" in tags:
        return "imports"
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython syntax (a magic): judged by its lines
        body = []
        if any(line.startswith(("import ", "from ")) for line in source.splitlines()):
            return "imports"
    if any(isinstance(node, ast.Import | ast.ImportFrom) for node in body):
        return "imports"
    return "compute"


def _moment(text: str | None) -> float | None:
    """Seconds since the epoch of papermill's ISO time (``2026-12-06T09:12:05.573584+00:00``), or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return None


def notebook_phases(notebook: Mapping[str, Any]) -> dict[str, float]:
    """Seconds of an executed notebook per phase, from papermill's metadata.

    Returns
    -------
    dict
        ``total`` (papermill's duration of the whole notebook), ``kernel wait`` (from its start to the first
        cell's: the kernel started or taken, its imports done), ``cells`` (the sum of the code cells'
        durations), one entry per :data:`PHASES`, and ``other`` (the rest: markdown cells, papermill writing
        the notebook between cells). A cell without a duration (not run) counts 0.
    """
    phases = dict.fromkeys(PHASES, 0.0)
    starts = []
    for cell in notebook.get("cells", []):
        record = (cell.get("metadata") or {}).get("papermill") or {}
        started = _moment(record.get("start_time"))
        if started is not None:
            starts.append(started)
        if cell.get("cell_type") == "code":
            phases[cell_phase(cell)] += float(record.get("duration") or 0.0)
    meta = (notebook.get("metadata") or {}).get("papermill") or {}
    total = float(meta.get("duration") or 0.0)
    began = _moment(meta.get("start_time"))
    wait = max(0.0, min(starts) - began) if starts and began is not None else 0.0
    cells = sum(phases.values())
    return {"total": total, "kernel wait": wait, "cells": cells, **phases, "other": total - wait - cells}


def notebooks_profile(folder: Path) -> dict[str, dict[str, float]]:
    """:func:`notebook_phases` of every executed notebook (``*.ipynb``) in ``folder``, by file name."""
    return {
        path.name: notebook_phases(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(Path(folder).glob("*.ipynb"))
    }


# --------------------------------------------------------------------------------------------------------------
# Clocks


def tree_cpu(process: psutil.Process | None = None) -> float:
    """CPU seconds (user + system) of a process and all its descendants, living and reaped.

    Each living process counts its own time and that of the children it has reaped (``children_*``); a reaped
    process is no longer in the tree, so nothing is counted twice.
    """
    root = process or psutil.Process()
    total = 0.0
    for member in [root, *root.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:  # ended meanwhile: its time is now its parent's children_*
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class Recorder:
    """Wall and CPU seconds of what :func:`profiled_build` times, in the order each ended.

    ``stage`` is the stage running (inside :meth:`stage_cpu`), recorded with each step.
    """

    def __init__(self) -> None:
        self.stages_cpu: dict[str, float] = {}
        self.steps: list[dict[str, Any]] = []
        self.stage: str | None = None

    @contextlib.contextmanager
    def stage_cpu(self, name: str) -> Iterator[None]:
        """Add the CPU of the process tree during the ``with`` to stage ``name``."""
        before, outer, self.stage = tree_cpu(), self.stage, name
        try:
            yield
        finally:
            self.stages_cpu[name] = self.stages_cpu.get(name, 0.0) + tree_cpu() - before
            self.stage = outer

    def timed(self, name: str, function: Callable) -> Callable:
        """``function`` with its wall and CPU seconds appended to :attr:`steps` under ``name`` at each call."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), tree_cpu()
            started = time.time()
            try:
                return function(*args, **kwargs)
            finally:
                self.steps.append(
                    {
                        "step": name,
                        "stage": self.stage,
                        "started": started,
                        "wall": time.perf_counter() - wall,
                        "cpu": tree_cpu() - cpu,
                    }
                )

        return wrapper


def tool_of(cmdline: list[str]) -> str | None:
    """The tool of :data:`TOOLS` a process runs (from its command line), or None.

    The executable's name, or the script's when the executable is an interpreter (the Quarto kit's ``typst`` is
    a Python script: ``python3 .../typst compile ...``).
    """
    if not cmdline:
        return None
    program = os.path.basename(cmdline[0])
    if program.startswith(("python", "sh", "bash")) and len(cmdline) > 1:
        program = os.path.basename(cmdline[1])
    return TOOLS.get(program)


class ProcessSampler:
    """Samples this process's descendants that run a tool of :data:`TOOLS`, until :meth:`stop`.

    :attr:`processes` holds one entry per process seen (``tool``, ``start`` the time of its first sample in
    seconds since the epoch, ``end`` that of its last, ``cpu`` its user + system seconds at that sample,
    ``ancestors`` the ids of its parent processes: the Quarto call that ran it is one of them).
    """

    def __init__(self, every: float = SAMPLE_EVERY) -> None:
        self.processes: dict[tuple[int, float], dict[str, Any]] = {}
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="profile-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        root = psutil.Process()
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                for child in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        self._sample(child)
            self._stop.wait(self._every)

    def _sample(self, process: psutil.Process) -> None:
        key = (process.pid, process.create_time())
        entry = self.processes.get(key)
        if entry is None:
            # Read again at each sample: a process may exec its tool later (``/usr/bin/env python3 .../typst``).
            tool = tool_of(process.cmdline())
            if tool is None:
                return
            # psutil's create_time counts from the boot time in whole seconds: first seen is closer.
            now = time.time()
            ancestors = [parent.pid for parent in process.parents()]
            entry = self.processes[key] = {
                "tool": tool,
                "start": now,
                "end": now,
                "cpu": 0.0,
                "ancestors": ancestors,
            }
        times = process.cpu_times()
        entry["cpu"], entry["end"] = times.user + times.system, time.time()

    def stop(self) -> list[dict[str, Any]]:
        """Stop sampling; the processes seen, in the order they started."""
        self._stop.set()
        self._thread.join()
        return sorted(self.processes.values(), key=lambda entry: entry["start"])


def split_call(call: Mapping[str, float], processes: list[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """The seconds of one Quarto call per tool it ran, and the rest (Quarto itself).

    Parameters
    ----------
    call : Mapping
        ``started`` (seconds since the epoch), ``wall`` and ``cpu`` of the call, and its ``pid`` when known.
    processes : list of Mapping
        :meth:`ProcessSampler.stop`: the tools' processes; the call's own are its descendants (when its ``pid``
        is known: two calls may run at once), else those started within the call.

    Returns
    -------
    dict
        Per tool (in the order first run): ``runs``, ``wall`` and ``cpu`` summed over its processes; then
        ``quarto (Deno)``: the call's wall and CPU minus the tools' (runs 1).
    """
    end = call["started"] + call["wall"]
    split: dict[str, dict[str, float]] = {}
    for process in processes:
        if call.get("pid"):
            if call["pid"] not in process.get("ancestors", ()):
                continue
        elif not call["started"] <= process["start"] <= end:
            continue
        entry = split.setdefault(process["tool"], {"runs": 0, "wall": 0.0, "cpu": 0.0})
        entry["runs"] += 1
        entry["wall"] += max(0.0, process["end"] - process["start"])
        entry["cpu"] += process["cpu"]
    split["quarto (Deno)"] = {
        "runs": 1,
        "wall": call["wall"] - sum(entry["wall"] for entry in split.values()),
        "cpu": call["cpu"] - sum(entry["cpu"] for entry in split.values()),
    }
    return split


@contextlib.contextmanager
def _replaced(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


@contextlib.contextmanager
def instrumented(recorder: Recorder) -> Iterator[None]:
    """While inside, the release's stages and publish steps report to ``recorder``; restored on exit.

    What is wrapped: ``release._stage`` (each stage's CPU beside the wall time the release records),
    ``release._render`` (the render stage's Quarto call, outside ``_stage``) and the publish steps of
    :data:`PUBLISH_STEPS`. Each wrapper calls the original and returns what it returns.
    """
    original_stage = release._stage

    @contextlib.contextmanager
    def stage(timings: dict[str, float], name: str) -> Iterator[None]:
        with recorder.stage_cpu(name), original_stage(timings, name):
            yield

    render = recorder.timed("render: Quarto", release._render)

    def render_with_cpu(*args: Any, **kwargs: Any) -> Any:
        with recorder.stage_cpu("render"):
            return render(*args, **kwargs)

    with contextlib.ExitStack() as stack:
        stack.enter_context(_replaced(release, "_stage", stage))
        stack.enter_context(_replaced(release, "_render", render_with_cpu))
        for name in ("_cleanup_leftovers", "_publish", "list_editions", "_write_index"):
            stack.enter_context(_replaced(release, name, recorder.timed(name, getattr(release, name))))
        stack.enter_context(
            _replaced(
                corrections, "write_changelog", recorder.timed("write_changelog", corrections.write_changelog)
            )
        )
        yield


def _step_of(started: float, steps: list[dict[str, Any]]) -> str:
    """The timed step a Quarto call started in (the render's or the site pages'), or ""."""
    for step in steps:
        if step.get("started", 0.0) <= started <= step.get("started", 0.0) + step["wall"]:
            return step["step"]
    return ""


def call_label(args: tuple[str, ...] | list[str], step: str, calls: int) -> str:
    """What a Quarto call of a clean build rendered, from the step it ran in and its arguments.

    The render step makes one call (the letter in HTML and PDF and its notebook pages) or, for a letter built
    alone, two at once: the letter, and the notebook pages (``--to html``); the site pages' step makes one.

    Examples
    --------
    >>> call_label(("render", "--no-execute", "--to", "html"), "render: Quarto", 3)
    'render: notebook pages'
    >>> call_label(("render", "--no-execute"), "render: Quarto", 2)
    'render (letter, notebooks, PDF)'
    """
    if step == "_write_index":
        return "site pages"
    if step != "render: Quarto":
        return "other"
    if calls <= 2:
        return "render (letter, notebooks, PDF)"
    return "render: notebook pages" if "--to" in args else "render: letter (HTML, PDF)"


def profiled_build(theme: str, year: int, build_dir: Path, site_dir: Path, workers: int) -> dict[str, Any]:
    """One clean build of an edition with the profile's clocks (run in the benchmark's child process).

    Returns
    -------
    dict
        ``stages`` (name -> wall, cpu), ``notebooks`` (name -> wall and :func:`notebook_phases`),
        ``quarto`` (one entry per call: step, args, wall, cpu), ``publish`` (the publish steps' wall and cpu,
        in order), ``status``, ``outputs`` (sha256 of every output of the edition, from its manifest).
    """
    recorder = Recorder()
    sampler = ProcessSampler()
    try:
        with instrumented(recorder), quarto.recording() as calls:
            result = release.build_edition(
                theme, year, build_dir=build_dir, site_dir=site_dir, workers=workers, progress=False
            )
    finally:
        processes = sampler.stop()
    notebooks = notebooks_profile(result.build_dir / "notebooks")
    for name, seconds in result.notebooks.items():
        notebooks.setdefault(name, {})["wall"] = seconds
    quarto_calls = []
    for call in calls:
        measured = {"started": call.started, "wall": call.wall, "cpu": call.cpu, "pid": call.pid}
        quarto_calls.append(
            {
                "step": call_label(call.args, _step_of(call.started, recorder.steps), len(calls)),
                "args": list(call.args),
                **measured,
                "tools": split_call(measured, processes),
            }
        )
    return {
        "status": result.status,
        "stages": {
            name: {"wall": seconds, "cpu": recorder.stages_cpu.get(name)}
            for name, seconds in result.timings.items()
        },
        "notebooks": notebooks,
        "quarto": quarto_calls,
        "publish": [step for step in recorder.steps if step["stage"] == "publish"],
        "outputs": (result.manifest or {}).get("outputs", {}),
    }


# --------------------------------------------------------------------------------------------------------------
# The table


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_profile(profile: Mapping[str, Any], *, wall: float, cpu: float, load: tuple[float, ...]) -> str:
    """The profile as a plain-text table: wall and CPU seconds per stage, notebook, Quarto call, publish step.

    ``wall`` and ``cpu`` are those of the whole child process (Python start and imports included); ``load`` the
    machine's load average (1, 5, 15 min) taken when the build started.
    """
    rows: list[tuple[str, str, str]] = []
    stages = profile["stages"]
    in_stages = sum(entry["wall"] for entry in stages.values())
    rows.append(("clean build, whole process", _seconds(wall), _seconds(cpu)))
    cpu_in_stages = sum(entry.get("cpu") or 0.0 for entry in stages.values())
    rows.append(
        (
            "  outside the stages (Python start, imports, kernels stopped)",
            _seconds(wall - in_stages),
            _seconds(cpu - cpu_in_stages),
        )
    )
    for name, entry in stages.items():
        rows.append((f"  stage {name}", _seconds(entry["wall"]), _seconds(entry.get("cpu"))))
    rows.append(("notebooks (they overlap on the workers; CPU: see stage execute)", "", ""))
    for name, entry in profile["notebooks"].items():
        rows.append((f"  {name}", _seconds(entry.get("wall")), ""))
        rows.append(
            (
                f"    papermill {entry.get('total', 0.0):.2f}: kernel wait {entry.get('kernel wait', 0.0):.2f}, "
                f"cells {entry.get('cells', 0.0):.2f}, other {entry.get('other', 0.0):.2f}",
                "",
                "",
            )
        )
        shown = ", ".join(f"{phase} {entry.get(phase, 0.0):.2f}" for phase in PHASES)
        rows.append((f"    cells: {shown}", "", ""))
    rows.append(("Quarto calls, each split by the programs it ran", "", ""))
    for call in profile["quarto"]:
        rows.append(
            (
                f"  {call['step']}: quarto {' '.join(call['args'])}",
                _seconds(call["wall"]),
                _seconds(call["cpu"]),
            )
        )
        for tool, entry in (call.get("tools") or {}).items():
            runs = f" ({entry['runs']} runs)" if entry["runs"] > 1 else ""
            rows.append((f"    {tool}{runs}", _seconds(entry["wall"]), _seconds(entry["cpu"])))
    rows.append(("publish steps", "", ""))
    for step in profile["publish"]:
        label = PUBLISH_STEPS.get(step["step"], step["step"])
        rows.append((f"  {label}", _seconds(step["wall"]), _seconds(step["cpu"])))
    width = max(len(row[0]) for row in rows)
    header = f"{'where (seconds)':<{width}}  {'wall':>7}  {'CPU':>7}"
    lines = [
        f"Profile of a clean build, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at its start",
        header,
        "-" * len(header),
    ]
    lines += [f"{what:<{width}}  {w:>7}  {c:>7}".rstrip() for what, w, c in rows]
    return "\n".join(lines)
