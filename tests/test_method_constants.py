"""The method's constants: declared once (publications/methods.yml), applied by the code, shown by every letter.

* the declaration is read and checked (a bad value stops with file, key and rule);
* the code's defaults are the declared values (a change of the file changes what the code does);
* every letter's methods section renders the declared values (through the ``m_*`` facts each letter declares with
  ``method.add_method_facts``) and types none of them by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from observatoire.analysis import method
from observatoire.analysis import statistics as st
from observatoire.core.errors import InputError
from observatoire.core.formatting import format_percent
from observatoire.outputs.facts import Facts
from observatoire.outputs.templates import render_text

ROOT = Path(__file__).resolve().parents[1]
#: Each letter's methods section and the constants it must show (fact keys).
METHODS_SECTIONS = {
    "publications/annual/_methodes.qmd": (
        "m_niveau_confiance",
        "m_seuil_signif",
        "m_seuil_petits",
        "m_winsorisation",
        "m_entonnoir_niveau_signal",
        "m_annees_min_tendance",
        "m_annees_min_dispersion",
        "m_ecart_rang",
    ),
    "publications/violences_sexuelles/_sections/methodes.qmd": (
        "m_niveau_confiance",
        "m_seuil_signif",
        "m_seuil_petits",
        "m_winsorisation",
        "m_entonnoir_niveau",
        "m_entonnoir_niveau_large",
        "m_entonnoir_niveau_atypique",
        "m_sensibilite_winsor_min",
        "m_sensibilite_winsor_max",
        "m_ecart_rang",
    ),
    "publications/outre_mer/_sections/methodes.qmd": (
        "m_niveau_confiance",
        "m_seuil_signif",
        "m_winsorisation",
        "m_annees_min_tendance",
        "m_ecart_rang",
    ),
    "publications/territoire/_methodes.qmd": (
        "m_niveau_confiance",
        "m_seuil_signif",
        "m_seuil_petits",
        "m_winsorisation",
        "m_entonnoir_niveau_signal",
        "m_annees_min_tendance",
        "m_ecart_rang",
    ),
}
#: What a methods section must not type by hand (a declared constant written as a number).
TYPED = re.compile(r"\b(95|5|10|20|99,8|100)\s*%|\b100 victimes|\bau moins trois\b")


def _method_facts() -> dict:
    facts = Facts("m", "annual", 2024)
    method.add_method_facts(facts, ref_year=2024)
    return facts.records


def _stub(key: str, source: str) -> dict:
    """A fact the methods section cites that is not a constant (an edition, a date, a flag), with the fields the
    section reads from it."""
    fields = dict.fromkeys(re.findall(rf"\bf\.{key}\.([a-z_]+)", source), 1)
    return {
        **fields,
        "key": key,
        "value": 0,
        "text": f"<{key}>",
        "available": True,
        "kind": "text",
        "decimals": 0,
    }


def test_declaration_is_read_and_checked(tmp_path):
    m = method.load()
    assert (m.confidence_level, m.significance_level, m.small_count) == (0.95, 0.05, 100)
    assert m.funnel_winsorising in m.sensitivity_winsorising
    raw = yaml.safe_load(method.METHODS_FILE.read_text(encoding="utf-8"))
    raw["confidence_level"] = 1.5
    bad = tmp_path / "methods.yml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError, match=r"methods.yml: key 'confidence_level': a fraction"):
        method.load(bad)
    del raw["confidence_level"]
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError, match="missing"):
        method.load(bad)


def test_the_code_applies_the_declared_constants(monkeypatch):
    m = method.constants()
    assert st.is_small(m.small_count - 1) and not st.is_small(m.small_count)
    result = st.funnel(np.arange(50, 150, 5.0), np.full(20, 1.0e5))
    assert result.attrs["winsor"] == m.funnel_winsorising
    assert result.attrs["consistency"] == m.funnel_consistency_factor
    assert result.attrs["flag_level"] == m.funnel_flag_level
    assert len(result.attrs["sensitivity"]) == len(m.sensitivity_winsorising) * len(
        m.sensitivity_consistency_factor
    )
    assert st.trend([2016, 2017, 2018], [10, 12, 14]).level == m.confidence_level
    # another declaration changes what the code does
    other = method.Method(
        **{**m.__dict__, "small_count": 20, "confidence_level": 0.9, "significance_level": 0.1}
    )
    monkeypatch.setattr(method, "constants", lambda: other)
    monkeypatch.setattr(st, "constants", lambda: other)
    assert not st.is_small(50)
    assert st.trend([2016, 2017, 2018], [10, 12, 14]).level == 0.9


#: The facts of a 2024 edition, for the letters whose methods section cites more than constants and stubs.
EDITION_FACTS = {
    "annual": "annual_2024.json",
    "territoire": "territoire_2024_29.json",
    "violences_sexuelles": "violences_sexuelles_2024.json",
}


def _words_and_section(path: str) -> tuple[str, list[str]]:
    """The section and its publication's words file (a letter with one source words its sections there), and the
    languages to render it in: every language when the publication has a words file, French otherwise."""
    section = ROOT / path
    words = section.parent / "words.yml"
    if not words.is_file() and section.parent.name == "_sections":
        words = section.parent.parent / "words.yml"
    source = section.read_text(encoding="utf-8")
    if words.is_file():
        return source + "\n" + words.read_text(encoding="utf-8"), ["fr", "en"]
    return source, ["fr"]


@pytest.mark.parametrize("path", list(METHODS_SECTIONS))
def test_each_letter_shows_the_declared_values(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    everything, languages = _words_and_section(path)
    records = _method_facts()
    cited = set(re.findall(r"\bf\.([a-z0-9_]+)", everything))
    missing = [key for key in METHODS_SECTIONS[path] if key not in cited]
    assert not missing, f"{path} does not cite {missing}"
    theme = Path(path).parts[1]
    edition = {}
    if theme in EDITION_FACTS:
        edition = json.loads((ROOT / "tests" / "data" / "facts" / EDITION_FACTS[theme]).read_text("utf-8"))[
            "facts"
        ]
    facts = {**{key: _stub(key, everything) for key in cited if key not in records}, **edition, **records}
    for lang in languages:
        meta = {"year": 2024, "lang": lang, "theme_title": "T"}
        text = render_text(
            source, facts, meta, name=path, search_path=ROOT / "publications" / Path(path).parts[1]
        )
        plain = re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))
        for key in METHODS_SECTIONS[path]:
            record = records[key]
            shown = str(record["text"]) if lang == "fr" else str(record["value"]).removesuffix(".0")
            shown = (
                shown.replace("\u202f", " ").replace("\u00a0", " ").replace(",", "." if lang == "en" else ",")
            )
            if lang == "en" and record.get("kind") == "percent":
                shown = format_percent(record["value"], int(record.get("decimals") or 0), lang="en")
            assert shown in plain, f"{path} ({lang}): {key} ({shown}) is not shown"


@pytest.mark.parametrize("path", list(METHODS_SECTIONS))
def test_no_constant_is_typed_in_a_methods_section(path):
    source = _words_and_section(path)[0]
    typed = [m.group(0) for m in TYPED.finditer(source)]
    assert not typed, f"{path} types {typed}: cite the m_* facts instead"
