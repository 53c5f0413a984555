"""Facts: formatting, missing values, sentences, validation, stable files, merge and duplicates."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from observatoire.core.errors import InputError
from observatoire.core.formatting import NOT_AVAILABLE
from observatoire.outputs.facts import Facts, load_facts, to_variables

COMMON = {"source_id": "ssmsi_dep_2024", "edition": "2024"}


def _facts(notebook: str = "01_national") -> Facts:
    return Facts(notebook, "annual", 2024)


def test_add_returns_french_text_and_records_everything():
    facts = _facts()
    assert facts.add("victimes", 122610, unit="victimes", ref_year=2023, **COMMON) == "122\u202f610"
    assert facts.add("taux", 9.84, unit="pour 1 000 habitants", kind="rate", decimals=1, **COMMON) == "9,8"
    assert facts.add("evol", -0.021, unit="%", kind="change", decimals=1, **COMMON) == "\u22122,1\u202f%"
    assert facts.add("part", 85.3, unit="%", kind="percent", decimals=1, **COMMON) == "85,3\u202f%"
    assert facts.add("source", "SSMSI", unit="", kind="text", **COMMON) == "SSMSI"
    record = facts["victimes"]
    assert record == {
        "key": "victimes",
        "value": 122610,
        "text": "122\u202f610",
        "label": None,
        "unit": "victimes",
        "kind": "number",
        "decimals": 0,
        "source_id": "ssmsi_dep_2024",
        "edition": "2024",
        "ref_year": 2023,
        "note": None,
        "notebook": "01_national",
        "available": True,
    }
    assert isinstance(facts["taux"]["value"], float)


def test_numpy_values_become_plain_json_numbers():
    facts = _facts()
    facts.add("a", np.int64(5), unit="", **COMMON)
    facts.add("b", np.float64(0.25), unit="", kind="change", **COMMON)
    assert type(facts["a"]["value"]) is int and type(facts["b"]["value"]) is float


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_missing_value_is_recorded_as_missing(missing):
    facts = _facts()
    text = facts.add("victimes", missing, unit="victimes", **COMMON)
    assert text == NOT_AVAILABLE
    record = facts["victimes"]
    assert record["value"] is None and record["available"] is False and record["text"] == NOT_AVAILABLE


def test_a_fact_carries_no_words():
    """The sentences are the publication's: a fact has values and metadata only."""
    facts = _facts()
    with pytest.raises(TypeError, match="sentence"):
        facts.add("hausse", 0.052, unit="%", kind="change", **COMMON, sentence="Hausse de {value}.")
    facts.add("hausse", 0.052, unit="%", kind="change", decimals=1, **COMMON, details={"previous": 100})
    assert "phrase" not in facts["hausse"] and facts["hausse"]["previous"] == 100


@pytest.mark.parametrize("key", ["Victimes", "taux-2023", "", "é"])
def test_bad_keys_are_refused(key):
    with pytest.raises(ValueError, match="key"):
        _facts().add(key, 1, unit="", **COMMON)


def test_duplicate_key_in_one_notebook_is_refused():
    facts = _facts()
    facts.add("victimes", 1, unit="", **COMMON)
    with pytest.raises(ValueError, match="defined twice"):
        facts.add("victimes", 2, unit="", **COMMON)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"source_id": ""}, ValueError),
        ({"edition": " "}, ValueError),
        ({"kind": "money"}, ValueError),
        ({"decimals": -1}, ValueError),
    ],
)
def test_required_fields_and_kinds(kwargs, error):
    args = {"unit": "", **COMMON, **kwargs}
    with pytest.raises(error):
        _facts().add("k", 1, **args)


def test_wrong_value_types():
    with pytest.raises(TypeError):
        _facts().add("k", "12", unit="", **COMMON)
    with pytest.raises(TypeError):
        _facts().add("k", 12, unit="", kind="text", **COMMON)
    with pytest.raises(ValueError, match="infinite"):
        _facts().add("k", math.inf, unit="", **COMMON)


def test_save_is_sorted_stable_and_utf8(tmp_path):
    facts = _facts()
    facts.add("zeta", 2, unit="", **COMMON)
    facts.add("alpha", 0.1, unit="", kind="change", **COMMON)
    path = facts.save(tmp_path)
    assert path == tmp_path / "facts" / "01_national.json"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "\u202f" in text  # not escaped as \\u202f
    payload = json.loads(text)
    assert list(payload["facts"]) == ["alpha", "zeta"]
    assert list(payload["facts"]["alpha"]) == sorted(payload["facts"]["alpha"])
    assert (payload["notebook"], payload["theme"], payload["year"]) == ("01_national", "annual", 2024)
    first = path.read_bytes()
    facts.save(tmp_path)
    assert path.read_bytes() == first


def test_load_facts_merges_and_to_variables_flattens(tmp_path):
    one, two = _facts("01_national"), _facts("02_departements")
    one.add("victimes", 122610, unit="victimes", **COMMON)
    two.add("taux_max", 15.26, unit="‰", kind="rate", decimals=1, **COMMON)
    two.add("absent", None, unit="", **COMMON)
    one.save(tmp_path)
    two.save(tmp_path)
    merged = load_facts(tmp_path)
    assert list(merged) == ["absent", "taux_max", "victimes"]
    assert merged["taux_max"]["notebook"] == "02_departements"
    variables = to_variables(merged)
    assert variables == {
        "absent": NOT_AVAILABLE,
        "taux_max": "15,3",
        "victimes": "122\u202f610",
    }
    assert all(isinstance(v, str) for v in variables.values())
    assert to_variables(one) == {"victimes": "122\u202f610"}


