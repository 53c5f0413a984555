"""Bad input: every malformed file gives one InputError naming the file, the place and the rule; nothing written.

The corpus is ``tests/data/bad/`` (see its README.md): small files cut from the real layouts, each broken one way.
INSEE rules that need a real workbook are tested on in-memory copies of a real sheet with one cell changed.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import corpus
import numpy as np
import pandas as pd
import pytest

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import catalogue, datasets, geography
from observatoire.data.loaders import insee_population, national_series, schema

BAD = Path(__file__).parent / "data" / "bad"

#: file -> (loader, place, rule): the error must be exactly f"{file}: {place}: {rule}" ({this_year}: the current year)
CASES: dict[str, tuple[str, str, str]] = {
    "geo2025_comma_decimal_rate.csv": (
        "ssmsi_departement",
        "line 6, column 'taux_pour_mille'",
        "non-numeric value '2,286892': every rate must be a number",
    ),
    "geo2025_unknown_departement.csv": (
        "ssmsi_departement",
        "line 13, column 'code_departement'",
        "unknown département code '977' (not one of the 101 départements)",
    ),
    "geo2025_wrong_unit.csv": (
        "ssmsi_departement",
        "line 3, column 'unite_de_compte'",
        "unit 'Infraction' is not the unit of indicator 'Violences physiques intrafamiliales' (expected 'Victime')",
    ),
    "insee_not_a_workbook.xls": (
        "insee_population",
        "whole file",
        "not a readable Excel 97-2003 workbook (XLRDError: Unsupported format, or corrupt file: Expected BOF record; found b'\"Code_de')",
    ),
    "legacy_exponent_count.csv": (
        "ssmsi_departement",
        "line 4, column 'faits'",
        "number written '6,87e+02' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "legacy_na_rate.csv": (
        "ssmsi_departement",
        "line 4, column 'tauxpourmille'",
        "missing value 'NA': every rate must be a number",
    ),
    "legacy_year_out_of_range.csv": (
        "ssmsi_departement",
        "line 7, column 'annee'",
        "year out of range: 2099 (from '99') is outside 2000..{this_year}",
    ),
    "national_arabic_indic_value.csv": (
        "national_series",
        "line 3, column 'value'",
        "'٤٦٤٤٩' is written with non-ASCII digits: every value is written in ASCII digits (0-9)",
    ),
    "national_exponent_value.csv": (
        "national_series",
        "line 5, column 'value'",
        "number written '4.6e4' is not allowed: every value is plain ASCII digits (0-9) with '.' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "national_fullwidth_year.csv": (
        "national_series",
        "line 2, column 'year'",
        "not a year: '２０１７' written with non-ASCII digits (expected 4 ASCII digits)",
    ),
    "national_javascript_url.csv": (
        "national_series",
        "line 8, column 'source_url'",
        "'javascript:alert(document.cookie)' is not an http(s) URL: a source is cited by a web address",
    ),
    "national_missing_source.csv": (
        "national_series",
        "line 6, column 'source_url'",
        "empty value: every figure needs its source_url",
    ),
    "national_plus_sign_value.csv": (
        "national_series",
        "line 3, column 'value'",
        "number written '+46449' is not allowed: every value is plain ASCII digits (0-9) with '.' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "national_repeated_header.csv": (
        "national_series",
        "line 7",
        "the header line is repeated inside the table (two files pasted together?)",
    ),
    "national_wrong_separator.csv": (
        "national_series",
        "line 1",
        "wrong separator: expected ',', the header is split by ';'",
    ),
    "r3_chained_duplicate_of.csv": (
        "national_series",
        "line 8, column 'duplicate_of'",
        "duplicate_of must point to the row to print, not to another duplicate (or to itself)",
    ),
    "r3_dangling_duplicate_of.csv": (
        "national_series",
        "line 7, column 'duplicate_of'",
        "duplicate_of 'vff-9999' names no row of this file",
    ),
    "r3_duplicate_row_id.csv": (
        "national_series",
        "line 6",
        "duplicate row for key (row_id='vff-0002'): same key as line 3",
    ),
    "r3_empty_reference_period.csv": (
        "national_series",
        "line 10, column 'reference_period'",
        "empty value: every figure states its reference period",
    ),
    "r3_javascript_read_at.csv": (
        "national_series",
        "line 4, column 'read_at'",
        "'javascript:alert(1)' is not an http(s) URL: the page a figure was read on",
    ),
    "r3_period_explicit_oui.csv": (
        "national_series",
        "line 4, column 'period_explicit'",
        "unknown period_explicit 'oui' (not one of the 2 known period_explicits of this layout)",
    ),
    "r3_unknown_read_at_kind.csv": (
        "national_series",
        "line 5, column 'read_at_kind'",
        "unknown read_at_kind 'press' (not one of the 3 known read_at_kinds of this layout)",
    ),
    "reference_fullwidth_code.csv": (
        "geography_reference",
        "line 2, column 'code_departement'",
        "unknown département code '０１' (not one of the 101 départements)",
    ),
    "reference_missing_departement.csv": (
        "geography_reference",
        "whole file",
        "incomplete reference: département(s) 976 missing",
    ),
    "reference_nul_byte.csv": (
        "geography_reference",
        "line 4",
        "NUL byte (0x00) in a text file: the file is corrupted, or saved as UTF-16 (re-save it as UTF-8)",
    ),
    "reference_region_contradiction.csv": (
        "geography_reference",
        "line 29, column 'code_region'",
        "région 52 contradicts the COG 2024 (geography.REGION_OF): département 29 is in région 53",
    ),
    "region_rate_mismatch.csv": (
        "ssmsi_region",
        "line 5, column 'taux_pour_mille'",
        "rate '99' does not match count '2186' and population '881348' (1,000 x count / population = 2.4802916)",
    ),
    "region_unknown_code.csv": (
        "ssmsi_region",
        "line 9, column 'Code_region'",
        "unknown région code '05' (not one of the 18 régions)",
    ),
    "ssmsi_arabic_indic_count.csv": (
        "ssmsi_departement",
        "line 8, column 'nombre'",
        "'٥٤٦' is written with non-ASCII digits: every count is written in ASCII digits (0-9)",
    ),
    "ssmsi_arabic_indic_year.csv": (
        "ssmsi_departement",
        "line 10, column 'annee'",
        "not a year: '٢٠٢٤' written with non-ASCII digits (expected 4 ASCII digits)",
    ),
    "ssmsi_bidi_override_departement.csv": (
        "ssmsi_departement",
        "line 13, column 'Code_departement'",
        "unknown département code '\\u202e12' (not one of the 101 départements)",
    ),
    "ssmsi_control_char_indicator.csv": (
        "ssmsi_departement",
        "line 11, column 'indicateur'",
        "unknown indicator 'Violences\\x07sexuelles' (not one of the 18 known indicators of this layout)",
    ),
    "ssmsi_cut_at_line_break.csv": (
        "ssmsi_departement",
        "whole file",
        "incomplete table: indicator 'Homicides' has no row for département(s) 06, 07, 08, 09, 10, 11, 12, 13 in 2024 (5 of 13): rows removed, or a file cut short",
    ),
    "ssmsi_devanagari_population.csv": (
        "ssmsi_departement",
        "line 14, column 'insee_pop'",
        "'२०६९८११' is written with non-ASCII digits: every population is written in ASCII digits (0-9)",
    ),
    "ssmsi_duplicate_key.csv": (
        "ssmsi_departement",
        "line 10",
        "duplicate row for key (indicateur='Violences sexuelles', annee=2024, Code_departement='03', unite_de_compte='Victime'): same key as line 4",
    ),
    "ssmsi_empty.csv": ("ssmsi_departement", "whole file", "empty file: no header and no rows"),
    "ssmsi_empty_count.csv": (
        "ssmsi_departement",
        "line 7, column 'nombre'",
        "empty value: every count must be a number",
    ),
    "ssmsi_exponent_count.csv": (
        "ssmsi_departement",
        "line 6, column 'nombre'",
        "number written '1e3' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "ssmsi_fullwidth_count.csv": (
        "ssmsi_departement",
        "line 6, column 'nombre'",
        "'３２７' is written with non-ASCII digits: every count is written in ASCII digits (0-9)",
    ),
    "ssmsi_fullwidth_rate.csv": (
        "ssmsi_departement",
        "line 12, column 'taux_pour_mille'",
        "'１,7709047' is written with non-ASCII digits: every rate is written in ASCII digits (0-9)",
    ),
    "ssmsi_fullwidth_year.csv": (
        "ssmsi_departement",
        "line 9, column 'annee'",
        "not a year: '２０２４' written with non-ASCII digits (expected 4 ASCII digits)",
    ),
    "ssmsi_header_only.csv": ("ssmsi_departement", "whole file", "empty file: a header but no data rows"),
    "ssmsi_huge_exponent_count.csv": (
        "ssmsi_departement",
        "line 4, column 'nombre'",
        "number written '1e308' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "ssmsi_inf_rate.csv": (
        "ssmsi_departement",
        "line 5, column 'taux_pour_mille'",
        "number written 'inf' is not allowed: every rate is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "ssmsi_latin1.csv": (
        "ssmsi_departement",
        "line 6",
        "not valid UTF-8 (byte 0xe9) near '\";\"Destructions et dégradations volontai'; it looks like Latin-1/Windows-1252: re-save the file as UTF-8",
    ),
    "ssmsi_missing_column.csv": (
        "ssmsi_departement",
        "column 'taux_pour_mille'",
        "missing column 'taux_pour_mille' (layout 'edition-2024')",
    ),
    "ssmsi_nbsp_thousands_count.csv": (
        "ssmsi_departement",
        "line 7, column 'nombre'",
        "non-numeric value '1\\xa0588': every count must be a number",
    ),
    "ssmsi_negative_count.csv": (
        "ssmsi_departement",
        "line 5, column 'nombre'",
        "negative value '-312': every count must be >= 0",
    ),
    "ssmsi_non_numeric_count.csv": (
        "ssmsi_departement",
        "line 9, column 'nombre'",
        "non-numeric value 'n.d.': every count must be a number",
    ),
    "ssmsi_nul_byte.csv": (
        "ssmsi_departement",
        "line 11",
        "NUL byte (0x00) in a text file: the file is corrupted, or saved as UTF-16 (re-save it as UTF-8)",
    ),
    "ssmsi_plus_sign_count.csv": (
        "ssmsi_departement",
        "line 8, column 'nombre'",
        "number written '+5' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "ssmsi_population_zero.csv": (
        "ssmsi_departement",
        "line 7, column 'insee_pop'",
        "population 0: a population must be > 0",
    ),
    "ssmsi_rate_mismatch.csv": (
        "ssmsi_departement",
        "line 10, column 'taux_pour_mille'",
        "rate '9,9999999' does not match count '297' and population '155339' (1,000 x count / population = 1.9119474)",
    ),
    "ssmsi_region_contradiction.csv": (
        "ssmsi_departement",
        "line 5, column 'Code_region'",
        "région 11 contradicts the geography reference: département 04 is in région 93",
    ),
    "ssmsi_renamed_column.csv": (
        "ssmsi_departement",
        "column 'nombre'",
        "missing column 'nombre' (layout 'edition-2024'); unexpected column(s) 'nb_victimes': renamed?",
    ),
    "ssmsi_repeated_header.csv": (
        "ssmsi_departement",
        "line 8",
        "the header line is repeated inside the table (two files pasted together?)",
    ),
    "ssmsi_thousands_dot_count.csv": (
        "ssmsi_departement",
        "line 9, column 'nombre'",
        "number written '1.073' is not allowed: every count is plain ASCII digits (0-9) with ',' as decimal mark (no sign, exponent, thousands separator or special value)",
    ),
    "ssmsi_truncated.csv": (
        "ssmsi_departement",
        "line 14",
        "truncated file: the last line has 5 of the header's 11 fields",
    ),
    "ssmsi_truncated_quote.csv": (
        "ssmsi_departement",
        "line 14",
        "truncated file: it ends inside a quoted field",
    ),
    "ssmsi_unknown_departement.csv": (
        "ssmsi_departement",
        "line 6, column 'Code_departement'",
        "unknown département code '20' (not one of the 101 départements)",
    ),
    "ssmsi_unknown_indicator.csv": (
        "ssmsi_departement",
        "line 8, column 'indicateur'",
        "unknown indicator 'Violences sexuelles et sexistes' (not one of the 18 known indicators of this layout)",
    ),
    "ssmsi_utf16.csv": (
        "ssmsi_departement",
        "line 1",
        "NUL byte (0x00) in a text file: the file is corrupted, or saved as UTF-16 (re-save it as UTF-8)",
    ),
    "ssmsi_wrong_separator.csv": (
        "ssmsi_departement",
        "line 1",
        "wrong separator: expected ';', the header is split by ','",
    ),
    "ssmsi_year_out_of_range.csv": (
        "ssmsi_departement",
        "line 12, column 'annee'",
        "year out of range: 2042 (from '2042') is outside 2000..{this_year}",
    ),
}


def _snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    """Every file under the folders, with size and modification time.

    ``build/`` is left out on purpose: other tests (run in parallel by ``make test``) write there. ``data/raw/``
    is compared by file names only, since a parallel worker's fetch may still be renaming a verified copy.
    """
    state = {}
    for folder in folders:
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file():
                    stat = path.stat()
                    state[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return state


def _raw_names() -> set[str]:
    """The names in ``data/raw/`` a bad file could have written: not the catalogued files and not the hidden
    temporary copies, which a parallel worker's fetch (the ``raw_data`` fixture) may be writing meanwhile."""
    catalogued = {source.file for source in catalogue.load_catalogue().values()}
    if not paths.RAW.exists():
        return set()
    return {
        p.name
        for p in paths.RAW.iterdir()
        if p.name not in catalogued
        and not (p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.startswith(".fetch-")))
    }


