"""Lesson 02 (why normalize activations): ``saturated_fraction`` and ``layer_spread``, the
statistics behind the lesson's "% saturated" and "output std" diagnostics, and
``smoothness_along_gradient``, the gradient's change per unit of distance along -g
(section 8; its cases and family are at the end of this module).

The learner gets the tanh outputs of a deep network's hidden layers stacked into one array
of shape (layers, batch, units) and a threshold, and returns one number per layer: the
fraction of that layer's outputs (every sample, every unit) whose magnitude is strictly
above the threshold. Test inputs have distinct sizes on every axis (axis mix-ups cannot
hide); thresholds that float32 holds exactly, with outputs sitting exactly on them (``>=``
shows); no output equal to a threshold a learner might hard-code, such as 0.97 (float32 and
float64 comparisons agree); units saturated for some samples and not others (deciding per
unit shows); a layer with nothing saturated, one almost all saturated, and a batch of one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.families import Choice, Family, Option, f64
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES", "GradientFunction", "saturation_cases", "smoothness_cases", "spread_cases"]

_L2 = "02_why_normalize_activations"


def _stack(rng: np.random.Generator, spreads: list[float], batch: int, units: int) -> np.ndarray:
    """tanh outputs, one layer per spread (pre-activations drawn with that spread)."""
    z = rng.normal(size=(len(spreads), batch, units)) * np.asarray(spreads)[:, None, None]
    return np.tanh(z).astype(np.float32)


def saturation_cases(rng: np.random.Generator) -> list[Case]:
    """The test inputs of ``saturated_fraction`` (thresholds float32 holds exactly)."""
    hand = np.array(
        [
            [[0.1, 0.75, -0.92], [-0.2, -0.75, 0.5], [0.995, 0.3, -0.8], [0.0, -0.4, 0.6]],
            [[0.995, 0.2, -0.1], [-0.98, 0.76, 0.3], [0.985, -0.5, 0.0], [-0.999, 0.1, -0.2]],
        ],
        dtype=np.float32,
    )
    mixed = _stack(rng, [0.5, 2.0, 4.0], batch=5, units=4)
    mixed[1, :, 2] = [0.875, -0.875, 0.5, 0.995, -0.1]  # exactly on the threshold, twice
    dead = _stack(rng, [1.0, 3.0, 6.0, 0.3], batch=6, units=7)
    dead[2, :, 3] = np.sign(rng.normal(size=6)) * 0.999  # one unit saturated on every sample
    extremes = _stack(rng, [2.0, 0.0, 1.0, 50.0, 1.5], batch=8, units=6)
    extremes[4, 0, :] = [0.5, -0.5, 0.5, -0.25, 0.75, -0.5]  # on the threshold
    extremes[4, 1:, :] = np.where(extremes[4, 1:, :] > 0, 1.0, -1.0)  # everything saturated
    return [
        Case(
            "a (2, 4, 3) stack (2 layers, 4 samples, 3 units), threshold 0.75",
            {"outputs": hand, "threshold": 0.75},
            "stack",
        ),
        Case(
            "a (3, 5, 4) stack, threshold 0.875, two outputs exactly at +-0.875",
            {"outputs": mixed, "threshold": 0.875},
            "stack",
        ),
        Case(
            "a (4, 6, 7) stack, threshold 0.96875, one unit saturated on every sample",
            {"outputs": dead, "threshold": 0.96875},
            "stack",
        ),
        Case(
            "a (5, 8, 6) stack, threshold 0.5: layer 2 all zeros, layer 5 almost all saturated",
            {"outputs": extremes, "threshold": 0.5},
            "stack",
        ),
        Case(
            "a (3, 1, 5) stack (a batch of one), threshold 0.9375",
            {"outputs": _stack(rng, [0.5, 2.0, 5.0], batch=1, units=5), "threshold": 0.9375},
            "stack",
        ),
    ]


def _saturation(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple[np.ndarray]:
    a = f64(args["outputs"])
    threshold = float(args["threshold"]) if values["threshold"] is None else values["threshold"]
    side = values["side"]
    magnitude = np.abs(a) if side == "both" else (a if side == "positive" else -a)
    above = magnitude >= threshold if values["compare"] == ">=" else magnitude > threshold
    decision = values["decision"]
    if decision == "all-samples":  # a unit counts only when saturated on every sample
        return (above.all(axis=1).mean(axis=1),)
    if decision == "mean-magnitude":  # a unit counts when its average magnitude is above
        mean_magnitude = magnitude.mean(axis=1)
        above_mean = (
            mean_magnitude >= threshold
            if values["compare"] == ">="
            else (mean_magnitude > threshold)
        )
        return (above_mean.mean(axis=1),)
    axes = values["axes"]
    if axes == "reshape(-1, layers)":  # flattened with the layers in the wrong place
        flat = above.reshape(-1, a.shape[0])
        counted, total = flat.sum(axis=0), flat.shape[0]
    else:
        counted = above.sum(axis=axes)
        total = int(np.prod([a.shape[axis] for axis in axes]))
    scale = values["scale"]
    if scale == "count":
        return (f64(counted),)
    if scale in ("count/units", "count/batch"):  # divided by one axis's size only
        return (f64(counted / a.shape[2 if scale == "count/units" else 1]),)
    fraction = counted / total
    return (f64(100.0 * fraction if scale == "percent" else fraction),)


SATURATION = Family(
    choices_for=lambda args: (
        Choice(
            "side",
            (
                Option("both"),
                Option("positive", "saturation-one-sided"),
                Option("negative", "saturation-one-sided"),
            ),
        ),
        Choice(
            "decision",
            (
                Option("entry"),
                Option("all-samples", "saturation-per-unit-decision"),
                Option("mean-magnitude", "saturation-per-unit-decision"),
            ),
        ),
        Choice(
            "axes",
            (
                Option((1, 2)),
                Option((1,), "layer-stat-wrong-axes"),
                Option((2,), "layer-stat-wrong-axes"),
                Option((0,), "layer-stat-wrong-axes"),
                Option((0, 1), "layer-stat-wrong-axes"),
                Option((0, 1, 2), "layer-stat-wrong-axes"),
                Option("reshape(-1, layers)", "layer-stat-wrong-axes"),
            ),
        ),
        Choice("compare", (Option(">"), Option(">=", "saturation-at-threshold"))),
        Choice(
            "threshold",
            (
                Option(None),
                Option(0.97, "saturation-ignores-threshold"),
                Option(0.975, "saturation-ignores-threshold"),
                Option(0.99, "saturation-ignores-threshold"),
                Option(0.95, "saturation-ignores-threshold"),
                Option(0.9, "saturation-ignores-threshold"),
            ),
        ),
        Choice(
            "scale",
            (
                Option("fraction"),
                Option("percent", "saturation-not-a-fraction"),
                Option("count", "saturation-not-a-fraction"),
                Option("count/units", "saturation-not-a-fraction"),
                Option("count/batch", "saturation-not-a-fraction"),
            ),
        ),
    ),
    compute=_saturation,
)


SATURATION_HINTS = (
    "Take one layer of the stack. Which of its numbers count as saturated: does the sign of "
    "an output matter, and what happens to an output exactly equal to the threshold? Then: "
    "out of how many numbers is that a fraction?",
    "Per layer: mark every output (every sample, every unit) whose magnitude is strictly "
    "greater than the threshold, then average those marks (True = 1, False = 0) over the "
    "sample and unit axes, axes 1 and 2, so that one fraction per layer is left.",
    "saturated = np.abs(outputs) > threshold gives a (layers, batch, units) array of "
    "booleans; its mean over axis=(1, 2) is the answer; finish with .astype(np.float32).",
)


def spread_cases(rng: np.random.Generator) -> list[Case]:
    """The test inputs of ``layer_spread``: tanh, ReLU and sigmoid outputs, whose units have
    different means (averaging per-unit spreads shows), a constant layer, a batch of one."""
    hand = np.array(
        [
            [[0.0, 2.0, 1.0], [1.0, 4.0, 1.0], [0.0, 3.0, 2.0], [1.0, 3.0, 0.0]],
            [[0.5, -0.5, 0.9], [0.5, -0.5, -0.9], [0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]],
        ],
        dtype=np.float32,
    )
    relu = np.maximum(rng.normal(size=(3, 5, 4)) + rng.uniform(-1.0, 2.0, (3, 1, 4)), 0.0)
    sigmoid = 1.0 / (1.0 + np.exp(-3.0 * rng.normal(size=(4, 6, 7)) - rng.normal(size=(4, 1, 7))))
    sigmoid[2] = 0.5  # a layer whose outputs are all the same
    return [
        Case("a (2, 4, 3) stack (2 layers, 4 samples, 3 units)", {"outputs": hand}, "stack"),
        Case(
            "a (3, 5, 4) stack of ReLU outputs, units with different means",
            {"outputs": relu.astype(np.float32)},
            "stack",
        ),
        Case(
            "a (4, 6, 7) stack of sigmoid outputs, layer 3 constant",
            {"outputs": sigmoid.astype(np.float32)},
            "stack",
        ),
        Case(
            "a (5, 8, 6) stack of tanh outputs",
            {"outputs": _stack(rng, [0.3, 1.0, 2.0, 5.0, 0.1], batch=8, units=6)},
            "stack",
        ),
        Case(
            "a (3, 1, 5) stack (a batch of one)",
            {"outputs": _stack(rng, [0.5, 2.0, 5.0], batch=1, units=5)},
            "stack",
        ),
    ]


def _spread(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple[np.ndarray]:
    a = f64(args["outputs"])
    ddof, centered, root = values["ddof"], values["centering"], values["root"]

    def spread(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        mean = data.mean(axis=axes, keepdims=True) if centered else 0.0
        count = int(np.prod([data.shape[axis] for axis in axes]))
        with np.errstate(divide="ignore", invalid="ignore"):
            var = ((data - mean) ** 2).sum(axis=axes) / (count - ddof)
        return np.sqrt(var) if root else var

    pooling = values["pooling"]
    if pooling == "mean-of-unit-spreads":
        return (spread(a, (1,)).mean(axis=1),)
    if pooling == "mean-of-sample-spreads":
        return (spread(a, (2,)).mean(axis=1),)
    axes = values["axes"]
    if axes == "reshape(-1, layers)":
        return (spread(a.reshape(-1, a.shape[0]), (0,)),)
    return (spread(a, axes),)


_AXES = Choice(
    "axes",
    (
        Option((1, 2)),
        Option((1,), "layer-stat-wrong-axes"),
        Option((2,), "layer-stat-wrong-axes"),
        Option((0,), "layer-stat-wrong-axes"),
        Option((0, 1), "layer-stat-wrong-axes"),
        Option((0, 1, 2), "layer-stat-wrong-axes"),
        Option("reshape(-1, layers)", "layer-stat-wrong-axes"),
    ),
)

SPREAD = Family(
    choices_for=lambda args: (
        Choice(
            "pooling",
            (
                Option("pooled"),
                Option("mean-of-unit-spreads", "spread-averages-unit-spreads"),
                Option("mean-of-sample-spreads", "spread-averages-unit-spreads"),
            ),
        ),
        _AXES,
        Choice("ddof", (Option(0), Option(1, "unbiased-variance"))),
        Choice("centering", (Option(True), Option(False, "spread-not-centered"))),
        Choice("root", (Option(True), Option(False, "spread-is-variance"))),
    ),
    compute=_spread,
)

SPREAD_WORDING = {
    "unbiased-variance": Diagnosis(
        "unbiased-variance",
        "the spread divides by m - 1",
        "The lesson's spread is the population standard deviation of the layer's outputs: "
        "the squared deviations are averaged over all m = batch x units outputs, dividing by "
        "m (NumPy's default ddof=0), not by m - 1.",
        "np.std divides by m unless you pass ddof=1; so does a mean of squared deviations.",
    ),
}

SPREAD_HINTS = (
    "If you poured all of one layer's outputs, every sample and every unit, into one bag of "
    "numbers, how far from their own average do they typically lie? Which axes does that "
    "bag cover?",
    "Per layer: take the mean of all batch x units outputs, the mean of the squared "
    "deviations from it (divide by their number), and the square root. That is the "
    "standard deviation over axes 1 and 2 together, not an average of per-unit spreads.",
    "np.std(outputs, axis=(1, 2)) computes it in one call (ddof=0 is the default); cast "
    "with .astype(np.float32) at the end.",
)


EXERCISES = [
    Exercise(
        "saturated_fraction",
        _L2,
        "saturated_fraction(outputs, threshold)",
        ("fractions",),
        saturation_cases,
        SATURATION,
        hints=SATURATION_HINTS,
    ),
    Exercise(
        "layer_spread",
        _L2,
        "layer_spread(outputs)",
        ("spreads",),
        spread_cases,
        SPREAD,
        wording=SPREAD_WORDING,
        hints=SPREAD_HINTS,
    ),
]


# ---------------------------------------------------------------------------
# smoothness_along_gradient: how much the gradient changes per unit of distance moved
# down it (lesson 02, section 8; Santurkar et al., 2018, Section 3.1).
# ---------------------------------------------------------------------------


class GradientFunction:
    """The gradient of a small test loss, shown to the learner by its formula.

    Calls compute in float64 whatever dtype they are given and return a new array, so the
    only rounding in a learner's answer is their own.
    """

    def __init__(self, name: str, formula: str, **params: np.ndarray) -> None:
        self.name, self.formula, self.params = name, formula, params

    def __call__(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if self.name == "quadratic":  # L = v @ A @ v / 2
            return self.params["A"] @ v
        if self.name == "quartic":  # L = sum(v**4) / 4 + sum(v**2) / 2
            return v**3 + v
        if self.name == "logcosh":  # L = sum(log(cosh(w * v)))
            w = self.params["w"]
            return w * np.tanh(w * v)
        # "softmax": mean cross-entropy of a linear classifier, weights v as (features, classes)
        x, labels = self.params["x"], self.params["labels"]
        weights = v.reshape(x.shape[1], -1)
        logits = x @ weights
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        probs[np.arange(len(labels)), labels.astype(int)] -= 1.0
        return (x.T @ probs / len(labels)).ravel()

    def __repr__(self) -> str:
        return self.formula


def smoothness_cases(rng: np.random.Generator) -> list[Case]:
    """The test inputs of ``smoothness_along_gradient``: a quadratic whose answer is known in
    closed form, losses whose curvature changes along the way (so the direction of the step,
    where it starts and how its length is measured all show), step sizes out of order, a
    single step size, float32 parameters."""
    a = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    quadratic = GradientFunction("quadratic", f"grad(v) = A @ v, A = {a.tolist()}", A=a)
    quartic = GradientFunction("quartic", "grad(v) = v**3 + v (loss sum(v**4)/4 + sum(v**2)/2)")
    w = np.round(rng.uniform(0.5, 2.5, size=5), 2)
    logcosh = GradientFunction("logcosh", f"grad(v) = w * tanh(w * v), w = {w.tolist()}", w=w)
    x = np.round(rng.normal(size=(8, 3)), 2)
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    softmax = GradientFunction(
        "softmax",
        "grad(v) = gradient of the mean cross-entropy of softmax(x @ v.reshape(3, 4)) on a "
        "fixed batch of 8 examples",
        x=x,
        labels=labels,
    )
    return [
        Case(
            "the quadratic grad(v) = A @ v at v = [1, -2, 0.5], step sizes [0.1, 0.2, 0.4]",
            {
                "grad_fn": quadratic,
                "params": np.array([1.0, -2.0, 0.5]),
                "step_sizes": np.array([0.1, 0.2, 0.4]),
            },
            "table",
        ),
        Case(
            "grad(v) = v**3 + v at a 4-vector, step sizes [0.05, 0.2]",
            {
                "grad_fn": quartic,
                "params": np.array([0.8, -0.3, 1.2, -1.0]),
                "step_sizes": np.array([0.05, 0.2]),
            },
            "table",
        ),
        Case(
            "grad(v) = w * tanh(w * v) at a 5-vector, step sizes out of order [1.0, 0.1, 0.5]",
            {
                "grad_fn": logcosh,
                "params": np.round(rng.normal(size=5), 2),
                "step_sizes": np.array([1.0, 0.1, 0.5]),
            },
            "table",
        ),
        Case(
            "a linear softmax classifier's 12 weights on a fixed batch, step sizes "
            "[0.3, 1.0, 3.0, 10.0]",
            {
                "grad_fn": softmax,
                "params": np.round(rng.normal(size=12) * 0.5, 2),
                "step_sizes": np.array([0.3, 1.0, 3.0, 10.0]),
            },
            "table",
        ),
        Case(
            "grad(v) = v**3 + v at float32 params, a single step size [0.25]",
            {
                "grad_fn": quartic,
                "params": np.array([1.5, -0.5, 0.25], dtype=np.float32),
                "step_sizes": np.array([0.25]),
            },
            "table",
        ),
    ]


def _smoothness(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple[np.ndarray]:
    grad_fn = args["grad_fn"]
    theta = f64(args["params"])
    etas = f64(args["step_sizes"])
    if "g" not in cache:
        cache["g"] = grad_fn(theta)
    g = cache["g"]
    sign = -1.0 if values["direction"] == "down" else 1.0
    travelled = np.cumsum(etas) if values["start"] == "last-point" else etas
    out = np.empty(len(etas))
    for index, (eta, far) in enumerate(zip(etas, travelled, strict=True)):
        key = (values["direction"], float(far))
        if key not in cache:
            cache[key] = grad_fn(theta + sign * far * g)
        moved = cache[key]
        if values["change"] == "difference-of-norms":
            change = abs(np.linalg.norm(moved) - np.linalg.norm(g))
        else:
            change = np.linalg.norm(moved - g)
        distance = {
            "step-length": eta * np.linalg.norm(g),
            "eta": eta,
            "gradient": np.linalg.norm(g),
            "none": 1.0,
        }[values["distance"]]
        if values["length"] == "squared":  # the change's square root left out
            change = change**2
        elif values["length"] == "squared-both":  # both square roots left out
            change, distance = change**2, distance**2
        out[index] = change / distance
    return (out,)


SMOOTHNESS = Family(
    choices_for=lambda args: (
        Choice("direction", (Option("down"), Option("up", "smoothness-steps-uphill"))),
        Choice("start", (Option("params"), Option("last-point", "smoothness-steps-accumulate"))),
        Choice(
            "change",
            (
                Option("norm-of-difference"),
                Option("difference-of-norms", "smoothness-difference-of-norms"),
            ),
        ),
        Choice(
            "length",
            (
                Option("norm"),
                Option("squared", "smoothness-squared-length"),
                Option("squared-both", "smoothness-squared-length"),
            ),
        ),
        Choice(
            "distance",
            (
                Option("step-length"),
                Option("none", "smoothness-not-per-distance"),
                Option("eta", "smoothness-wrong-distance"),
                Option("gradient", "smoothness-wrong-distance"),
            ),
        ),
    ),
    compute=_smoothness,
)

SMOOTHNESS_HINTS = (
    "Where does a step of size eta down the gradient take the parameters, and how far from "
    "params is that point, measured as a length? Does every step size start from params?",
    "Plan: g = grad_fn(params). For each eta: the moved point is params - eta * g (a new "
    "array); the change is the Euclidean length of grad_fn(moved) - g; the distance moved "
    "is the length of eta * g; the answer for that eta is change / distance.",
    "g = grad_fn(params); for each eta in step_sizes: moved = params - eta * g; "
    "change = np.linalg.norm(grad_fn(moved) - g); ratios.append(change / "
    "np.linalg.norm(eta * g)); return np.array(ratios, dtype=np.float32).",
)

EXERCISES.append(
    Exercise(
        "smoothness_along_gradient",
        _L2,
        "smoothness_along_gradient(grad_fn, params, step_sizes)",
        ("ratios",),
        smoothness_cases,
        SMOOTHNESS,
        hints=SMOOTHNESS_HINTS,
    )
)
