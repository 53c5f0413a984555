"""The __ID__ letter (scaffolded by `make new-theme ID=__ID__`): complete this test with the letter's own checks."""

from __future__ import annotations

import json

from observatoire.core import paths
from observatoire.data import themes


def test_the_theme_is_declared_and_its_notebook_reads_declared_sources():
    theme = themes.get_theme("__ID__")
    assert list(theme.notebooks) == ["01_indicateur.ipynb"]
    notebook = json.loads((paths.NOTEBOOKS / "__ID__" / "01_indicateur.ipynb").read_text(encoding="utf-8"))
    parameters = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    text = "".join(parameters["source"])
    for name in theme.parameters:
        assert f"{name} = " in text
