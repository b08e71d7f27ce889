"""Lesson 07 (where to put BN): ``dropout_variance_ratio`` and ``population_statistics``.

* ``dropout_variance_ratio(x, rate)`` predicts the variance shift of a BN layer placed right
  after Dropout: per unit, the variance at inference divided by the variance in training
  (expected over Dropout's masks), from the unit's values ``x``. The learner derives the
  training variance of inverted Dropout's output; the hints carry the derivation.
* ``population_statistics(forward, batches)`` re-estimates a BN layer's statistics after
  training (Ioffe & Szegedy, 2015, Section 3.1 and Algorithm 2): the mean and the biased
  variance of what the layer receives over all the batches, with the layers in front of it
  (``forward``: a Dense layer, then Dropout) in inference mode.

Both are array exercises with a family of mistakes. Each wraps the standard judge in one
more rule: a result of the wrong shape that keeps one value per example instead of one per
unit is named ``wrong-axis``, and ``dropout_variance_ratio`` also recognizes numbers that
are close to the expectation but not equal to it, as random masks give
(``simulates-dropout``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.execution import Observation
from bncourse.grading.families import DDOF_CHOICE, Choice, Family, Option, f64
from bncourse.grading.judge import judge, mistake
from bncourse.grading.result import CheckResult
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES", "DenseDropout", "ratio_cases", "population_cases"]

LESSON = "07_where_to_put_bn"


# ---------------------------------------------------------------------------
# dropout_variance_ratio
# ---------------------------------------------------------------------------


def _units(rng: np.random.Generator, examples: int, means: list[float], stds: list[float]):
    """(examples, units) float32 values, rounded to two decimals so a failing case reads."""
    x = rng.normal(size=(examples, len(means))) * np.array(stds) + np.array(means)
    return np.round(x, 2).astype(np.float32)


def ratio_cases(rng: np.random.Generator) -> list[Case]:
    """Units with means far from 0 and near it (the mean is what the formula is about), ReLU
    outputs, a unit that is 0 on every example and a constant one, rates other than 0.5 (so
    that the rate and the keep probability differ) and rate 0."""
    relu = np.maximum(_units(rng, 8, [0.3, 1.0, -0.2, 0.8], [1.0, 1.0, 0.8, 0.5]), 0.0)
    edge = _units(rng, 5, [1.0, 0.0, 0.0], [0.7, 0.0, 0.0])
    edge[:, 2] = 1.5  # constant, exactly representable: its variance is exactly 0
    realistic = np.maximum(
        rng.normal(size=(32, 6)) * rng.uniform(0.5, 2.0, 6) + rng.uniform(-1.0, 2.0, 6), 0.0
    ).astype(np.float32)
    return [
        Case(
            "6 examples of 3 units (means about 0, 2 and -1), rate 0.3",
            {"x": _units(rng, 6, [0.0, 2.0, -1.0], [1.0, 0.8, 0.5]), "rate": 0.3},
            "dense",
        ),
        Case("8 ReLU outputs of 4 units, rate 0.5", {"x": relu, "rate": 0.5}, "dense"),
        Case(
            "5 examples of 3 units: one that is 0 on every example and one that is constant "
            "(1.5), rate 0.2",
            {"x": edge, "rate": 0.2},
            "dense",
            remark="One unit is 0 on every example, and one is constant.",
        ),
        Case(
            "4 examples of 2 units, rate 0 (Dropout keeps everything)",
            {"x": _units(rng, 4, [1.0, -0.5], [1.0, 2.0]), "rate": 0.0},
            "dense",
        ),
        Case(
            "6 examples of 3 units, rate 0.8",
            {"x": _units(rng, 6, [0.5, -1.5, 0.1], [0.5, 1.0, 2.0]), "rate": 0.8},
            "dense",
        ),
        Case("32 ReLU outputs of 6 units, rate 0.1", {"x": realistic, "rate": 0.1}, "dense"),
    ]


def _training_variance(c: Any, v: Any, p: float, scaling: str, moment: str) -> Any:
    """The variance of Dropout's output in training as each way of deriving it gives it."""
    second = c**2 + v  # E[x^2]
    with np.errstate(divide="ignore", invalid="ignore"):
        if scaling == "inverted":  # y = x m / p
            return {"centered": second / p - c**2, "zero-mean": v / p, "second-moment": second / p}[
                moment
            ]
        # y = x m: the mean becomes p c
        return {
            "centered": p * second - (p * c) ** 2,
            "zero-mean": p * v,
            "second-moment": p * second,
        }[moment]


