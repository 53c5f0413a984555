"""Text from data is escaped for its target: hostile titles, labels and notes are shown as text and run nothing.

Unit tests of :mod:`observatoire.core.escaping`, then a whole release of a one-notebook fixture theme whose table and
text fact carry hostile strings, rendered for real (HTML and PDF): the strings must be visible as written and
inert (no element, handler, link or shortcode made from them), and the downloadable CSV must not hold formulas.
"""

from __future__ import annotations

import csv
import html.parser
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from fixture_theme import FIXTURES, write_declaration, write_theme

from observatoire.core import escaping
from observatoire.data import themes
from observatoire.outputs import facts, tables
from observatoire.publishing import release

#: Hostile strings, as a malicious or careless source title, label or note could hold them.
HOSTILE = {
    "handler": "<b onmouseover=alert(1)>gras</b>",
    "script": "<script>alert(2)</script>",
    "link": "[lien](javascript:alert(3))",
    "shortcode": "{{< meta title >}}",
    "formula": '=HYPERLINK("http://x.test","clic")',
    "at": "@sec-nulle part",
    "typst": "#set page(fill: red) $x^2$ *gras* _it_",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b onmouseover=alert(1)>x</b>", r"\<b onmouseover=alert(1)\>x\</b\>"),
        ("[l](javascript:alert(1))", r"\[l\](javascript:alert(1))"),
        ("a | b", r"a \| b"),
        ("- item", r"\- item"),
        ("12. item", r"12\. item"),
        ("12.5 %", "12.5 %"),
        ("> cité", r"\> cité"),
        ("ligne\nsuivante\r\n# titre", r"ligne suivante \# titre"),
        ("Tentatives d'homicides", "Tentatives d'homicides"),
        ("122\u202f610", "122\u202f610"),
        (None, ""),
    ],
)
def test_markdown_text(text, expected):
    assert escaping.markdown_text(text) == expected


def test_markdown_text_breaks_shortcodes():
    escaped = escaping.markdown_text("{{{< var x >}}}")
    assert "{{" not in escaped.replace("\\", "")
    assert escaped.replace("\u2060", "").replace("\\", "") == "{{{< var x >}}}"


def test_html_typst_csv_and_urls():
    assert escaping.html_text('<a href="x">&\'</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;"
    assert escaping.typst_text("#set page(fill: red) $x$") == r"\#set page(fill: red) \$x\$"
    assert escaping.typst_text("a // b") == r"a \/\/ b"
    assert [escaping.csv_cell(v) for v in ("=1+1", "+33 1", "-3,5", "@x", "\tA", "texte", 12, -3.5)] == [
        "'=1+1",
        "'+33 1",
        "-3,5",
        "'@x",
        "'\tA",
        "texte",
        12,
        -3.5,
    ]
    assert (
        escaping.safe_url("https://www.insee.fr/fr/statistiques?x=1")
        == "https://www.insee.fr/fr/statistiques?x=1"
    )
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "//x.fr",
        "/relative",
        "http://a b.fr",
        'http://x.fr/"onclick',
        "http://",
        None,
        3,
    ):
        assert escaping.safe_url(bad) is None, bad


