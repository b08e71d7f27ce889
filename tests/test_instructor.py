"""`bncourse grade`: hostile and broken submissions, the outputs, the sandbox."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bncourse.grading import EXERCISES
from bncourse.instructor import grade_paths, main
from bncourse.instructor.report import result_folder
from bncourse.instructor.sandbox import bubblewrap_available

LESSON = "03_the_four_steps"
LESSON_IDS = [name for name, e in EXERCISES.items() if e.lesson == LESSON]
SETUP = "import numpy as np"
GOOD_MEAN = "def batch_mean(x):\n    return x.mean(axis=tuple(range(x.ndim - 1)))"
GOOD_VAR = "def batch_variance(x):\n    return x.var(axis=tuple(range(x.ndim - 1)))"
needs_bwrap = pytest.mark.skipif(not bubblewrap_available(), reason="bubblewrap not usable")


def notebook(*cells: str | tuple[str, list[str]], lesson: str | None = LESSON) -> str:
    nb = nbformat.v4.new_notebook()
    if lesson:
        nb.metadata["bncourse"] = {"lesson": lesson}
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
    return nbformat.writes(nb)


def grade(tmp_path: Path, files: dict[str, str], **options) -> dict[str, dict[str, str]]:
    submissions = tmp_path / "submissions"
    submissions.mkdir(exist_ok=True)
    for name, text in files.items():
        (submissions / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    settings = {"timeout": 20.0, "check_timeout": 1.0, "jobs": 2} | options
    grade_paths([submissions], out, **settings)
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {Path(row["submission"]).name: row for row in rows}


def results_json(tmp_path: Path, file_name: str) -> dict:
    folder = result_folder(f"submissions/{file_name}")
    return json.loads((tmp_path / "out" / "submissions" / folder / "results.json").read_text())


def test_a_correct_submission_scores_its_exercises(tmp_path):
    rows = grade(tmp_path, {"good.ipynb": notebook(SETUP, GOOD_MEAN, GOOD_VAR)})
    row = rows["good.ipynb"]
    assert row["status"] == "ok"
    assert row["batch_mean"] == "1" and row["batch_variance"] == "1"
    assert float(row["max_score"]) >= len(LESSON_IDS)
    assert set(LESSON_IDS) <= set(row)


def test_broken_and_hostile_submissions_each_get_a_row_and_a_status(tmp_path):
    files = {
        "not json.ipynb": "{this is not json",
        "wrong schema.ipynb": json.dumps({"cells": "nope", "nbformat": 4, "nbformat_minor": 5}),
        "empty.ipynb": notebook(),
        "os exit.ipynb": notebook(SETUP, GOOD_MEAN + "\nimport os\n_ = os._exit(3)"),
        "os exit in check.ipynb": notebook(
            SETUP, GOOD_MEAN, "import os\ndef batch_variance(x):\n    os._exit(3)"
        ),
        "loops at top level.ipynb": notebook(
            SETUP, GOOD_MEAN + "\nwhile True:\n    pass", GOOD_VAR
        ),
        "loops in function.ipynb": notebook(
            SETUP, "def batch_mean(x):\n    while True:\n        pass", GOOD_VAR
        ),
        "sleeps.ipynb": notebook(SETUP, "import time\ndef batch_mean(x):\n    time.sleep(60)"),
        "sys exit.ipynb": notebook(SETUP, GOOD_MEAN + "\nimport sys\n_ = sys.exit(0)", GOOD_VAR),
        "fails midway.ipynb": notebook(SETUP, GOOD_MEAN + "\nraise RuntimeError('oops')", GOOD_VAR),
        "garbage.ipynb": notebook(
            SETUP,
            "def batch_mean(x):\n    return 'garbage'",
            "def batch_variance(x):\n    return np.full(x.shape[-1], np.nan)",
        ),
        "memory hog.ipynb": notebook(SETUP, GOOD_MEAN + "\nhog = bytearray(3 * 1024**3)"),
        "prints a lot.ipynb": notebook(
            SETUP,
            GOOD_MEAN
            + "\n_ = print('x' * 50_000_000)\nimport os\n_ = os.write(1, b'y' * 20_000_000)",
        ),
        "日本語 name with spaces.ipynb": notebook(SETUP, GOOD_MEAN),
    }
    rows = grade(tmp_path, files, timeout=15.0, check_timeout=1.0, memory_mb=1024)
    assert set(rows) == set(files)
    status = {name: row["status"] for name, row in rows.items()}
    assert status["not json.ipynb"] == "unreadable"
    assert status["wrong schema.ipynb"] == "unreadable"
    assert status["empty.ipynb"] == "empty"
    assert status["os exit.ipynb"] == "crashed"
    assert status["os exit in check.ipynb"] == "crashed"
    assert rows["os exit in check.ipynb"]["batch_mean"] == "1"  # graded before the crash
    assert (
        "while checking batch_variance"
        in results_json(tmp_path, "os exit in check.ipynb")["output"]
    )
    assert status["memory hog.ipynb"] == "memory"
    for name in ("loops at top level.ipynb", "sys exit.ipynb", "fails midway.ipynb"):
        assert status[name] == "ok", name
        assert rows[name]["batch_mean"] == "1", name  # defined before the failure
        assert rows[name]["batch_variance"] == "1", name  # defined after it
    for name in ("loops in function.ipynb", "sleeps.ipynb"):
        assert status[name] == "ok" and rows[name]["batch_mean"] == "0"
        assert "did not return within 1 s" in results_json(tmp_path, name)["tests"][0]["output"]
    assert (
        rows["garbage.ipynb"]["batch_mean"] == "0"
        and rows["garbage.ipynb"]["batch_variance"] == "0"
    )
    assert rows["prints a lot.ipynb"]["batch_mean"] == "1"
    assert rows["日本語 name with spaces.ipynb"]["batch_mean"] == "1"
    top_level = results_json(tmp_path, "loops at top level.ipynb")["output"]
    assert "timed out" in top_level and "cell 2" in top_level
    assert "cell 2: RuntimeError: oops" in results_json(tmp_path, "fails midway.ipynb")["output"]


def test_experiment_cells_never_run(tmp_path):
    rows = grade(
        tmp_path,
        {"slow.ipynb": notebook(SETUP, ("import time\ntime.sleep(60)", ["experiment"]), GOOD_MEAN)},
        timeout=10.0,
    )
    assert rows["slow.ipynb"]["status"] == "ok" and rows["slow.ipynb"]["batch_mean"] == "1"


def test_a_submission_cannot_change_how_it_is_judged(tmp_path):
    cheat = (
        "import numpy as np\n"
        "import bncourse.grading.judge as judge\n"
        "judge.close = lambda got, expected: True\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, **k: np.ones(np.shape(b), bool)\n"
        "def batch_mean(x):\n    return np.zeros(x.shape[-1])"
    )
    rows = grade(tmp_path, {"cheat.ipynb": notebook(cheat)})
    assert rows["cheat.ipynb"]["batch_mean"] == "0"


def test_gradebook_gradescope_and_misconception_outputs(tmp_path):
    unbiased = "def batch_variance(x):\n    return x.var(axis=tuple(range(x.ndim - 1)), ddof=1)"
    per_position = "def batch_mean(x):\n    return x.mean(axis=0)"
    files = {
        "a.ipynb": notebook(SETUP, GOOD_MEAN, unbiased),
        "b.ipynb": notebook(SETUP, per_position, unbiased),
        "c.ipynb": notebook(SETUP, GOOD_MEAN, GOOD_VAR),
    }
    rows = grade(tmp_path, files)
    header = list(rows["a.ipynb"])
    assert header[:4] == ["submission", "status", "score", "max_score"]
    assert header[4 : 4 + len(LESSON_IDS)] == LESSON_IDS
    assert rows["b.ipynb"]["batch_mean"] == "0.8"  # right for the 4 dense batches, wrong for 4-D
    with (tmp_path / "out" / "misconceptions.csv").open() as handle:
        counts = {(r["exercise"], r["diagnosis"]): int(r["count"]) for r in csv.DictReader(handle)}
    assert counts[("batch_variance", "unbiased-variance")] == 2
    assert counts[("batch_mean", "wrong-axis")] == 1
    gradescope = results_json(tmp_path, "a.ipynb")
    assert set(gradescope) >= {"score", "tests", "output"}
    assert gradescope["score"] == pytest.approx(float(rows["a.ipynb"]["score"]))
    for test in gradescope["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
    variance = next(t for t in gradescope["tests"] if t["name"] == "batch_variance")
    assert variance["status"] == "failed" and "m - 1" in variance["output"]


def test_command_line_exit_codes_and_summary(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    unbiased = "def batch_variance(x):\n    return x.var(axis=tuple(range(x.ndim - 1)), ddof=1)"
    (folder / "one.ipynb").write_text(notebook(SETUP, unbiased))
    (folder / "two.ipynb").write_text("not a notebook")
    (folder / "three.ipynb").write_text(notebook(SETUP, GOOD_MEAN + "\nraise RuntimeError('x')"))
    assert main([str(folder), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Graded 3 submission(s)" in printed
    assert "1 graded submission(s) had cells that raised or timed out" in printed
    assert "1 of 3 learners: the variance divides by m - 1 (in batch_variance)." in printed
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert main(["--out", str(tmp_path / "o")]) == 2
    assert main([str(folder), "--out", str(tmp_path / "o"), "--jobs", "0"]) == 2
    completed = subprocess.run(
        [sys.executable, "-m", "bncourse.cli", "grade"], capture_output=True, text=True
    )
    assert completed.returncode == 2


def test_without_bubblewrap_it_warns_in_one_line(tmp_path, capsys, monkeypatch):
    import bncourse.instructor as instructor

    monkeypatch.setattr(instructor, "bubblewrap_available", lambda: False)
    (tmp_path / "s.ipynb").write_text(notebook(SETUP, GOOD_MEAN))
    assert main([str(tmp_path / "s.ipynb"), "--out", str(tmp_path / "out")]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "bubblewrap" in warning[0]


@needs_bwrap
def test_sandbox_blocks_writes_outside_scratch_and_the_network(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    other = tmp_path / "submissions" / "other.ipynb"
    target_gradebook = tmp_path / "out" / "gradebook.csv"
    hostile = (
        "import socket, pathlib\n"
        f"pathlib.Path({str(other)!r}).write_text('overwritten')\n"
        "def batch_mean(x):\n"
        f"    pathlib.Path({str(target_gradebook)!r}).write_text('hacked')\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "    return x.mean(axis=tuple(range(x.ndim - 1)))\n"
    )
    rows = grade(
        tmp_path,
        {"hostile.ipynb": notebook(SETUP, hostile), "other.ipynb": notebook(SETUP, GOOD_MEAN)},
        sandbox="bwrap",
    )
    server.close()
    assert "overwritten" not in other.read_text()
    assert rows["other.ipynb"]["batch_mean"] == "1"
    assert rows["hostile.ipynb"]["batch_mean"] == "0"
    feedback = results_json(tmp_path, "hostile.ipynb")
    assert "Read-only file system" in json.dumps(feedback) or "No such file" in json.dumps(feedback)


def test_without_sandbox_other_submissions_are_still_safe(tmp_path):
    other = tmp_path / "submissions" / "z_other.ipynb"
    hostile = (
        f"import pathlib\npathlib.Path({str(other)!r}).write_text('overwritten')\n" + GOOD_MEAN
    )
    rows = grade(
        tmp_path,
        {"a_hostile.ipynb": notebook(SETUP, hostile), "z_other.ipynb": notebook(SETUP, GOOD_MEAN)},
        sandbox="none",
        jobs=1,
    )
    assert rows["z_other.ipynb"]["status"] == "ok"  # read before any submission ran
    assert rows["z_other.ipynb"]["batch_mean"] == "1"


def test_hints_a_learner_saw_reach_the_gradebook_as_columns(tmp_path):
    nb = nbformat.reads(notebook(SETUP, GOOD_MEAN, GOOD_VAR), as_version=4)
    hint_cell = nbformat.v4.new_code_cell('hint("batch_variance")')
    for level in (1, 2):  # the learner ran the hint cell twice; the outputs keep both
        payload = {"kind": "hint", "name": "batch_variance", "level": level, "levels": 3}
        hint_cell.outputs.append(
            nbformat.v4.new_output(
                "display_data", data={"application/vnd.bncourse.result+json": payload}
            )
        )
    nb.cells.append(hint_cell)
    rows = grade(tmp_path, {"helped.ipynb": nbformat.writes(nb)})
    row = rows["helped.ipynb"]
    assert row["hints:batch_variance"] == "2" and row["hints:batch_mean"] == "0"
    assert row["batch_variance"] == "1"  # information, not a penalty


def test_quiz_answers_kept_by_submit_are_graded_first_attempt_and_latest(tmp_path):
    from bncourse.quiz.widget import ANSWERS_MIMETYPE

    nb = nbformat.reads(notebook(SETUP, GOOD_MEAN, "quiz_answers = {}"), as_version=4)
    record = {
        "stem": LESSON,
        "answers": {"eps-placement": "b", "biased-variance": 5.0},  # both right
        "first_attempt": {"eps-placement": "a"},  # wrong at first
        "submissions": 2,
    }
    nb.cells[-1].outputs.append(
        nbformat.v4.new_output("display_data", data={ANSWERS_MIMETYPE: record})
    )
    rows = grade(tmp_path, {"kept.ipynb": nbformat.writes(nb)})
    row = rows["kept.ipynb"]
    assert row[f"quiz:{LESSON}"] == "0" and row[f"quiz-final:{LESSON}"] == "2"
    quiz_test = next(
        t for t in results_json(tmp_path, "kept.ipynb")["tests"] if "quiz" in t["name"]
    )
    assert quiz_test["score"] == 0 and "Latest answers: 2" in quiz_test["output"]


SANDBOXES = [
    pytest.param("bwrap", marks=needs_bwrap),
    pytest.param("none", marks=pytest.mark.skipif(sys.platform != "linux", reason="Linux only")),
]


def _running_with(token: str) -> list[str]:
    """Command lines of running processes that carry ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if token in command:
            found.append(command)
    return found


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_processes_a_submission_starts_in_a_new_session_do_not_survive_grading(tmp_path, sandbox):
    token = f"bncourse-leftover-{sandbox}-{tmp_path.name}"
    escape = (
        "import subprocess, sys\n"
        "def batch_mean(x):\n"
        "    for _ in range(3):\n"
        "        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
        f"{token!r}], start_new_session=True)\n"
        "    return x.mean(axis=tuple(range(x.ndim - 1)))\n"
    )
    rows = grade(tmp_path, {"escape.ipynb": notebook(SETUP, escape)}, sandbox=sandbox)
    assert rows["escape.ipynb"]["batch_mean"] == "1"  # it ran, and graded correctly
    assert _running_with(token) == []


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_graded_function_cannot_read_a_classmates_notebook(tmp_path, sandbox):
    secret = "classmate-secret-7f3a"
    classmate = tmp_path / "submissions" / "classmate.ipynb"
    folder = classmate.parent
    snoop = (
        "import os, pathlib\n"
        "def batch_mean(x):\n"
        f"    listing = os.listdir({str(folder)!r})\n"
        f"    text = pathlib.Path({str(classmate)!r}).read_text()\n"
        "    raise RuntimeError(str(listing) + text[:2000])\n"
    )
    files = {
        "snoop.ipynb": notebook(SETUP, snoop),
        "classmate.ipynb": notebook(SETUP, GOOD_MEAN + f"\n# {secret}"),
    }
    rows = grade(tmp_path, files, sandbox=sandbox)
    assert rows["snoop.ipynb"]["batch_mean"] == "0"
    feedback = json.dumps(results_json(tmp_path, "snoop.ipynb"))
    assert secret not in feedback and "classmate.ipynb" not in feedback
    assert "PermissionError" in feedback or "FileNotFoundError" in feedback
    assert rows["classmate.ipynb"]["batch_mean"] == "1"


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_writes_outside_the_scratch_folder_are_blocked(tmp_path, sandbox):
    outside = tmp_path / "planted.txt"
    shared_tmp = Path("/tmp") / f"bncourse-planted-{sandbox}-{tmp_path.name}"
    writer = (
        "import pathlib\n"
        "def batch_mean(x):\n"
        f"    for target in ({str(outside)!r}, {str(shared_tmp)!r}):\n"
        "        try:\n"
        "            pathlib.Path(target).write_text('planted')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return x.mean(axis=tuple(range(x.ndim - 1)))\n"
    )
    rows = grade(tmp_path, {"writer.ipynb": notebook(SETUP, writer)}, sandbox=sandbox)
    assert rows["writer.ipynb"]["batch_mean"] == "1"
    assert not outside.exists() and not shared_tmp.exists()


def test_feedback_pages_show_each_exercise_as_the_learner_saw_it(tmp_path):
    unbiased = "def batch_variance(x):\n    return x.var(axis=tuple(range(x.ndim - 1)), ddof=1)"
    files = {"ana.ipynb": notebook(SETUP, GOOD_MEAN, unbiased)}
    grade(tmp_path, files, feedback=True)
    pages = list((tmp_path / "out" / "feedback").glob("*.html"))
    assert len(pages) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Feedback: submissions/ana.ipynb" in page
    assert "✔ batch_mean: passed all" in page
    assert "Mistake: the variance divides by m - 1.</b>" in page and "<b>Hint:</b>" in page
    assert "Quiz" in page and "First attempt" in page
    assert "<script" not in page  # a page to hand back, not a program