def _ratio(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = f64(args["x"])
    rate = float(args["rate"])
    c = x.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = ((x - c) ** 2).sum(axis=0) / (len(x) - values["ddof"])
        p = 1.0 - rate if values["keep"] == "keep" else rate
        training = _training_variance(c, v, p, values["scaling"], values["moment"])
        ratio = v / training if values["direction"] == "inference/training" else training / v
    return (ratio,)


RATIO = Family(
    choices_for=lambda args: (
        Choice("keep", (Option("keep"), Option("rate", "keep-vs-drop-rate"))),
        Choice("scaling", (Option("inverted"), Option("plain", "dropout-not-inverted"))),
        Choice(
            "moment",
            (
                Option("centered"),
                Option("zero-mean", "variance-shift-ignores-mean"),
                Option("second-moment", "second-moment-for-variance"),
            ),
        ),
        Choice(
            "direction",
            (Option("inference/training"), Option("training/inference", "ratio-upside-down")),
        ),
        DDOF_CHOICE,
    ),
    compute=_ratio,
)


# ---------------------------------------------------------------------------
# population_statistics
# ---------------------------------------------------------------------------

_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)


def _splitmix(z: np.ndarray) -> np.ndarray:
    z = z ^ (z >> np.uint64(30))
    z = z * _MIX[1]
    z = z ^ (z >> np.uint64(27))
    z = z * _MIX[2]
    return z ^ (z >> np.uint64(31))


class DenseDropout:
    """The layers in front of a BN layer: Dense (``kernel``, ``bias``), then Dropout at
    ``rate``. ``forward(x, training)`` returns what the BN layer receives for the examples
    ``x`` (rows; any leading shape), float32.

    In training mode Dropout keeps a value with probability ``1 - rate`` and divides it by
    ``1 - rate``; which values it keeps is drawn from the example itself (a hash of its
    inputs), so the same example always gets the same mask however the examples are split
    into calls. At inference Dropout passes everything on.
    """

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, rate: float) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.rate = float(rate)

    def _kept(self, x: np.ndarray) -> np.ndarray:
        codes = np.round(x.astype(np.float64) * 4096.0).astype(np.int64).view(np.uint64)
        weights = _splitmix(np.arange(1, x.shape[-1] + 1, dtype=np.uint64) * _MIX[0])
        with np.errstate(over="ignore"):
            key = _splitmix((codes * weights).sum(axis=-1, dtype=np.uint64))
            units = np.arange(1, self.kernel.shape[1] + 1, dtype=np.uint64) * _MIX[3]
            mixed = _splitmix(key[..., None] + units)
        uniform = (mixed >> np.uint64(11)).astype(np.float64) / float(2**53)
        return uniform < 1.0 - self.rate

    def __call__(self, x: Any, training: bool) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        h = x @ self.kernel + self.bias
        if not training:
            return h.astype(np.float32)
        keep = 1.0 - self.rate
        return np.where(self._kept(x), h / np.float32(keep), np.float32(0.0)).astype(np.float32)

    def __repr__(self) -> str:
        with np.printoptions(precision=4, suppress=True, linewidth=88):
            kernel = np.array2string(self.kernel, separator=", ")
            bias = np.array2string(self.bias, separator=", ")
        return (
            f"DenseDropout(rate={self.rate:g}): Dense with kernel {kernel} (shape "
            f"{self.kernel.shape}) and bias {bias}, then Dropout; call it as "
            "forward(x, training=False)"
        )

    def __deepcopy__(self, memo: dict) -> DenseDropout:
        return DenseDropout(self.kernel.copy(), self.bias.copy(), self.rate)


