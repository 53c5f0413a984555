"""The list of published editions, read from their manifests: what the site index shows.

Why a module of its own: the release publishes one edition, the batch many; both then rewrite the site index
from what is actually published (the manifests under ``_site/``), never from what they believe they built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.publishing import manifest as mf
from observatoire.publishing import territorial_site


def list_editions(site_dir: Path) -> list[dict[str, Any]]:
    """Every published edition under ``site_dir`` (read from the manifests), for the site index.

    Returns
    -------
    list of dict
        ``{"theme", "theme_title", "year", "html", "pdf", "notebooks", "manifest", "built_at", "lang"}`` as
        :func:`observatoire.publishing.rendering.write_site` reads them, paths relative to ``site_dir``
        (``"annual/2024/index.html"``); themes in the order of ``themes.yml``, then years, latest first.
    """
    site_dir = Path(site_dir)
    try:
        order = {tid: i for i, tid in enumerate(themes.load_themes())}
    except InputError:
        order = {}
    editions = []
    for path in sorted(site_dir.glob("*/*/" + mf.MANIFEST_NAME)):
        folder = path.parent
        if folder.name.startswith(".") or folder.parent.name.startswith("."):
            continue
        data = mf.read_manifest(folder)
        if not data:
            continue
        rel = folder.relative_to(site_dir).as_posix()
        letter = data.get("letter") or {}
        notebooks = sorted(
            name
            for name in (data.get("outputs") or {})
            if name.startswith("notebooks/") and name.endswith(".html")
        )
        editions.append(
            {
                "theme": data.get("theme", folder.parent.name),
                "theme_title": data.get("title") or data.get("theme", folder.parent.name),
                "year": int(data.get("year", 0) or 0),
                "html": f"{rel}/{letter['html']}" if letter.get("html") else None,
                "pdf": f"{rel}/{letter['pdf']}" if letter.get("pdf") else None,
                "notebooks": [f"{rel}/{name}" for name in notebooks],
                "manifest": f"{rel}/{mf.MANIFEST_NAME}",
                "built_at": data.get("built_at"),
                "lang": data.get("lang", "fr"),  # every language is listed (its title in its language)
            }
        )
    # Territorial letters (<theme>/<year>/<territory>/): one row per year, pointing to the year's listing page.

    titles = {tid: t.title for tid, t in themes.load_themes().items()} if order else {}
    editions += territorial_site.write_listings(site_dir, titles)
    editions.sort(key=lambda e: (order.get(e["theme"], len(order)), e["theme"], -e["year"]))
    return editions
