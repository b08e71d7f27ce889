"""Lesson 02's explorer: per-layer activations and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics import activations as widgets_activations


@pytest.fixture(scope="module")
def digits():
    return widgets_activations.digit_batch(64)


def test_digit_batch_is_standardized_per_pixel(digits):
    x, y = digits
    assert x.shape == (64, 64) and y.shape == (64,)
    assert x.dtype == np.float32
    # pixels are standardized with the statistics of the whole training split, so a batch
    # of 64 is only roughly centered; constant pixels (always blank) map to exactly 0
    assert abs(float(x.mean())) < 0.2
    assert np.any(np.all(x == 0, axis=0))


def test_the_figure_has_four_panels_and_reports_the_gradient_ratio(digits):
    import matplotlib.pyplot as plt

    x, y = digits
    figure, update = widgets_activations.setup_layers(x=x, y=y)
    outputs_ax, grads_ax, depth_ax, saturation_ax = figure.axes[:4]
    update(activation="sigmoid", weight_scale=1.0, depth=6, batchnorm=False)
    shown = [line for line in outputs_ax.get_lines() if line.get_visible()]
    assert len(shown) == 6
    assert len([line for line in grads_ax.get_lines() if line.get_visible()]) == 6
    assert "without BN" in figure.get_suptitle()
    assert "layer 1 / layer 6" in depth_ax.get_title()
    assert len(saturation_ax.get_lines()[0].get_xdata()) == 6
    assert figure.get_size_inches()[0] <= 9.0  # fits the notebook without being shrunk
    ratio = float(depth_ax.get_title().rsplit(":", 1)[1])
    assert ratio < 1e-2  # six sigmoid layers: the gradient vanishes towards the input
    update(activation="sigmoid", weight_scale=1.0, depth=6, batchnorm=True)
    assert float(depth_ax.get_title().rsplit(":", 1)[1]) > 0.3
    assert "with BN" in figure.get_suptitle()
    plt.close(figure)


def test_the_lines_are_the_lessons_own_pass(digits):
    import matplotlib.pyplot as plt

    x, y = digits
    figure, update = widgets_activations.setup_layers(x=x, y=y)
    outputs_ax, grads_ax, depth_ax, saturation_ax = figure.axes[:4]
    update(activation="tanh", weight_scale=2.0, depth=4, batchnorm=False)
    net = widgets_activations.DeepMLP(
        64, 10, depth=4, width=100, activation="tanh", weight_scale=2.0, seed=0
    )
    result = net.forward_backward(x, y)
    np.testing.assert_allclose(depth_ax.get_lines()[0].get_ydata(), result.gradient_std)
    np.testing.assert_allclose(depth_ax.get_lines()[1].get_ydata(), result.output_std)
    np.testing.assert_allclose(saturation_ax.get_lines()[0].get_ydata(), 100 * result.saturation)
    # the first layer's histogram: a density over tanh's range, integrating to 1
    line = outputs_ax.get_lines()[0]
    width = np.diff(line.get_xdata())[0]
    assert line.get_xdata()[0] == pytest.approx(-1 + width / 2)
    assert np.sum(line.get_ydata()) * width == pytest.approx(1.0)
    plt.close(figure)


def _holds(ax, line) -> bool:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    ys = ys[np.isfinite(ys) & (ys > 0)] if ax.get_yscale() == "log" else ys
    return bool(xs.min() >= x0 and xs.max() <= x1 and ys.min() >= y0 and ys.max() <= y1)


@pytest.mark.parametrize("activation", widgets_activations.ACTIVATIONS)
def test_the_limits_hold_the_data_at_the_extremes_of_every_control(digits, activation):
    import matplotlib.pyplot as plt

    x, y = digits
    figure, update = widgets_activations.setup_layers(x=x, y=y)
    for batchnorm in (False, True):
        for scale in (0.25, 4.0):
            for depth in (2, widgets_activations.MAX_DEPTH):
                update(activation=activation, weight_scale=scale, depth=depth, batchnorm=batchnorm)
                for ax in figure.axes[:4]:
                    for line in ax.get_lines():
                        if line.get_visible() and len(line.get_xdata()):
                            assert _holds(ax, line), (ax.get_title(), scale, depth, batchnorm)
    plt.close(figure)


def test_small_moves_with_bn_keep_the_axes_and_the_colorbar(digits):
    x, y = digits
    explorer = widgets_activations.activation_explorer(x, y)
    colorbar = explorer.live.figure.axes[-1]
    ticks = list(colorbar.get_yticks())
    explorer.controls["batchnorm"].value = True
    redraws = explorer.live.full_redraws
    for scale in (0.5, 0.75, 1.5, 2.0):  # BN makes the statistics independent of the scale
        explorer.controls["weight_scale"].value = scale
    assert explorer.live.full_redraws == redraws
    explorer.controls["depth"].value = 14
    assert list(colorbar.get_yticks()) == ticks  # one color per layer, whatever the depth


def test_the_explorer_has_activation_scale_depth_and_bn_controls(digits):
    x, y = digits
    explorer = widgets_activations.activation_explorer(x, y)
    assert set(explorer.controls) == {"activation", "weight_scale", "depth", "batchnorm"}
    assert explorer.static_png.startswith(b"\x89PNG")
    before = explorer.output.outputs
    explorer.controls["batchnorm"].value = True
    assert explorer.output.outputs != before  # the figure changes when a control moves