def test_the_corpus_has_at_least_150_cases():
    """Every case table of tests/corpus.py counted: one fault each, its exact message, nothing changed."""
    import importlib

    counts = {
        f"{module}.{table}": len(getattr(importlib.import_module(module), table))
        for module, table in corpus.TABLES
    }
    assert sum(counts.values()) >= 150, counts


def test_corpus_and_cases_match():
    files = {p.name for p in BAD.iterdir() if p.name != "README.md"}
    assert files == set(CASES)
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in CASES)
    assert len(CASES) >= 64


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_gives_one_clear_input_error(name, tmp_path):
    loader, place, rule = CASES[name]
    path = tmp_path / name
    shutil.copyfile(BAD / name, path)
    before = _snapshot(tmp_path, BAD)
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        datasets.load_file(path, loader, "bad_source", "2024")
    error = caught.value
    assert str(error) == f"{name}: {place}: {rule.format(this_year=schema.current_year())}"
    assert "\n" not in str(error)
    assert Path(error.file).name == name
    assert _snapshot(tmp_path, BAD) == before  # nothing written beside the file either


def test_real_layouts_pass_the_same_rules(raw_data):
    """The rules accept every real file (the corpus is rejected, the published files are not)."""
    for source in catalogue.load_catalogue().values():
        datasets.load_file(catalogue.raw_path(source.id), source.loader, source.id, source.edition)


