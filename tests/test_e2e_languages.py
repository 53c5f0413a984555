"""End to end: a letter with one source built in French and in English from one run of its notebooks, read as a
reader reads it (issue 19).

The territorial letter of Corse-du-Sud 2024 is built in both languages into one site: the English build reuses
the French build's run of the notebook; both pages have the same sections, figures, tables and callouts and cite
the same numbers, each written the way of its language; the English page's letter, its figures' metadata and
the headers of its tables hold no French words but proper names; the PDF is in English too; and the two letters
link to each other.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from test_language_parity import french_words, numbers

from observatoire.data.themes import get_theme
from observatoire.publishing import release

pytestmark = pytest.mark.e2e

YEAR = 2024
TERRITORY = "2A"


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    """Both languages built as ``make letter`` builds them: one run, the renders side by side, the pages once."""
    tmp = tmp_path_factory.mktemp("languages")
    french, english = release.build_languages(
        get_theme("territoire"),
        YEAR,
        overrides={"territoire": TERRITORY},
        site_dir=tmp / "site",
        build_dir=tmp / "build",
        progress=False,
    )
    return {"fr": french, "en": english}


def _site_files(site: Path) -> dict[str, bytes]:
    """Every file of a site, the build's time taken out of the manifests (the one thing two builds differ by)."""
    files = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "manifest.json":
            manifest = json.loads(data)
            manifest.pop("built_at", None)
            data = json.dumps(manifest, sort_keys=True).encode()
        files[str(path.relative_to(site))] = data
    return files


def test_built_together_the_letters_are_those_built_one_by_one(letters, tmp_path):
    """The slow way: one release per language, each rendering alone and writing the site's pages."""
    for lang in ("fr", "en"):
        release.build_edition(
            "territoire",
            YEAR,
            overrides={"territoire": TERRITORY},
            site_dir=tmp_path / "site",
            build_dir=tmp_path / "build",
            progress=False,
            lang=lang,
        )
    together = _site_files(letters["fr"].site_path.parents[2])
    one_by_one = _site_files(tmp_path / "site")
    together.pop(".site-state.json"), one_by_one.pop(".site-state.json")  # a digest of the manifests
    assert sorted(together) == sorted(one_by_one)
    differing = [name for name in together if together[name] != one_by_one[name]]
    assert not differing, differing[:10]


def _main(result) -> str:
    """The letter's own content (Quarto's <main>), without scripts, styles and the interactive extras."""
    page = (result.site_path / "index.html").read_text(encoding="utf-8")
    main = re.search(r"<main.*?</main>", page, re.S).group(0)
    return re.sub(r"<script.*?</script>|<style.*?</style>", " ", main, flags=re.S)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _structure(main: str) -> dict[str, list[str]]:
    return {
        "sections": ["h2"] * len(re.findall(r"<h2\b", main)),
        "figures": re.findall(r"\bid=\"(fig-[\w-]+)\"", main),
        "tables": re.findall(r"\bid=\"(tbl-[\w-]+)\"", main),
        "callouts": re.findall(r"class=\"callout[^\"]*\"", main),
    }


def test_both_languages_come_from_one_run(letters):
    assert letters["fr"].status == letters["en"].status == "published"
    assert letters["fr"].notebooks and not letters["en"].notebooks  # the English build ran no notebook
    assert letters["en"].site_path.name == f"{TERRITORY}-en"
    fr = json.loads((letters["fr"].site_path / "manifest.json").read_text(encoding="utf-8"))
    en = json.loads((letters["en"].site_path / "manifest.json").read_text(encoding="utf-8"))
    assert (fr["lang"], en["lang"]) == ("fr", "en") and en["title"] == "Recorded violence in the territories"
    # The same facts: the English edition publishes the French run's facts file, byte for byte.
    assert (letters["fr"].site_path / "facts" / "01_territoire.json").read_bytes() == (
        letters["en"].site_path / "facts" / "01_territoire.json"
    ).read_bytes()


def test_the_letters_say_the_same(letters):
    french, english = _main(letters["fr"]), _main(letters["en"])
    assert _structure(french) == _structure(english)
    prose = {lang: _text(re.sub(r'<div class="chart-extras".*?</details>', " ", m, flags=re.S))
             for lang, m in (("fr", french), ("en", english))}  # fmt: skip
    assert numbers(prose["fr"]) == numbers(prose["en"])
    assert "de la Corse-du-Sud" in prose["fr"] and "en Corse-du-Sud" in prose["fr"]
    assert "in Corse-du-Sud" in prose["en"] and "Corsica" in prose["en"]


def test_the_english_letter_is_english(letters):
    result = letters["en"]
    main = _main(result)
    letter = re.sub(r'<div class="chart-extras".*?</div>\s*</div>', " ", main, flags=re.S)
    letter = re.sub(r'<a href="notebooks/[^"]*">.*?</a>', " ", letter)  # notebook titles: French documents
    assert french_words(_text(letter)) == []
    for name in ("t_series", "t_entonnoir", "t_carte"):
        meta = json.loads((result.site_path / "figures" / f"{name}.json").read_text(encoding="utf-8"))
        assert meta["lang"] == "en"
        for field in ("title", "alt", "source", "caption"):
            assert french_words(meta[field] or "") == [], (name, field, meta[field])
        assert french_words(" ".join(meta["headers"].values())) == [], (name, meta["headers"])
    table = (result.site_path / "tables" / "t_serie.md").read_text(encoding="utf-8")
    assert table.startswith("| Year | Within the family, victims |") and french_words(table) == []
    pdf = subprocess.run(
        ["pdftotext", str(result.site_path / "letter.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Letter of the French National Observatory of Violence against Women" in pdf
    assert "Sources and methods" in pdf and "Sources et méthodes" not in pdf


def test_the_english_pages_have_an_english_navbar_and_footer(letters):
    """The navbar, its screen-reader name, the footer and the site's name: English on English pages only."""
    for lang, expected in (
        ("en", ["Home", "Letters", "Recorded violence in the territories", "Editions by year", "Methods", "Data",
                "History", "Site navigation", "SSMSI and Insee data", "French National Observatory of Violence"]),
        ("fr", ["Accueil", "Lettres", "Les violences enregistrées dans les territoires", "Éditions par année",
                "Méthodes", "Données", "Historique", "Navigation du site", "Données SSMSI et Insee"]),
    ):  # fmt: skip
        page = (letters[lang].site_path / "index.html").read_text(encoding="utf-8")
        chrome = page[page.index('<header id="quarto-header"') : page.index("</header>")]
        chrome += page[page.index('<footer class="footer"') :] + re.search(r"<title>.*?</title>", page).group(
            0
        )
        chrome = html.unescape(chrome)
        for words in expected:
            assert words in chrome, (lang, words)
        if lang == "en":
            assert (
                french_words(_text(re.sub(r'<a class="navbar-brand".*?</a>', " ", chrome, flags=re.S))) == []
            )


def test_the_letters_link_to_each_other(letters):
    french = (letters["fr"].site_path / "index.html").read_text(encoding="utf-8")
    english = (letters["en"].site_path / "index.html").read_text(encoding="utf-8")
    assert f'href="../{TERRITORY}-en/index.html"' in french and 'hreflang="en"' in french
    assert f'href="../{TERRITORY}/index.html"' in english and 'hreflang="fr"' in english
    assert re.search(r'<html[^>]*\blang="en"', english) and re.search(r'<html[^>]*\blang="fr"', french)
