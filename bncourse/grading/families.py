"""Families of plausible implementations: the right one and its common mistakes.

A family describes an exercise's computation as a few independent choices (which axes
the statistics average over, m or m - 1, where epsilon goes, ...). Each choice has a
correct option and wrong ones, and every wrong option names a diagnosis from the
catalogue. The judge evaluates every combination with at most two wrong choices on the
same inputs the learner's function saw; a combination whose outputs match the learner's
on every input names the learner's mistakes.

All arithmetic here is float64 and independent of ``bncourse.reference``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Option",
    "Choice",
    "Family",
    "combinations",
    "axes_choice",
    "passes_choice",
    "one_pass_float32_variance",
    "statistics",
]


@dataclass(frozen=True)
class Option:
    """One way of making a choice. ``diagnosis`` is None for the correct way."""

    value: Any
    diagnosis: str | None = None


@dataclass(frozen=True)
class Choice:
    """A decision an implementation makes; ``options[0]`` must be the correct one.

    A global choice is made once for all inputs (m or m - 1). A per-case choice may look
    different on different inputs: the same learner code ``x.mean(axis=0)`` averages over
    the right axes of a 2-D batch and the wrong ones of a 4-D batch.
    """

    name: str
    options: tuple[Option, ...]
    per_case: bool = False


Combination = tuple[tuple[Choice, Option], ...]


def wrong_count(combination: Combination) -> int:
    return sum(option.diagnosis is not None for _, option in combination)


def diagnoses_of(combination: Combination) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.diagnosis for _, o in combination if o.diagnosis))


def values_of(combination: Combination) -> dict[str, Any]:
    return {choice.name: option.value for choice, option in combination}


def combinations(choices: tuple[Choice, ...], max_wrong: int | None) -> list[Combination]:
    """Every combination of options with at most ``max_wrong`` wrong ones, simplest first."""
    limit = len(choices) if max_wrong is None else min(max_wrong, len(choices))
    result: list[Combination] = []
    for wrong in range(limit + 1):
        for chosen in itertools.combinations(range(len(choices)), wrong):
            option_lists = [
                choice.options[1:] if index in chosen else choice.options[:1]
                for index, choice in enumerate(choices)
            ]
            for picked in itertools.product(*option_lists):
                result.append(tuple(zip(choices, picked, strict=True)))
    return result


@dataclass(frozen=True)
class Family:
    """The choices of an exercise and a function computing outputs from chosen values.

    ``choices_for(args)`` gives the choices that make sense for one input (axes depend
    on its rank); global choices must come in the same order with the same options for
    every input. ``compute(args, values, cache)`` returns a tuple of float64 arrays;
    ``cache`` is a dict shared by all calls on the same input.
    """

    choices_for: Callable[[dict[str, Any]], tuple[Choice, ...]]
    compute: Callable[[dict[str, Any], dict[str, Any], dict[Any, Any]], tuple[np.ndarray, ...]]
    max_wrong: int = 2


def axes_choice(ndim: int, name: str = "axes") -> Choice:
    """The axes statistics average over: every axis but the last is correct.

    The wrong options are every other non-empty subset of axes (per sample, per
    position, over everything, ...).
    """
    correct = tuple(range(ndim - 1))
    others = [
        subset
        for size in range(1, ndim + 1)
        for subset in itertools.combinations(range(ndim), size)
        if subset != correct
    ]
    options = (Option(correct),) + tuple(Option(s, "wrong-axis") for s in others)
    return Choice(name, options, per_case=True)


def safe_divide(numerator: np.ndarray, denominator: np.ndarray, how: str) -> Any:
    """Divide, handling a zero denominator as ``how`` says: "guard" divides by 1 instead,
    "zero" returns 0, "nan" leaves 0 / 0 = NaN (and x / 0 = inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if how == "nan":
            return numerator / denominator
        safe = np.where(denominator == 0, 1.0, denominator)
        if how == "guard":
            return numerator / safe
        return np.where(denominator == 0, 0.0, numerator / safe)


def moments(
    x: np.ndarray, axes: tuple[int, ...], ddof: int, cache: dict[Any, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance over ``axes`` (keepdims, so they broadcast against ``x``)."""
    key = ("moments", id(x), axes, ddof)
    if cache is not None and key in cache:
        return cache[key]
    mean = x.mean(axis=axes, keepdims=True)
    count = int(np.prod([x.shape[a] for a in axes]))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (count - ddof)
    if cache is not None:
        cache[key] = (mean, var)
    return mean, var


def passes_choice(args: dict[str, Any], name: str = "passes") -> Choice:
    """How the variance is computed: from deviations (right) or as E[x^2] - E[x]^2 in
    float32, offered only on inputs where that one-pass formula loses the variance (a
    feature whose mean is over 100 times its spread)."""
    x = np.asarray(args.get("x"), dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    spread = x.std(axis=axes)
    trap = bool(np.any(np.abs(x.mean(axis=axes)) > 100 * np.where(spread > 0, spread, np.inf)))
    wrong = (Option("one-pass-float32", "one-pass-variance"),) if trap else ()
    return Choice(name, (Option("two-pass"), *wrong), per_case=True)


def one_pass_float32_variance(x: np.ndarray, axes: tuple[int, ...], ddof: int) -> np.ndarray:
    """E[x^2] - E[x]^2 in float32 (keepdims, float64 result): the one-pass formula a learner
    may write, with the rounding float32 gives it."""
    x32 = np.asarray(x, dtype=np.float32)
    count = int(np.prod([x.shape[a] for a in axes]))
    mean_sq = (x32 * x32).mean(axis=axes, keepdims=True)
    sq_mean = x32.mean(axis=axes, keepdims=True) ** 2
    return (mean_sq - sq_mean).astype(np.float64) * count / max(count - ddof, 1)


def statistics(
    x: np.ndarray,
    axes: tuple[int, ...],
    ddof: int,
    passes: str = "two-pass",
    cache: dict[Any, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (keepdims) as an implementation with these choices computes them."""
    mean, var = moments(x, axes, ddof, cache)
    if passes == "one-pass-float32":
        var = one_pass_float32_variance(x, axes, ddof)
    return mean, var


def denominator(var: np.ndarray, eps: float, how: str) -> np.ndarray:
    """The normalizer under each placement of epsilon."""
    if how == "sqrt(var+eps)":
        return np.sqrt(var + eps)
    if how == "sqrt(var)+eps":
        return np.sqrt(np.maximum(var, 0.0)) + eps
    if how == "sqrt(var)":
        return np.sqrt(np.maximum(var, 0.0))
    if how == "var+eps":
        return var + eps
    if how == "var":
        return var
    raise KeyError(how)


DENOMINATOR_CHOICE = Choice(
    "denominator",
    (
        Option("sqrt(var+eps)"),
        Option("sqrt(var)+eps", "eps-outside-sqrt"),
        Option("sqrt(var)", "missing-eps"),
        Option("var+eps", "std-for-var"),
        Option("var", "std-for-var"),
    ),
)

AFFINE_CHOICE = Choice(
    "affine",
    (
        Option("gamma*x+beta"),
        Option("beta*x+gamma", "swapped-gamma-beta"),
        Option("x", "missing-scale-shift"),
        Option("gamma*x", "missing-scale-shift"),
        Option("x+beta", "missing-scale-shift"),
    ),
)

CENTERING_CHOICE = Choice("centering", (Option(True), Option(False, "missing-centering")))

DDOF_CHOICE = Choice("ddof", (Option(0), Option(1, "unbiased-variance")))


def apply_affine(x_hat: np.ndarray, gamma: np.ndarray, beta: np.ndarray, how: str) -> np.ndarray:
    if how == "gamma*x+beta":
        return gamma * x_hat + beta
    if how == "beta*x+gamma":
        return beta * x_hat + gamma
    if how == "x":
        return x_hat
    if how == "gamma*x":
        return gamma * x_hat
    if how == "x+beta":
        return x_hat + beta
    raise KeyError(how)


def eps_choice(case_args: dict[str, Any], default: float = 1e-3) -> Choice:
    """Which epsilon the implementation used: the given one, a fixed one, or a wrong default."""
    if "eps" in case_args:
        given = float(case_args["eps"])
        fixed = [Option(default, "ignores-eps-argument")] if given != default else []
        return Choice("eps", (Option(given), *fixed), per_case=True)
    return Choice("eps", (Option(default), Option(1e-5, "wrong-eps-default")), per_case=True)


def f64(value: Any) -> np.ndarray:
    """A float64 array of ``value``: families compute in float64."""
    return np.asarray(value, dtype=np.float64)


def squeezed(stat: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """A keepdims statistic squeezed back to one value per feature."""
    return np.squeeze(stat, axis=axes)
