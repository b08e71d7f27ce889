"""Lesson 10: learner-style submissions for ``adapt_statistics`` (AdaBN on a stack of
Dense -> BN -> ReLU blocks), written from what section 4 shows (moving statistics that
describe the old data, ``adapt_momentum``, Keras's momentum convention), and for
``frozen_bn_call`` (one call of a Keras BN layer, frozen or not), written from section 1.1,
in shapes the checks' own tests do not use."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------
# correct
# ---------------------------------------------------------------------------


class _Block:
    def __init__(self, kernel, gamma, beta, eps):
        self.kernel, self.gamma, self.beta, self.eps = kernel, gamma, beta, eps

    def adapt_and_run(self, h):
        z = np.tensordot(h, self.kernel, axes=([-1], [0]))
        flat = z.reshape(-1, z.shape[-1]).astype(np.float64)
        self.mean = flat.mean(axis=0)
        self.var = flat.var(axis=0)
        y = self.gamma * (z - self.mean) / np.sqrt(self.var + self.eps) + self.beta
        return np.where(y > 0, y, 0.0)


def adapt_with_block_objects(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    blocks = [_Block(kernels[k], gamma[k], beta[k], eps) for k in range(len(kernels))]
    h = x
    for block in blocks:
        h = block.adapt_and_run(h)
    return (
        np.array([b.mean for b in blocks], np.float32),
        np.array([b.var for b in blocks], np.float32),
    )


def adapt_copies_then_overwrites(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    mean, var = moving_mean.copy(), moving_var.copy()
    h = x
    for k in range(kernels.shape[0]):
        z = h @ kernels[k]
        n = z.size // z.shape[-1]
        mean[k] = z.sum(axis=tuple(range(z.ndim - 1))) / n
        var[k] = ((z - mean[k]) ** 2).sum(axis=tuple(range(z.ndim - 1))) / n
        h = np.maximum(0, (z - mean[k]) * (gamma[k] / np.sqrt(var[k] + eps)) + beta[k])
    return mean, var


# ---------------------------------------------------------------------------
# wrong
# ---------------------------------------------------------------------------


def adapt_measure_then_run_old(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    # measures each BN input, but passes the block's old inference output on
    h = x
    new_mean, new_var = [], []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        new_mean.append(z.reshape(-1, z.shape[-1]).mean(0))
        new_var.append(z.reshape(-1, z.shape[-1]).var(0))
        bn = (z - moving_mean[k]) / np.sqrt(moving_var[k] + eps) * gamma[k] + beta[k]
        h = np.clip(bn, 0, None)
    return np.array(new_mean), np.array(new_var)


def adapt_one_keras_step(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    # what one training-mode call would leave behind (momentum 0.99)
    momentum = 0.99
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        axes = tuple(range(z.ndim - 1))
        bm, bv = z.mean(axis=axes), z.var(axis=axes)
        means.append(momentum * moving_mean[k] + (1 - momentum) * bm)
        variances.append(momentum * moving_var[k] + (1 - momentum) * bv)
        h = np.maximum(gamma[k] * (z - bm) / np.sqrt(bv + eps) + beta[k], 0)
    return np.stack(means), np.stack(variances)


def adapt_stats_after_bn(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    # "BN's statistics": of what comes out of the BN layer, run with its old statistics
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        out = gamma[k] * (h @ kernels[k] - moving_mean[k]) / np.sqrt(moving_var[k] + eps) + beta[k]
        axes = tuple(range(out.ndim - 1))
        means.append(out.mean(axis=axes))
        variances.append(out.var(axis=axes))
        h = np.maximum(out, 0)
    return np.stack(means), np.stack(variances)


def adapt_torch_linear(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    # PyTorch's Linear computes x @ W.T
    h, means, variances = x, [], []
    for W, g, b in zip(kernels, gamma, beta, strict=True):
        z = h @ W.T
        axes = tuple(range(z.ndim - 1))
        means.append(z.mean(axis=axes))
        variances.append(z.var(axis=axes))
        h = np.maximum(g * (z - means[-1]) / np.sqrt(variances[-1] + eps) + b, 0)
    return np.stack(means), np.stack(variances)


def adapt_forgets_relu(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h = x
    out_mean, out_var = [], []
    for k in range(len(kernels)):
        z = np.einsum("...i,ij->...j", h, kernels[k])
        mu = z.mean(axis=tuple(range(z.ndim - 1)), keepdims=True)
        var = z.var(axis=tuple(range(z.ndim - 1)), keepdims=True)
        out_mean.append(mu.ravel())
        out_var.append(var.ravel())
        h = gamma[k] * (z - mu) / np.sqrt(var + eps) + beta[k]
    return np.array(out_mean), np.array(out_var)


def adapt_sample_variance(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    h, means, variances = x, [], []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        flat = z.reshape(-1, z.shape[-1])
        mean, var = flat.mean(axis=0), flat.var(axis=0, ddof=1)
        means.append(mean)
        variances.append(var)
        h = np.maximum(gamma[k] * (z - mean) / np.sqrt(var + eps) + beta[k], 0)
    return np.stack(means), np.stack(variances)


# ---------------------------------------------------------------------------
# frozen_bn_call
# ---------------------------------------------------------------------------


class _KerasLikeBN:
    def __init__(self, gamma, beta, moving_mean, moving_var, momentum, eps, trainable):
        self.gamma, self.beta = gamma, beta
        self.moving_mean, self.moving_var = moving_mean.copy(), moving_var.copy()
        self.momentum, self.eps, self.trainable = momentum, eps, trainable

    def __call__(self, x, training):
        if training and self.trainable:
            mu = np.mean(x, axis=tuple(range(x.ndim - 1)), keepdims=True)
            var = np.mean((x - mu) ** 2, axis=tuple(range(x.ndim - 1)), keepdims=True)
            self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mu.ravel()
            self.moving_var = self.momentum * self.moving_var + (1 - self.momentum) * var.ravel()
        else:
            mu, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mu) / np.sqrt(var + self.eps) + self.beta


def frozen_as_a_layer_class(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    layer = _KerasLikeBN(gamma, beta, moving_mean, moving_var, momentum, eps, trainable)
    y = layer(x, training)
    return y, layer.moving_mean, layer.moving_var


def frozen_with_a_mode_string(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    mode = "batch" if (training and trainable) else "moving"
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    stats = {
        "batch": (flat.mean(axis=0), flat.var(axis=0)),
        "moving": (moving_mean.astype(np.float64), moving_var.astype(np.float64)),
    }
    mean, var = stats[mode]
    y = np.einsum("...c,c->...c", x - mean, 1 / np.sqrt(var + eps)) * gamma + beta
    if mode == "batch":
        return (
            y,
            momentum * moving_mean + (1 - momentum) * mean,
            (momentum * moving_var + (1 - momentum) * var),
        )
    return y, np.copy(moving_mean), np.copy(moving_var)


def frozen_thinks_trainable_is_only_for_the_optimizer(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    # trainable=False stops gamma and beta from learning; the call itself follows `training`
    layer = _KerasLikeBN(gamma, beta, moving_mean, moving_var, momentum, eps, trainable=True)
    y = layer(x, training)
    return y, layer.moving_mean, layer.moving_var


def frozen_locks_statistics_but_uses_batch(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    axes = tuple(range(x.ndim - 1))
    if training:
        mu, var = x.mean(axis=axes), x.var(axis=axes)
        new_mean, new_var = moving_mean, moving_var
        if trainable:
            new_mean = momentum * moving_mean + (1 - momentum) * mu
            new_var = momentum * moving_var + (1 - momentum) * var
        return gamma * (x - mu) / np.sqrt(var + eps) + beta, new_mean, new_var
    y = gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    return y, moving_mean, moving_var


def frozen_output_right_statistics_still_move(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    flat = x.reshape(-1, x.shape[-1])
    new_mean, new_var = moving_mean.copy(), moving_var.copy()
    if training:  # the statistics follow training, whatever trainable says
        new_mean = momentum * moving_mean + (1 - momentum) * flat.mean(0)
        new_var = momentum * moving_var + (1 - momentum) * flat.var(0)
    if training and trainable:
        y = gamma * (x - flat.mean(0)) / np.sqrt(flat.var(0) + eps) + beta
    else:
        y = gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    return y, new_mean, new_var


def frozen_reads_trainable_as_the_mode(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    layer = _KerasLikeBN(gamma, beta, moving_mean, moving_var, momentum, eps, trainable=True)
    y = layer(x, training=trainable)
    return y, layer.moving_mean, layer.moving_var


def frozen_pytorch_update(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    if not (training and trainable):
        return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta, moving_mean, moving_var
    axes = tuple(range(x.ndim - 1))
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    y = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return (
        y,
        (1 - momentum) * moving_mean + momentum * mu,
        (1 - momentum) * moving_var + momentum * var,
    )


def frozen_sample_variance(
    x, gamma, beta, moving_mean, moving_var, training, trainable, momentum=0.99, eps=1e-3
):
    if not (training and trainable):
        return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta, moving_mean, moving_var
    flat = x.reshape(-1, x.shape[-1])
    mu, var = flat.mean(axis=0), flat.var(axis=0, ddof=1)
    y = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return (
        y,
        momentum * moving_mean + (1 - momentum) * mu,
        momentum * moving_var + (1 - momentum) * var,
    )


def adapt_batch_axis_only(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3):
    # axis=0 is right for (batch, features) and wrong for feature maps
    h = np.asarray(x, dtype=np.float32)
    means, variances = [], []
    for k in range(len(kernels)):
        z = h @ kernels[k]
        mu, var = z.mean(axis=0), z.var(axis=0)
        means.append(mu)
        variances.append(var)
        h = np.maximum(gamma[k] * (z - mu) / np.sqrt(var + eps) + beta[k], 0)
    return np.stack(means).astype(np.float32), np.stack(variances).astype(np.float32)


CORRECT = [
    ("adapt_statistics", adapt_with_block_objects),
    ("adapt_statistics", adapt_copies_then_overwrites),
    ("frozen_bn_call", frozen_as_a_layer_class),
    ("frozen_bn_call", frozen_with_a_mode_string),
]

WRONG = [
    ("adapt_statistics", adapt_measure_then_run_old, "adapt-stale-upstream"),
    ("adapt_statistics", adapt_one_keras_step, "adapt-blends-statistics"),
    ("adapt_statistics", adapt_stats_after_bn, "adapt-wrong-tensor"),
    ("adapt_statistics", adapt_torch_linear, "adapt-transposed-kernel"),
    ("adapt_statistics", adapt_forgets_relu, "adapt-skips-relu"),
    ("adapt_statistics", adapt_sample_variance, "unbiased-variance"),
    ("adapt_statistics", adapt_batch_axis_only, "wrong-axis"),
    ("frozen_bn_call", frozen_thinks_trainable_is_only_for_the_optimizer, "frozen-bn-still-trains"),
    ("frozen_bn_call", frozen_locks_statistics_but_uses_batch, "frozen-bn-normalizes-with-batch"),
    ("frozen_bn_call", frozen_output_right_statistics_still_move, "frozen-bn-updates-statistics"),
    ("frozen_bn_call", frozen_reads_trainable_as_the_mode, "bn-mode-ignores-training"),
    ("frozen_bn_call", frozen_pytorch_update, "momentum-reversed"),
    ("frozen_bn_call", frozen_sample_variance, "unbiased-variance"),
]
