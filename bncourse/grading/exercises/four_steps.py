"""Lesson 03 (the four steps): the mean, the biased variance, normalize, scale and shift,
training-mode ``batchnorm_forward`` and ``identity_params``.
"""

from __future__ import annotations

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
    f64,
    moments,
    passes_choice,
    squeezed,
    statistics,
)
from bncourse.grading.inputs import (
    affine_params,
    batch_cases,
    batch_stats,
    features,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]

_L3 = "03_the_four_steps"


def _normalize_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for case in batch_cases(rng):
        mean, var = batch_stats(case.args["x"])
        cases.append(Case(case.label, {"x": case.args["x"], "mean": mean, "var": var}, case.kind))
    x = features(rng, (2, 3, 4, 5))
    mean, var = batch_stats(x)
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
    for case in batch_cases(rng):
        gamma, beta = affine_params(rng, case.args["x"].shape[-1])
        cases.append(Case(case.label, {**case.args, "gamma": gamma, "beta": beta}, case.kind))
    x = features(rng, (3, 2, 4, 5))
    gamma, beta = affine_params(rng, 5)
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
        gamma, beta = affine_params(rng, shape[-1])
        x_hat = rng.normal(size=shape).astype(np.float32)
        cases.append(Case(label, {"x_hat": x_hat, "gamma": gamma, "beta": beta}, kind))
    return cases


def _identity_cases(rng: np.random.Generator) -> list[Case]:
    cases = batch_cases(rng)
    x = features(rng, (3, 2, 4, 5))
    cases.append(
        Case("a (3, 2, 4, 5) feature-map batch with eps=0.1", {"x": x, "eps": 0.1}, "conv")
    )
    return cases


def _batch_mean(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = f64(args["x"])
    mean, _ = moments(x, values["axes"], 0, cache)
    return (squeezed(mean, values["axes"]),)


BATCH_MEAN = Family(
    choices_for=lambda args: (axes_choice(np.ndim(args["x"])),),
    compute=_batch_mean,
)


def _batch_variance(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = f64(args["x"])
    _, var = statistics(x, values["axes"], values["ddof"], values["passes"], cache)
    var = squeezed(var, values["axes"])
    return (np.sqrt(var) if values["returns"] == "std" else var,)


BATCH_VARIANCE = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        Choice("returns", (Option("var"), Option("std", "std-not-variance"))),
        axes_choice(np.ndim(args["x"])),
        passes_choice(args),
    ),
    compute=_batch_variance,
)


def _normalize(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = f64(args["x"])
    if values["stats"] == "given":
        mean, var = f64(args["mean"]), f64(args["var"])
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
    x_hat, gamma, beta = (
        f64(args["x_hat"]),
        f64(args["gamma"]),
        f64(args["beta"]),
    )
    return (apply_affine(x_hat, gamma, beta, values["affine"]),)


SCALE_SHIFT = Family(choices_for=lambda args: (AFFINE_CHOICE,), compute=_scale_shift)


def _forward(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, gamma, beta = f64(args["x"]), f64(args["gamma"]), f64(args["beta"])
    mean, var = statistics(x, values["axes"], values["ddof"], values["passes"], cache)
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
        passes_choice(args),
    ),
    compute=_forward,
    max_wrong=3,
)


def _identity(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, axes = f64(args["x"]), values["axes"]
    mean, var = statistics(x, axes, values["ddof"], values["passes"], cache)
    gamma = squeezed(denominator(var, values["eps"], values["denominator"]), axes)
    beta = squeezed(mean, axes)
    return (gamma, beta) if values["order"] == "gamma, beta" else (beta, gamma)


IDENTITY = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        DENOMINATOR_CHOICE,
        Choice("order", (Option("gamma, beta"), Option("beta, gamma", "swapped-gamma-beta"))),
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
        passes_choice(args),
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


EXERCISES = [
    Exercise("batch_mean", _L3, "batch_mean(x)", ("mean",), batch_cases, BATCH_MEAN),
    Exercise(
        "batch_variance", _L3, "batch_variance(x)", ("variance",), batch_cases, BATCH_VARIANCE
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
        "identity_params",
        _L3,
        "identity_params(x, eps=1e-3)",
        ("gamma", "beta"),
        _identity_cases,
        IDENTITY,
        wording=_IDENTITY_WORDING,
    ),
]
