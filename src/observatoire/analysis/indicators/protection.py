"""Protection and support (section 5 of the annual letter).

Four families of published figures, each from its own producer and each with gaps:

* ordonnances de protection requested and issued (Ministère de la Justice, family courts);
* téléphones grave danger (TGD) and bracelets anti-rapprochement (BAR): these are *stocks* counted at a date
  (for instance "au 1er août 2023"), not yearly flows; the count date is the figure's ``reference_period`` and is
  printed with it;
* calls to the 3919 (Violences Femmes Info line, run by the FNSF): calls received are not calls answered
  ("pris en charge"), and the two are different series.

Nothing is interpolated: a chart draws a line only between two consecutive years, so that a gap stays a gap,
and a figure flagged as covering part of a year only is kept out of the yearly series.

The tables carry codes: a family's and a measure's code (their words are the notebook's labels,
``notebooks/annual/05_protection_accompagnement.meta.yml``) and the series id (its label and producer are the
indicator registry's, ``publications/indicators.yml``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from observatoire.analysis.indicators import published, registry


@dataclass(frozen=True)
class Measure:
    """One published series of the section: its id, its family's and its own code, and its kind."""

    indicator: str
    family: str
    code: str
    kind: str  # "flux" (yearly count) or "stock" (count at a date)

    @property
    def producer(self) -> str:
        """The series' producer (the registry's), for a row whose record names none."""
        return registry.get(self.indicator).producer


#: Families' codes, in the order of the chart's panels.
FAMILIES = ("ordonnances", "telephones", "bracelets", "appels_3919")

MEASURES: tuple[Measure, ...] = (
    Measure("ordonnances_protection_demandees", FAMILIES[0], "demandees", "flux"),
    Measure("ordonnances_protection_delivrees", FAMILIES[0], "delivrees", "flux"),
    Measure("telephones_grave_danger_actifs", FAMILIES[1], "actifs", "stock"),
    Measure("bracelets_anti_rapprochement_actifs", FAMILIES[2], "actifs", "stock"),
    Measure("appels_3919_pris_en_charge", FAMILIES[3], "pris_en_charge", "flux"),
    Measure("appels_3919_recus", FAMILIES[3], "recus", "flux"),
    Measure("appels_3919_traites", FAMILIES[3], "traites", "flux"),
    Measure("appels_3919", FAMILIES[3], "non_precise", "flux"),
)

#: Figures the letter cites for its year (fact key -> series id).
HEADLINE = {
    "op_demandees": "ordonnances_protection_demandees",
    "op_delivrees": "ordonnances_protection_delivrees",
    "tgd_actifs": "telephones_grave_danger_actifs",
    "bar_actifs": "bracelets_anti_rapprochement_actifs",
    "appels_3919": "appels_3919_pris_en_charge",
}


def measure(indicator: str) -> Measure:
    """The :class:`Measure` of a series id (KeyError when it is not one of the section's)."""
    for m in MEASURES:
        if m.indicator == indicator:
            return m
    raise KeyError(f"{indicator!r} is not a protection measure")


def measures_table(ns: pd.DataFrame, last_year: int, lang: str = "fr") -> pd.DataFrame:
    """Every figure of the section up to ``last_year``, with its provenance (alternatives and part-year rows too).

    Parameters
    ----------
    ns : DataFrame
        The national series (the rows the letter may cite).
    last_year : int
    lang : {"fr", "en"}, default "fr"
        The language of the provenance cells (period, source line, where read).

    Returns
    -------
    DataFrame
        Columns ``famille, mesure, indicator, year, periode, value, cite, partiel, qualificatif, producteur,
        source, date_source, lu_sur, row_id, adresse_lue, note``; ``famille`` and ``mesure`` are codes
        (:data:`FAMILIES`, :attr:`Measure.code`); ``cite`` is True for the figure
        :func:`~observatoire.analysis.indicators.published.pick` cites for that year, ``partiel`` for a part-year figure
        (never cited, never drawn); ``periode`` is the period (or count date) as the source states it.
    """
    out = []
    for m in MEASURES:
        found = published.rows(ns, m.indicator)
        found = found.loc[found["year"] <= last_year]
        for year in sorted(found["year"].unique()):
            chosen = published.pick(ns, m.indicator, int(year), sex=None)
            same = found.loc[found["year"] == year]
            for _, r in same.iterrows():
                pub = published._to_published(r)
                is_chosen = chosen is not None and pub.row_id == chosen.row_id and pub.value == chosen.value
                out.append(
                    {
                        "famille": m.family,
                        "mesure": m.code,
                        "indicator": m.indicator,
                        "year": int(year),
                        "periode": published.period_cell(pub, lang),
                        "periode_precisee": pub.period_explicit is not False,
                        "value": float(r["value"]),
                        "cite": bool(is_chosen),
                        "partiel": pub.partial_year,
                        "qualificatif": pub.qualifier,
                        "producteur": pub.publisher or m.producer,
                        "source": pub.source_line(lang),
                        "date_source": pub.source_date,
                        "lu_sur": published.read_at_cell(pub, lang),
                        "row_id": pub.row_id,
                        "adresse_lue": pub.read_at,
                        "note": pub.note,
                    }
                )
    return pd.DataFrame(out, columns=TABLE_COLUMNS)


