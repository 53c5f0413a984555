"""Quarto's three shortcodes, expanded in Python: ``{{< include >}}``, ``{{< var >}}``, ``{{< meta >}}``.

Why here and not in the Lua filter: only the source text knows file names and line numbers, and an unknown
variable must be reported as ``index.qmd: line 12: unknown variable 'x'``. The expansion also keeps, for
every output line, the file and line it came from, which :mod:`.lint` uses for its messages.

Behaviour follows Quarto's:

- ``{{< include path >}}`` stands alone on its line; the path is relative to the file that holds the
  shortcode (``/path`` is relative to the project); included files are inserted as text, recursively; they
  have no front matter.
- ``{{< var key >}}`` reads ``_variables.yml`` (dotted keys reach nested mappings); ``{{< meta key >}}`` reads
  the front matter of ``index.qmd`` (over the top-level keys of ``_quarto.yml``).
- ``{{{< var key >}}}`` is the escape: it writes ``{{< var key >}}`` literally.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .common import RenderError, french_date

INDEX = "index.qmd"
VARIABLES = "_variables.yml"
PROJECT = "_quarto.yml"
SUBSET_SHORTCODES = ("var", "meta", "include")

#: ``{{{< ... >}}}`` (escaped, group 1) or ``{{< ... >}}`` (group 2).
SHORTCODE = re.compile(r"\{\{\{<\s*(.*?)\s*>\}\}\}|\{\{<\s*(.*?)\s*>\}\}")
INCLUDE_LINE = re.compile(r"^\s*\{\{<\s*include\s+(.+?)\s*>\}\}\s*$")


@dataclass(frozen=True)
class Line:
    """One line of the expanded letter and where it came from (1-based line number)."""

    text: str
    file: Path
    number: int


@dataclass
class Expanded:
    """The letter after expansion.

    Attributes
    ----------
    meta : dict
        Front matter, shortcodes expanded (dates left as ``datetime.date``).
    lines : list of Line
        The body (front matter removed), includes inserted, shortcodes expanded.
    files : list of Path
        Every source file read, in reading order, without repeats.
    """

    meta: dict
    lines: list[Line]
    files: list[Path] = field(default_factory=list)

    @property
    def markdown(self) -> str:
        """The body as one Markdown text."""
        return "".join(line.text + "\n" for line in self.lines)


def _rel(path: Path, project_dir: Path) -> str:
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)


def _text_of(value: object, key: str) -> str | None:
    """Text of a variable or meta value, or None when it is not a scalar the letter can print."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, dt.date):
        return french_date(value)
    return None


def _lookup(mapping: dict, key: str) -> tuple[bool, object]:
    if key in mapping:
        return True, mapping[key]
    node: object = mapping
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


