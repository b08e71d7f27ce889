"""Lesson 05 (backprop through BN): ``batchnorm_backward``."""

from __future__ import annotations

import numpy as np

from bncourse.grading.families import (
    Choice,
    Family,
    Option,
    axes_choice,
    eps_choice,
    f64,
    moments,
    squeezed,
)
from bncourse.grading.inputs import (
    affine_params,
    features,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, kind in (
        ("a (6, 5) dense batch", (6, 5), "dense"),
        ("a (2, 3, 4, 5) batch of feature maps", (2, 3, 4, 5), "conv"),
    ):
        x = features(rng, shape)
        x[..., 1] = rng.normal(size=shape[:-1]) * 0.3 + 1.0  # backward: no tiny feature needed
        gamma, _ = affine_params(rng, shape[-1])
        dout = rng.normal(size=shape).astype(np.float32)
        cases.append(Case(label, {"dout": dout, "x": x, "gamma": gamma}, kind))
    return cases


def _backward(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dout, x, gamma = f64(args["dout"]), f64(args["x"]), f64(args["gamma"])
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
    return dx, squeezed(dgamma, axes), squeezed(dbeta, axes)


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


EXERCISES = [
    Exercise(
        "batchnorm_backward",
        "05_backprop_through_bn",
        "batchnorm_backward(dout, x, gamma, eps=1e-3)",
        ("dx", "dgamma", "dbeta"),
        _backward_cases,
        BACKWARD,
    ),
]
