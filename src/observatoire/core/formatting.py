"""Number, percent and change formatting for the letters, in French (the default) or English.

Every number a reader sees (prose, tables, chart axes) goes through this module, so the letter's typography is
decided once. Each function takes ``lang`` (``"fr"`` or ``"en"``, see :data:`LANGUAGES`); the English letter
writes "1,234", "12.3%" and "+0.7%" (CLDR ``en_GB`` grouping, no space before ``%``), with the same rounding and
minus sign as the French one. In French: thousands separated by U+202F (narrow no-break space, as the Imprimerie nationale and CLDR ``fr``
write them), a decimal comma, U+202F before ``%``, U+2212 (the true minus sign, not a hyphen) for negatives and an
explicit ``+`` on positive changes, so that a rise and a fall never look alike.

Rounding is done here, not by babel: babel rounds half to even on the binary float, while French statistical
publications round half away from zero on the decimal figure (9,85 -> 9,9). Each value is therefore converted
through its shortest ``repr`` to :class:`decimal.Decimal`, rounded half away from zero, then handed to babel's
``fr_FR`` pattern for grouping. A result that rounds to zero is printed without sign ("0,0", never "−0,0").

A missing value (None, NaN, ``pd.NA``) is printed as :data:`NOT_AVAILABLE`: missing is missing, never zero.
An infinite value is a bug upstream (a division by zero) and raises ``ValueError`` rather than print "∞".
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

#: French month names (dates are written "novembre 2025", "25 novembre 2024").
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

#: English month names (the English letter's date: "November 2025").
MONTHS_EN = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

__all__ = [
    "numbers_kept_together",
    "NOT_AVAILABLE",
    "NNBSP",
    "NBSP",
    "MINUS",
    "KINDS",
    "is_missing",
    "format_number",
    "format_percent",
    "format_change",
    "format_rate",
    "format_signed",
    "format_interval",
    "format_p_value",
    "format_date",
    "format_value",
    "not_available",
    "LANGUAGES",
]

#: Text printed in place of a missing figure (French letters).
NOT_AVAILABLE = "donnée non disponible"
#: The languages a letter can be written in, and the text printed in place of a missing figure in each.
NOT_AVAILABLE_IN = {"fr": NOT_AVAILABLE, "en": "not available"}
LANGUAGES = tuple(NOT_AVAILABLE_IN)
#: U+202F narrow no-break space: thousands separator and space before ``%`` (and before ``;``).
NNBSP = "\u202f"
#: U+00A0 no-break space: the space before ``:`` in French.
NBSP = "\u00a0"
#: U+2212 minus sign.
MINUS = "\u2212"
#: The kinds of value :func:`format_value` (and the facts and tables modules) know.
KINDS = ("number", "percent", "change", "rate", "signed", "text")

_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
#: What separates a number from its ``%`` in each language.
_PERCENT = {"fr": NNBSP + "%", "en": "%"}
_SPACES = ("\u00a0", "\u202f", " ")


def not_available(lang: str = "fr") -> str:
    """The text printed in place of a missing figure in ``lang`` ("donnée non disponible", "not available").

    Raises
    ------
    ValueError
        For a language other than those of :data:`LANGUAGES`.
    """
    return NOT_AVAILABLE_IN[_check_lang(lang)]


def _check_lang(lang: str) -> str:
    if lang not in _LOCALES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


def is_missing(value: object) -> bool:
    """Return True when ``value`` is None, NaN or ``pd.NA`` (a missing figure).

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    bool
        True for None, float NaN, numpy NaN, ``pd.NA`` and ``pd.NaT``; False otherwise.
    """
    if value is None:
        return True
    if isinstance(value, numbers.Number):
        try:
            return bool(math.isnan(value))  # type: ignore[arg-type]
        except TypeError:
            return False
    # pd.NA, pd.NaT and the like, without importing pandas here.
    return type(value).__name__ in {"NAType", "NaTType"}


def _to_decimal(value: object) -> Decimal:
    """Convert a finite real number to Decimal through its shortest repr (so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected a number, got {type(value).__name__}: {value!r}")
    elif isinstance(value, numbers.Integral):
        dec = Decimal(int(value))
    else:
        as_float = float(value)
        if math.isinf(as_float):
            raise ValueError(f"cannot format an infinite value ({value!r}): check the denominator upstream")
        dec = Decimal(repr(as_float))
    if not dec.is_finite():
        raise ValueError(f"cannot format a non-finite value ({value!r})")
    return dec


def _check_decimals(decimals: int) -> int:
    if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    return int(decimals)


def _round(dec: Decimal, decimals: int) -> Decimal:
    """Round half away from zero to ``decimals`` places; a result of zero loses its sign."""
    rounded = dec.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)
    return rounded


