"""Exercise checks that name the learner's mistake.

``check(exercise_id, fn)`` runs the learner's ``fn`` on test inputs designed to expose
close mistakes, compares its outputs with the correct ones, and when they differ searches
the exercise's family of common mistakes for the one that explains them. When none does,
the result shows the smallest failing test (``result.failing_case()`` returns its inputs).
The result displays itself in a notebook; in code, read ``result.passed``,
``result.diagnosis`` and ``result.feedback``. ``hint(exercise_id)`` climbs the exercise's
hint ladder one level per call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from bncourse.grading.catalogue import DIAGNOSES, Diagnosis
from bncourse.grading.execution import DEFAULT_TIMEOUT, Observation, observe_call
from bncourse.grading.exercises import REGISTRY as EXERCISES
from bncourse.grading.hints import hint, hints_used
from bncourse.grading.judge import judge
from bncourse.grading.result import CaseReport, CheckResult, gradescope_results
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "check",
    "hint",
    "observe",
    "get_exercise",
    "EXERCISES",
    "DIAGNOSES",
    "CheckResult",
    "CaseReport",
    "Diagnosis",
    "gradescope_results",
]


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise, or a ``KeyError`` that lists the valid ids."""
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        valid = ", ".join(sorted(EXERCISES))
        raise KeyError(f"unknown exercise id {exercise_id!r}; valid ids are: {valid}")
    return EXERCISES[exercise_id]


def observe(
    exercise: Exercise, fn: Callable[..., Any], cases: list[Case], timeout: float
) -> list[Observation]:
    """Run ``fn`` on every case (fresh copies of the inputs each time)."""
    observations = []
    for case in cases:
        observation = observe_call(exercise.invoke(fn), copy.deepcopy(case.args), timeout=timeout)
        observations.append(observation)
        if observation.status == "timeout":  # do not make the learner wait once per case
            observations.extend(
                Observation(status="timeout", error=observation.error)
                for _ in cases[len(observations) :]
            )
            break
    return observations


def check(
    exercise_id: str, fn: Callable[..., Any], *, timeout: float = DEFAULT_TIMEOUT
) -> CheckResult:
    """Check the learner's implementation ``fn`` of exercise ``exercise_id``.

    Never raises for anything ``fn`` does (errors, endless loops, wrong types, NaN,
    printing, modifying its inputs); the result's feedback says what happened.
    """
    exercise = get_exercise(exercise_id)
    if not callable(fn):
        return CheckResult.unscored(
            exercise.id,
            exercise.max_score,
            "error",
            f"check expected a function, got {type(fn).__name__}. Pass the function "
            f"itself, without calling it: check({exercise_id!r}, {exercise_id}).",
        )
    cases = exercise.cases()
    judge_with = exercise.custom_judge or judge
    result = judge_with(exercise, cases, observe(exercise, fn, cases, timeout))
    result.hints_used = hints_used(exercise.id)
    result.hint_levels = len(exercise.hints)
    return result