def test_datasets_load_of_a_bad_file_writes_nothing_and_caches_nothing(raw_data, monkeypatch):
    bad = BAD / "ssmsi_negative_count.csv"
    datasets.clear_cache()
    before = _snapshot(paths.CURATED, BAD), _raw_names()
    monkeypatch.setattr(catalogue, "ensure", lambda source_id: bad)
    with pytest.raises(
        InputError, match=r"ssmsi_negative_count\.csv: line 5, column 'nombre': negative value"
    ):
        datasets.ssmsi_departement("ssmsi_dep_2024")
    with pytest.raises(InputError):
        datasets.ssmsi_national("ssmsi_dep_2024")
    monkeypatch.undo()
    assert (_snapshot(paths.CURATED, BAD), _raw_names()) == before
    assert len(datasets.ssmsi_departement("ssmsi_dep_2024")) == 15_453  # the failure was not cached


def test_rebuild_of_the_curated_copy_leaves_the_target_alone_on_bad_input(raw_data, tmp_path):
    target = tmp_path / "national_series.csv"
    target.write_text("previous content\n", encoding="utf-8")
    files = {
        "national_series_vff_r2": catalogue.raw_path("national_series_vff_r2"),
        "national_series_supplement_r2": BAD / "national_missing_source.csv",
    }
    with pytest.raises(InputError, match="source_url"):
        national_series.rebuild_curated(files, target)
    assert target.read_text(encoding="utf-8") == "previous content\n"
    assert sorted(os.listdir(tmp_path)) == ["national_series.csv"]  # no temporary file left


