"""Lesson 06 (BN in Keras): how fast a Keras BN layer's moving statistics find the data's.

``moving_statistics`` calls a fresh ``keras.layers.BatchNormalization`` in training mode on
random batches and records its moving mean and moving variance after every step, next to
the statistics of the whole data set. ``moving_stats_explorer`` plots them for a chosen
momentum, number of steps and batch size.

The moving statistics start at 0 and 1 (Keras's initializers) and move a fraction
``1 - momentum`` of the way towards each batch's statistics per step, so after ``t`` steps
a fraction ``momentum**t`` of the starting gap is left, in expectation.

``compare_with_reference`` runs Keras's layer and ``bncourse.reference`` side by side on one
input and returns their largest differences; ``plot_channel_maps`` draws one image's
feature maps before and after BN.

Keras, matplotlib and ipywidgets are imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bncourse.seeding import resolve

__all__ = [
    "MovingStatistics",
    "moving_statistics",
    "plot_moving_statistics",
    "compare_with_reference",
    "plot_channel_maps",
    "setup_moving_statistics",
    "moving_stats_explorer",
]

MOMENTA = (0.9, 0.99, 0.999)
BATCH_SIZES = (4, 32, 256)
MAX_STEPS = 1000
PIXEL = 35
"""The digit pixel the explorer follows (row 4, column 3 of the 8x8 image)."""


@dataclass(frozen=True)
class MovingStatistics:
    """A Keras BN layer's moving statistics after each training-mode step.

    ``mean`` and ``variance`` have shape ``(steps, C)``: row ``t`` holds the values after
    step ``t + 1``. ``batches`` (``(steps, batch_size, C)``, float32) are the inputs the
    layer saw, in order; ``true_mean`` and ``true_variance`` are the (biased) statistics
    of the whole data the batches were drawn from.
    """

    momentum: float
    batches: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    true_mean: np.ndarray
    true_variance: np.ndarray

    def remaining_gap(self, which: str = "mean") -> np.ndarray:
        """``(moving - true) / (start - true)`` per step and feature: 1 at the start, 0 when
        the moving statistic has reached the data's. The start is 0 for the mean and 1 for
        the variance. NaN where the data's statistic equals the start (nothing to close)."""
        if which not in ("mean", "variance"):
            raise ValueError(f"which must be 'mean' or 'variance'; got {which!r}")
        moving, true = (
            (self.mean, self.true_mean) if which == "mean" else (self.variance, self.true_variance)
        )
        start = 0.0 if which == "mean" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return (moving - true) / (start - true)


_RECORDERS: dict[tuple[float, int], tuple[Any, Any]] = {}


def _recorder(momentum: float, features: int) -> tuple[Any, Any]:
    """A BN layer and a traced function that runs it over a stack of batches, recording its
    moving statistics after each. One per (momentum, features), traced once for any number
    of steps and any batch size: tracing a new function on every call would cost time and,
    from the fifth call on, make TensorFlow warn about retracing (the explorer calls this
    once per setting)."""
    key = (momentum, features)
    if key not in _RECORDERS:
        import keras
        import tensorflow as tf

        layer = keras.layers.BatchNormalization(momentum=momentum)
        layer.build((None, features))

        @tf.function(input_signature=[tf.TensorSpec([None, None, features], tf.float32)])
        def run(all_batches: Any) -> tuple[Any, Any]:
            count = tf.shape(all_batches)[0]
            means = tf.TensorArray(tf.float32, size=count)
            variances = tf.TensorArray(tf.float32, size=count)
            for step in tf.range(count):
                layer(all_batches[step], training=True)
                means = means.write(step, layer.moving_mean)
                variances = variances.write(step, layer.moving_variance)
            return means.stack(), variances.stack()

        _RECORDERS[key] = (layer, run)
    return _RECORDERS[key]


