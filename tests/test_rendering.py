"""Rendering: the fixture letter through pandoc + typst for real, lint rules one by one, the Quarto commands.

The fixture (tests/data/publication/) uses every feature of the subset: variables (text and integer), meta,
nested includes, two figures (SVG and PNG) with data, a table with its caption and data, @fig/@Fig/[-@fig]
and @tbl references, four callouts (default and custom titles, ## and title= forms), the key-figures band,
footnotes, lists, links. Its figures were drawn once with matplotlib (``svg.fonttype="path"``, no dates in the
metadata), as ``charts.save_figure`` draws them; they are test data, not regenerated.
"""

from __future__ import annotations

import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from observatoire.paths import ROOT
from observatoire.rendering import RenderError, RenderResult, common, lint, quarto, render, write_site_index
from observatoire.rendering.fallback import typst_source
from observatoire.rendering.shortcodes import expand

FIXTURE = Path(__file__).parent / "data" / "publication"
NNBSP = "\u202f"


# -- helpers --------------------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def text_of(html: str) -> str:
    """The HTML's visible text with tags removed and whitespace squeezed (images' data URIs dropped)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def pdf_strings(pdf: bytes, key: bytes) -> list[str]:
    """Values of a PDF string key (``/Alt``, ``/Title``), literal or UTF-16 hex."""
    out = []
    for m in re.finditer(rb"/" + key + rb"\s*(?:\((?P<lit>(?:[^()\\]|\\.)*)\)|<(?P<hex>[0-9A-Fa-f]+)>)", pdf):
        if m.group("hex"):
            raw = bytes.fromhex(m.group("hex").decode())
            out.append(raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1"))
        else:
            out.append(m.group("lit").decode("latin-1"))
    return out


def copy_fixture(tmp_path: Path) -> Path:
    dest = tmp_path / "publication"
    shutil.copytree(FIXTURE, dest)
    return dest


def append(project: Path, text: str, file: str = "index.qmd") -> int:
    """Append ``text`` (one or more lines) to a project file; return the line number of its first line."""
    path = project / file
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, "", text, ""]), encoding="utf-8")
    return len(lines) + 2


# -- the fixture, rendered for real ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[RenderResult, RenderResult]:
    """The fixture rendered twice, into two folders, with the fallback."""
    first = render(FIXTURE, tmp_path_factory.mktemp("render1"), renderer="pandoc+typst")
    second = render(FIXTURE, tmp_path_factory.mktemp("render2"), renderer="pandoc+typst")
    return first, second


@pytest.fixture(scope="module")
def html(rendered) -> str:
    return rendered[0].html.read_text(encoding="utf-8")


def test_fixture_passes_lint():
    assert lint(FIXTURE) == []


def test_output_names(rendered):
    result = rendered[0]
    assert result.renderer == "pandoc+typst"
    assert result.html.name == "index.html" and result.pdf.name == "letter.pdf"
    assert result.html.parent == result.pdf.parent
    assert "pandoc" in result.log and "typst" in result.log


def test_html_is_french_and_self_contained(html):
    assert re.search(r'<html[^>]* lang="fr"', html)
    assert "<link" not in html and "<script" not in html
    for img in tags(html, "img"):
        assert img["src"].startswith("data:image/"), "images are embedded"


def test_every_image_has_alt_text(html):
    imgs = tags(html, "img")
    assert len(imgs) == 2
    assert all(img.get("alt", "").strip() for img in imgs)
    assert imgs[0]["alt"].startswith("Diagramme en barres")
    assert "fig-alt" not in html


def test_figures_and_tables_are_numbered(html):
    text = text_of(html)
    assert "Figure\u00a01\u00a0: Victimes de violences conjugales enregistrées" in text
    assert "Figure\u00a02\u00a0: Part des femmes" in text
    assert "Tableau\u00a01\u00a0: Victimes de violences conjugales enregistrées, SSMSI 2024" in text
    assert len(tags(html, "figure")) == 2


def test_cross_references_are_french_links(html):
    assert '<a href="#fig-victimes_conjugales" class="xref">figure\u00a01</a>' in html
    assert '<a href="#tbl-victimes_par_annee" class="xref">tableau\u00a01</a>' in html
    assert '<a href="#fig-part_femmes" class="xref">Figure\u00a02</a>' in html  # @Fig- capitalises
    assert '<a href="#fig-victimes_conjugales" class="xref">1</a>' in html  # [-@fig-] is the bare number
    assert "@fig-" not in html and "@tbl-" not in html and "@Fig-" not in html


def test_figures_link_to_their_data(rendered, html):
    links = [a for a in tags(html, "a") if "data-link" in a.get("class", "")]
    assert [a["href"] for a in links] == [
        "figures/victimes_conjugales.csv",
        "figures/part_femmes.csv",
        "tables/victimes_par_annee.csv",
    ]
    assert html.count("Télécharger les données (CSV)") == 3
    assert links[0]["aria-label"] == "Télécharger les données de la figure\u00a01 (CSV)"
    out = rendered[0].html.parent
    for a in links:
        target = out / a["href"]
        assert target.is_file()
        assert target.read_bytes() == (FIXTURE / a["href"]).read_bytes()


def test_callouts(html):
    kinds = [d["class"] for d in tags(html, "div") if d.get("class", "").startswith("callout ")]
    assert kinds == [
        "callout callout-note",
        "callout callout-important",
        "callout callout-warning",
        "callout callout-tip",
    ]
    titles = re.findall(r'<div class="callout-title">\s*<p><strong>(.*?)</strong>', html)
    assert titles == [
        "Lire les chiffres",
        "Important",
        "Attention",
        "Pour aller plus loin",
    ]  # ## Title, defaults, title=
    assert 'id="lire-les-chiffres"' not in html  # the ## title line became the box title, not a section


def test_key_figures(html):
    band = [d for d in tags(html, "div") if d.get("class") == "key-figures"]
    figures = [d for d in tags(html, "div") if d.get("class") == "key-figure"]
    assert len(band) == 1 and len(figures) == 3
    assert re.search(rf'class="key-figure-value">\s*271{NNBSP}000\s*<', html)
    assert "victimes de violences conjugales enregistrées en 2023" in html


def test_variables_meta_and_includes_are_substituted(html):
    assert "{{<" not in html and ">}}" not in html
    assert f"271{NNBSP}000" in html and f"+10,9{NNBSP}%" in html
    assert "<title>Les violences conjugales en 2023 – " in html  # var in the front matter, integer value
    assert "2023.0" not in html
    assert "Les chiffres de l’édition SSMSI 2024" in html  # meta, in an included file
    assert "<th" in html and "Victimes enregistrées" in html  # table included from an included file


def test_header_footer_and_plain_markdown(html):
    text = text_of(html)
    assert "Lettre de l’Observatoire national des violences faites aux femmes" in text
    assert "Lettre n° 99" in text and "25 novembre 2024" in text
    assert "Sources : SSMSI, base des victimes ; MIPROF." in text
    assert 'role="doc-endnotes"' in html  # footnote
    assert "<em>important</em>" in html and "<li>" in html
    assert "« faits enregistrés »" in text and f"«{NNBSP}violences subies{NNBSP}»" in text


def test_pdf_is_a_tagged_a4_letter(rendered):
    pdf = rendered[0].pdf.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert b"/Lang(fr-FR)" in pdf
    assert "Les violences conjugales en 2023" in pdf_strings(pdf, b"Title")
    alts = pdf_strings(pdf, b"Alt")
    assert any(a.startswith("Diagramme en barres") for a in alts)
    assert any(a.startswith("Courbe stable") for a in alts)
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.27\d* 841\.88\d*\s*\]", pdf), "A4"
    assert b"LibertinusSerif" in pdf and b"/FontFile" in pdf  # built-in font, embedded


def test_typst_source_uses_the_letter_look():
    src = typst_source(FIXTURE)
    assert '#figure(obs-image("figures/victimes_conjugales.svg", "Diagramme en barres' in src
    assert "<fig-victimes_conjugales>" in src and "<tbl-victimes_par_annee>" in src
    assert "#link(<tbl-victimes_par_annee>)[tableau~1]" in src
    assert "#key-figures(" in src and src.count("(value: [") == 3
    assert '#obs-callout(kind: "warning", title: [Attention])[' in src
    assert '#obs-callout(kind: "note", title: [Lire les chiffres])[' in src
    assert "caption: [#strong[Figure~1~:]" in src
    assert "{{<" not in src


def test_two_renders_are_byte_identical(rendered):
    first, second = rendered
    assert first.html.read_bytes() == second.html.read_bytes()
    assert first.pdf.read_bytes() == second.pdf.read_bytes()


def test_source_date_epoch_sets_the_pdf_date(monkeypatch):
    assert common.timestamp_for({"date": "2024-11-25"}) == 1_732_492_800
    assert common.timestamp_for({}) == common.FIXED_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert common.timestamp_for({"date": "2024-11-25"}) == 1_700_000_000


def test_one_format_only(tmp_path):
    result = render(FIXTURE, tmp_path, formats=("pdf",), renderer="pandoc+typst")
    assert result.html is None and result.pdf.is_file()
    assert not (tmp_path / "index.html").exists()
    with pytest.raises(RenderError, match="formats"):
        render(FIXTURE, tmp_path, formats=("docx",))


def test_lua_prints_json_floats_as_integers(tmp_path):
    """Numbers reaching Lua from JSON are floats: the filter's int_text prints 2023.0 as 2023."""
    import subprocess

    from observatoire.rendering.fallback import pandoc_path

    harness = tmp_path / "harness.lua"
    harness.write_text(
        f"dofile({str(common.LUA_FILTER)!r})\n"
        "local f = ObservatoireSubset.int_text\n"
        "function Pandoc(doc)\n"
        "  local n = pandoc.json.decode('{\"year\": 2023}').year\n"
        "  local s = table.concat({f(n), f(7), f(2.5), f('2023.0'), f(pandoc.Inlines('12'))}, ' ')\n"
        "  return pandoc.Pandoc({pandoc.Plain({pandoc.Str(s)})})\n"
        "end\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [pandoc_path(), "--from", "markdown", "--to", "plain", "--lua-filter", str(harness)],
        input=b"x",
        capture_output=True,
        check=True,
    )
    assert out.stdout.decode().strip() == "2023 7 2.5 2023 12"


