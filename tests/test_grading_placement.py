"""Lesson 07's checks: ``dropout_variance_ratio`` and ``population_statistics`` accept correct
implementations, name every lesson-07 misconception with at least two wrong ones, and show a
failing case when nothing explains the numbers."""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check
from bncourse.grading.exercises.placement import DenseDropout, population_cases, ratio_cases
from bncourse.topics import placement

LESSON_07 = (
    "keep-vs-drop-rate",
    "dropout-not-inverted",
    "variance-shift-ignores-mean",
    "second-moment-for-variance",
    "ratio-upside-down",
    "simulates-dropout",
    "recalibrate-with-dropout-on",
    "averages-batch-variances",
    "momentum-recalibration",
    "recalibrate-one-batch",
)
"""The misconceptions of lesson 07's section of the catalogue."""


def _check(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check(exercise_id, fn)


def _moments(x, ddof=0):
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=0), x.var(axis=0, ddof=ddof)


# --- dropout_variance_ratio ------------------------------------------------------------


def ratio_plain(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore"):
        return v / ((c**2 + v) / (1 - rate) - c**2)


def ratio_float32(x, rate):
    c = x.mean(axis=0)
    v = ((x - c) ** 2).mean(axis=0)
    p = np.float32(1 - rate)
    with np.errstate(invalid="ignore"):
        return (v / ((c * c + v) / p - c * c)).astype(np.float32)


def ratio_row_vector(x, rate):
    return ratio_plain(x, rate)[None, :]


def ratio_with_drop_rate(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / ((c**2 + v) / rate - c**2)


def ratio_with_drop_rate_simplified(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return rate * v / (v + (1 - rate) * c**2)


def ratio_plain_dropout(x, rate):
    c, v = _moments(x)
    p = 1 - rate
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / (p * (c**2 + v) - (p * c) ** 2)


def ratio_plain_dropout_zero_mean(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / ((1 - rate) * (c**2 + v) - ((1 - rate) * c) ** 2 + 0 * c)


def ratio_zero_mean(x, rate):
    _, v = _moments(x)
    with np.errstate(invalid="ignore"):
        return v / (v / (1 - rate))


def ratio_zero_mean_guarded(x, rate):
    _, v = _moments(x)
    return np.where(v > 0, 1 - rate, np.nan)


def ratio_mean_square(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore"):
        return v / ((c**2 + v) / (1 - rate))


def ratio_mean_square_direct(x, rate):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return x.var(axis=0) / ((x**2).mean(axis=0) / (1 - rate))


def ratio_inverted(x, rate):
    c, v = _moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((c**2 + v) / (1 - rate) - c**2) / v


def ratio_inverted_simplified(x, rate):
    c, v = _moments(x)
    p = 1 - rate
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v + (1 - p) * c**2) / (p * v)


def ratio_simulated(x, rate, draws=400, seed=0):
    rng = np.random.default_rng(seed)
    keep = 1 - rate
    masks = rng.random((draws, *x.shape)) < keep
    y = (x * masks / keep).reshape(-1, x.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return x.var(axis=0) / y.var(axis=0)


def ratio_simulated_more(x, rate):
    return ratio_simulated(x, rate, draws=3000, seed=7)


def ratio_per_example(x, rate):
    x = np.asarray(x, dtype=np.float64)
    c, v = x.mean(axis=1), x.var(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / ((c**2 + v) / (1 - rate) - c**2)


def ratio_unbiased(x, rate):
    c, v = _moments(x, ddof=1)
    with np.errstate(invalid="ignore"):
        return v / ((c**2 + v) / (1 - rate) - c**2)


# --- population_statistics -------------------------------------------------------------


def population_plain(forward, batches):
    h = np.asarray(forward(batches.reshape(-1, batches.shape[-1]), training=False))
    return _moments(h)


def population_3d(forward, batches):
    h = forward(batches, training=False)  # (batches, m, units): Dense works on any rows
    return h.mean(axis=(0, 1)), h.var(axis=(0, 1))


def population_float64(forward, batches):
    mean, var = population_plain(forward, batches)
    return mean.astype(np.float64), var.astype(np.float64)


def _per_batch(forward, batches, training=False, ddof=0):
    stats = [_moments(forward(b, training=training), ddof) for b in batches]
    return np.array([m for m, _ in stats]), np.array([v for _, v in stats])


def population_dropout_on(forward, batches):
    h = np.asarray(forward(batches.reshape(-1, batches.shape[-1]), training=True))
    return _moments(h)


def population_dropout_on_per_batch(forward, batches):
    h = np.concatenate([forward(b, training=True) for b in batches])
    return h.mean(axis=0), h.var(axis=0)


def population_average_variances(forward, batches):
    means, variances = _per_batch(forward, batches)
    return means.mean(axis=0), variances.mean(axis=0)


def population_average_variances_median_free(forward, batches):
    means, variances = _per_batch(forward, batches)
    return np.average(means, axis=0), np.average(variances, axis=0)


def population_ema(forward, batches, momentum=0.99):
    means, variances = _per_batch(forward, batches)
    mean, var = np.zeros(means.shape[1]), np.ones(means.shape[1])
    for m, v in zip(means, variances, strict=True):
        mean = momentum * mean + (1 - momentum) * m
        var = momentum * var + (1 - momentum) * v
    return mean, var


def population_ema_from_first(forward, batches):
    means, variances = _per_batch(forward, batches)
    mean, var = means[0], variances[0]
    for m, v in zip(means[1:], variances[1:], strict=True):
        mean, var = 0.9 * mean + 0.1 * m, 0.9 * var + 0.1 * v
    return mean, var


def population_last(forward, batches):
    means, variances = _per_batch(forward, batches)
    return means[-1], variances[-1]


def population_first(forward, batches):
    return _moments(forward(batches[0], training=False))


def population_unbiased(forward, batches):
    h = forward(batches.reshape(-1, batches.shape[-1]), training=False)
    return _moments(h, ddof=1)


def population_std(forward, batches):
    mean, var = population_plain(forward, batches)
    return mean, np.sqrt(var)


def population_swapped(forward, batches):
    mean, var = population_plain(forward, batches)
    return var, mean


def population_no_pooling(forward, batches):
    means, variances = _per_batch(forward, batches)
    return means, variances  # one row per batch


def population_per_example(forward, batches):
    h = forward(batches.reshape(-1, batches.shape[-1]), training=False)
    return h.mean(axis=1), h.var(axis=1)


CORRECT = {
    "dropout_variance_ratio": [
        ratio_plain,
        ratio_float32,
        ratio_row_vector,
        placement.dropout_variance_ratio,
    ],
    "population_statistics": [
        population_plain,
        population_3d,
        population_float64,
        placement.population_statistics,
    ],
}

WRONG = {
    "keep-vs-drop-rate": [
        ("dropout_variance_ratio", ratio_with_drop_rate),
        ("dropout_variance_ratio", ratio_with_drop_rate_simplified),
    ],
    "dropout-not-inverted": [
        ("dropout_variance_ratio", ratio_plain_dropout),
        ("dropout_variance_ratio", ratio_plain_dropout_zero_mean),
    ],
    "variance-shift-ignores-mean": [
        ("dropout_variance_ratio", ratio_zero_mean),
        ("dropout_variance_ratio", ratio_zero_mean_guarded),
    ],
    "second-moment-for-variance": [
        ("dropout_variance_ratio", ratio_mean_square),
        ("dropout_variance_ratio", ratio_mean_square_direct),
    ],
    "ratio-upside-down": [
        ("dropout_variance_ratio", ratio_inverted),
        ("dropout_variance_ratio", ratio_inverted_simplified),
    ],
    "simulates-dropout": [
        ("dropout_variance_ratio", ratio_simulated),
        ("dropout_variance_ratio", ratio_simulated_more),
    ],
    "recalibrate-with-dropout-on": [
        ("population_statistics", population_dropout_on),
        ("population_statistics", population_dropout_on_per_batch),
    ],
    "averages-batch-variances": [
        ("population_statistics", population_average_variances),
        ("population_statistics", population_average_variances_median_free),
    ],
    "momentum-recalibration": [
        ("population_statistics", population_ema),
        ("population_statistics", population_ema_from_first),
    ],
    "recalibrate-one-batch": [
        ("population_statistics", population_last),
        ("population_statistics", population_first),
    ],
    "wrong-axis": [
        ("dropout_variance_ratio", ratio_per_example),
        ("population_statistics", population_per_example),
    ],
    "unbiased-variance": [
        ("dropout_variance_ratio", ratio_unbiased),
        ("population_statistics", population_unbiased),
    ],
    "std-not-variance": [("population_statistics", population_std)],
    "wrong-output-order": [("population_statistics", population_swapped)],
}


@pytest.mark.parametrize(
    "exercise_id, fn",
    [(name, fn) for name, fns in CORRECT.items() for fn in fns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_correct_implementations_pass(exercise_id, fn):
    result = _check(exercise_id, fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize(
    "diagnosis, exercise_id, fn",
    [(d, name, fn) for d, cases in WRONG.items() for name, fn in cases],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_implementations_get_their_diagnosis(diagnosis, exercise_id, fn):
    result = _check(exercise_id, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    exercise = EXERCISES[exercise_id]
    title = exercise.wording.get(diagnosis, DIAGNOSES[diagnosis]).title
    assert title in result.feedback
    assert result.failing is None  # a named mistake needs no failing case


def test_every_lesson_07_misconception_is_in_the_catalogue_and_detected_twice():
    assert set(LESSON_07) <= set(DIAGNOSES)
    for diagnosis in LESSON_07:
        assert len({fn for _, fn in WRONG[diagnosis]}) >= 2, diagnosis


def test_the_paper_estimator_is_named_as_an_average_of_batch_variances():
    def algorithm_2(forward, batches):
        means, variances = _per_batch(forward, batches, ddof=1)
        return means.mean(axis=0), variances.mean(axis=0)

    result = _check("population_statistics", algorithm_2)
    assert result.diagnoses[:2] == ["averages-batch-variances", "unbiased-variance"]
    assert "Algorithm 2" in result.feedback


def test_per_batch_statistics_are_rejected_with_a_failing_case():
    result = _check("population_statistics", population_no_pooling)
    assert not result.passed and not result.diagnoses
    assert result.failing is not None and "batches" in result.failing.args


def test_an_unexplained_ratio_shows_the_smallest_readable_failing_case():
    def scaled_only(x, rate):  # forgets the zeros: Var(x / p) = v / p^2
        c, v = _moments(x)
        with np.errstate(invalid="ignore"):
            return v / (v / (1 - rate) ** 2)

    result = _check("dropout_variance_ratio", scaled_only)
    assert not result.passed and not result.diagnoses
    inputs = result.failing_case()
    assert set(inputs) == {"x", "rate"} and inputs["x"].shape[0] <= 8
    assert 'hint("dropout_variance_ratio")' in str(result)


def test_the_checks_answer_within_a_fifth_of_a_second():
    for exercise_id, fns in CORRECT.items():
        start = time.perf_counter()
        _check(exercise_id, fns[0])
        assert time.perf_counter() - start < 0.2, exercise_id
    start = time.perf_counter()
    _check("dropout_variance_ratio", lambda x, rate: np.tanh(ratio_plain(x, rate)) + 0.1)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("exercise_id", ["dropout_variance_ratio", "population_statistics"])
def test_each_exercise_has_a_ladder_of_three_distinct_hints(exercise_id):
    hints = EXERCISES[exercise_id].hints
    assert len(hints) >= 3 and len(set(hints)) == len(hints)
    assert hints[0].rstrip().endswith("?")  # level 1 asks a question


def test_the_ratio_cases_cover_the_mean_dead_and_constant_units_and_rate_zero():
    cases = ratio_cases(np.random.default_rng(0))
    rates = {case.args["rate"] for case in cases}
    assert 0.0 in rates and len(rates - {0.5}) >= 3  # the rate and keep probability differ
    means = np.concatenate([np.abs(case.args["x"].mean(axis=0)) for case in cases])
    assert means.min() < 0.5 and means.max() > 1.0
    edge = next(case.args["x"] for case in cases if "constant" in case.label)
    assert np.all(edge.var(axis=0)[1:] == 0) and np.all(edge[:, 1] == 0)


def test_population_cases_include_grouped_batches_and_batches_of_one():
    cases = population_cases(np.random.default_rng(0))
    grouped = next(case.args for case in cases if "group" in case.label)
    h = grouped["forward"](grouped["batches"], training=False)
    within = h.var(axis=1).mean(axis=0)
    overall = h.reshape(-1, h.shape[-1]).var(axis=0)
    assert np.all(overall > 1.5 * within)  # the batch means really differ
    assert any(case.args["batches"].shape[1] == 1 for case in cases)


def test_dense_dropout_masks_depend_only_on_the_example():
    rng = np.random.default_rng(3)
    forward = DenseDropout(rng.normal(size=(5, 40)), rng.normal(size=40), rate=0.3)
    x = rng.normal(size=(6, 20, 5)).astype(np.float32)
    whole = forward(x, training=True)
    one_by_one = np.stack([np.stack([forward(row[None], True)[0] for row in b]) for b in x])
    np.testing.assert_array_equal(whole == 0, one_by_one == 0)  # the same masks
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(forward(x.astype(np.float64), training=True), whole)
    kept = np.mean(whole != 0)
    assert 0.65 < kept < 0.75  # keeps about 1 - rate
    dense = x @ forward.kernel + forward.bias
    np.testing.assert_allclose(forward(x, training=False), dense, rtol=1e-6)
    np.testing.assert_allclose(whole[whole != 0], dense[whole != 0] / 0.7, rtol=1e-5)
    assert copy.deepcopy(forward)(x, training=True).tolist() == whole.tolist()
    assert "forward(x, training=False)" in repr(forward) and "rate=0.3" in repr(forward)


def test_the_topic_helpers_give_what_the_checks_expect():
    rng = np.random.default_rng(1)
    x = np.maximum(rng.normal(0.5, 1.0, (50, 4)), 0).astype(np.float32)
    x[:, 3] = 0.0
    ratio = placement.dropout_variance_ratio(x, rate=0.5)
    assert ratio.dtype == np.float32 and np.isnan(ratio[3]) and np.all(ratio[:3] < 0.5)
    assert placement.median_ratio(ratio) == pytest.approx(float(np.median(ratio[:3])))
    batches = placement.as_batches(rng.normal(size=(70, 3)), batch_size=32)
    assert batches.shape == (2, 32, 3)
    with pytest.raises(ValueError, match="no batch"):
        placement.as_batches(np.zeros((3, 2)), batch_size=4)
