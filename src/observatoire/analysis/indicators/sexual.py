"""Sexual violence recorded by police and gendarmerie: what the national publications add (section 3).

The départemental base counts victims of "Violences sexuelles" without sex or age (see
:mod:`observatoire.analysis.indicators.recorded`). The share of women and of minors among the victims are known only from
SSMSI's national publications and the MIPROF letters, for some years, and the national totals those
publications print can differ from the sum of the base (date of extraction, scope such as "hors cadre
familial", rounding). This module lists them for a year, never borrowing another year's share.

Its tables carry the series' ids: their labels are the indicator registry's (``publications/indicators.yml``, in
French and English), which a notebook prints in each language (``registry.relabel``).
"""

from __future__ import annotations

import pandas as pd

from observatoire.analysis.indicators import published
from observatoire.analysis.indicators.recorded import published_vs_base

SHARE_WOMEN = "victimes_violences_sexuelles_enregistrees_part_femmes"
SHARE_WOMEN_ADULTS = "part_femmes_victimes_majeures_violences_sexuelles_enregistrees"
SHARE_MINORS = "victimes_violences_sexuelles_enregistrees_part_mineurs"
SHARE_WOMEN_OUTSIDE_FAMILY = "victimes_violences_sexuelles_hors_cadre_familial_part_femmes"
SHARE_MINORS_OUTSIDE_FAMILY = "victimes_violences_sexuelles_hors_cadre_familial_part_mineurs"
TOTAL = "victimes_violences_sexuelles_enregistrees"
TOTAL_MIPROF = "victimes_violences_sexuelles_enregistrees_lettre_miprof"
RAPES = "victimes_viols_tentatives_enregistrees"
OUTSIDE_FAMILY = "victimes_violences_sexuelles_hors_cadre_familial_enregistrees"
WITHIN_COUPLE = "violences_sexuelles_conjugales_enregistrees"
MINORS = "victimes_violences_sexuelles_enregistrees_mineurs"

#: The registry id of the base's own total in the comparison with the published counts.
BASE_TOTAL = "violences_sexuelles_somme_base"

#: Shares shown in the table: (series id, sex).
SHARES = (
    (SHARE_WOMEN, "female"),
    (SHARE_WOMEN_ADULTS, "female"),
    (SHARE_MINORS, None),
    (SHARE_WOMEN_OUTSIDE_FAMILY, "female"),
    (SHARE_MINORS_OUTSIDE_FAMILY, None),
)

#: Published counts compared with the base total: (series id, sex).
PUBLISHED_COUNTS = (
    (TOTAL, None),
    (TOTAL_MIPROF, None),
    (RAPES, None),
    (OUTSIDE_FAMILY, None),
    (WITHIN_COUPLE, None),
    (MINORS, None),
)


def shares_table(ns: pd.DataFrame, last_year: int, lang: str = "fr") -> pd.DataFrame:
    """Published shares of women and minors among victims, every year up to ``last_year``, with their base.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    last_year : int
    lang : {"fr", "en"}, default "fr"
        The language of the provenance cells (period, source line, where read).

    Returns
    -------
    DataFrame
        Columns ``annee, periode, mesure, base, valeur, qualificatif, source, lu_sur, row_id, note`` (percent),
        sorted by measure and year; ``mesure`` is the series id (its label: the registry's), ``base`` what the
        source says the share is taken of (its ``concept`` and ``population``, as worded), ``periode`` the period
        as the source states it.
    """
    out = []
    for indicator, sex in SHARES:
        for _, r in published.rows(ns, indicator, sex).iterrows():
            if r["year"] > last_year:
                continue
            pub = published.pick(ns, indicator, int(r["year"]), sex)
            if pub is None or (pub.value != r["value"] or pub.source_title != r["source_title"]):
                continue  # alternatives are listed once, through the chosen row's note
            out.append(
                {
                    "annee": pub.year if pub.period_explicit is not False else None,
                    "periode": published.period_cell(pub, lang),
                    "mesure": indicator,
                    "base": published.typeset(" ; ".join(p for p in (pub.concept, pub.population) if p)),
                    "valeur": pub.value,
                    "qualificatif": pub.qualifier,
                    "source": pub.source_line(lang),
                    "lu_sur": published.read_at_cell(pub, lang),
                    "row_id": pub.row_id,
                    "note": pub.note,
                }
            )
    columns = [
        "annee",
        "periode",
        "mesure",
        "base",
        "valeur",
        "qualificatif",
        "source",
        "lu_sur",
        "row_id",
        "note",
    ]
    return pd.DataFrame(out, columns=columns)


