"""An executed notebook made into a page of its edition's website, read like the letter.

Why: a reader who wants to check a number follows "Voir les calculs" to the notebook that computed it, and must
find the same site (navbar, search, the page's language) and a way back to the part of the letter the notebook
computes. Quarto renders the page from the executed ``.ipynb`` with its outputs, never re-running it. This module
prepares that ``.ipynb`` in two steps:

1. :func:`notebook_page`, as soon as the notebook has run: nothing that changes from one run to the next
   (papermill's timestamps, execution metadata, random cell ids, absolute paths of the build machine), the title
   heading removed (Quarto shows it), and, in the notebook's metadata (``observatoire``), what the page's header
   needs: title, language, the parameters of the run, and which heading of the letter's source quotes most of its
   facts (file and rank in that file).
2. :func:`write_headers`, when the letter's templates are filled (at render time, on the scratch copy): the
   front matter (a raw cell), then the link back to that heading of the filled letter (its real title and
   anchor, pandoc's identifier) and the parameters as a table (a Markdown cell), in the page's language; the
   words are ``publications/_shared/site_words.yml``, the layout ``notebook_header.md``.

Every cell's source is written as a list of lines (nbformat's own form): Quarto joins a source given as one
string without its line breaks, which printed the front matter and the Markdown of the page as raw, glued text.

Which section: each fact the letter quotes (``{{< var key >}}`` or a template's ``f.key``) belongs to the first
heading quoting it (document order: ``index.qmd`` with its ``{{< include >}}`` files expanded in place); a
notebook goes back to the heading holding most of its facts (the first such heading on a tie). A notebook no
heading quotes is linked back to "Voir les calculs" ("See the calculations").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from observatoire.core import paths
from observatoire.core.escaping import markdown_text
from observatoire.outputs.templates import render_text
from observatoire.outputs.words import site_text, site_words

log = logging.getLogger(__name__)

#: The layout of a notebook page's header (link back to the letter, parameters); its words are site_words'.
HEADER_TEMPLATE = paths.PUBLICATIONS / "_shared" / "notebook_header.md"
#: Where the page's header data is kept in the notebook's metadata.
METADATA_KEY = "observatoire"
#: The ids of the two cells :func:`write_headers` writes.
HEADER_IDS = ("front-matter", "back-to-letter")

_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*(?:\{([^}]*)\})?\s*$")
_INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
_FACT = re.compile(r"\{\{<\s*var\s+([A-Za-z0-9_]+)\s*>\}\}|\[\[[^\]]*?\bf\.([A-Za-z0-9_]+)")
_SHORTCODE = re.compile(r"\{\{<\s*(?:var|meta)\s+([\w.-]+)\s*>\}\}")
_FENCE = re.compile(r"^(```|~~~)")
_DIV = re.compile(r"^:::+\s*(.*)$")
_TEMPLATE_PART = re.compile(r"(\[\[.*?\]\]|\[%-?\s*\w+.*?%\]|\{\{<.*?>\}\})")


class Heading(NamedTuple):
    """A heading (level 2 or 3) of a letter: its file (relative to the publication), its rank among the
    headings of that file (0 first), its title as written there and its anchor (pandoc's identifier)."""

    file: str
    index: int
    title: str
    anchor: str


def slug(text: str) -> str:
    """The identifier pandoc gives a heading (its ``auto_identifiers`` rule): ``"Les points clés"`` ->
    ``"les-points-clés"``; apostrophes and punctuation go, letters with accents stay."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = re.sub(r"[*_`]", "", text)
    kept = "".join(c for c in text if c.isalnum() or c in "_-. \n")
    out = re.sub(r"\s+", "-", kept.strip()).lower()
    out = re.sub(r"^[^a-zà-ÿ]+", "", out)
    return out or "section"


def _lines(path: Path, seen: tuple[Path, ...] = ()) -> Iterator[tuple[str, str]]:
    """``(file, line)`` of a document in reading order, its includes expanded in place (relative paths)."""
    if not path.is_file() or path in seen or path.suffix not in (".qmd", ".md"):
        return
    root = seen[0].parent if seen else path.parent
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        included = None if fenced else _INCLUDE.fullmatch(line.strip())
        if included:
            yield from _lines(path.parent / included.group(1), (*seen, path) if seen else (path,))
        else:
            yield name, "" if fenced else line


def _front_matter_end(lines: list[tuple[str, str]]) -> int:
    if lines and lines[0][1] == "---":
        for i in range(1, len(lines)):
            if lines[i][1] in ("---", "..."):
                return i + 1
    return 0


def letter_headings(
    project: Path, values: Mapping[str, Any] | None = None
) -> list[tuple[Heading, list[str]]]:
    """The headings of a letter in reading order, each with the lines under it (up to the next heading).

    Parameters
    ----------
    project : Path
        The publication folder (``index.qmd`` and what it includes), source or filled.
    values : Mapping, optional
        Values of ``{{< var >}}``/``{{< meta >}}`` shortcodes in headings.

    Returns
    -------
    list of (Heading, list of str)
        Anchors are pandoc's: an explicit ``{#id}``, else the identifier of the title, ``-1``, ``-2`` ... added to
        a repeated one, as pandoc does.
    """
    values = values or {}
    lines = list(_lines(project / "index.qmd"))
    lines = lines[_front_matter_end(lines) :]
    out: list[tuple[Heading, list[str]]] = []
    ranks: dict[str, int] = {}
    used: dict[str, int] = {}
    divs: list[bool] = []  # the fenced divs the line is in: True for a callout (its heading is its title)
    for file, line in lines:
        fence = _DIV.match(line)
        if fence:
            if fence.group(1).strip():
                divs.append("callout" in fence.group(1))
            elif divs:
                divs.pop()
        found = None if any(divs) else _HEADING.match(line)
        if not found:
            if out:
                out[-1][1].append(line)
            continue
        title = _SHORTCODE.sub(lambda m: str(values.get(m.group(1), m.group(0))), found.group(2)).strip()
        explicit = re.search(r"#([\w:.-]+)", found.group(3) or "")
        anchor = explicit.group(1) if explicit else slug(title)
        if not explicit:
            count = used.get(anchor, 0)
            used[anchor] = count + 1
            anchor = anchor if count == 0 else f"{anchor}-{count}"
        rank = ranks.get(file, 0)
        ranks[file] = rank + 1
        out.append((Heading(file, rank, title, anchor), []))
    return out


def _plain(title: str) -> str:
    """A heading's title compared across the source and the filled letter: no escapes, plain spaces."""
    return re.sub(r"\s+", " ", re.sub(r"[\u00a0\u202f]", " ", _inline_text(title))).strip()


def title_pattern(title: str) -> str:
    """A regular expression matching what a heading of a template becomes once filled.

    ``"Évolution depuis [[ f.t_premiere_annee ]]"`` matches "Évolution depuis 2016": a value ``[[ ... ]]`` or a
    shortcode is any text, ``[% if %]A[% else %]B[% endif %]`` is A or B, spaces are any spaces.
    """
    out = []
    for part in _TEMPLATE_PART.split(title):
        if not part:
            continue
        tag = re.match(r"\[%-?\s*(\w+)", part)
        if part.startswith(("[[", "{{<")):
            out.append(".+?")
        elif tag and tag.group(1) == "if":
            out.append("(?:")
        elif tag and tag.group(1) in ("elif", "else"):
            out.append("|")
        elif tag and tag.group(1) == "endif":
            out.append(")")
        elif tag:
            continue
        else:
            out.append(re.escape(_plain(part)) if part.strip() else r"\s*")
    return "^" + "".join(out).replace(r"\ ", r"\s*") + "$"


def letter_sections(publication: Path, values: Mapping[str, Any] | None = None) -> dict[str, Heading]:
    """Map each fact key the letter quotes to the first heading quoting it: ``{key: Heading}``.

    Parameters
    ----------
    publication : Path
        The publication folder (``index.qmd`` and the files it includes), templates not filled.
    values : Mapping, optional
        Values for ``{{< var >}}``/``{{< meta >}}`` in headings.
    """
    found: dict[str, Heading] = {}
    for heading, body in letter_headings(publication, values):
        for line in body:
            for var, template in _FACT.findall(line):
                found.setdefault(var or template, heading)
    return found


def section_for(keys: list[str], sections: Mapping[str, Heading]) -> Heading | None:
    """The heading holding most of ``keys`` (see :func:`letter_sections`); the first such on a tie; None if none."""
    votes: dict[Heading, int] = {}
    order = list(dict.fromkeys(sections.values()))
    for key in keys:
        if key in sections:
            votes[sections[key]] = votes.get(sections[key], 0) + 1
    if not votes:
        return None
    return max(votes, key=lambda s: (votes[s], -order.index(s)))


def notebook_title(notebook: Mapping[str, Any], fallback: str) -> str:
    """The first Markdown heading of a notebook (its title), or ``fallback``."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def source_lines(text: str) -> list[str]:
    """A cell's source in nbformat's list form: one string per line, each but the last ending with ``\\n``."""
    return text.splitlines(keepends=True)


def _drop_first_heading(notebook: dict) -> None:
    """Remove the title heading from the first Markdown cell (Quarto shows the title from the front matter)."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    cell["source"] = lines[:i] + lines[i + 1 :]
                    return
            return


def _drop_stderr(cell: dict, notebook: str) -> None:
    """Remove a cell's standard-error output from its page, and log it for the person running the release.

    Our notebooks write nothing to standard error (they say what they must in their own output); what lands there
    comes from the machine (a library's font cache being built, a lock waited for under load) and would make two
    builds of the same inputs differ.
    """
    kept = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", ""))
            log.warning("%s: standard-error output left out of the page: %s", notebook, text.strip()[:500])
        else:
            kept.append(output)
    if "outputs" in cell:
        cell["outputs"] = kept


def _write_notebook(notebook: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(notebook, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def notebook_page(
    executed: Path,
    target: Path,
    *,
    parameters: Mapping[str, Any],
    replace_paths: Mapping[str, str],
    section: Heading | None,
    lang: str = "fr",
) -> Path:
    """Write ``target`` (an ``.ipynb``): the executed notebook cleaned, with what its header needs in its metadata.

    Parameters
    ----------
    executed : Path
        The notebook as papermill wrote it.
    target : Path
        Where to write the page's notebook (``<project>/notebooks/<name>.ipynb``).
    parameters : Mapping
        The parameters of the run, shown in a table at the top.
    replace_paths : Mapping of str to str
        Absolute paths of the build machine and what to show instead (``{"/…/build": "build"}``).
    section : Heading or None
        The letter's heading the notebook computes (see :func:`letter_sections`), in its source.
    lang : str, default "fr"
        The language of the letter the page belongs to (its header's words).

    Returns
    -------
    Path
        ``target``. The page gets its front matter and header from :func:`write_headers`.
    """
    text = executed.read_text(encoding="utf-8")
    for absolute, shown in sorted(replace_paths.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(absolute)[1:-1], shown)
    notebook = json.loads(text)
    title = notebook_title(notebook, executed.stem)
    _drop_first_heading(notebook)
    for key in ("papermill", "widgets"):
        notebook.get("metadata", {}).pop(key, None)
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{index}"
        cell["source"] = source_lines("".join(cell.get("source", "")))
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
        _drop_stderr(cell, executed.name)
    shown = dict(parameters)
    for absolute, short in replace_paths.items():
        shown = {k: str(v).replace(absolute, short) for k, v in shown.items()}
    notebook.setdefault("metadata", {})[METADATA_KEY] = {
        "title": title,
        "lang": lang,
        "parameters": {k: str(v) for k, v in sorted(shown.items())},
        "section": None
        if section is None
        else {"file": section.file, "index": section.index, "pattern": title_pattern(section.title)},
    }
    _write_notebook(notebook, target)
    return target


def _values(project: Path) -> dict[str, Any]:
    """The values of ``{{< var >}}`` and ``{{< meta >}}`` in a staged project (``_variables.yml``, ``_quarto.yml``)."""
    values: dict[str, Any] = {}
    for name in ("_variables.yml", "_quarto.yml"):
        path = project / name
        if path.is_file():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                values.update({k: v for k, v in loaded.items() if not isinstance(v, dict | list)})
    return values


def _inline_text(markdown: str) -> str:
    """A heading's Markdown as the text a reader sees (emphasis marks and link targets dropped)."""
    return re.sub(r"[*_`]", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)).replace("\\", "")


def header_cells(meta: Mapping[str, Any], target: Heading | None, letter_href: str) -> list[dict]:
    """The front matter (a raw cell) and the header (a Markdown cell) of a notebook page.

    Parameters
    ----------
    meta : Mapping
        The page's ``observatoire`` metadata (see :func:`notebook_page`).
    target : Heading or None
        The heading of the filled letter the page links back to (None: the letter's top).
    letter_href : str
        The letter's address, relative to the page.
    """
    lang = meta.get("lang") or "fr"
    words = site_words(lang)["notebook"]
    title = _inline_text(target.title) if target else site_text(lang, "site.edition", year="").strip()
    href = f"{letter_href}#{target.anchor}" if target else letter_href
    link = f"[{markdown_text(title)}]({href})"
    rows = "\n".join(
        f"| `{name.replace('`', '')}` | `{str(value).replace('`', '').replace('|', '/')}` |"
        for name, value in (meta.get("parameters") or {}).items()
    )
    header = render_text(
        HEADER_TEMPLATE.read_text(encoding="utf-8"),
        {},
        {
            "lang": lang,
            "back": site_text(lang, "notebook.back", section=link),
            "run": words["run"],
            "parameter": words["parameter"],
            "value": words["value"],
            "rows": rows,
        },
        name=str(HEADER_TEMPLATE),
    ).strip()
    # no "Citer cette lettre" block on a notebook page (letter.lua adds it to letters)
    front = {
        "title": meta.get("title") or "",
        "lang": lang,
        "format-links": False,
        "toc": True,
        "observatoire-cite": False,
    }
    return [
        {
            "cell_type": "raw",
            "id": HEADER_IDS[0],
            "metadata": {},
            "source": source_lines(
                "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
            ),
        },
        {"cell_type": "markdown", "id": HEADER_IDS[1], "metadata": {}, "source": source_lines(header + "\n")},
    ]


def _filled_heading(headings: list[Heading], place: Mapping[str, Any] | None) -> Heading | None:
    """The heading of the filled letter that a heading of its source became: the first of its file whose title
    matches the source's title (:func:`title_pattern`; a heading written by a macro or a condition moves), else
    the first anywhere, else the one at the same rank in its file."""
    if not place:
        return None
    pattern = re.compile(place.get("pattern") or "^$")
    same_file = [h for h in headings if h.file == place["file"]]
    for candidates in (same_file, headings):
        for heading in candidates:
            if pattern.match(_plain(heading.title)):
                return heading
    return next((h for h in same_file if h.index == place["index"]), None)


def write_headers(project: Path, letter_href: str = "../index.html") -> list[Path]:
    """Give every notebook page of a staged, filled project its front matter and header (in place).

    Each page links back to the heading of the filled letter its notebook computes (found by its title and file,
    see :func:`_filled_heading`), or to the letter's "Voir les calculs" heading when none quotes its facts.
    Pages that already have a header get it rewritten (idempotent).

    Parameters
    ----------
    project : Path
        A staged project whose ``.qmd`` files are filled (``notebooks/*.ipynb`` the pages).
    letter_href : str
        The letter, relative to a page.

    Returns
    -------
    list of Path
        The pages written, sorted.
    """
    pages = sorted((project / "notebooks").glob("*.ipynb"))
    if not pages:
        return []
    headings = [heading for heading, _ in letter_headings(project, _values(project))]
    written = []
    for page in pages:
        notebook = json.loads(page.read_text(encoding="utf-8"))
        meta = (notebook.get("metadata") or {}).get(METADATA_KEY)
        if not isinstance(meta, dict):
            continue
        target = _filled_heading(headings, meta.get("section"))
        if target is None:
            calculations = site_words(meta.get("lang") or "fr")["notebook"]["calculations"]
            target = next((h for h in headings if _inline_text(h.title) == calculations), None)
        cells = [c for c in notebook["cells"] if c.get("id") not in HEADER_IDS]
        notebook["cells"] = header_cells(meta, target, letter_href) + cells
        _write_notebook(notebook, page)
        written.append(page)
    return written
