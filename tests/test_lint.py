"""The code base stays ruff-clean (lint and format), as pre-commit enforces on each commit."""

from __future__ import annotations

import subprocess
import sys

from observatoire import paths


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = paths.ROOT / ".venv" / "bin" / "ruff"
    command = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    return subprocess.run([*command, *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_check():
    run = _ruff("check", "src", "tests", "notebooks")
    assert run.returncode == 0, run.stdout[-3000:]


def test_ruff_format():
    run = _ruff("format", "--check", "src", "tests")
    assert run.returncode == 0, run.stdout[-3000:]
