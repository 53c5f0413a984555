"""Layer 1, core: what every other layer may use and that imports nothing of the package.

Errors, project paths, escaping of text from data, number and date formatting. See docs/ARCHITECTURE.md for the
layers (core < data < analysis < outputs < publishing < cli); a module here imports no other layer.
"""
