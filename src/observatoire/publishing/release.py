"""Build one edition of a letter, from the raw files to ``_site/<theme>/<year>/``, and publish it atomically.

Why it is written this way:

- The edition is resolved once into an :class:`~observatoire.publishing.plan.EditionPlan` (theme, year, parameters,
  sources, folders, notebook jobs, build key); :func:`build_planned` runs the stages on it in order (plan, fetch,
  validate, execute, notebooks, stage, render, data, manifest, publish; see :data:`STAGES`) and logs the
  wall time of each; :func:`build_edition` is the one-call form. Each stage calls another module through its
  contract in docs/API.md; the calls go through small module-level functions (``_fetch``, ``_render`` ...), so
  tests replace one stage with a fake; those whose modules load pandas, Jinja or papermill import them lazily
  (``# lazy:``), so the no-change path never imports pandas, papermill or matplotlib (tests/test_architecture.py).
- The edition is assembled completely (letter, executed notebooks as HTML, figure and table data, manifest) in
  the build folder, copied into a staging folder inside ``_site/`` and moved into place with ``os.replace``: a
  failure at any stage leaves ``_site/`` as it was, with no staging folder left behind, and a reader never sees
  half an edition.
- A published edition is never overwritten silently: replacing one needs ``force=True``
  (``make release YEAR=... FORCE=1``), and the new manifest records the checksums of what it replaced.
- A build key hashes every input (raw file checksums, the catalogue, curated data, notebook code, publication
  sources, the package's own source, parameters, lockfile, renderer). When the published manifest has the same key
  and the files are intact, nothing is done: a no-change rebuild costs well under a second after Python starts.
- Each stage is one function with its docstring (``_check_cache``, ``_execute_notebooks``, ``_stage_project``,
  ``_collect_render``, ``_add_data``, ``_write_edition_manifest``, :func:`publish_built`); :func:`_build_locked`
  calls them in order and reads on one screen. What is carried between them is a ``_Build``.
- The site's own pages list the editions; they are rewritten after each publication, and ``_site/.site-state.json``
  (written last) records the editions they were written from. A kill between moving an edition in and rewriting
  the pages leaves the site "not current" (:func:`site_is_current`): the next release, even with nothing to
  build, rewrites them (:func:`refresh_site_index`). Every file of the site is written by a rename.
- A parameter variant (``--set ssmsi_source=ssmsi_dep_2023``) is built into its own folder
  (``build/annual/2023+ssmsi_source-ssmsi_dep_2023/``) and never published over the standard edition; it exists
  to compare editions (``make diff``).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire.core import atomic, paths
from observatoire.core.errors import InputError
from observatoire.core.escaping import markdown_text
from observatoire.data import catalogue
from observatoire.data.themes import Theme
from observatoire.outputs import facts
from observatoire.publishing import corrections, staging
from observatoire.publishing import manifest as mf
from observatoire.publishing.execution import KERNEL_ARGUMENTS, run_notebooks
from observatoire.publishing.kernel_env import kernel_environment
from observatoire.publishing.notebook_export import notebook_page, write_calculations_page
from observatoire.publishing.plan import (
    EditionPlan,
    ReleaseError,
    renderer_available,
    resolve_plan,
)
from observatoire.publishing.site_listing import list_editions

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
    "render",
    "data",
    "manifest",
    "publish",
)
#: Staging and replaced-edition folders inside ``_site/`` start with these (hidden from the index and servers).
STAGING_PREFIX = ".staging-"
REPLACED_PREFIX = ".replaced-"
#: In ``_site/``: the state of the editions the site's pages were last written from (see :func:`site_is_current`)
#: and the lock that lets one process at a time rewrite them.
SITE_STATE = ".site-state.json"
SITE_LOCK = ".site.lock"
#: The hidden files a site keeps (anything else hidden in it is a leftover of an interrupted run).
SITE_FILES = (SITE_STATE, SITE_LOCK)


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
    render_timings : dict
        Wall time in seconds of the render of each format (``{"html": 5.8, "pdf": 5.9}``).
    replaced : dict or None
        Build key, date and checksums of the published edition a forced build replaces.
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
    render_timings: dict[str, float] = field(default_factory=dict)
    replaced: dict[str, Any] | None = None

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
    return catalogue.fetch(source_ids, quiet=True)


def _validate(source_ids: list[str]) -> None:
    from observatoire.data import datasets  # lazy: pandas, not on the no-change path

    for source_id in source_ids:
        datasets.validate(source_id)  # checked, not kept: the notebooks read the tables in their kernels


def _execute(
    jobs: list,
    *,
    workers: int,
    progress: bool,
    kernel_name: str,
    on_success=None,
    warm: bool = True,
    env: Mapping[str, str] | None = None,
) -> dict[Path, float]:
    return run_notebooks(
        jobs,
        workers=workers,
        progress=progress,
        kernel_name=kernel_name,
        on_success=on_success,
        warm=warm,
        env=env,
    )


def _kernel_environment() -> dict[str, str]:
    return kernel_environment()


def _prestart(plan: EditionPlan, workers: int, env: Mapping[str, str]) -> None:
    """Start the warm kernels the notebooks will take, so their imports overlap the fetch and validate stages."""
    from observatoire.publishing.warm_engine import POOL  # lazy: papermill, not on the no-change path

    count = min(max(1, workers), len(plan.jobs))
    POOL.prestart(count, plan.kernel_name, env, KERNEL_ARGUMENTS, str(plan.theme.notebook_dir))


def _facts(outputs_dir: Path) -> dict[str, dict]:
    return facts.load_facts(outputs_dir)


def _cited_rows(outputs_dir: Path) -> list[dict]:
    """The national-series rows an edition's facts cite, with their provenance (recorded in the manifest)."""
    from observatoire.analysis.indicators.published import (
        cited_rows,  # lazy: keeps pandas off the no-change path
    )

    return cited_rows(_facts(outputs_dir))