def _stem(rng: np.random.Generator, inputs: int, units: int, rate: float) -> DenseDropout:
    kernel = np.round(rng.normal(0.0, 0.8, (inputs, units)), 2)
    bias = np.round(rng.uniform(-1.0, 1.0, units), 2)
    return DenseDropout(kernel, bias, rate)


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], offsets: Any = 0.0) -> np.ndarray:
    return np.round(rng.normal(size=shape) + offsets, 2).astype(np.float32)


def population_cases(rng: np.random.Generator) -> list[Case]:
    """Shuffled batches, batches drawn group by group (their means differ), batches of one
    example, a single batch, and a realistic set; Dropout rates 0.2 to 0.5."""
    grouped = _inputs(rng, (4, 6, 3), rng.uniform(-2.0, 2.0, (4, 1, 3)))
    return [
        Case(
            "3 shuffled batches of 4 examples, 3 inputs -> 2 units, Dropout rate 0.5",
            {"forward": _stem(rng, 3, 2, 0.5), "batches": _inputs(rng, (3, 4, 3))},
            "dense",
        ),
        Case(
            "4 batches of 6 examples drawn group by group (the batch means differ), "
            "3 inputs -> 3 units, Dropout rate 0.3",
            {"forward": _stem(rng, 3, 3, 0.3), "batches": grouped},
            "dense",
        ),
        Case(
            "5 batches of one example each, 2 inputs -> 3 units, Dropout rate 0.4",
            {"forward": _stem(rng, 2, 3, 0.4), "batches": _inputs(rng, (5, 1, 2))},
            "dense",
        ),
        Case(
            "a single batch of 10 examples, 4 inputs -> 2 units, Dropout rate 0.2",
            {"forward": _stem(rng, 4, 2, 0.2), "batches": _inputs(rng, (1, 10, 4))},
            "dense",
        ),
        Case(
            "12 shuffled batches of 16 examples, 8 inputs -> 5 units, Dropout rate 0.5",
            {"forward": _stem(rng, 8, 5, 0.5), "batches": _inputs(rng, (12, 16, 8))},
            "dense",
            readable=False,
        ),
    ]


def _layer_inputs(args: dict, training: bool, cache: dict) -> np.ndarray:
    key = ("layer inputs", training)
    if key not in cache:
        cache[key] = f64(args["forward"](args["batches"], training=training))
    return cache[key]


