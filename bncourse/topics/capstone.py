"""Lesson 11 (capstone): the learner's own BN layer inside a NumPy network, the same
network in Keras, and BN folded into a convolution for deployment.

What the lesson does with these helpers:

* ``mlp_weights`` draws one set of initial weights that the NumPy network and the Keras
  network both start from, and ``epoch_orders`` one order of the training samples per
  epoch that both follow;
* ``usable_layer`` returns the learner's layer class once it runs, and the course's
  ``CourseBatchNormLayer`` (built on ``bncourse.reference``) until then, so the lesson runs
  top to bottom before the exercise is done;
* ``NumpyMLP`` is a Dense -> BN -> ReLU network in NumPy whose BN layers are instances of
  the class the learner wrote (``forward(x, training)``, ``backward(dout)``, ``dgamma``,
  ``dbeta``); ``train_numpy`` trains it with plain SGD and ``train_keras`` trains the same
  network in Keras, batch for batch; ``compare_mlps`` runs the three over seeds and
  ``plot_mlps`` draws their validation accuracy;
* ``build_conv_bn`` and ``train_conv_bn`` build and train a small Conv2D -> BN -> ReLU
  network on the 8x8 digits, ``conv_bn_parts`` reads what folding needs from it and
  ``folded_predictions`` runs the network with BN folded into the convolution;
  ``adapt_conv_bn`` replaces its BN layer's moving statistics with those of new, unlabeled
  images (AdaBN, Li et al., 2016);
* ``compare_placements`` trains the small convolutional network with BN before the ReLU and
  after it, and ``compare_heads`` trains it at batch size 2 with a Dense layer in the head
  followed by no normalization, BN, BN with ``renorm=True`` or GroupNormalization, and
  measures how far each BN layer's moving variance is from what it receives. Both train
  every variant and seed side by side in one Keras model (``image_patches`` turns each 3x3
  convolution into a matrix product); ``plot_seeds`` draws the per-seed results, and
  ``course_choose_placement`` / ``usable_rule`` stand in for the learner's
  ``choose_placement`` until it runs.

NumPy only at import; TensorFlow and Keras are imported on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.data import DataSplit
from bncourse.seeding import resolve

__all__ = [
    "mlp_weights",
    "epoch_orders",
    "CourseBatchNormLayer",
    "usable_layer",
    "NumpyMLP",
    "train_numpy",
    "train_keras",
    "compare_mlps",
    "plot_mlps",
    "build_conv_bn",
    "train_conv_bn",
    "conv_bn_parts",
    "folded_predictions",
    "adapt_conv_bn",
    "PLACEMENTS",
    "HEADS",
    "SideBySide",
    "image_patches",
    "compare_placements",
    "compare_heads",
    "course_choose_placement",
    "usable_rule",
    "plot_seeds",
]

MOMENTUM = 0.9  # the BN layers' momentum: a short run needs moving statistics that catch up
EPSILON = 1e-3


def mlp_weights(
    *, seed: int, inputs: int = 64, hidden: Sequence[int] = (64, 64), classes: int = 10
) -> list[np.ndarray]:
    """Initial kernels (He-normal, float32), input to output, and the output bias (zeros)."""
    rng = np.random.default_rng(resolve(seed))
    sizes = [inputs, *hidden, classes]
    kernels = [
        (rng.normal(size=(a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    return [*kernels, np.zeros(classes, dtype=np.float32)]


def epoch_orders(*, samples: int, epochs: int, seed: int) -> list[np.ndarray]:
    """One random order of the training samples per epoch (the same for every network)."""
    rng = np.random.default_rng(resolve(seed) + 1)
    return [rng.permutation(samples) for _ in range(epochs)]


class CourseBatchNormLayer:
    """The course's layer with the capstone's contract, built on ``bncourse.reference``."""

    def __init__(self, features: int, momentum: float = 0.99, epsilon: float = 1e-3) -> None:
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.moving_mean = np.zeros(features, dtype=np.float32)
        self.moving_var = np.ones(features, dtype=np.float32)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        from bncourse import reference as ref

        if not training:
            stats = (self.moving_mean, self.moving_var)
            return ref.batchnorm_inference(x, self.gamma, self.beta, *stats, self.epsilon)
        self._x = x
        stats = (ref.batch_mean(x), ref.batch_variance(x))
        self.moving_mean, self.moving_var = ref.update_moving_stats(
            self.moving_mean, self.moving_var, *stats, self.momentum
        )
        return ref.batchnorm_forward(x, self.gamma, self.beta, self.epsilon)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        from bncourse import reference as ref

        dx, self.dgamma, self.dbeta = ref.batchnorm_backward(
            dout, self._x, self.gamma, self.epsilon
        )
        return dx


def usable_layer(layer_class: Any) -> Any:
    """``layer_class`` if a forward and backward call on a small batch run without
    NotImplementedError, else ``CourseBatchNormLayer`` (and a sentence saying so)."""
    try:
        layer = layer_class(3, momentum=MOMENTUM, epsilon=EPSILON)
        layer.forward(np.eye(4, 3, dtype=np.float32), training=True)
        layer.backward(np.ones((4, 3), dtype=np.float32))
    except NotImplementedError:
        print(
            f"{getattr(layer_class, '__name__', 'Your layer')} is not written yet: the runs "
            "below use the course's CourseBatchNormLayer instead. Write yours, check it, "
            "then run them again."
        )
        return CourseBatchNormLayer
    return layer_class


class NumpyMLP:
    """Dense -> [BN] -> ReLU blocks and a Dense output layer, trained by plain SGD.

    ``layer_class`` is a BN layer class with the capstone's contract (or ``None`` for a
    plain network, whose hidden Dense layers then get a bias). Its instances are built
    with ``layer_class(units, momentum=0.9, epsilon=1e-3)``.
    """

    def __init__(self, weights: Sequence[np.ndarray], layer_class: Any = None) -> None:
        *kernels, out_bias = weights
        self.kernels = [np.array(k, dtype=np.float32) for k in kernels]
        self.biases = [np.zeros(k.shape[1], dtype=np.float32) for k in self.kernels[:-1]]
        self.biases.append(np.array(out_bias, dtype=np.float32))
        self.norms = (
            [layer_class(k.shape[1], momentum=MOMENTUM, epsilon=EPSILON) for k in kernels[:-1]]
            if layer_class is not None
            else []
        )

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The logits; with ``training=True`` the values backward needs are kept."""
        self._inputs, self._masks = [], []
        h = x
        for index, kernel in enumerate(self.kernels):
            self._inputs.append(h)
            z = h @ kernel
            if index == len(self.kernels) - 1:
                return z + self.biases[index]
            z = (
                self.norms[index].forward(z, training=training)
                if self.norms
                else z + self.biases[index]
            )
            self._masks.append(z > 0)
            h = np.maximum(z, 0.0)
        return h

    def sgd_step(self, x: np.ndarray, labels: np.ndarray, lr: float) -> float:
        """One step of softmax cross-entropy and plain SGD on a batch; returns the loss."""
        logits = self.forward(x, training=True)
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(-np.log(probs[rows, labels] + 1e-12).mean())
        grad = probs
        grad[rows, labels] -= 1.0
        grad /= len(labels)
        for index in reversed(range(len(self.kernels))):
            d_kernel = self._inputs[index].T @ grad
            d_bias = grad.sum(axis=0)
            grad_in = grad @ self.kernels[index].T
            self.kernels[index] -= lr * d_kernel
            if index == len(self.kernels) - 1 or not self.norms:
                self.biases[index] -= lr * d_bias
            if index == 0:
                break
            grad = grad_in * self._masks[index - 1]
            if self.norms:
                norm = self.norms[index - 1]
                grad = norm.backward(grad)
                norm.gamma = norm.gamma - lr * norm.dgamma
                norm.beta = norm.beta - lr * norm.dbeta
        return loss

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Inference-mode accuracy (BN with its moving statistics)."""
        return float(np.mean(self.forward(x, training=False).argmax(axis=1) == labels))


def train_numpy(
    *,
    weights: Sequence[np.ndarray],
    data: DataSplit,
    orders: Sequence[np.ndarray],
    layer_class: Any = None,
    batch_size: int = 32,
    lr: float = 0.1,
) -> np.ndarray:
    """Validation accuracy after each epoch of a ``NumpyMLP`` (one epoch per order)."""
    model = NumpyMLP(weights, layer_class)
    history = []
    for order in orders:
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            model.sgd_step(data.x_train[batch], data.y_train[batch], lr)
        history.append(model.accuracy(data.x_val, data.y_val))
    return np.array(history)


def _keras_mlp(weights: Sequence[np.ndarray], batch_norm: bool) -> Any:
    import keras

    *kernels, out_bias = weights
    inputs = keras.Input((kernels[0].shape[0],))
    h = inputs
    for kernel in kernels[:-1]:
        dense = keras.layers.Dense(kernel.shape[1], use_bias=not batch_norm)
        h = dense(h)
        dense.kernel.assign(kernel)
        if batch_norm:
            h = keras.layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON)(h)
        h = keras.layers.ReLU()(h)
    head = keras.layers.Dense(kernels[-1].shape[1])
    outputs = head(h)
    head.set_weights([kernels[-1], out_bias])
    return keras.Model(inputs, outputs)


def train_keras(
    *,
    weights: Sequence[np.ndarray],
    data: DataSplit,
    orders: Sequence[np.ndarray],
    batch_norm: bool = True,
    batch_size: int = 32,
    lr: float = 0.1,
) -> np.ndarray:
    """The same network in Keras, same initial weights and same batches, plain SGD."""
    import keras
    import tensorflow as tf

    model = _keras_mlp(weights, batch_norm)
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    history = []
    for order in orders:
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            step(tf.constant(data.x_train[batch]), tf.constant(data.y_train[batch]))
        logits = model(data.x_val, training=False)
        history.append(float(np.mean(np.argmax(logits, axis=1) == data.y_val)))
    return np.array(history)


def compare_mlps(
    *,
    layer_class: Any,
    data: DataSplit,
    seeds: Sequence[int],
    epochs: int = 6,
    batch_size: int = 32,
    lr: float = 0.1,
) -> dict[str, np.ndarray]:
    """Validation accuracy per epoch, (seeds, epochs), of three networks per seed: NumPy
    with ``layer_class``, NumPy without BN, and Keras with BN, all from the same weights
    and batches."""
    runs: dict[str, list[np.ndarray]] = {"NumPy, your BN": [], "NumPy, no BN": [], "Keras, BN": []}
    for seed in seeds:
        weights = mlp_weights(seed=seed)
        orders = epoch_orders(samples=len(data.x_train), epochs=epochs, seed=seed)
        common = {
            "weights": weights,
            "data": data,
            "orders": orders,
            "batch_size": batch_size,
            "lr": lr,
        }
        runs["NumPy, your BN"].append(train_numpy(layer_class=layer_class, **common))
        runs["NumPy, no BN"].append(train_numpy(layer_class=None, **common))
        runs["Keras, BN"].append(train_keras(batch_norm=True, **common))
    return {name: np.array(values) for name, values in runs.items()}


def plot_mlps(runs: dict[str, np.ndarray]) -> Any:
    """Validation accuracy per epoch: mean over seeds with a min-max band, one line each."""
    from bncourse import plotting

    fig, axes = plotting.subplots(width=6.5)
    ax = axes[0, 0]
    styles = {
        "NumPy, your BN": ("with_bn", "-", "o"),
        "NumPy, no BN": ("without_bn", ":", "s"),
        "Keras, BN": ("alt", "--", "^"),
    }
    for name, values in runs.items():
        color, line, marker = styles.get(name, ("neutral", "-", "o"))
        epochs = np.arange(1, values.shape[1] + 1)
        plotting.mean_with_spread(
            ax,
            epochs,
            values,
            label=name,
            color=plotting.COLORS[color],
            marker=marker,
            linestyle=line,
        )
    ax.set_xticks(np.arange(1, next(iter(runs.values())).shape[1] + 1))
    plotting.finish(
        ax,
        title=f"Validation accuracy, mean and range over {len(next(iter(runs.values())))} seeds",
        xlabel="epoch",
        ylabel="validation accuracy",
    )
    return fig


def build_conv_bn(*, filters: int = 8, classes: int = 10) -> Any:
    """Conv2D (3x3, no bias) -> BN (momentum 0.9) -> ReLU -> Flatten -> Dense, for 8x8x1."""
    import keras

    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name="conv"),
            keras.layers.BatchNormalization(momentum=MOMENTUM, name="bn"),
            keras.layers.ReLU(name="relu"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(classes, name="head"),
        ]
    )


def train_conv_bn(*, data: DataSplit, epochs: int = 4, seed: int = 0) -> Any:
    """The Conv2D -> BN -> ReLU network trained on 8x8 digit images (Adam, batch 32)."""
    import keras

    keras.utils.set_random_seed(resolve(seed))
    model = build_conv_bn()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(data.x_train, data.y_train, batch_size=32, epochs=epochs, verbose=0)
    return model


def conv_bn_parts(model: Any) -> dict[str, Any]:
    """What folding needs, as NumPy: kernel, bias (None), gamma, beta, mean, var, eps."""
    conv, bn = model.get_layer("conv"), model.get_layer("bn")
    gamma, beta, mean, var = (np.asarray(w) for w in bn.get_weights())
    return {
        "kernel": np.asarray(conv.get_weights()[0]),
        "bias": None,
        "gamma": gamma,
        "beta": beta,
        "mean": mean,
        "var": var,
        "eps": float(bn.epsilon),
    }


def folded_predictions(
    model: Any, *, kernel: np.ndarray, bias: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """The logits of ``model`` with Conv2D -> BN replaced by one Conv2D(kernel, bias)."""
    import keras

    conv = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], padding="same")
    folded = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            conv,
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(model.output_shape[-1]),
        ]
    )
    conv.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    folded.layers[-1].set_weights(model.get_layer("head").get_weights())
    return np.asarray(folded.predict(x, verbose=0))


def adapt_conv_bn(model: Any, *, x: np.ndarray) -> None:
    """Set the BN layer's moving mean and variance, in place, to the per-channel statistics
    (over images, height and width; biased variance) of the convolution's output on ``x``."""
    z = np.asarray(model.get_layer("conv")(x), dtype=np.float64)
    bn = model.get_layer("bn")
    bn.moving_mean.assign(z.mean(axis=(0, 1, 2)).astype(np.float32))
    bn.moving_variance.assign(z.var(axis=(0, 1, 2)).astype(np.float32))


