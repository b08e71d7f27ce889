"""Lesson 03's explorer: one feature before and after BN, and how noisy batch statistics are.

The feature is a skewed distribution (mean 3, standard deviation 0.1, so variance 0.01).
The explorer draws many batches of the chosen size, normalizes each batch with its own
mean and variance (training-mode BN), then scales by gamma and shifts by beta. Three
panels: the values before BN, the pooled outputs after BN, and the spread of the batch
means, which is the noise every output inherits from its batch.

ipywidgets and matplotlib are imported when an explorer or a figure is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.seeding import resolve

__all__ = [
    "BATCH_SIZES",
    "POPULATION_MEAN",
    "POPULATION_STD",
    "feature_batches",
    "normalize_batches",
    "draw_four_steps",
    "four_steps_explorer",
]

POPULATION_MEAN = 3.0
POPULATION_STD = 0.1
"""The feature's standard deviation: its variance, 0.01, sits inside the epsilon slider's range."""

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_SHAPE = 2.0  # of the gamma distribution the feature is drawn from: skewed to the right


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int; got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    return int(batch_size)


def feature_batches(batch_size: int, batches: int = 400, *, seed: int = 0) -> np.ndarray:
    """``batches`` batches of one feature's values, shape ``(batches, batch_size)``, float32.

    The values follow a gamma distribution shifted and scaled to mean ``POPULATION_MEAN``
    and standard deviation ``POPULATION_STD``; the same seed gives the same batches.
    """
    batch_size = _check_batch_size(batch_size)
    if isinstance(batches, bool) or not isinstance(batches, (int, np.integer)) or batches < 1:
        raise ValueError(f"batches must be an int >= 1; got {batches!r}")
    rng = np.random.default_rng(resolve(seed))
    draws = rng.gamma(_SHAPE, 1.0, size=(int(batches), batch_size))
    standard = (draws - _SHAPE) / np.sqrt(_SHAPE)  # mean 0, standard deviation 1
    return (POPULATION_MEAN + POPULATION_STD * standard).astype(np.float32)


def normalize_batches(
    samples: np.ndarray, gamma: float = 1.0, beta: float = 0.0, epsilon: float = 1e-3
) -> np.ndarray:
    """Training-mode BN of each row of ``samples`` with that row's own mean and variance.

    Each row is one batch of a single feature: ``gamma * (x - mean) / sqrt(var + eps) + beta``
    with the biased variance. Returns float32 of the same shape; ``samples`` is not modified.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"samples must have shape (batches, batch_size); got {x.shape}")
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be a finite number >= 0; got {epsilon}")
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = (x - mu) / np.sqrt(var + epsilon)
    return (gamma * x_hat + beta).astype(np.float32)


def draw_four_steps(
    batch_size: int = 8,
    gamma: float = 1.0,
    beta: float = 0.0,
    epsilon: float = 1e-3,
    *,
    batches: int | None = None,
    seed: int = 0,
) -> Any:
    """The explorer's figure: before BN, after BN, and the spread of the batch means.

    ``batches=None`` draws enough batches for about 25,600 values (at least 400 batches).
    """
    from bncourse import plotting

    batch_size = _check_batch_size(batch_size)
    if batches is None:
        batches = max(400, 25_600 // batch_size)
    samples = feature_batches(batch_size, batches, seed=seed)
    outputs = normalize_batches(samples, gamma, beta, epsilon)
    population_out = (
        gamma * (samples - POPULATION_MEAN) / np.sqrt(POPULATION_STD**2 + epsilon) + beta
    )
    means = samples.astype(np.float64).mean(axis=1)
    colors = plotting.COLORS

    figure, axes = plotting.subplots(1, 3, figsize=(12.0, 3.8))
    before, after, noise = axes[0]

    before.hist(
        samples.ravel(),
        bins=50,
        density=True,
        histtype="stepfilled",
        color=colors["neutral"],
        alpha=0.6,
        label=f"{batches} batches, pooled",
    )
    before.plot(
        samples[0],
        np.zeros(batch_size),
        "|",
        markersize=18,
        color=colors["highlight"],
        markeredgewidth=2,
        label=f"one batch of {batch_size}",
    )
    plotting.finish(before, title="Before BN: the feature's values", xlabel="x", ylabel="density")

    both = np.concatenate([outputs.ravel(), population_out.ravel()])
    low, high = np.percentile(both, [0.5, 99.5])  # the skewed tail would squash the rest
    bins = np.linspace(low - 1e-3, high + 1e-3, 60)
    after.hist(
        population_out.ravel(),
        bins=bins,
        density=True,
        histtype="step",
        linewidth=2,
        color=colors["neutral"],
        label="population mean and var",
    )
    after.hist(
        outputs.ravel(),
        bins=bins,
        density=True,
        histtype="stepfilled",
        alpha=0.6,
        color=colors["with_bn"],
        label=f"each batch's own (m = {batch_size})",
    )
    after.axvline(beta, color=colors["highlight"], linestyle="--", label=f"beta = {beta:g}")
    plotting.finish(
        after,
        title=f"After BN (gamma = {gamma:g}, eps = {epsilon:.0e})",
        xlabel="y = gamma * x_hat + beta",
        ylabel="density",
    )

    spread = float(means.std())
    noise.hist(
        means,
        bins=40,
        density=True,
        histtype="stepfilled",
        color=colors["without_bn"],
        alpha=0.6,
        label=f"batch means: std {spread:.3f}",
    )
    noise.axvline(
        POPULATION_MEAN,
        color=colors["neutral"],
        linestyle="--",
        label=f"population mean {POPULATION_MEAN:g}",
    )
    noise.plot([], [], " ", label=f"sigma / sqrt(m) = {POPULATION_STD / np.sqrt(batch_size):.3f}")
    plotting.finish(
        noise,
        title=f"Noise: means of {batches} batches of {batch_size}",
        xlabel="batch mean",
        ylabel="density",
    )
    return figure


def four_steps_explorer() -> Any:
    """Sliders for batch size, gamma, beta and epsilon that redraw ``draw_four_steps``."""
    import ipywidgets as widgets

    from bncourse.widgets import explorer

    controls = {
        "batch_size": widgets.SelectionSlider(
            options=list(BATCH_SIZES), value=8, description="batch size"
        ),
        "gamma": widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description="gamma"),
        "beta": widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description="beta"),
        "epsilon": widgets.FloatLogSlider(
            value=1e-3,
            base=10,
            min=-5,
            max=0,
            step=0.25,
            description="epsilon",
            readout_format=".0e",
        ),
    }
    return explorer(
        draw_four_steps,
        controls,
        title="The four steps on one feature",
        description=(
            f"A skewed feature with mean {POPULATION_MEAN:g} and variance "
            f"{POPULATION_STD**2:g}. Try batch size 2, epsilon above 0.01, and gamma, beta."
        ),
    )