# ----------------------------------------------------------------------------------------------------------------
# INSEE rules on a real sheet with one cell changed
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sheet_2024(raw_data) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_excel(
            catalogue.raw_path("insee_pop_gca"), sheet_name="2024", header=None, engine="xlrd"
        )


def _row_of(cells: pd.DataFrame, label: str) -> int:
    return int(np.flatnonzero(cells[0].astype(str).str.strip() == label)[0])


def test_real_sheet_parses(sheet_2024):
    long, subtotals, provisional = insee_population.parse_sheet(sheet_2024, 2024, Path("gca.xls"))
    assert provisional and long["geo_code"].nunique() == 101
    assert set(subtotals["subtotal"]) == set(insee_population.SUBTOTALS)


#: change -> the exact error of the INSEE sheet with that one change (see :func:`_changed_sheet`).
INSEE_CASES: dict[str, str] = {
    "women": "estim-pop.xls: sheet '2024', row 6: men + women != total for age group 0-19",
    "band": "estim-pop.xls: sheet '2024', row 6: age bands do not add up to the Total column (total)",
    "code": "estim-pop.xls: sheet '2024', row 6: unknown département code '99' (not one of the 101 départements)",
    "subtotal": "estim-pop.xls: sheet '2024', row 109: subtotal 'France métropolitaine et DOM' (total, all) is 68,373,443 but its départements add up to 68,373,433",
    "empty": "estim-pop.xls: sheet '2024', row 6, column 3: empty value for total 0-19",
    "negative": "estim-pop.xls: sheet '2024', row 6, column 3: population must be a whole number >= 0 (found -5.0)",
    "title": "estim-pop.xls: sheet '2024', row 2: the sheet's title says 'Année 2023', its name says 2024",
    "duplicate": "estim-pop.xls: sheet '2024', row 7: duplicate row for département 01 (first at row 6)",
}


