"""A broken claim: the learner's notebook goes on, the test suite fails and names it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from bncourse.tooling.runs import run_notebook

ROOT = Path(__file__).resolve().parents[1]
STATEMENT = "two plus two makes five on this machine"


def _notebook(path: Path) -> Path:
    cells = [
        nbformat.v4.new_code_cell(
            "from bncourse.claims import claim\n"
            f"claim({STATEMENT!r}, holds=2 + 2 == 5, numbers={{'2 + 2': 2 + 2}})"
        ),
        nbformat.v4.new_code_cell("print('the lesson goes on')"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def test_a_learner_sees_the_cross_and_the_notebook_goes_on(tmp_path, monkeypatch):
    monkeypatch.delenv("BNCOURSE_STRICT_CLAIMS", raising=False)
    notebook = nbformat.read(_notebook(tmp_path / "lesson.ipynb"), as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    first = notebook.cells[0].outputs
    assert first[0]["output_type"] == "display_data"
    assert "✘ " + STATEMENT in first[0]["data"]["text/plain"]
    assert "This run differs" in first[0]["data"]["text/html"]
    assert notebook.cells[1].outputs[0]["text"] == "the lesson goes on\n"


def test_the_test_suite_runs_kernels_with_strict_claims():
    assert os.environ.get("BNCOURSE_STRICT_CLAIMS") == "1"  # set by conftest.py


def test_under_the_runner_a_broken_claim_fails_the_run_and_names_the_claim(tmp_path):
    run = run_notebook(_notebook(tmp_path / "lesson.ipynb"), "as-written")
    assert not run.ok
    assert run.error.startswith("cell 0: ClaimFailed: claim did not hold: " + STATEMENT)
    assert run.failed_claims == [STATEMENT]


def test_nbval_with_the_projects_conftest_fails_on_a_broken_claim(tmp_path):
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    _notebook(tmp_path / "lesson.ipynb")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "lesson.ipynb",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "BNCOURSE_STRICT_CLAIMS"},
    )
    assert completed.returncode == 1, completed.stdout[-2000:]
    assert "1 failed, 1 passed" in completed.stdout
    assert STATEMENT in completed.stdout
