"""Lesson 09 (beyond BN): small batches, noisy statistics, batch renormalization, a race.

The NumPy functions measure what a small batch does to BN: the spread of the batch mean and
variance over random batches (``statistics_spread``), and how much one sample's output
depends on the samples it happens to share a batch with (``sample_outputs``).
``batch_renorm_forward`` is the training-mode forward pass of Keras's
``BatchNormalization(renorm=True)``, written out in NumPy. ``batch_noise_explorer`` shows
how one sample's BN output scatters with its random batch mates, against LayerNorm, for a
chosen batch size.

``compare_normalizations`` trains the same small MLP with BN, BN with renorm, LayerNorm,
GroupNorm or no normalization, for several seeds and batch sizes. To fit a lesson's time
budget, every variant and every seed is trained at once, side by side in one Keras model
(traced once, reset between batch sizes): each (variant, seed) pair is an independent branch
with its own weights, its own batches and its own loss, and the total loss is their sum, so
each branch gets exactly the gradient it would get alone. TensorFlow and Keras are imported
on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse import reference as ref
from bncourse.data import DataSplit
from bncourse.lab.explorer import Explorer, explorer
from bncourse.seeding import resolve

__all__ = [
    "BATCH_SIZES",
    "setup_batch_noise",
    "batch_noise_explorer",
    "NORMALIZATIONS",
    "Spread",
    "statistics_spread",
    "plot_statistics_spread",
    "sample_outputs",
    "batch_renorm_forward",
    "RaceResult",
    "compare_normalizations",
    "plot_race",
]

NORMALIZATIONS = {
    "none": "no normalization",
    "bn": "BatchNorm",
    "renorm": "BatchNorm, renorm=True",
    "layer": "LayerNorm",
    "group": "GroupNorm",
}
"""The variants ``compare_normalizations`` knows, with the labels plots use."""


@dataclass(frozen=True)
class Spread:
    """How far batch statistics stray from the statistics of the whole data set.

    All three are averages over features, relative to that feature's population value:
    ``mean_spread``: standard deviation (over batches) of the batch mean, in units of the
    feature's standard deviation; ``var_spread``: standard deviation of the batch variance,
    in units of the feature's variance; ``var_ratio``: the average batch variance divided by
    the feature's variance (below 1: the biased variance of a small batch is too small).
    """

    batch_sizes: np.ndarray
    mean_spread: np.ndarray
    var_spread: np.ndarray
    var_ratio: np.ndarray

    def table(self) -> str:
        """The measurements as a text table, one row per batch size, with (m - 1)/m beside."""
        lines = [" m   spread of mean (σ)   spread of variance (σ²)   batch var / σ²   (m-1)/m"]
        rows = zip(self.batch_sizes, self.mean_spread, self.var_spread, self.var_ratio, strict=True)
        for m, s_mu, s_var, ratio in rows:
            lines.append(
                f"{m:3d}   {s_mu:18.3f}   {s_var:23.3f}   {ratio:14.3f}   {(m - 1) / m:7.3f}"
            )
        return "\n".join(lines)


def _check_features(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must have shape (samples, features) with samples >= 2; got {x.shape}")
    if np.any(x.var(axis=0) == 0):
        raise ValueError("every feature of x must vary (a constant feature has no spread)")
    return x


def statistics_spread(
    x: Any, batch_sizes: Sequence[int], *, batches: int = 500, seed: int = 0
) -> Spread:
    """Draw ``batches`` random batches of each size from ``x`` (samples, features) and measure
    how much their mean and biased variance scatter around the whole set's."""
    x = _check_features(x)
    rng = np.random.default_rng(resolve(seed))
    var = x.var(axis=0)
    mean_spread, var_spread, var_ratio = [], [], []
    for m in batch_sizes:
        if not 2 <= m <= len(x):
            raise ValueError(f"batch sizes must lie in [2, {len(x)}]; got {m}")
        index = np.stack([rng.choice(len(x), size=m, replace=False) for _ in range(batches)])
        batch = x[index]  # (batches, m, features)
        batch_mu = batch.mean(axis=1)
        batch_var = batch.var(axis=1)  # biased: divide by m, as BN does
        mean_spread.append(np.mean(batch_mu.std(axis=0) / np.sqrt(var)))
        var_spread.append(np.mean(batch_var.std(axis=0) / var))
        var_ratio.append(np.mean(batch_var.mean(axis=0) / var))
    return Spread(
        np.asarray(batch_sizes),
        np.asarray(mean_spread),
        np.asarray(var_spread),
        np.asarray(var_ratio),
    )


