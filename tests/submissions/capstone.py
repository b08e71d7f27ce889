"""Lesson 11 (capstone): BatchNormLayer and fold_conv_bn, right and wrong, as learners write
them."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------
# BatchNormLayer
# ---------------------------------------------------------------------------


class LayerWithDictCache:
    """Correct: a dict as the cache, keepdims statistics, float64 inside."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.moving_mean = np.zeros(features, dtype=np.float32)
        self.moving_var = np.ones(features, dtype=np.float32)
        self.cache = {}

    def forward(self, x, training=False):
        x64 = x.astype(np.float64)
        if training:
            mu = x64.mean(axis=0, keepdims=True)
            var = ((x64 - mu) ** 2).mean(axis=0, keepdims=True)
            self.moving_mean = (
                self.momentum * self.moving_mean + (1 - self.momentum) * mu[0]
            ).astype(np.float32)
            self.moving_var = (
                self.momentum * self.moving_var + (1 - self.momentum) * var[0]
            ).astype(np.float32)
        else:
            mu, var = self.moving_mean[None, :], self.moving_var[None, :]
        std = np.sqrt(var + self.epsilon)
        x_hat = (x64 - mu) / std
        if training:
            self.cache = {"x_hat": x_hat, "std": std}
        return (self.gamma * x_hat + self.beta).astype(np.float32)

    def backward(self, dout):
        x_hat, std = self.cache["x_hat"], self.cache["std"]
        n = dout.shape[0]
        dx_hat = dout * self.gamma
        self.dgamma = np.sum(dout * x_hat, axis=0).astype(np.float32)
        self.dbeta = np.sum(dout, axis=0).astype(np.float32)
        dx = (n * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (n * std)
        return dx.astype(np.float32)


class LayerFeatureLoop:
    """Correct: one feature at a time, in loops."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.features, self.momentum, self.epsilon = features, momentum, epsilon
        self.gamma = np.ones(features, np.float32)
        self.beta = np.zeros(features, np.float32)
        self.moving_mean = np.zeros(features, np.float32)
        self.moving_var = np.ones(features, np.float32)

    def forward(self, x, training=False):
        y = np.empty_like(x)
        self.saved = []
        new_mean, new_var = self.moving_mean.copy(), self.moving_var.copy()
        for j in range(self.features):
            col = x[:, j]
            if training:
                mean, var = col.mean(), col.var()
                new_mean[j] = self.momentum * new_mean[j] + (1 - self.momentum) * mean
                new_var[j] = self.momentum * new_var[j] + (1 - self.momentum) * var
            else:
                mean, var = self.moving_mean[j], self.moving_var[j]
            xh = (col - mean) / np.sqrt(var + self.epsilon)
            self.saved.append((xh, var))
            y[:, j] = self.gamma[j] * xh + self.beta[j]
        if training:
            self.moving_mean, self.moving_var = new_mean, new_var
            self.train_saved = self.saved
        return y

    def backward(self, dout):
        dx = np.empty_like(dout)
        self.dgamma = np.zeros(self.features, np.float32)
        self.dbeta = np.zeros(self.features, np.float32)
        m = len(dout)
        for j, (xh, var) in enumerate(self.train_saved):
            d = dout[:, j]
            self.dbeta[j] = d.sum()
            self.dgamma[j] = (d * xh).sum()
            dx[:, j] = (
                self.gamma[j]
                / (m * np.sqrt(var + self.epsilon))
                * (m * d - d.sum() - xh * (d * xh).sum())
            )
        return dx


class LayerStagedGraph:
    """Correct: lesson 05's graph, node by node, with the centered x and 1/std cached."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.moving_mean = np.zeros(features, dtype=np.float32)
        self.moving_var = np.ones(features, dtype=np.float32)

    def forward(self, x, training=False):
        if not training:
            return (x - self.moving_mean) / np.sqrt(
                self.moving_var + self.epsilon
            ) * self.gamma + self.beta
        mu = np.mean(x, axis=0)
        xmu = x - mu
        var = np.mean(xmu**2, axis=0)
        ivar = 1 / np.sqrt(var + self.epsilon)
        xhat = xmu * ivar
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mu
        self.moving_var = self.momentum * self.moving_var + (1 - self.momentum) * var
        self.cache = xmu, ivar, xhat
        return xhat * self.gamma + self.beta

    def backward(self, dout):
        xmu, ivar, xhat = self.cache
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(dout * xhat, axis=0)
        dxhat = dout * self.gamma
        divar = np.sum(dxhat * xmu, axis=0)
        dxmu1 = dxhat * ivar
        dvar = -0.5 * ivar**3 * divar
        dxmu2 = 2 * xmu * np.ones_like(dout) * dvar / n
        dx1 = dxmu1 + dxmu2
        dmu = -np.sum(dx1, axis=0)
        return dx1 + dmu / n


class RecomputesWithMovingStats(LayerStagedGraph):
    """Wrong: backward rebuilds x_hat from the stored x and the (updated) moving stats."""

    def forward(self, x, training=False):
        if training:
            self.x = x.copy()
        return super().forward(x, training)

    def backward(self, dout):
        std = np.sqrt(self.moving_var + self.epsilon)
        xhat = (self.x - self.moving_mean) / std
        n = len(dout)
        self.dbeta = dout.sum(0)
        self.dgamma = (dout * xhat).sum(0)
        return self.gamma / (n * std) * (n * dout - self.dbeta - xhat * self.dgamma)


class LoopWithMovingStatsInBackward(LayerFeatureLoop):
    """Wrong: the loop's backward takes each feature's variance from moving_var."""

    def forward(self, x, training=False):
        if training:
            self.x_seen = x.copy()
        return super().forward(x, training)

    def backward(self, dout):
        dx = np.empty_like(dout)
        self.dgamma = np.zeros(self.features, np.float32)
        self.dbeta = np.zeros(self.features, np.float32)
        m = len(dout)
        for j in range(self.features):
            std = np.sqrt(self.moving_var[j] + self.epsilon)
            xh = (self.x_seen[:, j] - self.moving_mean[j]) / std
            d = dout[:, j]
            self.dbeta[j], self.dgamma[j] = d.sum(), (d * xh).sum()
            dx[:, j] = self.gamma[j] / (m * std) * (m * d - d.sum() - xh * (d * xh).sum())
        return dx


class CachesTheOutput(LayerWithDictCache):
    """Wrong: the cache keeps what forward returned, and backward treats it as x_hat."""

    def forward(self, x, training=False):
        y = super().forward(x, training)
        if training:
            self.cache["x_hat"] = y.astype(np.float64)
        return y


class AveragesParameterGrads(LayerStagedGraph):
    """Wrong: dgamma and dbeta are means over the batch."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma = np.mean(dout * self.cache[2], axis=0)
        self.dbeta = np.mean(dout, axis=0)
        return dx


class KeepsPerSampleGrads(LayerWithDictCache):
    """Wrong: dgamma and dbeta keep one row per sample."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma = dout * self.cache["x_hat"]
        self.dbeta = dout.copy()
        return dx


class ForgetsToUpdate(LayerStagedGraph):
    """Wrong: the moving statistics are updated into locals that are never stored."""

    def forward(self, x, training=False):
        if not training:
            return super().forward(x, False)
        mean, var = x.mean(0), x.var(0)
        moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean  # noqa: F841
        moving_var = self.momentum * self.moving_var + (1 - self.momentum) * var  # noqa: F841
        xhat = (x - mean) / np.sqrt(var + self.epsilon)
        self.cache = x - mean, 1 / np.sqrt(var + self.epsilon), xhat
        return self.gamma * xhat + self.beta


class TorchMomentum(LayerWithDictCache):
    """Wrong: the moving statistics follow PyTorch's momentum rule with Keras's number."""

    def forward(self, x, training=False):
        before = self.moving_mean.copy(), self.moving_var.copy()
        y = super().forward(x, training)
        if training:
            m = self.momentum
            self.moving_mean = (1 - m) * before[0] + m * x.mean(0)
            self.moving_var = (1 - m) * before[1] + m * x.var(0)
        return y


class DxWithoutGamma(LayerWithDictCache):
    """Wrong: the gradient reaching x_hat is taken to be dout itself."""

    def backward(self, dout):
        x_hat, std = self.cache["x_hat"], self.cache["std"]
        n = len(dout)
        self.dgamma = (dout * x_hat).sum(axis=0)
        self.dbeta = dout.sum(axis=0)
        return (n * dout - self.dbeta - x_hat * self.dgamma) / (n * std)


# ---------------------------------------------------------------------------
# fold_conv_bn
# ---------------------------------------------------------------------------


def fold_conv_loop(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    out = kernel.shape[-1]
    new_kernel = np.empty_like(kernel)
    new_bias = np.empty(out, dtype=np.float32)
    for c in range(out):
        s = gamma[c] / np.sqrt(var[c] + eps)
        new_kernel[..., c] = kernel[..., c] * s
        b = 0.0 if bias is None else bias[c]
        new_bias[c] = beta[c] + s * (b - mean[c])
    return new_kernel, new_bias


def fold_conv_reshape(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = (gamma / np.sqrt(var + eps)).astype(np.float64)
    w = kernel.reshape(-1, kernel.shape[-1]) * s[None, :]
    b = np.zeros(len(gamma)) if bias is None else np.asarray(bias, np.float64)
    return w.reshape(kernel.shape).astype(np.float32), (beta - s * mean + s * b).astype(np.float32)


def fold_conv_einsum(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = gamma / np.sqrt(var + eps)
    b = bias if bias is not None else np.zeros_like(beta)
    return np.einsum("ijkl,l->ijkl", kernel, s), s * (b - mean) + beta


def fold_scales_inputs(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = gamma / np.sqrt(var + eps)
    b = bias if bias is not None else 0
    return kernel * s[:, np.newaxis], s * (b - mean) + beta


def fold_in_channel_loop(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    new_kernel = kernel.copy()
    s = gamma / np.sqrt(var + eps)
    for c in range(kernel.shape[2]):
        new_kernel[:, :, c, :] *= s[c]
    b = np.zeros_like(mean) if bias is None else bias
    return new_kernel, (b - mean) * s + beta


def fold_no_mean(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = gamma / np.sqrt(var + eps)
    b = np.zeros_like(beta) if bias is None else bias
    return kernel * s, b * s + beta


def fold_eps_outside(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = gamma / (np.sqrt(var) + eps)
    b = np.zeros_like(beta) if bias is None else bias
    return kernel * s, (b - mean) * s + beta


def fold_drops_given_bias(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    s = gamma / np.sqrt(var + eps)
    return kernel * s, beta - mean * s


# ---------------------------------------------------------------------------
# choose_placement
# ---------------------------------------------------------------------------


def choose_with_statistics_module(before, after):
    """Correct: plain Python, the lowest and highest seed of each."""
    import statistics  # noqa: F401 - a learner's import, unused

    if len(before) < 2:
        raise ValueError("before must hold at least 2 runs")
    if len(after) < 2:
        raise ValueError("after must hold at least 2 runs")
    worst_before, best_before = min(before), max(before)
    worst_after, best_after = min(after), max(after)
    if worst_before > best_after:
        return "before"
    elif worst_after > best_before:
        return "after"
    else:
        return "tie"


def choose_with_any(before, after):
    """Correct: a tie as soon as one seed of the other placement is at least as good."""
    b, a = list(before), list(after)
    for name, runs in [("before", b), ("after", a)]:
        if len(runs) <= 1:
            raise ValueError(f"need two or more accuracies in {name}")
    if not any(x >= y for x in a for y in b):
        return "before"
    if not any(y >= x for x in a for y in b):
        return "after"
    return "tie"


def choose_by_mean(before, after):
    if len(before) < 2 or len(after) < 2:
        raise ValueError(f"before and after need two seeds: {len(before)}, {len(after)}")
    if np.mean(before) > np.mean(after):
        return "before"
    return "after"


def choose_by_mean_and_std(before, after):
    """The higher mean wins if the standard deviations are small (they always are here)."""
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before/after: two seeds at least")
    if np.std(before) + np.std(after) > 0.5:
        return "tie"
    return "before" if np.mean(before) >= np.mean(after) else "after"


def choose_by_best_run(before, after):
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    best = max(max(before), max(after))
    return "before" if best in list(before) else "after"


def choose_by_first_run(before, after):
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    if before[0] > after[0]:
        return "before"
    if before[0] < after[0]:
        return "after"
    return "tie"


def choose_with_ge(before, after):
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    if min(before) >= max(after):
        return "before"
    if min(after) >= max(before):
        return "after"
    return "tie"


def choose_paper(before, after):
    """The paper puts BN before the ReLU."""
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    return "before"


def choose_without_length_check(before, after):
    if min(before) > max(after):
        return "before"
    if min(after) > max(before):
        return "after"
    return "tie"


def choose_sorting_in_place(before, after):
    before.sort()
    after.sort()
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    if before[0] > after[-1]:
        return "before"
    if after[0] > before[-1]:
        return "after"
    return "tie"


def choose_mean_gap(before, after):
    """A winner when the means differ by more than one point."""
    if len(before) < 2 or len(after) < 2:
        raise ValueError("before and after need two seeds")
    gap = np.mean(before) - np.mean(after)
    if gap > 0.01:
        return "before"
    if gap < -0.01:
        return "after"
    return "tie"


CORRECT = [
    ("BatchNormLayer", LayerWithDictCache),
    ("BatchNormLayer", LayerFeatureLoop),
    ("BatchNormLayer", LayerStagedGraph),
    ("fold_conv_bn", fold_conv_loop),
    ("fold_conv_bn", fold_conv_reshape),
    ("fold_conv_bn", fold_conv_einsum),
    ("choose_placement", choose_with_statistics_module),
    ("choose_placement", choose_with_any),
]

WRONG = [
    ("BatchNormLayer", RecomputesWithMovingStats, "backward-uses-moving-stats"),
    ("BatchNormLayer", LoopWithMovingStatsInBackward, "backward-uses-moving-stats"),
    ("BatchNormLayer", CachesTheOutput, "backward-caches-output"),
    ("BatchNormLayer", AveragesParameterGrads, "param-grads-not-summed"),
    ("BatchNormLayer", KeepsPerSampleGrads, "param-grads-not-summed"),
    ("BatchNormLayer", ForgetsToUpdate, "stats-frozen-in-training"),
    ("BatchNormLayer", TorchMomentum, "momentum-reversed"),
    ("BatchNormLayer", DxWithoutGamma, "backward-forgets-gamma"),
    ("fold_conv_bn", fold_scales_inputs, "fold-scales-input-axis"),
    ("fold_conv_bn", fold_in_channel_loop, "fold-scales-input-axis"),
    ("fold_conv_bn", fold_no_mean, "fold-forgets-mean"),
    ("fold_conv_bn", fold_eps_outside, "eps-outside-sqrt"),
    ("fold_conv_bn", fold_drops_given_bias, "fold-ignores-bias"),
    ("choose_placement", choose_by_mean, "ignores-seed-spread"),
    ("choose_placement", choose_by_mean_and_std, "ignores-seed-spread"),
    ("choose_placement", choose_by_best_run, "compares-best-seeds"),
    ("choose_placement", choose_by_first_run, "decides-from-one-seed"),
    ("choose_placement", choose_with_ge, "touching-ranges-win"),
    ("choose_placement", choose_paper, "decides-without-measuring"),
    ("choose_placement", choose_without_length_check, "accepts-one-seed"),
    ("choose_placement", choose_sorting_in_place, "mutates-input"),
    ("choose_placement", choose_mean_gap, "ignores-seed-spread"),
]
