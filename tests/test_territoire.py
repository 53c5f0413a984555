"""Territorial letters: boundaries loader, territory parameter, figures of every territory, the map's highlight."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from observatoire.analysis.indicators import territorial as tl
from observatoire.analysis.indicators import territories as terr
from observatoire.core.errors import InputError
from observatoire.data import catalogue, datasets, themes
from observatoire.data.loaders import boundaries
from observatoire.data.loaders.ssmsi_departement import INTRAFAMILY, SEXUAL
from observatoire.outputs import figures, maps
from observatoire.publishing import plan

# --- boundaries ------------------------------------------------------------------------------------------------


def test_boundaries_load_with_every_code():
    deps = boundaries.features(datasets.boundaries("departement"))
    regs = boundaries.features(datasets.boundaries("region"))
    assert len(deps) == 101 and set(datasets.boundaries("departement")["geo_level"]) == {"departement"}
    assert len(regs) == 18 and set(datasets.boundaries("region")["geo_level"]) == {"region"}
    assert set(deps["code"]) == set(datasets.geography()["code_departement"])
    assert set(regs["code"]) == set(datasets.geography()["code_region"])
    assert deps.loc[deps["code"] == "2A", "nom"].item() == "Corse-du-Sud"
    assert set(datasets.boundaries("departement")["geometry_type"]) == {"Polygon", "MultiPolygon"}
    corse = deps.loc[deps["code"] == "2A", "polygons"].item()
    assert all(len(ring) >= 4 and (ring[0] == ring[-1]).all() for polygon in corse for ring in polygon)


def _collection(features):
    return {"type": "FeatureCollection", "features": features}


def _square(code, name="X", kind="Polygon", ring=None):
    ring = ring or [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    coords = [ring] if kind == "Polygon" else [[ring]]
    return {
        "type": "Feature",
        "properties": {"code": code, "nom": name},
        "geometry": {"type": kind, "coordinates": coords},
    }


def _regions(**changes):
    from observatoire.data.geography import REGIONS

    features = [_square(code) for code in REGIONS]
    for index, feature in changes.items():
        features[int(index[1:])] = feature
    return features


@pytest.mark.parametrize(
    ("features", "rule"),
    [
        (_regions()[:-1], "exactly the 101 départements or the 18 régions"),
        (_regions() + [_square("99")], "exactly the 101 départements or the 18 régions"),
        (_regions(i0=_square("11")), "each code must appear once"),
        (
            _regions(i0={**_square("01"), "geometry": {"type": "Point", "coordinates": [0, 0]}}),
            "Polygon or a MultiPolygon",
        ),
        (_regions(i0=_square("01", ring=[[0, 0], [1, 0], [1, 1], [0, 1]])), "closed"),
        (_regions(i0=_square("01", ring=[[0, 0], [1, 0], [200, 1], [0, 0]])), "WGS 84"),
        (_regions(i0=_square("01", name="")), "'nom'"),
    ],
)
def test_boundaries_reject_bad_files(tmp_path, features, rule):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(_collection(features)), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(rule)) as error:
        boundaries.load(path)
    assert "bad.geojson" in str(error.value)


def test_boundaries_accept_a_minimal_region_file(tmp_path):
    path = tmp_path / "ok.geojson"
    path.write_text(
        json.dumps(_collection(_regions(i1=_square("02", kind="MultiPolygon")))), encoding="utf-8"
    )
    table = boundaries.features(boundaries.load(path))
    assert list(table["code"][:2]) == ["01", "02"] and len(table) == 18
    assert table["polygons"][1][0][0].shape == (5, 2)


# --- the territory parameter -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("29", "29"),
        (29, "29"),
        ("dep-29", "29"),
        ("2a", "2A"),
        (974, "974"),
        (1, "01"),
        ("reg-53", "reg-53"),
        ("REG-06", "reg-06"),
    ],
)
def test_territory_parameter_has_one_spelling(value, expected):
    assert tl.canonical(value) == expected


@pytest.mark.parametrize("value", ["99", "975", "reg-29", "reg-", "", "Finistère", "20"])
def test_unknown_territory_is_refused(value):
    with pytest.raises(ValueError, match="unknown territory"):
        tl.canonical(value)


def test_theme_declares_119_territories_and_paths():
    theme = themes.get_theme("territoire")
    assert len(theme.territories) == 119 and theme.territories[-1] == "reg-94"
    params = theme.parameters_for(2024, {"territoire": "reg-53"})
    assert params["territoire"] == "reg-53"
    assert theme.edition_path(2024, params) == "2024/reg-53"
    assert plan.variant_name(theme, 2024, {"territoire": "75"}) is None  # a territory is not a variant
    assert plan.edition_build_dir(theme, 2024, {"territoire": 75}).parts[-3:] == (
        "territoire",
        "2024",
        "75",
    )
    with pytest.raises(InputError, match="parameter 'territoire'"):
        theme.parameters_for(2024, {"territoire": "reg-75x"})


def test_resolve_territories():
    geo = datasets.geography()
    corse = tl.resolve("2A", geo)
    assert (corse.region_code, corse.members, corse.overseas) == ("94", ("2A",), False)
    bretagne = tl.resolve("reg-53", geo)
    assert bretagne.is_region and bretagne.members == ("22", "29", "35", "56") and bretagne.area == "R53"
    assert tl.resolve("976", geo).overseas


# --- every territory's figures against independent sums of the raw files ---------------------------------------


def _raw_rows(source_id: str):
    path = catalogue.ensure(source_id)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=";")


@pytest.fixture(scope="module")
def area_tables():
    ssmsi = datasets.ssmsi_departement("ssmsi_dep_2024")
    pops = terr.population_by_departement(datasets.population("insee_pop_gca"))
    geo = datasets.geography()
    return {
        name: tl.area_table(terr.counts_by_departement(ssmsi, name), pops, geo)
        for name in (INTRAFAMILY, SEXUAL)
    }


def test_every_territory_equals_independent_sums(area_tables):
    """Départements from the raw départemental file; régions from SSMSI's regional base (csv module only)."""
    expected: dict[tuple, float] = defaultdict(float)
    for row in _raw_rows("ssmsi_dep_2024"):
        if row["indicateur"] in area_tables and row["unite_de_compte"] == "Victime":
            key = (row["indicateur"], int(row["annee"]))
            expected[(*key, row["Code_departement"])] += int(row["nombre"])
            expected[(*key, "FR")] += int(row["nombre"])
    for row in _raw_rows("ssmsi_reg_2024"):
        if row["indicateur"] in area_tables and row["unite_de_compte"] == "Victime":
            expected[(row["indicateur"], int(row["annee"]), "R" + row["Code_region"])] += int(row["nombre"])
    checked = 0
    for name, table in area_tables.items():
        for row in table.itertuples(index=False):
            assert row.count == expected[(name, row.year, row.area)], (name, row.year, row.area)
            checked += 1
    assert checked == 2 * 9 * (101 + 18 + 1)


