"""Lesson 04's checks: the BatchNorm layer (by behaviour over scripted calls), and the hint
ladders and failing-case wording of update_moving_stats and batchnorm_inference.

``LAYER_CORRECT`` and ``LAYER_WRONG`` are the project's own layer variants;
``tests/implementations.py`` adds them to its tables, so the catalogue-coverage test in
``tests/test_grading.py`` sees the layer's diagnoses too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import reference
from bncourse.grading import DIAGNOSES, EXERCISES, check, hint
from bncourse.grading.execution import Observation, Returned
from bncourse.grading.exercises.inference import (
    LAYER,
    decode_record,
    encode_record,
    invoke_layer,
    judge_layer,
    simulate_layer,
)
from bncourse.grading.hints import reset_hints

LESSON_IDS = ("update_moving_stats", "batchnorm_inference", "BatchNorm")


# ---------------------------------------------------------------------------
# Correct layers, in several shapes.
# ---------------------------------------------------------------------------


class LayerPlain:
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.moving_mean = np.zeros(features, dtype=np.float32)
        self.moving_var = np.ones(features, dtype=np.float32)

    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            m = self.momentum
            self.moving_mean = m * self.moving_mean + (1 - m) * mean
            self.moving_var = m * self.moving_var + (1 - m) * var
        else:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class LayerFlatLoops:
    """Flattens to (values, features) and loops over the features, in float64."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.features, self.momentum, self.epsilon = features, momentum, epsilon
        self.gamma = np.full(features, 1.0, np.float32)
        self.beta = np.full(features, 0.0, np.float32)
        self.moving_mean = np.full(features, 0.0, np.float32)
        self.moving_var = np.full(features, 1.0, np.float32)

    def __call__(self, x, training=False):
        flat = np.asarray(x, dtype=np.float64).reshape(-1, self.features)
        out = np.empty_like(flat)
        new_mean, new_var = self.moving_mean.copy(), self.moving_var.copy()
        for c in range(self.features):
            column = flat[:, c]
            if training:
                mu = sum(column) / len(column)
                var = sum((v - mu) ** 2 for v in column) / len(column)
                new_mean[c] = self.momentum * self.moving_mean[c] + (1 - self.momentum) * mu
                new_var[c] = self.momentum * self.moving_var[c] + (1 - self.momentum) * var
            else:
                mu, var = self.moving_mean[c], self.moving_var[c]
            out[:, c] = self.gamma[c] * (column - mu) / (var + self.epsilon) ** 0.5 + self.beta[c]
        if training:
            self.moving_mean, self.moving_var = new_mean, new_var
        return out.reshape(x.shape).astype(np.float32)


