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


def test_sum_round_off_bounds_the_true_gradients_sums_and_not_a_real_sum():
    for seed, shape in ((0, (8, 3)), (1, (256, 3)), (2, (2, 3, 4, 2))):
        x, dout, gamma, _ = batch(shape, seed=seed, shared=2.0)
        bound = backprop.sum_round_off(dout, x, gamma)
        axes = tuple(range(x.ndim - 1))
        assert bound.shape == (shape[-1],) and np.all(bound > 0) and np.all(bound < 1e-9)
        assert np.all(np.abs(backprop.input_gradient(dout, x, gamma).sum(axis=axes)) <= bound)
        no_mean = backprop.input_gradient(dout, x, gamma, mean_path=False)
        assert np.all(np.abs(no_mean.sum(axis=axes)) > 1e4 * bound)


def _sum_panel(figure):
    return next(ax for ax in figure.axes if ax.get_title().startswith("sum of dx"))


def test_the_explorer_draws_round_off_sums_as_zero_on_a_fixed_scale():
    import matplotlib.pyplot as plt

    figure, update = backprop.setup_paths()
    assert figure.get_figwidth() <= 9.0
    ax = _sum_panel(figure)
    limits = ax.get_ylim()
    note = next(text for text in ax.texts if "round-off" in text.get_text())
    update(mean_path=True, variance_path=True, batch_size=16, shared=1.0)
    bars = list(ax.patches)
    assert all(bar.get_height() == 0.0 for bar in ax.patches)
    assert note.get_visible()
    assert limits[0] <= -1.0 and limits[1] >= 1.0  # not autoscaled to the size of round-off

    update(mean_path=False, variance_path=True, batch_size=16, shared=1.0)
    heights = np.array([bar.get_height() for bar in bars])
    x, dout, gamma, _ = backprop.explorer_batch(16, 1.0, seed=0)
    no_mean = backprop.input_gradient(dout, x, gamma, mean_path=False)
    np.testing.assert_allclose(heights, no_mean.sum(axis=0))  # the lesson's own gradient
    assert np.all(np.abs(heights) > 0.1)
    assert not note.get_visible()
    for panel in figure.axes:
        if panel.get_title().startswith(("dx vs", "sum of dx")):
            assert panel.get_xlabel() and panel.get_ylabel() and panel.get_legend() is not None
    # every control value: the limits hold every bar, and none of them move
    for size in backprop.BATCH_SIZES:
        for shared in (0.0, 2.0):
            for mean_path in (False, True):
                update(mean_path=mean_path, variance_path=False, batch_size=size, shared=shared)
                heights = np.abs([bar.get_height() for bar in bars])
                assert heights.max() <= limits[1] and -heights.max() >= limits[0]
    assert [panel.get_ylim() for panel in figure.axes][-1] == limits
    plt.close(figure)


def test_the_graph_and_the_errors_follow_the_controls():
    import matplotlib.pyplot as plt

    figure, update = backprop.setup_paths()
    graph = figure.axes[0]
    update(mean_path=False, variance_path=True, batch_size=8, shared=0.0)
    assert sum(style in ("--", "dashed") for style in _edge_styles(figure)) == 2
    labels = [text.get_text() for text in graph.get_legend().get_texts()]
    assert labels == ["direct (kept)", "mean (dropped)", "variance (kept)"]
    errors = next(ax for ax in figure.axes if ax.get_title().startswith("dx vs"))
    assert "m=8" in errors.get_title()
    update(mean_path=True, variance_path=True, batch_size=8, shared=0.0)
    assert not any(style in ("--", "dashed") for style in _edge_styles(figure))
    heights = [bar.get_height() for bar in errors.patches]
    assert max(heights) < backprop.PASSING_ERROR  # all paths pass the gradient check
    plt.close(figure)


def test_moving_a_control_redraws_in_place():
    widget = backprop.paths_explorer()
    first = widget.static_png
    for name, value in (("mean_path", True), ("batch_size", 256), ("shared", 2.0)):
        widget.controls[name].value = value
        assert widget.picture() != first
    assert widget.live.full_redraws == 0


def test_fit_linear_bn_keeps_the_bias_at_zero_only_with_the_true_gradient():
    bias_true, loss_true = backprop.fit_linear_bn(all_paths=True, seed=3, steps=200)
    bias_direct, loss_direct = backprop.fit_linear_bn(all_paths=False, seed=3, steps=200)
    assert bias_true.shape == loss_true.shape == (200,)
    assert bias_true.max() < 1e-12
    assert bias_direct[-1] > 0.1
    assert loss_true[-1] < loss_true[0] and loss_direct[-1] < loss_direct[0]
    again = backprop.fit_linear_bn(all_paths=True, seed=3, steps=200)
    np.testing.assert_array_equal(loss_true, again[1])
    with pytest.raises(ValueError, match="steps"):
        backprop.fit_linear_bn(all_paths=True, seed=0, steps=0)
    with pytest.raises(ValueError, match="lr"):
        backprop.fit_linear_bn(all_paths=True, seed=0, lr=-1.0)


def test_the_lessons_plots_are_labeled_and_at_most_nine_inches_wide():
    import matplotlib.pyplot as plt

    runs = {
        "true gradient": [backprop.fit_linear_bn(all_paths=True, seed=s, steps=20) for s in (0, 1)],
        "direct path only": [
            backprop.fit_linear_bn(all_paths=False, seed=s, steps=20) for s in (0, 1)
        ],
    }
    errors = {"all three paths": np.array([1e-11, 0.0, 2e-10]), "no mean path": np.ones(3) * 0.1}
    sweep = {"noise only": np.random.default_rng(0).uniform(0, 1, size=(3, 4))}
    figures = [
        backprop.plot_training_runs(runs=runs),
        backprop.plot_path_errors(path_errors=errors),
        backprop.plot_direct_only_sweep(batch_sizes=[2, 4, 8, 16], errors=sweep),
    ]
    for figure in figures:
        assert figure.get_figwidth() <= 9.0
        for ax in figure.axes:
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            assert ax.get_legend() is not None
    bars = figures[1].axes[0].patches
    assert min(bar.get_height() for bar in bars) == pytest.approx(1e-13)  # 0 drawn at the floor
    plt.close("all")
