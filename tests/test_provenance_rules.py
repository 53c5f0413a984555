"""The rules every letter that quotes published figures obeys, read in what each edition publishes.

Every buildable year of every theme that cites the national series (the annual letter, in French and in English,
the trafficking and the sexual-violence letters) is rendered from the facts its notebooks compute for that year
(``observatoire.publishing.prose.render_edition``; facts and tables cached by input digest under ``build/_facts``) and read as
a statistician reads it, together with its facts and the CSV downloads of its tables:

* a figure whose source states no period is never given a year: every sentence or list item printing it says
  "non précisée" / "not stated", and no table gives it a year;
* a stock count (devices active at a date) is printed with its count date;
* a row marked ``duplicate_of`` is never cited beside its target; a row the compilation holds back is never cited;
* "non publié" / "n'est pas publié" is never said;
* "La Lettre de l'Observatoire" is never given as a source (sources list, tables);
* a reconciliation table never compares the SSMSI base with a figure computed from the base itself;
* a compilation reviewed after the letter's date is named only with the sentence saying so, and no cited figure
  was published after the letter's date;
* the methods section prints the share of cited figures read on official pages.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from functools import cache

import pandas as pd
import pytest

from observatoire.analysis.indicators import published
from observatoire.core import paths
from observatoire.core.formatting import format_date, format_value
from observatoire.data import catalogue, themes
from observatoire.publishing import prose

#: Themes whose letters cite the national series, with the languages they are built in.
THEMES = {"annual": ("fr", "en"), "traite": ("fr", "en"), "violences_sexuelles": ("fr", "en")}
EDITIONS = [
    (theme, year, lang)
    for theme, langs in THEMES.items()
    for year in themes.get_theme(theme).years
    for lang in langs
]
#: What a letter says of a period its source does not state (the English letter's tables keep the French cells).
UNSTATED = {"fr": ("non précisée",), "en": ("not stated", "non précisée")}
NEVER = re.compile(r"non publiée?s?\b|n'est pas publiée?|ne sont pas publiée?s", re.IGNORECASE)
OWN_LETTER = re.compile(r"lettre de l.observatoire", re.IGNORECASE)


@cache
def _r3() -> pd.DataFrame:
    source_id = themes.get_theme("annual").parameters_for(2024)["national_source"]
    return pd.read_csv(catalogue.raw_path(source_id), dtype=str, keep_default_na=False).set_index("row_id")


@cache
def _edition(theme: str, year: int, lang: str):
    records = prose.edition_facts(theme, year)
    rendered = prose.render_edition(theme, year, records, lang=lang)
    root = paths.BUILD / "_facts" / theme / str(year)
    folder = next(p for p in root.iterdir() if (p / "facts").is_dir())
    tables = {}
    for path in sorted((folder / "tables").glob("*.csv")):
        if path.name.endswith(".fr.csv"):
            continue
        with open(path, encoding="utf-8", newline="") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    return records, rendered.letter, tables


def _items(text: str) -> list[str]:
    """Sentences and list items of the letter, line breaks of the source joined; a key figure (its number and
    the words under it) is one item."""
    text = re.sub(
        r"::: \{\.key-figure\}\n(.*?)\n:::",
        lambda m: "key figure: " + re.sub(r"\s+", " ", m.group(1)),
        text,
        flags=re.DOTALL,
    )
    flat = re.sub(r"[ \t]*\n(?![-|#:\n])[ \t]*", " ", text)
    parts = []
    for line in flat.split("\n"):
        parts.extend(re.split(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«(])", line))
    return parts


def _printed(record: dict, lang: str) -> str:
    """A fact's value as the letter in ``lang`` prints it."""
    if lang == "fr":
        return str(record["text"])
    return format_value(record["value"], record["kind"], int(record.get("decimals") or 0), lang)


def _cited(records, tables) -> set[str]:
    ids = {r["row_id"] for r in records.values() if r.get("row_id") and r.get("available")}
    for rows in tables.values():
        ids |= {row["row_id"] for row in rows if row.get("row_id")}
    return ids


@pytest.fixture(scope="module", params=EDITIONS, ids=[f"{t}-{y}-{lang}" for t, y, lang in EDITIONS])
def edition(request, raw_data):
    theme, year, lang = request.param
    records, letter, tables = _edition(theme, year, lang)
    return theme, year, lang, records, letter, tables


def test_every_edition_is_read():
    assert len(EDITIONS) == 8 * 2 + 7 * 2 + 7 * 2


def test_no_year_for_a_figure_whose_source_states_none(edition):
    theme, year, lang, records, letter, tables = edition
    items = _items(letter)
    for key, record in records.items():
        if not record.get("available") or record.get("period_explicit") is not False:
            continue
        text = _printed(record, lang)
        if len(re.sub(r"\D", "", text)) < 3:  # too short to find its sentence without ambiguity
            continue
        for item in items:
            if re.search(rf"(?<![\d\u202f]){re.escape(text)}(?![\d\u202f,])", item):
                said = any(word in item for word in UNSTATED[lang])
                assert said, f"{key} ({record['row_id']}) printed with no 'unstated': {item}"
    unstated = set(_r3().index[_r3()["period_explicit"] == "no"])
    for name, rows in tables.items():
        for row in rows:
            if row.get("row_id") in unstated:
                assert not row.get("annee") and not row.get("year"), f"{name}: {row['row_id']} given a year"
                if "periode" in row:
                    assert "non précisée" in row["periode"], (
                        f"{name}: {row['row_id']} period {row['periode']!r}"
                    )


