"""Lesson 04 (training vs. inference): ``update_moving_stats``, ``batchnorm_inference`` and
the ``BatchNorm`` layer class.

The two functions are array exercises with families of mistakes, like the others. The
layer is checked by its behaviour over a scripted sequence of calls, in two halves (see
``Exercise.custom_invoke`` and ``Exercise.custom_judge``):

* ``invoke_layer`` runs on the learner's side. It builds the learner's class, plays each
  case's script (assign gamma and beta, call the layer with ``training=True``, ``False`` or
  without the argument) and reduces what it sees to data: the attributes right after
  construction, then every call's output and the moving statistics after it, and whether
  the call changed its input. Errors are recorded with the step they happened at.
* ``judge_layer`` compares those records with a float64 simulation of a correct layer
  (``simulate_layer``), names contract problems directly (signature, attribute names,
  initial values) and, when the behaviour is wrong, searches ``LAYER``'s family of
  mistakes (statistics at inference, reversed momentum, frozen statistics, ...) for the
  one that explains every recorded number. When none does, it shows the shortest failing
  script: the calls up to the first wrong one.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.grading.catalogue import DIAGNOSES, Diagnosis
from bncourse.grading.execution import (
    Observation,
    Returned,
    array_from_json,
    error_text,
    value_as_json,
)
from bncourse.grading.families import (
    AFFINE_CHOICE,
    CENTERING_CHOICE,
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    apply_affine,
    combinations,
    denominator,
    diagnoses_of,
    eps_choice,
    f64,
    moments,
    values_of,
)
from bncourse.grading.inputs import (
    affine_params,
    features,
)
from bncourse.grading.judge import close, not_attempted, untouched
from bncourse.grading.result import CaseReport, CheckResult, FailingCase, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "EXERCISES",
    "LAYER",
    "invoke_layer",
    "judge_layer",
    "simulate_layer",
    "encode_record",
    "decode_record",
]

_L4 = "04_training_vs_inference"


# ---------------------------------------------------------------------------
# update_moving_stats
# ---------------------------------------------------------------------------


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
    convention = values["convention"]
    reversed_for = {  # which statistics use PyTorch's rule with Keras's number
        "keras": (),
        "pytorch": ("moving_mean", "moving_var"),
        "pytorch mean": ("moving_mean",),
        "pytorch var": ("moving_var",),
    }[convention]
    pairs = (("moving_mean", "batch_mean"), ("moving_var", "batch_var"))
    return tuple(
        m * f64(args[new]) + (1 - m) * f64(args[old])
        if old in reversed_for
        else m * f64(args[old]) + (1 - m) * f64(args[new])
        for old, new in pairs
    )


MOVING = Family(
    choices_for=lambda args: (
        Choice(
            "convention",
            (
                Option("keras"),
                Option("pytorch", "momentum-reversed"),
                Option("pytorch mean", "momentum-reversed"),  # reversed for one statistic
                Option("pytorch var", "momentum-reversed"),
            ),
        ),
        _momentum_choice(args),
    ),
    compute=_moving,
)

_MOVING_WORDING = {
    "ignores-momentum-argument": Diagnosis(
        "ignores-momentum-argument",
        "ignores the momentum argument",
        "On the test called with momentum=0.9, your update gave what momentum=0.99 gives: "
        "it uses a fixed momentum instead of the one it is passed, so a layer built with "
        "another momentum would average the wrong way.",
        "Use the momentum parameter rather than a number written into the code.",
    ),
    "momentum-reversed": Diagnosis(
        "momentum-reversed",
        "the momentum weights the new batch instead of the old average",
        "With Keras's momentum 0.99, one update should move each moving value 1% of the way "
        "towards the batch's; yours moved it 99% of the way. Keras's momentum is the weight "
        "of the OLD moving value; PyTorch's momentum (default 0.1) is the weight of the NEW "
        "batch. PyTorch's convention with Keras's number makes the 'moving average' follow "
        "each batch almost exactly.",
        "Which of the two values you combine should momentum multiply?",
    ),
}

_MOVING_HINTS = (
    "Keras's momentum is the weight of one of the two values you combine: the old moving "
    "value or the new batch statistic? With momentum=0.99, how far should one update move "
    "the moving mean towards the batch mean?",
    "Each new moving value is a weighted average: the old value weighted by momentum, the "
    "batch statistic by (1 - momentum). So new_mean = momentum * moving_mean + "
    "(1 - momentum) * batch_mean, and the variance is updated the same way with the "
    "variances.",
    "new_mean = momentum * moving_mean + (1 - momentum) * ...\n"
    "new_var = ...  # the same with moving_var and batch_var\n"
    "return new_mean, new_var  # new arrays: no *= or += on the arguments",
)


# ---------------------------------------------------------------------------
# batchnorm_inference
# ---------------------------------------------------------------------------


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

_INFERENCE_WORDING = {
    "batch-stats-at-inference": Diagnosis(
        "batch-stats-at-inference",
        "inference uses the batch's own statistics",
        "On the single sample, shape (1, 5), your function returned beta whatever the "
        "input: it normalized x with x's own mean and variance. At inference BN must not "
        "depend on the other samples in the batch; it uses the moving mean and variance "
        "accumulated during training, so a batch of one gets a real answer.",
        "Which of the function's arguments does training-mode BN not have?",
    ),
    "mixes-moving-and-batch-stats": Diagnosis(
        "mixes-moving-and-batch-stats",
        "inference mixes moving and batch statistics",
        "Your outputs match one moving statistic combined with one computed from x, so the "
        "single sample, shape (1, 5), still gets an answer that depends on its batch. At "
        "inference BN uses the moving mean and the moving variance together.",
        "Both the mean and the variance should come from the function's moving_* arguments.",
    ),
}

_INFERENCE_HINTS = (
    "Lesson 03's normalize and scale-and-shift steps still apply. Now that every sample "
    "must get the same answer in any batch, what replaces the batch's mean and variance?",
    "x_hat = (x - moving_mean) / sqrt(moving_var + eps), then y = gamma * x_hat + beta. "
    "The (C,) arrays broadcast along the last axis, so 2-D and 4-D x work alike, and no "
    "statistic of x itself is computed.",
    "x_hat = (x - moving_mean) / np.sqrt(... + eps)\nreturn gamma * x_hat + ...",
)


# ---------------------------------------------------------------------------
# The BatchNorm layer: the learner's side.
# ---------------------------------------------------------------------------

ATTRIBUTES = ("gamma", "beta", "moving_mean", "moving_var")
KERAS_INITIAL = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_var": 1.0}
DEFAULT_MOMENTUM = 0.99
DEFAULT_EPSILON = 1e-3


def encode_record(record: dict[str, Any]) -> np.ndarray:
    """The record as UTF-8 JSON bytes in a uint8 array, a form ``describe_output`` keeps."""
    return np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8).copy()


def decode_record(returned: Returned | None) -> dict[str, Any] | None:
    """The record back from the uint8 transport (None if it is not one)."""
    if returned is None or returned.kind != "array" or returned.dtype != "uint8":
        return None
    try:
        data = json.loads(np.asarray(returned.array, dtype=np.uint8).tobytes())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _parameters(function: Any) -> list[list[Any]] | None:
    """[name, default or None, has a default] for each parameter after self."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    result = []
    for parameter in list(signature.parameters.values()):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            result.append(
                [
                    ("*" if parameter.kind == parameter.VAR_POSITIONAL else "**") + parameter.name,
                    None,
                    False,
                ]
            )
            continue
        has_default = parameter.default is not parameter.empty
        default = parameter.default if has_default else None
        if not isinstance(default, (bool, int, float, type(None))):
            default = repr(default)
        result.append([parameter.name, default, has_default])
    return result


