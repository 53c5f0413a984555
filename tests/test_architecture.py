"""The package's import graph: folders are layers, no cycle, imports at module top unless a comment says why.

Why a test: docs/ARCHITECTURE.md draws the layers (core < data < analysis < outputs < publishing < cli); a lower
layer that imports a higher one, or two modules that import each other, make the graph a newcomer cannot read.
The contracts live in pyproject.toml (``[tool.importlinter]``) and are checked here with import-linter; the cycle
count comes from ../shared/tools/importcycles.py, which counts imports made inside functions too. An import inside
a function hides an edge of the graph: it is allowed only with a ``# lazy: why`` comment on its line.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from observatoire.core import paths

CYCLES_TOOL = paths.ROOT.parent / "shared" / "tools" / "importcycles.py"
CONFIG = paths.ROOT / "pyproject.toml"
LAZY = "# lazy:"


def _cycles(src: Path) -> tuple[int, str]:
    run = subprocess.run(
        [sys.executable, str(CYCLES_TOOL), str(src), "observatoire"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = run.stdout.strip().splitlines()[-1]
    return int(last.split()[0]), run.stdout


def hidden_imports(package: Path) -> list[str]:
    """Imports made inside a function, or by name (``importlib.import_module``, ``__import__``), without a
    ``# lazy:`` comment on one of their lines, as ``path:line``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        nodes = set()
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                nodes.update(n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call):
                name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
                if name in ("import_module", "__import__"):
                    nodes.add(call)
        for node in nodes:
            if not any(LAZY in line for line in lines[node.lineno - 1 : node.end_lineno]):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return sorted(found)


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """import-linter in a child process: its logging set-up (``dictConfig``) disables the loggers already created,
    which would silence the package's warnings for the tests that run after it in the same process."""
    env = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports;"
            f" sys.exit(lint_imports(config_filename={str(CONFIG)!r}, no_cache=True))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def test_the_layer_contracts_hold():
    # no_cache: nothing written into the repository
    run = _lint_imports(paths.ROOT)
    assert run.returncode == 0, run.stdout[-3000:]


def test_the_package_has_no_import_cycle():
    count, report = _cycles(paths.ROOT / "src")
    assert count == 0, report


def test_every_import_inside_a_function_says_why():
    assert hidden_imports(paths.PACKAGE) == []


def _imported_by(code: str, heavy: tuple[str, ...]) -> list[str]:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys\n{code}\nprint(' '.join(m for m in {heavy!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stdout.split()


def test_what_the_lazy_imports_keep_light():
    # The reasons the '# lazy:' comments give: `python -m observatoire --help` loads none of the heavy modules,
    # and the no-change release path (a release or `make all` with nothing to rebuild) loads no data stack.
    cli = "import observatoire.cli as cli\ncli.build_parser()"
    heavy = (
        "pandas",
        "numpy",
        "matplotlib",
        "papermill",
        "jinja2",
        "pandera",
        "distributed",
        "yaml",
        "babel",
    )
    assert _imported_by(cli, heavy) == []
    no_change = "import observatoire.publishing.release, observatoire.publishing.batch"
    assert _imported_by(no_change, heavy[:7]) == []


def test_the_checks_fail_on_a_deliberately_added_cycle(tmp_path):
    # A copy of the package where core (the lowest layer) imports publishing (the highest), which imports core.
    src = tmp_path / "src"
    shutil.copytree(
        paths.PACKAGE, src / "observatoire", ignore=shutil.ignore_patterns("__pycache__", "vendor")
    )
    errors = src / "observatoire" / "core" / "errors.py"
    added = "    from observatoire.publishing import release"
    text = errors.read_text(encoding="utf-8") + f"\n\ndef _release():\n{added}\n\n    return release\n"
    errors.write_text(text, encoding="utf-8")
    count, report = _cycles(src)
    assert count == 1 and "observatoire.core.errors" in report, report
    line = text.splitlines().index(added) + 1
    assert hidden_imports(src / "observatoire") == [f"observatoire/core/errors.py:{line}"]
    run = _lint_imports(tmp_path, pythonpath=src)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "observatoire.core.errors -> observatoire.publishing.release" in run.stdout, run.stdout[-3000:]


def _python(code: str) -> str:
    """What a fresh interpreter prints running ``code``."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout


def test_the_build_never_compiles_the_iri_grammar_and_still_validates_notebooks():
    # publishing/__init__.py keeps jsonschema's optional rfc3987_syntax out (1.5-2 s of CPU per process);
    # nbformat still validates: a notebook missing a required field is refused.
    code = (
        "import sys, observatoire.publishing.execution, papermill, nbformat\n"
        "nb = nbformat.v4.new_notebook(); nbformat.validate(nb)\n"
        "del nb['metadata']\n"
        "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('refused')\n"
        "print(sys.modules.get('rfc3987_syntax', 'never imported'))\n"
    )
    assert _python(code).split() == ["refused", "None"]


def test_a_warm_kernel_imports_no_build_module():
    # The warm kernels import what notebooks use (kernel_state.prepare), not papermill or Dask.
    code = (
        "import sys\nfrom observatoire.publishing import kernel_state\nkernel_state.prepare()\n"
        "print(sorted(m for m in ('papermill', 'nbformat', 'jsonschema', 'distributed', 'observatoire.cli') "
        "if m in sys.modules))\n"
        "print(sorted(m for m in sys.modules if m.startswith('observatoire.publishing')))"
    )
    assert _python(code).splitlines() == [
        "[]",
        "['observatoire.publishing', 'observatoire.publishing.kernel_state']",
    ]
