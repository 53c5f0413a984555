"""Notebook execution: the `parameters` check, outputs written, and one clear error for a failing cell."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from observatoire.core.errors import InputError
from observatoire.publishing import execution, kernel_env
from observatoire.publishing.execution import (
    KernelMissingError,
    NotebookError,
    NotebookJob,
    check_parameters_cell,
    run_notebooks,
)

FIXTURES = Path(__file__).parent / "data" / "notebooks"
GOOD = FIXTURES / "good.ipynb"
NO_PARAMETERS = FIXTURES / "no_parameters.ipynb"
FAILING = FIXTURES / "failing_cell.ipynb"


def test_missing_parameters_tag_names_the_notebook():
    with pytest.raises(InputError) as caught:
        check_parameters_cell(NO_PARAMETERS)
    assert caught.value.file == str(NO_PARAMETERS)
    assert str(caught.value).startswith("no_parameters.ipynb: notebook: no cell tagged 'parameters'")


def test_parameters_cell_names_are_read():
    assert check_parameters_cell(GOOD) == ("year", "theme", "output_dir", "label")
    assert check_parameters_cell(GOOD, {"year": 2023, "label": "x"}) == (
        "year",
        "theme",
        "output_dir",
        "label",
    )


def test_unknown_parameter_is_refused():
    with pytest.raises(InputError, match=r"good.ipynb: cell 2 \(parameters\): unknown parameter\(s\) yaer"):
        check_parameters_cell(GOOD, {"yaer": 2023})


def test_two_parameters_cells_are_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("b = 1", metadata={"tags": ["parameters"]}),
    ]
    path = tmp_path / "two.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(InputError, match="more than one cell is tagged 'parameters'"):
        check_parameters_cell(path)


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("year = 2024\ntheme: str = 'annual'\na, (b, c) = 1, (2, 3)\n", ["year", "theme", "a", "b", "c"]),
        ("%matplotlib inline\nyear = 2024\nx == 3\n", ["year"]),  # IPython magic: line-based fall-back
        ("def f():\n    inner = 1\n", []),
    ],
)
def test_defined_names(source, names):
    assert execution._defined_names(source) == names


def test_kernel_environment_is_deterministic_and_leaves_ours_alone(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = dict(os.environ)
    env = kernel_env.kernel_environment()
    assert env["PYTHONHASHSEED"] == "0"
    assert env["MPLBACKEND"] == "Agg"
    assert env["SOURCE_DATE_EPOCH"] == str(kernel_env.DEFAULT_SOURCE_DATE_EPOCH)
    assert dict(os.environ) == before
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert kernel_env.kernel_environment()["SOURCE_DATE_EPOCH"] == "1700000000"


def test_missing_kernel_says_how_to_fix():
    with pytest.raises(KernelMissingError, match="make venv"):
        execution.check_kernel("no-such-kernel-observatoire")


def test_bad_notebook_fails_before_any_kernel_starts(tmp_path):
    jobs = [
        NotebookJob(GOOD, tmp_path / "good.ipynb", {"output_dir": str(tmp_path / "out")}),
        NotebookJob(NO_PARAMETERS, tmp_path / "bad.ipynb", {"year": 2023}),
    ]
    with pytest.raises(InputError, match="no_parameters.ipynb"):
        run_notebooks(jobs, progress=False)
    assert not (tmp_path / "good.ipynb").exists()


def test_good_notebook_writes_its_outputs(tmp_path):
    # Run from a copy, so that the kernel's working directory (the notebook's folder) is checked for real.
    folder = tmp_path / "nb"
    folder.mkdir()
    shutil.copy(GOOD, folder / "good.ipynb")
    out = tmp_path / "outputs"
    jobs = [
        NotebookJob(
            folder / "good.ipynb", tmp_path / "run" / "a.ipynb", {"year": 2023, "output_dir": str(out)}
        ),
        NotebookJob(
            folder / "good.ipynb",
            tmp_path / "run" / "b.ipynb",
            {"label": "b", "output_dir": str(tmp_path / "b")},
        ),
    ]
    times = run_notebooks(jobs, workers=2, progress=False, epoch=1700000000)
    assert list(times) == [(tmp_path / "run" / "a.ipynb").resolve(), (tmp_path / "run" / "b.ipynb").resolve()]
    fact = json.loads((out / "facts" / "good.json").read_text(encoding="utf-8"))
    assert fact["year"] == 2023 and fact["label"] == "défaut"
    assert Path(fact["cwd"]).resolve() == folder.resolve()
    assert fact["env"] == {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1700000000", "MPLBACKEND": "Agg"}
    assert "défaut 2023" in (out / "figures" / "fixture.svg").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "b" / "facts" / "good.json").read_text(encoding="utf-8"))["label"] == "b"
    executed = nbformat.read(tmp_path / "run" / "a.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


def test_failing_cell_is_named_and_executed_copy_kept(tmp_path):
    executed = tmp_path / "executed" / "failing_cell.ipynb"
    with pytest.raises(NotebookError) as caught:
        run_notebooks([NotebookJob(FAILING, executed, {"year": 2023})], progress=False)
    error = caught.value
    message = str(error)
    assert "failing_cell.ipynb failed in cell 4" in message
    assert "ValueError: broken on purpose" in message
    assert error.cell == 4 and error.ename == "ValueError"
    assert executed.exists() and str(executed.name) in message
    kept = nbformat.read(executed, as_version=4)
    assert any(o.get("output_type") == "error" for c in kept.cells for o in c.get("outputs", []))


def test_after_a_failure_nothing_more_starts(tmp_path):
    jobs = [
        NotebookJob(FAILING, tmp_path / "failing_cell.ipynb", {}),
        NotebookJob(GOOD, tmp_path / "good.ipynb", {"output_dir": str(tmp_path / "out")}),
    ]
    with pytest.raises(NotebookError, match="not run: good.ipynb"):
        run_notebooks(jobs, workers=1, progress=False)
    assert not (tmp_path / "good.ipynb").exists()


def test_stream_outputs_are_coalesced_whatever_the_kernel_flushed(tmp_path):
    """One print split in two stream outputs by a flush (a busy machine) is saved as one, as a quiet run is."""
    from observatoire.publishing.execution import coalesce_streams

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("stream", name="stderr", text="w\n"),
        nbformat.v4.new_output("stream", name="stdout", text="50%\r100%\n"),
    ]
    cell.id = "c"
    nb.cells = [cell]
    split, quiet = tmp_path / "split.ipynb", tmp_path / "quiet.ipynb"
    split.write_text(nbformat.writes(nb), encoding="utf-8")  # as papermill writes it
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\nb\n"),
        nbformat.v4.new_output("stream", name="stderr", text="w\n"),
        nbformat.v4.new_output("stream", name="stdout", text="100%\n"),
    ]
    quiet.write_text(nbformat.writes(nb), encoding="utf-8")
    assert coalesce_streams(split) is True
    assert coalesce_streams(quiet) is False
    assert split.read_bytes() == quiet.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))
