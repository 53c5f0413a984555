"""Time a clean build and a no-change rebuild of one edition, and their peak memory (``make bench``).

Not a test: numbers depend on the machine. It answers "did my change make the release slower or heavier?"
against the project's targets (clean build <= 30 s, no-change rebuild <= 3 s including Python start, peak
memory <= 1.5 GB on the 2-core build machine).

Each build runs in a fresh ``python -m observatoire.bench --child`` process, so the wall time includes Python's
start and every import, as a user typing ``make release`` would see it, and the memory figures are that build's
alone. Memory comes from ``resource.getrusage``: ``RUSAGE_SELF`` for the build process, ``RUSAGE_CHILDREN`` for
the notebook kernels (child processes). ``ru_maxrss`` of children is the largest single child, not a sum, so
the peak of the whole build is estimated as main + workers x largest kernel: an upper bound, since the two
kernels do not necessarily peak at the same moment.

The builds go into a temporary build folder and site folder, so the user's ``build/`` and ``_site/`` are not
touched. Raw files are read from (and, when missing, fetched into) the usual ``data/raw/``.

The clean build keeps the parse cache (``.cache/tables/``: the validated table of each raw file, keyed by the
file's sha256 and the loader code), as a rebuild on a working machine does; a third build with an empty cache
shows what a fresh machine pays once (every raw file parsed and validated again).
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
import time
from pathlib import Path

TARGETS = {"clean": 30.0, "no-change": 3.0}
PEAK_TARGET_MB = 1536.0


def _child(theme: str, year: int, build_dir: Path, site_dir: Path, workers: int) -> dict:
    """Run one build in this process and return what the parent prints (called in the child process)."""
    started = time.perf_counter()
    from observatoire import release

    imported = time.perf_counter() - started
    result = release.build_edition(
        theme, year, build_dir=build_dir, site_dir=site_dir, workers=workers, progress=False
    )
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "status": result.status,
        "import": imported,
        "timings": result.timings,
        "notebooks": result.notebooks,
        "maxrss_self_mb": self_usage.ru_maxrss / 1024,
        "maxrss_children_mb": children.ru_maxrss / 1024,
        "renderer": (result.manifest.get("renderer") or {}).get("name"),
        "render_formats": getattr(result, "render_timings", {}),
    }


def _run(
    theme: str, year: int, build_dir: Path, site_dir: Path, workers: int, cache_dir: Path | None = None
) -> dict:
    """Run one build in a child process; add its wall time (Python start included).

    ``cache_dir``: a parse cache folder for this build (an empty one measures a build on a fresh machine).
    """
    env = dict(
        os.environ, OBSERVATOIRE_BUILD=str(build_dir), OBSERVATOIRE_SITE=str(site_dir), PYTHONHASHSEED="0"
    )
    if cache_dir is not None:
        env["OBSERVATOIRE_CACHE"] = str(cache_dir)
    command = [
        sys.executable,
        "-m",
        "observatoire.bench",
        "--child",
        theme,
        str(year),
        str(build_dir),
        str(site_dir),
        str(workers),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"benchmark build failed (exit {done.returncode}); its log is above")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["wall"] = wall
    return data


def format_report(clean: dict, unchanged: dict, workers: int) -> str:
    """The benchmark's table: seconds per stage, wall time and peak memory against the targets."""
    stages = list(dict.fromkeys([*clean["timings"], *unchanged["timings"]]))

    def cell(run: dict, stage: str) -> str:
        return f"{run['timings'][stage]:.2f}" if stage in run["timings"] else "-"

    rows = [("", "clean", "no-change", "target")]
    rows.append(
        (
            "python start + imports",
            *[f"{r['wall'] - sum(r['timings'].values()):.2f}" for r in (clean, unchanged)],
            "",
        )
    )
    for stage in stages:
        rows.append((f"  stage {stage}", cell(clean, stage), cell(unchanged, stage), ""))
        if stage == "execute":  # each notebook's own time (they overlap with 2 workers)
            rows += [
                (f"    {name}", f"{sec:.2f}", "-", "") for name, sec in sorted(clean["notebooks"].items())
            ]
    rows.append(
        (
            "wall time (s)",
            f"{clean['wall']:.2f}",
            f"{unchanged['wall']:.2f}",
            f"<= {TARGETS['clean']:.0f} / <= {TARGETS['no-change']:.0f}",
        )
    )
    rows.append(
        (
            "peak RSS build process (MB)",
            f"{clean['maxrss_self_mb']:.0f}",
            f"{unchanged['maxrss_self_mb']:.0f}",
            "",
        )
    )
    rows.append(
        (
            "peak RSS largest kernel (MB)",
            f"{clean['maxrss_children_mb']:.0f}",
            f"{unchanged['maxrss_children_mb']:.0f}",
            "",
        )
    )
    estimates = [r["maxrss_self_mb"] + workers * r["maxrss_children_mb"] for r in (clean, unchanged)]
    rows.append(
        (
            f"peak estimate, main + {workers} kernels (MB)",
            *[f"{e:.0f}" for e in estimates],
            f"<= {PEAK_TARGET_MB:.0f}",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)])
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    verdicts = []
    for name, run in (("clean", clean), ("no-change", unchanged)):
        ok = run["wall"] <= TARGETS[name]
        verdicts.append(f"{name}: {run['wall']:.1f} s {'ok' if ok else 'OVER TARGET'}")
    peak = max(estimates)
    verdicts.append(f"peak: {peak:.0f} MB {'ok' if peak <= PEAK_TARGET_MB else 'OVER TARGET'}")
    if unchanged["status"] != "unchanged":
        verdicts.append(f"WARNING: the second build was {unchanged['status']!r}, not a cache hit")
    return "\n".join(lines + ["", "; ".join(verdicts)])


