"""Lesson 05: the three gradient paths from BN's output back to its input.

In training mode, ``x`` reaches ``x_hat`` three ways: directly, through the batch mean and
through the batch variance. ``input_gradient`` computes ``dx`` along any subset of those
paths, ``plot_graph`` draws the computational graph with the dropped paths dashed, and
``paths_explorer`` lets a learner switch paths off and watch the gradient check fail.

All arithmetic is float64 (this module is about comparing gradients, not about speed).
matplotlib and ipywidgets are imported on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.gradcheck import numerical_gradient, relative_error
from bncourse.reference import DEFAULT_EPSILON
from bncourse.seeding import resolve

__all__ = [
    "input_gradient",
    "explorer_batch",
    "plot_graph",
    "paths_explorer",
]

BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
PASSING_ERROR = 1e-5
"""A relative error below this counts as a passing gradient check in lesson 05."""


def _array(value: Any, name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {array.dtype}")
    return array.astype(np.float64)


def _checked(
    dout: Any, x: Any, gamma: Any, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = _array(x, "x")
    if x.ndim < 2 or x.size == 0:
        raise ValueError(f"x must be a non-empty (batch, ..., features) array; got {x.shape}")
    dout = _array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x, {x.shape}; got shape {dout.shape}")
    gamma = _array(gamma, "gamma")
    if gamma.shape != (x.shape[-1],):
        raise ValueError(f"gamma must have shape ({x.shape[-1]},); got shape {gamma.shape}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps must be a number; got {type(eps).__name__}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0; got {eps}")
    return dout, x, gamma, float(eps)


def _forward64(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = DEFAULT_EPSILON
) -> np.ndarray:
    """Training-mode BN in float64 (no validation): the function gradient checks differentiate."""
    axes = tuple(range(np.ndim(x) - 1))
    mu = np.mean(x, axis=axes)
    var = np.mean((x - mu) ** 2, axis=axes)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def input_gradient(
    dout: Any,
    x: Any,
    gamma: Any,
    eps: float = DEFAULT_EPSILON,
    *,
    mean_path: bool = True,
    variance_path: bool = True,
) -> np.ndarray:
    """``dx`` of training-mode BN along the chosen paths (float64, shaped like ``x``).

    The direct path is always kept. With both other paths on, this is the true gradient;
    switching one off treats that batch statistic as a constant, as a buggy backward pass
    would. Per feature, with ``m`` values and ``s = sqrt(var + eps)``:

        direct:    gamma * dout / s
        mean:      -gamma / (m * s) * sum(dout)
        variance:  -gamma / (m * s) * x_hat * sum(dout * x_hat)
    """
    dout, x, gamma, eps = _checked(dout, x, gamma, eps)
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu = x.mean(axis=axes)
    var = ((x - mu) ** 2).mean(axis=axes)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    dx = gamma * dout / std
    if mean_path:
        dx = dx - gamma / (m * std) * dout.sum(axis=axes)
    if variance_path:
        dx = dx - gamma / (m * std) * x_hat * (dout * x_hat).sum(axis=axes)
    return dx


def explorer_batch(
    batch_size: int, shared: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The explorer's data: ``(x, dout, gamma, beta)`` with 3 features on different scales.

    ``dout`` is standard normal noise plus ``shared``: an upstream gradient with a part
    common to the whole batch, as when a loss wants every output of a unit to rise.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int; got {type(batch_size).__name__}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2; got {batch_size}")
    rng = np.random.default_rng(resolve(seed))
    x = rng.normal(size=(batch_size, 3)) * [0.5, 2.0, 4.0] + [1.0, -3.0, 5.0]
    dout = rng.normal(size=(batch_size, 3)) + float(shared)
    gamma = np.array([1.7, 0.6, 2.3])
    beta = np.array([0.4, -1.2, 0.9])
    return x, dout, gamma, beta


# Node positions of the graph (x, y in axes units) and the edges of each path.
_NODES = {
    "x": (0.0, 1.0, r"$x$"),
    "mu": (1.6, 2.1, r"$\mu$"),
    "var": (3.2, 2.1, r"$\sigma^2$"),
    "x_hat": (4.8, 1.0, r"$\hat{x}$"),
    "gamma": (4.8, -0.2, r"$\gamma,\ \beta$"),
    "y": (6.4, 1.0, r"$y$"),
    "loss": (8.0, 1.0, r"$L$"),
}
_EDGES = [
    ("x", "x_hat", "direct"),
    ("x", "mu", "mean"),
    ("mu", "x_hat", "mean"),
    ("x", "var", "variance"),
    ("mu", "var", "variance"),
    ("var", "x_hat", "variance"),
    ("x_hat", "y", "always"),
    ("gamma", "y", "always"),
    ("y", "loss", "always"),
]


def plot_graph(ax: Any = None, *, mean_path: bool = True, variance_path: bool = True) -> Any:
    """Draw BN's computational graph; a dropped path's edges are dashed and gray.

    Returns the matplotlib Figure (a new one when ``ax`` is None).
    """
    from bncourse import plotting

    if ax is None:
        figure, axes = plotting.subplots(width=7.0)
        ax = axes[0, 0]
    figure = ax.figure
    colors = {
        "direct": plotting.COLORS["with_bn"],
        "mean": plotting.COLORS["alt"],
        "variance": plotting.COLORS["alt2"],
        "always": plotting.COLORS["neutral"],
    }
    kept = {"direct": True, "always": True, "mean": mean_path, "variance": variance_path}
    for start, end, path in _EDGES:
        x0, y0, _ = _NODES[start]
        x1, y1, _ = _NODES[end]
        on = kept[path]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colors[path] if on else "#bbbbbb",
                "linestyle": "-" if on else "--",
                "linewidth": 2.2 if on else 1.2,
                "shrinkA": 15,
                "shrinkB": 15,
            },
        )
    for x0, y0, label in _NODES.values():
        ax.text(
            x0,
            y0,
            label,
            ha="center",
            va="center",
            fontsize=14,
            bbox={"boxstyle": "circle,pad=0.35", "facecolor": "white", "edgecolor": "#444444"},
        )
    for path, color in colors.items():
        if path != "always":
            state = "kept" if kept[path] else "dropped"
            ax.plot([], [], color=color if kept[path] else "#bbbbbb", label=f"{path} ({state})")
    ax.set_xlim(-0.6, 8.6)
    ax.set_ylim(-0.8, 2.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Training-mode BN: every path from L back to x")
    ax.legend(loc="lower left", fontsize=8)
    return figure


def _draw(
    mean_path: bool, variance_path: bool, batch_size: int, shared: float, seed: int = 0
) -> Any:
    from bncourse import plotting

    x, dout, gamma, beta = explorer_batch(batch_size, shared, seed)
    numeric = numerical_gradient(lambda v: _forward64(v, gamma, beta), x, dout)
    chosen = input_gradient(dout, x, gamma, mean_path=mean_path, variance_path=variance_path)
    true = input_gradient(dout, x, gamma)
    errors = relative_error(chosen, numeric, per_feature=True)

    figure, axes = plotting.subplots(
        1, 3, figsize=(14.0, 4.0), gridspec_kw={"width_ratios": [1.5, 1.0, 1.0]}
    )
    plot_graph(axes[0, 0], mean_path=mean_path, variance_path=variance_path)

    ax = axes[0, 1]
    features = np.arange(3)
    floor = 1e-13
    ax.bar(
        features, np.maximum(errors, floor), color=plotting.COLORS["with_bn"], label="chosen paths"
    )
    ax.axhline(
        PASSING_ERROR, color=plotting.COLORS["highlight"], linestyle="--", label="pass below"
    )
    ax.set_yscale("log")
    ax.set_ylim(floor, 1e4)  # room above the bars for the legend
    ax.set_xticks(features, [f"feature {i}" for i in features])
    plotting.finish(
        ax,
        title=f"dx vs. numerical gradient (m={batch_size}, shared={shared:g})",
        xlabel="feature",
        ylabel="relative error",
    )

    ax = axes[0, 2]
    ax.bar(
        features, chosen.sum(axis=0), 0.5, label="chosen paths", color=plotting.COLORS["with_bn"]
    )
    ax.plot(
        features,
        true.sum(axis=0),
        "D",
        markersize=9,
        color=plotting.COLORS["alt"],
        label="all paths (the true dx)",
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(features, [f"feature {i}" for i in features])
    plotting.finish(
        ax,
        title="sum of dx over the batch, per feature",
        xlabel="feature",
        ylabel="sum over the batch",
    )
    return figure


def paths_explorer(seed: int = 0) -> Any:
    """Switch the mean and variance paths off, change the batch size and the upstream
    gradient's shared part, and see the error against the numerical gradient per feature."""
    import ipywidgets as widgets

    from bncourse.widgets import explorer

    controls = {
        "mean_path": widgets.Checkbox(value=False, description="mean path"),
        "variance_path": widgets.Checkbox(value=False, description="variance path"),
        "batch_size": widgets.SelectionSlider(
            options=list(BATCH_SIZES), value=8, description="batch size"
        ),
        "shared": widgets.FloatSlider(
            value=0.0, min=0.0, max=2.0, step=0.25, description="shared dout"
        ),
    }
    return explorer(
        lambda **values: _draw(seed=seed, **values),
        controls,
        title="Which gradient paths does dx need?",
        description=(
            "Tick both paths to get the true gradient. 'shared dout' adds the same number to "
            "the upstream gradient of every sample."
        ),
    )
