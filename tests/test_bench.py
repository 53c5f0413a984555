"""The benchmark's report: every figure beside its target, with a verdict (the measurements themselves are not tested)."""

from __future__ import annotations

from observatoire.publishing import bench


def _results(clean_wall: float, with_all: bool = True) -> dict:
    results = {
        "year": 2024,
        "letter": {
            "wall": 24.0,
            "cpu": 40.0,
            "peak_mb": 1300.0,
            "status": "fr published, en published",
            "timings": {"fr execute": 9.0, "en render": 7.5, "en site pages": 4.0, "en data": 0.01},
        },
        "clean": {
            "wall": clean_wall,
            "cpu": 20.0,
            "peak_mb": 900.0,
            "renderer": "quarto",
            "status": "published",
            "timings": {"plan": 0.1, "execute": 8.0, "render": 3.0},
        },
        "no-change": {
            "wall": 0.4,
            "cpu": 0.3,
            "peak_mb": 80.0,
            "status": "unchanged",
            "timings": {"plan": 0.1},
        },
        "cli": {"wall": 45.0, "cpu": 50.0, "peak_mb": 400.0},
    }
    if with_all:
        results["all"] = {
            "wall": 200.0,
            "cpu": 380.0,
            "peak_mb": 1700.0,
            "counts": {"published": 28, "failed": 1},
            "failed": ["traite 2018: no data"],
        }
        results["all-no-change"] = {"wall": 3.0, "cpu": 2.5, "peak_mb": 90.0, "counts": {"unchanged": 29}}
    return results


def _ends(line: str) -> str:
    """The line's measured value, target and verdict, single-spaced (columns are padded)."""
    return " ".join(line.split()[-6:])


def test_report_puts_each_figure_beside_its_target():
    report = bench.format_report(_results(12.0))
    lines = {"  " * line.startswith("  ") + line.strip().split("  ")[0]: line for line in report.splitlines()}
    assert (
        _ends(lines["annual 2024 clean build, French and English (make letter), wall"])
        == "24.0 s <= 20 s MISSED"
    )
    assert "7.50 s" in lines["  en render"] and "  en data" not in lines  # stages under 0.05 s are not listed
    assert _ends(lines["annual 2024 clean build, French only, wall (quarto)"]) == "12.0 s <= 15 s ok"
    assert "  stage execute" in report and "8.00 s" in lines["  stage execute"]
    assert " ".join(lines["  CLI / clean build, wall"].split()[-4:]) == "3.75x >= 2x ok"
    assert " ".join(lines["  CLI / clean build, CPU"].split()[-4:]) == "2.50x >= 1.5x ok"
    # one failed edition misses the `make all` target; the memory target is the batches'
    assert lines["make all from empty, wall (failed 1, published 28)"].endswith("MISSED")
    assert _ends(lines["peak memory of the batches, whole process tree"]) == "1700 MB <= 2048 MB ok"
    assert "  failed: traite 2018: no data" in report


def test_report_without_make_all_and_a_slow_build():
    report = bench.format_report(_results(30.0, with_all=False))
    assert "make all" not in report
    single = " ".join(report.split())
    assert "30.0 s <= 15 s MISSED" in single and "1.50x >= 2x MISSED" in single
    assert "peak memory of the batches" not in report  # no batch run, no batch figure


def test_report_gives_the_render_time_per_format_of_each_letter_and_the_territorial_batch():
    results = _results(12.0)
    results["all"]["letters"] = {
        "annual 2024": {"total": 40.0, "html": 6.5, "pdf": 5.25},
        "traite 2024": {"total": 20.0, "html": 4.0},
    }
    results["territorial_year"] = 2024
    results["territoires"] = {
        "wall": 500.0,
        "cpu": 900.0,
        "peak_mb": 1200.0,
        "counts": {"published": 119},
        "n": 119,
    }
    results["territoires-no-change"] = {
        "wall": 2.0,
        "cpu": 1.5,
        "peak_mb": 90.0,
        "counts": {"unchanged": 119},
    }
    report = bench.format_report(results).splitlines()
    assert "  annual 2024  6.5 s / 5.2 s / 40 s" in report
    assert "  traite 2024  4.0 s / - / 20 s" in report
    line = next(x for x in report if x.startswith("119 territorial letters of 2024 from empty"))
    assert _ends(line).endswith("<= 300 s MISSED")
    again = next(x for x in report if x.startswith("  the same, nothing changed"))
    assert _ends(again) == "2.0 s <= 5 s ok"


def test_one_bench_run_prints_the_figures_then_the_profile(monkeypatch, capsys):
    """`make bench` prints the table of figures and targets, then where a clean build's seconds go."""
    from types import SimpleNamespace

    measured = _results(12.0, with_all=False)
    runs = iter([measured["letter"], measured["clean"], measured["no-change"]])
    monkeypatch.setattr(bench, "_build", lambda *args, **kwargs: next(runs))
    monkeypatch.setattr(bench, "_papermill_cli", lambda *args: measured["cli"])
    profiled = {"wall": 30.0, "cpu": 50.0, "status": "published", "stages": {}}
    monkeypatch.setattr(bench, "_profile", lambda *args: profiled)
    asked = {}

    def format_profile(run, *, wall, cpu, load):
        asked.update(run=run, wall=wall, cpu=cpu)
        return "| stage execute | 20.0 | 35.0 |"

    monkeypatch.setattr(bench, "_profile_module", lambda: SimpleNamespace(format_profile=format_profile))
    assert bench.main(with_all=False, territorial_year=None) == 0
    out = capsys.readouterr().out
    report = bench.format_report(measured)
    assert report in out and out.index(report) < out.index("Where the seconds of a clean build go")
    assert out.rstrip().endswith("| stage execute | 20.0 | 35.0 |")
    assert asked == {"run": profiled, "wall": 30.0, "cpu": 50.0}

    runs = iter([measured["letter"], measured["clean"], measured["no-change"]])
    asked.clear()
    assert bench.main(with_all=False, territorial_year=None, with_profile=False) == 0
    assert "Where the seconds" not in capsys.readouterr().out and asked == {}