# ---------------------------------------------------------------------------
# Part (b): placements and small batches, every variant and seed side by side.
# ---------------------------------------------------------------------------

PLACEMENTS = ("before", "after")
"""BN before the ReLU (Conv without bias -> BN -> ReLU) and after it (Conv -> ReLU -> BN)."""

HEADS = ("none", "bn", "renorm", "group")
"""The normalization after the Dense layer of the small-batch network's head."""


@dataclass
class SideBySide:
    """What ``compare_placements`` and ``compare_heads`` measured.

    ``accuracy[name]``: final validation accuracy in inference mode, one value per seed.
    ``variance_ratio[name]``, for variants with a BN layer there: per seed, the median over
    the layer's channels of its moving variance divided by the variance of what it receives
    over the training images (layers before it in inference mode); keys ``"<name> conv"``
    and ``"<name> head"``.
    """

    seeds: list[int]
    accuracy: dict[str, np.ndarray]
    variance_ratio: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def _uniform_per_seed(seed: int, depth: int, shape: tuple[int, ...], fan: int) -> np.ndarray:
    limit = np.sqrt(6.0 / fan)
    return np.random.default_rng([resolve(seed), depth]).uniform(-limit, limit, shape)


def image_patches(x: np.ndarray) -> np.ndarray:
    """The 3x3 neighbourhoods of every pixel, zero-padded: (n, 8, 8, 1) -> (n, 8, 8, 9),
    neighbour ``3 * di + dj`` at offset (di - 1, dj - 1), the order of a flattened (3, 3)
    Conv2D kernel. A 3x3 "same" convolution is then a matrix product with the patches."""
    images = np.asarray(x, dtype=np.float32)[..., 0]
    height, width = images.shape[1:]
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    views = [padded[:, i : i + height, j : j + width] for i in range(3) for j in range(3)]
    return np.stack(views, axis=-1)


