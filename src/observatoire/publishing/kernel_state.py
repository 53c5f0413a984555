"""Inside a warm kernel: import the heavy modules once, then give every notebook the state of a fresh kernel.

Why: a kernel pays 3-4 s of CPU importing pandas, scipy, statsmodels, matplotlib, seaborn and this package, and a
letter runs six notebooks. A warm kernel (:mod:`observatoire.publishing.warm_engine`) runs :func:`prepare` once, then
:func:`restore` before each notebook. What a notebook can change in its process and what :func:`restore` puts
back, each checked by tests/test_warm_engine.py against a cold kernel:

- the user namespace, ``In``/``Out`` and the execution counter (IPython's ``reset(new_session=True)``);
- modules the notebook imported from outside the environment and this package (notebook-local modules);
- matplotlib's rcParams (seaborn's themes live there) and open figures; pandas options; numpy print and error
  options; the global random states of ``random`` and ``numpy.random``;
- the working directory, ``os.environ``, ``sys.path``; the warning filters and every "already shown once"
  registry (a warning shown in one notebook is shown again in the next, as in a fresh kernel); logging levels
  and handlers of the root logger.

Module-level caches of this package (parsed source tables, the catalogue, the themes) are kept on purpose: they
are read-only stores (``datasets.load`` returns copies), so a table is loaded once per kernel, not once per
notebook.

Nothing here binds a name in the notebook's namespace: the warm engine calls these functions through
``__import__`` in silent executions.
"""

from __future__ import annotations

import copy
import importlib
import logging
import os
import pkgutil
import random
import sys
import warnings
from pathlib import Path
from typing import Any

import observatoire

#: Third-party modules every letter notebook uses (directly or through the package).
HEAVY_MODULES = (
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "statsmodels.formula.api",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
)

_saved: dict[str, Any] = {}


#: The build's own modules, which no notebook imports: importing them in a kernel (papermill, nbformat and
#: jsonschema through them) cost each warm kernel about 2 s of CPU for nothing.
BUILD_MODULES = ("observatoire.publishing", "observatoire.cli", "observatoire.__main__")


def _package_modules() -> list[str]:
    """Every module of the ``observatoire`` package that notebooks may import (they import most of them), not
    the build's own (:data:`BUILD_MODULES`)."""
    names = ["observatoire"]
    for top in pkgutil.iter_modules(observatoire.__path__, prefix="observatoire."):
        if top.name.startswith(BUILD_MODULES):  # not walked: walking a package imports it
            continue
        names.append(top.name)
        if top.ispkg:
            package = importlib.import_module(top.name)  # lazy: by name: a layer notebooks use
            names += [info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{top.name}.")]
    return names


def _kept_roots() -> tuple[str, ...]:
    """Folders whose modules stay imported between notebooks: the environment and this package."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(observatoire.__file__).resolve().parent)}
    return tuple(str(Path(root).resolve()) + os.sep for root in roots)


def _is_kept(module: Any, roots: tuple[str, ...]) -> bool:
    origin = getattr(module, "__file__", None)
    if not origin:  # built-in, namespace or dynamically created module: nothing on disk to re-read
        return True
    return str(Path(origin).resolve()).startswith(roots)


def prepare(modules: tuple[str, ...] = HEAVY_MODULES) -> None:
    """Import the heavy modules and this package, then record the state :func:`restore` returns to."""
    for name in (*modules, *_package_modules()):
        importlib.import_module(name)  # lazy: by name: the heavy modules, then every module of the package
    snapshot()


def snapshot() -> None:
    """Record the process state that :func:`restore` puts back."""
    import matplotlib  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    import numpy  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    import pandas  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order

    _saved.update(
        modules=set(sys.modules),
        roots=_kept_roots(),
        rc=copy.deepcopy(dict(matplotlib.rcParams)),
        pandas=copy.deepcopy(pandas._config.config._global_config),
        print_options=numpy.get_printoptions(),
        errors=numpy.geterr(),
        numpy_random=numpy.random.get_state(),  # noqa: NPY002 (the legacy global state is what we restore)
        random=random.getstate(),
        environ=dict(os.environ),
        path=list(sys.path),
        filters=list(warnings.filters),
        root_level=logging.root.level,
        root_handlers=list(logging.root.handlers),
    )


def restore(cwd: str) -> None:
    """Give the next notebook the state of a fresh kernel whose working directory is ``cwd``."""
    import matplotlib  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    import matplotlib.pyplot as plt  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    import numpy  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    import pandas  # lazy: prepare() imports it in the kernel, in HEAVY_MODULES order
    from IPython import get_ipython  # lazy: only in a kernel (tests import this module outside one)

    plt.close("all")
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)
    for name in set(sys.modules) - _saved["modules"]:
        if not _is_kept(sys.modules[name], _saved["roots"]):
            del sys.modules[name]
    importlib.invalidate_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(copy.deepcopy(_saved["rc"]))
    config = pandas._config.config._global_config
    config.clear()
    config.update(copy.deepcopy(_saved["pandas"]))
    numpy.set_printoptions(**_saved["print_options"])
    numpy.seterr(**_saved["errors"])
    numpy.random.set_state(_saved["numpy_random"])  # noqa: NPY002
    random.setstate(_saved["random"])
    os.environ.clear()
    os.environ.update(_saved["environ"])
    sys.path[:] = _saved["path"]
    os.chdir(cwd)
    warnings.filters[:] = _saved["filters"]
    warnings._filters_mutated()  # forgets every "shown once" registry
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    logging.root.setLevel(_saved["root_level"])
    logging.root.handlers[:] = _saved["root_handlers"]
