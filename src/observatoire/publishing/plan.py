"""The resolved plan of one edition: everything a build needs to know, computed once before any stage runs.

Why: the theme, the year, the parameters after overrides, the variant name, the sources, the folders, the
notebook jobs and the build key used to be recomputed by each stage from the same arguments. An
:class:`EditionPlan` is resolved once by :func:`resolve_plan` (cheap: no pandas, no papermill, only small file
hashes) and passed to every stage of :mod:`observatoire.publishing.release` and to the batch (:mod:`observatoire.publishing.batch`),
which pickles it to a Dask worker: a plan is plain data.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from observatoire.core import paths
from observatoire.core.checksums import sha256_file
from observatoire.core.errors import InputError
from observatoire.data import themes
from observatoire.data.themes import BASE_LANGUAGE, CORE_PARAMETERS, Theme
from observatoire.publishing import manifest as mf


class ReleaseError(RuntimeError):
    """A release that must not go ahead (a variant asked to be published, an edition already published ...)."""


@dataclass(frozen=True)
class EditionPlan:
    """One edition, resolved.

    Attributes
    ----------
    theme : Theme
    year : int
    parameters : dict
        The theme's parameters for the year, overrides applied.
    variant : str or None
        Folder-safe name of the overrides that differ from the defaults (None for the standard edition).
    publish : bool
        True: the edition goes to ``site_dir/<theme>/<year>/``; False: it stays in ``edition_dir/site``.
    build_dir, site_dir : Path
        The build and site roots.
    edition_dir : Path
        ``build/<theme>/<year>[+variant]/``.
    jobs : tuple of NotebookJob
        The notebooks to run, with their parameters.
    source_ids : tuple of str
        The sources the edition reads.
    inputs : tuple of dict
        ``source_id, file, edition, sha256`` of each source (recorded in the manifest).
    key_inputs : dict
        Labelled digests of every input (see :func:`key_inputs`).
    key : str
        The build key (hash of ``key_inputs``).
    kernel_name : str
    lang : str
        The letter's language (``"fr"``, or one of the theme's ``translations``): the words staged,
        ``meta.lang``; an edition in another language than French lives beside the French one (``2024-en``),
        with its own build key.
    other_languages : tuple of str
        The theme's other declared languages (``translations`` in themes.yml, and French): the letter links to
        its version in each ("English version", "Version française"), built beside it by ``make all`` and
        ``make letter``. Part of the build key.
    """

    theme: Theme
    year: int
    parameters: dict[str, Any]
    variant: str | None
    publish: bool
    build_dir: Path
    site_dir: Path
    edition_dir: Path
    jobs: tuple
    source_ids: tuple[str, ...]
    inputs: tuple[dict[str, str], ...]
    key_inputs: dict[str, str]
    key: str
    kernel_name: str
    lang: str = "fr"
    other_languages: tuple[str, ...] = ()
    run_dir: Path | None = None
    execution_key: str = ""

    @property
    def label(self) -> str:
        """``annual 2024`` (with the variant in parentheses when there is one)."""
        return f"{self.theme.id} {self.year}" + (f" ({self.variant})" if self.variant else "")

    @property
    def runs_in(self) -> Path:
        """Where the notebooks run and write: the French edition's build folder for every language of a letter
        with one source (its notebooks run once per edition), else ``edition_dir``."""
        return self.run_dir if self.run_dir is not None else self.edition_dir

    @property
    def outputs_dir(self) -> Path:
        """``<runs_in>/outputs``: figures, tables, facts written by the notebooks (every language)."""
        return self.runs_in / "outputs"

    @property
    def language_outputs(self) -> Path:
        """The figures and tables of the plan's language: ``outputs/`` in French, ``outputs/<lang>/`` otherwise
        (:mod:`observatoire.outputs.context`); a copied publication's run writes its language in ``outputs/``."""
        if self.lang == BASE_LANGUAGE or not self.theme.one_source(self.lang):
            return self.outputs_dir
        return self.outputs_dir / self.lang

    @property
    def edition_path(self) -> str:
        """The edition's path under its theme: ``"2024"``, ``"2024-en"`` in English, or ``"2024/29"`` for a
        territorial letter."""
        return language_path(self.theme.edition_path(self.year, self.parameters), self.lang)

    @property
    def publication_dir(self) -> Path:
        """The Quarto sources of the letter in the plan's language."""
        return self.theme.publication_dir_for(self.lang)

    @property
    def target(self) -> Path:
        """Where the finished edition lives: ``site_dir/<theme>/<year>[/<territory>]`` when published, else
        ``edition_dir/site``."""
        return (
            self.site_dir / self.theme.id / self.edition_path if self.publish else self.edition_dir / "site"
        )


