"""The listing page of the territorial letters of one year: by région, each région's letter then its départements.

Why a page of its own: a year has 119 territorial letters, too many for a row each in the site index. The index
gets one row per year pointing here (``_site/<theme>/<year>/index.html``), and here a reader finds their
département in one more click, or by typing its name or code in the filter box, accents and case ignored, which
says how many letters match or that none does (the page also works without script: every letter is listed).
The page is one of the site's own pages (navbar, search, look, table of contents by région): its body is written
here (:func:`listing_page`), rendered by Quarto with the site's pages (:mod:`observatoire.publishing.rendering.site`) and put
in the year's folder (:func:`place_listing`). Written from the published manifests only, deterministic, text
escaped.

The site's search box reads one ``search.json`` per row of the site index (``rendering.site``): the year's row is
this listing, so :func:`search_entries` gathers the year's letters' own entries into
``<theme>/<year>/search.json``; each letter's entries are titled with its territory, so a reader typing
"Finistère" or "29" sees which letter a hit comes from.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from observatoire.core import atomic
from observatoire.core.escaping import markdown_text
from observatoire.core.formatting import NBSP
from observatoire.data.territory_codes import REGION_PREFIX, parse
from observatoire.outputs.words import site_text, site_words
from observatoire.publishing import manifest as mf

__all__ = [
    "listing_page",
    "place_listing",
    "search_entries",
    "search_key",
    "territorial_editions",
    "write_listings",
]

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
        if not data or data.get("lang", "fr") != "fr":  # a letter in another language: linked from its letter
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


def _links(entry: dict[str, Any] | None, label: str, words: dict[str, str]) -> str:
    if entry is None:
        return f'{html.escape(label)} <span class="na">({html.escape(words["not_published"])})</span>'
    parts = (
        [f'<a href="{html.escape(entry["html"])}">{html.escape(label)}</a>']
        if entry.get("html")
        else [html.escape(label)]
    )
    if entry.get("pdf"):
        parts.append(f'<a href="{html.escape(entry["pdf"])}" aria-label="{html.escape(label)}, PDF">PDF</a>')
    return " · ".join(parts)


def _listing_title(theme_title: str, year: int) -> str:
    return site_text("fr", "listing.title", theme=theme_title, year=year)


def search_key(text: str) -> str:
    """What the listing's filter compares: no accents, no case, words separated by one space
    (``"Côtes-d'Armor (22)"`` -> ``"cotes d armor 22"``); the page's script normalises what is typed the same way."""
    plain = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


#: The filter of the listing page: hides the letters whose name or code does not contain what is typed (accents,
#: case and punctuation ignored, as :func:`search_key`) and says how many match, or that none does.
_FILTER_SCRIPT = """<script>
(function () {
  "use strict";
  var input = document.getElementById("filtre"), status = document.getElementById("filtre-statut");
  if (!input) { return; }
  function key(text) {
    return text.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }
  input.addEventListener("input", function () {
    var q = key(input.value), count = 0;
    document.querySelectorAll("section.region").forEach(function (s) {
      var regionHit = s.dataset.search.indexOf(q) >= 0, any = false;
      s.querySelectorAll("li[data-search]").forEach(function (li) {
        var hit = regionHit || li.dataset.search.indexOf(q) >= 0;
        li.hidden = !hit; any = any || hit; if (hit) { count += 1; }
      });
      s.hidden = !(any || regionHit);
    });
    var template = q === "" ? "" : (count === 0 ? input.dataset.noMatch : input.dataset.matches);
    status.textContent = template.replace("{query}", input.value.trim()).replace("{count}", String(count));
  });
})();
</script>"""


