"""The exercises: for each, its test inputs, what is expected and the family of mistakes.

Test inputs are designed so that close mistakes show: shapes with distinct sizes on every
axis (axis mix-ups cannot hide), a feature with a variance of about 1e-4, ten times
smaller than Keras's epsilon (where epsilon sits matters), a constant feature (0 / 0 shows
up), gamma and beta far from 1 and 0 and from each other, and 4-D feature maps next to 2-D
batches. They are random but reproducible: each exercise seeds its own generator.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.families import (
    AFFINE_CHOICE,
    CENTERING_CHOICE,
    DDOF_CHOICE,
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    apply_affine,
    axes_choice,
    denominator,
    eps_choice,
    moments,
    safe_divide,
)

__all__ = ["Case", "Exercise", "EXERCISES", "array_exercises"]


@dataclass(frozen=True)
class Case:
    """One test input. ``args`` are passed positionally, in order."""

    label: str
    args: dict[str, Any]
    kind: str  # "table" (2-D data), "dense" (2-D batch) or "conv" (4-D feature maps)
    remark: str = ""  # said when the function raises on this input, e.g. "bias is None"


@dataclass(frozen=True)
class Exercise:
    """An exercise the learner implements and ``check`` grades."""

    id: str
    lesson: str
    signature: str
    outputs: tuple[str, ...]  # names of the returned arrays; one name = a single array
    make_cases: Callable[[np.random.Generator], list[Case]]
    family: Family | None = None
    max_score: float = 1.0
    # Exercises whose outputs are not arrays (a Keras model, say) bring their own judge:
    # judge(exercise, cases, observations) -> CheckResult, and an invoke that reduces the
    # learner's return value to data (see Returned's "json" kind).
    custom_judge: Callable[..., Any] | None = None
    # How this exercise words a diagnosis when the catalogue's general text would not fit.
    wording: dict[str, Diagnosis] = field(default_factory=dict)
    custom_invoke: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None

    def invoke(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """What the check calls: the learner's function itself for array exercises."""
        return fn if self.custom_invoke is None else self.custom_invoke(fn)

    def cases(self) -> list[Case]:
        return self.make_cases(np.random.default_rng(zlib.crc32(self.id.encode())))

    def expected(self, case: Case, cache: dict[Any, Any] | None = None) -> tuple[np.ndarray, ...]:
        """The correct outputs, from the family's all-correct combination (float64)."""
        assert self.family is not None
        choices = self.family.choices_for(case.args)
        values = {choice.name: choice.options[0].value for choice in choices}
        return self.family.compute(case.args, values, {} if cache is None else cache)


# ---------------------------------------------------------------------------
# Test inputs.
# ---------------------------------------------------------------------------


