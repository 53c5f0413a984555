"""Revisions between editions: the right previous edition, year-by-year values, the letter's sentence."""

from __future__ import annotations

import pytest

from observatoire.analysis.indicators import revisions
from observatoire.data import datasets
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL
from observatoire.outputs.facts import Facts


def test_previous_source_is_the_earlier_yearly_edition():
    assert revisions.previous_source("ssmsi_dep_2024") == "ssmsi_dep_2023"
    assert revisions.previous_source("ssmsi_dep_2023") is None
    # a re-release in another geography is not an earlier edition
    assert revisions.previous_source("ssmsi_dep_2024_geo2025") is None


@pytest.fixture(scope="module")
def table(raw_data):
    return revisions.revision_table(
        datasets.ssmsi_national("ssmsi_dep_2023"),
        datasets.ssmsi_national("ssmsi_dep_2024"),
        {SEXUAL: "Violences sexuelles", INTRAFAMILY: "CBV intrafamiliaux"},
    )


def test_revision_table_values(table):
    assert len(table) == 16  # 2016-2023, two indicators
    vs2016 = table[(table["indicateur"] == "Violences sexuelles") & (table["annee"] == 2016)].iloc[0]
    assert (vs2016["valeur_precedente"], vs2016["valeur"], vs2016["revision"]) == (37742, 51913, 14171)
    cbv2023 = table[(table["indicateur"] == "CBV intrafamiliaux") & (table["annee"] == 2023)].iloc[0]
    assert (cbv2023["valeur_precedente"], cbv2023["valeur"]) == (212615, 191679)
    assert cbv2023["revision_rel"] == pytest.approx(191679 / 212615 - 1)


def test_revision_facts_and_missing_case(table):
    facts = Facts("06_revisions", "annual", 2024)
    revisions.add_revision_facts(
        facts,
        table,
        source_id="ssmsi_dep_2024",
        edition="2024",
        labels={"rev_vs": "Violences sexuelles", "rev_cbv": "CBV intrafamiliaux"},
    )
    record = facts.records["rev_n_revisees"]
    assert record["value"] == 16
    assert (record["premiere_annee"], record["derniere_annee"], record["edition_precedente"]) == (
        2016,
        2023,
        "2023",
    )
    vs, cbv = facts.records["rev_vs_n_annees"], facts.records["rev_cbv_n_annees"]
    assert vs["value"] == 8 and vs["revision_rel"] == pytest.approx(51913 / 37742 - 1)
    assert cbv["revision_rel_min"] == pytest.approx(191679 / 212615 - 1)
    # The words belong to the templates: the fact carries values only.
    assert "phrase" not in record and "sentence" not in record

    none = Facts("06_revisions", "annual", 2023)
    revisions.add_revision_facts(
        none, None, source_id="ssmsi_dep_2023", edition="2023", labels={"rev_vs": "Violences sexuelles"}
    )
    assert none.records["rev_n_revisees"]["value"] is None
    assert none.records["rev_n_revisees"]["comparable"] is False
    assert none.records["rev_vs_n_annees"]["available"] is False
