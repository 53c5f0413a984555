"""Build one edition of a letter, from the raw files to ``_site/<theme>/<year>/``, and publish it atomically.

Why it is written this way:

- One function, :func:`build_edition`, runs the stages in order (plan, fetch, validate, execute, notebooks, stage,
  lint, render, data, manifest, publish; see :data:`STAGES`) and logs the wall time of each. Each stage calls another module through its
  contract in docs/API.md; the calls go through small module-level functions (``_fetch``, ``_render`` ...) that
  import lazily, so tests replace one stage with a fake and the no-change path never imports pandas, papermill
  or matplotlib.
- The edition is assembled completely (letter, executed notebooks as HTML, figure and table data, manifest) in
  the build folder, copied into a staging folder inside ``_site/`` and moved into place with ``os.replace``: a
  failure at any stage leaves ``_site/`` as it was, with no staging folder left behind, and a reader never sees
  half an edition.
- A published edition is never overwritten silently: replacing one needs ``force=True``
  (``make release YEAR=... FORCE=1``), and the new manifest records the checksums of what it replaced.
- A build key hashes every input (raw file checksums, the catalogue, curated data, notebook code, publication
  sources, the package's own source, parameters, lockfile, renderer). When the published manifest has the same key
  and the files are intact, nothing is done: a no-change rebuild costs well under a second after Python starts.
- A parameter variant (``--set ssmsi_source=ssmsi_dep_2023``) is built into its own folder
  (``build/annual/2023+ssmsi_source-ssmsi_dep_2023/``) and never published over the standard edition; it exists
  to compare editions (``make diff``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire import manifest as mf
from observatoire import paths, themes
from observatoire.errors import InputError
from observatoire.themes import CORE_PARAMETERS, Theme

log = logging.getLogger(__name__)

#: Stages of a build, in order (``notebooks``: the notebooks' HTML pages, mostly written during ``execute``;
#: ``data``: figures, tables, facts and notebook pages copied beside the letter).
STAGES = (
    "plan",
    "fetch",
    "validate",
    "execute",
    "notebooks",
    "stage",
    "lint",
    "render",
    "data",
    "manifest",
    "publish",
)
#: Staging and replaced-edition folders inside ``_site/`` start with these (hidden from the index and servers).
STAGING_PREFIX = ".staging-"
REPLACED_PREFIX = ".replaced-"


class ReleaseError(RuntimeError):
    """A release that must not go ahead (an edition already published, a build already running ...)."""


@dataclass
class EditionResult:
    """What :func:`build_edition` did.

    Attributes
    ----------
    theme : str
    year : int
    status : str
        ``"published"``, ``"replaced"`` (forced over a previous edition), ``"built"`` (not published) or
        ``"unchanged"`` (cache hit: nothing done).
    build_key : str
    build_dir : Path
        ``build/<theme>/<year>[+variant]/``.
    site_path : Path or None
        The published edition folder (None when not published).
    timings : dict
        Wall time in seconds per stage, in order.
    manifest : dict
        The edition's manifest.
    variant : str or None
        Name of the parameter variant, None for the standard edition.
    notebooks : dict
        Wall time in seconds of each notebook (they overlap when run in parallel).
    """

    theme: str
    year: int
    status: str
    build_key: str
    build_dir: Path
    site_path: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None
    notebooks: dict[str, float] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        """True when nothing had to be rebuilt."""
        return self.status == "unchanged"

    @property
    def total_seconds(self) -> float:
        """Sum of the stage times."""
        return sum(self.timings.values())


# --------------------------------------------------------------------------------------------------------------
# Stages that call other modules (replaced by fakes in tests). Imports are lazy on purpose.


def _fetch(source_ids: list[str]) -> list[Path]:
    from observatoire import catalogue

    return catalogue.fetch(source_ids, quiet=True)


def _validate(source_ids: list[str]) -> None:
    from observatoire import datasets

    for source_id in source_ids:
        datasets.load(source_id)


def _execute(
    jobs: list, *, workers: int, progress: bool, kernel_name: str, on_success=None
) -> dict[Path, float]:
    from observatoire.execution import run_notebooks

    return run_notebooks(
        jobs, workers=workers, progress=progress, kernel_name=kernel_name, on_success=on_success
    )


def _facts(outputs_dir: Path) -> dict[str, dict]:
    from observatoire import facts

    return facts.load_facts(outputs_dir)


def _facts_variables(records: Mapping[str, dict]) -> dict[str, str]:
    from observatoire import facts

    return facts.to_variables(records)


def _fill_templates(
    project: Path, records: Mapping[str, dict], meta: Mapping[str, str], origin: Path
) -> None:
    from observatoire import templates

    templates.render_tree(project, records, meta, origin=origin)
    if str(meta.get("lang", "fr")) == "fr":
        templates.typeset_tables(project)


def _lint(project_dir: Path) -> list[str]:
    from observatoire import rendering

    return rendering.lint(project_dir)


def _render(project_dir: Path, out_dir: Path) -> Any:
    from observatoire import rendering

    return rendering.render(project_dir, out_dir)


def _write_index(site_dir: Path, editions: list[dict[str, Any]]) -> None:
    from observatoire import rendering

    rendering.write_site_index(site_dir, editions)


def _renderer_available() -> str:
    """The renderer ``render(renderer="auto")`` will use (part of the build key: outputs differ by renderer)."""
    return "quarto" if shutil.which("quarto") else "pandoc+typst"


# --------------------------------------------------------------------------------------------------------------
# Helpers


@contextlib.contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        log.debug("stage %s failed after %.2f s", name, time.perf_counter() - started)
        raise
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
    log.info("stage %-9s %6.2f s", name, timings[name])


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def variant_name(theme: Theme, year: int, overrides: Mapping[str, Any] | None) -> str | None:
    """A folder-safe name for the overrides that differ from the theme's defaults (None when none do)."""
    if not overrides:
        return None
    defaults = theme.parameters_for(year)
    resolved = theme.parameters_for(year, overrides)
    changed = {k: v for k, v in sorted(resolved.items()) if defaults.get(k) != v}
    if not changed:
        return None
    return "+".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{k}-{v}") for k, v in changed.items())