# -- shortcodes -------------------------------------------------------------------------------------------------------


def test_unknown_variable_names_file_and_line(tmp_path):
    project = copy_fixture(tmp_path)
    line = append(project, "Un chiffre : {{< var inconnue >}}.")
    with pytest.raises(RenderError) as err:
        render(project, tmp_path / "out", renderer="pandoc+typst")
    assert Path(err.value.file).name == "index.qmd"
    assert err.value.place == f"line {line}"
    assert "inconnue" in err.value.rule
    assert f"index.qmd: line {line}:" in str(err.value)
    with pytest.raises(RenderError) as err:  # the fallback's own expansion says the same
        expand(project)
    assert (Path(err.value.file).name, err.value.place) == ("index.qmd", f"line {line}")


def test_unknown_variable_in_an_included_file(tmp_path):
    project = copy_fixture(tmp_path)
    line = append(project, "{{< var absente >}}", file="_methode.qmd")
    with pytest.raises(RenderError) as err:
        expand(project)
    assert (Path(err.value.file).name, err.value.place) == ("_methode.qmd", f"line {line}")


def test_escaped_shortcode_is_written_literally(tmp_path):
    project = copy_fixture(tmp_path)
    append(project, "Écrire `{{{< var x >}}}`.")
    assert "`{{< var x >}}`" in expand(project).markdown


