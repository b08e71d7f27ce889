"""bncourse progress: what a learner's saved notebooks show, lesson by lesson."""

from __future__ import annotations

import nbformat

from bncourse.claims import RESULT_MIMETYPE
from bncourse.quiz.widget import ANSWERS_MIMETYPE
from bncourse.tooling.progress import main, progress

STEM = "03_the_four_steps"


def _output(mimetype: str, payload: dict) -> dict:
    return nbformat.v4.new_output("display_data", data={mimetype: payload})


def _saved_lesson(folder):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_markdown_cell("# Lesson 03: The four steps\n\n**Time:** about 50 minutes.")
    )
    checks = nbformat.v4.new_code_cell("check(...)")
    checks.outputs = [
        _output(RESULT_MIMETYPE, {"kind": "check", "name": "batch_mean", "status": "failed"}),
        _output(RESULT_MIMETYPE, {"kind": "check", "name": "batch_mean", "status": "passed"}),
        _output(RESULT_MIMETYPE, {"kind": "check", "name": "normalize", "status": "failed"}),
        _output(
            RESULT_MIMETYPE, {"kind": "check", "name": "scale_shift", "status": "not-attempted"}
        ),
        _output(RESULT_MIMETYPE, {"kind": "hint", "name": "normalize", "level": 2}),
    ]
    quiz_cell = nbformat.v4.new_code_cell("quiz.show(...)")
    record = {"stem": STEM, "answers": {"eps-placement": "b"}, "first_attempt": None}
    quiz_cell.outputs = [_output(ANSWERS_MIMETYPE, record)]
    nb.cells += [checks, quiz_cell]
    nbformat.write(nb, folder / f"{STEM}.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), folder / "notes.ipynb")  # not a lesson: ignored


def test_progress_counts_passed_attempted_hints_and_the_quiz(tmp_path):
    _saved_lesson(tmp_path)
    (lesson,) = progress(tmp_path).lessons
    assert lesson.title == "The four steps" and lesson.minutes == 50
    assert lesson.passed == ["batch_mean"]
    assert lesson.attempted == ["batch_mean", "normalize"]
    assert lesson.hints == {"normalize": 2}
    assert (lesson.quiz_score, lesson.quiz_max) == (1.0, 7.0)


def test_the_command_prints_a_table(tmp_path, capsys):
    _saved_lesson(tmp_path)
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "03  The four steps  50 min  1/6     2/6        2      1/7" in out
    assert "1 of 6 exercises passed" in out
    assert main([str(tmp_path / "missing")]) == 2


def test_an_optional_exercise_is_counted_apart_from_the_graded_ones(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Lesson 05: Backprop\n"))
    checks = nbformat.v4.new_code_cell("check(...)")
    checks.outputs = [
        _output(RESULT_MIMETYPE, {"kind": "check", "name": "bn_dx_hat", "status": "passed"}),
        _output(
            RESULT_MIMETYPE,
            {"kind": "check", "name": "batchnorm_backward_compact", "status": "passed"},
        ),
    ]
    nb.cells.append(checks)
    nbformat.write(nb, tmp_path / "05_backprop_through_bn.ipynb")
    summary = progress(tmp_path)
    (lesson,) = summary.lessons
    assert "batchnorm_backward_compact" in lesson.optional
    assert "batchnorm_backward_compact" not in lesson.exercises
    assert lesson.count(lesson.passed) == f"1/{len(lesson.exercises)} + 1/1 optional"
    assert f"1 of {len(lesson.exercises)} exercises passed" in str(summary)
