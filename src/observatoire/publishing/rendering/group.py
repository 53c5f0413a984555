"""Render several letters of one theme and year in one Quarto call, each output the same bytes as a render alone.

Why: Quarto's cost per call is mostly fixed (its start, the project scan, Bootstrap's SCSS compiled again on
every call), so the 119 territorial letters of a year spend more time starting Quarto than rendering. Measured
on 2 cores, quiet machine: three territorial letters take 5.1-5.3 s each alone (HTML + PDF), 10.8 s together.

How: the letters are folders of one Quarto website project that stands where their parent stands in the site
(``territoire/2024/`` for ``territoire/2024/29`` ...). Each folder carries what was project-wide in a render
alone: its metadata (``_metadata.yml``: the edition's ``_quarto.yml`` and its public address) and its variables
(moved under a key of its own in the shared ``_variables.yml``, its ``{{< var x >}}`` rewritten
``{{< var ed3.x >}}``). After the render each letter's folder is taken out with a copy of ``site_libs/`` and its
own ``search.json``, and the few addresses Quarto wrote relative to the shared root are rewritten as a render
alone writes them (:func:`_as_alone`). The PDFs need nothing. tests/test_e2e_territoire.py checks that every
output file equals, byte for byte, the render of the same letter alone; when a group cannot be rendered
(letters of different places or dates, a Quarto failure) the caller renders each letter alone.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from observatoire.core.yamlfile import read_yaml
from observatoire.outputs.accessibility import make_accessible

from . import quarto as q
from .common import (
    HTML_NAME,
    PDF_NAME,
    RENDERER,
    SEARCH,
    RenderError,
    RenderResult,
    read_search,
    timestamp_for,
    write_search,
)
from .edition import (
    ASSETS_DIR,
    INDEX,
    NOTEBOOKS_DIR,
    PROJECT,
    VARIABLES,
    _check_written,
    _install_output,
    _set_date,
    date_as_printed,
    edition_settings,
    finish_pages,
    letter_date,
    letter_metadata,
    quarto_date,
    write_assets,
)
from .notebooks import write_headers
from .website import FAVICON_PATH, NAVBAR_LABEL, ThemeLink, base_url, site_themes

_VAR = re.compile(r"\{\{<\s*var\s+([\w.-]+)\s*>\}\}")


def _parent_and_name(edition: str) -> tuple[str, str]:
    parent, _, name = edition.strip("/").rpartition("/")
    return parent, name


def _epoch(project_dir: Path) -> str:
    date = quarto_date(letter_date(project_dir))
    return str(timestamp_for(date[0] if date else None))


def _stage_letter(project_dir: Path, dest: Path, key: str, edition: str, letters: list[ThemeLink]) -> dict:
    """Copy one letter's project into the shared project as folder ``dest``; return its variables."""
    shutil.copytree(project_dir, dest, ignore=shutil.ignore_patterns("_site", ".quarto", "*_files"))
    write_headers(dest)  # before the variables are moved: the headings' shortcodes still read them
    config_path = dest / PROJECT
    config = read_yaml(config_path) if config_path.is_file() else {}
    config_path.unlink(missing_ok=True)
    config = dict(config or {})
    config.pop("project", None)
    config["observatoire-url"] = edition_settings(edition, letters, False, base_url())["observatoire-url"]
    config.update(letter_metadata(project_dir, config["observatoire-url"]))
    (dest / "_metadata.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    variables_path = dest / VARIABLES
    variables = read_yaml(variables_path) if variables_path.is_file() else {}
    variables_path.unlink(missing_ok=True)
    for page in sorted([*dest.rglob("*.qmd"), *dest.rglob("*.md"), *dest.rglob("*.ipynb")]):
        text = page.read_text(encoding="utf-8")
        renamed = _VAR.sub(lambda m: "{{< var " + f"{key}.{m.group(1)}" + " >}}", text)
        if renamed != text:
            page.write_text(renamed, encoding="utf-8")
    _set_date(dest / INDEX, quarto_date(letter_date(project_dir)))
    if any((dest / NOTEBOOKS_DIR).glob("*.ipynb")):
        (dest / NOTEBOOKS_DIR / "_metadata.yml").write_text("format: html\n", encoding="utf-8")
    return dict(variables or {})


def _as_alone(text: str, depth: int, name: str = "") -> str:
    """A page of a letter rendered in a group, with the addresses a render of the letter alone writes.

    ``depth`` is the page's depth in its letter (0: ``index.html``, 1: ``notebooks/x.html``). In the group the
    page is one folder deeper below the project root: Quarto's offset to the root (``../`` more), the
    ``site_libs/`` it links to and the navbar's brand follow from it; the navbar's links to the site, the same
    addresses either way, are written ``./../../../x`` by a render alone at depth 0.
    """
    grouped = "../" * (depth + 1)
    alone = "../" * depth or "./"
    libs = "../" * depth
    text = text.replace(f'"{grouped}site_libs/', f'"{libs}site_libs/')
    text = text.replace(f'href="{grouped}{FAVICON_PATH}"', f'href="{alone}{FAVICON_PATH}"')
    text = text.replace(
        f'<meta name="quarto:offset" content="{grouped}">', f'<meta name="quarto:offset" content="{alone}">'
    )
    text = text.replace(
        f'class="navbar-brand" href="{grouped}index.html"', f'class="navbar-brand" href="{alone}index.html"'
    )
    if depth == 0:
        text = re.sub(r'(class="(?:nav-link|dropdown-item)[^"]*" href=")(\.\./)', r"\1./\2", text)
    if (
        name
    ):  # the page's own address, which tells internal links from external ones: the letter's, not the group's
        text = re.sub(
            r'(var filterRegex = new RegExp\("[^"]*\\/)("\))',
            lambda m: f"{m.group(1)}{name}\\/{m.group(2)}",
            text,
            count=1,
        )
    return text


def _take_out(site: Path, name: str, out_dir: Path) -> None:
    """Copy letter ``name`` out of the group's ``_site`` into ``out_dir``, as a render alone writes it."""
    _install_output(site / name, out_dir, functools.partial(_as_alone, name=name))
    if (site / "site_libs").is_dir():
        shutil.copytree(site / "site_libs", out_dir / "site_libs", dirs_exist_ok=True)
    if (site / FAVICON_PATH).is_file():  # the site's icon: a letter alone carries its own copy
        (out_dir / FAVICON_PATH).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / FAVICON_PATH, out_dir / FAVICON_PATH)
    entries = read_search(site / SEARCH)
    prefix = f"{name}/"
    own = [
        {
            **entry,
            **{
                k: entry[k][len(prefix) :]
                for k in ("href", "objectID")
                if str(entry.get(k, "")).startswith(prefix)
            },
        }
        for entry in entries
        if str(entry.get("href", "")).startswith(prefix)
    ]
    if own:  # in the order and layout of a render alone's
        write_search(out_dir / SEARCH, own)


