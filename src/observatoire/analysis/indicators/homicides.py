"""Deaths within the couple (section 1 of the annual letter).

The headline series is the Interior ministry's annual national study of violent deaths within the couple
(Délégation aux victimes, "DAV"), as compiled in the national series ``morts_violentes_couple``. Its scope changed
in 2016: from that year it counts couples "non officiels" (casual or extramarital relationships) as well as
official couples (married, civil partners, cohabiting, and their former partners). The 2006-2015 figures cover
official couples only. Hence:

* a comparison or a trend never spans the 2015/2016 break (:func:`same_scope`);
* the 2016 official-only figures (``morts_violentes_couple_couples_officiels``) and the 2015 figures with
  non-official couples (``morts_violentes_couple_incl_non_officiels``) are shown beside the series, so that a
  reader sees the size of the break;
* the number of children killed (``morts_violentes_couple_enfants``) changed definition several times; it is
  shown year by year with each year's definition, never as a trend.

When other sources give a figure for the same year (the MIPROF letters' own counts, a total of all deaths
linked to violence within the couple), :func:`figures_for_year` lists them all and says which one is cited.

Every value this module gives a table or a fact is a code (a scope, a series, a sex, a figure of
:data:`FIGURES_FOR_YEAR`): its words, in each language, are those of the notebook's metadata
(``notebooks/annual/01_morts_violentes_couple.meta.yml``) and of the letter (``publications/annual/words.yml``).
"""

from __future__ import annotations

import pandas as pd

from observatoire.analysis.indicators import published, registry
from observatoire.analysis.indicators.published import Published, add_fact
from observatoire.analysis.indicators.wording import add_significance_fact, change_details, trend_details
from observatoire.analysis.statistics import change_test, trend

#: Series id of the headline series (DAV national study).
DEATHS = "morts_violentes_couple"
OFFICIAL_ONLY = "morts_violentes_couple_couples_officiels"
WITH_NON_OFFICIAL = "morts_violentes_couple_incl_non_officiels"
CHILDREN = "morts_violentes_couple_enfants"
ATTEMPTS = "tentatives_homicide_couple"
ALL_DEATHS = "deces_total_lies_violences_couple"
MIPROF_FEMICIDES = "miprof_feminicides_conjugaux"
MIPROF_ALL_KILLED = "miprof_personnes_tuees_violences_couple"
MIPROF_ATTEMPTS = "miprof_tentatives_feminicide_conjugal"
#: Women who had suffered violence before being killed, and those who had reported it (DAV study).
PRIOR_VIOLENCE = "morts_violentes_couple_femmes_violences_anterieures"
PRIOR_COMPLAINT = "morts_violentes_couple_femmes_plainte_anterieure"
#: The Observatory's composite count: women killed, attempted femicides and forced suicides (and the last alone).
MIPROF_COMPOSITE = "miprof_victimes_feminicides_directs_indirects_tentatives"
MIPROF_FORCED_SUICIDES = "miprof_suicides_forces_harcelement_conjoint"

#: First year whose scope includes non-official couples.
SCOPE_BREAK_YEAR = 2016
#: Codes of the scope of the headline series: official couples only (to 2015), official and unofficial couples.
SCOPE_BEFORE = "official"
SCOPE_FROM = "official_and_unofficial"

#: Codes of the ``serie`` of :func:`deaths_table`: the headline series, and a figure of the same year on the other
#: scope (shown beside it to measure the break).
MAIN_SERIES = "main"
OTHER_SCOPE = "other_scope"
#: The sexes of the headline series, in the order a chart or a table shows them (codes of the ``sexe`` column).
SEXES = ("female", "male", "total")


def scope_of(year: int) -> str:
    """Scope of the headline series for a year (a code: :data:`SCOPE_BEFORE` or :data:`SCOPE_FROM`)."""
    return SCOPE_FROM if int(year) >= SCOPE_BREAK_YEAR else SCOPE_BEFORE


def same_scope(year_a: int, year_b: int) -> bool:
    """True when two years of the headline series share the same scope (no break between them)."""
    return scope_of(year_a) == scope_of(year_b)


