"""Authors' quiz tools: hashing, validation, and the answer key in solution notebooks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from bncourse import quiz
from bncourse.grading.result import RESULT_MIMETYPE
from bncourse.quiz.authoring import (
    QuizKeyError,
    hash_for,
    key_problems,
    main,
    parse_answer,
    quiz_cell,
    quiz_cell_source,
    read_quiz_answers,
    validate,
)
from bncourse.tooling.build import stub_source

from .test_quiz import DEMO_KEY, DEMO_STEM, LESSON_STEMS, ROOT, write_demo_bank


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo bank as the only bank; returns the banks' folder."""
    folder = tmp_path / "quizzes"
    write_demo_bank(folder)
    monkeypatch.setenv("BNCOURSE_QUIZZES", str(folder))
    return folder


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [new_markdown_cell("# Lesson 01: demo")] + [new_code_cell(s) for s in sources]
    path.write_text(nbformat.writes(new_notebook(cells=cells)), encoding="utf-8")
    return path


def run_cell(source: str) -> dict[str, Any]:
    """Execute a quiz cell as a notebook would and return what its last line displays."""
    *body, last = source.rstrip().splitlines()
    namespace: dict[str, Any] = {}
    exec("\n".join(body), namespace)  # noqa: S102 - our own generated cell
    return eval(last, namespace)._repr_mimebundle_()  # noqa: S307


# ---------------------------------------------------------------------------
# The quiz cell and the answer key
# ---------------------------------------------------------------------------


def test_the_quiz_cell_follows_the_authoring_guide(demo):
    source = quiz_cell_source(DEMO_STEM, DEMO_KEY)
    lines = source.splitlines()
    assert lines[:4] == ["from bncourse import quiz", "", "quiz_answers = {}", "### BEGIN SOLUTION"]
    assert lines[-2:] == ["### END SOLUTION", f'quiz.show("{DEMO_STEM}", quiz_answers)']


def test_the_answer_key_is_read_from_a_solution_notebook(demo, tmp_path):
    notebook = write_notebook(
        tmp_path / f"{DEMO_STEM}.ipynb", "x = 1", quiz_cell_source(DEMO_STEM, DEMO_KEY)
    )
    key = read_quiz_answers(notebook, DEMO_STEM, solution=True)
    assert key == DEMO_KEY
    assert key_problems(quiz.load_bank(DEMO_STEM), key) == []
    assert quiz_cell(notebook).index == 2


def test_the_solution_shows_full_marks_and_the_lesson_an_empty_sheet(demo):
    solution = quiz_cell_source(DEMO_STEM, DEMO_KEY)
    lesson = stub_source(solution)
    assert "BEGIN SOLUTION" not in lesson and "quiz_answers = {}" in lesson
    assert run_cell(solution)[RESULT_MIMETYPE]["status"] == "full-marks"
    assert run_cell(lesson)[RESULT_MIMETYPE]["status"] == "unanswered"


def test_a_lesson_notebook_has_no_key_but_its_answers_can_be_read(demo, tmp_path):
    learner = stub_source(quiz_cell_source(DEMO_STEM, DEMO_KEY)).replace(
        "quiz_answers = {}", 'quiz_answers = {"pick-one": "a"}'
    )
    notebook = write_notebook(tmp_path / "lesson.ipynb", learner)
    assert read_quiz_answers(notebook) == {"pick-one": "a"}
    with pytest.raises(QuizKeyError, match="between the solution markers"):
        read_quiz_answers(notebook, solution=True)


