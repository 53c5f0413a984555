"""Every edition of every theme in one command (``make all``): planned here, built on Dask, published here.

Why it is written this way:

- The batch is a list of editions, one per (theme, buildable year, parameter set). A theme expands into one
  edition per year by default; a theme whose editions differ by more than the year (one per territory ...)
  declares ``parameter_sets`` (a list of parameter overrides, one edition each): :func:`requests` is the one
  place that expands it.
- Each edition is resolved once in this process (:func:`observatoire.publishing.plan.resolve_plan`); an edition whose plan
  fails (theme not buildable yet, bad declaration) is reported with its reason and the others go on. An edition
  whose published manifest has the same build key and intact files is skipped here, without a task: a second
  ``make all`` costs the plans and the checks, a few seconds.
- Each remaining edition is one Dask task (:func:`build_task`), except the territorial letters, built by
  groups of :data:`GROUP_SIZE` per task and rendered by one Quarto call per group (Quarto's start costs more
  than a letter's render). A task runs on a Dask worker: an embedded ``LocalCluster`` of worker *threads* in
  this process by default, or an existing cluster (``--scheduler ADDRESS`` or ``OBSERVATOIRE_SCHEDULER``).
  Threads, not processes: a task's work is in its child processes (the notebooks' kernels, Quarto); in the
  task itself runs about a tenth of its CPU time (staging, checks, pages), and a worker process costs
  about 300 MB of imports (with the next point, the batches' peak went from 3.1 to 2.1 GB in `make bench`;
  README, "Measured"). A worker builds into ``build/`` only and never touches ``_site/``.
- Memory: a worker keeps its warm kernels (:mod:`observatoire.publishing.warm_engine`) while its task runs the
  notebooks, and stops them before Quarto renders (:func:`observatoire.publishing.release.build_group`); the
  next task's kernel starts while that task fetches and validates its data. A letter rendered alone is one
  Quarto call (both cores are busy already).
- Longest first: tasks are given to the workers by their expected length (:func:`task_cost`), so that the
  last minutes of a batch are not one long letter on one core while the other waits.
- Publishing stays in this process: each built edition is moved into ``_site/`` atomically as its task
  returns, and the site index is written once at the end. A failed edition (notebook error, bad data, an edition
  already published with other inputs without ``--force``) is reported with its reason; it never stops the
  others and never touches what is published.
- ``serial=True`` runs the same tasks in this process, one after the other, without Dask (the reference the
  Dask run is compared with in tests/test_batch.py).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from observatoire.core import paths, stopping
from observatoire.data import themes
from observatoire.data.themes import Theme
from observatoire.publishing import release
from observatoire.publishing.plan import EditionPlan, resolve_plan, variant_name

log = logging.getLogger(__name__)

#: Environment variable naming an existing Dask scheduler (``tcp://host:8786``).
SCHEDULER_ENV = "OBSERVATOIRE_SCHEDULER"
#: Territorial letters (editions differing by their parameter set) built and rendered together per task.
GROUP_SIZE = 8
#: Seconds given to the Dask client and local cluster to close (after a stop, their workers are already ended).
CLOSE_TIMEOUT = 5


@dataclass(frozen=True)
class EditionRequest:
    """One edition asked for: a theme (id, or a loaded Theme), a year and the overrides of its parameter set."""

    theme: str | Theme
    year: int
    overrides: tuple[tuple[str, Any], ...] = ()
    lang: str = themes.BASE_LANGUAGE

    @property
    def label(self) -> str:
        suffix = ", ".join(
            [f"{k}={v}" for k, v in self.overrides]
            + ([self.lang] if self.lang != themes.BASE_LANGUAGE else [])
        )
        theme_id = self.theme.id if isinstance(self.theme, Theme) else self.theme
        return f"{theme_id} {self.year}" + (f" ({suffix})" if suffix else "")


@dataclass
class Outcome:
    """What happened to one edition: ``published``, ``replaced``, ``built``, ``unchanged`` or ``failed``."""

    label: str
    status: str
    seconds: float = 0.0
    reason: str = ""
    site_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    render_timings: dict[str, float] = field(default_factory=dict)


def requests(theme_ids: Iterable[str] | None = None) -> list[EditionRequest]:
    """Every edition of the given themes (default: every declared theme), in the order of ``themes.yml``.

    A theme gives one edition per buildable year, or one per year and per entry of its ``parameter_sets``
    (overrides of its parameters) when it declares some; each in French, then in every language of its
    ``translations`` (the letters link to one another).
    """
    chosen = [themes.get_theme(t) for t in theme_ids] if theme_ids else themes.list_themes()
    out = []
    for theme in chosen:
        parameter_sets: list[Mapping[str, Any]] = list(getattr(theme, "parameter_sets", None) or [{}])
        for year in theme.years:
            for overrides in parameter_sets:
                for lang in getattr(theme, "languages", None) or (themes.BASE_LANGUAGE,):
                    out.append(EditionRequest(theme.id, year, tuple(sorted(overrides.items())), lang))
    return out


def _one_line(exc: BaseException) -> str:
    """An error as one line: its message (lines joined), or its type when it has none."""
    text = str(exc).strip() or type(exc).__name__
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def groups(plans: Mapping[int, EditionPlan], size: int = GROUP_SIZE) -> list[list[int]]:
    """The batch's tasks: lists of plan indexes, in order.

    The editions of one theme and year that differ by their parameter set (the territorial letters) or by their
    language go in groups of up to ``size``, built by one task and rendered by one Quarto call
    (:func:`observatoire.publishing.release.build_group`): the languages of one letter share one run of its
    notebooks (:mod:`observatoire.publishing.plan`), so they are built one after the other by the same task, the
    first running the notebooks, the others reusing the run. Every other edition is a task of its own.
    """
    out: list[list[int]] = []
    filling: dict[tuple, list[int]] = {}
    for index, plan in plans.items():
        sets = bool(getattr(plan.theme, "parameter_sets", None))
        theme_languages = getattr(plan.theme, "languages", ("fr",))
        one_source = len(theme_languages) > 1 and plan.theme.one_source(plan.lang)
        if size <= 1 or not (sets or one_source):
            out.append([index])
            continue
        key = (plan.theme.id, plan.year) if sets else (plan.theme.id, plan.year, plan.variant, "languages")
        group = filling.get(key)
        if group is None or len(group) >= size:
            group = filling[key] = []
            out.append(group)
        group.append(index)
    return out


def task_cost(plans: list[EditionPlan]) -> int:
    """A task's expected length, in units of work: the notebooks it runs plus the letters it renders.

    The languages of one letter share one run of its notebooks (one execution key); the letters of places each
    run their own. Counts, not measured seconds: a batch from empty has nothing measured, and the order must
    not depend on the machine. A notebook weighs as much as a letter's render (both about 4-8 s here).
    """
    runs = {plan.execution_key or plan.key: len(plan.jobs) for plan in plans}
    return sum(runs.values()) + len(plans)


def build_task(
    plans: list[EditionPlan], force: bool, notebook_workers: int, warm: bool = True
) -> list[dict[str, Any]]:
    """Build editions up to (not including) publication; run on a Dask worker, or here when serial.

    Returns, per plan, ``{"result": EditionResult}`` or ``{"error": "one line"}``: errors travel as text, so an
    exception a client could not unpickle never hides the reason.
    """
    try:
        results = release.build_group(
            list(plans), force=force, workers=notebook_workers, warm=warm, pages_apart=False
        )
    except Exception as exc:
        return [{"error": _one_line(exc)} for _ in plans]
    return [{"error": _one_line(r)} if isinstance(r, BaseException) else {"result": r} for r in results]


def _connect(scheduler: str | None, workers: int):
    """A Dask client on ``scheduler`` (or ``OBSERVATOIRE_SCHEDULER``), else on a new LocalCluster of worker
    threads in this process (see the module's docstring)."""
    from distributed import (  # lazy: Dask only for `make all` (warm kernels import every module)
        Client,
        LocalCluster,
    )

    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        return Client(address), None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def run_batch(
    theme_ids: Iterable[str] | None = None,
    *,
    force: bool = False,
    scheduler: str | None = None,
    workers: int = 2,
    notebook_workers: int = 1,
    serial: bool = False,
    progress: bool = True,
    site_dir: Path = paths.SITE,
    build_dir: Path = paths.BUILD,
    edition_requests: list[EditionRequest] | None = None,
    warm: bool = True,
    group_size: int = GROUP_SIZE,
) -> list[Outcome]:
    """Build every edition (skipping unchanged ones), publish each as it is built, and return the outcomes.

    Parameters
    ----------
    theme_ids : iterable of str, optional
        Default: every declared theme.
    force : bool, default False
        Rebuild unchanged editions and replace editions published with other inputs.
    scheduler : str, optional
        Address of an existing Dask scheduler (default: ``OBSERVATOIRE_SCHEDULER``, else a LocalCluster).
    workers : int, default 2
        Worker processes of the LocalCluster (one edition at a time each).
    notebook_workers : int, default 1
        Notebooks of one edition run in parallel on a worker.
    serial : bool, default False
        Build here, one edition after the other, without Dask.
    progress : bool, default True
        One progress bar on stderr.
    site_dir, build_dir : Path
    edition_requests : list of EditionRequest, optional
        The editions to build (default: :func:`requests` of ``theme_ids``).
    warm : bool, default True
        Warm kernels (kept from one edition to the next on each worker); False: a new kernel per notebook.
    group_size : int, default GROUP_SIZE
        Territorial letters of one year built by one task and rendered by one Quarto call (1: each alone).

    Returns
    -------
    list of Outcome
        In the order of the requests.
    """

    site_dir, build_dir = Path(site_dir), Path(build_dir)
    asked = edition_requests if edition_requests is not None else requests(theme_ids)
    outcomes: dict[int, Outcome] = {}
    plans: dict[int, EditionPlan] = {}
    for index, request in enumerate(asked):
        started = time.perf_counter()
        try:
            plan = resolve_plan(
                request.theme,
                request.year,
                overrides=dict(request.overrides),
                # an edition of a parameter set (a territory) is published; a variant of the defaults is not
                publish=variant_name(themes.get_theme(request.theme), request.year, dict(request.overrides))
                is None,
                site_dir=site_dir,
                build_dir=build_dir,
                lang=request.lang,
            )
        except Exception as exc:
            outcomes[index] = Outcome(request.label, "failed", reason=_one_line(exc))
            continue
        try:
            unchanged = not force and release.is_unchanged(plan)
            if not unchanged and plan.publish:
                release._check_writable(plan.site_dir, plan.theme.id)  # before building, not after
        except Exception as exc:
            outcomes[index] = Outcome(request.label, "failed", reason=_one_line(exc))
            continue
        if unchanged:
            outcomes[index] = Outcome(
                request.label, "unchanged", time.perf_counter() - started, site_path=plan.target
            )
        else:
            plans[index] = plan

    bar = tqdm(total=len(asked), desc="editions", unit="ed", file=sys.stderr, disable=not progress)
    bar.update(len(outcomes))
    published = False

    def finish(index: int, answer: dict[str, Any]) -> None:
        nonlocal published
        plan = plans[index]
        label = asked[index].label
        if "error" in answer:
            outcomes[index] = Outcome(label, "failed", reason=answer["error"])
        else:
            result = answer["result"]
            try:
                if plan.publish and result.status == "built":
                    release.publish_built(plan, result, force=force, write_index=False)
                    published = True
            except Exception as exc:
                outcomes[index] = Outcome(label, "failed", reason=_one_line(exc))
            else:
                outcomes[index] = Outcome(
                    label,
                    result.status,
                    result.total_seconds,
                    site_path=plan.target,
                    timings=result.timings,
                    render_timings=dict(result.render_timings),
                )
        bar.set_postfix_str(f"{label}: {outcomes[index].status}", refresh=False)
        bar.update(1)

    try:
        tasks = groups(plans, group_size)
        if serial or not plans:
            for task in tasks:
                for index, answer in zip(
                    task, build_task([plans[i] for i in task], force, notebook_workers, warm), strict=True
                ):
                    finish(index, answer)
        else:
            _run_on_dask(plans, tasks, finish, (force, notebook_workers, warm), scheduler, workers)
    except KeyboardInterrupt:  # SIGINT or SIGTERM (observatoire.stopping): nothing more is built or published
        log.warning(
            "stopped: %d edition(s) published before the stop; the site's pages are brought up to date by the "
            "next run",
            sum(o.status in ("published", "replaced") for o in outcomes.values()),
        )
        raise
    finally:
        bar.close()
    # The pages list what is published: after new editions, or when a crash left them older than the editions.
    if published or (site_dir.is_dir() and not release.site_is_current(site_dir)):
        release.refresh_site_index(site_dir)
    return [outcomes[index] for index in range(len(asked))]


def _run_on_dask(plans, tasks, finish, options: tuple, scheduler: str | None, workers: int) -> None:
    """Submit one Dask task per group of plans (``build_task(plans, *options)``); hand each answer to ``finish``."""
    from distributed import as_completed  # lazy: Dask only for `make all` (warm kernels import every module)

    client, cluster = _connect(scheduler, workers)
    futures: dict = {}
    try:
        for task in tasks:
            first = plans[task[0]]
            future = client.submit(
                build_task,
                [plans[i] for i in task],
                *options,
                key=f"editions-{first.theme.id}-{first.year}-{first.key[:12]}-{len(task)}",
                pure=False,
                # longest first (see task_cost), then in the order asked
                priority=task_cost([plans[i] for i in task]) * (max(plans) + 1) - task[0],
            )
            futures[future] = task
        for future in as_completed(futures):
            task = futures[future]
            try:
                answers = future.result()
            except Exception as exc:  # the worker died, the task could not be sent ...
                answers = [{"error": f"worker: {_one_line(exc)}"} for _ in task]
            for index, answer in zip(task, answers, strict=True):
                finish(index, answer)
    except KeyboardInterrupt:  # stopped: the kernels and Quartos end now, not after their task
        for future in futures:
            future.cancel()
        if cluster is not None:
            stopping.end_children()
        raise
    finally:
        # After a stop the cluster is left as it is: its worker threads would be waited for (a task's next
        # step may start before it sees its kernel gone), and the command exits now (stopping.exit_stopped).
        if not stopping.stop_requested():
            try:
                client.run(release.stop_idle_kernels)
            finally:
                client.close(timeout=CLOSE_TIMEOUT)
                if cluster is not None:
                    cluster.close(timeout=CLOSE_TIMEOUT)


def format_summary(outcomes: list[Outcome]) -> str:
    """The summary table: one line per edition that did something or failed, then the counts."""
    rows = [(o.label, o.status, f"{o.seconds:.1f} s" if o.seconds else "", o.reason) for o in outcomes]
    widths = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(("edition", "status", "time"))]
    lines = [f"{'edition':<{widths[0]}}  {'status':<{widths[1]}}  {'time':>{widths[2]}}  reason"]
    lines.append("-" * (sum(widths) + 14))
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        kind = "built" if outcome.status in {"published", "replaced", "built"} else outcome.status
        counts[kind] = counts.get(kind, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{kind}: {counts.get(kind, 0)}" for kind in ("built", "unchanged", "failed")))
    return "\n".join(lines)
