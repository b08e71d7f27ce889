"""Lesson 10 (BN in deployment): BN in transfer learning, freezing, fine-tuning, new statistics.

What the lesson measures with these helpers:

* ``batchnorm_layers``, ``freeze_batchnorm`` and ``moving_statistics`` find, freeze and
  snapshot the BN layers of a model (nested models included);
* ``StepTrainer`` trains a model the way ``model.fit`` does in each step (the model called
  with ``training=True``, gradients for the ``trainable_variables`` it had when the trainer
  was built, like ``compile``), but traced once and fast enough to repeat over seeds;
* ``compare_fine_tuning`` pretrains a small Dense -> BN -> ReLU base on some digit classes
  and fine-tunes it on the others, with BN in training mode or frozen in inference mode;
* ``adapt_bn_statistics`` replaces every BN layer's moving mean and variance with the
  statistics of new, unlabeled data (AdaBN, Li et al., 2016),
  ``adaptation_sweep`` measures what that buys one trained model on shifted digits, and
  ``compare_adaptation`` trains BN and plain MLPs over seeds and sweeps each of them;
* ``plot_fine_tuning`` and ``plot_adaptation`` draw the two experiments.

TensorFlow and Keras are imported on first use.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.data import DataSplit, shift_intensity
from bncourse.seeding import resolve

__all__ = [
    "split_by_class",
    "build_base",
    "batchnorm_layers",
    "freeze_batchnorm",
    "moving_statistics",
    "restore_moving_statistics",
    "adapt_bn_statistics",
    "one_training_pass",
    "accuracy",
    "StepTrainer",
    "FINE_TUNING_VARIANTS",
    "FineTuneResult",
    "compare_fine_tuning",
    "plot_fine_tuning",
    "adaptation_sweep",
    "AdaptationResult",
    "compare_adaptation",
    "plot_adaptation",
]


def split_by_class(data: DataSplit, classes: Sequence[int]) -> DataSplit:
    """Only the samples of ``classes``, relabeled 0, 1, ... in the order given."""
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must list distinct labels; got {classes}")
    relabel = {c: i for i, c in enumerate(classes)}

    def pick(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(y, classes)
        return x[keep], np.array([relabel[int(label)] for label in y[keep]], dtype=np.int64)

    parts = [
        pick(data.x_train, data.y_train),
        pick(data.x_val, data.y_val),
        pick(data.x_test, data.y_test),
    ]
    if any(len(x) == 0 for x, _ in parts):
        raise ValueError(f"no samples of classes {classes} in one of the splits")
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = parts
    return DataSplit(x_train, y_train, x_val, y_val, x_test, y_test)


def build_base(input_dim: int = 64, units: Sequence[int] = (64, 64), name: str = "base") -> Any:
    """A feature extractor of ``Dense(use_bias=False) -> BN -> ReLU`` blocks (functional).

    Layers are named ``dense_1``, ``bn_1``, ``relu_1``, ...
    """
    import keras

    inputs = keras.Input((input_dim,), name="pixels")
    h = inputs
    for index, width in enumerate(units, start=1):
        h = keras.layers.Dense(width, use_bias=False, name=f"dense_{index}")(h)
        h = keras.layers.BatchNormalization(name=f"bn_{index}")(h)
        h = keras.layers.ReLU(name=f"relu_{index}")(h)
    return keras.Model(inputs, h, name=name)


def _layers_recursive(model: Any) -> list[Any]:
    import keras

    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_layers_recursive(layer))
    return found


def batchnorm_layers(model: Any) -> list[Any]:
    """Every ``BatchNormalization`` layer in ``model``, nested models included, in order."""
    import keras

    return [
        layer
        for layer in _layers_recursive(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def freeze_batchnorm(model: Any) -> int:
    """Set ``trainable = False`` on every BN layer (inference mode from then on).

    Other layers keep their ``trainable`` setting. Recompile (or build a new
    ``StepTrainer``) afterwards. Returns how many BN layers were frozen.
    """
    layers = batchnorm_layers(model)
    for layer in layers:
        layer.trainable = False
    return len(layers)


def moving_statistics(model: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A copy of each BN layer's ``(moving_mean, moving_variance)``, keyed by layer name."""
    return {
        layer.name: (layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy())
        for layer in batchnorm_layers(model)
    }