def test_rank_funnel_and_change(area_tables):
    table = area_tables[SEXUAL]
    ranked = tl.peers(table, "departement", 2024)
    assert len(ranked) == 101 and ranked["rank"].min() == 1 and ranked["rank"].is_monotonic_increasing
    top = ranked.iloc[0]
    assert top["rate"] == pytest.approx(ranked["rate"].max())
    france = tl.series_of(table, "FR", 2024)
    result = tl.funnel_of(ranked, tl.value_at(france, 2024, "rate"))
    assert tl.funnel_position(result, "2A") in {"above", "below", "within"}
    # The change on the year is the national letter's test (statistics.change_of): rates, the other years' dispersion.
    from observatoire.analysis.statistics import change_of, change_test

    paris = tl.series_of(table, "75", 2024)
    change = change_of(paris, 2024)
    rows = paris[paris["year"] <= 2024]
    direct = change_test(rows["year"], rows["count"], 2024, exposure=rows["population"])
    assert change == direct and change.method in ("quasi_poisson_test", "exact_poisson")
    assert change_of(paris[paris["year"] != 2023], 2024) is None  # a missing previous year: no test


def _funnel(area_tables, name=SEXUAL, level="departement"):
    ranked = tl.peers(area_tables[name], level, 2024)
    france = tl.value_at(tl.series_of(area_tables[name], "FR", 2024), 2024, "rate")
    return ranked, france, tl.funnel_of(ranked, france)


