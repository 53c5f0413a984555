"""The benchmark (``make bench``): one run prints every figure of the speed targets, each with its target beside.

Not a test: the numbers depend on the machine and on what else runs on it (the load average is printed with
them). What it measures, each in a fresh child process so that Python's start and every import are counted as a
user typing the command would pay them:

1. a clean build of the 2024 annual letter in French and English, as ``make letter`` builds it (empty build and
   site folders; the parse cache kept, as on a working machine); then a clean build of the French letter alone,
   with the time of each stage, and the same build again with nothing changed;
2. the same letter's notebooks run by one ``papermill`` command per notebook, one after the other (execution
   only, no rendering): the ratio of wall time and of CPU time against the clean build;
3. ``make all`` for every annual and thematic edition (:mod:`observatoire.publishing.batch` on a local Dask cluster of two
   workers) from empty, then again with nothing changed;
4. the 119 territorial letters of one year (``make territoires YEAR=...``), from empty and with nothing changed;
5. the peak memory of each run: the resident memory of the whole process tree (build, Dask workers, kernels)
   sampled every 0.1 s; the target is the batches' (``make all``, ``make territoires``).

CPU time is that of the child and every descendant it waited for (``RUSAGE_CHILDREN``): kernels and Dask
workers included. The builds go into a temporary folder; ``build/`` and ``_site/`` are not touched.

6. the profile: one more clean build of the French letter, with the clocks of
   :mod:`observatoire.publishing.profile`, and where its seconds go (stages, notebooks, Quarto calls, publish
   steps), printed after the table of figures (``--no-profile`` skips it).

``--profile`` (``make bench PROFILE=1``) runs only that profiled build (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from observatoire.core import paths
from observatoire.data import themes
from observatoire.publishing import kernel_env, plan, release

#: The targets of issue 22 (a quiet 2-core machine).
TARGETS = {
    "letter": 20.0,
    "clean": 15.0,
    "no-change": 0.5,
    "cli_wall_ratio": 2.0,
    "cli_cpu_ratio": 1.5,
    "all": 240.0,
    "all-no-change": 5.0,
    "territoires": 300.0,
    "territoires-no-change": 5.0,
    "peak_mb": 2048.0,
}


class _PeakMemory:
    """Sample the resident memory of a process and its descendants until stopped; keep the largest sum."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self._root = psutil.Process(pid)
        self._every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                for process in [self._root, *self._root.children(recursive=True)]:
                    try:
                        total += process.memory_info().rss
                    except psutil.Error:
                        continue
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self._every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def _measure(command: list[str], env: dict[str, str]) -> dict:
    """Run ``command``; return its wall time, CPU time (with descendants), peak memory and last stdout line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = _PeakMemory(process.pid)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    peak = memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in (0, 1):
        sys.stderr.write(err[-4000:])
        raise RuntimeError(f"benchmark step failed (exit {process.returncode}): {' '.join(command[:6])} ...")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = out.strip().splitlines()
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "last": lines[-1] if lines else ""}


def _child_build(theme: str, year: int, build_dir: Path, site_dir: Path, workers: int) -> dict:
    """One release in this (child) process; what the parent prints."""
    result = release.build_edition(
        theme, year, build_dir=build_dir, site_dir=site_dir, workers=workers, progress=False
    )
    return {
        "status": result.status,
        "timings": result.timings,
        "notebooks": result.notebooks,
        "renderer": (result.manifest.get("renderer") or {}).get("name"),
        "render_formats": getattr(result, "render_timings", {}),
    }


def _child_letter(theme: str, year: int, build_dir: Path, site_dir: Path, workers: int) -> dict:
    """The edition in every language, as ``make letter`` builds it, in this (child) process."""
    declared = themes.get_theme(theme)
    results = release.build_languages(
        declared, year, build_dir=build_dir, site_dir=site_dir, workers=workers, progress=False
    )
    built = list(zip(declared.languages, results, strict=True))
    return {
        "status": ", ".join(f"{lang} {result.status}" for lang, result in built),
        "timings": {f"{lang} {stage}": s for lang, result in built for stage, s in result.timings.items()},
    }


def _scope_requests(scope: str):
    """The editions of a scope: ``editions`` (every annual and thematic edition) or ``territoire:<year>``."""
    if scope == "editions":
        ids = [theme.id for theme in themes.list_themes() if theme.id != "territoire"]
        return _batch_module().requests(ids)
    year = int(scope.split(":", 1)[1])
    return [request for request in _batch_module().requests(["territoire"]) if request.year == year]


def _child_all(build_dir: Path, site_dir: Path, workers: int, scope: str = "editions") -> dict:
    """``make all`` (or the territorial batch of one year) in this (child) process; the counts of the summary."""
    outcomes = _batch_module().run_batch(
        workers=workers,
        progress=False,
        site_dir=site_dir,
        build_dir=build_dir,
        edition_requests=_scope_requests(scope),
    )
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    failed = [f"{o.label}: {o.reason}" for o in outcomes if o.status == "failed"]
    letters = {o.label: {"total": o.seconds, **o.render_timings} for o in outcomes if o.render_timings}
    return {"counts": counts, "failed": failed[:5], "letters": letters}


def _environment(build_dir: Path, site_dir: Path) -> dict[str, str]:
    return dict(
        os.environ, OBSERVATOIRE_BUILD=str(build_dir), OBSERVATOIRE_SITE=str(site_dir), PYTHONHASHSEED="0"
    )


def _build(
    theme: str, year: int, build_dir: Path, site_dir: Path, workers: int, child: str = "--child-build"
) -> dict:
    command = [
        sys.executable,
        "-m",
        "observatoire.publishing.bench",
        child,
        theme,
        str(year),
        str(build_dir),
    ]
    command += [str(site_dir), str(workers)]
    run = _measure(command, _environment(build_dir, site_dir))
    run.update(json.loads(run.pop("last")))
    return run


def _batch_module():
    """:mod:`observatoire.publishing.batch`, imported only for the batches (Dask's client code, 0.2 s), which the
    measured no-change rebuild of one letter must not pay."""
    from observatoire.publishing import batch  # lazy: see the docstring

    return batch


def _profile_module():
    """:mod:`observatoire.publishing.profile`, imported only to profile: it loads the renderer and pandas (0.5 s),
    which the measured no-change rebuild must not pay."""
    from observatoire.publishing import profile  # lazy: see the docstring

    return profile


def _profile(theme: str, year: int, build_dir: Path, site_dir: Path, workers: int) -> dict:
    command = [sys.executable, "-m", "observatoire.publishing.bench", "--child-profile", theme, str(year)]
    command += [str(build_dir), str(site_dir), str(workers)]
    run = _measure(command, _environment(build_dir, site_dir))
    run.update(json.loads(run.pop("last")))
    return run


def main_profile(theme: str = "annual", year: int = 2024, workers: int = 2, keep: bool = False) -> int:
    """Profile one clean build of the edition (see :mod:`observatoire.publishing.profile`) and print its table.

    Returns
    -------
    int
        0.
    """
    tmp = Path(tempfile.mkdtemp(prefix="observatoire-profile-"))
    load = os.getloadavg()
    try:
        run = _profile(theme, year, tmp / "build", tmp / "site", workers)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{theme} {year}: {run['status']} on {os.cpu_count()} cores; folders in {tmp}")
    print(_profile_module().format_profile(run, wall=run["wall"], cpu=run["cpu"], load=load))
    return 0


def _make_all(build_dir: Path, site_dir: Path, workers: int, scope: str = "editions") -> dict:
    command = [
        sys.executable,
        "-m",
        "observatoire.publishing.bench",
        "--child-all",
        str(build_dir),
        str(site_dir),
    ]
    command += [str(workers), scope]
    run = _measure(command, _environment(build_dir, site_dir))
    run.update(json.loads(run.pop("last")))
    return run


def _papermill_cli(theme: str, year: int, folder: Path) -> dict:
    """The edition's notebooks, one ``papermill`` command each, one after the other (execution only), drawing
    the figures the release's French build draws (the same work)."""
    edition = plan.resolve_plan(theme, year, publish=False, build_dir=folder / "build")
    drawn = release.drawn_languages(edition, every_language=False)
    env = {**kernel_env.kernel_environment(), paths.DRAW_FIGURES_VARIABLE: ",".join(drawn)}
    total = {"wall": 0.0, "cpu": 0.0, "peak_mb": 0.0}
    for job in edition.jobs:
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "papermill",
            str(job.input),
            str(job.output),
            "-k",
            edition.kernel_name,
        ]
        command += [
            "--cwd",
            str(Path(job.input).parent),
            "-y",
            json.dumps(job.parameters),
            "--no-progress-bar",
        ]
        run = _measure(command, env)
        total["wall"] += run["wall"]
        total["cpu"] += run["cpu"]
        total["peak_mb"] = max(total["peak_mb"], run["peak_mb"])
    return total


