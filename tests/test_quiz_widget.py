"""The interactive quiz: pre-filled from the learner's dict, and writing back into it."""

from __future__ import annotations

import ast
import html
from pathlib import Path

import pytest

from bncourse import quiz
from bncourse.grading.result import RESULT_MIMETYPE

from .test_quiz import DEMO_KEY, DEMO_STEM, write_demo_bank

WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    write_demo_bank(tmp_path / "quizzes")
    monkeypatch.setenv("BNCOURSE_QUIZZES", str(tmp_path / "quizzes"))
    return DEMO_STEM


def test_the_display_holds_the_widget_and_its_static_fallbacks(demo):
    bundle = quiz.show(demo, {})._repr_mimebundle_()
    assert {WIDGET_MIMETYPE, "text/plain", "text/html", RESULT_MIMETYPE} <= set(bundle)


def test_controls_start_from_the_learners_answers(demo):
    answers = {"pick-one": "b", "pick-many": ["a", "c"], "is-it": False, "how-much": 1.5}
    widget = quiz.show(demo, answers).quiz_widget
    controls = widget.controls
    assert controls["pick-one"].read() == "b"
    assert controls["pick-many"].read() == ["a", "c"]
    assert controls["is-it"].read() is False
    assert controls["how-much"].read() == 1.5
    assert controls["count"].read() is None
    assert "Correct." in widget.feedback["pick-one"].value  # given answers are graded at once
    assert widget.feedback["count"].value == ""  # unanswered: nothing shown yet


def test_submit_writes_into_the_same_dict_and_grades(demo):
    answers = {"unrelated": 1, "how-much": 9.0}
    view = quiz.show(demo, answers)
    widget = view.quiz_widget
    widget.controls["pick-one"].buttons["b"].value = True
    widget.controls["pick-many"].buttons["a"].value = True
    widget.controls["pick-many"].buttons["c"].value = True
    widget.controls["is-it"].set(True)
    widget.controls["how-much"].set(None)  # cleared: removed from the dict
    widget.controls["count"].set("128")
    result = widget.submit()
    assert answers == {
        "unrelated": 1,
        "pick-one": "b",
        "pick-many": ["a", "c"],
        "is-it": True,
        "count": 128,
    }
    assert result.score == 5.0 and view.result.score == 5.0
    assert "B is the second letter." in widget.feedback["pick-one"].value
    assert "Not answered." in widget.feedback["how-much"].value
    assert "4 of 6 correct" in widget.score.value and "score 5/7" in widget.score.value


def test_the_answers_line_can_be_pasted_back_into_the_cell(demo):
    answers: dict = {}
    widget = quiz.show(demo, answers).quiz_widget
    for question_id, value in DEMO_KEY.items():
        widget.controls[question_id].set(value)
    assert widget.submit().status == "full-marks"
    shown = widget.literal.value
    assert shown.startswith('<pre style="white-space: pre-wrap; user-select: all;')
    line = html.unescape(shown.split(">", 1)[1].rsplit("</pre>", 1)[0])
    assert line.startswith("quiz_answers = {") and line.rstrip().endswith("}")
    assert ast.literal_eval(line.split("=", 1)[1].strip()) == DEMO_KEY == answers


def test_single_choice_buttons_exclude_each_other(demo):
    control = quiz.show(demo, {}).quiz_widget.controls["pick-one"]
    control.buttons["a"].value = True
    control.buttons["c"].value = True
    assert control.read() == "c" and not control.buttons["a"].value


def test_text_that_is_not_a_number_gets_a_message(demo):
    answers = {"how-much": 1.0}
    widget = quiz.show(demo, answers).quiz_widget
    widget.controls["how-much"].set("0,25")
    widget.submit()
    assert answers["how-much"] == 1.0  # the earlier answer is kept, not silently dropped
    assert "type a number" in widget.feedback["how-much"].value


def test_malformed_answers_in_the_dict_are_explained_not_fatal(demo):
    answers = {"pick-one": 2, "pick-many": "a", "how-much": "1.2247"}
    view = quiz.show(demo, answers)
    bundle = view._repr_mimebundle_()
    assert "as a string" in bundle["text/plain"] and "list of choice ids" in bundle["text/plain"]
    assert view.quiz_widget.controls["how-much"].read() == 1.2247  # text box offers the number
    assert "without quotes" in view.quiz_widget.feedback["how-much"].value


def test_answers_that_are_not_a_dict_still_display(demo):
    bundle = quiz.show(demo, ["b"])._repr_mimebundle_()
    assert "must be a dict" in bundle["text/plain"]
    assert bundle[RESULT_MIMETYPE]["status"] == "unanswered"


def test_show_without_a_dict_keeps_the_answers_on_the_view(demo):
    view = quiz.show(demo)
    view.quiz_widget.controls["is-it"].set(True)
    view.quiz_widget.submit()
    assert view.answers == {"is-it": True}


def test_a_chosen_option_is_marked_plainly(demo):
    control = quiz.show(demo, {}).quiz_widget.controls["pick-one"]
    control.buttons["b"].value = True
    assert control.buttons["b"].button_style == "info"
    assert control.buttons["b"].description == "✓ b"
    control.buttons["a"].value = True  # single choice: b is released and unmarked
    assert control.buttons["b"].button_style == "" and control.buttons["b"].description == "b"
    truth = quiz.show(demo, {"is-it": False}).quiz_widget.controls["is-it"]
    assert truth.read() is False and truth.buttons[False].button_style == "info"


def test_submit_keeps_the_answers_in_an_output_the_notebook_saves(demo, monkeypatch):
    from bncourse.quiz import widget as quiz_widget

    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append((obj, kw)))
    updated: list = []
    monkeypatch.setattr(
        "IPython.display.update_display", lambda obj, **kw: updated.append((obj, kw))
    )
    monkeypatch.setattr(quiz_widget, "_FIRST_ATTEMPTS", {})
    answers: dict = {}
    view = quiz.show(demo, answers)
    view._ipython_display_()
    (quiz_bundle, _), (record, options) = shown
    assert RESULT_MIMETYPE in quiz_bundle
    assert record[quiz_widget.ANSWERS_MIMETYPE]["answers"] is None
    assert "not submitted yet" in record["text/plain"]
    control = view.quiz_widget.controls["pick-one"]
    control.buttons["a"].value = True
    view.quiz_widget.submit()  # wrong first
    control.buttons["b"].value = True
    view.quiz_widget.submit()  # then right
    last, how = updated[-1]
    assert how["display_id"] == options["display_id"] and how["raw"] is True
    kept = last[quiz_widget.ANSWERS_MIMETYPE]
    assert kept == {
        "stem": demo,
        "answers": {"pick-one": "b"},
        "first_attempt": {"pick-one": "a"},
        "submissions": 2,
    }
    assert "first attempt 0/7" in last["text/plain"] and "latest score 1/7" in last["text/plain"]
