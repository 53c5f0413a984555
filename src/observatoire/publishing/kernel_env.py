"""The environment of the notebook kernels: this process's, plus what makes their outputs deterministic.

Why a module of its own: the one-off runs (:mod:`observatoire.publishing.execution`) and the warm kernels
(:mod:`observatoire.publishing.warm_engine`) start kernels with the same environment, and execution uses the warm
engine: kept in execution, this made the two import each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from observatoire.core import paths

#: SOURCE_DATE_EPOCH used when neither the caller nor the environment gives one (2000-01-01T00:00:00Z).
DEFAULT_SOURCE_DATE_EPOCH = 946684800


def source_date_epoch() -> int:
    """The build's reference time: ``SOURCE_DATE_EPOCH`` when set (reproducible-builds convention), else a constant.

    A constant rather than the clock: figures, PDFs and manifests must not change from one run to the next.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    return DEFAULT_SOURCE_DATE_EPOCH


#: Variables that importing pandera (through pyspark and pyarrow shims) adds to a process's environment. They are
#: left out of the kernels' environment: it must not depend on what this process happened to import already
#: (warm kernels are pooled by environment), and a kernel that imports pandera sets them itself.
IMPORT_SIDE_EFFECT_VARIABLES = ("SPARK_LOCAL_IP", "PYARROW_IGNORE_TIMEZONE")


def kernel_environment(epoch: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of the notebook kernels: this process's, plus the variables that make outputs deterministic."""
    env = dict(os.environ if base is None else base)
    for name in IMPORT_SIDE_EFFECT_VARIABLES:
        env.pop(name, None)
    env.update(
        {
            "PYTHONHASHSEED": "0",
            "SOURCE_DATE_EPOCH": str(source_date_epoch() if epoch is None else epoch),
            "MPLBACKEND": "Agg",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger warning on -Xfrozen_modules=off
        }
    )
    # Kernels must import this checkout's package even when it is not installed in editable mode.
    src = str(paths.ROOT / "src")
    existing = env.get("PYTHONPATH", "")
    if src not in existing.split(os.pathsep):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, existing) if p)
    return env
