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
  images (AdaBN, Li et al., 2016).

NumPy only at import; TensorFlow and Keras are imported on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
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
