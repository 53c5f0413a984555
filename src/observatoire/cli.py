"""Command line of the project: ``python -m observatoire <command>``; the Makefile calls it.

Each command prints what it does and ends with a non-zero status and one clear line on bad input, never a
traceback: a reviewer reading a failed build needs the file, the place and the rule, nothing else.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatoire.core import paths
from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.publishing.manifest import read_manifest
from observatoire.publishing.plan import language_path, latest_year, variant_name


def _cmd_data(args: argparse.Namespace) -> int:
    from observatoire.data import catalogue

    print("Fetching raw files into data/raw/ (checksums verified):")
    catalogue.fetch(args.sources or None, mirror=args.mirror)
    return 0


def _cmd_register(args: argparse.Namespace) -> int:
    from observatoire.data import catalogue

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


def shown_path(path: Path) -> str:
    """A path as shown to the user: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def release_and_report(
    theme: str,
    year: int | None = None,
    force: bool = False,
    overrides: Mapping[str, Any] | None = None,
    *,
    publish: bool | None = None,
    workers: int = 2,
    progress: bool = True,
    correction: str | None = None,
    lang: str = "fr",
    warn_languages: bool = True,
) -> Any:
    """Build and publish one edition (what ``make release`` runs) and print what happened.

    Parameters
    ----------
    theme : str
    year : int, optional
        Default: :func:`latest_year` of the theme.
    force : bool
        Replace an edition already published.
    overrides : Mapping, optional
        Parameter overrides; a variant is built into ``build/`` only.
    publish : bool, optional
        Default: True for the standard edition, False for a variant.
    workers : int, default 2
    progress : bool, default True
    correction : str, optional
        Publish a correction of the published edition as a new revision (see ``build_edition``).
    lang : str, default "fr"
        The letter's language (``"en"``: the theme's English publication).
    warn_languages : bool, default True
        Say which of the letter's other declared languages are not published yet (its links to them).

    Returns
    -------
    observatoire.publishing.release.EditionResult
    """
    from observatoire.publishing.release import build_edition, format_timings

    theme_obj = themes.get_theme(theme)
    year = latest_year(theme_obj) if year is None else int(year)
    variant = variant_name(theme_obj, year, overrides)
    if publish is None:
        publish = variant is None
    result = build_edition(
        theme_obj,
        year,
        force=force,
        overrides=overrides,
        publish=publish,
        workers=workers,
        progress=progress,
        correction=correction,
        lang=lang,
    )
    where = shown_path(result.site_path) if result.site_path else shown_path(result.build_dir / "site")
    if theme_obj.territory_parameter is not None:
        territory = theme_obj.parameters_for(year, overrides)[theme_obj.territory_parameter]
        year = f"{year} ({theme_obj.territory_parameter} {territory})"
    if lang != "fr":
        year = f"{year} ({lang})"
    messages = {
        "unchanged": f"{theme_obj.id} {year}: unchanged since the last build ({where}); nothing to do",
        "published": f"{theme_obj.id} {year}: published to {where}",
        "replaced": f"{theme_obj.id} {year}: published to {where}, replacing the previous edition (see manifest)",
        "built": f"{theme_obj.id} {year}{' (' + variant + ')' if variant else ''}: built in {where} (not published)",
    }
    print(messages[result.status])
    print(format_timings(result))
    if warn_languages and result.site_path is not None:
        where_in_theme = theme_obj.edition_path(result.year, theme_obj.parameters_for(result.year, overrides))
        for other in theme_obj.languages:
            sibling = paths.SITE / theme_obj.id / language_path(where_in_theme, other)
            if other != lang and read_manifest(sibling) is None:
                print(
                    f"note: the letter links to its version in '{other}', not published yet: "
                    f"make release THEME={theme_obj.id} YEAR={result.year} LANGUE={other}"
                )
    return result