def _row(
    what: str, measured: str, target: str = "", verdict: bool | None = None
) -> tuple[str, str, str, str]:
    mark = "" if verdict is None else ("ok" if verdict else "MISSED")
    return (what, measured, target, mark)


def _batch_rows(key: str, built_label: str, again_label: str, built: dict, again: dict) -> list[tuple]:
    """The two rows of a batch: from empty (with the counts of its summary), then with nothing changed."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(built["counts"].items()))
    return [
        _row(
            f"{built_label}, wall ({counts})",
            f"{built['wall']:.0f} s (CPU {built['cpu']:.0f} s)",
            f"<= {TARGETS[key]:.0f} s",
            built["wall"] <= TARGETS[key] and not built["counts"].get("failed"),
        ),
        _row(
            again_label,
            f"{again['wall']:.1f} s",
            f"<= {TARGETS[key + '-no-change']:.0f} s",
            again["wall"] <= TARGETS[key + "-no-change"],
        ),
    ]


def format_report(results: dict) -> str:
    """The benchmark's table: each figure with its target and whether it is met."""
    clean, again, cli = results["clean"], results["no-change"], results["cli"]
    rows = [_row("what", "measured", "target", None), _row("", "", "", None)]
    letter = results.get("letter")
    if letter:
        rows.append(
            _row(
                f"annual {results['year']} clean build, French and English (make letter), wall",
                f"{letter['wall']:.1f} s",
                f"<= {TARGETS['letter']:.0f} s",
                letter["wall"] <= TARGETS["letter"],
            )
        )
        for stage, seconds in letter["timings"].items():
            if seconds >= 0.05:
                rows.append(_row(f"  {stage}", f"{seconds:.2f} s"))
        rows.append(_row("  CPU (build, kernels, renderer)", f"{letter['cpu']:.1f} s"))
        rows.append(_row("  peak memory, whole process tree", f"{letter['peak_mb']:.0f} MB"))
    rows.append(
        _row(
            f"annual {results['year']} clean build, French only, wall ({clean['renderer']})",
            f"{clean['wall']:.1f} s",
            f"<= {TARGETS['clean']:.0f} s",
            clean["wall"] <= TARGETS["clean"],
        )
    )
    rows.append(_row("  Python start and imports", f"{clean['wall'] - sum(clean['timings'].values()):.2f} s"))
    for stage, seconds in clean["timings"].items():
        rows.append(_row(f"  stage {stage}", f"{seconds:.2f} s"))
    rows.append(_row("  CPU (build, kernels, renderer)", f"{clean['cpu']:.1f} s"))
    rows.append(_row("  peak memory, whole process tree", f"{clean['peak_mb']:.0f} MB"))
    rows.append(
        _row(
            "no-change rebuild, wall (Python start included)",
            f"{again['wall']:.2f} s ({again['status']})",
            f"<= {TARGETS['no-change']} s",
            again["wall"] <= TARGETS["no-change"] and again["status"] == "unchanged",
        )
    )
    rows.append(
        _row("one papermill CLI call per notebook: wall / CPU", f"{cli['wall']:.1f} s / {cli['cpu']:.1f} s")
    )
    wall_ratio, cpu_ratio = cli["wall"] / clean["wall"], cli["cpu"] / clean["cpu"]
    rows.append(
        _row(
            "  CLI / clean build, wall",
            f"{wall_ratio:.2f}x",
            f">= {TARGETS['cli_wall_ratio']:g}x",
            wall_ratio >= TARGETS["cli_wall_ratio"],
        )
    )
    rows.append(
        _row(
            "  CLI / clean build, CPU",
            f"{cpu_ratio:.2f}x",
            f">= {TARGETS['cli_cpu_ratio']:g}x",
            cpu_ratio >= TARGETS["cli_cpu_ratio"],
        )
    )
    execute = clean["timings"].get("execute")
    if execute:  # the same work on both sides: the CLI only executes, the build also renders and publishes
        rows.append(_row("  CLI / the build's execute stage alone, wall", f"{cli['wall'] / execute:.2f}x"))
    peaks = []
    batches = (
        ("all", "make all from empty", "make all with nothing changed, wall"),
        (
            "territoires",
            f"{results.get('territoires', {}).get('n')} territorial letters of "
            f"{results.get('territorial_year')} from empty",
            "  the same, nothing changed, wall",
        ),
    )
    for key, built_label, again_label in batches:
        if key in results:
            rows += _batch_rows(key, built_label, again_label, results[key], results[f"{key}-no-change"])
            peaks += [results[key]["peak_mb"], results[f"{key}-no-change"]["peak_mb"]]
    if peaks:
        rows.append(
            _row(
                "peak memory of the batches, whole process tree",
                f"{max(peaks):.0f} MB",
                f"<= {TARGETS['peak_mb']:.0f} MB",
                max(peaks) <= TARGETS["peak_mb"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    lines[1] = "-" * len(lines[0])
    for key in ("all", "territoires"):
        for failure in results.get(key, {}).get("failed", []):
            lines.append(f"  failed: {failure}")
    lines += _per_letter(results.get("all", {}).get("letters", {}))
    return "\n".join(lines)


def _per_letter(letters: dict[str, dict[str, float]]) -> list[str]:
    """Lines of the Quarto render time per format of each letter built by ``make all`` (build time beside)."""
    if not letters:
        return []
    formats = sorted({fmt for timings in letters.values() for fmt in timings if fmt != "total"})
    lines = ["", "render time per letter (make all from empty): " + " / ".join(formats) + " / whole build"]
    width = max(len(label) for label in letters)
    for label, timings in sorted(letters.items()):
        shown = " / ".join(f"{timings[fmt]:.1f} s" if fmt in timings else "-" for fmt in formats)
        lines.append(f"  {label:<{width}}  {shown} / {timings['total']:.0f} s")
    return lines


def main(
    theme: str = "annual",
    year: int = 2024,
    workers: int = 2,
    keep: bool = False,
    with_all: bool = True,
    territorial_year: int | None = 2024,
    with_profile: bool = True,
) -> int:
    """Run every measurement and print the table, then the profile (see the module docstring).

    Returns
    -------
    int
        0 (the benchmark reports; it does not fail on a missed target).
    """
    tmp = Path(tempfile.mkdtemp(prefix="observatoire-bench-"))
    load = os.getloadavg()
    print(
        f"Benchmark on {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(a shared machine slows every figure); folders in {tmp}",
        flush=True,
    )
    results: dict = {"year": year}
    try:
        results["letter"] = _build(theme, year, tmp / "l-build", tmp / "l-site", workers, "--child-letter")
        print(f"  clean build in every language: {results['letter']['wall']:.1f} s", flush=True)
        build, site = tmp / "build", tmp / "site"
        results["clean"] = _build(theme, year, build, site, workers)
        print(f"  clean build: {results['clean']['status']} in {results['clean']['wall']:.1f} s", flush=True)
        formats = results["clean"].get("render_formats") or {}
        shown = ", ".join(f"{fmt} {s:.1f} s" for fmt, s in formats.items())
        print(f"  render (Quarto) per format: {shown or 'not measured'}", flush=True)
        results["no-change"] = _build(theme, year, build, site, workers)
        print(f"  no-change rebuild: {results['no-change']['wall']:.2f} s", flush=True)
        results["cli"] = _papermill_cli(theme, year, tmp / "cli")
        print(f"  papermill CLI per notebook: {results['cli']['wall']:.1f} s", flush=True)
        if with_all:
            results["all"] = _make_all(tmp / "all-build", tmp / "all-site", workers)
            print(f"  make all from empty: {results['all']['wall']:.0f} s", flush=True)
            results["all-no-change"] = _make_all(tmp / "all-build", tmp / "all-site", workers)
            print(f"  make all, nothing changed: {results['all-no-change']['wall']:.1f} s", flush=True)
        if territorial_year:
            scope = f"territoire:{territorial_year}"
            results["territorial_year"] = territorial_year
            results["territoires"] = _make_all(tmp / "t-build", tmp / "t-site", workers, scope)
            results["territoires"]["n"] = sum(results["territoires"]["counts"].values())
            print(f"  territorial letters from empty: {results['territoires']['wall']:.0f} s", flush=True)
            results["territoires-no-change"] = _make_all(tmp / "t-build", tmp / "t-site", workers, scope)
            print(
                f"  territorial, nothing changed: {results['territoires-no-change']['wall']:.1f} s",
                flush=True,
            )
        if with_profile:
            profile_load = os.getloadavg()
            profiled = _profile(theme, year, tmp / "p-build", tmp / "p-site", workers)
            print(f"  profiled clean build: {profiled['wall']:.1f} s", flush=True)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(format_report(results))
    if with_profile:
        print()
        print(f"Where the seconds of a clean build go ({theme} {year}, French; {profiled['status']}):")
        print(
            _profile_module().format_profile(
                profiled, wall=profiled["wall"], cpu=profiled["cpu"], load=profile_load
            )
        )
    return 0


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m observatoire.publishing.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--child-build", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--child-letter", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--child-all", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile", action="store_true", help="only the clean build, with where its time goes"
    )
    parser.add_argument("--theme", default="annual")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary build and site folders")
    parser.add_argument("--no-all", action="store_true", help="skip the two `make all` runs (minutes)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled build printed last")
    parser.add_argument(
        "--territorial-year",
        type=int,
        default=2024,
        help="year of the 119 territorial letters timed (0: skip)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse()
    if args.child_build:
        theme, year, build, site, workers = args.child_build
        print(json.dumps(_child_build(theme, int(year), Path(build), Path(site), int(workers))))
        raise SystemExit(0)
    if args.child_letter:
        theme, year, build, site, workers = args.child_letter
        print(json.dumps(_child_letter(theme, int(year), Path(build), Path(site), int(workers))))
        raise SystemExit(0)
    if args.child_profile:
        theme, year, build, site, workers = args.child_profile
        print(
            json.dumps(
                _profile_module().profiled_build(theme, int(year), Path(build), Path(site), int(workers))
            )
        )
        raise SystemExit(0)
    if args.profile:
        raise SystemExit(main_profile(args.theme, args.year, args.workers, args.keep))
    if args.child_all:
        build, site, workers, scope = args.child_all
        print(json.dumps(_child_all(Path(build), Path(site), int(workers), scope)))
        raise SystemExit(0)
    raise SystemExit(
        main(
            args.theme,
            args.year,
            args.workers,
            args.keep,
            not args.no_all,
            args.territorial_year or None,
            not args.no_profile,
        )
    )
