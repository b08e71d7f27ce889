"""Lesson 02 (why normalize activations): activations and gradients inside a deep network.

A small multilayer perceptron written out in NumPy, forward and backward by hand, so every
intermediate value can be looked at: the input to each nonlinearity, its output, the
gradient arriving at each layer. Optionally each hidden layer normalizes its
pre-activation with Batch Normalization (``bncourse.reference``), placed as in the original
paper: Dense (no bias) -> BN -> nonlinearity.

The diagnostics follow Karpathy's "makemore" notebooks: per-layer histograms, the fraction
of saturated units, and the spread of the gradients layer by layer. ``train`` runs a few
hundred steps of plain SGD and records how the input distribution of one layer moves, with
an option to inject a random shift and rescaling after every BN layer (the experiment of
Santurkar et al., 2018, Section 2.1, in miniature).

The loss landscape along the gradient (their Section 3.1, in miniature): ``loss_and_gradient``
turns a network and one batch into a function of a parameter vector, ``probe_along_gradient``
moves down the gradient by several step sizes (or distances) and records the loss, the change
of the gradient and their ratio to the distance moved, and ``smoothness_experiment`` does so
during training, with and without BN.

The explorer (``activations_explorer``): the learner picks the nonlinearity, the weight
scale, the depth and whether each hidden layer uses BN, and sees per layer the histogram of
what comes out of the nonlinearity, the histogram of the gradient arriving there (as
orders of magnitude), and the gradient's spread against depth.

Arithmetic is float64 inside; arrays handed back are float32. matplotlib and ipywidgets
are imported only when a figure or an explorer is built.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bncourse import reference as ref
from bncourse.seeding import resolve
from bncourse.validation import float64_array

__all__ = [
    "ACTIVATIONS",
    "SATURATION_LEVEL",
    "activate",
    "local_gradient",
    "saturated_fraction",
    "TANH_SATURATION_THRESHOLD",
    "layer_saturation",
    "layer_spread",
    "Shift",
    "random_shift",
    "DeepMLP",
    "Pass",
    "TrainingRecord",
    "train",
    "measure_settings",
    "SHIFT_VARIANTS",
    "ShiftExperiment",
    "shift_experiment",
    "SMOOTHNESS_VERSIONS",
    "flat_parameters",
    "loss_and_gradient",
    "GradientProbe",
    "probe_along_gradient",
    "SmoothnessExperiment",
    "smoothness_experiment",
    "draw_smoothness_experiment",
    "draw_gradient_profiles",
    "draw_shift_experiment",
    "plot_layer_histograms",
    "draw_layer_statistics",
    "digit_batch",
    "MAX_DEPTH",
    "setup_layers",
    "activation_explorer",
]


ACTIVATIONS = ("tanh", "sigmoid", "relu")

SATURATION_LEVEL = 0.05
"""A unit counts as saturated when its local gradient f'(z) is below 5% of f's largest."""

_MAX_SLOPE = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}


def _activation_name(activation: Any) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    return activation


def activate(z: Any, activation: str) -> np.ndarray:
    """``tanh(z)``, ``sigmoid(z) = 1 / (1 + exp(-z))`` or ``relu(z) = max(z, 0)``."""
    activation = _activation_name(activation)
    z = float64_array(z, "z", finite=False)
    return _activate(z, activation).astype(np.float32)


def local_gradient(z: Any, activation: str) -> np.ndarray:
    """``f'(z)``: how much of the gradient a unit passes back at pre-activation ``z``."""
    activation = _activation_name(activation)
    z = float64_array(z, "z", finite=False)
    return _slope(z, _activate(z, activation), activation).astype(np.float32)


def saturated_fraction(z: Any, activation: str) -> float:
    """The fraction of entries of ``z`` where ``f'(z)`` is below 5% of its largest value.

    tanh: ``|tanh(z)|`` above about 0.975; sigmoid: output below about 0.013 or above about
    0.987; relu: every ``z <= 0`` (a switched-off unit passes no gradient at all).
    """
    activation = _activation_name(activation)
    z = float64_array(z, "z", finite=False)
    slope = _slope(z, _activate(z, activation), activation)
    return float(np.mean(slope < SATURATION_LEVEL * _MAX_SLOPE[activation]))


TANH_SATURATION_THRESHOLD = float(np.sqrt(1.0 - SATURATION_LEVEL))
"""``|tanh z|`` above this (about 0.9747) is where tanh's slope ``1 - tanh(z)**2`` drops
below ``SATURATION_LEVEL`` (5%) of its largest value."""


def layer_saturation(outputs: Any, threshold: float = TANH_SATURATION_THRESHOLD) -> np.ndarray:
    """The fraction of each layer's tanh outputs whose magnitude is strictly above
    ``threshold``, counted over every sample and every unit of the layer.

    ``outputs``: a (layers, batch, units) array, or a list of (batch, units) arrays, one per
    layer. Returns float32 of shape (layers,). This is the course's version of lesson 02's
    exercise ``saturated_fraction``; ``Pass.saturation`` uses it for tanh networks.
    """
    stack = float64_array(np.stack([np.asarray(a) for a in outputs]), "outputs", finite=False)
    if stack.ndim != 3:
        raise ValueError(f"outputs must be (layers, batch, units); got shape {stack.shape}")
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite number >= 0; got {threshold}")
    return (np.abs(stack) > threshold).mean(axis=(1, 2)).astype(np.float32)


def layer_spread(outputs: Any) -> np.ndarray:
    """The standard deviation of each layer's outputs, over every sample and every unit of
    the layer together (population, divide by m).

    ``outputs``: a (layers, batch, units) array, or a list of (batch, units) arrays, one per
    layer. Returns float32 of shape (layers,). This is the course's version of lesson 02's
    exercise ``layer_spread``; ``Pass.output_std`` uses it.
    """
    stack = float64_array(np.stack([np.asarray(a) for a in outputs]), "outputs", finite=False)
    if stack.ndim != 3:
        raise ValueError(f"outputs must be (layers, batch, units); got shape {stack.shape}")
    return stack.std(axis=(1, 2)).astype(np.float32)


def _one_blas_thread() -> Any:
    """Run BLAS on one thread. These matrices are small: on a shared two-core machine
    (Binder, CI) extra BLAS threads only wait for each other, which made a 512x100 by
    100x100 product ten times slower here. Falls back to doing nothing without threadpoolctl
    (a dependency of scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, without overflow
    return np.maximum(z, 0.0)


def _slope(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return 1.0 - a * a
    if activation == "sigmoid":
        return a * (1.0 - a)
    return (z > 0).astype(np.float64)


@dataclass(frozen=True)
class Shift:
    """A per-unit rescaling and offset, ``z -> scale * z + offset``, one row per hidden layer."""

    scale: np.ndarray  # (depth, width)
    offset: np.ndarray  # (depth, width)


def random_shift(depth: int, width: int, level: float, rng: np.random.Generator) -> Shift:
    """Every unit gets its own random scale ``exp(U(-level, level))`` and offset
    ``U(-level, level)``: each unit's mean and spread move by a random amount.

    Drawn afresh at every training step, this is deliberate, time-varying "covariate
    shift" after BN (our simplified version of Santurkar et al.'s noise; theirs is
    described in their Appendix A).
    """
    if not np.isfinite(level) or level < 0:
        raise ValueError(f"level must be a finite number >= 0; got {level}")
    scale = np.exp(rng.uniform(-level, level, size=(depth, width)))
    offset = rng.uniform(-level, level, size=(depth, width))
    return Shift(scale, offset)


@dataclass(frozen=True)
class Pass:
    """Everything one forward and backward pass recorded, one list entry per hidden layer.

    ``inputs[l]``: what entered layer ``l``'s nonlinearity (after BN when the network uses
    it); ``outputs[l]``: the nonlinearity's output; ``output_grads[l]``: the gradient of the
    loss with respect to that output; ``grads``: the gradient of every parameter.
    """

    activation: str
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    output_grads: list[np.ndarray]
    grads: dict[str, np.ndarray]
    loss: float

    @property
    def depth(self) -> int:
        return len(self.inputs)

    @property
    def saturation(self) -> np.ndarray:
        """Fraction of saturated units in each hidden layer: ``layer_saturation`` of the
        outputs for tanh, ``saturated_fraction`` of the inputs (the slope) otherwise."""
        if self.activation == "tanh":
            return layer_saturation(self.outputs).astype(np.float64)
        return np.array([saturated_fraction(z, self.activation) for z in self.inputs])

    @property
    def output_std(self) -> np.ndarray:
        """The standard deviation of each hidden layer's output (``layer_spread``)."""
        return layer_spread(self.outputs).astype(np.float64)

    @property
    def gradient_std(self) -> np.ndarray:
        """The standard deviation of the gradient arriving at each hidden layer's output."""
        return np.array([float(np.std(g)) for g in self.output_grads])

    @property
    def gradient_ratio(self) -> float:
        """Gradient std at layer 1 (next to the input) over that at the last hidden layer:
        far below 1 means vanishing gradients, far above 1 exploding ones."""
        spread = self.gradient_std
        return float(spread[0] / spread[-1])

    def table(self) -> str:
        """One line per layer: output mean and std, % saturated, gradient std."""
        lines = ["layer   output mean  output std  saturated  gradient std"]
        for index in range(self.depth):
            a, g = self.outputs[index], self.output_grads[index]
            lines.append(
                f"{index + 1:>5}  {np.mean(a):>11.3f}  {np.std(a):>10.3f}  "
                f"{100 * self.saturation[index]:>8.1f}%  {np.std(g):>12.2e}"
            )
        return "\n".join(lines)


