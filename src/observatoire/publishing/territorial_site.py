"""The listing page of the territorial letters of one year: by région, each région's letter then its départements.

Why a page of its own: a year has 119 territorial letters, too many for a row each in the site index. The index
gets one row per year pointing here (``_site/<theme>/<year>/index.html``), and here a reader finds their
département in one more click, or by typing its name or code in the filter box (the page also works without
script: every letter is listed). Written from the published manifests only, deterministic, text escaped.

The site's search box reads one ``search.json`` per row of the site index (``rendering.site``): the year's row is
this listing, so :func:`search_entries` gathers the year's letters' own entries (and one for the listing) into
``<theme>/<year>/search.json``; each letter's entries are titled with its territory, so a reader typing
"Finistère" or "29" sees which letter a hit comes from.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from observatoire.core import atomic
from observatoire.data.territory_codes import REGION_PREFIX, parse
from observatoire.publishing import manifest as mf

__all__ = ["search_entries", "territorial_editions", "write_listings"]

#: The search index of a folder of the site (Quarto's name, read by ``rendering.site``).
SEARCH = "search.json"


def territorial_editions(site_dir: Path) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Published territorial letters (``<theme>/<year>/<territory>/manifest.json``), by (theme, year).

    Returns
    -------
    dict
        ``(theme, year)`` -> list of ``{"territory", "path", "html", "pdf", "title", "facts"}`` (paths relative to
        the year folder), sorted by territory.
    """
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for path in sorted(Path(site_dir).glob("*/*/*/" + mf.MANIFEST_NAME)):
        folder = path.parent
        if (
            any(part.startswith(".") for part in folder.relative_to(site_dir).parts)
            or not folder.parent.name.isdigit()
        ):
            continue
        data = mf.read_manifest(folder)
        if not data:
            continue
        letter = data.get("letter") or {}
        out.setdefault((str(data.get("theme")), int(folder.parent.name)), []).append(
            {
                "territory": folder.name,
                "html": f"{folder.name}/{letter['html']}" if letter.get("html") else None,
                "pdf": f"{folder.name}/{letter['pdf']}" if letter.get("pdf") else None,
                "title": data.get("title") or data.get("theme"),
            }
        )
    return out


def _names() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Département code -> (name, région code) and région code -> name, from the geography reference."""
    from observatoire.data import datasets  # lazy: the no-change release path stays without pandas

    geo = datasets.geography()
    deps = {r.code_departement: (r.nom_departement, r.code_region) for r in geo.itertuples(index=False)}
    regions = dict(zip(geo["code_region"], geo["nom_region"], strict=True))
    return deps, regions


def _links(entry: dict[str, Any] | None, label: str) -> str:
    if entry is None:
        return f'{html.escape(label)} <span class="na">(lettre non publiée)</span>'
    parts = (
        [f'<a href="{html.escape(entry["html"])}">{html.escape(label)}</a>']
        if entry.get("html")
        else [html.escape(label)]
    )
    if entry.get("pdf"):
        parts.append(f'<a href="{html.escape(entry["pdf"])}" aria-label="{html.escape(label)}, PDF">PDF</a>')
    return " · ".join(parts)


def _listing_title(theme_title: str, year: int) -> str:
    return f"{theme_title} : lettres {year}"


def render_listing(theme_title: str, year: int, entries: list[dict[str, Any]]) -> str:
    """The HTML page of one year's territorial letters, grouped by région (régions by name)."""
    deps, regions = _names()
    by_territory = {e["territory"]: e for e in entries}
    sections = []
    for region_code, region_name in sorted(regions.items(), key=lambda item: item[1]):
        items = []
        for code, (name, region) in deps.items():
            if region == region_code:
                label = f"{name} ({code})"
                items.append(
                    f'<li data-search="{html.escape((name + " " + code).lower())}">{_links(by_territory.get(code), label)}</li>'
                )
        region_entry = by_territory.get(REGION_PREFIX + region_code)
        sections.append(
            f'<section data-search="{html.escape(region_name.lower())}">\n'
            f"<h2>{html.escape(region_name)}</h2>\n"
            f"<p>Lettre de la région : {_links(region_entry, region_name)}</p>\n"
            f"<ul>\n" + "\n".join(items) + "\n</ul>\n</section>"
        )
    script = (
        "<script>\n"
        "document.getElementById('filtre').addEventListener('input', function (e) {\n"
        "  var q = e.target.value.trim().toLowerCase();\n"
        "  document.querySelectorAll('section').forEach(function (s) {\n"
        "    var regionHit = s.dataset.search.indexOf(q) >= 0, any = false;\n"
        "    s.querySelectorAll('li').forEach(function (li) {\n"
        "      var hit = regionHit || li.dataset.search.indexOf(q) >= 0; li.hidden = !hit; any = any || hit; });\n"
        "    s.hidden = !(any || regionHit); });\n"
        "});\n</script>"
    )
    title = _listing_title(theme_title, year)
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "section{margin-bottom:1.5rem}.na{color:#6e6e6e}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p><a href="../../index.html">Toutes les lettres</a> · '
        f'<a href="../../annual/{year}/index.html">La lettre nationale {year}</a></p>\n'
        "<p>Une lettre par département et par région, classées par région.</p>\n"
        '<p><label for="filtre">Chercher un département ou une région (nom ou code) : </label>'
        '<input id="filtre" type="search" autocomplete="off"></p>\n'
        + "\n".join(sections)
        + "\n</main>\n"
        + script
        + "\n</body>\n</html>\n"
    )


