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


def test_draw_layers_has_four_panels_and_reports_the_gradient_ratio(digits):
    import matplotlib.pyplot as plt

    x, y = digits
    figure = widgets_activations.draw_layers("sigmoid", 1.0, 6, False, x=x, y=y)
    outputs_ax, grads_ax, depth_ax, saturation_ax = figure.axes[:4]
    assert len(outputs_ax.get_lines()) == len(grads_ax.get_lines()) == 6
    assert "without BN" in figure.get_suptitle()
    assert "layer 1 / layer 6" in depth_ax.get_title()
    assert len(saturation_ax.get_lines()[0].get_xdata()) == 6
    assert figure.get_size_inches()[0] <= 9.0  # fits the notebook without being shrunk
    ratio = float(depth_ax.get_title().rsplit(":", 1)[1])
    assert ratio < 1e-2  # six sigmoid layers: the gradient vanishes towards the input
    with_bn = widgets_activations.draw_layers("sigmoid", 1.0, 6, True, x=x, y=y)
    assert float(with_bn.axes[2].get_title().rsplit(":", 1)[1]) > 0.3
    plt.close("all")


def test_the_explorer_has_activation_scale_depth_and_bn_controls(digits):
    x, y = digits
    explorer = widgets_activations.activation_explorer(x, y)
    assert set(explorer.controls) == {"activation", "weight_scale", "depth", "batchnorm"}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["batchnorm"].value = True  # redraws without raising
