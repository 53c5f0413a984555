"""The catalogue is not trusted: safe ids and file names, confined paths, transactional and complete registrations.

Each case asserts one clear :class:`InputError` (file, place, rule) and that nothing was written: ``sources.yml``
byte-identical, no temporary file left beside it, no file outside its folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import catalogue, completeness, datasets

SSMSI_2024 = "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv"


def _entry_changed(tmp_path: Path, index: int, **changes) -> Path:
    document = yaml.safe_load(paths.SOURCES_YML.read_text(encoding="utf-8"))
    document["sources"][index].update(changes)
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"id": "../../tmp/evil"}, "id '../../tmp/evil' must match"),
        ({"id": "Evil Id"}, "id 'Evil Id' must match"),
        ({"file": "../../outside.csv"}, "file '../../outside.csv' must be a plain file name"),
        ({"file": "/etc/passwd"}, "file '/etc/passwd' must be a plain file name"),
        ({"file": "sub/dir.csv"}, "must be a plain file name"),
        ({"url": "javascript:alert(1)"}, "url 'javascript:alert(1)' must be an http(s) URL or null"),
        ({"url": "file:///etc/passwd"}, "must be an http(s) URL or null"),
        ({"produced": "yesterday"}, "produced 'yesterday' must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"loader": "../loaders/evil"}, "must be a loader module name"),
        ({"title": "line one\nline two"}, "title must be one non-empty line of text"),
        ({"completeness": {"rows": 1, "owner": "x"}}, "completeness: unknown key(s) owner"),
        ({"completeness": {"rows": "many"}}, "completeness: rows must be an integer"),
        ({"completeness": {"units": "01"}}, "completeness: units must be a list"),
        ({"completeness": {"total_tolerance": -1}}, "total_tolerance must be a number >= 0"),
    ],
)
def test_unsafe_catalogue_entries_are_refused(tmp_path, changes, phrase):
    path = _entry_changed(tmp_path, 0, **changes)
    with pytest.raises(InputError) as caught:
        catalogue.read_catalogue(path)
    assert str(caught.value).startswith("sources.yml: sources[1] (")
    assert phrase in caught.value.rule, str(caught.value)


def test_paths_are_confined(tmp_path):
    assert paths.confined(tmp_path, "a.csv") == tmp_path / "a.csv"
    for name in ("../a.csv", "/etc/passwd", "x/../../a.csv", "."):
        with pytest.raises(ValueError):
            paths.confined(tmp_path, name)
    (tmp_path / "link.csv").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="leads outside"):
        paths.confined(tmp_path, "link.csv")


def test_fetch_removes_leftovers_of_an_interrupted_copy(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / ".departements_regions_ref.csv.k3j2.tmp").write_bytes(b"half a file")
    (raw / ".fetch-abcd").mkdir()
    (raw / ".fetch-abcd" / "partial").write_bytes(b"x")
    monkeypatch.setattr(paths, "RAW", raw)
    catalogue.fetch(["geo_reference"], quiet=True)
    assert sorted(p.name for p in raw.iterdir()) == ["departements_regions_ref.csv"]


def test_parse_cache_is_parquet_and_never_a_pickle(raw_data, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE", tmp_path / "cache")
    datasets.clear_cache()
    table = datasets.load("geo_reference")
    stored = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(stored) == 1 and stored[0].startswith("geo_reference-") and stored[0].endswith(".parquet")
    assert (tmp_path / "cache" / stored[0]).read_bytes()[:4] == b"PAR1"
    # A damaged cache entry is rebuilt from the raw file, never trusted.
    (tmp_path / "cache" / stored[0]).write_bytes(b"\x80\x04 not parquet")
    datasets.clear_cache()
    assert datasets.load("geo_reference").equals(table)
    datasets.clear_cache()


# ---------------------------------------------------------------------------------------------------------------
# Registration: transactional, and an incomplete edition is refused


@pytest.fixture
def copy(tmp_path, raw_data):
    target = tmp_path / "sources.yml"
    shutil.copy(paths.SOURCES_YML, target)
    return target


def _lines_without(source: Path, target: Path, drop) -> Path:
    text = source.read_text(encoding="utf-8-sig").splitlines()
    kept = [text[0]] + [line for line in text[1:] if not drop(line.split(";"))]
    target.write_text("\ufeff" + "\n".join(kept) + "\n", encoding="utf-8")
    return target


def _register_fails(copy: Path, file: Path, phrase: str, **kwargs) -> InputError:
    before = copy.read_bytes()
    with pytest.raises(InputError) as caught:
        catalogue.register(
            "ssmsi_dep_2024", file, edition="2025", produced="2026-01-30", catalogue_path=copy, **kwargs
        )
    assert phrase in str(caught.value), str(caught.value)
    assert copy.read_bytes() == before  # byte-identical
    assert sorted(p.name for p in copy.parent.iterdir() if p.name.startswith(".")) == []  # no temporary file
    return caught.value


def test_register_refuses_a_file_name_already_listed(copy):
    error = _register_fails(
        copy, paths.RAW / SSMSI_2024, "already listed in the catalogue (source 'ssmsi_dep_2024')"
    )
    assert error.place == "file name"
    catalogue.read_catalogue(copy)  # still reads


def test_register_refuses_unsafe_arguments(copy, tmp_path):
    new = tmp_path / "donnee-2025.csv"
    shutil.copy(paths.RAW / SSMSI_2024, new)
    _register_fails(copy, new, "id must match", new_id="../evil")
    _register_fails(copy, new, "must be an http(s) URL", url="javascript:alert(1)")
    with pytest.raises(InputError, match="produced 'demain'"):
        catalogue.register("ssmsi_dep_2024", new, edition="2025", produced="demain", catalogue_path=copy)
    odd = tmp_path / "donnée 2025.csv"
    shutil.copy(paths.RAW / SSMSI_2024, odd)
    _register_fails(copy, odd, "rename the file")


def test_register_refuses_a_file_its_loader_refuses(copy, tmp_path):
    bad = tmp_path / "donnee-2025.csv"
    shutil.copy(Path(__file__).parent / "data" / "bad" / "ssmsi_plus_sign_count.csv", bad)
    _register_fails(copy, bad, "number written '+5' is not allowed")


def test_register_refuses_a_departement_removed(copy, tmp_path):
    new = _lines_without(paths.RAW / SSMSI_2024, tmp_path / "donnee-2025.csv", lambda f: f[0] == '"976"')
    _register_fails(copy, new, "geographic unit(s) 976 of 'ssmsi_dep_2024' missing from 'ssmsi_dep_2025'")


def test_register_refuses_the_latest_year_removed(copy, tmp_path):
    new = _lines_without(paths.RAW / SSMSI_2024, tmp_path / "donnee-2025.csv", lambda f: f[2] == '"2024"')
    _register_fails(copy, new, "year(s) 2024 of 'ssmsi_dep_2024' missing")


def test_register_refuses_an_indicator_removed(copy, tmp_path):
    new = _lines_without(
        paths.RAW / SSMSI_2024, tmp_path / "donnee-2025.csv", lambda f: f[3] == '"Homicides"'
    )
    _register_fails(copy, new, "indicator(s) Homicides of 'ssmsi_dep_2024' missing")


def test_register_refuses_a_national_total_beyond_the_tolerance(copy, tmp_path):
    """Cambriolages 2024 halved in every département (rates kept consistent): -50 % against a 2 % tolerance."""
    lines = (paths.RAW / SSMSI_2024).read_text(encoding="utf-8-sig").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(";")
        if fields[3] == '"Cambriolages de logement"' and fields[2] == '"2024"':
            fields[5] = f'"{int(fields[5].strip(chr(34))) // 2}"'
        out.append(";".join(fields))
    new = tmp_path / "donnee-2025.csv"
    new.write_text("\ufeff" + "\n".join(out) + "\n", encoding="utf-8")
    # Compared with the same file as its own previous edition, so only the change made here moves.
    document = yaml.safe_load(copy.read_text(encoding="utf-8"))
    assert document["sources"][0]["completeness"]["total_tolerance"]["*"] == 0.02
    _register_fails(copy, new, "national total of 'Cambriolages de logement' in 2024 moves by -50.")


def test_register_accepts_a_reviewed_removal_and_writes_the_completeness_of_the_new_file(copy, tmp_path):
    new = _lines_without(
        paths.RAW / SSMSI_2024, tmp_path / "donnee-2025.csv", lambda f: f[3] == '"Homicides"'
    )
    entry = catalogue.register(
        "ssmsi_dep_2024",
        new,
        edition="2025",
        produced="2026-01-30",
        catalogue_path=copy,
        accept_missing=["indicator:Homicides"],
    )
    declared = catalogue.read_catalogue(copy)["ssmsi_dep_2025"].extra["completeness"]
    assert declared == entry["completeness"]
    assert declared["rows"] == 15453 - 9 * 101 and "Homicides" not in declared["indicators"]
    assert declared["previous"] == "ssmsi_dep_2024" and declared["accepted_missing"] == [
        "indicator:Homicides"
    ]
    assert len(declared["units"]) == 101 and declared["years"] == list(range(2016, 2025))


def test_a_release_stops_on_an_edition_that_no_longer_matches_its_declaration(
    raw_data, tmp_path, monkeypatch
):
    """The declaration says 102 units: the validate stage (datasets.load) names the one missing."""
    document = yaml.safe_load(paths.SOURCES_YML.read_text(encoding="utf-8"))
    ssmsi = next(s for s in document["sources"] if s["id"] == "ssmsi_reg_2024")
    ssmsi["completeness"]["units"].append("99")
    ssmsi["completeness"]["rows"] += 1
    changed = tmp_path / "sources.yml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(paths, "SOURCES_YML", changed)
    monkeypatch.setattr(paths, "CACHE", tmp_path / "cache")
    datasets.clear_cache()
    try:
        with pytest.raises(InputError) as caught:
            datasets.load("ssmsi_reg_2024")
    finally:
        datasets.clear_cache()
    assert caught.value.place == "whole file"
    assert "incomplete edition of 'ssmsi_reg_2024': geographic unit(s) 99 missing" in caught.value.rule


#: Loaders whose table is not the harmonised statistical table: their own validation fixes what they must hold
#: (boundaries: exactly the 101 départements or 18 régions of the geography reference, tests/test_territoire.py).
NOT_STATISTICAL = {"boundaries"}


def test_completeness_declared_for_every_source_and_matching_its_file(raw_data):
    for source in catalogue.load_catalogue().values():
        if source.loader in NOT_STATISTICAL:
            continue
        declared = source.extra.get("completeness")
        assert declared, f"{source.id}: no completeness declared in data/sources.yml"
        table = datasets.load(source.id)
        found = completeness.coverage_of(table)
        assert {k: declared[k] for k in found} == found, source.id


def test_completeness_yaml_reads_back():
    declared = {
        "rows": 3,
        "years": [2023, 2024],
        "indicators": ["Tentatives d'homicides", 'Un "nom"'],
        "units": ["01", "2A", "976"],
        "total_tolerance": {"*": 0.02, "Violences sexuelles": 0.4},
    }
    assert yaml.safe_load(completeness.to_yaml(declared)) == {"completeness": declared}


def test_parse_cache_leaves_a_concurrent_write_alone_and_removes_a_dead_writers_leftover(tmp_path):
    """Two kernels filling the cache at once: one must not delete the other's temporary file."""
    import os
    import subprocess

    import pandas as pd

    from observatoire.data import datasets

    cache = tmp_path / "tables" / "x.parquet"
    cache.parent.mkdir(parents=True)
    alive = cache.parent / f".x.parquet.{os.getpid()}.abc.tmp"
    alive.write_bytes(b"being written")
    finished = subprocess.Popen(["true"])  # a finished child: no process runs with its pid any more
    finished.wait()
    dead = cache.parent / f".x.parquet.{finished.pid}.def.tmp"
    dead.write_bytes(b"killed while writing")
    datasets._write_cache(cache, pd.DataFrame({"a": [1, 2]}))
    assert alive.exists() and not dead.exists()
    assert datasets._read_cache(cache)["a"].tolist() == [1, 2]
