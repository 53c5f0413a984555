"""The loaders on the real files: harmonised shape, layouts detected from headers, names kept, editions apart."""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest

from observatoire.core import paths
from observatoire.data import catalogue, datasets, themes
from observatoire.data.loaders import (
    LOADER_NAMES,
    get_loader,
    insee_population,
    national_series,
    schema,
    ssmsi_departement,
)
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, INTRAFAMILY_2025, SEXUAL

HARMONISED = list(schema.HARMONISED_COLUMNS)
SSMSI_COLUMNS = HARMONISED + ["population", "published_rate", "population_vintage"]


def test_every_catalogue_loader_exists():
    for source in catalogue.load_catalogue().values():
        assert source.loader in LOADER_NAMES
        assert callable(get_loader(source.loader))
    with pytest.raises(KeyError):
        get_loader("nope")


def test_indicator_constants():
    assert INTRAFAMILY == "Coups et blessures volontaires intrafamiliaux"
    assert SEXUAL == "Violences sexuelles"
    assert INTRAFAMILY_2025 == "Violences physiques intrafamiliales"


# ----------------------------------------------------------------------------------------------------------------
# SSMSI
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_id", "rows", "years", "indicators"),
    [
        ("ssmsi_dep_2024", 15_453, range(2016, 2025), 17),
        ("ssmsi_dep_2024_geo2025", 16_362, range(2016, 2025), 18),
        ("ssmsi_dep_2023", 13_056 - 128, range(2016, 2024), 16),
    ],
)
def test_ssmsi_departement_tables(raw_data, source_id, rows, years, indicators):
    table = datasets.ssmsi_departement(source_id)
    source = catalogue.get_source(source_id)
    assert list(table.columns) == SSMSI_COLUMNS
    assert len(table) == rows
    assert sorted(table["year"].unique()) == list(years)
    assert table["indicator"].nunique() == indicators
    assert table["geo_code"].nunique() == 101
    assert set(table["geo_level"]) == {"departement"}
    assert set(table["sex"]) == {"total"} and set(table["age_group"]) == {"all"}
    assert set(table["source_id"]) == {source_id} and set(table["edition"]) == {source.edition}
    assert set(table["unit"]) <= {"Victime", "Victime entendue", "Infraction", "Véhicule", "Mis en cause"}
    assert table[["value", "population", "published_rate", "population_vintage"]].notna().all().all()
    assert table["year"].dtype == "int64" and table["value"].dtype == "float64"
    assert str(table["geo_code"].dtype) == "str"
    assert set(table["indicator"]) <= set(
        ssmsi_departement.known_indicators(
            {
                "ssmsi_dep_2024": "edition-2024",
                "ssmsi_dep_2024_geo2025": "geo2025",
                "ssmsi_dep_2023": "legacy-2023",
            }[source_id]
        )
    )


def test_ssmsi_names_are_kept_as_published(raw_data):
    """The 2025 nomenclature's broader indicator is never renamed to the old one, nor the other way round."""
    old = datasets.ssmsi_departement("ssmsi_dep_2024")
    new = datasets.ssmsi_departement("ssmsi_dep_2024_geo2025")
    legacy = datasets.ssmsi_departement("ssmsi_dep_2023")
    assert INTRAFAMILY in set(old["indicator"]) and INTRAFAMILY_2025 not in set(old["indicator"])
    assert INTRAFAMILY_2025 in set(new["indicator"]) and INTRAFAMILY not in set(new["indicator"])
    assert INTRAFAMILY in set(legacy["indicator"]) and SEXUAL in set(legacy["indicator"])
    assert set(legacy["indicator"]) < set(old["indicator"])  # the legacy classes are edition 2024's strings
    assert "Tentatives d'homicide" in set(new["indicator"]) and "Tentatives d'homicides" in set(
        old["indicator"]
    )


def test_ssmsi_codes_are_padded_and_units_capitalised(raw_data):
    new = datasets.ssmsi_departement("ssmsi_dep_2024_geo2025")
    assert {"01", "09", "2A", "2B", "971", "976"} <= set(new["geo_code"]) and "1" not in set(new["geo_code"])
    legacy = datasets.ssmsi_departement("ssmsi_dep_2023")
    victims = legacy[legacy["indicator"] == SEXUAL]
    assert set(victims["unit"]) == {"Victime"}
    assert set(legacy["unit"]) == {"Victime", "Victime entendue", "Infraction", "Véhicule", "Mis en cause"}


