"""Lesson 11's checks: BatchNormLayer (forward, backward, moving statistics) and fold_conv_bn.

Correct layers in several shapes pass; each wrong one gets its named diagnosis. ``WRONG``
maps each diagnosis to at least two different implementations (tests/implementations.py
collects them for the catalogue-coverage test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import reference as ref
from bncourse.grading import DIAGNOSES, check, get_exercise, hint
from bncourse.grading.exercises.capstone import MISTAKES

# ---------------------------------------------------------------------------
# BatchNormLayer: a correct layer with switches for the mistakes.
# ---------------------------------------------------------------------------


class _Layer:
    backward_stats = "batch"  # "moving" or "constants"
    cache_what = "x_hat"  # "y" or "x in dgamma"
    param_grads = "sum"  # "mean" or "per sample"
    updates = True
    pytorch_momentum = False
    batch_at_inference = False
    ddof = 0

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.moving_mean = np.zeros(features, dtype=np.float32)
        self.moving_var = np.ones(features, dtype=np.float32)

    def forward(self, x, training=False):
        if training or self.batch_at_inference:
            mean, var = x.mean(axis=0), x.var(axis=0)
        else:
            mean, var = self.moving_mean, self.moving_var
        x_hat = (x - mean) / np.sqrt(var + self.epsilon)
        y = self.gamma * x_hat + self.beta
        if training:
            self.x, self.x_hat, self.var, self.y = x, x_hat, var, y
            if self.updates:
                keep = 1 - self.momentum if self.pytorch_momentum else self.momentum
                stored = x.var(axis=0, ddof=self.ddof)
                self.moving_mean = keep * self.moving_mean + (1 - keep) * mean
                self.moving_var = keep * self.moving_var + (1 - keep) * stored
        return y

    def backward(self, dout):
        m = len(dout)
        var, x_hat = self.var, self.x_hat
        if self.backward_stats == "moving":
            var = self.moving_var
            x_hat = (self.x - self.moving_mean) / np.sqrt(var + self.epsilon)
        if self.cache_what == "y":
            x_hat = self.y
        per_sample = dout * (self.x if self.cache_what == "x in dgamma" else x_hat)
        self.dbeta, self.dgamma = dout.sum(axis=0), per_sample.sum(axis=0)
        inv_std = 1 / np.sqrt(var + self.epsilon)
        if self.backward_stats == "constants":
            dx = self.gamma * inv_std * dout
        else:
            dx = (
                self.gamma
                * inv_std
                / m
                * (m * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0))
            )
        if self.param_grads == "mean":
            self.dbeta, self.dgamma = self.dbeta / m, self.dgamma / m
        elif self.param_grads == "per sample":
            self.dbeta, self.dgamma = dout.copy(), per_sample
        return dx


class LayerWithReference(_Layer):
    """Correct: the backward pass from bncourse.reference on a cached x."""

    def backward(self, dout):
        dx, self.dgamma, self.dbeta = ref.batchnorm_backward(dout, self.x, self.gamma, self.epsilon)
        return dx


class LayerStaged:
    """Correct: the staged backward pass of lesson 05, node by node."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = np.ones(features, np.float32)
        self.beta = np.zeros(features, np.float32)
        self.moving_mean = np.zeros(features, np.float32)
        self.moving_var = np.ones(features, np.float32)

    def forward(self, x, training=False):
        if not training:
            return ref.batchnorm_inference(
                x, self.gamma, self.beta, self.moving_mean, self.moving_var, self.epsilon
            )
        mu = x.mean(0)
        xc = x - mu
        var = (xc**2).mean(0)
        istd = 1.0 / np.sqrt(var + self.epsilon)
        xh = xc * istd
        self._saved = (xc, istd, xh)
        self.moving_mean, self.moving_var = ref.update_moving_stats(
            self.moving_mean, self.moving_var, mu, var, self.momentum
        )
        return self.gamma * xh + self.beta

    def backward(self, dout):
        xc, istd, xh = self._saved
        m = dout.shape[0]
        self.dbeta = dout.sum(0)
        self.dgamma = (dout * xh).sum(0)
        dxh = dout * self.gamma
        dvar = (dxh * xc).sum(0) * -0.5 * istd**3
        dmu = -(dxh * istd).sum(0) - 2 * dvar * xc.mean(0)
        return dxh * istd + dvar * 2 * xc / m + dmu / m


class StagedWithoutUpdates(LayerStaged):
    """Wrong: the new moving statistics are computed and dropped."""

    def forward(self, x, training=False):
        saved = self.moving_mean, self.moving_var
        y = super().forward(x, training)
        new_stats = self.moving_mean, self.moving_var  # computed, then dropped
        self.moving_mean, self.moving_var = saved
        del new_stats
        return y


def _variant(name, **switches):
    return type(name, (_Layer,), switches)


