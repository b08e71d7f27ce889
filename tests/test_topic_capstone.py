"""Lesson 11's helpers: the NumPy network around the learner's layer, its Keras twin, and
BN folded into a convolution."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bncourse.data import digits
from bncourse.grading import check
from bncourse.topics import capstone

from .test_grading_capstone import LayerStaged as Float64Layer  # keeps the dtype of x


@pytest.fixture(scope="module")
def data():
    return digits(seed=0)


def test_the_course_layer_meets_the_exercise_contract():
    assert check("BatchNormLayer", capstone.CourseBatchNormLayer).passed


def test_usable_layer_falls_back_to_the_course_layer_for_a_stub(capsys):
    class Stub:
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            raise NotImplementedError

    assert capstone.usable_layer(Stub) is capstone.CourseBatchNormLayer
    assert "not written yet" in capsys.readouterr().out
    assert capstone.usable_layer(capstone.CourseBatchNormLayer) is capstone.CourseBatchNormLayer


def test_weights_and_orders_are_repeatable():
    first, again = capstone.mlp_weights(seed=3), capstone.mlp_weights(seed=3)
    assert [w.shape for w in first] == [(64, 64), (64, 64), (64, 10), (10,)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    orders = capstone.epoch_orders(samples=10, epochs=2, seed=0)
    assert len(orders) == 2 and sorted(orders[0]) == list(range(10))


def _loss(model, x, labels):
    logits = model.forward(x, training=True).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


@pytest.mark.parametrize("layer_class", [None, Float64Layer])
def test_an_sgd_step_follows_the_numerical_gradient(data, layer_class):
    weights = [w.astype(np.float64) for w in capstone.mlp_weights(seed=0)]
    x, labels = data.x_train[:16].astype(np.float64), data.y_train[:16]
    model = capstone.NumpyMLP(weights, layer_class)
    model.kernels = [k.astype(np.float64) for k in model.kernels]
    before = copy.deepcopy(model)
    stepped = copy.deepcopy(model)
    stepped.sgd_step(x, labels, lr=1.0)
    analytic = before.kernels[0] - stepped.kernels[0]  # lr = 1: the update is the gradient
    h = 1e-5
    for i, j in [(10, 3), (20, 40), (35, 7)]:
        plus, minus = copy.deepcopy(before), copy.deepcopy(before)
        plus.kernels[0][i, j] += h
        minus.kernels[0][i, j] -= h
        numeric = (_loss(plus, x, labels) - _loss(minus, x, labels)) / (2 * h)
        assert analytic[i, j] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_numpy_training_learns_with_and_without_bn(data):
    weights = capstone.mlp_weights(seed=0)
    orders = capstone.epoch_orders(samples=len(data.x_train), epochs=1, seed=0)
    for layer_class in (None, capstone.CourseBatchNormLayer):
        history = capstone.train_numpy(
            weights=weights, data=data, orders=orders, layer_class=layer_class
        )
        assert history.shape == (1,) and history[0] > 0.5


def test_the_keras_twin_follows_the_numpy_network(data):
    weights = capstone.mlp_weights(seed=0)
    orders = capstone.epoch_orders(samples=len(data.x_train), epochs=2, seed=0)
    mine = capstone.train_numpy(
        weights=weights, data=data, orders=orders, layer_class=capstone.CourseBatchNormLayer
    )
    theirs = capstone.train_keras(weights=weights, data=data, orders=orders, batch_norm=True)
    assert np.max(np.abs(mine - theirs)) <= 0.02


def test_compare_mlps_and_its_plot(data):
    runs = capstone.compare_mlps(
        layer_class=capstone.CourseBatchNormLayer, data=data, seeds=[0], epochs=1
    )
    assert set(runs) == {"NumPy, your BN", "NumPy, no BN", "Keras, BN"}
    assert all(values.shape == (1, 1) for values in runs.values())
    figure = capstone.plot_mlps(runs)
    ax = figure.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_legend().get_texts()) == 3


def test_folding_the_conv_network_keeps_its_predictions():
    from bncourse import reference as ref

    model = capstone.build_conv_bn()
    rng = np.random.default_rng(0)
    bn = model.get_layer("bn")
    bn.set_weights(
        [
            rng.uniform(0.5, 2.0, 8),
            rng.normal(size=8),
            rng.normal(size=8),
            rng.uniform(0.5, 2.0, 8),
        ]
    )
    parts = capstone.conv_bn_parts(model)
    assert parts["kernel"].shape == (3, 3, 1, 8) and parts["bias"] is None
    kernel, bias = ref.fold_batchnorm(
        parts["kernel"],
        None,
        parts["gamma"],
        parts["beta"],
        parts["mean"],
        parts["var"],
        parts["eps"],
    )
    x = rng.uniform(0, 1, (5, 8, 8, 1)).astype(np.float32)
    original = np.asarray(model.predict(x, verbose=0))
    folded = capstone.folded_predictions(model, kernel=kernel, bias=bias, x=x)
    np.testing.assert_allclose(folded, original, rtol=1e-4, atol=1e-5)


def test_adapting_sets_the_statistics_of_the_conv_output():
    model = capstone.build_conv_bn()
    x = np.random.default_rng(1).uniform(0, 1, (6, 8, 8, 1)).astype(np.float32)
    capstone.adapt_conv_bn(model, x=x)
    z = np.asarray(model.get_layer("conv")(x))
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), z.mean(axis=(0, 1, 2)), atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), z.var(axis=(0, 1, 2)), rtol=1e-5)