def test_ssmsi_values_match_the_raw_cells(raw_data):
    table = datasets.ssmsi_departement("ssmsi_dep_2024").set_index(["indicator", "year", "geo_code"])
    row = table.loc[(SEXUAL, 2024, "01")]
    assert row["value"] == 1073 and row["population"] == 671_289
    assert row["published_rate"] == pytest.approx(1.5984174, abs=1e-12)
    assert row["population_vintage"] == 2022
    legacy = datasets.ssmsi_departement("ssmsi_dep_2023").set_index(["indicator", "year", "geo_code"])
    assert legacy.loc[("Homicides", 2016, "01"), "published_rate"] == pytest.approx(7.83177350511023e-03)
    new = datasets.ssmsi_departement("ssmsi_dep_2024_geo2025").set_index(["indicator", "year", "geo_code"])
    assert new.loc[("Homicides", 2016, "02"), "published_rate"] == pytest.approx(0.018652)


def test_legacy_unlocalised_rows_are_set_apart_and_counted(raw_data):
    path = catalogue.raw_path("ssmsi_dep_2023")
    apart = ssmsi_departement.unlocalised(path, "ssmsi_dep_2023", "2023")
    assert list(apart.columns) == ["indicator", "year", "unit", "value", "source_id", "edition"]
    assert len(apart) == 128 and apart["value"].sum() == 1
    assert apart.loc[apart["value"] == 1, ["indicator", "year"]].values.tolist() == [[SEXUAL, 2023]]
    table = ssmsi_departement.load(path, "ssmsi_dep_2023", "2023")
    totals = ssmsi_departement.national_totals(table, apart)
    assert set(totals["geo_level"]) == {"france"} and set(totals["geo_code"]) == {"FR"}
    vs = totals[(totals["indicator"] == SEXUAL) & (totals["year"] == 2023)]
    assert vs["value"].item() == 94_864
    without = ssmsi_departement.national_totals(table)
    assert without.query("indicator == @SEXUAL and year == 2023")["value"].item() == 94_863
    # layouts without such rows return an empty frame of the same shape
    none = ssmsi_departement.unlocalised(catalogue.raw_path("ssmsi_dep_2024"), "ssmsi_dep_2024", "2024")
    assert none.empty and list(none.columns) == list(apart.columns)


@pytest.mark.parametrize(
    ("source_id", "disguise"),
    [
        ("ssmsi_dep_2024", "donnee-dep-2023.csv"),
        ("ssmsi_dep_2023", "donnee-dep-data.gouv-2024-geographie2025-produit-le2025-06-04.csv"),
        ("ssmsi_dep_2024_geo2025", "donnee-dep-data.gouv-2024-geographie2024-produit-le2025-01-26.csv"),
    ],
)
def test_layout_comes_from_the_header_not_the_file_name(raw_data, tmp_path, source_id, disguise):
    source = catalogue.get_source(source_id)
    copy = tmp_path / disguise
    shutil.copyfile(catalogue.raw_path(source_id), copy)
    loaded = ssmsi_departement.load(copy, source_id, source.edition)
    pd.testing.assert_frame_equal(loaded, datasets.ssmsi_departement(source_id))


def test_ssmsi_region(raw_data):
    table = datasets.ssmsi_region("ssmsi_reg_2024")
    assert list(table.columns) == SSMSI_COLUMNS
    assert len(table) == 2_916 and table["geo_code"].nunique() == 18
    assert set(table["geo_level"]) == {"region"}
    assert "Usage de stupéfiants (AFD)" in set(table["indicator"])
    with pytest.raises(ValueError, match="loader"):
        datasets.ssmsi_region("ssmsi_dep_2024")


# ----------------------------------------------------------------------------------------------------------------
# INSEE
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_id", "bands", "last_year", "provisional"),
    [
        ("insee_pop_gca", ["0-19", "20-39", "40-59", "60-74", "75+"], 2024, [2022, 2023, 2024]),
        ("insee_pop_aq", [f"{a}-{a + 4}" for a in range(0, 95, 5)] + ["95+"], 2023, [2021, 2022, 2023]),
    ],
)
def test_insee_tables(raw_data, source_id, bands, last_year, provisional):
    pop = datasets.population(source_id)
    assert list(pop.columns) == HARMONISED + ["provisional"]
    assert set(pop["indicator"]) == {"population"} and set(pop["unit"]) == {"persons"}
    assert set(pop["geo_level"]) == {"departement"}
    assert set(pop["sex"]) == {"female", "male", "total"}
    recent = pop[pop["year"] >= 1999]
    assert sorted(set(recent["age_group"])) == sorted(bands + ["all"])
    assert pop["year"].min() == 1975 and pop["year"].max() == last_year
    assert pop.attrs["provisional_years"] == provisional
    assert sorted(pop.loc[pop["provisional"], "year"].unique()) == provisional
    assert not pop.duplicated(["year", "geo_code", "sex", "age_group"]).any()
    assert pop["geo_code"].str.fullmatch(r"\d{2}|2[AB]|97[1-6]").all()  # subtotal rows dropped