def edition_build_dir(
    theme: str | Theme, year: int, overrides: Mapping[str, Any] | None = None, build_dir: Path = paths.BUILD
) -> Path:
    """``build/<theme>/<year>/``, or ``build/<theme>/<year>+<variant>/`` for a parameter variant."""
    theme = themes.get_theme(theme)
    variant = variant_name(theme, year, overrides)
    return Path(build_dir) / theme.id / (f"{year}+{variant}" if variant else str(year))


def latest_year(theme: str | Theme) -> int:
    """The latest year with data for the theme (its last buildable year, derived from the sources' coverage)."""
    return themes.get_theme(theme).last_year


def plan_jobs(theme: Theme, year: int, parameters: Mapping[str, Any], edition_dir: Path) -> list:
    """One :class:`~observatoire.execution.NotebookJob` per notebook of the theme.

    Every notebook receives year, theme and output_dir (absolute) and must define them in its ``parameters``
    cell; a theme parameter is passed to the notebooks whose ``parameters`` cell defines it, and must be defined
    by at least one of them (else it would be silently ignored).

    Raises
    ------
    InputError
        A notebook without a ``parameters`` cell or without a core parameter; a theme parameter no notebook uses.
    """
    from observatoire.execution import NotebookJob, parameters_cell

    outputs = (edition_dir / "outputs").resolve()
    core = {"year": int(year), "theme": theme.id, "output_dir": str(outputs)}
    used: set[str] = set()
    jobs = []
    for notebook in theme.notebook_paths:
        cell = parameters_cell(notebook)
        missing = [name for name in CORE_PARAMETERS if name not in cell.names]
        if missing:
            raise InputError(
                notebook,
                f"cell {cell.index + 1} (parameters)",
                f"must define {', '.join(CORE_PARAMETERS)} (the build passes them); missing: {', '.join(missing)}",
            )
        passed = {name: value for name, value in parameters.items() if name in cell.names}
        used.update(passed)
        jobs.append(NotebookJob(notebook, edition_dir / "notebooks" / notebook.name, {**core, **passed}))
    unused = sorted(set(parameters) - used)
    if unused:
        raise InputError(
            theme.themes_file,
            f"theme '{theme.id}', key 'parameters.{unused[0]}'",
            "no notebook of the theme defines this parameter in its parameters cell",
        )
    return jobs


