"""Render a letter without Quarto: shortcodes in Python, then pandoc 3 (HTML, typst) and typst (PDF).

Why: Quarto cannot be installed on every machine that builds the letters (its installer downloads a binary),
but ``pypandoc_binary`` ships pandoc 3 and the ``typst`` package compiles PDF in-process. Together with
:mod:`.shortcodes` and the Lua filter ``quarto_subset.lua`` they cover the subset of Quarto the letters use
(API.md, "The Quarto subset the letters use"), with the same look as under Quarto.

Determinism: pandoc adds no dates; ``--embed-resources`` writes images as base64 data URIs; typst gets a fixed
timestamp (:func:`.common.timestamp_for`) and only its built-in fonts. Two renders of the same project give
the same bytes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .common import (
    CSS,
    DATA_GLOBS,
    HTML_NAME,
    HTML_TEMPLATE,
    LUA_FILTER,
    PDF_NAME,
    TYPST_TEMPLATE,
    RenderError,
    RenderResult,
    french_date,
    timestamp_for,
)
from .shortcodes import INDEX, expand

RENDERER = "pandoc+typst"
#: pandoc's Markdown with Quarto's habits: citations stay on (they carry @fig-/@tbl- references).
READER = "markdown"
#: Front-matter keys handed to pandoc's templates (the others only feed {{< meta >}}).
TEMPLATE_KEYS = ("title", "subtitle", "date", "lang", "author", "number", "source", "description")


def pandoc_path() -> str:
    """Path of the pandoc 3 binary shipped by ``pypandoc_binary`` (or ``PYPANDOC_PANDOC``, else ``pandoc``)."""
    env = os.environ.get("PYPANDOC_PANDOC")
    if env:
        return env
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        if found is None:
            raise RenderError(
                "pandoc", "environment", "pandoc 3 not found (install pypandoc_binary)"
            ) from None
        return found


def pandoc_command(pandoc: str, to: str, project_dir: Path) -> list[str]:
    """The pandoc command line for one output format (input on stdin, output on stdout).

    Parameters
    ----------
    pandoc : str
        Path of the pandoc binary.
    to : {"html", "typst"}
        Output format.
    project_dir : Path
        The project; images are looked up there (``--resource-path``).

    Returns
    -------
    list of str
    """
    common = [
        pandoc,
        "--from",
        READER,
        "--standalone",
        "--lua-filter",
        str(LUA_FILTER),
        "--resource-path",
        str(project_dir),
        "--wrap",
        "preserve",
    ]
    if to == "html":
        return [
            *common,
            "--to",
            "html5",
            "--template",
            str(HTML_TEMPLATE),
            "--css",
            str(CSS),
            "--embed-resources",
        ]
    if to == "typst":
        return [*common, "--to", "typst", "--template", str(TYPST_TEMPLATE)]
    raise ValueError(f"unknown pandoc output {to!r}")


def pandoc_front_matter(meta: dict) -> str:
    """Front matter for pandoc: the template keys, dates in French, ``lang: fr`` unless said otherwise."""
    out: dict = {}
    for key in TEMPLATE_KEYS:
        if key in meta and meta[key] is not None:
            value = meta[key]
            out[key] = french_date(value) if key == "date" else value
    out.setdefault("lang", "fr")
    if "description" in out:
        out["description-meta"] = out.pop("description")
    dumped = yaml.safe_dump(out, allow_unicode=True, sort_keys=True, width=10_000)
    return f"---\n{dumped}---\n\n"


def _run_pandoc(commands: dict[str, list[str]], source: bytes, cwd: Path) -> dict[str, bytes]:
    """Run the pandoc commands in parallel (one process each, one thread waiting on each), ``source`` on stdin.

    Returns each command's stdout under its name, and its stderr (warnings) under ``"<name>.stderr"`` when not
    empty.
    """
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}

    def run(cmd: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=cwd, env=env, input=source, capture_output=True, check=False)

    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        done = dict(zip(commands, pool.map(run, commands.values()), strict=True))
    outputs: dict[str, bytes] = {}
    failures: list[str] = []
    for name, proc in done.items():
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip()
            failures.append(f"pandoc ({name}) exited with {proc.returncode}: {message}")
            continue
        outputs[name] = proc.stdout
        if proc.stderr.strip():
            outputs[f"{name}.stderr"] = proc.stderr
    if failures:
        raise RenderError(cwd / INDEX, "pandoc", "; ".join(failures))
    return outputs


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave the temporary file beside a stale one
        raise


def copy_data_files(project_dir: Path, out_dir: Path) -> list[Path]:
    """Copy the figures' and tables' CSV files next to the HTML (same relative paths), for its download links."""
    copied = []
    for pattern in DATA_GLOBS:
        for src in sorted(project_dir.glob(pattern)):
            dest = out_dir / src.relative_to(project_dir)
            write_atomic(dest, src.read_bytes())
            copied.append(dest)
    return copied


def compile_typst(source: str, project_dir: Path, timestamp: int) -> tuple[bytes, list[str]]:
    """Compile typst source to PDF bytes with built-in fonts only and a fixed timestamp.

    Returns
    -------
    pdf : bytes
    warnings : list of str
    """
    import typst

    try:
        pdf, warnings = typst.compile_with_warnings(
            source.encode("utf-8"),
            root=str(project_dir),
            font_paths=[],
            ignore_system_fonts=True,
            timestamp=timestamp,
            format="pdf",
        )
    except typst.TypstError as exc:
        detail = " ".join(str(x) for x in (exc.message, getattr(exc, "diagnostic", ""), *exc.hints) if x)
        raise RenderError(project_dir / INDEX, "typst", f"PDF compilation failed: {detail}") from exc
    return pdf, [str(getattr(w, "message", w)) for w in warnings]


def render_fallback(project_dir: str | Path, out_dir: str | Path, formats: tuple[str, ...]) -> RenderResult:
    """Render ``project_dir`` to ``out_dir/index.html`` and/or ``out_dir/letter.pdf`` with pandoc and typst.

    Parameters
    ----------
    project_dir : str or Path
        Staged Quarto project (``index.qmd``, ``_variables.yml``, ``figures/``, ``tables/``).
    out_dir : str or Path
        Where the outputs go (created when missing). The figures' and tables' CSV files are copied there too.
    formats : tuple of str
        Any of ``"html"``, ``"pdf"``.

    Returns
    -------
    RenderResult

    Raises
    ------
    RenderError
        Unknown variable or meta key (file and line), missing include, or a pandoc / typst failure.
    """
    project_dir = Path(project_dir).resolve()
    out_dir = Path(out_dir).resolve()
    log: list[str] = []
    t0 = time.perf_counter()
    expanded = expand(project_dir)
    source = (pandoc_front_matter(expanded.meta) + expanded.markdown).encode("utf-8")
    log.append(f"expanded {len(expanded.files)} file(s) in {time.perf_counter() - t0:.2f} s")

    pandoc = pandoc_path()
    commands = {}
    if "html" in formats:
        commands["html"] = pandoc_command(pandoc, "html", project_dir)
    if "pdf" in formats:
        commands["typst"] = pandoc_command(pandoc, "typst", project_dir)
    log.extend(f"$ {shlex.join(cmd)}" for cmd in commands.values())
    t1 = time.perf_counter()
    outputs = _run_pandoc(commands, source, project_dir)
    log.append(f"pandoc in {time.perf_counter() - t1:.2f} s")
    log.extend(
        f"pandoc ({k[:-7]}): {v.decode(errors='replace').strip()}"
        for k, v in outputs.items()
        if k.endswith(".stderr")
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    html = pdf = None
    if "html" in formats:
        html = out_dir / HTML_NAME
        write_atomic(html, outputs["html"])
        copied = copy_data_files(project_dir, out_dir)
        log.append(f"wrote {html.name} and {len(copied)} data file(s)")
    if "pdf" in formats:
        t2 = time.perf_counter()
        stamp = timestamp_for(expanded.meta)
        pdf_bytes, warnings = compile_typst(outputs["typst"].decode("utf-8"), project_dir, stamp)
        pdf = out_dir / PDF_NAME
        write_atomic(pdf, pdf_bytes)
        log.extend(f"typst: {w}" for w in warnings)
        log.append(f"typst in {time.perf_counter() - t2:.2f} s (timestamp {stamp}); wrote {pdf.name}")
    log.append(f"rendered with {RENDERER} in {time.perf_counter() - t0:.2f} s")
    return RenderResult(renderer=RENDERER, html=html, pdf=pdf, log="\n".join(log))


def typst_source(project_dir: str | Path) -> str:
    """The typst source the fallback compiles (for debugging a PDF layout: ``typst watch`` it)."""
    project_dir = Path(project_dir).resolve()
    expanded = expand(project_dir)
    source = (pandoc_front_matter(expanded.meta) + expanded.markdown).encode("utf-8")
    return _run_pandoc({"typst": pandoc_command(pandoc_path(), "typst", project_dir)}, source, project_dir)[
        "typst"
    ].decode("utf-8")