def plot_statistics_spread(spread: Spread) -> Any:
    """Two panels: the scatter of the batch statistics against 1/√m, and the biased
    variance's average against (m - 1)/m. Returns the matplotlib Figure."""
    from bncourse import plotting

    sizes = np.asarray(spread.batch_sizes, dtype=np.float64)
    fig, axes = plotting.subplots(1, 2, width=9)
    ax = axes[0, 0]
    ax.loglog(sizes, spread.mean_spread, "o-", label="batch mean (in σ)")
    ax.loglog(sizes, spread.var_spread, "s-", label="batch variance (in σ²)")
    ax.loglog(sizes, 1 / np.sqrt(sizes), "k--", lw=1, label="1/√m")
    plotting.finish(
        ax,
        title="Scatter of BN's statistics",
        xlabel="batch size m",
        ylabel="std over random batches",
    )
    ax = axes[0, 1]
    color = plotting.COLORS["alt"]
    ax.semilogx(sizes, spread.var_ratio, "o-", color=color, label="mean batch variance / σ²")
    ax.semilogx(sizes, (sizes - 1) / sizes, "k--", lw=1, label="(m − 1)/m")
    plotting.finish(
        ax,
        title="Biased batch variance: too small",
        xlabel="batch size m",
        ylabel="ratio",
    )
    ax.legend(loc="lower right")
    return fig


def sample_outputs(
    x: Any,
    sample: int,
    batch_size: int,
    *,
    method: str = "bn",
    batches: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """The normalized output of row ``sample`` of ``x`` in ``batches`` random batches.

    Each batch holds the sample and ``batch_size - 1`` other rows drawn at random.
    ``method="bn"`` is training-mode BN (the batch's statistics), ``"layer"`` is LayerNorm
    (the sample's own statistics). gamma = 1 and beta = 0. Returns ``(batches, features)``.
    """
    x = np.asarray(x, dtype=np.float32)
    if method not in ("bn", "layer"):
        raise ValueError(f"method must be 'bn' or 'layer'; got {method!r}")
    if not 1 <= batch_size <= len(x) or not 0 <= sample < len(x):
        raise ValueError(f"need 1 <= batch_size <= {len(x)} and 0 <= sample < {len(x)}")
    features = x.shape[1]
    gamma, beta = np.ones(features, np.float32), np.zeros(features, np.float32)
    others = np.delete(np.arange(len(x)), sample)
    rng = np.random.default_rng(resolve(seed))
    rows = []
    for _ in range(batches):
        mates = rng.choice(others, size=batch_size - 1, replace=False)
        batch = x[np.concatenate([[sample], mates])]
        if method == "bn":
            if batch_size == 1:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ref.DegenerateBatchWarning)
                    out = ref.batchnorm_forward(batch, gamma, beta)
            else:
                out = ref.batchnorm_forward(batch, gamma, beta)
        else:
            out = ref.layer_norm(batch, gamma, beta)
        rows.append(out[0])
    return np.stack(rows)