def language_path(edition_path: str, lang: str) -> str:
    """The path of an edition in ``lang`` beside the French one: ``"2024"`` -> ``"2024-en"`` (French unchanged).

    A sibling folder, not a subfolder: publishing or replacing the French edition never touches the English one.
    """
    return edition_path if lang == BASE_LANGUAGE else f"{edition_path}-{lang}"


def renderer_available() -> str:
    """Quarto (version and place: the pandoc and typst it drives come with it) and the site's public address:
    part of the build key, the outputs depend on them. Cheap (``quarto --version`` only): the no-change path
    runs it."""
    from observatoire.publishing.rendering import (  # lazy: CLI start (--help) without rendering
        quarto,
        website,
    )

    found = quarto.require_quarto()
    return f"quarto {quarto.quarto_version(found)} ({os.path.realpath(found)}); base url {website.base_url()}"


def variant_name(theme: Theme, year: int, overrides: Mapping[str, Any] | None) -> str | None:
    """A folder-safe name for the overrides that differ from the theme's defaults (None when none do)."""
    if not overrides:
        return None
    defaults = theme.parameters_for(year)
    resolved = theme.parameters_for(year, overrides)
    changed = {  # a territory is an edition of its own, not a variant
        k: v for k, v in sorted(resolved.items()) if defaults.get(k) != v and k != theme.territory_parameter
    }
    if not changed:
        return None
    return "+".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{k}-{v}") for k, v in changed.items())


def edition_build_dir(
    theme: str | Theme, year: int, overrides: Mapping[str, Any] | None = None, build_dir: Path = paths.BUILD
) -> Path:
    """``build/<theme>/<year>/``, or ``build/<theme>/<year>+<variant>/`` for a parameter variant."""
    theme = themes.get_theme(theme)
    variant = variant_name(theme, year, overrides)
    where = theme.edition_path(year, theme.parameters_for(year, overrides))
    return Path(build_dir) / theme.id / (f"{where}+{variant}" if variant else where)


def latest_year(theme: str | Theme) -> int:
    """The latest year with data for the theme (its last buildable year, derived from the sources' coverage)."""
    return themes.get_theme(theme).last_year


#: The notebook parameter that carries the letter's language (its default, in every notebook, is "fr").
LANGUAGE_PARAMETER = "langue"


