"""Revisions: how the data edition a letter uses changed figures a previous letter already published.

Producers revise the past with every edition (SSMSI's edition 2024 changed all its 2016-2023 counts). A letter
never splices two editions into one series; it uses one, and says how the figures already published on the
previous edition moved. :func:`previous_source` finds, in the catalogue, the edition the previous letter stood on;
:func:`revision_table` compares the national counts year by year; :func:`add_revision_facts` records what
the letter's "Révisions" box words (how many values, the span and size of the revisions per indicator).
"""

from __future__ import annotations

import re

import pandas as pd

from observatoire.analysis.indicators.recorded import VICTIM, national_totals
from observatoire.data import catalogue

_YEAR_EDITION = re.compile(r"^\d{4}$")


def previous_source(source_id: str, sources: dict | None = None) -> str | None:
    """Return the catalogue source holding the edition before ``source_id`` (same loader, same family), or None.

    Parameters
    ----------
    source_id : str
        The edition the letter uses (e.g. ``ssmsi_dep_2024``).
    sources : dict, optional
        The catalogue (default: ``data/sources.yml``).

    Returns
    -------
    str or None
        The id of the latest edition older than this one (``ssmsi_dep_2023``), or None when the catalogue has
        none (re-releases such as ``2024-geo2025`` are not earlier editions and are never chosen).
    """
    sources = sources or catalogue.load_catalogue()
    current = sources[source_id]
    if not _YEAR_EDITION.match(current.edition):
        return None
    family = source_id.rsplit("_", 1)[0]
    older = [
        s
        for s in sources.values()
        if s.loader == current.loader
        and s.id.rsplit("_", 1)[0] == family
        and _YEAR_EDITION.match(s.edition)
        and int(s.edition) < int(current.edition)
    ]
    return max(older, key=lambda s: int(s.edition)).id if older else None


def revision_table(
    older: pd.DataFrame, newer: pd.DataFrame, indicators: dict[str, str], unit: str = VICTIM
) -> pd.DataFrame:
    """National counts of two editions, year by year, for the years both cover.

    Parameters
    ----------
    older, newer : DataFrame
        France totals of two editions of the SSMSI départemental base (``datasets.ssmsi_national``, which
        includes the facts the legacy edition could not place in a département).
    indicators : dict
        Indicator name -> French label.
    unit : str
        Counting unit.

    Returns
    -------
    DataFrame
        ``indicateur, annee, edition_precedente, valeur_precedente, edition, valeur, revision, revision_rel``.
    """
    rows = []
    for indicator, label in indicators.items():
        a = national_totals(older, indicator, unit, national=older).set_index("year")["count"]
        b = national_totals(newer, indicator, unit, national=newer).set_index("year")["count"]
        for year in sorted(set(a.index) & set(b.index)):
            rows.append(
                {
                    "indicateur": label,
                    "annee": int(year),
                    "edition_precedente": str(older["edition"].iloc[0]),
                    "valeur_precedente": float(a[year]),
                    "edition": str(newer["edition"].iloc[0]),
                    "valeur": float(b[year]),
                    "revision": float(b[year] - a[year]),
                    "revision_rel": float(b[year] / a[year] - 1) if a[year] else None,
                }
            )
    columns = [
        "indicateur",
        "annee",
        "edition_precedente",
        "valeur_precedente",
        "edition",
        "valeur",
        "revision",
        "revision_rel",
    ]
    return pd.DataFrame(rows, columns=columns)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator with revised values: how many years, the span, and the largest revision.

    Returns
    -------
    DataFrame
        ``indicateur, n_annees, premiere_annee, derniere_annee, annee_max, valeur_precedente, valeur,
        revision_rel, revision_rel_min, revision_rel_max, edition_precedente, edition``; empty when nothing was
        revised.
    """
    revised = table[table["revision"] != 0]
    rows = []
    for label, group in revised.groupby("indicateur", sort=False):
        worst = group.loc[group["revision_rel"].abs().idxmax()]
        rows.append(
            {
                "indicateur": label,
                "n_annees": int(len(group)),
                "premiere_annee": int(group["annee"].min()),
                "derniere_annee": int(group["annee"].max()),
                "annee_max": int(worst["annee"]),
                "valeur_precedente": float(worst["valeur_precedente"]),
                "valeur": float(worst["valeur"]),
                "revision_rel": float(worst["revision_rel"]),
                "revision_rel_min": float(group["revision_rel"].min()),
                "revision_rel_max": float(group["revision_rel"].max()),
                "edition_precedente": str(worst["edition_precedente"]),
                "edition": str(worst["edition"]),
            }
        )
    return pd.DataFrame(rows)


def add_revision_facts(
    facts, table: pd.DataFrame | None, *, source_id: str, edition: str, labels: dict
) -> None:
    """Declare the revision facts of the letter's box: how many values changed, and per indicator its span.

    Keys: ``rev_n_revisees`` (details ``edition_precedente``, ``premiere_annee``, ``derniere_annee``,
    ``comparable``: False when the catalogue has no earlier edition), and for each indicator of ``labels``
    (fact prefix -> indicator label in ``table``) ``<prefix>_n_annees`` with details ``annee_max``,
    ``valeur_precedente``, ``valeur``, ``revision_rel``, ``revision_rel_min``, ``revision_rel_max``.

    Parameters
    ----------
    facts : observatoire.outputs.facts.Facts
        The notebook's facts.
    table : DataFrame or None
        From :func:`revision_table`; None when the catalogue has no earlier edition to compare with.
    source_id, edition : str
        The edition the letter uses.
    labels : dict
        Fact prefix -> indicator label as in ``table``.
    """
    base = dict(source_id=source_id, edition=edition, unit="valeurs")
    if table is None or table.empty:
        facts.add("rev_n_revisees", None, **base, details={"comparable": False, "edition_precedente": ""})
        rows = pd.DataFrame(columns=["indicateur"])
    else:
        revised = table[table["revision"] != 0]
        facts.add(
            "rev_n_revisees",
            int(len(revised)),
            **base,
            details={
                "comparable": True,
                "edition_precedente": str(table["edition_precedente"].iloc[0]),
                "premiere_annee": None if revised.empty else int(revised["annee"].min()),
                "derniere_annee": None if revised.empty else int(revised["annee"].max()),
            },
        )
        rows = summary(table)
    for prefix, label in labels.items():
        row = rows.loc[rows["indicateur"] == label]
        record = row.iloc[0].to_dict() if not row.empty else {}
        facts.add(
            f"{prefix}_n_annees",
            record.get("n_annees"),
            unit="années",
            source_id=source_id,
            edition=edition,
            label=label,
            details={
                k: record.get(k)
                for k in (
                    "annee_max",
                    "valeur_precedente",
                    "valeur",
                    "revision_rel",
                    "revision_rel_min",
                    "revision_rel_max",
                    "premiere_annee",
                    "derniere_annee",
                )
            },
        )