def moving_statistics(
    x: Any,
    *,
    momentum: float = 0.99,
    steps: int = 200,
    batch_size: int = 32,
    seed: int = 0,
) -> MovingStatistics:
    """Run a ``keras.layers.BatchNormalization(momentum=momentum)`` that starts from a fresh
    layer's moving statistics (0 and 1) in training mode for ``steps`` steps on batches
    drawn at random (with replacement, fixed by ``seed``) from the rows of ``x``, a
    ``(samples, features)`` array, and record its moving statistics after every step.
    Nothing carries over from one call to the next."""
    data = np.asarray(x)
    if data.dtype.kind not in "fiu":
        raise TypeError(f"x must hold real numbers; got an array of dtype {data.dtype}")
    if data.ndim != 2 or len(data) < 2:
        raise ValueError(
            f"x must have shape (samples, features) with samples >= 2; got {data.shape}"
        )
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)):
        raise TypeError(f"momentum must be a number; got {type(momentum).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must lie in [0, 1]; got {momentum}")
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int; got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1; got {value}")
    if batch_size < 2:
        raise ValueError(
            f"batch_size must be >= 2 (one value per feature has no variance); got {batch_size}"
        )

    import tensorflow as tf

    data = data.astype(np.float32)
    rng = np.random.default_rng(resolve(seed))
    batches = data[rng.integers(0, len(data), size=(int(steps), int(batch_size)))]
    layer, run = _recorder(float(momentum), data.shape[1])
    layer.moving_mean.assign(np.zeros(data.shape[1], np.float32))  # a fresh layer's values
    layer.moving_variance.assign(np.ones(data.shape[1], np.float32))
    mean, variance = run(tf.constant(batches))
    as64 = data.astype(np.float64)
    return MovingStatistics(
        momentum=float(momentum),
        batches=batches,
        mean=np.asarray(mean),
        variance=np.asarray(variance),
        true_mean=as64.mean(axis=0),
        true_variance=as64.var(axis=0),
    )


