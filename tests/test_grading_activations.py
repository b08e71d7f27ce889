"""Lesson 02's checks: ``saturated_fraction`` and ``layer_spread`` accept correct
implementations in several shapes, name every lesson-02 misconception with at least two
wrong ones, and show a failing case when nothing explains the numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check, hint
from bncourse.grading.exercises.activations import saturation_cases, spread_cases
from bncourse.topics import activations

LESSON_02 = (
    "saturation-one-sided",
    "saturation-per-unit-decision",
    "layer-stat-wrong-axes",
    "saturation-at-threshold",
    "saturation-ignores-threshold",
    "saturation-not-a-fraction",
    "spread-averages-unit-spreads",
    "spread-not-centered",
    "spread-is-variance",
)
"""The misconceptions of lesson 02's section of the catalogue."""


def _check(fn, exercise_id="saturated_fraction"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check(exercise_id, fn)


# --- correct ---------------------------------------------------------------------------


def fraction_vectorized(outputs, threshold):
    return (np.abs(outputs) > threshold).mean(axis=(1, 2)).astype(np.float32)


def fraction_reshaped(outputs, threshold):
    flat = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    return np.count_nonzero(np.abs(flat) > threshold, axis=1) / flat.shape[1]


def fraction_two_sides(outputs, threshold):
    both = (outputs > threshold) | (outputs < -threshold)
    return np.array([layer.sum() / layer.size for layer in both], dtype=np.float32)


def fraction_course(outputs, threshold):
    return activations.layer_saturation(outputs, threshold=threshold)


CORRECT = [fraction_vectorized, fraction_reshaped, fraction_two_sides, fraction_course]


# --- wrong, two or more per misconception ----------------------------------------------


def positive_side_only(outputs, threshold):
    return (outputs > threshold).mean(axis=(1, 2))


def negative_side_only(outputs, threshold):
    return (outputs < -threshold).mean(axis=(1, 2))


def dead_units_only(outputs, threshold):
    return (np.abs(outputs) > threshold).all(axis=1).mean(axis=1)


def unit_mean_magnitude(outputs, threshold):
    return (np.abs(outputs).mean(axis=1) > threshold).mean(axis=1)


def per_unit_fraction(outputs, threshold):
    return (np.abs(outputs) > threshold).mean(axis=1)


def per_sample_fraction(outputs, threshold):
    return (np.abs(outputs) > threshold).mean(axis=2)


def over_layers(outputs, threshold):
    return (np.abs(outputs) > threshold).mean(axis=0)


def layers_mixed_by_reshape(outputs, threshold):
    return (np.abs(outputs) > threshold).reshape(-1, outputs.shape[0]).mean(axis=0)


def greater_or_equal(outputs, threshold):
    return (np.abs(outputs) >= threshold).mean(axis=(1, 2))


def not_below(outputs, threshold):
    return 1.0 - (np.abs(outputs) < threshold).mean(axis=(1, 2))


def karpathy_threshold(outputs, threshold):
    return (np.abs(outputs) > 0.97).mean(axis=(1, 2))


def slope_threshold(outputs, threshold=0.975):
    return (np.abs(outputs) > 0.975).mean(axis=(1, 2))


def percentage(outputs, threshold):
    return 100 * (np.abs(outputs) > threshold).mean(axis=(1, 2))


def count(outputs, threshold):
    return (np.abs(outputs) > threshold).sum(axis=(1, 2))


def per_sample_count(outputs, threshold):
    return (np.abs(outputs) > threshold).sum(axis=(1, 2)) / outputs.shape[1]


WRONG = {
    "saturation-one-sided": [positive_side_only, negative_side_only],
    "saturation-per-unit-decision": [dead_units_only, unit_mean_magnitude],
    "layer-stat-wrong-axes": [
        per_unit_fraction,
        per_sample_fraction,
        over_layers,
        layers_mixed_by_reshape,
    ],
    "saturation-at-threshold": [greater_or_equal, not_below],
    "saturation-ignores-threshold": [karpathy_threshold, slope_threshold],
    "saturation-not-a-fraction": [percentage, count, per_sample_count],
}


# --- layer_spread ----------------------------------------------------------------------


def spread_np(outputs):
    return np.std(outputs, axis=(1, 2)).astype(np.float32)


def spread_flat(outputs):
    flat = np.asarray(outputs, dtype=np.float64).reshape(outputs.shape[0], -1)
    centered = flat - flat.mean(axis=1, keepdims=True)
    return np.sqrt((centered**2).mean(axis=1))


def spread_course(outputs):
    return activations.layer_spread(outputs)


SPREAD_CORRECT = [spread_np, spread_flat, spread_course]


def spread_sample_sd(outputs):
    return np.std(outputs, axis=(1, 2), ddof=1)


def spread_sample_sd_flat(outputs):
    flat = outputs.reshape(len(outputs), -1).astype(np.float64)
    return np.sqrt(((flat - flat.mean(1, keepdims=True)) ** 2).sum(1) / (flat.shape[1] - 1))


def spread_mean_unit_std(outputs):
    return outputs.std(axis=1).mean(axis=1)


def spread_mean_sample_std(outputs):
    return outputs.std(axis=2).mean(axis=1)


def spread_rms(outputs):
    return np.sqrt((outputs.astype(np.float64) ** 2).mean(axis=(1, 2)))


def spread_norm(outputs):
    flat = outputs.reshape(len(outputs), -1)
    return np.linalg.norm(flat, axis=1) / np.sqrt(flat.shape[1])


def spread_var(outputs):
    return outputs.var(axis=(1, 2))


def spread_mean_squared_deviation(outputs):
    return ((outputs - outputs.mean(axis=(1, 2), keepdims=True)) ** 2).mean(axis=(1, 2))


def spread_per_unit(outputs):
    return outputs.std(axis=1)


def spread_whole_network(outputs):
    return outputs.std()


SPREAD_WRONG = {
    "unbiased-variance": [spread_sample_sd, spread_sample_sd_flat],
    "spread-averages-unit-spreads": [spread_mean_unit_std, spread_mean_sample_std],
    "spread-not-centered": [spread_rms, spread_norm],
    "spread-is-variance": [spread_var, spread_mean_squared_deviation],
    "layer-stat-wrong-axes": [spread_per_unit, spread_whole_network],
}


def test_the_lesson_02_section_of_the_catalogue_is_what_these_tests_cover():
    covered = set(WRONG) | set(SPREAD_WRONG)
    assert set(LESSON_02) <= covered
    assert set(LESSON_02) <= set(DIAGNOSES)
    assert all(len(set(fns)) >= 2 for fns in WRONG.values())
    assert all(len(set(fns)) >= 2 for fns in SPREAD_WRONG.values())


@pytest.mark.parametrize("fn", SPREAD_CORRECT, ids=lambda fn: fn.__name__)
def test_correct_spreads_are_accepted(fn):
    result = _check(fn, "layer_spread")
    assert result.passed, str(result)


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, fns in SPREAD_WRONG.items() for fn in fns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_spreads_are_named(diagnosis, fn):
    result = _check(fn, "layer_spread")
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    wording = EXERCISES["layer_spread"].wording.get(diagnosis, DIAGNOSES[diagnosis])
    assert wording.title in result.feedback


def test_the_spread_cases_have_units_with_different_means_and_a_constant_layer():
    cases = spread_cases(np.random.default_rng(0))
    relu = cases[1].args["outputs"]
    assert np.ptp(relu.mean(axis=1), axis=1).min() > 0.1
    assert any(np.ptp(layer) == 0 for layer in cases[2].args["outputs"])


def test_the_course_spread_is_pass_output_std():
    z = np.random.default_rng(2).normal(size=(2, 30, 8))
    assert np.allclose(activations.layer_spread(np.tanh(z)), np.tanh(z).std(axis=(1, 2)))


def test_the_exercise_is_registered_for_lesson_02_with_a_hint_ladder():
    exercise = EXERCISES["saturated_fraction"]
    assert exercise.lesson == "02_why_normalize_activations"
    assert len(set(exercise.hints)) >= 3
    assert "threshold" in hint("saturated_fraction", level=1)
    assert len(set(EXERCISES["layer_spread"].hints)) >= 3


@pytest.mark.parametrize("fn", CORRECT, ids=lambda fn: fn.__name__)
def test_correct_implementations_are_accepted(fn):
    result = _check(fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, fns in WRONG.items() for fn in fns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_implementations_are_named(diagnosis, fn):
    result = _check(fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback


def test_two_mistakes_at_once_are_both_named():
    def percent_of_positive(outputs, threshold):
        return 100 * (outputs > threshold).mean(axis=(1, 2))

    result = _check(percent_of_positive)
    assert set(result.diagnoses) == {"saturation-one-sided", "saturation-not-a-fraction"}


def test_an_unknown_mistake_shows_the_smallest_failing_case():
    def squares(outputs, threshold):
        return (outputs**2 > threshold).mean(axis=(1, 2))

    result = _check(squares)
    assert not result.passed and result.diagnosis is None
    args = result.failing_case()
    assert list(args) == ["outputs", "threshold"]
    assert args["outputs"].shape == (3, 1, 5) and args["threshold"] == 0.9375  # the smallest


def test_modifying_the_input_is_named():
    def in_place(outputs, threshold):
        np.abs(outputs, out=outputs)
        return (outputs > threshold).mean(axis=(1, 2))

    assert "mutates-input" in _check(in_place).diagnoses


def test_float64_is_accepted_with_a_note():
    result = _check(lambda outputs, threshold: (np.abs(outputs) > threshold).mean(axis=(1, 2)))
    assert result.passed
    assert any("float64" in note for note in result.notes)


def test_the_cases_have_distinct_axis_sizes_and_values_on_the_threshold():
    cases = saturation_cases(np.random.default_rng(0))
    for case in cases:
        layers, batch, units = case.args["outputs"].shape
        assert len({layers, units}) == 2 and batch not in (layers, units) or batch == 1
    on_threshold = [
        np.any(np.abs(c.args["outputs"]) == np.float32(c.args["threshold"])) for c in cases
    ]
    assert sum(on_threshold) >= 2
    assert all(np.float32(c.args["threshold"]) == c.args["threshold"] for c in cases)


def test_the_course_version_matches_the_slope_definition_for_tanh():
    z = np.random.default_rng(1).normal(size=(3, 50, 20)) * np.array([0.5, 2.0, 4.0])[:, None, None]
    by_slope = [activations.saturated_fraction(layer, "tanh") for layer in z]
    by_output = activations.layer_saturation(np.tanh(z))
    assert np.allclose(by_output, by_slope, atol=1e-6)
    assert by_output.dtype == np.float32 and by_output.shape == (3,)


def test_a_check_answers_fast():
    import time

    start = time.perf_counter()
    _check(count)
    assert time.perf_counter() - start < 0.5