def published_comparison(
    ns: pd.DataFrame, analysis, year: int, edition: str, lang: str = "fr"
) -> pd.DataFrame:
    """The base total for ``year`` beside every national count published for the same year.

    The ``indicateur`` column holds registry ids (:data:`BASE_TOTAL`, then the series' ids): a notebook prints
    their labels in each language.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    analysis : observatoire.analysis.indicators.recorded.Analysis
        The analysed "Violences sexuelles" indicator.
    year : int
    edition : str
        Edition of the SSMSI base.
    lang : {"fr", "en"}, default "fr"
        The language of the provenance cells.
    """

    pubs, ids = [], []
    for indicator, sex in PUBLISHED_COUNTS:
        pub = published.pick(ns, indicator, year, sex)
        if pub is not None:
            pubs.append(pub)
            ids.append(indicator)
    return published_vs_base(analysis.value("count"), pubs, ids, BASE_TOTAL, year, edition, lang)


def latest(ns: pd.DataFrame, indicator: str, year: int, sex: str | None):
    """The latest figure of ``indicator`` up to ``year`` whose source states its period, or None."""
    found = published.rows(ns, indicator, sex)
    for candidate in sorted(found.loc[found["year"] <= int(year), "year"].unique(), reverse=True):
        pub = published.pick(ns, indicator, int(candidate), sex)
        if pub is not None and pub.period_explicit is not False:
            return pub
    return None


def add_facts(facts, ns: pd.DataFrame, year: int) -> None:
    """Declare the facts of section 3 that come from the national series (same keys every year).

    Keys: ``vs_part_femmes``, ``vs_part_femmes_majeures``, ``vs_part_mineurs`` (and ``vs_part_mineurs_dernier``,
    the latest published share of minors up to ``year``, with its period), ``vs_viols``, ``vs_hors_famille``,
    ``vs_publie_lettre``. Each carries its provenance (the base of a share: ``concept`` and ``population``).
    """
    source_id, edition = published.compilation(ns)
    common = dict(year=year, edition=edition, source_id=source_id)
    share = dict(kind="percent", unit="%", **common)
    published.add_fact(facts, "vs_part_femmes", published.pick(ns, SHARE_WOMEN, year, "female"), **share)
    published.add_fact(
        facts, "vs_part_femmes_majeures", published.pick(ns, SHARE_WOMEN_ADULTS, year, "female"), **share
    )
    published.add_fact(facts, "vs_part_mineurs", published.pick(ns, SHARE_MINORS, year, None), **share)
    last = latest(ns, SHARE_MINORS, year, None)
    published.add_fact(
        facts,
        "vs_part_mineurs_dernier",
        last,
        **{**share, "year": year if last is None else last.year},
    )
    published.add_fact(facts, "vs_viols", published.pick(ns, RAPES, year, None), unit="victimes", **common)
    published.add_fact(
        facts, "vs_hors_famille", published.pick(ns, OUTSIDE_FAMILY, year, None), unit="victimes", **common
    )
    published.add_fact(
        facts, "vs_publie_lettre", published.pick(ns, TOTAL_MIPROF, year, None), unit="victimes", **common
    )


# Victimisation surveys in the thematic letter ------------------------------------------------------------------

