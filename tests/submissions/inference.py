"""Lesson 04, written as a learner who read only the lesson might: update_moving_stats,
batchnorm_inference and the BatchNorm layer class, right and wrong."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------
# update_moving_stats
# ---------------------------------------------------------------------------


def moving_dict_comprehension(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    pairs = {"mean": (moving_mean, batch_mean), "var": (moving_var, batch_var)}
    new = {k: momentum * old + (1 - momentum) * fresh for k, (old, fresh) in pairs.items()}
    return new["mean"], new["var"]


def moving_np_average(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    weights = [momentum, 1 - momentum]
    new_mean = np.average(np.stack([moving_mean, batch_mean]), axis=0, weights=weights)
    new_var = np.average(np.stack([moving_var, batch_var]), axis=0, weights=weights)
    return new_mean.astype(np.float32), new_var.astype(np.float32)


def moving_step_towards(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    step = 1.0 - float(momentum)  # the share of the way towards the batch
    old = np.asarray([moving_mean, moving_var], dtype=np.float64)
    new = np.asarray([batch_mean, batch_var], dtype=np.float64)
    result = old + step * (new - old)
    return result[0], result[1]


def _ema(old, new, m=0.99):
    return m * old + (1 - m) * new


def moving_helper_forgets_momentum(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    return _ema(moving_mean, batch_mean), _ema(moving_var, batch_var)


def moving_step_with_momentum(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    # "momentum is how far we move towards the new batch"
    return (
        moving_mean + momentum * (batch_mean - moving_mean),
        moving_var + momentum * (batch_var - moving_var),
    )


def moving_average_weights_swapped(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    stacked = np.stack([[moving_mean, batch_mean], [moving_var, batch_var]])
    out = np.average(stacked, axis=1, weights=[1 - momentum, momentum])
    return out[0], out[1]


def moving_dict_in_wrong_order(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    out = {}
    out["var"] = momentum * moving_var + (1 - momentum) * batch_var
    out["mean"] = momentum * moving_mean + (1 - momentum) * batch_mean
    return tuple(out.values())


def moving_in_place(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    for old, new in ((moving_mean, batch_mean), (moving_var, batch_var)):
        np.multiply(old, momentum, out=old)
        old += (1 - momentum) * new
    return moving_mean, moving_var


def moving_mixture_variance(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    # the variance of the mixture of the two distributions, not Keras's update
    new_mean = momentum * moving_mean + (1 - momentum) * batch_mean
    spread = momentum * (1 - momentum) * (batch_mean - moving_mean) ** 2
    return new_mean, momentum * moving_var + (1 - momentum) * batch_var + spread


def moving_averages_standard_deviations(
    moving_mean, moving_var, batch_mean, batch_var, momentum=0.99
):
    new_mean = momentum * moving_mean + (1 - momentum) * batch_mean
    new_std = momentum * np.sqrt(moving_var) + (1 - momentum) * np.sqrt(batch_var)
    return new_mean, new_std**2


def moving_loop_variance_flipped(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
    out = []
    for old, fresh, name in ((moving_mean, batch_mean, "mean"), (moving_var, batch_var, "var")):
        if name == "mean":
            out.append(momentum * old + (1 - momentum) * fresh)
        else:  # copied from the PyTorch docs for the variance
            out.append((1 - momentum) * old + momentum * fresh)
    return tuple(out)


# ---------------------------------------------------------------------------
# batchnorm_inference
# ---------------------------------------------------------------------------


def inference_einsum(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    scale = gamma / np.sqrt(moving_var + eps)
    return np.einsum("...c,c->...c", x - moving_mean, scale) + beta


def inference_rows(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    rows = [gamma * (row - moving_mean) / (moving_var + eps) ** 0.5 + beta for row in flat]
    return np.array(rows, dtype=np.float32).reshape(x.shape)


def _normalize(x, mean, var, eps):
    return (x - mean) / np.sqrt(var + eps)


def inference_float64_helper(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    x64 = x.astype(np.float64)
    y = gamma.astype(np.float64) * _normalize(x64, moving_mean, moving_var, eps) + beta
    return y.astype(np.float32)


def inference_batch_reshape(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    flat = x.reshape(-1, x.shape[-1])
    mean, var = flat.mean(axis=0), flat.var(axis=0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def inference_batch_variance_keepdims(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    var = x.var(axis=axes, keepdims=True)  # "the spread of what we are normalizing"
    return gamma * (x - moving_mean) / np.sqrt(var + eps) + beta


def inference_std_plus_eps(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    std = np.sqrt(moving_var)
    return gamma * (x - moving_mean) / (std + eps) + beta


def inference_no_root_einsum(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return np.einsum("...c,c->...c", x - moving_mean, gamma / (moving_var + eps)) + beta


def inference_loop_swapped(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        x_hat = (x[..., c] - moving_mean[c]) / np.sqrt(moving_var[c] + eps)
        out[..., c] = beta[c] * x_hat + gamma[c]
    return out


def inference_fixed_eps(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return gamma * _normalize(x, moving_mean, moving_var, 1e-3) + beta


def inference_pytorch_default(x, gamma, beta, moving_mean, moving_var, eps=1e-5):
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta


def inference_in_place(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    x -= moving_mean
    x /= np.sqrt(moving_var + eps)
    return gamma * x + beta


def inference_paper_correction(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    m = x.shape[0]  # Algorithm 2 multiplies by m / (m - 1)
    var = moving_var * m / (m - 1)
    return gamma * (x - moving_mean) / np.sqrt(var + eps) + beta


# ---------------------------------------------------------------------------
# The BatchNorm layer
# ---------------------------------------------------------------------------


def _update(old, new, momentum):
    return momentum * old + (1 - momentum) * new


def _inference(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


class LayerFromFunctions:
    """Built from the two functions written earlier in the lesson."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = np.ones(features, np.float32)
        self.beta = np.zeros(features, np.float32)
        self.moving_mean = np.zeros(features, np.float32)
        self.moving_var = np.ones(features, np.float32)

    def __call__(self, x, training=False):
        if training:
            axes = tuple(range(x.ndim - 1))
            mean, var = np.mean(x, axis=axes), np.var(x, axis=axes)
            self.moving_mean = _update(self.moving_mean, mean, self.momentum)
            self.moving_var = _update(self.moving_var, var, self.momentum)
            return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)
        return _inference(x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon)


