"""End to end: each thematic letter built from the real data, read in Chromium and as PDF pages."""

from __future__ import annotations

import pytest
from e2e_checks import THEMATIC, check_html_in_chromium, check_pdf, check_site_pages, letter

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("theme", THEMATIC)
def test_thematic_letter_end_to_end(theme, tmp_path_factory):
    result = letter(theme, tmp_path_factory)
    assert result.status == "published"
    check_html_in_chromium(result, f"{theme}-{result.year}")
    check_pdf(result, f"{theme}-{result.year}", min_pages=2)
    check_site_pages(result)
    index = (result.site_path.parent.parent / "index.html").read_text(encoding="utf-8")
    assert f"{theme}/{result.year}/index.html" in index
