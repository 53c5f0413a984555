"""Command line of the project: ``python -m observatoire <command>``; the Makefile calls it.

Each command prints what it does and ends with a non-zero status and one clear line on bad input, never a
traceback: a reviewer reading a failed build needs the file, the place and the rule, nothing else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from observatoire.errors import InputError


def _cmd_data(args: argparse.Namespace) -> int:
    from observatoire import catalogue

    print("Fetching raw files into data/raw/ (checksums verified):")
    catalogue.fetch(args.sources or None, mirror=args.mirror)
    return 0


def _cmd_register(args: argparse.Namespace) -> int:
    from observatoire import catalogue

    entry = catalogue.register(
        args.source,
        args.file,
        args.edition,
        args.produced,
        new_id=args.new_id,
        url=args.url,
        accept_missing=args.accept_missing,
    )
    print(f"Registered '{entry['id']}' ({entry['file']}, sha256 {entry['sha256']}) in data/sources.yml.")
    print("Review the entry (coverage, notes), copy the file into the mirror, and commit sources.yml.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command registered."""
    parser = argparse.ArgumentParser(prog="observatoire", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="fill data/raw/ from the mirror or the publishers")
    data.add_argument("sources", nargs="*", help="source ids (default: all)")
    data.add_argument("--mirror", type=Path, default=None, help="folder to copy raw files from")
    data.set_defaults(func=_cmd_data)

    register = commands.add_parser("register", help="record a new edition of a source in data/sources.yml")
    register.add_argument("source", help="the existing source id this file is a new edition of")
    register.add_argument("file", type=Path, help="the new raw file")
    register.add_argument("--edition", required=True)
    register.add_argument("--produced", required=True, help="production date, YYYY-MM-DD")
    register.add_argument("--new-id", default=None)
    register.add_argument("--url", default=None, help="official URL of the new file")
    register.add_argument(
        "--accept-missing",
        action="append",
        default=[],
        metavar="KIND:NAME",
        help="a unit, indicator or year of the previous edition reviewed as dropped (indicator:<name>, year:<y>)",
    )
    register.set_defaults(func=_cmd_register)

    for module_name in ("release", "diff", "review"):
        try:
            module = __import__(f"observatoire.{module_name}", fromlist=["add_commands"])
        except ImportError:
            continue
        if hasattr(module, "add_commands"):
            module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