def _changed_sheet(sheet: pd.DataFrame, change: str) -> pd.DataFrame:
    """A copy of a real INSEE sheet with one cell (or row) changed."""
    cells = sheet.copy()
    ain = _row_of(cells, "01")
    if change == "women":  # women 0-19 of Ain + 1: men + women no longer equal the total
        cells.iat[ain, 14] = cells.iat[ain, 14] + 1
    elif change == "band":  # every sex's 0-19 + 1 keeps men + women = total but breaks the Total column
        for column in (2, 8, 14):
            cells.iat[ain, column] = cells.iat[ain, column] + 1
        cells.iat[ain, 2] = cells.iat[ain, 8] + cells.iat[ain, 14]
    elif change == "code":
        cells.iat[ain, 0] = "99"
    elif change == "subtotal":
        row = _row_of(cells, "France métropolitaine et DOM")
        cells.iat[row, 7] = cells.iat[row, 7] + 10
    elif change == "empty":
        cells.iat[ain, 2] = np.nan
    elif change == "negative":
        cells.iat[ain, 2] = -5.0
    elif change == "title":
        cells.iat[1, 0] = "Année 2023"
    elif change == "duplicate":
        cells.iloc[ain + 1] = cells.iloc[ain]
    return cells


@pytest.mark.parametrize("change", sorted(INSEE_CASES))
def test_insee_sheet_rules(sheet_2024, change):
    cells = _changed_sheet(sheet_2024, change)
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        insee_population.parse_sheet(cells, 2024, Path("estim-pop.xls"))
    assert str(caught.value) == INSEE_CASES[change]


