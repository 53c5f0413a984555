"""Files written whole or not at all: a temporary file beside the target, flushed, then renamed over it.

Why: a reader of ``_site/`` (a web server, a user's browser, a concurrent ``make``) must see a file as it was
before or as it is after a write, never half of it; a process killed mid-write, or a disk that fills up, must
leave the previous file intact and no partial one. ``os.replace`` within one folder is atomic on POSIX, so
every file published (the site's pages, ``changelog.json``, the catalogue, caches) is written here: to a hidden
temporary name in the target's folder (``.<name>.<random>.tmp``, which the next run removes if a kill left it),
then renamed.

A full disk (``ENOSPC``, or a quota: ``EDQUOT``) is reported as :class:`DiskFullError`, one line naming the path
that could not be written; the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["DiskFullError", "write_bytes", "write_text", "copy_file", "temporary_name", "is_disk_full"]

#: The errors of a full disk or quota.
_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """No space left to write a file: one line naming it (the previous file, if any, is intact)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        super().__init__(errno.ENOSPC, "no space left on device", self.path)

    def __str__(self) -> str:
        return f"{self.path}: no space left on device: nothing was written (free some space and run again)"


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` is an ``OSError`` of a full disk or quota."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def temporary_name(target: Path) -> tuple[int, Path]:
    """A new hidden temporary file beside ``target``: ``(open descriptor, path)``."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    return handle, Path(name)


def write_bytes(target: Path | str, data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename); return ``target``.

    Raises
    ------
    DiskFullError
        The disk is full; ``target`` is unchanged and no temporary file is left.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temporary = temporary_name(target)
    except OSError as exc:
        raise (DiskFullError(target) if is_disk_full(exc) else exc) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(target) from None
        raise
    finally:
        if temporary.exists():
            temporary.unlink()
    return target


def write_text(target: Path | str, text: str, *, mode: int = 0o644) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically; see :func:`write_bytes`."""
    return write_bytes(target, text.encode("utf-8"), mode=mode)


def copy_file(origin: Path | str, target: Path | str) -> Path:
    """Copy ``origin`` to ``target`` atomically, keeping its permission bits and times (as ``shutil.copy2``).

    Raises
    ------
    DiskFullError
        The disk is full; ``target`` is unchanged and no temporary file is left.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temporary = temporary_name(target)
    except OSError as exc:
        raise (DiskFullError(target) if is_disk_full(exc) else exc) from None
    os.close(handle)
    try:
        shutil.copy2(origin, temporary)
        os.replace(temporary, target)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(target) from None
        raise
    finally:
        if temporary.exists():
            temporary.unlink()
    return target
