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
    "setup_paths",
    "sum_round_off",
    "paths_explorer",
    "fit_linear_bn",
    "yours_or_reference",
    "plot_training_runs",
    "plot_path_errors",
    "plot_direct_only_sweep",
    "PASSING_ERROR",
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
    ax.legend(loc="lower left", fontsize=9)
    return figure


def sum_round_off(dout: Any, x: Any, gamma: Any, eps: float = DEFAULT_EPSILON) -> np.ndarray:
    """How far from 0 float64 round-off alone can push ``sum(dx)`` per feature, shape ``(C,)``.

    ``dx`` is a difference of terms as large as the direct path ``gamma * dout / s``, and
    summing ``m`` of them adds rounding errors of about ``eps64`` times their sizes each.
    This returns ``1000 * eps64 * sum(|gamma * dout / s|)``: a bound that is generous for
    round-off (a true gradient's sums stay far below it) and tiny next to a real sum.
    """
    dout, x, gamma, eps = _checked(dout, x, gamma, eps)
    axes = tuple(range(x.ndim - 1))
    std = np.sqrt(x.var(axis=axes) + eps)
    return 1000 * np.finfo(np.float64).eps * np.abs(gamma * dout / std).sum(axis=axes)


_SUM_LIMITS = (-1e4, 1e5)
"""The sums panel's y-limits (symmetric log scale, linear within +-1): the sums the explorer
can show lie between 0.1 and about 1,600 in size (a dropped mean path, batches of 256,
shared dout 2); the decades above 1e4 hold the legend."""


