"""Lesson 02's ``smoothness_along_gradient`` check: correct implementations in several
shapes pass, every misconception of its family is named by two wrong ones, and the check's
expected values agree with closed forms."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check, hint
from bncourse.grading.exercises.activations import smoothness_cases
from bncourse.topics import activations

ID = "smoothness_along_gradient"

MISCONCEPTIONS = (
    "smoothness-steps-uphill",
    "smoothness-steps-accumulate",
    "smoothness-difference-of-norms",
    "smoothness-squared-length",
    "smoothness-not-per-distance",
    "smoothness-wrong-distance",
)


def _check(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check(ID, fn)


# --- correct ---------------------------------------------------------------------------


def loop(grad_fn, params, step_sizes):
    g = grad_fn(params)
    out = []
    for eta in step_sizes:
        out.append(np.linalg.norm(grad_fn(params - eta * g) - g) / np.linalg.norm(eta * g))
    return np.array(out, dtype=np.float32)


def comprehension_float64(grad_fn, params, step_sizes):
    theta = np.asarray(params, dtype=np.float64)
    g = grad_fn(theta)
    length = np.sqrt(np.sum(g**2))
    return np.array(
        [np.sqrt(np.sum((grad_fn(theta - e * g) - g) ** 2)) / (e * length) for e in step_sizes]
    )


def copy_then_subtract(grad_fn, params, step_sizes):
    g = grad_fn(params)
    result = np.zeros(len(step_sizes), dtype=np.float32)
    for i, eta in enumerate(step_sizes):
        moved = params.copy().astype(np.float64)
        moved -= eta * g
        result[i] = np.linalg.norm(grad_fn(moved) - g) / (eta * np.linalg.norm(g))
    return result


def course_version(grad_fn, params, step_sizes):
    probe = activations.probe_along_gradient(
        lambda v: (0.0, grad_fn(v)), params, step_sizes=step_sizes
    )
    return probe.smoothness.astype(np.float32)


CORRECT = [loop, comprehension_float64, copy_then_subtract, course_version]


# --- wrong, two per misconception ------------------------------------------------------


def uphill(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [np.linalg.norm(grad_fn(params + e * g) - g) / np.linalg.norm(e * g) for e in step_sizes]
    )


def uphill_negated_gradient(grad_fn, params, step_sizes):
    direction = -grad_fn(params)  # "descent direction", then subtracted once more
    g = -direction
    return np.array(
        [
            np.linalg.norm(grad_fn(params - e * direction) - g) / (e * np.linalg.norm(g))
            for e in step_sizes
        ]
    )


def in_place(grad_fn, params, step_sizes):
    g = grad_fn(params)
    out = []
    for e in step_sizes:
        params -= e * g
        out.append(np.linalg.norm(grad_fn(params) - g) / np.linalg.norm(e * g))
    return np.array(out)


def walks_on(grad_fn, params, step_sizes):
    g = grad_fn(params)
    theta, out = params, []
    for e in step_sizes:
        theta = theta - e * g
        out.append(np.linalg.norm(grad_fn(theta) - g) / np.linalg.norm(e * g))
    return np.array(out)


def norms_subtracted(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [
            abs(np.linalg.norm(grad_fn(params - e * g)) - np.linalg.norm(g)) / np.linalg.norm(e * g)
            for e in step_sizes
        ]
    )


def norms_subtracted_signed(grad_fn, params, step_sizes):
    g = grad_fn(params)
    ratios = []
    for e in step_sizes:
        new = np.linalg.norm(grad_fn(params - e * g))
        ratios.append(abs(new - np.linalg.norm(g)) / (e * np.linalg.norm(g)))
    return np.array(ratios, dtype=np.float32)


def squared_change(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [np.sum((grad_fn(params - e * g) - g) ** 2) / np.linalg.norm(e * g) for e in step_sizes]
    )


def squared_both(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [np.sum((grad_fn(params - e * g) - g) ** 2) / np.sum((e * g) ** 2) for e in step_sizes]
    )


def raw_change(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array([np.linalg.norm(grad_fn(params - e * g) - g) for e in step_sizes])


def raw_change_float32(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [np.linalg.norm(grad_fn(params - e * g) - g) for e in step_sizes], dtype=np.float32
    )


def over_eta(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array([np.linalg.norm(grad_fn(params - e * g) - g) / e for e in step_sizes])


def relative_change(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array(
        [np.linalg.norm(grad_fn(params - e * g) - g) / np.linalg.norm(g) for e in step_sizes]
    )


WRONG = {
    "smoothness-steps-uphill": [uphill, uphill_negated_gradient],
    "smoothness-steps-accumulate": [in_place, walks_on],
    "smoothness-difference-of-norms": [norms_subtracted, norms_subtracted_signed],
    "smoothness-squared-length": [squared_change, squared_both],
    "smoothness-not-per-distance": [raw_change, raw_change_float32],
    "smoothness-wrong-distance": [over_eta, relative_change],
}


def test_every_misconception_is_in_the_catalogue_and_covered_twice():
    assert set(WRONG) == set(MISCONCEPTIONS)
    assert set(MISCONCEPTIONS) <= set(DIAGNOSES)
    assert all(len(set(fns)) >= 2 for fns in WRONG.values())


@pytest.mark.parametrize("fn", CORRECT, ids=lambda fn: fn.__name__)
def test_correct_implementations_pass(fn):
    result = _check(fn)
    assert result.passed, str(result)


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, fns in WRONG.items() for fn in fns],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_wrong_implementations_are_named(diagnosis, fn):
    result = _check(fn)
    assert not result.passed
    assert diagnosis in result.diagnoses, str(result)


def test_modifying_params_in_place_is_named_as_such():
    assert "mutates-input" in _check(in_place).diagnoses


def test_the_quadratic_case_expects_the_closed_form():
    exercise = EXERCISES[ID]
    case = smoothness_cases(np.random.default_rng(0))[0]
    a, theta = case.args["grad_fn"].params["A"], case.args["params"]
    g = a @ theta
    (expected,) = exercise.expected(case)
    np.testing.assert_allclose(expected, np.linalg.norm(a @ g) / np.linalg.norm(g))


def test_the_cases_tell_the_directions_apart_and_include_edge_cases():
    cases = smoothness_cases(np.random.default_rng(1))
    assert any(c.args["params"].dtype == np.float32 for c in cases)
    assert any(len(c.args["step_sizes"]) == 1 for c in cases)
    assert any(np.any(np.diff(c.args["step_sizes"]) < 0) for c in cases)


def test_the_exercise_is_registered_for_lesson_02_with_a_hint_ladder():
    exercise = EXERCISES[ID]
    assert exercise.lesson == "02_why_normalize_activations"
    assert len(set(exercise.hints)) >= 3
    assert "?" in exercise.hints[0]
    assert hint(ID, level=1) != hint(ID, level=3)


def test_a_check_answers_fast():
    _check(loop)  # warm up
    start = time.perf_counter()
    _check(uphill)
    assert time.perf_counter() - start < 0.2