class LayerKeepdimsInPlace:
    """keepdims statistics, in-place updates of its own moving statistics, None default."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma, self.moving_var = np.ones((2, features), dtype=np.float32)
        self.beta, self.moving_mean = np.zeros((2, features), dtype=np.float32)

    def _normalize(self, x, mean, var):
        return (x - mean) / np.sqrt(var + self.epsilon)

    def __call__(self, x, training=None):
        if not training:
            return self.gamma * self._normalize(x, self.moving_mean, self.moving_var) + self.beta
        axes = tuple(range(x.ndim - 1))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        self.moving_mean *= self.momentum
        self.moving_mean += (1 - self.momentum) * mean.reshape(-1)
        self.moving_var *= self.momentum
        self.moving_var += (1 - self.momentum) * var.reshape(-1)
        return self.gamma * self._normalize(x, mean, var) + self.beta


LAYER_CORRECT = [reference.BatchNorm, LayerPlain, LayerFlatLoops, LayerKeepdimsInPlace]


# ---------------------------------------------------------------------------
# Wrong layers, one mistake each (the diagnosis the check must name first).
# ---------------------------------------------------------------------------


class UpdatesAtInference(LayerPlain):
    def __call__(self, x, training=False):
        y = super().__call__(x, training)
        if not training:  # "keep the statistics fresh" at prediction time too
            axes = tuple(range(x.ndim - 1))
            m = self.momentum
            self.moving_mean = m * self.moving_mean + (1 - m) * x.mean(axis=axes)
            self.moving_var = m * self.moving_var + (1 - m) * x.var(axis=axes)
        return y


class UpdatesBeforeBranching(LayerPlain):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * var
        if not training:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class FrozenLocals(LayerPlain):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean  # noqa: F841
            moving_var = self.momentum * self.moving_var + (1 - self.momentum) * var  # noqa: F841
        else:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class FrozenOtherNames(LayerPlain):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            self.running_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.moving_var + (1 - self.momentum) * var
        else:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class StoresUnbiased(LayerPlain):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if not training:
            return super().__call__(x, False)
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * x.var(axis=axes, ddof=1)
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class StoresBesselCorrected(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        count = x.size // x.shape[-1]
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            corrected = var * count / (count - 1)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * corrected
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class MovingAfterUpdateInTraining(LayerPlain):
    def __call__(self, x, training=False):
        if training:
            axes = tuple(range(x.ndim - 1))
            m = self.momentum
            self.moving_mean = m * self.moving_mean + (1 - m) * x.mean(axis=axes)
            self.moving_var = m * self.moving_var + (1 - m) * x.var(axis=axes)
        x_hat = (x - self.moving_mean) / np.sqrt(self.moving_var + self.epsilon)
        return self.gamma * x_hat + self.beta


class MovingBeforeUpdateInTraining(LayerPlain):
    def __call__(self, x, training=False):
        y = self.gamma * (x - self.moving_mean) / np.sqrt(self.moving_var + self.epsilon)
        if training:
            axes = tuple(range(x.ndim - 1))
            m = self.momentum
            self.moving_mean = m * self.moving_mean + (1 - m) * x.mean(axis=axes)
            self.moving_var = m * self.moving_var + (1 - m) * x.var(axis=axes)
        return y + self.beta


class VarianceStartsAtZero(LayerPlain):
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        super().__init__(features, momentum, epsilon)
        self.moving_var = np.zeros(features, dtype=np.float32)  # as in CS231n


class GammaStartsAtZero(LayerPlain):
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        super().__init__(features, momentum, epsilon)
        self.gamma = np.zeros(features, dtype=np.float32)


class TrainsByDefault(LayerPlain):
    def __call__(self, x, training=True):
        return super().__call__(x, training)


class NoneMeansTraining(LayerPlain):
    def __call__(self, x, training=None):
        return super().__call__(x, training is not False)


class PyTorchAttributeNames:
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)
        self.running_mean = np.zeros(features, dtype=np.float32)
        self.running_var = np.ones(features, dtype=np.float32)

    def __call__(self, x, training=False):
        return x


class KerasVariableNames(LayerPlain):
    def __init__(self, features, momentum=0.99, epsilon=1e-3):
        super().__init__(features, momentum, epsilon)
        self.moving_variance = self.__dict__.pop("moving_var")


class EpsKeyword(LayerPlain):
    def __init__(self, features, momentum=0.99, eps=1e-3):
        super().__init__(features, momentum, eps)


class TrainFlagNamed(LayerPlain):
    def __call__(self, x, train=False):
        return super().__call__(x, train)


class ReturnsCache(LayerPlain):
    def __call__(self, x, training=False):
        y = super().__call__(x, training)
        return y, (x, self.moving_mean, self.moving_var)


class ReturnsList(LayerPlain):
    def __call__(self, x, training=False):
        return [super().__call__(x, training)]


class PyTorchDefaults(LayerPlain):
    def __init__(self, features, momentum=0.1, epsilon=1e-5):
        super().__init__(features, momentum, epsilon)


class PyTorchEpsDefault(LayerPlain):
    def __init__(self, features, momentum=0.99, epsilon=1e-5):
        super().__init__(features, momentum, epsilon)


class InferenceWithBatchStats(LayerPlain):
    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        if training:
            m = self.momentum
            self.moving_mean = m * self.moving_mean + (1 - m) * mean
            self.moving_var = m * self.moving_var + (1 - m) * var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class InferenceCallsForward(LayerPlain):
    def __call__(self, x, training=False):
        if training:
            return super().__call__(x, True)
        return reference.batchnorm_forward(x, self.gamma, self.beta, self.epsilon)


class ReversedMomentum(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = (1 - m) * self.moving_mean + m * mean
        self.moving_var = (1 - m) * self.moving_var + m * var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class ReversedMomentumStep(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        self.moving_mean = self.moving_mean + self.momentum * (mean - self.moving_mean)
        self.moving_var = self.moving_var + self.momentum * (var - self.moving_var)
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class UpdatesOnlyTheMean(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class UpdatesTwice(LayerPlain):
    def __call__(self, x, training=False):
        if training:
            super().__call__(x, True)  # the forward pass, which already updates
        return super().__call__(x, training)


class UpdatesInHelperAndCall(LayerPlain):
    def _forward(self, x):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * var
        return mean, var

    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        mean, var = self._forward(x)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class StoresStandardDeviation(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, std = x.mean(axis=axes), x.std(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * std
        return self.gamma * (x - mean) / np.sqrt(std**2 + self.epsilon) + self.beta


class StoresRootOfVariance(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = m * self.moving_var + (1 - m) * np.sqrt(var)
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


class InferenceWithoutAffine(LayerPlain):
    def __call__(self, x, training=False):
        if training:
            return super().__call__(x, True)
        return (x - self.moving_mean) / np.sqrt(self.moving_var + self.epsilon)


class ReversedForTheVarianceOnly(LayerPlain):
    def __call__(self, x, training=False):
        if not training:
            return super().__call__(x, False)
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = self.momentum
        self.moving_mean = m * self.moving_mean + (1 - m) * mean
        self.moving_var = (1 - m) * self.moving_var + m * var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


LAYER_WRONG = {
    "batch-stats-at-inference": [InferenceWithBatchStats, InferenceCallsForward],
    "momentum-reversed": [ReversedMomentum, ReversedMomentumStep, ReversedForTheVarianceOnly],
    "moving-var-holds-std": [StoresStandardDeviation, StoresRootOfVariance],
    "missing-scale-shift": [InferenceWithoutAffine],
    "updates-stats-at-inference": [UpdatesAtInference, UpdatesBeforeBranching],
    "stats-frozen-in-training": [FrozenLocals, FrozenOtherNames, UpdatesOnlyTheMean],
    "stats-updated-twice": [UpdatesTwice, UpdatesInHelperAndCall],
    "moving-var-unbiased": [StoresUnbiased, StoresBesselCorrected],
    "moving-stats-in-training": [MovingAfterUpdateInTraining, MovingBeforeUpdateInTraining],
    "layer-initial-values": [VarianceStartsAtZero, GammaStartsAtZero],
    "training-by-default": [TrainsByDefault, NoneMeansTraining],
    "layer-attribute-names": [PyTorchAttributeNames, KerasVariableNames],
    "layer-signature": [EpsKeyword, TrainFlagNamed],
    "layer-returns-tuple": [ReturnsCache, ReturnsList],
}
"""Layer variants per diagnosis for ``tests/implementations.py``'s coverage table."""