def test_table_cells_and_caption_are_inert(tmp_path):
    frame = pd.DataFrame({"Source": list(HOSTILE.values()), "Valeur": range(len(HOSTILE))})
    meta = tables.save_table(frame, "hostile", tmp_path, title=HOSTILE["script"], source="essai")
    markdown = (tmp_path / "tables" / "hostile.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)[<\[]", markdown), markdown  # every < and [ escaped
    assert "{{" not in markdown.replace("\\", "")
    assert markdown.rstrip().endswith("{#tbl-hostile}")
    assert len([line for line in markdown.splitlines() if line.startswith("|")]) == 2 + len(HOSTILE)
    with open(tmp_path / "tables" / "hostile.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1 + list(HOSTILE).index("formula")][0].startswith("'=")
    assert rows[1 + list(HOSTILE).index("at")][0].startswith("'@")
    assert meta["n_rows"] == len(HOSTILE)


# ---------------------------------------------------------------------------------------------------------------
# A whole release with hostile text


class _Text(html.parser.HTMLParser):
    """The text a reader sees, and every tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _visible(text: str) -> str:
    """Whitespace collapsed, the invisible word joiner dropped, curly quotes straightened (typography)."""
    text = text.replace("\u2060", "").replace("«\u202f", '"').replace("\u202f»", '"')
    text = text.translate(str.maketrans("“”’‘«»", '""\'\'""'))
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def hostile_project(tmp_path, monkeypatch):
    index_qmd = (
        "---\ntitle: Lettre d'essai\nlang: fr\n---\n\n"
        "Source citée : {{< var titre_source >}}.\n\n"
        "{{< include tables/hostile.md >}}\n"
    )
    entry = write_theme(tmp_path, "hostile", FIXTURES / "good.ipynb", index_qmd, years=(2024, 2024))
    themes_yml = write_declaration(tmp_path, entry)
    theme = themes.load_themes(themes_yml, notebooks_root=tmp_path / "notebooks")["hostile"]

    def execute(jobs, **kwargs):
        for job in jobs:
            out = Path(job.parameters["output_dir"])
            declared = facts.Facts("good", "hostile", 2024)
            declared.add(
                "titre_source",
                " ".join(HOSTILE.values()),
                unit="texte",
                source_id="geo_reference",
                edition="essai",
                kind="text",
            )
            declared.save(out)
            frame = pd.DataFrame({"Source": list(HOSTILE.values()), "Valeur": range(len(HOSTILE))})
            tables.save_table(frame, "hostile", out, title=HOSTILE["handler"], source="essai")
            Path(job.output).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(job.input, job.output)
        return {}

    def export(executed, target, parameters, build_dir, publication, lang=None):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(executed, target)  # the executed notebook as its page (no hostile text in it)

    monkeypatch.setattr(release, "_fetch", lambda ids: [])
    monkeypatch.setattr(release, "_validate", lambda ids: None)
    monkeypatch.setattr(release, "_execute", execute)
    monkeypatch.setattr(release, "notebook_page", export)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return SimpleNamespace(theme=theme, site=tmp_path / "_site", build=tmp_path / "build")


@pytest.mark.e2e
def test_hostile_text_is_visible_and_inert_in_html_and_pdf(hostile_project):
    result = release.build_edition(
        hostile_project.theme,
        2024,
        site_dir=hostile_project.site,
        build_dir=hostile_project.build,
        progress=False,
    )
    edition = hostile_project.site / "hostile" / "2024"
    page = edition / result.manifest["letter"]["html"]
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    shown = _visible(" ".join(parser.text))
    for name, text in HOSTILE.items():
        assert shown.count(_visible(text)) >= 2, (name, shown)  # in the sentence and in the table
    for tag, attrs in parser.tags:
        assert tag not in ("b",) or "onmouseover" not in attrs, (tag, attrs)
        # Quarto's own page chrome has handlers (the navbar toggler); none may come from the data
        assert not any(k.startswith("on") and "alert" in str(v) for k, v in attrs.items()), (tag, attrs)
        assert not str(attrs.get("href", "")).lower().startswith("javascript:"), attrs
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert all(attrs.get("src") or attrs.get("type") for attrs in scripts)  # no inline script from the data
    assert "alert(2)</script>" not in page.read_text(encoding="utf-8")

    pdf = edition / result.manifest["letter"]["pdf"]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True)
    flat = _visible(text.stdout).replace(" ", "")
    for name in ("handler", "script", "link", "shortcode", "typst"):
        assert _visible(HOSTILE[name]).replace(" ", "") in flat, (name, text.stdout[:2000])

    with open(edition / "tables" / "hostile.csv", encoding="utf-8", newline="") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


# ---------------------------------------------------------------------------------------------------------------
# Every field the build writes into a staged Quarto project, from the catalogue and the theme's declaration

#: A shortcode, a typst command, HTML, and what breaks a Lua string or pattern.
TRAPS = "{{< meta title >}} #set page(fill: red) <script>alert(1)</script> ]]%s\\\" '[[ `x` $y$ @z"
#: A character Markdown (or a shortcode, or typst through pandoc) acts on, not preceded by a backslash.
_LIVE = re.compile(r"(?<!\\)[<>#\[\]`{}|$@*_]")


def _inert(value: str) -> bool:
    """True when Quarto reads ``value`` as plain text: every markup character escaped, no shortcode opening."""
    return "{{" not in value.replace("\\", "") and not _LIVE.search(value) and "\n" not in value


def _strings(node, where=""):
    """Every string of a YAML document with its key path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def test_every_catalogue_and_theme_field_reaches_the_staged_project_inert(tmp_path, monkeypatch):
    import nbformat
    import yaml

    from observatoire.core import paths as core_paths
    from observatoire.data import catalogue

    # The catalogue: every text field of geo_reference hostile (its edition too: it becomes a meta value).
    document = yaml.safe_load(core_paths.SOURCES_YML.read_text(encoding="utf-8"))
    for entry in document["sources"]:
        if entry["id"] == "geo_reference":
            for field in ("title", "publisher", "licence", "edition", "notes"):
                entry[field] = f"{field} {TRAPS}"
    sources = tmp_path / "sources.yml"
    sources.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(core_paths, "SOURCES_YML", sources)
    catalogue._cached_catalogue.cache_clear()
    # The theme: a hostile title, and a source parameter (its edition is a meta value).
    notebook = tmp_path / "hostile.ipynb"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'year = 2024\ntheme = "t"\noutput_dir = ""\ngeo_source = "geo_reference"'
    )
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, notebook)
    entry = write_theme(
        tmp_path,
        "hostile",
        notebook,
        "---\ntitle: Essai\n---\n\n[[ meta.theme_title ]] [[ meta.geo_edition ]]\n",
        years=(2024, 2024),
        parameters={"geo_source": "geo_reference"},
    )
    entry["title"] = f"title {TRAPS}"
    themes_yml = write_declaration(tmp_path, entry)
    theme = themes.load_themes(themes_yml, notebooks_root=tmp_path / "notebooks")["hostile"]
    source = catalogue.load_catalogue()["geo_reference"]

    def execute(jobs, **kwargs):  # a notebook citing every catalogue field as a text fact
        for job in jobs:
            out = Path(job.parameters["output_dir"])
            declared = facts.Facts("hostile", "hostile", 2024)
            for field in ("title", "publisher", "licence", "edition", "notes"):
                text = getattr(source, field)
                declared.add(
                    f"source_{field}", text, unit="texte", source_id=source.id, edition="x", kind="text"
                )
            declared.save(out)
            Path(job.output).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(job.input, job.output)
        return {}

    def render(project_dir, out_dir, edition):
        raise RuntimeError("staged")  # the walk needs the staged project only

    monkeypatch.setattr(release, "_fetch", lambda ids: [])
    monkeypatch.setattr(release, "_validate", lambda ids: None)
    monkeypatch.setattr(release, "_verify_raw", lambda ids: None)
    monkeypatch.setattr(release, "_prestart", lambda *a: None)
    monkeypatch.setattr(release, "_execute", execute)
    monkeypatch.setattr(release, "_render", render)
    monkeypatch.setattr(release, "notebook_page", lambda executed, target, *a: target.write_text("{}"))
    with pytest.raises(RuntimeError, match="staged"):
        release.build_edition(
            theme, 2024, site_dir=tmp_path / "_site", build_dir=tmp_path / "build", progress=False
        )
    staged = tmp_path / "build" / "hostile" / "2024" / "publication"
    walked = []
    for name in ("_quarto.yml", "_variables.yml"):
        document = yaml.safe_load((staged / name).read_text(encoding="utf-8"))
        for where, value in _strings(document):
            if where in ("project.type", "project.render[0]", "lang", "title"):
                continue  # the publication's own settings
            walked.append(where)
            assert _inert(value), f"{name}: {where} is not inert: {value!r}"
    assert {"theme_title", "geo_edition", "edition", "source_title", "source_notes"} <= set(walked)
    filled = (staged / "index.qmd").read_text(encoding="utf-8").split("---\n")[-1].strip()
    assert all(_inert(part) for part in filled.split(" ") if part), filled
    assert _visible(filled.replace("\\", "")).startswith("title {{< meta title >}}")
