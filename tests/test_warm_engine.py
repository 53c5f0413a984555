"""Warm kernels: the same executed notebooks and files as a cold kernel, and nothing left from one notebook to the next.

A warm kernel imports the heavy modules once and runs notebook after notebook (observatoire.publishing.warm_engine); before
each notebook, observatoire.publishing.kernel_state.restore gives it the state of a fresh kernel. These tests run real
kernels: the 'polluter' notebook changes every piece of process state a notebook can reasonably change, then the
'probe' notebook, run next on the same kernel, must print exactly what it prints on a new kernel.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from observatoire.publishing import execution, kernel_env, warm_engine
from observatoire.publishing.execution import NotebookJob, run_notebooks

FIXTURES = Path(__file__).parent / "data" / "notebooks"

# The polluter changes process state; the probe prints it. Both import `localmod` from their own folder, each
# writing it first with another value (of another length, so a stale bytecode cache would show).
POLLUTER = r"""
import os, random, sys, warnings, logging
import numpy as np, pandas as pd, matplotlib as mpl, matplotlib.pyplot as plt, seaborn as sns
import observatoire
from pathlib import Path
Path("localmod.py").write_text("VALUE = 1\n")
import localmod
sns.set_theme(style="dark")
mpl.rcParams["lines.linewidth"] = 7.5
np.random.seed(1); random.seed(1)
np.set_printoptions(precision=2); np.seterr(all="raise")
pd.set_option("display.max_rows", 3)
os.environ["OBSERVATOIRE_LEAK"] = "1"
sys.path.append("/leak")
warnings.simplefilter("error", RuntimeWarning)
warnings.warn_explicit("once-test", UserWarning, "kept.py", 1, module="observatoire",
                       registry=observatoire.__dict__.setdefault("__warningregistry__", {}))
logging.getLogger().setLevel(logging.DEBUG)
plt.figure()
leak = 1
os.chdir("/")
"""

PROBE = r"""
import os, random, sys, warnings, logging
import numpy as np, pandas as pd, matplotlib as mpl, matplotlib.pyplot as plt
import observatoire
from pathlib import Path
Path("localmod.py").write_text("VALUE = 22\n")
import localmod
warnings.warn_explicit("once-test", UserWarning, "kept.py", 1, module="observatoire",
                       registry=observatoire.__dict__.setdefault("__warningregistry__", {}))
