"""publications/themes.yml: the declared themes load, and a broken declaration names its key and rule."""

from __future__ import annotations

import copy

import pytest
import yaml

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import themes

ANNUAL_NOTEBOOKS = [
    "01_morts_violentes_couple.ipynb",
    "02_violences_couple_intrafamiliales.ipynb",
    "03_violences_sexuelles.ipynb",
    "04_enquetes_victimation.ipynb",
    "05_protection_accompagnement.ipynb",
    "06_revisions.ipynb",
]


def test_declared_themes_load():
    declared = {t.id: t for t in themes.list_themes()}
    assert list(declared) == [
        "annual",
        "traite",
        "violences_sexuelles",
        "outre_mer",
        "territoire",
        "mutilations_sexuelles",
        "mariages_forces",
    ]
    annual = themes.get_theme("annual")
    assert list(annual.notebooks) == ANNUAL_NOTEBOOKS
    assert annual.notebook_dir == paths.NOTEBOOKS / "annual"
    assert annual.publication_dir == paths.PUBLICATIONS / "annual"
    assert themes.years("annual") == list(range(2017, 2025))
    assert annual.parameters_for(2024) == {
        "letter_date": "+1-11-25",
        "national_source": "national_series_r3",
        "nomenclature_record": "ssmsi_dep_2024_geo2025",
        "population_age_record": "insee_pop_aq",
        "population_source": "insee_pop_gca",
        "ssmsi_source": "ssmsi_dep_2024",
    }
    # a *_record is read for its catalogue record only: not among the sources fetched
    assert "ssmsi_dep_2024_geo2025" not in annual.source_ids(annual.parameters_for(2024))


def test_2023_variant_on_edition_2023_is_buildable_by_override():
    annual = themes.get_theme("annual")
    params = annual.parameters_for(2023, {"ssmsi_source": "ssmsi_dep_2023"})
    assert params["ssmsi_source"] == "ssmsi_dep_2023"
    assert "ssmsi_dep_2023" in annual.source_ids(params)
    assert annual.edition_names(params) == {
        "national_edition": "2026-r3",
        "population_edition": "2024 (provisional, arrêtés fin 2023)",
        "ssmsi_edition": "2023",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ssmsi_source": "ssmsi_dep_2023"}, "covers 2016..2023, not the year 2024"),
        ({"ssmsi_source": "nope"}, "not a source id"),
        ({"unknown": 1}, "unknown parameter"),
        ({"year": 2020}, "set by the build"),
    ],
)
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(InputError, match=message):
        themes.get_theme("annual").parameters_for(2024, overrides)


def test_year_outside_the_theme_is_refused():
    with pytest.raises(InputError, match="2030 is not buildable"):
        themes.get_theme("annual").check_year(2030)


def test_unknown_theme_lists_the_declared_ones():
    with pytest.raises(InputError, match="declared: annual, traite"):
        themes.get_theme("annuel")


def _broken(tmp_path, mutate):
    data = yaml.safe_load(paths.THEMES_YML.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    mutate(data)
    target = tmp_path / "themes.yml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _set(key, value, index=0):
    def mutate(data):
        data["themes"][index][key] = value

    return mutate


def _drop(key, index=0):
    def mutate(data):
        del data["themes"][index][key]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "place", "rule"),
    [
        (_drop("title"), "key 'title'", "required"),
        (_set("id", "Annual"), "key 'id'", "must match"),
        (_set("notebooks", ["notebooks/annual/01.ipynb"]), "key 'notebooks'", "no folder"),
        (_set("notebooks", ["a.ipynb", "a.ipynb"]), "key 'notebooks'", "listed twice"),
        (_set("sources", ["ssmsi_dep_2099"]), "key 'sources'", "not a source id"),
        (_set("years", {"first": "2017", "last": 2024}), "key 'years.first'", "four-digit year"),
        (
            _set("years", {"first": 2017, "last": 2024, "last_from": "ssmsi_dep_2024"}),
            "key 'years'",
            "exactly one",
        ),
        (_set("years", {"first": 2020, "last": 2018}), "key 'years'", "before first year"),
        (_set("parameters", {"year": 2024}), "key 'parameters.year'", "set by the build"),
        (_set("parameters", {"ssmsi_source": "ssmsi_dep_2023"}), "key 'parameters.ssmsi_source'", "covers"),
        (_set("parameters", {"x_record": "nope"}), "key 'parameters.x_record'", "not a source id"),
        (_set("by_year", {2030: {"ssmsi_source": "ssmsi_dep_2024"}}), "key 'by_year.2030'", "buildable year"),
        (_set("colour", "red"), "key 'colour'", "unknown key"),
        (_set("id", "traite"), "key 'id'", "declared twice"),
        (lambda d: d.update(schema_version=2), "key 'schema_version'", "must be 1"),
    ],
)
def test_broken_declaration_names_file_key_and_rule(tmp_path, mutate, place, rule):
    broken = _broken(tmp_path, mutate)
    with pytest.raises(InputError) as caught:
        themes.load_themes(broken)
    assert caught.value.file == str(broken)
    assert place in caught.value.place
    assert rule in caught.value.rule
    assert str(caught.value).startswith("themes.yml: ")


def test_invalid_yaml_names_the_line(tmp_path):
    target = tmp_path / "themes.yml"
    target.write_text("schema_version: 1\nthemes:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"themes.yml: line \d+, column \d+: not valid YAML"):
        themes.load_themes(target)


def test_placeholder_theme_is_reported_not_raised(tmp_path):
    # A theme declared before its notebooks exist (the usual first step of a new letter) is listed, not fatal.
    document = yaml.safe_load(paths.THEMES_YML.read_text(encoding="utf-8"))
    traite = next(t for t in document["themes"] if t["id"] == "traite")
    traite["notebooks"] = []
    declared = tmp_path / "themes.yml"
    declared.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    loaded = themes.load_themes(
        declared, notebooks_root=tmp_path / "notebooks", publications_root=tmp_path / "publications"
    )
    assert not loaded["traite"].buildable
    assert "no notebooks declared" in loaded["traite"].missing()
    table = themes.format_themes_table(loaded.values(), site_dir=tmp_path / "site")
    assert "not buildable" in table
    assert "traite: no notebooks declared" in table
    assert "annual: missing " in table  # its notebooks do not exist under tmp_path


def test_format_themes_table_lists_published_years(tmp_path):
    site = tmp_path / "site"
    for year in (2022, 2023, 2024):
        (site / "annual" / str(year)).mkdir(parents=True)
        (site / "annual" / str(year) / "manifest.json").write_text("{}", encoding="utf-8")
    assert themes.published_years("annual", site) == [2022, 2023, 2024]
    assert "2022-2024" in themes.format_themes_table(site_dir=site)


def test_parse_overrides_reads_yaml_scalars():
    assert themes.parse_overrides(["ssmsi_source=ssmsi_dep_2023", "n=3", "flag=true", "s="]) == {
        "ssmsi_source": "ssmsi_dep_2023",
        "n": 3,
        "flag": True,
        "s": "",
    }
    with pytest.raises(InputError, match="KEY=VALUE"):
        themes.parse_overrides(["novalue"])