def test_variable_values_print_integers_plainly(tmp_path):
    project = copy_fixture(tmp_path)
    (project / "_variables.yml").write_text("annee: 2023.0\nn: 7\ntaux: 9.8\n", encoding="utf-8")
    (project / "index.qmd").write_text(
        "---\ntitle: T\n---\n\n{{< var annee >}} {{< var n >}}\n", encoding="utf-8"
    )
    assert expand(project).markdown.strip() == "2023 7"
    (project / "index.qmd").write_text("---\ntitle: T\n---\n\n{{< var taux >}}\n", encoding="utf-8")
    with pytest.raises(RenderError, match="must be text"):
        expand(project)


def test_include_cycle_is_an_error(tmp_path):
    project = copy_fixture(tmp_path)
    append(project, "{{< include /_methode.qmd >}}", file="tables/victimes_par_annee.md")
    with pytest.raises(RenderError, match="include cycle"):
        expand(project)


# -- lint -----------------------------------------------------------------------------------------------------------------

FORBIDDEN = {
    "video shortcode": ("{{< video https://example.org/v.mp4 >}}", "shortcode '{{< video >}}'"),
    "pagebreak shortcode": ("{{< pagebreak >}}", "shortcode '{{< pagebreak >}}'"),
    "python cell": ("```{python}\nprint(1)\n```", "executable code cell"),
    "r cell": ("```{r}\n1\n```", "executable code cell"),
    "inline code cell": ("Valeur : `{python} n`.", "inline code cell"),
    "raw html block": ("```{=html}\n<b>x</b>\n```", "raw block"),
    "panel-tabset": ("::: {.panel-tabset}\n## A\n\nx\n:::", "div class '.panel-tabset'"),
    "layout-ncol div": ("::: {layout-ncol=2}\nx\n:::", "div attribute 'layout-ncol'"),
    "column-margin": ("::: {.column-margin}\nNote en marge.\n:::", "div class '.column-margin'"),
    "margin note span": ("Texte [note en marge]{.aside}.", "class '.aside'"),
    "column-page on figure": (
        '![C](figures/part_femmes.svg){#fig-autre fig-alt="A" .column-page}',
        "figure attribute 'column-page'",
    ),
    "layout on figure": (
        '![C](figures/part_femmes.svg){#fig-autre fig-alt="A" layout-ncol=2}',
        "layout-ncol",
    ),
    "section cross-reference": ("Voir @sec-methode.", "cross-reference '@sec-methode'"),
    "equation cross-reference": ("Voir @eq-taux.", "cross-reference '@eq-taux'"),
    "citation": ("Selon @dupont2020.", "citation '@dupont2020'"),
    "callout-caution": ("::: {.callout-caution}\nx\n:::", "callout type '.callout-caution'"),
    "callout collapse": ('::: {.callout-note collapse="true"}\nx\n:::', "div attribute 'collapse'"),
    "content-visible": ('::: {.content-visible when-format="html"}\nx\n:::', "div class '.content-visible'"),
    "figure without alt": ("![C](figures/part_femmes.svg){#fig-sans-alt}", "needs fig-alt"),
    "image without id": ('![C](figures/part_femmes.svg){fig-alt="A"}', "needs a figure identifier"),
    "figure not alone": ('Texte ![C](figures/part_femmes.svg){#fig-x fig-alt="A"} texte.', "stands alone"),
    "figure without data": ('![C](figures/nulle.svg){#fig-nulle fig-alt="A"}', "not found"),
    "undefined reference": ("Voir @fig-inexistante.", "does not exist"),
    "duplicate figure id": (
        '![C](figures/part_femmes.svg){#fig-part_femmes fig-alt="A"}',
        "already used at index.qmd:",
    ),
    "missing include": ("{{< include _absent.qmd >}}", "included file '_absent.qmd' not found"),
    "inline include": ("Voir {{< include _methode.qmd >}} ici.", "must stand alone"),
    "unknown variable": ("{{< var inconnue >}}", "unknown variable 'inconnue'"),
    "unknown meta": ("{{< meta inconnue >}}", "unknown meta key 'inconnue'"),
    "tbl-colwidths": ('| a |\n|---|\n| 1 |\n\n: Cap {#tbl-autre tbl-colwidths="[50]"}', "tbl-colwidths"),
    "level-1 heading": ("# Une section", "level-1 heading"),
    "stray key-figure": ("::: {.key-figure}\n1\nlabel\n:::", "belongs inside a .key-figures div"),
    "unclosed div": ("::: {.callout-note}\nx", "never closed"),
}


