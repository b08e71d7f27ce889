"""Lesson 09's checks (layer_norm, group_norm, rms_norm): correct implementations in several
styles pass, every lesson-09 misconception is named by at least two wrong ones, and the
general mistakes (axes, variance, epsilon, gamma and beta) get this lesson's wording."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from bncourse import reference
from bncourse.grading import DIAGNOSES, EXERCISES, check, hint
from bncourse.grading.hints import reset_hints

LESSON_09 = (
    "norm-stats-over-batch",
    "gn-wrong-groups",
    "norm-affine-wrong-axis",
    "rms-subtracts-mean",
    "rms-uses-l2-norm",
)
"""The misconceptions of lesson 09's section of the catalogue."""

IDS = ("layer_norm", "group_norm", "rms_norm")


def _check(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(exercise_id, fn)


def _ln_stats(x, axes, ddof=0):
    mu = x.mean(axis=axes, keepdims=True)
    return mu, x.var(axis=axes, keepdims=True, ddof=ddof)


def _grouped(x, groups):
    """x as (..., groups, C // groups) and the axes one group's statistics average over."""
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    return g, tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)


# ---------------------------------------------------------------------------
# Correct implementations.
# ---------------------------------------------------------------------------


def ln_einsum(x, gamma, beta, eps=1e-3):
    flat = x.reshape(len(x), -1).astype(np.float64)
    mu = np.einsum("nd->n", flat) / flat.shape[1]
    centered = flat - mu[:, None]
    var = np.einsum("nd,nd->n", centered, centered) / flat.shape[1]
    x_hat = (centered / np.sqrt(var + eps)[:, None]).reshape(x.shape)
    return np.einsum("...c,c->...c", x_hat, gamma) + beta


def ln_float64_result(x, gamma, beta, eps=1e-3):
    x = np.asarray(x, np.float64)
    mu, var = _ln_stats(x, tuple(range(1, x.ndim)))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_as_one_group(x, gamma, beta, eps=1e-3):
    return gn_reshape(x, gamma, beta, 1, eps)


def gn_reshape(x, gamma, beta, groups, eps=1e-3):
    g, axes = _grouped(x, groups)
    mu, var = _ln_stats(g, axes)
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_split(x, gamma, beta, groups, eps=1e-3):
    parts = np.split(x.astype(np.float64), groups, axis=-1)
    axes = tuple(range(1, x.ndim))
    normed = [
        (p - p.mean(axis=axes, keepdims=True)) / np.sqrt(p.var(axis=axes, keepdims=True) + eps)
        for p in parts
    ]
    return (np.concatenate(normed, axis=-1) * gamma + beta).astype(np.float32)


def gn_affine_grouped(x, gamma, beta, groups, eps=1e-3):
    g, axes = _grouped(x, groups)
    mu, var = _ln_stats(g, axes)
    shape = (groups, x.shape[-1] // groups)
    y = gamma.reshape(shape) * (g - mu) / np.sqrt(var + eps) + beta.reshape(shape)
    return y.reshape(x.shape)


def rms_direct(x, gamma, eps=1e-6):
    x = np.asarray(x, np.float64)
    return (gamma * x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)).astype(np.float32)


def rms_loops(x, gamma, eps=1e-6):
    out = np.empty_like(x)
    for index in np.ndindex(*x.shape[:-1]):
        row = x[index].astype(np.float64)
        out[index] = gamma * row / np.sqrt((row @ row) / row.size + eps)
    return out


def rms_einsum(x, gamma, eps=1e-6):
    ms = np.einsum("...d,...d->...", x, x) / x.shape[-1]
    return x * gamma / np.sqrt(ms + eps)[..., None]


CORRECT = [
    ("layer_norm", reference.layer_norm),
    ("layer_norm", ln_einsum),
    ("layer_norm", ln_float64_result),
    ("layer_norm", ln_as_one_group),
    ("group_norm", reference.group_norm),
    ("group_norm", gn_reshape),
    ("group_norm", gn_split),
    ("group_norm", gn_affine_grouped),
    ("rms_norm", rms_direct),
    ("rms_norm", rms_loops),
    ("rms_norm", rms_einsum),
]


# ---------------------------------------------------------------------------
# Wrong implementations, one mistake each.
# ---------------------------------------------------------------------------


def ln_bn_axes(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, tuple(range(x.ndim - 1)))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_everything(x, gamma, beta, eps=1e-3):
    return gamma * (x - x.mean()) / np.sqrt(x.var() + eps) + beta


def ln_last_axis_only(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, (-1,))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_instance(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, tuple(range(1, max(x.ndim - 1, 2))))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_transposed(x, gamma, beta, eps=1e-3):
    """Transposes to reuse BN code, and applies gamma and beta before transposing back."""
    t = x.reshape(len(x), -1).T
    x_hat = (t - t.mean(axis=0)) / np.sqrt(t.var(axis=0) + eps)
    return (gamma * x_hat + beta).T.reshape(x.shape)


