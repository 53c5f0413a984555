"""Downloads people can open: French CSV (read back as numbers) and the Excel workbook with its metadata sheet."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from observatoire.outputs import charts, downloads
from observatoire.outputs.context import EditionContext
from observatoire.outputs.tables import save_table


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2023, 2024],
            "count": [122610, 118_001],
            "rate": [4.9237890933724735, 5.05],
            "change_rel": [0.0531, None],
            "libelle": ["Aisne; nord", 'Dit "ici"'],
        }
    )


def test_french_csv_opens_as_columns_with_values_as_shown(tmp_path):
    meta = save_table(
        _table(),
        "victimes",
        tmp_path,
        title="Victimes",
        source="SSMSI",
        formats={"rate": "rate:1", "change_rel": "change:1"},
        edition="Lettre 2024",
    )
    raw = (tmp_path / "tables" / meta["files"]["csv_fr"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(tmp_path / "tables" / "victimes.fr.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns) == ["Année", "Nombre", "Taux", "Évolution sur un an (%)", "Libellé"]
    assert back["Nombre"].tolist() == [122610, 118001]
    assert back["Taux"].tolist() == [4.9, 5.1]  # rounded as the letter shows it (half away from zero)
    assert back["Évolution sur un an (%)"].iloc[0] == 5.3 and pd.isna(back["Évolution sur un an (%)"].iloc[1])
    assert back["Libellé"].tolist() == ["Aisne; nord", 'Dit "ici"']
    assert pd.api.types.is_float_dtype(back["Taux"])


def test_xlsx_has_data_and_metadata_sheets_and_is_byte_identical(tmp_path):
    kwargs = dict(
        title="Victimes", source="SSMSI, édition 2024", formats={"rate": "rate:1"}, edition="Lettre 2024"
    )
    first = save_table(_table(), "victimes", tmp_path / "a", **kwargs)
    second = save_table(_table(), "victimes", tmp_path / "b", **kwargs)
    assert first["sha256"]["xlsx"] == second["sha256"]["xlsx"]
    path = tmp_path / "a" / "tables" / "victimes.xlsx"
    sheets = pd.read_excel(path, sheet_name=None, header=None)
    assert list(sheets) == ["Données", "Métadonnées"]
    assert sheets["Données"].iloc[0].tolist()[:3] == ["Année", "Nombre", "Taux"]
    assert sheets["Données"].iloc[1, 2] == 4.9
    meta = dict(sheets["Métadonnées"].itertuples(index=False, name=None))
    assert meta["Titre"] == "Victimes" and meta["Source"] == "SSMSI, édition 2024"
    assert meta["Édition"] == "Lettre 2024" and meta["Note"] == "—\u00a0: donnée non disponible."
    assert "Licence Ouverte" in meta["Licence"]
    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2026" not in archive.read("docProps/core.xml")


def test_without_fixed_dates_openpyxl_stamps_the_save_time(monkeypatch):
    monkeypatch.setattr(downloads, "_fixed_zip", lambda content: content)
    data = pd.DataFrame({"a": [1]})
    book = downloads.xlsx_workbook(data, {}, {"a": "number:0"}, [("Titre", "x")])
    with zipfile.ZipFile(__import__("io").BytesIO(book)) as archive:
        assert b"1980-01-01T00:00:00Z</dcterms:modified>" not in archive.read("docProps/core.xml")


def test_figures_get_the_same_downloads_and_an_edition(tmp_path):
    ctx = EditionContext("annual", 2024, "nb", output_dir=tmp_path)
    data = pd.DataFrame({"year": [2022, 2023, 2024], "rate": [1.25, 2.0, None]})
    meta = ctx.save_figure(
        charts.line_chart(data, "year", "rate"), "taux", data, title="Taux", source="SSMSI", alt="Une courbe."
    )
    assert meta["files"]["csv_fr"] == "taux.fr.csv" and meta["files"]["xlsx"] == "taux.xlsx"
    assert meta["edition"].endswith("édition 2024")
    text = (tmp_path / "figures" / "taux.fr.csv").read_bytes().decode("utf-8-sig")
    assert text == "Année;Taux\r\n2022;1,3\r\n2023;2,0\r\n2024;\r\n"
    sheets = pd.read_excel(tmp_path / "figures" / "taux.xlsx", sheet_name="Métadonnées", header=None)
    assert dict(sheets.itertuples(index=False, name=None))["Description"] == "Une courbe."


@pytest.mark.parametrize(
    ("column", "header", "kind", "expected"),
    [
        ("rate_low", None, None, "Taux, borne basse de l'intervalle"),
        ("victimes", None, None, "Victimes"),
        ("share", "Part des femmes", "percent", "Part des femmes (%)"),
        ("x_y", None, None, "X y"),
    ],
)
def test_french_headers(column, header, kind, expected):
    assert downloads.french_header(column, header, kind) == expected
