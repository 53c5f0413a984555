"""The word guard: no words a reader sees in the package's Python, in French or in English (issue 19).

Words belong to the publications: the letters' prose in ``publications/<theme>/words.yml``, the words of figures
and tables in ``notebooks/<theme>/<notebook>.meta.yml`` and ``publications/_shared/outputs.yml``, indicator labels
in ``publications/indicators.yml``, territory names in ``publications/_shared/territories.yml``; a letter in
another language is then a matter of adding an entry, never of editing code. This test reads every module of
``src/observatoire`` (docstrings aside) and fails on:

* a string of three or more words that reads as French (a French function word, no English one): the logic of
  ``../shared/tools/srcscan.py french``, reimplemented here;
* a reader-facing label in English or French: a literal string of two words or more given to what draws a
  chart's words (``set_title``, ``set_xlabel``, ``set_ylabel``, ``ax.text``, ``legend``) or to a chart's or an
  output's words (``title=``, ``xlabel=``, ``ylabel=``, ``note=``, ``alt=``, ``source=``, ``label=`` ...);
* a sentence template handed to a fact (``facts.add(..., sentence="...")``, ``missing="..."``, also through
  ``published.add_fact``): a fact carries values, the template words them.

:data:`ALLOWED` lists the few strings that may stay, each with its reason (the producers' own words, matched
in their files). No module is exempt: every module of the package passes the guard.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "observatoire"

#: French function words and common words of the letters (srcscan's list).
FRENCH = {
    "le", "la", "les", "des", "du", "une", "et", "pour", "dans", "sur", "aux", "au", "est", "sont", "par", "en",
    "de", "d'un", "d'une", "l'année", "victimes", "femmes", "année", "données", "taux", "chiffres",
}  # fmt: skip
#: English words that mark a string as a message for developers, not French prose (srcscan's list).
ENGLISH = {
    "the",
    "of",
    "and",
    "is",
    "are",
    "for",
    "with",
    "to",
    "not",
    "must",
    "cannot",
    "should",
    "from",
    "this",
}
#: Calls that draw words on a chart.
DRAWING_CALLS = {"set_title", "set_xlabel", "set_ylabel", "text", "suptitle", "set_label", "annotate"}
#: Keyword arguments of a fact that would carry a sentence (refused whatever their words).
SENTENCE_KEYWORDS = {"sentence", "missing"}
FACT_CALLS = {"add", "add_fact"}
#: Keyword arguments that carry words a reader sees.
WORD_ARGUMENTS = {
    "title", "xlabel", "ylabel", "note", "alt", "source", "caption", "label", "labels", "break_label",
    "highlight_label", "other_label", "reference_label", "value_label", "message",
}  # fmt: skip

#: Strings that may stay in the code, by module (relative to src/observatoire) and text ("*": every string the
#: guard finds in the module), each with its reason. Only the producers' own words, matched in their files.
ALLOWED: dict[tuple[str, str], str] = {
    ("data/loaders/ssmsi_departement.py", "*"): (
        "the SSMSI's indicator names and units, exactly as its files write them: what the loader matches and "
        "checks, never printed from here (the letters print the registry's labels)"
    ),
    ("data/loaders/insee_population.py", "France métropolitaine et DOM"): "an INSEE subtotal row, matched",
    ("data/loaders/insee_population.py", "^([0-9]+) ans et plus$"): "INSEE's age header, matched",
    ("data/loaders/insee_population.py", "(expected Ensemble, Hommes, Femmes)"): "INSEE's sex headers, named",
    ("data/loaders/national_series.py", "chiffre officiel relayé par"): (
        "the words the national series' second edition writes in its note column, matched"
    ),
    ("analysis/indicators/published.py", "plus de|lower bound|more than"): (
        "the words the compilation writes in a row's note for a lower bound, matched"
    ),
    ("analysis/indicators/published.py", "lettre de l'observatoire"): (
        "the words of the compilation's document titles naming the Observatoire's own letter, matched"
    ),
    ("analysis/indicators/trafficking.py", "pilot[ée]+e par la miprof"): (
        "the words the national series' records write when MIPROF alone ran the trafficking survey, matched"
    ),
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def reads_as_french(text: str) -> bool:
    """srcscan's rule: three words or more, a French function word, no English one, not a path or an id."""
    words = re.findall(r"[\w'’]+", text.lower())
    return (
        len(words) >= 3
        and any(w in FRENCH for w in words)
        and not any(w in ENGLISH for w in words)
        and not re.fullmatch(r"[\w./{}\-]+", text)
    )


