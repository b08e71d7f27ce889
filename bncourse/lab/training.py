"""Small, fast, repeatable Keras experiments for the lessons that measure BN.

A ``Trainer`` builds one network once and then trains it many times (other seeds, other
learning rates, other batch sizes) by re-initializing its weights, so TensorFlow traces
the training step once per architecture instead of once per run. On the 2-core machines
the course targets, a 3x100 MLP on the digits takes about 1 ms per step.

Everything is counted in optimizer steps, not seconds, so results do not depend on the
machine. TensorFlow and Keras are imported when a Trainer is first built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.data import DataSplit
from bncourse.seeding import resolve

__all__ = ["MLP", "Run", "Trainer", "stack"]

_BLOCK_PARTS = {"bn", "act", "dropout"}


@dataclass(frozen=True)
class MLP:
    """A fully-connected classifier: ``hidden`` Dense layers, each followed by ``block``.

    ``block`` lists what follows each hidden Dense layer, in order, from ``"bn"``,
    ``"act"`` and ``"dropout"``: ``("act",)`` is a plain network, ``("bn", "act")`` the
    original paper's placement, ``("act", "bn")`` BN after the activation. When BN comes
    right after the Dense layer, the Dense layer is built with ``use_bias=False`` (BN's
    beta replaces the bias). ``init_scale`` sets the kernels' initial standard deviation to
    ``init_scale / sqrt(fan_in)`` (1.0 is LeCun's initialization); ``None`` keeps Keras's
    default Glorot-uniform initializer. ``head_dropout`` adds one Dropout layer with that
    rate between the last hidden block and the output layer (``0.0``: none), so Dropout can
    come after every BN layer of the network.
    """

    hidden: tuple[int, ...] = (100, 100, 100)
    activation: str = "relu"
    block: tuple[str, ...] = ("act",)
    dropout: float = 0.5
    init_scale: float | None = None
    head_dropout: float = 0.0

    def __post_init__(self) -> None:
        unknown = set(self.block) - _BLOCK_PARTS
        if unknown or "act" not in self.block:
            raise ValueError(
                f"block must contain 'act' and only {sorted(_BLOCK_PARTS)}; got {self.block}"
            )
        if not 0.0 <= self.head_dropout < 1.0:
            raise ValueError(f"head_dropout must lie in [0, 1); got {self.head_dropout}")

    @property
    def label(self) -> str:
        label = " → ".join(["Dense", *(_PART_NAMES[p] for p in self.block)])
        return label + (" (+ Dropout before the output)" if self.head_dropout else "")

    def build(self, input_dim: int, num_classes: int) -> Any:
        """The Keras model (functional), with named layers: dense_1, bn_1, act_1, ..."""
        import keras

        inputs = keras.Input((input_dim,), name="pixels")
        h = inputs
        for index, units in enumerate(self.hidden, start=1):
            h = keras.layers.Dense(
                units,
                use_bias=self.block[0] != "bn",
                kernel_initializer=self._initializer(),
                name=f"dense_{index}",
            )(h)
            for part in self.block:
                if part == "bn":
                    h = keras.layers.BatchNormalization(name=f"bn_{index}")(h)
                elif part == "act":
                    h = keras.layers.Activation(self.activation, name=f"act_{index}")(h)
                else:
                    h = keras.layers.Dropout(self.dropout, name=f"dropout_{index}")(h)
        if self.head_dropout:
            h = keras.layers.Dropout(self.head_dropout, name="dropout_head")(h)
        logits = keras.layers.Dense(num_classes, name="logits")(h)
        return keras.Model(inputs, logits, name="mlp")

    def _initializer(self) -> Any:
        import keras

        if self.init_scale is None:
            return keras.initializers.GlorotUniform()
        return keras.initializers.VarianceScaling(
            scale=self.init_scale**2, mode="fan_in", distribution="untruncated_normal"
        )


_PART_NAMES = {"bn": "BN", "act": "activation", "dropout": "Dropout"}


@dataclass
class Run:
    """One training run, measured every ``eval_every`` steps."""

    steps: np.ndarray
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    val_accuracy: np.ndarray
    diverged: bool
    probe: np.ndarray | None = None  # (evaluations, 3): 15th, 50th, 85th percentiles
    settings: dict[str, Any] = field(default_factory=dict)

    def steps_to(self, accuracy: float) -> float:
        """The first measured step with validation accuracy >= ``accuracy`` (NaN if never)."""
        reached = np.nonzero(self.val_accuracy >= accuracy)[0]
        return float(self.steps[reached[0]]) if len(reached) else float("nan")

    @property
    def final_val_accuracy(self) -> float:
        return float(self.val_accuracy[-1])

    @property
    def final_gap(self) -> float:
        """Train minus validation accuracy at the end: how much the model overfits."""
        return float(self.train_accuracy[-1] - self.val_accuracy[-1])


def stack(runs: Sequence[Run], name: str) -> np.ndarray:
    """One attribute of several runs as a (runs, evaluations) array."""
    return np.stack([np.asarray(getattr(run, name), dtype=np.float64) for run in runs])


class Trainer:
    """Train one architecture many times with SGD with momentum (or Adam).

    ``probe`` names a layer whose *input* is recorded at every evaluation (the
    15th, 50th and 85th percentiles over a fixed batch, for one unit), as in Figure 1 of
    Ioffe & Szegedy (2015): pass e.g. ``"act_3"`` to watch what the third activation
    receives. By default the probe runs the network in inference mode (BN uses its moving
    statistics); ``probe_training=True`` runs it in training mode, as the paper's
    batch-normalized training network does (BN uses the statistics of the probed batch),
    and restores the moving statistics and Dropout seeds afterwards.

    ``fused=True`` runs all the steps between two evaluations in one TensorFlow call (a
    loop inside the graph) instead of one call per step. The results are the same, and
    small networks train two to three times faster; tracing the loop takes longer than
    tracing one step (about a second more). Use it when one architecture trains many times.
    """

    def __init__(
        self,
        spec: MLP,
        *,
        input_dim: int,
        num_classes: int,
        optimizer: str = "sgd",
        momentum: float = 0.9,
        probe: str | None = None,
        probe_unit: int = 0,
        probe_training: bool = False,
        fused: bool = False,
    ) -> None:
        import keras
        import tensorflow as tf

        self.spec = spec
        self.model = spec.build(input_dim, num_classes)
        if optimizer == "sgd":
            self.optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=momentum)
        elif optimizer == "adam":
            self.optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        else:
            raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
        self.optimizer.build(self.model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model, opt = self.model, self.optimizer
        x_spec = tf.TensorSpec([None, input_dim], tf.float32)
        y_spec = tf.TensorSpec([None], tf.int64)

        @tf.function(input_signature=[x_spec, y_spec])
        def train_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        @tf.function(input_signature=[x_spec])
        def predict(x: Any) -> Any:
            return tf.argmax(model(x, training=False), axis=-1)

        xs_spec = tf.TensorSpec([None, None, input_dim], tf.float32)
        ys_spec = tf.TensorSpec([None, None], tf.int64)

        @tf.function(input_signature=[xs_spec, ys_spec])
        def train_steps(xs: Any, ys: Any) -> Any:
            count = tf.shape(xs)[0]
            losses = tf.TensorArray(tf.float32, size=count)
            for i in tf.range(count):
                with tf.GradientTape() as tape:
                    loss = loss_fn(ys[i], model(xs[i], training=True))
                grads = tape.gradient(loss, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
                losses = losses.write(i, loss)
            return losses.stack()

        self.fused = fused
        self._train_steps = train_steps
        self._train_step = train_step
        self._predict = predict
        self._probe = None
        self.probe_unit = probe_unit
        if probe is not None:
            probe_model = keras.Model(model.inputs[0], model.get_layer(probe).input)
            state = list(model.non_trainable_variables)

            def probe_values(x: Any) -> Any:
                if not probe_training:
                    return probe_model(x, training=False)[:, probe_unit]
                saved = [tf.identity(variable) for variable in state]
                values = probe_model(x, training=True)[:, probe_unit]
                for variable, value in zip(state, saved, strict=True):
                    variable.assign(value)  # probing must not change the training
                return values

            self._probe = tf.function(probe_values, input_signature=[x_spec])

    def reset(self, seed: int, learning_rate: float, init_scale: float | None = None) -> None:
        """Fresh weights drawn with ``seed``, fresh optimizer state, a new learning rate.

        ``init_scale`` (if given) replaces the spec's for the hidden Dense layers: their
        kernels are drawn from a normal distribution with standard deviation
        ``init_scale / sqrt(fan_in)``, as ``MLP(init_scale=...)`` would, without a rebuild.
        """
        import keras

        for index, layer in enumerate(self.model.layers):
            if isinstance(layer, keras.layers.Dense):
                initializer = layer.kernel_initializer
                if init_scale is not None and layer.name.startswith("dense_"):
                    initializer = keras.initializers.VarianceScaling(
                        scale=init_scale**2, mode="fan_in", distribution="untruncated_normal"
                    )
                config = initializer.get_config() | {"seed": (resolve(seed) * 1000 + index) % 2**31}
                fresh = type(initializer).from_config(config)
                layer.kernel.assign(fresh(layer.kernel.shape, dtype="float32"))
                if layer.bias is not None:
                    layer.bias.assign(np.zeros(layer.bias.shape, np.float32))
            elif isinstance(layer, keras.layers.BatchNormalization):
                channels = layer.gamma.shape
                layer.gamma.assign(np.ones(channels, np.float32))
                layer.beta.assign(np.zeros(channels, np.float32))
                layer.moving_mean.assign(np.zeros(channels, np.float32))
                layer.moving_variance.assign(np.ones(channels, np.float32))
            elif isinstance(layer, keras.layers.Dropout):
                state = layer.seed_generator.state
                state.assign(np.array([resolve(seed), index], dtype=state.dtype))
        for variable in self.optimizer.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        self.optimizer.learning_rate.assign(learning_rate)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self._predict(x).numpy() == y))

    def run(
        self,
        data: DataSplit,
        *,
        seed: int,
        steps: int,
        batch_size: int = 32,
        learning_rate: float = 0.05,
        eval_every: int = 25,
        init_scale: float | None = None,
    ) -> Run:
        """Train for ``steps`` optimizer steps from fresh weights; measure every ``eval_every``.

        ``init_scale`` overrides the spec's initialization scale for this run (see ``reset``).
        """
        import tensorflow as tf

        if steps < 1 or eval_every < 1 or batch_size < 1:
            raise ValueError("steps, eval_every and batch_size must be positive")
        x_train, y_train = data.x_train, data.y_train
        self.reset(seed, learning_rate, init_scale)
        rng = np.random.default_rng(resolve(seed))
        n_probe = min(len(data.x_val), 512)
        train_probe = rng.choice(len(x_train), size=n_probe, replace=False)
        x_fit_check, y_fit_check = x_train[train_probe], y_train[train_probe]
        batches = _batch_indices(rng, len(x_train), batch_size, steps)
        measured: dict[str, list[float]] = {
            "steps": [],
            "train_loss": [],
            "train_accuracy": [],
            "val_accuracy": [],
        }
        probes: list[np.ndarray] = []
        losses: list[Any] = []
        diverged = False
        step = 0
        while step < steps:
            if self.fused:  # every step up to the next evaluation in one call
                stop = min(steps, (step // eval_every + 1) * eval_every)
                chunk = batches[step:stop]
                losses.append(
                    self._train_steps(tf.constant(x_train[chunk]), tf.constant(y_train[chunk]))
                )
                step = stop
            else:
                batch = batches[step]
                losses.append(
                    self._train_step(tf.constant(x_train[batch]), tf.constant(y_train[batch]))
                )
                step += 1
            if step % eval_every == 0 or step == steps:
                loss = float(tf.reduce_mean(tf.concat([tf.reshape(v, [-1]) for v in losses], 0)))
                losses.clear()
                diverged = not np.isfinite(loss)
                measured["steps"].append(step)
                measured["train_loss"].append(loss)
                measured["train_accuracy"].append(
                    np.nan if diverged else self.accuracy(x_fit_check, y_fit_check)
                )
                measured["val_accuracy"].append(
                    np.nan if diverged else self.accuracy(data.x_val, data.y_val)
                )
                if self._probe is not None:
                    values = self._probe(tf.constant(data.x_val)).numpy()
                    probes.append(np.percentile(values, [15, 50, 85]))
                if diverged:
                    break
        if diverged:  # keep the curves' length: NaN after the divergence
            expected = list(range(eval_every, steps + 1, eval_every))
            if steps % eval_every:
                expected.append(steps)
            done = len(measured["steps"])
            measured["steps"] = expected
            for key in ("train_loss", "train_accuracy", "val_accuracy"):
                measured[key] += [np.nan] * (len(expected) - done)
            probes += [np.full(3, np.nan)] * (len(expected) - done) if probes else []
        return Run(
            steps=np.asarray(measured["steps"]),
            train_loss=np.asarray(measured["train_loss"]),
            train_accuracy=np.asarray(measured["train_accuracy"]),
            val_accuracy=np.asarray(measured["val_accuracy"]),
            diverged=diverged,
            probe=np.stack(probes) if probes else None,
            settings={
                "seed": seed,
                "steps": steps,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "block": self.spec.block,
                "init_scale": self.spec.init_scale if init_scale is None else init_scale,
            },
        )

    def runs(self, data: DataSplit, seeds: Iterable[int], **settings: Any) -> list[Run]:
        """The same run for several seeds."""
        return [self.run(data, seed=seed, **settings) for seed in seeds]


def _batch_indices(rng: np.random.Generator, n: int, batch_size: int, steps: int) -> np.ndarray:
    """(steps, batch) example indices: shuffle, take batches in order, drop the remainder and
    reshuffle when an epoch runs out. A batch_size above n gives every example, reshuffled,
    at every step (batch = n)."""
    batches = np.empty((steps, min(batch_size, n)), dtype=np.int64)
    order, position = rng.permutation(n), 0
    for step in range(steps):
        if position + batch_size > n:
            order, position = rng.permutation(n), 0
        batches[step] = order[position : position + batch_size]
        position += batch_size
    return batches
