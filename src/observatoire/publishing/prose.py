"""The prose check: render a letter's templates with the real facts of a year and read the result as a proofreader.

Why. Sentences now live in the publication's templates (:mod:`observatoire.outputs.templates`), with branches for missing
figures, plurals and significance. A branch that only fires in 2018 is a sentence nobody reads until the 2018
letter is rebuilt. This module renders every template of an edition from the facts the notebooks compute for
that year, then flags what a proofreader would: a placeholder left unfilled, a "(s)" plural, the same sentence
twice in one letter, English words, a breakable space where French typography wants a narrow no-break space.
It is theme-generic: ``problems(render_edition(theme, year))``.

Facts come from running the theme's notebooks for the year (the same code as a release, no rendering); they are
cached under ``build/_facts/<theme>/<year>/<key>/``, ``key`` being a digest of every input of the notebooks (data
checksums, notebooks, package code), so a cache is never used after a change that could alter a fact.
"""

from __future__ import annotations

import fcntl
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from observatoire.core import paths
from observatoire.data import themes
from observatoire.outputs import facts, templates
from observatoire.publishing import execution
from observatoire.publishing import manifest as mf
from observatoire.publishing.kernel_env import kernel_environment
from observatoire.publishing.plan import key_inputs, plan_jobs
from observatoire.publishing.release import check_reads
from observatoire.publishing.staging import meta_values

__all__ = ["Rendered", "edition_facts", "render_edition", "problems", "ENGLISH_WORDS"]

#: Words that are English and not French (checked case-insensitively, as whole words, in the rendered prose).
ENGLISH_WORDS = (
    "the", "and", "of", "with", "women", "men", "persons", "people", "female", "male", "percent", "complaint",
    "complaints", "files", "victim", "victims", "rounded", "bound", "year", "years", "attempts", "survey",
    "share", "rate", "only", "not", "which", "from", "per", "annual", "average", "total of",
)  # fmt: skip

_VAR = re.compile(r"\{\{<\s*var\s+([\w.-]+)\s*>\}\}")
_META = re.compile(r"\{\{<\s*meta\s+([\w.-]+)\s*>\}\}")
_INCLUDE = re.compile(r"\{\{<\s*include\s+([^\s>]+)\s*>\}\}")
_UNFILLED = re.compile(r"\[\[|\]\]|\[%|%\]|\[#|#\]|\{\{<\s*(?:var|meta)\b")
_PLURAL_S = re.compile(r"\w\((?:s|e|es|x|nt)\)", re.IGNORECASE)
_BREAKABLE_BEFORE = re.compile(r"(?<=[\w)\]»])[ \u00a0]([;:!?%»])(?!\[)")
_BREAKABLE_IN_NUMBER = re.compile(r"(?<!\d)\d{1,3}(?:[ \u00a0]\d{3})+(?!\d)")
_ENGLISH = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")\b", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)
_NOT_PROSE = (
    re.compile(r"^(```|~~~).*?^\1\s*$", re.DOTALL | re.MULTILINE),  # code
    re.compile(r"<!--.*?-->", re.DOTALL),  # comments
    re.compile(r"\{[#.][^{}]*\}"),  # pandoc attributes: ids, classes, fig-alt (checked as prose below)
    re.compile(r"\]\([^)]*\)"),  # link and image targets
    re.compile(r"(?:https?://|www\.)\S+"),  # bare URLs
    re.compile(r"^\s*:{3,}.*$", re.MULTILINE),  # div fences
    re.compile(r"\{\{<.*?>\}\}", re.DOTALL),  # other shortcodes
)
_ALT = re.compile(r"""fig-alt=(["'])(.*?)\1""")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«])")
#: A sentence shorter than this may repeat (a label, "Source : ...").
MIN_REPEATED = 50


@dataclass(frozen=True)
class Rendered:
    """The rendered text of an edition: the letter (templates with their includes) and its parts, by file."""

    theme: str
    year: int
    letter: str
    parts: dict[str, str]


def _fingerprint(theme, year: int, parameters: Mapping) -> str:
    """Digest of every input of the notebooks (the release's key without the publication's templates)."""
    inputs = {
        k: v
        for k, v in key_inputs(theme, year, parameters, paths.KERNEL_NAME).items()
        if not k.startswith("publication:")
    }
    return mf.build_key(inputs)[:16]


