"""The Gradescope autograder, end to end in a folder laid out as Gradescope lays it out.

``setup.sh`` really runs (into ROOT/venv, installing the course and its pinned
dependencies with pip; apt is skipped here, ``BNCOURSE_SETUP_NO_APT=1``, because it needs
root on Gradescope's Ubuntu image), then ``run_autograder`` grades one submission per case
into ROOT/results/results.json, which must follow Gradescope's documented fields.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from bncourse.instructor.gradescope import build_autograder, validate_results

LESSON = "03_the_four_steps"
GOOD = (
    "import numpy as np\n"
    "def batch_mean(x):\n    return x.mean(axis=tuple(range(x.ndim - 1)))\n"
    "def batch_variance(x):\n    return x.var(axis=tuple(range(x.ndim - 1)))\n"
)
WRONG = "import numpy as np\ndef batch_variance(x):\n    return x.var(axis=0, ddof=1)\n"


def _notebook(source: str, lesson: str | None = LESSON) -> str:
    nb = nbformat.v4.new_notebook()
    if lesson:
        nb.metadata["bncourse"] = {"lesson": lesson}
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradescope")
    return build_autograder(LESSON, folder / "autograder.zip")


def test_the_zip_holds_both_scripts_executable_and_the_course(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        config = json.loads(archive.read("course/gradescope.json"))
    assert {"setup.sh", "run_autograder", "course/pyproject.toml"} <= names
    assert "course/bncourse/instructor/gradescope.py" in names
    assert f"course/quizzes/{LESSON}.toml" in names
    assert not any("__pycache__" in name for name in names)
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert config["lesson"] == LESSON


def test_an_unknown_lesson_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown lesson"):
        build_autograder("99_nope", tmp_path / "a.zip")


@pytest.fixture(scope="module")
def root(autograder, tmp_path_factory):
    """ROOT as Gradescope builds it: source/ is the unzipped zip, setup.sh has run."""
    root = tmp_path_factory.mktemp("autograder-root")
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BNCOURSE_SETUP_NO_APT": "1"}
    env["BNCOURSE_SETUP_PYTHON"] = shutil.which("python3.11") or sys.executable
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "setup.sh: ready" in setup.stdout
    return root


def _run(root: Path, files: dict[str, str]) -> dict:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    submission.mkdir()
    for name, text in files.items():
        (submission / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    env.pop("BNCOURSE_STRICT_CLAIMS", None)
    completed = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert validate_results(data) == []
    return data


def test_setup_installed_the_course_from_the_zip_into_its_own_environment(root):
    python = root / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import bncourse, sys; print(bncourse.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout
    assert where.startswith(str(root / "source" / "course"))


def test_a_correct_submission_gets_full_marks_for_its_exercises(root):
    data = _run(root, {f"{LESSON}.ipynb": _notebook(GOOD)})
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["batch_mean"]["score"] == tests["batch_mean"]["max_score"] == 1
    assert tests["batch_variance"]["status"] == "passed"
    assert data["extra_data"]["status"] == "ok" and data["visibility"] == "visible"


def test_a_wrong_submission_gets_the_named_mistake_and_the_hint_line(root):
    data = _run(root, {"my work.ipynb": _notebook(WRONG)})
    variance = next(t for t in data["tests"] if t["name"] == "batch_variance")
    assert variance["status"] == "failed" and variance["score"] < 1
    assert "the variance divides by m - 1" in variance["output"]
    assert data["extra_data"]["diagnoses"]["batch_variance"][0] == "unbiased-variance"


def test_a_hostile_submission_is_contained_and_still_gets_results(root):
    hostile = (
        "import os, subprocess, sys, pathlib\n"
        "pathlib.Path('/autograder/results/results.json').parent.mkdir(exist_ok=True)\n"
        "def batch_mean(x):\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)',"
        " 'gs-leftover'], start_new_session=True)\n"
        f"    pathlib.Path({str(root / 'results' / 'results.json')!r}).write_text('{{}}')\n"
        "    return x.mean(axis=tuple(range(x.ndim - 1)))\n"
    )
    data = _run(root, {f"{LESSON}.ipynb": _notebook(hostile)})
    assert any(t["name"] == "batch_mean" for t in data["tests"])  # its own write failed
    leftovers = subprocess.run(["pgrep", "-f", "gs-leftover"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""


def test_a_file_that_is_not_a_notebook_is_explained(root):
    data = _run(root, {"lesson.py": "print('hello')\n"})
    assert data["score"] == 0 and data["tests"] == []
    assert "No notebook (.ipynb) was found" in data["output"] and "lesson.py" in data["output"]
    broken = _run(root, {f"{LESSON}.ipynb": "{not json"})
    assert broken["extra_data"]["status"] == "unreadable"
    assert "not valid JSON" in broken["output"]


def test_of_two_notebooks_the_lesson_is_graded_and_the_other_named(root):
    files = {f"{LESSON}.ipynb": _notebook(GOOD), "scratch.ipynb": _notebook("x = 1", None)}
    data = _run(root, files)
    assert data["output"].startswith(f"Graded {LESSON}.ipynb; not graded: scratch.ipynb.")
    assert next(t for t in data["tests"] if t["name"] == "batch_mean")["status"] == "passed"
    two_lessons = {"a.ipynb": _notebook(GOOD), "b.ipynb": _notebook(WRONG)}
    unsure = _run(root, two_lessons)
    assert unsure["score"] == 0 and "cannot tell which one" in unsure["output"]


def test_the_validator_catches_what_gradescope_would_reject():
    assert validate_results({"score": 1, "tests": []}) == []
    problems = validate_results(
        {"tests": [{"status": "ok", "score": 2, "max_score": 1, "visibility": "students"}]}
    )
    assert any("'status'" in p for p in problems) and any("exceeds" in p for p in problems)
    assert any("visibility" in p for p in problems)
    assert validate_results({"score": "1"}) == ["'score' has the wrong type (str)"]