def _label(territory: str, deps: dict[str, tuple[str, str]], regions: dict[str, str]) -> str:
    """``"Finistère (29)"``, ``"Bretagne (région 53)"`` (as ``territorial.Territory.label``); the folder name
    itself for a folder that is no territory."""
    try:
        level, code = parse(territory)
    except ValueError:
        return territory
    return f"{deps[code][0]} ({code})" if level == "departement" else f"{regions[code]} (région {code})"


def search_entries(year_dir: Path, title: str, letters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The search entries of a year's territorial letters, for ``<theme>/<year>/search.json``.

    Parameters
    ----------
    year_dir : Path
        ``<site>/<theme>/<year>``, holding the listing and one folder per letter.
    title : str
        The listing's title.
    letters : list of dict
        :func:`territorial_editions` of that year.

    Returns
    -------
    list of dict
        First the listing page (its text: every territory's name and code), then each letter's own entries
        (Quarto's ``search.json`` of its folder) with links made relative to ``year_dir`` and titles prefixed by
        the territory (``"Finistère (29) : <title of the letter>"``); letters in territory order.
    """
    deps, regions = _names()
    labels = [f"{name} ({code})" for code, (name, _) in deps.items()]
    labels += [f"{name} (région {code})" for code, name in sorted(regions.items())]
    entries = [
        {
            "objectID": "index.html",
            "href": "index.html",
            "title": title,
            "section": "",
            "text": " ; ".join(labels),
        }
    ]
    for letter in sorted(letters, key=lambda e: e["territory"]):
        territory = letter["territory"]
        own = year_dir / territory / SEARCH
        if not own.is_file():
            continue
        label = _label(territory, deps, regions)
        for item in json.loads(own.read_text(encoding="utf-8")):
            item = dict(item)
            for key in ("objectID", "href"):
                if isinstance(item.get(key), str) and ":" not in item[key].split("/")[0]:
                    item[key] = f"{territory}/{item[key]}"
            item["title"] = f"{label} : {item.get('title') or ''}".rstrip(" :")
            entries.append(item)
    return entries


def _write_if_changed(target: Path, text: str) -> None:
    """Write atomically, and only when the content changes (a second publish rewrites nothing)."""
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        atomic.write_text(target, text)


def write_listings(site_dir: Path, titles: dict[str, str]) -> list[dict[str, Any]]:
    """Write ``<theme>/<year>/index.html`` and its ``search.json`` for every year with territorial letters; return
    their index entries.

    Parameters
    ----------
    site_dir : Path
    titles : dict
        Theme id -> title.

    Returns
    -------
    list of dict
        One site-index edition per (theme, year): ``theme, theme_title, year, html`` (the listing page).
    """
    entries = []
    for (theme, year), letters in sorted(territorial_editions(site_dir).items()):
        year_dir = Path(site_dir) / theme / str(year)
        _write_if_changed(year_dir / "index.html", render_listing(titles.get(theme, theme), year, letters))
        search = search_entries(year_dir, _listing_title(titles.get(theme, theme), year), letters)
        _write_if_changed(year_dir / SEARCH, json.dumps(search, ensure_ascii=False, indent=1) + "\n")
        entries.append(
            {
                "theme": theme,
                "theme_title": titles.get(theme, theme),
                "year": year,
                "html": f"{theme}/{year}/index.html",
                "pdf": None,
                "manifest": None,
                "notebooks": [],
            }
        )
    return entries
