"""Learner-style implementations for the grader's tests: correct ones in several styles,
and wrong ones, each making a mistake from the catalogue.

Written the way learners write them (loops, einsum, keepdims, float64, staged graphs),
not the way bncourse.reference does.
"""

from __future__ import annotations

import numpy as np
import sklearn.preprocessing  # noqa: F401 - imported up front, not inside a timed check

# ---------------------------------------------------------------------------
# Correct implementations, several styles per exercise.
# ---------------------------------------------------------------------------


def min_max_where(x):
    low, high = x.min(axis=0), x.max(axis=0)
    spread = high - low
    return np.where(spread > 0, (x - low) / np.where(spread > 0, spread, 1), 0.0)


def min_max_loops(x):
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        column = x[:, j]
        low, high = min(column), max(column)
        for i in range(x.shape[0]):
            out[i, j] = 0.0 if high == low else (column[i] - low) / (high - low)
    return out


def min_max_sklearn(x):
    from sklearn.preprocessing import MinMaxScaler

    return MinMaxScaler().fit_transform(x)


def min_max_nan_to_num(x):
    with np.errstate(invalid="ignore"):
        return np.nan_to_num((x - x.min(0)) / np.ptp(x, axis=0), nan=0.0).astype(np.float32)


def standardize_vectorized(x):
    x = np.asarray(x, dtype=np.float64)
    mu, sigma = x.mean(axis=0), x.std(axis=0)
    return ((x - mu) / np.where(sigma == 0, 1.0, sigma)).astype(np.float32)


def standardize_loops(x):
    out = np.empty(x.shape, dtype=np.float64)
    rows, cols = x.shape
    for j in range(cols):
        mean = sum(float(v) for v in x[:, j]) / rows
        var = sum((float(v) - mean) ** 2 for v in x[:, j]) / rows
        for i in range(rows):
            out[i, j] = 0.0 if var == 0 else (x[i, j] - mean) / var**0.5
    return out


def standardize_sklearn(x):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(x).astype(np.float32)


def standardize_float64(x):
    x64 = x.astype(np.float64)
    centered = x64 - x64.mean(axis=0, keepdims=True)
    sigma = np.sqrt((centered**2).mean(axis=0, keepdims=True))
    sigma[sigma == 0] = 1.0
    return (centered / sigma).astype(np.float32)


def mean_axes(x):
    return x.mean(axis=tuple(range(x.ndim - 1)))


def mean_reshape(x):
    return x.reshape(-1, x.shape[-1]).mean(axis=0)


def mean_einsum(x):
    flat = x.reshape(-1, x.shape[-1])
    return np.einsum("ij->j", flat) / flat.shape[0]


def mean_loops(x):
    flat = x.reshape(-1, x.shape[-1])
    return np.array([sum(flat[:, c]) / len(flat) for c in range(flat.shape[1])])


def mean_keepdims(x):
    return np.mean(x, axis=tuple(range(x.ndim - 1)), keepdims=True).reshape(-1)


def mean_keepdims_unreshaped(x):
    return np.mean(x, axis=tuple(range(x.ndim - 1)), keepdims=True)


def variance_np(x):
    return np.var(x, axis=tuple(range(x.ndim - 1)))


def variance_moments(x):
    x, axes = x.astype(np.float64), tuple(range(x.ndim - 1))
    return (x**2).mean(axis=axes) - x.mean(axis=axes) ** 2  # fine in float64


def variance_loops(x):
    flat = x.reshape(-1, x.shape[-1])
    result = []
    for c in range(flat.shape[1]):
        mu = sum(flat[:, c]) / len(flat)
        result.append(sum((v - mu) ** 2 for v in flat[:, c]) / len(flat))
    return np.array(result, dtype=np.float32)


def variance_float64_keepdims(x):
    axes = tuple(range(x.ndim - 1))
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=axes, keepdims=True)
    return ((x64 - mu) ** 2).mean(axis=axes)


def normalize_direct(x, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var + eps)


def normalize_reshaped(x, mean, var, eps=1e-3):
    shape = (1,) * (x.ndim - 1) + (-1,)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)