def _configure_logging(verbose: bool) -> None:
    """Stage times at INFO (always shown by the CLI); -v adds DEBUG. Papermill's chatter stays hidden."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    else:
        root.setLevel(level)
    for noisy in ("papermill", "traitlets", "nbclient", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _guarded(handler):
    """Turn the release's own errors into one line on stderr and exit status 1 (InputError is the CLI's: 2)."""

    def run(args) -> int:
        from observatoire.publishing.execution import KernelMissingError, NotebookError
        from observatoire.publishing.plan import ReleaseError

        _configure_logging(getattr(args, "verbose", False))
        try:
            return handler(args)
        except (ReleaseError, NotebookError, KernelMissingError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def check_language(value: str | None) -> str:
    """The letter's language from ``--langue`` (``LANGUE=`` of make): ``fr`` (default) or ``en``.

    Raises
    ------
    ReleaseError
        Any other value (one line, naming the allowed ones).
    """
    from observatoire.core.formatting import LANGUAGES
    from observatoire.publishing.plan import ReleaseError

    lang = (value or "fr").strip()
    if lang not in LANGUAGES:
        raise ReleaseError(f"--langue {value!r}: unknown language (allowed: {', '.join(LANGUAGES)})")
    return lang


#: What ``--public`` (``make release PUBLIC=1``) means.
PUBLIC_HELP = (
    "a build published for real: refuse to run without OBSERVATOIRE_BASE_URL (the site's public address)"
)


def _check_public(args) -> None:
    """``--public``: the site's public address must be set (it goes into every PDF link and citation)."""
    if getattr(args, "public", False):
        from observatoire.publishing.rendering.website import require_public_base_url

        require_public_base_url()


def _cmd_release(args) -> int:
    _check_public(args)
    overrides = themes.parse_overrides(args.set)
    publish = False if args.no_publish else None
    lang = check_language(args.langue)
    theme = themes.get_theme(args.theme)
    theme.publication_dir_for(
        lang
    )  # a theme without a publication in this language: one line, before any work
    if (args.territoire or args.all_territories) and theme.territory_parameter is None:
        raise InputError(
            theme.themes_file, f"theme '{theme.id}'", "is not a territorial theme (no 'territories')"
        )
    if args.territoire:
        overrides[theme.territory_parameter] = args.territoire
    if (
        args.all_territories
    ):  # in this process, one after the other, rendered by groups (make territoires: Dask)
        from observatoire.publishing import batch

        if args.correction is not None or args.no_publish:
            raise InputError(
                "--all-territories", "options", "cannot be combined with --correction or --no-publish"
            )

        year = latest_year(theme) if args.year is None else int(args.year)
        asked = [
            batch.EditionRequest(
                theme.id, year, tuple(sorted({**overrides, theme.territory_parameter: t}.items())), lang
            )
            for t in theme.territories
        ]
        outcomes = batch.run_batch(
            edition_requests=asked, force=args.force, serial=True, progress=not args.no_progress
        )
        print(batch.format_summary(outcomes))
        return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0
    release_and_report(
        args.theme,
        args.year,
        args.force,
        overrides,
        publish=publish,
        workers=args.workers,
        progress=not args.no_progress,
        correction=args.correction,
        lang=lang,
    )
    return 0


def _cmd_letter(args) -> int:
    _check_public(args)
    theme = themes.get_theme("annual")
    for lang in theme.languages:  # French, then each translation: the letters link to one another
        release_and_report(
            "annual",
            latest_year(theme),
            args.force,
            workers=args.workers,
            progress=not args.no_progress,
            lang=lang,
            warn_languages=False,
        )
    return 0


def _cmd_themes(args) -> int:
    print(themes.format_themes_table())
    return 0


def _cmd_all(args) -> int:
    from observatoire.publishing import batch

    _check_public(args)
    if not args.verbose:  # one progress bar and the summary, not every stage of every edition
        logging.getLogger("observatoire").setLevel(logging.WARNING)
    asked = batch.requests(args.theme or None)
    if args.year:  # e.g. the 119 territorial letters of one year: all --theme territoire --year 2024
        asked = [request for request in asked if request.year in args.year]
    outcomes = batch.run_batch(
        args.theme or None,
        edition_requests=asked,
        force=args.force,
        scheduler=args.scheduler,
        workers=args.workers,
        serial=args.serial,
        progress=not args.no_progress,
    )
    print(batch.format_summary(outcomes))
    return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0


