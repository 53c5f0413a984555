"""The published site's own pages, rendered by Quarto around the published editions: ``_site/index.html`` ...

Why a separate, small Quarto project: each edition is rendered once, in full, when it is built (:mod:`.edition`);
publishing an edition must then only refresh what lists the editions. That is this project, written under
``build/site-project/`` from the published manifests and rendered in a few seconds:

- ``index.html``: every edition, a Quarto listing (newest first, filterable by letter);
- ``lettres/<theme>.html``: one letter's editions (a listing) with its PDF, notebooks and manifest;
- ``editions.html``: the editions by year; ``methodes.html``: where each letter states its sources and methods;
  ``donnees.html``: the data behind each edition (source files with edition and checksum, facts, manifest);
- ``changelog.html``: every edition and revision, territorial letters included, with the dated corrections and
  what changed (:func:`observatoire.publishing.corrections.collect_changelog`); earlier revisions stay linked.

Its output is moved into ``_site/`` entry by entry (each an atomic rename), never touching the edition folders;
its ``search.json`` also indexes the pages of every edition, so the search box of the home page finds a word
in any letter. Same editions in, same bytes out (no build date is written).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from observatoire.core.escaping import markdown_text
from observatoire.core.formatting import NBSP
from observatoire.outputs.accessibility import make_accessible
from observatoire.outputs.words import site_text
from observatoire.publishing import territorial_site
from observatoire.publishing.corrections import collect_changelog, french_date

from . import quarto as q
from .common import FAVICON, SCSS_THEME, SEARCH, RenderError, read_search
from .edition import ASSETS_DIR
from .pages import breadcrumbs
from .website import NAVBAR_LABEL, SITE_PAGES, THEMES_DIR, ThemeLink, base_url, site_themes, website_settings

#: The language of the site's own pages (the letters in other languages are listed and linked from them).
LANG = "fr"


def _words(key: str, **values: Any) -> str:
    """One entry of the ``pages`` section of the site's words, in the site pages' language."""
    return site_text(LANG, f"pages.{key}", **values)


def _md(text: object) -> str:
    """Text from data, inert in Markdown: the one rule (:func:`observatoire.core.escaping.markdown_text`)."""
    return markdown_text(text)


def _code(text: object) -> str:
    """Text from data as inline code (backticks and pipes removed: a code span cannot escape them)."""
    return "`" + str(text).replace("`", "").replace("|", "") + "`"


def _rel(path: str | None, root: str) -> str | None:
    return f"{root}{path}" if path else None


def _listing_items(editions: list[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    return [
        {
            "title": f"{ed['theme_title']} {ed['year']}",
            "path": _rel(ed["html"], root),
            "description": _words("listing_description", year=ed["year"], title=ed["theme_title"]),
            "categories": [str(ed["theme_title"]), str(ed["year"])],
            "year": int(ed["year"]),
        }
        for ed in editions
        if ed.get("html")
    ]


def _files_line(ed: dict[str, Any], root: str) -> str:
    links = [f"[{_words('read')}]({_rel(ed['html'], root)})"] if ed.get("html") else []
    if ed.get("pdf"):
        links.append(f"[PDF]({_rel(ed['pdf'], root)})")
    for nb in ed.get("notebooks") or []:
        name = Path(nb).stem.replace("_", " ")
        links.append(f"[{_md(_words('notebook', name=name))}]({_rel(nb, root)})")
    if ed.get("manifest"):
        links.append(f"[{_words('manifest')}]({_rel(ed['manifest'], root)})")
    return " · ".join(links)


def _page(front: Mapping[str, Any], body: str) -> str:
    return "---\n" + yaml.safe_dump(dict(front), allow_unicode=True, sort_keys=False) + "---\n\n" + body


def _revision_lines(revisions: list[dict[str, Any]], indent: str) -> str:
    """Markdown list items, newest revision first: link, date, text, then what changed (nested)."""
    out = ""
    for rev in reversed(revisions):
        when = _words(
            "in_month" if len(str(rev.get("date") or "")) == 7 else "on_day",
            date=french_date(rev.get("date")),
        )
        out += (
            f"{indent}- [{_words('revision', revision=rev['revision'])}]({rev['href']}) {when}"
            f"{NBSP}: {_md(rev.get('text') or '')}\n"
        )
        out += "".join(f"{indent}    - {_md(change)}\n" for change in rev["changes"])
    return out


def _changelog_body(entries: list[dict[str, Any]]) -> str:
    """The changelog page: per letter and year, its revisions newest first, each dated, with what changed."""
    body = _words("changelog_intro") + "\n\n"
    section = None
    for entry in entries:
        heading = f"{entry['title']}, {entry['year']}"
        if heading != section:
            section = heading
            body += f"\n## {_md(heading)}\n\n"
        if entry.get("territory") is None:
            body += _revision_lines(entry["revisions"], "") + "\n"
        else:
            body += f"- **{_md(entry['place'])}**\n" + _revision_lines(entry["revisions"], "    ")
    return body if entries else body + _words("none") + "\n"


def site_pages(editions: list[dict[str, Any]], letters: list[ThemeLink], site_dir: Path) -> dict[str, str]:
    """The text of every file of the site project (``{relative path: text}``), listings included."""
    files: dict[str, str] = {}
    listing = {
        "contents": "editions.yml",
        "type": "table",
        "sort": ["year desc", "title"],
        "fields": ["title", "year"],
        "field-display-names": {"title": _words("listing_letter"), "year": _words("listing_year")},
        "categories": True,
        "sort-ui": False,
        "filter-ui": True,
        "page-size": 50,
    }
    files["editions.yml"] = yaml.safe_dump(_listing_items(editions, ""), allow_unicode=True, sort_keys=False)
    intro = _words("home_intro") + "\n"
    if not editions:
        intro += "\n" + _words("none_yet") + "\n"
    files["index.qmd"] = _page(
        {
            "title": _words("home_title"),
            "description": intro.splitlines()[0].strip(),
            **({"listing": listing} if editions else {}),
            "toc": False,
        },
        intro,
    )

    by_theme: dict[str, list[dict[str, Any]]] = {}
    for ed in editions:
        by_theme.setdefault(str(ed["theme"]), []).append(ed)
    for letter in letters:
        eds = by_theme.get(letter.id, [])
        files[f"{THEMES_DIR}/{letter.id}.yml"] = yaml.safe_dump(
            _listing_items(eds, "../"), allow_unicode=True, sort_keys=False
        )
        body = (_md(letter.description) + "\n\n") if letter.description else ""
        if eds:
            body += f"## {_words('files_heading')}\n\n" + "".join(
                f"- **{ed['year']}** : {_files_line(ed, '../')}\n" for ed in eds
            )
        else:
            body += _words("letter_none") + "\n"
        front: dict[str, Any] = {"title": letter.title}
        if eds:  # an empty listing makes Quarto's script throw in the reader's browser
            front["listing"] = {**listing, "contents": f"{letter.id}.yml", "categories": False}
        files[f"{THEMES_DIR}/{letter.id}.qmd"] = _page(front, body)

    years = sorted({int(ed["year"]) for ed in editions}, reverse=True)
    body = "".join(
        f"## {_words('year_heading', year=year)}\n\n"
        + "".join(
            f"- **{_md(ed['theme_title'])}** : {_files_line(ed, '')}\n"
            for ed in editions
            if int(ed["year"]) == year
        )
        + "\n"
        for year in years
    )
    files["editions.qmd"] = _page(
        {"title": site_text(LANG, "navbar.editions")}, body or _words("none") + "\n"
    )

    body = _words("methods_intro") + "\n\n"
    body += "".join(
        f"- [{_md(ed['theme_title'])} {ed['year']}]({ed['html']}#methodes)\n"
        for ed in editions
        if ed.get("html") and not ed.get("listing_page")  # a listing of letters has no such section
    )
    files["methodes.qmd"] = _page({"title": _words("methods_title")}, body)

    body = _words("data_intro") + "\n\n"
    for ed in editions:
        manifest = site_dir / (ed.get("manifest") or "")
        data = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
        body += f"## {_md(ed['theme_title'])} {ed['year']}\n\n{_files_line(ed, '')}\n\n"
        inputs = data.get("inputs") or []
        if inputs:
            headers = (_words("data_source"), _words("data_file"), _words("data_edition"), "SHA-256")
            body += "| " + " | ".join(headers) + " |\n| --- | --- | --- | --- |\n"
            body += "".join(
                f"| {_code(i.get('source_id', ''))} | {_md(i.get('file', ''))} | {_md(i.get('edition', ''))} "
                f"| {_code(str(i.get('sha256', ''))[:16])}… |\n"
                for i in inputs
            )
            body += "\n"
    files["donnees.qmd"] = _page({"title": _words("data_title")}, body)
    files["changelog.qmd"] = _page(
        {"title": _words("changelog_title")},
        _changelog_body(collect_changelog(site_dir, editions)),
    )
    # The territorial letters' listing of each year, a page of the site (observatoire.publishing.territorial_site).
    for ed in editions:
        page = ed.get("listing_page")
        if page:
            files[page["path"]] = _page({"title": page["title"], "toc": True}, page["body"])
    return files


def _place_listings(
    rendered: Path, site_dir: Path, editions: list[dict[str, Any]], letters: list[ThemeLink]
) -> None:
    """Put each rendered listing page in its year's folder (with its breadcrumbs), then drop it from ``rendered``.

    A listing page sits among the letters of its year (``<theme>/<year>/index.html``); those folders are the
    editions', so the page is written alone (:func:`observatoire.publishing.territorial_site.place_listing`) instead of being
    moved in with the site's other pages, which replace their folder whole.
    """
    titles = {t.id: t.title for t in letters}
    for ed in editions:
        page = ed.get("listing_page")
        if not page:
            continue
        html_path = rendered / page["path"].replace(".qmd", ".html")
        if not html_path.is_file():
            raise RenderError(page["path"], "quarto", "Quarto wrote no listing page")
        crumbs = [
            (site_text("fr", "site.home"), "../../index.html"),
            (titles.get(ed["theme"], ed["theme_title"]), f"../../{THEMES_DIR}/{ed['theme']}.html"),
            (site_text("fr", "site.territorial_listing", year=ed["year"]), None),
        ]
        text = breadcrumbs(html_path.read_text(encoding="utf-8"), crumbs)
        territorial_site.place_listing(site_dir, page["path"].replace(".qmd", ".html"), text)
    for theme in {ed["theme"] for ed in editions if ed.get("listing_page")}:
        shutil.rmtree(rendered / str(theme), ignore_errors=True)


def site_config(letters: list[ThemeLink]) -> dict:
    """The site project's ``_quarto.yml``."""
    config = website_settings("", letters, base_url())
    config["project"] = {
        "type": "website",
        "output-dir": "_site",
        "render": [name for name, _ in SITE_PAGES] + [f"{THEMES_DIR}/*.qmd"],
    }
    config["format"] = {
        "html": {
            "theme": ["default", f"{ASSETS_DIR}/letter.scss"],
            "toc": True,
            "toc-title": site_text(LANG, "site.toc_title"),
            # no formula on any page: no MathJax (Quarto would load it from a CDN for the listings)
            "html-math-method": "plain",
        }
    }
    return config