def restore_moving_statistics(
    model: Any, snapshot: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    """Put back moving statistics saved by ``moving_statistics``."""
    for layer in batchnorm_layers(model):
        mean, variance = snapshot[layer.name]
        _assign_statistics(layer, mean, variance)


def _assign_statistics(layer: Any, mean: np.ndarray, variance: np.ndarray) -> None:
    layer.moving_mean.assign(np.asarray(mean, dtype=np.float32))
    layer.moving_variance.assign(np.asarray(variance, dtype=np.float32))
    if getattr(layer, "renorm", False):  # renorm layers derive the variance from a stddev
        layer.moving_stddev.assign(np.sqrt(np.asarray(variance) + layer.epsilon).astype(np.float32))


def adapt_bn_statistics(model: Any, x: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Re-estimate every BN layer's moving mean and variance on ``x`` (no labels needed).

    The BN layers are visited in order. For each one, ``x`` runs through the model in
    inference mode up to that layer (so earlier BN layers already use their new statistics);
    the mean and the biased variance of what arrives, per feature, become the layer's moving
    statistics. No weight, gamma or beta changes. Works on functional and Sequential models
    whose BN layers sit at the top level; for a BN layer inside a nested model, adapt the
    nested model with the inputs it receives. Returns the new statistics.
    """
    import keras

    x = np.asarray(x, dtype=np.float32)
    top_level = [
        layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if len(top_level) != len(batchnorm_layers(model)):
        raise ValueError(
            "some BN layers sit inside a nested model: call adapt_bn_statistics on that "
            "model with the inputs it receives"
        )
    if not top_level:
        raise ValueError("the model has no BatchNormalization layer to adapt")
    new = {}
    for layer, reaching in _reaching_models(model, top_level):
        features = np.asarray(reaching(x, training=False), dtype=np.float64)
        axes = tuple(range(features.ndim - 1))
        mean, variance = features.mean(axis=axes), features.var(axis=axes)
        _assign_statistics(layer, mean, variance)
        new[layer.name] = (mean.astype(np.float32), variance.astype(np.float32))
    return new


def one_training_pass(
    model: Any, x: Any, *, momentum: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The moving statistics after one training-mode call on ``x``, on a copy of ``model``.

    The copy gets ``model``'s weights and statistics, every BN layer's ``momentum`` is set
    to ``momentum``, and the copy is called once with ``training=True`` on all of ``x`` as
    one batch (no optimizer step): each BN layer updates its moving statistics with that
    batch's. ``model`` itself is left unchanged. Returns ``moving_statistics`` of the copy.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in batchnorm_layers(copy):
        layer.momentum = float(momentum)
    copy(np.asarray(x, dtype=np.float32), training=True)
    return moving_statistics(copy)


_REACHING: weakref.WeakKeyDictionary[Any, list[tuple[Any, Any]]] = weakref.WeakKeyDictionary()


def _reaching_models(model: Any, layers: list[Any]) -> list[tuple[Any, Any]]:
    """For each BN layer, a model from ``model``'s input to that layer's input (cached)."""
    import keras

    cached = _REACHING.get(model)
    if cached is None or [layer for layer, _ in cached] != layers:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        cached = [(layer, keras.Model(inputs, layer.input)) for layer in layers]
        _REACHING[model] = cached
    return cached


def accuracy(model: Any, x: Any, y: Any) -> float:
    """Fraction of ``x`` classified as ``y``, the model in inference mode."""
    logits = np.asarray(model(np.asarray(x, dtype=np.float32), training=False))
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(y)))


class StepTrainer:
    """Train ``model`` step by step as ``fit`` would, traced once.

    Like ``compile``, the trainer records ``model.trainable_variables`` (and, through the
    trace, every layer's ``trainable`` flag) when it is built: after changing ``trainable``,
    build a new trainer. Each step calls ``model(x, training=True)``, as ``fit`` does, and
    applies Adam (or SGD with momentum 0.9) to sparse categorical cross-entropy on logits.
    """

    def __init__(self, model: Any, *, learning_rate: float = 1e-3, optimizer: str = "adam") -> None:
        import keras
        import tensorflow as tf

        if optimizer == "adam":
            self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        elif optimizer == "sgd":
            self.optimizer = keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
        else:
            raise ValueError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}")
        self.model = model
        self.learning_rate = learning_rate
        self.variables = list(model.trainable_variables)
        self.optimizer.build(self.variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        variables, opt = self.variables, self.optimizer
        input_dim = int(model.inputs[0].shape[-1])

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, input_dim], tf.float32),
                tf.TensorSpec([None], tf.int64),
            ]
        )
        def train_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, variables)
            opt.apply_gradients(zip(grads, variables, strict=True))
            return loss

        self._train_step = train_step

    def reset(self) -> None:
        """Fresh optimizer state (the model's weights are left alone)."""
        for variable in self.optimizer.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        self.optimizer.learning_rate.assign(self.learning_rate)

    def train(self, x: Any, y: Any, *, steps: int, batch_size: int, seed: int) -> np.ndarray:
        """``steps`` steps on shuffled batches of ``(x, y)``; returns each step's loss."""
        import tensorflow as tf

        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.int64)
        if not 1 <= batch_size <= len(x) or steps < 0:
            raise ValueError(f"need 1 <= batch_size <= {len(x)} and steps >= 0")
        if steps == 0:
            return np.zeros(0)
        rng = np.random.default_rng(resolve(seed))
        order, position, batches = rng.permutation(len(x)), 0, []
        for _ in range(steps):
            if position + batch_size > len(order):
                order, position = rng.permutation(len(x)), 0
            batches.append(order[position : position + batch_size])
            position += batch_size
        losses = [self._train_step(tf.constant(x[b]), tf.constant(y[b])) for b in batches]
        return np.asarray([float(loss) for loss in losses])


# ---------------------------------------------------------------------------
# The fine-tuning experiment.
# ---------------------------------------------------------------------------

FINE_TUNING_VARIANTS = {
    "bn_training": "base unfrozen, BN in training mode",
    "guide_idiom": "base(inputs, training=False), then unfrozen",
    "bn_frozen": "base unfrozen, BN layers trainable=False",
}
"""What ``compare_fine_tuning`` can compare, with the labels plots use."""


@dataclass
class FineTuneResult:
    """Target-task validation accuracy during fine-tuning, per variant and seed.

    ``val_accuracy[variant]`` is (seeds, evaluations), evaluated at ``steps`` (step 0 is
    the model after the head was trained on the frozen base). ``stat_drift[variant]`` is
    the mean absolute change of the BN moving means during fine-tuning, one per seed.
    """

    steps: np.ndarray
    val_accuracy: dict[str, np.ndarray]
    stat_drift: dict[str, np.ndarray]
    pretrain_accuracy: float
    settings: dict[str, Any] = field(default_factory=dict)

    def final(self, variant: str) -> np.ndarray:
        return self.val_accuracy[variant][:, -1]


def _mean_abs_change(
    before: dict[str, tuple[np.ndarray, np.ndarray]],
    after: dict[str, tuple[np.ndarray, np.ndarray]],
) -> float:
    return float(np.mean([np.mean(np.abs(after[k][0] - before[k][0])) for k in before]))


def compare_fine_tuning(
    source: DataSplit,
    target: DataSplit,
    variants: Sequence[str] = ("bn_training", "guide_idiom", "bn_frozen"),
    *,
    seeds: Sequence[int] = (0, 1, 2),
    labeled: int = 100,
    units: Sequence[int] = (64, 64),
    pretrain_steps: int = 200,
    head_steps: int = 100,
    fine_tune_steps: int = 100,
    batch_size: int = 4,
    learning_rate: float = 3e-4,
    eval_every: int = 20,
) -> FineTuneResult:
    """Pretrain a base on ``source``, then fine-tune it on ``labeled`` examples of ``target``.

    1. A ``build_base(units)`` base with a Dense head is trained on all of ``source``
       (Adam 1e-3, batches of 32), once, with seed 0.
    2. For each seed: ``labeled`` target examples are drawn, the base is frozen
       (``trainable = False``, so its BN layers run in inference mode) and a new head is
       trained on it (Adam 1e-3).
    3. From that same starting point each variant unfreezes the base and fine-tunes the
       whole model for ``fine_tune_steps`` steps (Adam ``learning_rate``):
       ``"bn_training"``: the model is ``head(base(inputs))``; ``"guide_idiom"``: it is
       ``head(base(inputs, training=False))``, as the Keras transfer-learning guide builds
       it; ``"bn_frozen"``: as ``"bn_training"``, but every BN layer of the base is set
       back to ``trainable = False`` after unfreezing.
    """
    import keras

    unknown = set(variants) - set(FINE_TUNING_VARIANTS)
    if unknown or not variants:
        raise ValueError(f"variants must come from {sorted(FINE_TUNING_VARIANTS)}; got {variants}")
    if not 1 <= labeled <= len(target.x_train):
        raise ValueError(f"labeled must lie in [1, {len(target.x_train)}]; got {labeled}")
    keras.utils.set_random_seed(resolve(0))
    input_dim = source.x_train.shape[1]
    base = build_base(input_dim, units)
    inputs = keras.Input((input_dim,), name="pixels")
    source_model = keras.Model(inputs, keras.layers.Dense(source.num_classes)(base(inputs)))
    StepTrainer(source_model).train(
        source.x_train, source.y_train, steps=pretrain_steps, batch_size=32, seed=0
    )
    pretrain_accuracy = accuracy(source_model, source.x_val, source.y_val)
    pretrained = base.get_weights()

    head = keras.layers.Dense(target.num_classes, name="head")
    plain = keras.Model(inputs, head(base(inputs)), name="plain")
    idiom = keras.Model(inputs, head(base(inputs, training=False)), name="idiom")
    fresh_head = [w.copy() for w in head.get_weights()]

    # Phase 2 for every seed: the head on the frozen base.
    base.trainable = False
    head_trainer = StepTrainer(plain)
    starts, subsets = [], []
    for seed in seeds:
        rng = np.random.default_rng(resolve(seed))
        subset = rng.choice(len(target.x_train), size=labeled, replace=False)
        base.set_weights(pretrained)
        head.set_weights(fresh_head)
        head_trainer.reset()
        head_trainer.train(
            target.x_train[subset],
            target.y_train[subset],
            steps=head_steps,
            batch_size=min(32, labeled),
            seed=seed,
        )
        starts.append((base.get_weights(), head.get_weights()))
        subsets.append(subset)

    # Phase 3: fine-tune the whole model, per variant.
    steps = np.arange(0, fine_tune_steps + 1, eval_every)
    if steps[-1] != fine_tune_steps:
        steps = np.append(steps, fine_tune_steps)
    curves: dict[str, np.ndarray] = {}
    drift: dict[str, np.ndarray] = {}
    for variant in variants:
        base.trainable = True
        if variant == "bn_frozen":
            freeze_batchnorm(base)
        trainer = StepTrainer(
            idiom if variant == "guide_idiom" else plain, learning_rate=learning_rate
        )
        rows, changes = [], []
        for seed, subset, (base_weights, head_weights) in zip(seeds, subsets, starts, strict=True):
            base.set_weights(base_weights)
            head.set_weights(head_weights)
            trainer.reset()
            before = moving_statistics(base)
            row = [accuracy(plain, target.x_val, target.y_val)]
            for done, upto in zip(steps[:-1], steps[1:], strict=True):
                trainer.train(
                    target.x_train[subset],
                    target.y_train[subset],
                    steps=int(upto - done),
                    batch_size=batch_size,
                    seed=seed * 1000 + int(done),
                )
                row.append(accuracy(plain, target.x_val, target.y_val))
            rows.append(row)
            changes.append(_mean_abs_change(before, moving_statistics(base)))
        curves[variant] = np.asarray(rows)
        drift[variant] = np.asarray(changes)
    base.trainable = True
    return FineTuneResult(
        steps=steps,
        val_accuracy=curves,
        stat_drift=drift,
        pretrain_accuracy=pretrain_accuracy,
        settings={
            "seeds": list(seeds),
            "labeled": labeled,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "fine_tune_steps": fine_tune_steps,
        },
    )


def adaptation_sweep(
    model: Any,
    x_unlabeled: Any,
    x_test: Any,
    y_test: Any,
    brightness: Sequence[float],
    *,
    contrast: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy on ``shift_intensity(x_test)`` before and after ``adapt_bn_statistics``.

    For each brightness, the BN statistics are re-estimated on
    ``shift_intensity(x_unlabeled)`` with the same shift (its labels are never used), the
    shifted test set is scored, and the original statistics are put back.
    Returns ``(before, after)``, one accuracy per brightness.
    """
    original = moving_statistics(model)
    before, after = [], []
    try:
        for value in brightness:
            shifted_test = shift_intensity(x_test, contrast=contrast, brightness=value)
            before.append(accuracy(model, shifted_test, y_test))
            adapt_bn_statistics(
                model, shift_intensity(x_unlabeled, contrast=contrast, brightness=value)
            )
            after.append(accuracy(model, shifted_test, y_test))
            restore_moving_statistics(model, original)
    finally:
        restore_moving_statistics(model, original)
    return np.asarray(before), np.asarray(after)


_FINE_TUNING_STYLES = {
    "bn_training": ("#D55E00", "o", "-"),
    "guide_idiom": ("#E69F00", "x", "--"),
    "bn_frozen": ("#0072B2", "s", "-"),
}


def plot_fine_tuning(result: FineTuneResult) -> Any:
    """Target validation accuracy during fine-tuning, mean and min-max band over seeds,
    one line per variant (color, marker and dash differ). Returns the matplotlib Figure."""
    from bncourse import plotting

    fig, axes = plotting.subplots(1, 1, width=7.5)
    ax = axes[0, 0]
    for variant, curves in result.val_accuracy.items():
        color, marker, dash = _FINE_TUNING_STYLES[variant]
        plotting.mean_with_spread(
            ax,
            result.steps,
            curves,
            label=FINE_TUNING_VARIANTS[variant],
            color=color,
            marker=marker,
        )
        ax.lines[-1].set_linestyle(dash)
    batch = result.settings.get("batch_size", "?")
    plotting.finish(
        ax,
        title="Fine-tuning on the new classes from a pretrained base",
        xlabel=f"fine-tuning step (batches of {batch})",
        ylabel="validation accuracy, new classes",
    )
    return fig


@dataclass
class AdaptationResult:
    """Test accuracy on shifted digits, per seed (rows) and brightness (columns).

    ``clean``: the BN model on the original test digits, one per seed; ``before`` and
    ``after``: the BN model on shifted test digits with its training statistics and with
    statistics re-estimated on shifted, unlabeled training inputs; ``plain``: the same MLP
    without BN on the shifted test digits.
    """

    brightness: np.ndarray
    contrast: float
    clean: np.ndarray
    before: np.ndarray
    after: np.ndarray
    plain: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    def at(self, brightness: float) -> int:
        """The column of ``brightness`` in the arrays."""
        hits = np.flatnonzero(np.isclose(self.brightness, brightness))
        if not len(hits):
            raise ValueError(f"brightness {brightness} was not measured; got {self.brightness}")
        return int(hits[0])


def compare_adaptation(
    data: DataSplit,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 300,
    brightness: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8),
    contrast: float = 0.5,
    batch_size: int = 32,
    learning_rate: float = 0.05,
) -> AdaptationResult:
    """Train the 3 x 100 MLP with Dense -> BN -> ReLU blocks, and without BN, on ``data``.

    For each seed both are trained (SGD with momentum 0.9) on the original digits; the BN
    model is scored on the original test digits and, through ``adaptation_sweep``, on test
    digits shifted by ``shift_intensity(contrast, brightness)`` before and after its BN
    statistics are re-estimated on the shifted training inputs (labels unused). The model
    without BN is scored on the same shifted test digits.
    """
    from bncourse.lab.training import MLP, Trainer

    values = np.asarray(brightness, dtype=np.float64)
    if not len(seeds) or not len(values) or steps < 1:
        raise ValueError("need at least one seed, one brightness and one step")
    dims = {"input_dim": data.x_train.shape[1], "num_classes": data.num_classes}
    bn_trainer = Trainer(MLP(block=("bn", "act")), fused=True, **dims)
    plain_trainer = Trainer(MLP(block=("act",)), fused=True, **dims)
    settings = {"steps": steps, "batch_size": batch_size, "learning_rate": learning_rate}
    clean, before, after, plain = [], [], [], []
    for seed in seeds:
        bn_trainer.run(data, seed=seed, eval_every=steps, **settings)
        clean.append(accuracy(bn_trainer.model, data.x_test, data.y_test))
        b, a = adaptation_sweep(
            bn_trainer.model, data.x_train, data.x_test, data.y_test, values, contrast=contrast
        )
        before.append(b)
        after.append(a)
        plain_trainer.run(data, seed=seed, eval_every=steps, **settings)
        plain.append(
            [
                accuracy(
                    plain_trainer.model,
                    shift_intensity(data.x_test, contrast=contrast, brightness=v),
                    data.y_test,
                )
                for v in values
            ]
        )
    return AdaptationResult(
        brightness=values,
        contrast=contrast,
        clean=np.asarray(clean),
        before=np.asarray(before),
        after=np.asarray(after),
        plain=np.asarray(plain),
        settings={"seeds": list(seeds), **settings},
    )


def plot_adaptation(result: AdaptationResult) -> Any:
    """Accuracy against the brightness added: no BN, BN with its training statistics, BN
    with re-estimated statistics (mean and min-max band over seeds), and the BN model on
    the original digits. Returns the matplotlib Figure."""
    from bncourse import plotting

    fig, axes = plotting.subplots(1, 1, width=7.5)
    ax = axes[0, 0]
    x = result.brightness
    plotting.mean_with_spread(ax, x, result.plain, label="no BN", color="#666666", marker="o")
    ax.lines[-1].set_linestyle(":")
    plotting.mean_with_spread(
        ax, x, result.before, label="BN, training statistics", color="#D55E00", marker="o"
    )
    ax.lines[-1].set_linestyle("--")
    plotting.mean_with_spread(
        ax, x, result.after, label="BN, statistics re-estimated", color="#0072B2", marker="s"
    )
    ax.axhline(
        result.clean.mean(), color="#0072B2", ls="-.", lw=1, label="BN model, original digits"
    )
    clips = 1.0 - result.contrast  # brightest pixel, contrast * 1 + brightness, reaches 1
    if x.min() < clips < x.max():
        ax.axvline(clips, color="#999999", lw=0.8)
        ax.text(clips + 0.02, 0.12, "pixels start\nto clip at 1", fontsize=9, color="#555555")
    plotting.finish(
        ax,
        title=f"Shifted test digits (contrast {result.contrast:g}), before and after adaptation",
        xlabel="brightness added",
        ylabel="test accuracy",
    )
    ax.legend(loc="lower left")
    return fig
