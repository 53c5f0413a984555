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


def test_every_series_the_sections_name_has_its_label_in_both_languages():
    from observatoire.analysis.indicators import protection, sexual, surveys

    ids = [*surveys.INDICATORS, *(i for i, _ in sexual.SHARES + sexual.PUBLISHED_COUNTS), sexual.BASE_TOTAL]
    ids += [m.indicator for m in protection.MEASURES]
    for indicator in ids:
        entry = registry.get(indicator)
        assert entry.label and entry.label_en and entry.label != entry.label_en, indicator
    # the labels the letters printed before they moved to the registry, unchanged in French
    assert registry.get(sexual.SHARE_MINORS).label == "Part des mineurs parmi les victimes"
    assert registry.get("vrs_victimes_viol_tentative_agression_sexuelle").label_en == (
        "Victims of rape, attempted rape or sexual assault"
    )
    assert protection.measure("telephones_grave_danger_actifs").producer == "Ministère de la Justice"


def test_the_surveys_are_named_once_in_both_languages():
    assert registry.survey("CVS").label == "enquête Cadre de vie et sécurité"
    assert registry.survey("VRS").in_("en") == {
        "code": "VRS",
        "label": "Vécu et ressenti en matière de sécurité (experience and perception of security) survey",
    }
    with pytest.raises(InputError, match="survey 'XYZ': not in the registry's surveys"):
        registry.survey("XYZ")


def test_a_survey_without_its_english_name_stops(tmp_path):
    path = tmp_path / "indicators.yml"
    path.write_text("indicators: {}\nsurveys:\n  CVS: {label: enquête CVS}\n", encoding="utf-8")
    with pytest.raises(InputError, match="survey 'CVS': an entry has exactly a label and a label_en"):
        registry.load_surveys.__wrapped__(path)


def test_relabel_prints_the_labels_of_ids_in_a_language():
    import pandas as pd

    frame = pd.DataFrame(
        {"mesure": ["victimes_violences_sexuelles_enregistrees_part_femmes", ""], "v": [1, 2]}
    )
    english = registry.relabel(frame, "en", "mesure")
    assert list(english["mesure"]) == ["Share of women among victims", ""]
    assert list(frame["mesure"])[0].startswith("victimes_")  # a copy
    with pytest.raises(InputError, match="not in the registry"):
        registry.relabel(frame.assign(mesure=["inconnu", ""]), "fr", "mesure")
