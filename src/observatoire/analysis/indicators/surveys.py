"""Victimisation surveys (section 4 of the annual letter).

Two surveys follow each other and must never be drawn as one line:

* **CVS**, *Cadre de vie et sécurité* (INSEE with ONDRP then SSMSI, 2007-2021 waves): people aged 18 to 75
  living in ordinary households of metropolitan France; violence within the couple and sexual violence are
  rare events, so the published figures are **annual averages over several waves** (e.g. "2011-2018"), the
  year of the series being the end of the period (or, for some rows, the year of publication: the note says
  so).
* **VRS**, *Vécu et ressenti en matière de sécurité* (SSMSI, from 2022): a different survey (internet and
  telephone collection, a different questionnaire, people aged 18 or more, facts of the previous year).

Differences between the two reflect the change of survey as much as any change in violence. Complaint rates
come from the same surveys (and, once, from the Genese survey).

Each row of the national series is classified here (survey, theme, measure, age range, period) by an explicit
table, with a fallback on the series id for rows added later (``cvs_*``, ``vrs_*``). The words are not here: a
series' label is the indicator registry's (``publications/indicators.yml``, in French and English), a survey's
name too (its ``surveys``: a row carries the survey's code), and the labels of the codes of themes, measures and
units are the notebooks' (``notebooks/annual/04_enquetes_victimation.meta.yml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from observatoire.analysis.indicators import published, registry

#: Age ranges of the two surveys (their documented fields), cited by the letter's methods section.
CVS_AGES = "18 à 75 ans"
VRS_AGES = "18 ans ou plus"
#: The same ranges as numbers (youngest, oldest or None), for words that print them in any language.
AGES = {"CVS": (18, 75), "VRS": (18, None)}

THEME_CONJUGAL = "violences conjugales"
THEME_SEXUAL = "violences sexuelles"
THEME_OTHER = "autres violences"
MEASURE_VICTIMS = "victimes"
MEASURE_COMPLAINT = "plainte"
MEASURE_SHARE = "part"


@dataclass(frozen=True)
class SurveyIndicator:
    """How one series id of the national series is read."""

    survey: str
    theme: str
    measure: str


#: The survey series of the national series, explicitly classified.
INDICATORS: dict[str, SurveyIndicator] = {
    "cvs_victimes_violences_conjoint_18_75_moyenne_2011_2018": SurveyIndicator(
        "CVS", THEME_CONJUGAL, MEASURE_VICTIMS
    ),
    "cvs_victimes_violences_conjoint_18_75_moyenne_2011_2017": SurveyIndicator(
        "CVS", THEME_CONJUGAL, MEASURE_VICTIMS
    ),
    "cvs_femmes_victimes_violences_conjoint_18_75_annuel": SurveyIndicator(
        "CVS", THEME_CONJUGAL, MEASURE_VICTIMS
    ),
    "vrs_victimes_violences_conjugales": SurveyIndicator("VRS", THEME_CONJUGAL, MEASURE_VICTIMS),
    "vrs_femmes_victimes_violences_conjugales": SurveyIndicator("VRS", THEME_CONJUGAL, MEASURE_VICTIMS),
    "vrs_victimes_violences_conjugales_part_femmes": SurveyIndicator("VRS", THEME_CONJUGAL, MEASURE_SHARE),
    "vrs_victimes_violences_conjugales_pour_1000_majeurs": SurveyIndicator(
        "VRS", THEME_CONJUGAL, MEASURE_SHARE
    ),
    "cvs_victimes_viol_tentative_attouchements_18_75_annuel": SurveyIndicator(
        "CVS", THEME_SEXUAL, MEASURE_VICTIMS
    ),
    "cvs_victimes_viol_tentative_18_76": SurveyIndicator("CVS", THEME_SEXUAL, MEASURE_VICTIMS),
    "cvs_victimes_violences_sexuelles_seules_18_76": SurveyIndicator("CVS", THEME_SEXUAL, MEASURE_VICTIMS),
    "femmes_victimes_viol_tentative_18_75_annuel": SurveyIndicator(
        "CVS ou Virage", THEME_SEXUAL, MEASURE_VICTIMS
    ),
    "vrs_victimes_viol_tentative_agression_sexuelle": SurveyIndicator("VRS", THEME_SEXUAL, MEASURE_VICTIMS),
    "vrs_femmes_victimes_viol_tentative_agression_sexuelle": SurveyIndicator(
        "VRS", THEME_SEXUAL, MEASURE_VICTIMS
    ),
    "vrs_victimes_viol_tentative_agression_sexuelle_part_femmes": SurveyIndicator(
        "VRS", THEME_SEXUAL, MEASURE_SHARE
    ),
    "vrs_femmes_victimes_harcelement_exhibition_images": SurveyIndicator("VRS", THEME_OTHER, MEASURE_VICTIMS),
    "cvs_victimes_violences_physiques_sexuelles_18_76": SurveyIndicator("CVS", THEME_OTHER, MEASURE_VICTIMS),
    "vrs_victimes_violences_physiques": SurveyIndicator("VRS", THEME_OTHER, MEASURE_VICTIMS),
    "enveff_part_femmes_victimes_violences_conjugales_12_mois": SurveyIndicator(
        "ENVEFF", THEME_CONJUGAL, MEASURE_SHARE
    ),
    # Complaint rates.
    "taux_plainte_violences_conjugales_vrs": SurveyIndicator("VRS", THEME_CONJUGAL, MEASURE_COMPLAINT),
    "plainte_violences_conjugales_vrs_1_victime_sur_n": SurveyIndicator(
        "VRS", THEME_CONJUGAL, MEASURE_COMPLAINT
    ),
    "taux_plainte_violences_couple_femmes": SurveyIndicator("CVS", THEME_CONJUGAL, MEASURE_COMPLAINT),
    "vrs_taux_plainte_violences_sexuelles_physiques": SurveyIndicator("VRS", THEME_SEXUAL, MEASURE_COMPLAINT),
    "cvs_taux_plainte_violences_sexuelles_ou_menage_max": SurveyIndicator(
        "CVS", THEME_SEXUAL, MEASURE_COMPLAINT
    ),
    "taux_plainte_viol": SurveyIndicator("CVS", THEME_SEXUAL, MEASURE_COMPLAINT),
    "taux_plainte_violences_sexuelles_genese": SurveyIndicator("Genese", THEME_SEXUAL, MEASURE_COMPLAINT),
}

_PERIOD = re.compile(r"(?:avg|moyenne)[ _](\d{4})[-_](\d{4})", re.IGNORECASE)
_AGES = re.compile(r"(\d{2})[-_](\d{2})")


def classify(indicator: str) -> SurveyIndicator | None:
    """How a series id is read; rows added later are classified from their id (``cvs_``, ``vrs_``) and need an
    entry in the registry for their label (:func:`label` stops, naming it, until they have one)."""
    if indicator in INDICATORS:
        return INDICATORS[indicator]
    for prefix, survey in (("cvs_", "CVS"), ("vrs_", "VRS")):
        if indicator.startswith(prefix):
            theme = (
                THEME_CONJUGAL
                if ("conjug" in indicator or "conjoint" in indicator)
                else THEME_SEXUAL
                if ("sexuel" in indicator or "viol" in indicator)
                else THEME_OTHER
            )
            measure = (
                MEASURE_COMPLAINT
                if "plainte" in indicator
                else MEASURE_SHARE
                if ("part_" in indicator or "pour_1000" in indicator)
                else MEASURE_VICTIMS
            )
            return SurveyIndicator(survey, theme, measure)
    return None


def label(indicator: str, lang: str = "fr") -> str:
    """The label of a survey series in ``lang``: the registry's (a series without an entry there stops, naming
    the registry: a label is never made up)."""
    return registry.get(indicator).label_in(lang)


def with_labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A copy of a table of survey rows (``indicator`` column) whose ``libelle`` is each series' label in ``lang``."""
    return frame.assign(libelle=[label(str(i), lang) for i in frame["indicator"]])


