"""The course site: every lesson executed as a learner first sees it, rendered, loadable.

This is also where lessons/ run top to bottom in the test suite: the build executes each
lesson in a fresh kernel and fails on an error, a claim that does not hold, a check that
is anything but "not attempted" or a quiz that shows answers (the same rules conftest.py
applies to solutions/ under nbval).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bncourse.tooling.site import build_site

from .browser_support import browser_available, open_browser, screenshot_on_failure

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, build_site(ROOT / "lessons", out)


def test_every_lesson_becomes_a_page_and_the_course_map_the_index(site):
    out, pages = site
    assert [page.notebook.name for page in pages] == [path.name for path in LESSONS]
    assert (out / "index.html").exists()
    for page in pages:
        assert page.problems == [], f"{page.notebook.name}: {page.problems}"


def test_every_lesson_page_has_figures_with_alt_text_and_links_to_its_neighbours(site):
    out, pages = site
    for page in pages:
        if page.page.name == "index.html":
            continue
        text = page.page.read_text(encoding="utf-8")
        assert page.images >= 1, f"{page.page.name} shows no figure"
        assert "No description has been provided" not in text
        assert 'href="00_course_map.html"' in text  # the navigation cells, as site links
        assert ".ipynb)" not in text


@pytest.mark.skipif(not browser_available(), reason="Chromium or Playwright missing")
def test_the_pages_load_with_every_image_in_a_browser(site):
    out, pages = site
    with open_browser() as page:
        for built in pages:
            with screenshot_on_failure(page, f"site-{built.page.stem}"):
                page.goto(built.page.as_uri(), wait_until="load")
                images = page.locator("img")
                assert images.count() == built.images
                broken = page.evaluate(
                    "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                    ".map(i => i.alt)"
                )
                assert broken == [], f"{built.page.name}: images that did not load: {broken}"
