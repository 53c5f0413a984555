"""Check that a letter uses only the Quarto subset both renderers support.

Why: the pandoc fallback implements a subset of Quarto (API.md, "The Quarto subset the letters use"). A
feature outside it would render under Quarto and silently vanish, or render differently, under the fallback,
so the two outputs would disagree. :func:`lint` names every such use by file and line, and
:func:`observatoire.rendering.render` refuses to render a letter with problems.

The checks read the Markdown line by line (after include expansion, keeping each line's origin): they are
cheap, need no pandoc, and can say where the problem is. They are deliberately strict: the subset is a
contract, and widening it means implementing the feature in ``quarto_subset.lua`` first.
"""

from __future__ import annotations

import re
from pathlib import Path

from .shortcodes import INDEX, PROJECT, SHORTCODE, Expander, Line

#: Front-matter keys of the subset (title block, and values that {{< meta >}} reads).
FRONT_MATTER_KEYS = (
    "title",
    "subtitle",
    "date",
    "lang",
    "author",
    "year",
    "theme",
    "edition",
    "number",
    "source",
    "description",
)
CALLOUTS = ("note", "important", "warning", "tip")
DIV_CLASSES = tuple(f"callout-{k}" for k in CALLOUTS) + ("key-figures", "key-figure")
CROSSREF_KINDS = ("fig", "tbl")
IMAGE_TYPES = (".svg", ".png", ".jpg", ".jpeg")
#: Quarto classes for layout the fallback does not implement (margin notes, columns, tabsets, conditional content).
LAYOUT_CLASS = re.compile(
    r"^(column-.*|panel-.*|content-(visible|hidden)|aside|margin.*|tabset|hidden|grid|g-col-.*)$"
)
LAYOUT_KEY = re.compile(
    r"^(layout(-.*)?|fig-(cap-location|align|env|pos|scap|width|height)|tbl-(colwidths|cap-location))$"
)

FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
DIV_FENCE = re.compile(r"^\s*:{3,}(.*?)$")
IMAGE = re.compile(
    r"!\[(?P<cap>(?:[^\[\]]|\[[^\]]*\])*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?P<attr>\{[^{}]*\})?"
)
ATTR_BLOCK = re.compile(r"\{([^{}]*)\}")
ATTR_TOKEN = re.compile(
    r"""\s*(?:(?P<id>#[^\s{}#.]+)|(?P<cls>\.[^\s{}#.=]+)|(?P<key>[\w-]+)=(?P<val>"[^"]*"|'[^']*'|\S+)|(?P<raw>=\S+)|(?P<bad>\S+))"""
)
INLINE_CODE = re.compile(r"(`+)(?P<code>.+?)\1")
INLINE_CELL = re.compile(r"^(\{\w+\}|r )")
CITATION = re.compile(r"(?<![\w.+@/\\])-?@(?P<key>\w(?:[\w:.#$%&+?<>~/-]*\w)?)")
TABLE_CAPTION = re.compile(r"^\s*(?::|Table:)\s.*?(?P<attr>\{[^{}]*\})?\s*$")


def parse_attributes(text: str) -> tuple[list[str], list[str], dict[str, str], list[str]]:
    """Split a pandoc attribute block's inside into ids, classes, key=value pairs and leftovers.

    Parameters
    ----------
    text : str
        What is between the braces, e.g. ``#fig-x fig-alt="Texte"``.

    Returns
    -------
    ids, classes, keys, leftovers
    """
    ids: list[str] = []
    classes: list[str] = []
    keys: dict[str, str] = {}
    rest: list[str] = []
    for m in ATTR_TOKEN.finditer(text):
        if m.group("id"):
            ids.append(m.group("id")[1:])
        elif m.group("cls"):
            classes.append(m.group("cls")[1:])
        elif m.group("key"):
            keys[m.group("key")] = m.group("val").strip("\"'")
        elif m.group("raw") or m.group("bad"):
            rest.append(m.group("raw") or m.group("bad"))
    return ids, classes, keys, rest


