"""Lesson 03 (the four steps): a feature before and after BN, and convolution feature maps.

The explorer (``four_steps_explorer``) draws many batches of one skewed feature (mean 3,
standard deviation 0.1, so variance 0.01; ``POPULATION_MEAN`` and ``POPULATION_STD``),
normalizes each batch with its own mean and variance (training-mode BN), then scales by
gamma and shifts by beta. Three panels: the values before BN, the pooled outputs after BN,
and the spread of the batch means, which is the noise every output inherits from its batch.
``feature_batches`` draws those batches for the lesson's own measurements, and
``statistics_spread`` / ``plot_statistics_spread`` measure and draw how much the batch
mean and variance scatter with the batch size.

What epsilon does to features of every size (``spread_before_and_after``,
``plot_epsilon_floor``): with epsilon, BN multiplies a feature's deviations by the gain
``1 / sqrt(var + eps)``, which never exceeds ``1 / sqrt(eps)``.

Which values one statistic averages (``feature_table``): a feature-map batch drawn as a
table, one row per (image, row, column) and one column per channel, so that "one
statistic per channel" reads as "one statistic per column".

Convolution feature maps in NumPy (``conv2d``, ``edge_kernels``), for the lesson's
per-channel statistics without Keras, and ``plot_mean_maps`` to compare per-channel with
per-position normalization. Keras's layout throughout: images ``(batch, height,
width, channels)`` and kernels ``(kernel_height, kernel_width, in_channels,
out_channels)``. Like ``keras.layers.Conv2D`` with ``padding="valid"``, stride 1 and no
bias, the "convolution" is a cross-correlation (the kernel is not flipped).

ipywidgets and matplotlib are imported when an explorer or a figure is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bncourse import reference as ref
from bncourse.seeding import resolve

__all__ = [
    "BATCH_SIZES",
    "POPULATION_MEAN",
    "POPULATION_STD",
    "feature_batches",
    "normalize_batches",
    "setup_four_steps",
    "four_steps_explorer",
    "feature_table",
    "conv2d",
    "edge_kernels",
    "spread_before_and_after",
    "plot_epsilon_floor",
    "statistics_spread",
    "plot_statistics_spread",
    "plot_mean_maps",
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


_BEFORE_RANGE = (2.84, 3.92)
"""x-limits of the values (and of the batch means): the feature's lower bound
``3 - 0.1 * sqrt(2)`` up to beyond the largest of the 102,400 values drawn at batch size 256
(3.90 with seed 0)."""
_AFTER_RANGE = (-7.5, 15.0)
"""x-limits after BN: ``gamma * x_hat + beta`` with x_hat's 0.5 to 99.5 percentiles, about
-1.4 to 3.8, for every gamma in [0.1, 3] and beta in [-3, 3]."""


def _pooled_batches(batch_size: int) -> int:
    """Enough batches for about 25,600 values, and at least 400 batch means."""
    return max(400, 25_600 // batch_size)


def setup_four_steps(
    batch_size: int = 8,
    gamma: float = 1.0,
    beta: float = 0.0,
    epsilon: float = 1e-3,
    *,
    seed: int = 0,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: before BN, after BN, and the spread of the batch
    means. Returns ``(figure, update)``; ``update(batch_size=..., gamma=..., beta=...,
    epsilon=...)`` redraws the histograms in place (``bncourse.lab.explorer.LiveFigure``).

    The batches of each size are drawn once (enough for about 25,600 values, at least 400
    batches). The x axes are fixed for every slider value, so gamma visibly stretches the
    outputs, beta moves them, and large batches visibly narrow the spread of the means (their
    bars are drawn relative to the tallest one, so one y-axis serves every batch size). After
    BN, a density peak taller than the panel (gamma near 0.1, or epsilon near 1, when the
    outputs crowd around beta) runs off its top. 9 inches wide: before BN and the batch
    means on top, after BN below.
    """
    import matplotlib.pyplot as plt

    from bncourse import plotting

    colors = plotting.COLORS
    before_edges = np.linspace(*_BEFORE_RANGE, 51)
    after_edges = np.linspace(*_AFTER_RANGE, 181)
    cache: dict[int, dict[str, Any]] = {}

    def batches_of(size: int) -> dict[str, Any]:
        if size not in cache:
            samples = feature_batches(size, _pooled_batches(size), seed=seed)
            means = samples.astype(np.float64).mean(axis=1)
            # bins a fifth of the expected spread sigma / sqrt(m) wide, over the fixed range
            count = int(np.ceil(5 * np.sqrt(size) * np.ptp(_BEFORE_RANGE) / POPULATION_STD))
            mean_edges = np.linspace(*_BEFORE_RANGE, count + 1)
            counts, _ = np.histogram(means, bins=mean_edges)
            # Heights relative to the tallest bin: one fixed y-axis for every batch size
            # (a density's peak grows like sqrt(m)); the x-axis shows the spread.
            mean_height = counts / counts.max()
            cache[size] = {
                "samples": samples,
                "before": np.histogram(samples, bins=before_edges, density=True)[0],
                "mean_edges": mean_edges,
                "mean_height": mean_height,
                "spread": float(means.std()),
            }
        return cache[size]

    plotting.use_style()
    # 9 inches wide at most (wider figures get shrunk in JupyterLab): two panels on top,
    # the one that matters most, after BN, across the bottom.
    figure = plt.figure(figsize=(9.0, 6.4))
    panels = figure.subplot_mosaic([["before", "noise"], ["after", "after"]])
    before, after, noise = panels["before"], panels["after"], panels["noise"]
    for ax in (before, after, noise):
        ax.grid(False)  # grid lines would be drawn under the histograms, then over them

    pooled = before.stairs(
        np.zeros(50), before_edges, fill=True, color=colors["neutral"], alpha=0.6
    )
    (rug,) = before.plot([], [], "|", markersize=18, color=colors["highlight"], markeredgewidth=2)
    pooled.set_label("all batches, pooled")
    rug.set_label("one batch")
    before.set_xlim(*_BEFORE_RANGE)
    before.set_ylim(0.0, 8.0)  # the skewed density peaks near 5.2; room for the legend
    plotting.finish(before, title="Before BN: the feature's values", xlabel="x", ylabel="density")

    population = after.stairs(
        np.zeros(180),
        after_edges,
        color=colors["neutral"],
        linewidth=2,
        label="population mean and var",
    )
    own = after.stairs(
        np.zeros(180),
        after_edges,
        fill=True,
        alpha=0.6,
        color=colors["with_bn"],
        label="each batch's own mean and var",
    )
    beta_line = after.axvline(0.0, color=colors["highlight"], linestyle="--", label="beta")
    after.set_xlim(*_AFTER_RANGE)
    after.set_ylim(0.0, 1.2)  # gamma = 1: the outputs' density peaks near 0.55
    plotting.finish(after, title=" ", xlabel="y = gamma * x_hat + beta", ylabel="density")

    spread_of_means = noise.stairs(
        np.zeros(1),
        np.array(_BEFORE_RANGE),
        fill=True,
        color=colors["without_bn"],
        alpha=0.6,
        label="batch means",
    )
    noise.axvline(
        POPULATION_MEAN,
        color=colors["neutral"],
        linestyle="--",
        label=f"population mean {POPULATION_MEAN:g}",
    )
    numbers = noise.text(0.97, 0.62, "", transform=noise.transAxes, ha="right", va="top")
    noise.set_xlim(*_BEFORE_RANGE)
    noise.set_ylim(0.0, 1.45)  # room above the tallest bin for the numbers
    plotting.finish(noise, title=" ", xlabel="batch mean", ylabel="count / tallest bin's")

    def update(
        batch_size: int = 8, gamma: float = 1.0, beta: float = 0.0, epsilon: float = 1e-3
    ) -> list[Any]:
        size = _check_batch_size(batch_size)
        drawn = batches_of(size)
        samples = drawn["samples"]
        outputs = normalize_batches(samples, gamma, beta, epsilon)
        population_out = (
            gamma * (samples - POPULATION_MEAN) / np.sqrt(POPULATION_STD**2 + epsilon) + beta
        )
        pooled.set_data(drawn["before"])
        rug.set_data(samples[0], np.zeros(size))
        population.set_data(np.histogram(population_out, bins=after_edges, density=True)[0])
        own.set_data(np.histogram(outputs, bins=after_edges, density=True)[0])
        beta_line.set_xdata([beta, beta])
        after.title.set_text(
            f"After BN (gamma = {gamma:g}, beta = {beta:g}, eps = {epsilon:.0e}, m = {size})"
        )
        spread_of_means.set_data(drawn["mean_height"], drawn["mean_edges"])
        noise.title.set_text(f"Noise: means of {len(samples)} batches of {size}")
        numbers.set_text(
            f"std of the batch means: {drawn['spread']:.3f}\n"
            f"sigma / sqrt(m): {POPULATION_STD / np.sqrt(size):.3f}"
        )
        return [
            pooled,
            rug,
            population,
            own,
            beta_line,
            after.title,
            spread_of_means,
            noise.title,
            numbers,
        ]

    return figure, update


