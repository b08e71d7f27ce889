"""Lesson 04 (training vs. inference): moving statistics under Keras's and PyTorch's momentum.

Both libraries keep an exponential moving average of the batch statistics, but their
``momentum`` arguments mean opposite things:

* Keras:   ``moving = momentum * moving + (1 - momentum) * batch``  (default 0.99)
* PyTorch: ``running = (1 - momentum) * running + momentum * batch`` (default 0.1)

PyTorch also feeds the unbiased (divide by m - 1) batch variance into ``running_var``,
where Keras uses the biased one (divide by m). Nothing here runs PyTorch: its behavior is
simulated in NumPy from the update rule and the variance its documentation states
(``torch.nn.BatchNorm2d``, https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html).

The lesson's measurements live here too: ``settled_spread`` (how noisy a settled moving
mean is, per seed), ``x_hat_in_random_batches`` (one value normalized within many random
batches), and the figures that show them. The explorer draws batches of one feature, runs
both updates and plots what each library would store after every training step.

ipywidgets and matplotlib are imported when an explorer or a figure is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.seeding import resolve

__all__ = [
    "CONVENTIONS",
    "POPULATION_MEAN",
    "POPULATION_STD",
    "batch_statistics",
    "moving_average",
    "steps_until_within",
    "settled_spread",
    "x_hat_in_random_batches",
    "plot_moving_means",
    "plot_x_hat_spread",
    "setup_moving_stats",
    "moving_stats_explorer",
]

CONVENTIONS = ("keras", "pytorch")
POPULATION_MEAN = 2.0
POPULATION_STD = 0.5


def batch_statistics(
    batch_size: int, steps: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, biased and unbiased variance of ``steps`` batches of one normal feature.

    The feature has mean ``POPULATION_MEAN`` and standard deviation ``POPULATION_STD``.
    Returns three float64 arrays of shape ``(steps,)``. ``batch_size`` must be >= 2 (the
    unbiased variance divides by ``batch_size - 1``).
    """
    for name, value, least in (("batch_size", batch_size, 2), ("steps", steps, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int; got {type(value).__name__}")
        if value < least:
            raise ValueError(f"{name} must be >= {least}; got {value}")
    rng = np.random.default_rng(resolve(seed))
    x = rng.normal(POPULATION_MEAN, POPULATION_STD, size=(int(steps), int(batch_size)))
    return x.mean(axis=1), x.var(axis=1), x.var(axis=1, ddof=1)


def moving_average(
    batch_values: Any, momentum: float, convention: str = "keras", start: float = 0.0
) -> np.ndarray:
    """The moving average after each step, shape ``(steps,)``, starting from ``start``.

    ``convention="keras"``: ``momentum`` weights the old value; ``"pytorch"``: the new one.
    """
    values = np.asarray(batch_values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"batch_values must be 1-D (one value per step); got {values.shape}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}; got {convention!r}")
    if isinstance(momentum, bool) or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"momentum must lie in [0, 1]; got {momentum!r}")
    keep = float(momentum) if convention == "keras" else 1.0 - float(momentum)
    result = np.empty_like(values)
    moving = float(start)
    for step, value in enumerate(values):
        moving = keep * moving + (1.0 - keep) * value
        result[step] = moving
    return result


def steps_until_within(trajectory: Any, target: float, tolerance: float = 0.01) -> int | None:
    """The first step (counting from 1) from which on ``trajectory`` stays within
    ``tolerance * |target|`` of ``target``; ``None`` if it never settles there."""
    values = np.asarray(trajectory, dtype=np.float64)
    outside = np.abs(values - target) > tolerance * abs(target)
    if outside[-1]:
        return None
    last_outside = np.flatnonzero(outside)
    return 1 if last_outside.size == 0 else int(last_outside[-1]) + 2


def settled_spread(
    *,
    momentum: float,
    convention: str,
    batch_size: int = 32,
    steps: int = 20_000,
    burn_in: int = 1_000,
    seeds: tuple[int, ...] = (1, 2, 3),
) -> np.ndarray:
    """How much a settled moving mean still wanders: one standard deviation per seed.

    For each seed, draws ``steps`` batches of ``batch_size`` from the feature
    (``batch_statistics``), runs ``moving_average`` over their means with ``momentum``
    under ``convention``, drops the first ``burn_in`` steps (the approach from the start
    value) and returns the standard deviation of the rest. Shape ``(len(seeds),)``.
    """
    for name, value in (("steps", steps), ("burn_in", burn_in)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if not 0 <= burn_in < steps - 1:
        raise ValueError(f"burn_in must lie in [0, steps - 1); got {burn_in} with steps={steps}")
    if len(seeds) == 0:
        raise ValueError("seeds must name at least one seed")
    spreads = []
    for seed in seeds:
        means, _, _ = batch_statistics(batch_size, steps, seed=seed)
        moving = moving_average(means, momentum, convention)
        spreads.append(moving[burn_in:].std())
    return np.array(spreads)


def x_hat_in_random_batches(
    value: float,
    pool: Any,
    *,
    sizes: tuple[int, ...] | list[int],
    draws: int = 1000,
    eps: float = 1e-3,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """``value``'s x_hat when it is normalized within ``draws`` random batches of each size.

    Each batch holds ``value`` and ``size - 1`` batch mates drawn (with replacement) from
    the 1-D ``pool``; x_hat uses the batch's mean and biased variance, with ``eps``.
    Returns ``{size: x_hat}``, each a float64 array of shape ``(draws,)``.
    """
    values = np.asarray(pool, dtype=np.float64)
    if values.ndim != 1 or values.size < 1:
        raise ValueError(f"pool must be a non-empty 1-D array; got shape {values.shape}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be an int >= 1; got {draws!r}")
    rng = np.random.default_rng(resolve(seed))
    result = {}
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
            raise ValueError(f"every size must be an int >= 2; got {size!r}")
        mates = values[rng.integers(0, values.size, size=(draws, int(size) - 1))]
        batches = np.concatenate([np.full((draws, 1), float(value)), mates], axis=1)
        mu, var = batches.mean(axis=1), batches.var(axis=1)
        result[int(size)] = (float(value) - mu) / np.sqrt(var + eps)
    return result


def plot_moving_means(
    batch_means: Any, curves: dict[str, Any], *, true_mean: float = POPULATION_MEAN
) -> Any:
    """The batch means as dots, each named moving-mean curve as a line, the true mean dotted.

    ``curves`` maps a legend label to a trajectory as long as ``batch_means``. Lines differ
    in style as well as color. Returns the Figure (8 inches wide).
    """
    from bncourse import plotting

    means = np.asarray(batch_means, dtype=np.float64)
    step = np.arange(1, means.size + 1)
    figure, axes = plotting.subplots(width=8)
    ax = axes[0, 0]
    ax.plot(
        step,
        means,
        ".",
        markersize=3,
        color="black",
        alpha=0.5,
        zorder=3,
        label=f"batch means ({means.size} steps)",
    )
    styles = ["-", "--", "-."]
    colors = ["with_bn", "alt", "without_bn"]
    for index, (label, curve) in enumerate(curves.items()):
        ax.plot(
            step,
            np.asarray(curve),
            linestyle=styles[index % 3],
            color=plotting.COLORS[colors[index % 3]],
            linewidth=1.8,
            label=label,
        )
    ax.axhline(true_mean, color="black", linestyle=":", linewidth=1, label="true mean")
    plotting.finish(
        ax, title="Moving mean over training steps", xlabel="training step", ylabel="moving mean"
    )
    return figure


def plot_x_hat_spread(x_hats: dict[int, Any], *, true_x_hat: float = 1.0) -> Any:
    """Mean and standard deviation of x_hat (error bars) against the batch size, log2 axis.

    ``x_hats`` is what ``x_hat_in_random_batches`` returns. Returns the Figure.
    """
    from bncourse import plotting

    sizes = sorted(x_hats)
    means = [float(np.mean(x_hats[size])) for size in sizes]
    stds = [float(np.std(x_hats[size])) for size in sizes]
    draws = len(np.asarray(x_hats[sizes[0]]))
    figure, axes = plotting.subplots(width=7)
    ax = axes[0, 0]
    ax.errorbar(
        sizes,
        means,
        yerr=stds,
        fmt="o-",
        capsize=4,
        color=plotting.COLORS["with_bn"],
        label=f"x_hat of the value: mean ± std over {draws:,} batches",
    )
    ax.axhline(
        true_x_hat, color="black", linestyle=":", label="x_hat with the true mean and variance"
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(size) for size in sizes])
    plotting.finish(
        ax,
        title="One value, normalized within random batches of each size",
        xlabel="batch size m",
        ylabel="x_hat",
    )
    return figure


def setup_moving_stats(
    momentum: float = 0.99, batch_size: int = 8, *, steps: int = 600, seed: int = 0
) -> tuple[Any, Any]:
    """The explorer's figure, built once: moving mean (top) and moving variance (bottom)
    over training steps, Keras's rule next to PyTorch's rule simulated from its documented
    formula. Returns ``(figure, update)``; ``update(momentum=..., batch_size=...)`` redraws
    the curves in place (``bncourse.lab.explorer.LiveFigure``). The axes keep one scale for
    every batch size, so the noise of small batches shows as what it is. 9 inches wide, so
    its text stays readable at the notebook's width."""
    from bncourse import plotting

    step = np.arange(1, steps + 1)
    colors = plotting.COLORS
    figure, axes = plotting.subplots(2, 1, figsize=(9.0, 6.6), sharex=True)
    mean_ax, var_ax = axes[0, 0], axes[1, 0]
    (dots,) = mean_ax.plot([], [], ".", markersize=2, color=colors["neutral"], alpha=0.4)
    (keras_mean,) = mean_ax.plot([], [], color=colors["with_bn"], linewidth=2)
    (torch_same,) = mean_ax.plot([], [], color=colors["without_bn"], linewidth=1)
    (torch_equal,) = mean_ax.plot([], [], color=colors["alt"], linestyle="--")
    mean_ax.axhline(
        POPULATION_MEAN, color="black", linewidth=0.8, linestyle=":", label="population mean"
    )
    (keras_var,) = var_ax.plot([], [], color=colors["with_bn"], linewidth=2)
    (torch_var,) = var_ax.plot([], [], color=colors["alt"], linestyle="--")
    var_ax.axhline(
        POPULATION_STD**2, color="black", linewidth=0.8, linestyle=":", label="population variance"
    )
    expected = var_ax.axhline(
        0.0,
        color=colors["neutral"],
        linewidth=0.8,
        linestyle="-.",
        label="expected biased batch variance",
    )
    labels = {
        dots: "batch means",
        keras_mean: "Keras, momentum m",
        torch_same: "PyTorch (simulated), momentum m:\nthe same number",
        torch_equal: "PyTorch (simulated), momentum 1 - m:\nthe equivalent momentum",
        keras_var: "Keras moving_variance\n(biased batch variances)",
        torch_var: "PyTorch running_var, simulated\n(unbiased batch variances)",
    }
    for line, label in labels.items():
        line.set_label(label)
    # One scale for all batch sizes from 2 up: the batch means of 2 values scatter by
    # sigma / sqrt(2) around the population mean; the moving variances start at 1.
    mean_ax.set_xlim(0, steps + 1)
    mean_ax.set_ylim(-0.1, POPULATION_MEAN + 1.5)  # the moving mean starts at 0
    var_ax.set_ylim(0.0, 1.3)  # room for the noisier unbiased variances of tiny batches
    plotting.finish(mean_ax, title=" ", xlabel="", ylabel="moving mean", legend=False)
    mean_ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    plotting.finish(
        var_ax, title=" ", xlabel="training step", ylabel="moving variance", legend=False
    )
    var_ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))

    def update(momentum: float = 0.99, batch_size: int = 8) -> list[Any]:
        means, biased, unbiased = batch_statistics(batch_size, steps, seed=seed)
        dots.set_data(step, means)
        keras_mean.set_data(step, moving_average(means, momentum, "keras"))
        torch_same.set_data(step, moving_average(means, momentum, "pytorch"))
        torch_equal.set_data(step, moving_average(means, 1 - momentum, "pytorch"))
        keras_var.set_data(step, moving_average(biased, momentum, "keras", start=1.0))
        torch_var.set_data(step, moving_average(unbiased, 1 - momentum, "pytorch", start=1.0))
        expected.set_ydata([POPULATION_STD**2 * (batch_size - 1) / batch_size] * 2)
        mean_ax.title.set_text(f"Moving mean, batches of {batch_size}, m = {momentum:g}")
        var_ax.title.set_text(f"Moving variance (equivalent momenta), batches of {batch_size}")
        lines = [dots, keras_mean, torch_same, torch_equal, keras_var, torch_var, expected]
        return [*lines, mean_ax.title, var_ax.title]

    return figure, update


def moving_stats_explorer() -> Any:
    """A momentum slider and a batch-size slider over ``setup_moving_stats``'s figure."""
    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    controls = {
        "momentum": widgets.FloatSlider(
            value=0.99,
            min=0.5,
            max=0.999,
            step=0.001,
            readout_format=".3f",
            description="momentum",
        ),
        "batch_size": widgets.SelectionSlider(
            options=[2, 4, 8, 16, 32, 64, 128], value=8, description="batch size"
        ),
    }
    return explorer(
        controls=controls,
        live=setup_moving_stats,
        title="Moving statistics: Keras's momentum vs. PyTorch's",
        description=(
            "The same momentum number in both libraries, and PyTorch's equivalent "
            "(1 - momentum). Both start where the layers start: mean 0, variance 1. "
            "PyTorch is not run: its rule is simulated from its documentation."
        ),
    )
