"""Layer 4, outputs: what a notebook writes (charts, interactive charts, tables, downloads, maps, facts, sentences).

The notebook API (:mod:`observatoire.outputs.context`) lives here. It imports the layers below (analysis, data,
core), never publishing. See docs/ARCHITECTURE.md.
"""
