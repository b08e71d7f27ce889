"""Lesson 05 (backprop through BN): the backward pass node by node, composed, compact, and
the learner's own central-difference gradient.

The node exercises follow the graph x -> (mu, var) -> x_hat -> y backwards:

* ``bn_dx_hat(dout, gamma)``: the gradient at x_hat;
* ``bn_dvar(dx_hat, x, mu, var, eps)``: at the batch variance;
* ``bn_dmu(dx_hat, dvar, x, mu, var, eps)``: at the batch mean, along both of its paths;
* ``bn_dx(dx_hat, dvar, dmu, x, mu, var, eps)``: at the input, along all three paths.

Each is the local chain rule at one node, so it must hold for any values of its inputs:
half of every node's test cases pass a ``mu`` and ``var`` that are not x's own batch
statistics. That is what exposes the term of dmu that vanishes when mu is exactly the mean
of x (and a node that recomputes the statistics it was handed).

``batchnorm_backward`` composes the nodes (its check is the lesson's original one, with
more named mistakes); ``batchnorm_backward_compact`` is the optional one-line formula,
checked the same way and worth no points. ``numerical_gradient`` is judged on the values
it returns and on how it called the test function: ``invoke_numerical_gradient`` hands the
learner's code a recording function and reports, next to the gradient, which elements
each call moved, by how much and in which dtype.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.execution import Observation
from bncourse.grading.families import (
    DDOF_CHOICE,
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    axes_choice,
    denominator,
    eps_choice,
    f64,
    moments,
    squeezed,
)
from bncourse.grading.inputs import affine_params, features
from bncourse.grading.judge import judge, mistake, not_attempted, untouched
from bncourse.grading.result import CheckResult, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "EXERCISES",
    "TestFunction",
    "invoke_numerical_gradient",
    "judge_numerical_gradient",
    "judge_node",
]

LESSON = "05_backprop_through_bn"


# ---------------------------------------------------------------------------
# Test inputs for the node exercises.
# ---------------------------------------------------------------------------


def _node_args(
    rng: np.random.Generator, shape: tuple[int, ...], *, own_stats: bool, decimals: int | None
) -> dict[str, np.ndarray]:
    """x, dout, gamma, dx_hat, mu, var, dvar and dmu for one case (all float32).

    With ``own_stats`` the mu and var are x's batch statistics and the upstream values are
    those of a real backward pass; otherwise mu sits away from x's mean, var away from its
    variance, and dx_hat, dvar and dmu are arbitrary numbers, as a node may be handed.
    """
    channels = shape[-1]
    x = features(rng, shape)
    if decimals is not None:
        x = np.round(x, decimals)
        x[..., 1] = np.round(0.02 + 0.01 * rng.normal(size=shape[:-1]), 3)  # a tiny spread
    axes = tuple(range(len(shape) - 1))
    x64 = x.astype(np.float64)
    mu, var = x64.mean(axis=axes), x64.var(axis=axes)
    gamma, _ = affine_params(rng, channels)
    dout = rng.normal(size=shape)
    if own_stats:
        dx_hat = dout * gamma
        s = np.sqrt(var + 1e-3)
        dvar = (dx_hat * (x64 - mu)).sum(axis=axes) * -0.5 / s**3
        dmu = -(dx_hat / s).sum(axis=axes)
    else:
        shift = rng.uniform(0.4, 1.0, channels) * rng.choice([-1.0, 1.0], channels)
        mu = mu + shift * (np.sqrt(var) + 0.2)
        var = var * rng.uniform(1.5, 3.0, channels) + rng.uniform(0.0, 0.5, channels)
        dx_hat = rng.normal(size=shape) * 1.5
        dvar = rng.normal(size=channels) * 3.0
        dmu = rng.normal(size=channels) * 3.0
    values = {"x": x, "dout": dout, "gamma": gamma, "dx_hat": dx_hat}
    values |= {"mu": mu, "var": var, "dvar": dvar, "dmu": dmu}
    if decimals is not None:
        values = {k: v if k == "x" else np.round(v, decimals) for k, v in values.items()}
        values["var"] = np.round(values["var"], 4)
    return {k: np.asarray(v, dtype=np.float32) for k, v in values.items()}


_NODE_CASES = (  # label, shape, own statistics, rounded to, eps given
    ("a (4, 3) batch whose mu and var are not its own statistics", (4, 3), False, 2, None),
    ("a (6, 5) dense batch with its own mu and var", (6, 5), True, None, None),
    ("a (6, 5) dense batch, mu and var not its own, eps=0.01", (6, 5), False, None, 0.01),
    (
        "a (2, 3, 4, 5) batch of feature maps with its own mu and var",
        (2, 3, 4, 5),
        True,
        None,
        None,
    ),
    (
        "a (2, 3, 4, 5) batch of feature maps, mu and var not its own",
        (2, 3, 4, 5),
        False,
        None,
        None,
    ),
)


def _node_cases(names: tuple[str, ...]) -> Callable[[np.random.Generator], list[Case]]:
    def make(rng: np.random.Generator) -> list[Case]:
        cases = []
        for label, shape, own, decimals, eps in _NODE_CASES:
            values = _node_args(rng, shape, own_stats=own, decimals=decimals)
            args = {name: values[name] for name in names}
            if eps is not None:
                args["eps"] = eps
            kind = "conv" if len(shape) == 4 else "dense"
            cases.append(Case(label, args, kind))
        return cases

    return make


def _dx_hat_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, shape, decimals in (
        ("a (4, 3) batch", (4, 3), 2),
        ("a (6, 5) dense batch", (6, 5), None),
        ("a (2, 3, 4, 5) batch of feature maps", (2, 3, 4, 5), None),
    ):
        values = _node_args(rng, shape, own_stats=True, decimals=decimals)
        kind = "conv" if len(shape) == 4 else "dense"
        cases.append(Case(label, {"dout": values["dout"], "gamma": values["gamma"]}, kind))
    return cases


# ---------------------------------------------------------------------------
# Choices the node families share.
# ---------------------------------------------------------------------------

_STATS = Choice("stats", (Option("given"), Option("recomputed", "ignores-given-stats")))
_M = Choice(
    "m",
    (
        Option("axes"),
        Option("first", "m-from-wrong-axes"),
        Option("size", "m-from-wrong-axes"),
        Option("one", "missing-1-over-m"),
    ),
)
_REDUCE = Choice(
    "reduce",
    (
        Option("sum"),
        Option("mean", "backward-mean-for-sum"),
        Option("none", "backward-forgets-sum"),  # one value per element, not per feature
    ),
)
_DEVIATION = Choice("deviation", (Option("x-mu"), Option("x", "uses-x-not-deviation")))


def _stats(args: dict, values: dict, x: np.ndarray, cache: dict) -> tuple[np.ndarray, ...]:
    """The mu and var a node uses: the given ones, or x's own (over the correct axes)."""
    if values["stats"] == "given":
        return f64(args["mu"]), f64(args["var"])
    correct = tuple(range(x.ndim - 1))
    mean, var = moments(x, correct, 0, cache)
    return squeezed(mean, correct), squeezed(var, correct)


