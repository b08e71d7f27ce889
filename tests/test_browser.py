"""The course as a learner meets it: JupyterLab in Chromium, driven with the mouse.

One JupyterLab serves a copy of lesson 03 (and the course map) for the whole module. The
tests run in order: Run All with no error output; an explorer's slider, wide enough, dragged
with the mouse, redraws the figure; a wrong and then a right exercise typed into the
notebook; the quiz answered by clicking, submitted, saved, and still there after a reload.
Screenshots of failures go to test-artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .browser_support import (
    browser_available,
    cell,
    cell_index_containing,
    copy_lessons,
    lab_server,
    open_browser,
    open_notebook,
    run_all,
    screenshot_on_failure,
)

pytestmark = pytest.mark.skipif(not browser_available(), reason="Chromium or Playwright missing")

ROOT = Path(__file__).resolve().parents[1]
LESSON = "03_the_four_steps.ipynb"
WRONG_MEAN = "def batch_mean(x):\n    return x.mean(axis=0)\n"
RIGHT_MEAN = "def batch_mean(x):\n    return x.mean(axis=tuple(range(x.ndim - 1)))\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = copy_lessons(
        ROOT / "lessons", tmp_path_factory.mktemp("learner"), ["00_course_map.ipynb", LESSON]
    )
    with lab_server(root, root.parent / "lab.log") as base, open_browser() as page:
        open_notebook(page, base, LESSON)
        with screenshot_on_failure(page, "browser-run-all"):
            run_all(page)
        yield {"page": page, "base": base, "root": root}


def _replace_source(page, index: int, source: str) -> None:
    editor = cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)  # no auto-indent or auto-closed brackets
    page.keyboard.press("Shift+Enter")  # run it; the focus moves to the check cell


def test_run_all_shows_no_errors_and_no_stderr(lab):
    page = lab["page"]
    with screenshot_on_failure(page, "browser-errors"):
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert errors.count() == 0, errors.first.inner_text()[:500]
        assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0
        assert page.locator(":text('Error displaying widget')").count() == 0
        assert page.locator(".bncourse-check").count() >= 6  # every check said something


def test_an_explorer_slider_is_wide_and_dragging_it_redraws_the_figure(lab):
    page = lab["page"]
    index = cell_index_containing(page, "four_steps_explorer()")
    explorer = cell(page, index)
    with screenshot_on_failure(page, "browser-explorer"):
        explorer.scroll_into_view_if_needed()
        slider = explorer.locator(".widget-slider:has(label:text-is('gamma'))")
        track = slider.locator(".noUi-target, .slider-container").first
        box = track.bounding_box()
        assert box is not None and box["width"] >= 200, box
        label = slider.locator("label").first
        assert label.inner_text().strip() == "gamma"  # the label in full
        image = explorer.locator(".widget-output img")
        before = image.get_attribute("src")
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle_box = handle.bounding_box()
        x, y = handle_box["x"] + handle_box["width"] / 2, handle_box["y"] + handle_box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 80, y, steps=8)
        page.mouse.up()
        page.wait_for_function(  # the Output widget replaces its <img>: look it up afresh
            "([cell, old]) => { const img = cell.querySelector('.widget-output img');"
            "  return img && img.getAttribute('src') !== old; }",
            arg=[explorer.element_handle(), before],
            timeout=20_000,
        )


def test_a_wrong_exercise_is_named_and_a_right_one_passes(lab):
    page = lab["page"]
    index = cell_index_containing(page, "def batch_mean(x):")
    with screenshot_on_failure(page, "browser-exercise"):
        _replace_source(page, index, WRONG_MEAN)
        page.keyboard.press("Shift+Enter")  # the check cell
        feedback = cell(page, index + 1).locator(".bncourse-check")
        feedback.wait_for(timeout=30_000)
        page.wait_for_function(
            "(el) => el.textContent.includes('statistics over the wrong axes')",
            arg=feedback.element_handle(),
            timeout=30_000,
        )
        assert "Mistake:" in feedback.inner_text()
        _replace_source(page, index, RIGHT_MEAN)
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "(el) => el.textContent.includes('✔ batch_mean: passed')",
            arg=cell(page, index + 1).element_handle(),
            timeout=30_000,
        )


def test_quiz_answers_are_kept_with_submit_and_save_and_survive_a_reload(lab):
    page, root = lab["page"], lab["root"]
    index = cell_index_containing(page, "quiz.show(")
    quiz = cell(page, index)
    with screenshot_on_failure(page, "browser-quiz"):
        quiz.scroll_into_view_if_needed()
        quiz.locator("button:text-is('b')").first.click()  # a single-choice answer
        quiz.locator("button:text-is('True')").first.click()
        quiz.locator("button:has-text('Submit')").click()
        # JupyterLab may re-render the record's output when the kernel updates it, so look
        # it up again each time instead of holding on to one element
        page.wait_for_function(
            "() => [...document.querySelectorAll('.bncourse-quiz-record')]"
            ".some((el) => el.textContent.includes('kept in this notebook'))",
            timeout=30_000,
        )
        assert quiz.locator("button.mod-info:has-text('✓ b')").count() >= 1  # plainly marked
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=20_000)
        saved = json.loads((root / LESSON).read_text(encoding="utf-8"))
        kept = [
            output["data"]["application/vnd.bncourse.quiz-answers+json"]
            for c in saved["cells"]
            for output in c.get("outputs", [])
            if "application/vnd.bncourse.quiz-answers+json" in output.get("data", {})
        ]
        assert kept and kept[-1]["answers"], kept
        assert True in kept[-1]["answers"].values()
        assert saved["metadata"].get("widgets"), "widget state was not saved with the notebook"

        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        page.wait_for_timeout(3_000)
        quiz = cell(page, cell_index_containing(page, "quiz.show("))
        quiz.scroll_into_view_if_needed()
        page.wait_for_timeout(1_000)
        assert page.locator(":text('model not found')").count() == 0
        assert quiz.locator("button:has-text('✓ b')").count() >= 1
        assert "kept in this notebook" in quiz.locator(".bncourse-quiz-record").inner_text()
        explorer = cell(page, cell_index_containing(page, "four_steps_explorer()"))
        explorer.scroll_into_view_if_needed()
        assert explorer.locator(".widget-output img").count() == 1  # the last picture