class _Linter:
    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir
        self.raw: list[tuple[Path, int | None, str]] = []
        self.expander = Expander(project_dir, problems=self.raw)
        self.figures: dict[str, Line] = {}
        self.tables: dict[str, Line] = {}
        self.references: list[tuple[Line, str, str]] = []

    def add(self, line: Line | Path, rule: str) -> None:
        if isinstance(line, Line):
            self.raw.append((line.file, line.number, rule))
        else:
            self.raw.append((line, None, rule))

    # -- front matter and project file ------------------------------------------------------------------------
    def check_front_matter(self, meta: dict, index: Path) -> None:
        lines = index.read_text(encoding="utf-8").splitlines()
        fm, _ = Expander.split_front_matter(lines)
        for key in meta:
            if key in FRONT_MATTER_KEYS or key in self.expander.project_meta:
                continue
            number = next((i + 2 for i, t in enumerate(fm) if re.match(rf"^{re.escape(str(key))}\s*:", t)), 1)
            self.add(
                Line("", index, number),
                f"front-matter key '{key}' is outside the subset (allowed: {', '.join(FRONT_MATTER_KEYS)})",
            )
        if not str(meta.get("title") or "").strip():
            self.add(Line("", index, 1), "the letter needs a title (front matter 'title')")
        lang = str(meta.get("lang", "fr"))
        if lang not in ("fr", "fr-FR"):
            self.add(Line("", index, 1), f"lang must be fr (found '{lang}')")

    def check_project_file(self) -> None:
        path = self.project_dir / PROJECT
        if not path.is_file():
            self.add(path, "the project has no _quarto.yml")
            return
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            self.add(path, "not valid YAML")
            return
        project = data.get("project", {}) if isinstance(data, dict) else {}
        kind = project.get("type", "default") if isinstance(project, dict) else "default"
        if kind != "default":
            self.add(path, f"project type must be 'default' (found '{kind}')")

    # -- body lines ---------------------------------------------------------------------------------------------------
    def check_lines(self, lines: list[Line]) -> None:
        fence: str | None = None
        divs: list[tuple[str, Line]] = []
        for i, line in enumerate(lines):
            text = SHORTCODE.sub("0", line.text)
            m = FENCE.match(text)
            if fence is not None:
                if (
                    m
                    and m.group(1)[0] == fence[0]
                    and len(m.group(1)) >= len(fence)
                    and not m.group(2).strip()
                ):
                    fence = None
                continue
            if m:
                fence = m.group(1)
                self.check_code_fence(line, m.group(2).strip())
                continue
            d = DIV_FENCE.match(text)
            if d:
                self.check_div_fence(line, d.group(1).strip(" :"), divs)
                continue
            self.check_inline(line, text, lines, i)
        for _cls, opened in divs:
            self.add(opened, "div opened here is never closed (':::')")

    def check_code_fence(self, line: Line, info: str) -> None:
        if not info.startswith("{"):
            return
        inner = info.strip("{} ")
        if inner.startswith("="):
            self.add(line, f"raw block '{info}' is outside the subset (it would show in one format only)")
        elif inner and not inner.startswith((".", "#")):
            self.add(
                line, f"executable code cell '```{info}' is outside the subset (compute in the notebooks)"
            )

    def check_div_fence(self, line: Line, rest: str, divs: list[tuple[str, Line]]) -> None:
        if not rest:
            if divs:
                divs.pop()
            else:
                self.add(line, "':::' closes a div that was never opened")
            return
        if rest.startswith("{"):
            _ids, classes, keys, leftovers = parse_attributes(rest.strip("{}"))
        else:
            classes, keys, leftovers = rest.split(), {}, []
        known = [c for c in classes if c in DIV_CLASSES]
        for c in classes:
            if c not in DIV_CLASSES:
                what = "callout type" if c.startswith("callout-") else "div class"
                allowed = ", ".join(CALLOUTS) if c.startswith("callout-") else ", ".join(DIV_CLASSES)
                self.add(line, f"{what} '.{c}' is outside the subset (allowed: {allowed})")
        if not classes:
            self.add(
                line,
                f"div without a class ('::: {rest}') is outside the subset (allowed: {', '.join(DIV_CLASSES)})",
            )
        allowed_keys = ("title",) if any(c.startswith("callout-") for c in known) else ()
        for key in keys:
            if key not in allowed_keys:
                self.add(line, f"div attribute '{key}' is outside the subset")
        for bad in leftovers:
            self.add(line, f"div attribute '{bad}' is outside the subset")
        cls = known[0] if known else (classes[0] if classes else "")
        if cls == "key-figure" and (not divs or divs[-1][0] != "key-figures"):
            self.add(line, "a .key-figure div belongs inside a .key-figures div")
        if divs and divs[-1][0] == "key-figures" and cls != "key-figure":
            self.add(line, "a .key-figures div holds only .key-figure divs")
        divs.append((cls, line))

    def check_inline(self, line: Line, text: str, lines: list[Line], i: int) -> None:
        if re.match(r"^#\s", text):
            self.add(
                line, "level-1 heading: the front-matter title is the only level 1, sections start at ##"
            )
        for m in INLINE_CODE.finditer(text):
            if INLINE_CELL.match(m.group("code")):
                self.add(line, f"inline code cell '{m.group(0)}' is outside the subset (use {{{{< var >}}}})")
        text = INLINE_CODE.sub(lambda m: "`" + "x" * len(m.group("code")) + "`", text)
        spans: list[tuple[int, int]] = []
        for m in IMAGE.finditer(text):
            spans.append(m.span("attr") if m.group("attr") else (m.end(), m.end()))
            self.check_image(line, m, text, lines, i)
        caption = TABLE_CAPTION.match(text)
        if caption and caption.group("attr"):
            spans.append(caption.span("attr"))
            ids, classes, keys, rest = parse_attributes(caption.group("attr")[1:-1])
            for ident in ids:
                if not ident.startswith("tbl-"):
                    self.add(line, f"table identifier '#{ident}' must start with 'tbl-'")
                else:
                    self.define(self.tables, ident, line, "table")
            for key in keys:
                self.add(line, f"table caption attribute '{key}' is outside the subset")
            for bad in classes + rest:
                self.add(line, f"table caption attribute '{bad}' is outside the subset")
        for m in ATTR_BLOCK.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            ids, classes, keys, rest = parse_attributes(m.group(1))
            for c in classes:
                if LAYOUT_CLASS.match(c) or c.startswith("callout-"):
                    self.add(
                        line, f"class '.{c}' is outside the subset (margin notes, columns, tabsets, callouts)"
                    )
            for key in keys:
                if LAYOUT_KEY.match(key):
                    self.add(line, f"attribute '{key}' is outside the subset (layout and figure options)")
            for bad in rest:
                if bad.startswith("="):
                    self.add(
                        line,
                        f"raw inline '{{{bad}}}' is outside the subset (it would show in one format only)",
                    )
            for ident in ids:
                kind = ident.split("-", 1)[0]
                if "-" in ident and kind in CROSSREF_KINDS:
                    self.add(line, f"'#{ident}' only identifies a figure (image) or a table (caption line)")
        for m in CITATION.finditer(text):
            self.check_reference(line, m.group("key"))

    def check_image(self, line: Line, m: re.Match, text: str, lines: list[Line], i: int) -> None:
        src = m.group("src")
        ids, classes, keys, rest = parse_attributes((m.group("attr") or "{}")[1:-1])
        fig_ids = [x for x in ids if x.startswith("fig-")]
        if not fig_ids:
            self.add(
                line,
                f"image '{src}' needs a figure identifier {{#fig-name}} (every image is a numbered figure)",
            )
        else:
            self.define(self.figures, fig_ids[0], line, "figure")
        for ident in ids:
            if not ident.startswith("fig-"):
                self.add(line, f"figure identifier '#{ident}' must start with 'fig-'")
        if not keys.get("fig-alt", "").strip():
            self.add(
                line,
                f"figure '{src}' needs fig-alt=\"...\" (the alternative text for readers who cannot see it)",
            )
        for key in keys:
            if key != "fig-alt":
                self.add(line, f"figure attribute '{key}' is outside the subset (only fig-alt)")
        for bad in classes + rest:
            self.add(line, f"figure attribute '{bad}' is outside the subset (only #fig-name and fig-alt)")
        if text.strip() != m.group(0):
            self.add(line, "a figure stands alone in its paragraph (nothing else on its line)")
        else:
            for j in (i - 1, i + 1):
                near = lines[j].text.strip() if 0 <= j < len(lines) else ""
                if near and not near.startswith(":::") and not (j < i and near.startswith("#")):
                    self.add(line, "a figure stands alone in its paragraph (blank lines around it)")
                    break
        if "://" in src:
            self.add(line, f"figure '{src}' must be a file of the project, not a URL")
            return
        path = self.project_dir / src
        if Path(src).suffix.lower() not in IMAGE_TYPES:
            self.add(line, f"figure '{src}': image type must be one of {', '.join(IMAGE_TYPES)}")
        if not path.is_file():
            self.add(line, f"figure file '{src}' not found")
        elif not path.with_suffix(".csv").is_file():
            self.add(line, f"figure '{src}' has no data file '{Path(src).with_suffix('.csv').as_posix()}'")

    def define(self, table: dict[str, Line], ident: str, line: Line, what: str) -> None:
        if ident in table:
            first = table[ident]
            where = f"{_rel(first.file, self.project_dir)}:{first.number}"
            self.add(line, f"{what} identifier '#{ident}' already used at {where}")
        else:
            table[ident] = line

    def check_reference(self, line: Line, key: str) -> None:
        kind = key.split("-", 1)[0] if "-" in key else ""
        if kind.lower() in CROSSREF_KINDS and kind in ("fig", "tbl", "Fig", "Tbl"):
            self.references.append((line, kind.lower(), kind.lower() + "-" + key.split("-", 1)[1]))
        elif kind:
            self.add(line, f"cross-reference '@{key}' is outside the subset (only @fig- and @tbl-)")
        else:
            self.add(line, f"citation '@{key}' is outside the subset (only @fig- and @tbl- cross-references)")

    def check_references(self) -> None:
        for line, kind, ident in self.references:
            defined = self.figures if kind == "fig" else self.tables
            if ident not in defined:
                what = "figure" if kind == "fig" else "table"
                self.add(line, f"reference '@{ident}' to a {what} that does not exist (no '#{ident}')")

    # -- all --------------------------------------------------------------------------------------------------------------
    def run(self) -> list[str]:
        index = self.project_dir / INDEX
        if not index.is_file():
            self.add(index, "the project has no index.qmd (the letter)")
            return self.report()
        self.check_project_file()
        try:
            expanded = self.expander.expand()
        except Exception as exc:  # noqa: BLE001 - lint reports, it does not crash
            self.add(index, f"cannot be read: {exc}")
            return self.report()
        self.check_front_matter(expanded.meta, index)
        self.check_lines(expanded.lines)
        self.check_references()
        return self.report()

    def report(self) -> list[str]:
        seen: set[str] = set()
        out: list[str] = []
        for file, number, rule in self.raw:
            text = (
                f"{_rel(Path(file), self.project_dir)}:{number}: {rule}"
                if number
                else f"{_rel(Path(file), self.project_dir)}: {rule}"
            )
            if text not in seen:
                seen.add(text)
                out.append(text)
        return out


def _rel(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)


def lint(project_dir: str | Path) -> list[str]:
    """List the uses of Quarto features outside the letters' subset.

    Parameters
    ----------
    project_dir : str or Path
        The staged Quarto project (``index.qmd`` and what it includes).

    Returns
    -------
    list of str
        One ``"file:line: rule"`` per problem (file relative to the project), in reading order; empty when
        the letter is fine.
    """
    return _Linter(Path(project_dir).resolve()).run()
