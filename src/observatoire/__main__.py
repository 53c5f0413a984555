"""Entry point for ``python -m observatoire``."""

from observatoire.cli import main

raise SystemExit(main())
