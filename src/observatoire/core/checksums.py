"""The sha256 of files, each file read once per process while it stays the same.

Why: the build key of an edition hashes the package, its publication and the shared words; a batch resolves one
key per letter, so a no-change run of the 238 territorial letters hashed the same few hundred files 238 times
(half of its 12 s). The raw files a release checks (``catalogue.verify_present``) and the published files a
no-change run checks against their manifest go through here too.

A file is read again when its size, modification time, change time or inode changed. The change time is the
one no tool can set back: a byte flipped with the modification time restored still moves it. A file changed
within the last :data:`SETTLE_SECONDS` is not remembered: the file system's clock ticks every few milliseconds,
so two writes of the same size in one tick would otherwise look alike ("racy git").
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

#: A file whose change time is this recent is hashed each time it is asked for.
SETTLE_SECONDS = 2.0

_KNOWN: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file (read in 1 MiB blocks), remembered while the file stays the same.

    Raises
    ------
    OSError
        The file cannot be read (``FileNotFoundError`` when it is missing).
    """
    name = os.path.abspath(path)
    stat = os.stat(name)
    state = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    known = _KNOWN.get(name)
    if known is not None and known[0] == state:
        return known[1]
    digest = hashlib.sha256()
    with open(name, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    if time.time() - stat.st_ctime_ns / 1e9 > SETTLE_SECONDS:
        _KNOWN[name] = (state, value)
    return value


def forget() -> None:
    """Forget every file hashed (as a new process would)."""
    _KNOWN.clear()
