"""Lesson 09 (beyond BN): learner-style submissions for ``layer_norm``, ``group_norm`` and
``rms_norm``, written from what the lesson shows (the cube picture of shared statistics,
Group Norm with 1 group as Layer Norm and with C groups as Instance Norm, Keras's
``LayerNormalization`` over the last axis) in shapes the checks' own tests do not use."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------
# layer_norm: correct
# ---------------------------------------------------------------------------


def ln_sample_by_sample(x, gamma, beta, eps=1e-3):
    rows = []
    for sample in x:
        values = sample.astype(np.float64)
        m = values.mean()
        v = ((values - m) ** 2).mean()
        rows.append(gamma * (values - m) / np.sqrt(v + eps) + beta)
    return np.stack(rows).astype(np.float32)


class _PerSampleStats:
    def __init__(self, x):
        flat = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
        self.mean = flat.mean(axis=1)
        self.var = flat.var(axis=1)

    def broadcastable(self, ndim):
        shape = (-1,) + (1,) * (ndim - 1)
        return self.mean.reshape(shape), self.var.reshape(shape)


def ln_with_a_class(x, gamma, beta, eps=1e-3):
    mean, var = _PerSampleStats(x).broadcastable(x.ndim)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def ln_python_sums(x, gamma, beta, eps=1e-3):
    out = np.zeros(x.shape, dtype=np.float32)
    for n in range(x.shape[0]):
        values = [float(v) for v in x[n].ravel()]
        m = sum(values) / len(values)
        v = sum((a - m) ** 2 for a in values) / len(values)
        out[n] = (x[n] - m) / (v + eps) ** 0.5
    return out * gamma + beta


# ---------------------------------------------------------------------------
# layer_norm: wrong
# ---------------------------------------------------------------------------


def ln_copied_from_batchnorm(x, gamma, beta, eps=1e-3):
    # keeps lesson 03's axes: every axis but the channels
    axes = tuple(range(x.ndim - 1))
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=axes, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def ln_whole_batch(x, gamma, beta, eps=1e-3):
    m, s = float(np.mean(x)), float(np.std(x))
    return gamma * (x - m) / np.sqrt(s**2 + eps) + beta


def ln_features_only(x, gamma, beta, eps=1e-3):
    # keras.layers.LayerNormalization() normalizes the last axis: copied for images too
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def ln_through_transpose(x, gamma, beta, eps=1e-3):
    cols = x.reshape(x.shape[0], -1).T  # each column is one sample now, as in BN
    x_hat = (cols - cols.mean(axis=0)) / np.sqrt(cols.var(axis=0) + eps)
    return (gamma * x_hat + beta).T.reshape(x.shape)


def ln_sample_std(x, gamma, beta, eps=1e-3):
    out = np.empty_like(x)
    for n in range(len(x)):
        out[n] = (x[n] - x[n].mean()) / np.sqrt(x[n].var(ddof=1) + eps)
    return gamma * out + beta


def ln_std_plus_eps(x, gamma, beta, eps=1e-3):
    axes = tuple(range(1, x.ndim))
    return (
        gamma * (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + eps)
        + beta
    )


def ln_torch_default(x, gamma, beta, eps=1e-5):
    flat = x.reshape(len(x), -1)
    m = flat.mean(1).reshape((-1,) + (1,) * (x.ndim - 1))
    v = flat.var(1).reshape((-1,) + (1,) * (x.ndim - 1))
    return gamma * (x - m) / np.sqrt(v + eps) + beta


# ---------------------------------------------------------------------------
# group_norm: correct
# ---------------------------------------------------------------------------


def gn_list_of_groups(x, gamma, beta, groups, eps=1e-3):
    size = x.shape[-1] // groups
    pieces = []
    for k in range(groups):
        part = x[..., k * size : (k + 1) * size].astype(np.float64)
        axes = tuple(range(1, part.ndim))
        m = part.mean(axis=axes, keepdims=True)
        v = part.var(axis=axes, keepdims=True)
        pieces.append((part - m) / np.sqrt(v + eps))
    return (np.concatenate(pieces, axis=-1) * gamma + beta).astype(np.float32)


def gn_channels_first(x, gamma, beta, groups, eps=1e-3):
    n, c = x.shape[0], x.shape[-1]
    t = np.moveaxis(x, -1, 1)  # (N, C, ...) as in the paper's code
    t = t.reshape(n, groups, -1)
    t = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + eps)
    t = np.moveaxis(t.reshape((n, c) + x.shape[1:-1]), 1, -1)
    return t * gamma + beta


def gn_group_ids(x, gamma, beta, groups, eps=1e-3):
    group_of = np.arange(x.shape[-1]) // (x.shape[-1] // groups)
    out = np.empty(x.shape, dtype=np.float64)
    for n in range(x.shape[0]):
        for g in range(groups):
            sel = x[n][..., group_of == g].astype(np.float64)
            out[n][..., group_of == g] = (sel - sel.mean()) / np.sqrt(sel.var() + eps)
    return (gamma * out + beta).astype(np.float32)


# ---------------------------------------------------------------------------
# group_norm: wrong
# ---------------------------------------------------------------------------


def gn_every_other_channel(x, gamma, beta, groups, eps=1e-3):
    # channel k goes to group k % groups
    out = np.empty(x.shape, dtype=np.float64)
    for g in range(groups):
        part = x[..., g::groups].astype(np.float64)
        axes = tuple(range(1, part.ndim))
        out[..., g::groups] = (part - part.mean(axis=axes, keepdims=True)) / np.sqrt(
            part.var(axis=axes, keepdims=True) + eps
        )
    return gamma * out + beta


def gn_groups_hold_groups_channels(x, gamma, beta, groups, eps=1e-3):
    # reads `groups` as the number of channels per group
    g = x.reshape(x.shape[:-1] + (-1, groups))
    axes = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)
    g_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return gamma * g_hat.reshape(x.shape) + beta


def gn_batch_too(x, gamma, beta, groups, eps=1e-3):
    size = x.shape[-1] // groups
    pieces = []
    for k in range(groups):
        part = x[..., k * size : (k + 1) * size]
        pieces.append((part - part.mean()) / np.sqrt(part.var() + eps))
    return np.concatenate(pieces, axis=-1) * gamma + beta


def gn_gamma_for_each_group(x, gamma, beta, groups, eps=1e-3):
    # "one scale per group": takes the first `groups` entries of gamma and beta
    size = x.shape[-1] // groups
    pieces = []
    for k in range(groups):
        part = x[..., k * size : (k + 1) * size]
        axes = tuple(range(1, part.ndim))
        x_hat = (part - part.mean(axis=axes, keepdims=True)) / np.sqrt(
            part.var(axis=axes, keepdims=True) + eps
        )
        pieces.append(gamma[k] * x_hat + beta[k])
    return np.concatenate(pieces, axis=-1)


def gn_reshape_then_average_groups(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, -1)
    axes = tuple(range(1, g.ndim - 1))  # positions and the groups axis
    g_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(g.var(axis=axes, keepdims=True) + eps)
    return gamma * g_hat.reshape(x.shape) + beta


def gn_unbiased_groups(x, gamma, beta, groups, eps=1e-3):
    size = x.shape[-1] // groups
    out = np.empty_like(x)
    for n in range(len(x)):
        for k in range(groups):
            block = x[n, ..., k * size : (k + 1) * size]
            out[n, ..., k * size : (k + 1) * size] = (block - block.mean()) / np.sqrt(
                block.var(ddof=1) + eps
            )
    return out * gamma + beta


def gn_default_eps_only(x, gamma, beta, groups, eps=1e-3):
    g = x.reshape(*x.shape[:-1], groups, -1).astype(np.float64)
    axes = tuple(range(1, g.ndim - 2)) + (-1,)
    var = g.var(axis=axes, keepdims=True)
    g_hat = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(var + 1e-3)
    return (gamma * g_hat.reshape(x.shape) + beta).astype(np.float32)


# ---------------------------------------------------------------------------
# rms_norm: correct
# ---------------------------------------------------------------------------


def rms_keepdims(x, gamma, eps=1e-6):
    x64 = x.astype(np.float64)
    ms = np.mean(np.square(x64), axis=-1, keepdims=True)
    return (x64 / np.sqrt(ms + eps) * gamma).astype(np.float32)


def rms_token_by_token(x, gamma, eps=1e-6):
    flat = x.reshape(-1, x.shape[-1])
    rows = [gamma * row / np.sqrt(sum(float(v) ** 2 for v in row) / len(row) + eps) for row in flat]
    return np.array(rows, dtype=np.float32).reshape(x.shape)


# ---------------------------------------------------------------------------
# rms_norm: wrong
# ---------------------------------------------------------------------------


def rms_like_layer_norm(x, gamma, eps=1e-6):
    centered = x - np.mean(x, axis=-1, keepdims=True)
    return gamma * centered / np.sqrt(np.mean(centered**2, axis=-1, keepdims=True) + eps)


def rms_divides_by_std(x, gamma, eps=1e-6):
    return gamma * x / np.sqrt(np.var(x, axis=-1, keepdims=True) + eps)


def rms_length_of_row(x, gamma, eps=1e-6):
    norm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + eps)
    return gamma * x / norm


def rms_feature_over_batch(x, gamma, eps=1e-6):
    # the mean square of each feature over the batch, as BN would
    axes = tuple(range(x.ndim - 1))
    return gamma * x / np.sqrt(np.mean(x**2, axis=axes) + eps)


def rms_whole_sequence(x, gamma, eps=1e-6):
    out = np.empty_like(x)
    for n in range(len(x)):
        out[n] = gamma * x[n] / np.sqrt(np.mean(x[n] ** 2) + eps)
    return out


def rms_forgets_gamma(x, gamma, eps=1e-6):
    return x / np.sqrt(np.einsum("...d,...d->...", x, x)[..., None] / x.shape[-1] + eps)


def rms_eps_after_root(x, gamma, eps=1e-6):
    return gamma * x / (np.sqrt(np.mean(x**2, axis=-1, keepdims=True)) + eps)


CORRECT = [
    ("layer_norm", ln_sample_by_sample),
    ("layer_norm", ln_with_a_class),
    ("layer_norm", ln_python_sums),
    ("group_norm", gn_list_of_groups),
    ("group_norm", gn_channels_first),
    ("group_norm", gn_group_ids),
    ("rms_norm", rms_keepdims),
    ("rms_norm", rms_token_by_token),
]

WRONG = [
    ("layer_norm", ln_copied_from_batchnorm, "norm-stats-over-batch"),
    ("layer_norm", ln_whole_batch, "norm-stats-over-batch"),
    ("layer_norm", ln_features_only, "wrong-axis"),
    ("layer_norm", ln_through_transpose, "norm-affine-wrong-axis"),
    ("layer_norm", ln_sample_std, "unbiased-variance"),
    ("layer_norm", ln_std_plus_eps, "eps-outside-sqrt"),
    ("layer_norm", ln_torch_default, "wrong-eps-default"),
    ("group_norm", gn_every_other_channel, "gn-wrong-groups"),
    ("group_norm", gn_groups_hold_groups_channels, "gn-wrong-groups"),
    ("group_norm", gn_reshape_then_average_groups, "gn-wrong-groups"),
    ("group_norm", gn_batch_too, "norm-stats-over-batch"),
    ("group_norm", gn_gamma_for_each_group, "norm-affine-wrong-axis"),
    ("group_norm", gn_unbiased_groups, "unbiased-variance"),
    ("group_norm", gn_default_eps_only, "ignores-eps-argument"),
    ("rms_norm", rms_like_layer_norm, "rms-subtracts-mean"),
    ("rms_norm", rms_divides_by_std, "rms-subtracts-mean"),
    ("rms_norm", rms_length_of_row, "rms-uses-l2-norm"),
    ("rms_norm", rms_feature_over_batch, "norm-stats-over-batch"),
    ("rms_norm", rms_whole_sequence, "wrong-axis"),
    ("rms_norm", rms_forgets_gamma, "missing-scale-shift"),
    ("rms_norm", rms_eps_after_root, "eps-outside-sqrt"),
]
