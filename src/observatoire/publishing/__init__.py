"""Layer 5, publishing: plan, execute and render editions, publish the site, corrections, diffs, batches, bench.

It may import every layer below; only :mod:`observatoire.cli` sits above it. See docs/ARCHITECTURE.md.
"""