#: The population each survey interviews about sexual violence (its self-administered module): the CVS asked
#: people aged 18 to 75, the VRS people aged 18 or more. A record whose unit gives other bounds for the same
#: survey (the series has "persons 18-76" for CVS rows) is shown with the survey's bounds and the discrepancy in
#: its note (listed in docs/REVIEWING.md).
SURVEY_AGES = {"CVS": "18 à 75 ans", "VRS": "18 ans ou plus"}

#: Phrases of the series' notes saying that the year column is not the reference year of the estimate.
_NO_REFERENCE_YEAR = ("year = publication year", "reference year not explicit")

_SEX_WORDS = {"Femmes": "femmes", "Hommes": "hommes", "Ensemble": "personnes"}


def survey_records(survey_rows: pd.DataFrame, ns: pd.DataFrame, lang: str = "fr") -> pd.DataFrame:
    """Survey estimates on sexual violence with what their record says: edition, reference year, population, unit.

    Parameters
    ----------
    survey_rows : DataFrame
        Rows of ``observatoire.analysis.indicators.surveys.survey_table`` for sexual violence (columns ``indicator,
        enquete, mesure, libelle, sexe, year, value, ages, periode, source, date_source, note``).
    ns : DataFrame
        The national series (for ``publisher`` and the relaying site).
    lang : {"fr", "en"}, default "fr"
        The language of ``edition`` (``publications/_shared/provenance.yml``).

    Returns
    -------
    DataFrame
        The input with ``annee_reference`` (int, or None when the record says the year column is a publication
        year or does not give the reference year), ``population`` (e.g. "femmes de 18 ans ou plus"),
        ``edition`` (survey and publication date, e.g. "VRS, publication 2023-12-14", in ``lang``; a survey the
        source does not name is said so), ``producteur`` (publisher
        of the record) and ``relais`` (where the figure was read: an official page or the relay's site).
    """
    out = survey_rows.copy().reset_index(drop=True)
    keyed = ns.assign(year=ns["year"].astype(int)).drop_duplicates(["indicator", "year", "value"])
    keyed = keyed.set_index(["indicator", "year", "value"])
    # A note saying the year column is a publication year applies to every row of that indicator and year.
    unstated = {
        (row["indicator"], int(row["year"]))
        for _, row in out.iterrows()
        if any(phrase in str(row.get("note") or "") for phrase in _NO_REFERENCE_YEAR)
    }
    words = published.words(lang)
    producers, relays, references, populations, editions = [], [], [], [], []
    for _, row in out.iterrows():
        key = (row["indicator"], int(row["year"]), float(row["value"]))
        record = keyed.loc[key] if key in keyed.index else None
        producers.append("" if record is None else str(record.get("publisher") or "").split(" (")[0])
        relays.append(str(row.get("lu_sur") or ""))
        stated = bool(row.get("period_explicit", True))
        unstated_year = (row["indicator"], int(row["year"])) in unstated
        references.append(int(row["year"]) if stated and not unstated_year else None)
        if row.get("row_id"):  # the third edition words the population itself
            populations.append(str(row["population"]))
        else:
            ages = SURVEY_AGES.get(str(row["enquete"]), str(row["ages"]))
            # A share (of women among victims...) is a share of the people the survey interviews, of both sexes.
            sex = "Ensemble" if str(row.get("mesure")) == "part" else str(row["sexe"])
            who = _SEX_WORDS.get(sex, sex.lower())
            populations.append(f"{who}, âges non précisés" if ages == "non précisé" else f"{who} de {ages}")
        date = str(row.get("date_source") or "")
        survey = str(row["enquete"]) or words["survey_unnamed"]
        editions.append(words["survey_edition"].format(survey=survey, date=date) if date else survey)
    out["annee_reference"] = pd.array(references, dtype="Int64")
    out["population"] = populations
    out["edition"] = editions
    out["producteur"] = producers
    out["relais"] = relays
    return out
