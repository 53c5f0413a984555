"""Source notebooks are committed clean, parameterised, and their nbval references follow them."""

from __future__ import annotations

import json

import pytest

from observatoire.core import paths
from observatoire.publishing import review

NOTEBOOKS = review.source_notebooks()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(paths.NOTEBOOKS)))
def test_notebook_committed_without_outputs(notebook):
    document = json.loads(notebook.read_text(encoding="utf-8"))
    for index, cell in enumerate(document["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {index} has outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(paths.NOTEBOOKS)))
def test_notebook_has_a_parameters_cell_first(notebook):
    document = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c for c in document["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), (
        "the first code cell must be tagged 'parameters'"
    )
    source = "".join(code[0]["source"])
    for name in ("year", "output_dir", "theme"):
        assert f"{name} =" in source, f"parameter '{name}' has no default"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(paths.NOTEBOOKS)))
def test_nbval_reference_has_the_same_code(notebook):
    reference = review.reference_path(notebook)
    assert reference.is_file(), f"no nbval reference: run `make refresh-nbval` for {notebook.name}"
    source = json.loads(notebook.read_text(encoding="utf-8"))
    stored = json.loads(reference.read_text(encoding="utf-8"))
    assert review.code_cells(stored) == review.code_cells(source), (
        "reference is stale: run `make refresh-nbval`"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(paths.NOTEBOOKS)))
def test_key_numbers_are_checked_by_nbval(notebook):
    stored = json.loads(review.reference_path(notebook).read_text(encoding="utf-8"))
    checked = [
        c for c in stored["cells"] if c["cell_type"] == "code" and review.MARKER in "".join(c["source"])
    ]
    assert checked, f"{notebook.name}: mark the cell printing key numbers with '{review.MARKER}'"
    assert all(c["outputs"] for c in checked), "a marked cell has no stored output"
