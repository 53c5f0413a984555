"""The one error raised for bad input.

A reader of a failed build must learn, in one line, which file is wrong, where in it, and which rule it breaks.
Every loader, validator and fetch step raises :class:`InputError` for that reason, never a bare pandas or
pandera exception.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: a file that breaks a rule.

    Parameters
    ----------
    file : str or Path
        The file at fault (its name is enough for a reader; the full path is kept in ``.file``).
    place : str
        Where in the file: ``"line 12"``, ``"column 'annee'"``, ``"line 12, column 'nombre'"``, ``"header"``,
        ``"whole file"``.
    rule : str
        The rule broken, said plainly: ``"counts must be non-negative integers (found -3)"``.
    """

    def __init__(self, file: str | Path, place: str, rule: str) -> None:
        self.file = str(file)
        self.place = place
        self.rule = rule
        super().__init__(f"{Path(self.file).name}: {place}: {rule}")
