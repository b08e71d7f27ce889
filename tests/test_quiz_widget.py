"""The interactive quiz: pre-filled from the learner's dict, and writing back into it."""

from __future__ import annotations

import ast
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
    widget.controls["is-it"].widget.value = True
    widget.controls["how-much"].widget.value = ""  # cleared: removed from the dict
    widget.controls["count"].widget.value = "128"
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
        control = widget.controls[question_id]
        if hasattr(control, "buttons"):
            for choice in [value] if isinstance(value, str) else value:
                control.buttons[choice].value = True
        else:
            control.widget.value = value if isinstance(value, bool) else str(value)
    assert widget.submit().status == "full-marks"
    line = widget.literal.value
    assert line.startswith("quiz_answers = {")
    assert ast.literal_eval(line.split("=", 1)[1].strip()) == DEMO_KEY == answers


def test_single_choice_buttons_exclude_each_other(demo):
    control = quiz.show(demo, {}).quiz_widget.controls["pick-one"]
    control.buttons["a"].value = True
    control.buttons["c"].value = True
    assert control.read() == "c" and not control.buttons["a"].value


def test_text_that_is_not_a_number_gets_a_message(demo):
    answers = {"how-much": 1.0}
    widget = quiz.show(demo, answers).quiz_widget
    widget.controls["how-much"].widget.value = "one point two"
    widget.submit()
    assert "how-much" not in answers
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
    view.quiz_widget.controls["is-it"].widget.value = True
    view.quiz_widget.submit()
    assert view.answers == {"is-it": True}