def key_inputs(theme: Theme, year: int, parameters: Mapping[str, Any], kernel_name: str) -> dict[str, str]:
    """Labelled digests of every input of an edition; :func:`observatoire.manifest.build_key` hashes them.

    Raw files enter through their catalogue checksums (``fetch`` verifies the files against them), so the key is
    computed without reading megabytes of data; the whole ``sources.yml`` is included, so a notebook reading a
    source it does not declare is still covered.
    """
    inputs: dict[str, str] = {
        "theme": mf.sha256_json(theme.as_record()),
        "parameters": mf.sha256_json({"year": int(year), "theme": theme.id, **parameters}),
        "sources.yml": mf.sha256_file(paths.SOURCES_YML),
        "lockfile": mf.sha256_file(mf.LOCKFILE),
        "renderer": mf.sha256_json(_renderer_available()),
        "python": mf.sha256_json(list(sys.version_info[:2])),
        "kernel": mf.sha256_json(kernel_name),
    }
    for source_id in theme.source_ids(parameters):
        inputs[f"input:{source_id}"] = theme.catalogue[source_id].sha256
    for notebook in theme.notebook_paths:
        inputs[f"notebook:{notebook.name}"] = mf.notebook_digest(notebook)
    inputs.update(mf.tree_digests(theme.publication_dir, "publication:"))
    inputs.update(mf.tree_digests(paths.CURATED, "curated:"))
    inputs.update(mf.tree_digests(Path(__file__).resolve().parent, "package:"))
    return inputs


def check_reads(outputs_dir: Path, jobs: list, declared: list[str], themes_file: Path) -> None:
    """Stop when a notebook read a source its theme does not declare (``outputs/reads/<notebook>.json``).

    An undeclared source is not fetched, validated nor listed in the manifest by the release: reading it anyway
    would publish a letter whose inputs nobody can check.

    Raises
    ------
    InputError
        Naming the notebook and the source.
    """
    for job in jobs:
        notebook = Path(job.input)
        record = Path(outputs_dir) / "reads" / f"{notebook.stem}.json"
        if not record.is_file():
            continue  # a notebook that reads no data through observatoire.datasets
        read = json.loads(record.read_text(encoding="utf-8")).get("sources", [])
        undeclared = sorted(set(read) - set(declared))
        if undeclared:
            raise InputError(
                notebook,
                f"source '{undeclared[0]}'",
                f"read by the notebook but not declared in the theme's sources ({themes_file.name}): "
                "declare it so that the release fetches, validates and lists it",
            )


def _cached(folder: Path, key: str) -> dict[str, Any] | None:
    """The manifest of ``folder`` when it was built with ``key`` and its files are intact, else None."""
    previous = mf.read_manifest(folder)
    if previous is None or previous.get("build_key") != key:
        return None
    problems = mf.verify_outputs(folder, previous)
    if problems:
        log.warning(
            "%s: files differ from its manifest (%s); rebuilding", _shown(folder), "; ".join(problems[:3])
        )
        return None
    return previous


@contextlib.contextmanager
def _edition_lock(edition_dir: Path) -> Iterator[None]:
    """Refuse two builds of the same edition at once (they would write the same build folder)."""
    edition_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = edition_dir.parent / f".{edition_dir.name}.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseError(
                f"another build of {_shown(edition_dir)} is running (lock {lock_path})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reset_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _copy_tree(origin: Path, target: Path, *, overwrite: bool = True) -> None:
    """Copy a folder's files (skipping caches), creating ``target``; a missing ``origin`` copies nothing.

    With ``overwrite=False`` files already in ``target`` are kept (the renderer's copies win).
    """
    if not origin.is_dir():
        return
    for path in mf.iter_files(origin):
        destination = target / path.relative_to(origin)
        if not overwrite and destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _dump_yaml(path: Path, values: Mapping[str, Any]) -> None:
    import yaml

    text = yaml.safe_dump(dict(sorted(values.items())), allow_unicode=True, sort_keys=True, width=1000)
    path.write_text(text, encoding="utf-8")


