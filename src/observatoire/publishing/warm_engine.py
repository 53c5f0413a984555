"""A papermill engine that runs notebooks on warm kernels: started ahead, heavy modules already imported.

Why: every kernel pays 3-4 s of CPU importing pandas, scipy, statsmodels, matplotlib, seaborn and this package;
a letter runs six notebooks and ``make all`` hundreds. Here a kernel is started once, imports them once
(:func:`observatoire.publishing.kernel_state.prepare`), and then runs notebook after notebook; before each one,
:func:`observatoire.publishing.kernel_state.restore` gives it the state of a fresh kernel (namespace, execution counter,
rcParams, random states, options, working directory, environment, warning registries, notebook-local modules).
tests/test_warm_engine.py checks that the executed notebooks and every file they write are byte-identical to a
cold-kernel run, and that a notebook changing that state leaves nothing for the next one.

- Kernels live in one pool per process (:data:`POOL`), keyed by kernel name, environment and arguments; a thread
  takes a kernel, runs one notebook, and gives it back. Two threads get two kernels: notebooks run in parallel
  across cores, and a Dask worker running one edition after another keeps its kernels warm between editions.
- :meth:`KernelPool.prestart` starts kernels in the background (the release calls it before fetching and
  validating the data, so the imports overlap those stages).
- A kernel whose notebook could not run to its end (kernel died, timeout, interrupted) is shut down, never reused;
  a notebook whose cell raised leaves a kernel that is restored like any other.
- The engine is papermill's: registered here under :data:`ENGINE_NAME` (so the venv needs no reinstall) and
  declared as a ``papermill.engine`` entry point in pyproject.toml, so ``make lab`` users can call
  ``papermill.execute_notebook(..., engine_name="observatoire-warm")``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from observatoire.publishing.kernel_env import kernel_environment

log = logging.getLogger(__name__)

ENGINE_NAME = "observatoire-warm"
#: Arguments every warm kernel gets: history in memory (parallel kernels would lock one sqlite file).
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)
WARM_CODE = "__import__('observatoire.publishing.kernel_state', fromlist=['prepare']).prepare()"
RESTORE_CODE = "__import__('observatoire.publishing.kernel_state', fromlist=['restore']).restore({cwd!r})"


class WarmKernelError(RuntimeError):
    """A warm kernel could not be started, prepared or restored (the message has the kernel's traceback)."""


def _run_sync(coroutine_function):
    return run_sync(coroutine_function)


class WarmKernel:
    """One running kernel with the heavy modules imported.

    Parameters
    ----------
    kernel_name : str
    env : Mapping
        The kernel's environment (fixed for its life).
    arguments : sequence of str
        Extra command-line arguments of the kernel.
    cwd : str
        Working directory at start (each notebook gets its own through :meth:`restore`).
    """

    def __init__(self, kernel_name: str, env: Mapping[str, str], arguments: Sequence[str], cwd: str) -> None:
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        _run_sync(self.km.start_kernel)(
            env=dict(env), cwd=cwd, extra_arguments=[*arguments, *KERNEL_ARGUMENTS]
        )
        self.notebooks = 0
        self.key: tuple = ()
        try:
            self.run_silent(WARM_CODE)
        except BaseException:
            self.shutdown()
            raise

    def run_silent(self, code: str, timeout: float = 300) -> None:
        """Run ``code`` without history, display or execution count; raise :class:`WarmKernelError` on error."""
        client = self.km.blocking_client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            reply = client.execute_interactive(
                code, silent=True, store_history=False, timeout=timeout, output_hook=lambda msg: None
            )
        finally:
            client.stop_channels()
        content = reply["content"]
        if content.get("status") != "ok":
            trace = "\n".join(content.get("traceback") or [])
            raise WarmKernelError(f"{content.get('ename')}: {content.get('evalue')}\n{trace}")

    def restore(self, cwd: str) -> None:
        """Give the next notebook a fresh kernel's state, working in ``cwd``."""
        self.run_silent(RESTORE_CODE.format(cwd=str(cwd)))

    def alive(self) -> bool:
        return bool(_run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        try:
            _run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as exc:  # already dead: nothing to stop
            log.debug("warm kernel shutdown: %s", exc)


#: Idle kernels a pool keeps at most (a kernel holds 200-450 MB once it has run a notebook): beyond it, the idle
#: kernels of other keys (another build's environment) are stopped, oldest key first.
MAX_IDLE = 4


def _stop(future: Future) -> None:
    """Stop a pooled kernel (one that failed to start has nothing to stop)."""
    try:
        future.result().shutdown()
    except Exception as exc:
        log.debug("warm kernel: %s", exc)


class KernelPool:
    """Warm kernels of this process, keyed by (kernel name, environment, arguments); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[Future]] = {}
        self._starter: ThreadPoolExecutor | None = None

    @staticmethod
    def _key(kernel_name: str, env: Mapping[str, str], arguments: Sequence[str]) -> tuple:
        return (kernel_name, tuple(sorted(env.items())), tuple(arguments))

    def _submit(self, kernel_name: str, env: Mapping[str, str], arguments: Sequence[str], cwd: str) -> Future:
        if self._starter is None:
            self._starter = ThreadPoolExecutor(max_workers=4, thread_name_prefix="warm-kernel")
        return self._starter.submit(WarmKernel, kernel_name, dict(env), tuple(arguments), cwd)

    def prestart(
        self,
        count: int,
        kernel_name: str,
        env: Mapping[str, str],
        arguments: Sequence[str] = (),
        cwd: str = ".",
    ) -> None:
        """Start kernels in the background until ``count`` are idle or starting for this key."""
        key = self._key(kernel_name, env, arguments)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            for _ in range(count - len(idle)):
                idle.append(self._submit(kernel_name, env, arguments, cwd))
            surplus = self._surplus(key)
        for future in surplus:
            _stop(future)

    def _surplus(self, keep: tuple) -> list[Future]:
        """Take out the idle kernels of other keys beyond :data:`MAX_IDLE` (call with the lock held)."""
        total = sum(len(idle) for idle in self._idle.values())
        out = []
        for key in list(self._idle):  # insertion order: the oldest key first
            while total > MAX_IDLE and key != keep and self._idle[key]:
                out.append(self._idle[key].pop(0))
                total -= 1
            if not self._idle[key]:
                del self._idle[key]
        return out

    def acquire(
        self, kernel_name: str, env: Mapping[str, str], arguments: Sequence[str] = (), cwd: str = "."
    ) -> WarmKernel:
        """Take an idle (or starting) kernel for this key, or start one; wait until it is ready."""
        key = self._key(kernel_name, env, arguments)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            future = idle.pop(0) if idle else self._submit(kernel_name, env, arguments, cwd)
        kernel = future.result()
        kernel.key = key
        return kernel

    def release(self, kernel: WarmKernel, reusable: bool) -> None:
        """Give a kernel back after a notebook; a kernel that is not reusable (or dead) is shut down."""
        if not (reusable and kernel.alive()):
            kernel.shutdown()
            return
        done: Future = Future()
        done.set_result(kernel)
        with self._lock:
            self._idle.setdefault(kernel.key, []).append(done)
            surplus = self._surplus(kernel.key)
        for future in surplus:
            _stop(future)

    def shutdown(self) -> None:
        """Stop every kernel of the pool (at exit, or in tests)."""
        with self._lock:
            futures = [future for idle in self._idle.values() for future in idle]
            self._idle.clear()
        for future in futures:
            _stop(future)

    def idle_count(self) -> int:
        """Kernels idle or starting (for tests)."""
        with self._lock:
            return sum(len(idle) for idle in self._idle.values())


POOL = KernelPool()
atexit.register(POOL.shutdown)


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, on a kernel of :data:`POOL` instead of a new one.

    Extra keyword argument: ``kernel_env`` (the kernel's environment; default: this process's, with the
    variables of :func:`observatoire.publishing.kernel_env.kernel_environment`). The kernel's working directory is
    ``resources["metadata"]["path"]`` as for nbclient (default: this process's).
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        env = kwargs.pop("kernel_env", None) or kernel_environment()
        arguments = tuple(kwargs.pop("extra_arguments", None) or ())
        kwargs.pop("kernel_manager_class", None)
        cwd = str(((kwargs.get("resources") or {}).get("metadata") or {}).get("path") or os.getcwd())
        kernel = POOL.acquire(kernel_name, env, arguments, cwd)
        reusable = False
        try:
            kernel.restore(cwd)
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client = PapermillNotebookClient(nb_man, km=kernel.km, **final_kwargs)
            try:
                result = client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
            kernel.notebooks += 1
            reusable = True
            return result
        finally:
            POOL.release(kernel, reusable)


def register() -> None:
    """Register the engine with papermill under :data:`ENGINE_NAME` (idempotent)."""
    papermill_engines.register(ENGINE_NAME, WarmEngine)


register()