class LayerWithParameterDict:
    """Keeps its arrays in a dict, with properties for the contract's names."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.settings = {"momentum": momentum, "epsilon": epsilon}
        self.params = {
            "gamma": np.ones(features, dtype="float32"),
            "beta": np.zeros(features, dtype="float32"),
            "moving_mean": np.zeros(features, dtype="float32"),
            "moving_var": np.ones(features, dtype="float32"),
        }

    def __getattr__(self, name):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name in self.__dict__.get("params", {}):
            self.params[name] = value
        else:
            super().__setattr__(name, value)

    def __call__(self, x, training=False):
        p, eps = self.params, self.settings["epsilon"]
        flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
        if training:
            mu = flat.mean(axis=0)
            var = ((flat - mu) ** 2).mean(axis=0)
            m = self.settings["momentum"]
            p["moving_mean"] = (m * p["moving_mean"] + (1 - m) * mu).astype(np.float32)
            p["moving_var"] = (m * p["moving_var"] + (1 - m) * var).astype(np.float32)
        else:
            mu, var = p["moving_mean"], p["moving_var"]
        y = p["gamma"] * (flat - mu) / np.sqrt(var + eps) + p["beta"]
        return y.reshape(x.shape).astype(np.float32)


class LayerEinsum:
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma, self.beta = np.ones(features, "f4"), np.zeros(features, "f4")
        self.moving_mean, self.moving_var = np.zeros(features, "f4"), np.ones(features, "f4")

    def __call__(self, x, training=False):
        if training:
            flat = x.reshape(-1, x.shape[-1])
            mean = np.einsum("nc->c", flat) / len(flat)
            var = np.einsum("nc,nc->c", flat - mean, flat - mean) / len(flat)
            weights = [self.momentum, 1 - self.momentum]
            self.moving_mean = np.average([self.moving_mean, mean], axis=0, weights=weights)
            self.moving_var = np.average([self.moving_var, var], axis=0, weights=weights)
        else:
            mean, var = self.moving_mean, self.moving_var
        scale = self.gamma / np.sqrt(var + self.epsilon)
        return np.einsum("...c,c->...c", x - mean, scale) + self.beta


class LayerIgnoresTrainingFlag(LayerFromFunctions):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerPyTorchMomentumRule(LayerFromFunctions):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        self.moving_mean = self.moving_mean + self.momentum * (mean - self.moving_mean)
        self.moving_var = self.moving_var + self.momentum * (var - self.moving_var)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerTracksTestData(LayerFromFunctions):
    def __call__(self, x, training=False):
        flat = x.reshape(-1, x.shape[-1])
        mean, var = flat.mean(0), flat.var(0)
        if training:
            y = _inference(x, self.gamma, self.beta, mean, var, self.epsilon)
        else:
            y = _inference(
                x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon
            )
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var, self.momentum)
        return y


class LayerStoresUnderOtherNames(LayerFromFunctions):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        self.mean = _update(self.moving_mean, mean, self.momentum)
        self.var = _update(self.moving_var, var, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerSampleVarianceForMoving(LayerFromFunctions):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        flat = x.reshape(-1, x.shape[-1])
        mean = flat.mean(axis=0)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, flat.var(axis=0, ddof=1), self.momentum)
        return _inference(x, self.gamma, self.beta, mean, flat.var(axis=0), self.epsilon)


class LayerZeroStart(LayerFromFunctions):
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        super().__init__(features, momentum, epsilon)
        self.moving_mean = np.zeros(features, np.float32)
        self.moving_var = np.zeros(features, np.float32)


class LayerPyTorchEps(LayerFromFunctions):
    def __init__(self, num_features, momentum=0.99, eps=1e-3):
        super().__init__(num_features, momentum, eps)


class LayerTrainsUnlessTold(LayerFromFunctions):
    def __call__(self, x, training=True):
        return super().__call__(x, training)


class LayerReturnsCache(LayerFromFunctions):
    def __call__(self, x, training=False):
        out = super().__call__(x, training)
        cache = (x, self.gamma, self.epsilon)
        return out, cache


class LayerAxisZero(LayerFromFunctions):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = x.mean(axis=0), x.var(axis=0)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerPyTorchDefaults(LayerFromFunctions):
    def __init__(self, features, momentum=0.1, epsilon=1e-5):
        super().__init__(features, momentum, epsilon)


class LayerCentersInPlace(LayerFromFunctions):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            self.moving_mean = _update(self.moving_mean, mean, self.momentum)
            self.moving_var = _update(self.moving_var, var, self.momentum)
        else:
            mean, var = self.moving_mean, self.moving_var
        x -= mean
        return self.gamma * x / np.sqrt(var + self.epsilon) + self.beta


class LayerNormalizesWithMoving(LayerFromFunctions):
    def __call__(self, x, training=False):
        if training:
            axes = tuple(range(x.ndim - 1))
            self.moving_mean = _update(self.moving_mean, x.mean(axis=axes), self.momentum)
            self.moving_var = _update(self.moving_var, x.var(axis=axes), self.momentum)
        return _inference(x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon)


class LayerNoEpsilonInTraining(LayerFromFunctions):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, std = x.mean(axis=axes), x.std(axis=axes)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, std**2, self.momentum)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.gamma * (x - mean) / std + self.beta


def _stats(x):
    """Per-feature mean and (biased) variance, one feature at a time."""
    columns = [x[..., c].ravel() for c in range(x.shape[-1])]
    mean = np.array([col.mean() for col in columns])
    var = np.array([((col - col.mean()) ** 2).mean() for col in columns])
    return mean, var


class LayerFeatureLoop(LayerFromFunctions):
    """Correct: statistics feature by feature, Keras's update written as a lerp."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        keep = self.momentum
        self.moving_mean = (keep * self.moving_mean + (1 - keep) * mean).astype(np.float32)
        self.moving_var = (keep * self.moving_var + (1 - keep) * var).astype(np.float32)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon).astype(np.float32)