def _add_project_meta(path: Path, meta: Mapping[str, str]) -> None:
    """Put the meta values at the top level of the staged ``_quarto.yml``, where ``{{< meta key >}}`` finds them.

    Quarto merges a project's top-level metadata into each document, and the pandoc + typst renderer reads the
    same keys, so one place serves both. The build's values win over a stale value in the publication.
    """
    import yaml

    data = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise InputError(path, "whole file", "must be a mapping")
    for key, value in meta.items():
        if key in data and data[key] != value:
            log.warning("%s: %s=%r replaced by the build's value %r", path.name, key, data[key], value)
        data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


def meta_values(
    theme: Theme, year: int, parameters: Mapping[str, Any], variant: str | None
) -> dict[str, str]:
    """Values the publication reads with ``{{< meta key >}}`` / ``{{< var key >}}``; all strings.

    ``year``, ``theme``, ``theme_title``, ``<prefix>_edition`` for each ``<prefix>_source`` parameter (e.g.
    ``ssmsi_edition: "2024"``), and ``edition``: the edition of the first source parameter (the letter's main
    data edition), or the year when the theme has none. Strings, because pandoc's Lua filters read YAML
    numbers as floats ("2024.0").
    """
    editions = theme.edition_names(parameters)
    values = {
        "year": str(year),
        "theme": theme.id,
        "theme_title": theme.title,
        "edition": next(iter(editions.values()), str(year)),
        **editions,
    }
    if variant:
        values["variant"] = variant
    return values


def _notebook_title(notebook: Path) -> str:
    """The first Markdown heading of a notebook (its title), or its file stem."""
    import json

    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def write_calculations_page(target: Path, notebooks: list[Path]) -> None:
    """Write the "Voir les calculs" section the letter includes: a link to each executed notebook's HTML page.

    Generated at staging time from the theme's notebook list, so the links always match what was run; every
    publication includes it with ``{{< include _calculs.qmd >}}``.
    """
    lines = [
        "## Voir les calculs",
        "",
        "Chaque chiffre de cette lettre est calculé par un notebook exécuté pour cette édition. Ses pages montrent "
        "les paramètres utilisés, le code et les résultats intermédiaires :",
        "",
    ]
    lines += [f"- [{_notebook_title(nb)}](notebooks/{nb.stem}.html)" for nb in notebooks]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def export_notebook_html(
    executed: Path, target: Path, parameters: Mapping[str, Any], build_dir: Path
) -> None:
    """Write an executed notebook as a deterministic HTML page, its parameters shown at the top.

    papermill's timestamps and durations, nbclient's execution metadata and the random cell ids are removed, and
    the absolute build and repository paths are replaced by ``build`` and ``.``, so the page depends only on
    what the notebook did, not on when or where it ran.
    """
    import json

    import nbformat
    from nbconvert import HTMLExporter

    text = executed.read_text(encoding="utf-8")
    for absolute, shown in ((str(Path(build_dir).resolve()), "build"), (str(paths.ROOT), ".")):
        text = text.replace(json.dumps(absolute)[1:-1], shown)
    nb = nbformat.reads(text, as_version=4)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    shown = {k: (str(v).replace(str(Path(build_dir).resolve()), "build")) for k, v in parameters.items()}
    rows = "\n".join(f"| `{name}` | `{value}` |" for name, value in sorted(shown.items()))
    header = nbformat.v4.new_markdown_cell(
        f"**Notebook exécuté : `{executed.name}`**\n\n| paramètre | valeur |\n| --- | --- |\n{rows}\n"
    )
    header.id = "parameters-summary"
    nb.cells.insert(0, header)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": executed.stem}})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")


