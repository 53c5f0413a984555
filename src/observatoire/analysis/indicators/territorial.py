"""The territorial letters: one département or one région, its series, its place among its peers, its région.

A territorial letter (theme ``territoire``) is built once per territory: the 101 départements and the 18 régions.
Everything a letter needs is computed here from the national tables, loaded once (parse cache), so one letter
costs a few hundred milliseconds of computation on top of the kernel.

Choices, and why:

* **Territory parameter.** A département is its code as in the geography reference (``"29"``, ``"2A"``,
  ``"974"``; ``"dep-29"`` is accepted), a région is ``"reg-"`` and its code (``"reg-53"``): département and
  région codes overlap (``"53"`` is both the Mayenne and Bretagne), so a bare code is always a département.
  :func:`observatoire.data.territory_codes.parse` is pure Python, so the build can validate the parameter
  without loading any data.
* **Counts.** SSMSI départemental base (one edition, never spliced with another); a région is the sum of its
  départements, France the sum of the 101 départements (the few un-localised victims are not in any territory,
  so France here is the sum of the territories; the national letter's total includes them). The tests check every
  région's sums against SSMSI's regional base.
* **Denominators.** INSEE's estimates of the population on 1 January (``insee_pop_gca``), as the thematic letters:
  SSMSI's own ``insee_pop`` stops at the 2022 census and is frozen for Mayotte.
* **Statistics: the national letter's, from the one core.** Rates, intervals (exact Poisson widened by the
  territory's own series dispersion), the year-on-year test of the rates (``statistics.change_of``: dispersion of
  the other years, Student t), the trend (``statistics.trend_of``), ranks and the funnel are those of
  :mod:`observatoire.analysis.statistics`, with the constants of ``publications/methods.yml``: the same département
  gets the same number, interval and verdict here as in the national and thematic letters (tested in
  tests/test_consistency.py).
* **Place among the peers.** Rank of the rate among the 101 départements (or 18 régions), 1 = highest rate, and the
  funnel plot of :func:`observatoire.analysis.indicators.territories.funnel` around France's rate with limits widened by
  the between-territory over-dispersion (Spiegelhalter 2005): "au-dessus" or "en dessous" only outside the widened
  limits at ``funnel.flag_level``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from observatoire.analysis.indicators.recorded import value_for
from observatoire.analysis.indicators.territories import funnel, level_tag
from observatoire.analysis.method import constants
from observatoire.analysis.statistics import add_series_rates, rank_rates, rate_per
from observatoire.data.territory_codes import (
    canonical,
    parse,
)

FRANCE = "FR"
#: The value of a column in one year, or None (never a neighbouring year's): the national letters' rule.
value_at = value_for


@dataclass(frozen=True)
class Territory:
    """One territory of a letter, resolved against the geography reference.

    Attributes
    ----------
    parameter : str
        Canonical parameter value (``"29"``, ``"reg-53"``).
    level : str
        ``"departement"`` or ``"region"``.
    code, name : str
        INSEE code and name.
    region_code, region_name : str
        Its région (itself for a région).
    members : tuple of str
        Département codes it covers (itself for a département).
    overseas : bool
        An overseas département or région.
    """

    parameter: str
    level: str
    code: str
    name: str
    region_code: str
    region_name: str
    members: tuple[str, ...]
    overseas: bool

    @property
    def is_region(self) -> bool:
        return self.level == "region"

    @property
    def area(self) -> str:
        """Code of the territory in the area tables (``"29"``, ``"R53"``)."""
        return area_code(self.level, self.code)

    @property
    def label(self) -> str:
        """``"Finistère (29)"``, ``"Bretagne (région 53)"``."""
        return f"{self.name} ({'région ' if self.is_region else ''}{self.code})"


def area_code(level: str, code: str) -> str:
    """Départements keep their code; régions get ``R`` + code (``"R53"``) so that both live in one table."""
    return code if level == "departement" else "R" + code


def resolve(value: object, geography: pd.DataFrame) -> Territory:
    """Resolve a territory parameter against the reference (``observatoire.data.datasets.geography()``).

    Raises
    ------
    ValueError
        Unknown territory (see :func:`parse`).
    """
    level, code = parse(value)
    if level == "departement":
        row = geography.loc[geography["code_departement"] == code].iloc[0]
        return Territory(
            canonical(value),
            level,
            code,
            str(row["nom_departement"]),
            str(row["code_region"]),
            str(row["nom_region"]),
            (code,),
            bool(row["is_overseas"]),
        )
    rows = geography.loc[geography["code_region"] == code]
    return Territory(
        canonical(value),
        level,
        code,
        str(rows["nom_region"].iloc[0]),
        code,
        str(rows["nom_region"].iloc[0]),
        tuple(rows["code_departement"]),
        bool(rows["is_overseas"].all()),
    )


# Area tables ----------------------------------------------------------------------------------------------------


def area_table(counts: pd.DataFrame, populations: pd.DataFrame, geography: pd.DataFrame) -> pd.DataFrame:
    """Counts and populations of every département, région and France, by year.

    Parameters
    ----------
    counts : DataFrame
        ``geo_code, year, count`` by département (``territories.counts_by_departement``).
    populations : DataFrame
        ``geo_code, year, population`` by département (``territories.population_by_departement``).
    geography : DataFrame
        The reference (``datasets.geography()``).

    Returns
    -------
    DataFrame
        ``level, code, area, name, year, count, population`` with ``level`` in ``departement``, ``region``,
        ``france``. A sum is missing for a year where one of its départements is missing (a partial sum would be
        another territory): Mayotte before 2014 leaves its région and France without a population.
    """
    deps = counts.merge(populations, on=["geo_code", "year"], how="left")
    deps = deps.merge(
        geography[["code_departement", "nom_departement", "code_region", "nom_region"]],
        left_on="geo_code",
        right_on="code_departement",
        how="left",
    )
    n_members = geography.groupby("code_region").size()
    parts = [
        pd.DataFrame(
            {
                "level": "departement",
                "code": deps["geo_code"],
                "name": deps["nom_departement"],
                "year": deps["year"],
                "count": deps["count"],
                "population": deps["population"],
            }
        )
    ]
    regions = _complete_sums(deps, ["code_region", "year"], deps["code_region"].map(n_members))
    names = geography.drop_duplicates("code_region").set_index("code_region")["nom_region"]
    parts.append(
        pd.DataFrame(
            {
                "level": "region",
                "code": regions["code_region"],
                "name": regions["code_region"].map(names),
                "year": regions["year"],
                "count": regions["count"],
                "population": regions["population"],
            }
        )
    )
    deps["_all"] = FRANCE
    france = _complete_sums(deps, ["_all", "year"], pd.Series(len(geography), index=deps.index))
    parts.append(
        pd.DataFrame(
            {
                "level": "france",
                "code": FRANCE,
                "name": "France",
                "year": france["year"],
                "count": france["count"],
                "population": france["population"],
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    out.insert(
        2,
        "area",
        [
            area_code(lv, c) if lv != "france" else FRANCE
            for lv, c in zip(out["level"], out["code"], strict=False)
        ],
    )
    return out.sort_values(["level", "code", "year"], kind="stable").reset_index(drop=True)


def _complete_sums(df: pd.DataFrame, keys: list[str], expected: pd.Series) -> pd.DataFrame:
    """Sums of count and population by ``keys``, missing where a member is missing or absent."""
    work = df.assign(_expected=expected.to_numpy())
    grouped = work.groupby(keys)
    sums = grouped[["count", "population"]].sum(min_count=1)
    present = grouped[["count", "population"]].count()
    expected_n = grouped["_expected"].first()
    sums = sums.where(present.ge(expected_n, axis=0))
    return sums.reset_index()


# Statistics of one area -----------------------------------------------------------------------------------------


def series_of(table: pd.DataFrame, area: str, last_year: int) -> pd.DataFrame:
    """One area's years up to ``last_year``, with rates and the letters' interval (``statistics.add_series_rates``:
    exact Poisson widened by the area's own dispersion, ``attrs["phi"]``)."""
    rows = table[(table["area"] == area) & (table["year"] <= int(last_year))].sort_values("year")
    out = add_series_rates(rows.reset_index(drop=True), area="area", last_year=last_year)
    out.attrs["phi"] = float(out["dispersion"].iloc[0]) if len(out) else 1.0
    return out


def peers(table: pd.DataFrame, level: str, year: int) -> pd.DataFrame:
    """The areas of one level in ``year`` with a rate, ranked (``statistics.rank_rates``: 1 = highest rate, ties
    share the better rank)."""
    rows = table[(table["level"] == level) & (table["year"] == int(year))].dropna(
        subset=["count", "population"]
    )
    rows = rows.assign(rate=rate_per(rows["count"], rows["population"], constants().rate_per))
    rows["rank"] = rank_rates(rows["rate"]).astype(int)
    return rows.sort_values(["rank", "code"], kind="stable").reset_index(drop=True)


def funnel_of(ranked: pd.DataFrame, france_rate: float):
    """The funnel table of the peers around France's rate (``territories.funnel``, the levels of methods.yml)."""
    return funnel(ranked[["area", "name", "code", "count", "population"]], target_rate=france_rate)


#: The place of a territory against the widened 95 % limits, as codes (the letter words them).
FUNNEL_POSITIONS = {"au-dessus": "above", "en dessous": "below", "": "within"}


def funnel_position(result, area: str) -> str:
    """``"above"``, ``"below"`` or ``"within"`` the widened limits at ``funnel.flag_level`` (a code the letter
    words; ``""`` for an absent area)."""
    row = result.table.loc[result.table["area"] == area]
    if row.empty:
        return ""
    return FUNNEL_POSITIONS[str(row[f"outside_adj_{level_tag(constants().funnel_flag_level)}"].iloc[0])]