def plan_jobs(
    theme: Theme, year: int, parameters: Mapping[str, Any], edition_dir: Path, lang: str = BASE_LANGUAGE
) -> list:
    """One :class:`~observatoire.publishing.execution.NotebookJob` per notebook of the theme.

    Every notebook receives year, theme and output_dir (absolute) and must define them in its ``parameters``
    cell; a theme parameter is passed to the notebooks whose ``parameters`` cell defines it, and must be defined
    by at least one of them (else it would be silently ignored). A letter in another language than French also
    passes ``langue``, which every notebook of the theme must then define.

    Raises
    ------
    InputError
        A notebook without a ``parameters`` cell or without a core parameter; a theme parameter no notebook uses.
    """
    from observatoire.publishing.execution import (  # lazy: CLI start (--help) without execution
        NotebookJob,
        parameters_cell,
    )

    outputs = (edition_dir / "outputs").resolve()
    core = {"year": int(year), "theme": theme.id, "output_dir": str(outputs)}
    used: set[str] = set()
    jobs = []
    for notebook in theme.notebook_paths:
        cell = parameters_cell(notebook)
        missing = [name for name in CORE_PARAMETERS if name not in cell.names]
        if missing:
            raise InputError(
                notebook,
                f"cell {cell.index + 1} (parameters)",
                f"must define {', '.join(CORE_PARAMETERS)} (the build passes them); missing: {', '.join(missing)}",
            )
        passed = {name: value for name, value in parameters.items() if name in cell.names}
        used.update(passed)
        if lang != BASE_LANGUAGE:
            if LANGUAGE_PARAMETER not in cell.names:
                raise InputError(
                    notebook,
                    f"cell {cell.index + 1} (parameters)",
                    f"must define {LANGUAGE_PARAMETER} (the letter is built in '{lang}')",
                )
            passed[LANGUAGE_PARAMETER] = lang
        jobs.append(NotebookJob(notebook, edition_dir / "notebooks" / notebook.name, {**core, **passed}))
    unused = sorted(set(parameters) - used)
    if unused:
        raise InputError(
            theme.themes_file,
            f"theme '{theme.id}', key 'parameters.{unused[0]}'",
            "no notebook of the theme defines this parameter in its parameters cell",
        )
    return jobs


def key_inputs(
    theme: Theme, year: int, parameters: Mapping[str, Any], kernel_name: str, lang: str = BASE_LANGUAGE
) -> dict[str, str]:
    """Labelled digests of every input of an edition; :func:`observatoire.publishing.manifest.build_key` hashes them.

    Raw files enter through their catalogue checksums (``fetch`` verifies the files against them), so the key is
    computed without reading megabytes of data; the whole ``sources.yml`` is included, so a notebook reading a
    source it does not declare is still covered.
    """
    inputs: dict[str, str] = {
        "theme": mf.sha256_json(theme.as_record()),
        "parameters": mf.sha256_json({"year": int(year), "theme": theme.id, **parameters}),
        "sources.yml": sha256_file(paths.SOURCES_YML),
        "methods.yml": sha256_file(paths.METHODS_YML),  # the constants the notebooks apply
        "lockfile": sha256_file(mf.LOCKFILE),
        "renderer": mf.sha256_json(renderer_available()),
        "python": mf.sha256_json(list(sys.version_info[:2])),
        "kernel": mf.sha256_json(kernel_name),
        "SOURCE_DATE_EPOCH": mf.sha256_json(os.environ.get("SOURCE_DATE_EPOCH")),  # the PDF carries it
    }
    for source_id in theme.source_ids(parameters):
        inputs[f"input:{source_id}"] = theme.catalogue[source_id].sha256
    for notebook in theme.notebook_paths:
        inputs[f"notebook:{notebook.name}"] = mf.notebook_digest(notebook)
    if lang != BASE_LANGUAGE:
        inputs["lang"] = mf.sha256_json(lang)
    inputs.update(mf.tree_digests(theme.publication_dir_for(lang), "publication:"))
    # The words every letter and every notebook shares (sentences, output words, territory names).
    for path in sorted(p for p in paths.SHARED_TEMPLATES.iterdir() if p.suffix in (".jinja", ".yml")):
        inputs[f"shared:{path.name}"] = sha256_file(path)
    if paths.INDICATORS_YML.is_file():  # the labels of the indicators (the facts carry them)
        inputs["indicators.yml"] = sha256_file(paths.INDICATORS_YML)
    # The words of the notebooks' outputs: their metadata files.
    for path in sorted(theme.notebook_dir.glob("*.meta.yml")):
        inputs[f"notebook:{path.name}"] = sha256_file(path)
    inputs.update(mf.tree_digests(paths.CURATED, "curated:"))
    inputs.update(mf.tree_digests(paths.PACKAGE, "package:"))
    return inputs


