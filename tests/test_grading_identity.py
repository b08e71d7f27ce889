"""The identity_params check: correct styles pass, each claimed mistake is named and
explained in terms of gamma and beta."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import reference
from bncourse.grading import DIAGNOSES, check, get_exercise

# ---------------------------------------------------------------------------
# Correct implementations, written as learners write them.
# ---------------------------------------------------------------------------


def identity_vectorized(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return np.sqrt(x.var(axis=axes) + eps), x.mean(axis=axes)


def identity_flatten(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    mu = flat.mean(0)
    return np.sqrt(((flat - mu) ** 2).mean(0) + eps), mu


def identity_loops(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    gamma, beta = [], []
    for c in range(flat.shape[1]):
        mu = sum(flat[:, c]) / len(flat)
        var = sum((v - mu) ** 2 for v in flat[:, c]) / len(flat)
        gamma.append((var + eps) ** 0.5)
        beta.append(mu)
    return np.array(gamma, dtype=np.float32), np.array(beta, dtype=np.float32)


def identity_keepdims_list(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = np.mean(x, axis=axes, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=axes, keepdims=True)
    return [np.sqrt(var + eps).ravel(), mu.ravel()]


CORRECT = [identity_vectorized, identity_flatten, identity_loops, identity_keepdims_list]

# ---------------------------------------------------------------------------
# Wrong implementations: two or more per diagnosis the exercise claims.
# ---------------------------------------------------------------------------


def _axes(x):
    return tuple(range(x.ndim - 1))


def unbiased_std(x, eps=1e-3):
    return np.sqrt(x.var(axis=_axes(x), ddof=1) + eps), x.mean(axis=_axes(x))


def unbiased_manual(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    mu = flat.mean(0)
    return np.sqrt(((flat - mu) ** 2).sum(0) / (len(flat) - 1) + eps), mu


def no_eps_std(x, eps=1e-3):
    return x.std(axis=_axes(x)), x.mean(axis=_axes(x))


def no_eps_flatten(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    return np.sqrt(flat.var(0)), flat.mean(0)


def eps_outside_std(x, eps=1e-3):
    return x.std(axis=_axes(x)) + eps, x.mean(axis=_axes(x))


def eps_outside_flatten(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    return np.sqrt(flat.var(0)) + eps, flat.mean(0)


def variance_plus_eps(x, eps=1e-3):
    return x.var(axis=_axes(x)) + eps, x.mean(axis=_axes(x))


def variance_alone(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    return flat.var(0), flat.mean(0)


def swapped_tuple(x, eps=1e-3):
    return x.mean(axis=_axes(x)), np.sqrt(x.var(axis=_axes(x)) + eps)


def swapped_names(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    beta = np.sqrt(flat.var(0) + eps)  # the names are swapped too
    gamma = flat.mean(0)
    return gamma, beta


def axis0_only(x, eps=1e-3):
    return np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)  # per position for feature maps


def per_sample(x, eps=1e-3):
    axes = tuple(range(1, x.ndim))
    return np.sqrt(x.var(axis=axes) + eps), x.mean(axis=axes)


def fixed_eps(x, eps=1e-3):
    return np.sqrt(x.var(axis=_axes(x)) + 1e-3), x.mean(axis=_axes(x))


def fixed_eps_loops(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    return np.array([np.sqrt(flat[:, c].var() + 0.001) for c in range(flat.shape[1])]), flat.mean(0)


def inverted(x, eps=1e-3):
    axes = _axes(x)
    return 1.0 / np.sqrt(x.var(axis=axes) + eps), -x.mean(axis=axes)


def beta_divided(x, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    gamma = np.sqrt(flat.var(0) + eps)
    return gamma, flat.mean(0) / gamma  # cancels -mean / gamma, forgetting gamma multiplies it


def pytorch_default(x, eps=1e-5):
    return np.sqrt(x.var(axis=_axes(x)) + eps), x.mean(axis=_axes(x))


def pytorch_default_flatten(x, eps=1e-5):
    flat = x.reshape(-1, x.shape[-1])
    return np.sqrt(flat.var(0) + eps), flat.mean(0)


WRONG = {
    "unbiased-variance": [unbiased_std, unbiased_manual],
    "missing-eps": [no_eps_std, no_eps_flatten],
    "eps-outside-sqrt": [eps_outside_std, eps_outside_flatten],
    "std-for-var": [variance_plus_eps, variance_alone],
    "swapped-gamma-beta": [swapped_tuple, swapped_names],
    "wrong-axis": [axis0_only, per_sample],
    "ignores-eps-argument": [fixed_eps, fixed_eps_loops],
    "wrong-eps-default": [pytorch_default, pytorch_default_flatten],
    "identity-not-inverse": [inverted, beta_divided],
}

# Words only the exercise's own explanations use, per diagnosis it rewrites.
OWN_WORDS = {
    "swapped-gamma-beta": "returns the mean first and the standard deviation second",
    "std-for-var": "gamma is built from the variance",
    "eps-outside-sqrt": "Your gamma is sqrt(var) + eps",
    "missing-eps": "gamma = sqrt(var) undoes it only approximately",
}


def _check(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check("identity_params", fn)


def test_the_exercise_belongs_to_lesson_03():
    exercise = get_exercise("identity_params")
    assert exercise.lesson == "03_the_four_steps"
    assert exercise.outputs == ("gamma", "beta")
    kinds = {case.kind for case in exercise.cases()}
    assert kinds == {"dense", "conv"}


def test_the_reference_passes():
    result = check("identity_params", reference.identity_params)
    assert result.passed and result.score == result.max_score, str(result)
    assert result.diagnosis is None


@pytest.mark.parametrize("fn", CORRECT, ids=lambda fn: fn.__name__)
def test_correct_styles_are_accepted(fn):
    result = _check(fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


def test_correct_answers_really_give_back_the_input():
    # Independent of the grader: BN with the accepted gamma and beta returns x.
    x = np.random.default_rng(5).normal(2.0, 3.0, size=(9, 4)).astype(np.float32)
    for fn in CORRECT:
        gamma, beta = (np.asarray(v, dtype=np.float32) for v in fn(x))
        np.testing.assert_allclose(reference.batchnorm_forward(x, gamma, beta), x, atol=1e-5)


@pytest.mark.parametrize(
    "diagnosis, fn",
    [(d, fn) for d, fns in WRONG.items() for fn in fns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_implementations_are_named(diagnosis, fn):
    result = _check(fn)
    assert not result.passed and result.score < result.max_score
    assert result.diagnosis == diagnosis, str(result)
    if diagnosis in OWN_WORDS:
        assert OWN_WORDS[diagnosis] in result.feedback
        assert DIAGNOSES[diagnosis].explanation not in result.feedback
        assert f"Hint: {DIAGNOSES[diagnosis].hint}" not in result.feedback
    else:
        assert DIAGNOSES[diagnosis].title in result.feedback


def test_every_claimed_diagnosis_has_two_wrong_implementations():
    assert all(len(set(fns)) >= 2 for fns in WRONG.values())
    assert set(OWN_WORDS) <= set(WRONG)


def test_the_forward_pass_wording_is_not_shown_for_a_swap():
    result = _check(swapped_tuple)
    assert "beta * x_hat + gamma" not in result.feedback


def test_dense_only_code_is_said_to_fail_on_feature_maps():
    result = _check(axis0_only)
    assert "works for dense-layer batches" in result.feedback
    assert 0 < result.score < result.max_score


def test_two_mistakes_at_once_are_both_named():
    def both(x, eps=1e-3):
        axes = _axes(x)
        return x.mean(axis=axes), x.std(axis=axes) + eps

    result = _check(both)
    assert set(result.diagnoses) == {"eps-outside-sqrt", "swapped-gamma-beta"}
    for diagnosis in result.diagnoses:
        assert OWN_WORDS[diagnosis] in result.feedback


def test_an_unknown_mistake_gets_evidence_not_a_false_name():
    def spread_as_range(x, eps=1e-3):
        axes = _axes(x)
        return x.max(axis=axes) - x.min(axis=axes) + eps, x.mean(axis=axes)

    result = _check(spread_as_range)
    assert not result.passed and result.diagnosis is None
    assert "expected" in result.feedback and "got" in result.feedback


def test_an_untouched_stub_is_not_attempted():
    def identity_params(x, eps=1e-3):
        raise NotImplementedError("Write identity_params.")

    result = check("identity_params", identity_params)
    assert result.status == "not-attempted" and result.score == 0