#: Columns of :func:`measures_table`.
TABLE_COLUMNS = [
    "famille",
    "mesure",
    "indicator",
    "year",
    "periode",
    "periode_precisee",
    "value",
    "cite",
    "partiel",
    "qualificatif",
    "producteur",
    *published.PROVENANCE_SHOWN,
]


def chart_data(table: pd.DataFrame) -> pd.DataFrame:
    """The points of the chart: cited full-year figures only, one per measure and year.

    Returns
    -------
    DataFrame
        Columns ``famille, mesure, year, value, segment``; ``segment`` numbers runs of consecutive years within a
        measure, so that a line joins two points only when no year lies missing between them.
    """
    sel = table.loc[
        table["cite"] & ~table["partiel"] & table["periode_precisee"], ["famille", "mesure", "year", "value"]
    ].copy()
    sel = sel.sort_values(["famille", "mesure", "year"]).reset_index(drop=True)
    gaps = sel.groupby(["famille", "mesure"])["year"].diff().ne(1)
    sel["segment"] = gaps.groupby([sel["famille"], sel["mesure"]]).cumsum().astype(int)
    return sel


def availability(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """For each measure: the figure of ``year`` (or nothing) and the latest year with a figure.

    Returns
    -------
    DataFrame
        Columns ``famille, mesure, valeur_annee, qualificatif, derniere_annee, valeur_derniere, source``:
        ``valeur_annee`` is missing when ``year`` has no full-year figure; ``derniere_annee`` is the latest
        year up to ``year`` that has one.
    """
    out = []
    for m in MEASURES:
        # a figure whose source states no period is not "the figure of a year": it stays in the sources table
        rows = table.loc[
            (table["indicator"] == m.indicator)
            & table["cite"]
            & ~table["partiel"]
            & table["periode_precisee"]
        ]
        this = rows.loc[rows["year"] == int(year)]
        last = rows.loc[rows["year"] <= int(year)].sort_values("year").tail(1)
        out.append(
            {
                "famille": m.family,
                "mesure": m.code,
                "valeur_annee": float(this["value"].iloc[0]) if not this.empty else None,
                "qualificatif": this["qualificatif"].iloc[0] if not this.empty else "",
                "derniere_annee": int(last["year"].iloc[0]) if not last.empty else None,
                "valeur_derniere": float(last["value"].iloc[0]) if not last.empty else None,
                "source": (this if not this.empty else last)["source"].iloc[0]
                if not (this.empty and last.empty)
                else "",
            }
        )
    return pd.DataFrame(out)


def headline(ns: pd.DataFrame, key: str, year: int):
    """The published figure cited for one headline measure (see :data:`HEADLINE`) and ``year``, or None."""
    return published.pick(ns, HEADLINE[key], year, sex=None)


def latest(ns: pd.DataFrame, key: str, year: int):
    """The latest figure of a headline measure the letter may cite, with its date, or None.

    A flow (orders, calls): the latest year up to ``year``. A stock (devices active at a date): the latest count
    the letter may cite, whatever its year (a count "au 1er février" of the year after the letter's figures is
    the latest known when the letter appears); ``ns`` holds only rows published by the letter's date.
    """
    m = measure(HEADLINE[key])
    found = published.rows(ns, m.indicator)
    if m.kind == "flux":
        found = found.loc[found["year"] <= int(year)]
    for candidate in sorted(found["year"].unique(), reverse=True):
        pub = published.pick(ns, m.indicator, int(candidate), sex=None)
        if pub is not None:
            return pub
    return None


def add_facts(facts, ns: pd.DataFrame, year: int) -> None:
    """Declare the facts of section 5 (same keys every year).

    Keys: ``op_demandees``, ``op_delivrees``, ``tgd_actifs``, ``bar_actifs``, ``appels_3919`` (the figure of
    ``year``), each with ``<key>_dernier`` (the latest figure the letter may cite, :func:`latest`; its details
    give the period or count date as the source states it and ``stock``), and ``prot_n_disponibles``.
    """
    source_id, edition = published.compilation(ns)
    available = 0
    for key in HEADLINE:
        m = measure(HEADLINE[key])
        pub = headline(ns, key, year)
        available += pub is not None
        common = dict(
            edition=edition,
            source_id=source_id,
            unit=registry.get(m.indicator).unit,  # the counting unit, as the registry declares it
            details={"stock": m.kind == "stock"},
        )
        published.add_fact(facts, key, pub, year=year, **common)
        last = latest(ns, key, year)
        published.add_fact(facts, f"{key}_dernier", last, year=year if last is None else last.year, **common)
    facts.add(
        "prot_n_disponibles",
        available,
        unit="indicateurs",
        source_id=source_id,
        edition=edition,
        ref_year=year,
        details={"n_suivis": len(HEADLINE)},
    )
