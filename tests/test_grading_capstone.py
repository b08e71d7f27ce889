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
from bncourse.grading.exercises.capstone import DECISION_RULES, MISTAKES, expected_decision

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


# ---------------------------------------------------------------------------
# choose_placement
# ---------------------------------------------------------------------------


def _needs_two(before, after):
    for name, runs in (("before", before), ("after", after)):
        if len(runs) < 2:
            raise ValueError(f"{name}: at least two seeds, got {len(runs)}")


def decide_min_max(before, after):
    _needs_two(before, after)
    if min(before) > max(after):
        return "before"
    if min(after) > max(before):
        return "after"
    return "tie"


def decide_sorted(before, after):
    """Correct: sorted copies, the ends compared."""
    b, a = sorted(before), sorted(after)
    if len(b) < 2 or len(a) < 2:
        raise ValueError("before and after need two seeds each")
    return "before" if b[0] > a[-1] else ("after" if a[0] > b[-1] else "tie")


def decide_all_pairs(before, after):
    """Correct: every seed against every seed, in float64."""
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    if b.size < 2:
        raise ValueError("before has fewer than two seeds")
    if a.size < 2:
        raise ValueError("after has fewer than two seeds")
    if np.all(b[:, None] > a[None, :]):
        return "before"
    if np.all(a[:, None] > b[None, :]):
        return "after"
    return "tie"


def always_before(before, after):
    _needs_two(before, after)
    return "before"


def always_tie(before, after):
    _needs_two(before, after)
    return "tie"


def swapped_min_max(before, after):
    _needs_two(before, after)
    if min(before) > max(after):
        return "after"
    if min(after) > max(before):
        return "before"
    return "tie"


def reads_errors(before, after):
    """Lower is better, as if the numbers were error rates."""
    _needs_two(before, after)
    if max(before) < min(after):
        return "before"
    if max(after) < min(before):
        return "after"
    return "tie"


def first_seed(before, after):
    _needs_two(before, after)
    return "before" if before[0] > after[0] else ("after" if after[0] > before[0] else "tie")


def first_seed_strict(before, after):
    _needs_two(before, after)
    if before[0] == after[0]:
        return "tie"
    return "before" if before[0] > after[0] else "after"


def best_seeds(before, after):
    _needs_two(before, after)
    b, a = max(before), max(after)
    return "before" if b > a else ("after" if a > b else "tie")


def best_seeds_numpy(before, after):
    _needs_two(before, after)
    gap = np.max(before) - np.max(after)
    return "tie" if gap == 0 else ("before" if gap > 0 else "after")


def higher_mean(before, after):
    _needs_two(before, after)
    b, a = np.mean(before), np.mean(after)
    return "before" if b > a else ("after" if a > b else "tie")


def higher_mean_by_hand(before, after):
    """The higher mean, computed by hand."""
    _needs_two(before, after)
    b, a = sum(before) / len(before), sum(after) / len(after)
    if b == a:
        return "tie"
    return "before" if b > a else "after"


def touching_counts(before, after):
    _needs_two(before, after)
    if min(before) >= max(after):
        return "before"
    if min(after) >= max(before):
        return "after"
    return "tie"


def touching_counts_numpy(before, after):
    _needs_two(before, after)
    if np.min(before) >= np.max(after):
        return "before"
    return "after" if np.min(after) >= np.max(before) else "tie"


def worst_beats_mean(before, after):
    _needs_two(before, after)
    if min(before) > np.mean(after):
        return "before"
    if min(after) > np.mean(before):
        return "after"
    return "tie"


def worst_beats_mean_numpy(before, after):
    _needs_two(before, after)
    b, a = np.asarray(before), np.asarray(after)
    return "before" if b.min() > a.mean() else ("after" if a.min() > b.mean() else "tie")


def one_seed_allowed(before, after):
    if min(before) > max(after):
        return "before"
    if min(after) > max(before):
        return "after"
    return "tie"


