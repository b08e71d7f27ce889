"""Comparisons and sweeps for the lessons that measure BN (07 placement, 08 benefits).

Everything here trains through ``bncourse.lab.training.Trainer`` (one traced training step per
architecture, fresh weights per seed) and returns plain NumPy arrays, so a lesson can
print a number, state a claim about it and plot it without touching Keras. The plotting
helpers draw the figures those lessons share. TensorFlow and matplotlib are imported
only inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bncourse.data import DataSplit
from bncourse.lab.training import Run, Trainer, stack
from bncourse.plotting import COLORS

__all__ = [
    "Sweep",
    "VarianceShift",
    "compare",
    "sweep",
    "final",
    "steps_to",
    "probe_drift",
    "spread",
    "describe",
    "overlap",
    "test_as_validation",
    "variance_shift",
    "recalibrate",
    "ShiftStudy",
    "shift_study",
    "layer_input",
    "layer_sequence",
    "skewness",
    "working_range",
    "color_for",
    "plot_curves",
    "plot_shift_ratios",
    "plot_sweep",
    "plot_percentiles",
]

SWEEPABLE = ("learning_rate", "batch_size", "init_scale")
_ORDER = ("with_bn", "without_bn", "alt", "alt2", "highlight", "light", "neutral")


def color_for(index: int, label: str, colors: Mapping[str, str] | None = None) -> str:
    """The color a variant gets: ``colors[label]`` if given, else the course palette in order."""
    return (colors or {}).get(label) or COLORS[_ORDER[index % len(_ORDER)]]


def compare(
    trainers: Mapping[str, Trainer], data: DataSplit, seeds: Sequence[int], **settings: Any
) -> dict[str, list[Run]]:
    """Train every variant with the same seeds and settings: ``{label: [run per seed]}``.

    With the same seed, every variant sees the same mini-batches in the same order, so
    the variants differ only in their architecture (and their random initial weights).
    """
    return {label: trainer.runs(data, seeds, **settings) for label, trainer in trainers.items()}


@dataclass
class Sweep:
    """Runs of one architecture over the values of one setting: ``runs[value][seed]``."""

    setting: str
    values: tuple[float, ...]
    seeds: tuple[int, ...]
    runs: list[list[Run]]

    def final(self, metric: str = "val_accuracy") -> np.ndarray:
        """(values, seeds) array of ``metric`` at the last evaluation (NaN if diverged)."""
        return np.array([[getattr(run, metric)[-1] for run in row] for row in self.runs])

    def diverged(self) -> np.ndarray:
        """(values, seeds) boolean array: which runs ended with a non-finite loss."""
        return np.array([[run.diverged for run in row] for row in self.runs])

    def curves(self, value: float, metric: str = "val_accuracy") -> np.ndarray:
        """(seeds, evaluations) array of ``metric`` over training at one swept value."""
        return stack(self.runs[self.values.index(value)], metric)

    def steps(self) -> np.ndarray:
        return self.runs[0][0].steps


def sweep(
    trainer: Trainer,
    data: DataSplit,
    setting: str,
    values: Sequence[float],
    seeds: Sequence[int],
    **settings: Any,
) -> Sweep:
    """Train ``trainer``'s architecture for every value of ``setting`` and every seed.

    ``setting`` is one of ``"learning_rate"``, ``"batch_size"`` or ``"init_scale"``; the
    other ``settings`` (steps, eval_every, ...) are passed to ``Trainer.run`` unchanged.
    """
    if setting not in SWEEPABLE:
        raise ValueError(f"setting must be one of {SWEEPABLE}; got {setting!r}")
    if not values or not seeds:
        raise ValueError("a sweep needs at least one value and one seed")
    runs = [trainer.runs(data, seeds, **{**settings, setting: value}) for value in values]
    return Sweep(setting, tuple(values), tuple(int(s) for s in seeds), runs)


def working_range(result: Sweep, threshold: float = 0.5) -> tuple[float, float]:
    """The smallest and largest swept values at which every seed reached validation
    accuracy ``threshold`` (NaN, NaN if none did). Diverged runs count as failures."""
    ok = np.nan_to_num(result.final(), nan=0.0) >= threshold
    working = [value for value, row in zip(result.values, ok, strict=True) if row.all()]
    if not working:
        return float("nan"), float("nan")
    return float(min(working)), float(max(working))


def final(runs: Sequence[Run], metric: str = "val_accuracy") -> np.ndarray:
    """``metric`` at the last evaluation of each run (one number per seed)."""
    return np.array([getattr(run, metric)[-1] for run in runs], dtype=np.float64)


def steps_to(runs: Sequence[Run], target: float) -> np.ndarray:
    """Optimizer steps each run needed to reach validation accuracy ``target`` (NaN: never)."""
    return np.array([run.steps_to(target) for run in runs], dtype=np.float64)


def probe_drift(run: Run, after: int = 0) -> tuple[float, float]:
    """How much the probed distribution moves once the first ``after`` steps are over:
    (range of its median, range of its 15th-to-85th-percentile width) over the evaluations."""
    if run.probe is None:
        raise ValueError("this run recorded no probe; build the Trainer with probe=...")
    later = run.probe[run.steps >= after]
    if not len(later):
        raise ValueError(f"no evaluation at or after step {after}")
    median, width = later[:, 1], later[:, 2] - later[:, 0]
    return float(np.ptp(median)), float(np.ptp(width))


def spread(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """(mean, lowest, highest) of one number measured over several seeds."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.min()), float(values.max())


