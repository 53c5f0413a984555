"""nbval really guards the key numbers: a reference that disagrees with the computation fails."""

from __future__ import annotations

import json
import subprocess
import sys

from observatoire.core import paths
from observatoire.publishing import review


def test_a_changed_key_number_fails_nbval(tmp_path):
    reference = paths.ROOT / "tests" / "nbval" / "annual" / "06_revisions.ipynb"
    document = json.loads(reference.read_text(encoding="utf-8"))
    marked = [
        c for c in document["cells"] if c["cell_type"] == "code" and review.MARKER in "".join(c["source"])
    ]
    stream = marked[0]["outputs"][0]
    text = "".join(stream["text"])
    assert "rev_n_revisees: 16" in text
    stream["text"] = text.replace("rev_n_revisees: 16", "rev_n_revisees: 17")
    tampered = tmp_path / "06_revisions.ipynb"
    tampered.write_text(json.dumps(document), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--nbval-lax",
            "--nbval-kernel-name",
            paths.KERNEL_NAME,
            str(tampered),
            "-q",
            "--rootdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert "rev_n_revisees: 17" in run.stdout and "rev_n_revisees: 16" in run.stdout