state = {
    "names": sorted(k for k in globals() if not k.startswith("_") and k not in {"In", "Out", "exit", "quit"}),
    "localmod": localmod.VALUE,
    "rc": [mpl.rcParams["lines.linewidth"], mpl.rcParams["axes.facecolor"], mpl.rcParams["font.family"]],
    # After the polluter's seed(1) without a reset, these would be True (a fresh kernel's state is random).
    "seeded": [np.random.random() == 0.417022004702574, random.random() == 0.13436424411240122],
    "numpy": [np.get_printoptions()["precision"], np.geterr()["divide"]],
    "pandas": pd.get_option("display.max_rows"),
    "env": os.environ.get("OBSERVATOIRE_LEAK"),
    "path": "/leak" in sys.path,
    "cwd": Path.cwd().name,
    "runtime_warning": [f[0] for f in warnings.filters if f[2] is RuntimeWarning][:1],
    "log_level": logging.getLogger().level,
    "figures": plt.get_fignums(),
}
print(state)
"""


def _notebook(path: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('year = 2024\ntheme = "fixture"\noutput_dir = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(code)]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    nb.metadata["kernelspec"] = {"name": "observatoire", "display_name": "Observatoire", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _comparable(path: Path, run_dir: Path | None = None) -> list:
    """What a reader sees of an executed notebook: each cell's source, execution count and outputs.

    ``run_dir``, the folder of this run (it appears in the injected ``output_dir``), is replaced by ``RUN``.
    """
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text.replace(str(run_dir), "RUN") if run_dir else text)
    return [
        (cell["source"], cell.get("execution_count"), cell.get("outputs"))
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
    ]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def pool():
    warm_engine.POOL.shutdown()
    yield warm_engine.POOL
    warm_engine.POOL.shutdown()


def _run(jobs, *, warm, workers=1):
    return run_notebooks(jobs, workers=workers, progress=False, warm=warm, timeout=120)


def test_a_notebook_leaves_no_state_for_the_next_one(tmp_path, pool):
    polluter = _notebook(tmp_path / "nb" / "polluter.ipynb", POLLUTER)
    probe = _notebook(tmp_path / "nb" / "probe.ipynb", PROBE)
    params = {"year": 2024, "theme": "fixture", "output_dir": str(tmp_path / "out")}

    _run([NotebookJob(probe, tmp_path / "cold" / "probe.ipynb", params)], warm=False)
    # One worker: the probe runs on the very kernel the polluter used.
    _run(
        [
            NotebookJob(polluter, tmp_path / "warm" / "polluter.ipynb", params),
            NotebookJob(probe, tmp_path / "warm" / "probe.ipynb", params),
        ],
        warm=True,
    )
    assert pool.idle_count() == 1  # one kernel ran both notebooks
    cold, warm = (
        _comparable(tmp_path / "cold" / "probe.ipynb"),
        _comparable(tmp_path / "warm" / "probe.ipynb"),
    )
    printed = "".join("".join(out.get("text", "")) for out in cold[-1][2])
    assert "'localmod': 22" in printed and "'env': None" in printed and "'cwd': 'nb'" in printed
    assert "once-test" in printed
    assert "'seeded': [False, False]" in printed
    assert warm[-1][2] == cold[-1][2], (cold[-1][2], warm[-1][2])  # what the probe printed
    assert warm == cold


def test_warm_kernels_write_the_same_files_as_cold_ones(tmp_path, pool, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    source = tmp_path / "nb" / "good.ipynb"
    source.parent.mkdir()
    shutil.copy(FIXTURES / "good.ipynb", source)
    chart = _notebook(
        tmp_path / "nb" / "chart.ipynb",
        "from pathlib import Path\nimport matplotlib.pyplot as plt, numpy as np, pandas as pd\n"
        "out = Path(output_dir) / 'figures'; out.mkdir(parents=True, exist_ok=True)\n"
        "frame = pd.DataFrame({'x': range(5), 'y': np.random.default_rng(0).normal(size=5)})\n"
        "plt.rcParams['svg.hashsalt'] = 'fixture'  # else SVG ids are random, cold or warm\n"
        "fig, ax = plt.subplots(); frame.plot(x='x', y='y', ax=ax)\n"
        "fig.savefig(out / 'chart.svg', metadata={'Date': None}); fig.savefig(out / 'chart.png')\n"
        "frame.describe()",
    )

    def jobs(run: str) -> list[NotebookJob]:
        out = tmp_path / run / "outputs"
        parameters = {"year": 2024, "theme": "t", "output_dir": str(out)}
        return [NotebookJob(nb, tmp_path / run / "notebooks" / nb.name, parameters) for nb in (source, chart)]

    _run(jobs("cold"), warm=False)
    _run(jobs("warm-a") + jobs("warm-b"), warm=True, workers=2)  # two kernels, each reused
    cold_files = _files(tmp_path / "cold" / "outputs")
    assert {"figures/chart.svg", "figures/chart.png", "facts/good.json"} <= set(cold_files)
    for run in ("warm-a", "warm-b"):
        for name in ("good.ipynb", "chart.ipynb"):
            assert _comparable(tmp_path / run / "notebooks" / name, tmp_path / run) == _comparable(
                tmp_path / "cold" / "notebooks" / name, tmp_path / "cold"
            )
        assert _files(tmp_path / run / "outputs") == cold_files


def test_the_engine_is_registered_with_papermill():
    from papermill.engines import papermill_engines

    assert papermill_engines.get_engine(warm_engine.ENGINE_NAME) is warm_engine.WarmEngine
    assert execution.KERNEL_ARGUMENTS  # the same kernel arguments, warm or cold


def test_the_kernel_environment_does_not_depend_on_what_this_process_imported():
    before = kernel_env.kernel_environment()
    import pandera  # noqa: F401 (sets SPARK_LOCAL_IP and PYARROW_IGNORE_TIMEZONE in os.environ)

    assert kernel_env.kernel_environment() == before  # the same key: the same pooled warm kernels
    assert before["PYTHONHASHSEED"] == "0" and before["MPLBACKEND"] == "Agg"


def test_the_pool_keeps_at_most_max_idle_kernels_stopping_other_builds_first():
    from concurrent.futures import Future

    from observatoire.publishing import warm_engine

    class Fake:
        def __init__(self, key):
            self.key, self.stopped = key, False

        def alive(self):
            return True

        def shutdown(self):
            self.stopped = True

    pool = warm_engine.KernelPool()
    old = []
    for key in ("build-1", "build-2"):  # idle kernels of two earlier builds (their environments differ)
        for _ in range(3):
            kernel = Fake(key)
            done = Future()
            done.set_result(kernel)
            pool._idle.setdefault(key, []).append(done)
            old.append(kernel)
    current = [Fake("build-3") for _ in range(2)]
    for kernel in current:
        pool.release(kernel, reusable=True)
    assert pool.idle_count() == warm_engine.MAX_IDLE
    assert not any(k.stopped for k in current)  # the running build's kernels are kept
    assert [k.stopped for k in old] == [True, True, True, True, False, False]  # the oldest build's first
