"""Render a letter with Quarto, when the ``quarto`` command is on PATH.

Why a separate path: where Quarto is installed (an author's laptop, a CI image with network) the letters
should be rendered by the tool they are written for. The look must not depend on the renderer, so Quarto
gets the same assets as the fallback: ``letter.css`` for HTML, ``letter.typ`` (as the ``typst-template.typ``
partial) with ``typst-show.typ`` for typst, and ``quarto_subset.lua`` as a filter (under Quarto it only builds
the key-figures band and the data links). French wording (figure/tableau, callout titles) is set through
Quarto's ``crossref`` and ``language`` options.

The staged project is never modified: it is copied to a scratch folder, the assets are written into
``_observatoire/`` there, and the project's ``_quarto.yml`` is merged with :data:`QUARTO_SETTINGS`. Quarto
cannot be installed on the machines where this was written, so the command lines and the merged
configuration are pure functions, unit-tested; the run itself is thin.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from .common import (
    CSS,
    HTML_NAME,
    LUA_FILTER,
    PDF_NAME,
    TYPST_LIBRARY,
    TYPST_SHOW,
    RenderError,
    RenderResult,
    timestamp_for,
)
from .fallback import copy_data_files, write_atomic
from .shortcodes import INDEX, PROJECT, Expander

RENDERER = "quarto"
#: Folder, inside the scratch copy of the project, where the look's files are written.
ASSETS_DIR = "_observatoire"
#: Quarto ``--to`` value for each output format of :func:`observatoire.rendering.render`.
QUARTO_TO = {"html": "html", "pdf": "typst"}
#: What Quarto writes for ``index.qmd`` in each format.
QUARTO_OUTPUT = {"html": "index.html", "pdf": "index.pdf"}


def quarto_settings(assets: str = ASSETS_DIR) -> dict:
    """The settings every letter is rendered with under Quarto (paths relative to the project).

    Parameters
    ----------
    assets : str
        Folder holding ``letter.css``, ``typst-template.typ``, ``typst-show.typ`` and ``quarto_subset.lua``.

    Returns
    -------
    dict
        To be merged into the project's ``_quarto.yml`` (see :func:`merge_settings`). The repository's
        top-level ``_quarto.yml`` holds the same values (a test keeps them in step).
    """
    return {
        "lang": "fr",
        "filters": [f"{assets}/quarto_subset.lua"],
        "crossref": {
            "fig-title": "Figure",
            "tbl-title": "Tableau",
            "fig-prefix": "figure",
            "tbl-prefix": "tableau",
            "title-delim": "\u00a0:",
        },
        "language": {
            "callout-note-title": "Note",
            "callout-important-title": "Important",
            "callout-warning-title": "Attention",
            "callout-tip-title": "Conseil",
        },
        "format": {
            "html": {
                "embed-resources": True,
                "theme": "none",
                "css": [f"{assets}/letter.css"],
                "anchor-sections": False,
                "toc": False,
            },
            "typst": {
                "papersize": "a4",
                "template-partials": [f"{assets}/typst-template.typ", f"{assets}/typst-show.typ"],
                "keep-typ": False,
            },
        },
    }


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_settings(project_config: dict | None, assets: str = ASSETS_DIR) -> dict:
    """The project's ``_quarto.yml`` with the letters' settings laid over it.

    The project keeps its ``project`` section (type, render list) and any metadata; the look (formats,
    filters, wording) always comes from :func:`quarto_settings`, so that every letter looks the same.
    """
    config = dict(project_config or {})
    project = dict(config.get("project") or {})
    project.setdefault("type", "default")
    project["render"] = [INDEX]
    config["project"] = project
    return _deep_merge(config, quarto_settings(assets))


def quarto_commands(quarto: str, project_dir: str | Path, formats: tuple[str, ...]) -> list[list[str]]:
    """The ``quarto render`` command lines, one per output format.

    Parameters
    ----------
    quarto : str
        The quarto executable.
    project_dir : str or Path
        The (scratch copy of the) project.
    formats : tuple of str
        Any of ``"html"``, ``"pdf"``.

    Returns
    -------
    list of list of str
        e.g. ``[["quarto", "render", "/tmp/p", "--to", "html", "--no-execute", "--quiet"], ...]``.
    """
    return [
        [quarto, "render", str(project_dir), "--to", QUARTO_TO[fmt], "--no-execute", "--quiet"]
        for fmt in formats
    ]


def find_quarto() -> str | None:
    """The ``quarto`` executable on PATH, or None."""
    return shutil.which("quarto")


def stage_for_quarto(project_dir: Path, work: Path) -> Path:
    """Copy the project into ``work`` with the look's assets and the merged ``_quarto.yml``; return the copy."""
    dest = work / "project"
    shutil.copytree(project_dir, dest)
    assets = dest / ASSETS_DIR
    assets.mkdir()
    shutil.copyfile(TYPST_LIBRARY, assets / "typst-template.typ")
    shutil.copyfile(TYPST_SHOW, assets / "typst-show.typ")
    shutil.copyfile(CSS, assets / "letter.css")
    shutil.copyfile(LUA_FILTER, assets / "quarto_subset.lua")
    config_path = dest / PROJECT
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    merged = merge_settings(config if isinstance(config, dict) else {})
    config_path.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def render_quarto(
    project_dir: str | Path, out_dir: str | Path, formats: tuple[str, ...], quarto: str | None = None
) -> RenderResult:
    """Render with Quarto into ``out_dir/index.html`` and ``out_dir/letter.pdf``.

    Parameters
    ----------
    project_dir : str or Path
        The staged Quarto project.
    out_dir : str or Path
        Output folder; the figures' and tables' CSV files are copied there too.
    formats : tuple of str
        Any of ``"html"``, ``"pdf"``.
    quarto : str, optional
        The quarto executable (default: found on PATH).

    Returns
    -------
    RenderResult

    Raises
    ------
    RenderError
        Quarto missing or failing, or an expected output not written.
    """
    quarto = quarto or find_quarto()
    if quarto is None:
        raise RenderError("quarto", "environment", "renderer='quarto' asked for, but quarto is not on PATH")
    project_dir = Path(project_dir).resolve()
    out_dir = Path(out_dir).resolve()
    meta = Expander(project_dir).expand().meta
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(timestamp_for(meta))}
    log: list[str] = []
    t0 = time.perf_counter()
    html = pdf = None
    with tempfile.TemporaryDirectory(prefix="observatoire-quarto-") as tmp:
        work = stage_for_quarto(project_dir, Path(tmp))
        for fmt, cmd in zip(formats, quarto_commands(quarto, work, formats), strict=True):
            log.append(f"$ {shlex.join(cmd)}")
            proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
            log.extend(x for x in (proc.stdout.strip(), proc.stderr.strip()) if x)
            if proc.returncode != 0:
                raise RenderError(
                    project_dir / INDEX,
                    "quarto",
                    f"quarto render --to {QUARTO_TO[fmt]} failed: {proc.stderr.strip()}",
                )
            produced = work / QUARTO_OUTPUT[fmt]
            if not produced.is_file():
                raise RenderError(project_dir / INDEX, "quarto", f"quarto wrote no {QUARTO_OUTPUT[fmt]}")
            target = out_dir / (HTML_NAME if fmt == "html" else PDF_NAME)
            write_atomic(target, produced.read_bytes())
            if fmt == "html":
                html = target
            else:
                pdf = target
    if html is not None:
        copy_data_files(project_dir, out_dir)
    log.append(f"rendered with {RENDERER} in {time.perf_counter() - t0:.2f} s")
    return RenderResult(renderer=RENDERER, html=html, pdf=pdf, log="\n".join(log))
