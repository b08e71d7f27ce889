"""Lesson 03 (the four steps): submissions as a learner who read only the lesson might
write them, in shapes the checks' own tests do not use (loops over channels, einsum,
moveaxis, keepdims, the statistics module, np.cov, classes, helpers, float64 inside).

The stubs give the contract, not the formula, so the wrong ones are the slips a learner
makes while working it out: the axes of a feature map, m against the batch size, a
reshape that mixes features, m - 1, epsilon's place, which of gamma and beta multiplies,
float32 one-pass variance, and algebra that does not invert steps 1 to 3.
"""

from __future__ import annotations

import functools
import statistics

import numpy as np

# ---------------------------------------------------------------------------
# batch_mean
# ---------------------------------------------------------------------------


def mean_channel_loop(x):
    return np.array([x[..., c].mean() for c in range(x.shape[-1])], dtype=np.float32)


def mean_moveaxis(x):
    return np.moveaxis(x, -1, 0).reshape(x.shape[-1], -1).mean(axis=1)


def mean_tensordot(x):
    table = x.reshape(-1, x.shape[-1]).astype(np.float64)
    weights = np.full(len(table), 1 / len(table))
    return np.tensordot(weights, table, axes=1)


def mean_repeated_axis0(x):
    while x.ndim > 1:  # equal-sized groups: a mean of means is the mean
        x = x.mean(axis=0)
    return x


def mean_keepdims_kept(x):
    return np.mean(x, axis=tuple(range(x.ndim))[:-1], keepdims=True)  # (1, ..., 1, C)


def mean_transpose_table(x):
    table = x.T.reshape(x.shape[-1], -1)  # x.T puts the channels first
    return np.add.reduce(table, axis=1) / table.shape[1]


def mean_average_axis0(x):
    return np.average(x, axis=0)  # one mean per (height, width, channel) for feature maps


def mean_per_sample(x):
    return np.mean(x, axis=tuple(range(1, x.ndim)))


def mean_last_axis(x):
    return x.mean(-1)


def mean_divides_by_batch(x):
    axes = tuple(range(x.ndim - 1))
    return x.sum(axis=axes) / len(x)


def mean_divides_by_batch_loop(x):
    channels = x.shape[-1]
    total = np.zeros(channels)
    for sample in x:
        total += sample.reshape(-1, channels).sum(axis=0)
    return total / x.shape[0]


def mean_reshape_channels_first(x):
    channels = x.shape[-1]
    return x.reshape(channels, -1).mean(axis=1)


def mean_python_sum(x):
    return sum(x) / len(x)  # sums over the first axis only


def mean_hard_coded_4d(x):
    return x.mean(axis=(0, 1, 2))


def mean_everything(x):
    return np.mean(x)  # one number for the whole batch


# ---------------------------------------------------------------------------
# batch_variance
# ---------------------------------------------------------------------------


def variance_pvariance_loop(x):
    table = x.reshape(-1, x.shape[-1])
    return np.array([statistics.pvariance(table[:, c].tolist()) for c in range(table.shape[1])])


def variance_welford(x):
    table = x.reshape(-1, x.shape[-1]).astype(np.float64)
    mean = np.zeros(table.shape[1])
    m2 = np.zeros(table.shape[1])
    for n, row in enumerate(table, start=1):
        delta = row - mean
        mean += delta / n
        m2 += delta * (row - mean)
    return m2 / len(table)


def variance_einsum_centered(x):
    table = x.reshape(-1, x.shape[-1])
    centered = table - table.mean(axis=0, keepdims=True)
    return np.einsum("ij,ij->j", centered, centered) / len(table)


def variance_one_pass_float64(x):
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    return np.mean(np.square(x), axis=axes) - np.square(np.mean(x, axis=axes))


def variance_std_squared(x):
    return np.std(x.reshape(-1, x.shape[-1]), axis=0) ** 2


def variance_statistics_sample(x):
    table = x.reshape(-1, x.shape[-1])
    return np.array([statistics.variance(map(float, table[:, c])) for c in range(table.shape[1])])


def variance_np_cov(x):
    return np.cov(x.reshape(-1, x.shape[-1]), rowvar=False).diagonal().copy()