def list_editions(site_dir: Path) -> list[dict[str, Any]]:
    """Every published edition under ``site_dir`` (read from the manifests), for the site index.

    Returns
    -------
    list of dict
        ``{"theme", "theme_title", "year", "html", "pdf", "notebooks", "manifest", "built_at"}`` as
        :func:`observatoire.rendering.write_site_index` reads them, paths relative to ``site_dir``
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
            }
        )
    editions.sort(key=lambda e: (order.get(e["theme"], len(order)), e["theme"], -e["year"]))
    return editions


def _cleanup_leftovers(site_dir: Path, theme_id: str, year: int) -> None:
    """Remove staging folders of a crashed build of this edition; restore an edition a crash left aside."""
    target = site_dir / theme_id / str(year)
    for leftover in sorted(site_dir.glob(f"{REPLACED_PREFIX}{theme_id}-{year}-*")):
        if not target.exists():
            log.warning("restoring %s from %s (left by an interrupted release)", target, leftover.name)
            os.replace(leftover, target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in site_dir.glob(f"{STAGING_PREFIX}{theme_id}-{year}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _publish(edition_site: Path, site_dir: Path, theme_id: str, year: int, replace: bool) -> Path:
    """Copy the finished edition into a staging folder inside ``site_dir``, then move it into place atomically."""
    target = site_dir / theme_id / str(year)
    created_site = not site_dir.exists()
    site_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{theme_id}-{year}-", dir=site_dir))
    aside: Path | None = None
    try:
        _copy_tree(edition_site, staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it 0700; a web server must read it
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if not replace:
                raise ReleaseError(f"{_shown(target)} appeared during the build; not overwriting it")
            aside = site_dir / f"{REPLACED_PREFIX}{theme_id}-{year}-{staging.name[-8:]}"
            os.replace(target, aside)
        try:
            os.replace(staging, target)
        except OSError:
            if aside is not None:
                os.replace(aside, target)
                aside = None
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created_site and not any(site_dir.iterdir()):
            site_dir.rmdir()
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return target


# --------------------------------------------------------------------------------------------------------------
# The release


def build_edition(
    theme: str | Theme,
    year: int,
    *,
    force: bool = False,
    overrides: Mapping[str, Any] | None = None,
    site_dir: Path = paths.SITE,
    build_dir: Path = paths.BUILD,
    publish: bool = True,
    workers: int = 2,
    progress: bool = True,
    kernel_name: str = paths.KERNEL_NAME,
) -> EditionResult:
    """Build one edition of a letter and publish it into ``site_dir/<theme>/<year>/``.

    Parameters
    ----------
    theme : str or Theme
        Theme id (``"annual"``) or a :class:`~observatoire.themes.Theme`.
    year : int
        A buildable year of the theme.
    force : bool, default False
        Rebuild even when nothing changed, and replace an edition already published (its build key and output
        checksums are recorded in the new manifest under ``replaced``).
    overrides : Mapping, optional
        Parameter values replacing the theme's defaults for this build (a variant: built into its own folder,
        never published).
    site_dir, build_dir : Path
        Default ``_site/`` and ``build/``.
    publish : bool, default True
        False: build the edition in ``build/`` only (its manifest in ``build/<theme>/<year>/site/``).
    workers : int, default 2
        Notebooks run in parallel.
    progress : bool, default True
        Progress bar on stderr while notebooks run.
    kernel_name : str, default "observatoire"

    Returns
    -------
    EditionResult

    Raises
    ------
    InputError
        Bad declaration, notebook, parameter, data file or publication (file, place and rule).
    ReleaseError
        The edition is already published with other inputs and ``force`` is False; a variant asked to be
        published; another build of the edition is running.
    observatoire.execution.NotebookError
        A notebook failed (named, with the failing cell; the executed copy stays in ``build/``).
    """
    timings: dict[str, float] = {}
    site_dir, build_dir = Path(site_dir), Path(build_dir)

    started = time.perf_counter()  # the plan's first half; _build_locked adds the second half
    theme = themes.get_theme(theme)
    theme.check_year(year)
    missing = theme.missing()
    if missing:
        raise InputError(theme.themes_file, f"theme '{theme.id}'", "not buildable yet: " + "; ".join(missing))
    parameters = theme.parameters_for(year, overrides)
    variant = variant_name(theme, year, overrides)
    if variant and publish:
        raise ReleaseError(
            f"{theme.id} {year} with {variant} is a variant: build it with --no-publish (publish=False); "
            "to change what is published, change the defaults in publications/themes.yml"
        )
    edition_dir = build_dir / theme.id / (f"{year}+{variant}" if variant else str(year))
    timings["plan"] = time.perf_counter() - started

    # One build of an edition at a time: the lock covers the cache check, the build folder and the publication.
    with _edition_lock(edition_dir):
        if publish:
            _cleanup_leftovers(site_dir, theme.id, year)
        return _build_locked(
            theme,
            year,
            parameters,
            variant,
            edition_dir,
            timings,
            force=force,
            site_dir=site_dir,
            build_dir=build_dir,
            publish=publish,
            workers=workers,
            progress=progress,
            kernel_name=kernel_name,
        )


def _build_locked(
    theme: Theme,
    year: int,
    parameters: dict[str, Any],
    variant: str | None,
    edition_dir: Path,
    timings: dict[str, float],
    *,
    force: bool,
    site_dir: Path,
    build_dir: Path,
    publish: bool,
    workers: int,
    progress: bool,
    kernel_name: str,
) -> EditionResult:
    """The rest of :func:`build_edition`, run while holding the edition's lock."""
    with _stage(timings, "plan"):
        jobs = plan_jobs(theme, year, parameters, edition_dir)
        inputs = key_inputs(theme, year, parameters, kernel_name)
        key = mf.build_key(inputs)
        target = site_dir / theme.id / str(year) if publish else edition_dir / "site"
        previous = mf.read_manifest(target)
        cached = None if force else _cached(target, key)

    result = EditionResult(
        theme=theme.id,
        year=year,
        status="unchanged",
        build_key=key,
        build_dir=edition_dir,
        site_path=target if publish else None,
        timings=timings,
        variant=variant,
    )
    if cached is not None:
        result.manifest = cached
        if publish and not (site_dir / "index.html").exists():
            _write_index(site_dir, list_editions(site_dir))
        log.info("%s %s: unchanged (build key %s), nothing to do", theme.id, year, key[:12])
        return result

    replaced = None
    if publish and target.exists():
        if not force:
            why = ""
            if previous and previous.get("build_key") != key:
                changed = mf.changed_inputs(previous.get("build_inputs") or {}, inputs)
                why = f" with other inputs (changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''})"
            elif previous:
                why = " and its files differ from its manifest"
            raise ReleaseError(
                f"{_shown(target)} is already published{why}. Replacing a published edition must be asked for: "
                f"make release YEAR={year} THEME={theme.id} FORCE=1"
            )
        replaced = {
            "build_key": (previous or {}).get("build_key"),
            "built_at": (previous or {}).get("built_at"),
            "outputs": mf.output_checksums(target),
        }
    elif previous and previous.get("build_inputs"):
        log.info("rebuilding: changed %s", ", ".join(mf.changed_inputs(previous["build_inputs"], inputs)[:8]))

    source_ids = theme.source_ids(parameters)

    with _stage(timings, "fetch"):
        _fetch(source_ids)
        used = [
            {
                "source_id": sid,
                "file": theme.catalogue[sid].file,
                "edition": theme.catalogue[sid].edition,
                "sha256": theme.catalogue[sid].sha256,
            }
            for sid in source_ids
        ]

    with _stage(timings, "validate"):
        _validate(source_ids)

    # Each notebook's HTML page is written by one background thread as soon as the notebook has run, while the
    # kernels run the others: the export (and nbconvert's slow import) stays off the critical path.
    exporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
    exports: dict[str, Future] = {}

    def export(job) -> None:
        target = pages / (Path(job.output).stem + ".html")
        exports[str(job.output)] = exporter.submit(
            export_notebook_html, Path(job.output), target, job.parameters, build_dir
        )

    pages = _reset_dir(edition_dir / "notebooks_html")
    try:
        with _stage(timings, "execute"):
            outputs_dir = _reset_dir(edition_dir / "outputs")
            _reset_dir(edition_dir / "notebooks")
            ran = _execute(
                jobs, workers=workers, progress=progress, kernel_name=kernel_name, on_success=export
            )
            check_reads(outputs_dir, jobs, source_ids, theme.themes_file)
            result.notebooks = {Path(path).name: seconds for path, seconds in (ran or {}).items()}
        with _stage(timings, "notebooks"):
            for job in jobs:
                if str(job.output) not in exports:
                    export(job)
            for future in exports.values():
                future.result()
    finally:
        exporter.shutdown(wait=True, cancel_futures=True)

    with _stage(timings, "stage"):
        project = _reset_dir(edition_dir / "publication")
        _copy_tree(theme.publication_dir, project)
        for folder in ("figures", "tables"):
            _copy_tree(outputs_dir / folder, project / folder)
        records = _facts(outputs_dir)
        variables = _facts_variables(records)
        meta = meta_values(theme, year, parameters, variant)
        clash = sorted(set(variables) & set(meta))
        if clash:
            raise InputError(
                outputs_dir / "facts",
                f"key '{clash[0]}'",
                "this key is reserved for the build's meta values",
            )
        _dump_yaml(project / "_variables.yml", {**variables, **meta})
        _add_project_meta(project / "_quarto.yml", meta)
        write_calculations_page(project / "_calculs.qmd", [Path(job.input) for job in jobs])
        # The letter's words: every .qmd is a template filled from the facts (observatoire.templates).
        _fill_templates(project, records, meta, theme.publication_dir)

    with _stage(timings, "lint"):
        problems = _lint(project)
        if problems:
            raise InputError(
                theme.publication_dir,
                "publication",
                "outside the supported Quarto subset: " + "; ".join(problems),
            )

    with _stage(timings, "render"):
        edition_site = _reset_dir(edition_dir / "site")
        rendered = _render(project, edition_site)
        letter = {}
        for kind in ("html", "pdf"):
            produced = getattr(rendered, kind, None)
            if produced is None:
                continue
            produced = Path(produced)
            if not produced.resolve().is_relative_to(edition_site.resolve()):
                shutil.copy2(produced, edition_site / produced.name)
                produced = edition_site / produced.name
            letter[kind] = produced.resolve().relative_to(edition_site.resolve()).as_posix()
        renderer = getattr(rendered, "renderer", None) or _renderer_available()

    with _stage(timings, "data"):
        # The data behind the letter, downloadable beside it: the renderer already copied the CSV files its
        # links point to; add the SVG/PNG, the metadata JSON, the Markdown tables and the facts.
        for folder in ("figures", "tables", "facts"):
            _copy_tree(outputs_dir / folder, edition_site / folder, overwrite=False)
        _copy_tree(pages, edition_site / "notebooks")

    with _stage(timings, "manifest"):
        version = getattr(rendered, "version", None) or mf.renderer_version(renderer)
        manifest = mf.make_manifest(
            theme=theme.id,
            title=theme.title,
            year=year,
            parameters=parameters,
            key=key,
            key_inputs=inputs,
            inputs=used,
            renderer=renderer,
            renderer_version=version,
            letter=letter,
            outputs=mf.output_checksums(edition_site),
            replaced=replaced,
            variant=variant,
        )
        mf.write_manifest(edition_site, manifest)
        result.manifest = manifest

    if publish:
        with _stage(timings, "publish"):
            _publish(edition_site, site_dir, theme.id, year, replace=force)
            try:
                _write_index(site_dir, list_editions(site_dir))
            except Exception as exc:
                raise ReleaseError(
                    f"{theme.id} {year} is published in {_shown(target)} but the site index could not be "
                    f"written ({type(exc).__name__}: {exc}); fix it and run the release again"
                ) from exc
        result.status = "replaced" if replaced else "published"
    else:
        result.status = "built"
    log.info(
        "%s %s: %s in %.1f s (build key %s)", theme.id, year, result.status, result.total_seconds, key[:12]
    )
    return result