def test_insee_values_match_the_workbook(raw_data):
    gca = datasets.population("insee_pop_gca").set_index(["year", "geo_code", "sex", "age_group"])["value"]
    assert gca[(2024, "01", "total", "0-19")] == 171_336
    assert gca[(2024, "01", "total", "all")] == 679_498
    assert gca[(2024, "976", "total", "all")] == 320_901
    aq = datasets.population("insee_pop_aq").set_index(["year", "geo_code", "sex", "age_group"])["value"]
    assert aq[(2023, "01", "total", "0-4")] == 37_167
    assert aq[(1995, "971", "total", "90+")] == 1_133  # 1990-1998: overseas block with a 90+ band
    assert (1995, "01", "total", "90-94") in aq.index


def test_insee_second_load_comes_from_the_cache(raw_data):
    """A second load of a workbook is served by the parse cache (same object content, parse not called)."""
    for source_id in ("insee_pop_gca", "insee_pop_aq"):
        path = catalogue.raw_path(source_id)
        insee_population._parse.cache_clear()
        insee_population._delivered.cache_clear()
        first = insee_population.load(path, source_id, "x")
        misses = insee_population._parse.cache_info().misses
        second = insee_population.load(path, source_id, "x")
        assert insee_population._parse.cache_info().misses == misses
        pd.testing.assert_frame_equal(first, second)


def test_women_population(raw_data):
    women = datasets.women_population(2023, 15, 64)
    assert list(women.columns) == ["geo_code", "value"] and women["geo_code"].tolist() == ["FR"]
    assert women.attrs["source_id"] == "insee_pop_aq" and women.attrs["provisional"] is True
    aq = datasets.population("insee_pop_aq")
    bands = [f"{a}-{a + 4}" for a in range(15, 65, 5)]
    chosen = aq[(aq["year"] == 2023) & (aq["sex"] == "female") & aq["age_group"].isin(bands)]
    expected = chosen["value"].sum()
    assert women["value"].item() == expected
    by_dep = datasets.women_population(2023, 15, 64, geo_level="departement")
    assert len(by_dep) == 101 and by_dep["value"].sum() == expected
    by_region = datasets.women_population(2023, 15, 64, geo_level="region")
    assert len(by_region) == 18 and by_region["value"].sum() == expected
    all_ages = datasets.women_population(2024, 0, None)
    assert all_ages["value"].item() == 35_255_688 and all_ages.attrs["source_id"] == "insee_pop_gca"
    with pytest.raises(datasets.MissingData, match="2024"):
        datasets.women_population(2024, 15, 64)  # never the neighbouring year
    with pytest.raises(LookupError):
        datasets.women_population(1960, 15, 64)
    with pytest.raises(datasets.MissingData):
        datasets.women_population(2023, 16, 64)  # no band starts at 16


# ----------------------------------------------------------------------------------------------------------------
# Reference and national series
# ----------------------------------------------------------------------------------------------------------------


def test_geography_reference(raw_data):
    ref = datasets.geography()
    assert len(ref) == 101 and ref["is_overseas"].sum() == 5
    assert datasets.load("geo_reference").equals(ref)