def ln_unbiased(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, tuple(range(1, x.ndim)), ddof=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_eps_outside(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, tuple(range(1, x.ndim)))
    return gamma * (x - mu) / (np.sqrt(var) + eps) + beta


def ln_pytorch_eps(x, gamma, beta, eps=1e-5):
    mu, var = _ln_stats(x, tuple(range(1, x.ndim)))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_one_pass(x, gamma, beta, eps=1e-3):
    axes = tuple(range(1, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = (x * x).mean(axis=axes, keepdims=True) - mu**2
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def ln_swapped(x, gamma, beta, eps=1e-3):
    mu, var = _ln_stats(x, tuple(range(1, x.ndim)))
    return beta * (x - mu) / np.sqrt(var + eps) + gamma


def gn_interleaved(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], x.shape[-1] // groups, groups)
    mu, var = _ln_stats(g, tuple(range(1, g.ndim - 1)))
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_groups_of_size_groups(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], x.shape[-1] // groups, groups)
    mu, var = _ln_stats(g, tuple(range(1, g.ndim - 2)) + (g.ndim - 1,))
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_averages_over_the_groups(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    mu, var = _ln_stats(g, tuple(range(1, g.ndim - 1)))
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_instance(x, gamma, beta, groups, eps=1e-3):
    """Instance Norm (one group per channel): per-channel statistics, a wrong axis."""
    return gn_reshape(x, gamma, beta, x.shape[-1], eps)


def gn_over_batch(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    mu, var = _ln_stats(g, tuple(range(g.ndim - 2)) + (g.ndim - 1,))
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_channels_only(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    mu, var = _ln_stats(g, (-1,))
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_gamma_per_group(x, gamma, beta, groups, eps=1e-3):
    g, axes = _grouped(x, groups)
    mu, var = _ln_stats(g, axes)
    y = gamma[:groups, None] * (g - mu) / np.sqrt(var + eps) + beta[:groups, None]
    return y.reshape(x.shape)


def gn_unbiased(x, gamma, beta, groups, eps=1e-3):
    g, axes = _grouped(x, groups)
    mu, var = _ln_stats(g, axes, ddof=1)
    return gamma * ((g - mu) / np.sqrt(var + eps)).reshape(x.shape) + beta


def gn_fixed_eps(x, gamma, beta, groups, eps=1e-3):
    return gn_reshape(x, gamma, beta, groups, 1e-3)


def rms_centered(x, gamma, eps=1e-6):
    c = x - x.mean(axis=-1, keepdims=True)
    return gamma * c / np.sqrt((c**2).mean(axis=-1, keepdims=True) + eps)


def rms_std(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt(x.var(axis=-1, keepdims=True) + eps)


def rms_l2(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt((x**2).sum(axis=-1, keepdims=True) + eps)


def rms_linalg_norm(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt(np.linalg.norm(x, axis=-1, keepdims=True) ** 2 + eps)


def rms_over_batch(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt((x**2).mean(axis=0, keepdims=True) + eps)


def rms_per_sample(x, gamma, eps=1e-6):
    axes = tuple(range(1, x.ndim))
    return gamma * x / np.sqrt((x**2).mean(axis=axes, keepdims=True) + eps)


def rms_eps_outside(x, gamma, eps=1e-6):
    return gamma * x / (np.sqrt((x**2).mean(axis=-1, keepdims=True)) + eps)


def rms_no_gamma(x, gamma, eps=1e-6):
    return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)


def rms_no_root(x, gamma, eps=1e-6):
    return gamma * x / ((x**2).mean(axis=-1, keepdims=True) + eps)


def rms_keras_bn_eps(x, gamma, eps=1e-3):
    return gamma * x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)


WRONG = [
    ("norm-stats-over-batch", "layer_norm", ln_bn_axes),
    ("norm-stats-over-batch", "layer_norm", ln_everything),
    ("wrong-axis", "layer_norm", ln_last_axis_only),
    ("wrong-axis", "layer_norm", ln_instance),
    ("norm-affine-wrong-axis", "layer_norm", ln_transposed),
    ("unbiased-variance", "layer_norm", ln_unbiased),
    ("eps-outside-sqrt", "layer_norm", ln_eps_outside),
    ("wrong-eps-default", "layer_norm", ln_pytorch_eps),
    ("one-pass-variance", "layer_norm", ln_one_pass),
    ("swapped-gamma-beta", "layer_norm", ln_swapped),
    ("gn-wrong-groups", "group_norm", gn_interleaved),
    ("gn-wrong-groups", "group_norm", gn_groups_of_size_groups),
    ("gn-wrong-groups", "group_norm", gn_averages_over_the_groups),
    ("wrong-axis", "group_norm", gn_instance),
    ("norm-stats-over-batch", "group_norm", gn_over_batch),
    ("wrong-axis", "group_norm", gn_channels_only),
    ("norm-affine-wrong-axis", "group_norm", gn_gamma_per_group),
    ("unbiased-variance", "group_norm", gn_unbiased),
    ("ignores-eps-argument", "group_norm", gn_fixed_eps),
    ("rms-subtracts-mean", "rms_norm", rms_centered),
    ("rms-subtracts-mean", "rms_norm", rms_std),
    ("rms-uses-l2-norm", "rms_norm", rms_l2),
    ("rms-uses-l2-norm", "rms_norm", rms_linalg_norm),
    ("norm-stats-over-batch", "rms_norm", rms_over_batch),
    ("wrong-axis", "rms_norm", rms_per_sample),
    ("eps-outside-sqrt", "rms_norm", rms_eps_outside),
    ("missing-scale-shift", "rms_norm", rms_no_gamma),
    ("std-for-var", "rms_norm", rms_no_root),
    ("wrong-eps-default", "rms_norm", rms_keras_bn_eps),
]


def _name(value):
    return getattr(value, "__name__", value)


@pytest.mark.parametrize("exercise_id, fn", CORRECT, ids=_name)
def test_correct_implementations_pass(exercise_id, fn):
    result = _check(exercise_id, fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize("diagnosis, exercise_id, fn", WRONG, ids=_name)
def test_wrong_implementations_get_their_diagnosis(diagnosis, exercise_id, fn):
    result = _check(exercise_id, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    exercise = EXERCISES[exercise_id]
    title = exercise.wording.get(diagnosis, DIAGNOSES[diagnosis]).title
    assert title in result.feedback


def test_every_lesson_09_misconception_is_in_the_catalogue_and_detected_twice():
    assert set(LESSON_09) <= set(DIAGNOSES)
    for diagnosis in LESSON_09:
        assert len({fn for d, _, fn in WRONG if d == diagnosis}) >= 2, diagnosis


def test_the_named_mistakes_of_issue_14_are_named_in_both_exercises():
    named = {(d, e) for d, e, _ in WRONG}
    for exercise_id in ("layer_norm", "group_norm"):
        assert ("norm-stats-over-batch", exercise_id) in named
        assert ("norm-affine-wrong-axis", exercise_id) in named
    assert ("gn-wrong-groups", "group_norm") in named


@pytest.mark.parametrize("exercise_id", IDS)
def test_each_exercise_has_a_ladder_of_three_distinct_hints(exercise_id):
    hints = EXERCISES[exercise_id].hints
    assert len(hints) >= 3
    assert len(set(hints)) == len(hints)
    reset_hints()
    try:
        assert hint(exercise_id) == hints[0]
    finally:
        reset_hints()


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_failed_check_says_how_to_ask_for_a_hint(exercise_id):
    fn = {"layer_norm": ln_bn_axes, "group_norm": gn_over_batch, "rms_norm": rms_over_batch}
    result = _check(exercise_id, fn[exercise_id])
    assert f'hint("{exercise_id}")' in str(result)


def test_an_unexplained_mistake_shows_the_smallest_readable_failing_case():
    def off_by_a_little(x, gamma, beta, groups, eps=1e-3):
        return gn_reshape(x, gamma, beta, groups, eps) * 1.01

    result = _check("group_norm", off_by_a_little)
    assert not result.passed and not result.diagnoses
    assert result.failing is not None
    assert result.failing_case()["x"].shape == (3, 6)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_cases_include_feature_maps_and_a_quiet_and_a_constant_sample(exercise_id):
    cases = EXERCISES[exercise_id].cases()
    labels = " ".join(c.label for c in cases)
    assert any(np.ndim(c.args["x"]) >= 3 for c in cases)
    assert any(c.args["x"].shape[0] == c.args["x"].shape[-1] for c in cases)  # sample vs channel
    assert "constant" in labels or "all zeros" in labels
    assert any("eps" in c.args for c in cases)


def test_the_reference_ignores_the_other_samples_of_the_batch():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(5, 3, 3, 6)).astype(np.float32)
    gamma, beta = np.ones(6, np.float32), np.zeros(6, np.float32)
    for fn in (reference.layer_norm, lambda *a: reference.group_norm(*a, groups=3)):
        np.testing.assert_allclose(fn(x[:1], gamma, beta), fn(x, gamma, beta)[:1], atol=1e-6)


@pytest.mark.parametrize("exercise_id, fn", CORRECT[:1] + CORRECT[4:5] + CORRECT[8:9])
def test_the_checks_answer_within_a_fifth_of_a_second(exercise_id, fn):
    _check(exercise_id, fn)  # warm the caches
    start = time.perf_counter()
    _check(exercise_id, fn)
    assert time.perf_counter() - start < 0.2
