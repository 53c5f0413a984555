"""Département and région codes: one spelling everywhere, unknown codes rejected, overseas told apart."""

from __future__ import annotations

import pandas as pd
import pytest

from observatoire.core.errors import InputError
from observatoire.data import datasets, geography


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "01"),
        ("01", "01"),
        (1, "01"),
        (1.0, "01"),
        (" 9 ", "09"),
        ("2A", "2A"),
        ("2b", "2B"),
        ("95", "95"),
        ("971", "971"),
        (971.0, "971"),
        ("974", "974"),
        (976, "976"),
    ],
)
def test_codes_are_normalised(raw, expected):
    assert geography.normalise_departement(raw) == expected


@pytest.mark.parametrize(
    "raw", ["20", "00", "96", "975", "977", "2C", "", None, float("nan"), "1.5", "Ain", 1.5]
)
def test_unknown_codes_are_input_errors(raw):
    with pytest.raises(InputError, match="unknown département code"):
        geography.normalise_departement(raw, file="somewhere.csv", place="line 3")


def test_error_names_file_and_place():
    with pytest.raises(InputError) as caught:
        geography.normalise_departement("99", file="/x/dep.csv", place="line 7, column 'code'")
    assert str(caught.value).startswith("dep.csv: line 7, column 'code': unknown département code '99'")


def test_vectorised_normalisation_names_the_first_bad_line():
    codes = pd.Series(["1", "2A", "971", "99", "98"])
    assert list(geography.normalise_departements(codes[:3])) == ["01", "2A", "971"]
    with pytest.raises(InputError, match=r"f\.csv: line 14, column 'dep': unknown département code '99'"):
        geography.normalise_departements(codes, "f.csv", lines=[10, 11, 12, 14, 15], column="dep")


def test_regions():
    assert geography.normalise_region("1") == "01"
    assert geography.normalise_region(84) == "84"
    with pytest.raises(InputError, match="unknown région code '05'"):
        geography.normalise_region("05")
    assert list(geography.normalise_regions(["6", "11"])) == ["06", "11"]


def test_counts_and_overseas():
    assert len(geography.DEPARTEMENTS) == 101 == len(set(geography.DEPARTEMENTS))
    assert len(geography.METROPOLITAN) == 96 and len(geography.OVERSEAS) == 5
    assert len(geography.REGIONS) == 18
    assert geography.is_overseas("971") and geography.is_overseas(976.0)
    assert not geography.is_overseas("01") and not geography.is_overseas("2A")
    assert geography.is_overseas_region("01") and not geography.is_overseas_region("84")
    assert geography.territory("1") == "metropolitan"
    assert geography.territory("973") == "overseas"
    with pytest.raises(InputError):
        geography.territory("975")


def test_reference_table_agrees_with_the_code_list(raw_data):
    ref = datasets.geography()
    assert list(ref.columns) == [
        "code_departement",
        "nom_departement",
        "code_region",
        "nom_region",
        "is_overseas",
    ]
    assert len(ref) == 101 and set(ref["code_departement"]) == set(geography.DEPARTEMENTS)
    assert set(ref["code_region"]) == set(geography.REGIONS)
    assert sorted(ref.loc[ref["is_overseas"], "code_departement"]) == list(geography.OVERSEAS)
    assert ref.set_index("code_departement").loc["2A", "nom_departement"] == "Corse-du-Sud"
    assert ref.set_index("code_departement").loc["976", "code_region"] == "06"
    overseas_regions = set(ref.loc[ref["is_overseas"], "code_region"])
    assert overseas_regions == set(geography.OVERSEAS_REGIONS)


def test_reference_names_match_insee(raw_data):
    """The reference's 101 names are INSEE's (the population workbook spells them, with stray spaces)."""
    ref = datasets.geography().set_index("code_departement")["nom_departement"]
    import xlrd

    book = xlrd.open_workbook(raw_data / "estim-pop-dep-sexe-gca-1975-2024.xls", on_demand=True)
    sheet = book.sheet_by_name("2024")
    names = {}
    for row in range(sheet.nrows):
        code, name = sheet.cell_value(row, 0), sheet.cell_value(row, 1)
        try:
            names[geography.normalise_departement(code)] = str(name).strip()
        except InputError:
            continue
    assert names == ref.to_dict()