def render_group(
    letters_to_render: Sequence[tuple[Path, Path, str]],
    *,
    letters: list[ThemeLink] | None = None,
) -> list[RenderResult]:
    """Render several staged letters, HTML and PDF, in one Quarto call.

    Parameters
    ----------
    letters_to_render : sequence of (project_dir, out_dir, edition)
        As :func:`observatoire.publishing.rendering.render` takes them: the staged project, its output folder and its
        place in the site. Every edition must sit in the same parent (``territoire/2024/<code>``) and carry
        the same date.
    letters : list of ThemeLink, optional
        The navbar's letters (default: the declared themes).

    Returns
    -------
    list of RenderResult
        One per letter, in order; each ``timings["html+pdf"]`` is its share of the call.

    Raises
    ------
    RenderError
        Letters from different places or dates, a missing ``index.qmd``, Quarto failing or writing nothing.
    """
    items = [(Path(p).resolve(), Path(o).resolve(), e) for p, o, e in letters_to_render]
    if not items:
        return []
    parents = {_parent_and_name(e)[0] for _, _, e in items}
    names = [_parent_and_name(e)[1] for _, _, e in items]
    if len(parents) != 1 or len(set(names)) != len(names) or not all(names):
        raise RenderError("render_group", "editions", "a group renders letters of one folder, each once")
    for project_dir, _, _ in items:
        if not (project_dir / INDEX).is_file():
            raise RenderError(project_dir / INDEX, "whole file", "the letter's index.qmd is missing")
    epochs = {_epoch(p) for p, _, _ in items}
    if len(epochs) != 1:
        raise RenderError("render_group", "dates", "a group renders letters of one date")
    (parent,) = parents
    letters = site_themes() if letters is None else letters
    version = q.versions()
    with tempfile.TemporaryDirectory(prefix="observatoire-quarto-group-") as tmp:
        work = Path(tmp) / "project"
        work.mkdir()
        settings = edition_settings(parent, letters, False, base_url())
        settings.pop("observatoire-url")
        render_list = []
        variables = {}
        for index, ((project_dir, _, edition), name) in enumerate(zip(items, names, strict=True)):
            key = f"ed{index}"
            variables[key] = _stage_letter(project_dir, work / name, key, edition, letters)
            render_list.append(f"{name}/{INDEX}")
            if any((project_dir / NOTEBOOKS_DIR).glob("*.ipynb")):
                render_list.append(f"{name}/{NOTEBOOKS_DIR}/*.ipynb")
        settings["project"]["render"] = render_list
        write_assets(work / ASSETS_DIR)
        (work / PROJECT).write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), "utf-8")
        (work / VARIABLES).write_text(yaml.safe_dump(variables, allow_unicode=True, sort_keys=False), "utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": next(iter(epochs))}
        log, seconds = q.run_quarto(["render", "--no-execute"], cwd=work, env=env, what=items[0][0] / INDEX)
        site = work / "_site"
        for (project_dir, _, _), name in zip(items, names, strict=True):
            _check_written(site / name / HTML_NAME, project_dir)
            _check_written(site / name / PDF_NAME, project_dir)
        make_accessible(site, NAVBAR_LABEL)
        results = []
        share = seconds / len(items)
        for (project_dir, out_dir, edition), name in zip(items, names, strict=True):
            out_dir.mkdir(parents=True, exist_ok=True)
            _take_out(site, name, out_dir)
            finish_pages(out_dir, project_dir, edition, letters)
            results.append(
                RenderResult(
                    renderer=RENDERER,
                    html=out_dir / HTML_NAME,
                    pdf=out_dir / PDF_NAME,
                    log=f"{log}\nrendered with {version} in a group of {len(items)} ({seconds:.1f} s)",
                    version=version,
                    timings={"html+pdf": share},
                    date=date_as_printed(letter_date(project_dir)),
                )
            )
    return results
