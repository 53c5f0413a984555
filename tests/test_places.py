"""The territories' names with their grammar (publications/_shared/territories.yml), in every phrase of the letters.

A territorial letter names its territory with the article and the preposition French wants ("du Finistère", "de
l'Ain", "des Hauts-de-Seine", "de la Corse-du-Sud", "de Mayotte"; "dans le Finistère", "en Corse-du-Sud", "à
Mayotte") and with its English name. These tests check the curated file against the geography reference and the
rules of the articles, then render the territorial letter's templates (index.qmd, _methodes.qmd) for each of the
101 départements and 18 régions, in French and in English, from the facts of a real letter (Finistère 2024,
tests/data/facts/territoire_2024_29.json) with the territory swapped in, and read every phrase that names it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import datasets
from observatoire.data.geography import DEPARTEMENTS, OVERSEAS, REGIONS
from observatoire.outputs.places import load_places, place
from observatoire.outputs.templates import publication_words, render_text

PUBLICATION = paths.PUBLICATIONS / "territoire"
FACTS = json.loads((Path(__file__).parent / "data" / "facts" / "territoire_2024_29.json").read_text("utf-8"))
TERRITORIES = list(DEPARTEMENTS) + [f"reg-{code}" for code in REGIONS]
#: The article of a name and the "de" form it gives (French); the place form is "dans" + the article, or "en".
ARTICLES = {"le ": "du ", "la ": "de la ", "l'": "de l'", "les ": "des "}


def test_the_file_covers_the_geography_reference_by_name():
    geo = datasets.geography()
    places = load_places()
    for row in geo.itertuples(index=False):
        assert places["departement"][row.code_departement].forms["fr"]["name"] == row.nom_departement
        assert places["region"][row.code_region].forms["fr"]["name"] == row.nom_region
    assert len(places["departement"]) == 101 and len(places["region"]) == 18


@pytest.mark.parametrize(
    ("territory", "de", "dans", "english"),
    [
        ("976", "de Mayotte", "à Mayotte", "Mayotte"),
        ("reg-06", "de Mayotte", "à Mayotte", "Mayotte"),
        ("974", "de La Réunion", "à La Réunion", "Réunion"),
        ("reg-04", "de La Réunion", "à La Réunion", "Réunion"),
        ("29", "du Finistère", "dans le Finistère", "Finistère"),
        ("2A", "de la Corse-du-Sud", "en Corse-du-Sud", "Corse-du-Sud"),
        ("92", "des Hauts-de-Seine", "dans les Hauts-de-Seine", "Hauts-de-Seine"),
        ("01", "de l'Ain", "dans l'Ain", "Ain"),
        ("75", "de Paris", "à Paris", "Paris"),
        ("973", "de la Guyane", "en Guyane", "French Guiana"),
        ("reg-53", "de la Bretagne", "en Bretagne", "Brittany"),
        ("reg-32", "des Hauts-de-France", "dans les Hauts-de-France", "Hauts-de-France"),
        ("reg-11", "de l'Île-de-France", "en Île-de-France", "Île-de-France"),
        ("reg-44", "du Grand Est", "dans le Grand Est", "Grand Est"),
    ],
)
def test_known_names(territory, de, dans, english):
    forms = place(territory)
    assert (forms.in_("fr").de, forms.in_("fr").dans, forms.in_("en").name) == (de, dans, english)


@pytest.mark.parametrize("territory", TERRITORIES)
def test_the_forms_follow_the_article(territory):
    fr = place(territory).in_("fr")
    name, le, de, dans = fr.name, fr.le, fr.de, fr.dans
    article = next((a for a in ARTICLES if le == a + name), None)
    if article is None:  # no article: Paris, Mayotte, La Réunion (the article is part of the name)
        assert le == name and de in (f"de {name}", f"d'{name}") and dans == f"à {name}"
    else:
        assert de == ARTICLES[article] + name
        assert dans in (f"dans {le}", f"en {name}")
        if article == "les ":  # never "en" before a plural
            assert dans == f"dans {le}"
    for bad in ("de le ", "de les ", "à le ", "à les ", "dans La ", "en La ", "de La Réunion de"):
        assert bad not in f"{de} {dans}"
    en = place(territory).in_("en")
    assert en.of == f"of {en.name}" and en["in"] == f"in {en.name}"


def test_a_missing_form_names_the_file_and_the_key(tmp_path):
    text = (paths.SHARED_TEMPLATES / "territories.yml").read_text(encoding="utf-8")
    broken = tmp_path / "territories.yml"
    broken.write_text(text.replace(', de: "du Finistère"', "", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"territories.yml: departements.29.fr: missing form 'de'"):
        load_places(broken)


def _facts_for(territory: str) -> dict[str, dict]:
    """The Finistère facts with another territory swapped in (its level, région, overseas and Mayotte flags)."""
    target = place(territory)
    region = (
        target.code
        if target.level == "region"
        else next(code for code in REGIONS if target.code in _members(code))
    )
    facts = {key: dict(record) for key, record in FACTS["facts"].items()}
    for key, value in {
        "t_territoire": target.parameter,
        "t_code": target.code,
        "t_region": int(target.level == "region"),
        "t_region_code": region,
        "t_outre_mer": int(region in ("01", "02", "03", "04", "06")),
        "t_mayotte": int("976" in _members(region) and (target.level == "region" or target.code == "976")),
        "t_nb_departements": len(_members(region)) if target.level == "region" else 1,
    }.items():
        facts[key]["value"] = value
        facts[key]["text"] = str(value)
    return facts


def _members(region: str) -> list[str]:
    geo = datasets.geography()
    return list(geo.loc[geo["code_region"] == region, "code_departement"])


OUTPUTS = {
    "figures": {
        name: {"name": name, "title": "T", "caption": "C", "alt": "A", "files": {"svg": f"{name}.svg"}}
        for name in ("t_series", "t_entonnoir", "t_carte")
    },
    "tables": {name: {"name": name, "files": {"md": f"{name}.md"}} for name in ("t_serie", "t_departements")},
}


def _letter(territory: str, lang: str) -> str:
    words = publication_words(PUBLICATION)[0]
    parts = []
    for name in ("index.qmd", "_methodes.qmd"):
        source = (PUBLICATION / name).read_text(encoding="utf-8")
        parts.append(
            render_text(
                source,
                _facts_for(territory),
                {"lang": lang, "year": "2024", "theme_title": "T", "version_en": "x", "version_fr": "x"},
                name=name,
                search_path=PUBLICATION,
                outputs=OUTPUTS,
                words=words,
            )
        )
    return re.sub(r"\s+", " ", "\n".join(parts).replace("\u202f", " "))


@pytest.mark.parametrize("territory", TERRITORIES)
def test_every_phrase_names_the_territory_with_its_grammar(territory):
    target = place(territory)
    fr, en = target.in_("fr"), target.in_("en")
    french, english = _letter(territory, "fr"), _letter(territory, "en")
    # Every phrase of the templates that names the territory, as the reader reads it.
    assert f"Cette lettre présente, pour {fr.le}, les victimes" in french
    assert f"{fr.dans}, soit" in french
    assert f", {fr.le} se classe au rang" in french
    assert f"This letter presents, for {en.name}, the victims" in english
    assert f"{en['in']}, that is" in english
    assert f", {en.name} ranks" in english
    assert f'subtitle: "{target.label["fr"]} :' in french and f'subtitle: "{target.label["en"]}:' in english
    if target.level == "departement":
        region = place(f"reg-{_facts_for(territory)['t_region_code']['value']}")
        assert f"montre les taux {fr.de} depuis" in french
        assert f"situe {fr.le} dans la région {region.in_('fr').name}." in french
        assert f"shows the rates of {en.name} since" in english
        assert f"locates {en.name} in the {region.in_('en').name} region." in english
    else:
        assert f"La région {fr.name} compte" in french and f"The {en.name} region has" in english
    for text in (french, english):
        for bad in (
            " de le ",
            " de les ",
            " à le ",
            " à les ",
            " pour Le ",
            "dans La ",
            " de Les ",
            "pour La La",
        ):
            assert bad not in text, (territory, bad)
    if territory in OVERSEAS:
        assert "**Outre-mer.**" in french and "**Overseas.**" in english