def _side_by_side_model(
    variants: Sequence[tuple[str, str, str]], seeds: int, filters: int, hidden: int, classes: int
) -> Any:
    """One Keras model holding an independent network per (variant, seed).

    The input is (batch, 8, 8, seeds, 9): for each seed's batch, the 3x3 patches of every
    pixel (``image_patches``). Each branch's convolution (3x3, ``filters`` channels, "same"
    padding) is an EinsumDense over the patches with a kernel per seed: the numbers a
    Conv2D gives, as one matrix product for all branches. BN keeps statistics per channel
    over batch, height and width, so per branch; the Dense layers have a kernel per seed.
    ``variants``: (name, placement of the conv BN, head normalization or "" for no hidden
    Dense layer). Every variant sees the same batches.
    """
    import keras

    inputs = keras.Input((8, 8, seeds, 9), name="patches")
    outputs = []
    for name, placement, head in variants:
        x = keras.layers.EinsumDense(
            "bhwsp,spf->bhwsf",
            output_shape=(8, 8, seeds, filters),
            bias_axes="sf" if placement == "after" else None,  # beta replaces the bias
            name=f"{name}_conv",
        )(inputs)
        x = keras.layers.Reshape((8, 8, seeds * filters))(x)
        bn = keras.layers.BatchNormalization(momentum=MOMENTUM, name=f"{name}_conv_bn")
        x = keras.layers.ReLU()(bn(x)) if placement == "before" else bn(keras.layers.ReLU()(x))
        x = keras.layers.Reshape((8, 8, seeds, filters))(x)
        units = hidden if head else classes
        x = keras.layers.EinsumDense(
            "bhwsf,shwfo->bso",
            output_shape=(seeds, units),
            bias_axes="so" if head in ("", "none") else None,
            name=f"{name}_dense_1" if head else f"{name}_logits",
        )(x)
        if head:
            if head != "none":
                x = keras.layers.Reshape((seeds * hidden,))(x)
                x = _head_norm(head, seeds, name)(x)
                x = keras.layers.Reshape((seeds, hidden))(x)
            x = keras.layers.ReLU()(x)
            x = keras.layers.EinsumDense(
                "bsi,sio->bso", output_shape=(seeds, classes), bias_axes="so", name=f"{name}_logits"
            )(x)
        outputs.append(x)
    return keras.Model(inputs, outputs)