def _features(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 data whose channels have different means and spreads; channel 1 is tiny."""
    channels = shape[-1]
    means = rng.uniform(-2.0, 3.0, channels)
    stds = rng.uniform(0.5, 3.0, channels)
    means[1], stds[1] = 0.02, 0.01  # variance about 1e-4, below eps = 1e-3
    x = rng.normal(size=shape) * stds + means
    return x.astype(np.float32)


def _with_constant_feature(x: np.ndarray, index: int = 2, value: float = 2.5) -> np.ndarray:
    x = x.copy()
    x[..., index] = value
    return x


def _affine_params(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, np.ndarray]:
    gamma = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = rng.uniform(-1.5, -0.2, channels).astype(np.float32)
    return gamma, beta


def _table(rng: np.random.Generator, shape: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """2-D data with negative values and columns on different scales."""
    columns = shape[1]
    x = rng.normal(size=shape) * rng.uniform(1.0, 5.0, columns) + rng.uniform(-4.0, 4.0, columns)
    return (x * scale).astype(np.float32)


def _table_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a (7, 4) table with negative values", {"x": _table(rng, (7, 4))}, "table"),
        Case(
            "a (5, 3) table whose third column is constant",
            {"x": _with_constant_feature(_table(rng, (5, 3)))},
            "table",
        ),
        Case(
            "a (6, 2) table with values in the thousands",
            {"x": _table(rng, (6, 2), scale=1000.0)},
            "table",
        ),
    ]


def _batch_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a (6, 5) dense batch", {"x": _features(rng, (6, 5))}, "dense"),
        Case(
            "a (6, 5) dense batch with a constant feature",
            {"x": _with_constant_feature(_features(rng, (6, 5)))},
            "dense",
        ),
        Case("a (2, 3, 4, 5) batch of feature maps", {"x": _features(rng, (2, 3, 4, 5))}, "conv"),
    ]


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = tuple(range(x.ndim - 1))
    x64 = x.astype(np.float64)
    return x64.mean(axis=axes).astype(np.float32), x64.var(axis=axes).astype(np.float32)


def _normalize_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for case in _batch_cases(rng):
        mean, var = _stats(case.args["x"])
        cases.append(Case(case.label, {"x": case.args["x"], "mean": mean, "var": var}, case.kind))
    x = _features(rng, (2, 3, 4, 5))
    mean, var = _stats(x)
    other_mean = (mean + rng.uniform(0.5, 1.0, 5)).astype(np.float32)
    other_var = (var * rng.uniform(1.5, 3.0, 5)).astype(np.float32)
    cases.append(
        Case(
            "a (2, 3, 4, 5) feature-map batch with moving statistics and eps=0.1",
            {"x": x, "mean": other_mean, "var": other_var, "eps": 0.1},
            "conv",
        )
    )
    return cases


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for case in _batch_cases(rng):
        gamma, beta = _affine_params(rng, case.args["x"].shape[-1])
        cases.append(Case(case.label, {**case.args, "gamma": gamma, "beta": beta}, case.kind))
    x = _features(rng, (3, 2, 4, 5))
    gamma, beta = _affine_params(rng, 5)
    cases.append(
        Case(
            "a (3, 2, 4, 5) feature-map batch with eps=0.1",
            {"x": x, "gamma": gamma, "beta": beta, "eps": 0.1},
            "conv",
        )
    )
    return cases


def _scale_shift_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, kind in (
        ("a (6, 5) dense x_hat", (6, 5), "dense"),
        ("a (2, 3, 4, 5) feature-map x_hat", (2, 3, 4, 5), "conv"),
    ):
        gamma, beta = _affine_params(rng, shape[-1])
        x_hat = rng.normal(size=shape).astype(np.float32)
        cases.append(Case(label, {"x_hat": x_hat, "gamma": gamma, "beta": beta}, kind))
    return cases


def _moving_cases(rng: np.random.Generator) -> list[Case]:
    def one(channels: int) -> dict[str, Any]:
        return {
            "moving_mean": rng.normal(size=channels).astype(np.float32),
            "moving_var": rng.uniform(0.5, 2.0, channels).astype(np.float32),
            "batch_mean": rng.normal(3.0, 1.0, channels).astype(np.float32),
            "batch_var": rng.uniform(4.0, 9.0, channels).astype(np.float32),
        }

    return [
        Case("5 features, default momentum", one(5), "dense"),
        Case("3 channels, momentum=0.9", {**one(3), "momentum": 0.9}, "conv"),
    ]


def _inference_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, kind in (
        ("a (6, 5) dense batch", (6, 5), "dense"),
        ("a single sample, shape (1, 5)", (1, 5), "dense"),
        ("a (2, 3, 4, 5) batch of feature maps", (2, 3, 4, 5), "conv"),
    ):
        x = _features(rng, shape)
        gamma, beta = _affine_params(rng, 5)
        moving_mean = rng.normal(0.0, 1.0, 5).astype(np.float32)
        moving_var = rng.uniform(0.5, 3.0, 5).astype(np.float32)
        moving_var[1] = 2e-4  # small, so where epsilon sits shows
        args = {
            "x": x,
            "gamma": gamma,
            "beta": beta,
            "moving_mean": moving_mean,
            "moving_var": moving_var,
        }
        cases.append(Case(label, args, kind))
    cases.append(Case(cases[0].label + " and eps=0.1", {**cases[0].args, "eps": 0.1}, "dense"))
    return cases


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, kind in (
        ("a (6, 5) dense batch", (6, 5), "dense"),
        ("a (2, 3, 4, 5) batch of feature maps", (2, 3, 4, 5), "conv"),
    ):
        x = _features(rng, shape)
        x[..., 1] = rng.normal(size=shape[:-1]) * 0.3 + 1.0  # backward: no tiny feature needed
        gamma, _ = _affine_params(rng, shape[-1])
        dout = rng.normal(size=shape).astype(np.float32)
        cases.append(Case(label, {"dout": dout, "x": x, "gamma": gamma}, kind))
    return cases


def _fold_cases(rng: np.random.Generator) -> list[Case]:
    def params(kernel_shape: tuple[int, ...], with_bias: bool) -> dict[str, Any]:
        channels = kernel_shape[-1]
        gamma, beta = _affine_params(rng, channels)
        var = rng.uniform(0.5, 3.0, channels).astype(np.float32)
        var[0] = 2e-4
        return {
            "kernel": rng.normal(size=kernel_shape).astype(np.float32),
            "bias": rng.normal(size=channels).astype(np.float32) if with_bias else None,
            "gamma": gamma,
            "beta": beta,
            "moving_mean": rng.normal(size=channels).astype(np.float32),
            "moving_var": var,
        }

    return [
        Case("a Dense kernel (6, 4) with a bias", params((6, 4), True), "dense"),
        Case(
            "a Dense kernel (5, 3) with bias=None (use_bias=False)",
            params((5, 3), False),
            "dense",
            remark="Here bias is None, as for a layer built with use_bias=False: treat it "
            "as zeros.",
        ),
        Case("a Conv2D kernel (3, 3, 2, 4) with a bias", params((3, 3, 2, 4), True), "conv"),
    ]


# ---------------------------------------------------------------------------
# Families: the correct computation and its mistakes.
# ---------------------------------------------------------------------------


def _f64(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _squeezed(stat: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.squeeze(stat, axis=axes)


# A constant feature: divide by 1 instead of 0 (the usual guard), return 0 outright, or
# leave 0 / 0 = NaN. The first two agree whenever the numerator is centered.
CONSTANT_CHOICE = Choice(
    "constant",
    (Option("guard"), Option("zero"), Option("nan", "constant-feature")),
    per_case=True,
)


def _table_axes(args: dict[str, Any]) -> Choice:
    return Choice(
        "axes",
        (Option((0,)), Option((1,), "wrong-axis"), Option((0, 1), "wrong-axis")),
        per_case=True,
    )


def _min_max(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, axes = _f64(args["x"]), values["axes"]
    low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
    how = values["constant"]
    if values["formula"] == "(x-min)/(max-min)":
        return (safe_divide(x - low, high - low, how),)
    if values["formula"] == "x/max":
        return (safe_divide(x, high, how),)
    return (safe_divide(x - low, high, how),)


MIN_MAX = Family(
    choices_for=lambda args: (
        Choice(
            "formula",
            (
                Option("(x-min)/(max-min)"),
                Option("x/max", "minmax-divides-by-max"),
                Option("(x-min)/max", "minmax-divides-by-max"),
            ),
        ),
        _table_axes(args),
        CONSTANT_CHOICE,
    ),
    compute=_min_max,
)


def _standardize(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = _f64(args["x"])
    mean, var = moments(x, values["axes"], values["ddof"], cache)
    spread = np.sqrt(var) if values["divide_by"] == "std" else var
    centered = x - mean if values["centering"] else x
    return (safe_divide(centered, spread, values["constant"]),)


STANDARDIZE = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        Choice("divide_by", (Option("std"), Option("var", "std-for-var"))),
        CENTERING_CHOICE,
        _table_axes(args),
        CONSTANT_CHOICE,
    ),
    compute=_standardize,
)


def _batch_mean(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = _f64(args["x"])
    mean, _ = moments(x, values["axes"], 0, cache)
    return (_squeezed(mean, values["axes"]),)


BATCH_MEAN = Family(
    choices_for=lambda args: (axes_choice(np.ndim(args["x"])),),
    compute=_batch_mean,
)


def _batch_variance(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = _f64(args["x"])
    _, var = moments(x, values["axes"], values["ddof"], cache)
    var = _squeezed(var, values["axes"])
    return (np.sqrt(var) if values["returns"] == "std" else var,)


BATCH_VARIANCE = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        Choice("returns", (Option("var"), Option("std", "std-not-variance"))),
        axes_choice(np.ndim(args["x"])),
    ),
    compute=_batch_variance,
)


def _normalize(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = _f64(args["x"])
    if values["stats"] == "given":
        mean, var = _f64(args["mean"]), _f64(args["var"])
    else:
        mean, var = moments(x, tuple(range(x.ndim - 1)), 0, cache)
    centered = x - mean if values["centering"] else x
    with np.errstate(divide="ignore", invalid="ignore"):
        return (centered / denominator(var, values["eps"], values["denominator"]),)


NORMALIZE = Family(
    choices_for=lambda args: (
        DENOMINATOR_CHOICE,
        CENTERING_CHOICE,
        Choice("stats", (Option("given"), Option("recomputed", "ignores-given-stats"))),
        eps_choice(args),
    ),
    compute=_normalize,
)


def _scale_shift(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x_hat, gamma, beta = _f64(args["x_hat"]), _f64(args["gamma"]), _f64(args["beta"])
    return (apply_affine(x_hat, gamma, beta, values["affine"]),)


SCALE_SHIFT = Family(choices_for=lambda args: (AFFINE_CHOICE,), compute=_scale_shift)


def _forward(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, gamma, beta = _f64(args["x"]), _f64(args["gamma"]), _f64(args["beta"])
    mean, var = moments(x, values["axes"], values["ddof"], cache)
    centered = x - mean if values["centering"] else x
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = centered / denominator(var, values["eps"], values["denominator"])
    return (apply_affine(x_hat, gamma, beta, values["affine"]),)


FORWARD = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        DENOMINATOR_CHOICE,
        CENTERING_CHOICE,
        AFFINE_CHOICE,
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_forward,
    max_wrong=3,
)


def _momentum_choice(args: dict[str, Any]) -> Choice:
    if "momentum" in args:
        return Choice(
            "momentum",
            (Option(float(args["momentum"])), Option(0.99, "ignores-momentum-argument")),
            per_case=True,
        )
    return Choice("momentum", (Option(0.99),), per_case=True)


def _moving(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    m = values["momentum"]
    pairs = (("moving_mean", "batch_mean"), ("moving_var", "batch_var"))
    if values["convention"] == "keras":
        return tuple(m * _f64(args[old]) + (1 - m) * _f64(args[new]) for old, new in pairs)
    return tuple(m * _f64(args[new]) + (1 - m) * _f64(args[old]) for old, new in pairs)


MOVING = Family(
    choices_for=lambda args: (
        Choice("convention", (Option("keras"), Option("pytorch", "momentum-reversed"))),
        _momentum_choice(args),
    ),
    compute=_moving,
)


def _inference(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, gamma, beta = _f64(args["x"]), _f64(args["gamma"]), _f64(args["beta"])
    if values["stats"] == "moving":
        mean, var = _f64(args["moving_mean"]), _f64(args["moving_var"])
    else:
        mean, var = moments(x, tuple(range(x.ndim - 1)), values["stats"][1], cache)
    centered = x - mean if values["centering"] else x
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = centered / denominator(var, values["eps"], values["denominator"])
    return (apply_affine(x_hat, gamma, beta, values["affine"]),)


INFERENCE = Family(
    choices_for=lambda args: (
        Choice(
            "stats",
            (
                Option("moving"),
                Option(("batch", 0), "batch-stats-at-inference"),
                Option(("batch", 1), "batch-stats-at-inference"),
            ),
        ),
        DENOMINATOR_CHOICE,
        CENTERING_CHOICE,
        AFFINE_CHOICE,
        eps_choice(args),
    ),
    compute=_inference,
)


def _backward(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dout, x, gamma = _f64(args["dout"]), _f64(args["x"]), _f64(args["gamma"])
    axes = values["axes"]
    mean, var = moments(x, axes, 0, cache)
    m = int(np.prod([x.shape[a] for a in axes]))
    inv_std = 1.0 / np.sqrt(var + values["eps"])
    x_hat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes, keepdims=True)
    dgamma_with = x_hat if values["dgamma"] == "x_hat" else x
    dgamma = (dout * dgamma_with).sum(axis=axes, keepdims=True)
    dxhat_sum = (dout * x_hat).sum(axis=axes, keepdims=True)
    paths = values["paths"]
    dx = m * dout
    if paths in ("all", "no-var"):
        dx = dx - dbeta
    if paths in ("all", "no-mean"):
        dx = dx - x_hat * dxhat_sum
    dx = gamma * inv_std * dx / m
    return dx, _squeezed(dgamma, axes), _squeezed(dbeta, axes)


BACKWARD = Family(
    choices_for=lambda args: (
        Choice(
            "paths",
            (
                Option("all"),
                Option("none", "backward-ignores-batch-stats"),
                Option("no-mean", "backward-ignores-batch-stats"),
                Option("no-var", "backward-ignores-batch-stats"),
            ),
        ),
        Choice("dgamma", (Option("x_hat"), Option("x", "dgamma-uses-x"))),
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_backward,
)


def _fold(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    kernel = _f64(args["kernel"])
    channels = kernel.shape[-1]
    bias = np.zeros(channels) if args["bias"] is None else _f64(args["bias"])
    gamma, beta = _f64(args["gamma"]), _f64(args["beta"])
    if values["affine"] == "swapped":
        gamma, beta = beta, gamma
    mean, var = _f64(args["moving_mean"]), _f64(args["moving_var"])
    scale = gamma / denominator(var, values["eps"], values["denominator"])
    new_bias = {
        "(b-mu)*s+beta": (bias - mean) * scale + beta,
        "b*s+beta": bias * scale + beta,
        "b-mu+beta": bias - mean + beta,
        "(0-mu)*s+beta": -mean * scale + beta,
    }[values["bias"]]
    return kernel * scale, new_bias


FOLD = Family(
    choices_for=lambda args: (
        Choice(
            "bias",
            (
                Option("(b-mu)*s+beta"),
                Option("b*s+beta", "fold-forgets-mean"),
                Option("b-mu+beta", "fold-bias-unscaled"),
            )
            + ((Option("(0-mu)*s+beta", "fold-ignores-bias"),) if args["bias"] is not None else ()),
            per_case=True,
        ),
        DENOMINATOR_CHOICE,
        Choice("affine", (Option("plain"), Option("swapped", "swapped-gamma-beta"))),
        eps_choice(args),
    ),
    compute=_fold,
)


# ---------------------------------------------------------------------------
# Lesson 3: the gamma and beta that give back the input (identity_params).
# ---------------------------------------------------------------------------


def _identity_cases(rng: np.random.Generator) -> list[Case]:
    cases = _batch_cases(rng)
    x = _features(rng, (3, 2, 4, 5))
    cases.append(
        Case("a (3, 2, 4, 5) feature-map batch with eps=0.1", {"x": x, "eps": 0.1}, "conv")
    )
    return cases


def _identity(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, axes = _f64(args["x"]), values["axes"]
    mean, var = moments(x, axes, values["ddof"], cache)
    gamma = _squeezed(denominator(var, values["eps"], values["denominator"]), axes)
    beta = _squeezed(mean, axes)
    return (gamma, beta) if values["order"] == "gamma, beta" else (beta, gamma)


IDENTITY = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        DENOMINATOR_CHOICE,
        Choice("order", (Option("gamma, beta"), Option("beta, gamma", "swapped-gamma-beta"))),
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_identity,
)

# The catalogue explains these mistakes as they look inside the forward pass; here the
# learner returns gamma and beta, so the feedback says what went wrong with those.
_IDENTITY_WORDING = {
    "swapped-gamma-beta": Diagnosis(
        "swapped-gamma-beta",
        "gamma and beta are swapped",
        "Your function returns the mean first and the standard deviation second. BN ends "
        "with gamma * x_hat + beta: gamma multiplies, so it must undo the division by "
        "sqrt(var + eps); beta is added, so it must put the mean back.",
        "Return (gamma, beta) in that order: the scale first, then the shift.",
    ),
    "std-for-var": Diagnosis(
        "std-for-var",
        "gamma is built from the variance, not the standard deviation",
        "Step 3 divides x - mean by sqrt(var + eps), so the gamma that undoes it is that "
        "square root. If gamma = var + eps, BN returns mean + sqrt(var + eps) * (x - mean): "
        "every deviation from the mean is stretched or shrunk, and only a feature with "
        "var + eps = 1 comes back unchanged.",
        "gamma needs a square root.",
    ),
    "eps-outside-sqrt": Diagnosis(
        "eps-outside-sqrt",
        "epsilon is added outside the square root",
        "Your gamma is sqrt(var) + eps, but step 3 divides by sqrt(var + eps). The two agree "
        "when the variance is large and differ a lot when it is small, so a feature with a "
        "tiny variance does not come back.",
        "Put epsilon where step 3 puts it: inside the square root.",
    ),
    "missing-eps": Diagnosis(
        "missing-eps",
        "gamma leaves out epsilon",
        "Step 3 divides by sqrt(var + eps), not by sqrt(var), so gamma = sqrt(var) undoes "
        "it only approximately: a feature whose variance is near or below epsilon comes "
        "back shrunk towards its mean.",
        "Use the eps argument, inside the square root.",
    ),
}


# ---------------------------------------------------------------------------
# The registry.
# ---------------------------------------------------------------------------

_L1 = "01_normalization_vs_standardization"
_L3 = "03_the_four_steps"
_L4 = "04_training_vs_inference"

_ARRAY_EXERCISES = [
    Exercise("min_max_normalize", _L1, "min_max_normalize(x)", ("output",), _table_cases, MIN_MAX),
    Exercise("standardize", _L1, "standardize(x)", ("output",), _table_cases, STANDARDIZE),
    Exercise("batch_mean", _L3, "batch_mean(x)", ("mean",), _batch_cases, BATCH_MEAN),
    Exercise(
        "batch_variance", _L3, "batch_variance(x)", ("variance",), _batch_cases, BATCH_VARIANCE
    ),
    Exercise(
        "normalize",
        _L3,
        "normalize(x, mean, var, eps=1e-3)",
        ("x_hat",),
        _normalize_cases,
        NORMALIZE,
    ),
    Exercise(
        "scale_shift",
        _L3,
        "scale_shift(x_hat, gamma, beta)",
        ("y",),
        _scale_shift_cases,
        SCALE_SHIFT,
    ),
    Exercise(
        "batchnorm_forward",
        _L3,
        "batchnorm_forward(x, gamma, beta, eps=1e-3)",
        ("y",),
        _forward_cases,
        FORWARD,
    ),
    Exercise(
        "update_moving_stats",
        _L4,
        "update_moving_stats(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99)",
        ("new_mean", "new_var"),
        _moving_cases,
        MOVING,
    ),
    Exercise(
        "batchnorm_inference",
        _L4,
        "batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3)",
        ("y",),
        _inference_cases,
        INFERENCE,
    ),
    Exercise(
        "batchnorm_backward",
        "05_backprop_through_bn",
        "batchnorm_backward(dout, x, gamma, eps=1e-3)",
        ("dx", "dgamma", "dbeta"),
        _backward_cases,
        BACKWARD,
    ),
    Exercise(
        "fold_batchnorm",
        "06_batchnorm_in_keras",
        "fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3)",
        ("kernel", "bias"),
        _fold_cases,
        FOLD,
    ),
    Exercise(
        "identity_params",
        _L3,
        "identity_params(x, eps=1e-3)",
        ("gamma", "beta"),
        _identity_cases,
        IDENTITY,
        wording=_IDENTITY_WORDING,
    ),
]


def array_exercises() -> dict[str, Exercise]:
    return {exercise.id: exercise for exercise in _ARRAY_EXERCISES}


EXERCISES: dict[str, Exercise] = array_exercises()

# Exercises that bring their own invoke and judge (their module imports Exercise from here).
from bncourse.grading.models import MODEL_EXERCISES  # noqa: E402

EXERCISES.update({exercise.id: exercise for exercise in MODEL_EXERCISES})
