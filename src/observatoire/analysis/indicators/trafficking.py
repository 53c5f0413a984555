"""Trafficking in human beings: the annual survey of victims supported by associations (theme ``traite``).

Since the 2015 reference year, MIPROF (with the Interior ministry's statistical service, ONDRP then SSMSI, up to
the 2022 reference year; alone for the surveys run in 2024 and 2025, as the records say) asks the associations that support victims of
trafficking and exploitation how many victims they identified ("repérées") and supported ("accompagnées", "suivies"
in the first editions) during the year, and who those victims are. A year of this module is a reference year: the
survey runs the year after (the series records the 2023 data as "enquête 2024"). The published figures of each edition
are in the national series (``observatoire.data.datasets.national_series()``), rows ``traite_*``, each with the
publication it was read in.

Three properties of this survey drive everything in this module:

* **coverage changes every year.** Between 13 and 72 associations answered depending on the edition; the counts
  add up what the responding associations declare. A rise in the number of victims may only mean that more
  associations answered. :func:`annual_table` therefore always puts the number of responding associations and
  the number of victims per responding association beside the counts, and the letter never reads a change of
  counts as a change of the phenomenon.
* **no de-duplication.** A victim supported by two associations is counted twice; counts are declared by the
  associations themselves (self-reported), not checked against files.
* **several publications per edition.** The same edition was reported by Interstats, IHEMI, the associations'
  collective and the press; where two of them print different figures for the same indicator and year, both rows
  are kept. :func:`select_values` chooses one by a stated rule (:func:`source_rank`) and :func:`disagreements`
  lists the others, so the letter can say which is used.

Missing is missing: a figure absent for a year is ``None``; it is never taken from a neighbouring year, nor
derived from a complementary share (the share of minors is not ``100 - share of adults``: ages can be unknown).
The only computed figures are ratios of two published counts of the same edition (victims per responding
association, share of identified victims who were supported, share of supported victims exploited in France).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from observatoire.analysis.indicators import published
from observatoire.analysis.indicators.published import relay_site
from observatoire.data.catalogue import load_catalogue
from observatoire.data.datasets import MissingData

__all__ = [
    "ADMINISTRATIVE",
    "FORMS",
    "OFFICIAL_MARKERS",
    "PREFIX",
    "SERIES",
    "NoSurveyYear",
    "Series",
    "administrative_latest",
    "annual_table",
    "check_year",
    "chosen_row",
    "comparison_year",
    "disagreements",
    "edition",
    "editions_table",
    "forms_long",
    "long_counts",
    "main_form",
    "note_for",
    "per_association",
    "per_association_frame",
    "producer",
    "producers_by_year",
    "publication_date",
    "published_term",
    "ratio",
    "relative_change",
    "select_values",
    "source_of",
    "source_rank",
    "producer_spans",
    "survey_rows",
    "survey_run_years",
    "survey_years",
    "year_values",
]

PREFIX = "traite_"

#: Administrative series (police and gendarmerie records) published beside the survey. They are another source
#: with another scope: never mixed with the association survey.
#: Short name -> series id; its label is the indicator registry's (``publications/indicators.yml``).
ADMINISTRATIVE = {"victimes_enregistrees": "traite_exploitation_victimes_enregistrees_services_securite"}
_ADMINISTRATIVE_IDS = {
    "traite_exploitation_victimes_enregistrees_services_securite",
    "traite_exploitation_part_victimes_nationalite_francaise_donnees_administratives",
}


@dataclass(frozen=True)
class Series:
    """One survey indicator: its id in the national series and how it is printed.

    Its label, in every language, is the indicator registry's (``publications/indicators.yml``, read by
    :mod:`observatoire.analysis.indicators.registry`): ``registry.get(series.indicator).label_in(lang)``.
    """

    indicator: str
    kind: str  # number | percent


#: Survey counts and shares used by the letter (short name -> series).
SERIES: dict[str, Series] = {
    "reperees": Series("traite_victimes_reperees_associations", "number"),
    "accompagnees": Series("traite_victimes_accompagnees_associations", "number"),
    "associations": Series("traite_associations_repondantes", "number"),
    "part_femmes": Series("traite_part_femmes", "percent"),
    "part_mineurs": Series("traite_part_mineurs", "percent"),
    "part_majeurs": Series("traite_part_majeurs", "percent"),
    "mineurs_accompagnes": Series("traite_victimes_mineures_accompagnees", "number"),
    "exploitees_en_france": Series(
        "traite_victimes_accompagnees_associations_exploitees_en_france", "number"
    ),
    "exploitees_etranger": Series(
        "traite_victimes_accompagnees_associations_exploitees_uniquement_etranger", "number"
    ),
    "part_plainte": Series("traite_part_victimes_ayant_porte_plainte", "percent"),
    "part_reseau": Series("traite_part_exploitees_reseau_transfert_france", "percent"),
    "part_famille": Series("traite_part_exploitees_par_famille", "percent"),
    "part_mineurs_debut": Series("traite_part_majeurs_mineurs_debut_exploitation", "percent"),
    "part_addiction": Series("traite_part_victimes_exploitation_sexuelle_addiction", "percent"),
}

#: Forms of exploitation (share of supported victims, in percent), in the order the letter lists them.
FORMS: dict[str, Series] = {
    "sexuelle": Series("traite_part_exploitation_sexuelle", "percent"),
    "travail": Series("traite_part_exploitation_travail", "percent"),
    "mendicite": Series("traite_part_mendicite_forcee", "percent"),
    "delits": Series("traite_part_contrainte_delits", "percent"),
    "servitude": Series("traite_part_servitude_domestique", "percent"),
}

#: Words in a source title that mark the survey's own statistical publishers (Interstats/SSMSI, ONDRP and IHEMI
#: Grand Angle, MIPROF): their figures are preferred over secondary reports of the same edition.
OFFICIAL_MARKERS = ("interstats", "ssmsi", "grand angle", "ondrp", "ihemi", "miprof")


class NoSurveyYear(MissingData):
    """The year asked has no edition of the survey in the national series (nothing to build a letter from).

    A :class:`observatoire.data.datasets.MissingData` (hence a ``LookupError``): the build stops, it never uses a
    neighbouring edition.
    """


# Selecting one value per indicator and year -------------------------------------------------------------------


def survey_rows(national: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of the association survey (``traite_*``), without the administrative series.

    A row whose source does not state its period is left out: its ``year`` is only where the compilation placed
    it, and a year of this module is the reference year the letter prints.

    Parameters
    ----------
    national : DataFrame
        The harmonised national series (``observatoire.data.datasets.national_series()``): at least ``indicator``,
        ``year``, ``value``, ``source_id``, ``source_title``.

    Returns
    -------
    DataFrame
        A copy, sorted by indicator and year, index reset.
    """
    ind = national["indicator"].astype(str)
    unstated = national["period_explicit"].astype(str).eq("no") if "period_explicit" in national else False
    rows = national[ind.str.startswith(PREFIX) & ~ind.isin(_ADMINISTRATIVE_IDS) & ~unstated].copy()
    rows["year"] = rows["year"].astype(int)
    return rows.sort_values(["indicator", "year"], kind="stable").reset_index(drop=True)