# ----------------------------------------------------------------------------------------------------------------
# Helpers: pandera failures become InputErrors that name the line and the file's column
# ----------------------------------------------------------------------------------------------------------------


def _frame(**changes) -> pd.DataFrame:
    row = {
        "indicator": "Violences sexuelles",
        "year": 2024,
        "geo_level": "departement",
        "geo_code": "01",
        "sex": "total",
        "age_group": "all",
        "value": 3.0,
        "unit": "Victime",
        "source_id": "s",
        "edition": "e",
    }
    frame = pd.DataFrame([row, row, row], index=pd.Index([2, 3, 4], name="line"))
    for column, value in changes.items():
        frame.loc[3, column] = value
    return frame


#: (column, value) -> the exact error of a harmonised table whose line 3 has that value.
SCHEMA_CASES: dict[tuple[str, str], str] = {
    (
        "geo_level",
        "commune",
    ): "f.csv: line 3, column 'geo_level': geo_level must be departement/region/france (found 'commune')",
    (
        "geo_code",
        "1",
    ): "f.csv: line 3, column 'Code_dep': geo_code must be a canonical département/région code or FR (found '1')",
    (
        "geo_code",
        "０１",
    ): "f.csv: line 3, column 'Code_dep': geo_code must be a canonical département/région code or FR (found '０１')",
    ("sex", "women"): "f.csv: line 3, column 'sex': sex must be total/female/male (found 'women')",
    (
        "age_group",
        "15 à 19 ans",
    ): "f.csv: line 3, column 'age_group': age_group must be all, a-b or a+ (found '15 à 19 ans')",
    (
        "age_group",
        "１５-19",
    ): "f.csv: line 3, column 'age_group': age_group must be all, a-b or a+ (found '１５-19')",
    ("indicator", ""): "f.csv: line 3, column 'indicator': must not be empty (found '')",
}


@pytest.mark.parametrize(("column", "value"), sorted(SCHEMA_CASES))
def test_schema_failures_name_line_and_column(column, value):
    with corpus.unchanged(), pytest.raises(InputError) as caught:
        schema.validate(_frame(**{column: value}), schema.HARMONISED, "f.csv", names={"geo_code": "Code_dep"})
    assert str(caught.value) == SCHEMA_CASES[(column, value)]


def test_schema_missing_column():
    with pytest.raises(InputError, match="column 'unit'"):
        schema.validate(_frame().drop(columns="unit"), schema.HARMONISED, "f.csv")


def test_separator_and_encoding_helpers(tmp_path):
    tabbed = tmp_path / "t.csv"
    tabbed.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"line 1: wrong separator: expected ';', the header is split by '\\t'"
    ):
        schema.read_delimited(tabbed, ";", {"x": ("a", "b")})
    blank = tmp_path / "b.csv"
    blank.write_text("a;b\n1;2\n\n3;4\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3: blank line inside the table"):
        schema.read_delimited(blank, ";", {"x": ("a", "b")})
    extra = tmp_path / "e.csv"
    extra.write_text("a;b\n1;2;3\n4;5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: line has 3 fields where the header has 2"):
        schema.read_delimited(extra, ";", {"x": ("a", "b")})
    crlf = tmp_path / "c.csv"
    crlf.write_bytes(b"\xef\xbb\xbfa;b\r\n1;2\r\n3;4\r\n\r\n")
    layout, frame = schema.read_delimited(crlf, ";", {"x": ("a", "b")})
    assert layout == "x" and frame.index.tolist() == [2, 3] and frame["b"].tolist() == ["2", "4"]
    with pytest.raises(InputError, match="missing file|cannot be read"):
        schema.read_text(tmp_path / "absent.csv")
    repeated = tmp_path / "r.csv"
    repeated.write_text("a;a\n1;2\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate column name"):
        schema.read_delimited(repeated, ";", {"x": ("a", "b")})


def test_geography_errors_are_input_errors():
    with pytest.raises(InputError, match=r"x\.csv: line 4: unknown département code '00'"):
        geography.normalise_departement("00", "x.csv", "line 4")
