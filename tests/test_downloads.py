"""Downloads that give the number shown: the reader's CSV (French or English) read back as numbers, only the
columns a reader needs, percent columns as printed, and the Excel workbook with its metadata sheet."""

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


def test_a_relative_change_without_a_format_is_printed_in_percent(tmp_path):
    """The letter says +0,7 %: the download says 0,7 in a column whose header says (%), never 0,0."""
    data = pd.DataFrame({"year": [2023, 2024], "change_rel": [0.00712, -0.0125]})
    save_table(data, "evol", tmp_path, title="Évolution", source="SSMSI")
    text = (tmp_path / "tables" / "evol.fr.csv").read_bytes().decode("utf-8-sig")
    assert text == "Année;Évolution sur un an (%)\r\n2023;0,7\r\n2024;-1,3\r\n"
    markdown = (tmp_path / "tables" / "evol.md").read_text(encoding="utf-8")
    assert "+0,7\u202f%" in markdown and "−1,3\u202f%" in markdown


def test_english_tables_get_an_english_spreadsheet_file(tmp_path):
    meta = save_table(
        _table(), "victims", tmp_path, title="Victims", source="SSMSI", formats={"rate": "rate:1"}, lang="en"
    )
    assert meta["files"]["csv_en"] == "victims.en.csv" and "csv_fr" not in meta["files"]
    back = pd.read_csv(tmp_path / "tables" / "victims.en.csv", encoding="utf-8-sig")
    assert list(back.columns)[:3] == ["Year", "Number", "Rate"]
    assert back["Rate"].tolist() == [4.9, 5.1]
    sheets = pd.read_excel(tmp_path / "tables" / "victims.xlsx", sheet_name=None, header=None)
    assert list(sheets) == ["Data", "Metadata"]


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
    data = downloads.reader_frame(pd.DataFrame({"a": [1]}), headers={}, formats={"a": "number:0"}, table=True)
    book = downloads.xlsx_workbook(data, [("title", "x")])
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


def test_a_chart_download_holds_its_series_and_no_internal_column(tmp_path):
    """29 columns computed for a chart of départements: the reader's file holds what the chart draws (label,
    rate, interval, the highlighted group in the legend's words), never True/False or a test statistic; the
    machine file keeps everything."""
    data = pd.DataFrame(
        {
            "code": ["974", "75"],
            "libelle": ["La Réunion (974)", "Paris (75)"],
            "outre_mer": [True, False],
            "rate": [4.93, 3.21],
            "rate_low_adj": [4.01, 2.5],
            "rate_high_adj": [5.94, 4.0],
            "z_adj": [4.4, -0.2],
            "significant_fdr": [False, True],
        }
    )
    fig = charts.rate_ci_chart(
        data,
        "libelle",
        "rate",
        "rate_low_adj",
        "rate_high_adj",
        highlight="outre_mer",
        xlabel="Taux pour 1 000",
    )
    meta = charts.save_figure(fig, "deps", tmp_path, data, title="Taux", source="SSMSI", alt="Des points.")
    text = (tmp_path / "figures" / "deps.fr.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "Libellé;Taux pour 1 000;Borne basse de l'intervalle (surdispersion);"
        "Borne haute de l'intervalle (surdispersion);Outre-mer"
    )
    assert "La Réunion (974);4,9;4,0;5,9;Outre-mer" in text and "Paris (75);3,2;2,5;4,0;Métropole" in text
    assert "True" not in text and "False" not in text and "z" not in text.splitlines()[0].lower().split(";")
    machine = pd.read_csv(tmp_path / "figures" / "deps.csv")
    assert "z_adj" in machine.columns and "significant_fdr" in machine.columns
    assert meta["reader"]["columns"] == ["libelle", "rate", "rate_low_adj", "rate_high_adj", "outre_mer"]


def test_a_yes_no_column_reads_as_words():
    data = pd.DataFrame({"nom": ["A"], "small_count": [True]})
    view = downloads.reader_frame(
        data, headers={}, formats={"nom": "text", "small_count": "text"}, table=True
    )
    assert view.frame["small_count"].tolist() == ["oui"]
    english = downloads.reader_frame(
        data, headers={}, formats={"nom": "text", "small_count": "text"}, table=True, lang="en"
    )
    assert english.frame["small_count"].tolist() == ["yes"] and english.headers["nom"] == "Name"


@pytest.mark.parametrize(
    ("column", "header", "kind", "lang", "expected"),
    [
        ("rate_low", None, None, "fr", "Taux, borne basse de l'intervalle"),
        ("victimes", None, None, "fr", "Victimes"),
        ("share", "Part des femmes", "percent", "fr", "Part des femmes (%)"),
        ("x_y", None, None, "fr", "X y"),
        ("change_rel", None, "change", "en", "Change on the year (%)"),
    ],
)
def test_reader_headers(column, header, kind, lang, expected):
    assert downloads.reader_header(column, header, kind, lang) == expected


def test_a_bar_chart_download_holds_its_series_not_every_computed_column(tmp_path):
    data = pd.DataFrame(
        {
            "year": [2023, 2024],
            "count": [100, 110],
            "population": [1000, 1000],
            "rate": [0.1, 0.11],
            "change_rel": [None, 0.1],
            "small_count": [False, False],
            "serie": ["base 2024", "base 2024"],
        }
    )
    fig = charts.bar_chart(data, "year", "count")
    meta = charts.save_figure(fig, "barres", tmp_path, data, title="T", source="S", alt="A")
    assert meta["reader"]["columns"] == ["year", "count", "serie"]


def test_a_number_in_a_caption_keeps_its_digits_together(tmp_path):
    meta = save_table(_table(), "taux", tmp_path, title="Taux pour 1 000 habitants", source="SSMSI")
    assert meta["title"] == "Taux pour 1\u202f000 habitants"
    assert ": Taux pour 1\u202f000 habitants {#tbl-taux}" in (tmp_path / "tables" / "taux.md").read_text(
        "utf-8"
    )