def batch_renorm_forward(
    x: Any,
    gamma: Any,
    beta: Any,
    renorm_mean: Any,
    renorm_stddev: Any,
    *,
    eps: float = ref.DEFAULT_EPSILON,
    rmin: float | None = None,
    rmax: float | None = None,
    dmax: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode batch renormalization as Keras 3 computes it: ``(y, r, d)``.

    ``r = sigma_B / sigma`` and ``d = (mu_B - mu) / sigma``, where ``sigma_B = sqrt(var_B +
    eps)`` and ``mu``, ``sigma`` are the layer's renorm moving mean and standard deviation
    (``sigma`` floored at ``sqrt(eps)``); ``r`` is clipped to ``[rmin, rmax]`` and ``d`` to
    ``[-dmax, dmax]`` when those are given (Keras's default: no clipping). Then
    ``y = gamma * (x_hat * r + d) + beta`` with ``x_hat`` the ordinary batch-normalized input.
    Features on the last axis, statistics over all other axes (Ioffe, 2017, Algorithm 1).
    """
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    mu_b, var_b = x.mean(axis=axes), x.var(axis=axes)
    sigma_b = np.sqrt(var_b + eps)
    sigma = np.maximum(np.asarray(renorm_stddev, dtype=np.float64), np.sqrt(eps))
    r = sigma_b / sigma
    d = (mu_b - np.asarray(renorm_mean, dtype=np.float64)) / sigma
    if rmin is not None:
        r = np.maximum(r, rmin)
    if rmax is not None:
        r = np.minimum(r, rmax)
    if dmax is not None:
        d = np.clip(d, -dmax, dmax)
    x_hat = (x - mu_b) / sigma_b
    y = np.asarray(gamma, dtype=np.float64) * (x_hat * r + d) + np.asarray(beta, dtype=np.float64)
    return y.astype(np.float32), r.astype(np.float32), d.astype(np.float32)


# ---------------------------------------------------------------------------
# Training every variant and seed side by side.
# ---------------------------------------------------------------------------


@dataclass
class RaceResult:
    """Validation accuracy of each variant: ``val_accuracy[name]`` is (seeds, evaluations)."""

    steps: np.ndarray
    val_accuracy: dict[str, np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)

    def final(self, name: str) -> np.ndarray:
        """Final validation accuracy of ``name``, one value per seed."""
        return self.val_accuracy[name][:, -1]


def _normalization_layer(name: str, seeds: int, units: int, groups: int) -> Any:
    import keras

    # The branches' features sit side by side on the last axis: seed k owns the block
    # [k * units, (k + 1) * units). BN's per-column statistics are then per seed anyway;
    # LayerNorm and GroupNorm become GroupNormalization with one (or `groups`) group per seed,
    # so every seed is normalized on its own, with its own gamma and beta.
    if name == "bn":
        return keras.layers.BatchNormalization()
    if name == "renorm":
        return keras.layers.BatchNormalization(renorm=True)
    if name == "layer":
        return keras.layers.GroupNormalization(groups=seeds)
    if name == "group":
        return keras.layers.GroupNormalization(groups=seeds * groups)
    raise ValueError(f"unknown normalization {name!r}; choose from {sorted(NORMALIZATIONS)}")


def _build_race(
    names: Sequence[str],
    seeds: int,
    input_dim: int,
    hidden: Sequence[int],
    classes: int,
    groups: int,
) -> Any:
    import keras

    inputs = keras.Input((seeds, input_dim), name="pixels")
    outputs = []
    for name in names:
        h = inputs
        for index, units in enumerate(hidden, start=1):
            h = keras.layers.EinsumDense(
                "nbi,bio->nbo",
                output_shape=(seeds, units),
                bias_axes="bo" if name == "none" else None,  # beta replaces the bias
                name=f"{name}_dense_{index}",
            )(h)
            if name != "none":
                h = keras.layers.Reshape((seeds * units,))(h)
                h = _normalization_layer(name, seeds, units, groups)(h)
                h = keras.layers.Reshape((seeds, units))(h)
            h = keras.layers.ReLU()(h)
        outputs.append(
            keras.layers.EinsumDense(
                "nbi,bio->nbo", output_shape=(seeds, classes), bias_axes="bo", name=f"{name}_logits"
            )(h)
        )
    return keras.Model(inputs, outputs, name="side_by_side")


def _glorot_per_seed(model: Any, seeds: Sequence[int]) -> None:
    """Glorot-uniform kernels (Keras's Dense default), drawn from each seed separately.

    A layer's kernel depends on the seed and the layer's depth only, so every variant starts
    from the same kernels for the same seed.
    """
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.EinsumDense):
            _, fan_in, fan_out = layer.kernel.shape
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            suffix = layer.name.rsplit("_", 1)[-1]
            depth = int(suffix) if suffix.isdigit() else 0  # the logits layer: depth 0
            kernels = [
                np.random.default_rng([resolve(seed), depth]).uniform(
                    -limit, limit, (fan_in, fan_out)
                )
                for seed in seeds
            ]
            layer.kernel.assign(np.stack(kernels).astype(np.float32))


def _as_list(outputs: Any) -> list[Any]:
    """A model's outputs as a list (Keras returns a lone output unwrapped)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _batch_indices(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """(steps, batch_size) row indices: shuffled epochs, no row twice in one batch."""
    rng = np.random.default_rng(resolve(seed))
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    rows = [rng.permutation(n)[: per_epoch * batch_size] for _ in range(epochs)]
    return np.concatenate(rows).reshape(-1, batch_size)[:steps]


def compare_normalizations(
    data: DataSplit,
    names: Sequence[str] = ("none", "bn", "renorm", "layer", "group"),
    *,
    seeds: Sequence[int] = (0, 1, 2),
    batch_sizes: Sequence[int] = (2, 16),
    steps: int = 300,
    learning_rate: float = 0.01,
    hidden: Sequence[int] = (100, 100),
    groups: int = 10,
    eval_every: int = 100,
) -> dict[int, RaceResult]:
    """Train a Dense -> norm -> ReLU MLP with each normalization, for each seed and batch size.

    SGD with momentum 0.9; the Dense layer before a normalization has no bias. Seed ``s``
    fixes the initial kernels and the sequence of batches, and both are the same for every
    variant, so the variants differ only in their normalization. Validation accuracy is
    measured in inference mode (BN uses its moving statistics) every ``eval_every`` steps.
    Every batch size starts again from the same initial weights. Returns one ``RaceResult``
    per batch size.
    """
    import keras
    import tensorflow as tf

    names = list(names)
    if not names or len(set(names)) != len(names):
        raise ValueError("names must list each normalization once")
    for name in names:
        if name not in NORMALIZATIONS:
            raise ValueError(
                f"unknown normalization {name!r}; choose from {sorted(NORMALIZATIONS)}"
            )
    if not batch_sizes or min(batch_sizes) < 1 or steps < 1 or eval_every < 1 or not seeds:
        raise ValueError("batch sizes, steps and eval_every must be positive; seeds non-empty")
    if any(units % groups for units in hidden):
        raise ValueError(f"groups ({groups}) must divide every hidden layer's width {hidden}")
    width = len(seeds)
    input_dim, classes = data.x_train.shape[1], data.num_classes
    model = _build_race(names, width, input_dim, hidden, classes, groups)
    _glorot_per_seed(model, seeds)
    initial = model.get_weights()  # kernels, gammas, betas and every BN statistic
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_step(x: Any, y: Any) -> None:
        with tf.GradientTape() as tape:
            # The loss is a mean over samples and branches; times the number of branches per
            # variant it is the sum of each branch's own mean loss.
            outputs = _as_list(model(x, training=True))
            loss = tf.add_n([loss_fn(y, logits) for logits in outputs]) * width
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, width, input_dim], tf.float32),
            tf.TensorSpec([None, None, width], tf.int64),
        ]
    )
    def train_steps(xs: Any, ys: Any) -> None:  # several steps in one call: less overhead
        for i in tf.range(tf.shape(xs)[0]):
            train_step(xs[i], ys[i])

    x_val = np.repeat(data.x_val[:, np.newaxis, :], width, axis=1)
    measured = list(range(eval_every, steps + 1, eval_every))
    if not measured or measured[-1] != steps:
        measured.append(steps)
    results = {}
    for batch_size in batch_sizes:
        model.set_weights(initial)
        for variable in optimizer.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        optimizer.learning_rate.assign(learning_rate)
        orders = [_batch_indices(len(data.x_train), batch_size, steps, seed) for seed in seeds]
        batches = np.stack(orders, axis=-1)  # (steps, batch_size, seeds)
        curves: dict[str, list[np.ndarray]] = {name: [] for name in names}
        done = 0
        for upto in measured:
            index = batches[done:upto]
            train_steps(tf.constant(data.x_train[index]), tf.constant(data.y_train[index]))
            done = upto
            for name, logits in zip(names, _as_list(model(x_val, training=False)), strict=True):
                predicted = np.argmax(np.asarray(logits), axis=-1)  # (val, seeds)
                curves[name].append((predicted == data.y_val[:, np.newaxis]).mean(axis=0))
        results[int(batch_size)] = RaceResult(
            steps=np.asarray(measured),
            val_accuracy={name: np.stack(curve, axis=1) for name, curve in curves.items()},
            settings={
                "seeds": list(seeds),
                "batch_size": int(batch_size),
                "steps": steps,
                "learning_rate": learning_rate,
                "hidden": list(hidden),
                "groups": groups,
            },
        )
    return results