#: The unit of a "one victim in N files a complaint" figure, as the series records it.
ONE_IN_N = "one victim in N files a complaint"
#: Units of the survey rows as the series records them -> the unit's code (its words are the notebooks' labels).
UNIT_CODES = {"percent": "%", ONE_IN_N: "one_in_n"}


def unit_code(unit: str) -> str:
    """The code of a survey row's unit: ``%``, ``one_in_n``, or ``femmes``/``personnes`` for counts (else as recorded)."""
    if unit in UNIT_CODES:
        return UNIT_CODES[unit]
    text = str(unit or "")
    if text.startswith("women"):
        return "femmes"
    if text.startswith(("persons", "people", "victims")):
        return "personnes"
    return text


def _ages(indicator: str, unit: str, survey: str) -> str:
    for text in (unit, indicator):
        found = _AGES.search(text or "")
        if found:
            return f"{found.group(1)} à {found.group(2)} ans"
    if "18+" in (unit or "") or "majeurs" in indicator or "adults" in (unit or ""):
        return "18 ans ou plus"
    return "18 à 75 ans" if survey == "CVS" else "non précisé"


def _period(indicator: str, unit: str, note: str, year: int, survey: str, lang: str = "fr") -> str:
    """The period of a row of an edition without stated periods (before the third), in the words of ``lang``."""
    w = published.words(lang)
    for text in (unit, indicator, note):
        found = _PERIOD.search(text or "")
        if found:
            return w["period_average"].format(first=found.group(1), last=found.group(2))
    averaged = (
        "per year" in (unit or "")
        or "annuel" in indicator
        or "pooled" in (note or "")
        or "annual average" in (note or "")
    )
    if survey == "CVS" and averaged:
        return w["period_pooled"]
    return str(year)


