"""The facts file: every number the prose of a letter cites, with its source and edition.

Why. A number typed by hand into the text of a letter is a number nobody re-checks when the data are revised.
Here a notebook *declares* each number it wants the letter to cite (``facts.add("victimes_2023", 122610, ...)``);
the number is formatted once, the French way, and written with its source, the edition of that source, its
reference year and its unit to ``facts/<notebook>.json`` (the unit and the note are codes, worded in
``publications/_shared/outputs.yml``). The publication then cites it through Quarto's ``{{< var key >}}``: change
the data, rebuild, and the prose follows. ``diff`` compares facts between builds.

A missing value is recorded as missing (``value: null``, ``available: false``, text "donnée non disponible") and
never replaced by a neighbouring year. The sentences that cite a fact are written in the publication's templates
(:mod:`observatoire.outputs.templates`), with a branch for the missing case; a fact carries what they need as
``details`` (the previous value of a change, the test and its p-value, the qualifier of a published bound ...),
never words.

File format (``facts/<notebook>.json``, sorted keys, UTF-8, two-space indent, trailing newline)::

    {"facts": {"<key>": {"available": true, "decimals": 0, "edition": "2024", "key": "<key>",
                         "kind": "number", "label": null, "note": null, "notebook": "<notebook>",
                         "ref_year": 2023, "source_id": "ssmsi_dep_2024", "text": "122 610",
                         "unit": "victims", "value": 122610}},
     "notebook": "<notebook>", "theme": "annual", "year": 2024}
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from observatoire.core.errors import InputError
from observatoire.core.formatting import KINDS, NOT_AVAILABLE, format_value, is_missing, not_available

__all__ = ["Facts", "load_facts", "to_variables", "KEY_PATTERN"]

#: Allowed fact keys (they become Quarto variable names).
KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
_NOTEBOOK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: The ``notebook`` of a fact derived from every notebook's facts (no notebook wrote it).
DERIVED = "(derived)"


def _normalise_value(key: str, value: object, kind: str) -> int | float | str | None:
    """Return a JSON-ready value: int, float, str (kind text) or None (missing)."""
    if is_missing(value):
        return None
    if kind == "text":
        if not isinstance(value, str):
            raise TypeError(f"fact {key!r}: kind 'text' needs a str value, got {type(value).__name__}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise TypeError(f"fact {key!r}: kind {kind!r} needs a number, got {type(value).__name__}: {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    if math.isinf(number):
        raise ValueError(f"fact {key!r}: infinite value (check the denominator)")
    return number


_RECORD_FIELDS = frozenset(
    (
        "key",
        "value",
        "text",
        "label",
        "unit",
        "kind",
        "decimals",
        "source_id",
        "edition",
        "ref_year",
    )
    + ("note", "notebook", "available")
)


def _details(key: str, details: Mapping[str, object] | None) -> dict[str, object]:
    """Check the detail fields of a fact: names that do not clash, JSON scalars only (NaN becomes None)."""
    out: dict[str, object] = {}
    for name, value in (details or {}).items():
        if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
            value = value.item()
        if not isinstance(name, str) or not KEY_PATTERN.match(name) or name in _RECORD_FIELDS:
            raise ValueError(
                f"fact {key!r}: detail name {name!r} must match {KEY_PATTERN.pattern} and not be a field"
            )
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)
            if math.isinf(value):
                raise ValueError(f"fact {key!r}: detail {name!r} is infinite")
        elif value is not None and not isinstance(value, bool | str):
            raise TypeError(
                f"fact {key!r}: detail {name!r} must be None, bool, a number or str, got {value!r}"
            )
        out[name] = value
    return {name: out[name] for name in sorted(out)}


class Facts:
    """The facts one notebook declares for one edition.

    Parameters
    ----------
    notebook : str
        Notebook name (file stem of ``facts/<notebook>.json``).
    theme : str
        Theme of the edition (e.g. ``"annual"``).
    year : int
        Year of the edition; the default ``{year}`` of sentences.
    """

    def __init__(self, notebook: str, theme: str, year: int) -> None:
        if not isinstance(notebook, str) or not _NOTEBOOK.match(notebook):
            raise ValueError(f"Facts: notebook name {notebook!r} must match {_NOTEBOOK.pattern}")
        if not isinstance(theme, str) or not theme.strip():
            raise ValueError(f"Facts: theme must be a non-empty string, got {theme!r}")
        self.notebook = notebook
        self.theme = theme
        self.year = int(year)
        self._records: dict[str, dict] = {}

    def __repr__(self) -> str:
        return f"Facts(notebook={self.notebook!r}, theme={self.theme!r}, year={self.year}, n={len(self)})"

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __getitem__(self, key: str) -> dict:
        return dict(self._records[key])

    @property
    def records(self) -> dict[str, dict]:
        """A copy of the records, by key (sorted)."""
        return {k: dict(self._records[k]) for k in sorted(self._records)}

    def text(self, key: str) -> str:
        """The formatted text of fact ``key``."""
        return self._records[key]["text"]

    def add(
        self,
        key: str,
        value: object,
        *,
        unit: str,
        source_id: str,
        edition: str,
        kind: str = "number",
        decimals: int = 0,
        ref_year: int | None = None,
        note: str | None = None,
        label: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> str:
        """Declare one fact and return its formatted text.

        Parameters
        ----------
        key : str
            Variable name: ``[a-z0-9_]+``, unique in the edition.
        value : number, str or None
            The value (a fraction for ``kind="change"``, a percentage for ``"percent"``, a str for ``"text"``).
            None, NaN and ``pd.NA`` record a missing fact (text :data:`~observatoire.core.formatting.NOT_AVAILABLE`).
        unit : str
            Unit of the value, a code (``"victims"``, ``"per_1000_inhabitants"``, ``"percent"`` ...) worded in the
        section ``fact_units`` of ``publications/_shared/outputs.yml`` (:func:`observatoire.outputs.words.fact_words`);
        ``""`` for none.
        source_id : str
            Id of the source in ``data/sources.yml`` (required).
        edition : str
            Edition of that source (required; an int is accepted and stored as str).
        kind : {"number", "percent", "change", "rate", "signed", "text"}, default "number"
            How the value is formatted.
        decimals : int, default 0
            Decimal places shown.
        ref_year : int, optional
            Year the value refers to (default: the edition's year).
        note : str, optional
            Note for the reader of the facts file (definition, caveat): a code of the section ``fact_notes`` of
            ``publications/_shared/outputs.yml``, its placeholders filled from the fact's fields and details.
        label : str, optional
            Short name of the figure (from the indicator registry), for tables of facts.
        details : mapping, optional
            Further values the letter's templates need to word the fact, with no words in them: the previous
            year's value and year of a change, the p-value, interval and model of a test or trend, a
            qualifier ("plus de") ... Keys ``[a-z0-9_]+``, not one of the record's own fields; values None,
            bool, int, float or str. They become fields of the record (``f.<key>.<detail>`` in a template).

        Returns
        -------
        str
            The formatted text (what ``{{< var key >}}`` prints).

        Raises
        ------
        ValueError
            For a bad or duplicate key, an empty source_id/edition/unit, an unknown kind or a bad template.
        TypeError
            For a value of the wrong type for its kind.
        """
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise ValueError(f"fact key {key!r} must match {KEY_PATTERN.pattern}")
        if key in self._records:
            raise ValueError(f"fact {key!r} defined twice in notebook {self.notebook!r}")
        if kind not in KINDS:
            raise ValueError(f"fact {key!r}: kind must be one of {KINDS}, got {kind!r}")
        if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral) or decimals < 0:
            raise ValueError(f"fact {key!r}: decimals must be a non-negative integer, got {decimals!r}")
        if not isinstance(source_id, str) or not source_id.strip():
            raise ValueError(f"fact {key!r}: source_id is required")
        if isinstance(edition, int) and not isinstance(edition, bool):
            edition = str(edition)
        if not isinstance(edition, str) or not edition.strip():
            raise ValueError(f"fact {key!r}: edition is required (a non-empty string)")
        if not isinstance(unit, str):
            raise ValueError(f"fact {key!r}: unit must be a string")
        if ref_year is not None:
            ref_year = int(ref_year)

        extra = _details(key, details)
        clean = _normalise_value(key, value, kind)
        available = clean is not None
        text = format_value(clean, kind, int(decimals)) if available else NOT_AVAILABLE
        self._records[key] = {
            "key": key,
            "value": clean,
            "text": text,
            "label": label,
            "unit": unit,
            "kind": kind,
            "decimals": int(decimals),
            "source_id": source_id.strip(),
            "edition": edition.strip(),
            "ref_year": ref_year,
            "note": note,
            "notebook": self.notebook,
            "available": available,
            **extra,
        }
        return text

    def to_json(self) -> str:
        """The facts file's text (sorted keys, UTF-8 characters kept, trailing newline)."""
        payload = {"facts": self.records, "notebook": self.notebook, "theme": self.theme, "year": self.year}
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    def save(self, out_dir: str | Path) -> Path:
        """Write ``out_dir/facts/<notebook>.json`` (atomically) and return its path.

        Parameters
        ----------
        out_dir : str or Path
            The edition's output folder.

        Returns
        -------
        Path
            The file written.
        """
        folder = Path(out_dir) / "facts"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.notebook}.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path