def normalize_loops(x, mean, var, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        out[..., c] = (x[..., c] - mean[c]) / (var[c] + eps) ** 0.5
    return out


def normalize_float64(x, mean, var, eps=1e-3):
    inv_std = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    return ((x - mean) * inv_std).astype(np.float32)


def scale_shift_direct(x_hat, gamma, beta):
    return gamma * x_hat + beta


def scale_shift_einsum(x_hat, gamma, beta):
    flat = x_hat.reshape(-1, x_hat.shape[-1])
    return (np.einsum("ij,j->ij", flat, gamma) + beta).reshape(x_hat.shape)


def scale_shift_ufuncs(x_hat, gamma, beta):
    return np.add(np.multiply(x_hat, gamma), beta)


def forward_steps(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes)
    var = ((x - mu) ** 2).mean(axis=axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta


def forward_flatten(x, gamma, beta, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    mu, var = flat.mean(0), flat.var(0)
    return (gamma * (flat - mu) / np.sqrt(var + eps) + beta).reshape(x.shape)


def forward_float64(x, gamma, beta, eps=1e-3):
    x64 = x.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    mu = x64.mean(axes, keepdims=True)
    var = x64.var(axes, keepdims=True)
    return (gamma * (x64 - mu) / np.sqrt(var + eps) + beta).astype(np.float32)


def forward_loops(x, gamma, beta, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        channel = x[..., c]
        mu = channel.mean()
        var = ((channel - mu) ** 2).mean()
        out[..., c] = gamma[c] * (channel - mu) / np.sqrt(var + eps) + beta[c]
    return out


def moving_formula(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    new_mean = momentum * moving_mean + (1 - momentum) * batch_mean
    new_var = momentum * moving_var + (1 - momentum) * batch_var
    return new_mean, new_var


def moving_lerp(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    step = 1 - momentum
    return moving_mean + step * (batch_mean - moving_mean), moving_var + step * (
        batch_var - moving_var
    )


def moving_list(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    pairs = [(moving_mean, batch_mean), (moving_var, batch_var)]
    return [momentum * old + (1 - momentum) * new for old, new in pairs]


def inference_direct(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta


def inference_scale_offset(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    return x * scale + (beta - moving_mean * scale)


def inference_loops(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    out = np.zeros(x.shape, dtype=np.float64)
    for c in range(x.shape[-1]):
        out[..., c] = gamma[c] * (x[..., c] - moving_mean[c]) / np.sqrt(moving_var[c] + eps)
        out[..., c] += beta[c]
    return out


def backward_staged(dout, x, gamma, eps=1e-3):
    """Every node of the graph, one at a time (CS231n style)."""
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu = x.mean(axis=axes)
    xmu = x - mu
    var = (xmu**2).mean(axis=axes)
    std = np.sqrt(var + eps)
    inv = 1.0 / std
    x_hat = xmu * inv
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx_hat = dout * gamma
    dinv = (dx_hat * xmu).sum(axis=axes)
    dxmu1 = dx_hat * inv
    dstd = -dinv / std**2
    dvar = 0.5 * dstd / std
    dsq = dvar / m * np.ones_like(x)
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=axes)
    dx2 = dmu / m * np.ones_like(x)
    return dx1 + dx2, dgamma, dbeta


def backward_compact(dout, x, gamma, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu, var = x.mean(axes), x.var(axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dbeta = dout.sum(axes)
    dgamma = (dout * x_hat).sum(axes)
    dx = gamma / (m * np.sqrt(var + eps)) * (m * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def backward_flatten_float64(dout, x, gamma, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    d = dout.reshape(flat.shape).astype(np.float64)
    n = flat.shape[0]
    x_hat = (flat - flat.mean(0)) / np.sqrt(flat.var(0) + eps)
    dx_hat = d * gamma
    dx = (n * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (
        n * np.sqrt(flat.var(0) + eps)
    )
    return dx.reshape(x.shape), (d * x_hat).sum(0), d.sum(0)


def fold_vectorized(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    bias = np.zeros_like(moving_mean) if bias is None else bias
    return kernel * scale, (bias - moving_mean) * scale + beta


def fold_loops(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    new_kernel = kernel.astype(np.float64).copy()
    new_bias = np.zeros(kernel.shape[-1])
    for c in range(kernel.shape[-1]):
        s = gamma[c] / (moving_var[c] + eps) ** 0.5
        new_kernel[..., c] *= s
        b = 0.0 if bias is None else bias[c]
        new_bias[c] = (b - moving_mean[c]) * s + beta[c]
    return new_kernel, new_bias


def fold_expanded(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    inv_std = 1 / np.sqrt(moving_var + eps)
    b = 0 if bias is None else bias
    return kernel * gamma * inv_std, gamma * b * inv_std - gamma * moving_mean * inv_std + beta


from .test_grading_identity import CORRECT as IDENTITY_CORRECT  # noqa: E402

CORRECT = {
    "min_max_normalize": [min_max_where, min_max_loops, min_max_sklearn, min_max_nan_to_num],
    "standardize": [
        standardize_vectorized,
        standardize_loops,
        standardize_sklearn,
        standardize_float64,
    ],
    "batch_mean": [mean_axes, mean_reshape, mean_einsum, mean_loops, mean_keepdims],
    "batch_variance": [variance_np, variance_moments, variance_loops, variance_float64_keepdims],
    "normalize": [normalize_direct, normalize_reshaped, normalize_loops, normalize_float64],
    "scale_shift": [scale_shift_direct, scale_shift_einsum, scale_shift_ufuncs],
    "batchnorm_forward": [forward_steps, forward_flatten, forward_float64, forward_loops],
    "update_moving_stats": [moving_formula, moving_lerp, moving_list],
    "batchnorm_inference": [inference_direct, inference_scale_offset, inference_loops],
    "batchnorm_backward": [backward_staged, backward_compact, backward_flatten_float64],
    "fold_batchnorm": [fold_vectorized, fold_loops, fold_expanded],
    "identity_params": IDENTITY_CORRECT,
}

# ---------------------------------------------------------------------------
# Wrong implementations: (exercise, function) pairs per diagnosis, at least two each.
# ---------------------------------------------------------------------------


def mean_axis0(x):
    return x.mean(axis=0)  # per position for feature maps


def variance_per_sample(x):
    return x.var(axis=-1)


def forward_per_sample(x, gamma, beta, eps=1e-3):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def backward_dense_only(dout, x, gamma, eps=1e-3):
    n = x.shape[0]
    mu, var = x.mean(0), x.var(0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dbeta, dgamma = dout.sum(0), (dout * x_hat).sum(0)
    return gamma / (n * np.sqrt(var + eps)) * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta


def variance_ddof1(x):
    return np.var(x, axis=tuple(range(x.ndim - 1)), ddof=1)


def standardize_sample_std(x):
    std = x.std(axis=0, ddof=1)
    return (x - x.mean(0)) / np.where(std == 0, 1, std)


def forward_unbiased_manual(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu = x.mean(axes)
    var = ((x - mu) ** 2).sum(axes) / (m - 1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def normalize_eps_outside(x, mean, var, eps=1e-3):
    return (x - mean) / (np.sqrt(var) + eps)


def forward_eps_outside(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / (x.std(axes) + eps) + beta


def inference_eps_outside(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return gamma * (x - moving_mean) / (np.sqrt(moving_var) + eps) + beta


def normalize_no_eps(x, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var)


def forward_no_eps(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / x.std(axes) + beta


def normalize_by_variance(x, mean, var, eps=1e-3):
    return (x - mean) / (var + eps)


def forward_by_variance(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / (x.var(axes) + eps) + beta


def standardize_by_variance(x):
    var = x.var(axis=0)
    return (x - x.mean(axis=0)) / np.where(var == 0, 1, var)


def scale_shift_swapped(x_hat, gamma, beta):
    return beta * x_hat + gamma


def forward_swapped(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return beta * (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps) + gamma


def scale_shift_identity(x_hat, gamma, beta):
    return x_hat.copy()


def scale_shift_gamma_only(x_hat, gamma, beta):
    return gamma * x_hat


def forward_no_affine(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps)


def min_max_divide_by_max(x):
    return x / x.max(axis=0)


def min_max_shift_then_divide_by_max(x):
    return (x - x.min(axis=0)) / x.max(axis=0)


def moving_pytorch(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    return (
        (1 - momentum) * moving_mean + momentum * batch_mean,
        (1 - momentum) * moving_var + momentum * batch_var,
    )


def moving_pytorch_lerp(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    return (
        moving_mean + momentum * (batch_mean - moving_mean),
        moving_var + momentum * (batch_var - moving_var),
    )


def inference_batch_stats(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps) + beta


def inference_batch_stats_unbiased(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    var = x.var(axes, ddof=1)  # NaN for a batch of one
    return gamma * (x - x.mean(axes)) / np.sqrt(var + eps) + beta


def forward_in_place(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axes), x.var(axes)
    x -= mu
    x /= np.sqrt(var + eps)
    x *= gamma
    x += beta
    return x


def moving_in_place(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    moving_mean *= momentum
    moving_mean += (1 - momentum) * batch_mean
    moving_var *= momentum
    moving_var += (1 - momentum) * batch_var
    return moving_mean, moving_var


def scale_shift_in_place(x_hat, gamma, beta):
    x_hat *= gamma
    x_hat += beta
    return x_hat


def backward_no_paths(dout, x, gamma, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axes), x.var(axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * dout / np.sqrt(var + eps), (dout * x_hat).sum(axes), dout.sum(axes)


def backward_no_variance_path(dout, x, gamma, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axes), x.var(axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dx = gamma / np.sqrt(var + eps) * (dout - dout.mean(axes))
    return dx, (dout * x_hat).sum(axes), dout.sum(axes)


def backward_no_mean_path(dout, x, gamma, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axes), x.var(axes)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dx = gamma / np.sqrt(var + eps) * (dout - x_hat * (dout * x_hat).mean(axes))
    return dx, (dout * x_hat).sum(axes), dout.sum(axes)


def min_max_unguarded(x):
    return (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))


def standardize_unguarded(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


def variance_returns_std(x):
    return np.std(x, axis=tuple(range(x.ndim - 1)))


def variance_sqrt_of_mean_square(x):
    axes = tuple(range(x.ndim - 1))
    return np.sqrt(((x - x.mean(axes)) ** 2).mean(axes))


def normalize_not_centered(x, mean, var, eps=1e-3):
    return x / np.sqrt(var + eps)


def standardize_not_centered(x):
    std = x.std(axis=0)
    return x / np.where(std == 0, 1, std)


def normalize_recomputes(x, mean, var, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps)


def normalize_recomputes_loops(x, mean, var, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        channel = x[..., c]
        out[..., c] = (channel - channel.mean()) / np.sqrt(channel.var() + eps)
    return out


def normalize_fixed_eps(x, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var + 1e-3)


def forward_fixed_eps(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + 0.001) + beta


def forward_pytorch_eps(x, gamma, beta, eps=1e-5):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps) + beta


def normalize_pytorch_eps(x, mean, var, eps=1e-5):
    return (x - mean) / np.sqrt(var + eps)


def moving_fixed_momentum(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    return 0.99 * moving_mean + 0.01 * batch_mean, 0.99 * moving_var + 0.01 * batch_var


def moving_fixed_momentum_lerp(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    step = 0.01
    return moving_mean + step * (batch_mean - moving_mean), moving_var + step * (
        batch_var - moving_var
    )


def backward_dgamma_x(dout, x, gamma, eps=1e-3):
    dx, _, dbeta = backward_compact(dout, x, gamma, eps)
    return dx, (dout * x).sum(axis=tuple(range(x.ndim - 1))), dbeta


def backward_dgamma_x_flat(dout, x, gamma, eps=1e-3):
    dx, _, dbeta = backward_staged(dout, x, gamma, eps)
    flat_x = x.reshape(-1, x.shape[-1])
    return dx, np.einsum("ij,ij->j", dout.reshape(flat_x.shape), flat_x), dbeta


def fold_forgets_mean(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    b = 0 if bias is None else bias
    return kernel * scale, b * scale + beta


def fold_forgets_mean_loops(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    k, b = fold_loops(kernel, bias, gamma, beta, np.zeros_like(moving_mean), moving_var, eps)
    return k, b


def fold_unscaled_bias(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    b = 0 if bias is None else bias
    return kernel * scale, b - moving_mean + beta


def fold_unscaled_bias_loops(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    new_kernel = kernel * (gamma / np.sqrt(moving_var + eps))
    new_bias = beta - moving_mean
    if bias is not None:
        new_bias = new_bias + bias
    return new_kernel, new_bias


def fold_ignores_bias(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    return kernel * scale, beta - moving_mean * scale


def fold_ignores_bias_loops(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return fold_loops(kernel, None, gamma, beta, moving_mean, moving_var, eps)


# ---------------------------------------------------------------------------
# Rounding traps, outputs in the wrong order, mixed statistics.
# ---------------------------------------------------------------------------


def standardize_in_float32(x):
    mu, sigma = x.mean(axis=0), x.std(axis=0)
    return (x - mu) / np.where(sigma == 0, 1.0, sigma)


def standardize_float32_guard_positive(x):
    x = x.astype(np.float32)
    sigma = np.sqrt(((x - x.mean(axis=0)) ** 2).mean(axis=0))
    return ((x - x.mean(axis=0)) / np.where(sigma > 0, sigma, 1.0)).astype(np.float32)


def standardize_with_keras_eps(x):
    x = np.asarray(x, dtype=np.float64)
    return ((x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)).astype(np.float32)


def standardize_with_pytorch_eps(x):
    x = np.asarray(x, dtype=np.float64)
    return ((x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)).astype(np.float32)


def min_max_cast_first(x):
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    low, high = x.min(axis=0), x.max(axis=0)
    return ((x - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)


def standardize_cast_first(x):
    x = np.asarray(x).astype(np.float32).astype(np.float64)
    sigma = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(sigma > 0, sigma, 1.0)).astype(np.float32)


def variance_one_pass(x):
    axes = tuple(range(x.ndim - 1))
    return (x**2).mean(axis=axes) - x.mean(axis=axes) ** 2


def forward_one_pass(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = np.mean(x * x, axis=axes) - mean * mean
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def moving_var_first(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    new_mean = momentum * moving_mean + (1 - momentum) * batch_mean
    new_var = momentum * moving_var + (1 - momentum) * batch_var
    return new_var, new_mean


def fold_bias_first(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    kernel_out, bias_out = fold_vectorized(kernel, bias, gamma, beta, moving_mean, moving_var, eps)
    return bias_out, kernel_out


def backward_gradients_reordered(dout, x, gamma, eps=1e-3):
    dx, dgamma, dbeta = backward_compact(dout, x, gamma, eps)
    return dx, dbeta, dgamma


def inference_moving_mean_batch_var(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    var = x.var(axis=tuple(range(x.ndim - 1)))
    return gamma * (x - moving_mean) / np.sqrt(var + eps) + beta


def inference_batch_mean_moving_var(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    mean = x.mean(axis=tuple(range(x.ndim - 1)))
    return gamma * (x - mean) / np.sqrt(moving_var + eps) + beta


WRONG = {
    "wrong-axis": [
        ("batch_mean", mean_axis0),
        ("batch_variance", variance_per_sample),
        ("batchnorm_forward", forward_per_sample),
        ("batchnorm_backward", backward_dense_only),
    ],
    "unbiased-variance": [
        ("batch_variance", variance_ddof1),
        ("standardize", standardize_sample_std),
        ("batchnorm_forward", forward_unbiased_manual),
    ],
    "eps-outside-sqrt": [
        ("normalize", normalize_eps_outside),
        ("batchnorm_forward", forward_eps_outside),
        ("batchnorm_inference", inference_eps_outside),
    ],
    "missing-eps": [("normalize", normalize_no_eps), ("batchnorm_forward", forward_no_eps)],
    "std-for-var": [
        ("normalize", normalize_by_variance),
        ("batchnorm_forward", forward_by_variance),
        ("standardize", standardize_by_variance),
    ],
    "swapped-gamma-beta": [
        ("scale_shift", scale_shift_swapped),
        ("batchnorm_forward", forward_swapped),
    ],
    "missing-scale-shift": [
        ("scale_shift", scale_shift_identity),
        ("scale_shift", scale_shift_gamma_only),
        ("batchnorm_forward", forward_no_affine),
    ],
    "minmax-divides-by-max": [
        ("min_max_normalize", min_max_divide_by_max),
        ("min_max_normalize", min_max_shift_then_divide_by_max),
    ],
    "momentum-reversed": [
        ("update_moving_stats", moving_pytorch),
        ("update_moving_stats", moving_pytorch_lerp),
    ],
    "batch-stats-at-inference": [
        ("batchnorm_inference", inference_batch_stats),
        ("batchnorm_inference", inference_batch_stats_unbiased),
    ],
    "mutates-input": [
        ("batchnorm_forward", forward_in_place),
        ("update_moving_stats", moving_in_place),
        ("scale_shift", scale_shift_in_place),
    ],
    "backward-ignores-batch-stats": [
        ("batchnorm_backward", backward_no_paths),
        ("batchnorm_backward", backward_no_variance_path),
        ("batchnorm_backward", backward_no_mean_path),
    ],
    "constant-feature": [
        ("min_max_normalize", min_max_unguarded),
        ("standardize", standardize_unguarded),
    ],
    "std-not-variance": [
        ("batch_variance", variance_returns_std),
        ("batch_variance", variance_sqrt_of_mean_square),
    ],
    "missing-centering": [
        ("normalize", normalize_not_centered),
        ("standardize", standardize_not_centered),
    ],
    "ignores-given-stats": [
        ("normalize", normalize_recomputes),
        ("normalize", normalize_recomputes_loops),
    ],
    "ignores-eps-argument": [
        ("normalize", normalize_fixed_eps),
        ("batchnorm_forward", forward_fixed_eps),
    ],
    "wrong-eps-default": [
        ("batchnorm_forward", forward_pytorch_eps),
        ("normalize", normalize_pytorch_eps),
    ],
    "ignores-momentum-argument": [
        ("update_moving_stats", moving_fixed_momentum),
        ("update_moving_stats", moving_fixed_momentum_lerp),
    ],
    "dgamma-uses-x": [
        ("batchnorm_backward", backward_dgamma_x),
        ("batchnorm_backward", backward_dgamma_x_flat),
    ],
    "fold-forgets-mean": [
        ("fold_batchnorm", fold_forgets_mean),
        ("fold_batchnorm", fold_forgets_mean_loops),
    ],
    "fold-bias-unscaled": [
        ("fold_batchnorm", fold_unscaled_bias),
        ("fold_batchnorm", fold_unscaled_bias_loops),
    ],
    "fold-ignores-bias": [
        ("fold_batchnorm", fold_ignores_bias),
        ("fold_batchnorm", fold_ignores_bias_loops),
    ],
    "standardize-adds-eps": [
        ("standardize", standardize_with_keras_eps),
        ("standardize", standardize_with_pytorch_eps),
    ],
    "float32-constant-column": [
        ("standardize", standardize_in_float32),
        ("standardize", standardize_float32_guard_positive),
    ],
    "casts-to-float32-first": [
        ("min_max_normalize", min_max_cast_first),
        ("standardize", standardize_cast_first),
    ],
    "one-pass-variance": [
        ("batch_variance", variance_one_pass),
        ("batchnorm_forward", forward_one_pass),
    ],
    "wrong-output-order": [
        ("update_moving_stats", moving_var_first),
        ("fold_batchnorm", fold_bias_first),
        ("batchnorm_backward", backward_gradients_reordered),
    ],
    "mixes-moving-and-batch-stats": [
        ("batchnorm_inference", inference_moving_mean_batch_var),
        ("batchnorm_inference", inference_batch_mean_moving_var),
    ],
}


# ---------------------------------------------------------------------------
# Lesson 03's own misconceptions (catalogue section "Lesson 03"); more learner-style
# variants are in tests/submissions/four_steps.py and tests/test_grading_four_steps.py.
# ---------------------------------------------------------------------------


def mean_reshape_features_first(x):
    return x.reshape(x.shape[-1], -1).mean(axis=1)


def variance_reshape_features_first(x):
    rows = x.reshape(x.shape[-1], -1)
    return ((rows - rows.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)


def mean_sum_over_batch_size(x):
    return x.sum(axis=tuple(range(x.ndim - 1))) / x.shape[0]


def forward_sums_over_batch_size(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = x.sum(axis=axes) / len(x)
    var = ((x - mu) ** 2).sum(axis=axes) / len(x)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def scale_shift_shift_then_scale(x_hat, gamma, beta):
    return gamma * (x_hat + beta)


def forward_shift_then_scale(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    x_hat = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps)
    return (x_hat + beta) * gamma


def identity_normalizes_again(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return 1 / np.sqrt(x.var(axis=axes) + eps), -x.mean(axis=axes)


def identity_initial_values(x, eps=1e-3):
    return np.ones(x.shape[-1], np.float32), np.zeros(x.shape[-1], np.float32)


WRONG |= {
    "reshape-mixes-features": [
        ("batch_mean", mean_reshape_features_first),
        ("batch_variance", variance_reshape_features_first),
    ],
    "divides-by-batch-size": [
        ("batch_mean", mean_sum_over_batch_size),
        ("batchnorm_forward", forward_sums_over_batch_size),
    ],
    "shift-before-scale": [
        ("scale_shift", scale_shift_shift_then_scale),
        ("batchnorm_forward", forward_shift_then_scale),
    ],
    "identity-not-inverse": [
        ("identity_params", identity_normalizes_again),
        ("identity_params", identity_initial_values),
    ],
}


# ---------------------------------------------------------------------------
# Lesson 09: Layer Norm, Group Norm and RMSNorm (catalogue section "Lesson 09"); more
# variants are in tests/test_grading_norms.py and tests/submissions/norms.py.
# ---------------------------------------------------------------------------


def layer_norm_axes(x, gamma, beta, eps=1e-3):
    axes = tuple(range(1, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    return gamma * (x - mu) / np.sqrt(x.var(axis=axes, keepdims=True) + eps) + beta


def layer_norm_flatten(x, gamma, beta, eps=1e-3):
    rows = x.reshape(len(x), -1).astype(np.float64)
    mu = rows.mean(axis=1, keepdims=True)
    sd = np.sqrt(((rows - mu) ** 2).mean(axis=1, keepdims=True) + eps)
    return (gamma * ((rows - mu) / sd).reshape(x.shape) + beta).astype(np.float32)


def layer_norm_per_sample(x, gamma, beta, eps=1e-3):
    out = np.empty(x.shape, dtype=np.float32)
    for n, sample in enumerate(x):
        out[n] = gamma * (sample - sample.mean()) / np.sqrt(sample.var() + eps) + beta
    return out


def group_norm_reshape(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    axes = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)
    x_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return gamma * x_hat.reshape(x.shape) + beta


def group_norm_loops(x, gamma, beta, groups, eps=1e-3):
    size = x.shape[-1] // groups
    out = np.empty(x.shape, dtype=np.float64)
    for n in range(len(x)):
        for k in range(groups):
            part = x[n, ..., k * size : (k + 1) * size].astype(np.float64)
            out[n, ..., k * size : (k + 1) * size] = (part - part.mean()) / np.sqrt(
                part.var() + eps
            )
    return (gamma * out + beta).astype(np.float32)


def group_norm_channels_first(x, gamma, beta, groups, eps=1e-3):
    n, c = x.shape[0], x.shape[-1]
    t = np.moveaxis(x, -1, 1).reshape(n, groups, -1)  # (N, G, C // G * positions)
    x_hat = (t - t.mean(axis=2, keepdims=True)) / np.sqrt(t.var(axis=2, keepdims=True) + eps)
    x_hat = np.moveaxis(x_hat.reshape((n, c) + x.shape[1:-1]), 1, -1)
    return x_hat * gamma + beta


def layer_norm_over_batch(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) + beta


def group_norm_batch_and_group(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    axes = tuple(range(0, g.ndim - 2)) + (g.ndim - 1,)
    x_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return gamma * x_hat.reshape(x.shape) + beta


def group_norm_interleaved(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], x.shape[-1] // groups, groups)
    axes = tuple(range(1, g.ndim - 2)) + (g.ndim - 2,)
    x_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return gamma * x_hat.reshape(x.shape) + beta


def group_norm_as_layer_norm(x, gamma, beta, groups, eps=1e-3):
    return layer_norm_axes(x, gamma, beta, eps)


def layer_norm_gamma_per_sample(x, gamma, beta, eps=1e-3):
    axes = tuple(range(1, x.ndim))
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    shape = (-1,) + (1,) * (x.ndim - 1)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def group_norm_gamma_per_group(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    axes = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)
    x_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return (gamma[:groups, None] * x_hat + beta[:groups, None]).reshape(x.shape)


def rms_norm_centered(x, gamma, eps=1e-6):
    c = x - x.mean(axis=-1, keepdims=True)
    return gamma * c / np.sqrt((c**2).mean(axis=-1, keepdims=True) + eps)


def rms_norm_std(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt(x.var(axis=-1, keepdims=True) + eps)


def rms_norm_l2(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt((x**2).sum(axis=-1, keepdims=True) + eps)


def rms_norm_linalg(x, gamma, eps=1e-6):
    return gamma * x / (np.linalg.norm(x, axis=-1, keepdims=True) + eps)


CORRECT |= {
    "layer_norm": [layer_norm_axes, layer_norm_flatten, layer_norm_per_sample],
    "group_norm": [group_norm_reshape, group_norm_loops, group_norm_channels_first],
}

WRONG |= {
    "norm-stats-over-batch": [
        ("layer_norm", layer_norm_over_batch),
        ("group_norm", group_norm_batch_and_group),
    ],
    "gn-wrong-groups": [
        ("group_norm", group_norm_interleaved),
        ("group_norm", group_norm_as_layer_norm),
    ],
    "norm-affine-wrong-axis": [
        ("layer_norm", layer_norm_gamma_per_sample),
        ("group_norm", group_norm_gamma_per_group),
    ],
    "rms-subtracts-mean": [
        ("rms_norm", rms_norm_centered),
        ("rms_norm", rms_norm_std),
    ],
    "rms-uses-l2-norm": [
        ("rms_norm", rms_norm_l2),
        ("rms_norm", rms_norm_linalg),
    ],
}


# ---------------------------------------------------------------------------
# Lesson 05's node-by-node exercises and numerical gradient: wrong implementations for its
# catalogue section, defined with their own tests in tests/test_grading_backprop.py.
# ---------------------------------------------------------------------------

from .test_grading_backprop import WRONG as BACKPROP_WRONG  # noqa: E402

for _diagnosis, _cases in BACKPROP_WRONG.items():
    WRONG.setdefault(_diagnosis, []).extend(_cases)


# ---------------------------------------------------------------------------
# Lesson 04's BatchNorm layer: classes checked by behaviour, defined with their own tests in
# tests/test_grading_inference.py and added to the tables here.
# ---------------------------------------------------------------------------

from .test_grading_inference import LAYER_CORRECT, LAYER_WRONG  # noqa: E402

CORRECT["BatchNorm"] = list(LAYER_CORRECT)
for _diagnosis, _layers in LAYER_WRONG.items():
    WRONG.setdefault(_diagnosis, []).extend(("BatchNorm", layer) for layer in _layers)

# Two slips named after the tables above were written: their learner-style submissions.
from .submissions import backprop as _backprop_submissions  # noqa: E402
from .submissions import inference as _inference_submissions  # noqa: E402

WRONG.setdefault("moving-stats-of-output", []).extend(
    [
        ("BatchNorm", _inference_submissions.LayerTracksOutput),
        ("BatchNorm", _inference_submissions.LayerTracksXHat),
    ]
)
WRONG.setdefault("numgrad-ignores-h", []).extend(
    [
        ("numerical_gradient", _backprop_submissions.numgrad_fixed_step),
        ("numerical_gradient", _backprop_submissions.numgrad_module_constant),
    ]
)
WRONG.setdefault("backward-forgets-sum", []).extend(
    [
        ("bn_dvar", _backprop_submissions.dvar_per_element),
        ("bn_dmu", _backprop_submissions.dmu_per_element),
    ]
)


# ---------------------------------------------------------------------------
# Lesson 07 (catalogue section "Lesson 07"): the Dropout variance ratio and the re-estimated
# statistics, defined with their own tests in tests/test_grading_placement.py.
# ---------------------------------------------------------------------------

from .test_grading_placement import LESSON_07 as _LESSON_07  # noqa: E402
from .test_grading_placement import WRONG as _WRONG_07  # noqa: E402

for _diagnosis in _LESSON_07:
    WRONG.setdefault(_diagnosis, []).extend(_WRONG_07[_diagnosis])


# ---------------------------------------------------------------------------
# Lesson 10: adapt_statistics (AdaBN on Dense -> BN -> ReLU blocks); more
# variants are in tests/test_grading_transfer.py and tests/submissions/transfer.py.
# ---------------------------------------------------------------------------


def _adapt_blocks(x, kernels, gamma, beta, eps, *, stored, next_input, dense=None):
    """Runs the blocks; ``stored`` and ``next_input`` say what a variant keeps and passes on."""
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        z = h @ kernels[k] if dense is None else dense(h, kernels[k])
        axes = tuple(range(z.ndim - 1))
        mean, var = z.mean(axis=axes), z.var(axis=axes)
        y = gamma[k] * (z - mean) / np.sqrt(var + eps) + beta[k]
        m, v = stored(k, h, z, y, mean, var, axes)
        means.append(m)
        variances.append(v)
        h = next_input(k, z, y)
    return np.stack(means), np.stack(variances)


def adapt_with_old_statistics_upstream(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    def next_input(k, z, y):
        return np.maximum(
            gamma[k] * (z - moving_mean[k]) / np.sqrt(moving_var[k] + eps) + beta[k], 0
        )

    return _adapt_blocks(
        x,
        kernels,
        gamma,
        beta,
        eps,
        stored=lambda k, h, z, y, m, v, a: (m, v),
        next_input=next_input,
    )


def adapt_keras_style_momentum(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    def stored(k, h, z, y, m, v, axes):
        return 0.99 * moving_mean[k] + 0.01 * m, 0.99 * moving_var[k] + 0.01 * v

    return _adapt_blocks(
        x, kernels, gamma, beta, eps, stored=stored, next_input=lambda k, z, y: np.maximum(y, 0)
    )


def adapt_momentum_point_nine(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    def stored(k, h, z, y, m, v, axes):
        return 0.9 * moving_mean[k] + 0.1 * m, 0.9 * moving_var[k] + 0.1 * v

    return _adapt_blocks(
        x, kernels, gamma, beta, eps, stored=stored, next_input=lambda k, z, y: np.maximum(y, 0)
    )


def adapt_statistics_of_block_input(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    def stored(k, h, z, y, m, v, axes):
        return h.mean(axis=axes), h.var(axis=axes)

    return _adapt_blocks(
        x, kernels, gamma, beta, eps, stored=stored, next_input=lambda k, z, y: np.maximum(y, 0)
    )


def adapt_statistics_of_relu_output(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    def stored(k, h, z, y, m, v, axes):
        out = np.maximum(y, 0)
        return out.mean(axis=axes), out.var(axis=axes)

    return _adapt_blocks(
        x, kernels, gamma, beta, eps, stored=stored, next_input=lambda k, z, y: np.maximum(y, 0)
    )


def adapt_pytorch_weight_layout(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return _adapt_blocks(
        x,
        kernels,
        gamma,
        beta,
        eps,
        stored=lambda k, h, z, y, m, v, a: (m, v),
        next_input=lambda k, z, y: np.maximum(y, 0),
        dense=lambda h, kernel: h @ kernel.T,
    )


def adapt_einsum_transposed(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return _adapt_blocks(
        x,
        kernels,
        gamma,
        beta,
        eps,
        stored=lambda k, h, z, y, m, v, a: (m, v),
        next_input=lambda k, z, y: np.maximum(y, 0),
        dense=lambda h, kernel: np.einsum("...i,ji->...j", h, kernel),
    )


def adapt_without_relu(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return _adapt_blocks(
        x,
        kernels,
        gamma,
        beta,
        eps,
        stored=lambda k, h, z, y, m, v, a: (m, v),
        next_input=lambda k, z, y: y,
    )


def adapt_without_relu_loop(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h = x.astype(np.float64)
    means, variances = [], []
    for kernel, g, b in zip(kernels, gamma, beta, strict=True):
        z = h @ kernel
        flat = z.reshape(-1, z.shape[-1])
        means.append(flat.mean(axis=0))
        variances.append(flat.var(axis=0))
        h = g * (z - means[-1]) / np.sqrt(variances[-1] + eps) + b
    return np.array(means, np.float32), np.array(variances, np.float32)


def adapt_inference_pass_first(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Runs the old network in inference mode once, then measures every Dense output."""
    h, dense_outputs = x, []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        dense_outputs.append(z)
        h = np.maximum(gamma[k] * (z - moving_mean[k]) / np.sqrt(moving_var[k] + eps) + beta[k], 0)
    axes = tuple(range(x.ndim - 1))
    return np.stack([z.mean(axis=axes) for z in dense_outputs]), np.stack(
        [z.var(axis=axes) for z in dense_outputs]
    )


WRONG |= {
    "adapt-stale-upstream": [
        ("adapt_statistics", adapt_with_old_statistics_upstream),
        ("adapt_statistics", adapt_inference_pass_first),
    ],
    "adapt-blends-statistics": [
        ("adapt_statistics", adapt_keras_style_momentum),
        ("adapt_statistics", adapt_momentum_point_nine),
    ],
    "adapt-wrong-tensor": [
        ("adapt_statistics", adapt_statistics_of_block_input),
        ("adapt_statistics", adapt_statistics_of_relu_output),
    ],
    "adapt-transposed-kernel": [
        ("adapt_statistics", adapt_pytorch_weight_layout),
        ("adapt_statistics", adapt_einsum_transposed),
    ],
    "adapt-skips-relu": [
        ("adapt_statistics", adapt_without_relu),
        ("adapt_statistics", adapt_without_relu_loop),
    ],
}


# Lesson 08's exercises have their own wrong implementations (tests/test_grading_benefits.py).
from .test_grading_benefits import WRONG as _BENEFITS_WRONG  # noqa: E402

for _diagnosis, _cases in _BENEFITS_WRONG.items():
    WRONG.setdefault(_diagnosis, []).extend(_cases)


# ---------------------------------------------------------------------------
# Lesson 11 (catalogue section "Lesson 11"): BatchNormLayer and fold_conv_bn, defined with
# their own tests in tests/test_grading_capstone.py.
# ---------------------------------------------------------------------------

from .test_grading_capstone import WRONG as _WRONG_11  # noqa: E402

for _diagnosis, _cases in _WRONG_11.items():
    WRONG.setdefault(_diagnosis, []).extend(_cases)


# ---------------------------------------------------------------------------
# Lesson 02 (catalogue section "Lesson 02"): saturated_fraction and layer_spread, defined
# with their own tests in tests/test_grading_activations.py.
# ---------------------------------------------------------------------------

from .test_grading_activations import LESSON_02 as _LESSON_02  # noqa: E402
from .test_grading_activations import SPREAD_WRONG as _SPREAD_WRONG_02  # noqa: E402
from .test_grading_activations import WRONG as _WRONG_02  # noqa: E402

for _diagnosis in _LESSON_02:
    WRONG.setdefault(_diagnosis, []).extend(
        [("saturated_fraction", fn) for fn in _WRONG_02.get(_diagnosis, [])]
        + [("layer_spread", fn) for fn in _SPREAD_WRONG_02.get(_diagnosis, [])]
    )

# smoothness_along_gradient (lesson 02, section 8), with its own tests in
# tests/test_grading_activations_smoothness.py.
from .test_grading_activations_smoothness import WRONG as _SMOOTHNESS_WRONG_02  # noqa: E402

for _diagnosis, _fns in _SMOOTHNESS_WRONG_02.items():
    WRONG.setdefault(_diagnosis, []).extend([("smoothness_along_gradient", fn) for fn in _fns])


# ---------------------------------------------------------------------------
# Lesson 10: frozen_bn_call (one call of a Keras BN layer, frozen or not), defined with its
# own tests in tests/test_grading_transfer.py.
# ---------------------------------------------------------------------------


def _bn_call(x, gamma, beta, moving_mean, moving_var, momentum, eps, *, use_batch, update):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    if use_batch:
        y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    else:
        y = gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    if update:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    return y, np.array(moving_mean), np.array(moving_var)


def frozen_if_else(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    active = training and trainable
    return _bn_call(
        x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=active, update=active
    )


def frozen_float64_flat(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    mean, var = np.array(moving_mean, np.float64), np.array(moving_var, np.float64)
    if not trainable or not training:
        return (x - mean) / np.sqrt(var + eps) * gamma + beta, mean, var
    mu, sigma2 = flat.mean(axis=0), flat.var(axis=0)
    y = (x - mu) / np.sqrt(sigma2 + eps) * gamma + beta
    return y, mean + (1 - momentum) * (mu - mean), var + (1 - momentum) * (sigma2 - var)


FROZEN_CORRECT = [frozen_if_else, frozen_float64_flat]


def frozen_ignores_trainable(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    return _bn_call(
        x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=training, update=training
    )


def frozen_only_weights(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    if training:  # trainable=False only stops the optimizer (a belief about every layer)
        return _bn_call(
            x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=True, update=True
        )
    return _bn_call(
        x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=False, update=False
    )


def frozen_batch_without_update(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    return _bn_call(
        x,
        gamma,
        beta,
        moving_mean,
        moving_var,
        momentum,
        eps,
        use_batch=training,
        update=training and trainable,
    )


def frozen_stats_locked_only(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    y, new_mean, new_var = _bn_call(
        x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=training, update=training
    )
    if not trainable:  # "freezing locks the statistics", the output is left alone
        return y, np.array(moving_mean), np.array(moving_var)
    return y, new_mean, new_var


def frozen_moving_but_updating(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    return _bn_call(
        x,
        gamma,
        beta,
        moving_mean,
        moving_var,
        momentum,
        eps,
        use_batch=training and trainable,
        update=training,
    )


def frozen_update_then_inference(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    _, new_mean, new_var = _bn_call(
        x, gamma, beta, moving_mean, moving_var, momentum, eps, use_batch=True, update=training
    )
    y, _, _ = _bn_call(
        x,
        gamma,
        beta,
        moving_mean,
        moving_var,
        momentum,
        eps,
        use_batch=training and trainable,
        update=False,
    )
    return y, new_mean, new_var


def frozen_mode_from_trainable(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    return _bn_call(
        x,
        gamma,
        beta,
        moving_mean,
        moving_var,
        momentum,
        eps,
        use_batch=trainable,
        update=trainable,
    )


def frozen_trainable_means_training(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    mode = "train" if trainable else "infer"  # the flag read as the layer's mode
    return _bn_call(
        x,
        gamma,
        beta,
        moving_mean,
        moving_var,
        momentum,
        eps,
        use_batch=mode == "train",
        update=mode == "train",
    )


def frozen_pytorch_momentum(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    active = training and trainable
    return _bn_call(
        x, gamma, beta, moving_mean, moving_var, 1 - momentum, eps, use_batch=active, update=active
    )


FROZEN_WRONG = {
    "frozen-bn-still-trains": [
        ("frozen_bn_call", frozen_ignores_trainable),
        ("frozen_bn_call", frozen_only_weights),
    ],
    "frozen-bn-normalizes-with-batch": [
        ("frozen_bn_call", frozen_batch_without_update),
        ("frozen_bn_call", frozen_stats_locked_only),
    ],
    "frozen-bn-updates-statistics": [
        ("frozen_bn_call", frozen_moving_but_updating),
        ("frozen_bn_call", frozen_update_then_inference),
    ],
    "bn-mode-ignores-training": [
        ("frozen_bn_call", frozen_mode_from_trainable),
        ("frozen_bn_call", frozen_trainable_means_training),
    ],
}
"""Two wrong implementations per lesson-10 freezing misconception."""

for _diagnosis, _cases in FROZEN_WRONG.items():
    WRONG.setdefault(_diagnosis, []).extend(_cases)
