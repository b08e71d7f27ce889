"""Lesson 03 (the four steps): a feature before and after BN, and convolution feature maps.

The explorer (``four_steps_explorer``) draws many batches of one skewed feature (mean 3,
standard deviation 0.1, so variance 0.01; ``POPULATION_MEAN`` and ``POPULATION_STD``),
normalizes each batch with its own mean and variance (training-mode BN), then scales by
gamma and shifts by beta. Three panels: the values before BN, the pooled outputs after BN,
and the spread of the batch means, which is the noise every output inherits from its batch.
``feature_batches`` draws those batches for the lesson's own measurements.

Convolution feature maps in NumPy (``conv2d``, ``edge_kernels``), for the lesson's
per-channel statistics without Keras. Keras's layout throughout: images ``(batch, height,
width, channels)`` and kernels ``(kernel_height, kernel_width, in_channels,
out_channels)``. Like ``keras.layers.Conv2D`` with ``padding="valid"``, stride 1 and no
bias, the "convolution" is a cross-correlation (the kernel is not flipped).

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
    "conv2d",
    "edge_kernels",
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

    from bncourse.lab.explorer import explorer

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


def edge_kernels() -> np.ndarray:
    """Two Sobel filters for one input channel, shape ``(3, 3, 1, 2)``, float32.

    Output channel 0 responds to horizontal edges (brightness changing from top to bottom),
    channel 1 to vertical edges (changing from left to right).
    """
    horizontal = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
    vertical = horizontal.T
    return np.stack([horizontal, vertical], axis=-1)[:, :, np.newaxis, :].astype(np.float32)


def conv2d(images: Any, kernels: Any) -> np.ndarray:
    """Valid 2-D cross-correlation with stride 1: ``(batch, H - kh + 1, W - kw + 1, out)``.

    Returns float32; the inputs are not modified.
    """
    x = np.asarray(images, dtype=np.float64)
    k = np.asarray(kernels, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (batch, height, width, channels); got {x.shape}")
    if k.ndim != 4:
        raise ValueError(
            f"kernels must have shape (kernel_height, kernel_width, in_channels, out_channels); "
            f"got {k.shape}"
        )
    if k.shape[2] != x.shape[3]:
        raise ValueError(f"kernels expect {k.shape[2]} input channels but images have {x.shape[3]}")
    if k.shape[0] > x.shape[1] or k.shape[1] > x.shape[2]:
        raise ValueError(f"kernels of size {k.shape[:2]} do not fit images of size {x.shape[1:3]}")
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape[:2], axis=(1, 2))
    # windows: (batch, out_h, out_w, in_channels, kh, kw)
    return np.einsum("bhwcij,ijco->bhwo", windows, k).astype(np.float32)
