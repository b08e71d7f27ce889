"""identity_params: the gamma and beta for which training-mode BN returns its input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import reference as ref


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def test_hand_computed_example():
    # Column 0: values 1 and 3, mean 2, biased variance 1. Column 1: constant 2, variance 0.
    x = np.array([[1.0, 2.0], [3.0, 2.0]], dtype=np.float32)
    gamma, beta = ref.identity_params(x, eps=0.25)
    np.testing.assert_allclose(gamma, [np.sqrt(1.25), 0.5], rtol=1e-6)
    np.testing.assert_allclose(beta, [2.0, 2.0], rtol=1e-6)


def test_default_eps_is_keras_one_thousandth():
    x = np.array([[0.0], [0.0]], dtype=np.float32)  # variance 0: gamma is sqrt(eps) alone
    gamma, _ = ref.identity_params(x)
    np.testing.assert_allclose(gamma, [np.sqrt(1e-3)], rtol=1e-6)


@pytest.mark.parametrize("shape", [(7, 4), (3, 5, 6, 4), (2, 1, 1, 4)])
@pytest.mark.parametrize("eps", [1e-3, 1e-5, 0.5])
def test_batchnorm_with_these_params_returns_its_input(rng, shape, eps):
    x = (rng.normal(size=shape) * rng.uniform(0.01, 4.0, shape[-1]) + 3.0).astype(np.float32)
    x[..., 0] = -1.5  # a constant feature comes back too
    gamma, beta = ref.identity_params(x, eps=eps)
    np.testing.assert_allclose(ref.batchnorm_forward(x, gamma, beta, eps), x, atol=2e-5)


def test_a_batch_of_one_comes_back_as_well():
    x = np.array([[0.3, -4.0, 7.5]], dtype=np.float32)
    gamma, beta = ref.identity_params(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ref.DegenerateBatchWarning)
        np.testing.assert_allclose(ref.batchnorm_forward(x, gamma, beta), x, atol=1e-6)


def test_statistics_are_per_channel_and_biased(rng):
    x = rng.normal(size=(4, 3, 5, 2)).astype(np.float64)
    gamma, beta = ref.identity_params(x, eps=1e-3)
    flat = x.reshape(-1, 2)
    np.testing.assert_allclose(beta, flat.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(gamma, np.sqrt(flat.var(axis=0, ddof=0) + 1e-3), rtol=1e-5)
    assert not np.allclose(gamma, np.sqrt(flat.var(axis=0, ddof=1) + 1e-3), rtol=1e-5)


def test_float32_out_and_inputs_untouched(rng):
    x = rng.normal(size=(6, 3))  # float64 in
    before = x.copy()
    gamma, beta = ref.identity_params(x)
    assert gamma.dtype == np.float32 and beta.dtype == np.float32
    assert gamma.shape == (3,) and beta.shape == (3,)
    np.testing.assert_array_equal(x, before)
    gamma_int, _ = ref.identity_params(np.array([[1, 2], [3, 4]]))
    assert gamma_int.dtype == np.float32


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: ref.identity_params(np.ones(4)), ValueError, r"x must have shape"),
        (lambda: ref.identity_params(np.ones((0, 3))), ValueError, "x must not be empty"),
        (lambda: ref.identity_params([["a", "b"]]), TypeError, "x must hold real numbers"),
        (lambda: ref.identity_params([[1.0, np.inf]]), ValueError, "x contains NaN"),
        (lambda: ref.identity_params(np.ones((2, 2)), eps=-1e-3), ValueError, "eps must be"),
        (lambda: ref.identity_params(np.ones((2, 2)), eps="big"), TypeError, "eps must be"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
