"""The NumPy reference gives the numbers keras.layers.BatchNormalization gives (float32)."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse import reference as ref

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

TOLERANCE = 1e-5
SHAPES = [(32, 6), (4, 5, 3, 7)]
SETTINGS = [(1e-3, 0.99), (1e-5, 0.9)]  # Keras's defaults, then PyTorch-like eps


def rel_error(got, expected):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(got - expected)) / max(1e-8, np.max(np.abs(expected))))


def make_inputs(shape, seed):
    rng = np.random.default_rng(seed)
    channels = shape[-1]
    x = rng.normal(0.5, 2.0, size=shape).astype(np.float32)
    x[..., 0] *= 0.01  # a feature with a variance below eps: where eps sits matters
    gamma = rng.uniform(0.5, 1.5, channels).astype(np.float32)
    beta = rng.normal(0.0, 0.5, channels).astype(np.float32)
    moving_mean = rng.normal(0.0, 1.0, channels).astype(np.float32)
    moving_var = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    return x, gamma, beta, moving_mean, moving_var


def keras_layer(shape, gamma, beta, moving_mean, moving_var, eps, momentum):
    layer = keras.layers.BatchNormalization(epsilon=eps, momentum=momentum)
    layer.build(shape)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    layer.moving_mean.assign(moving_mean)
    layer.moving_variance.assign(moving_var)
    return layer


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eps, momentum", SETTINGS)
def test_training_mode_output_and_moving_statistics(shape, eps, momentum):
    x, gamma, beta, moving_mean, moving_var = make_inputs(shape, seed=1)
    layer = keras_layer(shape, gamma, beta, moving_mean, moving_var, eps, momentum)
    keras_out = layer(x, training=True).numpy()
    ours = ref.batchnorm_forward(x, gamma, beta, eps=eps)
    assert rel_error(ours, keras_out) <= TOLERANCE
    new_mean, new_var = ref.update_moving_stats(
        moving_mean, moving_var, ref.batch_mean(x), ref.batch_variance(x), momentum=momentum
    )
    assert rel_error(new_mean, layer.moving_mean.numpy()) <= TOLERANCE
    assert rel_error(new_var, layer.moving_variance.numpy()) <= TOLERANCE


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eps, momentum", SETTINGS)
def test_inference_mode_output(shape, eps, momentum):
    x, gamma, beta, moving_mean, moving_var = make_inputs(shape, seed=2)
    layer = keras_layer(shape, gamma, beta, moving_mean, moving_var, eps, momentum)
    keras_out = layer(x, training=False).numpy()
    ours = ref.batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=eps)
    assert rel_error(ours, keras_out) <= TOLERANCE
    # inference must not touch the moving statistics
    np.testing.assert_array_equal(layer.moving_mean.numpy(), moving_mean)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eps, momentum", SETTINGS)
def test_gradients_match_gradient_tape(shape, eps, momentum):
    x, gamma, beta, moving_mean, moving_var = make_inputs(shape, seed=3)
    dout = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    layer = keras_layer(shape, gamma, beta, moving_mean, moving_var, eps, momentum)
    x_var = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x_var, training=True) * dout)
    dx_k, dgamma_k, dbeta_k = tape.gradient(loss, [x_var, layer.gamma, layer.beta])
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, gamma, eps=eps)
    assert rel_error(dx, dx_k.numpy()) <= TOLERANCE
    assert rel_error(dgamma, dgamma_k.numpy()) <= TOLERANCE
    assert rel_error(dbeta, dbeta_k.numpy()) <= TOLERANCE


@pytest.mark.parametrize("eps", [1e-3, 1e-5])
def test_folding_matches_dense_then_bn_in_inference(eps):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 10)).astype(np.float32)
    dense = keras.layers.Dense(6)
    dense.build((None, 10))
    dense.bias.assign(rng.normal(size=6).astype(np.float32))
    _, gamma, beta, moving_mean, moving_var = make_inputs((1, 6), seed=6)
    bn = keras_layer((None, 6), gamma, beta, moving_mean, moving_var, eps, 0.99)
    keras_out = bn(dense(x), training=False).numpy()
    kernel, bias = ref.fold_batchnorm(
        dense.kernel.numpy(), dense.bias.numpy(), gamma, beta, moving_mean, moving_var, eps=eps
    )
    assert rel_error(x @ kernel + bias, keras_out) <= TOLERANCE


def test_folding_matches_conv2d_then_bn_in_inference():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
    conv = keras.layers.Conv2D(4, 3, use_bias=False)
    conv.build((None, 6, 6, 3))
    _, gamma, beta, moving_mean, moving_var = make_inputs((1, 4), seed=8)
    bn = keras_layer((None, 4, 4, 4), gamma, beta, moving_mean, moving_var, 1e-3, 0.99)
    keras_out = bn(conv(x), training=False).numpy()
    kernel, bias = ref.fold_batchnorm(
        conv.kernel.numpy(), None, gamma, beta, moving_mean, moving_var
    )
    folded = keras.layers.Conv2D(4, 3)
    folded.build((None, 6, 6, 3))
    folded.kernel.assign(kernel)
    folded.bias.assign(bias)
    assert rel_error(folded(x).numpy(), keras_out) <= TOLERANCE


def test_keras_defaults_are_the_ones_the_course_teaches():
    layer = keras.layers.BatchNormalization()
    assert layer.epsilon == ref.DEFAULT_EPSILON == 1e-3
    assert layer.momentum == ref.DEFAULT_MOMENTUM == 0.99
    assert layer.axis == -1 and layer.center and layer.scale
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.gamma.numpy(), ref.BatchNorm(3).gamma)
    np.testing.assert_array_equal(layer.moving_variance.numpy(), ref.BatchNorm(3).moving_var)
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


@pytest.mark.parametrize("shape", SHAPES)
def test_layer_class_matches_keras_over_several_steps(shape):
    x, *_ = make_inputs(shape, seed=9)
    ours = ref.BatchNorm(shape[-1])
    theirs = keras.layers.BatchNormalization()
    for step in range(3):
        batch = x * (step + 1)
        assert rel_error(ours(batch, training=True), theirs(batch, training=True)) <= TOLERANCE
    assert rel_error(ours.moving_mean, theirs.moving_mean.numpy()) <= TOLERANCE
    assert rel_error(ours.moving_var, theirs.moving_variance.numpy()) <= TOLERANCE
    assert rel_error(ours(x), theirs(x, training=False)) <= TOLERANCE


def test_layer_norm_and_group_norm_match_keras():
    rng = np.random.default_rng(10)
    x2 = rng.normal(size=(8, 6)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 6), rng.normal(size=6)
    ln = keras.layers.LayerNormalization()
    ln.build((None, 6))
    ln.gamma.assign(gamma.astype(np.float32))
    ln.beta.assign(beta.astype(np.float32))
    assert rel_error(ref.layer_norm(x2, gamma, beta), ln(x2)) <= TOLERANCE

    x4 = rng.normal(size=(3, 4, 4, 6)).astype(np.float32)
    gn = keras.layers.GroupNormalization(groups=3)
    gn.build((None, 4, 4, 6))
    gn.gamma.assign(gamma.astype(np.float32))
    gn.beta.assign(beta.astype(np.float32))
    assert rel_error(ref.group_norm(x4, gamma, beta, groups=3), gn(x4)) <= TOLERANCE
