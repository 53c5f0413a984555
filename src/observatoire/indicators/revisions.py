"""Revisions: how the data edition a letter uses changed figures a previous letter already published.

Producers revise the past with every edition (SSMSI's edition 2024 changed all its 2016-2023 counts). A letter
never splices two editions into one series; it uses one, and says how the figures already published on the
previous edition moved. :func:`previous_source` finds, in the catalogue, the edition the previous letter stood on;
:func:`revision_table` compares the national counts year by year; :func:`add_revision_facts` writes the sentence
the letter's "Révisions" note prints.
"""

from __future__ import annotations

import re

import pandas as pd

from observatoire import catalogue
from observatoire.formatting import format_change, format_number
from observatoire.indicators.recorded import VICTIM, national_totals

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


def summary_sentence(table: pd.DataFrame, source_label: str) -> str | None:
    """One sober French sentence on the revisions of ``table`` (None when no figure was revised)."""
    revised = table[table["revision"] != 0]
    if revised.empty:
        return None
    parts = []
    for label, group in revised.groupby("indicateur", sort=False):
        worst = group.loc[group["revision_rel"].abs().idxmax()]
        parts.append(
            f"« {label} » : {len(group)} année(s) révisée(s), écart le plus fort en {int(worst['annee'])} "
            f"({format_number(worst['valeur_precedente'])} dans l'édition {worst['edition_precedente']}, "
            f"{format_number(worst['valeur'])} dans l'édition {worst['edition']}, "
            f"soit {format_change(worst['revision_rel'])})"
        )
    first, last = int(revised["annee"].min()), int(revised["annee"].max())
    years = f"de {first}" if first == last else f"de {first} à {last}"
    return (
        f"Les chiffres {years} déjà publiés sur l'édition {revised['edition_precedente'].iloc[0]} "
        f"de la {source_label} ont été révisés par l'édition {revised['edition'].iloc[0]} : "
        + " ; ".join(parts)
        + ". Cette lettre utilise la seule édition la plus récente, sans raccorder les deux."
    )


def add_revision_facts(
    facts, table: pd.DataFrame | None, *, source_id: str, edition: str, source_label: str
) -> None:
    """Declare ``rev_n_revisees`` (how many published values changed) and its sentence ``rev_n_revisees_phrase``.

    Parameters
    ----------
    facts : observatoire.facts.Facts
        The notebook's facts.
    table : DataFrame or None
        From :func:`revision_table`; None when the catalogue has no earlier edition to compare with.
    source_id, edition : str
        The edition the letter uses.
    source_label : str
        French name of the base, for the sentence.
    """
    if table is None:
        facts.add(
            "rev_n_revisees",
            None,
            unit="valeurs",
            source_id=source_id,
            edition=edition,
            label="Révisions",
            sentence="{value}",
            missing=(
                f"L'édition précédente de la {source_label} n'est pas dans le catalogue des sources : "
                "les révisions des chiffres déjà publiés ne peuvent pas être mesurées pour cette lettre."
            ),
        )
        return
    revised = int((table["revision"] != 0).sum())
    sentence = summary_sentence(table, source_label) or (
        f"Les chiffres déjà publiés sur l'édition précédente de la {source_label} sont inchangés."
    )
    facts.add(
        "rev_n_revisees",
        revised,
        unit="valeurs",
        source_id=source_id,
        edition=edition,
        sentence=sentence.replace("{", "{{").replace("}", "}}"),
    )
