"""Lesson 04 (training vs. inference): moving statistics under Keras's and PyTorch's momentum.

Both libraries keep an exponential moving average of the batch statistics, but their
``momentum`` arguments mean opposite things:

* Keras:   ``moving = momentum * moving + (1 - momentum) * batch``  (default 0.99)
* PyTorch: ``running = (1 - momentum) * running + momentum * batch`` (default 0.1)

PyTorch also feeds the unbiased (divide by m - 1) batch variance into ``running_var``,
where Keras uses the biased one (divide by m). The explorer draws batches of one feature,
runs both updates and plots what each library would store after every training step.

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
    "draw_moving_stats",
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


def draw_moving_stats(
    momentum: float = 0.99, batch_size: int = 8, *, steps: int = 600, seed: int = 0
) -> Any:
    """The explorer's figure: moving mean and moving variance over training steps."""
    from bncourse import plotting

    means, biased, unbiased = batch_statistics(batch_size, steps, seed=seed)
    step = np.arange(1, steps + 1)
    colors = plotting.COLORS
    figure, axes = plotting.subplots(1, 2, figsize=(11.0, 3.9))
    mean_ax, var_ax = axes[0]

    mean_ax.plot(
        step, means, ".", markersize=2, color=colors["neutral"], alpha=0.4, label="batch means"
    )
    mean_ax.plot(
        step,
        moving_average(means, momentum, "keras"),
        color=colors["with_bn"],
        linewidth=2,
        label=f"Keras, momentum={momentum:g}",
    )
    mean_ax.plot(
        step,
        moving_average(means, momentum, "pytorch"),
        color=colors["without_bn"],
        label=f"PyTorch, momentum={momentum:g} (same number)",
    )
    mean_ax.plot(
        step,
        moving_average(means, 1 - momentum, "pytorch"),
        color=colors["alt"],
        linestyle="--",
        label=f"PyTorch, momentum={1 - momentum:.3g} (equivalent)",
    )
    mean_ax.axhline(
        POPULATION_MEAN, color="black", linewidth=0.8, linestyle=":", label="population mean"
    )
    plotting.finish(
        mean_ax,
        title=f"Moving mean, batches of {batch_size}",
        xlabel="training step",
        ylabel="moving mean",
    )

    keras_var = moving_average(biased, momentum, "keras", start=1.0)
    torch_var = moving_average(unbiased, 1 - momentum, "pytorch", start=1.0)
    var_ax.plot(
        step,
        keras_var,
        color=colors["with_bn"],
        linewidth=2,
        label="Keras moving_variance (biased batch var)",
    )
    var_ax.plot(
        step,
        torch_var,
        color=colors["alt"],
        linestyle="--",
        label="PyTorch running_var (unbiased batch var)",
    )
    var_ax.axhline(
        POPULATION_STD**2, color="black", linewidth=0.8, linestyle=":", label="population variance"
    )
    var_ax.axhline(
        POPULATION_STD**2 * (batch_size - 1) / batch_size,
        color=colors["neutral"],
        linewidth=0.8,
        linestyle="-.",
        label="expected biased batch variance",
    )
    plotting.finish(
        var_ax,
        title=f"Moving variance (equivalent momenta), batches of {batch_size}",
        xlabel="training step",
        ylabel="moving variance",
    )
    return figure


def moving_stats_explorer() -> Any:
    """A momentum slider and a batch-size slider that redraw ``draw_moving_stats``."""
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
        draw_moving_stats,
        controls,
        title="Moving statistics: Keras's momentum vs. PyTorch's",
        description=(
            "The same momentum number in both libraries, and PyTorch's equivalent "
            "(1 - momentum). Both start where the layers start: mean 0, variance 1."
        ),
    )
