"""Département and région codes: one spelling everywhere, and the metropolitan / overseas split.

Producers spell the same département differently: SSMSI's 2024 edition writes ``"01"``, its June 2025 re-release
``"1"``, INSEE's workbooks store overseas codes as numbers (``971.0``) and Corsica as ``"2A"``/``"2B"``. A join on
unnormalised codes silently loses rows, so every loader passes codes through :func:`normalise_departement` (or
its vectorised twin :func:`normalise_departements`), which also rejects any code that is not one of the 101
départements of the current geography (COG 2024): an unknown code is bad input, never a new département.

The list of codes is written here rather than read from the reference file so that the reference file itself can
be checked against it (``tests/test_geography.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from observatoire.core.errors import InputError
from observatoire.data.territory_codes import (  # the code lists live beside the parameter parsing (no pandas)
    DEPARTEMENTS as DEPARTEMENTS,
)
from observatoire.data.territory_codes import (
    METROPOLITAN as METROPOLITAN,
)
from observatoire.data.territory_codes import (
    OVERSEAS as OVERSEAS,
)
from observatoire.data.territory_codes import (
    OVERSEAS_REGIONS as OVERSEAS_REGIONS,
)
from observatoire.data.territory_codes import (
    REGIONS as REGIONS,
)

#: The région of each département (COG 2024, as in the geography reference ``departements_regions_ref.csv``,
#: whose loader checks that it agrees): a file that places a département in another région is refused.
REGION_OF: dict[str, str] = {
    "01": "84",
    "02": "32",
    "03": "84",
    "04": "93",
    "05": "93",
    "06": "93",
    "07": "84",
    "08": "44",
    "09": "76",
    "10": "44",
    "11": "76",
    "12": "76",
    "13": "93",
    "14": "28",
    "15": "84",
    "16": "75",
    "17": "75",
    "18": "24",
    "19": "75",
    "21": "27",
    "22": "53",
    "23": "75",
    "24": "75",
    "25": "27",
    "26": "84",
    "27": "28",
    "28": "24",
    "29": "53",
    "2A": "94",
    "2B": "94",
    "30": "76",
    "31": "76",
    "32": "76",
    "33": "75",
    "34": "76",
    "35": "53",
    "36": "24",
    "37": "24",
    "38": "84",
    "39": "27",
    "40": "75",
    "41": "24",
    "42": "84",
    "43": "84",
    "44": "52",
    "45": "24",
    "46": "76",
    "47": "75",
    "48": "76",
    "49": "52",
    "50": "28",
    "51": "44",
    "52": "44",
    "53": "52",
    "54": "44",
    "55": "44",
    "56": "53",
    "57": "44",
    "58": "27",
    "59": "32",
    "60": "32",
    "61": "28",
    "62": "32",
    "63": "84",
    "64": "75",
    "65": "76",
    "66": "76",
    "67": "44",
    "68": "44",
    "69": "84",
    "70": "27",
    "71": "27",
    "72": "52",
    "73": "84",
    "74": "84",
    "75": "11",
    "76": "28",
    "77": "11",
    "78": "11",
    "79": "75",
    "80": "32",
    "81": "76",
    "82": "76",
    "83": "93",
    "84": "93",
    "85": "52",
    "86": "75",
    "87": "75",
    "88": "44",
    "89": "27",
    "90": "27",
    "91": "11",
    "92": "11",
    "93": "11",
    "94": "11",
    "95": "11",
    "971": "01",
    "972": "02",
    "973": "03",
    "974": "04",
    "976": "06",
}

_DEPARTEMENT_SET = frozenset(DEPARTEMENTS)
_REGION_SET = frozenset(REGIONS)
_NUMERIC = re.compile(r"^[0-9]+(\.0+)?$")


def _canonical(raw: object, width: int) -> str | None:
    """Return the padded, upper-case spelling of a code, or None when it cannot be a code at all."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    if isinstance(raw, (int, np.integer)) and not isinstance(raw, bool):
        text = str(int(raw))
    elif isinstance(raw, (float, np.floating)):
        if not float(raw).is_integer():
            return None
        text = str(int(raw))
    else:
        text = str(raw).strip().upper()
    if not text:
        return None
    if _NUMERIC.match(text):
        text = text.split(".")[0]
        return text.zfill(width) if len(text) < width else text
    return text


