"""The one reader of every YAML file the project reads (sources, themes, indicators, vocabularies, Quarto files).

Why one reader: a YAML file is input like any data file, and the same rules must hold for all of them. YAML can
describe a document far larger than its file through anchors and aliases (the "billion laughs" alias bomb: a few
hundred bytes that expand to gigabytes), so a file with an anchor (``&name``) or an alias (``*name``) is refused
before anything is built from it; the project's files need neither. A file larger than :data:`MAX_BYTES` is
refused unread, bytes that are not UTF-8 are refused (never guessed), and only YAML's safe types are constructed.
Every problem is one :class:`~observatoire.core.errors.InputError` line naming the file, the place (line and
column when known) and the rule broken.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from observatoire.core.errors import InputError

__all__ = ["MAX_BYTES", "load_yaml_text", "read_yaml"]

#: The largest YAML file read (bytes): the project's largest, data/sources.yml, is about 45 kB.
MAX_BYTES = 2 * 1024 * 1024


def _place(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _loader(yaml: Any) -> type:
    """libyaml's safe loader when PyYAML was built with it (faster), else the pure-Python one; both safe."""
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_anchors(yaml: Any, text: str, file: str | Path) -> None:
    """Raise at the first anchor or alias of ``text`` (one pass over the parser's events, nothing built)."""
    for event in yaml.parse(text, Loader=_loader(yaml)):
        if isinstance(event, yaml.AliasEvent):
            raise InputError(
                file,
                _place(event.start_mark),
                f"YAML aliases (*{event.anchor}) are not allowed in this project",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise InputError(
                file, _place(event.start_mark), f"YAML anchors (&{anchor}) are not allowed in this project"
            )


def load_yaml_text(text: str, file: str | Path) -> Any:
    """Parse YAML ``text`` under the project's rules; ``file`` names it in errors (a path, ``"--set"``, ...).

    Parameters
    ----------
    text : str
        The YAML document (a whole file, a front matter block, a command-line value).
    file : str or Path
        What the text comes from, for the error message.

    Returns
    -------
    Any
        The document: ``None`` for an empty one, else mappings, lists and scalars of YAML's safe types.

    Raises
    ------
    InputError
        For a syntax error (with its line and column), an anchor or an alias.
    """
    import yaml  # lazy: the themes module reads YAML; CLI start (--help) without PyYAML

    try:
        _refuse_anchors(yaml, text, file)
        return yaml.load(text, Loader=_loader(yaml))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = _place(mark) if mark is not None else "whole file"
        raise InputError(file, place, f"not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise InputError(file, "whole file", f"not valid YAML ({exc})") from None


def read_yaml(path: str | Path, max_bytes: int = MAX_BYTES) -> Any:
    """Read the YAML file ``path`` under the project's rules.

    Parameters
    ----------
    path : str or Path
        The file.
    max_bytes : int, default :data:`MAX_BYTES`
        Larger files are refused without being read.

    Returns
    -------
    Any
        The document (``None`` for an empty file).

    Raises
    ------
    InputError
        File missing or too big, a byte that is not UTF-8 (with its line and column), a YAML syntax error (with its
        line and column), an anchor or an alias.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(path, "whole file", "file not found") from None
    if len(data) > max_bytes:
        raise InputError(
            path, "whole file", f"a YAML file may be at most {max_bytes} bytes (this one is larger)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            path,
            f"line {line}, column {column}",
            f"the file must be UTF-8 (byte 0x{data[exc.start]:02x} is not)",
        ) from None
    return load_yaml_text(text, path)