def _merged_search(rendered: Path, site_dir: Path, editions: list[dict[str, Any]]) -> list[dict]:
    """The site pages' search entries, then every edition's, their links made relative to the site root."""
    entries = read_search(rendered / SEARCH)
    for ed in editions:
        if not ed.get("html"):
            continue
        folder = Path(ed["html"]).parent.as_posix()
        for entry in read_search(site_dir / folder / SEARCH):
            entry = dict(entry)
            for key in ("objectID", "href"):
                if isinstance(entry.get(key), str) and not re.match(r"^[a-z]+:", entry[key]):
                    entry[key] = f"{folder}/{entry[key]}"
            entries.append(entry)
    return entries


def _swap_in(staged: Path, site_dir: Path) -> None:
    """Move every file of ``staged`` to the same place in ``site_dir``, one rename each; then remove the files
    of the folders it owns (``lettres/``, ``site_libs/`` ...) that the new pages no longer have.

    ``staged`` is inside ``site_dir`` (one file system), so each rename is atomic: a reader sees every page
    either as it was or as it is now, never half written nor missing.
    """
    moved: set[Path] = set()
    for entry in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = site_dir / entry.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(entry, target)
        moved.add(target)
    for folder in sorted(p for p in staged.iterdir() if p.is_dir()):
        for old in sorted((site_dir / folder.name).rglob("*"), reverse=True):
            if old.is_file() and old not in moved:
                old.unlink()
            elif old.is_dir() and not any(old.iterdir()):
                old.rmdir()