@pytest.mark.parametrize("snippet, expected", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_lint_catches(tmp_path, snippet, expected):
    project = copy_fixture(tmp_path)
    line = append(project, snippet)
    problems = lint(project)
    matching = [p for p in problems if expected in p]
    assert matching, problems
    assert all(re.match(r"^[\w./-]+(:\d+)?: ", p) for p in problems), problems
    if "unclosed" not in expected:
        lines = range(line, line + snippet.count("\n") + 1)
        assert any(re.match(r"index\.qmd:(\d+): ", p) and int(p.split(":")[1]) in lines for p in matching), (
            line,
            matching,
        )


def test_lint_catches_front_matter_outside_the_subset(tmp_path):
    project = copy_fixture(tmp_path)
    text = (project / "index.qmd").read_text(encoding="utf-8")
    (project / "index.qmd").write_text(
        text.replace("lang: fr\n", "lang: en\nformat: html\n", 1), encoding="utf-8"
    )
    problems = lint(project)
    assert any(p.startswith("index.qmd:6: front-matter key 'format'") for p in problems), problems
    assert any("lang must be fr" in p for p in problems)
    (project / "index.qmd").write_text("Pas de front matter.\n", encoding="utf-8")
    assert lint(project) == ["index.qmd:1: the letter needs a title (front matter 'title')"]


def test_lint_names_included_files(tmp_path):
    project = copy_fixture(tmp_path)
    line = append(project, "{{< pagebreak >}}", file="_methode.qmd")
    assert lint(project) == [
        f"_methode.qmd:{line}: shortcode '{{{{< pagebreak >}}}}' is outside the subset (var, meta, include)"
    ]


def test_render_refuses_a_letter_with_lint_problems(tmp_path):
    project = copy_fixture(tmp_path)
    line = append(project, "{{< pagebreak >}}\n\nVoir @sec-x.")
    with pytest.raises(RenderError) as err:
        render(project, tmp_path / "out", renderer="pandoc+typst")
    assert err.value.place == f"line {line}" and "pagebreak" in err.value.rule
    assert len(err.value.problems) == 2
    assert not (tmp_path / "out" / "index.html").exists()


# -- Quarto path (quarto is not installed here: commands and configuration are tested, the run is faked) ------------


def test_quarto_commands():
    cmds = quarto.quarto_commands("/opt/quarto/bin/quarto", Path("/tmp/p"), ("html", "pdf"))
    assert cmds == [
        ["/opt/quarto/bin/quarto", "render", "/tmp/p", "--to", "html", "--no-execute", "--quiet"],
        ["/opt/quarto/bin/quarto", "render", "/tmp/p", "--to", "typst", "--no-execute", "--quiet"],
    ]
    assert quarto.quarto_commands("quarto", "p", ("pdf",))[0][4] == "typst"


def test_quarto_settings_merge_over_the_project():
    merged = quarto.merge_settings(
        {"project": {"type": "default", "output-dir": "_out"}, "lang": "en", "author": "X"}
    )
    assert merged["project"] == {"type": "default", "output-dir": "_out", "render": ["index.qmd"]}
    assert merged["lang"] == "fr" and merged["author"] == "X"
    assert merged["format"]["typst"]["papersize"] == "a4"
    assert merged["format"]["html"]["embed-resources"] is True
    assert merged["crossref"]["fig-prefix"] == "figure" and merged["crossref"]["tbl-prefix"] == "tableau"
    assert merged["language"]["callout-warning-title"] == "Attention"


def test_repository_quarto_project_matches_the_renderer_settings():
    """The top-level _quarto.yml (for authors with Quarto) and quarto.py use the same look and wording."""
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["type"] == "default"
    assert config["project"]["render"] == ["publications/*/index.qmd"]

    def names(value):
        if isinstance(value, dict):
            return {k: names(v) for k, v in value.items()}
        if isinstance(value, list):
            return [names(v) for v in value]
        return Path(value).name if isinstance(value, str) and "/" in value else value

    expected = names(quarto.quarto_settings())
    assert {k: names(config[k]) for k in expected} == expected
    for path in [
        *config["filters"],
        *config["format"]["html"]["css"],
        *config["format"]["typst"]["template-partials"],
    ]:
        assert (ROOT / path).is_file(), path
    template = ROOT / config["format"]["typst"]["template-partials"][0]
    assert template.resolve() == common.TYPST_LIBRARY  # the same letter.typ, not a copy


def test_letter_typ_can_be_a_pandoc_partial():
    assert "$" not in common.TYPST_LIBRARY.read_text(encoding="utf-8")


def test_stage_for_quarto_leaves_the_project_alone(tmp_path):
    before = {p: p.read_bytes() for p in FIXTURE.rglob("*") if p.is_file()}
    staged = quarto.stage_for_quarto(FIXTURE, tmp_path)
    assert {p: p.read_bytes() for p in FIXTURE.rglob("*") if p.is_file()} == before
    assets = staged / quarto.ASSETS_DIR
    assert (assets / "typst-template.typ").read_bytes() == common.TYPST_LIBRARY.read_bytes()
    config = yaml.safe_load((staged / "_quarto.yml").read_text(encoding="utf-8"))
    for path in [*config["filters"], *config["format"]["typst"]["template-partials"]]:
        assert (staged / path).is_file()


FAKE_QUARTO = """#!/bin/sh
# Fake quarto: `quarto render DIR --to FMT ...` writes what Quarto would, and keeps the config it was given.
dir="$2"; to="$4"
cp "$dir/_quarto.yml" "$FAKE_QUARTO_SEEN"
case "$to" in
  html) printf '<!DOCTYPE html><html lang="fr">quarto</html>' > "$dir/index.html" ;;
  typst) printf '%%PDF-1.7 quarto' > "$dir/index.pdf" ;;
esac
"""


def test_renderer_auto_and_quarto_on_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cp").symlink_to(shutil.which("cp"))  # the fake's only tool; PATH holds nothing else
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(RenderError, match="not on PATH"):
        render(FIXTURE, tmp_path / "out", renderer="quarto")
    fake = bin_dir / "quarto"
    fake.write_text(FAKE_QUARTO, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_QUARTO_SEEN", str(tmp_path / "seen.yml"))
    result = render(FIXTURE, tmp_path / "out")  # auto: quarto is on PATH now
    assert result.renderer == "quarto"
    assert result.html == tmp_path / "out" / "index.html" and result.pdf == tmp_path / "out" / "letter.pdf"
    assert result.pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "out" / "figures" / "victimes_conjugales.csv").is_file()
    seen = yaml.safe_load((tmp_path / "seen.yml").read_text(encoding="utf-8"))
    assert seen["format"]["typst"]["template-partials"][0].endswith("typst-template.typ")
    with pytest.raises(RenderError, match="unknown renderer"):
        render(FIXTURE, tmp_path / "out", renderer="latex")


# -- site index ---------------------------------------------------------------------------------------------------------------


def test_site_index(tmp_path):
    site = tmp_path / "_site"
    editions = [
        {
            "theme": "annual",
            "theme_title": "Lettre annuelle",
            "year": 2023,
            "html": "annual/2023/index.html",
            "pdf": "annual/2023/letter.pdf",
            "manifest": "annual/2023/manifest.json",
        },
        {
            "theme": "annual",
            "theme_title": "Lettre annuelle",
            "year": 2024,
            "html": site / "annual/2024/index.html",
            "pdf": site / "annual/2024/letter.pdf",
            "manifest": site / "annual/2024/manifest.json",
            "notebooks": [site / "annual/2024/notebooks/01_victimes.html"],
        },
        {
            "theme": "mineurs",
            "theme_title": "Enfants & violences",
            "year": 2024,
            "html": "mineurs/2024/index.html",
            "pdf": None,
            "manifest": "mineurs/2024/manifest.json",
        },
    ]
    path = write_site_index(site, editions)
    assert path == site / "index.html"
    page = path.read_text(encoding="utf-8")
    assert '<html lang="fr"' in page
    hrefs = [a["href"] for a in tags(page, "a") if a["href"] != "#contenu"]
    assert all(not h.startswith("/") and "://" not in h for h in hrefs)
    assert "annual/2024/notebooks/01_victimes.html" in hrefs
    assert page.index("annual/2024/index.html") < page.index("annual/2023/index.html")  # newest first
    assert page.index("Lettre annuelle") < page.index("Enfants &amp; violences")  # themes in the given order
    assert page.count("<table") == 2 and '<th scope="row">2024</th>' in page
    first = path.read_bytes()
    write_site_index(site, [editions[1], editions[0], editions[2]])  # years are sorted, whatever their order
    assert path.read_bytes() == first