def variance_returns_std(x):
    axes = tuple(range(x.ndim - 1))
    return np.sqrt(((x - x.mean(axis=axes)) ** 2).mean(axis=axes))


def variance_one_pass_einsum(x):
    table = x.reshape(-1, x.shape[-1])
    mean = np.einsum("ij->j", table) / len(table)
    return np.einsum("ij,ij->j", table, table) / len(table) - mean * mean


def variance_one_pass_loop(x):
    table = x.reshape(-1, x.shape[-1])
    result = []
    for c in range(table.shape[1]):
        column = table[:, c]
        result.append(np.mean(column**2) - np.mean(column) ** 2)
    return np.array(result)


def variance_axis0(x):
    return np.var(x, axis=0)


def variance_divides_by_batch(x):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes)
    return ((x - mu) ** 2).sum(axis=axes) / x.shape[0]


def variance_reshape_channels_first(x):
    return np.var(x.reshape(x.shape[-1], -1), axis=1)


# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------


def normalize_ufuncs(x, mean, var, eps=1e-3):
    return np.divide(np.subtract(x, mean), np.sqrt(np.add(var, eps)))


def normalize_power(x, mean, var, eps=1e-3):
    return (x - mean) * (var + eps) ** -0.5


def normalize_float64_inside(x, mean, var, eps=1e-3):
    x64 = np.asarray(x, dtype=np.float64)
    scale = 1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + eps)
    return ((x64 - mean) * scale).astype(np.float32)


def normalize_channel_loop(x, mean, var, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        out[..., c] = (x[..., c] - mean[c]) / np.sqrt(var[c] + eps)
    return out


def normalize_eps_after_root(x, mean, var, eps=1e-3):
    std = var**0.5
    return (x - mean) / (std + eps)


def normalize_no_eps_guarded(x, mean, var, eps=1e-3):
    std = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - mean) / std


def normalize_eps_added_after(x, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var) + eps