def write_site(
    site_dir: str | Path,
    editions: list[dict[str, Any]],
    *,
    work_dir: str | Path,
    letters: list[ThemeLink] | None = None,
) -> Path:
    """Render the site's own pages around the published editions and move them into ``site_dir``.

    Parameters
    ----------
    site_dir : str or Path
        The published site (``_site/``), holding the editions in ``<theme>/<year>/``.
    editions : list of dict
        One per edition (:func:`observatoire.publishing.site_listing.list_editions`): ``theme``, ``theme_title``, ``year``,
        ``html``, ``pdf``, ``notebooks`` (HTML pages), ``manifest``; paths relative to ``site_dir``. Themes in the
        order wanted, years newest first.
    work_dir : str or Path
        Where the Quarto project is written and rendered (emptied first; ``build/site-project``).
    letters : list of ThemeLink, optional
        The navbar's letters (default: ``publications/themes.yml``).

    Returns
    -------
    Path
        ``site_dir/index.html``.

    Raises
    ------
    RenderError
        Quarto failed; ``site_dir`` is left as it was.
    """
    site_dir, work = Path(site_dir), Path(work_dir)
    letters = site_themes() if letters is None else letters
    shutil.rmtree(work, ignore_errors=True)
    (work / ASSETS_DIR).mkdir(parents=True)
    (work / THEMES_DIR).mkdir()
    shutil.copyfile(SCSS_THEME, work / ASSETS_DIR / SCSS_THEME.name)
    shutil.copyfile(FAVICON, work / ASSETS_DIR / FAVICON.name)
    config = site_config(letters)
    config["project"]["render"] += [ed["listing_page"]["path"] for ed in editions if ed.get("listing_page")]
    (work / "_quarto.yml").write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    for name, text in site_pages(editions, letters, site_dir).items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0") or "0"}
    q.run_quarto(["render", ".", "--to", "html"], cwd=work, env=env, what=work / "_quarto.yml")
    rendered = work / "_site"
    if not (rendered / "index.html").is_file():
        raise RenderError(work / "index.qmd", "quarto", "Quarto wrote no index.html")
    for extra in ("sitemap.xml", "robots.txt", "listings.json"):
        (rendered / extra).unlink(missing_ok=True)
    make_accessible(rendered, NAVBAR_LABEL)
    _place_listings(rendered, site_dir, editions, letters)
    search = _merged_search(rendered, site_dir, editions)
    (rendered / SEARCH).write_text(json.dumps(search, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    site_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".staging-site-", dir=site_dir))
    try:
        for entry in rendered.iterdir():
            shutil.move(str(entry), staged / entry.name)
        _swap_in(staged, site_dir)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return site_dir / "index.html"