def one_seed_tie(before, after):
    if len(before) < 2 or len(after) < 2:
        return "tie"
    return decide_min_max(before, after)


WRONG["decides-without-measuring"] = [
    ("choose_placement", always_before),
    ("choose_placement", always_tie),
]
WRONG["decision-labels-swapped"] = [
    ("choose_placement", swapped_min_max),
    ("choose_placement", reads_errors),
]
WRONG["decides-from-one-seed"] = [
    ("choose_placement", first_seed),
    ("choose_placement", first_seed_strict),
]
WRONG["compares-best-seeds"] = [
    ("choose_placement", best_seeds),
    ("choose_placement", best_seeds_numpy),
]
WRONG["ignores-seed-spread"] = [
    ("choose_placement", higher_mean),
    ("choose_placement", higher_mean_by_hand),
]
WRONG["touching-ranges-win"] = [
    ("choose_placement", touching_counts),
    ("choose_placement", touching_counts_numpy),
]
WRONG["winner-despite-overlap"] = [
    ("choose_placement", worst_beats_mean),
    ("choose_placement", worst_beats_mean_numpy),
]
WRONG["accepts-one-seed"] = [
    ("choose_placement", one_seed_allowed),
    ("choose_placement", one_seed_tie),
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


@pytest.mark.parametrize("fn", [decide_min_max, decide_sorted, decide_all_pairs])
def test_correct_decisions_pass(fn):
    result = _check("choose_placement", fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


def test_the_tests_tell_every_rule_apart():
    cases = [c for c in get_exercise("choose_placement").cases() if len(c.args["before"]) > 1]
    cases = [c for c in cases if len(c.args["after"]) > 1]
    rules = [{"rule": "ranges"}] + [values for _, values in DECISION_RULES]
    answers = [tuple(expected_decision(case, values) for case in cases) for values in rules]
    assert len(set(answers)) == len(answers)


def test_a_decision_from_one_seed_and_a_wrong_rule_are_both_named():
    def means_without_check(before, after):
        return "before" if np.mean(before) > np.mean(after) else "after"

    result = _check("choose_placement", means_without_check)
    assert result.diagnoses == ["ignores-seed-spread", "accepts-one-seed"]
    assert "expected 'tie', got 'before'" in result.feedback


def test_an_error_that_names_no_argument_or_a_word_off_the_contract_shows_a_failing_case():
    def unnamed_error(before, after):
        if len(before) < 2 or len(after) < 2:
            raise ValueError("too few seeds")
        return decide_min_max(before, after)

    result = _check("choose_placement", unnamed_error)
    assert not result.passed and not result.diagnoses
    assert "does not name the argument 'before'" in result.feedback
    assert result.failing is not None and result.failing.expected == {
        "answer": "a ValueError naming 'before'"
    }

    def capitalized(before, after):
        return decide_min_max(before, after).capitalize()

    result = _check("choose_placement", capitalized)
    assert not result.passed and not result.diagnoses
    assert "'Before', which is not one of" in result.feedback
    assert result.failing.got == {"answer": "Before"}


def test_a_decision_that_is_not_a_str_or_sorts_in_place_is_reported():
    def boolean(before, after):
        _needs_two(before, after)
        return min(before) > max(after)

    result = _check("choose_placement", boolean)
    assert not result.passed and "the contract asks for a str" in result.feedback

    def sorts_in_place(before, after):
        if isinstance(before, np.ndarray):
            before.sort()
        return decide_min_max(before, after)

    result = _check("choose_placement", sorts_in_place)
    assert not result.passed and result.diagnoses == ["mutates-input"]


def test_choose_placement_untouched_and_hints():
    def stub(before, after):
        raise NotImplementedError("Write choose_placement")

    assert _check("choose_placement", stub).status == "not-attempted"
    levels = get_exercise("choose_placement").hints
    assert len(set(levels)) >= 3 and "?" in levels[0]
