"""Layer 3, analysis: the statistics and the domain indicators of every letter, without any chart or page.

It imports only :mod:`observatoire.data` and :mod:`observatoire.core`. See docs/ARCHITECTURE.md.
"""
