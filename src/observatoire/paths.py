"""Every folder the project reads or writes, in one place.

The project root is found from this file, so commands work from any working directory. Environment variables
let a user point the data mirror, the build folder or the site folder elsewhere without editing code.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
RAW = Path(os.environ.get("OBSERVATOIRE_RAW", DATA / "raw"))
CURATED = DATA / "curated"
SOURCES_YML = DATA / "sources.yml"
NOTEBOOKS = ROOT / "notebooks"
PUBLICATIONS = ROOT / "publications"
THEMES_YML = PUBLICATIONS / "themes.yml"
BUILD = Path(os.environ.get("OBSERVATOIRE_BUILD", ROOT / "build"))
SITE = Path(os.environ.get("OBSERVATOIRE_SITE", ROOT / "_site"))
#: Parsed, validated source tables keyed by raw-file checksum and loader code (safe to delete at any time).
CACHE = Path(os.environ.get("OBSERVATOIRE_CACHE", ROOT / ".cache" / "tables"))

#: Kernel name registered by ``make lab`` and used by papermill and nbval.
KERNEL_NAME = "observatoire"


def default_mirror() -> Path | None:
    """Return the folder raw files are copied from, or None when there is none.

    ``OBSERVATOIRE_MIRROR`` wins; otherwise ``../shared/data`` beside the repository is used when it exists.
    """
    env = os.environ.get("OBSERVATOIRE_MIRROR")
    if env:
        return Path(env)
    shared = ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None