KERAS_SETTINGS_WRONG = {"pytorch-bn-settings": [PyTorchDefaults, PyTorchEpsDefault]}
"""pytorch-bn-settings is one of the model-builder ids test_grading.py leaves out of its table."""


def _check(fn, exercise_id="BatchNorm"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(exercise_id, fn)


@pytest.mark.parametrize("layer", LAYER_CORRECT, ids=lambda c: c.__name__)
def test_correct_layers_pass(layer):
    result = _check(layer)
    assert result.passed, str(result)
    assert result.score == result.max_score and result.diagnosis is None


@pytest.mark.parametrize(
    "diagnosis, layer",
    [(d, cls) for d, classes in (LAYER_WRONG | KERAS_SETTINGS_WRONG).items() for cls in classes],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_each_wrong_layer_is_named_first(diagnosis, layer):
    result = _check(layer)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback


def test_the_layer_diagnoses_live_in_the_catalogue():
    assert set(LAYER_WRONG) <= set(DIAGNOSES)


def test_an_always_training_layer_gets_both_inference_mistakes():
    class AlwaysTrains(LayerPlain):
        def __call__(self, x, training=False):
            return super().__call__(x, True)

    result = _check(AlwaysTrains)
    assert result.diagnoses[:2] == ["batch-stats-at-inference", "updates-stats-at-inference"]


def test_the_first_line_of_a_behaviour_mistake_names_the_failing_call():
    result = _check(UpdatesAtInference)
    first = result.feedback.splitlines()[0]
    assert first.startswith("Mistake: the moving statistics change at inference. On BatchNorm(")
    assert "call 1, layer(x, training=False)" in first and "moving_mean expected" in first


def test_reversed_momentum_and_ignored_arguments_are_named():
    class Reversed(LayerPlain):
        def __call__(self, x, training=False):
            self.momentum = 1 - self.momentum
            try:
                return super().__call__(x, training)
            finally:
                self.momentum = 1 - self.momentum

    class FixedMomentum(LayerPlain):
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            super().__init__(features, 0.99, epsilon)

    class FixedEpsilon(LayerPlain):
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            super().__init__(features, momentum, 1e-3)

    assert _check(Reversed).diagnosis == "momentum-reversed"
    assert _check(FixedMomentum).diagnosis == "ignores-momentum-argument"
    assert _check(FixedEpsilon).diagnosis == "ignores-eps-argument"


def test_mutating_the_input_halves_the_score_and_says_which_call():
    class Mutates(LayerPlain):
        def __call__(self, x, training=False):
            y = super().__call__(x, training)
            x *= 0
            return y

    result = _check(Mutates)
    assert not result.passed and result.diagnoses == ["mutates-input"]
    assert result.score == 0.5
    assert "layer(x, training=False) changed x" in result.feedback


def test_a_training_batch_of_one_that_raises_is_shown_with_the_contract():
    class RefusesOne(LayerPlain):
        def __call__(self, x, training=False):
            if training and x.shape[0] == 1:
                raise ValueError("need two samples")
            return super().__call__(x, training)

    result = _check(RefusesOne)
    assert not result.passed and result.score == 0.75
    assert "raised ValueError: need two samples" in result.feedback
    assert "A training batch of one must not fail" in result.feedback
    assert result.failing is not None and result.failing_case()["x1"].shape == (1, 3)


def test_an_unexplained_layer_shows_the_shortest_failing_script():
    class Squashes(LayerPlain):
        def __call__(self, x, training=False):
            return np.tanh(super().__call__(x, training))

    result = _check(Squashes)
    assert not result.passed and result.diagnosis is None
    assert "No common mistake matches these numbers" in result.feedback
    args = result.failing_case()
    assert list(args) == ["features", "momentum", "epsilon", "x1"]
    layer = LayerPlain(args["features"], momentum=args["momentum"], epsilon=args["epsilon"])
    np.testing.assert_allclose(
        layer(args["x1"], training=False), result.failing.expected["y1"], rtol=1e-5
    )
    assert "layer = BatchNorm(3, momentum=0.9, epsilon=0.01); layer(x1, training=False)" in str(
        result
    )


def test_float64_and_row_shaped_attributes_pass_with_notes():
    class Float64Rows(LayerPlain):
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            super().__init__(features, momentum, epsilon)
            self.gamma = np.ones((1, features))
            self.moving_var = np.ones(features)

    result = _check(Float64Rows)
    assert result.passed, str(result)
    assert any("gamma has shape (1, 3)" in note for note in result.notes)
    assert any("moving_var is float64" in note for note in result.notes)


def test_construction_errors_and_stubs():
    class Broken(LayerPlain):
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            self.gamma = np.ones(features) * undefined_name  # noqa: F821

    class Stub:
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            raise NotImplementedError("Write __init__")

    class HalfDone(LayerPlain):
        def __call__(self, x, training=False):
            raise NotImplementedError("Write __call__")

    broken = _check(Broken)
    assert broken.status == "error" and not broken.diagnoses
    assert "raised NameError: name 'undefined_name' is not defined (line" in broken.feedback
    assert _check(Stub).status == "not-attempted"
    half = _check(HalfDone)
    assert half.status == "failed" and "write __call__, run its cell" in half.feedback
    instance = _check(LayerPlain(3))
    assert instance.status == "error" and 'check("BatchNorm", BatchNorm)' in instance.feedback


def test_the_record_travels_as_uint8_and_back():
    record = {"steps": [{"y": {"kind": "array", "values": [float("nan"), 1.5]}}]}
    returned = Returned("array", array=encode_record(record), dtype="uint8")
    assert decode_record(returned)["steps"][0]["y"]["values"][1] == 1.5
    assert decode_record(Returned("array", array=np.zeros(3), dtype="float64")) is None
    assert decode_record(None) is None


def test_the_judge_reads_observations_only():
    exercise = EXERCISES["BatchNorm"]
    cases = exercise.cases()
    play = invoke_layer(LayerPlain)
    observations = [
        Observation("ok", returned=Returned("array", array=play(*c.args.values()), dtype="uint8"))
        for c in cases
    ]
    assert judge_layer(exercise, cases, observations).passed
    timeouts = [Observation("timeout", error="did not return within 5 s") for _ in cases]
    assert judge_layer(exercise, cases, timeouts).status == "timeout"


def test_the_simulation_matches_the_reference_layer():
    exercise = EXERCISES["BatchNorm"]
    correct = {choice.name: choice.options[0].value for choice in LAYER.choices_for({})}
    for case in exercise.cases():
        layer = reference.BatchNorm(case.args["features"], **case.args["options"])
        simulated = iter(simulate_layer(case.args, correct))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for step in case.args["script"]:
                if step[0] == "set":
                    setattr(layer, step[1], step[2])
                    continue
                y = layer(step[1]) if step[2] is None else layer(step[1], training=step[2])
                want_y, want_mean, want_var = next(simulated)
                np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-5)
                np.testing.assert_allclose(layer.moving_mean, want_mean, rtol=1e-5, atol=1e-6)
                np.testing.assert_allclose(layer.moving_var, want_var, rtol=1e-5, atol=1e-6)


def test_a_correct_layer_is_checked_quickly():
    import time

    start = time.perf_counter()
    _check(LayerPlain)
    assert time.perf_counter() - start < 0.5


# ---------------------------------------------------------------------------
# The two function exercises: hints and what the feedback says first.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", LESSON_IDS)
def test_every_lesson_04_exercise_has_a_ladder_of_three_distinct_levels(exercise_id):
    hints = EXERCISES[exercise_id].hints
    assert len(hints) >= 3 and len(set(hints)) == len(hints)
    reset_hints()
    try:
        assert hint(exercise_id, level=1) == hints[0]
    finally:
        reset_hints()


def test_a_hard_coded_momentum_is_reported_on_the_momentum_test_first():
    def fixed(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
        return 0.99 * moving_mean + 0.01 * batch_mean, 0.99 * moving_var + 0.01 * batch_var

    result = check("update_moving_stats", fixed)
    assert result.diagnosis == "ignores-momentum-argument"
    first = result.feedback.splitlines()[0]
    assert "momentum=0.9" in first and "works for dense-layer" not in result.feedback


def test_the_momentum_feedback_does_not_hand_over_the_update_rule():
    def reversed_rule(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99):
        return (
            (1 - momentum) * moving_mean + momentum * batch_mean,
            (1 - momentum) * moving_var + momentum * batch_var,
        )

    result = check("update_moving_stats", reversed_rule)
    assert result.diagnosis == "momentum-reversed"
    assert "(1 - momentum) * batch" not in result.feedback
    assert "99% of the way" in result.feedback.splitlines()[0]


def test_batch_statistics_at_inference_are_reported_on_the_single_sample():
    def batch_stats(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
        axes = tuple(range(x.ndim - 1))
        return gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + eps) + beta

    result = check("batchnorm_inference", batch_stats)
    assert result.diagnosis == "batch-stats-at-inference"
    assert "single sample, shape (1, 5)" in result.feedback.splitlines()[0]


def test_the_stubs_do_not_hand_over_their_expressions():
    import json
    from pathlib import Path

    lesson = Path(__file__).resolve().parents[1] / "lessons" / "04_training_vs_inference.ipynb"
    cells = ["".join(c["source"]) for c in json.loads(lesson.read_text())["cells"]]
    forbidden = (
        "momentum * moving",
        "(1 - momentum)",
        "1 − momentum",
        "\\text{momentum}",
        "sqrt(moving_var",
        "\\sqrt{\\text{moving",
    )
    for stub in ("def update_moving_stats", "def batchnorm_inference", "class BatchNorm"):
        index = next(i for i, cell in enumerate(cells) if cell.startswith(stub))
        for text in (cells[index], cells[index - 1]):
            assert not any(bad in text for bad in forbidden), (stub, text)