def _read_file(path: Path) -> dict[str, dict]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise InputError(path, "whole file", "not UTF-8 text") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("facts"), dict):
        raise InputError(path, "whole file", "a facts file is an object with a 'facts' mapping")
    records = payload["facts"]
    for key, record in records.items():
        if not KEY_PATTERN.match(key):
            raise InputError(path, f"key '{key}'", f"fact keys must match {KEY_PATTERN.pattern}")
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(path, f"key '{key}'", "a fact record is an object with a 'text' string")
    return records


def load_facts(out_dir: str | Path) -> dict[str, dict]:
    """Merge every ``out_dir/facts/*.json`` of an edition.

    Parameters
    ----------
    out_dir : str or Path
        The edition's output folder.

    Returns
    -------
    dict
        ``{key: record}`` sorted by key (an empty folder gives an empty dict), with the facts derived from all
        of them (see :func:`_derived`).

    Raises
    ------
    InputError
        When the facts folder is absent, a file is not a valid facts file, or a key is defined in two files
        (``place`` is ``"key '<k>'"``, the rule names the other file).
    """
    folder = Path(out_dir) / "facts"
    if not folder.is_dir():
        raise InputError(folder, "whole folder", "no facts folder: run the edition's notebooks first")
    merged: dict[str, dict] = {}
    origin: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):
        for key, record in _read_file(path).items():
            if key in merged:
                raise InputError(path, f"key '{key}'", f"fact defined twice (also in {origin[key].name})")
            merged[key] = record
            origin[key] = path
    merged.update(_derived(merged))
    return {k: merged[k] for k in sorted(merged)}


