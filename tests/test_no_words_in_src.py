"""No sentence template in the Python: the letters' sentences live in the publications' templates.

Python computes values and their metadata (observatoire.outputs.facts details, the registry's labels); the words a
reader sees as sentences are written by authors in ``publications/<theme>/*.qmd`` (observatoire.outputs.templates). This
test reads the package's source (docstrings and comments aside) and fails on:

* a sentence template passed to a fact (``facts.add(..., sentence="...")``, ``missing="..."``, also through
  ``published.add_fact``);
* a string holding a French sentence fragment a letter prints ("n'est pas disponible", "Par rapport à" ...).

No module is exempt: the last sentences (the reading of a test or a trend printed in the notebooks' calculation
pages) moved to ``publications/_shared/statistics.<lang>.jinja`` (observatoire.outputs.describe).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "observatoire"

FRAGMENTS = (
    "n'est pas disponible",
    "n'est pas publié",
    "Par rapport à",
    "ont été",
    "statistiquement significative",
    "Entre {",
    "La tendance",
    "se déclarent victimes",
    "évolution moyenne",
)
SENTENCE_KEYWORDS = {"sentence", "missing"}
FACT_CALLS = {"add", "add_fact"}


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        ]
    if isinstance(node, ast.BinOp):
        return _strings(node.left) + _strings(node.right)
    return []


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def words_in(source: str) -> list[str]:
    """Sentence templates and French sentence fragments in a module's code (docstrings aside)."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            for kw in node.keywords:
                if name in FACT_CALLS and kw.arg in SENTENCE_KEYWORDS and _strings(kw.value):
                    found.append(f"line {node.lineno}: {kw.arg}= sentence template")
        if isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in docs:
            for text in _strings(node):
                for fragment in FRAGMENTS:
                    if fragment in text:
                        found.append(f"line {node.lineno}: {fragment!r} in {text[:60]!r}")
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sentence_in_the_package(path):
    relative = str(path.relative_to(PACKAGE))
    found = words_in(path.read_text(encoding="utf-8"))
    assert not found, f"{relative}: sentences belong to the publication's templates:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'facts.add("k", 1, sentence="En {year}, {value} victimes.")\n',
        'published.add_fact(facts, "k", pub, missing="Le nombre n\'est pas disponible.")\n',
        'text = f"Par rapport à {year}, le nombre évolue."\n',
    ],
)
def test_the_check_catches_sentences(source):
    assert words_in(source)


def test_the_check_lets_values_and_docstrings_through():
    source = (
        '"""Par rapport à l\'année précédente (docstring)."""\nfacts.add("k", 1, details={"gap": "annee"})\n'
    )
    assert words_in(source) == []