def edition_facts(theme_id: str, year: int, cache_dir: Path | None = None) -> dict[str, dict]:
    """The facts of an edition, computed by running the theme's notebooks for ``year`` (cached by input digest).

    The notebooks run without drawing their figures (:data:`observatoire.core.paths.DRAW_FIGURES_VARIABLE`): the
    facts, the tables and the figures' metadata (captions, alt texts) are those of a release, the charts' image
    and workbook files are not written.

    Parameters
    ----------
    theme_id : str
    year : int
    cache_dir : Path, optional
        Default ``build/_facts``.

    Returns
    -------
    dict
        Fact records by key (:func:`observatoire.outputs.facts.load_facts`).
    """
    theme = themes.get_theme(theme_id)
    parameters = theme.parameters_for(year, None)
    root = Path(cache_dir or paths.BUILD / "_facts") / theme.id / str(year)
    folder = root / _fingerprint(theme, year, parameters)
    root.parent.mkdir(parents=True, exist_ok=True)
    # One run at a time per edition: two processes (e.g. two test workers) asking for the same edition's facts
    # would otherwise delete each other's running folder; the second waits, then reads what the first wrote.
    with open(root.parent / f".{year}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / "facts").is_dir():
                shutil.rmtree(root, ignore_errors=True)
                work = root / "_running"
                jobs = plan_jobs(theme, year, parameters, work)
                # facts, tables and the figures' metadata, not their drawings: two thirds of the notebooks' time
                env = {**kernel_environment(), paths.DRAW_FIGURES_VARIABLE: "no"}
                execution.run_notebooks(
                    jobs, workers=2, progress=False, kernel_name=paths.KERNEL_NAME, env=env
                )
                check_reads(work / "outputs", jobs, theme.source_ids(parameters), theme.themes_file)
                (work / "outputs").rename(folder)
                shutil.rmtree(work, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return facts.load_facts(folder)


def render_edition(
    theme_id: str,
    year: int,
    records: Mapping[str, dict] | None = None,
    tables: Path | None = None,
    lang: str = "fr",
) -> Rendered:
    """Render every template of a theme's publication for ``year``, with the includes of its index resolved.

    Parameters
    ----------
    theme_id : str
    year : int
    records : mapping, optional
        Fact records (default: :func:`edition_facts`).
    tables : Path, optional
        Folder of the edition's generated tables (``tables/*.md``), to include them (default: the facts cache's).
    lang : str, default "fr"
        The letter's language: another one renders the theme's publication in it (``translations``), from the
        same facts.

    Returns
    -------
    Rendered
    """
    theme = themes.get_theme(theme_id)
    parameters = theme.parameters_for(year, None)
    if records is None:
        records = edition_facts(theme_id, year)
    one_source = theme.one_source(lang)
    if tables is None:
        root = paths.BUILD / "_facts" / theme.id / str(year) / _fingerprint(theme, year, parameters)
        tables = (root / lang if one_source and lang != "fr" else root) / "tables"
    # The figures and tables of the letter's language, for figure(name) and table(name).
    outputs = templates.edition_outputs(Path(tables).parent)
    meta = {**meta_values(theme, year, parameters, None, lang), "lang": lang}
    variables = {**facts.to_variables(records, lang if one_source else "fr"), **meta}
    source = theme.publication_dir_for(lang)
    parts: dict[str, str] = {}
    for path in sorted(source.rglob("*.qmd")):
        name = str(path.relative_to(source))
        text = templates.render_text(
            path.read_text(encoding="utf-8"),
            records,
            meta,
            name=str(path),
            search_path=source,
            outputs=outputs,
        )
        text = _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        parts[name] = _META.sub(lambda m: variables.get(m.group(1), m.group(0)), text)

    def expand(text: str, depth: int = 0) -> str:
        def include(match: re.Match) -> str:
            target = match.group(1)
            if target in parts and depth < 5:
                return expand(parts[target], depth + 1)
            table = (
                Path(tables) / Path(target).relative_to("tables") if target.startswith("tables/") else None
            )
            if table is not None and table.is_file():
                table_text = table.read_text(encoding="utf-8")  # French typography as staging does
                return templates.french_typography(table_text) if lang == "fr" else table_text
            return ""  # generated at staging (the calculations page): not the authors' prose

        return _INCLUDE.sub(include, text)

    return Rendered(theme.id, int(year), expand(parts.get("index.qmd", "")), parts)


def visible(text: str, alts: bool = True) -> str:
    """The prose of rendered Markdown: code, attributes, targets and shortcodes removed; figure alt text kept
    (after the prose) unless ``alts`` is False."""
    alts = " ".join(m.group(2) for m in _ALT.finditer(text)) if alts else ""
    text = _FRONT_MATTER.sub("", text)
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    return text + "\n" + alts


def sentences(text: str) -> list[str]:
    """The sentences of prose (paragraphs joined, list markers and emphasis removed)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if not ln.lstrip().startswith(("|", "#"))]
        flat = re.sub(r"\s+", " ", " ".join(lines)).strip()
        flat = re.sub(r"^[-*]\s+|\*\*|(?<!\w)\*|\*(?!\w)", "", flat)
        out.extend(s.strip() for s in _SENTENCE_END.split(flat) if s.strip())
    return out


def problems(rendered: Rendered) -> list[str]:
    """What a proofreader would flag in a rendered letter, one line per problem (empty when clean).

    Parameters
    ----------
    rendered : Rendered

    Returns
    -------
    list of str
        Each names the edition, the rule and the text at fault.
    """
    where = f"{rendered.theme} {rendered.year}"
    found: list[str] = []
    letter = rendered.letter
    for match in _UNFILLED.finditer(letter):
        found.append(f"{where}: unfilled placeholder: {_around(letter, match)}")
    prose = visible(letter)
    for pattern, rule in (
        (_PLURAL_S, "'(s)' plural"),
        (_ENGLISH, "English word"),
        (_BREAKABLE_BEFORE, "breakable space before punctuation (French wants U+202F)"),
        (_BREAKABLE_IN_NUMBER, "breakable space inside a number (French wants U+202F)"),
    ):
        for match in pattern.finditer(prose):
            found.append(f"{where}: {rule}: {_around(prose, match)}")
    # Repeated in the prose (an alt text is read alone, at its figure: two figures may say the same of their series)
    counts = Counter(s for s in sentences(visible(letter, alts=False)) if len(s) >= MIN_REPEATED)
    found.extend(f"{where}: sentence repeated {n} times: {s!r}" for s, n in counts.items() if n > 1)
    return found


def _around(text: str, match: re.Match, width: int = 40) -> str:
    return repr(text[max(0, match.start() - width) : match.end() + width])