class LayerStatsEveryCall(LayerFromFunctions):
    """Computes the batch's statistics up front and normalizes with them in both modes."""

    def __call__(self, x, training=False):
        mean, var = _stats(x)
        if training:
            self.moving_mean = _update(self.moving_mean, mean, self.momentum)
            self.moving_var = _update(self.moving_var, var, self.momentum)
        y = self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta
        return y.astype(np.float32)


class LayerRefreshesThenPredicts(LayerFromFunctions):
    """Brings the statistics up to date, then uses them, in both modes."""

    def __call__(self, x, training=False):
        mean, var = _stats(x)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var, self.momentum)
        if training:
            return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)
        return _inference(x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon)


class LayerDiscardsUpdate(LayerFromFunctions):
    """Calls an update helper but keeps nothing it returns."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        _update(self.moving_mean, mean, self.momentum)
        _update(self.moving_var, var, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerUnbiasedEinsum(LayerEinsum):
    """Divides the stored variance by n - 1 "because it estimates the population's"."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        flat = x.reshape(-1, x.shape[-1])
        n = len(flat)
        mean = np.einsum("nc->c", flat) / n
        squares = np.einsum("nc,nc->c", flat - mean, flat - mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = squares / (n - 1)
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean
        self.moving_var = self.momentum * self.moving_var + (1 - self.momentum) * estimate
        scale = self.gamma / np.sqrt(squares / n + self.epsilon)
        return np.einsum("...c,c->...c", x - mean, scale) + self.beta


class LayerAverageWeightsSwapped(LayerFromFunctions):
    """np.average with the weights in the wrong order."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        weights = [1 - self.momentum, self.momentum]
        self.moving_mean = np.average([self.moving_mean, mean], axis=0, weights=weights)
        self.moving_var = np.average([self.moving_var, var], axis=0, weights=weights)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerForgetsTheVariance(LayerFromFunctions):
    """Updates the moving mean and forgets the moving variance."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerTrainsThroughItself(LayerFromFunctions):
    """Its training branch calls the parent's training call, then updates again."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        out = super().__call__(x, True)
        mean, var = _stats(x)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var, self.momentum)
        return out


class LayerKeepsRunningStd(LayerFromFunctions):
    """Averages the batch's standard deviation into moving_var."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(self.moving_var, var**0.5, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


class LayerTracksOutput(LayerFromFunctions):
    """Normalizes first, then feeds the output's statistics into the moving averages."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        y = _inference(x, self.gamma, self.beta, mean, var, self.epsilon)
        out_mean, out_var = _stats(y)
        self.moving_mean = _update(self.moving_mean, out_mean, self.momentum)
        self.moving_var = _update(self.moving_var, out_var, self.momentum)
        return y


class LayerTracksXHat(LayerFromFunctions):
    """Averages the statistics of x_hat, computed by hand, into the moving ones."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        x_hat = (x - mean) / np.sqrt(var + self.epsilon)
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * x_hat.mean(
            axis=tuple(range(x.ndim - 1))
        )
        self.moving_var = self.momentum * self.moving_var + (1 - self.momentum) * x_hat.var(
            axis=tuple(range(x.ndim - 1))
        )
        return (self.gamma * x_hat + self.beta).astype(np.float32)


class LayerPlainInference(LayerFromFunctions):
    """Its inference branch normalizes and stops there."""

    def __call__(self, x, training=False):
        if training:
            return super().__call__(x, True)
        x_hat = (x - self.moving_mean) / np.sqrt(self.moving_var + self.epsilon)
        return x_hat.astype(np.float32)


class LayerVarianceRuleFlipped(LayerFromFunctions):
    """Keras's rule for the mean, the arguments of the helper swapped for the variance."""

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = _stats(x)
        self.moving_mean = _update(self.moving_mean, mean, self.momentum)
        self.moving_var = _update(var, self.moving_var, self.momentum)
        return _inference(x, self.gamma, self.beta, mean, var, self.epsilon)


CORRECT = [
    ("update_moving_stats", moving_dict_comprehension),
    ("update_moving_stats", moving_np_average),
    ("update_moving_stats", moving_step_towards),
    ("batchnorm_inference", inference_einsum),
    ("batchnorm_inference", inference_rows),
    ("batchnorm_inference", inference_float64_helper),
    ("BatchNorm", LayerFromFunctions),
    ("BatchNorm", LayerWithParameterDict),
    ("BatchNorm", LayerEinsum),
    ("BatchNorm", LayerFeatureLoop),
]

WRONG = [
    ("update_moving_stats", moving_helper_forgets_momentum, "ignores-momentum-argument"),
    ("update_moving_stats", moving_step_with_momentum, "momentum-reversed"),
    ("update_moving_stats", moving_average_weights_swapped, "momentum-reversed"),
    ("update_moving_stats", moving_dict_in_wrong_order, "wrong-output-order"),
    ("update_moving_stats", moving_in_place, "mutates-input"),
    ("update_moving_stats", moving_mixture_variance, None),
    ("update_moving_stats", moving_averages_standard_deviations, None),
    ("update_moving_stats", moving_loop_variance_flipped, "momentum-reversed"),
    ("batchnorm_inference", inference_batch_reshape, "batch-stats-at-inference"),
    ("batchnorm_inference", inference_batch_variance_keepdims, "mixes-moving-and-batch-stats"),
    ("batchnorm_inference", inference_std_plus_eps, "eps-outside-sqrt"),
    ("batchnorm_inference", inference_no_root_einsum, "std-for-var"),
    ("batchnorm_inference", inference_loop_swapped, "swapped-gamma-beta"),
    ("batchnorm_inference", inference_fixed_eps, "ignores-eps-argument"),
    ("batchnorm_inference", inference_pytorch_default, "wrong-eps-default"),
    ("batchnorm_inference", inference_in_place, "mutates-input"),
    ("batchnorm_inference", inference_paper_correction, None),
    ("BatchNorm", LayerIgnoresTrainingFlag, "batch-stats-at-inference"),
    ("BatchNorm", LayerPyTorchMomentumRule, "momentum-reversed"),
    ("BatchNorm", LayerTracksTestData, "updates-stats-at-inference"),
    ("BatchNorm", LayerStoresUnderOtherNames, "stats-frozen-in-training"),
    ("BatchNorm", LayerSampleVarianceForMoving, "moving-var-unbiased"),
    ("BatchNorm", LayerZeroStart, "layer-initial-values"),
    ("BatchNorm", LayerPyTorchEps, "layer-signature"),
    ("BatchNorm", LayerTrainsUnlessTold, "training-by-default"),
    ("BatchNorm", LayerReturnsCache, "layer-returns-tuple"),
    ("BatchNorm", LayerAxisZero, "wrong-axis"),
    ("BatchNorm", LayerPyTorchDefaults, "pytorch-bn-settings"),
    ("BatchNorm", LayerCentersInPlace, "mutates-input"),
    ("BatchNorm", LayerNormalizesWithMoving, "moving-stats-in-training"),
    ("BatchNorm", LayerNoEpsilonInTraining, "missing-eps"),
    ("BatchNorm", LayerStatsEveryCall, "batch-stats-at-inference"),
    ("BatchNorm", LayerRefreshesThenPredicts, "updates-stats-at-inference"),
    ("BatchNorm", LayerDiscardsUpdate, "stats-frozen-in-training"),
    ("BatchNorm", LayerUnbiasedEinsum, "moving-var-unbiased"),
    ("BatchNorm", LayerAverageWeightsSwapped, "momentum-reversed"),
    ("BatchNorm", LayerForgetsTheVariance, "stats-frozen-in-training"),
    ("BatchNorm", LayerTrainsThroughItself, "stats-updated-twice"),
    ("BatchNorm", LayerKeepsRunningStd, "moving-var-holds-std"),
    ("BatchNorm", LayerTracksOutput, "moving-stats-of-output"),
    ("BatchNorm", LayerTracksXHat, "moving-stats-of-output"),
    ("BatchNorm", LayerPlainInference, "missing-scale-shift"),
    ("BatchNorm", LayerVarianceRuleFlipped, "momentum-reversed"),
]
