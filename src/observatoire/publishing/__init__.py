"""Layer 5, publishing: plan, execute and render editions, publish the site, corrections, diffs, batches, bench.

It may import every layer below; only :mod:`observatoire.cli` sits above it. See docs/ARCHITECTURE.md.

One import is kept out of every process of the build: nbformat validates notebooks with jsonschema, which imports
the optional ``rfc3987_syntax`` whenever it is installed (jupyter-events, a dependency of JupyterLab, installs it).
That import compiles a grammar for the ``iri`` string formats, 1.5-2 s of CPU in each process that loads
nbformat (the build, each papermill process), and neither the notebook schema nor papermill uses those formats.
Marking the module absent before nbformat is first imported makes jsonschema skip it, as when it is not installed
(measured by ``make bench PROFILE=1``; tests/test_architecture.py checks the build never loads it).
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]  # absent: see the docstring