def setup_paths(
    mean_path: bool = False,
    variance_path: bool = False,
    batch_size: int = 8,
    shared: float = 0.0,
    *,
    seed: int = 0,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: the graph on top; below, per feature, the error of
    ``dx`` along the chosen paths against the numerical gradient, and the sum of ``dx`` over
    the batch. Returns ``(figure, update)``; ``update(mean_path=..., variance_path=...,
    batch_size=..., shared=...)`` restyles the graph's edges and sets the bars in place
    (``bncourse.lab.explorer.LiveFigure``).

    Both lower panels keep one scale for every control value: the errors a log scale from
    1e-13 to 1e4, the sums a symmetric log scale (linear from -1 to 1) up to 1e4. A sum
    within ``sum_round_off`` of 0 is drawn as exactly 0, so float64 rounding (about 1e-15)
    never shows as a bar. The numerical gradient is computed once per batch size and shared
    part. 9 inches wide.
    """
    import matplotlib.pyplot as plt

    from bncourse import plotting

    gradients: dict[tuple[int, float], tuple[Any, ...]] = {}

    def batch_and_gradients(size: int, part: float) -> tuple[Any, ...]:
        key = (int(size), float(part))
        if key not in gradients:
            x, dout, gamma, beta = explorer_batch(size, part, seed)
            numeric = numerical_gradient(lambda v: _forward64(v, gamma, beta), x, dout)
            true = input_gradient(dout, x, gamma)
            gradients[key] = (x, dout, gamma, numeric, true, sum_round_off(dout, x, gamma))
        return gradients[key]

    plotting.use_style()
    figure = plt.figure(figsize=(9.0, 6.6))
    panels = figure.subplot_mosaic(
        [["graph", "graph"], ["errors", "sums"]], height_ratios=[1.0, 1.15]
    )
    graph = panels["graph"]
    plot_graph(graph, mean_path=True, variance_path=True)
    arrows = [text for text in graph.texts if getattr(text, "arrow_patch", None) is not None]
    graph_legend = graph.get_legend()
    switchable = [  # the edges of the paths a learner can switch off
        arrow
        for arrow, (_, _, path) in zip(arrows, _EDGES, strict=True)
        if path in ("mean", "variance")
    ]
    edge_colors = {
        path: arrow.arrow_patch.get_edgecolor()
        for arrow, (_, _, path) in zip(arrows, _EDGES, strict=True)
    }

    errors_ax = panels["errors"]
    plot_path_errors({"chosen paths": np.ones(3)}, ax=errors_ax, title=" ")
    error_bars = list(errors_ax.patches)
    errors_ax.set_axisbelow(True)  # the grid under the bars, as when they are blitted
    features = np.arange(3)

    ax = panels["sums"]
    ax.set_axisbelow(True)  # the grid under the bars, as when they are blitted
    sum_bars = list(
        ax.bar(features, np.zeros(3), 0.5, label="chosen paths", color=plotting.COLORS["with_bn"])
    )
    (true_marks,) = ax.plot(
        features,
        np.zeros(3),
        "D",
        markersize=9,
        color=plotting.COLORS["alt"],
        label="all paths (the true dx)",
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(*_SUM_LIMITS)
    ax.set_yticks([-1e3, -10, 0, 10, 1e3])
    zero_note = ax.text(
        0.5,
        0.2,
        "every sum is 0\n(to float64 round-off)",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
    )
    ax.set_xticks(features, [f"feature {i}" for i in features])
    plotting.finish(
        ax,
        title="sum of dx over the batch, per feature",
        xlabel="feature",
        ylabel="sum over the batch (symlog scale)",
    )
    ax.legend(loc="upper right")

    def update(
        mean_path: bool = False,
        variance_path: bool = False,
        batch_size: int = 8,
        shared: float = 0.0,
    ) -> list[Any]:
        x, dout, gamma, numeric, true, round_off = batch_and_gradients(batch_size, shared)
        chosen = input_gradient(dout, x, gamma, mean_path=mean_path, variance_path=variance_path)
        errors = relative_error(chosen, numeric, per_feature=True)
        chosen_sums, true_sums = (
            np.where(np.abs(d.sum(axis=0)) <= round_off, 0.0, d.sum(axis=0)) for d in (chosen, true)
        )
        kept = {"direct": True, "always": True, "mean": mean_path, "variance": variance_path}
        for arrow, (_, _, path) in zip(arrows, _EDGES, strict=True):
            on = kept[path]
            arrow.arrow_patch.set_color(edge_colors[path] if on else "#bbbbbb")
            arrow.arrow_patch.set_linestyle("-" if on else "--")
            arrow.arrow_patch.set_linewidth(2.2 if on else 1.2)
        for text, line, path in zip(
            graph_legend.get_texts(),
            graph_legend.get_lines(),
            ("direct", "mean", "variance"),
            strict=True,
        ):
            text.set_text(f"{path} ({'kept' if kept[path] else 'dropped'})")
            line.set_color(edge_colors[path] if kept[path] else "#bbbbbb")
        for bar, error in zip(error_bars, errors, strict=True):
            bar.set_height(max(float(error), 1e-13))
        errors_ax.title.set_text(f"dx vs. numerical gradient (m={batch_size}, shared={shared:g})")
        for bar, total in zip(sum_bars, chosen_sums, strict=True):
            bar.set_height(float(total))
        true_marks.set_ydata(true_sums)
        zero_note.set_visible(not np.any(chosen_sums))
        return [
            *switchable,
            graph_legend,
            *error_bars,
            errors_ax.title,
            *sum_bars,
            true_marks,
            zero_note,
        ]

    return figure, update


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
        controls=controls,
        live=lambda **values: setup_paths(seed=seed, **values),
        title="Which gradient paths does dx need?",
        description=(
            "Tick both paths to get the true gradient. 'shared dout' adds the same number to "
            "the upstream gradient of every sample."
        ),
    )


def fit_linear_bn(
    *,
    seed: int,
    all_paths: bool = True,
    backward: Callable[..., Any] | None = None,
    steps: int = 300,
    lr: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent on ``z = inputs @ W + b`` -> BN -> squared error: ``(|b|, loss)``.

    A small regression (32 samples, 4 inputs, 3 outputs, noisy targets that the model
    cannot fit exactly), drawn from ``seed`` (moved by the base-seed offset). BN's gamma and
    beta start away from 1 and 0 and are trained too; the bias ``b`` starts at 0. With
    ``all_paths=True`` the gradient through BN is the true one; with ``False`` it is the
    direct path only, as if the batch mean and variance were constants.

    ``backward``, when given, computes the gradients through BN instead: a function like
    ``batchnorm_backward(dout, x, gamma)`` returning ``(dx, dgamma, dbeta)`` (float32 or
    float64), called with float64 arrays and BN's default eps = 1e-3. Same data, same start:
    a learner's backward pass trains the model the reference trains. Returns two float64
    arrays of length ``steps``: the norm of ``b`` after each step and the loss before it.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an int >= 1; got {steps!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr}")
    if backward is not None and not callable(backward):
        raise TypeError(f"backward must be a function; got {type(backward).__name__}")
    if backward is not None and not all_paths:
        raise ValueError("give either backward or all_paths=False, not both")
    r = np.random.default_rng(resolve(seed))
    inputs = r.normal(size=(32, 4))
    targets = 2 * np.tanh(inputs @ r.normal(size=(4, 3))) + r.normal(size=3) * 2
    targets = targets + r.normal(size=(32, 3)) * 0.5  # noise: the loss cannot reach 0
    weights, bias = r.normal(size=(4, 3)) * 0.5, np.zeros(3)
    gamma, beta = np.array([1.5, 0.7, 2.0]), np.array([0.5, -1.0, 0.3])
    bias_norm, loss = [], []
    for _ in range(int(steps)):
        z = inputs @ weights + bias
        y = _forward64(z, gamma, beta)
        loss.append(0.5 * np.mean(np.sum((y - targets) ** 2, axis=1)))
        dy = (y - targets) / len(z)
        if backward is None:
            dz = input_gradient(dy, z, gamma, mean_path=all_paths, variance_path=all_paths)
            z_hat = (y - beta) / gamma  # x_hat of the forward pass, recovered from y
            dgamma, dbeta = (dy * z_hat).sum(axis=0), dy.sum(axis=0)
        else:
            dz, dgamma, dbeta = _gradients(backward(dy, z, gamma))
        weights, bias = weights - lr * inputs.T @ dz, bias - lr * dz.sum(axis=0)
        gamma, beta = gamma - lr * dgamma, beta - lr * dbeta
        bias_norm.append(np.linalg.norm(bias))
    return np.array(bias_norm), np.array(loss)


def _gradients(returned: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dgamma, dbeta)`` from a backward function's return value, as float64."""
    if not isinstance(returned, (tuple, list)) or len(returned) != 3:
        raise TypeError("backward must return three arrays, (dx, dgamma, dbeta)")
    dx, dgamma, dbeta = (np.asarray(a, dtype=np.float64) for a in returned)
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


def yours_or_reference(yours: Callable[..., Any], reference: Callable[..., Any]) -> Any:
    """A function that calls ``yours``, or ``reference`` while yours is still a stub.

    The first call that meets ``NotImplementedError`` prints which function stands in, and
    from then on the reference answers. Lets a lesson run top to bottom before the
    exercises are done, and use the learner's own code once they are.
    """
    name = getattr(yours, "__name__", "your function")
    state = {"stub": False}

    def call(*args: Any, **kwargs: Any) -> Any:
        if not state["stub"]:
            try:
                return yours(*args, **kwargs)
            except NotImplementedError:
                state["stub"] = True
                where = f"{reference.__module__}.{reference.__name__}"
                print(f"{name} is not written yet: using {where} instead.")
        return reference(*args, **kwargs)

    call.__name__ = name
    return call


def plot_training_runs(runs: Any) -> Any:
    """Two panels from ``fit_linear_bn`` runs: ``|b|`` and the loss per step, mean and range.

    ``runs`` maps a label (e.g. "true gradient") to a list of ``(bias_norm, loss)`` pairs,
    one per seed. Returns the matplotlib Figure (9 inches wide).
    """
    from bncourse import plotting

    figure, axes = plotting.subplots(1, 2, figsize=(9.0, 3.8))
    styles = [(plotting.COLORS["with_bn"], None), (plotting.COLORS["without_bn"], "s")]
    for (label, pairs), (color, marker) in zip(runs.items(), styles, strict=False):
        steps = np.arange(1, len(pairs[0][0]) + 1)
        every = max(1, len(steps) // 10)
        for ax, part in zip(axes[0], (0, 1), strict=True):
            plotting.mean_with_spread(
                ax, steps, [pair[part] for pair in pairs], label=label, color=color, marker=marker
            )
            if marker:
                ax.lines[-1].set_markevery(every)
    axes[0, 1].set_yscale("log")
    plotting.finish(
        axes[0, 0], title="The bias before BN", xlabel="gradient-descent step", ylabel="|b|"
    )
    plotting.finish(
        axes[0, 1],
        title="Training loss",
        xlabel="gradient-descent step",
        ylabel="squared error (log scale)",
    )
    return figure


def plot_path_errors(
    path_errors: Any,
    *,
    ax: Any = None,
    title: str = "Dropping a path: error of dx against the numerical gradient",
) -> Any:
    """Grouped bars: the relative error of ``dx`` per feature, one bar per choice of paths.

    ``path_errors`` maps a label to an array of per-feature errors. A fixed log scale from
    1e-13 (smaller errors are drawn at 1e-13) to 1e4, with the passing threshold as a dashed
    line. Draws into ``ax`` when given; returns the matplotlib Figure.
    """
    from bncourse import plotting

    if ax is None:
        _, axes = plotting.subplots(width=7.5)
        ax = axes[0, 0]
    count = len(path_errors)
    width = 0.8 / max(count, 1)
    hatches = ["", "//", "..", "xx", "\\\\"]
    for k, (name, errors) in enumerate(path_errors.items()):
        features = np.arange(len(errors))
        ax.bar(
            features + (k - (count - 1) / 2) * width,
            np.maximum(errors, 1e-13),
            width,
            label=name,
            hatch=hatches[k % len(hatches)],
            edgecolor="white",
        )
    ax.axhline(
        PASSING_ERROR, color=plotting.COLORS["neutral"], linestyle="--", label="a passing check"
    )
    ax.set_yscale("log")
    ax.set_ylim(1e-13, 1e4)  # room above the bars for the legend
    ax.set_xticks(features, [f"feature {i}" for i in features])
    plotting.finish(ax, title=title, xlabel="feature", ylabel="relative error (log scale)")
    ax.legend(loc="upper left" if count > 1 else "upper right", ncols=min(count + 1, 3))
    return ax.figure


def plot_direct_only_sweep(batch_sizes: Any, errors: Any) -> Any:
    """Mean and range over seeds of the direct-path-only error against the batch size.

    ``errors`` maps a label to an array with one row per seed and one column per batch
    size. Log-2 x axis. Returns the matplotlib Figure.
    """
    from bncourse import plotting

    figure, axes = plotting.subplots(width=7.5)
    ax = axes[0, 0]
    for (label, values), marker in zip(errors.items(), ["o", "s", "^", "D"], strict=False):
        plotting.mean_with_spread(ax, batch_sizes, values, label=label, marker=marker)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(batch_sizes), [str(size) for size in batch_sizes])
    plotting.finish(
        ax,
        title="How wrong is the direct-path-only gradient?",
        xlabel="batch size m",
        ylabel="relative error against the true dx",
    )
    return figure
