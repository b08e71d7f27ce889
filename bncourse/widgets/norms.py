"""Lesson 09 explorers: which axes each normalization averages over, and small-batch noise.

``axes_explorer`` draws the Wu & He-style cubes of ``bncourse.norm_axes`` with a method
selector, the number of groups and the channel to highlight. ``batch_noise_explorer`` shows
how one sample's BN output scatters with its random batch mates, against LayerNorm, for a
chosen batch size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse import norm_axes
from bncourse.small_batches import sample_outputs
from bncourse.widgets import Explorer, explorer

__all__ = ["axes_explorer", "draw_noise", "batch_noise_explorer", "BATCH_SIZES"]

_CHANNELS = 6
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


def _draw_axes(method: str, groups: int, channel: int) -> Any:
    methods = norm_axes.METHODS if method == "all" else (method,)
    width = 11.0 if len(methods) > 1 else 4.2
    return norm_axes.draw_normalization_axes(
        methods, channels=_CHANNELS, groups=groups, channel=channel, width=width
    )


def axes_explorer() -> Explorer:
    """Pick a method (or all four), the number of GN groups and the highlighted channel."""
    import ipywidgets as widgets

    controls = {
        "method": widgets.Dropdown(
            options=[("all four", "all")]
            + [(norm_axes.METHOD_NAMES[m], m) for m in norm_axes.METHODS],
            value="all",
            description="method",
        ),
        "groups": widgets.Dropdown(
            options=[g for g in range(1, _CHANNELS + 1) if _CHANNELS % g == 0],
            value=2,
            description="GN groups",
        ),
        "channel": widgets.IntSlider(value=0, min=0, max=_CHANNELS - 1, description="channel"),
    }
    return explorer(
        _draw_axes,
        controls,
        title="Which values share one mean and variance?",
        description=(
            "Shaded cells are normalized together. Try GN with 1 group and with "
            f"{_CHANNELS} groups, and compare with LN and IN."
        ),
    )


def draw_noise(x: np.ndarray, batch_size: int, *, sample: int = 0, feature: int = 0) -> Any:
    """Histogram of one sample's BN output (one feature) over random batches, LN's as a line."""
    from bncourse import plotting

    bn = sample_outputs(x, sample, batch_size, method="bn", batches=300, seed=batch_size)
    ln = sample_outputs(x, sample, 1, method="layer", batches=1)[0]
    fig, axes = plotting.subplots(1, 1, width=6.5)
    ax = axes[0, 0]
    values = bn[:, feature]
    ax.hist(
        values,
        bins=40,
        range=(-3.5, 3.5),
        color=plotting.COLORS["with_bn"],
        alpha=0.8,
        label=f"BN, training mode (std {values.std():.2f} over 300 batches)",
    )
    ax.axvline(
        ln[feature],
        color=plotting.COLORS["alt"],
        lw=2.5,
        label="LayerNorm (the same in every batch)",
    )
    plotting.finish(
        ax,
        title=f"Sample {sample}, feature {feature}: output in 300 random batches of {batch_size}",
        xlabel="normalized value",
        ylabel="number of batches",
        legend=False,
    )
    ax.legend(loc="upper left")
    return fig


def batch_noise_explorer(x: Any, *, sample: int = 0, feature: int = 0) -> Explorer:
    """Move the batch size and watch BN's output for one fixed sample spread or narrow."""
    import ipywidgets as widgets

    x = np.asarray(x, dtype=np.float32)
    sizes = [m for m in BATCH_SIZES if m <= len(x)]
    controls = {
        "batch_size": widgets.SelectionSlider(options=sizes, value=4, description="batch size")
    }
    return explorer(
        lambda batch_size: draw_noise(x, batch_size, sample=sample, feature=feature),
        controls,
        title="One sample, many batches",
        description="The same input, normalized with the statistics of different batch mates.",
    )
