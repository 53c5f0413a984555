"""Parity of the languages: what the French letter says, the English letter says, in English (issue 19).

A letter with one source (``translations: [en]`` in themes.yml) is one template: its structure and its logic are
written once, its prose is in its words file, every entry in every language. These tests hold the mechanism to
its promise, on the letters converted to it:

* a template never branches on the language and holds no prose of its own (every word is in a words entry);
* rendered in French and in English from the same facts, a letter has the same sections, figures, tables,
  callouts and cross-references, and cites the same numbers (each written the way of its language);
* the English letter has no French words, except proper names (the Observatory, the helpline, places, the
  titles of French documents, the notebooks written in French);
* a deliberately removed English entry stops the letter, naming the file, the key and the language.

The end-to-end part (marked e2e) reads the built pages of both languages the same way.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.outputs.places import load_places
from observatoire.outputs.templates import TEMPLATE_SUFFIX, publication_words, render_text

#: The letters converted to one source (their theme declares translations as a list).
ONE_SOURCE = [t for t in themes.list_themes() if any(t.one_source(lang) for lang in t.translations)]
#: French words no English sentence holds (whole words, any case).
FRENCH_WORDS = (
    "les", "des", "du", "une", "et", "pour", "dans", "sur", "aux", "est", "sont", "par", "avec", "qui", "que",
    "victimes", "données", "taux", "année", "années", "selon", "évolution", "enregistrées", "enregistrés",
    "femmes", "hommes", "nombre", "voir", "télécharger", "lettre", "région", "habitants", "tendance", "limites",
    "intervalle", "significative", "entre", "depuis", "rang", "carte", "tableau", "figure", "sources", "méthodes",
    "ressources", "sexuelles", "intrafamiliales", "mille", "soit", "donnée", "disponible", "édition",
)  # fmt: skip
# "figure" and "sources" are English too: they are checked only where French uses them ("la figure", "Sources :").
_FRENCH = re.compile(
    r"(?<![\w'’-])(" + "|".join(w for w in FRENCH_WORDS if w not in ("figure", "sources")) + r")(?![\w'’-])",
    re.IGNORECASE,
)
#: Proper names the English letter prints as they are.
PROPER_NAMES = (
    "Observatoire national des violences faites aux femmes",
    "Violences Femmes Info",
    "Fédération nationale Solidarité Femmes",
    "arretonslesviolences.gouv.fr",
)


def _allowed_names() -> list[str]:
    """Every form of every territory's name, both languages (Hauts-de-Seine, Val-d'Oise, Pays de la Loire ...)."""
    names = set(PROPER_NAMES)
    for level in load_places().values():
        for place in level.values():
            for forms in place.forms.values():
                names.update(forms.values())
    return sorted(names, key=len, reverse=True)


def french_words(text: str) -> list[str]:
    """The French words of an English text, proper names left out."""
    for name in _allowed_names():
        text = text.replace(name, " ")
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"\1", text)  # bold is not a quotation
    text = re.sub(r"\*[^*\n]+\*", " ", text)  # titles of French documents, in italics
    return [m.group(0) for m in _FRENCH.finditer(text)]


def numbers(text: str) -> Counter:
    """The numbers a text cites, as written in either language ("272 400" and "272,400"; "2,8" and "2.8")."""
    text = text.replace("\u202f", " ").replace("\u2212", "-")
    found = re.findall(
        r"(?<![\w.,])\d{1,3}(?:[ ,]\d{3})+(?:[.,]\d+)?(?![\d])|(?<![\w.,])\d+(?:[.,]\d+)?", text
    )
    out = Counter()
    for number in found:
        if re.fullmatch(r"0,\d+", number):  # a decimal below one in French (p = 0,096), never a thousand
            number = number.replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(?: \d{3})+(?:,\d+)?", number):  # French: 272 400,5
            number = number.replace(" ", "").replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", number):  # English: 272,400.5
            number = number.replace(",", "")
        else:
            number = number.replace(",", ".")
        out[number] += 1
    return out


def structure(markdown: str) -> dict[str, list[str]]:
    """What a letter is made of: headings' levels, figures, tables, callouts, cross-references, links."""
    return {
        "headings": re.findall(r"(?m)^(#+) ", markdown),
        "figures": re.findall(r"\{#(fig-[\w-]+)", markdown),
        "tables": re.findall(r"include (?:/)?tables/([\w-]+)\.md", markdown),
        "callouts": re.findall(r"::: \{\.(callout-\w+)", markdown),
        "references": sorted(m.lower() for m in re.findall(r"@(?:fig|Fig|tbl|Tbl)-[\w-]+", markdown)),
        "list items": re.findall(r"(?m)^\s*- ", markdown),
    }


