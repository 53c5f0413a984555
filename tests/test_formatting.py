"""French typography: exact strings, with U+202F, U+2212 and decimal commas spelled out."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from observatoire.core.formatting import (
    MINUS,
    NNBSP,
    NOT_AVAILABLE,
    format_change,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_rate,
    format_signed,
    format_value,
    is_missing,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (122610, 0, "122\u202f610"),
        (9.8, 1, "9,8"),
        (1234567.891, 2, "1\u202f234\u202f567,89"),
        (999, 0, "999"),
        (1000, 0, "1\u202f000"),
        (-3, 0, "\u22123"),
        (-12345.6, 1, "\u221212\u202f345,6"),
        (0, 1, "0,0"),
        (np.int64(42), 0, "42"),
        (np.float32(2.5), 1, "2,5"),
        (Decimal("1.25"), 1, "1,3"),
    ],
)
def test_format_number_exact(value, decimals, expected):
    assert format_number(value, decimals) == expected


def test_rounding_is_half_away_from_zero_on_the_decimal_figure():
    # babel alone rounds half to even on the binary float: 2.675 -> 2,67 and 9.85 -> 9,8.
    assert format_number(2.675, 2) == "2,68"
    assert format_rate(9.85) == "9,9"
    assert format_number(0.5) == "1"
    assert format_number(-0.5) == "\u22121"


def test_negative_zero_has_no_sign():
    assert format_number(-0.04, 1) == "0,0"
    assert format_change(-0.0004) == f"0,0{NNBSP}%"
    assert format_signed(-0.2) == "0"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, Decimal("NaN")])
def test_missing_values_say_so(missing):
    assert is_missing(missing)
    for formatter in (format_number, format_percent, format_change, format_rate, format_signed):
        assert formatter(missing) == NOT_AVAILABLE
    assert NOT_AVAILABLE == "donnée non disponible"


def test_infinite_and_non_numbers_are_refused():
    with pytest.raises(ValueError, match="infinite"):
        format_number(math.inf)
    with pytest.raises(TypeError):
        format_number("12")
    with pytest.raises(TypeError):
        format_number(True)
    with pytest.raises(ValueError):
        format_number(1, -1)


def test_percent_has_narrow_space_before_sign():
    assert format_percent(85.3, 1) == "85,3\u202f%"
    assert format_percent(85.3) == "85\u202f%"
    assert format_percent(-1.25, 1) == "\u22121,3\u202f%"


def test_change_signs_and_unicode_minus():
    assert format_change(0.053) == "+5,3\u202f%"
    assert format_change(-0.021) == "\u22122,1\u202f%"
    assert format_change(0.0) == "0,0\u202f%"
    assert format_change(12.5, 0) == "+1\u202f250\u202f%"
    # Computed in decimal, not binary: 0.0565 * 100 is 5.6499999... as a float.
    assert format_change(0.0565) == "+5,7\u202f%"
    assert "-" not in format_change(-0.5) and MINUS in format_change(-0.5)


def test_signed_and_value_dispatch():
    assert format_signed(1234) == "+1\u202f234"
    assert format_signed(-56) == "\u221256"
    assert format_value(0.1, "change", 1) == "+10,0\u202f%"
    assert format_value("texte", "text") == "texte"
    assert format_value(None, "text") == NOT_AVAILABLE
    with pytest.raises(ValueError, match="unknown kind"):
        format_value(1, "money")


def test_interval_and_p_value():
    assert format_interval(9.1, 10.4) == "[9,1\u202f; 10,4]"
    assert format_interval(0.041, 0.063, 1, "change") == "[+4,1\u202f%\u202f; +6,3\u202f%]"
    assert format_interval(None, 1) == NOT_AVAILABLE
    assert format_p_value(0.0001) == "p\u00a0<\u00a00,001"
    assert format_p_value(0.0321) == "p\u00a0=\u00a00,032"
    assert format_p_value(0.42) == "p\u00a0=\u00a00,42"
    with pytest.raises(ValueError):
        format_p_value(1.5)
