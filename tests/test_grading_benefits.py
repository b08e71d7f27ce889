"""Lesson 08's checks, ``steps_to_accuracy`` and ``working_learning_rates``: correct readings
of a curve or a sweep pass in any style, each named mistake is detected by at least two
different wrong implementations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check

EXERCISE = "steps_to_accuracy"
RANGE = "working_learning_rates"

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


# working_learning_rates


def _rates_where(ok, learning_rates):
    working = np.flatnonzero(ok)
    if not working.size:
        return np.nan, np.nan
    return learning_rates[working[0]], learning_rates[working[-1]]


def range_vectorized(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where((final_accuracy >= threshold).all(axis=1), learning_rates)


def range_loops(learning_rates, final_accuracy, threshold=0.5):
    working = [
        rate
        for rate, row in zip(learning_rates, final_accuracy, strict=True)
        if all(value >= threshold for value in row)
    ]
    return (min(working), max(working)) if working else (np.nan, np.nan)


def range_nan_to_zero(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    return _rates_where(finals.min(axis=1) >= threshold, learning_rates)


RANGE_CORRECT = [range_vectorized, range_loops, range_nan_to_zero]


def range_any_seed(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where((final_accuracy >= threshold).any(axis=1), learning_rates)


def range_best_seed(learning_rates, final_accuracy, threshold=0.5):
    best = np.nan_to_num(final_accuracy, nan=0.0).max(axis=1)
    return _rates_where(best >= threshold, learning_rates)


def range_nanmin(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _rates_where(np.nanmin(final_accuracy, axis=1) >= threshold, learning_rates)


def range_not_below(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where(~(final_accuracy < threshold).any(axis=1), learning_rates)


def range_strict(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where((final_accuracy > threshold).all(axis=1), learning_rates)


def range_positions(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where(
            (final_accuracy >= threshold).all(axis=1), np.arange(len(learning_rates))
        )


def range_unguarded(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        working = learning_rates[(final_accuracy >= threshold).all(axis=1)]
    return working[0], working[-1]


def range_fixed_threshold(learning_rates, final_accuracy, threshold=0.5):
    with np.errstate(invalid="ignore"):
        return _rates_where((final_accuracy >= 0.5).all(axis=1), learning_rates)


WRONG = {
    "steps-to-index": [
        (EXERCISE, returns_index),
        (EXERCISE, counts_evaluations_times_interval),
        (RANGE, range_positions),
    ],
    "strict-threshold": [
        (EXERCISE, strictly_greater),
        (EXERCISE, strictly_greater_loop),
        (RANGE, range_strict),
    ],
    "last-crossing": [(EXERCISE, last_above), (EXERCISE, final_stretch)],
    "never-reached-not-handled": [
        (EXERCISE, argmax_unguarded),
        (EXERCISE, never_is_minus_one),
        (EXERCISE, never_raises),
        (RANGE, range_unguarded),
    ],
    "hard-coded-target": [
        (EXERCISE, fixed_target),
        (EXERCISE, fixed_target_loop),
        (RANGE, range_fixed_threshold),
    ],
    "one-seed-is-enough": [(RANGE, range_any_seed), (RANGE, range_best_seed)],
    "diverged-not-failure": [(RANGE, range_nanmin), (RANGE, range_not_below)],
}


@pytest.mark.parametrize(
    "exercise_id, fn",
    [(EXERCISE, fn) for fn in CORRECT] + [(RANGE, fn) for fn in RANGE_CORRECT],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_correct_readings_pass(exercise_id, fn):
    result = check(exercise_id, fn)
    assert result.passed, str(result)
    assert "float32" not in result.feedback  # a step may be an int or a float


@pytest.mark.parametrize(
    "diagnosis, exercise_id, fn",
    [(d, e, fn) for d, pairs in WRONG.items() for e, fn in pairs],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_readings_are_named(diagnosis, exercise_id, fn):
    result = check(exercise_id, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    wording = EXERCISES[exercise_id].wording.get(diagnosis, DIAGNOSES[diagnosis])
    assert wording.title in result.feedback


def test_every_lesson_08_diagnosis_has_two_wrong_implementations():
    assert all(len({fn for _, fn in pairs}) >= 2 for pairs in WRONG.values())
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


@pytest.mark.parametrize("exercise_id", [EXERCISE, RANGE])
def test_the_checks_have_three_hint_levels(exercise_id):
    assert len(set(EXERCISES[exercise_id].hints)) >= 3


def test_a_sweep_where_nothing_trains_is_named_when_the_function_raises():
    result = check(RANGE, range_unguarded)
    assert result.diagnoses == ["never-reached-not-handled"]
    assert "(nan, nan)" in result.feedback
