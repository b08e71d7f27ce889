"""NumPy reference implementation of Batch Normalization, following Keras's conventions.

The lessons and the graders trust these functions, so they are written to be read:
one function per step of the algorithm, names taken from the formulas.

Conventions (the same as ``keras.layers.BatchNormalization`` with its defaults):

* features or channels sit on the **last** axis; statistics are taken over every other
  axis, so ``(batch, features)`` and ``(batch, height, width, channels)`` both work;
* the batch variance is the biased one (divide by ``m``, the number of values each
  statistic averages), in the forward pass and in the moving variance;
* ``epsilon`` defaults to ``1e-3`` and ``momentum`` to ``0.99``, with the moving
  statistics updated as ``new = momentum * old + (1 - momentum) * batch``;
* float32 in, float32 out (the arithmetic is done in float64 inside), and the caller's
  arrays are never modified.

Sources: Ioffe & Szegedy (2015), "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift", Algorithm 1 and Section 3.1; the Keras
``BatchNormalization`` layer (``keras/src/layers/normalization/batch_normalization.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from bncourse.validation import float64_array

__all__ = [
    "DEFAULT_EPSILON",
    "DEFAULT_MOMENTUM",
    "DegenerateBatchWarning",
    "BatchNorm",
    "min_max_normalize",
    "standardize",
    "batch_mean",
    "batch_variance",
    "normalize",
    "scale_shift",
    "batchnorm_forward",
    "update_moving_stats",
    "batchnorm_inference",
    "batchnorm_backward",
    "fold_batchnorm",
    "layer_norm",
    "group_norm",
    "identity_params",
]

DEFAULT_EPSILON = 1e-3
"""Keras's default ``epsilon`` for ``BatchNormalization`` (PyTorch's is 1e-5)."""

DEFAULT_MOMENTUM = 0.99
"""Keras's default ``momentum``: the weight of the *old* moving value (PyTorch: 0.1, of the new)."""


class DegenerateBatchWarning(UserWarning):
    """A training-mode batch whose statistics average a single value per feature."""


# ---------------------------------------------------------------------------
# Input validation: one place, so every function reports bad input the same way.
# ---------------------------------------------------------------------------

_BATCH_SHAPES = "(batch, features) or (batch, height, width, channels)"


def _batch(x: Any, name: str = "x") -> np.ndarray:
    """A batch with features on the last axis: at least 2-D, non-empty."""
    array = float64_array(x, name)
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape {_BATCH_SHAPES}; got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    return array


def _table(x: Any, name: str = "x") -> np.ndarray:
    """A 2-D ``(samples, features)`` table, as the lesson-1 scalers expect."""
    array = float64_array(x, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (samples, features); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    return array


def _per_feature(value: Any, name: str, channels: int) -> np.ndarray:
    """A per-feature vector of shape ``(channels,)``."""
    array = float64_array(value, name)
    if array.shape != (channels,):
        raise ValueError(
            f"{name} must have shape (C,) = ({channels},), one value per feature; "
            f"got shape {array.shape}"
        )
    return array


def _non_negative_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value}")
    return number


def _momentum(value: Any) -> float:
    number = _non_negative_number(value, "momentum")
    if number > 1:
        raise ValueError(f"momentum must lie in [0, 1]; got {value}")
    return number


