"""The catalogue is not trusted: safe ids and file names, confined paths, transactional and complete registrations.

Each case asserts one clear :class:`InputError` (file, place, rule) and that nothing was written: ``sources.yml``
byte-identical, no temporary file left beside it, no file outside its folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import corpus
import pytest
import yaml

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import catalogue, completeness, datasets, register

SSMSI_2024 = "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv"


def _entry_changed(tmp_path: Path, index: int, **changes) -> Path:
    document = yaml.safe_load(paths.SOURCES_YML.read_text(encoding="utf-8"))
    document["sources"][index].update(changes)
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


#: A change of the catalogue's first entry (ssmsi_dep_2024) -> the exact error of reading it.
CATALOGUE_CASES: dict[str, tuple[dict, str]] = {
    "id climbs out": (
        {"id": "../../tmp/evil"},
        "sources.yml: sources[1] ('../../tmp/evil'): id '../../tmp/evil' must match [a-z][a-z0-9_]{0,63} (ids name cache files)",
    ),
    "id with a space": (
        {"id": "Evil Id"},
        "sources.yml: sources[1] ('Evil Id'): id 'Evil Id' must match [a-z][a-z0-9_]{0,63} (ids name cache files)",
    ),
    "id on two lines": (
        {"id": "evil\nid"},
        "sources.yml: sources[1] ('evil\\nid'): id 'evil\\nid' must match [a-z][a-z0-9_]{0,63} (ids name cache files)",
    ),
    "file climbs out": (
        {"file": "../../outside.csv"},
        "sources.yml: sources[1] (ssmsi_dep_2024): file '../../outside.csv' must be a plain file name matching [A-Za-z0-9][A-Za-z0-9._-]{0,199} (no folder, no '..'): raw files live in data/raw/",
    ),
    "absolute file": (
        {"file": "/etc/passwd"},
        "sources.yml: sources[1] (ssmsi_dep_2024): file '/etc/passwd' must be a plain file name matching [A-Za-z0-9][A-Za-z0-9._-]{0,199} (no folder, no '..'): raw files live in data/raw/",
    ),
    "file in a folder": (
        {"file": "sub/dir.csv"},
        "sources.yml: sources[1] (ssmsi_dep_2024): file 'sub/dir.csv' must be a plain file name matching [A-Za-z0-9][A-Za-z0-9._-]{0,199} (no folder, no '..'): raw files live in data/raw/",
    ),
    "javascript url": (
        {"url": "javascript:alert(1)"},
        "sources.yml: sources[1] (ssmsi_dep_2024): url 'javascript:alert(1)' must be an http(s) URL or null",
    ),
    "file url": (
        {"url": "file:///etc/passwd"},
        "sources.yml: sources[1] (ssmsi_dep_2024): url 'file:///etc/passwd' must be an http(s) URL or null",
    ),
    "url without host": (
        {"url": "https://"},
        "sources.yml: sources[1] (ssmsi_dep_2024): url 'https://' must be an http(s) URL or null",
    ),
    "url with a space": (
        {"url": "https://www.insee.fr/a b"},
        "sources.yml: sources[1] (ssmsi_dep_2024): url 'https://www.insee.fr/a b' must be an http(s) URL or null",
    ),
    "produced in words": (
        {"produced": "yesterday"},
        "sources.yml: sources[1] (ssmsi_dep_2024): produced 'yesterday' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced 30 February": (
        {"produced": "2025-02-30"},
        "sources.yml: sources[1] (ssmsi_dep_2024): produced '2025-02-30' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced month 13": (
        {"produced": "2025-13"},
        "sources.yml: sources[1] (ssmsi_dep_2024): produced '2025-13' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced fullwidth digits": (
        {"produced": "２０２５-01-26"},
        "sources.yml: sources[1] (ssmsi_dep_2024): produced '２０２５-01-26' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced Arabic-Indic digits": (
        {"produced": "٢٠٢٥"},
        "sources.yml: sources[1] (ssmsi_dep_2024): produced '٢٠٢٥' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "loader climbs out": (
        {"loader": "../loaders/evil"},
        "sources.yml: sources[1] (ssmsi_dep_2024): loader '../loaders/evil' must be a loader module name",
    ),
    "title on two lines": (
        {"title": "line one\nline two"},
        "sources.yml: sources[1] (ssmsi_dep_2024): title must be one line of printable text (found U+000A, a control or format character)",
    ),
    "title with an escape sequence": (
        {"title": "SSMSI \x1b[31m"},
        "sources.yml: sources[1] (ssmsi_dep_2024): title must be one line of printable text (found U+001B, a control or format character)",
    ),
    "publisher with a bidi override": (
        {"publisher": "\u202eISMSS"},
        "sources.yml: sources[1] (ssmsi_dep_2024): publisher must be one line of printable text (found U+202E, a control or format character)",
    ),
    "licence empty": (
        {"licence": " "},
        "sources.yml: sources[1] (ssmsi_dep_2024): licence must be one non-empty line of text",
    ),
    "edition with a bell": (
        {"edition": "2024\x07"},
        "sources.yml: sources[1] (ssmsi_dep_2024): edition must be one line of printable text (found U+0007, a control or format character)",
    ),
    "edition a boolean": (
        {"edition": True},
        "sources.yml: sources[1] (ssmsi_dep_2024): edition must be one non-empty line of text",
    ),
    "sha256 upper case": (
        {"sha256": "A" * 64},
        "sources.yml: sources[1] (ssmsi_dep_2024): sha256 must be 64 lowercase hex digits",
    ),
    "sha256 short": (
        {"sha256": "ab12"},
        "sources.yml: sources[1] (ssmsi_dep_2024): sha256 must be 64 lowercase hex digits",
    ),
    "completeness unknown key": (
        {"completeness": {"rows": 1, "owner": "x"}},
        "sources.yml: sources[1] (ssmsi_dep_2024): completeness: unknown key(s) owner (known: rows, years, indicators, units, previous, total_tolerance, accepted_missing)",
    ),
    "completeness rows in words": (
        {"completeness": {"rows": "many"}},
        "sources.yml: sources[1] (ssmsi_dep_2024): completeness: rows must be an integer",
    ),
    "completeness units not a list": (
        {"completeness": {"units": "01"}},
        "sources.yml: sources[1] (ssmsi_dep_2024): completeness: units must be a list",
    ),
    "completeness negative tolerance": (
        {"completeness": {"total_tolerance": -1}},
        "sources.yml: sources[1] (ssmsi_dep_2024): completeness: total_tolerance must be a number >= 0, or a mapping of them",
    ),
    "completeness not a mapping": (
        {"completeness": ["rows"]},
        "sources.yml: sources[1] (ssmsi_dep_2024): completeness must be a mapping",
    ),
}


@pytest.mark.parametrize("case", sorted(CATALOGUE_CASES))
def test_unsafe_catalogue_entries_are_refused(tmp_path, case):
    changes, message = CATALOGUE_CASES[case]
    path = _entry_changed(tmp_path, 0, **changes)
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        catalogue.read_catalogue(path)
    assert str(caught.value) == message


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
        register.register(
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


#: Arguments of ``register`` (the defaults: a copy of the SSMSI 2024 file named donnee-2025.csv, edition 2025,
#: produced 2026-01-30) -> the exact error; ``sources.yml`` stays byte-identical.
REGISTER_CASES: dict[str, tuple[dict, str]] = {
    "edition with a bell": (
        {"edition": "2025\x07"},
        "sources.yml: --edition: edition must be one line of printable text (found U+0007, a control or format character)",
    ),
    "edition on two lines": (
        {"edition": "2025\n2026"},
        "sources.yml: --edition: edition must be one line of printable text (found U+000A, a control or format character)",
    ),
    "edition empty": ({"edition": " "}, "sources.yml: --edition: edition must be one non-empty line of text"),
    "edition with a bidi override": (
        {"edition": "\u202e2025"},
        "sources.yml: --edition: edition must be one line of printable text (found U+202E, a control or format character)",
    ),
    "produced 30 February": (
        {"produced": "2026-02-30"},
        "sources.yml: source 'ssmsi_dep_2025': produced '2026-02-30' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced fullwidth digits": (
        {"produced": "２０２６-01-30"},
        "sources.yml: source 'ssmsi_dep_2025': produced '２０２６-01-30' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced one-digit month": (
        {"produced": "2026-1-30"},
        "sources.yml: source 'ssmsi_dep_2025': produced '2026-1-30' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "produced in words": (
        {"produced": "demain"},
        "sources.yml: source 'ssmsi_dep_2025': produced 'demain' must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    ),
    "javascript url": (
        {"url": "javascript:alert(1)"},
        "sources.yml: source 'ssmsi_dep_2025': url 'javascript:alert(1)' must be an http(s) URL",
    ),
    "ftp url": (
        {"url": "ftp://x.org/f.csv"},
        "sources.yml: source 'ssmsi_dep_2025': url 'ftp://x.org/f.csv' must be an http(s) URL",
    ),
    "id climbs out": (
        {"new_id": "../evil"},
        "sources.yml: source '../evil': id must match [a-z][a-z0-9_]{0,63}",
    ),
    "id already registered": (
        {"new_id": "ssmsi_dep_2023"},
        "sources.yml: source 'ssmsi_dep_2023': already registered: choose another --new-id",
    ),
    "accepted missing of an unknown kind": (
        {"accept_missing": ["departement:01"]},
        "sources.yml: source 'ssmsi_dep_2025': --accept-missing 'departement:01': expected indicator:, year: or unit:",
    ),
    "file name with a space": (
        {"file": "donnée 2025.csv"},
        "donnée 2025.csv: file name: must match [A-Za-z0-9][A-Za-z0-9._-]{0,199}: rename the file",
    ),
    "file name already listed": (
        {"file": SSMSI_2024},
        "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv: file name: already listed in the catalogue (source 'ssmsi_dep_2024')",
    ),
    "file its loader refuses": (
        {"file": "bad:ssmsi_plus_sign_count.csv"},
        "donnee-2025.csv: line 8, column 'nombre': number written '+5' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "file with a région contradiction": (
        {"file": "bad:ssmsi_region_contradiction.csv"},
        "donnee-2025.csv: line 5, column 'Code_region': région 11 contradicts the geography reference: département 04 is in région 93",
    ),
}


def _register_case(copy: Path, tmp_path: Path, arguments: dict) -> None:
    arguments = dict(arguments)
    name = arguments.pop("file", "donnee-2025.csv")
    if name.startswith("bad:"):
        origin, name = Path(__file__).parent / "data" / "bad" / name[4:], "donnee-2025.csv"
    else:
        origin = paths.RAW / SSMSI_2024
    new = tmp_path / "new" / name
    new.parent.mkdir(exist_ok=True)
    shutil.copy(origin, new)
    register.register(
        "ssmsi_dep_2024",
        new,
        edition=arguments.pop("edition", "2025"),
        produced=arguments.pop("produced", "2026-01-30"),
        catalogue_path=copy,
        **arguments,
    )


@pytest.mark.parametrize("case", sorted(REGISTER_CASES))
def test_register_refuses_bad_arguments_and_files(copy, tmp_path, case):
    arguments, message = REGISTER_CASES[case]
    before = copy.read_bytes()
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        _register_case(copy, tmp_path, arguments)
    assert str(caught.value) == message
    assert copy.read_bytes() == before  # byte-identical
    assert sorted(p.name for p in copy.parent.iterdir() if p.name.startswith(".")) == []  # no temporary file


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
    entry = register.register(
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


# ---------------------------------------------------------------------------------------------------------------
# The configuration files through the one YAML reader (core/yamlfile.py): bounded, strict UTF-8, no alias

_BOMB = b'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n'

#: (file, bytes put before the real file's bytes) -> the exact error of reading it.
YAML_CASES: dict[str, tuple[str, bytes, str]] = {
    "catalogue alias bomb": (
        "sources.yml",
        _BOMB,
        "sources.yml: line 1, column 4: YAML anchors (&a) are not allowed in this project",
    ),
    "catalogue not UTF-8": (
        "sources.yml",
        b"# caf\xe9\n",
        "sources.yml: line 1, column 6: the file must be UTF-8 (byte 0xe9 is not)",
    ),
    "catalogue too large": (
        "sources.yml",
        b"#" * (3 * 1024 * 1024) + b"\n",
        "sources.yml: whole file: a YAML file may be at most 2097152 bytes (this one is larger)",
    ),
    "themes alias bomb": (
        "themes.yml",
        _BOMB,
        "themes.yml: line 1, column 4: YAML anchors (&a) are not allowed in this project",
    ),
    "themes not UTF-8": (
        "themes.yml",
        b"# caf\xe9\n",
        "themes.yml: line 1, column 6: the file must be UTF-8 (byte 0xe9 is not)",
    ),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_a_bad_configuration_file_gives_one_line(tmp_path, case):
    from observatoire.data import themes

    name, prefix, message = YAML_CASES[case]
    real = paths.SOURCES_YML if name == "sources.yml" else paths.ROOT / "publications" / "themes.yml"
    path = tmp_path / name
    path.write_bytes(prefix + real.read_bytes())
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        if name == "sources.yml":
            catalogue.read_catalogue(path)
        else:
            themes.load_themes(path)
    assert str(caught.value) == message
