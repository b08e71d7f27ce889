"""Every solution notebook, run once more under a perturbation: its claims must still hold.

Fixed seeds make a run repeatable on one machine, not across CPUs, thread counts or
library builds. Each notebook runs here under one perturbation from
``bncourse.tooling.runs.PERTURBATIONS`` (another base seed, oneDNN off, one CPU thread, or
all at once), chosen so that the Keras notebooks between them cover every one. The full
table, every notebook under every perturbation, is ``benchmarks/perturbed.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bncourse.tooling.runs import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb"))
KERAS_ROTATION = ["onednn-off", "one-thread", "seed+1000", "all-at-once", "seed+7919"]
NUMPY_ROTATION = ["seed+7919", "seed+1000"]


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
def test_claims_hold_under_a_perturbation(notebook: Path, perturbation: str):
    run = run_notebook(notebook, perturbation, cwd=ROOT)
    problems = [f"error in {run.error}"] if run.error else []
    problems += [f"claim did not hold: {statement}" for statement in run.failed_claims]
    problems += [f"stderr output (a pink box in the notebook) in {text}" for text in run.stderr]
    assert not problems, f"{notebook.name} under {perturbation}:\n" + "\n".join(problems)


def test_every_keras_notebook_is_perturbed_and_the_rotation_covers_every_perturbation():
    assigned = dict(_assignments())
    keras = [p for p in NOTEBOOKS if _uses_keras(p)]
    assert keras and all(p in assigned for p in keras)
    if len(keras) >= len(KERAS_ROTATION):
        assert {assigned[p] for p in keras} == set(KERAS_ROTATION)
