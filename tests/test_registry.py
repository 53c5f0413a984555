"""The indicator registry: one entry per indicator, complete, and the labels the letter prints come from it."""

from __future__ import annotations

import pytest

from observatoire.analysis.indicators import registry
from observatoire.core.errors import InputError
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, INTRAFAMILY_2025, SEXUAL


def test_every_entry_is_complete_and_the_ssmsi_indicators_are_registered():
    entries = registry.load_registry()
    assert entries and all(
        e.label and e.label_en and e.definition and e.producer and e.era for e in entries.values()
    )
    for name in (INTRAFAMILY, INTRAFAMILY_2025, SEXUAL):
        assert registry.by_ssmsi_name(name).label.startswith(name.split()[0])


def test_two_nomenclatures_are_two_indicators():
    old, new = registry.by_ssmsi_name(INTRAFAMILY), registry.by_ssmsi_name(INTRAFAMILY_2025)
    assert old.id != new.id and old.label != new.label and old.era != new.era


def test_every_trafficking_series_is_named_by_the_registry():
    """The trafficking letter's series (survey counts and shares, forms, the administrative count) carry no label
    in the code: the registry names each, in French and in English."""
    from observatoire.analysis.indicators import trafficking

    ids = [s.indicator for s in (*trafficking.SERIES.values(), *trafficking.FORMS.values())]
    ids += list(trafficking.ADMINISTRATIVE.values())
    assert len(ids) == 20
    for indicator in ids:
        entry = registry.get(indicator)
        assert entry.label != entry.label_en and entry.producer and entry.unit
    assert registry.get("traite_part_exploitation_travail").label_in("en") == "Labour exploitation"
    assert registry.get("traite_part_exploitation_travail").label_in("fr") == "Exploitation par le travail"
    assert not hasattr(trafficking.SERIES["reperees"], "label")


def test_the_survey_figure_says_what_it_counts():
    entry = registry.get("enquete_victimes_viol_tentative_agression_sexuelle")
    assert "viols, tentatives de viol ou agressions sexuelles" in entry.definition


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("indicators: [1]\n", "'indicators' mapping"),
        ("indicators:\n  x: {label: A}\n", "missing or empty: label_en"),
        (
            "indicators:\n  x: {label: A, label_en: B, definition: C, producer: D, era: E, unit: F, colour: G}\n",
            "unknown field(s): colour",
        ),
    ],
)
def test_a_bad_registry_stops_naming_the_indicator(tmp_path, text, rule):
    path = tmp_path / "indicators.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        registry.load_registry.__wrapped__(path)


def test_an_unknown_id_is_an_error():
    with pytest.raises(InputError, match="not in the registry"):
        registry.get("inconnu")
