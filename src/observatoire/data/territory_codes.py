"""Territory codes (départements, régions) and the territorial letters' parameter, in pure Python.

Why apart from :mod:`observatoire.data.geography` (which normalises code columns with pandas): the declared themes
(:mod:`observatoire.data.themes`) check a ``territoire`` parameter and list the 119 territories when the command
line starts, and that must not load pandas or any data. :func:`parse` accepts the spellings a user types;
:func:`canonical` gives the one spelling of a build.
"""

from __future__ import annotations

#: The 96 metropolitan départements (COG 2024), in INSEE order.
METROPOLITAN: tuple[str, ...] = tuple(
    [f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)]
)
#: The five overseas départements (DROM). 975 (Saint-Pierre-et-Miquelon) is a collectivité, not a département.
OVERSEAS: tuple[str, ...] = ("971", "972", "973", "974", "976")
#: All 101 départements.
DEPARTEMENTS: tuple[str, ...] = METROPOLITAN + OVERSEAS
#: The 18 régions (COG 2024): 5 overseas (01-06) and 13 metropolitan.
REGIONS: tuple[str, ...] = (
    "01",
    "02",
    "03",
    "04",
    "06",
    "11",
    "24",
    "27",
    "28",
    "32",
    "44",
    "52",
    "53",
    "75",
    "76",
    "84",
    "93",
    "94",
)
OVERSEAS_REGIONS: tuple[str, ...] = ("01", "02", "03", "04", "06")

#: The parameter's prefixes: a région is always prefixed; a département may be.
REGION_PREFIX = "reg-"
DEPARTEMENT_PREFIX = "dep-"


# The territory parameter ---------------------------------------------------------------------------------------


def parse(value: object) -> tuple[str, str]:
    """``(level, code)`` of a territory parameter: ``"29"`` -> ``("departement", "29")``, ``"reg-53"`` -> région.

    Raises
    ------
    ValueError
        For a value that is not one of the 101 départements or 18 régions (the message lists the accepted forms).
    """
    text = str(value).strip()
    lowered = text.lower()
    if lowered.startswith(REGION_PREFIX):
        level, code = "region", text[len(REGION_PREFIX) :]
        known = REGIONS
    else:
        level, code = "departement", text[len(DEPARTEMENT_PREFIX) :] if lowered.startswith("dep-") else text
        known = DEPARTEMENTS
    code = code.upper()
    if code.isdigit() and len(code) == 1:  # YAML reads TERRITOIRE=01 as the number 1
        code = "0" + code
    if code not in known:
        raise ValueError(
            f"unknown territory {text!r}: a département code (01 ... 95, 2A, 2B, 971 ... 976, optionally "
            f"'dep-29') or a région as 'reg-' and its code (reg-11 ... reg-94, reg-01 ... reg-06)"
        )
    return level, code


def canonical(value: object) -> str:
    """The one spelling of a territory parameter: ``"29"``, ``"2A"``, ``"974"``, ``"reg-53"``."""
    level, code = parse(value)
    return code if level == "departement" else REGION_PREFIX + code


def all_territories() -> list[str]:
    """The 119 parameter values: the 101 départements, then the 18 régions (geography reference order)."""
    return list(DEPARTEMENTS) + [REGION_PREFIX + code for code in REGIONS]
