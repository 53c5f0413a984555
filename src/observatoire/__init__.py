"""Statistical letters of the Observatoire national des violences faites aux femmes.

The package turns the public files of several producers (SSMSI, INSEE, published national figures) into the
figures, tables and key numbers of the Observatoire's letters, then renders those letters to HTML and PDF.
See docs/ARCHITECTURE.md for the map of modules.
"""

__version__ = "0.1.0"