def survey_table(ns: pd.DataFrame, last_year: int, lang: str = "fr") -> pd.DataFrame:
    """Every survey estimate of the national series up to ``last_year``, classified, with its provenance.

    Parameters
    ----------
    ns : DataFrame
        The national series (the rows the letter may cite).
    last_year : int
    lang : {"fr", "en"}, default "fr"
        The language of the label and of the provenance cells (period, source line, where read); the values,
        codes and the source's own words (concept, population) are the same in every language.

    Returns
    -------
    DataFrame
        Columns ``indicator, enquete, theme, mesure, libelle, concept, sexe, year, value, unit, unite, ages,
        population, periode, period_explicit, source, date_source, lu_sur, row_id, adresse_lue, note`` sorted by
        theme, measure, year. ``libelle`` is the series' label in ``lang``, ``unite`` the unit's code
        (:func:`unit_code`). ``sexe`` is "Femmes" or "Ensemble"; ``concept``
        and ``population`` are as the
        source words them (the series' label and age range when the edition does not say); ``periode`` is the
        period as the source states it, never the series' year when the source states none; ``enquete`` is
        empty when the source does not name the survey.
    """
    keep = [name for name in ns["indicator"].unique() if classify(str(name)) is not None]
    found = published.rows(ns, keep) if keep else published.rows(ns, [])
    found = found.loc[found["year"] <= last_year]
    out = []
    for _, r in found.iterrows():
        info = classify(r["indicator"])
        name = label(r["indicator"], lang)
        pub = published._to_published(r)
        ages = _ages(r["indicator"], r["unit"], info.survey)
        sex = "Femmes" if r["sex"] == "female" else "Ensemble"
        out.append(
            {
                "indicator": r["indicator"],
                "enquete": "" if _UNNAMED in pub.publisher else info.survey,
                "theme": info.theme,
                "mesure": info.measure,
                "libelle": name,
                "concept": published.typeset(pub.concept)
                or (published.words(lang)["unstated"] if pub.row_id else name),
                "sexe": sex,
                "year": int(r["year"]),
                "value": float(r["value"]),
                "unit": r["unit"],
                "unite": unit_code(r["unit"]),
                "ages": ages,
                "population": published.typeset(pub.population)
                or (published.words(lang)["unstated"] if pub.row_id else f"{sex.lower()}, {ages}"),
                "periode": published.period_cell(pub, lang)
                if pub.row_id
                else _period(r["indicator"], r["unit"], r["note"], int(r["year"]), info.survey, lang),
                "period_explicit": pub.period_explicit is not False,
                "source": pub.source_line(lang),
                "date_source": r["source_date"],
                "lu_sur": published.read_at_cell(pub, lang),
                "row_id": pub.row_id,
                "adresse_lue": pub.read_at,
                "note": r["note"],
            }
        )
    table = pd.DataFrame(out, columns=TABLE_COLUMNS)
    return table.sort_values(["theme", "mesure", "year", "enquete", "sexe"], kind="stable").reset_index(
        drop=True
    )