def normalize_by_variance_loop(x, mean, var, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        out[..., c] = (x[..., c] - mean[c]) / (var[c] + eps)
    return out


def normalize_recomputes_stats(x, mean, var, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    mu, sigma2 = table.mean(axis=0), table.var(axis=0)
    return (x - mu) / np.sqrt(sigma2 + eps)


def normalize_hard_coded_eps(x, mean, var, eps=1e-3):
    return np.subtract(x, mean) / np.sqrt(var + 0.001)


def normalize_pytorch_default(x, mean, var, eps=1e-5):
    return (x - mean) / np.sqrt(var + eps)


def normalize_forgets_mean(x, mean, var, eps=1e-3):
    return np.divide(x, np.sqrt(var + eps))


# ---------------------------------------------------------------------------
# scale_shift
# ---------------------------------------------------------------------------


def scale_shift_ufuncs(x_hat, gamma, beta):
    return np.add(np.multiply(x_hat, gamma), beta)


def scale_shift_einsum(x_hat, gamma, beta):
    return np.einsum("...c,c->...c", x_hat, gamma) + beta


def scale_shift_reshaped_params(x_hat, gamma, beta):
    shape = (1,) * (x_hat.ndim - 1) + (-1,)
    return x_hat * gamma.reshape(shape) + beta.reshape(shape)


def scale_shift_channel_loop(x_hat, gamma, beta):
    y = x_hat.astype(np.float64)  # a new array
    for c, (g, b) in enumerate(zip(gamma, beta, strict=True)):
        y[..., c] = g * y[..., c] + b
    return y


def scale_shift_fma_order(x_hat, gamma, beta):
    return beta + x_hat * gamma


def scale_shift_swapped_ufuncs(x_hat, gamma, beta):
    return np.add(np.multiply(x_hat, beta), gamma)


def scale_shift_swapped_loop(x_hat, gamma, beta):
    y = np.empty_like(x_hat)
    for c in range(x_hat.shape[-1]):
        y[..., c] = beta[c] * x_hat[..., c] + gamma[c]
    return y


def scale_shift_shift_first(x_hat, gamma, beta):
    return (x_hat + beta) * gamma


def scale_shift_shift_first_steps(x_hat, gamma, beta):
    shifted = np.add(x_hat, beta)
    return np.multiply(shifted, gamma)


def scale_shift_scale_only(x_hat, gamma, beta):
    return np.einsum("...c,c->...c", x_hat, gamma)


def scale_shift_in_place(x_hat, gamma, beta):
    np.multiply(x_hat, gamma, out=x_hat)
    np.add(x_hat, beta, out=x_hat)
    return x_hat


def scale_shift_shift_only(x_hat, gamma, beta):
    return x_hat + beta


# ---------------------------------------------------------------------------
# batchnorm_forward
# ---------------------------------------------------------------------------


class BatchNorm:
    """A learner's small layer class: statistics over every axis but the last."""

    def __init__(self, gamma, beta, eps=1e-3):
        self.gamma, self.beta, self.eps = gamma, beta, eps

    def statistics(self, x):
        table = x.reshape(-1, x.shape[-1])
        return table.mean(axis=0), table.var(axis=0)

    def __call__(self, x):
        mu, var = self.statistics(x)
        return self.gamma * (x - mu) / np.sqrt(var + self.eps) + self.beta


def forward_class(x, gamma, beta, eps=1e-3):
    return BatchNorm(gamma, beta, eps)(x)


def _mean(x):
    return x.mean(axis=tuple(range(x.ndim - 1)))


def _var(x):
    return ((x - _mean(x)) ** 2).mean(axis=tuple(range(x.ndim - 1)))


def forward_helpers(x, gamma, beta, eps=1e-3):
    x_hat = (x - _mean(x)) / np.sqrt(_var(x) + eps)
    return gamma * x_hat + beta


def forward_float64_cast(x, gamma, beta, eps=1e-3):
    x64 = x.astype(np.float64)
    table = x64.reshape(-1, x.shape[-1])
    mu = table.mean(0)
    var = np.mean((table - mu) ** 2, axis=0)
    return (gamma * (x64 - mu) / np.sqrt(var + eps) + beta).astype(np.float32)


def forward_channel_loop(x, gamma, beta, eps=1e-3):
    y = np.empty_like(x)
    for c in range(x.shape[-1]):
        values = x[..., c]
        mu = values.mean()
        var = ((values - mu) ** 2).mean()
        y[..., c] = gamma[c] * (values - mu) / (var + eps) ** 0.5 + beta[c]
    return y


def forward_moveaxis(x, gamma, beta, eps=1e-3):
    channels_first = np.moveaxis(x, -1, 0)
    flat = channels_first.reshape(x.shape[-1], -1)
    mu = flat.mean(axis=1)
    var = flat.var(axis=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


class SampleStdLayer(BatchNorm):
    def statistics(self, x):
        table = x.reshape(-1, x.shape[-1])
        return table.mean(axis=0), table.std(axis=0, ddof=1) ** 2


def forward_class_unbiased(x, gamma, beta, eps=1e-3):
    return SampleStdLayer(gamma, beta, eps)(x)


def forward_helpers_eps_outside(x, gamma, beta, eps=1e-3):
    return gamma * (x - _mean(x)) / (np.sqrt(_var(x)) + eps) + beta


def forward_per_sample_layernorm(x, gamma, beta, eps=1e-3):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_batch_axis_only(x, gamma, beta, eps=1e-3):
    mu, var = np.mean(x, axis=0), np.var(x, axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_in_place(x, gamma, beta, eps=1e-3):
    mu, var = _mean(x), _var(x)
    x -= mu
    x /= np.sqrt(var + eps)
    return gamma * x + beta


def forward_one_pass_loop(x, gamma, beta, eps=1e-3):
    y = np.empty_like(x)
    for c in range(x.shape[-1]):
        values = x[..., c]
        mu = values.mean()
        var = (values * values).mean() - mu * mu
        y[..., c] = gamma[c] * (values - mu) / np.sqrt(var + eps) + beta[c]
    return y


def forward_swapped_helpers(x, gamma, beta, eps=1e-3):
    x_hat = (x - _mean(x)) / np.sqrt(_var(x) + eps)
    return beta * x_hat + gamma


def forward_hard_coded_eps(x, gamma, beta, eps=1e-3):
    return BatchNorm(gamma, beta, eps=1e-3)(x)


def forward_no_eps(x, gamma, beta, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return gamma * (x - table.mean(0)) / table.std(0) + beta


def forward_shift_first(x, gamma, beta, eps=1e-3):
    x_hat = (x - _mean(x)) / np.sqrt(_var(x) + eps)
    return (x_hat + beta) * gamma


def forward_hard_coded_4d(x, gamma, beta, eps=1e-3):
    mu = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_divides_by_batch(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = x.sum(axis=axes) / x.shape[0]
    var = ((x - mu) ** 2).sum(axis=axes) / x.shape[0]
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


# ---------------------------------------------------------------------------
# identity_params
# ---------------------------------------------------------------------------


def identity_list_float64(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1]).astype(np.float64)
    return [np.sqrt(table.var(axis=0) + eps), table.mean(axis=0)]


def identity_pvariance(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    columns = [table[:, c].tolist() for c in range(table.shape[1])]
    gamma = np.array([(statistics.pvariance(col) + eps) ** 0.5 for col in columns])
    beta = np.array([statistics.fmean(col) for col in columns])
    return gamma, beta


def identity_keepdims(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    return np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps), mu


def identity_std_squared(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return np.hypot(x.std(axis=axes), np.sqrt(eps)), x.mean(axis=axes)


def identity_inverse(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    return 1 / np.sqrt(table.var(0) + eps), -table.mean(0)


def identity_beta_over_gamma(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    gamma = np.sqrt(var + eps)
    return gamma, mu / gamma


def identity_variance_as_gamma(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    return table.var(0) + eps, table.mean(0)


def identity_no_eps(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return np.std(x, axis=axes), np.mean(x, axis=axes)


def identity_beta_first(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    return table.mean(0), np.sqrt(table.var(0) + eps)


def identity_sample_variance(x, eps=1e-3):
    table = x.reshape(-1, x.shape[-1])
    return np.sqrt(np.cov(table, rowvar=False).diagonal() + eps), table.mean(0)


def identity_one_pass(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mu = np.mean(x, axis=axes)
    return np.sqrt(np.mean(x * x, axis=axes) - mu**2 + eps), mu


def identity_per_position(x, eps=1e-3):
    return np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)


def identity_eps_outside(x, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    return np.sqrt(x.var(axis=axes)) + eps, x.mean(axis=axes)


identity_partial = functools.partial(identity_list_float64)
identity_partial.__name__ = "identity_partial"  # type: ignore[attr-defined]


CORRECT = [
    ("batch_mean", mean_channel_loop),
    ("batch_mean", mean_moveaxis),
    ("batch_mean", mean_tensordot),
    ("batch_mean", mean_repeated_axis0),
    ("batch_mean", mean_keepdims_kept),
    ("batch_mean", mean_transpose_table),
    ("batch_variance", variance_pvariance_loop),
    ("batch_variance", variance_welford),
    ("batch_variance", variance_einsum_centered),
    ("batch_variance", variance_one_pass_float64),
    ("batch_variance", variance_std_squared),
    ("normalize", normalize_ufuncs),
    ("normalize", normalize_power),
    ("normalize", normalize_float64_inside),
    ("normalize", normalize_channel_loop),
    ("scale_shift", scale_shift_ufuncs),
    ("scale_shift", scale_shift_einsum),
    ("scale_shift", scale_shift_reshaped_params),
    ("scale_shift", scale_shift_channel_loop),
    ("scale_shift", scale_shift_fma_order),
    ("batchnorm_forward", forward_class),
    ("batchnorm_forward", forward_helpers),
    ("batchnorm_forward", forward_float64_cast),
    ("batchnorm_forward", forward_channel_loop),
    ("batchnorm_forward", forward_moveaxis),
    ("identity_params", identity_list_float64),
    ("identity_params", identity_pvariance),
    ("identity_params", identity_keepdims),
    ("identity_params", identity_std_squared),
    ("identity_params", identity_partial),
]

WRONG = [
    ("batch_mean", mean_average_axis0, "wrong-axis"),
    ("batch_mean", mean_per_sample, "wrong-axis"),
    ("batch_mean", mean_last_axis, "wrong-axis"),
    ("batch_mean", mean_divides_by_batch, "divides-by-batch-size"),
    ("batch_mean", mean_divides_by_batch_loop, "divides-by-batch-size"),
    ("batch_mean", mean_reshape_channels_first, "reshape-mixes-features"),
    ("batch_mean", mean_python_sum, "wrong-axis"),
    ("batch_mean", mean_hard_coded_4d, "wrong-axis"),
    ("batch_mean", mean_everything, "wrong-axis"),
    ("batch_variance", variance_statistics_sample, "unbiased-variance"),
    ("batch_variance", variance_np_cov, "unbiased-variance"),
    ("batch_variance", variance_returns_std, "std-not-variance"),
    ("batch_variance", variance_one_pass_einsum, "one-pass-variance"),
    ("batch_variance", variance_one_pass_loop, "one-pass-variance"),
    ("batch_variance", variance_axis0, "wrong-axis"),
    ("batch_variance", variance_divides_by_batch, "divides-by-batch-size"),
    ("batch_variance", variance_reshape_channels_first, "reshape-mixes-features"),
    ("normalize", normalize_eps_after_root, "eps-outside-sqrt"),
    ("normalize", normalize_no_eps_guarded, "missing-eps"),
    ("normalize", normalize_eps_added_after, "missing-eps"),
    ("normalize", normalize_by_variance_loop, "std-for-var"),
    ("normalize", normalize_recomputes_stats, "ignores-given-stats"),
    ("normalize", normalize_hard_coded_eps, "ignores-eps-argument"),
    ("normalize", normalize_pytorch_default, "wrong-eps-default"),
    ("normalize", normalize_forgets_mean, "missing-centering"),
    ("scale_shift", scale_shift_swapped_ufuncs, "swapped-gamma-beta"),
    ("scale_shift", scale_shift_swapped_loop, "swapped-gamma-beta"),
    ("scale_shift", scale_shift_shift_first, "shift-before-scale"),
    ("scale_shift", scale_shift_shift_first_steps, "shift-before-scale"),
    ("scale_shift", scale_shift_scale_only, "missing-scale-shift"),
    ("scale_shift", scale_shift_in_place, "mutates-input"),
    ("scale_shift", scale_shift_shift_only, "missing-scale-shift"),
    ("batchnorm_forward", forward_class_unbiased, "unbiased-variance"),
    ("batchnorm_forward", forward_helpers_eps_outside, "eps-outside-sqrt"),
    ("batchnorm_forward", forward_per_sample_layernorm, "wrong-axis"),
    ("batchnorm_forward", forward_batch_axis_only, "wrong-axis"),
    ("batchnorm_forward", forward_in_place, "mutates-input"),
    ("batchnorm_forward", forward_one_pass_loop, "one-pass-variance"),
    ("batchnorm_forward", forward_swapped_helpers, "swapped-gamma-beta"),
    ("batchnorm_forward", forward_hard_coded_eps, "ignores-eps-argument"),
    ("batchnorm_forward", forward_no_eps, "missing-eps"),
    ("batchnorm_forward", forward_shift_first, "shift-before-scale"),
    ("batchnorm_forward", forward_hard_coded_4d, "wrong-axis"),
    ("batchnorm_forward", forward_divides_by_batch, "divides-by-batch-size"),
    ("identity_params", identity_inverse, "identity-not-inverse"),
    ("identity_params", identity_beta_over_gamma, "identity-not-inverse"),
    ("identity_params", identity_variance_as_gamma, "std-for-var"),
    ("identity_params", identity_no_eps, "missing-eps"),
    ("identity_params", identity_beta_first, "swapped-gamma-beta"),
    ("identity_params", identity_sample_variance, "unbiased-variance"),
    ("identity_params", identity_one_pass, "one-pass-variance"),
    ("identity_params", identity_per_position, "wrong-axis"),
    ("identity_params", identity_eps_outside, "eps-outside-sqrt"),
]
