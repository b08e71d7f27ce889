"""Lesson 06 (BN in Keras): ``fold_batchnorm`` and the model builder ``build_dense_bn_model``.

``fold_batchnorm`` is an array exercise like the others (its family of mistakes is below).
The model builder returns a ``keras.Model``, not arrays, so that exercise brings its own
two halves (see ``Exercise.custom_invoke`` and ``Exercise.custom_judge``):


* ``invoke_builder`` runs on the learner's side. It calls the learner's builder and reduces
  whatever comes back to a JSON description (layer classes in order, units, ``use_bias``,
  activations, input and output shapes), so judging never needs the model object and can
  happen in another process.
* ``judge_model`` reads those descriptions, checks the layer order and ``use_bias``, and
  names the misconception behind a wrong model with the catalogue's ids
  (``bias-before-bn``, ``bn-after-activation``, ``missing-batchnorm``). Other departures
  from the contract (a missing softmax, wrong sizes, extra layers) get plain feedback.

Keras is imported only when a check of this exercise runs, never by ``bncourse.grading``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.grading.execution import Observation, Returned
from bncourse.grading.families import (
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    denominator,
    eps_choice,
    f64,
)
from bncourse.grading.inputs import affine_params
from bncourse.grading.judge import mistake, not_attempted, untouched
from bncourse.grading.result import CaseReport, CheckResult, FailingCase, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "EXERCISES",
    "describe_model",
    "invoke_builder",
    "judge_model",
    "encode_description",
    "decode_description",
    "model_text",
]

LESSON = "06_batchnorm_in_keras"
CONTRACT = (
    "keras.Input((input_dim,)) -> Dense(units, use_bias=False) -> BatchNormalization() -> "
    "Activation('relu') -> Dense(num_classes, activation='softmax')"
)


# ---------------------------------------------------------------------------
# The learner's side: call the builder, describe what it returned.
# ---------------------------------------------------------------------------


def _activation_name(function: Any) -> str:
    return str(getattr(function, "__name__", type(function).__name__))


def _describe_layer(layer: Any) -> dict[str, Any]:
    import keras

    entry: dict[str, Any] = {"class": type(layer).__name__, "name": str(layer.name)}
    if isinstance(layer, keras.layers.Dense):
        entry.update(
            units=int(layer.units),
            use_bias=bool(layer.use_bias),
            activation=_activation_name(layer.activation),
        )
    elif isinstance(layer, keras.layers.BatchNormalization):
        entry.update(
            center=bool(layer.center),
            scale=bool(layer.scale),
            axis=layer.axis,
            momentum=float(layer.momentum),
            epsilon=float(layer.epsilon),
        )
    elif isinstance(layer, keras.layers.Activation):
        entry.update(activation=_activation_name(layer.activation))
    elif isinstance(layer, keras.layers.ReLU):
        plain = (
            layer.max_value is None
            and float(layer.negative_slope) == 0.0
            and float(layer.threshold) == 0.0
        )
        entry.update(activation="relu" if plain else "relu (with non-default arguments)")
    elif isinstance(layer, keras.layers.Softmax):
        entry.update(activation="softmax")
    return entry


def _flat_layers(model: Any) -> list[Any]:
    """The model's layers in order, with nested models opened up and Input layers left out."""
    import keras

    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(_flat_layers(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            layers.append(layer)
    return layers


def _shape(model: Any, attribute: str) -> Any:
    try:
        shape = getattr(model, attribute)
    except (AttributeError, ValueError):  # e.g. a Sequential model without an Input
        return None
    return json.loads(json.dumps(shape, default=str))


def describe_model(value: Any) -> dict[str, Any]:
    """What a builder returned, as JSON-compatible data. Never raises.

    ``kind`` is ``"model"`` (with ``class``, ``input_shape``, ``output_shape`` and
    ``layers``), ``"none"``, ``"not-a-model"`` (with ``type`` and ``is_layer``) or
    ``"undescribable"`` (with ``error``).
    """
    try:
        import keras

        if value is None:
            return {"kind": "none"}
        if not isinstance(value, keras.Model):
            return {
                "kind": "not-a-model",
                "type": type(value).__name__,
                "is_layer": isinstance(value, keras.layers.Layer),
            }
        return {
            "kind": "model",
            "class": type(value).__name__,
            "input_shape": _shape(value, "input_shape"),
            "output_shape": _shape(value, "output_shape"),
            "layers": [_describe_layer(layer) for layer in _flat_layers(value)],
        }
    except Exception as error:  # noqa: BLE001 - an odd object must not break the check
        return {"kind": "undescribable", "error": f"{type(error).__name__}: {error}"[:300]}


def encode_description(description: dict[str, Any]) -> np.ndarray:
    """The description as UTF-8 JSON bytes in a uint8 array.

    ``describe_output`` (execution.py) turns an invoke's return value into a ``Returned``;
    a uint8 array survives that step unchanged (and pickles between processes), so the
    description reaches the judge intact.
    """
    return np.frombuffer(json.dumps(description).encode("utf-8"), dtype=np.uint8).copy()


def decode_description(returned: Returned | None) -> dict[str, Any] | None:
    """The description back from a ``Returned`` (a "json" one, or the uint8 transport)."""
    if returned is None:
        return None
    if returned.kind == "json" and isinstance(returned.data, dict):
        return returned.data
    if returned.kind == "array" and returned.dtype == "uint8" and returned.array is not None:
        try:
            data = json.loads(np.asarray(returned.array, dtype=np.uint8).tobytes())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None


def invoke_builder(fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """What the check calls for each case: the learner's builder, then ``describe_model``.

    Keras is imported here, before the check's timer starts, so the first check in a fresh
    process is not charged for TensorFlow's import.
    """
    import keras  # noqa: F401 - imported for its side effect: a warm import

    def build_and_describe(*args: Any) -> np.ndarray:
        return encode_description(describe_model(fn(*args)))

    build_and_describe.__name__ = getattr(fn, "__name__", "build_dense_bn_model")
    return build_and_describe


# ---------------------------------------------------------------------------
# The judging side: descriptions only.
# ---------------------------------------------------------------------------


def _tokens(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Layers as steps: a Dense layer with an activation becomes a Dense step and an
    activation step marked ``inside_dense``, so Dense(activation='relu') and
    Dense -> Activation('relu') compare alike."""
    steps: list[dict[str, Any]] = []
    for layer in layers:
        if layer["class"] == "Dense" or "units" in layer:
            steps.append({"step": "dense", "units": layer["units"], "use_bias": layer["use_bias"]})
            if layer.get("activation", "linear") != "linear":
                steps.append({"step": "act", "name": layer["activation"], "inside_dense": True})
        elif "center" in layer:
            steps.append(
                {
                    "step": "bn",
                    "center": layer["center"],
                    "scale": layer["scale"],
                    "momentum": layer.get("momentum", 0.99),
                    "epsilon": layer.get("epsilon", 1e-3),
                }
            )
        elif "activation" in layer:
            steps.append({"step": "act", "name": layer["activation"], "inside_dense": False})
        else:
            steps.append({"step": "other", "class": layer["class"]})
    return steps


def _layer_text(layer: dict[str, Any]) -> str:
    if "units" in layer:
        parts = [str(layer["units"]), f"use_bias={layer['use_bias']}"]
        if layer["activation"] != "linear":
            parts.append(f"activation={layer['activation']!r}")
        return f"Dense({', '.join(parts)})"
    if "center" in layer:
        flags = [f"{flag}=False" for flag in ("center", "scale") if not layer[flag]]
        for name, default in (("momentum", 0.99), ("epsilon", 1e-3)):
            if name in layer and not np.isclose(layer[name], default, rtol=1e-6, atol=0.0):
                flags.append(f"{name}={layer[name]:g}")
        return f"BatchNormalization({', '.join(flags)})"
    if layer["class"] == "Activation":
        return f"Activation({layer['activation']!r})"
    return f"{layer['class']}()"


def model_text(description: dict[str, Any]) -> str:
    """A one-line picture of a described model: ``Dense(32, use_bias=False) -> ...``."""
    layers = description.get("layers", [])
    return " -> ".join(_layer_text(layer) for layer in layers) if layers else "(no layers)"


def _shape_text(shape: Any) -> str:
    return str(tuple(shape)) if isinstance(shape, list) else str(shape)


def _analyse(description: dict[str, Any], args: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(diagnosis ids, other problems) of one described model against the contract."""
    input_dim, units, classes = args["input_dim"], args["units"], args["num_classes"]
    steps = _tokens(description["layers"])
    diagnoses: list[str] = []
    problems: list[str] = []

    bn_at = [i for i, step in enumerate(steps) if step["step"] == "bn"]
    dense_at = [i for i, step in enumerate(steps) if step["step"] == "dense"]
    if not bn_at:
        diagnoses.append("missing-batchnorm")
    else:
        feeding = [i for i in dense_at if i < bn_at[0]]
        if not feeding:
            problems.append(
                "BatchNormalization comes before the hidden Dense layer; it should normalize "
                "that layer's output."
            )
        else:
            between = steps[feeding[-1] + 1 : bn_at[0]]
            if any(step["step"] == "act" for step in between):
                diagnoses.append("bn-after-activation")
            if steps[feeding[-1]]["use_bias"]:
                diagnoses.append("bias-before-bn")
        bn = steps[bn_at[0]]
        if not (
            np.isclose(bn["momentum"], 0.99, rtol=1e-6, atol=0.0)
            and np.isclose(bn["epsilon"], 1e-3, rtol=1e-6, atol=0.0)
        ):
            diagnoses.append("pytorch-bn-settings")
        if len(bn_at) > 1:
            problems.append(f"The model has {len(bn_at)} BatchNormalization layers; use one.")
        elif not (steps[bn_at[0]]["center"] and steps[bn_at[0]]["scale"]):
            problems.append(
                "Keep BatchNormalization's defaults center=True and scale=True: with "
                "use_bias=False before it, beta is the only shift left."
            )

    others = sorted({step["class"] for step in steps if step["step"] == "other"})
    if others:
        problems.append(f"Leave out the layers the contract does not ask for: {', '.join(others)}.")
    if len(dense_at) != 2:
        problems.append(
            f"The model has {len(dense_at)} Dense layer(s); the contract has two, a hidden one "
            "with `units` units and an output one with `num_classes`."
        )
    else:
        hidden, output = steps[dense_at[0]], steps[dense_at[1]]
        if hidden["units"] != units:
            problems.append(
                f"The hidden Dense layer has {hidden['units']} units; units={units} asks for "
                f"{units}."
            )
        if output["units"] != classes:
            problems.append(
                f"The output Dense layer has {output['units']} units; it needs one per class, "
                f"num_classes={classes}."
            )
        hidden_acts = [
            step["name"] for step in steps[dense_at[0] + 1 : dense_at[1]] if step["step"] == "act"
        ]
        if hidden_acts and any(name != "relu" for name in hidden_acts):
            problems.append(
                f"The hidden activation is {', '.join(map(repr, hidden_acts))}; the contract "
                "asks for 'relu'."
            )
        elif not hidden_acts:
            problems.append("The hidden layer has no activation: add Activation('relu') after BN.")
    if not steps or steps[-1]["step"] != "act" or steps[-1]["name"] != "softmax":
        problems.append(
            "The model does not end in a softmax: give the output layer "
            "activation='softmax', so the model returns class probabilities."
        )

    input_shape = description.get("input_shape")
    if input_shape is None:
        problems.append(
            "The model has no input shape yet (summary() cannot count its parameters): start "
            "it with keras.Input((input_dim,))."
        )
    elif input_shape != [None, input_dim]:
        problems.append(
            f"The model's input shape is {_shape_text(input_shape)}; input_dim={input_dim} asks "
            f"for (None, {input_dim})."
        )
    return diagnoses, problems


def _returned_problem(description: dict[str, Any] | None) -> str:
    if description is None:
        return "returned something the check could not read."
    if description["kind"] == "none":
        return "returned None. Is the return statement missing? Return the keras.Model."
    if description["kind"] == "not-a-model":
        if description.get("is_layer"):
            return (
                f"returned a {description['type']} layer, not a model. Put the layers in "
                "keras.Sequential([...]), or connect them and call keras.Model(inputs, outputs)."
            )
        return (
            f"returned a {description['type']}, not a keras.Model. Build the model and return "
            "it, e.g. keras.Sequential([...]) or keras.Model(inputs, outputs)."
        )
    return f"returned a model the check could not inspect ({description.get('error', '')})."


def judge_model(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """Score the described models and name the misconception behind a wrong one."""
    if untouched(observations):
        return not_attempted(exercise, cases)

    reports: list[CaseReport] = []
    diagnoses: list[str] = []
    problems: list[str] = []
    errors: list[str] = []
    pictures: list[str] = []
    described = 0
    first_wrong: tuple[Case, str] | None = None
    for case, observation in zip(cases, observations, strict=True):
        if observation.status != "ok":
            if observation.status == "timeout":
                message = f"On {case.label}, your function {observation.error}."
            elif observation.status == "not-implemented":
                message = f"On {case.label}, your function raised NotImplementedError."
            else:
                message = f"On {case.label}, your function raised {observation.error}."
            reports.append(CaseReport(case.label, case.kind, False, message))
            errors.append(message)
            continue
        description = decode_description(observation.returned)
        if description is None or description.get("kind") != "model":
            message = f"On {case.label}, your function {_returned_problem(description)}"
            reports.append(CaseReport(case.label, case.kind, False, message))
            errors.append(message)
            continue
        described += 1
        case_diagnoses, case_problems = _analyse(description, case.args)
        good = not case_diagnoses and not case_problems
        message = "" if good else f"On {case.label}, your model is: {model_text(description)}."
        reports.append(CaseReport(case.label, case.kind, good, message))
        if not good:
            pictures.append(message)
            first_wrong = first_wrong or (case, model_text(description))
        diagnoses.extend(d for d in case_diagnoses if d not in diagnoses)
        problems.extend(p for p in case_problems if p not in problems)

    passed_count = sum(report.passed for report in reports)
    passed = passed_count == len(cases)
    if passed:
        status = "passed"
    elif observations and all(o.status == "timeout" for o in observations):
        status = "timeout"
    elif described == 0:
        status = "error"
    else:
        status = "failed"

    findings: list[Finding] = []
    if not passed:
        findings.extend(mistake(exercise, diagnosis) for diagnosis in diagnoses)
        findings.extend(Finding("problem", problem) for problem in problems)
        findings.extend(Finding("problem", error) for error in errors[:1])
        if len(errors) > 1:
            more = f"(The same or a similar problem on {len(errors) - 1} more input(s).)"
            findings.append(Finding("problem", more))
        findings.extend(Finding("evidence", picture) for picture in pictures[:1])
    failing = None
    if status == "failed" and not diagnoses and first_wrong is not None:
        # no named mistake: the sizes to call the builder with, and what it built there
        case, picture = first_wrong
        failing = FailingCase(case.label, dict(case.args), error=f"a model {picture}")
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=round(exercise.max_score * passed_count / len(cases), 2),
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        findings=findings,
        failing=failing,
    )


def _model_cases(rng: np.random.Generator) -> list[Case]:
    """Sizes that all differ, so swapped arguments show; the first is lesson 06's digits."""
    return [
        Case(
            "input_dim=64, units=32, num_classes=10 (the digits)",
            {"input_dim": 64, "units": 32, "num_classes": 10},
            "dense",
        ),
        Case(
            "input_dim=5, units=7, num_classes=3",
            {"input_dim": 5, "units": 7, "num_classes": 3},
            "dense",
        ),
    ]


def _fold_cases(rng: np.random.Generator) -> list[Case]:
    def params(kernel_shape: tuple[int, ...], with_bias: bool) -> dict[str, Any]:
        channels = kernel_shape[-1]
        gamma, beta = affine_params(rng, channels)
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


def fold_bias_choice(args: dict) -> Choice:
    """How a folded bias can come out: right, or one of the three classic slips (the last
    only when there is a bias to ignore). Shared by every folding exercise."""
    return Choice(
        "bias",
        (
            Option("(b-mu)*s+beta"),
            Option("b*s+beta", "fold-forgets-mean"),
            Option("b-mu+beta", "fold-bias-unscaled"),
        )
        + ((Option("(0-mu)*s+beta", "fold-ignores-bias"),) if args["bias"] is not None else ()),
        per_case=True,
    )


def folded_bias(
    option: str, bias: np.ndarray, mean: np.ndarray, scale: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """The bias a fold gives under ``fold_bias_choice``'s option."""
    return {
        "(b-mu)*s+beta": (bias - mean) * scale + beta,
        "b*s+beta": bias * scale + beta,
        "b-mu+beta": bias - mean + beta,
        "(0-mu)*s+beta": -mean * scale + beta,
    }[option]


def _fold(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    kernel = f64(args["kernel"])
    channels = kernel.shape[-1]
    bias = np.zeros(channels) if args["bias"] is None else f64(args["bias"])
    gamma, beta = f64(args["gamma"]), f64(args["beta"])
    if values["affine"] == "swapped":
        gamma, beta = beta, gamma
    mean, var = f64(args["moving_mean"]), f64(args["moving_var"])
    scale = gamma / denominator(var, values["eps"], values["denominator"])
    new_bias = folded_bias(values["bias"], bias, mean, scale, beta)
    return kernel * scale, new_bias


FOLD = Family(
    choices_for=lambda args: (
        fold_bias_choice(args),
        DENOMINATOR_CHOICE,
        Choice("affine", (Option("plain"), Option("swapped", "swapped-gamma-beta"))),
        eps_choice(args),
    ),
    compute=_fold,
)


EXERCISES = [
    Exercise(
        "fold_batchnorm",
        "06_batchnorm_in_keras",
        "fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3)",
        ("kernel", "bias"),
        _fold_cases,
        FOLD,
        hints=(
            "In inference mode, what does BN do to one feature z? Its mean, variance, gamma "
            "and beta are fixed numbers, so BN(z) is a straight line in z: what are its slope "
            "and its intercept? And what happens to a linear layer whose output feature c is "
            "multiplied by a number and shifted by another?",
            "Write BN(z) = s * z + t per feature, with s = gamma / sqrt(moving_var + eps) and "
            "t = beta - s * moving_mean. Substitute z = x W + b: the result is x (W s) + "
            "(b s + t). So the new kernel is W times s (each output feature's slice scaled "
            "by its own s) and the new bias is (b - moving_mean) * s + beta.",
            "scale = gamma / np.sqrt(moving_var + eps), one number per output feature. The "
            "output features are the kernel's last axis, so kernel * scale broadcasts for "
            "Dense (in, C) and Conv2D (kh, kw, in, C) alike. Replace a None bias by "
            "np.zeros(C) first, then new_bias = (bias - moving_mean) * scale + beta. Return "
            "both as float32, without modifying the inputs.",
        ),
    ),
    Exercise(
        "build_dense_bn_model",
        LESSON,
        "build_dense_bn_model(input_dim, units, num_classes)",
        ("model",),
        _model_cases,
        custom_judge=judge_model,
        custom_invoke=invoke_builder,
        hints=(
            "Which output does BN normalize in the original paper: the hidden layer's "
            "pre-activation or its activation? And once BN subtracts the batch mean, what is "
            "left of a bias added just before it?",
            "Plan the layers from input to output: an input of shape (input_dim,); a hidden "
            "Dense layer with `units` units and no bias and no activation of its own; "
            "BatchNormalization with Keras's defaults; the ReLU; an output Dense layer with "
            "one unit per class and a softmax.",
            "Start from keras.Input((input_dim,)). Give the hidden Dense layer use_bias=False "
            "and no activation argument; BatchNormalization() needs no arguments; the ReLU "
            "becomes a layer of its own after it; the last Dense layer carries the softmax. "
            "Put the layers in keras.Sequential([...]) (or connect them and call "
            "keras.Model(inputs, outputs)) and return the model without compiling it.",
        ),
    ),
]
