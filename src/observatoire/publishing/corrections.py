"""Corrections and history: a published edition is corrected as a new revision, never silently replaced.

Why. A letter is cited; once published, a reader must be able to tell that it changed, when, why and what
changed, and to read the version they cited. So ``make release YEAR=2024 CORRECTION="..."``:

- builds the edition again and publishes it as revision N+1, with a dated notice at the top of the letter (a
  callout in the publication, so the HTML and the PDF both carry it) linking to the previous revision;
- keeps every previous revision reachable inside the edition: ``<theme>/<year>/revisions/<n>/`` (the published
  folder is still replaced in one atomic rename, with its past inside it);
- records the revision in the manifest (``revision``, ``history``: date, text and what changed, from
  :func:`observatoire.publishing.diff.compare` between the previous revision and the new one);
- lists every edition and revision of every letter, territorial letters included, in the site changelog
  (``_site/changelog.json``, and the page ``_site/changelog.html`` in the site's navbar).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from observatoire.core import atomic
from observatoire.core.errors import InputError
from observatoire.core.escaping import markdown_text
from observatoire.core.formatting import NBSP, format_date
from observatoire.data.territory_codes import REGION_PREFIX
from observatoire.outputs.words import site_text
from observatoire.publishing import diff, territorial_site
from observatoire.publishing import manifest as mf
from observatoire.publishing.site_listing import list_editions

__all__ = [
    "REVISIONS",
    "french_date",
    "notice_markdown",
    "add_notice",
    "archive_previous",
    "describe_changes",
    "revision_fields",
    "collect_changelog",
    "write_changelog",
]

#: Folder of an edition holding its previous revisions (``revisions/1/``, ``revisions/2/`` ...).
REVISIONS = "revisions"
#: The site's changelog data, at its root.
CHANGELOG = "changelog.json"
_FIRST = "Première publication"


def french_date(value: str | None) -> str:
    """``"2025-01-15..."`` -> ``"15 janvier 2025"`` (``core.formatting.format_date``); None -> "date inconnue"."""
    return format_date(value) if value else "date inconnue"


def first_date(manifest: dict[str, Any]) -> str | None:
    """The date of an edition's first publication: the letter's own date (``letter.date`` of the manifest, as
    precise as the letter prints it), else the day it was built."""
    return (manifest.get("letter") or {}).get("date") or manifest.get("built_at")


def _revision(manifest: dict[str, Any] | None) -> int:
    return int((manifest or {}).get("revision") or 1)


def notice_markdown(text: str, date: str, revision: int, lang: str = "fr") -> str:
    """The correction notice, a callout placed at the top of the letter, in the letter's language.

    Its words are the section ``correction`` of ``publications/_shared/site_words.yml``.

    Parameters
    ----------
    text : str
        What was corrected, as its author wrote it (escaped for Markdown here).
    date : str
        ISO date of the correction.
    revision : int
        The new revision's number (the previous one is ``revision - 1``).
    lang : {"fr", "en"}, default "fr"
        The letter's language.

    Returns
    -------
    str
    """
    previous = revision - 1
    link = f"{REVISIONS}/{previous}/index.html"
    heading = site_text(lang, "correction.heading", revision=revision, corrected=date)
    back = site_text(lang, "correction.previous", previous=previous, link=link)
    return f"::: {{.callout-important}}\n## {heading}\n\n{markdown_text(text.strip())}\n\n{back}\n:::\n\n"


def add_notice(index_qmd: Path, notice: str) -> None:
    """Insert ``notice`` right after the front matter of the staged ``index.qmd``."""
    text = index_qmd.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n") if text.startswith("---") else ("", "", text)
    if sep:
        text = head + sep + "\n" + notice + body.lstrip("\n")
    else:
        text = notice + text
    index_qmd.write_text(text, encoding="utf-8")


def archive_previous(published: Path, edition_site: Path) -> int:
    """Copy the published edition (and its own past revisions) into ``edition_site/revisions/``.

    Parameters
    ----------
    published : Path
        The edition as published now (``_site/<theme>/<year>``).
    edition_site : Path
        The new revision, before publication.

    Returns
    -------
    int
        The number of the revision archived.
    """
    number = _revision(mf.read_manifest(published))
    target = edition_site / REVISIONS
    if (published / REVISIONS).is_dir():
        shutil.copytree(published / REVISIONS, target, dirs_exist_ok=True)
    shutil.copytree(published, target / str(number), ignore=shutil.ignore_patterns(REVISIONS))
    return number


def describe_changes(previous: Path, new: Path) -> list[str]:
    """What changed between two revisions, one French line per changed, added or removed figure or cell."""
    report = diff.compare(previous, new, "révision précédente", "révision corrigée")
    lines = [
        f"{change.item}{NBSP}: {diff._fmt(change.old)} → {diff._fmt(change.new)}" for change in report.changes
    ]
    lines += [f"ajouté{NBSP}: {item}" for item in report.added]
    lines += [f"retiré{NBSP}: {item}" for item in report.removed]
    return lines


def revision_fields(previous: dict[str, Any], text: str, date: str, changes: list[str]) -> dict[str, Any]:
    """The manifest fields of a new revision: ``revision`` and ``history`` (oldest first).

    Parameters
    ----------
    previous : dict
        The manifest of the revision being corrected.
    text : str
        What was corrected.
    date : str
        ISO date (or timestamp) of the correction.
    changes : list of str
        From :func:`describe_changes`.

    Returns
    -------
    dict
    """
    history = list(previous.get("history") or [])
    if not history:
        history = [{"revision": _revision(previous), "date": first_date(previous), "text": _FIRST}]
    revision = _revision(previous) + 1
    history.append({"revision": revision, "date": date, "text": text.strip(), "changes": changes})
    return {"revision": revision, "history": history}


def _territory_names() -> dict[str, str]:
    """Territory code -> name (``"75"`` -> ``"Paris"``, ``"reg-11"`` -> ``"Île-de-France"``); empty without data."""
    from observatoire.data import datasets  # lazy: the no-change release path stays without pandas

    try:
        geo = datasets.geography()
    except (InputError, OSError):
        return {}
    names = dict(zip(geo["code_departement"], geo["nom_departement"], strict=True))
    names.update(
        {REGION_PREFIX + code: name for code, name in zip(geo["code_region"], geo["nom_region"], strict=True)}
    )
    return names


def _entry(site_dir: Path, folder: Path, base: dict[str, Any]) -> dict[str, Any]:
    """One changelog entry: ``base`` with the revisions of the edition published in ``folder``."""
    manifest = mf.read_manifest(folder) or {}
    rel = folder.relative_to(site_dir).as_posix()
    current = _revision(manifest)
    history = manifest.get("history") or [{"revision": current, "date": first_date(manifest), "text": _FIRST}]
    revisions = []
    for item in history:
        number = int(item["revision"])
        href = f"{rel}/index.html" if number == current else f"{rel}/{REVISIONS}/{number}/index.html"
        revisions.append({**item, "changes": list(item.get("changes") or []), "href": href})
    return {**base, "revisions": revisions}


def collect_changelog(site_dir: Path, editions: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every published edition with its revisions, from the manifests: the data of the site changelog.

    Parameters
    ----------
    site_dir : Path
        The published site.
    editions : list of dict, optional
        :func:`observatoire.publishing.site_listing.list_editions` of ``site_dir`` (read when not given).

    Returns
    -------
    list of dict
        ``{"theme", "title", "year", "href", "territory", "place", "revisions": [{"revision", "date", "text",
        "changes", "href"}]}``, in the order of the editions; revisions oldest first. A year of territorial
        letters (one listing row) gives one entry per territorial letter, sorted by code, with ``territory``
        (its code, ``"75"``, ``"reg-11"``) and ``place`` (its name); both are None for the other letters.
    """
    site_dir = Path(site_dir)
    editions = list_editions(site_dir) if editions is None else editions
    territorial = territorial_site.territorial_editions(site_dir)
    names = _territory_names() if territorial else {}
    entries = []
    for edition in editions:
        base = {"theme": edition["theme"], "title": edition["theme_title"], "year": edition["year"]}
        if edition.get("manifest"):
            folder = site_dir / Path(edition["manifest"]).parent
            entries.append(
                _entry(site_dir, folder, {**base, "href": edition["html"], "territory": None, "place": None})
            )
            continue
        # a listing row: the territorial letters of a year, each an edition with its own revisions
        year_dir = site_dir / str(edition["theme"]) / str(edition["year"])
        for letter in territorial.get((str(edition["theme"]), int(edition["year"])), []):
            code = letter["territory"]
            shown = {
                **base,
                "place": names.get(code, code),
                "href": f"{year_dir.relative_to(site_dir).as_posix()}/{letter['html']}"
                if letter["html"]
                else None,
                "territory": code,
            }
            entries.append(_entry(site_dir, year_dir / code, shown))
    return entries


def write_changelog(site_dir: Path) -> Path:
    """Write ``changelog.json`` at the site's root: every edition and revision (:func:`collect_changelog`).

    The site's changelog page (``changelog.html``, in the navbar) is rendered from the same data with the
    site's other pages (:mod:`observatoire.publishing.rendering.site`).

    Returns
    -------
    Path
        The JSON file. Same manifests in, same bytes out.
    """
    site_dir = Path(site_dir)
    text = json.dumps(collect_changelog(site_dir), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return atomic.write_text(site_dir / CHANGELOG, text)  # a reader sees the old file or the new, never half
