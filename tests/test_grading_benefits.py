"""Lesson 08's check, ``steps_to_accuracy``: correct readings of a curve pass in any style,
each named mistake is detected by at least two different wrong implementations."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, check

EXERCISE = "steps_to_accuracy"

# ---------------------------------------------------------------------------
# Correct implementations.
# ---------------------------------------------------------------------------


def vectorized(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) >= target)
    return float(steps[reached[0]]) if reached.size else float("nan")


def zipped_loop(steps, accuracy, target):
    for step, value in zip(steps, accuracy, strict=True):
        if value >= target:
            return int(step)
    return np.nan


def argmax_guarded(steps, accuracy, target):
    reached = np.asarray(accuracy) >= target
    return steps[np.argmax(reached)] if reached.any() else np.nan


def searchsorted_free_where(steps, accuracy, target):
    candidates = np.where(np.asarray(accuracy) >= target, np.asarray(steps, float), np.inf)
    first = candidates.min()
    return first if np.isfinite(first) else np.nan


CORRECT = [vectorized, zipped_loop, argmax_guarded, searchsorted_free_where]

# ---------------------------------------------------------------------------
# Wrong implementations, two or more per diagnosis.
# ---------------------------------------------------------------------------


def returns_index(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) >= target)
    return reached[0] if reached.size else np.nan


def counts_evaluations_times_interval(steps, accuracy, target):
    every = steps[1] - steps[0]
    for number, value in enumerate(accuracy, start=1):
        if value >= target:
            return number * every
    return np.nan


def strictly_greater(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) > target)
    return steps[reached[0]] if reached.size else np.nan


def strictly_greater_loop(steps, accuracy, target):
    for step, value in zip(steps, accuracy, strict=True):
        if value > target:
            return step
    return np.nan


def last_above(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) >= target)
    return steps[reached[-1]] if reached.size else np.nan


def final_stretch(steps, accuracy, target):
    answer = np.nan
    for step, value in zip(steps, accuracy, strict=True):
        if value < target:
            answer = np.nan
        elif np.isnan(answer):
            answer = step
    return answer


def argmax_unguarded(steps, accuracy, target):
    return steps[np.argmax(np.asarray(accuracy) >= target)]


def never_is_minus_one(steps, accuracy, target):
    for step, value in zip(steps, accuracy, strict=True):
        if value >= target:
            return step
    return -1


def never_raises(steps, accuracy, target):
    return steps[np.flatnonzero(np.asarray(accuracy) >= target)[0]]


def fixed_target(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) >= 0.95)
    return steps[reached[0]] if reached.size else np.nan


def fixed_target_loop(steps, accuracy, target=0.95):
    for step, value in zip(steps, accuracy, strict=True):
        if value >= 0.95:
            return step
    return np.nan


WRONG = {
    "steps-to-index": [returns_index, counts_evaluations_times_interval],
    "strict-threshold": [strictly_greater, strictly_greater_loop],
    "last-crossing": [last_above, final_stretch],
    "never-reached-not-handled": [argmax_unguarded, never_is_minus_one, never_raises],
    "hard-coded-target": [fixed_target, fixed_target_loop],
}


@pytest.mark.parametrize("fn", CORRECT, ids=lambda fn: fn.__name__)
def test_correct_readings_pass(fn):
    result = check(EXERCISE, fn)
    assert result.passed, str(result)
    assert "float32" not in result.feedback  # a step may be an int or a float


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, fns in WRONG.items() for fn in fns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_readings_are_named(diagnosis, fn):
    result = check(EXERCISE, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback


def test_every_lesson_08_diagnosis_has_two_wrong_implementations():
    assert all(len(set(fns)) >= 2 for fns in WRONG.values())
    assert all(d in DIAGNOSES for d in WRONG)


def test_raising_only_on_a_curve_that_never_arrives_is_named_without_a_traceback():
    result = check(EXERCISE, never_raises)
    assert result.diagnoses == ["never-reached-not-handled"]
    assert result.status == "failed" and result.failing is None


def test_an_unknown_mistake_shows_the_smallest_failing_curve():
    def first_evaluation_as_missing(steps, accuracy, target):
        index = next((i for i, value in enumerate(accuracy) if value >= target), None)
        return steps[index] if index else np.nan  # index 0 reads as "never"

    result = check(EXERCISE, first_evaluation_as_missing)
    assert not result.passed and result.diagnosis is None
    args = result.failing_case()
    assert list(args) == ["steps", "accuracy", "target"] and len(args["steps"]) == 3


def test_the_check_has_three_hint_levels():
    from bncourse.grading import EXERCISES

    hints = EXERCISES[EXERCISE].hints
    assert len(set(hints)) >= 3