def format_timings(result: EditionResult) -> str:
    """The stage times of a build as a small table."""
    lines = [f"  {name:<10} {seconds:7.2f} s" for name, seconds in result.timings.items()]
    lines.append(f"  {'total':<10} {result.total_seconds:7.2f} s")
    return "\n".join(lines)


def release(
    theme: str,
    year: int | None = None,
    force: bool = False,
    overrides: Mapping[str, Any] | None = None,
    *,
    publish: bool | None = None,
    workers: int = 2,
    progress: bool = True,
) -> EditionResult:
    """Build and publish one edition (what ``make release`` runs) and print what happened.

    Parameters
    ----------
    theme : str
    year : int, optional
        Default: :func:`latest_year` of the theme.
    force : bool
        Replace an edition already published.
    overrides : Mapping, optional
        Parameter overrides; a variant is built into ``build/`` only.
    publish : bool, optional
        Default: True for the standard edition, False for a variant.
    workers : int, default 2
    progress : bool, default True
    """
    theme_obj = themes.get_theme(theme)
    year = latest_year(theme_obj) if year is None else int(year)
    variant = variant_name(theme_obj, year, overrides)
    if publish is None:
        publish = variant is None
    result = build_edition(
        theme_obj, year, force=force, overrides=overrides, publish=publish, workers=workers, progress=progress
    )
    where = _shown(result.site_path) if result.site_path else _shown(result.build_dir / "site")
    messages = {
        "unchanged": f"{theme_obj.id} {year}: unchanged since the last build ({where}); nothing to do",
        "published": f"{theme_obj.id} {year}: published to {where}",
        "replaced": f"{theme_obj.id} {year}: published to {where}, replacing the previous edition (see manifest)",
        "built": f"{theme_obj.id} {year}{' (' + variant + ')' if variant else ''}: built in {where} (not published)",
    }
    print(messages[result.status])
    print(format_timings(result))
    return result