def listing_page(theme_title: str, year: int, entries: list[dict[str, Any]]) -> tuple[str, str]:
    """The title and body (Markdown with raw HTML) of one year's territorial letters, grouped by région (régions
    by name): a page of the site, rendered by Quarto with the site's pages (:mod:`observatoire.publishing.rendering.site`).

    Its words are the ``listing`` words of ``publications/_shared/site_words.yml``; names and codes from the
    geography reference are escaped.
    """
    words = site_words("fr")["listing"]
    deps, regions = _names()
    by_territory = {e["territory"]: e for e in entries}
    sections = []
    for region_code, region_name in sorted(regions.items(), key=lambda item: search_key(item[1])):
        items = []
        for code, (name, region) in deps.items():
            if region == region_code:
                label = f"{name} ({code})"
                items.append(
                    f'<li data-search="{html.escape(search_key(label))}">'
                    f"{_links(by_territory.get(code), label, words)}</li>"
                )
        region_entry = by_territory.get(REGION_PREFIX + region_code)
        # a Markdown heading (the page's table of contents lists the régions), its section filtered by the script
        sections.append(
            f"## {markdown_text(region_name)} "
            f'{{#region-{region_code} .region data-search="{search_key(region_name)}"}}\n\n'
            "```{=html}\n"
            f"<p>{html.escape(words['region_letter'])}{NBSP}: {_links(region_entry, region_name, words)}</p>\n"
            "<ul>\n" + "\n".join(items) + "\n</ul>\n```\n"
        )
    filter_box = (
        f'<p class="listing-filter"><label for="filtre">{html.escape(words["filter_label"])}{NBSP}: </label>'
        f'<input id="filtre" type="search" autocomplete="off" data-no-match="{html.escape(words["no_match"])}" '
        f'data-matches="{html.escape(words["matches"])}"></p>\n'
        '<p id="filtre-statut" role="status" aria-live="polite"></p>'
    )
    links = (
        f'<p><a href="../../index.html">{html.escape(words["all_letters"])}</a> · '
        f'<a href="../../annual/{year}/index.html">{html.escape(site_text("fr", "listing.national", year=year))}'
        "</a></p>"
    )
    body = (
        "```{=html}\n"
        + links
        + f"\n<p>{html.escape(words['intro'])}</p>\n"
        + filter_box
        + "\n```\n\n"
        + "\n".join(sections)
        + "\n```{=html}\n"
        + _FILTER_SCRIPT
        + "\n```\n"
    )
    return _listing_title(theme_title, year), body


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
        Each letter's own entries (Quarto's ``search.json`` of its folder) with links made relative to ``year_dir`` and titles prefixed by
        the territory (``"Finistère (29) : <title of the letter>"``); letters in territory order.
    """
    deps, regions = _names()
    entries: list[dict[str, Any]] = []  # the listing page itself is indexed by the site (a page of it)
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
    """Write ``<theme>/<year>/search.json`` for every year with territorial letters; return their index entries,
    each with the listing page the site renders (``listing_page``).

    Parameters
    ----------
    site_dir : Path
    titles : dict
        Theme id -> title.

    Returns
    -------
    list of dict
        One site-index edition per (theme, year): ``theme, theme_title, year, html`` (the listing page), and
        ``listing_page``: ``path`` (``<theme>/<year>/index.qmd``, its place in the site), ``title``, ``body``
        (:func:`listing_page`); :func:`observatoire.publishing.rendering.site.write_site` renders it with the site's pages
        and :func:`place_listing` puts it in the year's folder.
    """
    entries = []
    for (theme, year), letters in sorted(territorial_editions(site_dir).items()):
        year_dir = Path(site_dir) / theme / str(year)
        title, body = listing_page(titles.get(theme, theme), year, letters)
        search = search_entries(year_dir, title, letters)
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
                "listing_page": {"path": f"{theme}/{year}/index.qmd", "title": title, "body": body},
            }
        )
    return entries


def place_listing(site_dir: Path, path: str, text: str) -> Path:
    """Write a rendered listing page (``<theme>/<year>/index.html``) into its year's folder, atomically and only
    when it changed; the letters' folders beside it are not touched."""
    target = Path(site_dir) / path
    _write_if_changed(target, text)
    return target
