"""Cross-checks on the real files: the loaders' tables must agree with the producers' own totals.

These are the project's backtests. The national totals below were computed once from the raw files with the csv
module and frozen: a loader change that moves any of them fails here, and so does a raw file that changes under
the same name. SOURCES.md quotes several of them (122,610 and 192,978 in 2024; 37,742 in edition 2023 for 2016).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from observatoire.data import catalogue, datasets, geography
from observatoire.data.loaders import insee_population
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, INTRAFAMILY_2025, SEXUAL

YEARS_2024 = range(2016, 2025)

#: National yearly totals of victims (sum of every row of the file, un-localised rows included), frozen.
FROZEN: dict[str, dict[str, dict[int, int]]] = {
    "ssmsi_dep_2024": {
        SEXUAL: {
            2016: 51_913,
            2017: 57_003,
            2018: 67_472,
            2019: 75_329,
            2020: 77_089,
            2021: 96_385,
            2022: 106_114,
            2023: 114_079,
            2024: 122_610,
        },
        INTRAFAMILY: {
            2016: 95_079,
            2017: 96_377,
            2018: 104_649,
            2019: 120_326,
            2020: 132_621,
            2021: 151_676,
            2022: 177_156,
            2023: 191_679,
            2024: 192_978,
        },
    },
    "ssmsi_dep_2023": {
        SEXUAL: {
            2016: 37_742,
            2017: 42_126,
            2018: 50_314,
            2019: 57_080,
            2020: 58_764,
            2021: 78_467,
            2022: 87_633,
            2023: 94_864,  # 94,863 in the départements + 1 un-localised victim
        },
        INTRAFAMILY: {
            2016: 100_179,
            2017: 101_693,
            2018: 111_741,
            2019: 129_727,
            2020: 143_488,
            2021: 166_363,
            2022: 194_503,
            2023: 212_615,
        },
    },
    "ssmsi_dep_2024_geo2025": {
        SEXUAL: {
            2016: 51_913,
            2017: 57_003,
            2018: 67_472,
            2019: 75_329,
            2020: 77_089,
            2021: 96_385,
            2022: 106_114,
            2023: 114_079,
            2024: 122_444,  # revised in the June 2025 re-release
        },
        INTRAFAMILY_2025: {
            2016: 113_821,
            2017: 117_685,
            2018: 129_216,
            2019: 148_546,
            2020: 163_702,
            2021: 187_743,
            2022: 216_822,
            2023: 238_211,
            2024: 244_360,
        },
    },
}

_COLUMNS = {
    # layout: (indicator, year, count, département, rate, population); legacy years have two digits
    "ssmsi_dep_2024": ("indicateur", "annee", "nombre", "Code_departement", "taux_pour_mille", "insee_pop"),
    "ssmsi_dep_2024_geo2025": (
        "indicateur",
        "annee",
        "nombre",
        "code_departement",
        "taux_pour_mille",
        "insee_pop",
    ),
    "ssmsi_dep_2023": ("classe", "annee", "faits", "Code.département", "tauxpourmille", "POP"),
    "ssmsi_reg_2024": ("indicateur", "annee", "nombre", "Code_region", "taux_pour_mille", "insee_pop"),
}


def _raw_rows(source_id: str) -> list[dict[str, str]]:
    """Rows of a raw SSMSI file, read with the csv module only (independent of the loaders)."""
    path = catalogue.raw_path(source_id)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _raw_totals(source_id: str, departements_only: bool = False) -> dict[tuple[str, int], int]:
    indicator, year, count, dep, _, _ = _COLUMNS[source_id]
    totals: dict[tuple[str, int], int] = defaultdict(int)
    for row in _raw_rows(source_id):
        if departements_only and row[dep] == "NA":
            continue
        y = int(row[year])
        totals[(row[indicator], y + 2000 if y < 100 else y)] += int(row[count])
    return totals


# ----------------------------------------------------------------------------------------------------------------
# The acceptance test: national totals = independent csv sums = frozen values
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", list(FROZEN))
def test_national_totals_equal_independent_sums_and_frozen_values(raw_data, source_id):
    national = datasets.ssmsi_national(source_id)
    raw = _raw_totals(source_id)
    for indicator, frozen in FROZEN[source_id].items():
        rows = national[(national["indicator"] == indicator) & (national["unit"] == "Victime")]
        computed = {int(y): int(v) for y, v in zip(rows["year"], rows["value"], strict=True)}
        independent = {y: raw[(indicator, y)] for y in frozen}
        assert computed == independent == frozen, indicator
        assert set(rows["edition"]) == {catalogue.get_source(source_id).edition}


def test_departement_tables_sum_to_the_departement_rows_only(raw_data):
    """The département table leaves un-localised rows out; the national totals add them back."""
    for source_id in FROZEN:
        table = datasets.ssmsi_departement(source_id)
        sums = table.groupby(["indicator", "year"])["value"].sum()
        raw = _raw_totals(source_id, departements_only=True)
        assert {k: int(v) for k, v in sums.items()} == dict(raw)
    legacy = datasets.ssmsi_departement("ssmsi_dep_2023")
    assert legacy.query("indicator == @SEXUAL and year == 2023")["value"].sum() == 94_863


def test_editions_are_never_spliced(raw_data):
    national_2023 = datasets.ssmsi_national("ssmsi_dep_2023")
    national_2024 = datasets.ssmsi_national("ssmsi_dep_2024")
    assert set(national_2023["edition"]) == {"2023"} and set(national_2024["edition"]) == {"2024"}
    vs_2016 = {
        edition: table.query("indicator == @SEXUAL and year == 2016")["value"].item()
        for edition, table in (("2023", national_2023), ("2024", national_2024))
    }
    assert vs_2016 == {"2023": 37_742, "2024": 51_913}


# ----------------------------------------------------------------------------------------------------------------
# SSMSI: départements = régions, rates, coverage
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("indicator", [INTRAFAMILY, SEXUAL])
def test_departement_sums_equal_the_regional_file(raw_data, indicator):
    dep = datasets.ssmsi_departement("ssmsi_dep_2024")
    reg = datasets.ssmsi_region("ssmsi_reg_2024")
    regions = datasets.geography().set_index("code_departement")["code_region"]
    dep = dep[dep["indicator"] == indicator].assign(region=lambda d: d["geo_code"].map(regions))
    summed = dep.groupby(["region", "year"])["value"].sum()
    published = reg[reg["indicator"] == indicator].set_index(["geo_code", "year"])["value"]
    published.index.names = ["region", "year"]
    assert len(published) == 18 * 9
    pd.testing.assert_series_equal(summed.sort_index(), published.sort_index(), check_names=False)


def test_ssmsi_region_column_agrees_with_the_reference(raw_data):
    regions = datasets.geography().set_index("code_departement")["code_region"].to_dict()
    for row in _raw_rows("ssmsi_dep_2024"):
        assert regions[row["Code_departement"]] == row["Code_region"]


def _printed_tolerance(text: str) -> float:
    """Half a unit of the last printed digit (fixed or scientific notation), plus float rounding slack."""
    value = Decimal(text.replace(",", "."))
    return 0.5 * float(Decimal(1).scaleb(value.as_tuple().exponent)) + 1e-12 * abs(float(value))


@pytest.mark.parametrize("source_id", list(_COLUMNS))
def test_published_rates_equal_counts_over_population(raw_data, source_id):
    """taux_pour_mille = count / insee_pop × 1000 to the printed precision, for every row with a population.

    Except "Cambriolages de logement", a rate per 1,000 dwellings (SSMSI's insee_log), not inhabitants.
    """
    indicator, _, count, dep, rate, population = _COLUMNS[source_id]
    checked = 0
    for row in _raw_rows(source_id):
        if row[dep] == "NA" or row[indicator] == "Cambriolages de logement":
            continue
        recomputed = int(row[count]) / int(row[population]) * 1000
        published = float(row[rate].replace(",", "."))
        assert abs(recomputed - published) <= _printed_tolerance(row[rate]), row
        checked += 1
    assert checked > 2_500
    # and the loader carries the same numbers
    table = datasets.load(source_id)
    table = table[table["indicator"] != "Cambriolages de logement"]
    ratio = table["value"] / table["population"] * 1000
    assert ((ratio - table["published_rate"]).abs() < 1e-6).all()


@pytest.mark.parametrize("source_id", ["ssmsi_dep_2024", "ssmsi_dep_2024_geo2025", "ssmsi_dep_2023"])
def test_every_departement_every_year(raw_data, source_id):
    table = datasets.ssmsi_departement(source_id)
    reference = set(datasets.geography()["code_departement"])
    years = sorted(table["year"].unique())
    assert years == list(range(2016, 2025 if source_id != "ssmsi_dep_2023" else 2024))
    for (indicator, year), codes in table.groupby(["indicator", "year"])["geo_code"]:
        assert set(codes) == reference and len(codes) == 101, (indicator, year)


def test_ssmsi_2024_uses_the_2022_census_for_2023_and_2024(raw_data):
    table = datasets.ssmsi_departement("ssmsi_dep_2024")
    latest = table[(table["year"] >= 2022) & (table["indicator"] == SEXUAL)]
    assert latest.groupby("year")["population"].sum().tolist() == [68_017_091] * 3
    assert set(latest.loc[latest["geo_code"] != "976", "population_vintage"]) == {2022}


# ----------------------------------------------------------------------------------------------------------------
# INSEE
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", ["insee_pop_gca", "insee_pop_aq"])
def test_insee_men_plus_women_equal_total(raw_data, source_id):
    pop = datasets.population(source_id)
    wide = pop.set_index(["year", "geo_code", "age_group", "sex"])["value"].unstack("sex")
    assert wide.notna().all().all()
    assert (wide["male"] + wide["female"] == wide["total"]).all()
    assert len(wide) == len(pop) / 3


@pytest.mark.parametrize("source_id", ["insee_pop_gca", "insee_pop_aq"])
def test_insee_departement_sums_equal_insee_subtotals(raw_data, source_id):
    pop = datasets.population(source_id)
    subtotals = insee_population.subtotals(catalogue.raw_path(source_id))
    scopes = {
        "France métropolitaine": geography.METROPOLITAN,
        "DOM": geography.OVERSEAS,
        "France métropolitaine et DOM": geography.DEPARTEMENTS,
    }
    compared = 0
    for label, codes in scopes.items():
        inside = pop[pop["geo_code"].isin(codes)]
        sums = inside.groupby(["year", "sex", "age_group"])["value"].agg(["sum", "count"])
        members = inside.groupby("year")["geo_code"].nunique()
        rows = subtotals[subtotals["subtotal"] == label].set_index(["year", "sex", "age_group"])["value"]
        for (year, sex, age), value in rows.items():
            if (year, sex, age) in sums.index and sums.at[(year, sex, age), "count"] == members[year]:
                assert sums.at[(year, sex, age), "sum"] == value, (label, year, sex, age)
                compared += 1
    assert compared > 1_000


def test_insee_national_figures_quoted_in_sources(raw_data):
    """SOURCES.md: 2024 sum 68,373,433 (women 35,255,688); 2023 five-year file 68,042,591 (women 35,122,214)."""
    for source_id, year, total, women in (
        ("insee_pop_gca", 2024, 68_373_433, 35_255_688),
        ("insee_pop_aq", 2023, 68_042_591, 35_122_214),
    ):
        pop = datasets.population(source_id)
        rows = pop[(pop["year"] == year) & (pop["age_group"] == "all")].groupby("sex")["value"].sum()
        assert (rows["total"], rows["female"]) == (total, women)
        independent = _xlrd_national_row(catalogue.raw_path(source_id), year)
        assert independent == (total, women)


def _xlrd_national_row(path: Path, year: int) -> tuple[int, int]:
    """INSEE's own "France métropolitaine et DOM" row, read with xlrd directly: (total, women) all ages."""
    import xlrd

    sheet = xlrd.open_workbook(path, on_demand=True).sheet_by_name(str(year))
    header = sheet.row_values(4)
    totals = [i for i, label in enumerate(header) if label == "Total"]
    for row in range(sheet.nrows):
        if str(sheet.cell_value(row, 0)).strip() == "France métropolitaine et DOM":
            values = sheet.row_values(row)
            return int(values[totals[0]]), int(values[totals[2]])
    raise AssertionError("no national row")


@pytest.mark.parametrize("source_id", ["insee_pop_gca", "insee_pop_aq"])
def test_insee_coverage(raw_data, source_id):
    pop = datasets.population(source_id)
    reference = set(datasets.geography()["code_departement"])
    codes = pop.groupby("year")["geo_code"].agg(set)
    assert all(codes[y] == reference for y in codes.index if y >= 2014)
    assert all("976" not in codes[y] for y in codes.index if y < 2014)
    assert all(codes[y] == reference - {"976"} for y in codes.index if 1990 <= y < 2014)
    assert all(codes[y] == set(geography.METROPOLITAN) for y in codes.index if y < 1990)
