"""End to end: territorial letters (a metropolitan département, Corsica, an overseas département, a région) built
from the real data into one site, read in Chromium and as PDF pages, numbers checked against the facts."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from e2e_checks import VIEWPORTS, axe_source, axe_violations, check_html_in_chromium, check_pdf

from observatoire.outputs.places import place
from observatoire.publishing import release

pytestmark = pytest.mark.e2e

YEAR = 2024
TERRITORIES = ("75", "2A", "974", "reg-53")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site and a function building (once) the letter of a territory into it."""
    tmp = tmp_path_factory.mktemp("territoire")
    built = {}

    def letter(code):
        if code not in built:
            built[code] = release.build_edition(
                "territoire",
                YEAR,
                overrides={"territoire": code},
                site_dir=tmp / "site",
                build_dir=tmp / "build",
                progress=False,
            )
        return built[code]

    return tmp / "site", letter


def _facts(result) -> dict:
    return json.loads((result.site_path / "facts" / "01_territoire.json").read_text(encoding="utf-8"))[
        "facts"
    ]


def _flat(text: str) -> str:
    return re.sub(r"[\s\u202f\u00a0]+", " ", text)


@pytest.mark.parametrize("code", TERRITORIES)
def test_territorial_letter_end_to_end(site, code):
    site_dir, letter = site
    result = letter(code)
    assert result.status == "published"
    assert result.site_path == site_dir / "territoire" / str(YEAR) / code
    check_html_in_chromium(result, f"territoire-{YEAR}-{code}")
    check_pdf(result, f"territoire-{YEAR}-{code}", min_pages=3)

    facts = _facts(result)
    html = _flat(re.sub(r"<[^>]+>", " ", (result.site_path / "index.html").read_text(encoding="utf-8")))
    pdf = _flat(
        subprocess.run(
            ["pdftotext", str(result.site_path / "letter.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert place(code).label["fr"] in html
    for key in ("if_nombre", "vs_nombre", "if_taux", "vs_taux", "if_taux_france", "vs_rang", "vs_evol"):
        assert _flat(facts[key]["text"]) in html, key
        assert _flat(facts[key]["text"]) in pdf, key
    # Each letter links to the national letter of the same year.
    assert f'href="../../../annual/{YEAR}/index.html"' in (result.site_path / "index.html").read_text(
        encoding="utf-8"
    )
    # Every figure has its data beside it.
    for name in ("t_series", "t_entonnoir", "t_carte"):
        assert (result.site_path / "figures" / f"{name}.csv").is_file()


def test_letters_say_what_is_specific_to_their_territory(site):
    _, letter = site
    results = {code: letter(code) for code in TERRITORIES}
    text = {
        code: (r.build_dir / "publication" / "index.qmd").read_text(encoding="utf-8")
        for code, r in results.items()
    }
    methods = {
        code: (r.build_dir / "publication" / "_methodes.qmd").read_text(encoding="utf-8")
        for code, r in results.items()
    }
    assert "Outre-mer" in methods["974"] and "Outre-mer" not in methods["75"]
    assert "Changement de nomenclature" in methods["2A"] and "juin 2025" in methods["2A"]
    assert "tbl-t_departements" in text["reg-53"] and "tbl-t_departements" not in text["2A"]
    assert "Parmi les 18 régions" in _flat(text["reg-53"])
    assert "Parmi les 101 départements" in _flat(text["75"])
    assert "Île-de-France" in text["75"]
    map_data = (results["2A"].site_path / "figures" / "t_carte.csv").read_text(encoding="utf-8")
    assert "2A,Corse-du-Sud,oui" in map_data and "2B,Haute-Corse,non" in map_data  # the French letter's words


def test_site_lists_the_letters_by_region(site):
    site_dir, letter = site
    for code in ("2A", "974", "reg-53"):
        letter(code)
    listing = (site_dir / "territoire" / str(YEAR) / "index.html").read_text(encoding="utf-8")
    assert 'href="2A/index.html">Corse-du-Sud (2A)</a>' in listing
    assert 'href="974/index.html">La Réunion (974)</a>' in listing
    assert 'href="reg-53/index.html">Bretagne</a>' in listing
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    assert f"territoire/{YEAR}/index.html" in index
    assert "territoire/2024/75/" not in index  # two clicks: index -> year listing -> letter
    # or one search: the site's search index holds every letter's pages, titled with their territory
    search = json.loads((site_dir / "search.json").read_text(encoding="utf-8"))
    titles = {e["href"].split("#")[0]: e["title"] for e in search}
    assert titles[f"territoire/{YEAR}/2A/index.html"].startswith("Corse-du-Sud (2A) : ")
    assert titles[f"territoire/{YEAR}/reg-53/index.html"].startswith("Bretagne (région 53) : ")
    assert f"territoire/{YEAR}/974/notebooks/01_territoire.html" in titles


@pytest.mark.browser
def test_axe_core_finds_no_violation_on_the_listing_and_a_letter(site):
    site_dir, letter = site
    for code in ("2A", "reg-53"):
        letter(code)
    axe = axe_source()
    pages = {
        "listing by région": site_dir / "territoire" / str(YEAR) / "index.html",
        "département letter": letter("2A").site_path / "index.html",
    }
    found = {
        f"{name} ({size})": axe_violations(path, axe, viewport)
        for name, path in pages.items()
        for size, viewport in VIEWPORTS.items()
    }
    assert found == dict.fromkeys(found, []), json.dumps(found, ensure_ascii=False, indent=1)


def test_letters_rendered_together_are_the_bytes_of_letters_rendered_alone(site, tmp_path):
    """The batch renders territorial letters by groups in one Quarto call (rendering/group.py): every file of
    every letter, the HTML pages, the PDF, search.json and site_libs included, equals the render alone."""
    from observatoire.publishing import batch

    alone = {code: site[1](code).site_path for code in TERRITORIES}
    outcomes = batch.run_batch(
        edition_requests=[
            batch.EditionRequest("territoire", YEAR, (("territoire", c),)) for c in TERRITORIES
        ],
        serial=True,
        progress=False,
        group_size=len(TERRITORIES),
        site_dir=tmp_path / "site",
        build_dir=tmp_path / "build",
    )
    assert [o.status for o in outcomes] == ["published"] * len(TERRITORIES), [o.reason for o in outcomes]
    # one Quarto call: each letter's render time is the same share of it
    assert len({o.render_timings["html+pdf"] for o in outcomes}) == 1
    for code, folder in alone.items():
        together = tmp_path / "site" / "territoire" / str(YEAR) / code
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(together).as_posix() for p in together.rglob("*") if p.is_file())
        assert "site_libs/bootstrap/bootstrap.min.js" in files and "search.json" in files
        for name in files:
            a, b = (folder / name).read_bytes(), (together / name).read_bytes()
            if name == "manifest.json":
                a, b = ({k: v for k, v in json.loads(x).items() if k != "built_at"} for x in (a, b))
            if a != b:
                at = next(
                    (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
                )
                raise AssertionError(
                    f"{code}/{name} differs when rendered in a group at byte {at}: alone "
                    f"{a[max(0, at - 150) : at + 80]!r}, group {b[max(0, at - 150) : at + 80]!r}"
                )
