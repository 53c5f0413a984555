"""Published national figures: one value per indicator, year and sex, with its provenance.

The national series (``datasets.national_series(source_id)``, the compilation a theme names in
``publications/themes.yml``) is a compilation of figures read in published sources. It has gaps, and sometimes two
rows for the same indicator, year and sex (two sources that disagree, or a stock counted at two dates of the same
year). This module decides, once and for all sections, which rows a letter may cite and which one it cites:

* :func:`citable` keeps what a letter dated ``letter_date`` may print: never a row published after that date,
  never a row the compilation holds back ("à vérifier", "avant vérification": :func:`held`), never a row marked
  ``duplicate_of`` while the row it duplicates is there (the two are one estimate: only the target is printed);
* among the rows of one indicator, year and sex, :func:`pick` prefers a row whose source states its period, then
  a row read on an official page (or computed from a data file) over one read on a relay, then the order of the
  file; the other rows are kept as ``alternatives`` so that a table can show them all;
* a row flagged in its note as covering part of a year only is never used as the figure of that year;
* nothing is ever filled: a year without a row gives ``None``.

Each figure carries its provenance (:meth:`Published.provenance`): row id, producer, document (title, date,
address), the reference period as the source states it and whether it states one, population and concept as
worded, the page where it was read and its kind. :func:`add_fact` writes it in the fact's details, so that the
templates print what the source says (never a year the source does not state), and the tests read it back.

It also reads, in the row's note, whether the published figure is a bound or a rounded value ("plus de",
"environ"), so that the sentence of the letter says so.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from observatoire.analysis.indicators import registry
from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.core.formatting import LANGUAGES, MONTHS_FR, NNBSP, NOT_AVAILABLE, format_date
from observatoire.core.yamlfile import read_yaml
from observatoire.data.loaders.national_series import relayed_by

# The patterns below match the words the compilation's producer writes in its rows (notes, document titles): they
# read the data, they are never printed.
_PARTIAL = re.compile(r"not a full year|partial[- ]year|\b\d+ months\b", re.IGNORECASE)
_LOWER_BOUND = re.compile(r"plus de|lower bound|more than", re.IGNORECASE)
_NEAR = re.compile(r"près de", re.IGNORECASE)
_ROUNDED = re.compile(r"\brounded\b|\benviron\b|~|approximate", re.IGNORECASE)
#: What a note says when the compilation holds a figure back until someone checks it (national_series_r3_CHANGES.md,
#: "Warnings carried in note"): such a row is never printed. Rows whose warning is worded otherwise are listed in
#: ``data/curated/national_series_holds.csv`` (row id and reason).
_HOLD = re.compile(
    r"à vérifier|à confirmer|avant (?:vérification|impression|usage)|sans vérification", re.IGNORECASE
)
HOLDS_FILE = paths.CURATED / "national_series_holds.csv"
#: Words of the table cells that say where a figure was read, every language side by side
#: (publications/_shared/provenance.yml).
WORDS_FILE = paths.ROOT / "publications" / "_shared" / "provenance.yml"
_LETTER_DATE = re.compile(r"^\+(\d)-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Published:
    """One published figure and where it was read.

    Attributes
    ----------
    indicator : str
        Series id (e.g. ``"morts_violentes_couple"``).
    year : int
        Year of the series' row (the reference year only when ``period_explicit`` is not False).
    sex : str
        ``total``, ``female`` or ``male``.
    value : float
        The figure.
    unit : str
        Its unit as recorded.
    source_title, source_url, source_date, note : str
        The document that first published the figure (title, address, date) and the row's note.
    origin : str
        The source id of the compilation file the row comes from.
    publisher : str
        The producer of the figure (``MIPROF`` for the Observatoire's own compilations).
    row_id : str
        The row's stable id in the compilation (empty before the third edition).
    reference_period : str
        The period as the source states it ("2024", "au 1er février 2025", "moyenne annuelle 2011-2018").
    period_explicit : bool or None
        True when the page read states that period, False when it does not (``year`` is then only where the
        compilation placed the figure and is never printed as its year), None when the edition does not say.
    population, concept : str
        Who and what is counted, as the source words them.
    read_at, read_at_kind : str
        The page the figure was read on and its kind (``official``, ``relay``, ``data_file``).
    alternatives : tuple of Published
        Other rows for the same indicator, year and sex (other sources, other dates).
    """

    indicator: str
    year: int
    sex: str
    value: float
    unit: str = ""
    source_title: str = ""
    source_url: str = ""
    source_date: str = ""
    note: str = ""
    origin: str = ""
    publisher: str = ""
    row_id: str = ""
    reference_period: str = ""
    period_explicit: bool | None = None
    population: str = ""
    concept: str = ""
    read_at: str = ""
    read_at_kind: str = ""
    edition: str = ""
    alternatives: tuple[Published, ...] = field(default=(), compare=False)

    @property
    def relayed_by(self) -> str | None:
        """The relay page's site when the figure was read on a relay (press, association, mirror), else None.

        Third edition: the host of ``read_at`` for a ``relay`` row. Second edition: the site named in the note
        ("chiffre officiel relayé par ...").
        """
        if self.read_at_kind:
            return relay_site(self.read_at) if self.read_at_kind == "relay" else None

        site = relayed_by(self.note)
        return site.split(" (« ")[0] if site else None

    @property
    def official(self) -> bool:
        """True when the figure was read on an official page or computed from a data file of the catalogue."""
        return self.read_at_kind in ("official", "data_file")

    @property
    def compilation(self) -> bool:
        """True for a figure the Observatoire (MIPROF) compiled itself: its own count, not an outside source.

        The producer is MIPROF, outside its survey of the associations (whose figures have a document of their
        own); such a figure is printed as the Observatoire's own count, with the producers of its inputs.
        """
        producer = self.publisher.strip()
        return producer.upper().startswith("MIPROF") and "enquête" not in producer.lower()

    @property
    def self_cited(self) -> bool:
        """True when the document the compilation names is the Observatoire's own letter (never shown as a source)."""
        return _OWN_LETTER in self.source_title.lower()

    def source_line(self, lang: str = "fr") -> str:
        """Where the figure comes from: producer, then the document that first published it (and its date).

        The Observatoire's own letter is never given as the document: a figure the Observatoire compiled is
        "its own count" (with the producers of its inputs where the registry knows them, ``inputs`` in
        ``publications/indicators.yml``), and another producer's figure taken up in the letter is cited by its
        producer alone.

        Returns
        -------
        str
            E.g. "FNSF (Fédération nationale Solidarité Femmes), Analyse annuelle des appels au 3919 (2023-11)";
            the page it was read on is another field (:attr:`read_at`, :attr:`relayed_by`), never the source.
        """
        w = words(lang)
        if self.compilation:
            inputs = _inputs(self.indicator)
            return w["own_count_inputs"].format(inputs=inputs) if inputs else w["own_count"]
        if self.self_cited:
            taken_up = "" if "miprof" in self.publisher.lower() else w["taken_up"]
            return ", ".join(p for p in (self.publisher, taken_up) if p)
        document = self.source_title + (f" ({self.source_date})" if self.source_date else "")
        return ", ".join(p for p in (self.publisher, document) if p)

    @property
    def qualifier(self) -> str:
        """French qualifier the sentence must carry: ``"plus de"``, ``"près de"``, ``"environ"`` or ``""``."""
        return qualifier_from_note(self.note)

    @property
    def partial_year(self) -> bool:
        """True when the note says the figure covers part of the year only."""
        return bool(_PARTIAL.search(self.note or ""))

    def provenance(self) -> dict[str, object]:
        """The provenance a fact carries in its details (every field a template or a test may need).

        Returns
        -------
        dict
            ``row_id, producer, document, source_date, source_url, published_on`` (the date in words),
            ``reference_period, period_year`` (the year it is, if one), ``period_date`` (the ISO date it is, if one
            count date: :func:`count_date`), ``period_explicit, population, concept, read_at, read_at_kind,
            relay_site, compilation_source, own_compilation``.
        """
        return {
            "row_id": self.row_id,
            "producer": self.publisher,
            "document": self.source_title,
            "source_date": self.source_date,
            "source_url": self.source_url,
            "published_on": format_date(self.source_date, day=False) if self.source_date else "",
            "reference_period": self.reference_period or str(self.year),
            "period_year": _period_year(self.reference_period or str(self.year)),
            "period_date": count_date(self.reference_period),
            "period_explicit": self.period_explicit is not False,
            "population": typeset(self.population),
            "concept": typeset(self.concept),
            "read_at": self.read_at,
            "read_at_kind": self.read_at_kind,
            "relay_site": self.relayed_by or "",
            "compilation_source": self.origin,
            "own_compilation": self.compilation,
            "source_line": self.source_line(),
        }

    def fact_note(self) -> str:
        """Provenance for the facts file: producer and document first, where it was read, and the row's note."""
        parts = [self.source_line()]
        if self.read_at:
            parts.append(f"{self.read_at_kind or 'lu'} : {self.read_at}")
        if self.note:
            parts.append(self.note)
        if self.alternatives:
            others = "; ".join(f"{_plain(a.value)} ({a.row_id or a.source_title})" for a in self.alternatives)
            parts.append(f"autre(s) valeur(s) : {others}")
        return " | ".join(p for p in parts if p)


#: What the compilation writes in a document's title when the document is the Observatoire's own letter (matched).
_OWN_LETTER = "lettre de l'observatoire"


def _inputs(indicator: str) -> str:
    entry = registry.load_registry().get(indicator)
    return entry.inputs if entry is not None else ""


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_DIGIT_GROUP = re.compile(r"(?<=\d)[ \u00a0](?=\d{3}(?!\d))")


def typeset(text: str) -> str:
    """Text from a source as a French letter prints it: digit groups joined by a narrow no-break space.

    The words are the source's (a population or a concept "as worded"); only the spaces inside numbers change
    ("216 000" -> "216\u202f000"), as French typography wants.
    """
    return _DIGIT_GROUP.sub(NNBSP, str(text or ""))


def _period_year(period: str) -> str:
    """The year a stated period is, when it is one year ("2024", "2024 (selon la citation r2)"), else ""."""
    found = re.match(r"^(\d{4})(?:$|\s\()", period.strip())
    return found.group(1) if found else ""


#: A day, a month's name and a year, as a count date is worded ("1er février 2025"); the words around it are
#: those of ``period_as_of`` in provenance.yml, and the date must print back as the source states it.
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\w* (\w+) (\d{4})")


def count_date(period: str) -> str:
    """The ISO date a stated period is, when it is exactly one count date ("au 1er février 2025"), else "".

    A stock counted at a date (devices in service ...) states that date in the source's French words; a letter
    prints it in its own language ("as of 1 February 2025"). Only a period that is the date and nothing else is
    read: printing the date back with the French words of ``period_as_of`` must give the source's words exactly,
    so anything more ("au 1er septembre 2022 selon r2 ...") stays as the source states it.

    Examples
    --------
    >>> count_date("au 1er février 2025")
    '2025-02-01'
    >>> count_date("au 1er septembre 2022 selon r2"), count_date("2024"), count_date("au 31 février 2025")
    ('', '', '')
    """
    stated = period.strip()
    found = _DAY_MONTH_YEAR.search(stated)
    if not found or found.group(2) not in MONTHS_FR:
        return ""
    day, month, year = found.groups()
    try:
        iso = dt.date(int(year), MONTHS_FR.index(month) + 1, int(day)).isoformat()
    except ValueError:  # no such day
        return ""
    return iso if words("fr")["period_as_of"].format(date=format_date(iso)) == stated else ""


def relay_site(url: str) -> str:
    """The site of a page: ``"https://www.tf1info.fr/societe/..."`` -> ``"tf1info.fr"``."""
    host = urlsplit(str(url or "")).hostname or ""
    return host.removeprefix("www.")


def qualifier_from_note(note: str | None) -> str:
    """Return the qualifier a note implies for its figure (see :attr:`Published.qualifier`).

    Parameters
    ----------
    note : str or None
        The ``note`` of a row of the national series.

    Returns
    -------
    str
        ``"plus de"`` for a lower bound, ``"près de"``, ``"environ"`` for a rounded or approximate figure, else
        ``""``.
    """
    text = note or ""
    if _LOWER_BOUND.search(text):
        return "plus de"
    if _NEAR.search(text):
        return "près de"
    if _ROUNDED.search(text):
        return "environ"
    return ""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return str(value)


def _normalise_sex(value: object) -> str:
    text = _text(value).strip().lower()
    return text if text in {"female", "male"} else "total"


# What a letter may cite ----------------------------------------------------------------------------------------


def letter_date(year: int, spec: str) -> dt.date:
    """The date of the letter on the figures of ``year``, from the theme's ``letter_date`` ("+1-11-25").

    Parameters
    ----------
    year : int
        The year of the letter's figures.
    spec : str
        ``"+N-MM-DD"``: month and day of the letter, ``N`` years after ``year``.

    Returns
    -------
    datetime.date

    Examples
    --------
    >>> letter_date(2024, "+1-11-25")
    datetime.date(2025, 11, 25)
    """
    found = _LETTER_DATE.match(str(spec).strip())
    if not found:
        raise ValueError(f"letter_date {spec!r}: expected '+N-MM-DD' (e.g. '+1-11-25')")
    return dt.date(int(year) + int(found.group(1)), int(found.group(2)), int(found.group(3)))


def earliest_date(text: object) -> dt.date | None:
    """The earliest day a date of the series can mean ("2025-11" -> 1 November 2025), None when absent."""
    parts = _text(text).strip().split("-")
    if not parts[0].isdigit():
        return None
    numbers = [int(p) for p in parts[:3] if p.isdigit()] + [1, 1]
    return dt.date(numbers[0], numbers[1], numbers[2]) if len(parts) >= 1 else None


@functools.cache
def _held_ids() -> dict[str, str]:
    if not HOLDS_FILE.exists():
        return {}
    table = pd.read_csv(HOLDS_FILE, dtype=str, keep_default_na=False)
    return dict(zip(table["row_id"], table["reason"], strict=True))


def held(row: pd.Series | dict) -> bool:
    """True when the compilation holds a row back until its figure is checked (never printed).

    The row's note says so ("à vérifier", "à confirmer", "ne pas imprimer avant vérification" ...) or its id is
    listed in ``data/curated/national_series_holds.csv``.
    """
    return bool(_HOLD.search(_text(row.get("note")))) or _text(row.get("row_id")) in _held_ids()


def citable(ns: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """The rows of the national series a letter dated ``as_of`` may print.

    Dropped, in this order: rows published after ``as_of`` (a row whose date is only a month or a year is kept
    when that month or year can be on or before the letter's date; a row without date is kept); rows held back
    (:func:`held`); rows marked ``duplicate_of`` whose target row is still there (one estimate, printed once).

    Parameters
    ----------
    ns : DataFrame
        The national series.
    as_of : datetime.date, optional
        The letter's date (:func:`letter_date`); None keeps rows of every date.

    Returns
    -------
    DataFrame
        The rows kept, in file order; ``attrs["excluded"]`` lists the others (``row_id, indicator, year,
        reason``: ``after_letter``, ``held``, ``duplicate``).
    """
    out = ns.copy()
    excluded = []

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal out
        for _, row in out.loc[mask].iterrows():
            excluded.append(
                {
                    "row_id": _text(row.get("row_id")),
                    "indicator": row["indicator"],
                    "year": int(row["year"]),
                    "reason": reason,
                }
            )
        out = out.loc[~mask]

    if as_of is not None and "source_date" in out:
        dates = out["source_date"].map(earliest_date)
        drop(dates.map(lambda d: d is not None and d > as_of).astype(bool), "after_letter")
    drop(out.apply(held, axis=1).astype(bool) if len(out) else pd.Series(dtype=bool), "held")
    if "duplicate_of" in out:
        present = set(out["row_id"].astype(str))
        target = out["duplicate_of"].map(_text).str.strip()
        drop((target != "") & target.isin(present), "duplicate")
    out = out.copy()
    out.attrs = dict(ns.attrs)
    out.attrs["excluded"] = pd.DataFrame(excluded, columns=["row_id", "indicator", "year", "reason"])
    return out


def compilation(ns: pd.DataFrame) -> tuple[str, str]:
    """The source id and edition of the compilation a national-series table comes from.

    Raises
    ------
    ValueError
        When the table mixes compilations of two editions (editions are never mixed).
    """
    editions = ns[["source_id", "edition"]].drop_duplicates() if len(ns) else None
    if editions is None or editions["edition"].nunique() != 1:
        raise ValueError("the national series table must come from exactly one edition of one compilation")
    return str(editions["source_id"].iloc[0]), str(editions["edition"].iloc[0])


def rows(ns: pd.DataFrame, indicator: str | Iterable[str], sex: str | None = None) -> pd.DataFrame:
    """All rows of one or several indicators, in order of precedence.

    Parameters
    ----------
    ns : DataFrame
        The national series (``datasets.national_series()``, usually through :func:`citable`).
    indicator : str or iterable of str
        Series id(s).
    sex : str, optional
        ``total`` (an empty sex counts as total), ``female`` or ``male``; None keeps every sex.

    Returns
    -------
    DataFrame
        The rows, with ``sex`` normalised and an ``origin`` column (the compilation's source id), sorted by
        indicator, year, sex then precedence: a stated period first, then a figure read on an official page (or
        computed from a data file), then the order of the file.
    """
    names = [indicator] if isinstance(indicator, str) else list(indicator)
    out = ns.loc[ns["indicator"].isin(names)].copy()
    out["sex"] = out["sex"].map(_normalise_sex) if "sex" in out else "total"
    if sex is not None:
        out = out.loc[out["sex"] == sex]
    out["origin"] = out["source_id"].astype(str) if "source_id" in out else ""
    for column in (
        "unit",
        "source_title",
        "source_url",
        "source_date",
        "note",
        "period_explicit",
        "read_at_kind",
    ):
        out[column] = out[column].map(_text) if column in out else ""
    out["_unstated"] = (out["period_explicit"] == "no").astype(int)
    out["_relay"] = (out["read_at_kind"] == "relay").astype(int)
    out["_order"] = range(len(out))
    out["year"] = out["year"].astype(int)
    out = out.sort_values(["indicator", "year", "sex", "_unstated", "_relay", "_order"], kind="stable")
    return out.drop(columns=["_unstated", "_relay", "_order"]).reset_index(drop=True)


def _to_published(row: pd.Series) -> Published:
    explicit = _text(row.get("period_explicit"))
    return Published(
        indicator=str(row["indicator"]),
        year=int(row["year"]),
        sex=str(row["sex"]),
        value=float(row["value"]),
        unit=row["unit"],
        source_title=row["source_title"],
        source_url=row["source_url"],
        source_date=row["source_date"],
        note=row["note"],
        origin=row["origin"],
        publisher=_text(row.get("publisher", "")),
        row_id=_text(row.get("row_id")),
        reference_period=_text(row.get("reference_period")),
        period_explicit=None if explicit == "" else explicit == "yes",
        population=_text(row.get("population")),
        concept=_text(row.get("concept")),
        read_at=_text(row.get("read_at")) or _text(row.get("consulted_via")),
        read_at_kind=_text(row.get("read_at_kind")),
        edition=_text(row.get("edition")),
    )


def pick(ns: pd.DataFrame, indicator: str, year: int, sex: str | None = "total") -> Published | None:
    """The figure a letter cites for one indicator, year and sex, or None when there is none.

    Parameters
    ----------
    ns : DataFrame
        The national series (the rows a letter may cite: :func:`citable`).
    indicator : str
        Series id.
    year : int
        The year asked. Only rows of exactly that year are considered: never a neighbouring year.
    sex : str or None, default "total"
        Sex asked; None when the indicator has no sex (rows of any sex then qualify).

    Returns
    -------
    Published or None
        The first row in order of precedence (:func:`rows`), not flagged as a part-year figure, with the other
        rows of that year as ``alternatives``; None when no full-year row exists. A row whose source does not
        state its period may be returned: its ``period_explicit`` is then False and the letter prints what the
        source says, never ``year``.
    """
    found = rows(ns, indicator, sex)
    found = found.loc[found["year"] == int(year)]
    candidates = [_to_published(r) for _, r in found.iterrows()]
    full = [c for c in candidates if not c.partial_year]
    if not full:
        return None
    chosen, others = full[0], tuple(c for c in candidates if c is not full[0])
    return replace(chosen, alternatives=others)


def series(
    ns: pd.DataFrame,
    indicator: str,
    sex: str | None = "total",
    first: int | None = None,
    last: int | None = None,
) -> pd.Series:
    """One value per year (the one :func:`pick` cites), over the years the series has.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    indicator : str
        Series id.
    sex : str or None, default "total"
        Sex asked (None: any).
    first, last : int, optional
        Keep years within these bounds (inclusive). Years without a row are absent, not filled.

    Returns
    -------
    Series
        Float values indexed by year (int), named after the indicator.
    """
    found = rows(ns, indicator, sex)
    values = {}
    for year in sorted(found["year"].unique()):
        if (first is not None and year < first) or (last is not None and year > last):
            continue
        chosen = pick(ns, indicator, int(year), sex)
        if chosen is not None:
            values[int(year)] = chosen.value
    return pd.Series(values, dtype=float, name=indicator).rename_axis("year")


def _in_language(value: object, key: str, lang: str) -> object:
    """An entry of the words file in ``lang``: a mapping of languages, or a mapping of such entries."""
    if isinstance(value, dict) and set(value) == set(LANGUAGES):
        text = value[lang]
        if not isinstance(text, str) or not text.strip():
            raise InputError(WORDS_FILE, key, f"the text in language '{lang}' must be a non-empty string")
        return text
    if isinstance(value, dict) and value and not set(value) & set(LANGUAGES):
        return {name: _in_language(entry, f"{key}.{name}", lang) for name, entry in value.items()}
    raise InputError(WORDS_FILE, key, f"must give the text in each language ({', '.join(LANGUAGES)})")


@functools.cache
def words(lang: str = "fr") -> dict:
    """The words of the provenance cells of tables (``publications/_shared/provenance.yml``) in ``lang``.

    Raises
    ------
    InputError
        Naming the file and the entry without one of the languages (or with a language the project does not
        know).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    data = read_yaml(WORDS_FILE)
    if not isinstance(data, dict):
        raise InputError(
            WORDS_FILE, "whole file", "a mapping of entries, each with its text in every language"
        )
    return {str(key): _in_language(value, str(key), lang) for key, value in data.items()}


def period_cell(pub: Published, lang: str = "fr") -> str:
    """The reference period of a figure as a table prints it: as the source states it, or "not stated"."""
    w = words(lang)
    if pub.period_explicit is False:
        if pub.source_date:
            return w["period_unstated"].format(published=format_date(pub.source_date, day=False, lang=lang))
        return w["period_unstated_undated"]
    dated = count_date(pub.reference_period)
    if dated:
        return w["period_as_of"].format(date=format_date(dated, lang=lang))
    return typeset(pub.reference_period or str(pub.year))


def read_at_cell(pub: Published, lang: str = "fr") -> str:
    """Where a figure was read, as a table prints it: an official page, or the relay's site."""
    w = words(lang)
    if pub.read_at_kind == "relay" or (not pub.read_at_kind and pub.relayed_by):
        return w["read_at_kind"]["relay"].format(site=pub.relayed_by or "")
    return w["read_at_kind"].get(pub.read_at_kind or "official", "")


#: Columns of :func:`sources_table`.
#: The provenance columns every table of published figures shows, in this order (producer and document, date,
#: where read, row id, the page read, the row's note).
PROVENANCE_SHOWN = ["source", "date_source", "lu_sur", "row_id", "adresse_lue", "note"]

SOURCES_COLUMNS = [
    "indicateur",
    "annee",
    "periode",
    "valeur",
    "retenu",
    *PROVENANCE_SHOWN,
]


def sources_table(pubs: Iterable[Published | None], labels: Iterable[str], lang: str = "fr") -> pd.DataFrame:
    """A table of published figures with their provenance (one row per figure, alternatives included).

    Parameters
    ----------
    pubs : iterable of Published or None
        The figures (None entries give a row with a missing value).
    labels : iterable of str
        Label of each figure (or its registry id, for the notebook to word in each language), same order.
    lang : {"fr", "en"}, default "fr"
        The language of the provenance cells (period, source line, where read).

    Returns
    -------
    DataFrame
        Columns :data:`SOURCES_COLUMNS`: ``periode`` is the period as the source states it (never the series'
        year when the source states none), ``retenu`` "oui" for the figure cited and "non" for its alternatives,
        ``source`` the producer then the document, ``lu_sur`` where it was read, ``row_id`` and ``adresse_lue``
        (the page) its provenance.
    """
    out = []
    for pub, label in zip(pubs, labels, strict=True):
        if pub is None:
            out.append({"indicateur": label, "note": NOT_AVAILABLE})
            continue
        for i, p in enumerate((pub, *pub.alternatives)):
            out.append(
                {
                    "indicateur": label,
                    "annee": p.year if p.period_explicit is not False else None,
                    "periode": period_cell(p, lang),
                    "valeur": p.value,
                    "retenu": "oui" if i == 0 else "non",
                    "source": p.source_line(lang),
                    "date_source": p.source_date,
                    "lu_sur": read_at_cell(p, lang),
                    "row_id": p.row_id,
                    "adresse_lue": p.read_at,
                    "note": p.note,
                }
            )
    return pd.DataFrame(out, columns=SOURCES_COLUMNS)


def add_fact(
    facts,
    key: str,
    pub: Published | None,
    *,
    year: int,
    unit: str,
    edition: str,
    source_id: str,
    kind: str = "number",
    decimals: int = 0,
    extra_note: str | None = None,
    display: bool = False,
    details: dict | None = None,
) -> str:
    """Record a published figure (or its absence) as a fact, with its provenance.

    The fact's details carry ``qualifier`` ("plus de", "près de", "environ" or ""), so that the template never
    prints a bound as an exact count, ``source_year`` (the year of the series' row) and the figure's provenance
    (:meth:`Published.provenance`): a template prints ``reference_period`` or, when ``period_explicit`` is
    False, what the source says instead of a year.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
        The notebook's facts.
    key : str
        Fact key.
    pub : Published or None
        The figure; None records a missing fact.
    year : int
        Reference year of the fact (the year asked).
    unit, edition, kind, decimals :
        As :meth:`Facts.add`.
    source_id : str
        The compilation's source id (:func:`compilation`).
    extra_note : str, optional
        Text appended to the note (a definition, a scope).
    display : bool, default False
        Also record ``<key>_affiche`` (kind text): the formatted figure preceded by its qualifier ("plus de
        100 000"), for places that show a number alone (the key-figures band), where a bare "100 000" would
        misstate a bound.
    details : dict, optional
        Further details of the fact (see :meth:`Facts.add`).

    Returns
    -------
    str
        The formatted text.
    """
    note = pub.fact_note() if pub is not None else None  # missing: the record says so (available: false)
    if extra_note:
        note = f"{note} | {extra_note}" if note else extra_note
    provenance = pub.provenance() if pub is not None else {}
    text = facts.add(
        key,
        None if pub is None else pub.value,
        unit=unit,
        source_id=source_id,
        edition=edition,
        kind=kind,
        decimals=decimals,
        ref_year=year if pub is None or pub.period_explicit is not False else None,
        note=note,
        details={
            "qualifier": "" if pub is None else pub.qualifier,
            "publisher": "" if pub is None else pub.publisher,
            "source_line": "" if pub is None else pub.source_line(),
            "relayed_by": (pub.relayed_by or "") if pub is not None else "",
            "source_year": None if pub is None else pub.year,
            **provenance,
            **(details or {}),
        },
    )
    if display:
        facts.add(
            f"{key}_affiche",
            None if pub is None else f"{pub.qualifier} {text}".strip(),
            kind="text",
            unit=unit,
            source_id=source_id,
            edition=edition,
            ref_year=year,
            details={"row_id": "" if pub is None else pub.row_id},
        )
    return text


def add_compilation_facts(facts, ns: pd.DataFrame, as_of: dt.date, produced: str) -> None:
    """Declare what the letter says about the compilation it cites: its edition, review date and the letter's date.

    Keys: ``ns_edition`` (the compilation's edition; details ``produced``, the review's date in words,
    ``after_letter`` True when the review is later than the letter, ``as_of`` the letter's date in words, and the
    counts of rows not cited: ``n_after_letter``, ``n_held``, ``n_duplicates``) and ``lettre_date`` (the
    letter's month, e.g. "novembre 2025"; details ``iso``).

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    ns : DataFrame
        The rows the letter may cite (:func:`citable`, whose ``attrs["excluded"]`` is counted).
    as_of : datetime.date
        The letter's date.
    produced : str
        The compilation's production date (catalogue ``produced``: "2026-12").
    """
    source_id, edition = compilation(ns)
    excluded = ns.attrs.get("excluded", pd.DataFrame(columns=["reason"]))
    reasons = excluded["reason"].value_counts()
    review = earliest_date(produced)
    common = dict(unit="", kind="text", source_id=source_id, edition=edition)
    facts.add(
        "ns_edition",
        edition,
        **common,
        details={
            "produced": format_date(produced, day=False),
            "produced_iso": str(produced),
            "after_letter": bool(review is not None and review > as_of),
            "as_of": format_date(as_of.isoformat()),
            "as_of_iso": as_of.isoformat(),
            "n_after_letter": int(reasons.get("after_letter", 0)),
            "n_held": int(reasons.get("held", 0)),
            "n_duplicates": int(reasons.get("duplicate", 0)),
        },
    )
    facts.add(
        "lettre_date",
        format_date(as_of.isoformat(), day=False),
        **common,
        details={"iso": as_of.isoformat()},
    )


# What a whole edition cites -------------------------------------------------------------------------------------

#: Key of the fact that says how many of the figures an edition cites were read on official pages.
OFFICIAL_SHARE_KEY = "sources_part_officielle"


def cited_rows(records) -> list[dict]:
    """The rows of the national series an edition's facts cite, once each, with their provenance.

    Parameters
    ----------
    records : mapping
        Fact records by key (every notebook's facts of the edition).

    Returns
    -------
    list of dict
        One per row id (sorted): ``row_id, producer, document, source_date, reference_period, period_explicit,
        read_at, read_at_kind, facts`` (the keys of the facts citing it, comma-separated).
    """
    rows: dict[str, dict] = {}
    for key in sorted(records):
        record = records[key]
        row_id = record.get("row_id")
        if not row_id or not record.get("available") or not record.get("read_at_kind"):
            continue
        entry = rows.setdefault(
            row_id,
            {
                "row_id": row_id,
                **{
                    name: record.get(name)
                    for name in (
                        "producer",
                        "document",
                        "source_date",
                        "reference_period",
                        "period_explicit",
                        "read_at",
                        "read_at_kind",
                    )
                },
                "facts": [],
            },
        )
        entry["facts"].append(key)
    return [{**rows[r], "facts": ", ".join(rows[r]["facts"])} for r in sorted(rows)]


def official_share(records) -> dict | None:
    """How many of the published figures an edition cites were read on official pages (None when it cites none).

    A figure counts once whatever the number of facts citing it; "official" is a figure read on an official page
    or computed from a data file of the catalogue.

    Returns
    -------
    dict or None
        ``share`` (percent), ``n_cited``, ``n_official``, ``n_relay``, ``rows`` (the row ids, comma-separated),
        ``source_id`` and ``edition`` of the compilation.
    """
    cited = cited_rows(records)
    if not cited:
        return None
    first = records[cited[0]["facts"].split(", ")[0]]
    official = [r for r in cited if r["read_at_kind"] in ("official", "data_file")]
    return {
        "share": 100.0 * len(official) / len(cited),
        "n_cited": len(cited),
        "n_official": len(official),
        "n_relay": len(cited) - len(official),
        "rows": ", ".join(r["row_id"] for r in cited),
        "source_id": first.get("source_id"),
        "edition": first.get("edition"),
    }


def add_later_inputs_fact(facts, catalogue, source_ids: Iterable[str], as_of: dt.date) -> None:
    """Declare ``sources_posterieures``: the inputs of the letter whose edition was produced after its date.

    A letter rebuilt later (an older year's letter, or one rebuilt on a corrected file) names editions its date
    did not know; the letter must say so. The fact is missing when every input predates the letter.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    catalogue : dict
        ``catalogue.load_catalogue()``.
    source_ids : iterable of str
        The sources whose editions the letter names.
    as_of : datetime.date
        The letter's date.
    """
    later = []
    for source_id in source_ids:
        source = catalogue[source_id]
        produced = earliest_date(source.produced)
        if produced is not None and produced > as_of:
            later.append(
                (
                    source.publisher.split(" (")[0],
                    source.edition.split(" (")[0],
                    format_date(str(source.produced), day=False),
                )
            )
    first = sorted(source_ids)[0]
    facts.add(
        "sources_posterieures",
        f"{NNBSP}; ".join(f"{who}, édition {edition} ({when})" for who, edition, when in later) or None,
        kind="text",
        unit="",
        source_id=first,
        edition=str(catalogue[first].edition),
        details={"n_later": len(later), "as_of": format_date(as_of.isoformat())},
    )


def site_official_shares(site_dir: Path | None = None) -> list[tuple[str, str, dict]]:
    """The official-page share of every published edition that cites the national series (for ``make themes``).

    Reads each edition's facts (``<site>/<theme>/<edition>/facts/*.json``) as published.

    Returns
    -------
    list of (theme, edition folder, :func:`official_share` result), sorted.
    """

    out = []
    root = Path(site_dir or paths.SITE)
    for folder in sorted(root.glob("*/*/facts")):
        records: dict = {}
        for path in sorted(folder.glob("*.json")):
            records.update(json.loads(path.read_text(encoding="utf-8")).get("facts", {}))
        share = official_share(records)
        if share is not None:
            out.append((folder.parent.parent.name, folder.parent.name, share))
    return out