#: Inputs of an edition that do not change what its notebooks compute and write (the letter's words, its
#: language, its links, the renderer): the execution key leaves them out.
_NOT_EXECUTION = ("publication:", "lang", "other_languages", "renderer")


def execution_key(inputs: Mapping[str, str]) -> str:
    """The key of one run of an edition's notebooks: the build key without what only the letter's render
    reads. The letters of one edition in every language share it, hence the run."""
    kept = {k: v for k, v in inputs.items() if not any(k == n or k.startswith(n) for n in _NOT_EXECUTION)}
    return mf.build_key(kept)


def resolve_plan(
    theme: str | Theme,
    year: int,
    *,
    overrides: Mapping[str, Any] | None = None,
    publish: bool = True,
    site_dir: Path = paths.SITE,
    build_dir: Path = paths.BUILD,
    kernel_name: str = paths.KERNEL_NAME,
    lang: str = BASE_LANGUAGE,
) -> EditionPlan:
    """Resolve one edition: check the theme and year, apply the overrides, plan the notebooks, hash the inputs.

    ``lang`` is the letter's language: ``"fr"``, or a language of the theme's ``translations``.

    Raises
    ------
    InputError
        Unknown year, a theme not buildable yet, a bad notebook or parameter (file, place and rule).
    ReleaseError
        A variant asked to be published.
    """
    theme = themes.get_theme(theme)
    theme.check_year(year)
    theme.publication_dir_for(lang)  # a language the theme has no publication in stops here
    missing = theme.missing()
    if missing:
        raise InputError(theme.themes_file, f"theme '{theme.id}'", "not buildable yet: " + "; ".join(missing))
    parameters = theme.parameters_for(year, overrides)
    variant = variant_name(theme, year, overrides)
    if variant and publish:
        raise ReleaseError(
            f"{theme.id} {year} with {variant} is a variant: build it with --no-publish (publish=False); "
            "to change what is published, change the defaults in publications/themes.yml"
        )
    build_dir, site_dir = Path(build_dir), Path(site_dir)
    # "2024", "2024-en" for the English letter, or "2024/29" for a territorial letter
    where = language_path(theme.edition_path(year, parameters), lang)
    edition_dir = build_dir / theme.id / (f"{where}+{variant}" if variant else where)
    # One run of the notebooks for every language of a letter with one source: in the French edition's folder.
    one_source = theme.one_source(lang)
    base = theme.edition_path(year, parameters)
    run_dir = build_dir / theme.id / (f"{base}+{variant}" if variant else base) if one_source else edition_dir
    source_ids = tuple(theme.source_ids(parameters))
    inputs = key_inputs(theme, year, parameters, kernel_name, lang)
    run_inputs = dict(inputs) if one_source else {**inputs, "run_lang": mf.sha256_json(lang)}
    # The letter links to its versions in the theme's other declared languages: fixed by themes.yml, not by what
    # happens to be published yet (make all and make letter build every language of an edition).
    others = tuple(other for other in theme.languages if other != lang) if publish else ()
    if others:
        inputs["other_languages"] = mf.sha256_json(list(others))
    return EditionPlan(
        theme=theme,
        year=int(year),
        parameters=dict(parameters),
        variant=variant,
        publish=publish,
        build_dir=build_dir,
        site_dir=site_dir,
        edition_dir=edition_dir,
        jobs=tuple(plan_jobs(theme, year, parameters, run_dir, BASE_LANGUAGE if one_source else lang)),
        source_ids=source_ids,
        inputs=tuple(
            {
                "source_id": sid,
                "file": theme.catalogue[sid].file,
                "edition": theme.catalogue[sid].edition,
                "sha256": theme.catalogue[sid].sha256,
            }
            for sid in source_ids
        ),
        key_inputs=inputs,
        key=mf.build_key(inputs),
        kernel_name=kernel_name,
        lang=lang,
        other_languages=others,
        run_dir=run_dir,
        execution_key=execution_key(run_inputs),
    )
