"""Published national figures: one value per indicator, year and sex, with its source.

The national series (``datasets.national_series()``) is a compilation of figures read in published sources. It
has gaps, and sometimes two rows for the same indicator, year and sex (two sources that disagree, or a stock
counted at two dates of the same year). This module decides, once and for all sections, which row a letter
cites:

* rows of the main table (source ``national_series_vff_r2``) come before rows of the supplement, then the order of
  the file; the other rows are kept as ``alternatives`` so that a table can show them all;
* a row flagged in its note as covering part of a year only is never used as the figure of that year;
* nothing is ever filled: a year without a row gives ``None``.

It also reads, in the row's note, whether the published figure is a bound or a rounded value ("plus de",
"environ"), so that the sentence of the letter says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pandas as pd

from observatoire.core.formatting import NOT_AVAILABLE
from observatoire.data.catalogue import load_catalogue
from observatoire.data.loaders.national_series import relayed_by

#: ``source_id`` written in the facts for every figure of the national series.
NATIONAL_SOURCE_ID = "national_series"
#: Catalogue entry whose edition is the edition of the national series.
CATALOGUE_ID = "national_series_vff_r2"
#: Catalogue ids of the two files of the compilation, in order of precedence.
MAIN_TABLE = "national_series_vff_r2"
SUPPLEMENT = "national_series_supplement_r2"

_PARTIAL = re.compile(r"not a full year|partial[- ]year|\b\d+ months\b", re.IGNORECASE)
_LOWER_BOUND = re.compile(r"plus de|lower bound|more than", re.IGNORECASE)
_NEAR = re.compile(r"près de", re.IGNORECASE)
_ROUNDED = re.compile(r"\brounded\b|\benviron\b|~|approximate", re.IGNORECASE)


@dataclass(frozen=True)
class Published:
    """One published figure and where it was read.

    Attributes
    ----------
    indicator : str
        Series id (e.g. ``"morts_violentes_couple"``).
    year : int
        Reference year as recorded in the series.
    sex : str
        ``total``, ``female`` or ``male``.
    value : float
        The figure.
    unit : str
        Its unit as recorded.
    source_title, source_url, source_date, note : str
        Provenance, as recorded (empty string when absent).
    origin : str
        The file of the compilation the row comes from (``national_series_vff_r2`` or
        ``national_series_supplement_r2``), or ``""`` when unknown.
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
    alternatives: tuple[Published, ...] = field(default=(), compare=False)

    @property
    def relayed_by(self) -> str | None:
        """The site that relayed the official figure when the series knows it only through the press, else None."""
        return relayed_by(self.note)

    def source_line(self) -> str:
        """Where the figure comes from, official first: publisher, document (date), then who relayed it, if any.

        Returns
        -------
        str
            E.g. "FNSF (Fédération nationale Solidarité Femmes), Analyse annuelle des appels au 3919 (2023-11) ;
            chiffre officiel relayé par TF1 Info"; a press article is never given as the source itself.
        """
        document = self.source_title + (f" ({self.source_date})" if self.source_date else "")
        head = ", ".join(p for p in (self.publisher, document) if p)
        site = self.relayed_by
        if site:
            site = site.split(" (« ")[0]
            return f"{head} ; chiffre officiel relayé par {site}"
        return head

    @property
    def qualifier(self) -> str:
        """French qualifier the sentence must carry: ``"plus de"``, ``"près de"``, ``"environ"`` or ``""``."""
        return qualifier_from_note(self.note)

    @property
    def partial_year(self) -> bool:
        """True when the note says the figure covers part of the year only."""
        return bool(_PARTIAL.search(self.note or ""))

    def fact_note(self) -> str:
        """Provenance for the facts file: publisher and document first, who relayed it, and the row's note."""
        parts = [self.source_line()]
        if self.note:
            parts.append(self.note)
        if self.alternatives:
            others = "; ".join(f"{_plain(a.value)} ({a.source_title})" for a in self.alternatives)
            parts.append(f"autre(s) valeur(s) publiée(s) pour la même année : {others}")
        return " | ".join(p for p in parts if p)


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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


def rows(ns: pd.DataFrame, indicator: str | Iterable[str], sex: str | None = None) -> pd.DataFrame:
    """All rows of one or several indicators, in order of precedence.

    Parameters
    ----------
    ns : DataFrame
        The national series (``datasets.national_series()``): columns ``indicator, year, sex, value, unit``,
        and ``source_title, source_url, source_date, note``; ``source_id`` when present tells the main table
        from the supplement.
    indicator : str or iterable of str
        Series id(s).
    sex : str, optional
        ``total`` (an empty sex counts as total), ``female`` or ``male``; None keeps every sex.

    Returns
    -------
    DataFrame
        The rows, with ``sex`` normalised, an ``origin`` column, sorted by indicator, year, sex then
        precedence (main table first, then file order).
    """
    names = [indicator] if isinstance(indicator, str) else list(indicator)
    out = ns.loc[ns["indicator"].isin(names)].copy()
    out["sex"] = out["sex"].map(_normalise_sex) if "sex" in out else "total"
    if sex is not None:
        out = out.loc[out["sex"] == sex]
    origin = out["source_id"].astype(str) if "source_id" in out else pd.Series("", index=out.index)
    out["origin"] = origin.where(origin.isin([MAIN_TABLE, SUPPLEMENT]), "")
    out["_precedence"] = (out["origin"] == SUPPLEMENT).astype(int)
    out["_order"] = range(len(out))
    out["year"] = out["year"].astype(int)
    for column in ("unit", "source_title", "source_url", "source_date", "note"):
        out[column] = out[column].map(_text) if column in out else ""
    out = out.sort_values(["indicator", "year", "sex", "_precedence", "_order"], kind="stable")
    return out.drop(columns=["_precedence", "_order"]).reset_index(drop=True)


