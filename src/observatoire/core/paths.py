"""Every folder the project reads or writes, in one place.

The project root is found from this file, so commands work from any working directory. Environment variables
let a user point the data mirror, the build folder or the site folder elsewhere without editing code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: The ``observatoire`` package folder (its files are inputs of every build: see plan.key_inputs).
PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]
DATA = ROOT / "data"
RAW = Path(os.environ.get("OBSERVATOIRE_RAW", DATA / "raw"))
CURATED = DATA / "curated"
SOURCES_YML = DATA / "sources.yml"
NOTEBOOKS = ROOT / "notebooks"
PUBLICATIONS = ROOT / "publications"
THEMES_YML = PUBLICATIONS / "themes.yml"
#: The indicator registry: the labels of every figure a letter shows.
INDICATORS_YML = PUBLICATIONS / "indicators.yml"
#: The method's constants every letter applies and cites (observatoire.analysis.method).
METHODS_YML = PUBLICATIONS / "methods.yml"
#: Templates every theme shares (the sentences the notebooks print, observatoire.outputs.describe).
SHARED_TEMPLATES = PUBLICATIONS / "_shared"
BUILD = Path(os.environ.get("OBSERVATOIRE_BUILD", ROOT / "build"))
SITE = Path(os.environ.get("OBSERVATOIRE_SITE", ROOT / "_site"))
#: Parsed, validated source tables keyed by raw-file checksum and loader code (safe to delete at any time).
CACHE = Path(os.environ.get("OBSERVATOIRE_CACHE", ROOT / ".cache" / "tables"))

#: The languages whose figures a notebook run draws (observatoire.outputs.charts.save_figure), in its
#: environment: unset, every language; ``no``, none (a run that wants an edition's facts, tables and figure
#: metadata only: the prose check of every year, :func:`observatoire.publishing.prose.edition_facts`); else a
#: comma-separated list of languages (``fr,en``: a release draws those of the letters it builds). A figure not
#: drawn still gets its data files and metadata; its image and workbook files, about two thirds of a notebook's
#: time, are not written.
DRAW_FIGURES_VARIABLE = "OBSERVATOIRE_DRAW_FIGURES"

#: Kernel name registered by ``make lab`` and used by papermill and nbval.
KERNEL_NAME = "observatoire"


#: What a source id may be: lower-case letters, digits and ``_``, starting with a letter (it names cache files).
SAFE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: What a raw file name may be: one path component of letters, digits, ``.``, ``_``, ``-`` (no ``/``, no ``..``).
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def confined(folder: Path, name: str | Path) -> Path:
    """Return ``folder / name`` after checking that, resolved, it stays inside ``folder``.

    Parameters
    ----------
    folder : Path
        The folder the path must stay in (``data/raw``, the parse cache, the site).
    name : str or Path
        A relative path from the catalogue or the command line.

    Raises
    ------
    ValueError
        When ``name`` is absolute, or leads outside ``folder`` (``..``, a symbolic link pointing out).
    """
    base = Path(folder).resolve()
    if Path(name).is_absolute():
        raise ValueError(f"{str(name)!r} is an absolute path; a name inside {base} is expected")
    target = (base / name).resolve()
    if not target.is_relative_to(base) or target == base:
        raise ValueError(f"{str(name)!r} leads outside {base}")
    return Path(folder) / name


def default_mirror() -> Path | None:
    """Return the folder raw files are copied from, or None when there is none.

    ``OBSERVATOIRE_MIRROR`` wins; otherwise ``../shared/data`` beside the repository is used when it exists.
    """
    env = os.environ.get("OBSERVATOIRE_MIRROR")
    if env:
        return Path(env)
    shared = ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None