def _grouped(rounded: Decimal, decimals: int, lang: str = "fr") -> str:
    """Group and punctuate an already rounded Decimal the way of ``lang`` (French: U+202F and decimal comma)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(rounded, format=pattern, locale=_LOCALES[_check_lang(lang)])
    for space in _SPACES:
        text = text.replace(space, NNBSP)
    return text.replace("-", MINUS).replace("\u2013", MINUS)


def format_number(value: object, decimals: int = 0, lang: str = "fr") -> str:
    """Format a number the French way.

    Parameters
    ----------
    value : int, float, Decimal, numpy number or None
        The number. None, NaN and ``pd.NA`` are missing.
    decimals : int, default 0
        Decimal places shown (rounded half away from zero).
    lang : {"fr", "en"}, default "fr"
        The letter's language (every function of this module takes it): English gives ``"122,610"``.

    Returns
    -------
    str
        ``122610`` -> ``"122 610"`` (U+202F), ``9.8`` with ``decimals=1`` -> ``"9,8"``, ``-3`` -> ``"−3"``
        (U+2212); :data:`NOT_AVAILABLE` for a missing value.

    Raises
    ------
    ValueError
        For an infinite value or a negative ``decimals``.
    TypeError
        For a value that is not a number (a string, a bool).
    """
    decimals = _check_decimals(decimals)
    if is_missing(value):
        return not_available(lang)
    return _grouped(_round(_to_decimal(value), decimals), decimals, lang)


def format_rate(value: object, decimals: int = 1, lang: str = "fr") -> str:
    """Format a rate (per 1,000 inhabitants, say): :func:`format_number` with one decimal by default.

    Parameters
    ----------
    value : number or None
        The rate.
    decimals : int, default 1
        Decimal places shown.

    Returns
    -------
    str
        ``9.84`` -> ``"9,8"``; :data:`NOT_AVAILABLE` when missing.
    """
    return format_number(value, decimals, lang)


def format_percent(value: object, decimals: int = 0, lang: str = "fr") -> str:
    """Format a value already expressed in percent.

    Parameters
    ----------
    value : number or None
        The percentage (``85.3`` means 85,3 %), not a fraction.
    decimals : int, default 0
        Decimal places shown.

    Returns
    -------
    str
        ``85.3`` with ``decimals=1`` -> ``"85,3 %"`` with U+202F before ``%``; :data:`NOT_AVAILABLE` when missing.
    """
    decimals = _check_decimals(decimals)
    if is_missing(value):
        return not_available(lang)
    return _grouped(_round(_to_decimal(value), decimals), decimals, lang) + _PERCENT[lang]


def _signed(rounded: Decimal, decimals: int, lang: str = "fr") -> str:
    text = _grouped(rounded, decimals, lang)
    return "+" + text if rounded > 0 else text


def format_change(rel: object, decimals: int = 1, lang: str = "fr") -> str:
    """Format a relative change given as a fraction, with an explicit sign.

    Parameters
    ----------
    rel : number or None
        The relative change as a fraction: ``0.053`` is a rise of 5,3 %.
    decimals : int, default 1
        Decimal places of the percentage shown.

    Returns
    -------
    str
        ``0.053`` -> ``"+5,3 %"``, ``-0.021`` -> ``"−2,1 %"`` (U+2212), a change that rounds to zero ->
        ``"0,0 %"`` (no sign); :data:`NOT_AVAILABLE` when missing.
    """
    decimals = _check_decimals(decimals)
    if is_missing(rel):
        return not_available(lang)
    rounded = _round(_to_decimal(rel) * 100, decimals)
    return _signed(rounded, decimals, lang) + _PERCENT[lang]


def format_signed(value: object, decimals: int = 0, lang: str = "fr") -> str:
    """Format an absolute difference with an explicit sign (``+1 234``, ``−56``).

    Parameters
    ----------
    value : number or None
        The difference.
    decimals : int, default 0
        Decimal places shown.

    Returns
    -------
    str
        ``1234`` -> ``"+1 234"``, ``-56`` -> ``"−56"``, ``0`` -> ``"0"``; :data:`NOT_AVAILABLE` when missing.
    """
    decimals = _check_decimals(decimals)
    if is_missing(value):
        return not_available(lang)
    return _signed(_round(_to_decimal(value), decimals), decimals, lang)


def format_value(value: object, kind: str = "number", decimals: int = 0, lang: str = "fr") -> str:
    """Format ``value`` according to its kind (the dispatcher used by facts and tables).

    Parameters
    ----------
    value : number, str or None
        The value.
    kind : {"number", "percent", "change", "rate", "signed", "text"}
        ``percent`` expects a value in percent, ``change`` a fraction, ``text`` any value (printed with ``str``).
    decimals : int, default 0
        Decimal places shown (ignored for ``text``).

    Returns
    -------
    str
        The formatted value, or :data:`NOT_AVAILABLE` when missing.
    """
    if kind == "text":
        return not_available(lang) if is_missing(value) else str(value)
    formatters = {
        "number": format_number,
        "rate": format_rate,
        "percent": format_percent,
        "change": format_change,
        "signed": format_signed,
    }
    try:
        formatter = formatters[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}") from None
    return formatter(value, decimals, lang)


def format_interval(
    low: object, high: object, decimals: int = 1, kind: str = "number", lang: str = "fr"
) -> str:
    """Format a confidence interval the French way: ``[9,1 ; 10,4]``.

    Parameters
    ----------
    low, high : number or None
        The bounds.
    decimals : int, default 1
        Decimal places of each bound.
    kind : str, default "number"
        How each bound is formatted (see :func:`format_value`); ``"change"`` gives ``[+4,1 % ; +6,3 %]``.

    Returns
    -------
    str
        ``"[9,1 ; 10,4]"`` with U+202F before the semicolon (French typography); :data:`NOT_AVAILABLE` when a
        bound is missing.
    """
    if is_missing(low) or is_missing(high):
        return not_available(lang)
    low_text, high_text = format_value(low, kind, decimals, lang), format_value(high, kind, decimals, lang)
    return f"[{low_text}{NNBSP}; {high_text}]" if lang == "fr" else f"[{low_text}; {high_text}]"


def format_p_value(p: object, threshold: float = 0.001, lang: str = "fr") -> str:
    """Format a p-value for a sentence: ``p < 0,001`` below the threshold, else ``p = 0,032``.

    Parameters
    ----------
    p : float or None
        The p-value, between 0 and 1.
    threshold : float, default 0.001
        Below it the value is given as an inequality, as is customary.

    Returns
    -------
    str
        ``"p < 0,001"``, ``"p = 0,03"`` (two significant figures, at least two decimals) or
        :data:`NOT_AVAILABLE` when missing.
    """
    if is_missing(p):
        return not_available(lang)
    value = float(p)  # type: ignore[arg-type]
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a p-value lies between 0 and 1, got {value!r}")
    if value < threshold:
        decimals = max(0, -Decimal(repr(threshold)).adjusted())
        return f"p{NBSP}<{NBSP}{format_number(threshold, decimals, lang)}"
    decimals = max(2, 1 - Decimal(repr(value)).adjusted()) if value > 0 else 2
    return f"p{NBSP}={NBSP}{format_number(value, decimals, lang)}"


_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0](?=\d{3}(?!\d))")


def numbers_kept_together(text: str) -> str:
    """``"pour 1 000 habitants"`` with a narrow no-break space between the digit groups, so that a number typed
    by an author with a plain space is never broken across two lines (captions, titles, notes)."""
    return _GROUP_SPACE.sub(NNBSP, text)


def format_date(date: object, day: bool = True, lang: str = "fr") -> str:
    """A date of a catalogue or series record in words, at the precision the record gives.

    Parameters
    ----------
    date : str
        ``"YYYY"``, ``"YYYY-MM"`` or ``"YYYY-MM-DD"``.
    day : bool, default True
        False drops the day ("octobre 2023"), for "publiée en ...".
    lang : {"fr", "en"}, default "fr"
        English writes "26 January 2025", "October 2023".

    Returns
    -------
    str
        ``"26 janvier 2025"`` (``"1er janvier 2025"`` for the first), ``"octobre 2025"``, ``"2022"``;
        "donnée non disponible" (in ``lang``) when missing. A timestamp (``"2025-01-15T10:00:00"``) is read to
        the day. The one date formatting of the project: every module formats dates with it. In English: "1
        January 2025", "October 2025".

    Examples
    --------
    >>> format_date("2025-01-26")
    '26 janvier 2025'
    >>> format_date("2025-02-01")
    '1er février 2025'
    >>> format_date("2023-10-11", day=False)
    'octobre 2023'
    """
    if is_missing(date) or not str(date).strip():
        return not_available(lang)
    parts = str(date).strip()[:10].split("-")
    if len(parts) == 1:
        return parts[0]
    name = (MONTHS_FR if _check_lang(lang) == "fr" else MONTHS_EN)[int(parts[1]) - 1]
    month = f"{name if lang == 'fr' else name.capitalize()} {parts[0]}"
    if not (day and len(parts) == 3):
        return month
    return f"{'1er' if lang == 'fr' and int(parts[2]) == 1 else int(parts[2])} {month}"


def parse_format(spec: str) -> tuple[str, int]:
    """``"percent:1"`` -> ``("percent", 1)``; ``"text"`` and ``"year"`` take no decimals."""
    kind, _, decimals = spec.partition(":")
    kind = kind.strip()
    if kind in ("text", "year"):
        return kind, 0
    if kind not in KINDS:
        raise ValueError(
            f"unknown table format {spec!r}; expected number|percent|change|rate|signed[:decimals],"
            " text or year"
        )
    try:
        n = int(decimals) if decimals else (1 if kind in ("rate", "change") else 0)
    except ValueError:
        raise ValueError(f"bad decimals in table format {spec!r}") from None
    if n < 0:
        raise ValueError(f"bad decimals in table format {spec!r}")
    return kind, n