WRONG = {
    "backward-uses-moving-stats": [
        _variant("BackwardWithMovingStats", backward_stats="moving"),
        _variant("BackwardWithMovingStatsPyTorch", backward_stats="moving", pytorch_momentum=True),
    ],
    "backward-caches-output": [
        _variant("CachesY", cache_what="y"),
        _variant("CachesYMeanGrads", cache_what="y", param_grads="mean"),
    ],
    "param-grads-not-summed": [
        _variant("AveragesParamGrads", param_grads="mean"),
        _variant("PerSampleParamGrads", param_grads="per sample"),
    ],
    "stats-frozen-in-training": [
        _variant("NoUpdates", updates=False),
        StagedWithoutUpdates,
    ],
    "backward-ignores-batch-stats": [
        _variant("ConstantsBackward", backward_stats="constants"),
    ],
}


class ForgetsGammaInDx(LayerStaged):
    """Wrong: dx leaves out the factor gamma."""

    def backward(self, dout):
        return super().backward(dout) / self.gamma


WRONG["backward-forgets-gamma"] = [ForgetsGammaInDx]
WRONG = {
    diagnosis: [("BatchNormLayer", cls) for cls in classes] for diagnosis, classes in WRONG.items()
}

# ---------------------------------------------------------------------------
# fold_conv_bn
# ---------------------------------------------------------------------------


def fold_reference(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    return ref.fold_batchnorm(kernel, bias, gamma, beta, mean, var, eps)


def fold_einsum(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    scale = gamma / np.sqrt(var + eps)
    b = np.zeros_like(gamma) if bias is None else bias
    return np.einsum("hwio,o->hwio", kernel, scale), beta + (b - mean) * scale


def fold_input_axis(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    scale = gamma / np.sqrt(var + eps)
    b = 0 if bias is None else bias
    return kernel * scale[:, None], (b - mean) * scale + beta


def fold_einsum_input(kernel, bias, gamma, beta, mean, var, eps=1e-3):
    scale = gamma / np.sqrt(var + eps)
    b = np.zeros_like(beta) if bias is None else bias
    return np.einsum("hwio,i->hwio", kernel, scale), (b - mean) * scale + beta


WRONG["fold-scales-input-axis"] = [
    ("fold_conv_bn", fold_input_axis),
    ("fold_conv_bn", fold_einsum_input),
]


def _check(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(exercise_id, fn)


@pytest.mark.parametrize("cls", [_Layer, LayerWithReference, LayerStaged])
def test_correct_layers_pass(cls):
    result = _check("BatchNormLayer", cls)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize(
    "diagnosis, exercise_id, fn",
    [(d, e, fn) for d, pairs in WRONG.items() for e, fn in pairs],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_ones_are_named(diagnosis, exercise_id, fn):
    result = _check(exercise_id, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    assert (
        DIAGNOSES[diagnosis].title in result.feedback
        or diagnosis in get_exercise(exercise_id).wording
    )


def test_every_mistake_the_layer_judge_searches_is_in_the_catalogue():
    assert set(MISTAKES) <= set(DIAGNOSES)


def test_an_unnamed_mistake_shows_the_failing_calls():
    class SignSlipInDx(_Layer):
        def backward(self, dout):
            super().backward(dout)
            m = len(dout)
            x_hat, inv_std = self.x_hat, 1 / np.sqrt(self.var + self.epsilon)
            return (
                self.gamma * inv_std / m * (m * dout + dout.sum(0) - x_hat * (dout * x_hat).sum(0))
            )

    result = _check("BatchNormLayer", SignSlipInDx)
    assert not result.passed and not result.diagnoses
    assert result.failing is not None and "dout" in " ".join(result.failing.args)
    assert "dx" in result.failing.expected


def test_an_untouched_stub_is_not_attempted():
    class Stub:
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            raise NotImplementedError("Write BatchNormLayer")

    assert _check("BatchNormLayer", Stub).status == "not-attempted"


def test_a_layer_that_modifies_its_input_is_named():
    class InPlace(_Layer):
        def forward(self, x, training=False):
            y = super().forward(x.copy(), training)
            x -= x.mean(axis=0)
            return y

    result = _check("BatchNormLayer", InPlace)
    assert not result.passed and "mutates-input" in result.diagnoses


@pytest.mark.parametrize("fn", [fold_reference, fold_einsum])
def test_correct_folds_pass(fn):
    result = _check("fold_conv_bn", fn)
    assert result.passed, str(result)


def test_both_exercises_have_three_hint_levels():
    for exercise_id in ("BatchNormLayer", "fold_conv_bn"):
        levels = get_exercise(exercise_id).hints
        assert len(set(levels)) >= 3
        assert "?" in levels[0]
        assert hint(exercise_id, level=1) is not None