def test_the_key_is_parsed_never_executed(demo, tmp_path):
    marker = tmp_path / "ran"
    cell = (
        "from bncourse import quiz\n\nquiz_answers = {}\n### BEGIN SOLUTION\n"
        f"quiz_answers = {{'a': open({str(marker)!r}, 'w').write('x')}}\n"
        f'### END SOLUTION\nquiz.show("{DEMO_STEM}", quiz_answers)'
    )
    notebook = write_notebook(tmp_path / "evil.ipynb", cell)
    with pytest.raises(QuizKeyError, match=r"cell 2 .*line 5: `quiz_answers` must be a literal"):
        read_quiz_answers(notebook, solution=True)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("sources", "stem", "expected"),
    [
        (["x = 1"], None, "no quiz cell"),
        (['quiz.show("01_demo", {})', 'quiz.show("01_demo", {})'], None, "several quiz cells"),
        (['quiz.show("02_other", quiz_answers)'], "01_demo", "quiz.show('01_demo', ...)"),
        (['quiz.show("01_demo", quiz_answers'], None, "does not parse"),
        (['quiz.show("01_demo", quiz_answers)'], None, "no `quiz_answers = {...}`"),
        (['quiz_answers = [1]\nquiz.show("01_demo", quiz_answers)'], None, "must be a dict"),
    ],
)
def test_unreadable_quiz_cells_name_the_notebook(tmp_path, sources, stem, expected):
    notebook = write_notebook(tmp_path / "broken.ipynb", *sources)
    with pytest.raises(QuizKeyError) as raised:
        read_quiz_answers(notebook, stem)
    assert str(notebook) in str(raised.value) and expected in str(raised.value)


def test_a_missing_notebook_is_named(tmp_path):
    with pytest.raises(QuizKeyError, match="no such notebook"):
        read_quiz_answers(tmp_path / "nothing.ipynb")


def test_the_stem_picks_the_right_quiz_cell(tmp_path):
    notebook = write_notebook(
        tmp_path / "two.ipynb",
        'quiz_answers = {"a": 1}\nbncourse.quiz.show("01_demo", quiz_answers)',
        'quiz_answers = {"b": 2}\nquiz.show("02_other", quiz_answers)',
    )
    assert read_quiz_answers(notebook, "01_demo") == {"a": 1}
    assert read_quiz_answers(notebook, "02_other") == {"b": 2}


# ---------------------------------------------------------------------------
# Hashing and validating
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("b", "single", "b"),
        ("'b'", "single", "b"),
        ("a,c", "multiple", ["a", "c"]),
        ("['a', 'c']", "multiple", ["a", "c"]),
        ("True", "truefalse", True),
        ("false", "truefalse", False),
        ("0.25", "numeric", 0.25),
        ("1e-3", "numeric", 0.001),
    ],
)
def test_answers_typed_on_the_command_line(text, kind, value):
    assert parse_answer(text, kind) == value


def test_the_hash_command_prints_the_stored_line(demo, capsys):
    assert main(["hash", DEMO_STEM, "pick-many", "c,a"]) == 0
    line = capsys.readouterr().out.strip()
    assert line in (demo / f"{DEMO_STEM}.toml").read_text()
    assert main(["--quizzes", str(demo), "hash", DEMO_STEM, "how-much", "1.2247"]) == 0


@pytest.mark.parametrize(
    ("question_id", "answer", "expected"),
    [("nope", "b", "no single question 'nope'"), ("pick-one", "z", "not one of the choices")],
)
def test_the_hash_command_explains_what_is_wrong(demo, capsys, question_id, answer, expected):
    assert main(["hash", DEMO_STEM, question_id, answer]) == 1
    error = capsys.readouterr().err
    assert expected in error and f"{DEMO_STEM}.toml" in error


def test_hashing_works_while_the_answer_is_a_placeholder(tmp_path):
    path = tmp_path / "01_new.toml"
    path.write_text(
        'title = "t"\nsalt = "0123456789abcdef"\n[[questions]]\nid = "q"\nkind = "numeric"\n'
        'tolerance = 0.1\nprompt = "p"\nexplanation = "e"\nanswer = "to do"\n'
    )
    assert hash_for(path, "q", 2.5).startswith("sha256:")
    with pytest.raises(quiz.AnswerFormError, match="'q'"):
        hash_for(path, "q", "2.5")


def test_validate_with_a_key_file(demo, tmp_path, capsys):
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({DEMO_STEM: DEMO_KEY}))
    assert main(["validate", "--key", str(key_file)]) == 0
    assert "ok: 1 banks, 6 questions and their answer key" in capsys.readouterr().out
    key_file.write_text(json.dumps({DEMO_STEM: {**DEMO_KEY, "pick-one": "a"}, "02_x": {}}))
    assert main(["validate", "--key", str(key_file)]) == 1
    output = capsys.readouterr().out
    assert f"{DEMO_STEM}.toml: question 'pick-one': the stored hash does not match" in output
    assert "'02_x', for which there is no bank" in output