def _facts_variables(records: Mapping[str, dict], lang: str = "fr") -> dict[str, str]:
    # Quarto reads a variable as Markdown: text from data must be inert there (see observatoire.core.escaping).
    return {k: markdown_text(v) for k, v in facts.to_variables(records, lang).items()}


def _fill_templates(
    project: Path, records: Mapping[str, dict], meta: Mapping[str, str], origin: Path
) -> None:
    from observatoire.outputs import templates  # lazy: Jinja, not on the no-change path

    templates.render_tree(project, records, meta, origin=origin)
    if str(meta.get("lang", "fr")) == "fr":
        templates.typeset_tables(project)


def _verify_raw(source_ids: list[str]) -> None:
    catalogue.verify_present(source_ids)


def _check_writable(site_dir: Path, theme_id: str) -> None:
    """Refuse to build when the site cannot take the edition (checked before the build, not after it)."""
    folders = [site_dir, site_dir / theme_id]
    existing = [f for f in folders if f.exists()] or [next(p for p in site_dir.parents if p.exists())]
    for folder in existing:
        try:
            handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
            os.close(handle)
            os.remove(probe)
        except OSError as exc:
            raise ReleaseError(
                f"{_shown(folder)} is not writable ({exc.strerror or exc}): nothing was built"
            ) from None
    index = site_dir / "index.html"
    if index.exists() and not os.access(index, os.W_OK):
        raise ReleaseError(f"{_shown(index)} is not writable: nothing was built")


#: Whether a render may use two Quarto calls at once (its notebook pages apart: ``rendering.render``'s
#: ``pages_apart``): yes for a letter rendered alone, no for the letters :func:`_render_side_by_side` renders
#: together, which already keep both cores busy.
_PAGES_APART = contextvars.ContextVar("pages_apart", default=True)


def _render(project_dir: Path, out_dir: Path, edition: str) -> Any:
    from observatoire.publishing import rendering  # lazy: pandas, Jinja; not on the no-change path

    return rendering.render(project_dir, out_dir, edition=edition, pages_apart=_PAGES_APART.get())


def stop_idle_kernels() -> None:
    """Stop this process's idle warm kernels (a one-off build before Quarto; each Dask worker after a batch)."""
    if "observatoire.publishing.warm_engine" in sys.modules:
        sys.modules["observatoire.publishing.warm_engine"].POOL.shutdown()


def _render_group(requests: list[RenderRequest]) -> list[Any]:
    from observatoire.publishing import rendering  # lazy: pandas, Jinja; not on the no-change path

    return rendering.render_group([(r.project_dir, r.out_dir, r.edition) for r in requests])


def _write_index(site_dir: Path, editions: list[dict[str, Any]]) -> None:
    # A folder of its own for each render: two sites (two tests, two batches) never share their Quarto project.
    from observatoire.publishing import rendering  # lazy: pandas, Jinja; not on the no-change path

    with tempfile.TemporaryDirectory(prefix="observatoire-site-") as work:
        rendering.write_site(site_dir, editions, work_dir=Path(work) / "site-project")


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


def _one_line(exc: BaseException) -> str:
    """An error as one line: its message (lines joined), or its type when it has none."""
    text = str(exc).strip() or type(exc).__name__
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


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
            continue  # a notebook that reads no data through observatoire.data.datasets
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


def is_unchanged(plan: EditionPlan) -> bool:
    """True when the edition at ``plan.target`` was built with the plan's key and its files are intact.

    What an interrupted release of this edition left in the site (a staging folder, an edition moved aside) is
    cleaned or restored first, as a release does (:func:`_cleanup_leftovers`).

    Raises
    ------
    InputError
        A raw file the edition reads no longer matches the catalogue (checked even when nothing changed).
    """
    if plan.publish and plan.site_dir.is_dir():
        _cleanup_leftovers(plan.site_dir, plan.theme.id, plan.edition_path)
    _verify_raw(plan.theme.source_ids(plan.parameters))
    return _cached(plan.target, plan.key) is not None


