"""The published site's front page, ``_site/index.html``: every theme and edition, with its files.

Why generated here: the page must list exactly what was published, with links that keep working when the
``_site/`` folder is moved or served from a sub-path (so every link is relative), and it must be byte-identical
for the same editions (no build date), so that a re-run changes nothing. It uses the letters' stylesheet, so
the site and the letters look alike, and stays one self-contained file.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from .common import CSS
from .fallback import write_atomic

SITE_INDEX = "index.html"


def _href(target: str | Path | None, site_dir: Path) -> str | None:
    """A link relative to ``site_dir`` (URL form), whatever form the path was given in."""
    if target is None or target == "":
        return None
    path = Path(target)
    if path.is_absolute():
        path = Path(os.path.relpath(path.resolve(), site_dir.resolve()))
    return "/".join(html.escape(part, quote=True) for part in path.as_posix().split("/"))


def _link(href: str | None, text: str, label: str) -> str:
    if href is None:
        return '<span class="na">—</span>'
    # The accessible name starts with the visible text (WCAG 2.5.3, axe's label-content-name-mismatch).
    return f'<a href="{href}" aria-label="{html.escape(f"{text} : {label}", quote=True)}">{html.escape(text)}</a>'


def _notebook_name(path: str | Path) -> str:
    return Path(path).stem.replace("_", " ")


def render_site_index(site_dir: str | Path, editions: list[dict]) -> str:
    """The HTML text of the site index (see :func:`write_site_index`)."""
    site_dir = Path(site_dir)
    themes: dict[str, dict] = {}
    for ed in editions:
        missing = [k for k in ("theme", "year", "html") if k not in ed]
        if missing:
            raise ValueError(f"edition {ed!r} lacks {', '.join(missing)}")
        entry = themes.setdefault(
            str(ed["theme"]), {"title": str(ed.get("theme_title") or ed["theme"]), "eds": []}
        )
        entry["eds"].append(ed)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr" xml:lang="fr">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        "<title>Lettres de l’Observatoire national des violences faites aux femmes</title>",
        f"<style>\n{CSS.read_text(encoding='utf-8')}\n"
        ".editions td, .editions th { white-space: nowrap; } .editions td.notebooks { white-space: normal; }\n"
        ".notebooks ul { margin: 0; padding-left: 1.1rem; } .editions th[scope=row] { text-align: left; }\n</style>",
        "</head>",
        "<body>",
        '<a class="skip-link" href="#contenu">Aller au contenu</a>',
        '<header id="title-block-header" class="letter-header">',
        '<div class="letter-band"><p class="letter-series">Observatoire national des violences faites aux femmes'
        " – MIPROF</p></div>",
        '<h1 class="title">Lettres de l’Observatoire</h1>',
        '<p class="subtitle">Toutes les éditions publiées, par thème, avec leurs données et leurs carnets de calcul.</p>',
        "</header>",
        '<main id="contenu">',
    ]
    if not themes:
        parts.append("<p>Aucune édition publiée pour l’instant.</p>")
    for key, entry in themes.items():  # the caller's order (release.py: the order of themes.yml)
        title = html.escape(entry["title"])
        hid = "theme-" + "".join(c if c.isalnum() else "-" for c in key.casefold())
        parts.append(f'<section aria-labelledby="{hid}">')
        parts.append(f'<h2 id="{hid}">{title}</h2>')
        parts.append('<table class="editions">')
        parts.append(f"<caption>Éditions de la lettre «\u202f{title}\u202f»</caption>")
        parts.append(
            '<thead><tr><th scope="col">Année</th><th scope="col">Lettre</th><th scope="col">PDF</th>'
            '<th scope="col">Carnets de calcul</th><th scope="col">Manifeste</th></tr></thead>'
        )
        parts.append("<tbody>")
        for ed in sorted(entry["eds"], key=lambda e: str(e["year"]), reverse=True):
            year = html.escape(str(ed["year"]))
            what = f"{entry['title']} {ed['year']}"
            notebooks = ed.get("notebooks") or []
            if notebooks:
                items = "".join(
                    f"<li>{_link(_href(nb, site_dir), _notebook_name(nb), f'Carnet {_notebook_name(nb)}, {what}')}</li>"
                    for nb in notebooks
                )
                nb_cell = f"<ul>{items}</ul>"
            else:
                nb_cell = '<span class="na">—</span>'
            parts.append(
                "<tr>"
                f'<th scope="row">{year}</th>'
                f"<td>{_link(_href(ed['html'], site_dir), 'Lire (HTML)', f'Lettre {what}, HTML')}</td>"
                f"<td>{_link(_href(ed.get('pdf'), site_dir), 'PDF', f'Lettre {what}, PDF')}</td>"
                f'<td class="notebooks">{nb_cell}</td>'
                f"<td>{_link(_href(ed.get('manifest'), site_dir), 'manifest.json', f'Manifeste {what}')}</td>"
                "</tr>"
            )
        parts.append("</tbody>")
        parts.append("</table>")
        parts.append("</section>")
    parts += [
        "</main>",
        '<footer class="letter-footer">',
        "<p>Chaque lettre indique ses sources et l’édition des données utilisée ; le manifeste de chaque édition "
        "donne les empreintes de ses fichiers d’entrée et de sortie.</p>",
        "<p>Données SSMSI et Insee : Licence Ouverte / Etalab 2.0.</p>",
        "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def write_site_index(site_dir: str | Path, editions: list[dict]) -> Path:
    """Write ``site_dir/index.html``: every edition, grouped by theme, newest year first.

    Parameters
    ----------
    site_dir : str or Path
        The published site (``_site/``).
    editions : list of dict
        One per edition: ``theme``, ``theme_title``, ``year``, ``html``, ``pdf``, optional ``notebooks`` (list
        of HTML paths) and ``manifest``; other keys are ignored. Paths are absolute or relative to
        ``site_dir``; links are written relative to ``site_dir``.

    Returns
    -------
    Path
        The index file. Themes appear in the order they first appear in ``editions``, years newest first
        within a theme; same editions in, same bytes out (no date is written).
    """
    site_dir = Path(site_dir)
    path = site_dir / SITE_INDEX
    write_atomic(path, render_site_index(site_dir, editions).encode("utf-8"))
    return path