@pytest.mark.parametrize(("name", "level"), [(SEXUAL, "departement"), (INTRAFAMILY, "region")])
def test_place_among_peers_follows_the_overdispersed_funnel(area_tables, name, level):
    """The letter's "au-dessus / en dessous / dans les limites" is statistics.funnel's flag at 95 % (Spiegelhalter
    2005, additive random effects), around France's rate, for every territory."""
    from observatoire.analysis.statistics import funnel

    ranked, france, result = _funnel(area_tables, name, level)
    direct = funnel(ranked["count"], ranked["population"], target_rate=france, flag_level=0.95)
    assert direct.attrs["adjusted"] and result.tau2 == pytest.approx(direct.attrs["tau2"])
    for area, flag in zip(ranked["area"], direct["flag"], strict=True):
        assert tl.funnel_position(result, area) == flag, area


def test_funnel_figure_draws_the_limits_the_flags_follow(area_tables):
    """The dashed 95 % lines pass through each département's widened limits (they were once drawn with phi in
    place of the between-area variance tau2, far above every point)."""
    import matplotlib.pyplot as plt

    _, _, result = _funnel(area_tables)
    words = {"vs": "Violences sexuelles", "xlabel": "Population", "ylabel": "Taux"}
    words.update(territory="Le territoire", others="Les autres", france="France")
    fig = figures.territory_funnel_figure(
        {"vs": result}, "29", {**words, "limits_95": "95 %", "limits_998": "99,8 %"}
    )
    ax = fig.axes[1]  # the first axes holds the legend
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    table = result.table
    for line, column in zip(
        sorted(dashed, key=lambda ln: ln.get_ydata()[0]), ("low_adj_95", "high_adj_95"), strict=True
    ):
        x, y = np.log(line.get_xdata()), line.get_ydata()
        drawn = np.interp(np.log(table["population"]), x, y)
        assert drawn == pytest.approx(table[column].to_numpy(), rel=2e-3)
    plt.close(fig)


def test_intervals_widen_with_dispersion(area_tables):
    from observatoire.analysis.statistics import add_rates, series_dispersion

    series = tl.series_of(area_tables[INTRAFAMILY], "29", 2024)
    phi = series_dispersion(series["year"], series["count"], series["population"]).dispersion
    assert series.attrs["phi"] == pytest.approx(max(phi, 1.0)) and series.attrs["phi"] > 1
    exact = add_rates(series[["year", "count", "population"]], count="count")
    assert (series["rate_high"] - series["rate_low"] > exact["rate_high"] - exact["rate_low"]).all()
    assert series["rate"].equals(exact["rate"])
    # on the log scale the widening is sqrt(phi)
    ratio = np.log(series["rate_high"] / series["rate"]) / np.log(exact["rate_high"] / exact["rate"])
    assert ratio.to_numpy() == pytest.approx(np.sqrt(series.attrs["phi"]))


# --- the map highlights the right shape ------------------------------------------------------------------------


def _fills(svg: str) -> dict[str, str]:
    """SVG group id -> fill colour of its first path."""
    found = {}
    for match in re.finditer(
        r'<g id="((?:dep|reg)-[0-9AB]+)">\s*<path[^>]*?style="[^"]*?fill: (#[0-9a-fA-F]{6})', svg
    ):
        found[match.group(1)] = match.group(2).upper()
    return found


@pytest.mark.parametrize(("code", "region"), [("29", "53"), ("2A", "94"), ("974", "04")])
def test_map_highlights_the_territory(tmp_path, code, region):
    from observatoire.outputs import charts

    geo = datasets.geography()
    members = list(geo.loc[geo["code_region"] == region, "code_departement"])
    fig = maps.region_map(
        datasets.boundaries("departement"), datasets.boundaries("region"), region, members, highlight=code
    )
    charts.save_figure(fig, "carte", tmp_path, geo, title="Carte", source="IGN", alt="Carte")
    fills = _fills((tmp_path / "figures" / "carte.svg").read_text(encoding="utf-8"))
    assert fills[f"dep-{code}"] == maps.HIGHLIGHT.upper()
    assert all(fills[f"dep-{m}"] == maps.OTHER.upper() for m in members if m != code)
    assert fills[f"reg-{region}"] == maps.HIGHLIGHT.upper()
    assert sum(v == maps.HIGHLIGHT.upper() for k, v in fills.items() if k.startswith("reg-")) == 1