# The templates ---------------------------------------------------------------------------------------------------


def _templates(theme) -> list[Path]:
    return sorted(theme.publication_dir.rglob(f"*{TEMPLATE_SUFFIX}"))


def test_there_is_a_letter_with_one_source():
    assert {"territoire", "annual", "violences_sexuelles"} <= {t.id for t in ONE_SOURCE}


def test_no_publication_is_a_second_copy_of_a_letter():
    """One folder per letter: no theme points a language to a folder of its own (the former annual_en)."""
    folders = {t.publication for t in themes.list_themes()}
    for theme in themes.list_themes():
        assert all(theme.one_source(lang) for lang in theme.translations), theme.id
    on_disk = {p.name for p in paths.PUBLICATIONS.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert on_disk == folders


@pytest.mark.parametrize("theme", ONE_SOURCE, ids=lambda t: t.id)
def test_a_template_never_branches_on_the_language(theme):
    for path in _templates(theme):
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for tag in re.findall(r"\[%(.*?)%\]", text):
                assert not re.search(r"\bmeta\.lang\b|\blang\b", tag), (
                    f"{path.name}:{line}: put the difference in the words file: {tag!r}"
                )


@pytest.mark.parametrize("theme", ONE_SOURCE, ids=lambda t: t.id)
def test_a_template_holds_no_prose_of_its_own(theme):
    """Structure only: every word a reader reads is a words entry (else it exists in one language only)."""
    for path in _templates(theme):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\[#.*?#\]", " ", text, flags=re.S)  # comments for authors
        text = re.sub(r"\[\[.*?\]\]|\[%.*?%\]|\{\{<.*?>\}\}|\{[#.][^}]*\}", " ", text, flags=re.S)
        text = re.sub(r"(?m)^(\w[\w-]*):", " ", text)  # front matter keys
        text = re.sub(r"(?m)^\s*(:::|#+|-)", " ", text)
        words = re.findall(r"[^\W\d_]{2,}", text)
        assert not words, (
            f"{path.relative_to(paths.PUBLICATIONS)}: prose outside the words file: {words[:12]}"
        )


FACTS = json.loads((Path(__file__).parent / "data" / "facts" / "territoire_2024_29.json").read_text("utf-8"))
OUTPUTS = {
    "figures": {
        name: {"name": name, "title": "T", "caption": "C", "alt": "A", "files": {"svg": f"{name}.svg"}}
        for name in ("t_series", "t_entonnoir", "t_carte")
    },
    "tables": {name: {"name": name, "files": {"md": f"{name}.md"}} for name in ("t_serie", "t_departements")},
}


def _territorial_letter(lang: str, words: dict | None = None, facts: dict | None = None) -> str:
    publication = paths.PUBLICATIONS / "territoire"
    words = publication_words(publication)[0] if words is None else words
    meta = {"lang": lang, "year": "2024", "theme_title": "T", "version_en": "x", "version_fr": "x"}
    return "\n".join(
        render_text(
            (publication / name).read_text(encoding="utf-8"),
            facts or FACTS["facts"],
            meta,
            name=name,
            search_path=publication,
            outputs=OUTPUTS,
            words=words,
        )
        for name in ("index.qmd", "_methodes.qmd")
    )


def _mayotte() -> dict:
    facts = {key: dict(record) for key, record in FACTS["facts"].items()}
    for key, value in {"t_territoire": "976", "t_code": "976", "t_region_code": "06", "t_outre_mer": 1,
                       "t_mayotte": 1}.items():  # fmt: skip
        facts[key].update(value=value, text=str(value))
    facts["vs_taux_pop_ssmsi"].update(value=2.1, text="2,1")
    return facts


@pytest.mark.parametrize("facts", [None, _mayotte()], ids=["finistere", "mayotte"])
def test_the_territorial_letter_says_the_same_in_both_languages(facts):
    french, english = _territorial_letter("fr", facts=facts), _territorial_letter("en", facts=facts)
    assert structure(french) == structure(english)
    for text in (french, english):  # a list item glued to the line before (a block tag ate its newline)
        assert not re.search(r"[^\n]- \*\*", text), re.search(r".{60}[^\n]- \*\*.{20}", text)
    assert numbers(french) == numbers(english)
    assert french_words(english.split("\n---\n", 1)[-1]) == []
    assert len(french) > 4000 and len(english) > 4000


def test_the_word_checks_catch_what_they_must():
    assert french_words("The rate is 2.8 pour mille habitants in Finistère.") == [
        "pour",
        "mille",
        "habitants",
    ]
    assert french_words("Observatoire national des violences faites aux femmes, in the Hauts-de-Seine") == []
    assert numbers("272 400 victimes, 2,8 et 2024") == numbers("272,400 victims, 2.8 and 2024")
    assert numbers("272 400") != numbers("272,401")


def test_a_removed_english_entry_stops_the_letter(tmp_path):
    words = paths.PUBLICATIONS / "territoire" / "words.yml"
    text = words.read_text(encoding="utf-8")
    removed = '  en: The rate is [[ f[k ~ "_taux_france"] ]] per thousand inhabitants in France.\n'
    assert removed in text
    copy = tmp_path / "words.yml"
    copy.write_text(text.replace(removed, ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"^words.yml: rate_france: no text in language 'en'$"):
        publication_words(tmp_path)


def test_an_entry_missing_from_the_words_stops_the_letter():
    words = dict(publication_words(paths.PUBLICATIONS / "territoire")[0])
    del words["trend_france"]
    with pytest.raises(InputError, match=r"index.qmd: line \d+: template syntax: no entry 'trend_france'"):
        _territorial_letter("en", words=words)


# The annual letter ----------------------------------------------------------------------------------------------

ANNUAL_FACTS = json.loads((Path(__file__).parent / "data" / "facts" / "annual_2024.json").read_text("utf-8"))
ANNUAL_PARTS = ("index.qmd", "_morts_violentes.qmd", "_violences_couple.qmd", "_violences_sexuelles.qmd",
                "_enquetes.qmd", "_protection.qmd", "_methodes.qmd", "_ressources.qmd")  # fmt: skip
ANNUAL_FIGURES = ("morts-violentes-couple", "enfants-tues", "violences-conjugales-enregistrees",
                  "intrafamilial-france", "intrafamilial-departements", "violences-sexuelles-france",
                  "violences-sexuelles-departements", "enquetes-victimation", "protection")  # fmt: skip


def _annual_letter(lang: str, words: dict | None = None) -> str:
    publication = paths.PUBLICATIONS / "annual"
    words = publication_words(publication)[0] if words is None else words
    meta = {"lang": lang, "year": "2024", "theme_title": "T", "version_en": "x", "version_fr": "x"}
    outputs = {
        "figures": {
            name: {"name": name, "title": "T", "alt": "A", "files": {"svg": f"{name}.svg"}}
            for name in ANNUAL_FIGURES
        },
        "tables": {},
    }
    return "\n".join(
        render_text(
            (publication / name).read_text(encoding="utf-8"),
            ANNUAL_FACTS["facts"],
            meta,
            name=name,
            search_path=publication,
            outputs=outputs,
            words=words,
        )
        for name in ANNUAL_PARTS
    )


def test_the_annual_letter_says_the_same_in_both_languages():
    """Same sections, figures, tables, callouts, references and numbers; no French outside proper names and
    quotations of French sources (in italics) in the English letter (facts of the 2024 edition)."""
    french, english = _annual_letter("fr"), _annual_letter("en")
    assert structure(french) == structure(english)
    assert numbers(french) == numbers(english)
    assert french_words(english.split("\n---\n", 1)[-1]) == []
    assert len(french) > 30000 and len(english) > 30000
    # what the facts say is said in English: the place named by its code, the ages, the date of the letter
    assert "Mayotte" in english and "aged 18 to 75" in english and "dated November 2025" in english
    assert "de 18 à 75 ans" in french and "datée de novembre 2025" in french


def test_a_removed_english_entry_stops_the_annual_letter(tmp_path):
    words = paths.PUBLICATIONS / "annual" / "words.yml"
    text = words.read_text(encoding="utf-8")
    removed = "  en: Rates vary widely from one département to another.\n"
    assert removed in text
    (tmp_path / "words.yml").write_text(text.replace(removed, ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"^words.yml: if_rates_vary: no text in language 'en'$"):
        publication_words(tmp_path)


# The thematic letters ---------------------------------------------------------------------------------------------


class _AnyOutput(dict):
    """Every figure and table a letter asks for, with placeholder words (the templates' structure is compared)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __bool__(self) -> bool:
        return True

    def get(self, name, default=None):
        return {"name": name, "title": "T", "alt": "A", "files": {"svg": f"{name}.svg", "md": f"{name}.md"}}


#: A thematic letter converted to one source -> its facts of an edition (tests/data/facts, from a release).
THEMATIC_FACTS = {"outre_mer": "outre_mer_2024.json", "traite": "traite_2024.json"}


def _thematic_letter(theme: str, lang: str, words: dict | None = None, changed: dict | None = None) -> str:
    publication = paths.PUBLICATIONS / theme
    words = publication_words(publication)[0] if words is None else words
    facts = json.loads((Path(__file__).parent / "data" / "facts" / THEMATIC_FACTS[theme]).read_text("utf-8"))
    for key, value in (changed or {}).items():  # another edition's codes
        facts["facts"][key].update(value=value, text=value)
    meta = {
        "lang": lang,
        "year": str(facts["year"]),
        "theme_title": "T",
        "version_en": "x",
        "version_fr": "x",
    }
    outputs = {"figures": _AnyOutput("figures"), "tables": _AnyOutput("tables")}
    parts = [publication / "index.qmd", *sorted((publication / "_sections").glob(f"*{TEMPLATE_SUFFIX}"))]
    return "\n".join(
        render_text(
            path.read_text(encoding="utf-8"),
            facts["facts"],
            meta,
            name=path.name,
            search_path=publication,
            outputs=outputs,
            words=words,
        )
        for path in parts
    )


@pytest.mark.parametrize("theme", sorted(THEMATIC_FACTS))
def test_a_thematic_letter_says_the_same_in_both_languages(theme):
    """Same sections, figures, tables, callouts, references and numbers; no French outside proper names and
    quotations of French sources (in italics) in the English letter."""
    assert theme in {t.id for t in ONE_SOURCE}
    french, english = _thematic_letter(theme, "fr"), _thematic_letter(theme, "en")
    assert structure(french) == structure(english)
    assert numbers(french) == numbers(english)
    body = re.sub(r"\{\{<.*?>\}\}", " ", english.split("\n---\n", 1)[-1])  # includes name files, not words
    assert french_words(body) == []
    assert len(french) > 10000 and len(english) > 10000


def test_the_overseas_letter_names_its_places_in_each_language():
    french, english = _thematic_letter("outre_mer", "fr"), _thematic_letter("outre_mer", "en")
    assert "à La Réunion" in french and "en Guyane" in french and "French Guiana" not in french
    assert "in Réunion" in english and "in French Guiana" in english and "Guyane" not in english
    # a verdict stored as a code is worded: Mayotte's side of the metropolitan rate, the estimates' status
    assert re.search(r"Mayotte se situe (en dessous|au-dessus) du taux métropolitain", french)
    assert re.search(r"Mayotte is (below|above) the metropolitan rate", english)
    assert "estimations provisoires" in french and "provisional estimates" in english


def test_a_removed_english_entry_stops_the_overseas_letter(tmp_path):
    text = (paths.PUBLICATIONS / "outre_mer" / "words.yml").read_text(encoding="utf-8")
    removed = '  en: "**17**, police emergency, in an emergency."\n'
    assert removed in text
    (tmp_path / "words.yml").write_text(text.replace(removed, ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"^words.yml: resource_17: no text in language 'en'$"):
        publication_words(tmp_path)


def test_the_trafficking_letter_words_its_codes():
    """The producer as the series names it, the main form by its key, the term an edition used: worded by the
    letter in each language."""
    french, english = _thematic_letter("traite", "fr"), _thematic_letter("traite", "en")
    assert "conduite par la MIPROF." in french and "conducted by MIPROF." in english
    assert "la plus fréquente parmi les victimes accompagnées\u202f: exploitation sexuelle." in french
    assert "Most frequent form of exploitation among the supported victims: sexual exploitation." in english
    older = {"traite_producteur": "MIPROF / SSMSI", "traite_terme_accompagnees": "suivies",
             "traite_forme_principale": "travail"}  # fmt: skip
    french, english = (_thematic_letter("traite", lang, changed=older) for lang in ("fr", "en"))
    assert "conduite par la MIPROF et le SSMSI." in french and "conducted by MIPROF and the SSMSI." in english
    assert (
        "et en ont suivi 4" in french and "victims of trafficking or exploitation and followed 4" in english
    )
    assert "\u202f: exploitation par le travail." in french and ": labour exploitation." in english


# The letter on recorded sexual violence --------------------------------------------------------------------------

VS_FACTS = json.loads(
    (Path(__file__).parent / "data" / "facts" / "violences_sexuelles_2024.json").read_text("utf-8")
)
VS_PARTS = ("index.qmd", *(f"_sections/{name}.qmd" for name in ("national", "departements", "tendances",
            "enquetes", "methodes", "ressources")))  # fmt: skip
VS_FIGURES = ("vs_taux_departements", "vs_entonnoir", "vs_tendances_departements", "vs_evolution_nationale",
              "vs_enquetes")  # fmt: skip
VS_TABLES = ("vs_taux_plus_eleves", "vs_taux_plus_faibles", "vs_atypiques", "vs_entonnoir_sensibilite",
             "vs_serie_nationale", "vs_enquetes")  # fmt: skip


def _vs_letter(lang: str, facts: dict | None = None) -> str:
    publication = paths.PUBLICATIONS / "violences_sexuelles"
    meta = {"lang": lang, "year": "2024", "theme_title": "T", "version_en": "x", "version_fr": "x"}
    outputs = {
        "figures": {
            n: {"name": n, "title": "T", "alt": "A", "files": {"svg": f"{n}.svg"}} for n in VS_FIGURES
        },
        "tables": {n: {"name": n, "files": {"md": f"{n}.md"}} for n in VS_TABLES},
    }
    text = "\n".join(
        render_text(
            (publication / name).read_text(encoding="utf-8"),
            facts or VS_FACTS["facts"],
            meta,
            name=name,
            search_path=publication,
            outputs=outputs,
        )
        for name in VS_PARTS
    )
    return re.sub(r"\{\{< include _sections/\w+\.qmd >\}\}", " ", text)  # rendered on their own above


def _vs_other_verdicts() -> dict:
    """The 2024 facts with every verdict and list flipped: the other branches of each sentence."""
    facts = {key: dict(record) for key, record in VS_FACTS["facts"].items()}
    for key in ("vs_evolution_taux_signif", "vs_evolution_taux_signif_poisson", "vs_entonnoir_stable"):
        facts[key].update(value=1 - facts[key]["value"])
    for key in ("vs_entonnoir_dessus_ajuste_noms", "vs_choix_population_noms", "vs_enq_plainte"):
        facts[key].update(available=False, value=None)
    return facts


@pytest.mark.parametrize("facts", [None, _vs_other_verdicts()], ids=["2024", "other-verdicts"])
def test_the_sexual_violence_letter_says_the_same_in_both_languages(facts):
    """Same sections, figures, tables, callouts, references and numbers; no French in the English letter but
    proper names and the compilation's words quoted in italics (facts of the 2024 edition)."""
    french, english = _vs_letter("fr", facts), _vs_letter("en", facts)
    assert structure(french) == structure(english)
    assert numbers(french) == numbers(english)
    assert french_words(english.split("\n---\n", 1)[-1]) == []
    assert len(french) > 15000 and len(english) > 15000
    # the verdicts are worded from their codes, the method from its id
    signif = (facts or VS_FACTS["facts"])["vs_evolution_taux_signif"]["value"]
    assert ("cette évolution est " + ("significative" if signif else "non significative")) in french
    assert ("this change is " + ("significant" if signif else "not significant")) in english
    assert "quasi-Poisson test" in english and "test de quasi-Poisson" in french
    assert "dated November 2025" in english and "datée de novembre 2025" in french
    assert "## Sources and methods {#methodes}" in english and "## Sources et méthodes {#methodes}" in french


def test_a_removed_english_entry_stops_the_sexual_violence_letter(tmp_path):
    words = paths.PUBLICATIONS / "violences_sexuelles" / "words.yml"
    text = words.read_text(encoding="utf-8")
    removed = '  en: "These figures are not mixed: the letter computes no change between them."\n'
    assert removed in text
    (tmp_path / "words.yml").write_text(text.replace(removed, ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"^words.yml: editions_not_mixed: no text in language 'en'$"):
        publication_words(tmp_path)
