"""The catalogue and the fetch step: provenance recorded, checksums enforced, nothing half-written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from observatoire.core import paths
from observatoire.core.checksums import sha256_file
from observatoire.core.errors import InputError
from observatoire.data import catalogue, register


@pytest.fixture()
def raw_dir(tmp_path, monkeypatch):
    """A private data/raw/ so tests never touch the real one."""
    target = tmp_path / "raw"
    monkeypatch.setattr(paths, "RAW", target)
    return target


@pytest.fixture()
def mirror():
    found = paths.default_mirror()
    assert found is not None and found.is_dir(), "the tests need ../shared/data beside the repository"
    return found


def test_catalogue_records_provenance_of_every_file():
    sources = catalogue.load_catalogue()
    assert len(sources) == 14
    for source in sources.values():
        assert source.publisher and source.licence and source.edition and source.produced
        assert len(source.sha256) == 64
        assert source.loader in {
            "ssmsi_departement",
            "ssmsi_region",
            "insee_population",
            "geography_reference",
            "national_series",
            "boundaries",
        }
    ssmsi = sources["ssmsi_dep_2024"]
    assert ssmsi.url.startswith("https://www.data.gouv.fr/")
    assert "Etalab" in ssmsi.licence
    assert ssmsi.format["decimal"] == ","


def test_catalogue_lists_every_mirror_file(mirror):
    listed = {s.file for s in catalogue.load_catalogue().values()}
    on_disk = {p.name for p in mirror.iterdir() if p.suffix in {".csv", ".xls", ".geojson"}}
    assert on_disk == listed


def test_fetch_copies_and_verifies(raw_dir, mirror):
    [path] = catalogue.fetch(["geo_reference"], mirror=mirror, quiet=True)
    assert path == raw_dir / "departements_regions_ref.csv"
    assert sha256_file(path) == catalogue.get_source("geo_reference").sha256
    assert sorted(p.name for p in raw_dir.iterdir()) == ["departements_regions_ref.csv"]


def test_fetch_refuses_a_mirror_file_with_a_wrong_checksum(raw_dir, tmp_path, mirror):
    bad_mirror = tmp_path / "mirror"
    bad_mirror.mkdir()
    content = (mirror / "departements_regions_ref.csv").read_bytes().replace(b"Ain", b"Aim")
    (bad_mirror / "departements_regions_ref.csv").write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        catalogue.fetch(["geo_reference"], mirror=bad_mirror, quiet=True)
    message = str(excinfo.value)
    assert "departements_regions_ref.csv" in message
    assert catalogue.get_source("geo_reference").sha256 in message  # expected checksum
    assert sha256_file(bad_mirror / "departements_regions_ref.csv") in message  # actual checksum
    assert not raw_dir.exists() or list(raw_dir.iterdir()) == []  # nothing half-written


def test_fetch_refuses_a_tampered_raw_file(raw_dir, mirror):
    catalogue.fetch(["geo_reference"], mirror=mirror, quiet=True)
    target = raw_dir / "departements_regions_ref.csv"
    target.chmod(0o644)
    target.write_text("code_departement\n01\n", encoding="utf-8")
    with pytest.raises(InputError, match="checksum mismatch"):
        catalogue.ensure("geo_reference")


def test_missing_file_without_mirror_or_url_names_the_file(raw_dir, tmp_path):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(InputError) as excinfo:
        catalogue.fetch(["national_series_vff"], mirror=empty, quiet=True)
    assert "national_series_vff.csv" in str(excinfo.value)
    assert "OBSERVATOIRE_MIRROR" in str(excinfo.value)


def test_interrupted_copy_leaves_nothing(raw_dir, mirror, monkeypatch):
    def broken_copy(origin, target):
        Path(target).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfile", broken_copy)
    with pytest.raises(OSError):
        catalogue.fetch(["geo_reference"], mirror=mirror, quiet=True)
    assert list(raw_dir.iterdir()) == []


def test_catalogue_validation_names_the_entry(tmp_path):
    document = yaml.safe_load(paths.SOURCES_YML.read_text(encoding="utf-8"))
    del document["sources"][2]["sha256"]
    broken = tmp_path / "sources.yml"
    broken.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"sources\[3\] \(ssmsi_dep_2023\).*missing field\(s\): sha256"):
        catalogue.load_catalogue(broken)


def test_register_records_a_new_edition(tmp_path, mirror):
    copy = tmp_path / "sources.yml"
    shutil.copy(paths.SOURCES_YML, copy)
    new_file = tmp_path / "donnee-dep-data.gouv-2025.csv"
    shutil.copy(mirror / "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv", new_file)
    entry = register.register(
        "ssmsi_dep_2024", new_file, edition="2025", produced="2026-01-30", catalogue_path=copy
    )
    assert entry["id"] == "ssmsi_dep_2025"
    reread = catalogue.load_catalogue(copy)
    assert reread["ssmsi_dep_2025"].sha256 == sha256_file(new_file)
    assert reread["ssmsi_dep_2025"].loader == "ssmsi_departement"
    assert len(reread) == 15


_FETCH_IN_A_CHILD = """
import sys
from pathlib import Path
from observatoire.core import paths
paths.RAW = Path(sys.argv[1])
from observatoire.data import catalogue
catalogue.fetch(quiet=True)
"""


def test_processes_filling_one_raw_folder_at_once_all_succeed(tmp_path, mirror):
    """Regression: two test workers fetching into an empty data/raw removed each other's temporary copies."""
    import subprocess
    import sys

    raw = tmp_path / "raw"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _FETCH_IN_A_CHILD, str(raw)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [(child.wait(), child.stderr.read()) for child in children]
    assert errors == [(0, "")] * 4
    listed = {s.file for s in catalogue.load_catalogue().values()}
    assert {p.name for p in raw.iterdir()} == listed  # every file, and no temporary file left