def _cmd_bench(args) -> int:
    from observatoire.publishing import bench

    return bench.main(
        theme=args.theme,
        year=args.year,
        workers=args.workers,
        with_all=not args.no_all,
        territorial_year=args.territorial_year or None,
    )


def _add_build_commands(subparsers) -> None:
    """Register ``release``, ``letter``, ``themes`` and ``bench`` (``func(args) -> int``)."""

    def common(parser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="notebooks run in parallel (default 2)")
        parser.add_argument("--public", action="store_true", help=PUBLIC_HELP)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    release_parser = subparsers.add_parser("release", help="build one edition and publish it into _site/")
    release_parser.add_argument("--theme", default="annual", help="theme id (see `themes`); default annual")
    release_parser.add_argument("--year", type=int, default=None, help="default: the latest year with data")
    release_parser.add_argument(
        "--force", action="store_true", help="rebuild even if unchanged; replace an edition already published"
    )
    release_parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a theme parameter (a variant: built into build/ only), e.g. ssmsi_source=ssmsi_dep_2023",
    )
    release_parser.add_argument("--no-publish", action="store_true", help="build into build/ only")
    release_parser.add_argument(
        "--territoire",
        default=None,
        help="territorial theme: a département (29, 2A, 974) or a région (reg-53)",
    )
    release_parser.add_argument(
        "--all-territories",
        action="store_true",
        help="territorial theme: every département and région, in turn",
    )
    release_parser.add_argument(
        "--correction",
        default=None,
        metavar="TEXT",
        help="publish a correction of the published edition: a new revision with a dated notice saying TEXT",
    )
    release_parser.add_argument(
        "--langue",
        default="fr",
        metavar="LANG",
        help="the letter's language: fr (default) or en, for a theme with English templates (annual)",
    )
    common(release_parser)
    release_parser.set_defaults(func=_guarded(_cmd_release))

    letter_parser = subparsers.add_parser("letter", help="build and publish the latest annual letter")
    letter_parser.add_argument(
        "--force", action="store_true", help="rebuild even if unchanged; replace an edition already published"
    )
    common(letter_parser)
    letter_parser.set_defaults(func=_guarded(_cmd_letter))

    themes_parser = subparsers.add_parser(
        "themes", help="list the themes and the years each can be built for"
    )
    themes_parser.set_defaults(func=_guarded(_cmd_themes))

    all_parser = subparsers.add_parser(
        "all",
        help="build every edition of every theme on Dask, skipping unchanged ones; a summary at the end",
    )
    all_parser.add_argument(
        "--theme", action="append", default=[], help="only this theme (repeatable; default: every theme)"
    )
    all_parser.add_argument(
        "--year",
        action="append",
        type=int,
        default=[],
        help="only this year (repeatable; default: every year)",
    )
    all_parser.add_argument(
        "--force", action="store_true", help="rebuild unchanged editions; replace editions already published"
    )
    all_parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="an existing Dask scheduler (default: $OBSERVATOIRE_SCHEDULER, else a local cluster)",
    )
    all_parser.add_argument(
        "--workers", type=int, default=2, help="local cluster worker processes (default 2)"
    )
    all_parser.add_argument("--serial", action="store_true", help="build here one by one, without Dask")
    all_parser.add_argument("--public", action="store_true", help=PUBLIC_HELP)
    all_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    all_parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    all_parser.set_defaults(func=_guarded(_cmd_all))

    bench_parser = subparsers.add_parser(
        "bench", help="every speed figure against its target (letter, papermill CLI, make all, memory)"
    )
    bench_parser.add_argument("--theme", default="annual")
    bench_parser.add_argument("--year", type=int, default=2024)
    bench_parser.add_argument("--workers", type=int, default=2)
    bench_parser.add_argument("--no-all", action="store_true", help="skip the two `make all` runs (minutes)")
    bench_parser.add_argument(
        "--territorial-year",
        type=int,
        default=2024,
        help="year of the 119 territorial letters timed (0: skip)",
    )
    bench_parser.set_defaults(func=_guarded(_cmd_bench))


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

    _add_build_commands(commands)
    for module_name in ("diff", "review"):
        try:
            module = __import__(f"observatoire.publishing.{module_name}", fromlist=["add_commands"])
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
