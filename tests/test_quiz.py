"""Quizzes: banks, hashing, grading, the displayed result, and the real banks' answer key."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bncourse import quiz
from bncourse.grading.result import RESULT_MIMETYPE, gradescope_results
from bncourse.quiz.authoring import hash_for, key_problems, read_quiz_answers

ROOT = Path(__file__).resolve().parents[1]
LESSON_STEMS = [
    "01_normalization_vs_standardization",
    "02_why_normalize_activations",
    "03_the_four_steps",
    "04_training_vs_inference",
    "05_backprop_through_bn",
    "06_batchnorm_in_keras",
    "07_where_to_put_bn",
    "08_what_bn_buys_you",
    "09_beyond_batchnorm",
    "10_bn_in_deployment",
    "11_capstone",
]

# ---------------------------------------------------------------------------
# A small demo bank with a known key, written to a temporary folder
# ---------------------------------------------------------------------------

DEMO_STEM = "01_demo"
DEMO_KEY: dict[str, Any] = {
    "pick-one": "b",
    "pick-many": ["a", "c"],
    "is-it": True,
    "how-much": 1.2247,
    "count": 128,
    "is-not": False,
}
DEMO_BANK = """
title = "Demo quiz"
salt = "00112233445566778899aabb"

[[questions]]
id = "pick-one"
kind = "single"
prompt = "Which letter comes second?"
choices = [
  { id = "a", text = "A" },
  { id = "b", text = "B" },
  { id = "c", text = "C" },
]
explanation = "B is the second letter."
answer = "@pick-one@"

[[questions]]
id = "pick-many"
kind = "multiple"
prompt = "Which are vowels?"
choices = [
  { id = "a", text = "A" },
  { id = "b", text = "B" },
  { id = "c", text = "E" },
]
explanation = "A and E are vowels."
answer = "@pick-many@"

[[questions]]
id = "is-it"
kind = "truefalse"
prompt = "True or false: $1 + 1 = 2$."
explanation = "It is."
answer = "@is-it@"

[[questions]]
id = "how-much"
kind = "numeric"
tolerance = 0.01
prompt = "Normalize $x = 7$ in $[3, 5, 7]$ with $\\\\epsilon = 0$."
explanation = "About 1.22."
answer = "@how-much@"

[[questions]]
id = "count"
kind = "numeric"
tolerance = 0.5
points = 2
prompt = "How many trainable parameters has BN over 64 channels?"
explanation = "Two per channel."
answer = "@count@"

