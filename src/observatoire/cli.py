"""Command line of the project: ``python -m observatoire <command>``; the Makefile calls it.

Each command prints what it does and ends with a non-zero status and one clear line on bad input, never a
traceback: a reviewer reading a failed build needs the file, the place and the rule, nothing else.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatoire.core import paths, stopping
from observatoire.core.atomic import DiskFullError, is_disk_full
from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.publishing.manifest import read_manifest
from observatoire.publishing.plan import ReleaseError, language_path, latest_year, variant_name


def _cmd_data(args: argparse.Namespace) -> int:
    from observatoire.data import catalogue  # lazy: CLI start (--help) without pooch

    print("Fetching raw files into data/raw/ (checksums verified):")
    catalogue.fetch(args.sources or None, mirror=args.mirror)
    return 0


def _cmd_register(args: argparse.Namespace) -> int:
    from observatoire.data import register  # lazy: CLI start (--help) without pandas or the loaders

    entry = register.register(
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
    from observatoire.publishing.release import (  # lazy: CLI start (--help) without pandas or papermill
        build_edition,
    )

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
    report_release(
        result, theme_obj, year, overrides, variant=variant, lang=lang, warn_languages=warn_languages
    )
    return result


def report_release(
    result: Any,
    theme_obj: themes.Theme,
    year: int,
    overrides: Mapping[str, Any] | None = None,
    *,
    variant: str | None = None,
    lang: str = "fr",
    warn_languages: bool = True,
) -> None:
    """Print what a release did (published, replaced, unchanged, built) and its stage times."""
    from observatoire.publishing.release import format_timings  # lazy: CLI start without pandas

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


#: Said after "error: stopped by SIGINT" (observatoire.stopping).
STOPPED_NOTE = (
    ": nothing more was built or published; what was published stays, and the next run brings the site's "
    "pages up to date if needed"
)


def _guarded(handler):
    """Turn the release's own errors into one line on stderr and exit status 1 (InputError is the CLI's: 2).

    The command runs under :func:`observatoire.stopping.handle_signals`: SIGINT or SIGTERM stop it promptly
    (every child process ended) with one line and status 130.
    """

    def run(args) -> int:
        from observatoire.publishing.execution import (  # lazy: CLI start (--help) without execution
            KernelMissingError,
            NotebookError,
        )
        from observatoire.publishing.rendering.common import RenderError  # lazy: as execution

        _configure_logging(getattr(args, "verbose", False))
        try:
            with stopping.handle_signals():
                return handler(args)
        except (ReleaseError, NotebookError, KernelMissingError, RenderError) as exc:
            print(f"error: {one_line(exc)}", file=sys.stderr)
            return 1
        except stopping.Stopped as exc:
            stopping.exit_stopped(exc, STOPPED_NOTE)

    return run


def one_line(exc: BaseException) -> str:
    """An error as one line (a multi-line message, such as Quarto's last lines, joined with " / ")."""
    text = str(exc).strip() or type(exc).__name__
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def ascii_integer(value: str) -> int:
    """An integer written in ASCII digits (``int()`` alone also reads "２０２４" and "٢٠٢٤"); for argparse."""
    if not re.fullmatch(r"[0-9]{1,9}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number written in ASCII digits (0-9)")
    return int(value)


def ascii_year(value: str) -> int:
    """A year written as four ASCII digits; for argparse."""
    if not re.fullmatch(r"[0-9]{4}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a year written as four ASCII digits (YYYY)")
    return int(value)


def check_language(value: str | None) -> str:
    """The letter's language from ``--langue`` (``LANGUE=`` of make): ``fr`` (default) or ``en``.

    Raises
    ------
    ReleaseError
        Any other value (one line, naming the allowed ones).
    """
    from observatoire.core.formatting import LANGUAGES  # lazy: babel; CLI start (--help) without it

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
        from observatoire.publishing.rendering.website import (
            require_public_base_url,  # lazy: --help stays light
        )

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
    # Without --langue, every language of the letter (French first): one run of the notebooks serves them all.
    # A correction's text is in one language: it corrects the French letter unless --langue says otherwise.
    languages = [lang] if args.langue or args.correction is not None else list(theme.languages)
    if (args.territoire or args.all_territories) and theme.territory_parameter is None:
        raise InputError(
            theme.themes_file, f"theme '{theme.id}'", "is not a territorial theme (no 'territories')"
        )
    if args.territoire:
        overrides[theme.territory_parameter] = args.territoire
    if (
        args.all_territories
    ):  # in this process, one after the other, rendered by groups (make territoires: Dask)
        from observatoire.publishing import batch  # lazy: CLI start (--help) without Dask or the build

        if args.correction is not None or args.no_publish:
            raise InputError(
                "--all-territories", "options", "cannot be combined with --correction or --no-publish"
            )

        year = latest_year(theme) if args.year is None else int(args.year)
        asked = [
            batch.EditionRequest(
                theme.id, year, tuple(sorted({**overrides, theme.territory_parameter: t}.items())), one
            )
            for t in theme.territories
            for one in languages
        ]
        outcomes = batch.run_batch(
            edition_requests=asked, force=args.force, serial=True, progress=not args.no_progress
        )
        print(batch.format_summary(outcomes))
        return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0
    for one in languages:
        release_and_report(
            args.theme,
            args.year,
            args.force,
            overrides,
            publish=publish,
            workers=args.workers,
            progress=not args.no_progress,
            correction=args.correction,
            lang=one,
            warn_languages=len(languages) == 1,
        )
    return 0


def _cmd_letter(args) -> int:
    _check_public(args)
    from observatoire.publishing.release import build_languages  # lazy: CLI start without pandas

    theme = themes.get_theme("annual")
    year = latest_year(theme)
    # Every language at once: the notebooks run once, the letters render side by side, the site's pages once
    results = build_languages(
        theme, year, force=args.force, workers=args.workers, progress=not args.no_progress
    )
    for lang, result in zip(theme.languages, results, strict=True):
        report_release(result, theme, year, lang=lang, warn_languages=False)
    return 0


def _cmd_themes(args) -> int:
    from observatoire.analysis.indicators.published import (
        site_official_shares,
    )  # lazy: CLI start without pandas

    print(themes.format_themes_table())
    shares = site_official_shares()
    if shares:
        print("\nPublished figures cited, read on official pages (each edition published):")
        for theme_id, edition, share in shares:
            print(
                f"  {theme_id} {edition}: {share['n_official']}/{share['n_cited']} "
                f"({share['share']:.0f} %) of the rows of the national series cited"
            )
    return 0


def _cmd_all(args) -> int:
    from observatoire.publishing import batch  # lazy: CLI start (--help) without Dask or the build

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
    from observatoire.publishing import bench  # lazy: CLI start (--help) without the build

    if args.profile:
        return bench.main_profile(theme=args.theme, year=args.year, workers=args.workers)
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
        parser.add_argument(
            "--workers", type=ascii_integer, default=2, help="notebooks run in parallel (default 2)"
        )
        parser.add_argument("--public", action="store_true", help=PUBLIC_HELP)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    release_parser = subparsers.add_parser("release", help="build one edition and publish it into _site/")
    release_parser.add_argument("--theme", default="annual", help="theme id (see `themes`); default annual")
    release_parser.add_argument(
        "--year", type=ascii_year, default=None, help="default: the latest year with data"
    )
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
        default=None,
        metavar="LANG",
        help="build the letter in this language only (fr or en); default: every language of the theme "
        "(publications/themes.yml, translations), from one run of the notebooks",
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
        type=ascii_year,
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
        "--workers", type=ascii_integer, default=2, help="local cluster worker processes (default 2)"
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
    bench_parser.add_argument("--year", type=ascii_year, default=2024)
    bench_parser.add_argument("--workers", type=ascii_integer, default=2)
    bench_parser.add_argument("--no-all", action="store_true", help="skip the two `make all` runs (minutes)")
    bench_parser.add_argument(
        "--profile",
        action="store_true",
        help="only the clean build of the letter, with where its seconds go (stages, notebooks, Quarto, publish)",
    )
    bench_parser.add_argument(
        "--territorial-year",
        type=ascii_integer,
        default=2024,
        help="year of the 119 territorial letters timed (0: skip)",
    )
    bench_parser.set_defaults(func=_guarded(_cmd_bench))


class _Parser(argparse.ArgumentParser):
    """argparse, its errors on one line (``error: argument --year: ...``) without the usage block above them."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog.removeprefix('observatoire ')}: {one_line(message)}\n")


def _cmd_diff(args: argparse.Namespace) -> int:
    from observatoire.publishing import diff, release  # lazy: CLI start (--help) without pandas or the build

    if args.old and args.new:
        report = diff.compare(Path(args.old), Path(args.new))
        out_dir = Path(args.out or paths.BUILD / "diff")
    else:
        theme, year = args.theme, args.year
        sources = diff.default_editions(theme, year)  # from themes.yml and the catalogue
        editions = [diff.catalogue_edition(source) for source in sources]
        print(
            f"Building the {year} {theme} letter on SSMSI edition {editions[0]} and on edition {editions[1]} ..."
        )
        built = [
            release.build_edition(theme, year, overrides={"ssmsi_source": source}, publish=False)
            for source in sources
        ]
        old, new = (result.build_dir / "outputs" for result in built)
        report = diff.compare(
            old,
            new,
            f"{theme} {year}, SSMSI édition {editions[0]}",
            f"{theme} {year}, SSMSI édition {editions[1]}",
        )
        out_dir = Path(args.out or paths.BUILD / "diff" / f"{theme}-{year}")
    md, page = diff.write_report(report, out_dir)
    print(
        f"{len(report.changes)} changed values ({len(report.revised_facts)} key figures), {report.unchanged} unchanged."
    )
    for change in report.revised_facts[:15]:
        print(
            f"  {change.item}: {diff._fmt(change.old)} -> {diff._fmt(change.new)} ({diff._fmt_rel(change.relative)})"
        )
    print(f"Report: {md}\n        {page}")
    return 0


def _add_diff_command(commands) -> None:
    """Register ``diff`` on the command line."""
    parser = commands.add_parser(
        "diff", help="compare two builds of a letter (default: 2023 on SSMSI 2023 vs 2024)"
    )
    parser.add_argument("--old", help="old outputs folder")
    parser.add_argument("--new", help="new outputs folder")
    parser.add_argument("--theme", default="annual")
    parser.add_argument("--year", type=ascii_year, default=2023)
    parser.add_argument("--out", help="where to write revisions.md and revisions.html")
    parser.set_defaults(func=_cmd_diff)


def _cmd_refresh(args: argparse.Namespace) -> int:
    from observatoire.publishing import review  # lazy: CLI start (--help) without execution

    selected = [Path(p).resolve() for p in args.notebooks] or None
    for path in review.refresh_references(selected):
        print(f"  reference written: {path.relative_to(paths.ROOT)}")
    print("Review the change with `git diff tests/nbval` (or `nbdiff -s`) before committing it.")
    return 0


def _add_refresh_command(commands) -> None:
    """Register ``refresh-nbval`` on the command line."""
    parser = commands.add_parser("refresh-nbval", help="re-run notebooks and store nbval reference outputs")
    parser.add_argument("notebooks", nargs="*", help="source notebooks (default: all)")
    parser.set_defaults(func=_cmd_refresh)


def _cmd_new_theme(args: argparse.Namespace) -> int:
    from observatoire.publishing import scaffold  # lazy: CLI start (--help) without execution

    for path in scaffold.new_theme(args.id, reference=not args.no_reference):
        print(f"  written: {path.relative_to(paths.ROOT)}")
    print(f"Build it with `make release YEAR=2024 THEME={args.id}`; edit its files to make it a letter.")
    return 0


def _add_new_theme_command(commands) -> None:
    """Register ``new-theme`` on the command line (``make new-theme ID=...``)."""
    parser = commands.add_parser(
        "new-theme",
        help="scaffold a new letter (themes.yml entry, notebook, publication, nbval reference, test)",
    )
    parser.add_argument("id", help="the theme's id: [a-z][a-z0-9_]*")
    parser.add_argument(
        "--no-reference", action="store_true", help="do not run the notebook for its nbval reference"
    )
    parser.set_defaults(func=_cmd_new_theme)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command registered."""
    parser = _Parser(prog="observatoire", description=__doc__.splitlines()[0])
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
    _add_diff_command(commands)
    _add_refresh_command(commands)
    _add_new_theme_command(commands)
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
    except KeyboardInterrupt:  # Ctrl-C in data or register: what they write is written whole or not at all
        print("error: interrupted: nothing was half-written", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a folder that cannot be written: one line naming the path
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            exc = DiskFullError(exc.filename or "?")
        where = "" if isinstance(exc, DiskFullError) or not exc.filename else f"{exc.filename}: "
        print(f"error: {where}{exc.strerror if where and exc.strerror else exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
