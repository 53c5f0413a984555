"""Text files read strictly: UTF-8 or one clear line naming the file, the line and the column of the bad byte.

Why: ``Path.read_text`` raises ``UnicodeDecodeError`` (a traceback naming no file) on a file re-saved as Latin-1
by an editor; a notebook, a publication template or a Quarto settings file is input like any data file, and a
byte that is not UTF-8 must stop the build with the file and the place, never be guessed at.
"""

from __future__ import annotations

from pathlib import Path

from observatoire.core.errors import InputError

__all__ = ["decode_utf8", "read_utf8"]


def decode_utf8(data: bytes, file: str | Path) -> str:
    """``data`` decoded as UTF-8 (a byte-order mark kept as it is).

    Raises
    ------
    InputError
        ``line N, column C``: the file must be UTF-8 (byte 0x.. is not).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            file,
            f"line {line}, column {column}",
            f"the file must be UTF-8 (byte 0x{data[exc.start]:02x} is not)",
        ) from None


def read_utf8(path: str | Path) -> str:
    """The text of the UTF-8 file ``path`` (see :func:`decode_utf8`)."""
    return decode_utf8(Path(path).read_bytes(), path)
