"""Every solution notebook, run top to bottom once, under a perturbation.

The solutions are the course's single source; each runs here in a fresh kernel with strict
claims, under one perturbation from ``bncourse.tooling.runs.PERTURBATIONS`` (another base
seed, oneDNN off, one CPU thread, or all at once), chosen so that the Keras notebooks
between them cover every one: fixed seeds make a run repeatable on one machine, not across
CPUs, thread counts or library builds. Every cell must run, every check pass, every quiz
show full marks, every claim hold, and nothing may reach stderr (a pink box in JupyterLab).
The lessons run as written in ``tests/test_site.py``; the full table, every notebook under
every perturbation, is ``benchmarks/perturbed.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bncourse.tooling.runs import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
KERAS_ROTATION = ["onednn-off", "one-thread", "seed+1000", "all-at-once", "seed+7919"]
NUMPY_ROTATION = ["seed+7919", "seed+1000"]
EXPECTED = {"check": "passed", "quiz": "full-marks", "claim": "holds"}


def _uses_keras(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return "import keras" in text or "import tensorflow" in text


def _assignments() -> list[tuple[Path, str]]:
    keras = [p for p in NOTEBOOKS if _uses_keras(p)]
    numpy = [p for p in NOTEBOOKS if not _uses_keras(p)]
    chosen = [(p, KERAS_ROTATION[i % len(KERAS_ROTATION)]) for i, p in enumerate(keras)]
    chosen += [(p, NUMPY_ROTATION[i % len(NUMPY_ROTATION)]) for i, p in enumerate(numpy)]
    return sorted(chosen)


@pytest.mark.parametrize(
    ("notebook", "perturbation"),
    _assignments(),
    ids=[f"{p.stem}-{name}" for p, name in _assignments()],
)
def test_a_solution_runs_passes_its_checks_and_keeps_its_claims(notebook: Path, perturbation):
    run = run_notebook(notebook, perturbation, cwd=ROOT)
    problems = [f"error in {run.error}"] if run.error else []
    for payload in run.statuses:
        wanted = EXPECTED.get(payload.get("kind"))
        if wanted and payload.get("status") != wanted:
            problems.append(
                f"{payload['kind']} {payload.get('name')!r} is {payload.get('status')}, "
                f"not {wanted}: {payload.get('summary', '')}"
            )
    problems += [f"stderr output (a pink box in the notebook) in {text}" for text in run.stderr]
    assert not problems, f"{notebook.name} under {perturbation}:\n" + "\n".join(problems)


def test_every_keras_notebook_is_perturbed_and_the_rotation_covers_every_perturbation():
    assigned = dict(_assignments())
    keras = [p for p in NOTEBOOKS if _uses_keras(p)]
    assert keras and all(p in assigned for p in keras)
    if len(keras) >= len(KERAS_ROTATION):
        assert {assigned[p] for p in keras} == set(KERAS_ROTATION)