#: What the compilation's producer says when the page read does not name the survey.
_UNNAMED = "non nommée"
#: Columns of :func:`survey_table`.
TABLE_COLUMNS = [
    "indicator",
    "enquete",
    "theme",
    "mesure",
    "libelle",
    "concept",
    "sexe",
    "year",
    "value",
    "unit",
    "unite",
    "ages",
    "population",
    "periode",
    "period_explicit",
    *published.PROVENANCE_SHOWN,
]


def estimate(
    table: pd.DataFrame,
    theme: str,
    measure: str,
    sex: str,
    year: int,
    surveys: tuple[str, ...] = ("CVS", "VRS", ""),
) -> dict | None:
    """The survey estimate for exactly ``year`` (never a neighbouring year), or None.

    Parameters
    ----------
    table : DataFrame
        From :func:`survey_table`.
    theme, measure : str
        E.g. :data:`THEME_CONJUGAL`, :data:`MEASURE_VICTIMS`.
    sex : {"Femmes", "Ensemble"}
    year : int
    surveys : tuple of str
        Surveys accepted (the CVS, the VRS and an estimate whose source names no survey, by default; an
        attribution-uncertain row is left out).

    Returns
    -------
    dict or None
        The row as a dict; when several rows qualify, the VRS (the current survey) comes first, then the
        order of :func:`survey_table`.
    """
    sel = table.loc[
        (table["theme"] == theme)
        & (table["mesure"] == measure)
        & (table["sexe"] == sex)
        & (table["year"] == int(year))
        & (table["enquete"].isin(surveys))
    ]
    if sel.empty:
        return None
    # the VRS (the current survey) first, then a percentage before a "one victim in N" of the same year
    sel = sel.assign(_vrs=(sel["enquete"] != "VRS").astype(int), _pct=(sel["unit"] != "percent").astype(int))
    sel = sel.sort_values(["_vrs", "_pct"], kind="stable")
    return sel.drop(columns=["_vrs", "_pct"]).iloc[0].to_dict()


def latest_estimate(
    table: pd.DataFrame,
    theme: str,
    measure: str,
    sex: str,
    year: int,
    surveys: tuple[str, ...] = ("CVS", "VRS", ""),
) -> dict | None:
    """The most recent estimate with a reference year not after ``year``, or None.

    This is not "the figure of ``year``": a letter that cites it must print its reference year and survey
    (the facts built from it carry both).
    """
    sel = table.loc[
        (table["theme"] == theme)
        & (table["mesure"] == measure)
        & (table["sexe"] == sex)
        & (table["year"] <= int(year))
        & (table["enquete"].isin(surveys))
    ]
    if sel.empty:
        return None
    # the newest estimate whatever its unit (a newer "one victim in N" is not skipped for an older percentage)
    last = int(sel["year"].max())
    return estimate(table, theme, measure, sex, last, surveys)


