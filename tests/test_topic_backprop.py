"""Lesson 05's gradient paths: the full gradient is the true one, dropped paths are not."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics import backprop
from bncourse.topics.backprop import numerical_gradient, relative_error


def forward(x, gamma, beta, eps=1e-3):
    """BN written out here, independently of the module under test."""
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def batch(shape, seed=0, shared=0.0):
    rng = np.random.default_rng(seed)
    channels = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, channels) + rng.uniform(-3, 3, channels)
    dout = rng.normal(size=shape) + shared
    gamma = rng.uniform(0.5, 2.0, channels)
    beta = rng.uniform(-1.0, 1.0, channels)
    return x, dout, gamma, beta


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 2)])
def test_all_paths_give_the_numerical_gradient(shape):
    x, dout, gamma, beta = batch(shape)
    numeric = numerical_gradient(lambda v: forward(v, gamma, beta), x, dout)
    dx = backprop.input_gradient(dout, x, gamma)
    assert dx.shape == x.shape and dx.dtype == np.float64
    assert relative_error(dx, numeric) < 1e-7


def test_eps_is_used():
    x, dout, gamma, beta = batch((5, 2))
    numeric = numerical_gradient(lambda v: forward(v, gamma, beta, eps=0.5), x, dout)
    assert relative_error(backprop.input_gradient(dout, x, gamma, eps=0.5), numeric) < 1e-7
    assert relative_error(backprop.input_gradient(dout, x, gamma), numeric) > 1e-3


@pytest.mark.parametrize("mean_path, variance_path", [(False, True), (True, False), (False, False)])
def test_dropping_a_path_gives_a_wrong_gradient(mean_path, variance_path):
    x, dout, gamma, beta = batch((8, 3), shared=1.0)
    numeric = numerical_gradient(lambda v: forward(v, gamma, beta), x, dout)
    dx = backprop.input_gradient(dout, x, gamma, mean_path=mean_path, variance_path=variance_path)
    assert relative_error(dx, numeric, per_feature=True).min() > 1e-2


def test_direct_path_alone_is_gamma_dout_over_std():
    x, dout, gamma, _ = batch((7, 3))
    by_hand = gamma * dout / np.sqrt(x.var(axis=0) + 1e-3)
    dx = backprop.input_gradient(dout, x, gamma, mean_path=False, variance_path=False)
    np.testing.assert_allclose(dx, by_hand, rtol=1e-12)


def test_the_mean_path_makes_dx_sum_to_zero_per_feature():
    x, dout, gamma, _ = batch((2, 3, 4, 2), shared=0.5)
    full = backprop.input_gradient(dout, x, gamma)
    no_mean = backprop.input_gradient(dout, x, gamma, mean_path=False)
    np.testing.assert_allclose(full.sum(axis=(0, 1, 2)), 0.0, atol=1e-12)
    assert np.abs(no_mean.sum(axis=(0, 1, 2))).min() > 0.1


def test_inputs_are_not_modified():
    x, dout, gamma, _ = batch((4, 2))
    copies = [a.copy() for a in (x, dout, gamma)]
    backprop.input_gradient(dout, x, gamma)
    for original, copy in zip((x, dout, gamma), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize(
    "args, error, phrase",
    [
        ((np.ones((3, 2)), np.ones((4, 2)), np.ones(2)), ValueError, "dout must have"),
        ((np.ones((3, 2)), np.ones((3, 2)), np.ones(3)), ValueError, "gamma must have"),
        ((np.ones(3), np.ones(3), np.ones(3)), ValueError, "x must be"),
        ((np.ones((3, 2)), np.ones((3, 2)), np.ones(2), -1.0), ValueError, "eps must be"),
        ((np.ones((3, 2)), np.array([["a", "b"]] * 3), np.ones(2)), TypeError, "x must hold"),
    ],
)
def test_bad_arguments_are_named(args, error, phrase):
    with pytest.raises(error, match=phrase):
        backprop.input_gradient(*args)


def test_explorer_batch_is_reproducible_and_shared_shifts_dout():
    x, dout, gamma, beta = backprop.explorer_batch(16, 0.0, seed=3)
    x2, dout_shifted, _, _ = backprop.explorer_batch(16, 2.0, seed=3)
    assert x.shape == dout.shape == (16, 3) and gamma.shape == beta.shape == (3,)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_allclose(dout_shifted - dout, 2.0)
    assert np.all(np.abs(gamma - 1) > 0.2) and np.all(np.abs(beta) > 0.2)
    with pytest.raises(ValueError, match="batch_size"):
        backprop.explorer_batch(1)


def _edge_styles(figure):
    ax = figure.axes[0]
    arrows = [text.arrow_patch for text in ax.texts if getattr(text, "arrow_patch", None)]
    return [arrow.get_linestyle() for arrow in arrows]


def test_graph_draws_dropped_paths_dashed():
    import matplotlib.pyplot as plt

    all_kept = _edge_styles(backprop.plot_graph())
    no_mean = _edge_styles(backprop.plot_graph(mean_path=False))
    none = _edge_styles(backprop.plot_graph(mean_path=False, variance_path=False))
    plt.close("all")
    assert len(all_kept) == len(no_mean) == len(none) == 9
    assert "--" not in all_kept and "dashed" not in all_kept
    dashed = {"--", "dashed"}
    assert sum(style in dashed for style in no_mean) == 2  # x -> mu -> x_hat
    assert sum(style in dashed for style in none) == 5  # plus x -> var, mu -> var, var -> x_hat


def test_explorer_has_its_controls_and_a_static_picture():
    widget = backprop.paths_explorer()
    assert set(widget.values) == {"mean_path", "variance_path", "batch_size", "shared"}
    assert widget.static_png.startswith(b"\x89PNG")
    widget.controls["mean_path"].value = True  # redraws without error
    bundle = widget._repr_mimebundle_()
    assert "image/png" in bundle and "text/plain" in bundle