def four_steps_explorer() -> Any:
    """Sliders for batch size, gamma, beta and epsilon over ``setup_four_steps``'s figure."""
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
        controls=controls,
        live=setup_four_steps,
        title="The four steps on one feature",
        description=(
            f"A skewed feature with mean {POPULATION_MEAN:g} and variance "
            f"{POPULATION_STD**2:g}. Try batch size 2, epsilon above 0.01, and gamma, beta."
        ),
    )


def feature_table(shape: Sequence[int] = (2, 2, 2, 3), *, rows: int = 8) -> str:
    """A picture, as text, of which entries of an array of ``shape`` form each feature.

    The features are the last axis. Each row of the table is one position of the other
    axes (a sample, or an image's pixel), each column one feature, each cell the entry's
    index, such as ``x[1, 0, 1, 2]``. Shows at most ``rows`` rows, then says how many
    values each feature's statistics average (m).
    """
    dims = tuple(int(n) for n in shape)
    if len(dims) < 2 or any(n < 1 for n in dims):
        raise ValueError(f"shape must have two or more axes of size >= 1; got {shape!r}")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an int >= 1; got {rows!r}")
    names = {2: ("sample",), 4: ("image", "row", "column")}.get(
        len(dims), tuple(f"axis {a}" for a in range(len(dims) - 1))
    )
    kind = "channel" if len(dims) == 4 else "feature"
    positions = list(np.ndindex(*dims[:-1]))
    cells = [[f"x[{', '.join(map(str, (*p, c)))}]" for c in range(dims[-1])] for p in positions]
    left = [f"({', '.join(map(str, p))})" if len(p) > 1 else str(p[0]) for p in positions]
    head = f"({', '.join(names)})" if len(names) > 1 else names[0]
    width_left = max(len(head), *(len(text) for text in left))
    width = max(len(f"{kind} {dims[-1] - 1}"), *(len(c) for row in cells for c in row))
    lines = [
        f"x of shape {dims} as a table: a row per {head}, a column per {kind}",
        "",
        f"{head:<{width_left}} | "
        + "  ".join(f"{f'{kind} {c}':<{width}}" for c in range(dims[-1])),
    ]
    for text, row in list(zip(left, cells, strict=True))[:rows]:
        lines.append(f"{text:<{width_left}} | " + "  ".join(f"{c:<{width}}" for c in row))
    if len(positions) > rows:
        lines.append(f"... ({len(positions) - rows} more rows)")
    m = f"{' x '.join(str(n) for n in dims[:-1])} = {len(positions)}"
    if len(dims) <= 2:
        m = str(len(positions))
    lines += ["", f"Each {kind}'s mean and variance average one whole column: m = {m} values."]
    return "\n".join(line.rstrip() for line in lines)


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