def _moments(h: np.ndarray, axis: Any, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    mean = h.mean(axis=axis)
    count = int(np.prod([h.shape[a] for a in np.atleast_1d(axis)]))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = ((h - np.expand_dims(mean, axis)) ** 2).sum(axis=axis) / (count - ddof)
    return mean, var


def _population(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    h = _layer_inputs(args, values["mode"] == "training", cache)  # (batches, m, units)
    pooling, ddof = values["pooling"], values["ddof"]
    if pooling == "all":
        mean, var = _moments(h, (0, 1), ddof)
    else:
        means, variances = _moments(h, 1, ddof)  # one row per batch
        if pooling == "batch-average":
            mean, var = means.mean(axis=0), variances.mean(axis=0)
        elif pooling in ("first", "last"):
            row = 0 if pooling == "first" else -1
            mean, var = means[row], variances[row]
        else:  # ("ema", momentum, start): the moving average training keeps
            _, momentum, start = pooling
            if start == "keras":
                mean, var, rest = np.zeros(h.shape[-1]), np.ones(h.shape[-1]), range(len(h))
            else:
                mean, var, rest = means[0], variances[0], range(1, len(h))
            for b in rest:
                mean = momentum * mean + (1 - momentum) * means[b]
                var = momentum * var + (1 - momentum) * variances[b]
    if values["spread"] == "std":
        var = np.sqrt(var)
    return mean, var


POPULATION = Family(
    choices_for=lambda args: (
        Choice("mode", (Option("inference"), Option("training", "recalibrate-with-dropout-on"))),
        Choice(
            "pooling",
            (
                Option("all"),
                Option("batch-average", "averages-batch-variances"),
                Option("last", "recalibrate-one-batch"),
                Option("first", "recalibrate-one-batch"),
                Option(("ema", 0.99, "keras"), "momentum-recalibration"),
                Option(("ema", 0.9, "keras"), "momentum-recalibration"),
                Option(("ema", 0.99, "first"), "momentum-recalibration"),
                Option(("ema", 0.9, "first"), "momentum-recalibration"),
            ),
        ),
        DDOF_CHOICE,
        Choice("spread", (Option("var"), Option("std", "std-not-variance"))),
    ),
    compute=_population,
)


def _axis_wording(what: str) -> Diagnosis:
    return Diagnosis(
        "wrong-axis",
        "statistics over the wrong axis",
        f"{what} belongs to a unit (a column): each unit's statistics are taken down its "
        "column, over the examples, giving one value per unit. Your result has one value "
        "per example instead.",
        "Which axis holds the units, and which one do you average over?",
    )


_RATIO_WORDING = {"wrong-axis": _axis_wording("The variance shift")}

_POPULATION_WORDING = {
    "wrong-axis": _axis_wording("A BN layer's mean and variance"),
    "std-not-variance": Diagnosis(
        "std-not-variance",
        "returns the standard deviation instead of the variance",
        "Your second output is the square root of the variance. A BN layer stores the "
        "variance (Keras's moving_variance) and takes the square root itself, after adding "
        "epsilon.",
        "Return the mean squared deviation from the mean, without the square root.",
    ),
    "unbiased-variance": Diagnosis(
        "unbiased-variance",
        "the variance divides by N - 1",
        "Your variance divides the sum of squared deviations by one less than the number of "
        "values. Keras's moving_variance holds the biased variance, which divides by the "
        "number of values, like the variance BN normalizes with in training (PyTorch's "
        "running_var holds the N - 1 version). The contract asks for Keras's.",
        "np.var divides by the number of values unless you pass ddof=1.",
    ),
}


# ---------------------------------------------------------------------------
# The judge: the standard one, plus the rules the families cannot express.
# ---------------------------------------------------------------------------


def _first_output(observation: Observation) -> np.ndarray | None:
    returned = observation.returned
    if observation.status != "ok" or returned is None:
        return None
    if returned.kind == "sequence" and returned.items:
        returned = returned.items[0]
    if returned.kind != "array" or returned.array is None:
        return None
    return np.asarray(returned.array, dtype=np.float64)


def _example_axes(exercise: Exercise, case: Case) -> tuple[set[tuple[int, ...]], int]:
    """The shapes a per-example (instead of per-unit) result has on ``case``, and the
    number of units."""
    if exercise.id == "dropout_variance_ratio":
        x = case.args["x"]
        return {x.shape[:1]}, x.shape[1]
    batches = case.args["batches"]
    units = case.args["forward"].kernel.shape[1]
    count = batches.shape[0] * batches.shape[1]
    return {(count,), batches.shape[:2]}, units


def _per_example(exercise: Exercise, cases: list[Case], observations: list[Observation]) -> bool:
    """Whether every output of the right kind keeps one value per example, not per unit."""
    seen = False
    for case, observation in zip(cases, observations, strict=True):
        first = _first_output(observation)
        if first is None:
            continue
        shapes, units = _example_axes(exercise, case)
        if first.shape in shapes and first.shape != (units,):
            seen = True
        else:
            return False
    return seen


def _simulated(exercise: Exercise, cases: list[Case], observations: list[Observation]) -> bool:
    """Whether every returned ratio is within 20% of the expectation (where both are finite)
    without being equal to it: what random Dropout masks give."""
    seen = False
    for case, observation in zip(cases, observations, strict=True):
        got = _first_output(observation)
        if got is None:
            continue
        (expected,) = exercise.expected(case)
        if got.size != expected.size:
            return False
        got = got.reshape(expected.shape)
        both = np.isfinite(got) & np.isfinite(expected)
        with np.errstate(invalid="ignore"):
            if not np.all(
                np.abs(got[both] - expected[both]) <= 0.2 * np.abs(expected[both]) + 1e-3
            ):
                return False
        seen = True
    return seen


def _renamed(result: CheckResult, exercise: Exercise, diagnosis: str) -> CheckResult:
    """``result`` with ``diagnosis`` as its named mistake instead of the failing case."""
    kept = [
        f
        for f in result.findings
        if f.kind == "note" or (f.kind == "problem" and "shape" not in f.text)
    ]
    findings = [mistake(exercise, diagnosis), *kept]
    return dataclasses.replace(
        result,
        feedback="",
        findings=findings,
        diagnosis=None,
        diagnoses=[diagnosis, *result.diagnoses],
        failing=None,
    )


def judge_with_rules(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """The standard judge; when it finds no named mistake, two more rules: per-example
    results (``wrong-axis``) and, for the ratio, the numbers random masks give
    (``simulates-dropout``)."""
    result = judge(exercise, cases, observations)
    if result.passed or result.diagnoses or result.status not in ("failed", "error"):
        return result
    if _per_example(exercise, cases, observations):
        return _renamed(result, exercise, "wrong-axis")
    if exercise.id == "dropout_variance_ratio" and _simulated(exercise, cases, observations):
        return _renamed(result, exercise, "simulates-dropout")
    return result


EXERCISES = [
    Exercise(
        "dropout_variance_ratio",
        LESSON,
        "dropout_variance_ratio(x, rate)",
        ("ratio",),
        ratio_cases,
        RATIO,
        custom_judge=judge_with_rules,
        wording=_RATIO_WORDING,
        hints=(
            "In training, Dropout passes on y = x * m / p, where the mask m is 1 with "
            "probability p = 1 - rate and 0 otherwise, independently of x. What is the mean "
            "of y? And since m * m = m, what is the mean of y squared?",
            "For a unit with mean c and (biased) variance v over the examples: E[y] = c and "
            "E[y^2] = E[x^2] E[m] / p^2 = (c^2 + v) / p, so the training variance is "
            "(c^2 + v) / p - c^2. At inference Dropout is off and the variance is v. The "
            "ratio is v divided by the training variance, one per unit.",
            "In float64: c = x.mean(axis=0), v = x.var(axis=0), p = 1 - rate, "
            "training = (c**2 + v) / p - c**2, then return v / training as float32. A unit "
            "that never varies gives 0 / 0 = nan; np.errstate(invalid='ignore') keeps NumPy "
            "from warning about it.",
        ),
    ),
    Exercise(
        "population_statistics",
        LESSON,
        "population_statistics(forward, batches)",
        ("mean", "var"),
        population_cases,
        POPULATION,
        custom_judge=judge_with_rules,
        wording=_POPULATION_WORDING,
        hints=(
            "At inference, in which mode do the layers in front of the BN layer run, so which "
            "values will it meet? And which variance describes those values: the variance "
            "inside each batch, or the variance of all the examples together?",
            "Run every batch through forward in inference mode, put all the outputs together "
            "(one row per example, one column per unit), and take the mean and the biased "
            "variance of each column. Averaging per-batch variances would leave out how far "
            "the batch means lie from each other.",
            "h = forward(batches.reshape(-1, batches.shape[-1]), training=False) gives one "
            "row per example; return h.mean(axis=0) and h.var(axis=0), both as float32.",
        ),
    ),
]