def _head_norm(head: str, seeds: int, name: str) -> Any:
    import keras

    if head == "bn":
        return keras.layers.BatchNormalization(momentum=0.99, name=f"{name}_head_bn")
    if head == "renorm":
        return keras.layers.BatchNormalization(renorm=True, name=f"{name}_head_bn")
    return keras.layers.GroupNormalization(groups=seeds * GROUPS, name=f"{name}_head_gn")


GROUPS = 4


def _initialize(model: Any, variants: Sequence[tuple[str, str, str]], seeds: Sequence[int]) -> None:
    """Glorot-uniform kernels (Keras's default for Conv2D and Dense) drawn per seed and
    depth, so every variant starts from the same kernels for the same seed."""
    names = {layer.name for layer in model.layers}
    for name, _, _ in variants:
        for depth, layer_name in enumerate((f"{name}_conv", f"{name}_dense_1", f"{name}_logits")):
            if layer_name not in names:
                continue
            kernel = model.get_layer(layer_name).kernel
            shape = tuple(kernel.shape[1:])
            if depth == 0:  # (9, filters): a Conv2D's fans are 9 x 1 in and 9 x filters out
                fan = shape[0] * (1 + shape[1])
            else:  # the inputs are every axis but the last
                fan = int(np.prod(shape[:-1])) + shape[-1]
            kernels = [_uniform_per_seed(seed, depth, shape, fan) for seed in seeds]
            kernel.assign(np.stack(kernels).astype(np.float32))