def _to_published(row: pd.Series) -> Published:
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
    )


def pick(ns: pd.DataFrame, indicator: str, year: int, sex: str | None = "total") -> Published | None:
    """The figure a letter cites for one indicator, year and sex, or None when there is none.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    indicator : str
        Series id.
    year : int
        The year asked. Only rows of exactly that year are considered: never a neighbouring year.
    sex : str or None, default "total"
        Sex asked; None when the indicator has no sex (rows of any sex then qualify).

    Returns
    -------
    Published or None
        The first row in order of precedence, not flagged as a part-year figure, with the other rows of that
        year as ``alternatives``; None when no full-year row exists.
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


def national_edition(catalogue: dict | None = None) -> str:
    """Edition of the national series, read from the catalogue entry ``national_series_vff_r2``.

    Parameters
    ----------
    catalogue : dict, optional
        ``catalogue.load_catalogue()`` (read when not given).

    Returns
    -------
    str
        E.g. ``"2025-11"``.
    """
    if catalogue is None:
        catalogue = load_catalogue()
    return str(catalogue[CATALOGUE_ID].edition)


def sources_table(pubs: Iterable[Published | None], labels: Iterable[str]) -> pd.DataFrame:
    """A table of published figures with their sources (one row per figure, alternatives included).

    Parameters
    ----------
    pubs : iterable of Published or None
        The figures (None entries give a row with a missing value).
    labels : iterable of str
        French label of each figure, same order.

    Returns
    -------
    DataFrame
        Columns ``indicateur, annee, valeur, retenu, source, date_source, note``; ``retenu`` is "oui" for the
        figure cited and "non" for its alternatives; ``source`` is :meth:`Published.source_line` (the official
        publisher and document first).
    """
    out = []
    for pub, label in zip(pubs, labels, strict=True):
        if pub is None:
            out.append(
                {
                    "indicateur": label,
                    "annee": None,
                    "valeur": None,
                    "retenu": "",
                    "source": "",
                    "date_source": "",
                    "note": NOT_AVAILABLE,
                }
            )
            continue
        for i, p in enumerate((pub, *pub.alternatives)):
            out.append(
                {
                    "indicateur": label,
                    "annee": p.year,
                    "valeur": p.value,
                    "retenu": "oui" if i == 0 else "non",
                    "source": p.source_line(),
                    "date_source": p.source_date,
                    "note": p.note,
                }
            )
    return pd.DataFrame(
        out, columns=["indicateur", "annee", "valeur", "retenu", "source", "date_source", "note"]
    )


def add_fact(
    facts,
    key: str,
    pub: Published | None,
    *,
    year: int,
    unit: str,
    edition: str,
    kind: str = "number",
    decimals: int = 0,
    extra_note: str | None = None,
    display: bool = False,
    details: dict | None = None,
) -> str:
    """Record a published figure (or its absence) as a fact.

    The fact's details carry ``qualifier`` ("plus de", "près de", "environ" or ""), so that the template never
    prints a bound as an exact count, and ``source_year`` (the year recorded in the series).

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
        As :meth:`Facts.add`; ``source_id`` is always :data:`NATIONAL_SOURCE_ID`.
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
    note = (
        pub.fact_note()
        if pub is not None
        else "aucune valeur publiée pour cette année dans la série nationale"
    )
    if extra_note:
        note = f"{note} | {extra_note}"
    text = facts.add(
        key,
        None if pub is None else pub.value,
        unit=unit,
        source_id=NATIONAL_SOURCE_ID,
        edition=edition,
        kind=kind,
        decimals=decimals,
        ref_year=year,
        note=note,
        details={
            "qualifier": "" if pub is None else pub.qualifier,
            "publisher": "" if pub is None else pub.publisher,
            "source_line": "" if pub is None else pub.source_line(),
            "relayed_by": (pub.relayed_by or "") if pub is not None else "",
            **(details or {}),
        },
    )
    if display:
        facts.add(
            f"{key}_affiche",
            None if pub is None else f"{pub.qualifier} {text}".strip(),
            kind="text",
            unit=unit,
            source_id=NATIONAL_SOURCE_ID,
            edition=edition,
            ref_year=year,
            note=f"affichage de {key} avec sa précision (borne, arrondi)",
        )
    return text