def published_state(site_dir: Path) -> str:
    """A digest of what is published: every edition's manifest (path and bytes) under ``site_dir``.

    The site's pages (index, letters, editions, data, changelog) list the editions; they are current when they
    were written from this state (:func:`site_is_current`). Editions are ``<theme>/<year>/`` and
    ``<theme>/<year>/<territory>/``; hidden folders (staging, editions set aside) are not published.
    """
    digest = hashlib.sha256()
    site_dir = Path(site_dir)
    for manifest in sorted(site_dir.glob(f"*/*/{mf.MANIFEST_NAME}")) + sorted(
        site_dir.glob(f"*/*/*/{mf.MANIFEST_NAME}")
    ):
        rel = manifest.relative_to(site_dir)
        if any(part.startswith(".") for part in rel.parts) or rel.parts[2] == corrections.REVISIONS:
            continue
        try:
            data = manifest.read_bytes()
        except OSError:
            continue
        digest.update(f"{rel.as_posix()}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest()


def site_is_current(site_dir: Path) -> bool:
    """True when the site's pages were written from the editions published now (:func:`published_state`).

    False after a release or a batch was killed between moving an edition into place and rewriting the pages
    that list it: the next release (or ``make all``), even with nothing to build, rewrites them.
    """
    site_dir = Path(site_dir)
    if not (site_dir / "index.html").is_file() or not (site_dir / corrections.CHANGELOG).is_file():
        return False
    try:
        recorded = json.loads((site_dir / SITE_STATE).read_text(encoding="utf-8")).get("published")
    except (OSError, ValueError, AttributeError):
        return False
    return recorded == published_state(site_dir)


def _refresh_after_publishing(site_dir: Path, published: str) -> None:
    """:func:`refresh_site_index` once an edition is published; its failure says the edition is published
    (``published``: which, where) and the site's pages are not."""
    try:
        refresh_site_index(site_dir)
    except Exception as exc:
        raise ReleaseError(
            f"{published} but the site index could not be written ({_one_line(exc)}); "
            "fix it and run the release again"
        ) from exc


def refresh_site_index(site_dir: Path) -> None:
    """Rewrite the site's pages and the changelog from the editions published under ``site_dir``.

    Every file is replaced by a rename (a reader sees the old page or the new one); :data:`SITE_STATE` is written
    last, with the state the pages were written from, so a kill at any point leaves the site marked as not
    current (:func:`site_is_current`) and the next run rewrites the pages. One refresh at a time per site.
    """
    site_dir = Path(site_dir)
    site_dir.mkdir(parents=True, exist_ok=True)
    with open(site_dir / SITE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # What a refresh killed mid-way left (only refreshes write these, and this one holds the lock).
            for leftover in [*site_dir.glob(".staging-site-*"), *site_dir.glob(".replaced-site-*")]:
                shutil.rmtree(leftover, ignore_errors=True)
            for pattern in (".*.tmp", "*/.*.tmp", "*/*/.*.tmp"):  # a page, listing or changelog write
                for leftover in site_dir.glob(pattern):
                    leftover.unlink(missing_ok=True)
            state = published_state(site_dir)  # before listing: an edition published meanwhile makes it stale
            _write_index(site_dir, list_editions(site_dir))
            corrections.write_changelog(site_dir)
            atomic.write_text(site_dir / SITE_STATE, json.dumps({"published": state}) + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


#: Written beside an edition's notebook outputs once they have all run: the execution key of that run.
EXECUTION_MARKER = "execution.json"


def _run_marker(plan: EditionPlan) -> dict[str, Any]:
    """The marker of the last run of the edition's notebooks (:data:`EXECUTION_MARKER`), or {} when none is."""
    try:
        recorded = json.loads((plan.runs_in / EXECUTION_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _executed(plan: EditionPlan, drawn: tuple[str, ...]) -> bool:
    """True when the edition's notebooks already ran with the plan's execution key (every language of a letter
    with one source shares one run), drew the figures of the languages ``drawn`` (:func:`drawn_languages`), and
    its outputs are all there."""
    recorded = _run_marker(plan)
    if recorded.get("key") != plan.execution_key or not (plan.outputs_dir / "facts").is_dir():
        return False
    if not set(drawn) <= set(recorded.get("drawn", plan.theme.languages)):
        return False
    return all(Path(job.output).is_file() for job in plan.jobs)


def drawn_languages(plan: EditionPlan, *, every_language: bool) -> tuple[str, ...]:
    """The languages whose figures the run of ``plan``'s notebooks draws: every language of the theme when its
    letters are built together (:func:`build_group`), else the letter's own and French (the notebooks show the
    French figures). Drawing is most of a notebook's time; the other languages' facts, tables and figure data
    are written all the same (:data:`observatoire.core.paths.DRAW_FIGURES_VARIABLE`)."""
    languages = plan.theme.languages
    if every_language:
        return tuple(languages)
    return tuple(lang for lang in languages if lang in (languages[0], plan.lang))


def _languages_to_draw(plan: EditionPlan, every_language: bool) -> tuple[str, ...]:
    """What a run of ``plan``'s notebooks draws: :func:`drawn_languages`, and the languages the edition's last
    run drew (a French letter forced again keeps the English figures an English letter will reuse)."""
    wanted = set(drawn_languages(plan, every_language=every_language))
    recorded = _run_marker(plan)
    if recorded:
        wanted.update(recorded.get("drawn", plan.theme.languages))
    return tuple(lang for lang in plan.theme.languages if lang in wanted)


@contextlib.contextmanager
def _run_lock(run_dir: Path) -> Iterator[None]:
    """One run of an edition's notebooks at a time: a letter in another language waits for the run it shares,
    then reuses it (held for the run only, not for the render: the letters of a group render together)."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(run_dir.parent / f".{run_dir.name}.run.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def _cleanup_leftovers(site_dir: Path, theme_id: str, year: int | str) -> None:
    """Remove staging folders of a crashed build of this edition; restore an edition a crash left aside.

    ``year`` is the edition's path under the theme: ``2024``, or ``"2024/29"`` for a territorial letter.
    """
    target = site_dir / theme_id / str(year)
    tag = _tag(theme_id, year)
    for leftover in sorted(site_dir.glob(f"{REPLACED_PREFIX}{tag}-*")):
        if not target.exists():
            log.warning("restoring %s from %s (left by an interrupted release)", target, leftover.name)
            os.replace(leftover, target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in site_dir.glob(f"{STAGING_PREFIX}{tag}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _tag(theme_id: str, year: int | str) -> str:
    """The name of an edition in staging folder names (no slash): ``annual-2024``, ``territoire-2024-29``."""
    return f"{theme_id}-{str(year).replace('/', '-')}"


def _publish(edition_site: Path, site_dir: Path, theme_id: str, year: int | str, replace: bool) -> Path:
    """Copy the finished edition into a staging folder inside ``site_dir``, then move it into place atomically."""
    target = site_dir / theme_id / str(year)
    tag = _tag(theme_id, year)
    created_site = not site_dir.exists()
    site_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{tag}-", dir=site_dir))
    aside: Path | None = None
    try:
        _copy_tree(edition_site, staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it 0700; a web server must read it
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if not replace:
                raise ReleaseError(f"{_shown(target)} appeared during the build; not overwriting it")
            aside = site_dir / f"{REPLACED_PREFIX}{tag}-{staging.name[-8:]}"
            os.replace(target, aside)
        try:
            os.replace(staging, target)
        except OSError:
            if aside is not None:
                os.replace(aside, target)
                aside = None
            raise
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if created_site and not any(site_dir.iterdir()):
            site_dir.rmdir()
        if atomic.is_disk_full(exc):  # one line naming where, the site as it was
            raise atomic.DiskFullError(target) from None
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
    correction: str | None = None,
    lang: str = "fr",
) -> EditionResult:
    """Build one edition of a letter and publish it into ``site_dir/<theme>/<year>/``.

    Parameters
    ----------
    theme : str or Theme
        Theme id (``"annual"``) or a :class:`~observatoire.data.themes.Theme`.
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
    correction : str, optional
        Publish a correction of the published edition: a new revision with a dated notice saying this text,
        the previous revision kept in ``revisions/<n>/`` and the change listed in the site changelog (see
        :mod:`observatoire.publishing.corrections`). Implies ``force``.
    lang : str, default "fr"
        The letter's language: ``"en"`` builds the theme's English publication (``translations`` in
        ``themes.yml``) into ``site_dir/<theme>/<year>-en/``, from the same facts.

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
    observatoire.publishing.execution.NotebookError
        A notebook failed (named, with the failing cell; the executed copy stays in ``build/``).
    """
    started = time.perf_counter()
    plan = resolve_plan(
        theme,
        year,
        overrides=overrides,
        publish=publish,
        site_dir=site_dir,
        build_dir=build_dir,
        kernel_name=kernel_name,
        lang=lang,
    )
    timings = {"plan": time.perf_counter() - started}
    if correction is not None:
        if not correction.strip() or not plan.publish:
            raise ReleaseError("a correction needs a text saying what was corrected, and is published")
        if mf.read_manifest(plan.target) is None:
            raise ReleaseError(f"{plan.theme.id} {plan.year} is not published: there is nothing to correct")
        force = True
    return build_planned(
        plan, force=force, workers=workers, progress=progress, timings=timings, correction=correction
    )


def build_planned(
    plan: EditionPlan,
    *,
    force: bool = False,
    workers: int = 2,
    progress: bool = True,
    timings: dict[str, float] | None = None,
    publish_now: bool = True,
    warm: bool = True,
    correction: str | None = None,
) -> EditionResult:
    """Build an edition already resolved by :func:`observatoire.publishing.plan.resolve_plan`.

    Parameters and errors as :func:`build_edition`; ``timings`` may already hold the plan's time. With
    ``publish_now=False`` a plan to publish stops before the publish stage (status ``"built"``, the edition in
    ``edition_dir/site``): :func:`publish_built` finishes it. ``warm=False`` runs each notebook on a new kernel
    instead of a warm one (:mod:`observatoire.publishing.warm_engine`). The idle warm kernels are stopped once the
    notebooks have run, before Quarto starts: a one-off build needs them no more, and two idle kernels add
    about 0.9 GB to Quarto's peak (a batch does the same: :func:`build_group`).
    """
    timings = {"plan": 0.0} if timings is None else timings
    steps = build_steps(
        plan,
        timings,
        force=force,
        workers=workers,
        progress=progress,
        publish_now=publish_now,
        warm=warm,
        correction=correction,
        every_language=False,
    )
    try:
        request = next(steps)
    except StopIteration as done:  # unchanged: nothing to render
        return done.value
    stop_idle_kernels()
    try:
        started = time.perf_counter()
        rendered = _render(request.project_dir, request.out_dir, request.edition)
        answer = (rendered, time.perf_counter() - started)
    except BaseException:
        steps.close()  # releases the edition's lock
        raise
    return finish_steps(steps, answer)


def build_group(
    plans: list[EditionPlan],
    *,
    force: bool = False,
    workers: int = 1,
    warm: bool = True,
    render_side_by_side: bool = False,
    pages_apart: bool = True,
    progress: bool = False,
) -> list[EditionResult | Exception]:
    """Build several editions and render them together; none is published (the caller publishes).

    Each edition runs its steps up to its render, one after the other (:func:`build_steps`); the staged
    letters are then rendered by :func:`observatoire.publishing.rendering.render_group` (the same bytes as one render
    each, one Quarto start instead of many) and each build runs to its end. When the group cannot be rendered
    together (letters of other places or dates, Quarto failing on one of them), each letter is rendered alone,
    so one bad letter fails alone.

    ``render_side_by_side=True`` renders each letter alone, the Quarto calls in parallel (one per core, at most
    ``workers``): what a one-off build of a letter's languages wants, since one Quarto call keeps one core busy
    and the other idle (:func:`build_languages`). A batch, whose workers keep every core busy, renders one call
    per group, and ``pages_apart=False`` keeps a letter rendered alone to one Quarto call (not two at once).
    Either way the idle warm kernels are stopped before Quarto starts, as :func:`build_planned` does: an idle
    kernel holds about 480 MB, and a batch keeping one per worker through its Quarto calls peaked at 3 GB; the
    next task's kernel starts while its data is fetched and validated (:func:`_start_kernels`).

    Returns
    -------
    list
        Per plan, in order: its :class:`EditionResult` (status ``"built"`` or ``"unchanged"``), or the exception
        that stopped it.
    """
    outcomes: dict[int, EditionResult | Exception] = {}
    paused: dict[int, tuple[Iterator, RenderRequest]] = {}
    for index, plan in enumerate(plans):
        steps = build_steps(
            plan, {"plan": 0.0}, force=force, workers=workers, progress=progress, publish_now=False, warm=warm
        )
        try:
            paused[index] = (steps, next(steps))
        except StopIteration as done:
            outcomes[index] = done.value
        except Exception as exc:
            outcomes[index] = exc
    if paused:
        stop_idle_kernels()
    token = _PAGES_APART.set(pages_apart)
    try:
        _render_paused(paused, outcomes, workers, render_side_by_side)
    finally:
        _PAGES_APART.reset(token)
    return [outcomes[index] for index in range(len(plans))]


def _render_paused(
    paused: dict[int, tuple[Iterator, RenderRequest]],
    outcomes: dict[int, EditionResult | Exception],
    workers: int,
    render_side_by_side: bool,
) -> None:
    """Render the letters :func:`build_group` paused before their render, and finish their builds (each
    one's result, or the exception that stopped it, into ``outcomes``)."""
    answers: dict[int, Any] = {}
    if render_side_by_side and paused:
        answers = _render_side_by_side(
            {index: request for index, (_, request) in paused.items()}, max(1, min(workers, len(paused)))
        )
    elif len(paused) > 1:
        try:
            rendered = _render_group([request for _, request in paused.values()])
        except Exception as exc:
            log.warning(
                "the %d letters could not be rendered together (%s): each is rendered alone", len(paused), exc
            )
        else:
            answers = {i: (r, r.timings.get("html+pdf", 0.0)) for i, r in zip(paused, rendered, strict=True)}
    for index, (steps, request) in paused.items():
        try:
            answer = answers.get(index)
            if isinstance(answer, BaseException):  # its render failed, side by side with the others
                raise answer
            if answer is None:
                started = time.perf_counter()
                alone = _render(request.project_dir, request.out_dir, request.edition)
                answer = (alone, time.perf_counter() - started)
        except Exception as exc:
            steps.close()
            outcomes[index] = exc
            continue
        try:
            outcomes[index] = finish_steps(steps, answer)
        except Exception as exc:
            outcomes[index] = exc


def _render_side_by_side(requests: dict[int, RenderRequest], workers: int) -> dict[int, Any]:
    """Render each request alone, ``workers`` Quarto calls at a time; per index, (result, seconds) or the
    exception that stopped its render (raised again, for that letter only, by :func:`build_group`)."""

    def one(request: RenderRequest) -> tuple[Any, float]:
        _PAGES_APART.set(False)  # this thread's context: one Quarto call per letter
        started = time.perf_counter()
        return _render(request.project_dir, request.out_dir, request.edition), time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
        futures = {index: pool.submit(one, request) for index, request in requests.items()}
    answers: dict[int, Any] = {}
    for index, future in futures.items():
        error = future.exception()
        answers[index] = error if error is not None else future.result()
    return answers


def build_languages(
    theme: Theme,
    year: int,
    *,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    workers: int = 2,
    progress: bool = True,
    site_dir: Path = paths.SITE,
    build_dir: Path = paths.BUILD,
) -> list[EditionResult]:
    """Build and publish an edition in every language its theme declares (what ``make letter`` runs).

    The notebooks run once (the first language runs them, the others reuse the run); the letters are rendered
    side by side, one Quarto call per language in parallel (:func:`build_group`); each is published, then the
    site's pages are written once for all of them. The outputs are those of one :func:`build_edition` per
    language, byte for byte (tests/test_e2e_languages.py).

    Parameters
    ----------
    theme : Theme
    year : int
    overrides : Mapping, optional
        The parameters of a letter of a place (``{"territoire": "2A"}``), as :func:`build_edition`.
    force, workers, progress, site_dir, build_dir
        As :func:`build_edition`.

    Returns
    -------
    list of EditionResult
        One per language, in the theme's order.

    Raises
    ------
    InputError, ReleaseError, NotebookError
        As :func:`build_edition`: the first language's error; nothing of a failed language is published.
    """
    plans = [
        resolve_plan(theme, year, overrides=overrides, site_dir=site_dir, build_dir=build_dir, lang=lang)
        for lang in theme.languages
    ]
    _check_writable(site_dir, theme.id)
    built = build_group(plans, force=force, workers=workers, render_side_by_side=True, progress=progress)
    results: list[EditionResult] = []
    for plan, result in zip(plans, built, strict=True):
        if isinstance(result, BaseException):
            raise result
        if result.status == "built":
            publish_built(plan, result, force=force, write_index=False)
        results.append(result)
    if any(r.status in ("published", "replaced") for r in results) or not site_is_current(site_dir):
        started = time.perf_counter()
        _refresh_after_publishing(site_dir, f"{theme.id} {year} is published")
        results[-1].timings["site pages"] = time.perf_counter() - started
    return results


@dataclass(frozen=True)
class RenderRequest:
    """What a build asks to have rendered: its staged project, the output folder, its place in the site."""

    project_dir: Path
    out_dir: Path
    edition: str


def finish_steps(steps: Iterator, answer: tuple[Any, float]) -> EditionResult:
    """Hand a build paused by :func:`build_steps` its render (result, seconds) and run it to the end."""
    try:
        steps.send(answer)
    except StopIteration as done:
        return done.value
    steps.close()
    raise RuntimeError("a build asked to be rendered twice")


def build_steps(plan: EditionPlan, timings: dict[str, float], **options: Any):
    """The build of one edition, paused once at its render: a generator.

    ``options`` are those of :func:`build_planned` (``force``, ``workers``, ``progress``, ``publish_now``,
    ``warm``, ``correction``) and ``every_language`` (default True: the run draws the figures of every language
    of the theme, for a group of its letters; :func:`build_planned` draws its letter's: :func:`drawn_languages`).

    It yields one :class:`RenderRequest` when the project is staged and expects, sent back, the render's
    result and its seconds; it returns the :class:`EditionResult` (``StopIteration.value``), at once when the
    edition is unchanged. :func:`build_planned` renders the request alone; a batch (:mod:`observatoire.publishing.batch`)
    renders the requests of several letters in one Quarto call (:func:`observatoire.publishing.rendering.render_group`).
    The edition's lock is held from the first step to the last (``close()`` releases it).
    """
    # One build of an edition at a time: the lock covers the cache check, the build folder and the publication.
    with _edition_lock(plan.edition_dir):
        if plan.publish and options["publish_now"]:
            _check_writable(plan.site_dir, plan.theme.id)
            _cleanup_leftovers(plan.site_dir, plan.theme.id, plan.edition_path)
        return (yield from _build_locked(plan, timings, **options))


@dataclass
class _Build:
    """What one build carries from stage to stage (see :func:`_build_locked`)."""

    plan: EditionPlan
    result: EditionResult
    force: bool
    correction: str | None = None
    previous: dict[str, Any] | None = None
    replaced: dict[str, Any] | None = None
    kernel_env: dict[str, str] = field(default_factory=dict)
    drawn: tuple[str, ...] = ()
    reuse: bool = False
    pages: Path | None = None
    project: Path | None = None
    corrected_at: str | None = None
    letter: dict[str, str] = field(default_factory=dict)
    renderer: str = "quarto"
    renderer_version: str | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def outputs_dir(self) -> Path:
        return self.plan.outputs_dir

    @property
    def edition_site(self) -> Path:
        """``edition_dir/site``: the rendered edition, assembled before it is published."""
        return self.plan.edition_dir / "site"


def _build_locked(
    plan: EditionPlan,
    timings: dict[str, float],
    *,
    force: bool,
    workers: int,
    progress: bool,
    publish_now: bool,
    warm: bool,
    correction: str | None = None,
    every_language: bool = True,
):
    """The steps of :func:`build_steps`, run while holding the edition's lock: one call per stage."""
    build = _Build(plan, _new_result(plan, timings), force=force, correction=correction)
    build.drawn = _languages_to_draw(plan, every_language)
    with _stage(timings, "plan"):
        cached = _check_cache(build)
    if cached is not None:
        return _unchanged(build, cached, publish_now)
    build.replaced = _replacing(build)
    # The notebooks run once per edition: a letter in another language (or a forced rebuild of it) reuses the
    # run of its edition when it has the same execution key; the French letter forced runs them again.
    build.reuse = not (force and plan.lang == plan.theme.languages[0]) and _executed(plan, build.drawn)
    _start_kernels(build, workers, warm)
    with _stage(timings, "fetch"):
        _fetch(list(plan.source_ids))
    with _stage(timings, "validate"):
        _validate(list(plan.source_ids))
    _execute_notebooks(build, workers=workers, progress=progress, warm=warm)  # stages execute and notebooks
    with _stage(timings, "stage"):
        request = _stage_project(build)
    rendered, timings["render"] = yield request  # rendered alone (build_planned) or with others (build_group)
    log.info("stage %-9s %6.2f s", "render", timings["render"])
    with _stage(timings, "render"):
        _collect_render(build, rendered)
    with _stage(timings, "data"):
        _add_data(build)
    with _stage(timings, "manifest"):
        _write_edition_manifest(build)
    build.result.status, build.result.replaced = "built", build.replaced
    if plan.publish and publish_now:
        publish_built(plan, build.result, force=force)
    log.info(
        "%s %s: %s in %.1f s (build key %s)",
        plan.theme.id,
        plan.year,
        build.result.status,
        build.result.total_seconds,
        plan.key[:12],
    )
    return build.result


def _new_result(plan: EditionPlan, timings: dict[str, float]) -> EditionResult:
    return EditionResult(
        theme=plan.theme.id,
        year=plan.year,
        status="unchanged",
        build_key=plan.key,
        build_dir=plan.edition_dir,
        site_path=plan.target if plan.publish else None,
        timings=timings,
        variant=plan.variant,
    )


def _check_cache(build: _Build) -> dict[str, Any] | None:
    """Plan stage: the raw files re-verified (a flipped byte is noticed even when nothing changed), then the
    published manifest compared with the plan's build key; returns it when nothing has to be done."""
    plan = build.plan
    build.previous = mf.read_manifest(plan.target)
    _verify_raw(plan.theme.source_ids(plan.parameters))
    return None if build.force else _cached(plan.target, plan.key)


def _unchanged(build: _Build, cached: dict[str, Any], publish_now: bool) -> EditionResult:
    """Nothing to build; the site's pages are brought up to date when a crash left them older than the
    editions they list (:func:`site_is_current`)."""
    plan = build.plan
    build.result.manifest = cached
    if plan.publish and publish_now and not site_is_current(plan.site_dir):
        log.warning("the site's pages do not list what is published (an interrupted release): rewriting them")
        with _stage(build.result.timings, "publish"):
            refresh_site_index(plan.site_dir)
    log.info("%s %s: unchanged (build key %s), nothing to do", plan.theme.id, plan.year, plan.key[:12])
    return build.result


def _replacing(build: _Build) -> dict[str, Any] | None:
    """What a forced build replaces (build key, date, checksums), or None; an edition already published is
    never replaced without ``force`` (the error says what changed)."""
    plan, previous = build.plan, build.previous
    if plan.publish and plan.target.exists():
        if not build.force:
            why = ""
            if previous and previous.get("build_key") != plan.key:
                changed = mf.changed_inputs(previous.get("build_inputs") or {}, plan.key_inputs)
                why = f" with other inputs (changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''})"
            elif previous:
                why = " and its files differ from its manifest"
            raise ReleaseError(
                f"{_shown(plan.target)} is already published{why}. Replacing a published edition must be asked "
                f"for: make release YEAR={plan.year} THEME={plan.theme.id} FORCE=1"
            )
        return {
            "build_key": (previous or {}).get("build_key"),
            "built_at": (previous or {}).get("built_at"),
            "outputs": mf.output_checksums(plan.target),
        }
    if previous and previous.get("build_inputs"):
        changed = mf.changed_inputs(previous["build_inputs"], plan.key_inputs)
        log.info("rebuilding: changed %s", ", ".join(changed[:8]))
    return None


def _start_kernels(build: _Build, workers: int, warm: bool) -> None:
    """Take the kernels' environment (before the data stages: the libraries they import add variables to
    ours) and start the warm kernels, whose imports then overlap the fetch and validate stages."""
    build.kernel_env = {**_kernel_environment(), paths.DRAW_FIGURES_VARIABLE: ",".join(build.drawn)}
    if warm and build.plan.jobs and not build.reuse:
        _prestart(build.plan, workers, build.kernel_env)


def _execute_notebooks(build: _Build, *, workers: int, progress: bool, warm: bool) -> None:
    """Stages execute and notebooks: run the notebooks with papermill; each one's page (an ``.ipynb`` Quarto
    renders with the letter) is prepared by one background thread as soon as it has run, while the kernels run
    the others. A notebook that read a source its theme does not declare stops the build (:func:`check_reads`).
    A letter whose edition's notebooks already ran with its execution key (another language) reuses that run,
    under the run's lock: only the pages are prepared."""
    plan, timings = build.plan, build.result.timings
    pages = build.pages = _reset_dir(plan.edition_dir / "notebook_pages")
    exporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
    exports: dict[str, Future] = {}

    def export(job) -> None:
        exports[str(job.output)] = exporter.submit(
            notebook_page,
            Path(job.output),
            pages / Path(job.output).name,
            job.parameters,
            plan.build_dir,
            plan.theme.publication_dir,
            plan.lang,
        )

    try:
        with _stage(timings, "execute"), _run_lock(plan.runs_in):
            if build.reuse and _executed(plan, build.drawn):
                log.info("notebooks already run for this edition (key %s): reused", plan.execution_key[:12])
            else:
                (plan.runs_in / EXECUTION_MARKER).unlink(missing_ok=True)
                _reset_dir(plan.outputs_dir)
                _reset_dir(plan.runs_in / "notebooks")
                ran = _execute(
                    list(plan.jobs),
                    workers=workers,
                    progress=progress,
                    kernel_name=plan.kernel_name,
                    on_success=export,
                    warm=warm,
                    env=build.kernel_env,
                )
                check_reads(plan.outputs_dir, plan.jobs, list(plan.source_ids), plan.theme.themes_file)
                build.result.notebooks = {Path(path).name: seconds for path, seconds in (ran or {}).items()}
                marker = {
                    "key": plan.execution_key,
                    "notebooks": [Path(j.input).name for j in plan.jobs],
                    "drawn": list(build.drawn),
                }
                (plan.runs_in / EXECUTION_MARKER).write_text(json.dumps(marker, indent=2) + "\n", "utf-8")
        with _stage(timings, "notebooks"):
            for job in plan.jobs:
                if str(job.output) not in exports:
                    export(job)
            for future in exports.values():
                future.result()
    finally:
        exporter.shutdown(wait=True, cancel_futures=True)


def _stage_project(build: _Build) -> RenderRequest:
    """Stage: the publication copied to ``edition_dir/publication`` with the figures, tables, facts as variables,
    meta values (checked and escaped: :mod:`observatoire.staging`), the calculations page, the templates filled
    and the notebooks' pages; a correction's dated notice at the top of the letter. Returns what to render."""
    plan, outputs_dir = build.plan, build.outputs_dir
    one_source = plan.theme.one_source(plan.lang)
    staging.check_text_files(plan.publication_dir)  # a template saved as Latin-1: one line naming it
    project = build.project = _reset_dir(plan.edition_dir / "publication")
    _copy_tree(plan.publication_dir, project)
    for folder in ("figures", "tables"):  # the outputs in the letter's language
        _copy_tree(plan.language_outputs / folder, project / folder)
    records = _facts(outputs_dir)
    meta = {
        **staging.meta_values(plan.theme, plan.year, plan.parameters, plan.variant, plan.lang),
        **staging.language_values(plan),
    }
    variables = _facts_variables(records, plan.lang if one_source else "fr")
    staging.write_metadata(project, variables, meta, outputs_dir / "facts")
    if one_source:  # the words Quarto prints (Figure, Table ...), in the letter's language
        staging.write_language_words(project, plan.lang)
    write_calculations_page(project / "_calculs.qmd", [Path(job.input) for job in plan.jobs], plan.lang)
    # The letter's words: every .qmd is a template filled from the facts (observatoire.outputs.templates).
    _fill_templates(project, records, meta, plan.publication_dir)
    _copy_tree(build.pages, project / "notebooks")
    build.corrected_at = mf.built_at()
    if build.correction is not None:  # a dated notice at the top of the letter, in the HTML and the PDF
        revision = int((build.previous or {}).get("revision") or 1) + 1
        corrections.add_notice(
            project / "index.qmd",
            corrections.notice_markdown(build.correction, build.corrected_at, revision, plan.lang),
        )
    return RenderRequest(project, _reset_dir(build.edition_site), f"{plan.theme.id}/{plan.edition_path}")


def _collect_render(build: _Build, rendered: Any) -> None:
    """Render stage, after Quarto: the letter's HTML and PDF located in the edition (copied in when the renderer
    wrote them elsewhere), the letter's date as printed (the changelog dates its first publication with it), then
    the HTML letter's interactive charts, data tables and downloads, in the letter's language (a copied
    publication in another language keeps its static charts)."""
    plan, edition_site = build.plan, build.edition_site
    build.result.render_timings = dict(getattr(rendered, "timings", None) or {})
    for kind in ("html", "pdf"):
        produced = getattr(rendered, kind, None)
        if produced is None:
            continue
        produced = Path(produced)
        if not produced.resolve().is_relative_to(edition_site.resolve()):
            shutil.copy2(produced, edition_site / produced.name)
            produced = edition_site / produced.name
        build.letter[kind] = produced.resolve().relative_to(edition_site.resolve()).as_posix()
    if getattr(rendered, "date", None):
        build.letter["date"] = rendered.date
    build.renderer = getattr(rendered, "renderer", None) or "quarto"
    build.renderer_version = getattr(rendered, "version", None)
    if "html" in build.letter and plan.theme.one_source(plan.lang):
        from observatoire.outputs.interactive import enhance_letter  # lazy: pandas (no-change path)

        enhance_letter(edition_site / build.letter["html"], build.project, lang=plan.lang)


def _add_data(build: _Build) -> None:
    """Data stage: the data behind the letter beside it. Quarto already copied the files its pages link to; the
    rest of the figures and tables (SVG/PNG, CSV, metadata JSON, Markdown), the facts and the executed notebooks
    are added; a published edition's past revisions stay reachable in the new one (a correction archives the
    current one and describes what changed)."""
    plan, edition_site, outputs_dir = build.plan, build.edition_site, build.outputs_dir
    for folder in ("figures", "tables"):
        _copy_tree(plan.language_outputs / folder, edition_site / folder, overwrite=False)
    _copy_tree(outputs_dir / "facts", edition_site / "facts", overwrite=False)
    _copy_tree(build.pages, edition_site / "notebooks", overwrite=False)
    if plan.publish and build.previous and plan.target.exists():
        if build.correction is not None:
            corrections.archive_previous(plan.target, edition_site)
            build.changes = corrections.describe_changes(plan.target, edition_site)
        elif (plan.target / corrections.REVISIONS).is_dir():
            _copy_tree(plan.target / corrections.REVISIONS, edition_site / corrections.REVISIONS)


def _write_edition_manifest(build: _Build) -> None:
    """Manifest stage: ``manifest.json`` of the edition (inputs, build key, renderer, every output's sha256,
    what it replaced, its revision history)."""
    plan, previous = build.plan, build.previous
    manifest = mf.make_manifest(
        theme=plan.theme.id,
        title=plan.theme.title_in(plan.lang),
        year=plan.year,
        parameters=plan.parameters,
        key=plan.key,
        key_inputs=plan.key_inputs,
        inputs=list(plan.inputs),
        renderer=build.renderer,
        renderer_version=build.renderer_version or renderer_available(),
        letter=build.letter,
        outputs=mf.output_checksums(build.edition_site),
        replaced=build.replaced,
        variant=plan.variant,
        lang=plan.lang,
        cited_rows=_cited_rows(build.outputs_dir),
    )
    if build.correction is not None:
        manifest.update(
            corrections.revision_fields(previous, build.correction, build.corrected_at, build.changes)
        )
    elif previous and previous.get("history") and build.replaced is not None:
        manifest.update({k: previous[k] for k in ("revision", "history")})
    mf.write_manifest(build.edition_site, manifest)
    build.result.manifest = manifest


def publish_built(plan: EditionPlan, result: EditionResult, *, force: bool, write_index: bool = True) -> None:
    """The publish stage: move a built edition (``edition_dir/site``) into ``site_dir`` atomically.

    The release runs it right after the build; the batch runs it in the client process when a worker has built
    the edition, so only one process ever writes ``_site/``. ``write_index=False`` leaves the site index to the
    caller (the batch writes it once at the end).
    """
    theme, year = plan.theme, plan.year
    with _stage(result.timings, "publish"):
        _cleanup_leftovers(plan.site_dir, theme.id, plan.edition_path)
        _publish(plan.edition_dir / "site", plan.site_dir, theme.id, plan.edition_path, replace=force)
        if write_index:
            _refresh_after_publishing(
                plan.site_dir, f"{theme.id} {year} is published in {_shown(plan.target)}"
            )
    result.status = "replaced" if result.replaced else "published"


def format_timings(result: EditionResult) -> str:
    """The stage times of a build as a small table."""
    lines = [f"  {name:<10} {seconds:7.2f} s" for name, seconds in result.timings.items()]
    lines.append(f"  {'total':<10} {result.total_seconds:7.2f} s")
    return "\n".join(lines)
