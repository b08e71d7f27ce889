# ruff: noqa: B905 - learners write zip() without strict=
"""Learner-style submissions for lesson 06: ``fold_batchnorm`` (written from the lesson's
idea that inference-mode BN is an affine map per feature) and ``build_dense_bn_model``
(written from the lesson's section 1 and its contract)."""

from __future__ import annotations

import numpy as np

FOLD = "fold_batchnorm"
BUILD = "build_dense_bn_model"


# ---------------------------------------------------------------------------
# fold_batchnorm
# ---------------------------------------------------------------------------


def fold_per_channel_loop(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    channels = kernel.shape[-1]
    new_kernel = np.empty(kernel.shape, dtype=np.float32)
    new_bias = np.empty(channels, dtype=np.float32)
    for c in range(channels):
        slope = gamma[c] / np.sqrt(moving_var[c] + eps)
        b = 0.0 if bias is None else bias[c]
        new_kernel[..., c] = kernel[..., c] * slope
        new_bias[c] = slope * b + beta[c] - slope * moving_mean[c]
    return new_kernel, new_bias


def _slope_and_intercept(gamma, beta, mean, var, eps):
    slope = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    return slope, beta - slope * mean


def fold_through_affine_helper(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    slope, intercept = _slope_and_intercept(gamma, beta, moving_mean, moving_var, eps)
    b = np.zeros_like(slope) if bias is None else bias
    return (kernel * slope).astype(np.float32), (slope * b + intercept).astype(np.float32)


def fold_with_einsum(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / np.sqrt(moving_var + eps)
    k = np.einsum("...c,c->...c", kernel, s)
    b = np.zeros(kernel.shape[-1]) if bias is None else np.array(bias)
    return k, np.einsum("c,c->c", b - moving_mean, s) + beta


def fold_flattened(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    flat = kernel.reshape(-1, kernel.shape[-1])
    s = (gamma / np.sqrt(moving_var + eps)).reshape(1, -1)
    b = 0 if bias is None else bias
    return (flat * s).reshape(kernel.shape), ((b - moving_mean) * s + beta).ravel()


def fold_no_mean(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / np.sqrt(moving_var + eps)
    b = np.zeros(kernel.shape[-1]) if bias is None else bias
    return kernel * s, b * s + beta


def fold_bias_not_scaled(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / np.sqrt(moving_var + eps)
    new_bias = [(0 if bias is None else bias[c]) - moving_mean[c] + beta[c] for c in range(len(s))]
    return kernel * s, np.array(new_bias)


def fold_drops_bias(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    slope, intercept = _slope_and_intercept(gamma, beta, moving_mean, moving_var, eps)
    return kernel * slope, intercept  # the layer's own bias is lost


def fold_eps_after_root(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    std = np.sqrt(moving_var) + eps
    b = 0 if bias is None else bias
    return kernel * gamma / std, (b - moving_mean) * gamma / std + beta


def fold_divides_by_variance(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / (moving_var + eps)
    b = 0 if bias is None else bias
    return kernel * s, (b - moving_mean) * s + beta


def fold_beta_scales(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = beta / np.sqrt(moving_var + eps)
    b = 0 if bias is None else bias
    return kernel * s, (b - moving_mean) * s + gamma


def fold_returns_bias_first(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    k, b = fold_flattened(kernel, bias, gamma, beta, moving_mean, moving_var, eps)
    return b, k


def fold_in_place(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / np.sqrt(moving_var + eps)
    kernel *= s
    b = np.zeros_like(s) if bias is None else bias
    return kernel, (b - moving_mean) * s + beta


# ---------------------------------------------------------------------------
# build_dense_bn_model (Keras is imported when a builder runs)
# ---------------------------------------------------------------------------


def build_with_add(input_dim, units, num_classes):
    import keras

    model = keras.Sequential()
    model.add(keras.layers.Input(shape=(input_dim,)))
    model.add(keras.layers.Dense(units, use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.ReLU())
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model


def build_functional_chain(input_dim, units, num_classes):
    import keras

    layers = [
        keras.layers.Dense(units, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.Activation(keras.activations.relu),
        keras.layers.Dense(num_classes),
        keras.layers.Softmax(),
    ]
    x = inputs = keras.Input((input_dim,))
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def build_relu_inside_dense(input_dim, units, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(units, activation="relu", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def build_bn_after_relu_layer(input_dim, units, num_classes):
    import keras

    inputs = keras.Input((input_dim,))
    h = keras.layers.Dense(units, use_bias=False)(inputs)
    h = keras.layers.ReLU()(h)
    h = keras.layers.BatchNormalization()(h)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(h))


def build_keeps_bias(input_dim, units, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(units),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def build_without_bn(input_dim, units, num_classes):
    import keras

    model = keras.Sequential([keras.Input((input_dim,))])
    model.add(keras.layers.Dense(units, use_bias=False))
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model


def build_pytorch_settings(input_dim, units, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(units, use_bias=False),
            keras.layers.BatchNormalization(momentum=0.1, epsilon=1e-5),
            keras.layers.Activation("relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def build_without_softmax(input_dim, units, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(units, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dense(num_classes),
        ]
    )


CORRECT = [
    (FOLD, fold_per_channel_loop),
    (FOLD, fold_through_affine_helper),
    (FOLD, fold_with_einsum),
    (FOLD, fold_flattened),
    (BUILD, build_with_add),
    (BUILD, build_functional_chain),
]

WRONG = [
    (FOLD, fold_no_mean, "fold-forgets-mean"),
    (FOLD, fold_bias_not_scaled, "fold-bias-unscaled"),
    (FOLD, fold_drops_bias, "fold-ignores-bias"),
    (FOLD, fold_eps_after_root, "eps-outside-sqrt"),
    (FOLD, fold_divides_by_variance, "std-for-var"),
    (FOLD, fold_beta_scales, "swapped-gamma-beta"),
    (FOLD, fold_returns_bias_first, "wrong-output-order"),
    (FOLD, fold_in_place, "mutates-input"),
    (BUILD, build_relu_inside_dense, "bn-after-activation"),
    (BUILD, build_bn_after_relu_layer, "bn-after-activation"),
    (BUILD, build_keeps_bias, "bias-before-bn"),
    (BUILD, build_without_bn, "missing-batchnorm"),
    (BUILD, build_pytorch_settings, "pytorch-bn-settings"),
    (BUILD, build_without_softmax, None),
]
