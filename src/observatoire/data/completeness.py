"""Completeness of a source edition: what it must contain, declared in the catalogue and checked at every load.

Why: a file can be well formed and still incomplete. A département's rows removed, the latest year missing, an
indicator dropped, a file cut exactly at a line break: every row left is valid, so the loaders' rules accept it,
and the letter then shows lower national totals presented as "revisions", or "donnée non disponible" for every
headline. The catalogue therefore declares, for each source edition, what its file holds (``completeness`` in
``data/sources.yml``)::

    completeness:
      rows: 15453                      # rows of the loaded table
      years: [2016, ..., 2024]         # every year present
      indicators: [...]                # every indicator present
      units: ["01", ..., "976"]        # every geographic unit present
      previous: ssmsi_dep_2023         # the edition this one follows (optional)
      total_tolerance: {"*": 0.02, "Violences sexuelles": 0.4}   # largest move of a national total against it

:func:`coverage_of` computes the first four from a loaded table; ``register`` writes them from the new file (never
copied from the previous entry) and refuses an edition that drops a unit, an indicator or a year of the edition it
follows, or whose national totals move beyond the declared tolerance. Every load checks the table against its
declaration (:func:`check_declared`), so a release stops too, with one :class:`~observatoire.core.errors.InputError`
naming what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from observatoire.core.errors import InputError

#: The declared fields, in the order ``register`` writes them.
FIELDS: tuple[str, ...] = ("rows", "years", "indicators", "units")
#: Names shown in messages.
_WHAT = {"years": "year", "indicators": "indicator", "units": "geographic unit"}
#: How many missing items a message lists before "...".
_SHOWN = 8


def _unit_column(table: pd.DataFrame) -> str | None:
    for column in ("geo_code", "code_departement"):
        if column in table.columns:
            return column
    return None


def coverage_of(table: pd.DataFrame) -> dict[str, Any]:
    """Compute what a loaded table holds: its row count, years, indicators and geographic units.

    Parameters
    ----------
    table : pandas.DataFrame
        A loader's table (harmonised, or the département reference).

    Returns
    -------
    dict
        ``rows`` (int) and, when the table has the column, ``years`` (sorted ints), ``indicators`` and ``units``
        (sorted strings).
    """
    coverage: dict[str, Any] = {"rows": int(len(table))}
    if "year" in table.columns:
        coverage["years"] = sorted(int(y) for y in pd.unique(table["year"]))
    if "indicator" in table.columns:
        coverage["indicators"] = sorted(str(i) for i in pd.unique(table["indicator"]))
    unit = _unit_column(table)
    if unit is not None:
        coverage["units"] = sorted(str(u) for u in pd.unique(table[unit]))
    return coverage


def _listed(items: Iterable[Any]) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" ... ({len(items)} in all)" if len(items) > _SHOWN else "")


def _missing(expected: Sequence[Any], found: Sequence[Any]) -> list[Any]:
    present = {str(v) for v in found}
    return [v for v in expected if str(v) not in present]


def check_declared(
    table: pd.DataFrame, declared: Mapping[str, Any] | None, file: str | Path, source_id: str
) -> None:
    """Check a loaded table against the completeness its catalogue entry declares.

    Parameters
    ----------
    table : pandas.DataFrame
        The loader's table.
    declared : mapping or None
        The entry's ``completeness`` (None: nothing declared, nothing checked).
    file : str or Path
        The raw file, for the message.
    source_id : str
        For the message.

    Raises
    ------
    InputError
        ``whole file``, naming the missing years, indicators or units, or the row count against the declared one
        (a file cut at a line break, rows removed).
    """
    if not declared:
        return
    found = coverage_of(table)
    for name in ("units", "indicators", "years"):
        if name not in declared:
            continue
        missing = _missing(declared[name], found.get(name, []))
        if missing:
            raise InputError(
                file,
                "whole file",
                f"incomplete edition of '{source_id}': {_WHAT[name]}(s) {_listed(missing)} missing "
                "(declared in data/sources.yml, completeness)",
            )
        extra = _missing(found.get(name, []), declared[name])
        if extra:
            raise InputError(
                file,
                "whole file",
                f"{_WHAT[name]}(s) {_listed(extra)} not declared for '{source_id}' in data/sources.yml "
                "(completeness): review the entry",
            )
    rows = declared.get("rows")
    if rows is not None and int(rows) != found["rows"]:
        raise InputError(
            file,
            "whole file",
            f"{found['rows']} rows where data/sources.yml declares {int(rows)} for '{source_id}' "
            "(rows removed, or a file cut at a line break)",
        )


def national_totals(table: pd.DataFrame) -> pd.Series:
    """Sum ``value`` by indicator and year (every unit, sex and age group together), for edition comparisons."""
    if not {"indicator", "year", "value"} <= set(table.columns):
        return pd.Series(dtype=float)
    rows = table
    if "age_group" in rows.columns and (rows["age_group"] == "all").any():
        rows = rows[rows["age_group"] == "all"]
    if "sex" in rows.columns and (rows["sex"] == "total").any():
        rows = rows[rows["sex"] == "total"]
    return rows.groupby(["indicator", "year"], sort=True)["value"].sum()


def compare_editions(
    new: pd.DataFrame,
    previous: pd.DataFrame,
    file: str | Path,
    new_id: str,
    previous_id: str,
    tolerance: float | None,
    accepted: Iterable[str] = (),
) -> None:
    """Refuse a new edition that drops what the previous one had, or whose national totals move too far.

    Parameters
    ----------
    new, previous : pandas.DataFrame
        The two editions' tables.
    file : str or Path
        The new raw file, for the message.
    new_id, previous_id : str
        Their source ids.
    tolerance : float, mapping or None
        Largest relative change allowed between the two editions' national totals of an indicator for a year
        both cover: one number, or a mapping indicator -> number with ``"*"`` for the others (editions revise
        the past, some indicators much more than others). None: totals are not compared.
    accepted : iterable of str
        Items whose absence was reviewed and accepted (``"indicator:<name>"``, ``"year:<year>"``,
        ``"unit:<code>"``), e.g. an indicator renamed by a new nomenclature.

    Raises
    ------
    InputError
        ``whole file``, naming what is missing or the total that moved.
    """
    accepted = set(accepted)
    had, has = coverage_of(previous), coverage_of(new)
    for name, prefix in (("units", "unit"), ("indicators", "indicator"), ("years", "year")):
        missing = [
            v for v in _missing(had.get(name, []), has.get(name, [])) if f"{prefix}:{v}" not in accepted
        ]
        if missing:
            raise InputError(
                file,
                "whole file",
                f"incomplete edition: {_WHAT[name]}(s) {_listed(missing)} of '{previous_id}' missing from "
                f"'{new_id}' (if this is intended, accept it with --accept-missing {prefix}:{missing[0]})",
            )
    if tolerance is None:
        return
    old_totals, new_totals = national_totals(previous), national_totals(new)
    common = old_totals.index.intersection(new_totals.index)
    for key in common:
        old, now = float(old_totals[key]), float(new_totals[key])
        indicator, year = key
        allowed = (
            tolerance.get(indicator, tolerance.get("*")) if isinstance(tolerance, Mapping) else tolerance
        )
        if old == 0 or allowed is None:
            continue
        change = (now - old) / old
        if abs(change) > allowed:
            raise InputError(
                file,
                "whole file",
                f"national total of '{indicator}' in {year} moves by {change:+.1%} against '{previous_id}' "
                f"({old:g} -> {now:g}); the declared tolerance is {allowed:.0%} (rows removed?)",
            )


def _flow(values: Sequence[Any], indent: str, width: int = 110) -> list[str]:
    """A YAML flow list of JSON scalars (strings always double-quoted), wrapped at ``width``."""
    items = [json.dumps(v, ensure_ascii=False) for v in values]
    lines, current = [], "["
    for position, item in enumerate(items):
        piece = item + ("]" if position == len(items) - 1 else ",")
        if len(indent) + len(current) + len(piece) + 1 > width and current != "[":
            lines.append(current.rstrip())
            current = "  "
        current += piece + " "
    lines.append(current.rstrip() if items else "[]")
    return [lines[0]] + [indent + line for line in lines[1:]]


def to_yaml(declared: Mapping[str, Any], indent: str = "    ") -> str:
    """The ``completeness:`` block of a catalogue entry, every text quoted, lists one line per indicator.

    Parameters
    ----------
    declared : mapping
        As :func:`coverage_of` returns it, plus optional ``previous``, ``total_tolerance``, ``accepted_missing``.
    indent : str
        Indentation of the ``completeness:`` key.

    Returns
    -------
    str
        YAML lines ending with a newline; ``yaml.safe_load`` of them gives ``{"completeness": declared}``.
    """
    inner = indent + "  "
    lines = [f"{indent}completeness:"]
    for key, value in declared.items():
        if isinstance(value, Mapping):
            lines.append(f"{inner}{key}:")
            lines += [
                f"{inner}  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in value.items()
            ]
        elif isinstance(value, list) and key in ("indicators", "accepted_missing"):
            lines.append(f"{inner}{key}:")
            lines += [f"{inner}  - {json.dumps(v, ensure_ascii=False)}" for v in value]
        elif isinstance(value, list):
            flow = _flow(value, inner + "  ")
            lines.append(f"{inner}{key}: {flow[0]}")
            lines += flow[1:]
        else:
            lines.append(f"{inner}{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