_RACE_STYLES = {
    "none": ("#666666", "o", ":"),
    "bn": ("#0072B2", "s", "-"),
    "renorm": ("#CC79A7", "^", "--"),
    "layer": ("#009E73", "D", "-."),
    "group": ("#E69F00", "v", "--"),
}


def plot_race(races: dict[int, RaceResult]) -> Any:
    """One panel per batch size: validation accuracy over training, mean and min-max band
    over seeds, one line (color, marker and dash) per normalization. Returns the Figure."""
    from bncourse import plotting

    if not races:
        raise ValueError("races is empty: pass compare_normalizations' result")
    first = next(iter(races.values()))
    seeds = len(first.settings.get("seeds", [])) or len(next(iter(first.val_accuracy.values())))
    fig, axes = plotting.subplots(1, len(races), width=min(9.0, 4.5 * len(races)), sharey=True)
    for ax, (m, race) in zip(axes[0], races.items(), strict=True):
        for name, curves in race.val_accuracy.items():
            color, marker, dash = _RACE_STYLES[name]
            plotting.mean_with_spread(
                ax, race.steps, curves, label=NORMALIZATIONS[name], color=color, marker=marker
            )
            ax.lines[-1].set_linestyle(dash)
        plotting.finish(
            ax,
            title=f"Batch size {m}",
            xlabel="training step",
            ylabel="validation accuracy" if ax is axes[0, 0] else "",
            legend=False,
        )
    axes[0, -1].legend(loc="lower right", fontsize=9)
    fig.suptitle(
        f"The same MLP, {len(first.val_accuracy)} ways ({seeds} seeds, min-max band)", fontsize=11
    )
    return fig


