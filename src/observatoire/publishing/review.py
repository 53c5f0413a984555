"""Reviewers' tools: nbval reference notebooks and the clean-notebook rule.

Source notebooks in ``notebooks/`` are committed without outputs (pre-commit strips them; a test checks it). nbval
needs reference outputs to compare against, so they live apart, in ``tests/nbval/<theme>/<notebook>.ipynb``: the
same cells as the source notebook, with outputs kept only for the cells marked ``# NBVAL_CHECK_OUTPUT`` (the cells
that print key numbers). ``make test`` re-runs those reference notebooks with their default parameters under nbval
(lax mode: every cell must run, the marked cells must print the same text). ``make refresh-nbval`` rebuilds the
references after a deliberate change; the reviewer reads their diff (``nbdiff -s``) like any other change.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

from observatoire.core import paths
from observatoire.publishing.execution import NotebookJob, run_notebooks

NBVAL_DIR = paths.ROOT / "tests" / "nbval"
MARKER = "# NBVAL_CHECK_OUTPUT"


def source_notebooks() -> list[Path]:
    """Every committed source notebook under ``notebooks/`` (sorted)."""
    return sorted(p for p in paths.NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def reference_path(notebook: Path) -> Path:
    """Where the nbval reference copy of a source notebook lives."""
    return NBVAL_DIR / notebook.relative_to(paths.NOTEBOOKS)


def code_cells(notebook: dict) -> list[str]:
    """The source of every code cell, as strings (for comparing a reference with its notebook)."""
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in notebook["cells"]
        if c["cell_type"] == "code"
    ]


def _keep_marked_outputs(executed: dict, source: dict) -> dict:
    """Return the source notebook with outputs copied from ``executed`` for marked cells only."""
    result = copy.deepcopy(source)
    executed_code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    source_code = [c for c in result["cells"] if c["cell_type"] == "code"]
    for target, run in zip(source_code, executed_code, strict=True):
        text = "".join(target["source"]) if isinstance(target["source"], list) else target["source"]
        keep = MARKER in text
        target["outputs"] = (
            [o for o in run.get("outputs", []) if o.get("output_type") != "display_data"] if keep else []
        )
        for output in target["outputs"]:
            output.get("metadata", {}).clear()
        # nbval refuses a reference cell with outputs but no execution count ("unrun reference cell").
        target["execution_count"] = run.get("execution_count") if keep else None
        target["metadata"].pop("execution", None)
        target["metadata"].pop("papermill", None)
    result["metadata"].pop("papermill", None)
    return result


def refresh_references(notebooks: list[Path] | None = None, workers: int = 2) -> list[Path]:
    """Execute the source notebooks with their defaults and store the marked outputs as nbval references.

    Parameters
    ----------
    notebooks : list of Path, optional
        Source notebooks (default: all of them).
    workers : int
        Notebooks run in parallel.

    Returns
    -------
    list of Path
        The reference notebooks written.
    """
    notebooks = notebooks or source_notebooks()
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        jobs = [NotebookJob(nb, Path(scratch) / f"{i}.ipynb", {}) for i, nb in enumerate(notebooks)]
        run_notebooks(jobs, workers=workers, progress=True)
        for job in jobs:
            executed = json.loads(job.output.read_text(encoding="utf-8"))
            source = json.loads(job.input.read_text(encoding="utf-8"))
            reference = _keep_marked_outputs(executed, source)
            target = reference_path(job.input)
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(reference, out, indent=1, ensure_ascii=False, sort_keys=True)
                out.write("\n")
            os.replace(temporary, target)
            written.append(target)
    return written
