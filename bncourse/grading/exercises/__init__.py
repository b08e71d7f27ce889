"""The exercise specifications, one module per lesson topic, and the one registry of them.

Each module defines ``EXERCISES``, a list of ``bncourse.grading.spec.Exercise``: its test
inputs, the contract, the family of mistakes the judge searches and the hint ladder.
``REGISTRY`` below collects them by id; ``bncourse.grading.check`` and the instructor's
grader look exercises up there. To add an exercise, see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from bncourse.grading.exercises import backprop, four_steps, inference, keras_bn, scaling
from bncourse.grading.spec import Exercise

__all__ = ["REGISTRY", "MODULES"]

MODULES = (scaling, four_steps, inference, backprop, keras_bn)
"""The specification modules, in lesson order."""


def _collect() -> dict[str, Exercise]:
    registry: dict[str, Exercise] = {}
    for module in MODULES:
        for exercise in module.EXERCISES:
            if exercise.id in registry:
                raise ValueError(f"exercise id {exercise.id!r} is defined twice")
            registry[exercise.id] = exercise
    return registry


REGISTRY: dict[str, Exercise] = _collect()
