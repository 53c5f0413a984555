"""Département and région boundaries (GeoJSON, IGN Admin Express COG 2018 via france-geojson) for the maps.

Why a loader: a map that silently lacks a département, or draws one under another's code, is a wrong figure that
no reader can detect. The file is therefore read as strictly as the statistical tables: a FeatureCollection of
exactly the 101 départements or exactly the 18 régions of :mod:`observatoire.data.geography` (each code once, property
``code`` and a non-empty ``nom``), every geometry a Polygon or MultiPolygon whose rings are closed, with at least
four finite WGS 84 positions. The level (départements or régions) is recognised from the set of codes, never
from the file name.

:func:`load` returns a long table, one row per vertex (``geo_level, code, nom, geometry_type, polygon, ring,
lon, lat``; rings in file order, exterior first, each closed): plain columns, so that the parse cache stores it as
data (Parquet). :func:`features` turns it back into one row per feature with its rings as arrays, which
:mod:`observatoire.outputs.maps` draws as matplotlib patches. No shapely or geopandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from observatoire.core.errors import InputError
from observatoire.data import geography

#: The levels and the codes a boundaries file must hold, exactly.
LEVELS: dict[str, tuple[str, ...]] = {
    "departement": geography.DEPARTEMENTS,
    "region": geography.REGIONS,
}
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
COLUMNS = ("geo_level", "code", "nom", "geometry_type", "polygon", "ring", "lon", "lat")


def _ring(raw: object, path: Path, where: str) -> np.ndarray:
    """One linear ring as an ``(n, 2)`` array, checked (closed, four positions or more, finite WGS 84)."""
    if not isinstance(raw, list) or len(raw) < 4:
        raise InputError(path, where, "a ring needs at least four positions (GeoJSON linear ring)")
    try:
        ring = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        ring = None
    if ring is None or ring.ndim != 2 or ring.shape[1] != 2:
        raise InputError(path, where, "positions must be [longitude, latitude] pairs of numbers")
    if not np.isfinite(ring).all():
        raise InputError(path, where, "positions must be finite numbers")
    if (np.abs(ring[:, 0]) > 180).any() or (np.abs(ring[:, 1]) > 90).any():
        raise InputError(path, where, "positions must be WGS 84 longitude (-180..180) and latitude (-90..90)")
    if not np.array_equal(ring[0], ring[-1]):
        raise InputError(path, where, "a ring must be closed (first position = last position)")
    return ring


def _polygons(geometry: object, path: Path, where: str) -> tuple[str, tuple]:
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise InputError(path, where, f"geometry must be a Polygon or a MultiPolygon, got {kind!r}")
    kind = geometry["type"]
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise InputError(path, where, f"a {kind} needs coordinates")
    out = []
    for i, polygon in enumerate(polygons):
        if not isinstance(polygon, list) or not polygon:
            raise InputError(path, f"{where}, polygon {i + 1}", "a polygon needs at least its exterior ring")
        out.append(
            tuple(
                _ring(ring, path, f"{where}, polygon {i + 1}, ring {j + 1}") for j, ring in enumerate(polygon)
            )
        )
    return kind, tuple(out)


def load(path: str | Path, source_id: str = "boundaries_dep", edition: str = "") -> pd.DataFrame:
    """Load a boundaries file.

    Parameters
    ----------
    path : str or Path
        ``departements-avec-outre-mer.geojson`` or ``regions-avec-outre-mer.geojson``.
    source_id, edition : str
        Recorded in ``attrs`` (the table is not a statistical long table).

    Returns
    -------
    pandas.DataFrame
        One row per feature, sorted by code in the order of :mod:`observatoire.data.geography`: ``geo_level``
        (``departement`` or ``region``), ``code`` (canonical), ``nom``, ``geometry_type``, ``polygons``.

    Raises
    ------
    InputError
        Not JSON or not a FeatureCollection; a feature without a known code or a name; a code twice; a set of codes
        that is neither the 101 départements nor the 18 régions; a geometry that is not a valid (Multi)Polygon.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "whole file", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InputError(path, "top level", "must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise InputError(path, "key 'features'", "must be a non-empty list of features")

    rows = []
    for index, feature in enumerate(features, start=1):
        where = f"feature {index}"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            raise InputError(path, where, "a feature needs 'properties' with 'code' and 'nom'")
        code, name = properties.get("code"), properties.get("nom")
        if not isinstance(code, str) or not code.strip():
            raise InputError(path, where, "property 'code' must be a non-empty string")
        if not isinstance(name, str) or not name.strip():
            raise InputError(path, f"{where} ({code})", "property 'nom' must be a non-empty string")
        kind, polygons = _polygons(feature.get("geometry"), path, f"{where} ({code})")
        rows.append({"code": code.strip(), "nom": name.strip(), "geometry_type": kind, "polygons": polygons})

    codes = [row["code"] for row in rows]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise InputError(path, f"code {repeated[0]}", "each code must appear once")
    level = next((lvl for lvl, known in LEVELS.items() if set(codes) == set(known)), None)
    if level is None:
        best = max(LEVELS, key=lambda lvl: len(set(codes) & set(LEVELS[lvl])))
        unknown = sorted(set(codes) - set(LEVELS[best]))
        missing = sorted(set(LEVELS[best]) - set(codes))
        detail = f"unknown {', '.join(unknown)}" if unknown else f"missing {', '.join(missing)}"
        raise InputError(
            path,
            "property 'code'",
            f"the codes must be exactly the {len(geography.DEPARTEMENTS)} départements or the "
            f"{len(geography.REGIONS)} régions of the geography reference ({len(codes)} features; {detail})",
        )
    order = {code: i for i, code in enumerate(LEVELS[level])}
    parts = []
    for row in sorted(rows, key=lambda r: order[r["code"]]):
        for p, polygon in enumerate(row["polygons"]):
            for r, ring in enumerate(polygon):
                parts.append(
                    pd.DataFrame(
                        {
                            "geo_level": level,
                            "code": row["code"],
                            "nom": row["nom"],
                            "geometry_type": row["geometry_type"],
                            "polygon": p,
                            "ring": r,
                            "lon": ring[:, 0],
                            "lat": ring[:, 1],
                        }
                    )
                )
    table = pd.concat(parts, ignore_index=True)
    table.attrs.update(source_id=source_id, edition=edition)
    return table[list(COLUMNS)]


def features(table: pd.DataFrame) -> pd.DataFrame:
    """One row per feature (``code, nom, polygons``) from the long table of :func:`load`, in its order.

    ``polygons`` is a tuple of polygons, each a tuple of rings (exterior first), each an ``(n, 2)`` array of
    longitude and latitude.
    """
    rows = []
    for code, part in table.groupby("code", sort=False):
        coords = part[["lon", "lat"]].to_numpy(dtype=float)
        keys = part[["polygon", "ring"]].to_numpy()
        starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
        rings = np.split(coords, starts[1:])
        polygons: dict[int, list] = {}
        for start, ring in zip(starts, rings, strict=True):
            polygons.setdefault(int(keys[start, 0]), []).append(ring)
        rows.append(
            {"code": code, "nom": part["nom"].iloc[0], "polygons": tuple(tuple(p) for p in polygons.values())}
        )
    return pd.DataFrame(rows)
