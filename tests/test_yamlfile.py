"""The one YAML reader refuses what a YAML file of the project must not hold, each time in one InputError line."""

from __future__ import annotations

import time

import pytest

from observatoire.core import yamlfile
from observatoire.core.errors import InputError
from observatoire.core.yamlfile import MAX_BYTES, load_yaml_text, read_yaml
from observatoire.data import catalogue, themes

#: The "billion laughs": nine levels of nine aliases, about 10^9 strings once expanded, in under 1 kB.
ALIAS_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_a_plain_file_reads(tmp_path):
    path = tmp_path / "ok.yml"
    path.write_text("title: Lettre n°\u202f25\nyears: [2023, 2024]\n", encoding="utf-8")
    assert read_yaml(path) == {"title": "Lettre n°\u202f25", "years": [2023, 2024]}
    (tmp_path / "empty.yml").write_text("", encoding="utf-8")
    assert read_yaml(tmp_path / "empty.yml") is None


def test_an_alias_bomb_is_refused_at_its_first_anchor_and_fast(tmp_path):
    path = tmp_path / "bomb.yml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB) < 1000
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    assert time.perf_counter() - start < 1.0
    assert (
        str(caught.value) == "bomb.yml: line 1, column 4: YAML anchors (&a) are not allowed in this project"
    )


def test_an_alias_alone_is_refused_with_its_place():
    with pytest.raises(InputError, match=r"^x\.yml: line 2, column 4: YAML aliases \(\*a\) are not allowed"):
        load_yaml_text("a: 1\nb: *a\n", "x.yml")


def test_a_byte_that_is_not_utf8_is_refused_with_its_line_and_column(tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes("title: ok\nlabel: Pr\u00e9fecture\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    assert str(caught.value) == "latin1.yml: line 2, column 10: the file must be UTF-8 (byte 0xe9 is not)"


def test_a_file_too_big_is_refused_unread(tmp_path):
    path = tmp_path / "big.yml"
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    assert path.stat().st_size > MAX_BYTES
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    assert (
        str(caught.value)
        == f"big.yml: whole file: a YAML file may be at most {MAX_BYTES} bytes (this one is larger)"
    )
    small = tmp_path / "small.yml"
    small.write_text("a: 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="at most 4 bytes"):
        read_yaml(small, max_bytes=4)


def test_a_syntax_error_names_its_line(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    message = str(caught.value)
    assert message.startswith("broken.yml: line 3, column 2: not valid YAML (")
    assert "\n" not in message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"^nope\.yml: whole file: file not found$"):
        read_yaml(tmp_path / "nope.yml")


def test_only_safe_types_are_built():
    with pytest.raises(InputError, match="not valid YAML"):
        load_yaml_text("!!python/object/apply:os.system ['echo hi']\n", "evil.yml")


def test_the_project_readers_use_it(tmp_path):
    # sources.yml (the catalogue and the themes' light reader), and a --set value.
    bomb = tmp_path / "sources.yml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    with pytest.raises(InputError, match=r"sources\.yml: line 1, column 4: YAML anchors"):
        catalogue.read_catalogue(bomb)
    with pytest.raises(InputError, match=r"sources\.yml: line 1, column 4: YAML anchors"):
        themes.read_source_infos(bomb)
    with pytest.raises(InputError, match=r"--set: 'year=\*a'"):
        themes.parse_overrides(["year=*a"])
    assert yamlfile.MAX_BYTES == 2 * 1024 * 1024
