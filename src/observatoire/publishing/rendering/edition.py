"""Render one edition of a letter with Quarto: its website pages (the letter, its notebooks) and its PDF.

Why each edition is a Quarto website project of its own: a published edition never changes, so it is rendered
once, in full, in the build folder, and moved into ``_site/<theme>/<year>/`` in one rename (see
:mod:`observatoire.publishing.release`); publishing next year's letter re-renders only the site's small listing pages
(:mod:`.site`), never the letters. The edition's pages carry the site's navbar, search and look
(:mod:`.website`), with links relative to the site root, so a reader does not see the seam.

The staged project is never modified: it is copied to a scratch folder, the look's files are written into
``_observatoire/`` there, and the project's ``_quarto.yml`` is merged with :func:`edition_settings`.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from observatoire.core.formatting import MONTHS_EN, MONTHS_FR, format_date
from observatoire.core.yamlfile import load_yaml_text, read_yaml
from observatoire.outputs.accessibility import make_accessible
from observatoire.outputs.templates import french_typography
from observatoire.outputs.words import LANGUAGES, site_text, site_words

from . import notebooks as notebook_pages
from . import quarto as q
from .common import (
    FAVICON,
    FORMATS,
    HTML_NAME,
    LUA_FILTERS,
    PDF_NAME,
    RENDERER,
    SCSS_THEME,
    SEARCH,
    TYPST_LIBRARY,
    TYPST_SHOW,
    RenderError,
    RenderResult,
    read_search,
    timestamp_for,
    write_search,
)
from .pages import finish_edition
from .website import NAVBAR_LABEL, ThemeLink, base_url, site_themes, website_settings

#: Folder, inside the scratch copy of the project, where the look's files are written.
ASSETS_DIR = "_observatoire"
PROJECT = "_quarto.yml"
INDEX = "index.qmd"
VARIABLES = "_variables.yml"
NOTEBOOKS_DIR = "notebooks"
#: Files Quarto writes for a website that an edition does not publish (the site has its own).
NOT_PUBLISHED = ("sitemap.xml", "robots.txt")
_SHORTCODE = re.compile(r"\{\{<\s*(var|meta)\s+([\w.-]+)\s*>\}\}")


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def edition_settings(edition: str, letters: list[ThemeLink], notebooks: bool, url: str) -> dict:
    """The Quarto settings an edition is rendered with (paths relative to the project).

    Parameters
    ----------
    edition : str
        Its place in the site, ``"annual/2024"``: gives the links to the site root and its public address.
    letters : list of ThemeLink
        The navbar's letters.
    notebooks : bool
        Whether ``notebooks/*.ipynb`` (executed notebooks) are pages of the edition.
    url : str
        Public address of the site root (the PDF's links are made absolute under it).
    """
    depth = len([part for part in edition.split("/") if part])
    settings = website_settings("../" * depth, letters, f"{url}{edition.strip('/')}/")
    settings["project"] = {
        "type": "website",
        "output-dir": "_site",
        "render": [INDEX] + ([f"{NOTEBOOKS_DIR}/*.ipynb"] if notebooks else []),
    }
    settings["observatoire-url"] = f"{url}{edition.strip('/')}/"
    settings["filters"] = [
        {"path": f"{ASSETS_DIR}/letter-pdf.lua", "at": "pre-quarto"},
        {"path": f"{ASSETS_DIR}/letter.lua", "at": "post-render"},
    ]
    settings["format"] = {
        "html": {
            "theme": ["default", f"{ASSETS_DIR}/letter.scss"],
            "toc": True,
            "toc-depth": 2,
            "link-external-newwindow": False,
            # no formula in any letter: no MathJax (Quarto would load it from a CDN)
            "html-math-method": "plain",
            # The PDF, offered beside the letter under its own name (Quarto would call it "Typst"). A format name
            # in the list stops Quarto from adding a link per rendered format; "pdf" (LaTeX) is never rendered
            # here, so it adds no link of its own.
            "format-links": [{"text": "PDF (A4)", "href": PDF_NAME, "icon": "file-pdf"}, "pdf"],
        },
        "typst": {
            "papersize": "a4",
            "output-file": PDF_NAME,
            "template-partials": [f"{ASSETS_DIR}/typst-template.typ", f"{ASSETS_DIR}/typst-show.typ"],
            "keep-typ": False,
        },
    }
    return settings


#: What a publication's own ``_quarto.yml`` decides over the site's settings: its language and the words Quarto
#: prints (the English letter sets "Table", "On this page" ...).
OWN_WORDS = ("lang", "crossref", "language")


def merge_settings(project_config: dict | None, settings: dict) -> dict:
    """The project's ``_quarto.yml`` (its metadata: year, edition ...) with the edition's settings laid over.

    The words are the publication's: its ``lang``, ``crossref`` and ``language`` keys and the ``toc-title`` of
    its HTML format win over the site's French defaults.
    """
    config = dict(project_config or {})
    config.pop("project", None)
    merged = _deep_merge(config, settings)
    for key in OWN_WORDS:
        if key in config:
            site = settings.get(key)
            merged[key] = _deep_merge(site, config[key]) if isinstance(site, dict) else config[key]
    own = ((config.get("format") or {}).get("html") or {}).get("toc-title")
    if own:
        merged["format"]["html"]["toc-title"] = own
    return merged


def letter_date(project_dir: Path) -> str | None:
    """The letter's date from its front matter, ``{{< var >}}``/``{{< meta >}}`` resolved (``"2024-11-25"``)."""
    text = (project_dir / INDEX).read_text(encoding="utf-8")
    front = re.match(r"---\n(.*?)\n---\n", text, re.S)
    meta = load_yaml_text(front.group(1), project_dir / INDEX) if front else {}
    date = (meta or {}).get("date")
    if date is None:
        return None
    date = str(date)
    values: dict = {}
    for name in (VARIABLES, PROJECT):
        path = project_dir / name
        if path.is_file():
            loaded = read_yaml(path)
            if isinstance(loaded, dict):
                values.update(loaded)
    return _SHORTCODE.sub(lambda m: str(values.get(m.group(2), m.group(0))), date)


def quarto_date(text: str | None) -> tuple[str, str] | None:
    """The letter's date as Quarto parses it, with the format that prints it as written.

    ``"2024-11-25"`` -> ``("2024-11-25", "D MMMM YYYY")`` (printed "25 novembre 2024"); ``"novembre 2025"`` ->
    ``("2025-11-01", "MMMM YYYY")`` (printed "novembre 2025": Quarto cannot parse French month names, and an
    unparsed date prints "Invalid Date"). None for any other text.
    """
    if text is None:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text, "D MMMM YYYY"
    found = re.fullmatch(r"([^\W\d_]+)\s+(\d{4})", text)
    for months in (MONTHS_FR, MONTHS_EN):  # the French letter, the English one ("November 2025")
        if found and found.group(1).casefold() in months:
            return f"{found.group(2)}-{months.index(found.group(1).casefold()) + 1:02d}-01", "MMMM YYYY"
    return None


def date_as_printed(text: str | None) -> str | None:
    """The letter's date at the precision it is printed: ``"2024-11-25"``, ``"2025-11"`` ("novembre 2025")."""
    parsed = quarto_date(text)
    if parsed is None:
        return None
    return parsed[0] if parsed[1].startswith("D") else parsed[0][:7]


def front_matter(project_dir: Path) -> dict:
    """The letter's front matter (``index.qmd``), as written in the staged project."""
    text = (project_dir / INDEX).read_text(encoding="utf-8")
    found = re.match(r"---\n(.*?)\n---\n", text, re.S)
    loaded = load_yaml_text(found.group(1), project_dir / INDEX) if found else {}
    return loaded if isinstance(loaded, dict) else {}


def letter_lang(project_dir: Path) -> str:
    """The letter's language: its front matter's ``lang``, else its project's, else French."""
    config_path = project_dir / PROJECT
    config = read_yaml(config_path) if config_path.is_file() else {}
    lang = front_matter(project_dir).get("lang") or (config or {}).get("lang") or "fr"
    return lang if lang in LANGUAGES else "fr"


def cite_metadata(project_dir: Path, address: str) -> dict[str, str]:
    """The "Citer cette lettre" block of a letter (``observatoire-cite``, added at its end by letter.lua).

    Its heading and sentence are the ``cite`` words of the letter's language, filled with the letter's title and
    subtitle, its date as printed and its public ``address`` (the edition's ``observatoire-url``).
    """
    lang = letter_lang(project_dir)
    meta = front_matter(project_dir)
    title = ", ".join(str(meta[k]).strip() for k in ("title", "subtitle") if meta.get(k))
    date = date_as_printed(letter_date(project_dir))
    printed = format_date(date, day=len(date) > 7, lang=lang) if date else (letter_date(project_dir) or "")
    words = site_words(lang)["cite"]
    text = site_text(lang, "cite.text", author=words["author"], title=title, date=printed, url=f"<{address}>")
    block = {"heading": words["heading"], "text": text, "data": words["data"]}
    return {k: french_typography(v) for k, v in block.items()} if lang == "fr" else block


def letter_metadata(project_dir: Path, address: str) -> dict:
    """What the letter's filters print around it, in its language (site_words): the "Citer cette lettre" block
    (``observatoire-cite``) and the words of the download link under each figure and table (``data-link``)."""
    words = site_words(letter_lang(project_dir))["downloads"]
    return {
        "observatoire-cite": cite_metadata(project_dir, address),
        "data-link": {"text": words["main"], "figure": words["main_figure"], "table": words["main_table"]},
    }


def _set_date(index: Path, date: tuple[str, str] | None) -> None:
    """Write the letter's resolved date (and its format) into the front matter of the scratch copy."""
    if date is None:
        return
    text = index.read_text(encoding="utf-8")
    front = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not front:
        return
    lines = [line for line in front.group(1).splitlines() if not re.match(r"(date|date-format):", line)]
    lines += [f'date: "{date[0]}"', f'date-format: "{date[1]}"']
    index.write_text("---\n" + "\n".join(lines) + "\n---\n" + text[front.end() :], encoding="utf-8")


def write_assets(assets: Path) -> None:
    """Write the look's files (typst partials, SCSS theme, Lua filters, icon) into ``assets`` (created)."""
    assets.mkdir()
    shutil.copyfile(FAVICON, assets / FAVICON.name)
    shutil.copyfile(TYPST_LIBRARY, assets / "typst-template.typ")
    shutil.copyfile(TYPST_SHOW, assets / "typst-show.typ")
    shutil.copyfile(SCSS_THEME, assets / "letter.scss")
    for lua in LUA_FILTERS:
        shutil.copyfile(lua, assets / lua.name)


def stage_for_quarto(project_dir: Path, work: Path, settings: dict) -> Path:
    """Copy the project into ``work`` with the look's assets and the merged ``_quarto.yml``; return the copy."""
    dest = work / "project"
    shutil.copytree(project_dir, dest, ignore=shutil.ignore_patterns("_site", ".quarto", "*_files"))
    write_assets(dest / ASSETS_DIR)
    config_path = dest / PROJECT
    config = read_yaml(config_path) if config_path.is_file() else {}
    merged = merge_settings(config if isinstance(config, dict) else {}, settings)
    merged.update(letter_metadata(project_dir, settings["observatoire-url"]))
    config_path.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _set_date(dest / INDEX, quarto_date(letter_date(project_dir)))
    notebook_pages.write_headers(dest)
    return dest


def _install_output(rendered: Path, out_dir: Path, html: Callable[[str, int], str] | None = None) -> None:
    """Copy Quarto's output folder into ``out_dir`` (which may already hold other files).

    ``html(text, depth)``, when given, rewrites each page on the way (``depth``: its folder depth).
    """
    for path in sorted(rendered.rglob("*")):
        rel = path.relative_to(rendered)
        if path.is_dir() or rel.as_posix() in NOT_PUBLISHED:
            continue
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if html is not None and path.suffix == ".html":
            target.write_text(html(path.read_text(encoding="utf-8"), len(rel.parts) - 1), encoding="utf-8")
        else:
            shutil.copyfile(path, target)


def finish_pages(out_dir: Path, project_dir: Path, edition: str, letters: list[ThemeLink]) -> None:
    """The rendered pages' place in the site (:func:`.pages.finish_edition`): breadcrumbs with the letter's title
    and the publication's ``breadcrumb`` (front matter), links to the site root, the phone's contents."""
    theme = edition.strip("/").split("/")[0]
    link = next((t for t in letters if t.id == theme), None)
    titles = {lang: link.title_in(lang) for lang in LANGUAGES} if link else dict.fromkeys(LANGUAGES, theme)
    label = front_matter(project_dir).get("breadcrumb")
    every = {t.id: {lang: t.title_in(lang) for lang in LANGUAGES} for t in letters}
    finish_edition(
        out_dir, edition, titles, str(label).strip() if label else None, project_dir / "figures", every
    )


def _order_search(rendered: Path) -> None:
    """Write the search index of a render in :func:`.common.order_search`'s order."""
    if (rendered / SEARCH).is_file():
        write_search(rendered / SEARCH, read_search(rendered / SEARCH))


def _render_pages_apart(work: Path, tmp: Path, project_dir: Path, settings: dict, env: dict) -> list[str]:
    """Render the letter (HTML and PDF) in ``work`` and its notebook pages in a second copy of the project, two
    Quarto calls at once; bring the pages and their search entries into ``work/_site``. Returns the logs."""
    pages_settings = copy.deepcopy(settings)
    pages_settings["project"]["render"] = [f"{NOTEBOOKS_DIR}/*.ipynb"]
    pages_work = stage_for_quarto(project_dir, tmp / "pages", pages_settings)
    # the pages are HTML only, as in one call (no "other formats" links to a letter.pdf beside them)
    (pages_work / NOTEBOOKS_DIR / "_metadata.yml").write_text("format: html\n", encoding="utf-8")
    letter_config = read_yaml(work / PROJECT)
    letter_config["project"]["render"] = [INDEX]
    (work / PROJECT).write_text(yaml.safe_dump(letter_config, allow_unicode=True, sort_keys=False), "utf-8")

    def call(where: Path, args: list[str]) -> str:
        return q.run_quarto(args, cwd=where, env=env, what=project_dir / INDEX)[0]

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="quarto") as pool:
        letter = pool.submit(call, work, ["render", "--no-execute"])
        pages = pool.submit(call, pages_work, ["render", "--no-execute", "--to", "html"])
        logs = [letter.result(), pages.result()]  # the first failure is raised, naming the project
    rendered, pages_rendered = work / "_site", pages_work / "_site"
    shutil.copytree(pages_rendered / NOTEBOOKS_DIR, rendered / NOTEBOOKS_DIR)
    entries = read_search(rendered / SEARCH) + read_search(pages_rendered / SEARCH)
    write_search(rendered / SEARCH, entries)
    return logs


def _check_written(path: Path, project_dir: Path) -> None:
    if not path.is_file():
        raise RenderError(project_dir / INDEX, "quarto", f"Quarto wrote no {path.name}")


def render(
    project_dir: str | Path,
    out_dir: str | Path,
    *,
    formats: tuple[str, ...] | list[str] | str = FORMATS,
    edition: str = "letter/draft",
    letters: list[ThemeLink] | None = None,
    pages_apart: bool = False,
) -> RenderResult:
    """Render a staged letter project with Quarto into ``out_dir``: its web pages and ``letter.pdf``.

    Parameters
    ----------
    project_dir : str or Path
        Staged Quarto project: ``_quarto.yml``, ``index.qmd`` (the letter), ``_variables.yml``,
        ``figures/``, ``tables/``, included ``.qmd`` files, and ``notebooks/*.ipynb`` (executed notebooks,
        rendered as pages, never re-executed) when there are any.
    out_dir : str or Path
        Output folder (created): ``index.html``, ``notebooks/*.html``, ``search.json``, ``site_libs/``, the
        figures and data files the pages link to, ``letter.pdf``.
    formats : iterable of str
        ``"html"`` and/or ``"pdf"``.
    edition : str
        Where the edition sits in the site (``"annual/2024"``): links to the site root and the PDF's
        absolute links follow from it.
    letters : list of ThemeLink, optional
        The navbar's letters (default: the themes declared in ``publications/themes.yml``).
    pages_apart : bool, default False
        With both formats and notebook pages: render the letter (HTML and PDF) and its notebook pages by two
        Quarto calls at once, each in a copy of the project, then put their outputs together. The same files
        as one call (tested); on two idle cores about 40 % less wall time (the annual letter: 14.3 s instead
        of 25.2 s), for one more start of Quarto's CPU. A build that renders several letters side by side
        keeps one call each.

    Returns
    -------
    RenderResult
        With the versions of Quarto, pandoc and typst, and the seconds each format took.

    Raises
    ------
    RenderError
        Unknown format; Quarto missing, too old or failing (its message names the project).
    """
    wanted = (formats,) if isinstance(formats, str) else tuple(formats)
    if not wanted or any(f not in FORMATS for f in wanted):
        raise RenderError("formats", "argument", f"formats must be among {FORMATS} (got {wanted!r})")
    project_dir = Path(project_dir).resolve()
    out_dir = Path(out_dir).resolve()
    if not (project_dir / INDEX).is_file():
        raise RenderError(project_dir / INDEX, "whole file", "the letter's index.qmd is missing")
    has_notebooks = any((project_dir / NOTEBOOKS_DIR).glob("*.ipynb"))
    letters = site_themes() if letters is None else letters
    settings = edition_settings(edition, letters, has_notebooks, base_url())
    date = quarto_date(letter_date(project_dir))
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(timestamp_for(date[0] if date else None))}
    version = q.versions()
    logs: list[str] = []
    timings: dict[str, float] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="observatoire-quarto-") as tmp:
        work = stage_for_quarto(project_dir, Path(tmp), settings)
        rendered = work / "_site"
        together = set(wanted) == set(FORMATS)
        if together and has_notebooks and pages_apart:
            started = time.perf_counter()
            logs += _render_pages_apart(work, Path(tmp), project_dir, settings, env)
            timings["html+pdf"] = time.perf_counter() - started
        elif together:
            # Both formats in one Quarto call (one start-up and one project scan instead of two: about 2.4 s of
            # CPU less per letter, same letter.html and letter.pdf); the notebook pages stay HTML only.
            if has_notebooks:
                (work / NOTEBOOKS_DIR / "_metadata.yml").write_text("format: html\n", encoding="utf-8")
            log, timings["html+pdf"] = q.run_quarto(
                ["render", "--no-execute"], cwd=work, env=env, what=project_dir / INDEX
            )
            logs.append(log)
        if together:
            _check_written(rendered / HTML_NAME, project_dir)
            _check_written(rendered / PDF_NAME, project_dir)
            _order_search(rendered)
            make_accessible(rendered, NAVBAR_LABEL)
            _install_output(rendered, out_dir)
            finish_pages(out_dir, project_dir, edition, letters)
        # One format at a time, each output taken as soon as it is written: a render of the whole website
        # (HTML) starts from an empty _site/, and a render of index.qmd alone to typst leaves a redirect page.
        if "html" in wanted and not together:
            log, timings["html"] = q.run_quarto(
                ["render", ".", "--to", "html", "--no-execute"],
                cwd=work,
                env=env,
                what=project_dir / INDEX,
            )
            logs.append(log)
            _check_written(rendered / HTML_NAME, project_dir)
            _order_search(rendered)
            make_accessible(rendered, NAVBAR_LABEL)
            _install_output(rendered, out_dir)
            finish_pages(out_dir, project_dir, edition, letters)
        if "pdf" in wanted and not together:
            log, timings["pdf"] = q.run_quarto(
                ["render", INDEX, "--to", "typst", "--no-execute"],
                cwd=work,
                env=env,
                what=project_dir / INDEX,
            )
            logs.append(log)
            _check_written(rendered / PDF_NAME, project_dir)
            shutil.copyfile(rendered / PDF_NAME, out_dir / PDF_NAME)
    timing = ", ".join(f"{fmt} {s:.1f} s" for fmt, s in timings.items())
    logs.append(f"rendered with {version} ({timing})")
    return RenderResult(
        renderer=RENDERER,
        html=out_dir / HTML_NAME if "html" in wanted else None,
        pdf=out_dir / PDF_NAME if "pdf" in wanted else None,
        log="\n".join(logs),
        version=version,
        timings=timings,
        date=date_as_printed(letter_date(project_dir)),
    )