def describe(values: Sequence[float] | np.ndarray, digits: int = 3) -> str:
    """``'0.962 (seeds: 0.955 to 0.969)'``: the mean and the range over seeds."""
    mean, low, high = spread(values)
    return f"{mean:.{digits}f} (seeds: {low:.{digits}f} to {high:.{digits}f})"


def overlap(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> bool:
    """Whether the ranges over seeds of two measurements overlap (a difference within noise)."""
    _, low_a, high_a = spread(a)
    _, low_b, high_b = spread(b)
    return low_a <= high_b and low_b <= high_a


def test_as_validation(data: DataSplit) -> DataSplit:
    """The same split with the test set in the validation slot, so a run reports test accuracy."""
    return dataclasses.replace(data, x_val=data.x_test, y_val=data.y_test)


test_as_validation.__test__ = False  # not a pytest test, despite its name


@dataclass(frozen=True)
class VarianceShift:
    """What one BN layer was told to expect, and what its input really does (per unit).

    ``moving``: the layer's moving variance (collected during training, used at inference).
    ``training``: the variance of its input with the network in training mode (Dropout on).
    ``inference``: the variance of its input with the network in inference mode (Dropout
    off), the variance the moving variance is supposed to match at inference.
    """

    layer: str
    moving: np.ndarray
    training: np.ndarray
    inference: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """Per unit: inference variance / moving variance (1.0 means no shift)."""
        return self.inference / self.moving

    @property
    def median_ratio(self) -> float:
        """The median ratio over the units that vary at inference (a unit that is constant,
        such as a dead ReLU feeding BN, has ratio 0 and says nothing about the shift)."""
        live = self.inference > 1e-8
        return float(np.median(self.ratio[live])) if live.any() else float("nan")


def _bn_layers(trainer: Trainer) -> list[Any]:
    import keras

    return [
        layer
        for layer in trainer.model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def variance_shift(trainer: Trainer, x: np.ndarray) -> list[VarianceShift]:
    """For every BN layer of ``trainer``'s model (its current weights), compare the moving
    variance with the variance of the layer's input on ``x`` in training and inference mode.
    The model is left as it was (moving statistics and Dropout seeds are restored).
    """
    import keras

    model = trainer.model
    layers = _bn_layers(trainer)
    if not layers:
        raise ValueError("the model has no BatchNormalization layer")
    moving = [layer.moving_variance.numpy().astype(np.float64) for layer in layers]
    state = [variable.numpy().copy() for variable in model.non_trainable_variables]
    probe = keras.Model(model.inputs[0], [layer.input for layer in layers])
    x = np.asarray(x, dtype=np.float32)
    in_inference = [np.asarray(v) for v in probe(x, training=False)]
    in_training = [np.asarray(v) for v in probe(x, training=True)]  # after: it has side effects
    for variable, value in zip(model.non_trainable_variables, state, strict=True):
        variable.assign(value)  # a training-mode call updates moving statistics: undo it
    return [
        VarianceShift(
            layer=layer.name,
            moving=moving_variance,
            training=train.var(axis=0).astype(np.float64),
            inference=infer.var(axis=0).astype(np.float64),
        )
        for layer, moving_variance, train, infer in zip(
            layers, moving, in_training, in_inference, strict=True
        )
    ]


def layer_input(trainer: Trainer, layer: str, x: np.ndarray, training: bool = False) -> np.ndarray:
    """What the layer named ``layer`` receives on ``x`` (inference mode unless ``training``).

    In training mode BN uses the batch statistics of ``x``; the moving statistics and
    Dropout seeds are put back afterwards, so looking does not change the model.
    """
    import keras

    model = trainer.model
    state = [variable.numpy().copy() for variable in model.non_trainable_variables]
    probe = keras.Model(model.inputs[0], model.get_layer(layer).input)
    values = np.asarray(probe(np.asarray(x, dtype=np.float32), training=training))
    for variable, value in zip(model.non_trainable_variables, state, strict=True):
        variable.assign(value)
    return values


def skewness(values: np.ndarray) -> np.ndarray:
    """The skewness of each column (unit) of ``values``: 0 for a symmetric distribution,
    positive for a long right tail (such as a ReLU's output). Constant columns give 0."""
    values = np.asarray(values, dtype=np.float64)
    centered = values - values.mean(axis=0)
    std = values.std(axis=0)
    third = (centered**3).mean(axis=0)
    return np.divide(third, std**3, out=np.zeros_like(third), where=std > 0)


def layer_sequence(function: Any) -> list[str]:
    """The Keras layer classes a model-building function calls, in source order.

    Reads the function's source code (e.g. a block of a Keras Application) and returns the
    names in calls such as ``layers.Conv2D(`` or ``keras.layers.BatchNormalization(``.
    """
    import inspect
    import re

    source = inspect.getsource(function)
    return re.findall(r"\blayers\.([A-Z]\w*)\(", source)


def recalibrate(trainer: Trainer, x: np.ndarray) -> None:
    """Re-estimate every BN layer's moving mean and variance from ``x`` in inference mode.

    Layer by layer from the input, each BN layer's moving statistics become the mean and
    (biased) variance of what it receives on ``x`` with Dropout off and the earlier BN
    layers already re-estimated: the statistics it will really meet at inference. The
    trained weights (kernels, gamma, beta) are left alone.
    """
    import keras

    model = trainer.model
    x = np.asarray(x, dtype=np.float32)
    for layer in _bn_layers(trainer):
        inputs = np.asarray(keras.Model(model.inputs[0], layer.input)(x, training=False))
        layer.moving_mean.assign(inputs.mean(axis=0).astype(np.float32))
        layer.moving_variance.assign(inputs.var(axis=0).astype(np.float32))


@dataclass
class ShiftStudy:
    """Runs of one BN architecture, with what its BN layers' statistics looked like after
    each run. ``ratio[seed, layer]``: ``VarianceShift.median_ratio`` of each BN layer.
    ``recalibrated[seed]``: validation accuracy after ``recalibrate`` on the training data.
    """

    runs: list[Run]
    layers: tuple[str, ...]
    ratio: np.ndarray
    recalibrated: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        return final(self.runs)


def shift_study(
    trainer: Trainer, data: DataSplit, seeds: Sequence[int], **settings: Any
) -> ShiftStudy:
    """Train once per seed; after each run measure the variance shift of every BN layer on
    the validation inputs, then re-estimate the moving statistics and measure again."""
    runs, ratios, recalibrated = [], [], []
    for seed in seeds:
        run = trainer.run(data, seed=seed, **settings)
        shifts = variance_shift(trainer, data.x_val)
        ratios.append([shift.median_ratio for shift in shifts])
        recalibrate(trainer, data.x_train)
        recalibrated.append(trainer.accuracy(data.x_val, data.y_val))
        runs.append(run)
    layers = tuple(layer.name for layer in _bn_layers(trainer))
    return ShiftStudy(runs, layers, np.array(ratios), np.array(recalibrated))


# ----------------------------------------------------------------------------- plotting


MARKERS = ("o", "s", "^", "D", "v", "P")
"""Markers that tell variants apart without relying on color (the course guide asks for it)."""
LINESTYLES = ("-", "--", ":", "-.")


def plot_curves(
    ax: Any,
    results: Mapping[str, Sequence[Run]],
    metric: str = "val_accuracy",
    *,
    colors: Mapping[str, str] | None = None,
    each_seed: bool = False,
) -> None:
    """Mean over seeds with a min-max band for each variant, against optimizer steps.

    ``each_seed=True`` draws every seed's curve as a thin line instead of the band.
    """
    from bncourse import plotting

    for index, (label, runs) in enumerate(results.items()):
        color = color_for(index, label, colors)
        marker, style = MARKERS[index % len(MARKERS)], LINESTYLES[index % len(LINESTYLES)]
        values = stack(runs, metric)
        steps = runs[0].steps
        if each_seed:
            for row in values:
                ax.plot(steps, row, color=color, linestyle=style, linewidth=1, alpha=0.8)
            ax.plot([], [], color=color, linestyle=style, label=f"{label} ({len(runs)} seeds)")
        else:
            plotting.mean_with_spread(ax, steps, values, label=label, color=color, marker=marker)


def plot_sweep(
    ax: Any,
    sweeps: Mapping[str, Sweep],
    metric: str = "val_accuracy",
    *,
    colors: Mapping[str, str] | None = None,
    log_x: bool = True,
) -> None:
    """Final ``metric`` against the swept value, mean with a min-max band per variant.

    A diverged run counts as accuracy 0.1 (chance on ten classes) so it pulls the mean
    down instead of vanishing from it; a cross marks each value where some run diverged.
    """
    from bncourse import plotting

    for index, (label, result) in enumerate(sweeps.items()):
        color = color_for(index, label, colors)
        values = result.final(metric)
        diverged = result.diverged()
        if metric.endswith("accuracy"):
            values = np.where(diverged, 0.1, values)
        marker = MARKERS[index % len(MARKERS)]
        plotting.mean_with_spread(
            ax, result.values, values.T, label=label, color=color, marker=marker
        )
        bad = diverged.any(axis=1)
        if bad.any():
            xs = np.asarray(result.values)[bad]
            ax.plot(xs, np.nanmean(values[bad], axis=1), "x", color=color, markersize=10)
    if log_x:
        ax.set_xscale("log")
    values = next(iter(sweeps.values())).values if sweeps else ()
    ax.set_xticks(values, [f"{value:g}" for value in values])
    ax.minorticks_off()


def plot_percentiles(ax: Any, run: Run, *, color: str | None = None, label: str = "") -> None:
    """The 15th, 50th and 85th percentiles of the probed input over training (Run.probe)."""
    if run.probe is None:
        raise ValueError("this run recorded no probe; build the Trainer with probe=...")
    names, styles = ("15th", "50th", "85th"), ("--", "-", ":")
    for column, (name, style) in enumerate(zip(names, styles, strict=True)):
        text = f"{label}: {name} percentile" if label else f"{name} percentile"
        ax.plot(run.steps, run.probe[:, column], style, color=color, label=text)


def plot_shift_ratios(
    ax: Any, studies: Mapping[str, ShiftStudy], *, colors: Mapping[str, str] | None = None
) -> None:
    """Bars: per BN layer, the median over units of inference / moving variance (mean over
    seeds, with the lowest and highest seed as error bars). 1.0 means no variance shift."""
    width = 0.8 / max(len(studies), 1)
    for index, (label, study) in enumerate(studies.items()):
        mean = study.ratio.mean(axis=0)
        low, high = study.ratio.min(axis=0), study.ratio.max(axis=0)
        positions = np.arange(len(mean)) + (index - (len(studies) - 1) / 2) * width
        ax.bar(
            positions,
            mean,
            width,
            yerr=[mean - low, high - mean],
            color=color_for(index, label, colors),
            label=label,
            capsize=3,
        )
    layers = max((study.layers for study in studies.values()), key=len)
    ax.set_xticks(np.arange(len(layers)), layers)
    ax.axhline(1.0, color=COLORS["neutral"], linewidth=1, linestyle="--")
