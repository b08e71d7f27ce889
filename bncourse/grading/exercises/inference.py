"""Lesson 04 (training vs. inference): ``update_moving_stats`` and ``batchnorm_inference``."""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.grading.families import (
    AFFINE_CHOICE,
    CENTERING_CHOICE,
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    apply_affine,
    denominator,
    eps_choice,
    f64,
    moments,
)
from bncourse.grading.inputs import (
    affine_params,
    features,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]

_L4 = "04_training_vs_inference"


def _moving_cases(rng: np.random.Generator) -> list[Case]:
    def one(channels: int) -> dict[str, Any]:
        return {
            "moving_mean": rng.normal(size=channels).astype(np.float32),
            "moving_var": rng.uniform(0.5, 2.0, channels).astype(np.float32),
            "batch_mean": rng.normal(3.0, 1.0, channels).astype(np.float32),
            "batch_var": rng.uniform(4.0, 9.0, channels).astype(np.float32),
        }

    return [
        Case("5 features, default momentum", one(5), "vector"),
        Case("3 channels, momentum=0.9", {**one(3), "momentum": 0.9}, "vector"),
    ]


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
        return tuple(m * f64(args[old]) + (1 - m) * f64(args[new]) for old, new in pairs)
    return tuple(m * f64(args[new]) + (1 - m) * f64(args[old]) for old, new in pairs)


MOVING = Family(
    choices_for=lambda args: (
        Choice("convention", (Option("keras"), Option("pytorch", "momentum-reversed"))),
        _momentum_choice(args),
    ),
    compute=_moving,
)


def _inference_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, kind in (
        ("a (6, 5) dense batch", (6, 5), "dense"),
        ("a single sample, shape (1, 5)", (1, 5), "dense"),
        ("a (2, 3, 4, 5) batch of feature maps", (2, 3, 4, 5), "conv"),
    ):
        x = features(rng, shape)
        gamma, beta = affine_params(rng, 5)
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


def _inference(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x, gamma, beta = f64(args["x"]), f64(args["gamma"]), f64(args["beta"])
    stats = values["stats"]
    batch_mean, batch_var = moments(x, tuple(range(x.ndim - 1)), stats[1], cache)
    mean = f64(args["moving_mean"]) if stats[0] in ("moving", "moving mean") else batch_mean
    var = f64(args["moving_var"]) if stats[0] in ("moving", "moving var") else batch_var
    centered = x - mean if values["centering"] else x
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = centered / denominator(var, values["eps"], values["denominator"])
    return (apply_affine(x_hat, gamma, beta, values["affine"]),)


INFERENCE = Family(
    choices_for=lambda args: (
        Choice(
            "stats",
            (
                Option(("moving", 0)),
                Option(("batch", 0), "batch-stats-at-inference"),
                Option(("batch", 1), "batch-stats-at-inference"),
                Option(("moving mean", 0), "mixes-moving-and-batch-stats"),
                Option(("moving mean", 1), "mixes-moving-and-batch-stats"),
                Option(("moving var", 0), "mixes-moving-and-batch-stats"),
            ),
        ),
        DENOMINATOR_CHOICE,
        CENTERING_CHOICE,
        AFFINE_CHOICE,
        eps_choice(args),
    ),
    compute=_inference,
)


EXERCISES = [
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
]