# --------------------------------------------------------------------------------------------------------------
# Command line (registered by observatoire.cli)


def _configure_logging(verbose: bool) -> None:
    """Stage times at INFO (always shown by the CLI); -v adds DEBUG. Papermill's chatter stays hidden."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    else:
        root.setLevel(level)
    for noisy in ("papermill", "traitlets", "nbclient", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _guarded(handler):
    """Turn the release's own errors into one line on stderr and exit status 1 (InputError is the CLI's: 2)."""

    def run(args) -> int:
        from observatoire.execution import KernelMissingError, NotebookError

        _configure_logging(getattr(args, "verbose", False))
        try:
            return handler(args)
        except (ReleaseError, NotebookError, KernelMissingError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def _cmd_release(args) -> int:
    overrides = themes.parse_overrides(args.set)
    publish = False if args.no_publish else None
    release(
        args.theme,
        args.year,
        args.force,
        overrides,
        publish=publish,
        workers=args.workers,
        progress=not args.no_progress,
    )
    return 0


def _cmd_letter(args) -> int:
    release("annual", latest_year("annual"), args.force, workers=args.workers, progress=not args.no_progress)
    return 0


def _cmd_themes(args) -> int:
    print(themes.format_themes_table())
    return 0


def _cmd_bench(args) -> int:
    from observatoire import bench

    return bench.main(theme=args.theme, year=args.year, workers=args.workers)


def add_commands(subparsers) -> None:
    """Register ``release``, ``letter``, ``themes`` and ``bench`` on the CLI's subparsers (``func(args) -> int``)."""

    def common(parser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="notebooks run in parallel (default 2)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    release_parser = subparsers.add_parser("release", help="build one edition and publish it into _site/")
    release_parser.add_argument("--theme", default="annual", help="theme id (see `themes`); default annual")
    release_parser.add_argument("--year", type=int, default=None, help="default: the latest year with data")
    release_parser.add_argument(
        "--force", action="store_true", help="rebuild even if unchanged; replace an edition already published"
    )
    release_parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a theme parameter (a variant: built into build/ only), e.g. ssmsi_source=ssmsi_dep_2023",
    )
    release_parser.add_argument("--no-publish", action="store_true", help="build into build/ only")
    common(release_parser)
    release_parser.set_defaults(func=_guarded(_cmd_release))

    letter_parser = subparsers.add_parser("letter", help="build and publish the latest annual letter")
    letter_parser.add_argument(
        "--force", action="store_true", help="rebuild even if unchanged; replace an edition already published"
    )
    common(letter_parser)
    letter_parser.set_defaults(func=_guarded(_cmd_letter))

    themes_parser = subparsers.add_parser(
        "themes", help="list the themes and the years each can be built for"
    )
    themes_parser.set_defaults(func=_guarded(_cmd_themes))

    bench_parser = subparsers.add_parser("bench", help="time a clean and a no-change build; peak memory")
    bench_parser.add_argument("--theme", default="annual")
    bench_parser.add_argument("--year", type=int, default=2024)
    bench_parser.add_argument("--workers", type=int, default=2)
    bench_parser.set_defaults(func=_guarded(_cmd_bench))


#: Alias under the name first proposed in the brief.
add_release_commands = add_commands