def chart_data(table: pd.DataFrame) -> pd.DataFrame:
    """Victim estimates of the CVS and VRS for the chart: one point per estimate, thousands of victims.

    Returns
    -------
    DataFrame
        Columns ``theme, enquete, sexe, year, milliers, libelle, ages, periode, row_id, indicator``; rows with
        uncertain attribution, other measures and estimates whose source states no period (a point placed on a
        year would say a year the source does not: they stay in the tables) left out.
    """
    sel = table.loc[
        (table["mesure"] == MEASURE_VICTIMS)
        & table["enquete"].isin(["CVS", "VRS"])
        & table["theme"].isin([THEME_CONJUGAL, THEME_SEXUAL])
        & table["period_explicit"].astype(bool)
    ].copy()
    sel["milliers"] = sel["value"] / 1000
    columns = [
        "theme",
        "enquete",
        "sexe",
        "year",
        "milliers",
        "libelle",
        "ages",
        "periode",
        "row_id",
        "indicator",
    ]
    return sel[columns].reset_index(drop=True)


def break_between(table: pd.DataFrame) -> tuple[int | None, int | None]:
    """Last CVS year and first VRS year among the victim estimates (None when a survey is absent)."""
    data = chart_data(table)
    cvs = data.loc[data["enquete"] == "CVS", "year"]
    vrs = data.loc[data["enquete"] == "VRS", "year"]
    return (int(cvs.max()) if not cvs.empty else None, int(vrs.min()) if not vrs.empty else None)


def _kind(kind: str, row: dict | None) -> str:
    """A "one victim in N" complaint figure is a number N, not a percentage."""
    return "number" if row is not None and row["unit"] != "percent" and kind == "percent" else kind


#: key, theme, measure, sex, kind, unit of the facts of section 4.
_FACTS = (
    ("enq_vc_femmes", THEME_CONJUGAL, MEASURE_VICTIMS, "Femmes", "number", "femmes"),
    ("enq_vc_ensemble", THEME_CONJUGAL, MEASURE_VICTIMS, "Ensemble", "number", "personnes"),
    ("enq_vs_femmes", THEME_SEXUAL, MEASURE_VICTIMS, "Femmes", "number", "femmes"),
    ("enq_vs_ensemble", THEME_SEXUAL, MEASURE_VICTIMS, "Ensemble", "number", "personnes"),
    ("enq_plainte_vc", THEME_CONJUGAL, MEASURE_COMPLAINT, "Ensemble", "percent", "%"),
    ("enq_plainte_vs", THEME_SEXUAL, MEASURE_COMPLAINT, "Ensemble", "percent", "%"),
)
#: The survey figure of harassment the November letter prints (women victims of sexual harassment, exhibitionism
#: or unsolicited sexual images).
HARASSMENT = "vrs_femmes_victimes_harcelement_exhibition_images"


def _survey_details(row: dict | None) -> dict:
    """What a template needs beside the figure's provenance: the survey's code (its name is the registry's:
    ``survey(code)`` in a template), the source's concept and population, whether the unit is "one victim in N",
    the series' year of the estimate."""
    if row is None:
        return {"survey": "", "definition": "", "one_in_n": False, "estimate_year": None}
    return {
        "survey": str(row["enquete"]),
        "definition": str(row["concept"]),
        "one_in_n": row["unit"] == ONE_IN_N,
        "estimate_year": int(row["year"]),
    }