def spread_before_and_after(
    variances: Sequence[float] | np.ndarray,
    *,
    eps: float,
    batch_size: int = 256,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """One batch per variance, normalized with its own statistics: ``(std of x, std of x_hat)``.

    Batch ``i`` holds ``batch_size`` normal values (float32) with mean 0 and variance
    ``variances[i]``. The same seed gives the same standard-normal draws for every ``eps``,
    so calls that differ only in ``eps`` normalize the very same batches. Returns two
    float64 arrays shaped like ``variances``: the batch's standard deviation before BN and
    the standard deviation of its ``x_hat`` (``bncourse.reference.normalize``, biased
    variance). Their ratio is the gain ``1 / sqrt(var + eps)``.
    """
    levels = np.asarray(variances, dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0 or np.any(~np.isfinite(levels)) or np.any(levels <= 0):
        raise ValueError("variances must be a non-empty 1-D sequence of finite numbers > 0")
    batch_size = _check_batch_size(batch_size)
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 for a spread; got {batch_size}")
    draws = np.random.default_rng(resolve(seed)).normal(size=(levels.size, batch_size))
    before, after = [], []
    for level, row in zip(levels, draws, strict=True):
        batch = (row * np.sqrt(level)).astype(np.float32)[:, np.newaxis]
        x_hat = ref.normalize(batch, ref.batch_mean(batch), ref.batch_variance(batch), eps=eps)
        before.append(batch.astype(np.float64).std())
        after.append(x_hat.astype(np.float64).std())
    return np.array(before), np.array(after)


def plot_epsilon_floor(
    variances: Sequence[float] | np.ndarray,
    *,
    epsilons: Mapping[str, float],
    spreads: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> Any:
    """Standard deviation of ``x_hat`` against the feature's variance, one line per epsilon.

    Log-log axes. Dots are ``spreads[label][1]`` (measured, from
    ``spread_before_and_after``), lines the formula ``sqrt(var / (var + eps))``, and a
    dotted black line the standard deviation of ``x`` itself (gain 1), so a curve above
    it means the feature was amplified. Returns the matplotlib Figure.
    """
    from bncourse import plotting

    levels = np.asarray(variances, dtype=np.float64)
    figure, axes = plotting.subplots(figsize=(7.5, 4.6))
    ax = axes[0, 0]
    styles = zip(["neutral", "alt", "with_bn", "alt2"], ["o", "s", "^", "D"], strict=False)
    for (label, eps), (color, marker) in zip(epsilons.items(), styles, strict=False):
        ax.plot(levels, np.sqrt(levels / (levels + eps)), color=plotting.COLORS[color])
        ax.plot(
            levels,
            spreads[label][1],
            marker,
            linestyle="none",
            color=plotting.COLORS[color],
            label=label,
        )
    ax.plot(levels, np.sqrt(levels), ":", color="black", label="std of x itself (gain 1)")
    ax.plot([], [], color="#444444", label="lines: sqrt(var / (var + eps))")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plotting.finish(
        ax,
        title="What epsilon does: std of x_hat against the feature's variance",
        xlabel="variance of the feature in the batch (log scale)",
        ylabel="std (log scale)",
    )
    ax.legend(loc="lower right")
    return figure


def statistics_spread(
    sizes: Sequence[int] | np.ndarray, *, batches: int = 4000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """How much batch statistics scatter: ``(means, variances)``, one value per batch size.

    For each size ``m``, ``batches`` batches of the explorer's feature
    (``feature_batches(m, batches, seed=seed + m)``); returns the standard deviation across
    batches of the batch mean in units of ``POPULATION_STD``, and of the biased batch
    variance in units of ``POPULATION_STD**2``. Both are float64 arrays shaped like ``sizes``.
    """
    mean_spread, variance_spread = [], []
    for size in np.asarray(sizes).ravel():
        size = _check_batch_size(size)
        values = feature_batches(size, batches, seed=seed + size).astype(np.float64)
        mean_spread.append(values.mean(axis=1).std() / POPULATION_STD)
        variance_spread.append(values.var(axis=1).std() / POPULATION_STD**2)
    return np.array(mean_spread), np.array(variance_spread)


def plot_statistics_spread(
    sizes: Sequence[int] | np.ndarray,
    *,
    mean_spread: np.ndarray,
    variance_spread: np.ndarray,
    batches: int,
) -> Any:
    """Log-log plot of ``statistics_spread``'s two curves with the ``1 / sqrt(m)`` line.

    The variance curve starts at the second size: a batch of one has variance 0 always.
    Returns the matplotlib Figure.
    """
    from bncourse import plotting

    m = np.asarray(sizes, dtype=np.float64)
    figure, axes = plotting.subplots(width=7.0)
    ax = axes[0, 0]
    ax.loglog(
        m,
        mean_spread,
        "o-",
        color=plotting.COLORS["with_bn"],
        label="batch means, in units of sigma (measured)",
    )
    ax.loglog(m, 1 / np.sqrt(m), "--", color=plotting.COLORS["neutral"], label="1 / sqrt(m)")
    ax.loglog(
        m[1:],
        np.asarray(variance_spread)[1:],
        "s-",
        color=plotting.COLORS["without_bn"],
        label="batch variances, in units of sigma² (measured)",
    )
    plotting.finish(
        ax,
        title=f"How much batch statistics scatter, {batches:,} batches per size",
        xlabel="batch size m",
        ylabel="std across batches (relative)",
    )
    return figure


def plot_mean_maps(panels: Mapping[str, np.ndarray], *, channel: int = 0) -> Any:
    """One channel's map averaged over the batch, one panel per entry of ``panels``.

    Each value is a ``(batch, height, width, channels)`` array; all panels share one
    symmetric color scale, so a flat panel (every position 0) shows as white. Returns
    the matplotlib Figure.
    """
    from bncourse import plotting

    if not panels:
        raise ValueError("panels must name at least one array")
    mean_maps = {
        name: np.asarray(v, np.float64)[..., channel].mean(axis=0) for name, v in panels.items()
    }
    limit = max(float(np.abs(image).max()) for image in mean_maps.values()) or 1.0
    figure, axes = plotting.subplots(1, len(mean_maps), figsize=(9.0, 3.4))
    for ax, (name, image) in zip(axes[0], mean_maps.items(), strict=True):
        shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.grid(False)
        plotting.finish(ax, title=name, xlabel="width", ylabel="height")
    figure.colorbar(shown, ax=axes[0].tolist(), label="mean activation")
    count = next(iter(panels.values())).shape[0]
    figure.suptitle(f"Channel {channel}, averaged over the {count} images")
    return figure
