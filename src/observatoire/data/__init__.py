"""Layer 2, data: the sources (catalogue, loaders, harmonised datasets), the geography and the declared themes.

It turns raw files into validated tables and reads the declarations the build follows; it imports only
:mod:`observatoire.core`. See docs/ARCHITECTURE.md.
"""