def plot_moving_statistics(
    stats: MovingStatistics, feature: int = 0, steps: int | None = None, label: str = ""
) -> Any:
    """Moving mean (top) and variance (bottom) of one feature against the step, with the
    data's values and the expected path ``true + (start - true) * momentum**t``, legends to
    the right of the panels. 9 inches wide. Returns the Figure."""
    from bncourse import plotting

    shown = len(stats.mean) if steps is None else min(int(steps), len(stats.mean))
    t = np.arange(1, shown + 1)
    figure, axes = plotting.subplots(2, 1, figsize=(9.0, 5.8), sharex=True)
    left = stats.momentum**shown
    for ax, name, moving, true, start in (
        (axes[0, 0], "mean", stats.mean, stats.true_mean, 0.0),
        (axes[1, 0], "variance", stats.variance, stats.true_variance, 1.0),
    ):
        ax.plot(
            t,
            moving[:shown, feature],
            color=plotting.COLORS["with_bn"],
            linewidth=2,
            label=f"Keras moving_{name}",
        )
        expected = true[feature] + (start - true[feature]) * stats.momentum**t
        ax.plot(
            t,
            expected,
            ":",
            color=plotting.COLORS["neutral"],
            linewidth=2,
            label=f"expected: true + (start - true)\n  x {stats.momentum:g}^t",
        )
        ax.axhline(
            true[feature],
            color=plotting.COLORS["highlight"],
            linestyle="--",
            label=f"{name} of all\ntraining data",
        )
        plotting.finish(
            ax,
            title=f"moving {name} (start: {start:g})",
            xlabel="training step" if name == "variance" else "",
            ylabel=name,
            legend=False,
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.suptitle(
        f"{label or f'Feature {feature}'}, batches of {stats.batches.shape[1]}, momentum "
        f"{stats.momentum:g}: after {shown} steps, expected gap left {left:.0%}"
    )
    return figure


def compare_with_reference(x: Any, *, seed: int = 0) -> dict[str, float]:
    """Keras's ``BatchNormalization`` against ``bncourse.reference`` on ``x``: for each of the
    training-mode output, the updated moving mean and moving variance, and the
    inference-mode output that follows, the largest ``|keras - reference| / (1 + |reference|)``.

    That measure is the absolute difference for values below 1 and the relative one above,
    so float32 round-off (about 1e-7 per operation) keeps it far below 1e-5 whatever the
    size of the outputs.

    ``x`` is ``(batch, features)`` or ``(batch, height, width, channels)``. The layer gets
    non-trivial values first (drawn with ``seed``): gamma in [0.5, 2], beta in [-1, 1], a
    standard-normal moving mean and a moving variance in [0.5, 2], so that a mistake in any
    of them would show.
    """
    data = np.asarray(x, dtype=np.float32)
    if data.ndim not in (2, 4) or data.shape[0] < 2:
        raise ValueError(
            "x must be (batch, features) or (batch, height, width, channels) with batch >= 2; "
            f"got shape {data.shape}"
        )

    import keras

    from bncourse import reference as ref

    channels = data.shape[-1]
    rng = np.random.default_rng(resolve(seed))
    gamma = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = rng.uniform(-1.0, 1.0, channels).astype(np.float32)
    moving_mean = rng.normal(size=channels).astype(np.float32)
    moving_var = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    layer = keras.layers.BatchNormalization()
    layer.build(data.shape)
    for variable, value in (
        (layer.gamma, gamma),
        (layer.beta, beta),
        (layer.moving_mean, moving_mean),
        (layer.moving_variance, moving_var),
    ):
        variable.assign(value)

    eps, momentum = layer.epsilon, layer.momentum
    keras_training = layer(data, training=True).numpy()
    new_mean, new_var = ref.update_moving_stats(
        moving_mean, moving_var, ref.batch_mean(data), ref.batch_variance(data), momentum
    )
    pairs = {
        "training-mode output": (keras_training, ref.batchnorm_forward(data, gamma, beta, eps)),
        "moving mean": (layer.moving_mean.numpy(), new_mean),
        "moving variance": (layer.moving_variance.numpy(), new_var),
        "inference-mode output": (
            layer(data, training=False).numpy(),
            ref.batchnorm_inference(data, gamma, beta, new_mean, new_var, eps),
        ),
    }
    return {
        name: float((np.abs(ours - theirs) / (1.0 + np.abs(theirs))).max())
        for name, (ours, theirs) in pairs.items()
    }


def plot_channel_maps(before: Any, after: Any, *, title: str) -> Any:
    """One image's feature maps before BN (top row) and after BN (bottom row), one column
    per channel. Each map has its own color scale, and its range of values is written under
    it. ``before`` and ``after`` are ``(height, width, channels)``. 9 inches wide; returns
    the Figure."""
    from bncourse import plotting

    maps_before, maps_after = np.asarray(before), np.asarray(after)
    if maps_before.shape != maps_after.shape or maps_before.ndim != 3:
        raise ValueError(
            "before and after must both be (height, width, channels); got "
            f"{maps_before.shape} and {maps_after.shape}"
        )
    channels = maps_before.shape[-1]
    figure, axes = plotting.subplots(2, channels, figsize=(9.0, 4.0))
    for channel in range(channels):
        for row, (maps, stage) in enumerate(((maps_before, "before BN"), (maps_after, "after BN"))):
            ax = axes[row, channel]
            values = maps[:, :, channel]
            ax.imshow(values, cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            ax.set_xlabel(f"{values.min():.2g} to {values.max():.2g}", fontsize=9)
            if row == 0:
                ax.set_title(f"channel {channel}", fontsize=10)
            if channel == 0:
                ax.set_ylabel(stage, fontsize=10)
    figure.suptitle(title)
    return figure


def _simulated_paths(pixels: np.ndarray, seed: int) -> np.ndarray:
    """Keras's documented update rule, ``moving = momentum * moving + (1 - momentum) *
    batch statistic`` (biased batch variance), in NumPy for pixel ``PIXEL`` on the same
    batches ``moving_statistics`` draws, for every momentum and batch size the explorer
    offers: shape ``(len(MOMENTA) * len(BATCH_SIZES) * 2, MAX_STEPS)``, mean and variance
    paths. Only used to fix the explorer's axes before any Keras run."""
    data = np.asarray(pixels, dtype=np.float32)
    paths = []
    for batch_size in BATCH_SIZES:
        rng = np.random.default_rng(resolve(seed))
        rows = rng.integers(0, len(data), size=(MAX_STEPS, batch_size))
        values = data[rows, PIXEL].astype(np.float64)
        means, variances = values.mean(axis=1), values.var(axis=1)
        for momentum in MOMENTA:
            for stats, start in ((means, 0.0), (variances, 1.0)):
                moving, path = start, np.empty(MAX_STEPS)
                for t, value in enumerate(stats):
                    moving = momentum * moving + (1 - momentum) * value
                    path[t] = moving
                paths.append(path)
    return np.array(paths)


def setup_moving_statistics(
    momentum: float = 0.99,
    steps: int = 200,
    batch_size: int = 32,
    *,
    pixels: Any,
    seed: int = 0,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: moving mean (top) and variance (bottom) of pixel
    ``PIXEL`` against the step, with the data's values and the expected path
    ``true + (start - true) * momentum**t``, legends to the right. Returns
    ``(figure, update)``; ``update(momentum=..., steps=..., batch_size=...)`` redraws the
    curves in place (``bncourse.lab.explorer.LiveFigure``).

    One Keras run of ``MAX_STEPS`` steps per (momentum, batch size), made the first time it
    is shown and kept; ``steps`` only cuts the curves. The step axis is logarithmic from 1
    to ``MAX_STEPS`` for every control value, so the three momenta's time scales (about
    10, 100 and 1000 steps) all show and can be compared; the value axes hold every path
    the controls can produce (fixed from Keras's update rule simulated in NumPy on the same
    batches). 9 inches wide."""
    from bncourse import plotting

    data = np.asarray(pixels, dtype=np.float32)
    runs: dict[tuple[float, int], MovingStatistics] = {}
    every_path = _simulated_paths(data, seed)
    true_values = data[:, PIXEL].astype(np.float64)
    true = {"mean": true_values.mean(), "variance": true_values.var()}

    figure, axes = plotting.subplots(2, 1, figsize=(9.0, 5.8), sharex=True)
    curves, expectations = {}, {}
    for ax, name, paths in (
        (axes[0, 0], "mean", every_path[0::2]),
        (axes[1, 0], "variance", every_path[1::2]),
    ):
        start = 0.0 if name == "mean" else 1.0
        (curves[name],) = ax.plot(
            [], [], color=plotting.COLORS["with_bn"], linewidth=2, label=f"Keras moving_{name}"
        )
        (expectations[name],) = ax.plot(
            [],
            [],
            ":",
            color=plotting.COLORS["neutral"],
            linewidth=2,
            label="expected: true + (start - true)\n  x momentum^t",
        )
        ax.axhline(
            true[name],
            color=plotting.COLORS["highlight"],
            linestyle="--",
            label=f"{name} of all\ntraining data",
        )
        low = min(paths.min(), true[name], start)
        high = max(paths.max(), true[name], start)
        margin = 0.05 * (high - low)
        ax.set_ylim(low - margin, high + margin)
        ax.set_xscale("log")
        ax.set_xlim(1, MAX_STEPS)
        plotting.finish(
            ax,
            title=f"moving {name} (start: {start:g})",
            xlabel="training step (log scale)" if name == "variance" else "",
            ylabel=name,
            legend=False,
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    title = figure.suptitle(" ")

    def update(momentum: float = 0.99, steps: int = 200, batch_size: int = 32) -> list[Any]:
        key = (float(momentum), int(batch_size))
        if key not in runs:
            runs[key] = moving_statistics(
                data, momentum=momentum, steps=MAX_STEPS, batch_size=batch_size, seed=seed
            )
        stats = runs[key]
        shown = min(int(steps), MAX_STEPS)
        t = np.arange(1, shown + 1)
        for name, moving, start in (
            ("mean", stats.mean, 0.0),
            ("variance", stats.variance, 1.0),
        ):
            curves[name].set_data(t, moving[:shown, PIXEL])
            expectations[name].set_data(t, true[name] + (start - true[name]) * momentum**t)
        title.set_text(
            f"Pixel {PIXEL}, batches of {batch_size}, momentum {momentum:g}: after {shown} "
            f"steps, expected gap left {momentum**shown:.0%}"
        )
        return [*curves.values(), *expectations.values(), title]

    return figure, update


def moving_stats_explorer(seed: int = 0) -> Any:
    """Momentum, steps and batch size -> a Keras BN layer's moving statistics of one digit
    pixel, against the statistics of the whole training set."""
    import ipywidgets as widgets

    from bncourse import data
    from bncourse.lab.explorer import explorer

    pixels = data.digits().x_train

    controls = {
        "momentum": widgets.Dropdown(options=list(MOMENTA), value=0.99, description="momentum"),
        "steps": widgets.IntSlider(value=200, min=10, max=MAX_STEPS, step=10, description="steps"),
        "batch_size": widgets.Dropdown(
            options=list(BATCH_SIZES), value=32, description="batch size"
        ),
    }
    return explorer(
        controls=controls,
        live=lambda **values: setup_moving_statistics(pixels=pixels, seed=seed, **values),
        title="How fast do Keras's moving statistics find the data's?",
        description=(
            f"A BatchNormalization layer on the 64 digit pixels, called with training=True on "
            f"random batches; shown: pixel {PIXEL} (row {PIXEL // 8}, column {PIXEL % 8})."
        ),
    )