# ---------------------------------------------------------------------------
# The explorer: one sample's output with random batch mates.
# ---------------------------------------------------------------------------


BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
"""The batch sizes ``batch_noise_explorer`` offers."""


_NOISE_BATCHES = 300
_NOISE_EDGES = np.linspace(-3.5, 3.5, 41)  # 40 bins; a batch of two gives values near ±1


def setup_batch_noise(
    x: Any, batch_size: int = 4, *, sample: int = 0, feature: int = 0
) -> tuple[Any, Any]:
    """The explorer's figure, built once: a histogram of one sample's BN output (one
    feature) over 300 random batches, with LayerNorm's output (the same in every batch) as
    a line. Returns ``(figure, update)``; ``update(batch_size=...)`` redraws the histogram
    and the titles in place (``bncourse.lab.explorer.LiveFigure``). The axes keep one scale
    for every batch size: all 300 batches in one bin (a batch of one) still fit under the
    legend, so the histograms of different batch sizes compare directly."""
    from bncourse import plotting

    x = np.asarray(x, dtype=np.float32)
    ln = sample_outputs(x, sample, 1, method="layer", batches=1)[0]
    counts: dict[int, tuple[np.ndarray, float]] = {}  # batch size -> (histogram, std)

    def histogram(batch_size: int) -> tuple[np.ndarray, float]:
        if batch_size not in counts:
            bn = sample_outputs(
                x, sample, batch_size, method="bn", batches=_NOISE_BATCHES, seed=batch_size
            )[:, feature]
            counts[batch_size] = (np.histogram(bn, bins=_NOISE_EDGES)[0], float(bn.std()))
        return counts[batch_size]

    fig, axes = plotting.subplots(1, 1, width=6.5)
    ax = axes[0, 0]
    bars = ax.stairs(
        np.zeros(len(_NOISE_EDGES) - 1),
        _NOISE_EDGES,
        fill=True,
        color=plotting.COLORS["with_bn"],
        alpha=0.8,
        label=" ",
    )
    ln_line = ax.axvline(
        ln[feature],
        color=plotting.COLORS["alt"],
        lw=2.5,
        label="LayerNorm (the same in every batch)",
    )
    ax.set_xlim(_NOISE_EDGES[0] - 0.3, _NOISE_EDGES[-1] + 0.3)
    ax.set_ylim(0, 1.3 * _NOISE_BATCHES)  # room for the legend above the tallest bin
    plotting.finish(
        ax, title=" ", xlabel="normalized value", ylabel="number of batches", legend=False
    )
    legend = ax.legend(loc="upper left")

    def update(batch_size: int = 4) -> list[Any]:
        values, std = histogram(batch_size)
        bars.set_data(values)
        legend.get_texts()[0].set_text(
            f"BN, training mode (std {std:.2f} over {_NOISE_BATCHES} batches)"
        )
        ax.title.set_text(
            f"Sample {sample}, feature {feature}: output in {_NOISE_BATCHES} random batches"
            f" of {batch_size}"
        )
        # The legend sits over the data and says the spread; LayerNorm's line stays in front
        # of the histogram.
        return [bars, ln_line, legend, ax.title]

    return fig, update


def batch_noise_explorer(x: Any, *, sample: int = 0, feature: int = 0) -> Explorer:
    """Move the batch size and watch BN's output for one fixed sample spread or narrow."""
    import ipywidgets as widgets

    x = np.asarray(x, dtype=np.float32)
    sizes = [m for m in BATCH_SIZES if m <= len(x)]
    controls = {
        "batch_size": widgets.SelectionSlider(options=sizes, value=4, description="batch size")
    }
    return explorer(
        controls=controls,
        live=lambda batch_size: setup_batch_noise(x, batch_size, sample=sample, feature=feature),
        title="One sample, many batches",
        description="The same input, normalized with the statistics of different batch mates.",
    )