def _reduction_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the last: the axes BN averages over."""
    return tuple(range(x.ndim - 1))


def _f32(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def _warn_if_degenerate(x: np.ndarray, function: str) -> None:
    values_per_feature = x.size // x.shape[-1]
    if values_per_feature == 1:
        warnings.warn(
            f"{function} got a training-mode batch with one value per feature (shape {x.shape}): "
            "each mean equals the value itself, so x_hat is 0 everywhere and the output is beta. "
            "Use a larger batch, or inference mode (moving statistics).",
            DegenerateBatchWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------
# Lesson 1: scaling input features.
# ---------------------------------------------------------------------------


def min_max_normalize(x: Any) -> np.ndarray:
    """Scale each feature (column) of a 2-D ``(samples, features)`` array to [0, 1].

    ``(x - min) / (max - min)`` per column. A constant column has no range to divide by;
    it maps to 0, as scikit-learn's ``MinMaxScaler`` does.
    """
    x = _table(x)
    low = x.min(axis=0)
    spread = x.max(axis=0) - low
    safe_spread = np.where(spread > 0, spread, 1.0)
    return _f32((x - low) / safe_spread)


def standardize(x: Any) -> np.ndarray:
    """Shift and scale each feature of a 2-D array to mean 0 and standard deviation 1.

    Uses the population standard deviation (divide by m). A constant column maps to 0,
    as scikit-learn's ``StandardScaler`` does.
    """
    x = _table(x)
    mu = x.mean(axis=0)
    sigma = x.std(axis=0)
    safe_sigma = np.where(sigma > 0, sigma, 1.0)
    return _f32((x - mu) / safe_sigma)


# ---------------------------------------------------------------------------
# The four steps of Batch Normalization (Ioffe & Szegedy 2015, Algorithm 1).
# ---------------------------------------------------------------------------


def batch_mean(x: Any) -> np.ndarray:
    """Step 1: the mean of each feature over every axis but the last; shape ``(C,)``."""
    x = _batch(x)
    return _f32(x.mean(axis=_reduction_axes(x)))


def batch_variance(x: Any) -> np.ndarray:
    """Step 2: the biased (divide by m) variance of each feature; shape ``(C,)``."""
    x = _batch(x)
    axes = _reduction_axes(x)
    mu = x.mean(axis=axes)
    return _f32(((x - mu) ** 2).mean(axis=axes))


def normalize(x: Any, mean: Any, var: Any, eps: float = DEFAULT_EPSILON) -> np.ndarray:
    """Step 3: ``(x - mean) / sqrt(var + eps)``, with epsilon inside the square root."""
    x = _batch(x)
    channels = x.shape[-1]
    mu = _per_feature(mean, "mean", channels)
    var = _per_feature(var, "var", channels)
    if np.any(var < 0):
        raise ValueError("var must be >= 0 for every feature; a variance cannot be negative")
    eps = _non_negative_number(eps, "eps")
    return _f32((x - mu) / np.sqrt(var + eps))


def scale_shift(x_hat: Any, gamma: Any, beta: Any) -> np.ndarray:
    """Step 4: ``gamma * x_hat + beta``, one gamma and one beta per feature."""
    x_hat = _batch(x_hat, "x_hat")
    channels = x_hat.shape[-1]
    gamma = _per_feature(gamma, "gamma", channels)
    beta = _per_feature(beta, "beta", channels)
    return _f32(gamma * x_hat + beta)


def _forward_float64(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode forward pass in float64: ``(y, x_hat, mu, var)``."""
    axes = _reduction_axes(x)
    mu = x.mean(axis=axes)
    var = ((x - mu) ** 2).mean(axis=axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, x_hat, mu, var


def batchnorm_forward(x: Any, gamma: Any, beta: Any, eps: float = DEFAULT_EPSILON) -> np.ndarray:
    """Training-mode BN: normalize with the batch's own statistics, then scale and shift."""
    x = _batch(x)
    channels = x.shape[-1]
    gamma = _per_feature(gamma, "gamma", channels)
    beta = _per_feature(beta, "beta", channels)
    eps = _non_negative_number(eps, "eps")
    _warn_if_degenerate(x, "batchnorm_forward")
    y, _, _, _ = _forward_float64(x, gamma, beta, eps)
    return _f32(y)


# ---------------------------------------------------------------------------
# Moving statistics and inference.
# ---------------------------------------------------------------------------


def update_moving_stats(
    moving_mean: Any,
    moving_var: Any,
    batch_mean: Any,
    batch_var: Any,
    momentum: float = DEFAULT_MOMENTUM,
) -> tuple[np.ndarray, np.ndarray]:
    """One update of the moving statistics, Keras's convention.

    ``new = momentum * old + (1 - momentum) * batch``: ``momentum`` is the weight of the
    *old* value. (PyTorch's ``momentum`` is the weight of the *new* value.)
    """
    moving_mean = float64_array(moving_mean, "moving_mean")
    if moving_mean.ndim != 1:
        raise ValueError(f"moving_mean must have shape (C,); got shape {moving_mean.shape}")
    channels = moving_mean.shape[0]
    moving_var = _per_feature(moving_var, "moving_var", channels)
    new_mean = _per_feature(batch_mean, "batch_mean", channels)
    new_var = _per_feature(batch_var, "batch_var", channels)
    momentum = _momentum(momentum)
    return (
        _f32(momentum * moving_mean + (1.0 - momentum) * new_mean),
        _f32(momentum * moving_var + (1.0 - momentum) * new_var),
    )


def batchnorm_inference(
    x: Any,
    gamma: Any,
    beta: Any,
    moving_mean: Any,
    moving_var: Any,
    eps: float = DEFAULT_EPSILON,
) -> np.ndarray:
    """Inference-mode BN: the moving statistics replace the batch's own.

    Each sample's output depends on that sample alone, so a batch of one is fine here.
    """
    x = _batch(x)
    gamma, beta, mu, var, eps = _inference_params(
        gamma, beta, moving_mean, moving_var, eps, x.shape[-1]
    )
    return _f32(gamma * (x - mu) / np.sqrt(var + eps) + beta)


def _inference_params(
    gamma: Any, beta: Any, moving_mean: Any, moving_var: Any, eps: Any, channels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Validated (gamma, beta, moving_mean, moving_var, eps) for inference-mode BN."""
    gamma = _per_feature(gamma, "gamma", channels)
    beta = _per_feature(beta, "beta", channels)
    mu = _per_feature(moving_mean, "moving_mean", channels)
    var = _per_feature(moving_var, "moving_var", channels)
    if np.any(var < 0):
        raise ValueError("moving_var must be >= 0 for every feature")
    return gamma, beta, mu, var, _non_negative_number(eps, "eps")


# ---------------------------------------------------------------------------
# Backward pass.
# ---------------------------------------------------------------------------


def batchnorm_backward(
    dout: Any, x: Any, gamma: Any, eps: float = DEFAULT_EPSILON
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the training-mode forward pass: ``(dx, dgamma, dbeta)``.

    ``dout`` is the gradient of the loss with respect to the output ``y``. The batch mean
    and variance depend on every input, so ``dx`` has three paths: through ``x_hat``
    directly, through the mean and through the variance. Combined (m values per feature):

        dx = gamma / (m * sqrt(var + eps)) * (m * dout - sum(dout) - x_hat * sum(dout * x_hat))
    """
    x = _batch(x)
    dout = _batch(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x, {x.shape}; got shape {dout.shape}")
    channels = x.shape[-1]
    gamma = _per_feature(gamma, "gamma", channels)
    eps = _non_negative_number(eps, "eps")
    axes = _reduction_axes(x)
    m = x.size // channels
    _, x_hat, _, var = _forward_float64(x, gamma, np.zeros(channels), eps)
    inv_std = 1.0 / np.sqrt(var + eps)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx = (gamma * inv_std / m) * (m * dout - dbeta - x_hat * dgamma)
    return _f32(dx), _f32(dgamma), _f32(dbeta)


# ---------------------------------------------------------------------------
# Deployment: folding inference-mode BN into the layer before it.
# ---------------------------------------------------------------------------


def fold_batchnorm(
    kernel: Any,
    bias: Any,
    gamma: Any,
    beta: Any,
    moving_mean: Any,
    moving_var: Any,
    eps: float = DEFAULT_EPSILON,
) -> tuple[np.ndarray, np.ndarray]:
    """Fold inference-mode BN into the preceding Dense or Conv2D layer.

    The kernel's last axis holds the output features (Keras layout: ``(in, C)`` for
    Dense, ``(kh, kw, in, C)`` for Conv2D). ``bias`` may be ``None`` for a layer built
    with ``use_bias=False``. Returns ``(kernel', bias')`` with

        scale = gamma / sqrt(moving_var + eps)
        kernel' = kernel * scale            (per output feature)
        bias'   = (bias - moving_mean) * scale + beta
    """
    kernel = float64_array(kernel, "kernel")
    if kernel.ndim < 2:
        raise ValueError(
            "kernel must have shape (in, C) for Dense or (kh, kw, in, C) for Conv2D; "
            f"got shape {kernel.shape}"
        )
    channels = kernel.shape[-1]
    bias = np.zeros(channels) if bias is None else _per_feature(bias, "bias", channels)
    gamma, beta, mu, var, eps = _inference_params(
        gamma, beta, moving_mean, moving_var, eps, channels
    )
    scale = gamma / np.sqrt(var + eps)
    return _f32(kernel * scale), _f32((bias - mu) * scale + beta)


# ---------------------------------------------------------------------------
# Beyond BN: normalizations that do not depend on the batch.
# ---------------------------------------------------------------------------


def layer_norm(x: Any, gamma: Any, beta: Any, eps: float = DEFAULT_EPSILON) -> np.ndarray:
    """Layer Normalization (Ba, Kiros & Hinton, 2016): statistics per sample.

    Each sample is normalized over all its non-batch axes (features; or height, width
    and channels for images, as in Figure 2 of Wu & He's GroupNorm paper), then scaled and
    shifted per channel. For 2-D input this equals ``keras.layers.LayerNormalization()``.
    """
    x = _batch(x)
    channels = x.shape[-1]
    gamma = _per_feature(gamma, "gamma", channels)
    beta = _per_feature(beta, "beta", channels)
    eps = _non_negative_number(eps, "eps")
    axes = tuple(range(1, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return _f32(gamma * (x - mu) / np.sqrt(var + eps) + beta)


def group_norm(
    x: Any, gamma: Any, beta: Any, groups: int, eps: float = DEFAULT_EPSILON
) -> np.ndarray:
    """Group Normalization (Wu & He, 2018): statistics per sample and per group of channels.

    The C channels are split into ``groups`` consecutive groups; each sample is normalized
    over its spatial axes and the channels of one group. ``groups=1`` is ``layer_norm``;
    ``groups=C`` is Instance Normalization. Matches ``keras.layers.GroupNormalization``.
    """
    x = _batch(x)
    channels = x.shape[-1]
    gamma = _per_feature(gamma, "gamma", channels)
    beta = _per_feature(beta, "beta", channels)
    eps = _non_negative_number(eps, "eps")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"groups must be an int; got {type(groups).__name__}")
    if groups < 1 or channels % groups:
        raise ValueError(
            f"groups must be a positive divisor of the number of channels ({channels}); "
            f"got {groups}"
        )
    grouped = x.reshape(*x.shape[:-1], int(groups), channels // int(groups))
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    mu = grouped.mean(axis=axes, keepdims=True)
    var = ((grouped - mu) ** 2).mean(axis=axes, keepdims=True)
    x_hat = ((grouped - mu) / np.sqrt(var + eps)).reshape(x.shape)
    return _f32(gamma * x_hat + beta)


# ---------------------------------------------------------------------------
# A layer object: the bookkeeping around the functions above.
# ---------------------------------------------------------------------------


class BatchNorm:
    """A NumPy Batch Normalization layer with Keras's defaults.

    ``gamma`` starts at 1, ``beta`` at 0, the moving mean at 0 and the moving variance at 1.
    Call it with ``training=True`` to normalize with the batch's statistics and update the
    moving ones, or ``training=False`` (the default, as when a Keras layer is called
    outside ``fit``) to use the moving statistics.
    """

    def __init__(
        self,
        features: int,
        momentum: float = DEFAULT_MOMENTUM,
        epsilon: float = DEFAULT_EPSILON,
    ) -> None:
        if isinstance(features, bool) or not isinstance(features, (int, np.integer)):
            raise TypeError(f"features must be an int; got {type(features).__name__}")
        if features < 1:
            raise ValueError(f"features must be >= 1; got {features}")
        self.features = int(features)
        self.momentum = _momentum(momentum)
        self.epsilon = _non_negative_number(epsilon, "epsilon")
        self.gamma = np.ones(self.features, dtype=np.float32)
        self.beta = np.zeros(self.features, dtype=np.float32)
        self.moving_mean = np.zeros(self.features, dtype=np.float32)
        self.moving_var = np.ones(self.features, dtype=np.float32)
        self._last_input: np.ndarray | None = None
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"BatchNorm(features={self.features}, momentum={self.momentum}, epsilon={self.epsilon})"
        )

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        x = _batch(x)
        if x.shape[-1] != self.features:
            raise ValueError(
                f"x must have {self.features} features on its last axis; got shape {x.shape}"
            )
        if not training:
            return batchnorm_inference(
                x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon
            )
        output = batchnorm_forward(x, self.gamma, self.beta, self.epsilon)
        self.moving_mean, self.moving_var = update_moving_stats(
            self.moving_mean, self.moving_var, batch_mean(x), batch_variance(x), self.momentum
        )
        self._last_input = x
        return output

    def backward(self, dout: Any) -> np.ndarray:
        """Gradient with respect to the last training-mode input; stores dgamma, dbeta."""
        if self._last_input is None:
            raise RuntimeError("call the layer with training=True before backward()")
        dx, self.dgamma, self.dbeta = batchnorm_backward(
            dout, self._last_input, self.gamma, self.epsilon
        )
        return dx

    @property
    def parameter_count(self) -> dict[str, int]:
        """Trainable (gamma, beta) and non-trainable (moving mean, variance) numbers."""
        return {"trainable": 2 * self.features, "non_trainable": 2 * self.features}


# ---------------------------------------------------------------------------
# Lesson 3: the gamma and beta that undo the normalization.
# ---------------------------------------------------------------------------


def identity_params(x: Any, eps: float = DEFAULT_EPSILON) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(gamma, beta)`` for which training-mode BN gives back ``x`` itself.

    One gamma and one beta per feature (shape ``(C,)`` each), chosen so that
    ``batchnorm_forward(x, gamma, beta, eps)`` equals ``x`` (Ioffe & Szegedy 2015, Section 3,
    make this point without epsilon).
    """
    x = _batch(x)
    eps = _non_negative_number(eps, "eps")
    axes = _reduction_axes(x)
    mu = x.mean(axis=axes)
    var = ((x - mu) ** 2).mean(axis=axes)
    return _f32(np.sqrt(var + eps)), _f32(mu)