def test_a_count_date_is_read_only_when_the_period_is_that_date_and_nothing_else():
    assert published.count_date("au 1er février 2025") == "2025-02-01"
    assert published.count_date(" au 12 août 2023 ") == "2023-08-12"
    for period in (
        "au 1er septembre 2022 selon r2 (non revu)",
        "2024",
        "au 31 février 2025",
        "au 01 août 2023",
    ):
        assert published.count_date(period) == "", period
    pub = published.Published(
        indicator="tgd", year=2025, sex="", value=5000.0, reference_period="au 1er février 2025"
    )
    assert published.period_cell(pub, "en") == "as of 1 February 2025"
    assert published.period_cell(pub, "fr") == "au 1er février 2025"


def test_stock_counts_carry_their_count_date(edition):
    theme, year, lang, records, letter, tables = edition
    for key, record in records.items():
        if record.get("stock") and record.get("available") and key.endswith("_dernier"):
            if record.get("period_date"):  # one count date: printed as a date in the letter's language
                dated = format_date(record["period_date"], lang=lang)
                period = published.words(lang)["period_as_of"].format(date=dated)
            else:
                period = record["period_year"] or published.typeset(record["reference_period"])
            text = _printed(record, lang)
            sentences = [i for i in _items(letter) if text in i and not i.lstrip().startswith("|")]
            assert sentences, f"{key}: the latest count {text} is not printed"
            for sentence in sentences:
                said = period in sentence or any(word in sentence for word in UNSTATED[lang])
                assert said, f"{key}: {sentence}"


def test_no_duplicate_beside_its_target_and_no_held_row(edition):
    theme, year, lang, records, letter, tables = edition
    cited = _cited(records, tables)
    r3 = _r3()
    for row_id in cited:
        target = r3.at[row_id, "duplicate_of"]
        assert not (target and target in cited), f"{row_id} duplicates {target}, both cited"
        assert not published.held(r3.loc[row_id].to_dict() | {"row_id": row_id}), f"held row {row_id} cited"


def test_nothing_published_after_the_letter_is_cited(edition):
    theme, year, lang, records, letter, tables = edition
    as_of = dt.date.fromisoformat(records["lettre_date"]["iso"])
    for row_id in _cited(records, tables):
        date = published.earliest_date(_r3().at[row_id, "source_date"])
        assert date is None or date <= as_of, f"{row_id} published {date}, after the letter ({as_of})"


def test_never_said_unpublished(edition):
    theme, year, lang, records, letter, tables = edition
    assert not NEVER.search(letter), NEVER.search(letter).group(0)


def test_the_letter_never_cites_itself_as_a_source(edition):
    theme, year, lang, records, letter, tables = edition
    listed = [line for line in letter.splitlines() if re.search(r"\((?:réf|ref)\. [a-z]+-\d{4}\)", line)]
    assert len(listed) == len(
        {r["row_id"] for r in records.values() if r.get("row_id") and r.get("available")}
    )
    for line in listed:
        assert not OWN_LETTER.search(line), line
    for name, rows in tables.items():
        for row in rows:
            for column in ("source", "source_title"):
                assert not OWN_LETTER.search(row.get(column) or ""), f"{name}: {row}"


def test_reconciliation_never_compares_a_source_with_itself(edition):
    theme, year, lang, records, letter, tables = edition
    kinds = _r3()["read_at_kind"]
    for name, rows in tables.items():
        compared = [row for row in rows if row.get("retenu") == "pour comparaison"]
        for row in compared:
            assert kinds.get(row.get("row_id"), "") != "data_file", (
                f"{name}: the base compared with itself {row}"
            )


def test_an_edition_later_than_the_letter_is_explained(edition):
    theme, year, lang, records, letter, tables = edition
    facts = records["ns_edition"]
    if facts["after_letter"]:
        flat = re.sub(r"[ \t\n]+", " ", letter)
        assert (f"révision {facts['text']}" in flat) or (f"revision {facts['text']}" in flat)
        assert ("après cette date" in flat) or ("after that date" in flat)
    later = records.get("sources_posterieures")
    if later and later.get("available"):
        assert str(later["text"]).split(";")[0].strip()[:20] in re.sub(r"[ \t\n]+", " ", letter)


def test_the_share_read_on_official_pages_is_printed(edition):
    theme, year, lang, records, letter, tables = edition
    share = records.get(published.OFFICIAL_SHARE_KEY)
    if not _cited(records, {}):
        assert share is None
        return
    flat = re.sub(r"[ \t\n]+", " ", letter)
    assert share["value"] == pytest.approx(100 * share["n_official"] / share["n_cited"])
    if lang == "fr":
        assert f"soit {share['text']}" in flat, "the methods section prints the official share"


def test_no_div_fence_glued_to_a_sentence_nor_a_number_read_as_a_list(edition):
    """A template branch that swallows its line end glues the next ':::' to the text: the page then loses its
    structure (seen once on the key figures); a wrapped "(3)" starts a list (seen once in the methods)."""
    theme, year, lang, records, letter, tables = edition
    glued = re.search(r"(?m)^.*\S[ \t]*:::\s*$", letter)
    assert glued is None, glued.group(0) if glued else ""
    # a line opening on "(3) " is read by pandoc as an ordered-list item and ends the paragraph
    marker = re.search(r"(?m)^[ \t]*\(\d+\)[ \t]", letter)
    assert marker is None, marker.group(0) if marker else ""
