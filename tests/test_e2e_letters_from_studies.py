"""End to end: the letters written from published studies (issue 23), built in French and in English into one
site and read as a reader reads them: the PDF's text and the HTML page.

Each letter is published in both languages, listed by the site's index, and its PDF prints the key estimate the
way of its language, the law section, and never a figure the compilation holds back.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from observatoire.publishing import release

pytestmark = pytest.mark.e2e

YEAR = 2025
#: Theme -> (the key figure in French, in English), the figures held back that must never be printed.
LETTERS = {
    "mutilations_sexuelles": (("125\u202f000", "125,000"), ("24 000", "27 000", "0,5 %", "24,000", "27,000")),
    "mariages_forces": (("9\u202f%", "9%"), ("70 000", "70,000")),
}
LAW = {"fr": "code pénal", "en": "Criminal Code"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("studies")
    built = {}
    for theme in LETTERS:
        for lang in ("fr", "en"):
            built[theme, lang] = release.build_edition(
                theme, YEAR, site_dir=tmp / "site", build_dir=tmp / "build", progress=False, lang=lang
            )
    return tmp / "site", built


def _pdf_text(path) -> str:
    """The PDF's text, the spaces inside numbers and before "%" removed (pdftotext writes U+202F as a space)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return _squeezed(re.sub(r"[ \u00a0]+", " ", out.stdout))


def _squeezed(text: str) -> str:
    return re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d|%)", "", text)


@pytest.mark.parametrize("theme", list(LETTERS))
def test_each_letter_is_published_in_both_languages_and_listed(site, theme):
    root, built = site
    index = (root / "index.html").read_text(encoding="utf-8")
    for lang, folder in (("fr", f"{YEAR}"), ("en", f"{YEAR}-en")):
        edition = root / theme / folder
        assert (edition / "index.html").is_file() and (edition / "letter.pdf").is_file()
        assert json.loads((edition / "manifest.json").read_text(encoding="utf-8"))["lang"] == lang
        assert f"{theme}/{folder}/index.html" in index
    # one run of the notebooks for both languages
    assert built[theme, "en"].site_path.name == f"{YEAR}-en"


@pytest.mark.parametrize("theme", list(LETTERS))
def test_the_pdf_prints_the_estimate_and_the_law_never_a_held_figure(site, theme):
    root, _ = site
    (fr_figure, en_figure), held = LETTERS[theme]
    for lang, folder, figure in (("fr", f"{YEAR}", fr_figure), ("en", f"{YEAR}-en", en_figure)):
        text = _pdf_text(root / theme / folder / "letter.pdf")
        assert _squeezed(figure) in text
        assert LAW[lang] in text
        for value in held:
            assert _squeezed(value) not in text, f"{theme} {lang}: held figure {value} printed"
