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
    tiny_spread = _table(rng, (6, 3))
    tiny_spread[:, 1] = (0.5 + 0.001 * rng.normal(size=6)).astype(np.float32)
    float32_constant = with_constant_feature(_table(rng, (7, 3)), value=0.7)
    fine = np.column_stack([rng.normal(size=4) * 3.0, 1.0 + 1e-9 * np.arange(4.0)])
    return [
        Case("a (4, 3) table", {"x": np.round(_table(rng, (4, 3)), 2)}, "table"),
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
        Case(
            "a (6, 3) table whose second column varies by only about 0.001",
            {"x": tiny_spread},
            "table",
        ),
        Case(
            "a (7, 3) float32 table whose third column is the constant 0.7",
            {"x": float32_constant},
            "table",
            readable=False,
        ),
        Case(
            "a (4, 2) float64 table whose second column differs only beyond float32's precision",
            {"x": fine},
            "table",
            readable=False,
        ),
    ]


def _working_copy(args: dict[str, Any], values: dict[str, Any]) -> np.ndarray:
    """The input as the implementation sees it: float64, or rounded through float32."""
    x = np.asarray(args["x"])
    if values.get("cast", False):
        x = x.astype(np.float32)
    return x.astype(np.float64) if values.get("precision", "float64") == "float64" else x


# Rounding: compute in float64 (right), compute in float32 (a constant column whose value
# float32 cannot hold exactly gets a tiny nonzero spread), or round float64 input to float32
# before computing (differences finer than float32 vanish).
CAST_CHOICE = Choice("cast", (Option(False), Option(True, "casts-to-float32-first")))


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
    x, axes = f64(_working_copy(args, values)), values["axes"]
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
        CAST_CHOICE,
    ),
    compute=_min_max,
)


def _standardize(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    x = _working_copy(args, values)
    axes = values["axes"]
    if values["precision"] == "float64" and not values["cast"]:
        mean, var = moments(x, axes, values["ddof"], cache)
    else:  # float32 arithmetic, as a learner's code without a float64 conversion does it
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (
            int(np.prod([x.shape[a] for a in axes])) - values["ddof"]
        )
    var = var + values["eps"]
    spread = np.sqrt(var) if values["divide_by"] == "std" else var
    centered = x - mean if values["centering"] else x
    result = safe_divide(centered, spread, values["constant"])
    return (f64(result),)


STANDARDIZE = Family(
    choices_for=lambda args: (
        DDOF_CHOICE,
        Choice("divide_by", (Option("std"), Option("var", "std-for-var"))),
        CENTERING_CHOICE,
        _table_axes(args),
        CONSTANT_CHOICE,
        Choice(
            "eps",
            (
                Option(0.0),
                Option(1e-3, "standardize-adds-eps"),
                Option(1e-5, "standardize-adds-eps"),
            ),
        ),
        Choice("precision", (Option("float64"), Option("float32", "float32-constant-column"))),
        CAST_CHOICE,
    ),
    compute=_standardize,
)


MIN_MAX_HINTS = (
    "Which value of a column should land on 0 and which on 1? Once you have shifted the "
    "column so that its smallest value is 0, what do you divide by so that its largest "
    "value becomes exactly 1?",
    "Per column (statistics over axis 0, the rows): subtract the column's minimum, then "
    "divide by its range, the maximum minus the minimum. Where the range is 0 (a constant "
    "column) divide by something harmless instead, so that the column becomes 0, not NaN. "
    "Do the arithmetic in float64 and convert the result to float32 at the end.",
    "x = np.asarray(x, dtype=np.float64); low = x.min(axis=0); the range is "
    "x.max(axis=0) - low; replace zero ranges with np.where(range > 0, range, 1.0); "
    "return ((x - low) / safe_range).astype(np.float32).",
)

STANDARDIZE_HINTS = (
    "After standardizing, each column has mean 0 and standard deviation 1. Which two "
    "statistics of the column do you need to get there, over which axis, and in which "
    "order do you use them?",
    "Per column: subtract the column's mean, then divide by its standard deviation, the "
    "population one (divide by m, the number of rows; no epsilon). A constant column has "
    "standard deviation 0: divide it by 1 instead, so it becomes 0. Compute in float64, "
    "return float32.",
    "x = np.asarray(x, dtype=np.float64); mu = x.mean(axis=0); sigma = x.std(axis=0) "
    "(ddof=0 is NumPy's default); safe = np.where(sigma > 0, sigma, 1.0); return "
    "((x - mu) / safe).astype(np.float32).",
)


EXERCISES = [
    Exercise(
        "min_max_normalize",
        _L1,
        "min_max_normalize(x)",
        ("output",),
        _table_cases,
        MIN_MAX,
        hints=MIN_MAX_HINTS,
    ),
    Exercise(
        "standardize",
        _L1,
        "standardize(x)",
        ("output",),
        _table_cases,
        STANDARDIZE,
        hints=STANDARDIZE_HINTS,
    ),
]