def _derived(records: dict[str, dict]) -> dict[str, dict]:
    """Facts computed from every notebook's facts of an edition (no notebook sees the others' facts): the share
    of the published figures the edition cites that were read on official pages
    (:func:`observatoire.analysis.indicators.published.official_share`), key ``sources_part_officielle``."""
    from observatoire.analysis.indicators.published import (  # lazy: facts files read without pandas
        OFFICIAL_SHARE_KEY,
        official_share,
    )

    share = official_share(records)
    if share is None or OFFICIAL_SHARE_KEY in records:
        return {}
    facts = Facts("sources", "edition", 2000)
    facts.add(
        OFFICIAL_SHARE_KEY,
        share["share"],
        kind="percent",
        unit="percent_of_cited_figures",  # codes, worded in publications/_shared/outputs.yml
        source_id=share["source_id"],
        edition=share["edition"],
        note="official_share",
        details={k: share[k] for k in ("n_cited", "n_official", "n_relay", "rows")},
    )
    record = facts.records[OFFICIAL_SHARE_KEY]
    record["notebook"] = DERIVED
    return {OFFICIAL_SHARE_KEY: record}


def text_in(record: Mapping, lang: str = "fr") -> str:
    """A fact as the letter in ``lang`` prints it: its value formatted in that language (a text fact as is,
    a missing one as "donnée non disponible" / "not available")."""
    if lang == "fr" or "value" not in record:
        return str(record["text"])
    if not record.get("available", record.get("value") is not None):
        return not_available(lang)
    kind = record.get("kind", "number")
    if kind == "text":
        return str(record["value"])
    return format_value(record["value"], kind, int(record.get("decimals") or 0), lang)


def to_variables(facts: Mapping[str, dict] | Facts, lang: str = "fr") -> dict[str, str]:
    """Flatten facts into Quarto variables: ``{key: text}`` (what ``{{< var key >}}`` prints).

    Parameters
    ----------
    facts : mapping or Facts
        Records by key, as :func:`load_facts` returns them (or a :class:`Facts`).
    lang : {"fr", "en"}, default "fr"
        The letter's language: the values are written the way of that language (the facts are the same).

    Returns
    -------
    dict of str to str
        Sorted by key; every value a string.
    """
    records = facts.records if isinstance(facts, Facts) else facts
    variables: dict[str, str] = {}
    for key, record in records.items():
        variables[key] = text_in(record, lang)
    return {k: variables[k] for k in sorted(variables)}
