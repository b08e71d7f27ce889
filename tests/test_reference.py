"""The NumPy reference: behavior, validation, a float64 gradient check and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bncourse import reference as ref

# ---------------------------------------------------------------------------
# Independent float64 formulas, written out here so the tests do not trust the
# module they test.
# ---------------------------------------------------------------------------


def bn_train_f64(x, gamma, beta, eps):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes)
    var = x.var(axis=axes)  # NumPy's var is the biased one (ddof=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def rel_error(got, expected):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(got - expected)) / max(1e-8, np.max(np.abs(expected))))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---------------------------------------------------------------------------
# Plain behavior on hand-checked numbers.
# ---------------------------------------------------------------------------


def test_min_max_on_a_hand_computed_example():
    x = np.array([[0.0, 10.0], [5.0, 30.0], [10.0, 20.0]], dtype=np.float32)
    expected = np.array([[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]])
    np.testing.assert_allclose(ref.min_max_normalize(x), expected)


def test_standardize_on_a_hand_computed_example():
    # column [3, 5, 7]: mean 5, population std sqrt(8/3)
    x = np.array([[3.0], [5.0], [7.0]])
    expected = (np.array([[3.0], [5.0], [7.0]]) - 5.0) / np.sqrt(8.0 / 3.0)
    np.testing.assert_allclose(ref.standardize(x), expected, rtol=1e-6)


def test_constant_columns_map_to_zero_like_scikit_learn():
    x = np.array([[1.0, 4.0], [2.0, 4.0], [3.0, 4.0]])
    assert np.all(ref.min_max_normalize(x)[:, 1] == 0)
    assert np.all(ref.standardize(x)[:, 1] == 0)


def test_scalers_match_scikit_learn(rng):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    x = rng.normal(3.0, 20.0, size=(40, 6))
    np.testing.assert_allclose(ref.min_max_normalize(x), MinMaxScaler().fit_transform(x), atol=1e-6)
    np.testing.assert_allclose(ref.standardize(x), StandardScaler().fit_transform(x), atol=1e-5)


def test_four_steps_on_a_hand_computed_example():
    # one feature, batch [3, 5, 7]: mean 5, biased variance 8/3
    x = np.array([[3.0], [5.0], [7.0]], dtype=np.float32)
    assert ref.batch_mean(x) == pytest.approx([5.0])
    assert ref.batch_variance(x) == pytest.approx([8.0 / 3.0])
    x_hat = ref.normalize(x, [5.0], [8.0 / 3.0], eps=0.0)
    assert x_hat[2, 0] == pytest.approx(2.0 / np.sqrt(8.0 / 3.0))
    y = ref.scale_shift(x_hat, [2.0], [1.0])
    assert y[2, 0] == pytest.approx(2.0 * 2.0 / np.sqrt(8.0 / 3.0) + 1.0)


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 5, 7), (6, 4, 3)])
def test_forward_matches_independent_formula(rng, shape):
    x = rng.normal(2.0, 3.0, size=shape).astype(np.float32)
    gamma = rng.normal(1.0, 0.5, size=shape[-1]).astype(np.float32)
    beta = rng.normal(0.0, 0.5, size=shape[-1]).astype(np.float32)
    for eps in (1e-3, 0.5):
        got = ref.batchnorm_forward(x, gamma, beta, eps=eps)
        assert got.dtype == np.float32 and got.shape == shape
        assert rel_error(got, bn_train_f64(x.astype(np.float64), gamma, beta, eps)) < 1e-6


def test_forward_composes_the_four_steps(rng):
    x = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    mu, var = ref.batch_mean(x), ref.batch_variance(x)
    staged = ref.scale_shift(ref.normalize(x, mu, var), gamma, beta)
    assert rel_error(ref.batchnorm_forward(x, gamma, beta), staged) < 1e-5


def test_statistics_are_per_channel_for_images(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    # channel 1 gets a different mean: only its statistic may change
    x[..., 1] += 10.0
    mu = ref.batch_mean(x)
    assert mu.shape == (5,)
    np.testing.assert_allclose(mu, x.reshape(-1, 5).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(ref.batch_variance(x), x.reshape(-1, 5).var(axis=0), rtol=1e-5)


def test_epsilon_sits_inside_the_square_root():
    x = np.array([[0.0], [0.02]])  # variance 1e-4, far smaller than eps=1e-3
    x_hat = ref.normalize(x, [0.01], [1e-4], eps=1e-3)
    assert x_hat[1, 0] == pytest.approx(0.01 / np.sqrt(1e-4 + 1e-3), rel=1e-6)


def test_constant_feature_gives_beta_not_nan():
    x = np.array([[1.0, 4.0], [2.0, 4.0], [3.0, 4.0]])
    y = ref.batchnorm_forward(x, [1.0, 2.0], [0.0, 0.7])
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[:, 1], 0.7, rtol=1e-6)


def test_moving_statistics_follow_keras_convention():
    new_mean, new_var = ref.update_moving_stats([0.0], [1.0], [10.0], [5.0], momentum=0.9)
    assert new_mean[0] == pytest.approx(1.0)  # 0.9 * 0 + 0.1 * 10
    assert new_var[0] == pytest.approx(1.4)  # 0.9 * 1 + 0.1 * 5
    same = ref.update_moving_stats([2.0], [3.0], [10.0], [5.0], momentum=1.0)
    assert same[0][0] == pytest.approx(2.0) and same[1][0] == pytest.approx(3.0)


def test_inference_uses_moving_statistics_not_the_batch(rng):
    x = rng.normal(5.0, 2.0, size=(8, 3))
    y = ref.batchnorm_inference(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), eps=0.0)
    np.testing.assert_allclose(y, x, rtol=1e-6)  # moving mean 0, variance 1: identity
    one = ref.batchnorm_inference(x[:1], np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), eps=0)
    np.testing.assert_allclose(one, x[:1], rtol=1e-6)  # a batch of one is fine at inference


def test_inference_with_batch_statistics_equals_training_mode(rng):
    x = rng.normal(1.0, 3.0, size=(5, 4, 4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    inference = ref.batchnorm_inference(
        x, gamma, beta, ref.batch_mean(x), ref.batch_variance(x), eps=1e-3
    )
    assert rel_error(inference, ref.batchnorm_forward(x, gamma, beta, eps=1e-3)) < 1e-5


def test_batch_of_one_warns_and_returns_beta():
    with pytest.warns(ref.DegenerateBatchWarning, match="one value per feature"):
        y = ref.batchnorm_forward(np.array([[3.0, -1.0]]), [2.0, 2.0], [0.5, -0.5])
    np.testing.assert_allclose(y, [[0.5, -0.5]])


def test_image_batch_of_one_does_not_warn():
    # one image still has height * width values per channel
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref.batchnorm_forward(np.arange(12.0).reshape(1, 2, 3, 2), [1.0, 1.0], [0.0, 0.0])


# ---------------------------------------------------------------------------
# Backward: a central-difference check in float64 against an independent forward.
# ---------------------------------------------------------------------------


def numerical_gradients(x, gamma, beta, dout, eps, h=1e-5):
    def loss(x_, gamma_, beta_):
        return float(np.sum(dout * bn_train_f64(x_, gamma_, beta_, eps)))

    grads = []
    for index, array in enumerate((x, gamma, beta)):
        grad = np.zeros_like(array)
        for position in np.ndindex(array.shape):
            args = [x.copy(), gamma.copy(), beta.copy()]
            args[index][position] += h
            up = loss(*args)
            args[index][position] -= 2 * h
            down = loss(*args)
            grad[position] = (up - down) / (2 * h)
        grads.append(grad)
    return grads


@pytest.mark.parametrize("shape", [(7, 4), (3, 2, 3, 4)])
@pytest.mark.parametrize("eps", [1e-3, 0.1])
def test_backward_matches_central_differences(rng, shape, eps):
    x = rng.normal(1.0, 2.0, size=shape)
    gamma = rng.normal(1.0, 0.5, size=shape[-1])
    beta = rng.normal(0.0, 1.0, size=shape[-1])
    dout = rng.normal(size=shape)
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, gamma, eps=eps)
    num_dx, num_dgamma, num_dbeta = numerical_gradients(x, gamma, beta, dout, eps)
    assert rel_error(dx, num_dx) < 1e-5
    assert rel_error(dgamma, num_dgamma) < 1e-5
    assert rel_error(dbeta, num_dbeta) < 1e-5


def test_layer_backward_uses_last_training_batch(rng):
    layer = ref.BatchNorm(3)
    x = rng.normal(size=(6, 3))
    layer(x, training=True)
    dout = rng.normal(size=(6, 3))
    dx = layer.backward(dout)
    expected = ref.batchnorm_backward(dout, x, layer.gamma, layer.epsilon)
    np.testing.assert_allclose(dx, expected[0])
    np.testing.assert_allclose(layer.dgamma, expected[1])


# ---------------------------------------------------------------------------
# Folding, LayerNorm, GroupNorm, the layer class.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("use_bias", [True, False])
def test_folding_reproduces_inference_bn(rng, use_bias):
    x = rng.normal(size=(10, 6))
    kernel = rng.normal(size=(6, 4))
    bias = rng.normal(size=4) if use_bias else None
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    mean, var = rng.normal(size=4), rng.uniform(0.1, 2.0, size=4)
    k2, b2 = ref.fold_batchnorm(kernel, bias, gamma, beta, mean, var)
    z = x @ kernel + (0.0 if bias is None else bias)
    expected = ref.batchnorm_inference(z, gamma, beta, mean, var)
    assert rel_error(x @ k2 + b2, expected) < 1e-5


def test_folding_a_conv_kernel_scales_each_output_channel(rng):
    kernel = rng.normal(size=(3, 3, 2, 5))
    gamma, var = rng.uniform(0.5, 2, size=5), rng.uniform(0.5, 2, size=5)
    k2, _ = ref.fold_batchnorm(kernel, None, gamma, np.zeros(5), np.zeros(5), var)
    np.testing.assert_allclose(k2, kernel * gamma / np.sqrt(var + 1e-3), rtol=1e-5)


def test_layer_norm_normalizes_each_sample(rng):
    x = rng.normal(3.0, 5.0, size=(4, 2, 2, 6))
    y = ref.layer_norm(x, np.ones(6), np.zeros(6), eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(1, 2, 3)), 1.0, rtol=1e-4)


def test_layer_norm_is_batch_norm_of_the_transpose(rng):
    x = rng.normal(size=(5, 8))
    layer = ref.layer_norm(x, np.ones(8), np.zeros(8))
    batch_of_transpose = ref.batchnorm_forward(x.T, np.ones(5), np.zeros(5))
    assert rel_error(layer, batch_of_transpose.T) < 1e-5


def test_group_norm_extremes_are_layer_and_instance_norm(rng):
    x = rng.normal(size=(2, 3, 3, 4))
    g, b = rng.normal(size=4), rng.normal(size=4)
    assert rel_error(ref.group_norm(x, g, b, groups=1), ref.layer_norm(x, g, b)) < 1e-5
    instance = ref.group_norm(x, np.ones(4), np.zeros(4), groups=4, eps=0.0)
    np.testing.assert_allclose(instance.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(instance.var(axis=(1, 2)), 1.0, rtol=1e-4)


def test_layer_class_defaults_and_modes(rng):
    layer = ref.BatchNorm(4)
    assert layer.momentum == 0.99 and layer.epsilon == 1e-3
    np.testing.assert_array_equal(layer.gamma, 1)
    np.testing.assert_array_equal(layer.beta, 0)
    np.testing.assert_array_equal(layer.moving_mean, 0)
    np.testing.assert_array_equal(layer.moving_var, 1)
    assert layer.parameter_count == {"trainable": 8, "non_trainable": 8}
    x = rng.normal(4.0, 2.0, size=(32, 4))
    before = layer(x)  # inference by default: the moving statistics (0, 1) barely change x
    assert rel_error(before, x / np.sqrt(1.001)) < 1e-6
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean, 0.01 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_var, 0.99 + 0.01 * x.var(axis=0), rtol=1e-5)


# ---------------------------------------------------------------------------
# Conventions: dtypes, no mutation, clear errors.
# ---------------------------------------------------------------------------


def test_float64_and_int_inputs_give_float32(rng):
    for x in (rng.normal(size=(4, 3)), np.arange(12).reshape(4, 3)):
        assert ref.batchnorm_forward(x, np.ones(3), np.zeros(3)).dtype == np.float32
        assert ref.batch_mean(x).dtype == np.float32
        assert ref.standardize(x).dtype == np.float32


def test_no_function_mutates_its_inputs(rng):
    x = rng.normal(size=(6, 3)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    mm, mv = np.zeros(3, np.float32), np.ones(3, np.float32)
    kernel = rng.normal(size=(5, 3)).astype(np.float32)
    arrays = [x, gamma, beta, mm, mv, kernel]
    copies = [a.copy() for a in arrays]
    ref.min_max_normalize(x)
    ref.standardize(x)
    ref.batchnorm_forward(x, gamma, beta)
    ref.batchnorm_backward(x, x, gamma)
    ref.batchnorm_inference(x, gamma, beta, mm, mv)
    ref.update_moving_stats(mm, mv, gamma, beta)
    ref.fold_batchnorm(kernel, beta, gamma, beta, mm, mv)
    ref.layer_norm(x, gamma, beta)
    for array, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: ref.batch_mean(np.ones(5)), ValueError, r"x must have shape \(batch, features\)"),
        (lambda: ref.standardize(np.ones((2, 3, 4))), ValueError, r"\(samples, features\)"),
        (lambda: ref.batch_mean(np.array([["a"]])), TypeError, "x must hold real numbers"),
        (lambda: ref.batch_mean([[1.0, np.nan]]), ValueError, "x contains NaN"),
        (lambda: ref.batch_mean(np.ones((0, 3))), ValueError, "must not be empty"),
        (
            lambda: ref.batchnorm_forward(np.ones((4, 3)), np.ones(2), np.zeros(3)),
            ValueError,
            r"gamma must have shape \(C,\) = \(3,\)",
        ),
        (
            lambda: ref.scale_shift(np.ones((4, 3)), np.ones(3), np.zeros((1, 3))),
            ValueError,
            r"beta must have shape \(C,\) = \(3,\)",
        ),
        (
            lambda: ref.normalize(np.ones((4, 3)), np.zeros(3), -np.ones(3)),
            ValueError,
            "var must be >= 0",
        ),
        (
            lambda: ref.update_moving_stats(np.zeros(3), np.ones(3), np.ones(3), np.ones(3), 1.5),
            ValueError,
            r"momentum must lie in \[0, 1\]",
        ),
        (
            lambda: ref.batchnorm_backward(np.ones((3, 2)), np.ones((4, 2)), np.ones(2)),
            ValueError,
            r"dout must have the shape of x",
        ),
        (
            lambda: ref.group_norm(np.ones((2, 6)), np.ones(6), np.zeros(6), groups=4),
            ValueError,
            "positive divisor",
        ),
        (
            lambda: ref.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), "x"),
            TypeError,
            "eps must be a number",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------
# Properties (hypothesis).
# ---------------------------------------------------------------------------

values = st.floats(-100.0, 100.0, allow_nan=False, width=32)
batches = hnp.arrays(
    np.float32,
    st.one_of(
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=9),
        hnp.array_shapes(min_dims=4, max_dims=4, min_side=2, max_side=4),
    ),
    elements=values,
)


@settings(max_examples=60, deadline=None)
@given(x=batches, scale=st.floats(0.1, 10.0), shift=st.floats(-50.0, 50.0))
def test_training_output_ignores_an_affine_change_of_a_feature(x, scale, shift):
    # BN(a*x + b) with eps*a^2 equals BN(x) with eps exactly: the a^2 cancels.
    channels = x.shape[-1]
    gamma = np.linspace(0.5, 2.0, channels)
    beta = np.linspace(-1.0, 1.0, channels)
    eps = 1e-3
    original = ref.batchnorm_forward(x, gamma, beta, eps=eps)
    moved = ref.batchnorm_forward(
        scale * x.astype(np.float64) + shift, gamma, beta, eps=eps * scale**2
    )
    np.testing.assert_allclose(moved, original, atol=2e-3, rtol=1e-3)


@settings(max_examples=60, deadline=None)
@given(x=batches)
def test_unit_gamma_zero_beta_gives_mean_zero_and_shrunk_variance(x):
    x64 = x.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    var = x64.var(axis=axes)
    y = ref.batchnorm_forward(x, np.ones(x.shape[-1]), np.zeros(x.shape[-1])).astype(np.float64)
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.var(axis=axes), var / (var + 1e-3), atol=1e-4)