def source_rank(row: pd.Series | dict) -> tuple[int, int]:
    """Preference of a row when two sources give a figure for the same indicator and year (lower is better).

    The rule, stated in the letter: first the survey's own statistical publications (Interstats/SSMSI, ONDRP and
    IHEMI Grand Angle, MIPROF: :data:`OFFICIAL_MARKERS` in the source title); then a figure read on an official
    page over one read on a relay. Remaining ties go to the most recent publication (see :func:`select_values`).

    Returns
    -------
    tuple of int
        ``(0 if official publication else 1, 0 if read on an official page else 1)``.
    """
    title = str(row.get("source_title", "") or "").lower()
    official = 0 if any(marker in title for marker in OFFICIAL_MARKERS) else 1
    relay = 1 if str(row.get("read_at_kind", "") or "") == "relay" else 0
    return official, relay


def select_values(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator and year: the value used, with the others kept beside it.

    Parameters
    ----------
    rows : DataFrame
        Survey rows (:func:`survey_rows`).

    Returns
    -------
    DataFrame
        Columns ``indicator, year, value, source_id, source_title, source_url, source_date, note, publisher,
        row_id, read_at, read_at_kind, reference_period, population, concept, n_sources, conflict,
        alternatives``. ``conflict`` is True when the sources give different values; ``alternatives``
        is a French text listing the values not used with their source ("45 (Enquête traite ...)"), empty when
        there is none.
    """
    if rows.empty:
        cols = [
            "indicator",
            "year",
            "value",
            "source_id",
            "source_title",
            "source_url",
            "source_date",
            "note",
            "publisher",
            *_PROVENANCE,
        ]
        return pd.DataFrame(columns=[*cols, "n_sources", "conflict", "alternatives"])
    work = rows.copy()
    ranks = work.apply(source_rank, axis=1, result_type="expand")
    work["_official"], work["_main"] = ranks[0], ranks[1]
    work["_date"] = work.get("source_date", pd.Series("", index=work.index)).fillna("").astype(str)
    work = work.sort_values(
        ["indicator", "year", "_official", "_main", "_date"],
        ascending=[True, True, True, True, False],
        kind="stable",
    )
    out = []
    for (indicator, year), group in work.groupby(["indicator", "year"], sort=True):
        chosen = group.iloc[0]
        others = group.iloc[1:]
        values = group["value"].astype(float)
        alternatives = "; ".join(
            f"{_plain(v)} ({t})"
            for v, t in zip(others["value"], others.get("source_title", ""), strict=False)
            if float(v) != float(chosen["value"])
        )
        out.append(
            {
                "indicator": indicator,
                "year": int(year),
                "value": float(chosen["value"]),
                "source_id": chosen.get("source_id"),
                "source_title": chosen.get("source_title"),
                "source_url": chosen.get("source_url"),
                "source_date": chosen.get("source_date"),
                "note": chosen.get("note"),
                "publisher": chosen.get("publisher"),
                **{column: chosen.get(column, "") for column in _PROVENANCE},
                "n_sources": len(group),
                "conflict": bool(values.nunique() > 1),
                "alternatives": alternatives,
            }
        )
    return pd.DataFrame(out)


#: Provenance columns of the third edition carried by :func:`select_values`.
_PROVENANCE = ("row_id", "read_at", "read_at_kind", "reference_period", "population", "concept")


def _plain(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else str(value)


def disagreements(rows: pd.DataFrame, last_year: int | None = None) -> pd.DataFrame:
    """Every (indicator, year) where two sources print different values, each row marked used or not.

    Parameters
    ----------
    rows : DataFrame
        Survey rows (:func:`survey_rows`).
    last_year : int, optional
        Keep years up to this one (the letter's year).

    Returns
    -------
    DataFrame
        Columns ``indicator, year, value, source_title, used`` (bool), sorted; empty when the sources agree
        everywhere. ``indicator`` is the series id (the registry names it in each language).
    """
    selected = select_values(rows)
    conflicts = selected[selected["conflict"]]
    if last_year is not None:
        conflicts = conflicts[conflicts["year"] <= last_year]
    out = []
    for _, sel in conflicts.iterrows():
        group = rows[(rows["indicator"] == sel["indicator"]) & (rows["year"] == sel["year"])]
        for _, row in group.iterrows():
            out.append(
                {
                    "indicator": sel["indicator"],
                    "year": int(sel["year"]),
                    "value": float(row["value"]),
                    "source_title": row.get("source_title"),
                    "used": bool(
                        row.get("source_title") == sel["source_title"] and float(row["value"]) == sel["value"]
                    ),
                }
            )
    cols = ["indicator", "year", "value", "source_title", "used"]
    return pd.DataFrame(out, columns=cols).sort_values(
        ["year", "indicator", "used"], ascending=[True, True, False]
    )


# Years --------------------------------------------------------------------------------------------------------


def survey_years(national: pd.DataFrame) -> list[int]:
    """Reference years with at least one published figure of the association survey.

    Returns
    -------
    list of int
        Sorted years (with the data of November 2025: 2015, 2016 and 2018 to 2024).
    """
    return sorted(int(y) for y in survey_rows(national)["year"].unique())


def check_year(national: pd.DataFrame, year: int) -> None:
    """Raise :class:`NoSurveyYear` when ``year`` has no figure of the survey at all.

    A year with some figures but not others is buildable (the missing ones are printed as missing); a year with
    none has no letter, and a neighbouring edition is never used in its place.
    """
    years = survey_years(national)
    if int(year) not in years:
        raise NoSurveyYear(
            f"no edition of the trafficking survey for {year} in the national series "
            f"(editions available: {', '.join(map(str, years))})"
        )


def comparison_year(table: pd.DataFrame, year: int) -> int | None:
    """The latest survey year before ``year`` with both supported victims and responding associations published.

    The letter compares the year with that edition (not simply the previous one, which may lack the counts), and
    always shows the respondents beside the victims. None when there is no such earlier year.
    """
    earlier = table[(table.index < int(year))].dropna(subset=["accompagnees", "associations"])
    return int(earlier.index.max()) if len(earlier) else None


# The table of the letter --------------------------------------------------------------------------------------


def ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    """``scale * numerator / denominator``, or None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None:
        return None
    num, den = float(numerator), float(denominator)
    if math.isnan(num) or math.isnan(den) or den <= 0:
        return None
    return scale * num / den


def per_association(victims: float | None, associations: float | None) -> float | None:
    """Victims per responding association: the count divided by the number of associations that answered.

    The survey's counts grow with the number of respondents; this ratio is what can be compared between editions
    (still with care: the associations that answer are not the same each year, nor of the same size).

    Examples
    --------
    >>> round(per_association(2573, 37), 1)
    69.5
    >>> per_association(2573, None) is None
    True
    """
    return ratio(victims, associations)


def annual_table(national: pd.DataFrame, last_year: int | None = None) -> pd.DataFrame:
    """One row per survey year: the counts, the number of respondents, the ratios and the shares.

    Parameters
    ----------
    national : DataFrame
        The harmonised national series.
    last_year : int, optional
        Keep survey years up to this one (a letter for year Y shows what was known for Y and before).

    Returns
    -------
    DataFrame
        Index ``year`` (int, survey years only: a year without an edition is absent, not a row of missing
        values). Columns: the short names of :data:`SERIES` and :data:`FORMS` (``forme_<name>``), and the
        computed ``accompagnees_par_association``, ``reperees_par_association``, ``part_accompagnees`` (percent of
        identified victims who were supported) and ``part_exploitees_en_france`` (percent of supported victims
        exploited at least partly in France). Missing figures are NaN.
    """
    selected = select_values(survey_rows(national))
    if last_year is not None:
        selected = selected[selected["year"] <= int(last_year)]
    years = sorted(selected["year"].unique())
    wide = (
        selected.pivot(index="year", columns="indicator", values="value") if len(selected) else pd.DataFrame()
    )
    table = pd.DataFrame(index=pd.Index(years, name="year", dtype=int))
    for name, series in SERIES.items():
        table[name] = wide[series.indicator] if series.indicator in wide.columns else float("nan")
    for name, series in FORMS.items():
        table[f"forme_{name}"] = wide[series.indicator] if series.indicator in wide.columns else float("nan")
    table = table.astype(float)
    table["accompagnees_par_association"] = [
        _nan(per_association(v, a)) for v, a in zip(table["accompagnees"], table["associations"], strict=True)
    ]
    table["reperees_par_association"] = [
        _nan(per_association(v, a)) for v, a in zip(table["reperees"], table["associations"], strict=True)
    ]
    table["part_accompagnees"] = [
        _nan(ratio(a, r, 100.0)) for a, r in zip(table["accompagnees"], table["reperees"], strict=True)
    ]
    # Victims exploited in France are published as a count; its share needs the total of the same edition.
    table["part_exploitees_en_france"] = [
        _nan(ratio(f, a, 100.0))
        for f, a in zip(table["exploitees_en_france"], table["accompagnees"], strict=True)
    ]
    return table


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def year_values(table: pd.DataFrame, year: int) -> dict[str, float | None]:
    """The row of ``year`` in :func:`annual_table` as a dict, missing figures as None.

    Every column is present for every year (the letter's facts have the same keys whatever the year); a year
    absent from the table gives a dict of None.
    """
    if int(year) in table.index:
        row = table.loc[int(year)]
        return {col: (None if pd.isna(row[col]) else float(row[col])) for col in table.columns}
    return dict.fromkeys(table.columns)


# What the notebooks cite and draw ------------------------------------------------------------------------------


def edition(source_id: str, catalogue: dict | None = None) -> str:
    """Edition of a file of the national series in the catalogue, e.g. ``"2026-r3"``."""
    if catalogue is None:
        catalogue = load_catalogue()
    return str(catalogue[source_id].edition)


def producer(publisher: object) -> str | None:
    """The organisations that ran an edition, from the ``publisher`` of its rows: ``"MIPROF / SSMSI"``.

    The series records the producer of each edition (MIPROF with ONDRP to 2019, with SSMSI from 2020 to 2023,
    MIPROF alone for 2024); the letter says what the record says, year by year.
    """
    if not _present(publisher):
        return None
    return str(publisher).split("(")[0].strip()


#: A record's own statement that MIPROF alone ran the survey ("enquête 2024 pilotée par la Miprof", "enquête
#: pilotée par la Miprof seule"): more specific than the ``publisher`` column, which names the usual partnership.
_MIPROF_ALONE = re.compile(r"pilot[ée]+e par la miprof", re.IGNORECASE)


def producers_by_year(rows: pd.DataFrame) -> dict[int, str]:
    """The producer of every survey year, as its records say.

    A note of the year stating that MIPROF ran ("piloted") the survey decides ("MIPROF": the 2023 and 2024
    reference years); otherwise the :func:`producer` of the year's first row.
    """
    out: dict[int, str] = {}
    if "publisher" not in rows.columns:
        return out
    for year, group in rows.sort_values(["year", "indicator"], kind="stable").groupby("year"):
        notes = " ".join(str(n) for n in group.get("note", pd.Series(dtype=str)).dropna())
        names = [p for p in (producer(v) for v in group["publisher"]) if p]
        if _MIPROF_ALONE.search(notes):
            out[int(year)] = "MIPROF"
        elif names:
            out[int(year)] = names[0]
    return out


def producer_spans(rows: pd.DataFrame, last_year: int) -> str:
    """The producers of the editions shown, by period, for the "Source" line of the theme's figures and tables.

    Example: "MIPROF / ONDRP (2015-2019), MIPROF / SSMSI (2020-2023), MIPROF (2024)". Computed from the
    ``publisher`` of the rows, never typed; the words around it are the notebooks' (``sources.survey``).
    """
    periods: list[list] = []
    for year, name in sorted(producers_by_year(rows).items()):
        if year > int(last_year):
            continue
        if periods and periods[-1][0] == name:
            periods[-1][2] = year
        else:
            periods.append([name, year, year])
    return ", ".join(f"{n} ({a})" if a == b else f"{n} ({a}-{b})" for n, a, b in periods)


def _indicator_of(name: str) -> str:
    if name.startswith("forme_"):
        return FORMS[name.removeprefix("forme_")].indicator
    return SERIES[name].indicator


def chosen_row(rows: pd.DataFrame, name: str, year: int) -> pd.Series | None:
    """The row used for one figure (:func:`select_values`), or None when it was not published for ``year``."""
    selected = select_values(rows[rows["indicator"] == _indicator_of(name)])
    selected = selected[selected["year"] == int(year)]
    return None if selected.empty else selected.iloc[0]


def source_of(rows: pd.DataFrame, name: str, year: int) -> str:
    """Catalogue id of the compilation file holding the figure used (that of the rows when it was not published)."""
    row = chosen_row(rows, name, year)
    return str(rows["source_id"].iloc[0]) if row is None else str(row["source_id"])


def note_for(rows: pd.DataFrame, name: str, year: int) -> str | None:
    """Provenance of one figure for the facts file: producer and official document first, then the relay.

    Parameters
    ----------
    rows : DataFrame
        Survey rows (:func:`survey_rows`).
    name : str
        Short name in :data:`SERIES` or ``forme_<name>`` for :data:`FORMS`.
    year : int

    Returns
    -------
    str or None
        ``"<producer> : <official title> (<date>) | <comment> | chiffre officiel relayé par <site> | autres
        valeurs publiées : ..."``; None when the figure is absent from the series for the year.
    """

    row = chosen_row(rows, name, year)
    if row is None:
        return None
    title = str(row["source_title"])
    if _present(row["source_date"]):
        title = f"{title} ({row['source_date']})"
    who = producer(row.get("publisher"))
    parts = [f"{who} : {title}" if who else title]
    note = str(row["note"]) if _present(row["note"]) else ""
    parts.extend(p.strip() for p in note.split(" | ") if p.strip())
    if str(row.get("read_at_kind") or "") == "relay":
        parts.append(f"lu sur {relay_site(row.get('read_at'))}")
    if row["alternatives"]:
        parts.append(f"autres valeurs publiées : {row['alternatives']}")
    return " | ".join(parts)


def provenance(rows: pd.DataFrame, name: str, year: int) -> dict:
    """The provenance a fact of one published figure carries (:meth:`published.Published.provenance`)."""

    row = chosen_row(rows, name, year)
    if row is None:
        return {}
    found = rows.loc[(rows["indicator"] == row["indicator"]) & (rows["year"] == int(year))]
    if "row_id" in found and str(row.get("row_id") or ""):
        found = found.loc[found["row_id"] == row["row_id"]]
    return published._to_published(published.rows(found, row["indicator"]).iloc[0]).provenance()


def published_term(rows: pd.DataFrame, year: int) -> str | None:
    """The word the edition used for its count of supported victims: ``"suivies"`` or ``"accompagnées"``.

    The first editions (2015 to 2018 reference years) counted victims "suivies" by the associations; later ones
    victims "accompagnées". The word is read from the record of the count (its comment, not the relaying site's
    title); the letter places both in one column only with this word beside the figure.
    """
    row = chosen_row(rows, "accompagnees", year)
    if row is None:
        return None
    note = str(row["note"]) if _present(row["note"]) else ""
    own = " ".join(p for p in note.split(" | ") if "relayé par" not in p).lower()
    return "suivies" if "suivi" in own else "accompagnées"


def editions_table(rows: pd.DataFrame, years) -> pd.DataFrame:
    """What each survey year's record says about its edition: producer, word used for the count, publication date.

    Returns
    -------
    DataFrame
        Index ``year``; columns ``producteur`` (e.g. "MIPROF / SSMSI"), ``terme`` ("suivies" or "accompagnées",
        None when no count was published) and ``publication`` (date of the publication of the count).
    """
    producers = producers_by_year(rows)
    out = pd.DataFrame(index=pd.Index([int(y) for y in years], name="year", dtype=int))
    out["producteur"] = [producers.get(y) for y in out.index]
    out["terme"] = [published_term(rows, y) for y in out.index]
    out["publication"] = [publication_date(rows, y) for y in out.index]
    return out


_SURVEY_YEAR = re.compile(r"enqu[êe]te (\d{4})", re.IGNORECASE)


def survey_run_years(rows: pd.DataFrame) -> dict[int, int]:
    """Reference year -> year of the survey that collected it, where a record of that year names it.

    The series sometimes names the survey by the year it ran ("enquête 2024 pilotée par la Miprof" on the 2023
    rows); only those statements are used, never a rule.
    """
    out: dict[int, int] = {}
    for _, row in rows.sort_values(["year", "indicator"], kind="stable").iterrows():
        text = f"{row.get('note') or ''} {row.get('source_title') or ''}"
        for match in _SURVEY_YEAR.finditer(text):
            run = int(match.group(1))
            if run != int(row["year"]) and int(row["year"]) not in out:
                out[int(row["year"])] = run
    return out


def publication_date(rows: pd.DataFrame, year: int) -> str | None:
    """Date of the publication of the year's count of supported victims (else of any figure of the year)."""
    for name in ("accompagnees", "associations", "reperees"):
        row = chosen_row(rows, name, year)
        if row is not None and _present(row["source_date"]):
            return str(row["source_date"])
    return None


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value) != ""


def relative_change(before: float | None, after: float | None) -> float | None:
    """``after / before - 1`` (a fraction), or None when either is missing or ``before`` is not positive."""
    value = ratio(after, before)
    return None if value is None else value - 1.0


def administrative_latest(national: pd.DataFrame, key: str, year: int) -> dict | None:
    """The latest figure of an administrative series (:data:`ADMINISTRATIVE`) for ``year`` or before.

    The administrative series is another source with its own reference year, printed with that year: it is not
    a substitute for the survey's figure.

    Returns
    -------
    dict or None
        ``value, year, source_title, note``; None when there is none up to ``year``.
    """
    indicator = ADMINISTRATIVE[key]
    rows = national[(national["indicator"] == indicator) & (national["year"].astype(int) <= int(year))]
    if rows.empty:
        return None
    row = rows.sort_values("year", kind="stable").iloc[-1]
    note = row.get("note")
    return {
        "value": float(row["value"]),
        "year": int(row["year"]),
        "source_title": str(row.get("source_title") or ""),
        "note": "" if not _present(note) else str(note),
    }


def long_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Identified and supported victims by survey year, long (``annee, serie, victimes``), for the line chart;
    ``serie`` is the short name of the series (``reperees``, ``accompagnees``: its words are the notebook's)."""
    out = (
        table[["reperees", "accompagnees"]]
        .rename_axis("annee")
        .reset_index()
        .melt(id_vars="annee", var_name="serie", value_name="victimes")
    )
    out["annee"] = out["annee"].astype(int)
    return out


def per_association_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Survey years where supported victims per responding association can be computed, for the bar chart.

    Returns
    -------
    DataFrame
        ``annee`` (str, so that the bars are categories), ``victimes_accompagnees, associations_repondantes,
        victimes_par_association``.
    """
    out = table[["accompagnees", "associations", "accompagnees_par_association"]].dropna()
    out = (
        out.rename(
            columns={
                "accompagnees": "victimes_accompagnees",
                "associations": "associations_repondantes",
                "accompagnees_par_association": "victimes_par_association",
            }
        )
        .rename_axis("annee")
        .reset_index()
    )
    out["annee"] = out["annee"].astype(int).astype(str)
    return out


def forms_long(table: pd.DataFrame) -> pd.DataFrame:
    """Published shares of each form of exploitation by survey year, long (``annee, forme, part``).

    ``forme`` is the form's key in :data:`FORMS` (its words are the notebook's), in the order of :data:`FORMS`.
    """
    columns = {f"forme_{name}": name for name in FORMS}
    out = (
        table[list(columns)]
        .rename(columns=columns)
        .rename_axis("annee")
        .reset_index()
        .melt(id_vars="annee", var_name="forme", value_name="part")
        .dropna(subset=["part"])
    )
    order = {name: i for i, name in enumerate(FORMS)}
    out["_order"] = out["forme"].map(order)
    out = out.sort_values(["annee", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    out["annee"] = out["annee"].astype(int).astype(str)
    return out


def main_form(values: dict[str, float | None]) -> str | None:
    """Key in :data:`FORMS` of the most frequent form of exploitation of the year, or None if none published."""
    shares = {name: values.get(f"forme_{name}") for name in FORMS}
    shares = {k: v for k, v in shares.items() if v is not None}
    if not shares:
        return None
    best = max(shares, key=lambda k: shares[k])
    return best
