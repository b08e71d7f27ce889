"""The exercise specifications, one module per lesson topic, and the one registry of them.

Each module defines ``EXERCISES``, a list of ``bncourse.grading.spec.Exercise``: its test
inputs, the contract, the family of mistakes the judge searches and the hint ladder.
``REGISTRY`` below collects them by id; ``bncourse.grading.check`` and the instructor's
grader look exercises up there. To add an exercise, see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from bncourse.grading.exercises import (
    activations,
    backprop,
    benefits,
    capstone,
    four_steps,
    inference,
    keras_bn,
    norms,
    placement,
    scaling,
    transfer,
)
from bncourse.grading.spec import Exercise

__all__ = ["REGISTRY", "MODULES"]

MODULES = (
    scaling,  # 01
    activations,  # 02
    four_steps,  # 03
    inference,  # 04
    backprop,  # 05
    keras_bn,  # 06
    placement,  # 07
    benefits,  # 08
    norms,  # 09
    transfer,  # 10
    capstone,  # 11
)
"""The specification modules, in lesson order (the module name is the lesson's topic)."""


def _collect() -> dict[str, Exercise]:
    registry: dict[str, Exercise] = {}
    for module in MODULES:
        for exercise in module.EXERCISES:
            if exercise.id in registry:
                raise ValueError(f"exercise id {exercise.id!r} is defined twice")
            registry[exercise.id] = exercise
    return registry


REGISTRY: dict[str, Exercise] = _collect()