def _call_text(training: bool | None) -> str:
    return "layer(x)" if training is None else f"layer(x, training={training})"


def invoke_layer(cls: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """What the check calls for each case: build the learner's layer, play the script,
    return the record (``encode_record``). Never raises for the learner's mistakes, except
    a NotImplementedError from the constructor (an untouched stub)."""

    def play(features: int, options: dict[str, float], script: list[tuple]) -> np.ndarray:
        record: dict[str, Any] = {}
        if not isinstance(cls, type):
            record["not_a_class"] = type(cls).__name__
            return encode_record(record)
        record["init_parameters"] = _parameters(cls.__init__)
        record["call_parameters"] = _parameters(cls.__call__)
        try:
            layer = cls(features, **options)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - reported, not raised
            record["construct_error"] = error_text(error, "__init__")
            record["construct_error_in_learner_code"] = "(line " in record["construct_error"]
            return encode_record(record)
        record["init"] = {name: value_as_json(getattr(layer, name, None)) for name in ATTRIBUTES}
        record["missing"] = [name for name in ATTRIBUTES if not hasattr(layer, name)]
        record["array_attributes"] = sorted(
            name
            for name, value in getattr(layer, "__dict__", {}).items()
            if isinstance(value, np.ndarray)
        )
        steps: list[dict[str, Any]] = []
        record["steps"] = steps
        if record["missing"]:
            return encode_record(record)
        for step in script:
            if step[0] == "set":
                setattr(layer, step[1], np.array(step[2], copy=True))
                continue
            _, x, training = step
            given = np.array(x, copy=True)
            try:
                y = layer(given) if training is None else layer(given, training=training)
            except NotImplementedError as error:
                record["call_error"] = f"NotImplementedError: {error}"
                record["not_implemented"] = True
                break
            except Exception as error:  # noqa: BLE001 - reported, not raised
                record["call_error"] = error_text(error, "__call__")
                break
            steps.append(
                {
                    "y": value_as_json(y),
                    "moving_mean": value_as_json(getattr(layer, "moving_mean", None)),
                    "moving_var": value_as_json(getattr(layer, "moving_var", None)),
                    "x_changed": not (
                        given.shape == np.shape(x) and np.array_equal(given, x, equal_nan=True)
                    ),
                }
            )
        return encode_record(record)

    play.__name__ = getattr(cls, "__name__", "BatchNorm")
    return play


# ---------------------------------------------------------------------------
# The BatchNorm layer: test scripts and the simulation of each kind of layer.
# ---------------------------------------------------------------------------


def _spread_features(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 features with distinct means and spreads; feature 1 has a tiny spread."""
    channels = shape[-1]
    means = rng.uniform(-2.0, 3.0, channels)
    stds = rng.uniform(0.5, 2.5, channels)
    stds[min(1, channels - 1)] = 0.03  # variance about 1e-3: where epsilon sits shows
    return np.round(rng.normal(size=shape) * stds + means, 3).astype(np.float32)


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    def params(channels: int) -> tuple[np.ndarray, np.ndarray]:
        gamma, beta = affine_params(rng, channels)
        return np.round(gamma, 2), np.round(beta, 2)

    gamma3, beta3 = params(3)
    gamma4, beta4 = params(4)
    gamma2, beta2 = params(2)
    gamma_one, beta_one = params(3)
    return [
        Case(
            "BatchNorm(3, momentum=0.9, epsilon=0.01), 4 calls",
            {
                "features": 3,
                "options": {"momentum": 0.9, "epsilon": 0.01},
                "script": [
                    ("call", _spread_features(rng, (4, 3)), False),
                    ("call", _spread_features(rng, (5, 3)), True),
                    ("set", "gamma", gamma3),
                    ("set", "beta", beta3),
                    ("call", _spread_features(rng, (6, 3)), True),
                    ("call", _spread_features(rng, (4, 3)), False),
                ],
            },
            "dense",
        ),
        Case(
            "BatchNorm(4) with Keras's defaults, 3 calls",
            {
                "features": 4,
                "options": {},
                "script": [
                    ("set", "gamma", gamma4),
                    ("set", "beta", beta4),
                    ("call", _spread_features(rng, (8, 4)), True),
                    ("call", _spread_features(rng, (8, 4)), True),
                    ("call", _spread_features(rng, (3, 4)), None),
                ],
            },
            "dense",
        ),
        Case(
            "BatchNorm(2, momentum=0.8) on feature maps, 2 calls",
            {
                "features": 2,
                "options": {"momentum": 0.8},
                "script": [
                    ("set", "gamma", gamma2),
                    ("set", "beta", beta2),
                    ("call", _spread_features(rng, (2, 3, 3, 2)), True),
                    ("call", _spread_features(rng, (1, 3, 3, 2)), False),
                ],
            },
            "conv",
        ),
        Case(
            "BatchNorm(3, momentum=0.9) with a training batch of one, 2 calls",
            {
                "features": 3,
                "options": {"momentum": 0.9},
                "script": [
                    ("set", "gamma", gamma_one),
                    ("set", "beta", beta_one),
                    ("call", _spread_features(rng, (1, 3)), True),
                    ("call", _spread_features(rng, (2, 3)), False),
                ],
            },
            "dense",
            remark="A training batch of one must not fail: every x_hat is 0, so the output is "
            "beta, and the moving statistics still update.",
        ),
    ]


def _variance(x: np.ndarray, axes: tuple[int, ...], ddof: int) -> np.ndarray:
    _, var = moments(x, axes, ddof)
    return np.squeeze(var, axis=axes)


def simulate_layer(
    args: dict[str, Any],
    values: dict[str, Any],
    start: dict[str, np.ndarray] | None = None,
    defaults: tuple[float, float] = (DEFAULT_MOMENTUM, DEFAULT_EPSILON),
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(y, moving_mean, moving_var) after each call of a case's script, float64, for the
    layer that ``values`` (one option per ``LAYER`` choice) describes. ``start`` holds the
    attributes after construction (Keras's by default) and ``defaults`` the constructor's
    default momentum and epsilon."""
    options = args["options"]
    momentum = float(options.get("momentum", defaults[0]))
    epsilon = float(options.get("epsilon", defaults[1]))
    if values["momentum_arg"] == "fixed" and "momentum" in options:
        momentum = DEFAULT_MOMENTUM
    if values["eps_arg"] == "fixed" and "epsilon" in options:
        epsilon = DEFAULT_EPSILON
    convention = values["convention"]  # the rule for (mean, variance)
    keep_mean = 1.0 - momentum if convention in ("pytorch", "pytorch mean") else momentum
    keep_var = 1.0 - momentum if convention in ("pytorch", "pytorch var") else momentum
    state = {
        name: f64(start[name]).reshape(-1)
        if start is not None and start.get(name) is not None
        else np.full(args["features"], KERAS_INITIAL[name])
        for name in ATTRIBUTES
    }
    forward_ddof, stored_ddof = values["variance"]
    results = []
    for step in args["script"]:
        if step[0] == "set":
            state[step[1]] = f64(step[2])
            continue
        _, x, training = step
        x = f64(x)
        if training is None:
            training = values["default_mode"] == "training"
        axes = tuple(range(x.ndim - 1)) if values["axes"] == "all but last" else (0,)
        with np.errstate(divide="ignore", invalid="ignore"):
            batch_mean = x.mean(axis=axes)
            batch_var = _variance(x, axes, forward_ddof)
            stored_var = _variance(x, axes, stored_ddof)
            if values["stored"] == "std":
                stored_var = np.sqrt(stored_var)
        moving = (state["moving_mean"], state["moving_var"])
        updated = (
            keep_mean * moving[0] + (1 - keep_mean) * batch_mean,
            keep_var * moving[1] + (1 - keep_var) * stored_var,
        )
        if training:
            mean, var = {
                "batch": (batch_mean, batch_var),
                "moving before": moving,
                "moving after": updated,
            }[values["train_stats"]]
            update = values["train_updates"]
        else:
            update = values["infer_updates"]
            if update == "before":  # updated first, then normalized with the new values
                moving = updated
            mean, var = {
                "moving": moving,
                "batch": (batch_mean, batch_var),
                "moving mean": (moving[0], batch_var),
                "moving var": (batch_mean, moving[1]),
            }[values["infer_stats"]]
        how = values["denominator"]
        if training and values["train_denominator"] != "same":
            how = values["train_denominator"]
        with np.errstate(divide="ignore", invalid="ignore"):
            x_hat = (x - mean) / denominator(var, epsilon, how)
        affine = values["affine"]
        if values["affine_in"] != ("training" if training else "inference"):
            if values["affine_in"] != "both":  # this branch was written without gamma, beta
                affine = "x"
        y = apply_affine(x_hat, state["gamma"], state["beta"], affine)
        if values["tracked"] != "x":  # the moving averages fed from the layer's own output
            source = y if values["tracked"] == "y" else x_hat
            with np.errstate(divide="ignore", invalid="ignore"):
                batch_mean = source.mean(axis=axes)
                stored_var = _variance(source, axes, stored_ddof)
            updated = (
                keep_mean * moving[0] + (1 - keep_mean) * batch_mean,
                keep_var * moving[1] + (1 - keep_var) * stored_var,
            )
        if update == "twice":  # a second update with the same batch's statistics
            updated = (
                keep_mean * updated[0] + (1 - keep_mean) * batch_mean,
                keep_var * updated[1] + (1 - keep_var) * stored_var,
            )
        if update == "mean only":
            state["moving_mean"] = updated[0]
        elif update == "var only":
            state["moving_var"] = updated[1]
        elif update:
            state["moving_mean"], state["moving_var"] = updated
        results.append((y, state["moving_mean"].copy(), state["moving_var"].copy()))
    return results


LAYER = Family(
    choices_for=lambda args: (
        Choice(
            "infer_stats",
            (
                Option("moving"),
                Option("batch", "batch-stats-at-inference"),
                Option("moving mean", "mixes-moving-and-batch-stats"),
                Option("moving var", "mixes-moving-and-batch-stats"),
            ),
        ),
        Choice(
            "infer_updates",
            (
                Option(False),
                Option("after", "updates-stats-at-inference"),
                Option("before", "updates-stats-at-inference"),
            ),
        ),
        Choice(
            "train_stats",
            (
                Option("batch"),
                Option("moving before", "moving-stats-in-training"),
                Option("moving after", "moving-stats-in-training"),
            ),
        ),
        Choice(
            "train_updates",
            (
                Option(True),
                Option(False, "stats-frozen-in-training"),
                Option("mean only", "stats-frozen-in-training"),
                Option("var only", "stats-frozen-in-training"),
                Option("twice", "stats-updated-twice"),
            ),
        ),
        Choice(
            "convention",
            (
                Option("keras"),
                Option("pytorch", "momentum-reversed"),
                Option("pytorch mean", "momentum-reversed"),  # reversed for one statistic
                Option("pytorch var", "momentum-reversed"),
            ),
        ),
        Choice(
            "variance",  # (ddof that normalizes, ddof fed into the moving variance)
            (
                Option((0, 0)),
                Option((0, 1), "moving-var-unbiased"),
                Option((1, 1), "unbiased-variance"),
                Option((1, 0), "unbiased-variance"),
            ),
        ),
        Choice("default_mode", (Option("inference"), Option("training", "training-by-default"))),
        Choice("axes", (Option("all but last"), Option("first", "wrong-axis"))),
        DENOMINATOR_CHOICE,
        Choice(  # a training branch written apart from the inference function
            "train_denominator",
            (
                Option("same"),
                Option("sqrt(var)", "missing-eps"),
                Option("sqrt(var)+eps", "eps-outside-sqrt"),
            ),
        ),
        Choice("stored", (Option("var"), Option("std", "moving-var-holds-std"))),
        Choice(  # which array's batch statistics the moving averages follow
            "tracked",
            (
                Option("x"),
                Option("y", "moving-stats-of-output"),
                Option("x_hat", "moving-stats-of-output"),
            ),
        ),
        AFFINE_CHOICE,
        Choice(  # one branch written without gamma and beta
            "affine_in",
            (
                Option("both"),
                Option("training", "missing-scale-shift"),
                Option("inference", "missing-scale-shift"),
            ),
        ),
        Choice("momentum_arg", (Option("given"), Option("fixed", "ignores-momentum-argument"))),
        Choice("eps_arg", (Option("given"), Option("fixed", "ignores-eps-argument"))),
    ),
    compute=lambda args, values, cache: tuple(
        array for step in simulate_layer(args, values) for array in step
    ),
)
"""The layers a learner may write: option 0 of every choice is Keras's behaviour."""


def _correct_values() -> dict[str, Any]:
    return {choice.name: choice.options[0].value for choice in LAYER.choices_for({})}


# ---------------------------------------------------------------------------
# The BatchNorm layer: judging the records.
# ---------------------------------------------------------------------------

_LAYER_WORDING = {
    "batch-stats-at-inference": Diagnosis(
        "batch-stats-at-inference",
        "inference uses the batch's own statistics",
        "With training=False your layer normalized x with x's own mean and variance. At "
        "inference each sample must get one answer, alone or in any batch, so the layer "
        "normalizes with the moving statistics it kept during training.",
        "What is moving_mean for, if not for training=False?",
    ),
    "mixes-moving-and-batch-stats": DIAGNOSES["mixes-moving-and-batch-stats"],
    "momentum-reversed": Diagnosis(
        "momentum-reversed",
        "the momentum weights the new batch instead of the old average",
        "After a training call your moving statistics moved most of the way to the batch's: "
        "the layer's momentum weighted the new batch. Keras's momentum is the weight of the "
        "OLD moving value (0.99 moves it 1% of the way per step); PyTorch's momentum is the "
        "weight of the new batch.",
        "Which of the two values should self.momentum multiply?",
    ),
    "ignores-momentum-argument": Diagnosis(
        "ignores-momentum-argument",
        "ignores the momentum argument",
        "Built with momentum=0.9 (or 0.8), your layer updated its moving statistics as if "
        "momentum were 0.99: it does not use the momentum it was constructed with.",
        "Keep the constructor's momentum on the layer and use it in the update.",
    ),
    "ignores-eps-argument": Diagnosis(
        "ignores-eps-argument",
        "ignores the eps argument",
        "Built with epsilon=0.01, your layer normalized as if epsilon were 1e-3: it does "
        "not use the epsilon it was constructed with.",
        "Keep the constructor's epsilon on the layer and use it in both modes.",
    ),
    "pytorch-bn-settings": Diagnosis(
        "pytorch-bn-settings",
        "the BatchNormalization layer uses PyTorch's settings",
        "Your constructor's default momentum or epsilon is PyTorch's (0.1, 1e-5). The "
        "contract, like Keras, defaults to momentum=0.99 and epsilon=1e-3, and PyTorch's "
        "momentum means the opposite in Keras's convention.",
        "Set the defaults in the def line to Keras's values.",
    ),
}

_LAYER_HINTS = (
    "Two things differ between training=True and training=False: which mean and variance "
    "normalize x, and whether any attribute changes. Which is which in each mode? What "
    "should a fresh layer hold before it has seen any data?",
    "__init__: keep momentum and epsilon; gamma and moving_var are float32 ones of shape "
    "(features,), beta and moving_mean float32 zeros. __call__: with training=True, take "
    "the mean and the biased variance over every axis but the last, normalize x with them, "
    "then replace moving_mean and moving_var by their Keras update (your "
    "update_moving_stats). With training=False, do what batchnorm_inference does with the "
    "moving statistics and change nothing. Both modes return gamma * x_hat + beta.",
    "def __init__(self, features, momentum=0.99, epsilon=1e-3):\n"
    "    self.momentum, self.epsilon = momentum, epsilon\n"
    "    self.gamma = np.ones(features, dtype=np.float32)  # and beta, moving_mean, ...\n"
    "def __call__(self, x, training=False):\n"
    "    if not training:\n"
    "        return batchnorm_inference(x, self.gamma, ..., self.epsilon)\n"
    "    axes = tuple(range(x.ndim - 1))\n"
    "    mean, var = x.mean(axis=axes), x.var(axis=axes)\n"
    "    self.moving_mean, self.moving_var = update_moving_stats(...)\n"
    "    return self.gamma * (x - mean) / np.sqrt(...) + self.beta",
)


def _script_text(args: dict[str, Any], upto: int | None = None) -> str:
    """``layer = BatchNorm(3, momentum=0.9); layer(x1, training=True); ...`` up to call
    ``upto`` (1-based; all calls when None)."""
    options = "".join(f", {name}={value:g}" for name, value in args["options"].items())
    parts = [f"layer = BatchNorm({args['features']}{options})"]
    call = 0
    for step in args["script"]:
        if upto is not None and call >= upto:
            break
        if step[0] == "set":
            parts.append(f"layer.{step[1]} = {step[1]}")
            continue
        call += 1
        text = _call_text(step[2]).replace("layer(x", f"layer(x{call}")
        parts.append(text)
    return "; ".join(parts)


def _calls(args: dict[str, Any]) -> list[tuple[np.ndarray, bool | None]]:
    return [(step[1], step[2]) for step in args["script"] if step[0] == "call"]


def _values_text(array: np.ndarray | None) -> str:
    if array is None:
        return "nothing"
    with np.printoptions(precision=4, suppress=True, threshold=12, linewidth=200):
        return np.array2string(np.asarray(array, dtype=np.float32), separator=", ")


_QUANTITIES = ("y", "moving_mean", "moving_var")


def _step_difference(
    step: dict[str, Any], expected: tuple[np.ndarray, ...]
) -> tuple[str, str] | None:
    """(quantity, sentence) for the first recorded quantity that differs, or None."""
    for name, wanted in zip(_QUANTITIES, expected, strict=True):
        described = step[name]
        got = array_from_json(described)
        if got is None:
            text = described.get("text", "something else") if described else "nothing"
            if name == "y" and text == "None":
                return name, "returned None: is the return statement missing?"
            what = "returned" if name == "y" else f"left {name} as"
            return name, f"{what} {text}, not an array"
        if not close(got, wanted):
            if got.size != wanted.size:
                return name, (
                    f"{name} has shape {tuple(got.shape)}; expected {tuple(wanted.shape)}"
                )
            if name == "y":
                differs = ~np.isclose(got.reshape(wanted.shape), wanted, rtol=1e-4, atol=1e-5)
                index = tuple(int(i) for i in np.argwhere(differs)[0]) if differs.any() else ()
                where = f"[{', '.join(map(str, index))}]" if index else ""
                return name, (
                    f"y{where} expected {wanted[index]:.6g}, got "
                    f"{got.reshape(wanted.shape)[index]:.6g} ({int(differs.sum())} of "
                    f"{wanted.size} values differ)"
                )
            return name, (
                f"{name} expected {_values_text(wanted)}, got {_values_text(got.reshape(-1))}"
            )
    return None


def _matches_record(record: dict[str, Any], simulated: list[tuple[np.ndarray, ...]]) -> bool:
    for step, wanted in zip(record["steps"], simulated, strict=False):
        for name, expected in zip(_QUANTITIES, wanted, strict=True):
            got = array_from_json(step[name])
            if got is None or not close(got, expected):
                return False
    return True


def _learner_start(record: dict[str, Any]) -> dict[str, np.ndarray]:
    start = {}
    for name in ATTRIBUTES:
        value = array_from_json(record.get("init", {}).get(name))
        if value is not None:
            start[name] = value
    return start


def _learner_defaults(record: dict[str, Any]) -> tuple[float, float]:
    defaults = {"momentum": DEFAULT_MOMENTUM, "epsilon": DEFAULT_EPSILON}
    for name, default, has_default in (record.get("init_parameters") or [])[1:]:
        if name in defaults and has_default and isinstance(default, (int, float)):
            defaults[name] = float(default)
    return defaults["momentum"], defaults["epsilon"]


def _explain_layer(cases: list[Case], records: dict[int, dict[str, Any]]) -> list[str] | None:
    """The simplest family member that reproduces every recorded number, if any."""
    usable = {i: r for i, r in records.items() if r.get("steps")}
    if not usable:
        return None
    choices = LAYER.choices_for({})
    starts = {i: _learner_start(r) for i, r in usable.items()}
    defaults = {i: _learner_defaults(r) for i, r in usable.items()}
    order = sorted(usable, key=lambda i: len(usable[i]["steps"]))
    for combination in combinations(choices, LAYER.max_wrong):
        values = values_of(combination)
        if all(
            _matches_record(
                usable[i], simulate_layer(cases[i].args, values, starts[i], defaults[i])
            )
            for i in order
        ):
            found = list(diagnoses_of(combination))
            return found or None
    return None


def _signature_problems(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(diagnoses, details) that the def lines alone show."""
    diagnoses, details = [], []
    init = record.get("init_parameters")
    if init is not None and not any(str(p[0]).startswith("*") for p in init):
        named = {name: (default, has) for name, default, has in init[1:]}
        momentum, epsilon = named.get("momentum"), named.get("epsilon")
        if (momentum and momentum[1] and momentum[0] == 0.1) or (
            epsilon and epsilon[1] and epsilon[0] == 1e-5
        ):
            diagnoses.append("pytorch-bn-settings")
            details.append(
                "Your __init__'s defaults: "
                + ", ".join(
                    f"{name}={named[name][0]!r}"
                    for name in ("momentum", "epsilon")
                    if name in named and named[name][1]
                )
                + "."
            )
        elif (
            momentum is None
            or epsilon is None
            or not momentum[1]
            or not epsilon[1]
            or not np.isclose(float(momentum[0] or 0), DEFAULT_MOMENTUM)
            or not np.isclose(float(epsilon[0] or 0), DEFAULT_EPSILON)
        ):
            diagnoses.append("layer-signature")
            details.append(
                f"Your constructor is BatchNorm({_parameters_text(init[1:])}); the contract is "
                "BatchNorm(features, momentum=0.99, epsilon=1e-3)."
            )
    call = record.get("call_parameters")
    if (
        call is not None
        and "layer-signature" not in diagnoses
        and not any(str(p[0]).startswith("*") for p in call)
    ):
        named = {name: (default, has) for name, default, has in call[1:]}
        training = named.get("training")
        if training is None or not training[1]:
            diagnoses.append("layer-signature")
            details.append(
                f"Your __call__ takes ({_parameters_text(call[1:])}); the contract is "
                "(x, training=False)."
            )
    return diagnoses, details


def _parameters_text(parameters: list[list[Any]]) -> str:
    return ", ".join(
        f"{name}={default!r}" if has else str(name) for name, default, has in parameters
    )


def _initial_problems(
    record: dict[str, Any], features: int
) -> tuple[list[str], list[str], list[str]]:
    """(wrong values, problems, notes) about the attributes right after construction."""
    wrong, problems, notes = [], [], []
    for name in ATTRIBUTES:
        described = record["init"][name]
        value = array_from_json(described)
        if value is None:
            problems.append(
                f"After BatchNorm({features}), {name} is {described.get('text', 'not an array')}"
                "; the contract asks for a float32 array of shape "
                f"({features},)."
            )
            continue
        if value.size != features:
            problems.append(
                f"After BatchNorm({features}), {name} has shape {tuple(value.shape)}; the "
                f"contract asks for ({features},), one value per feature."
            )
            continue
        if tuple(value.shape) != (features,):
            notes.append(
                f"{name} has shape {tuple(value.shape)} for {features} features; the "
                "contract is (features,) (accepted: only axes of size 1 differ)."
            )
        if described["dtype"] != "float32":
            notes.append(
                f"{name} is {described['dtype']}; Keras and this course keep float32 "
                "(accepted here, the values are what count)."
            )
        if not np.all(value == KERAS_INITIAL[name]):
            wrong.append(
                f"a fresh layer's {name} is {_values_text(value.reshape(-1))}; Keras's starts "
                f"at {'ones' if KERAS_INITIAL[name] else 'zeros'}"
            )
    return wrong, problems, notes


def _mistake(exercise: Exercise, diagnosis: str, detail: str = "", lead: str = "") -> Finding:
    entry = exercise.wording.get(diagnosis, DIAGNOSES[diagnosis])
    text = f"{lead} {entry.explanation}" if lead else entry.explanation
    return Finding("mistake", text, entry.title, entry.hint, detail, diagnosis=diagnosis)


def _failing_case(
    case: Case,
    upto: int,
    expected: tuple[np.ndarray, ...],
    step: dict[str, Any] | None,
    error: str,
) -> FailingCase:
    args: dict[str, Any] = {"features": case.args["features"], **case.args["options"]}
    call = 0
    for entry in case.args["script"]:
        if call >= upto:
            break
        if entry[0] == "set":
            args[entry[1]] = np.array(entry[2], copy=True)
            continue
        call += 1
        args[f"x{call}"] = np.array(entry[1], copy=True)
    names = [f"y{upto}", f"moving_mean after call {upto}", f"moving_var after call {upto}"]
    got: dict[str, np.ndarray] = {}
    if step is not None:
        for name, quantity in zip(names, _QUANTITIES, strict=True):
            value = array_from_json(step[quantity])
            if value is not None:
                got[name] = np.asarray(value, dtype=np.float32)
    return FailingCase(
        f"{_script_text(case.args, upto)} (replay it with the arguments below)",
        args,
        expected={n: np.asarray(e, dtype=np.float32) for n, e in zip(names, expected, strict=True)},
        got=got,
        error=error,
    )


def judge_layer(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """Score the recorded scripts and name the mistake behind a wrong layer."""
    if untouched(observations):
        return not_attempted(exercise, cases)

    reports: list[CaseReport] = []
    records: dict[int, dict[str, Any]] = {}
    diagnoses: list[str] = []
    details: dict[str, str] = {}
    problems: list[str] = []
    notes: list[str] = []
    mutated: list[str] = []
    evidence: dict[int, tuple[int, str, dict[str, Any] | None, str]] = {}
    correct = _correct_values()

    def add(diagnosis: str, detail: str = "") -> None:
        if diagnosis not in diagnoses:
            diagnoses.append(diagnosis)
            details[diagnosis] = detail

    for index, (case, observation) in enumerate(zip(cases, observations, strict=True)):
        label = case.label
        if observation.status != "ok":
            if observation.status == "timeout":
                message = (
                    f"On {label}, your layer {observation.error}: is there a loop that never ends?"
                )
            elif observation.status == "not-implemented":
                message = (
                    f"On {label}, BatchNorm(...) raised NotImplementedError: write __init__, "
                    "run its cell, then check again."
                )
            else:
                message = f"On {label}, your layer raised {observation.error}."
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        record = decode_record(observation.returned)
        if record is None:
            message = f"On {label}, the check could not read what your layer did."
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        if "not_a_class" in record:
            message = (
                f"check expected the class itself, got a {record['not_a_class']}: pass "
                'the class without calling it, check("BatchNorm", BatchNorm).'
            )
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        signature_diagnoses, signature_details = _signature_problems(record)
        for diagnosis, detail in zip(signature_diagnoses, signature_details, strict=True):
            add(diagnosis, detail)
        construction = _script_text(case.args, 0)
        if "construct_error" in record:
            message = f"On {label}: {construction} raised {record['construct_error']}."
            if not record["construct_error_in_learner_code"] and record[
                "construct_error"
            ].startswith("TypeError"):
                add("layer-signature", message)
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        if record["missing"]:
            have = ", ".join(record["array_attributes"]) or "none"
            message = (
                f"After {construction}, the layer has no {', '.join(record['missing'])} "
                f"(its array attributes: {have})."
            )
            add("layer-attribute-names", message)
            reports.append(CaseReport(label, case.kind, False, message))
            continue
        wrong_init, init_problems, init_notes = _initial_problems(record, case.args["features"])
        for note in init_notes:  # one note per attribute, however many cases show it
            if not any(n.split(" ")[:2] == note.split(" ")[:2] for n in notes):
                notes.append(note)
        if wrong_init:
            add("layer-initial-values", f"After {construction}, " + "; ".join(wrong_init) + ".")
        problems.extend(p for p in init_problems if p not in problems)
        records[index] = record
        expected = simulate_layer(case.args, correct)
        calls = _calls(case.args)
        good = not wrong_init and not init_problems
        message = ""
        for number, step in enumerate(record["steps"], start=1):
            training = calls[number - 1][1]
            if step["x_changed"]:
                mutated.append(f"{_call_text(training)} changed x (in {label})")
            y = step["y"]
            if y and y.get("kind") == "array" and y["dtype"] != "float32":
                note = (
                    f"layer(x) returns {y['dtype']}; Keras and this course keep float32 "
                    "(accepted here, the values are what count)."
                )
                if note not in notes:
                    notes.append(note)
            if y and y.get("kind") == "other" and y["text"].startswith(("a tuple", "a list")):
                add("layer-returns-tuple", f"{_call_text(training)} returned {y['text']}.")
            difference = _step_difference(step, expected[number - 1])
            if difference is not None and index not in evidence:
                sentence = (
                    f"On {label}, call {number}, {_call_text(training)} with x of shape "
                    f"{tuple(calls[number - 1][0].shape)}: {difference[1]}."
                )
                evidence[index] = (number, sentence, step, "")
                good, message = False, message or sentence
        if "call_error" in record:
            number = len(record["steps"]) + 1
            training = calls[number - 1][1]
            if record.get("not_implemented"):
                sentence = (
                    f"On {label}, {_call_text(training)} raised NotImplementedError: write "
                    "__call__, run its cell, then check again."
                )
            else:
                sentence = (
                    f"On {label}, call {number}, {_call_text(training)} with x of shape "
                    f"{tuple(calls[number - 1][0].shape)} raised {record['call_error']}."
                )
                if case.remark and number == 1:
                    sentence += f" {case.remark}"
            good, message = False, message or sentence
            problems.append(sentence)
            if index not in evidence:
                evidence[index] = (number, sentence, None, record["call_error"])
            error = record["call_error"]
            if error.startswith("TypeError") and "(line " not in error:
                add("layer-signature", sentence)
        reports.append(CaseReport(label, case.kind, good, message))

    behaviour = [  # calls that returned numbers, which a family member might reproduce
        i
        for i in evidence
        if evidence[i][2] is not None and array_from_json(evidence[i][2]["y"]) is not None
    ]
    explained = _explain_layer(cases, records) if behaviour else None
    lead = ""
    if evidence:
        first = min(evidence, key=lambda i: (evidence[i][0], i))
        lead = evidence[first][1]
    for diagnosis in explained or []:
        add(diagnosis)
    if mutated:
        add("mutates-input", f"It changed the input: {mutated[0]}.")

    passed_count = sum(report.passed for report in reports)
    passed = passed_count == len(cases) and not mutated
    score = round(exercise.max_score * passed_count / len(cases), 2)
    if mutated:
        score = round(score / 2, 2)
    if passed:
        status = "passed"
    elif observations and all(o.status == "timeout" for o in observations):
        status = "timeout"
    elif not records:
        status = "error"
    else:
        status = "failed"

    findings: list[Finding] = []
    failing = None
    if not passed:
        behavioural = set(explained or [])
        led = False
        for diagnosis in diagnoses:
            detail = details.get(diagnosis, "")
            if diagnosis in behavioural and not led:
                findings.append(_mistake(exercise, diagnosis, lead=lead))
                led = True
            elif detail and not led and diagnosis != "mutates-input":
                findings.append(_mistake(exercise, diagnosis, lead=detail))
                led = True
            else:
                findings.append(_mistake(exercise, diagnosis, detail))
        findings.extend(Finding("problem", p) for p in problems[:1])
        if len(problems) > 1:
            more = f"(The same or a similar problem on {len(problems) - 1} more input(s).)"
            findings.append(Finding("problem", more))
        if not diagnoses and evidence:
            first = min(evidence, key=lambda i: (evidence[i][0], i))
            number, sentence, step, error = evidence[first]
            if sentence not in problems[:1]:
                findings.append(Finding("evidence", sentence))
            if step is not None and failing is None:
                findings.append(
                    Finding(
                        "evidence",
                        "No common mistake matches these numbers. Replay the failing calls "
                        "below on your layer and compare each value with yours.",
                    )
                )
            if not error.startswith("NotImplementedError"):
                expected = simulate_layer(cases[first].args, correct)[number - 1]
                failing = _failing_case(cases[first], number, expected, step, error)
    findings.extend(Finding("note", note) for note in notes)
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=score,
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        notes=notes,
        findings=findings,
        failing=failing,
    )


EXERCISES = [
    Exercise(
        "update_moving_stats",
        _L4,
        "update_moving_stats(moving_mean, moving_var, batch_mean, batch_var, momentum=0.99)",
        ("new_mean", "new_var"),
        _moving_cases,
        MOVING,
        wording=_MOVING_WORDING,
        hints=_MOVING_HINTS,
    ),
    Exercise(
        "batchnorm_inference",
        _L4,
        "batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3)",
        ("y",),
        _inference_cases,
        INFERENCE,
        wording=_INFERENCE_WORDING,
        hints=_INFERENCE_HINTS,
    ),
    Exercise(
        "BatchNorm",
        _L4,
        "BatchNorm(features, momentum=0.99, epsilon=1e-3); layer(x, training=False)",
        ("y", "moving_mean", "moving_var"),
        _layer_cases,
        None,
        custom_judge=judge_layer,
        custom_invoke=invoke_layer,
        wording=_LAYER_WORDING,
        hints=_LAYER_HINTS,
    ),
]