def normalise_departement(code: object, file: str | Path = "<value>", place: str = "value") -> str:
    """Return the canonical spelling of a département code.

    ``1``, ``"1"``, ``"01"`` and ``1.0`` give ``"01"``; ``"2a"`` gives ``"2A"``; ``971.0`` gives ``"971"``.

    Parameters
    ----------
    code : object
        The code as read (str, int or float).
    file, place : str
        Where the code was read, for the error message.

    Returns
    -------
    str
        One of :data:`DEPARTEMENTS`.

    Raises
    ------
    InputError
        When the code is not one of the 101 départements.
    """
    text = _canonical(code, 2)
    if text not in _DEPARTEMENT_SET:
        raise InputError(file, place, f"unknown département code {code!r} (not one of the 101 départements)")
    return text


def normalise_region(code: object, file: str | Path = "<value>", place: str = "value") -> str:
    """Return the canonical two-character spelling of a région code (``"1"`` gives ``"01"``).

    Raises
    ------
    InputError
        When the code is not one of the 18 régions.
    """
    text = _canonical(code, 2)
    if text not in _REGION_SET:
        raise InputError(file, place, f"unknown région code {code!r} (not one of the 18 régions)")
    return text


def _normalise_many(
    codes: Iterable[object], width: int, known: frozenset[str]
) -> tuple[pd.Series, np.ndarray]:
    values = list(codes)
    cache: dict[object, str | None] = {}
    out = []
    for value in values:
        key = (type(value).__name__, str(value))
        if key not in cache:
            text = _canonical(value, width)
            cache[key] = text if text in known else None
        out.append(cache[key])
    series = pd.Series(out, dtype=object)
    bad = series.isna().to_numpy()
    return series, bad


def normalise_departements(
    codes: Iterable[object],
    file: str | Path = "<values>",
    lines: Iterable[int] | None = None,
    column: str = "code",
) -> pd.Series:
    """Vectorised :func:`normalise_departement`; the error names the first bad code's line.

    Parameters
    ----------
    codes : iterable
        Codes as read.
    file : str or Path
        The file they come from.
    lines : iterable of int, optional
        Physical line number of each code in ``file`` (for the error message).
    column : str
        The column they come from.

    Returns
    -------
    pandas.Series
        Canonical codes (str), positionally aligned with ``codes``.
    """
    series, bad = _normalise_many(codes, 2, _DEPARTEMENT_SET)
    if bad.any():
        _raise_first(codes, bad, file, lines, column, "département", 101)
    return series.astype(str)


def normalise_regions(
    codes: Iterable[object],
    file: str | Path = "<values>",
    lines: Iterable[int] | None = None,
    column: str = "code",
) -> pd.Series:
    """Vectorised :func:`normalise_region`; the error names the first bad code's line."""
    series, bad = _normalise_many(codes, 2, _REGION_SET)
    if bad.any():
        _raise_first(codes, bad, file, lines, column, "région", 18)
    return series.astype(str)


def _raise_first(codes, bad, file, lines, column, kind, count) -> None:
    position = int(np.flatnonzero(bad)[0])
    value = list(codes)[position]
    where = f"column '{column}'"
    if lines is not None:
        where = f"line {list(lines)[position]}, {where}"
    raise InputError(file, where, f"unknown {kind} code {value!r} (not one of the {count} {kind}s)")


def is_overseas(code: object) -> bool:
    """Return True for an overseas département (971-976).

    Département and région codes overlap ("01" is Ain and the Guadeloupe région): use
    :func:`is_overseas_region` for régions.

    Raises
    ------
    InputError
        When the code is not a known département.
    """
    return normalise_departement(code) in OVERSEAS


def is_overseas_region(code: object) -> bool:
    """Return True for an overseas région (01-06); raises InputError for an unknown région code."""
    return normalise_region(code) in OVERSEAS_REGIONS


def territory(code: str) -> str:
    """Return ``"metropolitan"`` or ``"overseas"`` for a canonical département code.

    Raises
    ------
    InputError
        When the code is not a known département.
    """
    code = normalise_departement(code)
    return "overseas" if code in OVERSEAS else "metropolitan"


def check_regions(
    departements: pd.Series,
    regions: pd.Series,
    file: str | Path,
    column: str,
    what: str = "the geography reference",
) -> None:
    """Refuse a row whose région is not its département's (:data:`REGION_OF`).

    ``departements`` and ``regions`` are canonical codes indexed by physical line.

    Raises
    ------
    InputError
        ``line N, column 'x'``: the région, the département and the région the reference gives it.
    """
    expected = departements.map(REGION_OF)
    wrong = (expected != regions) & expected.notna()
    if wrong.any():
        line = wrong.index[int(np.flatnonzero(wrong.to_numpy())[0])]
        raise InputError(
            file,
            f"line {line}, column '{column}'",
            f"région {regions.loc[line]} contradicts {what}: département {departements.loc[line]} is in région "
            f"{expected.loc[line]}",
        )