def deaths_table(ns: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """The headline series and the figures that measure its break, up to ``last_year``.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    last_year : int
        Last year kept (the letter's year); later rows are dropped.

    Returns
    -------
    DataFrame
        Columns ``annee, sexe, victimes, champ, serie``, all codes: ``sexe`` one of :data:`SEXES`, ``champ``
        the scope (:data:`SCOPE_BEFORE`, :data:`SCOPE_FROM`), ``serie`` :data:`MAIN_SERIES` for the headline
        series and :data:`OTHER_SCOPE` for the overlap figures (official couples only in 2016, all couples in
        2015). Missing years are absent (never filled).
    """
    parts = []
    for indicator, label in (
        (DEATHS, MAIN_SERIES),
        (OFFICIAL_ONLY, OTHER_SCOPE),
        (WITH_NON_OFFICIAL, OTHER_SCOPE),
    ):
        for sex in SEXES:
            s = published.series(ns, indicator, sex, last=last_year)
            if s.empty:
                continue
            if indicator == DEATHS:
                scope = [scope_of(y) for y in s.index]
            elif indicator == OFFICIAL_ONLY:
                scope = [SCOPE_BEFORE] * len(s)
            else:
                scope = [SCOPE_FROM] * len(s)
            parts.append(
                pd.DataFrame(
                    {
                        "annee": s.index.astype(int),
                        "sexe": sex,
                        "victimes": s.to_numpy(),
                        "champ": scope,
                        "serie": label,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=["annee", "sexe", "victimes", "champ", "serie"])
    out = pd.concat(parts, ignore_index=True)
    # The rows in the order of the published tables: the overlap figures first, then all people, women, men.
    rank = {OTHER_SCOPE: 0, MAIN_SERIES: 1, "total": 0, "female": 1, "male": 2}
    out = out.sort_values(
        ["serie", "sexe", "annee"], key=lambda c: c.map(rank) if c.name != "annee" else c, kind="stable"
    )
    return out.reset_index(drop=True)


def share_of_women(ns: pd.DataFrame, year: int) -> float | None:
    """Share of women among people killed by their partner in ``year`` (percent), or None.

    Computed from the headline series as women / (women + men): the published total can differ by one or two
    from the sum in secondary sources, and the share must describe the two counts it divides.
    """
    women = published.pick(ns, DEATHS, year, "female")
    men = published.pick(ns, DEATHS, year, "male")
    if women is None or men is None or (women.value + men.value) == 0:
        return None
    return 100.0 * women.value / (women.value + men.value)


def change_on_year(ns: pd.DataFrame, year: int, sex: str = "female"):
    """Change of the headline count on the previous year, tested with the over-dispersion of the series since 2016.

    Parameters
    ----------
    ns : DataFrame
        The national series.
    year : int
        The year compared with ``year - 1``.
    sex : str, default "female"

    Returns
    -------
    tuple
        ``(current, previous, test)``: the two :class:`Published` figures (or None) and the
        :class:`~observatoire.analysis.statistics.ChangeTest`, which is None when a year is missing or when the two years
        straddle the 2016 scope break.
    """

    current = published.pick(ns, DEATHS, year, sex)
    previous = published.pick(ns, DEATHS, year - 1, sex)
    if current is None or previous is None or not same_scope(year, year - 1):
        return current, previous, None
    s = published.series(ns, DEATHS, sex, first=SCOPE_BREAK_YEAR, last=year)
    return current, previous, change_test(s.index.to_numpy(), s.to_numpy(), year)


def trend_since_break(ns: pd.DataFrame, year: int, sex: str = "female", family: str = "auto"):
    """Average annual change of the headline count from 2016 (same scope) to ``year``.

    Returns
    -------
    TrendResult or None
        None when ``year`` is before 2016; otherwise the GLM result, whose ``reason`` says why it is not
        estimable (fewer than three years).
    """

    if year < SCOPE_BREAK_YEAR:
        return None
    s = published.series(ns, DEATHS, sex, first=SCOPE_BREAK_YEAR, last=year)
    return trend(s.index.to_numpy(), s.to_numpy(), family=family)


#: Figures that may be cited for the number of people killed in a year, in the order a table shows them:
#: ``(code, series id, sex)``. The code names the figure in the table and the facts; its words are the labels of
#: the notebook's metadata (table ``morts-violentes-couple-sources``) and the letter's ``mvc_other_figure``.
FIGURES_FOR_YEAR = (
    ("dav_female", DEATHS, "female"),
    ("dav_male", DEATHS, "male"),
    ("dav_total", DEATHS, "total"),
    ("official_only_female", OFFICIAL_ONLY, "female"),
    ("official_only_total", OFFICIAL_ONLY, "total"),
    ("with_unofficial_female", WITH_NON_OFFICIAL, "female"),
    ("miprof_femicides", MIPROF_FEMICIDES, "female"),
    ("miprof_all_killed", MIPROF_ALL_KILLED, "total"),
    ("all_deaths", ALL_DEATHS, "total"),
)
#: The code of the figure cited (the headline female count of the national study).
REFERENCE_FIGURE = "dav_female"


def figures_for_year(ns: pd.DataFrame, year: int) -> pd.DataFrame:
    """Every published count of people killed within the couple for ``year``, with its source.

    The headline figure is the DAV national study (``morts_violentes_couple``); the other rows are shown so
    that a reader who met another number (a MIPROF letter, a count with children or suicides) sees where it
    comes from.

    Returns
    -------
    DataFrame
        Columns ``indicateur, annee, valeur, retenu, source, date_source, note``: one row per figure found
        (alternatives included), rows without a figure for that year left out. ``indicateur`` is the figure's
        code in :data:`FIGURES_FOR_YEAR`; ``retenu`` is the code "reference" for the headline female count,
        "same_study" for the other rows of the national study (DAV), "other" otherwise.
    """
    pubs, codes, study = [], [], set()
    for code, indicator, sex in FIGURES_FOR_YEAR:
        pub = published.pick(ns, indicator, year, sex)
        if pub is not None:
            pubs.append(pub)
            codes.append(code)
        if indicator == DEATHS:
            study.add(code)
    table = published.sources_table(pubs, codes)
    dav = table["indicateur"].isin(study)
    reference = (table["indicateur"] == REFERENCE_FIGURE) & (table["retenu"] == "oui")
    table["retenu"] = "other"
    table.loc[dav, "retenu"] = "same_study"
    table.loc[reference, "retenu"] = "reference"
    return table


def children_table(ns: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """Children killed in the context of violence within the couple, year by year, with each definition.

    Returns
    -------
    DataFrame
        Columns ``annee, enfants, definition, source``; years without a figure are absent.
    """
    found = published.rows(ns, CHILDREN)
    found = found.loc[found["year"] <= last_year]
    out = []
    for year in sorted(found["year"].unique()):
        pub = published.pick(ns, CHILDREN, int(year), sex=None)
        if pub is None:
            continue
        out.append(
            {
                "annee": int(year),
                "enfants": pub.value,
                "definition": pub.note or "non précisée",
                "source": pub.source_title,
            }
        )
    return pd.DataFrame(out, columns=["annee", "enfants", "definition", "source"])


def children(ns: pd.DataFrame, year: int) -> Published | None:
    """Children killed in ``year`` (definition in the figure's note), or None."""
    return published.pick(ns, CHILDREN, year, sex=None)


def attempts(ns: pd.DataFrame, year: int) -> Published | None:
    """Attempted homicides within the couple in ``year`` (all victims), or None."""
    return published.pick(ns, ATTEMPTS, year, sex=None)


def attempts_on_women(ns: pd.DataFrame, year: int) -> Published | None:
    """Attempted femicides within the couple in ``year`` (MIPROF letter), or None."""
    return published.pick(ns, MIPROF_ATTEMPTS, year, sex=None)


def headline(ns: pd.DataFrame, year: int, sex: str) -> Published | None:
    """The headline count (DAV national study) for one year and sex, or None."""
    return published.pick(ns, DEATHS, year, sex)


def add_facts(facts, ns: pd.DataFrame, year: int) -> None:
    """Declare the facts of section 1 (the same keys every year; a missing figure is recorded as missing).

    Keys: ``mvc_femmes``, ``mvc_hommes``, ``mvc_total``, ``mvc_part_femmes``, ``mvc_femmes_evol``,
    ``mvc_femmes_evol_signif``, ``mvc_femmes_tendance``, ``mvc_enfants``, ``mvc_tentatives``,
    ``mvc_tentatives_femmes``, ``mvc_champ``, ``mvc_autres_sources``, ``mvc_annee_rupture``.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
    ns : DataFrame
        The rows of the national series the letter may cite (:func:`published.citable`).
    year : int
    """

    source_id, edition = published.compilation(ns)
    common = dict(year=year, edition=edition, source_id=source_id)
    provenance = dict(source_id=source_id, edition=edition, ref_year=year)
    scope = scope_of(year)
    women = headline(ns, year, "female")
    add_fact(
        facts,
        "mvc_femmes",
        women,
        display=True,
        unit="femmes",
        **common,
        details={"scope": scope},
    )
    men = headline(ns, year, "male")
    add_fact(
        facts,
        "mvc_hommes",
        men,
        unit="hommes",
        **common,
        details={"scope": scope},
    )
    total = headline(ns, year, "total")
    add_fact(
        facts,
        "mvc_total",
        total,
        unit="personnes",
        **common,
        details={"scope": scope},
    )
    share = share_of_women(ns, year)
    facts.add(
        "mvc_part_femmes",
        share,
        kind="percent",
        unit="%",
        **provenance,
        # computed from the headline series: women / (women + men)
        details={"series": DEATHS, "numerator": "female", "denominator": "female+male", "scope": scope},
    )

    current, previous, test = change_on_year(ns, year, "female")
    if current is not None and previous is not None and not same_scope(year, year - 1):
        gap = "rupture"
    elif previous is None:
        gap = "annee_precedente"
    else:
        gap = "annee" if current is None else ""
    facts.add(
        "mvc_femmes_evol",
        None if test is None else test.change,
        kind="change",
        decimals=1,
        unit="change_on_year",
        **provenance,
        # the test's method (quasi-Poisson with the dispersion of the series since the break, or exact Poisson
        # without over-dispersion) is in the details; the letter words it
        details={
            **change_details(test, None if previous is None else previous.value, year - 1),
            "gap": gap,
            "scope_break_year": SCOPE_BREAK_YEAR,
        },
    )
    add_significance_fact(
        facts,
        "mvc_femmes_evol_signif",
        test,
        **provenance,
    )

    result = trend_since_break(ns, year, "female")
    facts.add(
        "mvc_femmes_tendance",
        result.annual_change if result is not None and result.estimable else None,
        kind="change",
        decimals=1,
        unit="average_annual_change",
        **provenance,
        # a log-linear model from the break to the year (quasi-Poisson when the Pearson dispersion exceeds 1):
        # its years, family and dispersion are in the details
        details=trend_details(result),
    )
    add_significance_fact(
        facts,
        "mvc_femmes_tendance_signif",
        result,
        **provenance,
    )

    add_fact(
        facts,
        "mvc_enfants",
        children(ns, year),
        unit="enfants",
        **common,
        details={"definition_varies": True},  # the definition changed between editions of the study
    )
    add_fact(
        facts,
        "mvc_tentatives",
        attempts(ns, year),
        unit="tentatives",
        **common,
    )
    add_fact(
        facts,
        "mvc_tentatives_femmes",
        attempts_on_women(ns, year),
        unit="femmes",
        **common,
    )
    # What the November 2025 letter shows, where the series has it (absent years are missing, never filled).
    for key, indicator, unit in (
        ("mvc_violences_anterieures", PRIOR_VIOLENCE, "femmes"),
        ("mvc_plainte_anterieure", PRIOR_COMPLAINT, "femmes"),
        ("mvc_composite", MIPROF_COMPOSITE, "femmes"),
        ("mvc_suicides_forces", MIPROF_FORCED_SUICIDES, "femmes"),
    ):
        entry = registry.load_registry().get(indicator)
        add_fact(
            facts,
            key,
            published.pick(ns, indicator, year, "female"),
            unit=unit,
            **common,
            details=None if entry is None else entry.details(),
        )
    facts.add(
        "mvc_champ",
        scope,  # a code: the letter words the scope in its language
        kind="text",
        unit="",
        **provenance,
        details={"unofficial_included": scope != SCOPE_BEFORE, "scope_break_year": SCOPE_BREAK_YEAR},
    )

    # The other figures published for the year (another scope or another count): their number, and each one's
    # code (FIGURES_FOR_YEAR) and value as details ``figure_<i>``, ``value_<i>`` (i from 1), worded by the letter.
    table = figures_for_year(ns, year)
    others = table.loc[table["retenu"] == "other"]
    listed = {}
    for i, row in enumerate(others.itertuples(), start=1):
        listed[f"figure_{i}"] = row.indicateur
        listed[f"value_{i}"] = row.valeur
    facts.add(
        "mvc_autres_sources",
        len(others) if len(others) else None,
        unit="figures",
        **provenance,
        details=listed,
    )
    facts.add(
        "mvc_annee_rupture",
        str(SCOPE_BREAK_YEAR),  # first year of the national study that includes unofficial couples
        kind="text",
        unit="",
        **provenance,
    )