def _count(x: np.ndarray, axes: tuple[int, ...], how: str) -> float:
    if how == "axes":
        return float(np.prod([x.shape[a] for a in axes]))
    if how == "first":
        return float(x.shape[0])
    if how == "size":
        return float(x.size)
    return 1.0


def _reduce(values: np.ndarray, axes: tuple[int, ...], how: str) -> np.ndarray:
    """A sum (or mean) over ``axes``, keepdims, so it broadcasts whatever the axes
    (``how="none"``: no reduction at all, the slip of leaving the sum out)."""
    if how == "none":
        return values
    total = values.sum(axis=axes, keepdims=True)
    if how == "mean":
        total = total / np.prod([values.shape[a] for a in axes])
    return total


def _per_feature(value: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """A keepdims result squeezed back (where the reduced axes still have size 1)."""
    return squeezed(value, axes) if all(value.shape[a] == 1 for a in axes) else value


# ---------------------------------------------------------------------------
# bn_dx_hat
# ---------------------------------------------------------------------------


def _dx_hat(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dout, gamma = f64(args["dout"]), f64(args["gamma"])
    how = values["gamma"]
    if how == "times":
        return (dout * gamma,)
    if how == "divide":
        return (dout / gamma,)
    return (dout,)


DX_HAT = Family(
    choices_for=lambda args: (
        Choice(
            "gamma",
            (
                Option("times"),
                Option("none", "backward-forgets-gamma"),
                Option("divide", "dx-hat-divides-by-gamma"),
            ),
        ),
    ),
    compute=_dx_hat,
)


# ---------------------------------------------------------------------------
# bn_dvar
# ---------------------------------------------------------------------------

_POWER = Choice(
    "power",  # dvar = coefficient * sum(dx_hat * deviation) * s ** exponent
    (
        Option((-0.5, -3.0)),
        Option((-0.5, -1.0), "dvar-power-rule"),  # kept the exponent -1/2
        Option((-0.5, -2.0), "dvar-power-rule"),  # (var + eps) ** -1
        Option((1.0, -3.0), "dvar-power-rule"),  # dropped the -1/2
        Option((-1.0, -3.0), "dvar-power-rule"),  # dropped the 1/2
        Option((0.5, -3.0), "dvar-power-rule"),  # lost the minus
        Option((-1.5, -3.0), "dvar-power-rule"),  # the new exponent as the factor
    ),
)


def _dvar(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dx_hat, x = f64(args["dx_hat"]), f64(args["x"])
    mu, var = _stats(args, values, x, cache)
    axes = values["axes"]
    deviation = x - mu if values["deviation"] == "x-mu" else x
    total = _reduce(dx_hat * deviation, axes, values["reduce"])
    coefficient, exponent = values["power"]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = denominator(var, values["eps"], values["denominator"])
        return (_per_feature(coefficient * total * s**exponent, axes),)


DVAR = Family(
    choices_for=lambda args: (
        _POWER,
        _DEVIATION,
        DENOMINATOR_CHOICE,
        _REDUCE,
        _STATS,
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_dvar,
)


# ---------------------------------------------------------------------------
# bn_dmu
# ---------------------------------------------------------------------------

_VARIANCE_TERM = Choice(
    "variance_term",  # the coefficient of dvar * sum(x - mu), in units of 1/m
    (
        Option(("per-m", -2.0)),
        Option(("none", 0.0), "dmu-forgets-variance-term"),
        Option(("per-m", 2.0), "dmu-variance-term-sign"),
        Option(("per-m", -1.0), "variance-derivative-factor"),
        Option(("flat", 1.0), "variance-derivative-factor"),
        Option(("flat", -1.0), "variance-derivative-factor"),
    ),
)
_DIRECT_SIGN = Choice("direct_sign", (Option(-1.0), Option(1.0, "backward-sign-slip")))


def _dmu(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dx_hat, dvar, x = f64(args["dx_hat"]), f64(args["dvar"]), f64(args["x"])
    mu, var = _stats(args, values, x, cache)
    axes = values["axes"]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = denominator(var, values["eps"], values["denominator"])
        direct = values["direct_sign"] * _reduce(dx_hat, axes, values["reduce"]) / s
    kind, coefficient = values["variance_term"]
    m = _count(x, axes, values["m"]) if kind == "per-m" else 1.0
    deviation = x - mu if values["deviation"] == "x-mu" else x
    through_var = coefficient / m * dvar * _reduce(deviation, axes, values["reduce"])
    return (_per_feature(direct + through_var, axes),)


DMU = Family(
    choices_for=lambda args: (
        _VARIANCE_TERM,
        _M,
        _DIRECT_SIGN,
        _DEVIATION,
        DENOMINATOR_CHOICE,
        _REDUCE,
        _STATS,
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_dmu,
)


# ---------------------------------------------------------------------------
# bn_dx
# ---------------------------------------------------------------------------

_PATHS = Choice(  # the name and values the judge's "which path is missing" detail reads
    "paths",
    (
        Option("all"),
        Option("none", "backward-ignores-batch-stats"),
        Option("no-mean", "backward-ignores-batch-stats"),
        Option("no-var", "backward-ignores-batch-stats"),
    ),
)
_TWO = Choice("two", (Option(2.0), Option(1.0, "variance-derivative-factor")))
_ONE_PATH_M = Choice(  # the 1/m left out of one path only
    "one_path_m",
    (
        Option("both"),
        Option("variance", "missing-1-over-m"),
        Option("mean", "missing-1-over-m"),
    ),
)
_SIGNS = Choice(
    "signs",  # (variance path, mean path)
    (
        Option((1.0, 1.0)),
        Option((1.0, -1.0), "backward-sign-slip"),
        Option((-1.0, 1.0), "backward-sign-slip"),
        Option((-1.0, -1.0), "backward-sign-slip"),
    ),
)


def _dx(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    dx_hat, x = f64(args["dx_hat"]), f64(args["x"])
    dvar, dmu = f64(args["dvar"]), f64(args["dmu"])
    mu, var = _stats(args, values, x, cache)
    m = _count(x, tuple(range(x.ndim - 1)), values["m"])
    deviation = x - mu if values["deviation"] == "x-mu" else x
    var_sign, mean_sign = values["signs"]
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = dx_hat / denominator(var, values["eps"], values["denominator"])
    m_var = 1.0 if values["one_path_m"] == "variance" else m
    m_mean = 1.0 if values["one_path_m"] == "mean" else m
    if values["paths"] in ("all", "no-mean"):
        dx = dx + var_sign * dvar * values["two"] * deviation / m_var
    if values["paths"] in ("all", "no-var"):
        dx = dx + mean_sign * dmu / m_mean
    return (dx,)


DX = Family(
    choices_for=lambda args: (
        _PATHS,
        _M,
        _ONE_PATH_M,
        _TWO,
        _SIGNS,
        _DEVIATION,
        DENOMINATOR_CHOICE,
        _STATS,
        eps_choice(args),
    ),
    compute=_dx,
)


# ---------------------------------------------------------------------------
# batchnorm_backward (composed) and batchnorm_backward_compact
# ---------------------------------------------------------------------------


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
    mean, var = moments(x, axes, values["ddof"], cache)
    m = _count(x, axes, values["m"])
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_std = 1.0 / denominator(var, values["eps"], values["denominator"])
    x_hat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes, keepdims=True)
    dgamma_with = x_hat if values["dgamma"] == "x_hat" else x
    dgamma = (dout * dgamma_with).sum(axis=axes, keepdims=True)
    dxhat_sum = (dout * x_hat).sum(axis=axes, keepdims=True)
    paths = values["paths"]
    dx = dout
    if paths in ("all", "no-var"):
        dx = dx - dbeta / m
    if paths in ("all", "no-mean"):
        dx = dx - x_hat * dxhat_sum / m
    dx = dx * inv_std * (gamma if values["gamma"] else 1.0)
    if values["reduce"] == "mean":
        count = np.prod([x.shape[a] for a in axes])
        dgamma, dbeta = dgamma / count, dbeta / count
    return dx, squeezed(dgamma, axes), squeezed(dbeta, axes)


BACKWARD = Family(
    choices_for=lambda args: (
        _PATHS,
        Choice("dgamma", (Option("x_hat"), Option("x", "dgamma-uses-x"))),
        Choice("gamma", (Option(True), Option(False, "backward-forgets-gamma"))),
        Choice(
            "m",
            (
                Option("axes"),
                Option("first", "m-from-wrong-axes"),
                Option("one", "missing-1-over-m"),
            ),
        ),
        _REDUCE,
        DDOF_CHOICE,
        DENOMINATOR_CHOICE,
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_backward,
)


# ---------------------------------------------------------------------------
# numerical_gradient: test functions, the recording invoke and the judge.
# ---------------------------------------------------------------------------


class TestFunction:
    """A function the numerical-gradient check differentiates, shown by its formula.

    Calls compute in float64 whatever dtype they are given, so the only rounding a
    numerical gradient suffers is its own.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, formula: str, **params: np.ndarray) -> None:
        self.name, self.formula, self.params = name, formula, params

    def __call__(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if self.name == "cube":
            return v**3
        if self.name == "tanh_layer":
            return np.tanh(v @ self.params["W"])
        axes = tuple(range(v.ndim - 1))  # "batchnorm": training-mode BN, eps = 1e-3
        mu = v.mean(axis=axes)
        var = ((v - mu) ** 2).mean(axis=axes)
        return self.params["gamma"] * (v - mu) / np.sqrt(var + 1e-3) + self.params["beta"]

    def __repr__(self) -> str:
        return self.formula


def _numgrad_cases(rng: np.random.Generator) -> list[Case]:
    cube = TestFunction("cube", "f(v) = v ** 3, element by element")
    x1 = np.round(rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)), 2)
    weights = np.round(rng.normal(size=(3, 2)), 2)
    layer = TestFunction("tanh_layer", f"f(v) = np.tanh(v @ W), W = {weights.tolist()}", W=weights)
    gamma, beta = np.array([1.7, 0.6, 2.3]), np.array([0.4, -1.2, 0.9])
    bn = TestFunction(
        "batchnorm",
        "f(v) = training-mode BN of v over every axis but the last, "
        f"gamma = {gamma.tolist()}, beta = {beta.tolist()}, eps = 1e-3",
        gamma=gamma,
        beta=beta,
    )
    x2 = (rng.normal(size=(6, 3)) * [0.5, 2.0, 4.0] + [1.0, -3.0, 5.0]).astype(np.float32)
    x3 = rng.normal(size=(4, 3)) * 0.7
    x4 = rng.normal(size=(2, 2, 3, 3)) * [1.0, 0.5, 2.0] + [0.5, -1.0, 3.0]
    x5 = np.round(rng.uniform(-2.0, 2.0, (2, 3)), 1)
    return [
        Case(
            "f = cube on a (3, 4) array, h=0.01",
            {"f": cube, "x": x1, "dout": np.round(rng.normal(size=(3, 4)), 2), "h": 0.01},
            "table",
        ),
        Case(
            "f = BN on a float32 (6, 3) batch, default h",
            {"f": bn, "x": x2, "dout": rng.normal(size=(6, 3)).astype(np.float32)},
            "table",
        ),
        Case(
            "f = tanh(v @ W) from a (4, 3) array to a (4, 2) one, h=0.01",
            {"f": layer, "x": x3, "dout": rng.normal(size=(4, 2)), "h": 0.01},
            "table",
        ),
        Case(
            # A step this large makes h visible: the central difference of v ** 3 is
            # 3 v ** 2 + h ** 2, so a function that ignores h is off by 0.25 everywhere.
            "f = cube on a (2, 3) array, h=0.5",
            {"f": cube, "x": x5, "dout": np.ones((2, 3)), "h": 0.5},
            "table",
        ),
        Case(
            "f = BN on (2, 2, 3, 3) feature maps, h=0.001",
            {"f": bn, "x": x4, "dout": rng.normal(size=(2, 2, 3, 3)), "h": 0.001},
            "conv",
        ),
    ]


_DEFAULT_H = 1e-5


def _step(args: dict, values: dict) -> float:
    """The step the variant moves by: the caller's h, or the default it should not keep."""
    return float(args.get("h", _DEFAULT_H)) if values.get("step") == "given" else _DEFAULT_H


def _losses(
    args: dict, dtype: str, weighted: bool, h: float, cache: dict
) -> tuple[np.ndarray, ...]:
    """Per element i: L(x + h e_i), L(x - h e_i), and L(x), perturbing in ``dtype``."""
    key = ("losses", dtype, weighted, h)
    if key in cache:
        return cache[key]
    f = args["f"]
    x = np.asarray(args["x"])
    point = np.array(x, dtype=np.float32 if dtype == "float32" else np.float64)
    if dtype == "keep":
        point = np.array(x, copy=True)
    dout = f64(args["dout"])

    def loss(at: np.ndarray) -> float:
        out = f(at)
        weights = dout if weighted else np.ones_like(out)
        return float(np.sum(weights * out))

    up, down = np.empty(point.size), np.empty(point.size)
    flat = point.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + point.dtype.type(h)
        up[i] = loss(point)
        flat[i] = old - point.dtype.type(h)
        down[i] = loss(point)
        flat[i] = old
    cache[key] = (up.reshape(x.shape), down.reshape(x.shape), loss(point))
    return cache[key]


def _numgrad(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    h = _step(args, values)
    if values["difference"] == "all-at-once":
        x, f = np.asarray(args["x"]), args["f"]  # moved in its own dtype, as learners do
        weights = f64(args["dout"]) if values["dout"] else 1.0
        change = f(x + h) - f(x - h)
        if change.shape != x.shape:
            return (np.full(x.shape, np.nan),)
        return (weights * change / (2 * h),)
    up, down, middle = _losses(args, values["precision"], values["dout"], h, cache)
    difference = values["difference"]
    if difference == "central":
        return ((up - down) / (2 * h),)
    if difference == "forward":
        return ((up - middle) / h,)
    if difference == "backward":
        return ((middle - down) / h,)
    if difference == "over-h":
        return ((up - down) / h,)
    return (up - down,)  # "no-division"


NUMGRAD = Family(
    choices_for=lambda args: (
        Choice(
            "difference",
            (
                Option("central"),
                Option("forward", "numgrad-one-sided"),
                Option("backward", "numgrad-one-sided"),
                Option("over-h", "numgrad-missing-half"),
                Option("no-division", "numgrad-missing-half"),
                Option("all-at-once", "numgrad-all-at-once"),
            ),
        ),
        Choice("dout", (Option(True), Option(False, "numgrad-ignores-dout"))),
        Choice("step", (Option("given"), Option("default", "numgrad-ignores-h"))),
        Choice(
            "precision",
            (
                Option("float64"),
                Option("keep", "numgrad-float32"),
                Option("float32", "numgrad-float32"),
            ),
        ),
    ),
    compute=_numgrad,
)


class _Recorder:
    """Stands in for ``f``: evaluates it and notes what each call's argument looked like."""

    def __init__(self, f: Callable[[Any], Any], x: Any, h: float) -> None:
        self.f, self.h = f, h
        self.start = np.array(x, dtype=np.float64, copy=True)
        self.calls = self.float32 = self.unmoved = self.one = self.many = self.reshaped = 0
        self.partial = 0  # calls that moved several elements, but not all of them
        self.steps: set[float] = set()

    def __call__(self, v: Any) -> Any:
        self.calls += 1
        seen = np.asarray(v)
        self.float32 += seen.dtype == np.float32
        if seen.shape != self.start.shape:
            self.reshaped += 1
        else:
            # A last-digit difference (x + h - h) is rounding, not a move.
            gap = np.abs(seen.astype(np.float64) - self.start)
            moved = np.flatnonzero(gap > 1e-12 * np.maximum(np.abs(self.start), 1e-300))
            if moved.size == 0:
                self.unmoved += 1
            elif moved.size == 1:
                self.one += 1
                delta = (seen.reshape(-1)[moved[0]] - self.start.reshape(-1)[moved[0]]) / self.h
                if len(self.steps) < 20:
                    self.steps.add(round(float(delta), 2))
            else:
                self.many += 1
                self.partial += moved.size < self.start.size
        return self.f(v)

    def summary(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "float32": int(self.float32),
            "unmoved": self.unmoved,
            "one": self.one,
            "many": self.many,
            "partial": int(self.partial),
            "reshaped": self.reshaped,
            "steps": sorted(self.steps),
        }


_META = "numerical_gradient calls"


def invoke_numerical_gradient(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What the check calls per case: the learner's function with a recording ``f``.

    Returns ``(learner's value, summary)``, the summary as UTF-8 JSON in a uint8 array (it
    survives the trip to the judge, in this process or from a sandboxed worker).
    """

    def run(*args: Any) -> tuple[Any, np.ndarray]:
        f, x = args[0], args[1]
        h = float(args[3]) if len(args) > 3 else _DEFAULT_H
        recorder = _Recorder(f, x, h)
        value = fn(recorder, *args[1:])
        summary = json.dumps({_META: recorder.summary()}).encode("utf-8")
        return value, np.frombuffer(summary, dtype=np.uint8).copy()

    run.__name__ = getattr(fn, "__name__", "numerical_gradient")
    return run


def _split(observation: Observation) -> tuple[Observation, dict[str, Any] | None]:
    """The learner's own value, and the recorder's summary when it came back."""
    returned = observation.returned
    if observation.status != "ok" or returned is None or returned.kind != "sequence":
        return observation, None
    if len(returned.items) != 2 or returned.items[1].dtype != "uint8":
        return observation, None
    try:
        data = json.loads(np.asarray(returned.items[1].array, dtype=np.uint8).tobytes())
    except ValueError:
        return observation, None
    if not isinstance(data, dict) or _META not in data:
        return observation, None
    return dataclasses.replace(observation, returned=returned.items[0]), data[_META]


def _from_calls(summaries: list[dict[str, Any]]) -> str | None:
    """The mistake the recorded calls show, when the numbers alone did not name one."""
    keys = ("float32", "unmoved", "one", "many", "partial")
    total = {key: sum(s.get(key, 0) for s in summaries) for key in keys}
    if total["partial"] > total["one"]:
        return "numgrad-not-restored"  # earlier elements still sit at x[j] +- h
    if total["many"] > total["one"]:
        return "numgrad-all-at-once"
    if total["float32"]:
        return "numgrad-float32"
    if total["one"] == 0 and total["unmoved"]:
        return "numgrad-perturbs-in-place"  # e.g. x_plus = x; x_minus = x: nothing moves
    steps = {step for s in summaries for step in s["steps"]}
    if total["unmoved"] and steps and (steps <= {1.0} or steps <= {-1.0}):
        return "numgrad-one-sided"
    return None


def judge_numerical_gradient(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """The standard judge on the returned gradients, then what the recorded calls show."""
    if untouched(observations):
        return not_attempted(exercise, cases)
    plain, summaries = [], []
    for observation in observations:
        value, summary = _split(observation)
        plain.append(value)
        if summary is not None:
            summaries.append(summary)
    result = judge(exercise, cases, plain)
    # The standard note assumes float32 is the contract; here float64 is.
    dtype_notes = [n for n in result.notes if "this course keep float32" in n]
    notes = [n for n in result.notes if n not in dtype_notes]
    returned = [o.returned for o in plain if o.status == "ok" and o.returned is not None]
    if any(r.kind == "array" and r.dtype == "float32" for r in returned):
        notes.append(
            f"{exercise.id} returns float32; the contract is float64, which keeps the digits "
            "a gradient check compares (accepted here: the values are what count)."
        )
    findings = [f for f in result.findings if not (f.kind == "note" and f.text in dtype_notes)]
    findings += [Finding("note", n) for n in notes if n not in result.notes]
    diagnoses = [
        "numgrad-perturbs-in-place" if d == "mutates-input" else d for d in result.diagnoses
    ]
    if not result.passed and not diagnoses and summaries:
        found = _from_calls(summaries)
        if found:
            diagnoses.append(found)
    if diagnoses != result.diagnoses:
        kept = [
            f
            for f in findings
            if f.kind != "mistake" and not f.text.startswith("No common mistake")
        ]
        named = [mistake(exercise, d) for d in dict.fromkeys(diagnoses)]
        findings = named + kept
    return dataclasses.replace(
        result,
        diagnoses=list(dict.fromkeys(diagnoses)),
        diagnosis=None,
        notes=notes,
        findings=findings,
        feedback="",
        failing=None if diagnoses else result.failing,
    )


def judge_node(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """The standard judge, without its float32 note: a node's gradient may be float64."""
    result = judge(exercise, cases, observations)
    drop = [n for n in result.notes if "this course keep float32" in n]
    if not drop:
        return result
    return dataclasses.replace(
        result,
        notes=[n for n in result.notes if n not in drop],
        findings=[f for f in result.findings if not (f.kind == "note" and f.text in drop)],
        feedback="",
    )


# ---------------------------------------------------------------------------
# Wording where a catalogue entry's general text would not fit a backward node.
# ---------------------------------------------------------------------------

_NODE_WORDING = {
    "ignores-given-stats": Diagnosis(
        "ignores-given-stats",
        "recomputes mu or var instead of using the ones passed in",
        "A node's backward function is the local derivative at the values it is handed, "
        "whatever produced them. Yours computes its own statistics from x, so it is wrong "
        "whenever the two differ, and the check passes a mu and var that are not x's own.",
        "Use the mu and var arguments as they are.",
    ),
    "std-for-var": Diagnosis(
        "std-for-var",
        "divides by var + eps where the graph has its square root",
        "x_hat divides by the standard deviation sqrt(var + eps), so its local derivatives "
        "do too. Yours uses var + eps in its place.",
        "Which quantity does x_hat divide by in the forward pass?",
    ),
    "wrong-axis": Diagnosis(
        "wrong-axis",
        "sums over the wrong axes",
        "A backward pass sums over the same values the forward statistics averaged: every "
        "axis but the last, so that one number per feature comes out.",
        "Sum over every axis but the last (for feature maps: batch, height and width).",
    ),
}


# ---------------------------------------------------------------------------
# The exercises and their hint ladders.
# ---------------------------------------------------------------------------

EXERCISES = [
    Exercise(
        "bn_dx_hat",
        LESSON,
        "bn_dx_hat(dout, gamma)",
        ("dx_hat",),
        _dx_hat_cases,
        DX_HAT,
        custom_judge=judge_node,
        hints=(
            "y_i = gamma * x_hat_i + beta. If x_hat_i grows by a small amount d, by how much "
            "does y_i grow? Does x_hat_i feed any other output?",
            "The chain rule along one edge: dx_hat_i = dy_i * (dy_i / dx_hat_i). Each x_hat_i "
            "feeds only its own y_i, so nothing is summed; the local derivative is gamma, one "
            "value per feature.",
            "One expression: dout times gamma. gamma has shape (C,) and broadcasts over every "
            "axis of dout but the last. Build a new array (no *=).",
        ),
    ),
    Exercise(
        "bn_dvar",
        LESSON,
        "bn_dvar(dx_hat, x, mu, var, eps=1e-3)",
        ("dvar",),
        _node_cases(("dx_hat", "x", "mu", "var")),
        DVAR,
        custom_judge=judge_node,
        wording=_NODE_WORDING,
        hints=(
            "var enters every x_hat_i of its feature, and nothing else. How does "
            "x_hat_i = (x_i - mu) / sqrt(var + eps) change when var changes and x_i and mu "
            "stay put?",
            "dvar = sum over i of dx_hat_i * d(x_hat_i)/d(var). Write x_hat_i as "
            "(x_i - mu) * (var + eps) ** (-1/2) and use the power rule: the derivative of "
            "v ** (-1/2) is -1/2 * v ** (-3/2). The sum runs over every axis but the last.",
            "axes = tuple(range(x.ndim - 1)); multiply dx_hat by (x - mu), sum over axes, then "
            "multiply by -0.5 * (var + eps) ** -1.5. Use the mu and var you were given.",
        ),
    ),
    Exercise(
        "bn_dmu",
        LESSON,
        "bn_dmu(dx_hat, dvar, x, mu, var, eps=1e-3)",
        ("dmu",),
        _node_cases(("dx_hat", "dvar", "x", "mu", "var")),
        DMU,
        custom_judge=judge_node,
        wording=_NODE_WORDING,
        hints=(
            "Follow the arrows out of mu in the graph. Which nodes does mu enter, and does "
            "one of them also lead to x_hat?",
            "Two terms. Through every x_hat_i directly: d(x_hat_i)/d(mu) = -1 / sqrt(var + "
            "eps). Through var = (1/m) * sum((x_i - mu)**2): d(var)/d(mu) = -(2/m) * "
            "sum(x_i - mu), times dvar. m is the number of values per feature. The second "
            "term is 0 only when mu is exactly x's mean; the node must not assume that.",
            "With axes = tuple(range(x.ndim - 1)) and m = x.size // x.shape[-1]: minus the sum "
            "over axes of dx_hat divided by np.sqrt(var + eps), plus dvar * (-2 / m) times the "
            "sum over axes of (x - mu).",
        ),
    ),
    Exercise(
        "bn_dx",
        LESSON,
        "bn_dx(dx_hat, dvar, dmu, x, mu, var, eps=1e-3)",
        ("dx",),
        _node_cases(("dx_hat", "dvar", "dmu", "x", "mu", "var")),
        DX,
        custom_judge=judge_node,
        wording=_NODE_WORDING,
        hints=(
            "x_i enters three nodes: its own x_hat_i, mu and var. What is the local derivative "
            "of each of them with respect to x_i?",
            "dx_i = dx_hat_i * d(x_hat_i)/d(x_i) + dvar * d(var)/d(x_i) + dmu * d(mu)/d(x_i), "
            "with d(x_hat_i)/d(x_i) = 1 / sqrt(var + eps) (mu and var held fixed: their own "
            "paths come next), d(var)/d(x_i) = 2 * (x_i - mu) / m and d(mu)/d(x_i) = 1/m. "
            "Nothing is summed here: dvar and dmu are already totals.",
            "m = x.size // x.shape[-1]; then dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) "
            "/ m + dmu / m. The (C,) arrays broadcast over the batch.",
        ),
    ),
    Exercise(
        "batchnorm_backward",
        LESSON,
        "batchnorm_backward(dout, x, gamma, eps=1e-3)",
        ("dx", "dgamma", "dbeta"),
        _backward_cases,
        BACKWARD,
        hints=(
            "Which values do your node functions need, which of them can you recompute from x, "
            "and in which order must the nodes run?",
            "Plan: in float64, compute mu and the biased var over every axis but the last, then "
            "x_hat. dbeta and dgamma as in section 2. Then dx_hat, dvar, dmu and dx with your "
            "four node functions, in that order. Return float32.",
            "x64 = np.asarray(x, dtype=np.float64); axes = tuple(range(x.ndim - 1)); "
            "mu = x64.mean(axis=axes); var = x64.var(axis=axes); dx_hat = bn_dx_hat(dout, gamma); "
            "dvar = bn_dvar(dx_hat, x64, mu, var, eps); then dmu, dx; "
            "return tuple(a.astype(np.float32) for a in (dx, dgamma, dbeta)).",
        ),
    ),
    Exercise(
        "batchnorm_backward_compact",
        LESSON,
        "batchnorm_backward_compact(dout, x, gamma, eps=1e-3)",
        ("dx", "dgamma", "dbeta"),
        _backward_cases,
        BACKWARD,
        max_score=0.0,  # optional: checked, worth no points
        hints=(
            "Start from your bn_dx and write x_i - mu as s * x_hat_i, with s = sqrt(var + eps). "
            "What do the variance path and the mean path become once you substitute your dvar "
            "and dmu (in a real forward pass, sum(x_i - mu) = 0)?",
            "dx_hat_j = gamma * dy_j. dvar = -1/2 * s**-3 * sum_j dx_hat_j * s * x_hat_j = "
            "-gamma / (2 * s**2) * sum_j dy_j * x_hat_j, so the variance path, "
            "dvar * 2 * s * x_hat_i / m, is -gamma / (m * s) * x_hat_i * sum_j dy_j * x_hat_j. "
            "dmu = -gamma / s * sum_j dy_j, so the mean path dmu / m is "
            "-gamma / (m * s) * sum_j dy_j. The direct path is gamma * dy_i / s.",
            "Factor out gamma / (m * s): dx_i = gamma / (m * s) * (m * dy_i - sum_j dy_j - "
            "x_hat_i * sum_j dy_j * x_hat_j). The two sums are dbeta and dgamma. In NumPy: "
            "gamma / (m * s) * (m * dout - dbeta - x_hat * dgamma).",
        ),
    ),
    Exercise(
        "numerical_gradient",
        LESSON,
        "numerical_gradient(f, x, dout, h=1e-5)",
        ("grad",),
        _numgrad_cases,
        NUMGRAD,
        custom_judge=judge_numerical_gradient,
        custom_invoke=invoke_numerical_gradient,
        hints=(
            "The derivative is a limit of slopes: how much does L = sum(dout * f(x)) change "
            "when one element of x moves a little? Why is a step up and a step down better "
            "than a step up only?",
            "Plan: make a float64 copy of x. For each index i (np.ndindex(x.shape) walks any "
            "shape): set element i to its value + h and compute L; set it to its value - h and "
            "compute L; put the original value back; grad[i] = (L_plus - L_minus) / (2 * h).",
            "xp = np.array(x, dtype=np.float64); grad = np.zeros_like(xp); for i in "
            "np.ndindex(xp.shape): old = xp[i]; xp[i] = old + h; up = np.sum(dout * f(xp)); "
            "xp[i] = old - h; down = ...; xp[i] = old; grad[i] = (up - down) / (2 * h).",
        ),
    ),
]
