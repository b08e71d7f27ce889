"""Lesson 10's checks: adapt_statistics (correct re-estimations in several styles pass, each
misconception of adapting BN's statistics is named) and frozen_bn_call (one call of a Keras BN
layer, frozen or not: correct variants pass, each misconception of freezing is named by at
least two wrong ones; tests/implementations.py collects them for the catalogue test)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check, hint
from bncourse.grading.hints import reset_hints

from . import implementations as impl

EXERCISE = "adapt_statistics"
SECTION_7 = (
    "adapt-stale-upstream",
    "adapt-blends-statistics",
    "adapt-wrong-tensor",
    "adapt-transposed-kernel",
    "adapt-skips-relu",
)


def _check(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(EXERCISE, fn)


def adapt_loop(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        axes = tuple(range(z.ndim - 1))
        mean, var = z.mean(axis=axes), z.var(axis=axes)
        means.append(mean)
        variances.append(var)
        h = np.maximum(gamma[k] * (z - mean) / np.sqrt(var + eps) + beta[k], 0.0)
    return np.stack(means).astype(np.float32), np.stack(variances).astype(np.float32)


def adapt_float64_flat(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h = x.reshape(-1, x.shape[-1]).astype(np.float64)
    new_mean, new_var = np.array(moving_mean, np.float64), np.array(moving_var, np.float64)
    for k, kernel in enumerate(kernels):
        z = h @ kernel
        new_mean[k] = z.mean(axis=0)
        new_var[k] = ((z - new_mean[k]) ** 2).mean(axis=0)
        h = np.maximum((z - new_mean[k]) / np.sqrt(new_var[k] + eps) * gamma[k] + beta[k], 0)
    return new_mean, new_var


def adapt_einsum(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h, out = x, ([], [])
    for kernel, g, b in zip(kernels, gamma, beta, strict=True):
        z = np.einsum("...i,ij->...j", h, kernel)
        axes = tuple(range(z.ndim - 1))
        mu = z.mean(axis=axes, keepdims=True)
        var = ((z - mu) ** 2).mean(axis=axes, keepdims=True)
        out[0].append(mu.reshape(-1))
        out[1].append(var.reshape(-1))
        h = np.maximum(g * (z - mu) / np.sqrt(var + eps) + b, 0)
    return np.array(out[0]), np.array(out[1])


CORRECT = [adapt_loop, adapt_float64_flat, adapt_einsum]

WRONG = [(d, fn) for d, cases in impl.WRONG.items() if d in SECTION_7 for _, fn in cases]


def adapt_unbiased(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        z = (h @ kernels[k]).reshape(-1, kernels[k].shape[1])
        mean, var = z.mean(axis=0), z.var(axis=0, ddof=1)
        means.append(mean)
        variances.append(var)
        y = gamma[k] * ((h @ kernels[k]) - mean) / np.sqrt(var + eps) + beta[k]
        h = np.maximum(y, 0.0)
    return np.stack(means), np.stack(variances)


def adapt_fixed_eps(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return adapt_loop(x, kernels, gamma, beta, moving_mean, moving_var, 1e-3)


WRONG += [("unbiased-variance", adapt_unbiased), ("ignores-eps-argument", adapt_fixed_eps)]


@pytest.mark.parametrize("fn", CORRECT, ids=lambda f: f.__name__)
def test_correct_re_estimations_pass(fn):
    result = _check(fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize("diagnosis, fn", WRONG, ids=lambda v: getattr(v, "__name__", v))
def test_wrong_re_estimations_get_their_diagnosis(diagnosis, fn):
    result = _check(fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    wording = EXERCISES[EXERCISE].wording.get(diagnosis, DIAGNOSES[diagnosis])
    assert wording.title in result.feedback


def test_every_section_7_misconception_is_in_the_catalogue_and_detected_twice():
    assert set(SECTION_7) <= set(DIAGNOSES)
    for diagnosis in SECTION_7:
        assert len({fn for d, fn in WRONG if d == diagnosis}) >= 2, diagnosis


def test_the_exercise_belongs_to_lesson_10_and_has_three_distinct_hints():
    exercise = EXERCISES[EXERCISE]
    assert exercise.lesson == "10_bn_in_deployment"
    assert len(exercise.hints) >= 3 and len(set(exercise.hints)) == len(exercise.hints)
    reset_hints()
    try:
        assert hint(EXERCISE) == exercise.hints[0]
    finally:
        reset_hints()


def test_statistics_over_the_batch_axis_alone_are_named_on_feature_maps():
    def per_position(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
        h, means, variances = x, [], []
        for k in range(len(kernels)):
            z = h @ kernels[k]
            means.append(z.mean(axis=0))
            variances.append(z.var(axis=0))
            h = np.maximum(gamma[k] * (z - means[-1]) / np.sqrt(variances[-1] + eps) + beta[k], 0)
        return np.stack(means), np.stack(variances)

    result = _check(per_position)
    assert not result.passed
    assert result.diagnoses == ["wrong-axis"]  # right for (batch, features), not for maps
    assert "(batch, height, width, channels)" in str(result)


def test_the_check_answers_within_a_fifth_of_a_second():
    _check(adapt_loop)
    start = time.perf_counter()
    _check(adapt_loop)
    assert time.perf_counter() - start < 0.2


# ---------------------------------------------------------------------------
# frozen_bn_call: one call of a Keras BN layer with `training` and `trainable`.
# ---------------------------------------------------------------------------

FROZEN = "frozen_bn_call"
LESSON_10_FROZEN = (
    "frozen-bn-still-trains",
    "frozen-bn-normalizes-with-batch",
    "frozen-bn-updates-statistics",
    "bn-mode-ignores-training",
)


def _check_frozen(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(FROZEN, fn)


@pytest.mark.parametrize("fn", impl.FROZEN_CORRECT, ids=lambda f: f.__name__)
def test_correct_frozen_calls_pass(fn):
    result = _check_frozen(fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, cases in impl.FROZEN_WRONG.items() for _, fn in cases]
    + [("momentum-reversed", impl.frozen_pytorch_momentum)],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_wrong_frozen_calls_get_their_diagnosis(diagnosis, fn):
    result = _check_frozen(fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback


def test_every_freezing_misconception_is_in_the_catalogue_and_detected_twice():
    assert set(LESSON_10_FROZEN) <= set(DIAGNOSES)
    assert set(impl.FROZEN_WRONG) == set(LESSON_10_FROZEN)
    for diagnosis in LESSON_10_FROZEN:
        assert len({fn for _, fn in impl.FROZEN_WRONG[diagnosis]}) >= 2, diagnosis


def test_frozen_bn_call_belongs_to_lesson_10_and_has_three_distinct_hints():
    exercise = EXERCISES[FROZEN]
    assert exercise.lesson == "10_bn_in_deployment"
    assert len(exercise.hints) >= 3 and len(set(exercise.hints)) == len(exercise.hints)
    assert exercise.hints[0].rstrip().endswith("?")


def test_the_frozen_check_agrees_with_keras():
    """The family's correct answer is what a Keras BN layer does, for all four flag pairs."""
    keras = pytest.importorskip("keras")
    for case in EXERCISES[FROZEN].cases():
        args = case.args
        layer = keras.layers.BatchNormalization(
            momentum=args.get("momentum", 0.99), epsilon=args.get("eps", 1e-3)
        )
        layer.build(args["x"].shape)
        layer.set_weights([args["gamma"], args["beta"], args["moving_mean"], args["moving_var"]])
        layer.trainable = args["trainable"]
        y = layer(args["x"], training=args["training"]).numpy()
        expected = EXERCISES[FROZEN].expected(case)
        np.testing.assert_allclose(y, expected[0], atol=1e-4)
        np.testing.assert_allclose(layer.moving_mean.numpy(), expected[1], atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance.numpy(), expected[2], atol=1e-4)


def test_the_frozen_check_answers_within_a_fifth_of_a_second():
    _check_frozen(impl.frozen_if_else)
    start = time.perf_counter()
    _check_frozen(impl.frozen_if_else)
    assert time.perf_counter() - start < 0.2