def test_validate_against_solution_notebooks(demo, tmp_path, capsys):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    assert main(["validate", "--solutions", str(solutions)]) == 1
    assert "no such notebook" in capsys.readouterr().out
    write_notebook(solutions / f"{DEMO_STEM}.ipynb", quiz_cell_source(DEMO_STEM, DEMO_KEY))
    assert main(["validate", "--solutions", str(solutions)]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 banks")
    assert main(["key", "--solutions", str(solutions)]) == 0
    assert json.loads(capsys.readouterr().out) == {DEMO_STEM: DEMO_KEY}


def test_the_cell_command_prints_a_cell_whose_key_reads_back(demo, tmp_path, capsys):
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({DEMO_STEM: DEMO_KEY}))
    assert main(["cell", DEMO_STEM, "--key", str(key_file)]) == 0
    source = capsys.readouterr().out
    notebook = write_notebook(tmp_path / "n.ipynb", source)
    assert read_quiz_answers(notebook, DEMO_STEM, solution=True) == DEMO_KEY


def test_validate_reports_malformed_banks_by_file_and_question(tmp_path, capsys):
    folder = write_demo_bank(tmp_path / "quizzes").parent
    broken = (folder / f"{DEMO_STEM}.toml").read_text().replace('kind = "truefalse"', 'kind = "?"')
    (folder / "02_broken.toml").write_text(broken)
    problems = validate(folder)
    assert any("02_broken.toml: question 3 ('is-it'): unknown kind '?'" in p for p in problems)
    assert main(["--quizzes", str(folder), "validate"]) == 1
    assert "02_broken.toml: question 6 ('is-not'): unknown kind '?'" in capsys.readouterr().out


def test_validate_wants_six_questions_per_bank(tmp_path):
    folder = write_demo_bank(tmp_path / "quizzes").parent
    assert validate(folder) == []
    assert "a lesson's bank needs at least 7" in validate(folder, min_questions=7)[0]
    assert validate(tmp_path / "empty") == [f"{tmp_path / 'empty'}: no quiz banks (*.toml)"]


# ---------------------------------------------------------------------------
# The real banks
# ---------------------------------------------------------------------------


def test_the_real_banks_pass_validation(capsys):
    assert validate() == []
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: 11 banks")


def _real_key() -> dict[str, Any]:
    """The answer key: from $BNCOURSE_QUIZ_KEYS (a JSON file) if set, else the solutions."""
    configured = os.environ.get("BNCOURSE_QUIZ_KEYS")
    if configured:
        return json.loads(Path(configured).read_text(encoding="utf-8"))
    return {
        stem: read_quiz_answers(ROOT / "solutions" / f"{stem}.ipynb", stem, solution=True)
        for stem in LESSON_STEMS
    }


def test_options_that_give_the_answer_away_by_length_fail_validation(tmp_path):
    from bncourse.quiz.authoring import giveaway_problems

    choices = [
        {"id": "a", "text": "Short."},
        {"id": "b", "text": "A much longer and more careful-sounding correct answer."},
        {"id": "c", "text": "Also short."},
    ]
    questions = [
        {
            "id": f"q{i}",
            "kind": "single",
            "prompt": "?",
            "choices": choices,
            "explanation": "-",
            "answer": "sha256:" + "0" * 64,
        }
        for i in range(3)
    ]
    bank = quiz.parse_bank({"title": "t", "salt": "ab" * 12, "questions": questions}, "demo")
    problems = giveaway_problems(bank, {"q0": "b", "q1": "a", "q2": "c"})
    assert len(problems) == 1 and "question 'q0'" in problems[0] and "1.3 times" in problems[0]
    problems = giveaway_problems(bank, {"q0": "b", "q1": "b", "q2": "a"})
    assert "the correct option is the longest in 2 of 3" in problems[-1]
    assert giveaway_problems(bank, {"q0": "a", "q1": "c", "q2": "a"}) == []


def test_the_real_banks_validate_against_their_key_in_solution_like_notebooks(tmp_path, capsys):
    key = _real_key()
    for stem in LESSON_STEMS:
        write_notebook(tmp_path / f"{stem}.ipynb", quiz_cell_source(stem, key[stem]))
    assert main(["validate", "--solutions", str(tmp_path)]) == 0, capsys.readouterr().out
    for stem in LESSON_STEMS:
        assert quiz.grade(stem, key[stem]).status == "full-marks"