[[questions]]
id = "is-not"
kind = "truefalse"
prompt = "True or false: BERT uses BatchNorm."
explanation = "It uses LayerNorm."
answer = "@is-not@"
"""


def write_demo_bank(folder: Path, stem: str = DEMO_STEM) -> Path:
    """Write the demo bank with real hashes for ``DEMO_KEY``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.toml"
    path.write_text(DEMO_BANK, encoding="utf-8")
    text = DEMO_BANK
    for question_id, value in DEMO_KEY.items():
        text = text.replace(f"@{question_id}@", hash_for(path, question_id, value))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo bank, installed as the only bank (``BNCOURSE_QUIZZES``); returns its stem."""
    write_demo_bank(tmp_path / "quizzes")
    monkeypatch.setenv("BNCOURSE_QUIZZES", str(tmp_path / "quizzes"))
    return DEMO_STEM


# ---------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------


def test_a_full_answer_sheet_gets_full_marks(demo):
    result = quiz.grade(demo, dict(DEMO_KEY))
    assert result.status == "full-marks" and result.passed
    assert result.score == result.max_score == 7.0  # "count" is worth 2 points
    assert all(feedback.status == "correct" for feedback in result.questions)
    assert all(feedback.explanation for feedback in result.questions)


def test_a_partial_sheet_scores_what_is_right_and_zero_for_the_rest(demo):
    answers = {"pick-one": "a", "pick-many": ["c", "a"], "count": 128}
    result = quiz.grade(demo, answers)
    statuses = {feedback.id: feedback.status for feedback in result.questions}
    assert statuses == {
        "pick-one": "incorrect",
        "pick-many": "correct",  # order does not matter
        "is-it": "unanswered",
        "how-much": "unanswered",
        "count": "correct",
        "is-not": "unanswered",
    }
    assert result.status == "partial" and not result.passed
    assert result.score == 3.0 and result.max_score == 7.0
    wrong = next(f for f in result.questions if f.id == "pick-one")
    assert wrong.explanation == "B is the second letter."  # feedback teaches


@pytest.mark.parametrize("empty", [{}, {"pick-one": None, "pick-many": [], "how-much": ""}])
def test_an_empty_sheet_is_unanswered(demo, empty):
    result = quiz.grade(demo, empty)
    assert result.status == "unanswered" and result.score == 0.0
    assert all(feedback.status == "unanswered" for feedback in result.questions)
    assert "not answered yet" in result.summary


@pytest.mark.parametrize(
    ("question_id", "value", "hint"),
    [
        ("pick-one", 2, "as a string"),
        ("pick-one", ["b"], "not a list"),
        ("pick-one", "z", "not one of the choices"),
        ("pick-many", "a", "list of choice ids"),
        ("pick-many", 3, "list of choice ids"),
        ("pick-many", ["a", "q"], "not one of the choices"),
        ("is-it", "True", "without quotes"),
        ("is-it", 1, "True or False"),
        ("how-much", "1.22", "without quotes"),
        ("how-much", True, "takes a number"),
        ("how-much", [1.22], "takes a number"),
        ("how-much", float("nan"), "finite"),
        ("how-much", float("inf"), "finite"),
        ("count", object(), "takes a number"),
    ],
)
def test_answers_of_the_wrong_form_get_a_message_not_a_traceback(demo, question_id, value, hint):
    result = quiz.grade(demo, {question_id: value})
    feedback = next(f for f in result.questions if f.id == question_id)
    assert feedback.status == "invalid" and feedback.score == 0.0
    assert hint in feedback.message
    assert result.status == "partial"  # an attempt, even a malformed one, is not "unanswered"
    assert hint in str(result)


def test_answers_are_read_kindly_where_that_is_unambiguous(demo):
    answers = {"pick-one": " B ", "pick-many": ("c", "a", "a"), "how-much": 1.22, "count": 128.2}
    assert quiz.grade(demo, answers).score == 5.0


def test_unknown_question_ids_are_reported(demo):
    result = quiz.grade(demo, {"pick-one": "b", "pick-on": "b", "extra": 1})
    assert result.unknown == ["pick-on", "extra"]
    assert "'pick-on'" in str(result) and "'extra'" in str(result)
    assert result.score == 1.0


@pytest.mark.parametrize("answers", [None, ["b"], "b", 3])
def test_answers_that_are_not_a_dict_are_reported(demo, answers):
    result = quiz.grade(demo, answers)
    assert result.problem and "must be a dict" in result.problem
    assert result.status == "unanswered"


def test_an_answer_whose_comparison_explodes_does_not_crash_grading(demo):
    class Weird(str):
        def strip(self, *args: Any) -> str:
            raise RuntimeError("boom")

    result = quiz.grade(demo, {"pick-one": Weird("b")})
    assert result.questions[0].status == "invalid" and "boom" in result.questions[0].message


def test_gradescope_entries_follow_the_check_results_format(demo):
    result = quiz.grade(demo, {"pick-one": "b"})
    entry = result.to_gradescope()
    assert set(entry) == {"name", "score", "max_score", "status", "output", "visibility"}
    assert entry["status"] == "failed" and entry["score"] == 1.0 and entry["max_score"] == 7.0
    tests = result.to_gradescope_tests()
    assert [test["name"] for test in tests] == [f"quiz {demo}: {q}" for q in DEMO_KEY]
    assert gradescope_results(tests)["score"] == 1.0
    assert quiz.grade(demo, dict(DEMO_KEY)).to_gradescope()["status"] == "passed"


# ---------------------------------------------------------------------------
# Numeric answers: the documented acceptance rule
# ---------------------------------------------------------------------------


def _numeric_bank(correct: float, tolerance: float) -> tuple[quiz.Bank, quiz.Question]:
    draft = quiz.Question("n", "numeric", "p", "e", "", tolerance=tolerance)
    stored = quiz.answer_hash("abcdef0123456789", "n", quiz.canonical_answer(draft, correct))
    question = quiz.Question("n", "numeric", "p", "e", stored, tolerance=tolerance)
    return quiz.Bank("00_n", "t", "abcdef0123456789", (question,)), question


@settings(max_examples=200, deadline=None)
@given(
    correct=st.floats(-1e4, 1e4, allow_nan=False),
    tolerance=st.sampled_from([1e-4, 5e-4, 0.001, 0.01, 0.05, 0.5, 2.0]),
    fraction=st.floats(-0.999, 0.999),
)
def test_numeric_answers_closer_than_the_tolerance_are_accepted(correct, tolerance, fraction):
    bank, question = _numeric_bank(correct, tolerance)
    assert quiz.is_correct(bank, question, correct + fraction * tolerance)


@settings(max_examples=200, deadline=None)
@given(
    correct=st.floats(-1e4, 1e4, allow_nan=False),
    tolerance=st.sampled_from([1e-4, 5e-4, 0.001, 0.01, 0.05, 0.5, 2.0]),
    factor=st.floats(1.101, 50.0),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_numeric_answers_beyond_1_1_tolerances_are_rejected(correct, tolerance, factor, sign):
    bank, question = _numeric_bank(correct, tolerance)
    assert not quiz.is_correct(bank, question, correct + sign * factor * tolerance)


def test_integer_counts_accept_only_the_right_integer(demo):
    bank = quiz.load_bank(demo)
    question = bank.question("count")
    assert quiz.is_correct(bank, question, 128)
    assert not quiz.is_correct(bank, question, 127) and not quiz.is_correct(bank, question, 129)


# ---------------------------------------------------------------------------
# Malformed banks
# ---------------------------------------------------------------------------

GOOD_QUESTION = """
[[questions]]
id = "{id}"
kind = "{kind}"
prompt = "A question?"
{extra}
explanation = "Because."
answer = "sha256:{digest}"
"""
CHOICES = 'choices = [{ id = "a", text = "yes" }, { id = "b", text = "no" }]'


def _bank_text(*questions: str, salt: str = "0123456789abcdef") -> str:
    return f'title = "Broken"\nsalt = "{salt}"\n' + "".join(questions)


def _question(id: str = "q-one", kind: str = "single", extra: str = CHOICES, **drop: Any) -> str:
    text = GOOD_QUESTION.format(id=id, kind=kind, extra=extra, digest="0" * 64)
    for field in drop:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(field))
    return text


@pytest.mark.parametrize(
    ("questions", "expected"),
    [
        ((_question(), _question(kind="truefalse", extra="", explanation=True)),
         "question 2 ('q-one'): missing field 'explanation'"),
        ((_question(), _question(id="q-two", kind="multiple", prompt=True)),
         "question 2 ('q-two'): missing field 'prompt'"),
        ((_question(), _question()), "question 2 ('q-one'): duplicate id 'q-one'"),
        ((_question(kind="essay"),), "question 1 ('q-one'): unknown kind 'essay'"),
        ((_question(kind="numeric", extra=""),),
         "question 1 ('q-one'): a numeric question needs a 'tolerance'"),
        ((_question(kind="numeric", extra="tolerance = -1"),), "needs a 'tolerance' > 0"),
        ((_question(kind="single", extra=""),), "question 1 ('q-one'): 'choices' must be a list"),
        ((_question(kind="truefalse"),), "a truefalse question takes no 'choices'"),
        ((_question(extra='choices = [{ id = "a", text = "x" }, { id = "a", text = "y" }]'),),
         "duplicate choice id 'a'"),
        ((_question(extra=CHOICES + '\nexplaination = "typo"'),), "unknown field 'explaination'"),
        ((_question(id="Bad Id"),), "'id' must be lowercase"),
        ((_question().replace("0" * 64, "abc"),), "'answer' must be 'sha256:'"),
        ((_question(answer=True),), "question 1 ('q-one'): missing field 'answer'"),
        ((_question(id=""),), "question 1: 'id' must be a non-empty string"),
    ],
)  # fmt: skip
def test_a_malformed_bank_fails_naming_the_file_and_the_question(tmp_path, questions, expected):
    path = tmp_path / "05_broken.toml"
    path.write_text(_bank_text(*questions), encoding="utf-8")
    with pytest.raises(quiz.BankError) as raised:
        quiz.load_bank(path)
    message = str(raised.value)
    assert str(path) in message and expected in message, message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_bank_text(_question(), salt="xyz"), "'salt' must be"),
        ('salt = "0123456789abcdef"\n' + _question(), "'title' must be"),
        (_bank_text(), "no [[questions]]"),
        ("extra = 1\n" + _bank_text(_question()), "unknown top-level key 'extra'"),
        ('title = "x"\n[[questions]\n', "not a readable TOML file"),
    ],
)
def test_bank_level_problems_name_the_file(tmp_path, text, expected):
    path = tmp_path / "06_broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(quiz.BankError) as raised:
        quiz.load_bank(path)
    assert str(path) in str(raised.value) and expected in str(raised.value)


def test_an_unknown_stem_lists_the_banks_there_are(demo):
    with pytest.raises(quiz.BankError, match=f"the banks are: {DEMO_STEM}"):
        quiz.grade("99_nothing", {})


# ---------------------------------------------------------------------------
# What a notebook displays
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "status"),
    [({}, "unanswered"), ({"pick-one": "a"}, "partial"), (dict(DEMO_KEY), "full-marks")],
)
def test_the_shown_quiz_carries_the_result_mimetype(demo, answers, status):
    bundle = quiz.show(demo, answers)._repr_mimebundle_()
    payload = bundle[RESULT_MIMETYPE]
    assert payload["kind"] == "quiz" and payload["name"] == demo
    assert payload["status"] == status and payload["passed"] == (status == "full-marks")
    assert set(payload) == {"kind", "name", "passed", "status", "score", "max_score", "summary"}
    json.dumps(payload)  # must be JSON
    assert "Which letter comes second?" in bundle["text/plain"]
    assert "Which letter comes second?" in bundle["text/html"]


def test_headless_output_shows_feedback_only_for_answered_questions(demo):
    bundle = quiz.show(demo, {"pick-one": "a"})._repr_mimebundle_()
    text = bundle["text/plain"]
    assert "✘ Not quite." in text and "B is the second letter." in text
    assert "A and E are vowels." not in text  # unanswered: no spoiler
    assert "B is the second letter." in bundle["text/html"]


def test_the_result_of_grade_displays_itself(demo):
    result = quiz.grade(demo, {"pick-one": "b"})
    assert result._repr_mimebundle_()[RESULT_MIMETYPE]["status"] == "partial"
    assert "pick-one" in result._repr_html_() and "✔" in result._repr_html_()


def test_markdown_keeps_latex_intact():
    html = quiz.markdown_html(r"Use **this**: $a_1 * b_2 < c_{*}$ and $$\sum_i x_i$$")
    assert "<strong>this</strong>" in html
    assert r"$a_1 * b_2 &lt; c_{*}$" in html and r"$$\sum_i x_i$$" in html


def test_answers_literal_round_trips_through_literal_eval():
    answers = {"b": [" x", 'say "hi"'], "a": 1.5, "c": True, "d": 3, "e": "it's"}
    literal = quiz.answers_literal(answers, ["a", "b"])
    assert literal.startswith('quiz_answers = {\n    "a": 1.5,\n    "b": [')
    assert ast.literal_eval(literal.split("=", 1)[1].strip()) == answers
    assert quiz.answers_literal({}) == "quiz_answers = {}"


def test_importing_the_quiz_does_not_import_tensorflow_keras_or_matplotlib():
    code = (
        "import sys, bncourse.quiz\n"
        "before = {m.split('.')[0] for m in sys.modules}\n"
        "bncourse.quiz.grade('03_the_four_steps', {})\n"
        "bncourse.quiz.show('03_the_four_steps', {})._repr_mimebundle_()\n"
        "after = {m.split('.')[0] for m in sys.modules}\n"
        "print(' '.join(sorted(before)), '|', ' '.join(sorted(after)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    before, after = (set(part.split()) for part in output.split("|"))
    heavy = {"tensorflow", "keras", "matplotlib"}
    assert not before & (heavy | {"ipywidgets"}), before & (heavy | {"ipywidgets"})
    assert not after & heavy, after & heavy


# ---------------------------------------------------------------------------
# The real banks
# ---------------------------------------------------------------------------


def test_every_lesson_has_a_valid_bank_of_six_to_twelve_questions():
    assert quiz.stems() == LESSON_STEMS
    banks = [quiz.load_bank(stem) for stem in LESSON_STEMS]
    assert all(len(bank.questions) >= 6 for bank in banks)
    assert all(len(bank.questions) <= 12 for bank in banks)  # a quiz, not an exam
    kinds = {question.kind for bank in banks for question in bank.questions}
    assert kinds == set(quiz.KINDS)
    for bank in banks:
        for question in bank.questions:
            assert "TODO" not in question.prompt + question.explanation, question.id


@pytest.mark.parametrize("stem", LESSON_STEMS)
def test_every_real_bank_renders(stem):
    result = quiz.grade(stem, {})
    assert result.status == "unanswered" and result.max_score >= 6
    bundle = quiz.show(stem, {})._repr_mimebundle_()
    assert bundle[RESULT_MIMETYPE]["status"] == "unanswered"


@pytest.mark.parametrize("stem", LESSON_STEMS)
def test_every_bank_matches_the_answer_key_in_its_solution_notebook(stem):
    """Fails until solutions/<stem>.ipynb has its quiz cell with the full answer key."""
    notebook = ROOT / "solutions" / f"{stem}.ipynb"
    assert notebook.is_file(), f"{notebook} is missing"
    key = read_quiz_answers(notebook, stem, solution=True)
    problems = key_problems(quiz.load_bank(stem), key)
    assert not problems, "\n".join(problems)
    assert quiz.grade(stem, key).status == "full-marks"


def test_key_problems_name_each_disagreement(demo):
    bank = quiz.load_bank(demo)
    key = {**DEMO_KEY, "pick-one": "c", "how-much": "1.2", "extra": 1}
    del key["is-it"]
    problems = "\n".join(key_problems(bank, key))
    assert "'pick-one': the stored hash does not match" in problems
    assert "'how-much': the key's answer is malformed" in problems
    assert "'is-it': the answer key has no answer" in problems
    assert "'extra', which is not a question" in problems
    assert key_problems(bank, DEMO_KEY) == []


def test_bank_folder_can_be_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("BNCOURSE_QUIZZES", str(tmp_path))
    assert quiz.quiz_dir() == tmp_path and quiz.stems() == []
    monkeypatch.delenv("BNCOURSE_QUIZZES")
    assert quiz.quiz_dir() == ROOT / "quizzes"
