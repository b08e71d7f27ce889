"""Lesson 02's explorer: activations and gradients layer by layer in a deep network.

The learner picks the nonlinearity, the weight scale, the depth and whether each hidden
layer uses Batch Normalization; the explorer runs one forward and backward pass of a
``bncourse.activations.DeepMLP`` on a batch of digits and draws, per layer, the histogram
of what comes out of the nonlinearity, the histogram of the gradient arriving there
(as orders of magnitude), and the gradient's spread against depth.

ipywidgets and matplotlib are imported when an explorer or a figure is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse import activations as act

__all__ = ["digit_batch", "draw_layers", "activation_explorer"]


def digit_batch(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The first ``size`` training digits, standardized per pixel, and their labels."""
    from bncourse import data
    from bncourse import reference as ref

    split = data.digits()
    return ref.standardize(split.x_train[:size]), split.y_train[:size]


def draw_layers(
    activation: str = "tanh",
    weight_scale: float = 1.0,
    depth: int = 10,
    batchnorm: bool = False,
    *,
    x: Any = None,
    y: Any = None,
    seed: int = 0,
) -> Any:
    """Three panels: per-layer output histograms, per-layer gradient histograms
    (log10 of the magnitude) and the gradient's standard deviation per layer."""
    from bncourse import plotting

    if x is None or y is None:
        x, y = digit_batch()
    net = act.DeepMLP(
        x.shape[1],
        int(np.max(y)) + 1,
        depth=int(depth),
        width=100,
        activation=activation,
        weight_scale=float(weight_scale),
        batchnorm=bool(batchnorm),
        seed=seed,
    )
    result = net.forward_backward(x, y)
    setting = f"{activation}, scale {weight_scale:.3g}, {'with' if batchnorm else 'without'} BN"

    figure, axes = plotting.subplots(1, 3, figsize=(15.0, 4.6))
    out_ax, grad_ax, depth_ax = axes[0]
    act.plot_layer_histograms(
        out_ax,
        result.outputs,
        saturation=result.saturation,
        title=f"Layer outputs ({setting})",
        xlabel=f"{activation} output",
    )
    act.plot_layer_histograms(
        grad_ax,
        result.output_grads,
        log_magnitude=True,
        title="Gradients arriving at each layer's output",
        xlabel="log10 |gradient|",
    )
    layers = np.arange(1, net.depth + 1)
    color = plotting.COLORS["with_bn" if batchnorm else "without_bn"]
    depth_ax.semilogy(layers, result.gradient_std, "o-", color=color, label="gradient std")
    depth_ax.semilogy(
        layers, result.output_std, "s--", color=plotting.COLORS["alt"], label="output std"
    )
    ratio = result.gradient_std[0] / result.gradient_std[-1]
    plotting.finish(
        depth_ax,
        title=f"Gradient std, layer 1 / layer {net.depth}: {ratio:.3g}",
        xlabel="layer (1 = next to the input)",
        ylabel="standard deviation (log scale)",
    )
    return figure


def activation_explorer(x: Any = None, y: Any = None) -> Any:
    """Activation, weight-scale, depth and BN controls over ``draw_layers``."""
    import ipywidgets as widgets

    from bncourse.widgets import explorer

    if x is None or y is None:
        x, y = digit_batch()
    controls = {
        "activation": widgets.Dropdown(
            options=list(act.ACTIVATIONS), value="tanh", description="activation"
        ),
        "weight_scale": widgets.FloatLogSlider(
            value=1.0, base=2, min=-2, max=2, step=0.125, description="weight scale"
        ),
        "depth": widgets.IntSlider(value=10, min=2, max=20, description="depth"),
        "batchnorm": widgets.Checkbox(value=False, description="BN before each nonlinearity"),
    }

    def draw(activation: str, weight_scale: float, depth: int, batchnorm: bool) -> Any:
        return draw_layers(activation, weight_scale, depth, batchnorm, x=x, y=y)

    return explorer(
        draw,
        controls,
        title="Activations and gradients, layer by layer",
        description=(
            "Hidden weights ~ N(0, (scale / sqrt(fan_in))^2), 100 units per layer, one batch "
            "of 256 standardized digits. Saturated: the unit passes back less than 5% of "
            "the largest possible gradient."
        ),
    )