class DeepMLP:
    """``depth`` hidden layers of ``width`` units, then a linear softmax classifier.

    Hidden weights are drawn from ``N(0, (weight_scale / sqrt(fan_in))**2)``: with
    ``weight_scale=1`` a layer keeps the variance of a unit-variance input before the
    nonlinearity (LeCun initialization). The classifier always uses scale 1, so changing
    ``weight_scale`` changes only the hidden layers. With ``batchnorm=True`` every hidden
    layer is Dense without bias -> BN (gamma=1, beta=0 at the start) -> nonlinearity; without,
    Dense with a zero-initialized bias -> nonlinearity.
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        *,
        depth: int = 10,
        width: int = 100,
        activation: str = "tanh",
        weight_scale: float = 1.0,
        batchnorm: bool = False,
        seed: int = 0,
    ) -> None:
        for name, value in (
            ("in_features", in_features),
            ("n_classes", n_classes),
            ("depth", depth),
            ("width", width),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int; got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1; got {value}")
        if not isinstance(weight_scale, (int, float, np.integer, np.floating)) or isinstance(
            weight_scale, bool
        ):
            raise TypeError(f"weight_scale must be a number; got {type(weight_scale).__name__}")
        if not np.isfinite(weight_scale) or weight_scale <= 0:
            raise ValueError(f"weight_scale must be a finite number > 0; got {weight_scale}")
        self.activation = _activation_name(activation)
        self.depth, self.width = int(depth), int(width)
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.weight_scale = float(weight_scale)
        self.batchnorm = bool(batchnorm)
        rng = np.random.default_rng(resolve(seed))
        self.params: dict[str, np.ndarray] = {}
        fan_in = self.in_features
        for layer in range(1, self.depth + 1):
            std = self.weight_scale / np.sqrt(fan_in)
            self.params[f"W{layer}"] = rng.normal(0.0, std, size=(fan_in, self.width))
            if self.batchnorm:
                self.params[f"gamma{layer}"] = np.ones(self.width)
                self.params[f"beta{layer}"] = np.zeros(self.width)
            else:
                self.params[f"b{layer}"] = np.zeros(self.width)
            fan_in = self.width
        self.params["W_out"] = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, n_classes))
        self.params["b_out"] = np.zeros(n_classes)

    def __repr__(self) -> str:
        return (
            f"DeepMLP(depth={self.depth}, width={self.width}, activation={self.activation!r}, "
            f"weight_scale={self.weight_scale:g}, batchnorm={self.batchnorm})"
        )

    def forward_backward(self, x: Any, y: Any, *, shift: Shift | None = None) -> Pass:
        """Softmax cross-entropy on ``(x, y)``, and the gradient of every parameter.

        ``x``: ``(batch, in_features)``; ``y``: integer labels ``(batch,)``. BN layers run in
        training mode (the batch's own statistics). ``shift``, if given, rescales and offsets
        every unit right after BN (or after the Dense layer without BN).
        """
        with _one_blas_thread():
            return self._forward_backward(x, y, shift)

    def _forward_backward(self, x: Any, y: Any, shift: Shift | None) -> Pass:
        x = float64_array(x, "x", finite=False)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (batch, {self.in_features}); got {x.shape}")
        labels = np.asarray(y)
        if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(f"y must hold {x.shape[0]} integer labels; got {labels.shape}")
        if labels.min() < 0 or labels.max() >= self.n_classes:
            raise ValueError(
                f"y must lie in [0, {self.n_classes}); got {labels.min()}..{labels.max()}"
            )

        p = self.params
        h, cache = x, []
        for layer in range(1, self.depth + 1):
            dense = h @ p[f"W{layer}"]
            if self.batchnorm:
                z = ref.batchnorm_forward(dense, p[f"gamma{layer}"], p[f"beta{layer}"]).astype(
                    np.float64
                )
            else:
                z = dense + p[f"b{layer}"]
            if shift is not None:
                z = shift.scale[layer - 1] * z + shift.offset[layer - 1]
            a = _activate(z, self.activation)
            cache.append((h, dense, z, a))
            h = a

        logits = h @ p["W_out"] + p["b_out"]
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        loss = float(-log_probs[rows, labels].mean())

        grads: dict[str, np.ndarray] = {}
        d_logits = np.exp(log_probs)
        d_logits[rows, labels] -= 1.0
        d_logits /= len(labels)
        grads["W_out"] = h.T @ d_logits
        grads["b_out"] = d_logits.sum(axis=0)
        d_a = d_logits @ p["W_out"].T
        output_grads: list[np.ndarray] = [np.empty(0)] * self.depth
        for layer in range(self.depth, 0, -1):
            h_in, dense, z, a = cache[layer - 1]
            output_grads[layer - 1] = d_a
            d_z = d_a * _slope(z, a, self.activation)
            if shift is not None:
                d_z = d_z * shift.scale[layer - 1]
            if self.batchnorm:
                d_dense, d_gamma, d_beta = ref.batchnorm_backward(d_z, dense, p[f"gamma{layer}"])
                d_dense = d_dense.astype(np.float64)
                grads[f"gamma{layer}"] = d_gamma.astype(np.float64)
                grads[f"beta{layer}"] = d_beta.astype(np.float64)
            else:
                d_dense = d_z
                grads[f"b{layer}"] = d_z.sum(axis=0)
            grads[f"W{layer}"] = h_in.T @ d_dense
            d_a = d_dense @ p[f"W{layer}"].T

        return Pass(
            activation=self.activation,
            inputs=[c[2].astype(np.float32) for c in cache],
            outputs=[c[3].astype(np.float32) for c in cache],
            output_grads=[g.astype(np.float32) for g in output_grads],
            grads={name: g.astype(np.float32) for name, g in grads.items()},
            loss=loss,
        )

    def sgd_step(self, grads: dict[str, np.ndarray], learning_rate: float) -> None:
        """``param -= learning_rate * grad`` for every parameter (in place: this is training)."""
        for name, grad in grads.items():
            self.params[name] = self.params[name] - learning_rate * grad


@dataclass(frozen=True)
class TrainingRecord:
    """What ``train`` measured.

    ``losses[t]``: the training-batch loss at step ``t``. Every ``record_every`` steps
    (at ``recorded_steps``) a fixed probe batch goes through the network; ``unit_means`` and
    ``unit_stds`` (``(records, width)``) hold the mean and standard deviation of each unit's
    nonlinearity input in the probed layer, and ``percentiles`` (``(records, 3)``) the
    15th, 50th and 85th percentiles of the first unit's (as in Ioffe & Szegedy's Figure 1).
    """

    losses: np.ndarray
    recorded_steps: np.ndarray
    unit_means: np.ndarray
    unit_stds: np.ndarray
    percentiles: np.ndarray

    @property
    def distribution_shift(self) -> float:
        """How far the probed layer's input distribution moves between records: the mean
        over units and over consecutive records of ``|change of mean| + |change of std|``."""
        moved = np.abs(np.diff(self.unit_means, axis=0)) + np.abs(np.diff(self.unit_stds, axis=0))
        return float(moved.mean())

    def smoothed_losses(self, window: int = 20) -> np.ndarray:
        """The training loss averaged over ``window`` consecutive steps; entry ``i`` is the
        mean over steps ``i .. i + window - 1``, so the array is ``window - 1`` shorter."""
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int; got {window!r}")
        if window > len(self.losses):
            raise ValueError(f"window must be at most the {len(self.losses)} recorded steps")
        return np.convolve(self.losses, np.ones(window) / window, mode="valid")

    def steps_to_loss(self, level: float, window: int = 20) -> int | None:
        """The number of steps taken when the ``window``-step average loss first falls
        below ``level`` (``None`` if it never does): a training-speed measure."""
        below = np.flatnonzero(self.smoothed_losses(window) < level)
        return int(below[0]) + window if below.size else None


def train(
    net: DeepMLP,
    x: Any,
    y: Any,
    *,
    steps: int = 300,
    learning_rate: float = 0.5,
    batch_size: int = 64,
    shift_level: float = 0.0,
    probe_layer: int = -1,
    probe_size: int = 256,
    record_every: int = 10,
    seed: int = 0,
) -> TrainingRecord:
    """Plain minibatch SGD on ``(x, y)``, recording the loss and one layer's input statistics.

    ``shift_level > 0`` draws a fresh ``random_shift`` at every step and applies it after
    every BN layer (or Dense layer), in training and in the probe alike. ``probe_layer``
    indexes the hidden layers (``-1``: the last). Modifies ``net`` (it is trained).
    """
    if not isinstance(net, DeepMLP):
        raise TypeError(f"net must be a DeepMLP; got {type(net).__name__}")
    x = float64_array(x, "x", finite=False)
    labels = np.asarray(y)
    if not -net.depth <= probe_layer < net.depth:
        raise ValueError(
            f"probe_layer must index one of the {net.depth} hidden layers; got {probe_layer}"
        )
    for name, value in (
        ("steps", steps),
        ("batch_size", batch_size),
        ("record_every", record_every),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate}")
    if not np.isfinite(shift_level) or shift_level < 0:
        raise ValueError(f"shift_level must be a finite number >= 0; got {shift_level}")
    rng = np.random.default_rng(resolve(seed))
    probe = x[: min(probe_size, len(x))]
    probe_labels = labels[: len(probe)]
    losses = np.empty(steps)
    recorded, means, stds, percentiles = [], [], [], []
    with _one_blas_thread():
        for step in range(steps):
            shift = (
                random_shift(net.depth, net.width, shift_level, rng) if shift_level > 0 else None
            )
            rows = rng.integers(0, len(x), size=batch_size)
            result = net._forward_backward(x[rows], labels[rows], shift)
            losses[step] = result.loss
            if step % record_every == 0 or step == steps - 1:
                z = net._forward_backward(probe, probe_labels, shift).inputs[probe_layer]
                recorded.append(step)
                means.append(z.mean(axis=0))
                stds.append(z.std(axis=0))
                percentiles.append(np.percentile(z[:, 0], [15, 50, 85]))
            net.sgd_step(result.grads, learning_rate)
    return TrainingRecord(
        losses=losses,
        recorded_steps=np.array(recorded),
        unit_means=np.array(means),
        unit_stds=np.array(stds),
        percentiles=np.array(percentiles),
    )


def measure_settings(
    x: Any,
    y: Any,
    *,
    settings: Any,
    batchnorm: bool = False,
    depth: int = 10,
    width: int = 100,
    seed: int = 0,
) -> dict[tuple[str, float], Pass]:
    """One forward and backward pass of a fresh ``DeepMLP`` per ``(activation, weight
    scale)`` pair in ``settings``, all with the same depth, width, BN choice and seed.

    Returns ``{(activation, weight_scale): Pass}`` in the order of ``settings``.
    """
    x = float64_array(x, "x", finite=False)
    labels = np.asarray(y)
    n_classes = int(labels.max()) + 1 if labels.size else 1
    passes: dict[tuple[str, float], Pass] = {}
    for activation, weight_scale in settings:
        net = DeepMLP(
            x.shape[1],
            n_classes,
            depth=depth,
            width=width,
            activation=activation,
            weight_scale=weight_scale,
            batchnorm=batchnorm,
            seed=seed,
        )
        passes[activation, weight_scale] = net.forward_backward(x, labels)
    return passes


SHIFT_VARIANTS: dict[str, dict[str, Any]] = {
    "no BN": {"batchnorm": False, "shift_level": 0.0},
    "BN": {"batchnorm": True, "shift_level": 0.0},
    "BN + injected shift": {"batchnorm": True, "shift_level": 0.5},
}
"""Lesson 02's three versions: Dense -> sigmoid; Dense -> BN -> sigmoid; and BN followed
by a fresh ``random_shift`` of level 0.5 at every step."""


@dataclass(frozen=True)
class ShiftExperiment:
    """Training records of each version, one per seed (``records[version][i]`` for
    ``seeds[i]``), and the measures lesson 02 reads from them, one value per seed."""

    records: dict[str, list[TrainingRecord]]
    seeds: tuple[int, ...]
    loss_level: float
    window: int

    def steps_to_loss(self) -> dict[str, np.ndarray]:
        """Per version and seed: steps until the ``window``-step average training loss
        first falls below ``loss_level`` (``inf`` when it never does)."""
        return {
            name: np.array(
                [
                    np.inf
                    if (steps := r.steps_to_loss(self.loss_level, self.window)) is None
                    else float(steps)
                    for r in runs
                ]
            )
            for name, runs in self.records.items()
        }

    def final_losses(self, last: int = 50) -> dict[str, np.ndarray]:
        """Per version and seed: the mean training loss over the ``last`` steps."""
        return {
            name: np.array([float(r.losses[-last:].mean()) for r in runs])
            for name, runs in self.records.items()
        }

    def distribution_shifts(self) -> dict[str, np.ndarray]:
        """Per version and seed: ``TrainingRecord.distribution_shift`` of the probed layer."""
        return {
            name: np.array([r.distribution_shift for r in runs])
            for name, runs in self.records.items()
        }

    def table(self) -> str:
        """One line per version and seed, then the mean over seeds."""
        speed, final, shift = self.steps_to_loss(), self.final_losses(), self.distribution_shifts()
        lines = [
            f"{'version':>20}  {'seed':>5}  {f'steps to loss < {self.loss_level:g}':>17}  "
            f"{'loss, last 50 steps':>19}  {'distribution shift':>18}"
        ]
        for name in self.records:
            rows = list(zip(self.seeds, speed[name], final[name], shift[name], strict=True))
            rows.append(("mean", speed[name].mean(), final[name].mean(), shift[name].mean()))
            for seed, steps, loss, moved in rows:
                lines.append(
                    f"{name:>20}  {seed!s:>5}  {steps:>17.0f}  {loss:>19.3f}  {moved:>18.3f}"
                )
        return "\n".join(lines)


def shift_experiment(
    x: Any,
    y: Any,
    *,
    variants: dict[str, dict[str, Any]] | None = None,
    seeds: Any = range(3),
    steps: int = 300,
    depth: int = 3,
    width: int = 64,
    activation: str = "sigmoid",
    learning_rate: float = 0.5,
    batch_size: int = 32,
    loss_level: float = 1.0,
    window: int = 20,
) -> ShiftExperiment:
    """Train every version in ``variants`` (default ``SHIFT_VARIANTS``) once per seed.

    Each run is a fresh ``DeepMLP(depth, width, activation, batchnorm=...)`` initialized
    with the seed and trained by ``train(..., shift_level=..., seed=seed)``, so the versions
    share their seeds. Every seed goes through ``bncourse.seeding.resolve``.
    """
    variants = SHIFT_VARIANTS if variants is None else variants
    seeds = tuple(int(seed) for seed in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    x = float64_array(x, "x", finite=False)
    labels = np.asarray(y)
    records: dict[str, list[TrainingRecord]] = {}
    for name, variant in variants.items():
        unknown = set(variant) - {"batchnorm", "shift_level"}
        if unknown:
            raise ValueError(f"variant {name!r} has unknown settings {sorted(unknown)}")
        records[name] = []
        for seed in seeds:
            net = DeepMLP(
                x.shape[1],
                int(labels.max()) + 1,
                depth=depth,
                width=width,
                activation=activation,
                batchnorm=bool(variant.get("batchnorm", False)),
                seed=seed,
            )
            records[name].append(
                train(
                    net,
                    x,
                    labels,
                    steps=steps,
                    learning_rate=learning_rate,
                    batch_size=batch_size,
                    shift_level=float(variant.get("shift_level", 0.0)),
                    seed=seed,
                )
            )
    return ShiftExperiment(records, seeds, float(loss_level), int(window))


# ---------------------------------------------------------------------------
# The loss landscape along the gradient (lesson 02, section 8): a miniature of the
# measurements of Santurkar et al. (2018), Section 3.1 and Figure 4.
# ---------------------------------------------------------------------------

SMOOTHNESS_VERSIONS = ("no BN", "BN")
"""The two networks ``smoothness_experiment`` compares: Dense -> ReLU, Dense -> BN -> ReLU."""


def flat_parameters(net: DeepMLP) -> np.ndarray:
    """Every parameter of ``net`` in one float64 vector (a copy), in ``net.params`` order."""
    if not isinstance(net, DeepMLP):
        raise TypeError(f"net must be a DeepMLP; got {type(net).__name__}")
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in net.params.values()])


def loss_and_gradient(
    net: DeepMLP, x: Any, y: Any
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """A function of a parameter vector (laid out as ``flat_parameters``) that returns the
    loss of ``net``'s architecture with those parameters on the batch ``(x, y)`` and the
    gradient as a float64 vector. The batch is fixed: every call sees the same examples (BN
    in training mode uses this batch's statistics). ``net`` itself is never changed."""
    if not isinstance(net, DeepMLP):
        raise TypeError(f"net must be a DeepMLP; got {type(net).__name__}")
    x = float64_array(x, "x", finite=False)
    labels = np.asarray(y)
    names = list(net.params)
    shapes = [net.params[name].shape for name in names]
    sizes = [int(np.prod(shape)) for shape in shapes]
    total = sum(sizes)

    def evaluate(params: np.ndarray) -> tuple[float, np.ndarray]:
        vector = float64_array(params, "params")
        if vector.shape != (total,):
            raise ValueError(f"params must have shape ({total},); got {vector.shape}")
        moved = copy.copy(net)  # shares nothing that changes: params is replaced
        pieces = np.split(vector, np.cumsum(sizes)[:-1])
        moved.params = {
            name: piece.reshape(shape)
            for name, piece, shape in zip(names, pieces, shapes, strict=True)
        }
        result = moved._forward_backward(x, labels, None)
        grad = np.concatenate([result.grads[name].astype(np.float64).ravel() for name in names])
        return result.loss, grad

    return evaluate


@dataclass(frozen=True)
class GradientProbe:
    """What moving from ``params`` along the negative gradient showed, one entry per step.

    ``losses[i]``: the loss at ``params - step_sizes[i] * g`` (g: the gradient at
    ``params``), on the same batch; ``gradient_changes[i]``: the length of the difference
    between the gradient there and g; ``gradient_norm``: the length of g.
    """

    step_sizes: np.ndarray
    loss_at_start: float
    losses: np.ndarray
    gradient_changes: np.ndarray
    gradient_norm: float

    @property
    def step_lengths(self) -> np.ndarray:
        """How far each step moved the parameters: ``step_size * |g|``."""
        return self.step_sizes * self.gradient_norm

    @property
    def loss_range(self) -> float:
        """Highest minus lowest loss met along the way, the starting point included
        ("loss variation", Santurkar et al., Figure 4a)."""
        values = np.append(self.losses, self.loss_at_start)
        return float(np.max(values) - np.min(values))

    @property
    def smoothness(self) -> np.ndarray:
        """Per step: gradient change over step length. This is the course's version of
        lesson 02's exercise ``smoothness_along_gradient``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.gradient_changes / self.step_lengths

    @property
    def effective_smoothness(self) -> float:
        """The largest ``smoothness`` over the steps ("effective beta-smoothness",
        Santurkar et al., Figure 4c)."""
        return float(np.max(self.smoothness))


def probe_along_gradient(
    loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    params: Any,
    *,
    step_sizes: Any = None,
    distances: Any = None,
) -> GradientProbe:
    """Move from ``params`` down the gradient g and measure the loss and the gradient there.

    Give ``step_sizes`` (the points ``params - eta * g``, as an SGD step with learning rate
    eta would reach) or ``distances`` (the points at those lengths from ``params`` along
    -g, whatever g's size), not both. ``loss_and_grad(vector) -> (loss, gradient)`` must
    use one fixed batch, so that every point is judged on the same examples. ``params`` is
    not modified.
    """
    theta = float64_array(params, "params")
    if theta.ndim != 1:
        raise ValueError(f"params must be a 1-D vector; got shape {theta.shape}")
    if (step_sizes is None) == (distances is None):
        raise ValueError("give exactly one of step_sizes and distances")
    name = "step_sizes" if distances is None else "distances"
    amounts = float64_array(step_sizes if distances is None else distances, name)
    if amounts.ndim != 1 or amounts.size == 0 or np.any(amounts <= 0):
        raise ValueError(f"{name} must be a non-empty 1-D array of numbers > 0")
    loss0, g = loss_and_grad(theta)
    g = np.asarray(g, dtype=np.float64)
    norm = float(np.linalg.norm(g))
    if norm == 0.0:
        raise ValueError("the gradient at params is zero: there is no direction to move in")
    etas = amounts if distances is None else amounts / norm
    losses, changes = np.empty(len(etas)), np.empty(len(etas))
    for index, eta in enumerate(etas):
        loss, moved_grad = loss_and_grad(theta - eta * g)
        losses[index] = loss
        changes[index] = np.linalg.norm(np.asarray(moved_grad, dtype=np.float64) - g)
    return GradientProbe(etas, float(loss0), losses, changes, norm)


@dataclass(frozen=True)
class SmoothnessExperiment:
    """Probes of each version (``SMOOTHNESS_VERSIONS``) during training, per seed.

    ``by_step[version][s][c]``: the probe at ``checkpoints[c]`` of seed ``seeds[s]`` along
    ``step_sizes``; ``by_distance`` the same along ``distances``. ``losses[version]``:
    (seeds, steps) training-batch losses.
    """

    seeds: tuple[int, ...]
    checkpoints: tuple[int, ...]
    step_sizes: np.ndarray
    distances: np.ndarray
    learning_rate: float
    by_step: dict[str, list[list[GradientProbe]]]
    by_distance: dict[str, list[list[GradientProbe]]]
    losses: dict[str, np.ndarray]

    def _per_probe(self, kind: str, measure: Callable[[GradientProbe], Any]) -> dict:
        if kind not in ("step", "distance"):
            raise ValueError(f"kind must be 'step' or 'distance'; got {kind!r}")
        probes = self.by_step if kind == "step" else self.by_distance
        return {
            name: np.array([[measure(p) for p in seed] for seed in runs])
            for name, runs in probes.items()
        }

    def loss_ranges(self, kind: str = "step") -> dict[str, np.ndarray]:
        """(seeds, checkpoints): the loss range along the gradient."""
        return self._per_probe(kind, lambda p: p.loss_range)

    def gradient_changes(self, kind: str = "step") -> dict[str, np.ndarray]:
        """(seeds, checkpoints, steps): the change of the gradient at every step."""
        return self._per_probe(kind, lambda p: p.gradient_changes)

    def effective_smoothness(self, kind: str = "step") -> dict[str, np.ndarray]:
        """(seeds, checkpoints): the largest gradient change per unit of step length."""
        return self._per_probe(kind, lambda p: p.effective_smoothness)

    def gradient_norms(self) -> dict[str, np.ndarray]:
        """(seeds, checkpoints): the length of the gradient at each checkpoint."""
        return self._per_probe("step", lambda p: p.gradient_norm)

    def per_seed(self, kind: str = "step", from_step: int = 0) -> dict[str, dict[str, np.ndarray]]:
        """Per version, one number per seed, the mean over the checkpoints at or after
        ``from_step``: ``loss range``, ``gradient change`` (at the largest step) and
        ``effective smoothness``."""
        kept = np.asarray(self.checkpoints) >= from_step
        if not kept.any():
            raise ValueError(f"no checkpoint at or after step {from_step}")
        ranges, changes = self.loss_ranges(kind), self.gradient_changes(kind)
        smooth = self.effective_smoothness(kind)
        return {
            name: {
                "loss range": ranges[name][:, kept].mean(axis=1),
                "gradient change": changes[name][:, kept, -1].mean(axis=1),
                "effective smoothness": smooth[name][:, kept].mean(axis=1),
            }
            for name in ranges
        }

    def ratios(self, kind: str = "step", from_step: int = 0) -> dict[str, np.ndarray]:
        """Per measure of ``per_seed``: the network without BN's value over the BN
        network's, one number per seed (above 1: BN's landscape was the smoother one)."""
        summary = self.per_seed(kind, from_step)
        return {
            measure: summary["no BN"][measure] / summary["BN"][measure] for measure in summary["BN"]
        }

    def table(self) -> str:
        """One line per version and seed, for equal step sizes and for equal distances."""
        lines = []
        for kind, label in (("step", "equal step size"), ("distance", "equal distance")):
            summary = self.per_seed(kind)
            lines.append(
                f"{label + ' (mean over checkpoints)':<40} {'loss range':>10}  "
                f"{'grad change':>11}  {'eff. smoothness':>15}"
            )
            for name, values in summary.items():
                for index, seed in enumerate(self.seeds):
                    lines.append(
                        f"{name:>8}, seed {seed!s:<24} {values['loss range'][index]:>10.3g}  "
                        f"{values['gradient change'][index]:>11.3g}  "
                        f"{values['effective smoothness'][index]:>15.3g}"
                    )
        norms = self.gradient_norms()
        lines.append(f"gradient length |g| per seed, at step {self.checkpoints[0]}:")
        for name, values in norms.items():
            lines.append(f"{name:>8}: " + "  ".join(f"{v:.3g}" for v in values[:, 0]))
        if len(self.checkpoints) > 1:
            lines.append("gradient length |g| per seed, mean over the later checkpoints:")
            for name, values in norms.items():
                later = values[:, 1:].mean(axis=1)
                lines.append(f"{name:>8}: " + "  ".join(f"{v:.3g}" for v in later))
        return "\n".join(lines)


def smoothness_experiment(
    x: Any,
    y: Any,
    *,
    seeds: Any = range(3),
    steps: int = 200,
    checkpoints: Any = (0, 50, 100, 150, 200),
    step_sizes: Any = (0.01, 0.03, 0.1, 0.3, 1.0),
    distances: Any = (0.1, 0.3, 1.0, 3.0),
    depth: int = 6,
    width: int = 64,
    activation: str = "relu",
    learning_rate: float = 0.1,
    batch_size: int = 32,
) -> SmoothnessExperiment:
    """Train a ``DeepMLP`` without and with BN by plain SGD, from the same seeds, and at every
    checkpoint step probe the landscape along the gradient of that step's own batch
    (``probe_along_gradient``, once along ``step_sizes`` and once along ``distances``).

    A checkpoint equal to ``steps`` probes the trained network. Both versions see the same
    batches in the same order. Every seed goes through ``bncourse.seeding.resolve``.
    """
    seeds = tuple(int(seed) for seed in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}")
    marks = tuple(sorted({int(c) for c in checkpoints}))
    if not marks or marks[0] < 0 or marks[-1] > steps:
        raise ValueError(f"checkpoints must lie in [0, {steps}]; got {checkpoints}")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate}")
    etas = float64_array(step_sizes, "step_sizes")
    lengths = float64_array(distances, "distances")
    x = float64_array(x, "x", finite=False)
    labels = np.asarray(y)
    by_step: dict[str, list[list[GradientProbe]]] = {}
    by_distance: dict[str, list[list[GradientProbe]]] = {}
    losses: dict[str, np.ndarray] = {}
    with _one_blas_thread():
        for name in SMOOTHNESS_VERSIONS:
            by_step[name], by_distance[name] = [], []
            losses[name] = np.empty((len(seeds), steps))
            for index, seed in enumerate(seeds):
                net = DeepMLP(
                    x.shape[1],
                    int(labels.max()) + 1,
                    depth=depth,
                    width=width,
                    activation=activation,
                    batchnorm=name == "BN",
                    seed=seed,
                )
                rng = np.random.default_rng(resolve(seed))
                along_step, along_distance = [], []
                for step in range(steps + 1):
                    rows = rng.integers(0, len(x), size=batch_size)
                    if step in marks:
                        evaluate = loss_and_gradient(net, x[rows], labels[rows])
                        theta = flat_parameters(net)
                        along_step.append(probe_along_gradient(evaluate, theta, step_sizes=etas))
                        along_distance.append(
                            probe_along_gradient(evaluate, theta, distances=lengths)
                        )
                    if step == steps:
                        break
                    result = net._forward_backward(x[rows], labels[rows], None)
                    losses[name][index, step] = result.loss
                    net.sgd_step(result.grads, learning_rate)
                by_step[name].append(along_step)
                by_distance[name].append(along_distance)
    return SmoothnessExperiment(
        seeds, marks, etas, lengths, float(learning_rate), by_step, by_distance, losses
    )


def draw_smoothness_experiment(experiment: SmoothnessExperiment) -> Any:
    """Top row: at equal step sizes, the loss range along the gradient, the change of the
    gradient at the largest step, and the effective smoothness, against the training step
    (mean over seeds, min-to-max band). Bottom row: the same at equal distances."""
    from matplotlib import ticker

    from bncourse import plotting

    if not isinstance(experiment, SmoothnessExperiment):
        raise TypeError(
            f"experiment must be a SmoothnessExperiment; got {type(experiment).__name__}"
        )
    figure, axes = plotting.subplots(2, 3, figsize=(9.0, 6.4), sharex=True)
    styles = {
        "no BN": (plotting.COLORS["without_bn"], "o", "--"),
        "BN": (plotting.COLORS["with_bn"], "s", "-"),
    }
    marks = np.asarray(experiment.checkpoints)
    rows = (
        ("step", f"η = {experiment.step_sizes[-1]:g}", "equal step size η"),
        ("distance", f"|ηg| = {experiment.distances[-1]:g}", "equal distance |ηg|"),
    )
    for row, (kind, largest, label) in enumerate(rows):
        panels = (
            (experiment.loss_ranges(kind), f"loss range along −g\n({label})", "loss range"),
            (
                {k: v[:, :, -1] for k, v in experiment.gradient_changes(kind).items()},
                f"gradient change at {largest}\n({label})",
                "|∇L(θ − ηg) − g|",
            ),
            (
                experiment.effective_smoothness(kind),
                f"effective smoothness\n({label})",
                "max |Δ gradient| / |ηg|",
            ),
        )
        for column, (values, title, ylabel) in enumerate(panels):
            ax = axes[row, column]
            for name, runs in values.items():
                color, marker, linestyle = styles[name]
                plotting.mean_with_spread(
                    ax, marks, runs, label=name, color=color, marker=marker, linestyle=linestyle
                )
            ax.set_yscale("log")
            # ticks at 1, 2 and 5 per decade in plain numbers: readable even when a panel
            # spans less than a decade, and cheaper to draw than minor log ticks
            ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_locator(ticker.NullLocator())
            ax.set_xticks(marks)
            plotting.finish(
                ax,
                title=title,
                xlabel="training step" if row == 1 else "",
                ylabel=ylabel,
                legend=False,
            )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=2)
    figure.suptitle("Along the gradient of one batch (line: mean over seeds; band: min to max)")
    return figure


def plot_layer_histograms(
    ax: Any,
    values: list[np.ndarray],
    *,
    title: str,
    xlabel: str,
    saturation: np.ndarray | None = None,
    log_magnitude: bool = False,
    bins: int = 60,
    legend: bool = True,
) -> None:
    """One histogram line per layer (Karpathy's diagnostic), labeled with the layer's
    standard deviation and, when given, its fraction of saturated units.

    ``log_magnitude=True`` histograms ``log10(|value|)`` instead (zeros left out), which
    keeps layers whose values differ by orders of magnitude readable on one axis.
    ``legend=False`` leaves the legend out (``draw_layer_statistics`` names the layers with
    a colorbar and shows the statistics in panels of their own).
    """
    from bncourse import plotting

    shown = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if log_magnitude:
        shown = [np.log10(np.abs(v[v != 0])) for v in shown]
    finite = [v[np.isfinite(v)] for v in shown]
    low = min((float(v.min()) for v in finite if v.size), default=-1.0)
    high = max((float(v.max()) for v in finite if v.size), default=1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    colors = _layer_colors(len(values))
    for index, value in enumerate(finite):
        counts, _ = np.histogram(value, bins=edges, density=True)
        label = f"layer {index + 1}: std {np.std(values[index]):.2g}"
        if saturation is not None:
            label += f", {100 * saturation[index]:.0f}% saturated"
        ax.plot(centers, counts, color=colors[index], label=label, linewidth=1.2)
    plotting.finish(ax, title=title, xlabel=xlabel, ylabel="density", legend=legend)


def _layer_colors(n: int) -> list[Any]:
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    return [cmap(0.9 * i / max(n - 1, 1)) for i in range(n)]


_NETWORK_STYLES = (("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."))


def _network_colors() -> tuple[str, ...]:
    from bncourse import plotting

    return tuple(plotting.COLORS[name] for name in ("with_bn", "without_bn", "alt", "alt2"))


def _layer_colorbar(figure: Any, axes: Any, depth: int, *, cax: Any = None) -> None:
    """One colorbar that names the layer of each histogram line (instead of a legend)."""
    import matplotlib as mpl

    colors = _layer_colors(depth)
    norm = mpl.colors.BoundaryNorm(np.arange(0.5, depth + 1.5), depth)
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=mpl.colors.ListedColormap(colors))
    ticks = np.arange(1, depth + 1) if depth <= 12 else np.unique(np.linspace(1, depth, 6).round())
    if cax is None:
        bar = figure.colorbar(mappable, ax=axes, ticks=ticks, aspect=25, pad=0.02)
    else:
        bar = figure.colorbar(mappable, cax=cax, ticks=ticks)
    bar.set_label("layer (1 = next to the input)")


def _at_least_decades(ax: Any, *, decades: float) -> None:
    """Widen a log-scaled y axis to span at least ``decades`` powers of ten, so that
    differences of a few percent do not fill the panel and look like large effects."""
    low, high = ax.get_ylim()
    span = np.log10(high) - np.log10(low)
    if span < decades:
        middle = 0.5 * (np.log10(high) + np.log10(low))
        ax.set_ylim(10 ** (middle - decades / 2), 10 ** (middle + decades / 2))


def draw_layer_statistics(
    passes: Mapping[str, Pass],
    *,
    quantity: str = "outputs",
    title: str = "",
    width: float = 9.0,
) -> Any:
    """Per-layer histograms, one panel per network (top row), and per-layer summaries of
    the same networks side by side (bottom row).

    ``passes`` maps a short label ("weight scale 0.5") to a ``Pass``; at most four.
    ``quantity="outputs"``: histograms of the nonlinearity's outputs, then each layer's
    output standard deviation and fraction of saturated units. ``quantity="gradients"``:
    histograms of log10 of the gradient's magnitude at each layer's output, then each
    layer's gradient standard deviation. Histogram lines are colored by layer (the
    colorbar names them); the summaries tell the networks apart by marker and line style.
    """
    from bncourse import plotting

    if quantity not in ("outputs", "gradients"):
        raise ValueError(f"quantity must be 'outputs' or 'gradients'; got {quantity!r}")
    if not isinstance(passes, Mapping) or not 1 <= len(passes) <= len(_NETWORK_STYLES):
        raise ValueError(f"passes must map 1 to {len(_NETWORK_STYLES)} labels to Pass results")
    results = list(passes.values())
    if not all(isinstance(result, Pass) for result in results):
        raise TypeError("every value of passes must be a Pass (from DeepMLP.forward_backward)")
    depth = results[0].depth
    if any(result.depth != depth for result in results):
        raise ValueError("every network in passes must have the same depth")

    plotting.use_style()
    import matplotlib.pyplot as plt

    n = len(results)
    figure = plt.figure(figsize=(width, 6.6))
    grid = figure.add_gridspec(2, 2 * n)
    top = [figure.add_subplot(grid[0, 2 * i : 2 * i + 2]) for i in range(n)]
    if quantity == "outputs":
        bottom = [figure.add_subplot(grid[1, :n]), figure.add_subplot(grid[1, n:])]
    else:
        bottom = [figure.add_subplot(grid[1, :])]
    activation = results[0].activation
    for ax, (label, result) in zip(top, passes.items(), strict=True):
        if quantity == "outputs":
            values, xlabel = result.outputs, f"{activation} output"
        else:
            values, xlabel = result.output_grads, "log10 |gradient|"
        plot_layer_histograms(
            ax,
            values,
            saturation=result.saturation if quantity == "outputs" else None,
            log_magnitude=quantity == "gradients",
            title=label,
            xlabel=xlabel,
            legend=False,
        )
    for ax in top:
        ax.set_ylim(bottom=0)
    for ax in top[1:]:
        ax.set_ylabel("")
    _layer_colorbar(figure, top, depth)

    layers = np.arange(1, depth + 1)
    for index, (label, result) in enumerate(passes.items()):
        marker, style = _NETWORK_STYLES[index]
        color = _network_colors()[index]
        kwargs = {"marker": marker, "linestyle": style, "color": color, "label": label}
        if quantity == "outputs":
            bottom[0].semilogy(layers, result.output_std, **kwargs)
            bottom[1].plot(layers, 100 * result.saturation, **kwargs)
        else:
            bottom[0].semilogy(layers, result.gradient_std, **kwargs)
    layer_label = "layer (1 = next to the input)"
    if quantity == "outputs":
        plotting.finish(
            bottom[0],
            title="Spread of each layer's output",
            xlabel=layer_label,
            ylabel="std (log scale)",
        )
        plotting.finish(
            bottom[1],
            title="Saturated units per layer",
            xlabel=layer_label,
            ylabel="% saturated",
        )
    else:
        plotting.finish(
            bottom[0],
            title="Spread of the gradient at each layer's output",
            xlabel=layer_label,
            ylabel="std (log scale)",
        )
    _at_least_decades(bottom[0], decades=2.0)
    if quantity == "outputs":
        top_saturation = max(float(100 * result.saturation.max()) for result in results)
        bottom[1].set_ylim(0, max(10.0, 1.15 * top_saturation))
    for ax in bottom:
        ax.set_xticks(layers if depth <= 12 else np.unique(np.linspace(1, depth, 6).round()))
    if title:
        figure.suptitle(title)
    return figure


def draw_gradient_profiles(
    without_bn: Mapping[tuple[str, float], Pass],
    with_bn: Mapping[tuple[str, float], Pass],
) -> Any:
    """The gradient's standard deviation per layer, one line per (activation, weight
    scale), without BN (left) and with BN before each nonlinearity (right), on one shared
    logarithmic scale; markers tell the nonlinearities apart, line styles the scales."""
    from bncourse import plotting

    if list(without_bn) != list(with_bn):
        raise ValueError("without_bn and with_bn must hold the same settings, in one order")
    figure, axes = plotting.subplots(1, 2, figsize=(9.0, 5.2), sharey=True)
    markers = {"tanh": "o", "sigmoid": "s", "relu": "^"}
    styles = ("-", "--", ":", "-.")
    colors = (
        "#0072B2", "#56B4E9", "#009E73", "#000000", "#CC79A7", "#D55E00", "#E69F00",
    )  # fmt: skip
    seen: dict[str, int] = {}
    for ax, passes, title in zip(
        axes[0],
        (without_bn, with_bn),
        ("without BN", "with BN before each nonlinearity"),
        strict=True,
    ):
        seen.clear()
        for index, ((activation, scale), result) in enumerate(passes.items()):
            order = seen.get(activation, 0)
            seen[activation] = order + 1
            layers = np.arange(1, result.depth + 1)
            ax.semilogy(
                layers,
                result.gradient_std,
                marker=markers[activation],
                linestyle=styles[order % len(styles)],
                color=colors[index % len(colors)],
                markersize=5,
                label=f"{activation}, scale {scale:.3g}",
            )
        plotting.finish(
            ax,
            title=title,
            xlabel="layer (1 = next to the input)",
            ylabel="std of the gradient at the layer's output",
            legend=False,
        )
    axes[0, 1].set_ylabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=4)
    figure.suptitle("Spread of the gradient per layer")
    return figure


def draw_shift_experiment(experiment: ShiftExperiment) -> Any:
    """Training loss per version (mean over seeds with a min-to-max band), and for the
    first seed the 15th, 50th and 85th percentiles of one last-layer unit's input on the
    probe batch during training, one panel per version on one shared scale (as in Ioffe &
    Szegedy's Figure 1)."""
    from bncourse import plotting

    if not isinstance(experiment, ShiftExperiment):
        raise TypeError(f"experiment must be a ShiftExperiment; got {type(experiment).__name__}")
    names = list(experiment.records)
    if not 1 <= len(names) <= 3:
        raise ValueError("draw_shift_experiment draws 1 to 3 versions")
    palette = _network_colors()
    colors = dict(zip(names, (palette[1], palette[0], palette[2]), strict=False))
    markers = dict(zip(names, ("o", "s", "^"), strict=False))
    window = experiment.window
    figure, axes = plotting.subplots(2, 2, figsize=(9.0, 7.4))
    loss_ax = axes[0, 0]
    n_steps = len(experiment.records[names[0]][0].losses)
    steps_axis = np.arange(window, n_steps + 1)
    for name, runs in experiment.records.items():
        plotting.mean_with_spread(
            loss_ax,
            steps_axis,
            [r.smoothed_losses(window) for r in runs],
            label=name,
            color=colors[name],
        )
        line = loss_ax.get_lines()[-1]
        line.set_marker(markers[name])
        line.set_markevery(max(1, len(steps_axis) // 8))
    plotting.finish(
        loss_ax,
        title=f"Training loss, {window}-step average\n(line: mean over seeds; band: min to max)",
        xlabel="step",
        ylabel="cross-entropy",
        legend=False,
    )
    highest = max(
        float(np.max(r.smoothed_losses(window)))
        for runs in experiment.records.values()
        for r in runs
    )
    loss_ax.set_ylim(0, 1.5 * highest)  # headroom: the legend sits above every curve
    loss_ax.legend(loc="upper right")
    first = {name: runs[0] for name, runs in experiment.records.items()}
    low = min(float(r.percentiles.min()) for r in first.values()) - 0.2
    high = max(float(r.percentiles.max()) for r in first.values()) + 0.2
    for unit_ax, name in zip([axes[0, 1], axes[1, 0], axes[1, 1]], names, strict=False):
        probe = first[name]
        unit_ax.fill_between(
            probe.recorded_steps,
            probe.percentiles[:, 0],
            probe.percentiles[:, 2],
            color=colors[name],
            alpha=0.25,
            linewidth=0,
            label="15th to 85th percentile",
        )
        unit_ax.plot(
            probe.recorded_steps,
            probe.percentiles[:, 1],
            color=colors[name],
            marker=markers[name],
            markevery=max(1, len(probe.recorded_steps) // 8),
            label="median",
        )
        unit_ax.set_ylim(low, high)  # one scale in every panel
        plotting.finish(
            unit_ax,
            title=f"{name}: input to one sigmoid",
            xlabel="step",
            ylabel="pre-activation (probe batch)",
        )
    for unit_ax in [axes[0, 1], axes[1, 0], axes[1, 1]][len(names) :]:
        unit_ax.set_visible(False)
    figure.suptitle("Sigmoid inputs: one unit of the last hidden layer, probe batch, first seed")
    return figure


def digit_batch(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The first ``size`` training digits, standardized per pixel, and their labels."""
    from bncourse import data
    from bncourse import reference as ref

    split = data.digits()
    return ref.standardize(split.x_train[:size]), split.y_train[:size]


MAX_DEPTH = 20
"""The deepest network the explorer's depth slider builds."""

_HISTOGRAM_BINS = 60
_OUTPUT_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # relu: from 0 to its data


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... (and their tenths, hundredths...) at least
    ``value``: axis limits that hold the data and move only when it crosses one of them."""
    value = max(float(value), 1e-30)
    decade = 10.0 ** np.floor(np.log10(value))
    return float(next(step * decade for step in (1, 2, 5, 10) if step * decade >= value * 0.9999))


@dataclass(frozen=True)
class _LayerView:
    """What the explorer draws for one setting, with the limits that hold it."""

    output_edges: np.ndarray
    output_counts: np.ndarray  # (depth, bins) densities
    grad_edges: np.ndarray
    grad_counts: np.ndarray
    gradient_std: np.ndarray
    output_std: np.ndarray
    saturation: np.ndarray
    gradient_ratio: float
    density_tops: tuple[float, float]
    std_limits: tuple[float, float]
    saturation_top: float


def _layer_view(result: Pass) -> _LayerView:
    """Histograms and per-layer statistics of one pass, with limits snapped to steps
    (``_nice_ceiling``, whole decades) so that most control moves keep them."""
    outputs = [np.asarray(v, dtype=np.float64).ravel() for v in result.outputs]
    low, high = _OUTPUT_RANGE.get(result.activation, (0.0, 0.0))
    if result.activation not in _OUTPUT_RANGE:
        high = _nice_ceiling(max(float(v[np.isfinite(v)].max(initial=0.0)) for v in outputs))
    output_edges = np.linspace(low, high, _HISTOGRAM_BINS + 1)
    output_counts = np.array([np.histogram(v, output_edges, density=True)[0] for v in outputs])
    magnitudes = []
    for value in result.output_grads:
        value = np.abs(np.asarray(value, dtype=np.float64).ravel())
        value = np.log10(value[value > 0])
        magnitudes.append(value[np.isfinite(value)])
    pooled = np.concatenate(magnitudes)
    # The view starts at the 0.1th percentile: below it lies a thin tail (at most 0.1% of
    # the values, too few to lift a density line off zero) whose lowest value jumps by
    # decades between settings and would otherwise move the axis at almost every step.
    lowest = float(np.percentile(pooled, 0.1)) if pooled.size else -1.0
    highest = float(pooled.max()) if pooled.size else 0.0
    # whole steps of 3 decades: the edges move only when the data crosses one
    grad_edges = np.linspace(3 * np.floor(lowest / 3), 3 * np.ceil(highest / 3 + 1e-9), 121)
    grad_counts = np.array(
        [
            np.histogram(v, grad_edges, density=True)[0] if v.size else np.zeros(120)
            for v in magnitudes
        ]
    )
    stds = np.concatenate([result.gradient_std, result.output_std])
    stds = stds[np.isfinite(stds) & (stds > 0)]
    decades = np.log10(stds) if stds.size else np.array([-1.0, 0.0])
    std_limits = (
        10.0 ** (3 * np.floor(decades.min() / 3)),
        10.0 ** (3 * np.ceil(decades.max() / 3 + 1e-9)),
    )
    saturation = 100 * np.asarray(result.saturation, dtype=np.float64)
    return _LayerView(
        output_edges,
        output_counts,
        grad_edges,
        grad_counts,
        np.asarray(result.gradient_std, dtype=np.float64),
        np.asarray(result.output_std, dtype=np.float64),
        saturation,
        float(result.gradient_ratio),
        (
            _nice_ceiling(1.05 * float(np.nanmax(output_counts))),
            _nice_ceiling(1.05 * float(np.nanmax(grad_counts))),
        ),
        std_limits,
        next(top for top in (10.0, 25.0, 50.0, 100.0) if top >= float(saturation.max())),
    )


def setup_layers(
    activation: str = "tanh",
    weight_scale: float = 1.0,
    depth: int = 10,
    batchnorm: bool = False,
    *,
    x: Any = None,
    y: Any = None,
    seed: int = 0,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: per-layer output histograms and gradient
    histograms (log10 of the magnitude), colored by layer; the gradient's and the output's
    standard deviation per layer; and the fraction of saturated units per layer. Returns
    ``(figure, update)``; ``update(activation=..., weight_scale=..., depth=...,
    batchnorm=...)`` redraws them in place (``bncourse.lab.explorer.LiveFigure``).

    Each setting's pass is computed once (then kept). The layer axes and the colorbar
    cover every depth up to ``MAX_DEPTH``, so a layer keeps its color and place; the other
    limits hold the data and move in steps (``_layer_view``), so most moves only redraw
    the lines and a few change the axes (the whole figure is drawn again then).
    """
    from bncourse import plotting

    if x is None or y is None:
        x, y = digit_batch()
    n_classes = int(np.max(y)) + 1
    views: dict[tuple[str, float, int, bool], _LayerView] = {}

    def view(activation: str, weight_scale: float, depth: int, batchnorm: bool) -> _LayerView:
        key = (activation, float(weight_scale), int(depth), bool(batchnorm))
        if key not in views:
            net = DeepMLP(
                x.shape[1],
                n_classes,
                depth=key[2],
                width=100,
                activation=activation,
                weight_scale=key[1],
                batchnorm=key[3],
                seed=seed,
            )
            views[key] = _layer_view(net.forward_backward(x, y))
        return views[key]

    plotting.use_style()
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(9.0, 6.8), layout="none")
    grid = figure.add_gridspec(
        2, 2, left=0.08, right=0.89, top=0.9, bottom=0.08, wspace=0.3, hspace=0.42
    )
    out_ax = figure.add_subplot(grid[0, 0])
    grad_ax = figure.add_subplot(grid[0, 1])
    depth_ax = figure.add_subplot(grid[1, 0])
    saturation_ax = figure.add_subplot(grid[1, 1])
    colors = _layer_colors(MAX_DEPTH)
    out_lines = [out_ax.plot([], [], color=c, linewidth=1.2)[0] for c in colors]
    grad_lines = [grad_ax.plot([], [], color=c, linewidth=1.2)[0] for c in colors]
    plotting.finish(
        out_ax,
        title="Layer outputs",
        xlabel="output of the nonlinearity (named above)",
        ylabel="density",
        legend=False,
    )
    plotting.finish(
        grad_ax,
        title="Gradients at each layer's output",
        xlabel="log10 |gradient|",
        ylabel="density",
        legend=False,
    )
    top_row = grad_ax.get_position()
    colorbar_ax = figure.add_axes((0.905, top_row.y0, 0.015, top_row.height))
    _layer_colorbar(figure, [out_ax, grad_ax], MAX_DEPTH, cax=colorbar_ax)
    (gradient_line,) = depth_ax.semilogy([], [], "o-", label="gradient std")
    (output_line,) = depth_ax.semilogy(
        [], [], "s--", color=plotting.COLORS["alt"], label="output std"
    )
    plotting.finish(
        depth_ax,
        title=" ",
        xlabel="layer (1 = next to the input)",
        ylabel="standard deviation (log scale)",
    )
    (saturation_line,) = saturation_ax.plot([], [], "o-")
    plotting.finish(
        saturation_ax,
        title="Saturated units per layer",
        xlabel="layer (1 = next to the input)",
        ylabel="% saturated",
    )
    for ax in (depth_ax, saturation_ax):
        ax.set_xlim(0.5, MAX_DEPTH + 0.5)
        ax.set_xticks([1, 5, 10, 15, 20])
    suptitle = figure.suptitle(" ")

    def update(
        activation: str = "tanh",
        weight_scale: float = 1.0,
        depth: int = 10,
        batchnorm: bool = False,
    ) -> list[Any]:
        shown = view(activation, weight_scale, depth, batchnorm)
        depth = len(shown.gradient_std)
        for ax, lines, edges, counts, top in (
            (out_ax, out_lines, shown.output_edges, shown.output_counts, shown.density_tops[0]),
            (grad_ax, grad_lines, shown.grad_edges, shown.grad_counts, shown.density_tops[1]),
        ):
            centers = (edges[:-1] + edges[1:]) / 2
            for index, line in enumerate(lines):
                line.set_visible(index < depth)
                if index < depth:
                    line.set_data(centers, counts[index])
            margin = 0.04 * (edges[-1] - edges[0])
            ax.set_xlim(edges[0] - margin, edges[-1] + margin)
            ax.set_ylim(0, top)
        layers = np.arange(1, depth + 1)
        color = plotting.COLORS["with_bn" if batchnorm else "without_bn"]
        gradient_line.set_data(layers, shown.gradient_std)
        output_line.set_data(layers, shown.output_std)
        saturation_line.set_data(layers, shown.saturation)
        legend_line = depth_ax.get_legend().legend_handles[0]
        for line in (gradient_line, saturation_line, legend_line):
            line.set_color(color)
        depth_ax.set_ylim(*shown.std_limits)
        saturation_ax.set_ylim(0, 1.05 * shown.saturation_top)
        depth_ax.title.set_text(
            f"Gradient std, layer 1 / layer {depth}: {shown.gradient_ratio:.3g}"
        )
        suptitle.set_text(
            f"{activation}, scale {weight_scale:.3g}, {'with' if batchnorm else 'without'} BN"
        )
        lines = [*out_lines, *grad_lines, gradient_line, output_line, saturation_line]
        return [*lines, depth_ax.get_legend(), depth_ax.title, suptitle]

    # Besides the artists it returns, update changes only axis limits: a limit change
    # redraws just the panels that moved (bncourse.lab.explorer.LiveFigure).
    update.moved_axes_only = True  # type: ignore[attr-defined]
    return figure, update


def activation_explorer(x: Any = None, y: Any = None) -> Any:
    """Activation, weight-scale, depth and BN controls over ``setup_layers``'s figure."""
    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    if x is None or y is None:
        x, y = digit_batch()
    controls = {
        "activation": widgets.Dropdown(
            options=list(ACTIVATIONS), value="tanh", description="activation"
        ),
        "weight_scale": widgets.FloatLogSlider(
            value=1.0, base=2, min=-2, max=2, step=0.125, description="weight scale"
        ),
        "depth": widgets.IntSlider(value=10, min=2, max=MAX_DEPTH, description="depth"),
        "batchnorm": widgets.Checkbox(value=False, description="BN before each nonlinearity"),
    }

    def setup(activation: str, weight_scale: float, depth: int, batchnorm: bool) -> tuple[Any, Any]:
        return setup_layers(activation, weight_scale, depth, batchnorm, x=x, y=y)

    return explorer(
        controls=controls,
        live=setup,
        title="Activations and gradients, layer by layer",
        description=(
            "Hidden weights ~ N(0, (scale / sqrt(fan_in))^2), 100 units per layer, one batch "
            "of 256 standardized digits. Saturated: the unit passes back less than 5% of "
            "the largest possible gradient."
        ),
    )
