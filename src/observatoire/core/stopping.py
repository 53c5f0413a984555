"""Stop promptly on Ctrl-C (SIGINT) or SIGTERM: nothing new scheduled, every child process ended, site consistent.

Why: a build runs far more than this process. Notebooks run in kernels that jupyter_client starts in sessions
of their own (a Ctrl-C in the terminal never reaches them), Quarto runs pandoc and typst, and ``make all`` runs a
Dask cluster whose workers run their own kernels and Quartos. Python's default handling (``KeyboardInterrupt``
for SIGINT, an immediate death for SIGTERM) left the batch publishing editions while in-flight ones failed, and
threads of this process waiting on kernels that no longer listened.

:func:`handle_signals` (the CLI's build commands run inside it) turns SIGINT and SIGTERM alike into a
:class:`Stopped` exception in the main thread, which every ``finally`` and ``except BaseException`` of the
release and the batch lets through (a staging folder is removed, an edition set aside is restored, the edition
lock is released); nothing catches it to go on. When it leaves, every descendant process of this one is ended
(:func:`end_children`: SIGTERM, then SIGKILL after a grace period), which also ends the threads waiting on them.
A second signal while stopping ends the children and exits at once (status 130).

What was published before the stop stays consistent with the site's pages: an edition is moved into ``_site/``
in one rename and the site's pages are rewritten after it, so an edition published just before a stop may not be
listed yet; the site then records that its pages are older than its editions
(:func:`observatoire.release.site_is_current`) and the next release or ``make all``, even with nothing to build,
rewrites them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import NoReturn

log = logging.getLogger(__name__)

__all__ = ["Stopped", "handle_signals", "end_children", "stop_requested", "exit_stopped"]

#: Seconds the children are given to end after SIGTERM before they are killed.
GRACE_SECONDS = 2.0
#: Exit status of a command stopped by a signal (the shell's 128 + SIGINT).
EXIT_STATUS = 130

_requested = threading.Event()


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM was received: the command stops (a ``KeyboardInterrupt``, so no ``except Exception``
    of a stage can swallow it)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def stop_requested() -> bool:
    """True once SIGINT or SIGTERM was received (a loop that schedules work checks it before each step)."""
    return _requested.is_set()


def end_children(grace: float = GRACE_SECONDS) -> int:
    """End every descendant process of this one (workers, kernels, Quarto and what it runs); return how many.

    The whole tree is listed first (a child's children are reparented when it dies), then sent SIGTERM; those
    still running after ``grace`` seconds are killed.
    """
    import psutil  # lazy: only a stop ends children

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return 0
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=grace)
    return len(children)


def _handler(signum: int, frame) -> None:
    if _requested.is_set():  # a second signal: stop now
        end_children(grace=0.5)
        os._exit(EXIT_STATUS)
    _requested.set()
    raise Stopped(signum)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Within this block SIGINT and SIGTERM raise :class:`Stopped`; leaving it after a stop ends the children.

    Only the main thread can install signal handlers: elsewhere (a Dask worker's task thread) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    _requested.clear()
    try:
        yield
    finally:
        try:
            if _requested.is_set():
                started = time.monotonic()
                count = end_children()
                log.debug("ended %d child process(es) in %.1f s", count, time.monotonic() - started)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def exit_stopped(exc: Stopped, note: str = "") -> NoReturn:
    """Print the stop as one line, end the children once more, and exit now with status 130.

    Called once :class:`Stopped` has gone through every ``finally`` of the command (locks released, staging
    folders removed). The exit does not wait for this process's threads: a thread that was starting a warm
    kernel when the signal came would otherwise keep the process (and the kernel) alive; such a kernel, started
    after the children were ended, exits by itself when it sees its parent gone (ipykernel's parent poller).
    """
    print(f"error: {exc}{note}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    end_children(grace=1.0)
    os._exit(EXIT_STATUS)