def _is_label(text: str) -> bool:
    """Words a reader would read: two words or more, letters, not a format, an id, a path or a code."""
    stripped = text.strip()
    return (
        len(re.findall(r"[^\W\d_]{2,}", stripped)) >= 2
        and " " in stripped
        and not re.fullmatch(r"[\w./{}:%\-]+", stripped)
    )


def _literals(node: ast.AST) -> list[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.List | ast.Tuple):
        return [c for item in node.elts for c in _literals(item)]
    if isinstance(node, ast.JoinedStr):
        return [v for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return []


def words_in(source: str) -> list[tuple[int, str, str]]:
    """``(line, rule, text)`` of every string of a module's code the guard refuses (ALLOWED not applied)."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if reads_as_french(node.value.strip()):
                found.append((node.lineno, "French words", node.value.strip()))
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            for kw in node.keywords:
                if name in FACT_CALLS and kw.arg in SENTENCE_KEYWORDS and _literals(kw.value):
                    found.append((node.lineno, f"{kw.arg}= sentence template", kw.arg))
            given = list(node.args) if name in DRAWING_CALLS else []
            given += [kw.value for kw in node.keywords if kw.arg in WORD_ARGUMENTS]
            for constant in (c for arg in given for c in _literals(arg)):
                if _is_label(constant.value) and not reads_as_french(constant.value.strip()):
                    found.append((constant.lineno, "a label a reader sees", constant.value.strip()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):  # defaults of word arguments
            arguments = node.args.args[-len(node.args.defaults) :] if node.args.defaults else []
            pairs = list(zip(arguments, node.args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d]
            for argument, default in pairs:
                if argument.arg in WORD_ARGUMENTS:
                    for constant in _literals(default):
                        if _is_label(constant.value) and not reads_as_french(constant.value.strip()):
                            found.append(
                                (constant.lineno, "a default label a reader sees", constant.value.strip())
                            )
    return sorted(set(found))


def _refused(path: Path) -> list[tuple[int, str, str]]:
    relative = path.relative_to(PACKAGE).as_posix()
    if (relative, "*") in ALLOWED:
        return []
    return [hit for hit in words_in(path.read_text(encoding="utf-8")) if (relative, hit[2]) not in ALLOWED]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_words_a_reader_sees_in_the_code(path):
    relative = path.relative_to(PACKAGE).as_posix()
    found = _refused(path)
    assert not found, f"{relative}: words belong to the publications' words files (issue 19):\n" + "\n".join(
        f"  line {line}: {rule}: {text[:80]!r}" for line, rule, text in found
    )


def test_every_allowance_is_still_needed():
    for relative, text in ALLOWED:
        hits = {hit[2] for hit in words_in((PACKAGE / relative).read_text(encoding="utf-8"))}
        assert hits if text == "*" else text in hits, (
            f"{relative}: {text!r} is allowed but no longer in the code: remove the allowance"
        )


@pytest.mark.parametrize(
    "source",
    [
        'title = "Victimes de violences sexuelles enregistrées"\n',
        'ax.set_ylabel("Victims per 1,000 inhabitants")\n',
        'chart(data, break_label="Series break")\n',
        'def chart(data, other_label="Metropolitan France"):\n    pass\n',
        'ax.legend(handles, labels=["Le territoire", "Les autres"])\n',
        'facts.add("k", 1, sentence="En {year}, {value} victimes.")\n',
        'published.add_fact(facts, "k", pub, missing="Le nombre n\'est pas disponible.")\n',
    ],
)
def test_the_guard_catches_words(source):
    assert words_in(source)


def test_the_guard_lets_code_and_messages_through():
    source = (
        '"""Les victimes de la lettre (a docstring)."""\n'
        'raise ValueError(f"unknown language {lang!r}; expected one of fr, en")\n'
        'frame.rename(columns={"annee": "year"})\n'
        'path = "publications/_shared/words.yml"\n'
        'ax.set_xlabel(words["xlabel"])\n'
        'facts.add("k", 1, details={"gap": "annee"})\n'
    )
    assert words_in(source) == []