def main(theme: str = "annual", year: int = 2024, workers: int = 2, keep: bool = False) -> int:
    """Build ``theme`` ``year`` from a clean build folder, then again with nothing changed; print the table.

    Returns
    -------
    int
        0 (the benchmark reports; it does not fail on a missed target).
    """
    tmp = Path(tempfile.mkdtemp(prefix="observatoire-bench-"))
    build_dir, site_dir = tmp / "build", tmp / "site"
    print(f"Benchmark: {theme} {year}, {workers} worker(s), build and site folders in {tmp}", flush=True)
    try:
        clean = _run(theme, year, build_dir, site_dir, workers)
        print(f"  clean build: {clean['status']} in {clean['wall']:.1f} s ({clean['renderer']})", flush=True)
        formats = ", ".join(f"{fmt} {s:.1f} s" for fmt, s in (clean.get("render_formats") or {}).items())
        print(f"  render per format: {formats or 'not measured'}", flush=True)
        unchanged = _run(theme, year, build_dir, site_dir, workers)
        print(f"  no-change rebuild: {unchanged['status']} in {unchanged['wall']:.2f} s", flush=True)
        cold = _run(theme, year, tmp / "cold-build", tmp / "cold-site", workers, cache_dir=tmp / "cold-cache")
        print(
            f"  clean build on a fresh machine (empty parse cache, every raw file parsed and validated again): "
            f"{cold['wall']:.1f} s",
            flush=True,
        )
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(format_report(clean, unchanged, workers))
    return 0


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m observatoire.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--child", nargs=5, metavar=("THEME", "YEAR", "BUILD", "SITE", "WORKERS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--theme", default="annual")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary build and site folders")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse()
    if args.child:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        theme, year, build, site, workers = args.child
        print(json.dumps(_child(theme, int(year), Path(build), Path(site), int(workers))))
        raise SystemExit(0)
    raise SystemExit(main(args.theme, args.year, args.workers, args.keep))