def _raw_compilation_rows(source_id):
    with open(catalogue.raw_path(source_id), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


#: The compilation the letters cite (publications/themes.yml, parameter national_source): the committed copy's.
LETTERS_SOURCE = themes.get_theme("annual").parameters_for(2024)["national_source"]


def test_every_letter_cites_the_same_compilation():
    sources = {
        themes.get_theme(t).parameters_for(2024)["national_source"]
        for t in ("annual", "traite", "violences_sexuelles")
    }
    assert sources == {LETTERS_SOURCE} == {"national_series_r3"}


def test_curated_national_series_equals_the_rebuild(raw_data, tmp_path):
    rebuilt = national_series.rebuild_curated(
        {LETTERS_SOURCE: catalogue.raw_path(LETTERS_SOURCE)}, tmp_path / "national_series.csv"
    )
    committed = paths.CURATED / "national_series.csv"
    assert committed.read_bytes() == rebuilt.read_bytes()


def test_curated_copy_changes_no_value(raw_data):
    with open(paths.CURATED / "national_series.csv", encoding="utf-8", newline="") as handle:
        curated = list(csv.reader(handle))
    raw = _raw_compilation_rows(LETTERS_SOURCE)
    assert curated[0] == raw[0] + ["compiled_in"] == list(national_series.R3_COLUMNS) + ["compiled_in"]
    assert curated[1:] == [row + [LETTERS_SOURCE] for row in raw[1:]]
    assert len(raw) - 1 == 328


def test_a_curated_copy_of_the_second_edition_still_rebuilds(raw_data, tmp_path):
    files = {
        sid: catalogue.raw_path(sid) for sid in ("national_series_vff_r2", "national_series_supplement_r2")
    }
    rows = national_series.curated_rows(files)
    assert rows[0] == list(national_series.CURATED_COLUMNS) and len(rows) == 1 + 182 + 138


def test_national_series(raw_data):
    ns = datasets.national_series(LETTERS_SOURCE)
    assert list(ns.columns) == HARMONISED + list(national_series.EXTRA_COLUMNS)
    assert len(ns) == 328
    assert set(ns["geo_level"]) == {"france"} and set(ns["geo_code"]) == {"FR"}
    assert (ns["source_id"] == ns["compiled_in"]).all() and set(ns["source_id"]) == {LETTERS_SOURCE}
    assert set(ns["edition"]) == {catalogue.get_source(LETTERS_SOURCE).edition} == {"2026-r3"}
    # the provenance of the third edition is kept
    assert ns["row_id"].is_unique and set(ns["period_explicit"]) == {"yes", "no"}
    assert ns["read_at_kind"].value_counts().to_dict() == {"relay": 229, "official": 96, "data_file": 3}
    assert (ns["producer"].str.strip() != "").all()
    # r3 dropped the "deployed" telephones (the parts add up to 827, not 837): the letters follow the data
    assert "telephones_grave_danger_deployes" not in set(ns["indicator"])
    vs = ns.query("indicator == 'victimes_violences_sexuelles_enregistrees' and year == 2024")
    assert vs["value"].tolist() == [122610.0] and vs["read_at_kind"].tolist() == ["data_file"]
    killed = ns.query("indicator == 'morts_violentes_couple' and year == 2016").set_index("sex")["value"]
    assert killed.to_dict() == {"female": 123, "male": 34, "total": 157}
    assert set(ns["sex"]) == {"female", "male", "total"}
    # another registered compilation is read from its own file, never mixed with the curated copy
    r2 = datasets.national_series("national_series_vff_r2")
    assert len(r2) == 182 and set(r2["source_id"]) == {"national_series_vff_r2"}
    one = national_series.load(catalogue.raw_path("national_series_vff"), "national_series_vff", "2025-11")
    assert len(one) == 171 and set(one["compiled_in"]) == {"national_series_vff"}


# ----------------------------------------------------------------------------------------------------------------
# datasets: cache and copies
# ----------------------------------------------------------------------------------------------------------------


def test_datasets_cache_returns_copies(raw_data):
    first = datasets.ssmsi_departement("ssmsi_dep_2024")
    first.loc[:, "value"] = -1.0
    del first["population"]
    second = datasets.ssmsi_departement("ssmsi_dep_2024")
    assert (second["value"] >= 0).all() and "population" in second
    assert datasets.population("insee_pop_gca").attrs["provisional_years"] == [2022, 2023, 2024]


def test_a_validated_source_is_checked_once_and_its_table_not_kept(raw_data, monkeypatch):
    """The build validates each edition's sources and reads no table afterwards (the kernels do): the table is
    checked (declaration, the edition before it) and dropped; the same file is not checked again."""
    datasets.clear_cache()
    checks = []
    real = datasets._check_completeness
    monkeypatch.setattr(
        datasets, "_check_completeness", lambda source, *args: (checks.append(source.id), real(source, *args))
    )
    datasets.validate("ssmsi_dep_2024")
    assert checks[:1] == ["ssmsi_dep_2024"]  # checked (the edition it follows too, when declared)
    assert datasets._cached.cache_info().currsize == 0  # nothing kept in this process
    count = len(checks)
    datasets.validate("ssmsi_dep_2024")
    assert len(checks) == count  # not checked again: same raw file, loader and declaration
    datasets.clear_cache()
    datasets.validate("ssmsi_dep_2024")
    assert len(checks) > count


def test_every_source_loads_through_datasets(raw_data):
    for source_id in catalogue.load_catalogue():
        table = datasets.load(source_id)
        assert len(table) > 0
        # the reference and the boundaries are not statistical tables (they have their own schemas)
        if source_id != "geo_reference" and catalogue.get_source(source_id).loader != "boundaries":
            assert list(table.columns[: len(HARMONISED)]) == HARMONISED
            schema.HARMONISED.validate(table)
