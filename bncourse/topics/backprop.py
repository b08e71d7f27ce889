"""Lesson 05 (backprop through BN): numerical gradients and the three gradient paths.

Numerical gradients by central differences, the independent check of a backward pass:
nudge one input element up and down by ``h``, see how a scalar loss changes, and divide,

    dL/dx[i] ~ (L(x + h e_i) - L(x - h e_i)) / (2 h),

whose error shrinks like ``h**2``. The loss is ``L = sum(dout * f(x))`` for a fixed
``dout``, which makes the numerical gradient directly comparable with what a backward
pass returns when it is handed ``dout`` as the upstream gradient. This computes in float64
and returns float64: in float32, the difference of two nearly equal losses would lose most
of its digits, so the function ``f`` being checked should compute in float64 too. (Central
differences and relative errors as in the CS231n notes, "Neural Networks Part 3", section
"Gradient checks".)

In training mode, ``x`` reaches ``x_hat`` three ways: directly, through the batch mean and
through the batch variance. ``input_gradient`` computes ``dx`` along any subset of those
paths, ``plot_graph`` draws the computational graph with the dropped paths dashed, and
``paths_explorer`` lets a learner switch paths off and watch the gradient check fail.

matplotlib and ipywidgets are imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.reference import DEFAULT_EPSILON
from bncourse.seeding import resolve
from bncourse.validation import float64_array

__all__ = [
    "numerical_gradient",
    "relative_error",
    "input_gradient",
    "explorer_batch",
    "plot_graph",
    "paths_explorer",
]


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: Any,
    dout: Any = None,
    *,
    h: float = 1e-5,
) -> np.ndarray:
    """The central-difference gradient of ``L = sum(dout * f(x))`` with respect to ``x``.

    ``f`` maps an array shaped like ``x`` to an array (any shape); ``dout`` has the shape
    of ``f(x)`` and defaults to ones (then ``L = sum(f(x))``). ``f`` is called twice per
    element of ``x``, each time on a float64 copy with one element moved by ``+h`` or
    ``-h``; ``x`` itself is never modified. Returns a float64 array shaped like ``x``.
    """
    if not callable(f):
        raise TypeError(f"f must be a function; got {type(f).__name__}")
    if isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating)):
        raise TypeError(f"h must be a number; got {type(h).__name__}")
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0; got {h}")
    point = float64_array(x, "x")
    if point.size == 0:
        raise ValueError(f"x must not be empty; got shape {point.shape}")
    output_shape = np.shape(f(point.copy()))
    weights = np.ones(output_shape) if dout is None else float64_array(dout, "dout")
    if weights.shape != output_shape:
        raise ValueError(
            f"dout must have the shape of f(x), {output_shape}; got shape {weights.shape}"
        )

    def loss(at: np.ndarray) -> float:
        return float(np.sum(weights * np.asarray(f(at), dtype=np.float64)))

    grad = np.zeros_like(point)
    flat_point, flat_grad = point.reshape(-1), grad.reshape(-1)  # views into the copies
    for index in range(flat_point.size):
        original = flat_point[index]
        flat_point[index] = original + h
        up = loss(point.copy())
        flat_point[index] = original - h
        down = loss(point.copy())
        flat_point[index] = original
        flat_grad[index] = (up - down) / (2.0 * h)
    return grad


def relative_error(got: Any, expected: Any, *, per_feature: bool = False) -> Any:
    """How far apart two gradients are, relative to their size: ``|a - b| / (|a| + |b|)``.

    ``|.|`` is the Euclidean norm over all elements, so one number comes back (a float);
    with ``per_feature=True`` the norms run over every axis but the last, giving one
    error per feature, shape ``(C,)``. The result lies in [0, 1]: 0 for identical arrays,
    1 when they point in opposite directions or one of them is zero. Two all-zero arrays
    have error 0.
    """
    a = float64_array(got, "got")
    b = float64_array(expected, "expected")
    if a.shape != b.shape:
        raise ValueError(f"got and expected must have the same shape; got {a.shape} and {b.shape}")
    if per_feature and a.ndim < 1:
        raise ValueError("per_feature=True needs arrays with a feature axis (the last)")
    axes = tuple(range(a.ndim - 1)) if per_feature else None
    difference = np.sqrt(np.sum((a - b) ** 2, axis=axes))
    size = np.sqrt(np.sum(a**2, axis=axes)) + np.sqrt(np.sum(b**2, axis=axes))
    error = np.where(size > 0, difference / np.where(size > 0, size, 1.0), 0.0)
    return error if per_feature else float(error)


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

    from bncourse.lab.explorer import explorer

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
