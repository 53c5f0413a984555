"""No statistic typed by hand in the prose of any letter.

Why. A number typed into a ``.qmd`` is a number nobody re-checks when the data are revised or when the letter
is built for another year: it silently goes stale, or is false for every other edition. Every number the prose
cites must come from the facts, through ``{{< var key >}}`` (or ``{{< meta year >}}`` for the year).

The rule, applied to every ``.qmd`` and ``.jinja`` template under ``publications/`` (every theme, so that the thematic letters are held
to it too): no digit in the visible text, once these are set aside:

* the YAML front matter (it holds the title block and build values, not prose);
* shortcodes ``{{< ... >}}`` and template tags ``[[ ... ]]``, ``[% ... %]``, ``[# ... #]`` (where the numbers come
  from, see observatoire.outputs.templates: a digit inside a tag is an argument or a fact key, never printed as typed);
* identifiers and file names: figure and table ids (``{#fig-x}``, ``{#tbl-x}``), cross-references (``@fig-x``),
  image and link targets (``(figures/x.svg)``, ``(https://...)``), footnote labels (``[^x]``), div attributes
  (``::: {.callout-note}``), HTML comments;
* the explicit allowlist below: the phone numbers of the help lines (legal references, not statistics).

A figure's caption and its ``fig-alt`` text are prose: they are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLICATIONS = ROOT / "publications"

#: Digit sequences allowed in the prose, and why. ``anywhere``: the token is a name (the 3919 is the line's name,
#: cited in the protection section); ``section``: allowed only under the heading named (the help lines).
ALLOWLIST: tuple[dict, ...] = (
    {"token": "3919", "where": "anywhere", "why": "name of the Violences Femmes Info line"},
    {"token": "17", "where": "section", "section": "Ressources", "why": "phone number of Police secours"},
    {"token": "114", "where": "section", "section": "Ressources", "why": "emergency number by SMS"},
    {"token": "17", "where": "section", "section": "Resources", "why": "the English letter's help lines"},
    {"token": "114", "where": "section", "section": "Resources", "why": "the English letter's help lines"},
)

FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)
SHORTCODE = re.compile(r"\{\{<.*?>\}\}", re.DOTALL)
#: Template expressions and logic (``[[ f.key ]]``, ``[% if ... %]``, ``[# ... #]``): where the numbers come from.
TEMPLATE = re.compile(r"\[\[.*?\]\]|\[%.*?%\]|\[#.*?#\]", re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
FENCED_CODE = re.compile(r"^(```|~~~).*?^\1\s*$", re.DOTALL | re.MULTILINE)
ALT = re.compile(r"""fig-alt=(?P<q>["'])(?P<alt>.*?)(?P=q)""")
ATTRIBUTES = re.compile(r"\{[^{}]*\}")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
BARE_URL = re.compile(r"(?:https?://|www\.)\S+")
CROSSREF = re.compile(r"-?@(?:fig|tbl|sec|eq)-[\w-]+", re.IGNORECASE)
FOOTNOTE = re.compile(r"\[\^[^\]]*\]")
DIV_FENCE = re.compile(r"^\s*:{3,}.*$", re.MULTILINE)
NUMBER = re.compile(r"\d+(?:[.,\u202f\u00a0 ]\d+)*")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def _blank_out(text: str, pattern: re.Pattern, keep=None) -> str:
    """Replace each match by spaces (keeping newlines, so line numbers survive); ``keep`` returns kept text."""

    def repl(match: re.Match) -> str:
        kept = keep(match) if keep else ""
        body = match.group(0)
        filler = "".join("\n" if ch == "\n" else " " for ch in body)
        return (kept + filler[len(kept) :]) if len(kept) <= len(filler) else kept

    return pattern.sub(repl, text)


def visible_prose(text: str) -> str:
    """The text of a ``.qmd`` with everything that is not prose blanked out (line numbers preserved)."""
    front = FRONT_MATTER.match(text)
    if front:
        text = "".join("\n" if ch == "\n" else " " for ch in front.group(0)) + text[front.end() :]
    for pattern in (COMMENT, FENCED_CODE, SHORTCODE, TEMPLATE):
        text = _blank_out(text, pattern)
    # Keep the alt text of figures (prose), drop the rest of the attribute blocks (ids, classes, keys).
    text = _blank_out(
        text, ATTRIBUTES, keep=lambda m: " ".join(a.group("alt") for a in ALT.finditer(m.group(0)))
    )
    for pattern in (LINK_TARGET, BARE_URL, CROSSREF, FOOTNOTE, DIV_FENCE):
        text = _blank_out(text, pattern)
    return text


def typed_numbers(text: str) -> list[tuple[int, str, str]]:
    """Digit sequences in the prose of a ``.qmd`` text that the allowlist does not cover.

    Returns
    -------
    list of (line number, token, line)
    """
    original_lines = text.splitlines()
    prose = visible_prose(text)
    found = []
    section = ""
    for number, (line, shown) in enumerate(zip(prose.splitlines(), original_lines, strict=False), start=1):
        heading = HEADING.match(shown)
        if heading and len(heading.group(1)) <= 2:
            section = SHORTCODE.sub("", heading.group(2)).strip()
        for match in NUMBER.finditer(line):
            token = match.group(0).strip()
            if _allowed(token, section):
                continue
            found.append((number, token, shown.strip()))
    return found


def _allowed(token: str, section: str) -> bool:
    for rule in ALLOWLIST:
        if token != rule["token"]:
            continue
        if rule["where"] == "anywhere" or section == rule.get("section"):
            return True
    return False


def publication_files() -> list[Path]:
    return sorted([*PUBLICATIONS.rglob("*.qmd"), *PUBLICATIONS.rglob("*.jinja")])


def test_there_are_publications():
    assert publication_files(), "no .qmd under publications/"


@pytest.mark.parametrize("path", publication_files(), ids=lambda p: str(p.relative_to(PUBLICATIONS)))
def test_no_typed_statistic(path):
    problems = typed_numbers(path.read_text(encoding="utf-8"))
    assert not problems, "typed numbers (cite them with {{< var key >}}):\n" + "\n".join(
        f"  {path.relative_to(ROOT)}:{n}: {token!r} in: {line}" for n, token, line in problems
    )


# The check itself: it must catch what it is meant to catch, and only that. --------------------------------------


@pytest.mark.parametrize(
    "text, token",
    [
        ("En 2024, les services ont enregistré 122 610 victimes.\n", "122 610"),
        ("Les femmes représentent 12,5 % des victimes.\n", "12,5"),
        ("Une hausse de\u202f3\u202f%.\n", "3"),
        ('![Victimes en 2023](figures/x.svg){#fig-x fig-alt="Courbe."}\n', "2023"),
        ('![Victimes](figures/x.svg){#fig-x fig-alt="Le nombre passe de 142 000 à 271 000."}\n', "142 000"),
        ("::: {.callout-note}\n## Note\nLe taux atteint 9,8 pour 1 000 femmes.\n:::\n", "9,8"),
        ("## Ressources\n\n- Appelez le 3919.\n\n## Autre\n\nLe 17 novembre, 17 victimes.\n", "17"),
        ("- **114** : hors de la section Ressources, c'est un nombre.\n", "114"),
    ],
)
def test_check_catches_typed_numbers(text, token):
    tokens = [t for _, t, _ in typed_numbers(text)]
    assert token in tokens, f"{token!r} not caught in {text!r} (found {tokens})"


def test_negative_examples_from_the_brief():
    assert [t for _, t, _ in typed_numbers("On compte 122 610 victimes.\n")] == ["122 610"]
    assert [t for _, t, _ in typed_numbers("Soit 12,5 % des victimes.\n")] == ["12,5"]


@pytest.mark.parametrize(
    "text",
    [
        '---\ntitle: "Lettre 2024"\ndate: 2025-11-25\n---\n\nTexte sans chiffre.\n',
        "En {{< meta year >}}, {{< var victimes_2024 >}} victimes ({{< var part_2024_phrase >}}).\n",
        '![Victimes enregistrées](figures/victimes_2024.svg){#fig-victimes-2024 fig-alt="Courbe en hausse."}\n',
        "Voir la @fig-victimes-2024 et le @tbl-table-2 [-@fig-x2].\n",
        "{{< include tables/tbl_2024.md >}}\n",
        "Source : [SSMSI](https://www.interieur.gouv.fr/Interstats/2024/page-3).\n",
        "Une note[^n1].\n\n[^n1]: Sans chiffre.\n",
        "<!-- brouillon : 122 610 -->\nTexte.\n",
        "## Ressources\n\n- **3919** : écoute.\n- **17** : police.\n- **114** : SMS.\n",
        "Les appels au 3919 augmentent.\n",
        "En [[ meta.year ]], [[ f.vs_total ]] victimes[% if f.x.value > 2 %] ([[ f.y | number(1) ]])[% endif %].\n",
        "[# 12 victimes dans un commentaire d'auteur #]Texte.\n",
    ],
)
def test_check_lets_non_statistics_through(text):
    assert typed_numbers(text) == []


def test_line_numbers_point_to_the_typed_number():
    text = "---\ntitle: x\n---\n\nLigne sans chiffre.\n\nIci 45 victimes.\n"
    assert typed_numbers(text) == [(7, "45", "Ici 45 victimes.")]
