"""Lesson 01 (normalization vs. standardization): ``min_max_normalize`` and ``standardize``.

Test inputs are 2-D tables with negative values, a constant column and values in the
thousands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.grading.families import (
    CENTERING_CHOICE,
    DDOF_CHOICE,
    Choice,
    Family,
    Option,
    f64,
    moments,
    safe_divide,
)
from bncourse.grading.inputs import (
    with_constant_feature,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]

_L1 = "01_normalization_vs_standardization"


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
            {"x": with_constant_feature(_table(rng, (5, 3)))},
            "table",
        ),
        Case(
            "a (6, 2) table with values in the thousands",
            {"x": _table(rng, (6, 2), scale=1000.0)},
            "table",
        ),
    ]


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
    x, axes = f64(args["x"]), values["axes"]
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
    x = f64(args["x"])
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


EXERCISES = [
    Exercise("min_max_normalize", _L1, "min_max_normalize(x)", ("output",), _table_cases, MIN_MAX),
    Exercise("standardize", _L1, "standardize(x)", ("output",), _table_cases, STANDARDIZE),
]
