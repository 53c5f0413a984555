"""`make lab` starts JupyterLab as root (containers) and as a user, with the project's kernel selected."""

from __future__ import annotations

import os
import subprocess

from observatoire.core import paths


def _dry_run() -> str:
    result = subprocess.run(
        ["make", "-n", "lab", "STAMP=Makefile"], cwd=paths.ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_make_lab_selects_the_project_kernel_and_allows_root_only_as_root():
    command = _dry_run()
    assert "jupyter lab --notebook-dir=notebooks" in command
    assert f"--MultiKernelManager.default_kernel_name={paths.KERNEL_NAME}" in command
    assert ("--allow-root" in command) == (os.getuid() == 0)