class Expander:
    """Expands one project's letter.

    Parameters
    ----------
    project_dir : Path
        The staged Quarto project.
    problems : list, optional
        When given, problems are appended to it as ``(file, line, rule)`` and expansion goes on (lint mode);
        when None, the first problem raises :class:`RenderError` (render mode).
    """

    def __init__(self, project_dir: str | Path, problems: list | None = None) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.problems = problems
        self.files: list[Path] = []
        self.variables = self._read_variables()
        self.project_meta = self._read_project_meta()

    # -- problems ------------------------------------------------------------------------------------------
    def problem(self, file: Path, line: int | None, rule: str) -> None:
        """Record a problem (lint mode) or raise it (render mode)."""
        if self.problems is None:
            raise RenderError(file, f"line {line}" if line else "whole file", rule)
        self.problems.append((file, line, rule))

    # -- inputs ----------------------------------------------------------------------------------------------
    def _read_yaml(self, path: Path) -> object:
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problem(path, mark.line + 1 if mark else None, f"not valid YAML ({exc.__class__.__name__})")
            return None

    def _read_variables(self) -> dict:
        path = self.project_dir / VARIABLES
        if not path.is_file():
            return {}
        data = self._read_yaml(path)
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problem(path, None, "must be a mapping of variable names to text")
            return {}
        return data

    def _read_project_meta(self) -> dict:
        path = self.project_dir / PROJECT
        if not path.is_file():
            return {}
        data = self._read_yaml(path)
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if k not in ("project", "format")}

    def read_lines(self, path: Path) -> list[str]:
        """Lines of a source file, without line ends."""
        if path not in self.files:
            self.files.append(path)
        return path.read_text(encoding="utf-8").splitlines()

    # -- front matter -------------------------------------------------------------------------------------------
    @staticmethod
    def split_front_matter(lines: list[str]) -> tuple[list[str], int]:
        """Return the front-matter lines (without the ``---`` fences) and the index of the first body line."""
        if lines and lines[0].strip() == "---":
            for i in range(1, len(lines)):
                if lines[i].strip() in ("---", "..."):
                    return lines[1:i], i + 1
        return [], 0

    # -- includes -------------------------------------------------------------------------------------------------
    def include_target(self, arg: str, including: Path, number: int) -> Path | None:
        """Resolve the path of an include shortcode, or record the problem and return None."""
        try:
            parts = shlex.split(arg)
        except ValueError:
            parts = []
        if len(parts) != 1:
            self.problem(including, number, f"include takes one file path (found '{arg}')")
            return None
        name = parts[0]
        base = self.project_dir if name.startswith("/") else including.parent
        target = (base / name.lstrip("/")).resolve()
        if not target.is_relative_to(self.project_dir):
            self.problem(including, number, f"included file '{name}' is outside the project")
            return None
        if not target.is_file():
            self.problem(including, number, f"included file '{name}' not found")
            return None
        return target

    def expand_file(self, path: Path, stack: tuple[Path, ...] = (), skip: int = 0) -> list[Line]:
        """Lines of ``path`` from line ``skip``, includes inserted recursively (shortcodes not yet expanded)."""
        out: list[Line] = []
        lines = self.read_lines(path)
        if stack and self.split_front_matter(lines)[0]:
            self.problem(path, 1, "an included file has no front matter (it belongs to index.qmd)")
            skip = self.split_front_matter(lines)[1]
        for i in range(skip, len(lines)):
            text, number = lines[i], i + 1
            match = INCLUDE_LINE.match(text)
            if match is None:
                if re.search(r"(?<!\{)\{\{<\s*include\b", text):
                    self.problem(path, number, "{{< include >}} must stand alone on its line")
                out.append(Line(text, path, number))
                continue
            target = self.include_target(match.group(1), path, number)
            if target is None:
                continue
            if target in stack or target == path:
                chain = " -> ".join(_rel(p, self.project_dir) for p in (*stack, path, target))
                self.problem(path, number, f"include cycle: {chain}")
                continue
            out.extend(self.expand_file(target, (*stack, path)))
        return out

    # -- var and meta ---------------------------------------------------------------------------------------------
    def substitute(self, line: Line, meta: dict) -> str:
        """Expand the var and meta shortcodes of one line; other shortcodes are left for lint to report."""

        def replace(match: re.Match) -> str:
            if match.group(1) is not None:
                return "{{< " + match.group(1) + " >}}"
            body = match.group(2)
            try:
                parts = shlex.split(body)
            except ValueError:
                parts = body.split()
            name = parts[0] if parts else ""
            if name not in ("var", "meta"):
                if name != "include":
                    self.problem(
                        line.file,
                        line.number,
                        f"shortcode '{{{{< {name} >}}}}' is outside the subset (var, meta, include)",
                    )
                return match.group(0)
            if len(parts) != 2:
                self.problem(line.file, line.number, f"'{{{{< {body} >}}}}': {name} takes exactly one key")
                return match.group(0)
            key = parts[1]
            if name == "var":
                found, value = _lookup(self.variables, key)
                if not found:
                    where = (
                        VARIABLES if (self.project_dir / VARIABLES).is_file() else f"{VARIABLES} (missing)"
                    )
                    self.problem(line.file, line.number, f"unknown variable '{key}' (not in {where})")
                    return match.group(0)
            else:
                found, value = _lookup(meta, key)
                if not found:
                    self.problem(
                        line.file, line.number, f"unknown meta key '{key}' (not in the front matter)"
                    )
                    return match.group(0)
            text = _text_of(value, key)
            if text is None:
                self.problem(
                    line.file,
                    line.number,
                    f"{name} '{key}' is {type(value).__name__} {value!r}: it must be text or an integer "
                    "(format numbers with observatoire.formatting)",
                )
                return match.group(0)
            return text

        return SHORTCODE.sub(replace, line.text)

    def _substitute_value(self, value: object, meta: dict, index: Path, fm_lines: list[str]) -> object:
        """Expand shortcodes inside a front-matter value (after YAML parsing, so quotes cannot break)."""
        if isinstance(value, str) and "{{<" in value:
            first = SHORTCODE.search(value)
            number = next((i + 2 for i, t in enumerate(fm_lines) if first and first.group(0) in t), 1)
            return self.substitute(Line(value, index, number), meta)
        if isinstance(value, list):
            return [self._substitute_value(v, meta, index, fm_lines) for v in value]
        if isinstance(value, dict):
            return {k: self._substitute_value(v, meta, index, fm_lines) for k, v in value.items()}
        return value

    # -- the whole letter -------------------------------------------------------------------------------------------
    def expand(self) -> Expanded:
        """Expand ``index.qmd``: front matter, includes, var and meta shortcodes."""
        index = self.project_dir / INDEX
        if not index.is_file():
            raise RenderError(index, "whole file", "the project has no index.qmd (the letter)")
        lines = self.read_lines(index)
        fm_lines, body_start = self.split_front_matter(lines)
        raw: object = {}
        if fm_lines:
            try:
                raw = yaml.safe_load("\n".join(fm_lines)) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                self.problem(index, mark.line + 2 if mark else 1, "the front matter is not valid YAML")
                raw = {}
        if not isinstance(raw, dict):
            self.problem(index, 1, "the front matter must be a YAML mapping")
            raw = {}
        raw_meta = {**self.project_meta, **raw}
        meta = {**self.project_meta}
        for key, value in raw.items():
            meta[key] = self._substitute_value(value, raw_meta, index, fm_lines)
        body = [
            Line(self.substitute(ln, meta), ln.file, ln.number)
            for ln in self.expand_file(index, skip=body_start)
        ]
        return Expanded(meta=meta, lines=body, files=list(self.files))


def expand(project_dir: str | Path) -> Expanded:
    """Expand a project's letter, raising :class:`RenderError` (file, line, rule) at the first problem.

    Parameters
    ----------
    project_dir : str or Path
        The staged Quarto project (``index.qmd``, ``_variables.yml`` ...).

    Returns
    -------
    Expanded
        Front matter and body lines with includes and shortcodes expanded.
    """
    return Expander(project_dir).expand()
