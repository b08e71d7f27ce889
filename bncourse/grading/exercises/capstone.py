"""Lesson 11 (capstone): the ``BatchNormLayer`` class (forward, backward, moving statistics)
and ``fold_conv_bn`` (folding inference-mode BN into a Conv2D kernel).

``BatchNormLayer`` is checked by its behaviour over a scripted sequence of calls, in two
halves like lesson 04's ``BatchNorm``:

* ``invoke_bn_layer`` runs on the learner's side: it builds the learner's class, plays the
  script (assign gamma and beta, ``forward(x, training)``, ``backward(dout)``) and records
  every output, the moving statistics after each forward call and ``dx``, ``dgamma`` and
  ``dbeta`` after each backward call.
* ``judge_bn_layer`` compares the record with a float64 simulation of a correct layer
  (``simulate_bn_layer``); when a number is wrong it searches a small set of mistakes (one
  or two at a time) for the layer that reproduces every recorded number and names it, or
  shows the calls up to the first wrong value.

``fold_conv_bn`` is an array exercise with a family of mistakes, like lesson 06's
``fold_batchnorm``, with the output-channel axis of a 4-D kernel as its point.

``choose_placement(before, after)`` turns two placements' accuracies over seeds into
"before", "after" or "tie" (a winner only when its worst seed beats the other's best) and
refuses a single seed. ``invoke_decision`` records the answer; ``judge_decision`` compares
it with the rule and, when the answers are wrong, looks for the shortcut
(``DECISION_RULES``: one seed, best seeds, means, touching ranges, worst seed against the
other's mean, swapped labels, a constant answer) that gives every one of them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.grading.catalogue import DIAGNOSES, Diagnosis
from bncourse.grading.execution import Observation, array_from_json, error_text, value_as_json
from bncourse.grading.exercises.inference import decode_record, encode_record
from bncourse.grading.exercises.keras_bn import fold_bias_choice, folded_bias
from bncourse.grading.families import (
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    denominator,
    eps_choice,
    f64,
)
from bncourse.grading.judge import close, not_attempted, untouched
from bncourse.grading.result import CaseReport, CheckResult, FailingCase, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "DECISION_RULES",
    "EXERCISES",
    "MISTAKES",
    "expected_decision",
    "invoke_bn_layer",
    "invoke_decision",
    "judge_bn_layer",
    "judge_decision",
    "simulate_bn_layer",
]

LESSON = "11_capstone"
ATTRIBUTES = ("gamma", "beta", "moving_mean", "moving_var")
INITIAL = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_var": 1.0}
QUANTITIES = {"forward": ("y", "moving_mean", "moving_var"), "backward": ("dx", "dgamma", "dbeta")}


# ---------------------------------------------------------------------------
# BatchNormLayer: the learner's side.
# ---------------------------------------------------------------------------


def invoke_bn_layer(cls: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """What the check calls for each case: build the learner's layer, play the script and
    return the record. Never raises for the learner's mistakes, except NotImplementedError
    from the constructor (an untouched stub)."""

    def play(features: int, options: dict[str, float], script: list[tuple]) -> np.ndarray:
        record: dict[str, Any] = {"steps": []}
        if not isinstance(cls, type):
            record["not_a_class"] = type(cls).__name__
            return encode_record(record)
        try:
            layer = cls(features, **options)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - reported, not raised
            record["construct_error"] = error_text(error, "__init__")
            return encode_record(record)
        record["missing"] = [name for name in ATTRIBUTES if not hasattr(layer, name)]
        if record["missing"]:
            return encode_record(record)
        for step in script:
            if step[0] == "set":
                setattr(layer, step[1], np.array(step[2], copy=True))
                continue
            given = np.array(step[1], copy=True)
            try:
                if step[0] == "forward":
                    y = layer.forward(given, training=step[2])
                    seen = {
                        "y": value_as_json(y),
                        "moving_mean": value_as_json(getattr(layer, "moving_mean", None)),
                        "moving_var": value_as_json(getattr(layer, "moving_var", None)),
                    }
                else:
                    dx = layer.backward(given)
                    seen = {
                        "dx": value_as_json(dx),
                        "dgamma": value_as_json(getattr(layer, "dgamma", None)),
                        "dbeta": value_as_json(getattr(layer, "dbeta", None)),
                    }
            except NotImplementedError as error:
                record["call_error"] = f"NotImplementedError: {error}"
                break
            except Exception as error:  # noqa: BLE001 - reported, not raised
                record["call_error"] = error_text(error, step[0])
                break
            seen["op"] = step[0]
            seen["x_changed"] = not np.array_equal(given, step[1], equal_nan=True)
            record["steps"].append(seen)
        return encode_record(record)

    play.__name__ = getattr(cls, "__name__", "BatchNormLayer")
    return play


# ---------------------------------------------------------------------------
# BatchNormLayer: test scripts and the simulation of a layer, right or wrong.
# ---------------------------------------------------------------------------


def _features(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    means = rng.uniform(-2.0, 3.0, shape[1])
    stds = rng.uniform(0.5, 2.5, shape[1])
    return np.round(rng.normal(size=shape) * stds + means, 3).astype(np.float32)


def _dout(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return np.round(rng.normal(size=shape), 3).astype(np.float32)


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    gamma = np.round(rng.uniform(0.5, 2.0, 4), 2).astype(np.float32)
    beta = np.round(rng.normal(size=4), 2).astype(np.float32)
    return [
        Case(
            "BatchNormLayer(4, momentum=0.9, epsilon=0.01), two training steps, then inference",
            {
                "features": 4,
                "options": {"momentum": 0.9, "epsilon": 0.01},
                "script": [
                    ("set", "gamma", gamma),
                    ("set", "beta", beta),
                    ("forward", _features(rng, (6, 4)), True),
                    ("backward", _dout(rng, (6, 4))),
                    ("forward", _features(rng, (5, 4)), True),
                    ("backward", _dout(rng, (5, 4))),
                    ("forward", _features(rng, (3, 4)), False),
                ],
            },
            "dense",
        ),
        Case(
            "BatchNormLayer(3) with Keras's defaults, one training step, then inference",
            {
                "features": 3,
                "options": {},
                "script": [
                    ("forward", _features(rng, (8, 3)), True),
                    ("backward", _dout(rng, (8, 3))),
                    ("forward", _features(rng, (2, 3)), False),
                ],
            },
            "dense",
        ),
    ]


CORRECT = {
    "backward_stats": "batch",
    "cache": "x_hat",
    "param_grads": "sum",
    "dx_gamma": True,
    "train_updates": True,
    "convention": "keras",
    "infer_stats": "moving",
    "stored_ddof": 0,
}

MISTAKES: dict[str, tuple[tuple[str, Any], ...]] = {
    # diagnosis -> the (choice, value) variants that make it, one at a time
    "backward-uses-moving-stats": (("backward_stats", "moving"),),
    "backward-ignores-batch-stats": (("backward_stats", "constants"),),
    "backward-caches-output": (("cache", "y"),),
    "dgamma-uses-x": (("cache", "x in dgamma"),),
    "param-grads-not-summed": (("param_grads", "mean"), ("param_grads", "per sample")),
    "backward-forgets-gamma": (("dx_gamma", False),),
    "stats-frozen-in-training": (("train_updates", False),),
    "momentum-reversed": (("convention", "pytorch"),),
    "batch-stats-at-inference": (("infer_stats", "batch"),),
    "moving-var-unbiased": (("stored_ddof", 1),),
}
"""The mistakes the judge looks for; each names its catalogue entry."""


def simulate_bn_layer(args: dict[str, Any], values: dict[str, Any]) -> list[dict[str, np.ndarray]]:
    """What each forward and backward call of a case's script returns (float64), for the
    layer ``values`` describes (``CORRECT`` is the contract's layer)."""
    options = args["options"]
    momentum = float(options.get("momentum", 0.99))
    eps = float(options.get("epsilon", 1e-3))
    keep = 1.0 - momentum if values["convention"] == "pytorch" else momentum
    state = {name: np.full(args["features"], INITIAL[name]) for name in ATTRIBUTES}
    cache: dict[str, np.ndarray] = {}
    results: list[dict[str, np.ndarray]] = []
    for step in args["script"]:
        if step[0] == "set":
            state[step[1]] = f64(step[2])
            continue
        if step[0] == "forward":
            x, training = f64(step[1]), step[2]
            mean, var = x.mean(axis=0), x.var(axis=0)
            if training or values["infer_stats"] == "batch":
                use_mean, use_var = mean, var
            else:
                use_mean, use_var = state["moving_mean"], state["moving_var"]
            x_hat = (x - use_mean) / np.sqrt(use_var + eps)
            y = state["gamma"] * x_hat + state["beta"]
            if training:
                if values["train_updates"]:
                    stored = x.var(axis=0, ddof=values["stored_ddof"]) if len(x) > 1 else var
                    state["moving_mean"] = keep * state["moving_mean"] + (1 - keep) * mean
                    state["moving_var"] = keep * state["moving_var"] + (1 - keep) * stored
                cache = {"x": x, "x_hat": x_hat, "y": y, "mean": mean, "var": var}
            results.append(
                {
                    "y": y,
                    "moving_mean": state["moving_mean"].copy(),
                    "moving_var": state["moving_var"].copy(),
                }
            )
            continue
        dout = f64(step[1])
        x = cache["x"]
        if values["backward_stats"] == "moving":
            mean, var = state["moving_mean"], state["moving_var"]
            x_hat = (x - mean) / np.sqrt(var + eps)
        else:
            var = cache["var"]
            x_hat = cache["y"] if values["cache"] == "y" else cache["x_hat"]
        gamma = state["gamma"] if values["dx_gamma"] else np.ones_like(state["gamma"])
        m = len(x)
        dbeta = dout.sum(axis=0)
        dgamma = (dout * (x if values["cache"] == "x in dgamma" else x_hat)).sum(axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        if values["backward_stats"] == "constants":
            dx = gamma * inv_std * dout
        else:
            dx = gamma * inv_std / m * (m * dout - dbeta - x_hat * (dout * x_hat).sum(axis=0))
        if values["param_grads"] == "mean":
            dgamma, dbeta = dgamma / m, dbeta / m
        elif values["param_grads"] == "per sample":
            dbeta = dout.copy()
            dgamma = dout * (x if values["cache"] == "x in dgamma" else x_hat)
        results.append({"dx": dx, "dgamma": dgamma, "dbeta": dbeta})
    return results


def _variants(max_wrong: int = 2) -> list[tuple[list[str], dict[str, Any]]]:
    singles = [(d, v) for d, variants in MISTAKES.items() for v in variants]
    found = []
    for count in range(1, max_wrong + 1):
        for combo in itertools.combinations(singles, count):
            names = [choice for _, (choice, _) in combo]
            if len(set(names)) < count:
                continue
            values = dict(CORRECT)
            for _, (choice, value) in combo:
                values[choice] = value
            found.append((list(dict.fromkeys(d for d, _ in combo)), values))
    return found


_VARIANTS = _variants()


# ---------------------------------------------------------------------------
# BatchNormLayer: judging the records.
# ---------------------------------------------------------------------------


def _script_text(args: dict[str, Any], upto: int) -> str:
    options = "".join(f", {name}={value:g}" for name, value in args["options"].items())
    parts = [f"layer = BatchNormLayer({args['features']}{options})"]
    call = 0
    for step in args["script"]:
        if call >= upto:
            break
        if step[0] == "set":
            parts.append(f"layer.{step[1]} = {step[1]}")
            continue
        call += 1
        if step[0] == "forward":
            parts.append(f"layer.forward(x{call}, training={step[2]})")
        else:
            parts.append(f"layer.backward(dout{call})")
    return "; ".join(parts)


def _difference(step: dict[str, Any], wanted: dict[str, np.ndarray]) -> str | None:
    """A sentence about the first recorded quantity that differs, or None."""
    for name, expected in wanted.items():
        got = array_from_json(step.get(name))
        if got is None:
            text = (step.get(name) or {}).get("text", "nothing")
            where = "returned" if name in ("y", "dx") else f"left self.{name} as"
            return f"{where} {text}, not an array"
        if got.shape != expected.shape and got.size == expected.size:
            got = got.reshape(expected.shape)
        if got.shape != expected.shape:
            return f"{name} has shape {tuple(got.shape)}; expected {tuple(expected.shape)}"
        if not close(got, expected):
            if expected.ndim == 2:
                differs = ~np.isclose(got, expected, rtol=1e-4, atol=1e-5)
                index = tuple(int(i) for i in np.argwhere(differs)[0]) if differs.any() else (0, 0)
                return (
                    f"{name}[{index[0]}, {index[1]}] expected {expected[index]:.6g}, got "
                    f"{got[index]:.6g} ({int(differs.sum())} of {expected.size} values differ)"
                )
            with np.printoptions(precision=4, suppress=True, threshold=8):
                return f"{name} expected {np.float32(expected)}, got {np.float32(got)}"
    return None


def _matches(record: dict[str, Any], simulated: list[dict[str, np.ndarray]]) -> bool:
    return all(
        _difference(step, wanted) is None
        for step, wanted in zip(record["steps"], simulated, strict=False)
    )


def _explain(cases: list[Case], records: dict[int, dict[str, Any]]) -> list[str] | None:
    usable = {i: r for i, r in records.items() if r.get("steps")}
    if not usable:
        return None
    for diagnoses, values in _VARIANTS:
        if all(_matches(r, simulate_bn_layer(cases[i].args, values)) for i, r in usable.items()):
            return diagnoses
    return None


def _mistake(exercise: Exercise, diagnosis: str, lead: str = "") -> Finding:
    entry = exercise.wording.get(diagnosis, DIAGNOSES[diagnosis])
    text = f"{lead} {entry.explanation}" if lead else entry.explanation
    return Finding("mistake", text, entry.title, entry.hint, diagnosis=diagnosis)


def _failing_case(case: Case, number: int, step: dict[str, Any] | None, error: str) -> FailingCase:
    args: dict[str, Any] = {"features": case.args["features"], **case.args["options"]}
    call = 0
    for entry in case.args["script"]:
        if call >= number:
            break
        if entry[0] == "set":
            args[entry[1]] = np.array(entry[2], copy=True)
            continue
        call += 1
        args[("x" if entry[0] == "forward" else "dout") + str(call)] = np.array(entry[1])
    wanted = simulate_bn_layer(case.args, CORRECT)[number - 1]
    got: dict[str, np.ndarray] = {}
    for name in wanted:
        value = array_from_json(step.get(name)) if step is not None else None
        if value is not None:
            got[name] = np.asarray(value, dtype=np.float32)
    return FailingCase(
        f"{_script_text(case.args, number)} (replay it with the arguments below)",
        args,
        expected={name: np.asarray(v, dtype=np.float32) for name, v in wanted.items()},
        got=got,
        error=error,
    )


def judge_bn_layer(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """Score the recorded scripts and name the mistake behind a wrong layer."""
    if untouched(observations):
        return not_attempted(exercise, cases)
    reports: list[CaseReport] = []
    records: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    mutated: list[str] = []
    first: tuple[int, int, str, dict[str, Any] | None, str] | None = None
    for index, (case, observation) in enumerate(zip(cases, observations, strict=True)):
        label = case.label
        record = decode_record(observation.returned) if observation.status == "ok" else None
        if record is None:
            message = f"On {label}, your layer raised {observation.error or 'an error'}."
            if observation.status == "timeout":
                message = f"On {label}, your layer {observation.error}: a loop that never ends?"
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        if "not_a_class" in record or "construct_error" in record or record.get("missing"):
            if "not_a_class" in record:
                message = (
                    f"check expected the class itself, got a {record['not_a_class']}: "
                    'check("BatchNormLayer", BatchNormLayer).'
                )
            elif "construct_error" in record:
                message = f"On {label}, the constructor raised {record['construct_error']}."
            else:
                message = (
                    f"On {label}, a new layer has no {', '.join(record['missing'])}: the "
                    "contract names the attributes gamma, beta, moving_mean and moving_var."
                )
            reports.append(CaseReport(label, case.kind, False, message))
            problems.append(message)
            continue
        records[index] = record
        expected = simulate_bn_layer(case.args, CORRECT)
        good, message = True, ""
        for number, step in enumerate(record["steps"], start=1):
            if step["x_changed"]:
                mutated.append(f"{step['op']} changed its input (in {label})")
            difference = _difference(step, expected[number - 1])
            if difference is not None and good:
                message = f"On {label}, after {_script_text(case.args, number)}: {difference}."
                good = False
                if first is None:
                    first = (index, number, message, step, "")
        if "call_error" in record:
            number = len(record["steps"]) + 1
            sentence = (
                f"On {label}, after {_script_text(case.args, number)}: raised "
                f"{record['call_error']}."
            )
            if good:
                message, good = sentence, False
                if first is None:
                    first = (index, number, sentence, None, record["call_error"])
            problems.append(sentence)
        reports.append(CaseReport(label, case.kind, good, message))

    explained = _explain(cases, records) if first is not None and first[3] is not None else None
    diagnoses = list(explained or [])
    if mutated:
        diagnoses.append("mutates-input")
    passed_count = sum(report.passed for report in reports)
    passed = passed_count == len(cases) and not mutated
    score = round(exercise.max_score * passed_count / len(cases) / (2 if mutated else 1), 2)
    status = "passed" if passed else ("failed" if records else "error")
    findings: list[Finding] = []
    failing = None
    if not passed:
        lead = first[2] if first is not None else ""
        for position, diagnosis in enumerate(diagnoses):
            findings.append(_mistake(exercise, diagnosis, lead if position == 0 else ""))
        if mutated:
            findings.append(Finding("problem", mutated[0]))
        if not diagnoses:
            findings.extend(Finding("problem", p) for p in problems[:1])
            if first is not None and first[2] not in problems[:1]:
                findings.append(Finding("evidence", first[2]))
            if first is not None and first[3] is not None:
                findings.append(
                    Finding(
                        "evidence",
                        "No common mistake matches these numbers. Replay the calls below on "
                        "your layer and compare each value with yours.",
                    )
                )
        if first is not None and not first[4].startswith("NotImplementedError"):
            failing = _failing_case(cases[first[0]], first[1], first[3], first[4])
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=score,
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        findings=findings,
        failing=failing,
    )


_LAYER_WORDING = {
    "momentum-reversed": Diagnosis(
        "momentum-reversed",
        "the momentum weights the new batch instead of the old average",
        "After a training call your moving statistics moved most of the way to the batch's: "
        "the layer's momentum weighted the new batch. Keras's momentum is the weight of the "
        "OLD moving value, as in lesson 04.",
        "Which of the two values should self.momentum multiply?",
    ),
    "backward-ignores-batch-stats": Diagnosis(
        "backward-ignores-batch-stats",
        "the backward pass treats the batch mean and variance as constants",
        "Your dx is gamma * dout / sqrt(var + eps): the gradient of inference-mode BN. In a "
        "training step the mean and variance were computed from this very batch, so dx also "
        "flows through them (lesson 05's three paths); without them the network still "
        "trains, but on a wrong gradient.",
        "Lesson 05's backward pass: which two nodes of the graph does your dx skip?",
    ),
}

_LAYER_HINTS = (
    "backward(dout) runs after forward(x, training=True) on the same batch. Which numbers "
    "from that forward call does the backward pass need, and where does the layer keep them "
    "until then? Which statistics did that forward call normalize with?",
    "In forward with training=True, keep x_hat, the batch variance (or 1 / sqrt(var + eps)) "
    "and gamma on the layer (a cache), then update the moving statistics as in lesson 04. "
    "In backward, with m rows: dbeta = sum of dout over the batch, dgamma = sum of dout * "
    "x_hat over the batch, and dx is lesson 05's formula, gamma / (m * sqrt(var + eps)) * "
    "(m * dout - dbeta - x_hat * dgamma).",
    "def forward(self, x, training=False):\n"
    "    if not training:\n"
    "        return self.gamma * (x - self.moving_mean) / np.sqrt(...) + self.beta\n"
    "    mean, var = x.mean(axis=0), x.var(axis=0)\n"
    "    x_hat = (x - mean) / np.sqrt(var + self.epsilon)\n"
    "    self.cache = (x_hat, var)\n"
    "    self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean\n"
    "    ...  # moving_var alike; return gamma * x_hat + beta\n"
    "def backward(self, dout):\n"
    "    x_hat, var = self.cache\n"
    "    self.dbeta = dout.sum(axis=0)\n"
    "    self.dgamma = ...\n"
    "    return self.gamma / (len(dout) * np.sqrt(var + self.epsilon)) * (...)",
)


# ---------------------------------------------------------------------------
# fold_conv_bn
# ---------------------------------------------------------------------------


def _fold_cases(rng: np.random.Generator) -> list[Case]:
    def params(kernel_shape: tuple[int, ...], with_bias: bool) -> dict[str, Any]:
        channels = kernel_shape[-1]
        var = rng.uniform(0.5, 3.0, channels).astype(np.float32)
        var[0] = 2e-4  # small, so where epsilon sits shows
        return {
            "kernel": rng.normal(size=kernel_shape).astype(np.float32),
            "bias": rng.normal(size=channels).astype(np.float32) if with_bias else None,
            "gamma": rng.uniform(0.5, 2.0, channels).astype(np.float32),
            "beta": rng.normal(size=channels).astype(np.float32),
            "mean": rng.normal(size=channels).astype(np.float32),
            "var": var,
        }

    return [
        Case("a (3, 3, 4, 4) kernel with a bias", params((3, 3, 4, 4), True), "conv"),
        Case(
            "a (2, 2, 3, 3) kernel with bias=None",
            params((2, 2, 3, 3), False),
            "conv",
            remark="Here bias is None, as for a Conv2D built with use_bias=False: treat it "
            "as zeros.",
        ),
        Case(
            "a (3, 3, 2, 5) kernel: 2 input and 5 output channels",
            params((3, 3, 2, 5), True),
            "conv",
        ),
        Case(
            "a (3, 3, 4, 4) kernel with a bias, eps=0.1",
            {**params((3, 3, 4, 4), True), "eps": 0.1},
            "conv",
        ),
    ]


def _fold(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    kernel = f64(args["kernel"])
    channels = kernel.shape[-1]
    bias = np.zeros(channels) if args["bias"] is None else f64(args["bias"])
    gamma, beta = f64(args["gamma"]), f64(args["beta"])
    mean, var = f64(args["mean"]), f64(args["var"])
    scale = gamma / denominator(var, values["eps"], values["denominator"])
    axis = values["axis"]
    shape = [1] * kernel.ndim
    shape[axis] = kernel.shape[axis]
    if kernel.shape[axis] > channels:  # this mistake cannot run on this kernel
        return np.full(1, np.nan), np.full(1, np.nan)
    new_bias = folded_bias(values["bias"], bias, mean, scale, beta)
    # a loop over the input channels uses the first in_channels scales
    return kernel * scale[: kernel.shape[axis]].reshape(shape), new_bias


FOLD_CONV = Family(
    choices_for=lambda args: (
        Choice(
            "axis",
            (Option(3), Option(2, "fold-scales-input-axis")),
        ),
        fold_bias_choice(args),
        DENOMINATOR_CHOICE,
        eps_choice(args),
    ),
    compute=_fold,
)

_FOLD_HINTS = (
    "A Conv2D kernel has shape (height, width, in_channels, out_channels). BN then scales "
    "and shifts each output channel by its own numbers: which axis of the kernel belongs to "
    "one output channel, and what does scaling that channel's output do to its weights?",
    "Per output channel c, inference-mode BN is the straight line s_c * z + t_c with s = gamma "
    "/ sqrt(var + eps) and t = beta - s * mean. A convolution is linear in its kernel, so "
    "scaling output channel c by s_c scales the slice kernel[..., c]. New kernel: each "
    "[..., c] slice times s_c; new bias: (bias - mean) * s + beta, with bias None read as 0.",
    "scale = gamma / np.sqrt(var + eps)   # shape (out,)\n"
    "new_kernel = kernel * scale          # broadcasts along the LAST axis\n"
    "bias = np.zeros_like(...) if bias is None else bias\n"
    "new_bias = (bias - ...) * ... + beta\n"
    "return new_kernel.astype(np.float32), new_bias.astype(np.float32)",
)


# ---------------------------------------------------------------------------
# choose_placement
# ---------------------------------------------------------------------------

DECISIONS = ("before", "after", "tie")


def _ranges(before: np.ndarray, after: np.ndarray, values: dict[str, str]) -> str:
    """The decision each rule makes on two placements' accuracies (the correct rule, and
    the mistakes ``DECISION_RULES`` names)."""
    rule = values["rule"]
    if rule == "one seed":
        b, a = before[0], after[0]
    elif rule == "best seeds":
        b, a = before.max(), after.max()
    elif rule == "means":
        b, a = before.mean(), after.mean()
    elif rule == "worst vs mean":
        b = "before" if before.min() > after.mean() else None
        a = "after" if after.min() > before.mean() else None
        return b or a or "tie"
    elif rule == "constant":
        return values["answer"]
    else:  # ranges, with > (the contract) or >=
        strict = rule == "ranges"
        if (before.min() > after.max()) if strict else (before.min() >= after.max()):
            decision = "before"
        elif (after.min() > before.max()) if strict else (after.min() >= before.max()):
            decision = "after"
        else:
            decision = "tie"
        if values.get("swapped"):
            decision = {"before": "after", "after": "before"}.get(decision, decision)
        return decision
    return "before" if b > a else ("after" if a > b else "tie")


DECISION_RULES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("decides-without-measuring", {"rule": "constant", "answer": "before"}),
    ("decides-without-measuring", {"rule": "constant", "answer": "after"}),
    ("decides-without-measuring", {"rule": "constant", "answer": "tie"}),
    ("decision-labels-swapped", {"rule": "ranges", "swapped": True}),
    ("decides-from-one-seed", {"rule": "one seed"}),
    ("compares-best-seeds", {"rule": "best seeds"}),
    ("ignores-seed-spread", {"rule": "means"}),
    ("touching-ranges-win", {"rule": "ranges or equal"}),
    ("winner-despite-overlap", {"rule": "worst vs mean"}),
)
"""The mistakes the judge recognizes, each as the rule that makes it (first match wins)."""


def _accuracies(values: list[float], as_array: bool) -> Any:
    return np.array(values, dtype=np.float32) if as_array else list(values)


def _decision_cases(rng: np.random.Generator) -> list[Case]:
    del rng  # fixed, readable tests: each one separates the rules
    tests = [
        ("BN before wins on every seed", [0.95, 0.96, 0.94], [0.90, 0.92, 0.91], True),
        ("BN after wins on every seed", [0.81, 0.83, 0.80], [0.88, 0.86, 0.87], False),
        (
            "the ranges overlap; before has the higher mean and the best seed",
            [0.93, 0.97, 0.95],
            [0.94, 0.92, 0.93],
            True,
        ),
        (
            "the ranges overlap; after has the best seed, before the higher mean",
            [0.95, 0.94, 0.96],
            [0.90, 0.97, 0.91],
            False,
        ),
        (
            "the ranges touch: before's worst seed equals after's best",
            [0.92, 0.95, 0.93],
            [0.90, 0.92, 0.91],
            True,
        ),
        (
            "the ranges overlap; before's worst seed beats after's mean",
            [0.93, 0.95, 0.96],
            [0.90, 0.91, 0.94],
            False,
        ),
        (
            "5 seeds before, 3 after; after wins on every seed",
            [0.70, 0.74, 0.72, 0.69, 0.75],
            [0.80, 0.78, 0.79],
            True,
        ),
    ]
    cases = [
        Case(label, {"before": _accuracies(b, arr), "after": _accuracies(a, arr)}, "table")
        for label, b, a, arr in tests
    ]
    cases += [
        Case(
            "one seed for before (two for after)",
            {"before": _accuracies([0.95], True), "after": _accuracies([0.90, 0.91], True)},
            "table",
            remark="before holds one seed: the contract asks for a ValueError naming it.",
        ),
        Case(
            "one seed for after (three for before)",
            {"before": [0.90, 0.91, 0.93], "after": [0.97]},
            "table",
            remark="after holds one seed: the contract asks for a ValueError naming it.",
        ),
    ]
    return cases


def _short_of_seeds(case: Case) -> str | None:
    """The argument with fewer than two seeds (the one the ValueError must name)."""
    for name in ("before", "after"):
        if len(case.args[name]) < 2:
            return name
    return None


def expected_decision(case: Case, values: dict[str, Any] | None = None) -> str:
    """What the rule ``values`` (the contract's by default) answers on ``case``."""
    before = np.asarray(case.args["before"], dtype=np.float64)
    after = np.asarray(case.args["after"], dtype=np.float64)
    return _ranges(before, after, values or {"rule": "ranges"})


def invoke_decision(fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """The learner's side: call ``fn(before, after)`` and record what it answered."""

    def decide(before: Any, after: Any) -> np.ndarray:
        value = fn(before, after)
        if isinstance(value, str):
            return encode_record({"decision": str(value)})
        return encode_record({"other": type(value).__name__, "text": repr(value)[:80]})

    decide.__name__ = getattr(fn, "__name__", "choose_placement")
    return decide


def _answer(observation: Observation) -> tuple[str, str]:
    """("decision", text), ("other", description) or ("raised", error text)."""
    if observation.status != "ok":
        return "raised", observation.error or observation.status
    record = decode_record(observation.returned)
    if record is None:
        return "other", "something the check could not read"
    if "decision" in record:
        return "decision", record["decision"]
    return "other", f"{record['text']} (a {record['other']})"


def _quoted(value: Any) -> str:
    return f"{value!r}" if isinstance(value, str) else str(value)


def _one_seed_report(case: Case, kind: str, text: str) -> tuple[bool, str]:
    """(passed, message) for a case where an argument holds a single seed."""
    short = _short_of_seeds(case)
    if kind != "raised":
        return False, f"On {case.label}, your function answered {text!r} instead of raising."
    if not text.startswith("ValueError"):
        return False, f"On {case.label}, your function raised {text}; expected a ValueError."
    if short not in text.split(" (line ")[0]:
        return False, (
            f"On {case.label}, your ValueError ({text}) does not name the argument {short!r}."
        )
    return True, ""


def _rule_report(case: Case, kind: str, text: str) -> tuple[bool, str]:
    """(passed, message) for a case with at least two seeds per placement."""
    wanted = expected_decision(case)
    if kind == "decision" and text == wanted:
        return True, ""
    if kind == "decision" and text in DECISIONS:
        got = repr(text)
    elif kind == "decision":
        got = f"{text!r}, which is not one of {', '.join(map(repr, DECISIONS))}"
    elif kind == "other":
        got = f"{text}; the contract asks for a str"
    else:
        got = f"an error, {text}"
    return False, f"On {case.label}: expected {wanted!r}, got {got}."


def _decision_failing(case: Case, kind: str, text: str) -> FailingCase:
    short = _short_of_seeds(case)
    wanted = f"a ValueError naming {short!r}" if short else expected_decision(case)
    return FailingCase(
        case.label,
        {name: copy.deepcopy(value) for name, value in case.args.items()},
        expected={"answer": wanted},
        got={} if kind == "raised" else {"answer": text},
        error=text if kind == "raised" else "",
    )


def judge_decision(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """Score the answers; name the rule behind wrong decisions (``DECISION_RULES``), a
    decision from one seed (``accepts-one-seed``) and modified inputs."""
    if untouched(observations):
        return not_attempted(exercise, cases)
    answers = [_answer(observation) for observation in observations]
    reports: list[CaseReport] = []
    wrong_rule: list[int] = []
    wrong_one_seed: list[int] = []
    for index, (case, (kind, text)) in enumerate(zip(cases, answers, strict=True)):
        one_seed = _short_of_seeds(case) is not None
        good, message = (_one_seed_report if one_seed else _rule_report)(case, kind, text)
        if not good:
            (wrong_one_seed if one_seed else wrong_rule).append(index)
        reports.append(CaseReport(case.label, case.kind, good, message))
    findings: list[Finding] = []
    diagnoses: list[str] = []
    ruled = [i for i, case in enumerate(cases) if _short_of_seeds(case) is None]
    if wrong_rule:
        lead = reports[wrong_rule[0]].message
        if all(answers[i][0] == "decision" and answers[i][1] in DECISIONS for i in ruled):
            for diagnosis, values in DECISION_RULES:
                if all(expected_decision(cases[i], values) == answers[i][1] for i in ruled):
                    diagnoses.append(diagnosis)
                    findings.append(_mistake(exercise, diagnosis, lead))
                    break
        if not diagnoses:
            findings.append(Finding("problem", lead))
    if wrong_one_seed:
        index = wrong_one_seed[0]
        lead = reports[index].message
        if answers[index][0] != "raised":
            diagnoses.append("accepts-one-seed")
            findings.append(_mistake(exercise, "accepts-one-seed", lead))
        else:
            findings.append(Finding("problem", lead))
    mutated = sorted({name for observation in observations for name in observation.mutated})
    if mutated:
        diagnoses.append("mutates-input")
        findings.append(
            _mistake(exercise, "mutates-input", f"Your function changed {', '.join(mutated)}.")
        )
    passed_count = sum(report.passed for report in reports)
    passed = passed_count == len(cases) and not mutated
    score = round(exercise.max_score * passed_count / len(cases) / (2 if mutated else 1), 2)
    if passed:
        status = "passed"
    else:
        status = "error" if all(kind == "raised" for kind, _ in answers) else "failed"
    failing = None
    named_rule = bool(diagnoses) and diagnoses[0] in {d for d, _ in DECISION_RULES}
    unexplained = [i for i in wrong_rule if not named_rule] + [
        i for i in wrong_one_seed if "accepts-one-seed" not in diagnoses
    ]
    if unexplained:
        first = min(unexplained)
        failing = _decision_failing(cases[first], *answers[first])
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=score,
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        findings=findings,
        failing=failing,
    )


_DECISION_HINTS = (
    "Three seeds of each placement give two small clouds of numbers. When could you say "
    "that one placement did better on every seed, whatever the luck of the draw? Which "
    "single seed of each placement settles that, and what is left to say when the clouds "
    "mingle?",
    "One placement wins only when its worst seed beats the other's best seed (strictly); "
    "if neither placement's worst seed beats the other's best, answer 'tie'. Check the "
    "lengths first: fewer than two seeds in an argument is a ValueError that names it.",
    "before, after = np.asarray(before), np.asarray(after)\n"
    'for name, runs in (("before", before), ("after", after)):\n'
    "    if len(runs) < 2:\n"
    '        raise ValueError(f"{name} needs ...")\n'
    "if before.min() > after.max():\n"
    '    return "before"\n'
    "if ...:\n"
    '    return "after"\n'
    "return ...",
)


EXERCISES = [
    Exercise(
        "BatchNormLayer",
        LESSON,
        "BatchNormLayer(features, momentum=0.99, epsilon=1e-3); layer.forward(x, training); "
        "layer.backward(dout)",
        ("record",),
        _layer_cases,
        None,
        custom_judge=judge_bn_layer,
        custom_invoke=invoke_bn_layer,
        wording=_LAYER_WORDING,
        hints=_LAYER_HINTS,
    ),
    Exercise(
        "fold_conv_bn",
        LESSON,
        "fold_conv_bn(kernel, bias, gamma, beta, mean, var, eps=1e-3)",
        ("kernel", "bias"),
        _fold_cases,
        FOLD_CONV,
        hints=_FOLD_HINTS,
    ),
    Exercise(
        "choose_placement",
        LESSON,
        "choose_placement(before, after)",
        ("answer",),
        _decision_cases,
        None,
        custom_judge=judge_decision,
        custom_invoke=invoke_decision,
        hints=_DECISION_HINTS,
    ),
]