def test_a_key_in_two_files_raises_input_error(tmp_path):
    one, two = _facts("01_national"), _facts("02_departements")
    one.add("victimes", 1, unit="", **COMMON)
    two.add("victimes", 2, unit="", **COMMON)
    one.save(tmp_path)
    two.save(tmp_path)
    with pytest.raises(InputError) as info:
        load_facts(tmp_path)
    error = info.value
    assert error.place == "key 'victimes'"
    assert error.rule == "fact defined twice (also in 01_national.json)"
    assert error.file.endswith("02_departements.json")


def test_load_facts_reports_bad_files(tmp_path):
    with pytest.raises(InputError, match="no facts folder"):
        load_facts(tmp_path)
    folder = tmp_path / "facts"
    folder.mkdir()
    assert load_facts(tmp_path) == {}
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_facts(tmp_path)
    (folder / "broken.json").write_text('{"facts": {"k": {"value": 1}}}', encoding="utf-8")
    with pytest.raises(InputError, match="'text'"):
        load_facts(tmp_path)


# Units and notes: codes in the facts, words in publications/_shared/outputs.yml ----------------------------------

#: The modules whose facts carry unit and note codes (issue 19): every literal they give is a declared code.
CODED_MODULES = (
    "analysis/indicators/recorded.py",
    "analysis/indicators/wording.py",
    "analysis/method.py",
    "outputs/facts.py",
)


def _coded_literals(relative: str) -> set[tuple[str, str]]:
    """``(field, code)`` of every string given as ``unit=`` or ``note=`` in a module (through a conditional too),
    and the notes ``method.add_method_facts`` passes to its ``percent`` helper."""
    import ast

    from observatoire.core import paths

    def strings(node: ast.AST) -> set:
        if isinstance(node, ast.Constant):
            return {node.value}
        if isinstance(node, ast.IfExp):  # the two values, not the condition's
            return strings(node.body) | strings(node.orelse)
        return set()

    tree = ast.parse((paths.ROOT / "src" / "observatoire" / relative).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg in ("unit", "note"):
                found |= {(kw.arg, value) for value in strings(kw.value)}
        if getattr(node.func, "id", "") == "percent" and len(node.args) == 3:
            found |= {("note", value) for value in strings(node.args[2])}
    return {(field, code) for field, code in found if isinstance(code, str) and code}


@pytest.mark.parametrize("relative", CODED_MODULES)
def test_every_unit_and_note_a_module_writes_is_a_declared_code(relative):
    from observatoire.core.yamlfile import read_yaml
    from observatoire.outputs.words import FACT_SECTIONS, SHARED_OUTPUTS

    declared = read_yaml(SHARED_OUTPUTS)
    literals = _coded_literals(relative)
    assert literals, f"{relative}: no unit or note found (the scan is broken)"
    missing = sorted(
        f"{field}={code!r}" for field, code in literals if code not in declared[FACT_SECTIONS[field]]
    )
    assert not missing, f"{relative}: codes without words in {SHARED_OUTPUTS.name}: {', '.join(missing)}"


def test_fact_words_word_the_codes_in_each_language_and_fill_the_fact_values():
    from observatoire.analysis import method
    from observatoire.outputs.words import fact_words

    facts = _facts()
    method.add_method_facts(facts, ref_year=2024)
    confidence = facts.records["m_niveau_confiance"]
    assert (confidence["unit"], confidence["note"]) == ("percent", "confidence_level")  # codes, no words
    assert fact_words(confidence, "fr") == {"unit": "%", "note": "niveau de confiance des intervalles"}
    assert fact_words(confidence, "en") == {"unit": "%", "note": "confidence level of the intervals"}
    assert fact_words(facts.records["m_annees_min_tendance"], "en") == {"unit": "years", "note": None}
    rate = {
        "unit": "per_1000_inhabitants",
        "note": "rate_denominator_insee",
        "ref_year": 2024,
        "pop_edition": "2025",
    }
    assert fact_words(rate, "fr") == {
        "unit": "pour 1\u202f000 habitants",
        "note": "dénominateur : population estimée par l'Insee au 1er janvier 2024 (édition 2025)",
    }
    assert fact_words(rate, "en") == {
        "unit": "per 1,000 inhabitants",
        "note": "denominator: population estimated by Insee on 1 January 2024 (2025 edition)",
    }
    # free text (a published figure's provenance, a module not converted yet) is shown as written
    assert fact_words({"unit": "appels", "note": "INSEE | page officielle"}, "en") == {
        "unit": "appels",
        "note": "INSEE | page officielle",
    }
    with pytest.raises(InputError, match="pop_edition"):
        fact_words({"unit": "", "note": "rate_denominator_insee", "ref_year": 2024}, "fr")
    with pytest.raises(InputError, match="'de'"):
        fact_words(rate, "de")


def test_the_derived_official_share_carries_codes():
    from observatoire.outputs.facts import DERIVED, _derived
    from observatoire.outputs.words import fact_words

    records = {
        "x": {"key": "x", "value": 1, "source_id": "national_series", "edition": "2025-11", "row_id": "vff-1",
              "read_at_kind": "official", "text": "1", "available": True},
    }  # fmt: skip
    [record] = _derived(records).values()
    assert record["notebook"] == DERIVED and record["unit"] == "percent_of_cited_figures"
    assert fact_words(record, "fr")["unit"] == "% des chiffres publiés cités"
