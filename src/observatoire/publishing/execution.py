"""Run the letters' notebooks with papermill: the ``parameters`` check, parallel runs, one clear error.

Why it is written this way:

- papermill is driven through its Python API from this one process, never one CLI process per notebook:
  ``import papermill`` alone costs about 2 s. It is imported inside :func:`run_notebooks`, so that importing this
  module (for :func:`check_parameters_cell`, or on the no-change release path) costs nothing.
- Without a cell tagged ``parameters`` papermill injects the parameters at the top with only a warning, and the
  notebook's own defaults then silently overwrite them. :func:`check_parameters_cell` refuses such a notebook, and
  refuses a parameter the cell does not define (a typo would otherwise be ignored the same way).
- Notebooks run in threads of a :class:`~concurrent.futures.ThreadPoolExecutor`; each kernel is its own process,
  so two workers give two kernels in parallel while this process only waits on sockets.
- papermill's ``cwd`` argument changes the working directory of the whole process (``os.chdir``), which races
  between threads. The kernel's working directory is instead given to the kernel at start (nbclient's
  ``resources["metadata"]["path"]``), and its environment (``PYTHONHASHSEED=0``, ``SOURCE_DATE_EPOCH``,
  ``MPLBACKEND=Agg``, for byte-identical figures) through a kernel manager that passes ``env`` at start: the
  environment of this process is never modified.
- An executed notebook is saved with its stream outputs coalesced (:func:`coalesce_streams`, nbconvert's
  ``CoalesceStreamsPreprocessor``): a kernel splits printed text into as many stream outputs as it happened to
  flush, which depends on timing (a busy machine split one cell's print into two), so the same notebook run twice
  gave two different executed notebooks and two different published pages.
- A missing ``observatoire`` kernel is an error that says the command to fix it, not a silent fall-back to
  ``python3``: that kernel may be another interpreter without the pinned packages, and the letter would be built
  with other versions than the lockfile's (or fail later with a confusing import error).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire.core import atomic, paths, stopping
from observatoire.core.errors import InputError
from observatoire.core.textfile import read_utf8
from observatoire.publishing.kernel_env import kernel_environment

log = logging.getLogger(__name__)

#: Tag papermill gives to the cell it inserts with the parameters.
INJECTED_TAG = "injected-parameters"
#: Arguments of every notebook kernel.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)
KERNEL_FIX = (
    "make venv   (or: .venv/bin/python -m ipykernel install --sys-prefix --name {name} "
    '--display-name "Observatoire (Python 3.11)")'
)


class NotebookError(RuntimeError):
    """A notebook failed while running.

    Attributes
    ----------
    notebook : Path
        The source notebook.
    executed : Path
        The executed copy, kept for inspection (it holds the traceback and papermill's error marker).
    cell : int or None
        1-based position of the failing cell in the source notebook.
    ename, evalue : str
        The exception's type name and message, as the kernel reported them.
    """

    def __init__(
        self,
        notebook: Path,
        executed: Path,
        message: str,
        *,
        cell: int | None = None,
        ename: str = "",
        evalue: str = "",
    ) -> None:
        self.notebook = Path(notebook)
        self.executed = Path(executed)
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        super().__init__(message)


class KernelMissingError(RuntimeError):
    """The Jupyter kernel the notebooks run on is not installed (the message gives the command to fix it)."""


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to run.

    Attributes
    ----------
    input : Path
        The source notebook.
    output : Path
        Where the executed notebook is written (its folder is created).
    parameters : dict
        Values for the notebook's ``parameters`` cell; each must be defined there.
    """

    input: Path
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParametersCell:
    """The ``parameters`` cell of a notebook: where it is and the names it defines."""

    index: int
    names: tuple[str, ...]


def read_notebook(path: Path | str) -> dict[str, Any]:
    """A notebook's JSON, strictly (UTF-8, JSON); an :class:`InputError` naming the file and the line otherwise."""
    try:
        return json.loads(read_utf8(path))
    except FileNotFoundError:
        raise InputError(path, "notebook", "file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno}", f"not a valid notebook (JSON: {exc.msg})") from None


def _cell_source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _defined_names(source: str) -> list[str]:
    """Names assigned at top level of a parameters cell (``x = 1``, ``x: int = 1``, ``a, b = 1, 2``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # IPython syntax (magics) in the cell: fall back to reading `name =` at the start of lines.
        return re.findall(r"^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)", source, flags=re.MULTILINE)
    names: list[str] = []

    def collect(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                collect(element)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                collect(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            collect(node.target)
    return names


def parameters_cell(path: Path | str) -> ParametersCell:
    """Find the cell tagged ``parameters`` and the names it defines.

    Raises
    ------
    InputError
        No such cell, or more than one (papermill would use the first and silently ignore the others).
    """
    path = Path(path)
    nb = read_notebook(path)
    tagged = [
        (index, cell)
        for index, cell in enumerate(nb.get("cells", []))
        if "parameters" in (cell.get("metadata", {}).get("tags") or [])
    ]
    if not tagged:
        raise InputError(
            path,
            "notebook",
            "no cell tagged 'parameters' (papermill would inject the parameters at the top and the notebook's "
            "defaults would overwrite them): tag the cell defining year, theme and output_dir",
        )
    if len(tagged) > 1:
        cells = ", ".join(str(index + 1) for index, _ in tagged)
        raise InputError(path, f"cells {cells}", "more than one cell is tagged 'parameters'; keep one")
    index, cell = tagged[0]
    if cell.get("cell_type") != "code":
        raise InputError(path, f"cell {index + 1}", "the cell tagged 'parameters' must be a code cell")
    return ParametersCell(index=index, names=tuple(dict.fromkeys(_defined_names(_cell_source(cell)))))


def check_parameters_cell(path: Path | str, parameters: Iterable[str] | None = None) -> tuple[str, ...]:
    """Check that a notebook has a ``parameters`` cell defining every parameter it will be given.

    Parameters
    ----------
    path : Path
        The notebook.
    parameters : iterable of str, optional
        Names of the parameters that will be passed (a dict works: its keys are used).

    Returns
    -------
    tuple of str
        Names the parameters cell defines.

    Raises
    ------
    InputError
        Naming the notebook: no (or several) cells tagged ``parameters``, or a parameter the cell does not define.
    """
    cell = parameters_cell(path)
    unknown = [name for name in (parameters or ()) if name not in cell.names]
    if unknown:
        defined = ", ".join(cell.names) or "nothing"
        raise InputError(
            path,
            f"cell {cell.index + 1} (parameters)",
            f"unknown parameter(s) {', '.join(unknown)}: the parameters cell defines {defined}",
        )
    return cell.names


def check_kernel(kernel_name: str) -> Path:
    """Return the kernel spec folder of ``kernel_name``, or raise :class:`KernelMissingError` saying how to fix.

    The kernel is registered by ``make venv`` (``ipykernel install --sys-prefix``) and points at ``.venv``'s
    interpreter. A spec whose interpreter no longer exists (a moved or recreated venv) is reported the same way.
    """
    from jupyter_client.kernelspec import (  # lazy: only when notebooks run (CLI start)
        KernelSpecManager,
        NoSuchKernel,
    )

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise KernelMissingError(
            f"Jupyter kernel '{kernel_name}' is not installed; register it with: "
            + KERNEL_FIX.format(name=kernel_name)
        ) from None
    executable = spec.argv[0] if spec.argv else ""
    if os.path.isabs(executable) and not os.path.exists(executable):
        raise KernelMissingError(
            f"Jupyter kernel '{kernel_name}' points at {executable}, which does not exist; re-register it with: "
            + KERNEL_FIX.format(name=kernel_name)
        )
    return Path(spec.resource_dir)


def _kernel_manager_class(env: Mapping[str, str]) -> type:
    """An AsyncKernelManager that starts its kernel with ``env`` (papermill has no argument for it)."""
    from jupyter_client.manager import (
        AsyncKernelManager,  # lazy: only when notebooks run (CLI start)
    )

    frozen = dict(env)

    class EnvironmentKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # noqa: D401 (jupyter_client's signature)
            kw.setdefault("env", dict(frozen))
            await super().start_kernel(**kw)

    return EnvironmentKernelManager


def _execute_one(
    job: NotebookJob,
    kernel_name: str,
    env: Mapping[str, str],
    cell: ParametersCell,
    timeout: int | None,
    warm: bool = True,
) -> float:
    """Run one notebook (on a warm kernel, or a new one); return its wall time. Raises :class:`NotebookError`."""
    import papermill  # lazy: only when notebooks run (CLI start)
    from papermill.exceptions import (
        PapermillExecutionError,  # lazy: only when notebooks run (CLI start)
    )

    started = time.perf_counter()
    source, output = Path(job.input).resolve(), Path(job.output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    if warm:
        from observatoire.publishing.warm_engine import (
            ENGINE_NAME,  # lazy: papermill, only when notebooks run (the CLI imports execution at start)
        )

        kernel = {"engine_name": ENGINE_NAME, "kernel_env": dict(env)}
    else:
        kernel = {"kernel_manager_class": _kernel_manager_class(env)}
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=dict(job.parameters),
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            # nbclient: the kernel's working directory (papermill's own `cwd` would chdir this whole process).
            resources={"metadata": {"path": str(source.parent)}},
            # ipykernel 7 warns on every start that its local TCP sockets are unencrypted; errors still show.
            extra_arguments=list(KERNEL_ARGUMENTS),
            **kernel,
        )
    except PapermillExecutionError as exc:
        # papermill's cell_index counts the injected-parameters cell it inserted after the parameters cell.
        index = exc.cell_index
        if job.parameters and index > cell.index:
            index -= 1
        first_line = next((line for line in str(exc.source).splitlines() if line.strip()), "").strip()
        if len(first_line) > 80:
            first_line = first_line[:77] + "..."
        raise NotebookError(
            source,
            output,
            f"notebook {source.name} failed in cell {index + 1} (In [{exc.exec_count}]: {first_line!r}): "
            f"{exc.ename}: {exc.evalue}\n  executed notebook kept for inspection: {_shown(output)}",
            cell=index + 1,
            ename=exc.ename,
            evalue=exc.evalue,
        ) from None
    except Exception as exc:  # kernel died, timeout, unreadable output ...
        raise NotebookError(
            source,
            output,
            f"notebook {source.name} could not be run: {type(exc).__name__}: {exc}"
            + (f"\n  partial executed notebook: {_shown(output)}" if output.exists() else ""),
            ename=type(exc).__name__,
            evalue=str(exc),
        ) from exc
    coalesce_streams(output)
    return time.perf_counter() - started


def coalesce_streams(path: Path | str) -> bool:
    """Merge each cell's consecutive stream outputs of one name (stdout, stderr) into one, in the file.

    nbconvert's ``CoalesceStreamsPreprocessor`` (carriage-return overwrites applied too): how many stream outputs
    a kernel sends for one cell depends on when its buffer was flushed, not on what was printed. The file is
    rewritten through a temporary file and a rename, only when something changed.

    Returns
    -------
    bool
        True when the notebook was rewritten.
    """
    import nbformat  # lazy: only after a notebook ran
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor  # lazy: as nbformat

    path = Path(path)
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    before = [len(cell.get("outputs", [])) for cell in notebook.cells]
    texts = [o.get("text") for cell in notebook.cells for o in cell.get("outputs", [])]
    CoalesceStreamsPreprocessor().preprocess(notebook, {})
    after = [o.get("text") for cell in notebook.cells for o in cell.get("outputs", [])]
    if before == [len(cell.get("outputs", [])) for cell in notebook.cells] and texts == after:
        return False
    atomic.write_text(path, nbformat.writes(notebook))  # as papermill writes it
    return True


def _shown(path: Path) -> str:
    try:
        return str(Path(path).relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def run_notebooks(
    jobs: Iterable[NotebookJob],
    workers: int = 2,
    progress: bool = True,
    kernel_name: str = paths.KERNEL_NAME,
    *,
    timeout: int | None = 600,
    epoch: int | None = None,
    on_success: Callable[[NotebookJob], None] | None = None,
    warm: bool = True,
    env: Mapping[str, str] | None = None,
) -> dict[Path, float]:
    """Execute notebooks with papermill, ``workers`` at a time, from this one process.

    Every notebook is checked before any kernel starts (``parameters`` cell, parameter names), so a bad notebook
    fails in milliseconds, not after the others have run.

    Parameters
    ----------
    jobs : iterable of NotebookJob
    workers : int, default 2
        Notebooks run at the same time (one kernel process each).
    progress : bool, default True
        Show a tqdm progress bar on stderr.
    kernel_name : str, default "observatoire"
    timeout : int or None, default 600
        Seconds a single cell may run.
    epoch : int, optional
        ``SOURCE_DATE_EPOCH`` for the kernels (default: the environment's, else a constant).
    on_success : callable, optional
        Called with the job, in this process's main thread, as soon as a notebook has run without error (the
        release uses it to start the HTML export while other notebooks still run). Keep it quick.
    warm : bool, default True
        Run on warm kernels (:mod:`observatoire.publishing.warm_engine`: started once per process, heavy modules imported,
        a fresh kernel's state restored before each notebook); False starts a new kernel per notebook.
    env : Mapping, optional
        The kernels' environment (default :func:`kernel_environment` of ``epoch``). The release computes it once,
        before its warm kernels start: libraries imported meanwhile add variables to this process's environment.

    Returns
    -------
    dict
        Wall time in seconds per executed notebook (output path), in job order.

    Raises
    ------
    InputError
        A notebook without a ``parameters`` cell, or given a parameter it does not define.
    KernelMissingError
        The kernel is not installed.
    NotebookError
        A notebook failed: the message names it, the failing cell and the exception; the executed copy is kept.
        When several fail, the first in job order is raised and the others are named in its message. Notebooks
        not yet started when a failure happens are not started.
    """
    jobs = list(jobs)
    if not jobs:
        return {}
    outputs = [Path(job.output).resolve() for job in jobs]
    if len(set(outputs)) != len(outputs):
        raise ValueError("two jobs write the same executed notebook")
    cells = {id(job): parameters_cell(job.input) for job in jobs}
    for job in jobs:
        check_parameters_cell(job.input, job.parameters)
    check_kernel(kernel_name)
    env = kernel_environment(epoch) if env is None else dict(env)

    from tqdm import tqdm  # lazy: only when notebooks run (CLI start)

    started = time.perf_counter()
    times: dict[Path, float] = {}
    failures: list[tuple[int, BaseException]] = []
    skipped: list[int] = []
    bar = tqdm(
        total=len(jobs), desc="notebooks", unit="nb", file=sys.stderr, disable=not progress, leave=True
    )
    workers = max(1, workers)
    queue = list(enumerate(jobs))
    running: dict[Future, int] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook")

    def start_next() -> None:
        position, job = queue.pop(0)
        running[pool.submit(_execute_one, job, kernel_name, env, cells[id(job)], timeout, warm)] = position

    try:
        try:
            # Submitted one by one, not all at once: after a failure nothing more starts.
            while queue and len(running) < workers:
                start_next()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    position = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        failures.append((position, error))
                    else:
                        times[outputs[position]] = future.result()
                        log.info("  %-45s %6.1f s", jobs[position].input.name, times[outputs[position]])
                        if on_success is not None and not failures:
                            on_success(jobs[position])
                    bar.set_postfix_str(jobs[position].input.name, refresh=False)
                    bar.update(1)
                while queue and not failures and len(running) < workers:
                    start_next()
            skipped.extend(position for position, _ in queue)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM (observatoire.stopping): a kernel cannot be interrupted safely from another
            # thread, so the kernels are ended and the running notebooks fail at once, instead of running on.
            stopping.end_children()
            raise
        finally:
            # Start nothing more; wait for the running notebooks (a failing callback lets them finish).
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
    if failures:
        failures.sort(key=lambda item: item[0])
        first = failures[0][1]
        if isinstance(first, NotebookError):
            notes = []
            if len(failures) > 1:
                notes.append("also failed: " + ", ".join(jobs[pos].input.name for pos, _ in failures[1:]))
            if skipped:
                notes.append("not run: " + ", ".join(jobs[pos].input.name for pos in sorted(skipped)))
            first.args = ("\n  ".join([first.args[0], *notes]),)
        raise first
    log.info(
        "notebooks: %d run in %.1f s with %d worker(s)", len(jobs), time.perf_counter() - started, workers
    )
    return {out: times[out] for out in outputs}
