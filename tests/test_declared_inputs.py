"""Declared inputs: a notebook reading a source its theme does not declare stops the release, naming both."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from observatoire.core.errors import InputError
from observatoire.data import datasets, themes
from observatoire.outputs.context import EditionContext
from observatoire.publishing.release import check_reads


def test_a_notebook_records_the_sources_it_reads(tmp_path, raw_data):
    ctx = EditionContext("annual", 2024, "99_essai", tmp_path)
    datasets.ssmsi_national("ssmsi_dep_2023")
    datasets.national_series("national_series_r3")
    ctx.finish()
    record = json.loads((tmp_path / "reads" / "99_essai.json").read_text(encoding="utf-8"))
    assert record["sources"] == ["national_series_r3", "ssmsi_dep_2023"]
    EditionContext("annual", 2024, "98_autre", tmp_path).finish()  # a new notebook starts with no reads
    assert json.loads((tmp_path / "reads" / "98_autre.json").read_text(encoding="utf-8"))["sources"] == []


def _reads(folder: Path, notebook: str, sources: list[str]) -> SimpleNamespace:
    (folder / "reads").mkdir(parents=True, exist_ok=True)
    (folder / "reads" / f"{notebook}.json").write_text(json.dumps({"sources": sources}), encoding="utf-8")
    return SimpleNamespace(input=Path("notebooks/annual") / f"{notebook}.ipynb")


def test_an_undeclared_read_stops_the_release_naming_notebook_and_source(tmp_path):
    jobs = [_reads(tmp_path, "01_a", ["ssmsi_dep_2024"]), _reads(tmp_path, "06_b", ["ssmsi_dep_2023"])]
    with pytest.raises(
        InputError, match=r"06_b\.ipynb: source 'ssmsi_dep_2023': read by the notebook but not declared"
    ):
        check_reads(tmp_path, jobs, ["ssmsi_dep_2024"], Path("publications/themes.yml"))
    check_reads(tmp_path, jobs, ["ssmsi_dep_2024", "ssmsi_dep_2023"], Path("publications/themes.yml"))


def test_the_annual_letter_declares_the_edition_its_revisions_box_reads():
    theme = themes.get_theme("annual")
    assert "ssmsi_dep_2023" in theme.source_ids(theme.parameters_for(2024))