def published_row(ns: pd.DataFrame, row: dict | None):
    """The :class:`~observatoire.analysis.indicators.published.Published` figure of a row of :func:`survey_table` (None for None)."""
    if row is None:
        return None
    found = ns.loc[ns["row_id"].astype(str) == str(row["row_id"])] if row["row_id"] else ns.iloc[0:0]
    if found.empty:  # an edition without row ids: the row itself
        found = published.rows(ns, row["indicator"])
        found = found.loc[(found["year"] == row["year"]) & (found["value"] == row["value"])]
    else:
        found = published.rows(found, row["indicator"])
    return published._to_published(found.iloc[0])


def add_facts(facts, table: pd.DataFrame, ns: pd.DataFrame, year: int) -> None:
    """Declare the facts of section 4 (same keys every year).

    For each figure two facts: ``<key>`` is the estimate for exactly ``year`` (missing when no survey gives
    one for that year), and ``<key>_dernier`` the most recent estimate up to ``year``; both carry the figure's
    provenance (:meth:`published.Published.provenance`: the period as the source states it, population and
    concept as worded ...) and the survey (``survey``, ``definition``, ``estimate_year``).
    Plus ``enq_harcelement_dernier`` (the latest survey figure on sexual harassment), ``enq_cvs_dernier`` /
    ``enq_vrs_premier`` (the years of the last CVS and first VRS estimates) and ``enq_ages_cvs`` /
    ``enq_ages_vrs``, the surveys' age ranges (details ``min``, ``max``).
    """
    source_id, edition = published.compilation(ns)
    base = dict(source_id=source_id, edition=edition)
    for key, theme, measure, sex, kind, unit in _FACTS:
        for name, row in (
            (key, estimate(table, theme, measure, sex, year)),
            (f"{key}_dernier", latest_estimate(table, theme, measure, sex, year)),
        ):
            published.add_fact(
                facts,
                name,
                published_row(ns, row),
                year=year if row is None else int(row["year"]),
                kind=_kind(kind, row),
                unit=unit if row is None else row["unite"],
                **base,
                details=_survey_details(row),
            )
    harassment = table.loc[table["indicator"] == HARASSMENT].sort_values("year", kind="stable").tail(1)
    row = None if harassment.empty else harassment.iloc[0].to_dict()
    published.add_fact(
        facts,
        "enq_harcelement_dernier",
        published_row(ns, row),
        year=year if row is None else int(row["year"]),
        unit="femmes",
        **base,
        details=_survey_details(row),
    )
    cvs_last, vrs_first = break_between(table)
    facts.add(
        "enq_cvs_dernier",
        None if cvs_last is None else str(cvs_last),
        kind="text",
        unit="",
        ref_year=year,
        **base,
    )
    facts.add(
        "enq_vrs_premier",
        None if vrs_first is None else str(vrs_first),
        kind="text",
        unit="",
        ref_year=year,
        **base,
    )
    ages = (("enq_ages_cvs", CVS_AGES, *AGES["CVS"]), ("enq_ages_vrs", VRS_AGES, *AGES["VRS"]))
    for key, value, youngest, oldest in ages:
        facts.add(
            key,
            value,
            kind="text",
            unit="",
            ref_year=year,
            **base,
            details={"min": youngest, "max": oldest},  # the ages, for the letter to word them in its language
        )


def letter_table(table: pd.DataFrame) -> pd.DataFrame:
    """The compact table the letter prints: victim estimates on conjugal and sexual violence only.

    Returns
    -------
    DataFrame
        Columns ``enquete, concept, population, periode, value, source, lu_sur, row_id, year, theme``: what each
        estimate counts and whom, as the source words them, and its period as the source states it.
    """
    sel = table.loc[
        (table["mesure"] == MEASURE_VICTIMS) & table["theme"].isin([THEME_CONJUGAL, THEME_SEXUAL])
    ].copy()
    columns = [
        "enquete",
        "concept",
        "population",
        "periode",
        "value",
        "source",
        "lu_sur",
        "row_id",
        "year",
        "theme",
    ]
    return sel[columns].reset_index(drop=True)