def _batch_rows(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """(steps, batch_size) row indices: shuffled epochs, no row twice in one batch."""
    rng = np.random.default_rng(resolve(seed) + 2)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    rows = [rng.permutation(n)[: per_epoch * batch_size] for _ in range(epochs)]
    return np.concatenate(rows).reshape(-1, batch_size)[:steps]


def _train_side_by_side(
    *,
    data: DataSplit,
    variants: Sequence[tuple[str, str, str]],
    seeds: Sequence[int],
    batch_size: int,
    steps: int,
    learning_rate: float,
    filters: int,
    hidden: int,
) -> tuple[Any, dict[str, np.ndarray]]:
    """Train every (variant, seed) network with Adam on the same batches per seed; return
    the model and each variant's final validation accuracy per seed (inference mode)."""
    import keras
    import tensorflow as tf

    width = len(seeds)
    model = _side_by_side_model(variants, width, filters, hidden, data.num_classes)
    _initialize(model, variants, seeds)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_step(x: Any, y: Any) -> None:
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            # mean over samples and branches, times the branches: each branch's own loss
            loss = tf.add_n([loss_fn(y, logits) for logits in outputs])
            loss = loss * width
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, batch_size, 8, 8, width, 9], tf.float32),
            tf.TensorSpec([None, batch_size, width], tf.int64),
        ]
    )
    def train_steps(xs: Any, ys: Any) -> None:
        for i in tf.range(tf.shape(xs)[0]):
            train_step(xs[i], ys[i])

    rows = np.stack(
        [_batch_rows(len(data.x_train), batch_size, steps, seed) for seed in seeds], axis=-1
    )  # (steps, batch, seeds): the same batches for every variant of a seed
    patches = image_patches(data.x_train)[rows]  # (steps, batch, seeds, 8, 8, 9)
    xs = np.moveaxis(patches, 2, -2)  # (steps, batch, 8, 8, seeds, 9)
    ys = data.y_train[rows]  # (steps, batch, seeds): the labels are the same for every variant
    train_steps(tf.constant(xs), tf.constant(ys))
    x_val = np.repeat(image_patches(data.x_val)[:, :, :, np.newaxis], width, axis=3)
    outputs = model(x_val, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    accuracy = {
        name: (np.argmax(np.asarray(logits), axis=-1) == data.y_val[:, np.newaxis]).mean(axis=0)
        for (name, _, _), logits in zip(variants, outputs, strict=True)
    }
    return model, accuracy


def _variance_ratios(
    model: Any, layer_name: str, patches: np.ndarray, seeds: int, axes: tuple[int, ...]
) -> np.ndarray:
    """Per seed: the median over the BN layer's channels of moving variance / variance of
    what the layer receives on ``patches`` (every layer in inference mode)."""
    import keras

    layer = model.get_layer(layer_name)
    received = np.asarray(keras.Model(model.input, layer.input)(patches, training=False))
    actual = received.astype(np.float64).var(axis=axes)
    ratio = np.asarray(layer.moving_variance, dtype=np.float64) / np.maximum(actual, 1e-12)
    return np.median(ratio.reshape(seeds, -1), axis=1)


def compare_placements(
    *,
    data: DataSplit,
    seeds: Sequence[int],
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 0.01,
    filters: int = 8,
) -> SideBySide:
    """Train the 8x8-image network with BN before the ReLU (Conv without bias -> BN ->
    ReLU -> Flatten -> Dense) and after it (Conv -> ReLU -> BN -> ...), Adam, for each seed.

    Seed ``s`` fixes the initial kernels and the order of the batches, the same for both
    placements. ``data`` holds images (n, 8, 8, 1). Returns the final validation accuracy
    per seed of ``"before"`` and ``"after"``.
    """
    _check_images(data)
    steps = epochs * (len(data.x_train) // batch_size)
    variants = [(placement, placement, "") for placement in PLACEMENTS]
    _, accuracy = _train_side_by_side(
        data=data,
        variants=variants,
        seeds=seeds,
        batch_size=batch_size,
        steps=steps,
        learning_rate=learning_rate,
        filters=filters,
        hidden=0,
    )
    settings = {"epochs": epochs, "batch_size": batch_size, "steps": steps}
    return SideBySide(list(seeds), accuracy, settings=settings)


def compare_heads(
    *,
    data: DataSplit,
    seeds: Sequence[int],
    heads: Sequence[str] = HEADS,
    batch_size: int = 2,
    steps: int = 300,
    learning_rate: float = 0.003,
    filters: int = 8,
    hidden: int = 32,
) -> SideBySide:
    """Train Conv (no bias) -> BN -> ReLU -> Flatten -> Dense(hidden) -> [head norm] ->
    ReLU -> Dense(10) with each head normalization (``HEADS``: none, BN, BN with
    ``renorm=True``, GroupNormalization with 4 groups), Adam, for ``steps`` batches.

    Every variant of a seed starts from the same kernels and sees the same batches. Returns
    the final validation accuracy (inference mode) per seed, and the variance ratios of the
    convolution's BN (``"<head> conv"``) and of the BN head (``"bn head"``) on the training
    images.
    """
    _check_images(data)
    heads = list(heads)
    if not heads or len(set(heads)) != len(heads) or not set(heads) <= set(HEADS):
        raise ValueError(f"heads must list each of {HEADS} at most once; got {heads}")
    variants = [(head, "before", head) for head in heads]
    model, accuracy = _train_side_by_side(
        data=data,
        variants=variants,
        seeds=seeds,
        batch_size=batch_size,
        steps=steps,
        learning_rate=learning_rate,
        filters=filters,
        hidden=hidden,
    )
    patches = np.repeat(image_patches(data.x_train)[:, :, :, np.newaxis], len(seeds), axis=3)
    ratios = {}
    for head in heads:
        ratios[f"{head} conv"] = _variance_ratios(
            model, f"{head}_conv_bn", patches, len(seeds), (0, 1, 2)
        )
        if head == "bn":
            ratios[f"{head} head"] = _variance_ratios(
                model, f"{head}_head_bn", patches, len(seeds), (0,)
            )
    settings = {"batch_size": batch_size, "steps": steps, "learning_rate": learning_rate}
    return SideBySide(list(seeds), accuracy, ratios, settings)


def _check_images(data: DataSplit) -> None:
    if data.x_train.ndim != 4 or data.x_train.shape[1:] != (8, 8, 1):
        raise ValueError(
            f"data must hold 8x8 images of shape (n, 8, 8, 1), as digits(flatten=False) "
            f"gives; got x_train of shape {data.x_train.shape}"
        )


def course_choose_placement(before: Sequence[float], after: Sequence[float]) -> str:
    """The capstone's decision rule: "before" if every seed of ``before`` beats every seed
    of ``after``, "after" the other way round, else "tie"; a ValueError for fewer than two
    seeds."""
    runs = {
        "before": np.asarray(before, dtype=np.float64),
        "after": np.asarray(after, dtype=np.float64),
    }
    for name, values in runs.items():
        if values.ndim != 1 or len(values) < 2:
            raise ValueError(
                f"{name} needs a 1-D sequence of at least two seeds; got {values.shape}"
            )
    if runs["before"].min() > runs["after"].max():
        return "before"
    if runs["after"].min() > runs["before"].max():
        return "after"
    return "tie"


def usable_rule(rule: Any) -> Any:
    """``rule`` if it answers a small example without NotImplementedError, else
    ``course_choose_placement`` (and a sentence saying so)."""
    try:
        rule([0.9, 0.8], [0.7, 0.6])
    except NotImplementedError:
        print(
            f"{getattr(rule, '__name__', 'Your function')} is not written yet: the cells "
            "below use the course's rule instead. Write yours, check it, then run them again."
        )
        return course_choose_placement
    return rule


_SEED_STYLES = ("o", "s", "^", "D", "v", "P")


def plot_seeds(accuracy: dict[str, np.ndarray], *, labels: dict[str, str], title: str) -> Any:
    """Final validation accuracy of each variant: one marker per seed, the mean as a bar
    and the range as a line; the variants side by side."""
    from bncourse import plotting

    fig, axes = plotting.subplots(width=6.5)
    ax = axes[0, 0]
    colors = [plotting.COLORS[c] for c in ("with_bn", "without_bn", "alt", "highlight")]
    for position, values in enumerate(accuracy.values()):
        color = colors[position % len(colors)]
        values = np.asarray(values, dtype=np.float64)
        offsets = np.linspace(-0.12, 0.12, len(values))
        ax.vlines(position, values.min(), values.max(), color=color, linewidth=1.5)
        ax.hlines(values.mean(), position - 0.25, position + 0.25, color=color, linewidth=2.5)
        for offset, value, marker in zip(offsets, values, _SEED_STYLES * 2, strict=False):
            ax.plot(position + offset, value, marker=marker, color=color, linestyle="none")
    ax.set_xticks(range(len(accuracy)), [labels.get(name, name) for name in accuracy])
    ax.set_xlim(-0.6, len(accuracy) - 0.4)
    plotting.finish(
        ax,
        title=title,
        xlabel="variant (markers: seeds; bar: mean; line: lowest to highest seed)",
        ylabel="validation accuracy",
        legend=False,
    )
    return fig