def test_map_refuses_a_territory_outside_the_region():
    with pytest.raises(ValueError, match="not in région"):
        maps.region_map(
            datasets.boundaries("departement"),
            datasets.boundaries("region"),
            "53",
            ["22", "29"],
            highlight="75",
        )


# --- the listing page ------------------------------------------------------------------------------------------


def _published_letters(site: Path, territories: tuple[str, ...], search: list[dict] | None = None) -> None:
    """Fake published territorial letters of 2024: a manifest each (and a search.json when given)."""
    for territory in territories:
        folder = site / "territoire" / "2024" / territory
        folder.mkdir(parents=True)
        letter = {"html": "index.html", "pdf": "letter.pdf"}
        (folder / "manifest.json").write_text(
            json.dumps({"theme": "territoire", "year": 2024, "letter": letter}), encoding="utf-8"
        )
        if search is not None:
            (folder / "search.json").write_text(json.dumps(search), encoding="utf-8")


def test_listing_groups_letters_by_region(tmp_path):
    """The listing is a page of the site: write_listings gives its body (rendered by the site's Quarto project,
    rendering.site), each région a heading of its own with its letter and its départements'."""
    from observatoire.publishing import territorial_site

    site = tmp_path / "site"
    _published_letters(site, ("29", "reg-53"))
    [entry] = territorial_site.write_listings(site, {"territoire": "Territoires"})
    assert entry["html"] == "territoire/2024/index.html" and entry["year"] == 2024
    page = entry["listing_page"]
    assert page["path"] == "territoire/2024/index.qmd" and page["title"] == "Territoires : lettres 2024"
    body = page["body"]
    bretagne = body[body.index("## Bretagne {#region-53") :].split("\n## ")[0]
    assert 'href="29/index.html">Finistère (29)</a>' in bretagne
    assert 'href="reg-53/index.html">Bretagne</a>' in bretagne
    assert "Morbihan (56) <span" in bretagne  # listed, not yet published
    assert 'href="../../annual/2024/index.html"' in body
    assert territorial_site.write_listings(site, {"territoire": "Territoires"}) == [entry]  # deterministic


def test_listing_puts_the_letters_in_the_site_search(tmp_path):
    """The site search reads one search.json per index row: the year's listing gathers its letters' entries."""
    from observatoire.publishing import territorial_site
    from observatoire.publishing.rendering.site import _merged_search

    site = tmp_path / "site"
    entries = [
        {"objectID": "index.html", "href": "index.html", "title": "Lettre", "section": "", "text": "texte"},
        {"objectID": "index.html#x", "href": "index.html#x", "title": "Lettre", "section": "X", "text": "t"},
        {"objectID": "n", "href": "https://example.org/a", "title": "", "section": "", "text": ""},
    ]
    _published_letters(site, ("29", "reg-53"), search=entries)
    [row] = territorial_site.write_listings(site, {"territoire": "Territoires"})
    year_search = json.loads((site / "territoire" / "2024" / "search.json").read_text(encoding="utf-8"))
    # (the listing page itself is a page of the site: Quarto's own search index of the site's pages holds it)
    assert [e["href"] for e in year_search] == [
        "29/index.html",
        "29/index.html#x",
        "https://example.org/a",
        "reg-53/index.html",
        "reg-53/index.html#x",
        "https://example.org/a",
    ]
    assert [e["title"] for e in year_search[0:2]] == ["Finistère (29) : Lettre"] * 2
    assert year_search[3]["title"] == "Bretagne (région 53) : Lettre"
    # the site's search index (rendering.site) takes them, links relative to the site root
    merged = _merged_search(tmp_path / "no-site-pages", site, [row])
    assert [e["href"] for e in merged][:2] == [
        "territoire/2024/29/index.html",
        "territoire/2024/29/index.html#x",
    ]
    before = (site / "territoire" / "2024" / "search.json").stat().st_mtime_ns
    territorial_site.write_listings(site, {"territoire": "Territoires"})
    assert (
        site / "territoire" / "2024" / "search.json"
    ).stat().st_mtime_ns == before  # unchanged, not rewritten
