"""Lesson 07 (where to put BN): explorers of training curves by placement, and of the
variance a BN layer sees when Dropout comes before it.

Both redraw from numbers already computed (or from a NumPy simulation of a few
milliseconds); nothing trains inside a callback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bncourse.lab.training import Run
from bncourse.seeding import resolve

__all__ = ["METRICS", "curves_explorer", "dropout_variance", "variance_shift_explorer"]

METRICS = {
    "validation accuracy": "val_accuracy",
    "training accuracy": "train_accuracy",
    "training loss": "train_loss",
}


def curves_explorer(
    results: Mapping[str, Sequence[Run]],
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Compare two placements, seed by seed",
) -> Any:
    """Pick two variants and a metric; see their mean and range, or every seed's curve."""
    import ipywidgets as widgets

    from bncourse import plotting
    from bncourse.lab.experiments import plot_curves
    from bncourse.lab.explorer import explorer

    labels = list(results)
    if len(labels) < 2:
        raise ValueError("curves_explorer needs at least two variants to compare")

    def draw(first: str, second: str, metric: str, each_seed: bool) -> Any:
        fig, axes = plotting.subplots(width=7.5)
        ax = axes[0, 0]
        chosen = {label: results[label] for label in dict.fromkeys([first, second])}
        plot_curves(ax, chosen, METRICS[metric], colors=colors, each_seed=each_seed)
        what = "every seed" if each_seed else "mean over seeds, band: lowest to highest seed"
        plotting.finish(ax, title=f"{metric} ({what})", xlabel="optimizer steps", ylabel=metric)
        if METRICS[metric].endswith("accuracy"):
            low = min(
                np.nanmin([run.val_accuracy[-1] for run in results[label]]) for label in chosen
            )
            ax.set_ylim(max(0.0, min(0.8, low - 0.05)), 1.0)
        return fig

    controls = {
        "first": widgets.Dropdown(options=labels, value=labels[0], description="variant A"),
        "second": widgets.Dropdown(options=labels, value=labels[1], description="variant B"),
        "metric": widgets.Dropdown(
            options=list(METRICS), value="validation accuracy", description="metric"
        ),
        "each_seed": widgets.Checkbox(value=False, description="show every seed"),
    }
    return explorer(
        draw,
        controls,
        title=title,
        description="Is the gap between the two means larger than the spread between seeds?",
    )


def dropout_variance(
    rate: float, mean: float, *, variance: float = 1.0, n: int = 20_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One unit x ~ N(mean, variance) after (inverted) Dropout, in training and at inference.

    Returns ``(training, inference)`` samples: in training each value is kept with
    probability ``1 - rate`` and divided by ``1 - rate``; at inference Dropout is the
    identity. Their variances are ``(mean**2 + variance) / keep - mean**2`` and ``variance``.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must lie in [0, 1); got {rate}")
    rng = np.random.default_rng(resolve(seed))
    x = rng.normal(mean, np.sqrt(variance), n)
    keep = 1.0 - rate
    mask = rng.random(n) < keep
    return x * mask / keep, x


def variance_shift_explorer(*, seed: int = 0) -> Any:
    """Dropout rate and the unit's mean as sliders: what BN's moving variance learns in
    training, what the unit really does at inference, and what BN then outputs."""
    import ipywidgets as widgets

    from bncourse import plotting
    from bncourse.lab.explorer import explorer

    def draw(rate: float, mean: float) -> Any:
        training, inference = dropout_variance(rate, mean, seed=seed)
        moving_mean, moving_var = training.mean(), training.var()
        output = (inference - moving_mean) / np.sqrt(moving_var + 1e-3)
        fig, axes = plotting.subplots(1, 2, width=10)
        left, right = axes[0]
        bins = np.linspace(-5 + mean, 5 + mean, 81)
        left.hist(training, bins=bins, density=True, alpha=0.5, label="training (Dropout on)")
        if rate:
            left.annotate(
                f"{rate:.0%} dropped: the spike at 0 (cut off)",
                (0.0, 0.55),
                xytext=(8, 0),
                textcoords="offset points",
                fontsize=8,
            )
            left.set_ylim(0.0, 0.6)
        left.hist(inference, bins=bins, density=True, alpha=0.5, label="inference (Dropout off)")
        plotting.finish(
            left,
            title=f"BN's input: variance {training.var():.2f} in training, "
            f"{inference.var():.2f} at inference",
            xlabel="value of the unit",
            ylabel="density",
        )
        grid = np.linspace(-4, 4, 200)
        right.hist(
            output,
            bins=np.linspace(-4, 4, 81),
            density=True,
            alpha=0.6,
            color=plotting.COLORS["with_bn"],
            label="BN output at inference",
        )
        right.plot(
            grid,
            np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi),
            color=plotting.COLORS["neutral"],
            label="N(0, 1): what training saw",
        )
        plotting.finish(
            right,
            title=f"normalized with the moving variance: variance {output.var():.2f}",
            xlabel="x̂ at inference",
            ylabel="density",
        )
        return fig

    controls = {
        "rate": widgets.FloatSlider(
            value=0.5, min=0.0, max=0.8, step=0.1, description="Dropout rate"
        ),
        "mean": widgets.FloatSlider(
            value=0.0, min=0.0, max=2.0, step=0.25, description="unit's mean"
        ),
    }
    return explorer(
        draw,
        controls,
        title="Dropout right before BN: the variance shift",
        description="The unit is x ~ N(mean, 1). BN's moving variance learns the training "
        "variance; at inference the unit varies less.",
    )
