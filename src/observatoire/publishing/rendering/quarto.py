"""Find Quarto, say which versions of Quarto, pandoc and typst it drives, and run it.

Why a module of its own: every page of the site (letters, notebooks, listings) is rendered by Quarto, so
finding it, checking its version and reporting its failures is done once, here. Where Quarto comes from:

1. ``OBSERVATOIRE_QUARTO``: an explicit path to a ``quarto`` executable;
2. ``.tools/quarto/bin/quarto`` in the repository (``make quarto`` installs it there from the kit when the
   ``quarto`` on PATH is missing or older than :data:`MINIMUM_VERSION`);
3. ``quarto`` on PATH (conda users get it from environment.yml).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths

from .common import RenderError

MINIMUM_VERSION = (1, 10)
#: Where ``make quarto`` installs Quarto when PATH has none recent enough.
REPO_QUARTO = paths.ROOT / ".tools" / "quarto" / "bin" / "quarto"
#: Seconds a single ``quarto render`` may take before it is stopped (a letter takes about 6 s per format).
TIMEOUT = 900


def find_quarto() -> str | None:
    """The ``quarto`` executable to use (see the module docstring for the order), or None."""
    explicit = os.environ.get("OBSERVATOIRE_QUARTO", "").strip()
    if explicit:
        return explicit
    if REPO_QUARTO.is_file() and os.access(REPO_QUARTO, os.X_OK):
        return str(REPO_QUARTO)
    return shutil.which("quarto")


def require_quarto() -> str:
    """:func:`find_quarto`, or a :class:`RenderError` that says how to install it."""
    quarto = find_quarto()
    if quarto is None:
        raise RenderError(
            "quarto",
            "environment",
            "Quarto is not installed: run `make quarto` (installs it into .tools/quarto from the kit in "
            "OBSERVATOIRE_QUARTO_KIT or ../shared/tools/quarto), or put quarto >= 1.10 on PATH",
        )
    return quarto


def _first_version(text: str) -> str | None:
    found = re.search(r"\d+\.\d+(?:\.\d+)*", text)
    return found.group(0) if found else None


def _tool_version(quarto: str, tool: str) -> str:
    """Version of the pandoc or typst Quarto drives: its own binary under bin/tools, else ``quarto TOOL``."""
    bin_dir = Path(os.path.realpath(quarto)).parent
    for candidate in sorted(bin_dir.glob(f"tools/*/{tool}")) + [bin_dir / "tools" / tool]:
        if candidate.is_file():
            cmd = [str(candidate), "--version"]
            break
    else:
        cmd = [quarto, tool, "--version"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return _first_version(out) or "unknown"


@functools.cache
def quarto_version(quarto: str) -> str:
    """``quarto --version`` as ``"1.10.18"``.

    Raises
    ------
    RenderError
        Quarto does not run, or is older than :data:`MINIMUM_VERSION`.
    """
    try:
        out = subprocess.run(
            [quarto, "--version"], capture_output=True, text=True, timeout=120, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RenderError(quarto, "quarto --version", f"Quarto does not run: {exc}") from exc
    version = _first_version(out)
    numbers = tuple(int(x) for x in (version or "0").split(".")[:2])
    if numbers < MINIMUM_VERSION:
        raise RenderError(
            quarto,
            "quarto --version",
            f"Quarto {version} is older than {'.'.join(map(str, MINIMUM_VERSION))}: run `make quarto`",
        )
    return version or "unknown"


@functools.cache
def versions(quarto: str | None = None) -> str:
    """``"quarto 1.10.18; pandoc 3.9; typst 0.15.0"``: what the manifest records as the renderer's version."""
    quarto = quarto or require_quarto()
    return "; ".join(
        (
            f"quarto {quarto_version(quarto)}",
            f"pandoc {_tool_version(quarto, 'pandoc')}",
            f"typst {_tool_version(quarto, 'typst')}",
        )
    )


def quarto_error(stderr: str) -> str:
    """Quarto's error message without colours, progress lines or the stack trace (at most 8 lines)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in stderr.splitlines()]
    lines = [line for line in lines if line.strip() and not line.startswith("    at ")]
    start = next(
        (i for i, line in enumerate(lines) if "ERROR" in line or "error:" in line), max(len(lines) - 8, 0)
    )
    return "\n".join(lines[start : start + 8]) or "(no message)"


@dataclass(frozen=True)
class QuartoCall:
    """One ``quarto`` subprocess as :func:`recording` keeps it.

    Attributes
    ----------
    args : tuple of str
        Quarto's arguments (``("render", "--no-execute")``).
    what : str
        The letter or site rendered (as named in errors).
    started : float
        When it started, in seconds since the epoch (``time.time()``).
    wall : float
        Seconds from start to exit.
    cpu : float
        User + system seconds of Quarto and of every process it waited for (Deno, pandoc, dart-sass, typst).
    pid : int
        The ``quarto`` process's id: the programs it ran are its descendants (two calls may run at once).
    """

    args: tuple[str, ...]
    what: str
    started: float
    wall: float
    cpu: float
    pid: int = 0


#: The lists :func:`recording` is filling (one per active ``with``).
_RECORDERS: list[list[QuartoCall]] = []


@contextlib.contextmanager
def recording() -> Iterator[list[QuartoCall]]:
    """Keep every Quarto call of this process made inside the ``with`` (the benchmark's profile reads them)."""
    calls: list[QuartoCall] = []
    _RECORDERS.append(calls)
    try:
        yield calls
    finally:
        _RECORDERS.remove(calls)


def _run_measured(
    cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int, str, str, float, float, int]:
    """Run ``cmd``; return its exit code, stdout, stderr, wall seconds, CPU seconds and process id.

    The CPU time is the child's own resource usage from ``os.wait4`` (its descendants it waited for included),
    not a difference of ``RUSAGE_CHILDREN``, which would also count kernels or other calls this process reaped
    meanwhile. Output goes to temporary files (no pipe to drain while waiting). Raises
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds (the child is killed).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        expired = threading.Event()

        def stop() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: the child is ended and reaped, as subprocess.run does
            proc.kill()
            proc.wait()
            raise
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if expired.is_set():
            raise subprocess.TimeoutExpired(cmd, timeout)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    return proc.returncode, stdout, stderr, wall, usage.ru_utime + usage.ru_stime, proc.pid


def run_quarto(args: list[str], *, cwd: Path, env: dict[str, str], what: Path | str) -> tuple[str, float]:
    """Run ``quarto ARGS`` in ``cwd``; return its log and its wall time in seconds.

    Inside :func:`recording` the call (wall and CPU time) is kept.

    Raises
    ------
    RenderError
        Quarto failed; the message names ``what`` (the letter or site being rendered) and Quarto's last lines.
    """
    quarto = require_quarto()
    quarto_version(quarto)
    cmd = [quarto, *args]
    started = time.time()
    try:
        code, stdout, stderr, seconds, cpu, pid = _run_measured(cmd, cwd=cwd, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(what, "quarto", f"`{shlex.join(args)}` took more than {TIMEOUT} s") from exc
    for calls in _RECORDERS:
        calls.append(QuartoCall(tuple(args), str(what), started, seconds, cpu, pid))
    log = "\n".join(x for x in (f"$ {shlex.join(cmd)}", stdout.strip(), stderr.strip()) if x)
    if code != 0:
        raise RenderError(what, "quarto", f"`quarto {shlex.join(args)}` failed:\n{quarto_error(stderr)}")
    return log, seconds
