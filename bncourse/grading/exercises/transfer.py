"""Lesson 10 (BN in deployment): ``adapt_statistics`` (AdaBN in NumPy) and
``freeze_bn_layers`` (a Keras model whose BN layers stay fixed under ``fit``).

``adapt_statistics`` is an array exercise: a stack of Dense -> BN -> ReLU blocks, given as
arrays, meets new inputs, and the learner returns every BN layer's re-estimated moving
mean and variance. Its family's choices are which tensor the statistics describe, whether
later blocks see inputs normalized with the new or the old statistics, whether the new
statistics replace the old ones or are blended in with a momentum, the variance, the axes,
epsilon and the kernel's orientation.

``freeze_bn_layers`` is checked by behaviour. Its ``invoke_freeze`` (learner side) builds
a small compiled model with a pretrained base nested inside it and trains it for a step,
as a fine-tuning script would have; then it calls the learner's function, trains two more
steps the way ``fit`` does (``train_on_batch`` runs fit's compiled step) and describes what
changed: every layer's ``trainable`` flag, which weights and statistics moved, the
optimizer, and what the function returned. ``judge_freeze`` names the misconception from
that description alone. Keras is imported only when this check runs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.execution import Observation, Returned
from bncourse.grading.families import (
    Choice,
    Family,
    Option,
    axes_choice,
    f64,
    squeezed,
)
from bncourse.grading.judge import mistake, not_attempted, untouched
from bncourse.grading.result import CaseReport, CheckResult, FailingCase, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = [
    "EXERCISES",
    "FREEZE_MODEL",
    "build_freeze_model",
    "invoke_freeze",
    "judge_freeze",
    "describe_freeze",
]

LESSON = "10_bn_in_deployment"


# ---------------------------------------------------------------------------
# adapt_statistics: AdaBN on a stack of Dense -> BN -> ReLU blocks.
# ---------------------------------------------------------------------------


def _adapt_args(
    rng: np.random.Generator, x: np.ndarray, blocks: int, **extra: Any
) -> dict[str, Any]:
    channels = x.shape[-1]
    kernels = rng.normal(0.0, 1.0 / np.sqrt(channels), (blocks, channels, channels))
    return {
        "x": x,
        "kernels": kernels.astype(np.float32),
        "gamma": rng.uniform(0.5, 2.0, (blocks, channels)).astype(np.float32),
        "beta": rng.uniform(-1.0, 0.5, (blocks, channels)).astype(np.float32),
        "moving_mean": rng.uniform(-1.0, 1.0, (blocks, channels)).astype(np.float32),
        "moving_var": rng.uniform(0.3, 3.0, (blocks, channels)).astype(np.float32),
        **extra,
    }


def _shifted(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """New data: every feature shifted and rescaled away from what the old statistics saw."""
    channels = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 2.5, channels) + rng.uniform(1.0, 3.0, channels)
    return x.astype(np.float32)


def _adapt_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(
            "a (6, 3) batch through 1 block",
            _adapt_args(rng, np.round(_shifted(rng, (6, 3)), 3), 1),
            "dense",
        ),
        Case(
            "an (8, 4) batch through 3 blocks", _adapt_args(rng, _shifted(rng, (8, 4)), 3), "dense"
        ),
        Case(
            "a (2, 3, 3, 4) batch of feature maps through 3 blocks (Dense acts on the last "
            "axis, like a 1x1 convolution)",
            _adapt_args(rng, _shifted(rng, (2, 3, 3, 4)), 3),
            "conv",
        ),
        Case(
            "a (10, 5) batch through 3 blocks with eps=0.5",
            _adapt_args(rng, _shifted(rng, (10, 5)), 3, eps=0.5),
            "dense",
        ),
    ]


_UPDATE_CHOICE = Choice(
    "update",
    (Option(("replace", None)),)
    + tuple(
        Option((chain, momentum), "adapt-blends-statistics")
        for chain in ("batch", "stored")
        for momentum in (0.99, 0.9, 0.1)
    ),
)


def _adapt(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple[np.ndarray, ...]:
    x = f64(args["x"])
    kernels = [f64(k) for k in args["kernels"]]
    gamma, beta = f64(args["gamma"]), f64(args["beta"])
    old_mean, old_var = f64(args["moving_mean"]), f64(args["moving_var"])
    eps = values["eps"]
    update, momentum = values["update"]
    h, means, variances = x, [], []
    for k, kernel in enumerate(kernels):
        z = h @ (kernel.T if values["kernel"] == "transposed" else kernel)
        axes = tuple(range(z.ndim - 1))
        batch_mean, batch_var = z.mean(axis=axes), z.var(axis=axes)

        def normalize(mean: np.ndarray, var: np.ndarray, z: np.ndarray = z, k: int = k) -> Any:
            scale = np.sqrt(var + eps) if values["chain_eps"] == "with" else np.sqrt(var)
            with np.errstate(divide="ignore", invalid="ignore"):
                return gamma[k] * (z - mean) / scale + beta[k]

        tapped = {
            "z": z,
            "bn-output": normalize(old_mean[k], old_var[k]),
            "relu-output": np.maximum(normalize(old_mean[k], old_var[k]), 0.0),
            "block-input": h,
        }[values["tap"]]
        tap_axes = values["axes"]
        mean = squeezed(tapped.mean(axis=tap_axes, keepdims=True), tap_axes)
        count = int(np.prod([tapped.shape[a] for a in tap_axes]))
        centered = tapped - tapped.mean(axis=tap_axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = squeezed((centered**2).sum(axis=tap_axes, keepdims=True), tap_axes) / (
                count - values["ddof"]
            )
        if np.shape(mean) != batch_mean.shape:  # statistics of the wrong shape: no match
            return (np.full((len(kernels),) + np.shape(mean), np.nan),) * 2
        if update == "replace":
            stored_mean, stored_var = mean, var
        else:
            stored_mean = momentum * old_mean[k] + (1 - momentum) * mean
            stored_var = momentum * old_var[k] + (1 - momentum) * var
        means.append(stored_mean)
        variances.append(stored_var)
        if values["chain"] == "old":
            y = normalize(old_mean[k], old_var[k])
        elif update == "batch":  # a training-mode pass: BN normalizes with the batch
            y = normalize(batch_mean, batch_var)
        else:
            y = normalize(stored_mean, stored_var)
        h = np.maximum(y, 0.0)
    return np.stack(means), np.stack(variances)


def _adapt_eps_choice(args: dict[str, Any]) -> Choice:
    if "eps" in args:
        return Choice(
            "eps", (Option(float(args["eps"])), Option(1e-3, "ignores-eps-argument")), per_case=True
        )
    return Choice("eps", (Option(1e-3), Option(1e-5, "wrong-eps-default")), per_case=True)


ADAPT = Family(
    choices_for=lambda args: (
        Choice(
            "tap",
            (
                Option("z"),
                Option("bn-output", "adapt-wrong-tensor"),
                Option("relu-output", "adapt-wrong-tensor"),
                Option("block-input", "adapt-wrong-tensor"),
            ),
        ),
        Choice("chain", (Option("new"), Option("old", "adapt-stale-upstream"))),
        _UPDATE_CHOICE,
        Choice("ddof", (Option(0), Option(1, "unbiased-variance"))),
        Choice("kernel", (Option("as-given"), Option("transposed", "adapt-transposed-kernel"))),
        Choice("chain_eps", (Option("with"), Option("without", "missing-eps"))),
        axes_choice(np.ndim(args["x"])),
        _adapt_eps_choice(args),
    ),
    compute=_adapt,
)

_ADAPT_WORDING = {
    "missing-eps": Diagnosis(
        "missing-eps",
        "the blocks are normalized without epsilon",
        "To compute what reaches the next BN layer, each block runs BN in inference mode, "
        "which divides by sqrt(moving_var + eps). Without eps the inputs of every later block "
        "come out slightly (or, for a small variance, very) different.",
        "Use the eps argument where a block normalizes, inside the square root.",
    ),
}


# ---------------------------------------------------------------------------
# freeze_bn_layers: checked by what fit does to the model afterwards.
# ---------------------------------------------------------------------------

FREEZE_MODEL = (
    "a compiled model (SGD) that has been trained for a step: a pretrained base, nested as a "
    "model of its own (Dense 'features_1' -> BN 'bn_1' -> ReLU -> Dense 'features_2' -> BN "
    "'norm_2' -> ReLU), then Dense 'mix' -> BN 'batch_normalization' -> ReLU -> Dense "
    "'classes'"
)
"""The model the check passes to ``freeze_bn_layers`` (the case's description)."""

_BN_NAMES = ("bn_1", "norm_2", "batch_normalization")
_LEARNING_RATE = 0.1


def build_freeze_model(seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
    """The model of ``FREEZE_MODEL``, compiled and trained for one step, and its data."""
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inputs = keras.Input((6,), name="pixels")
    h = layers.Dense(5, use_bias=False, name="features_1")(inputs)
    h = layers.BatchNormalization(name="bn_1")(h)
    h = layers.ReLU(name="relu_1")(h)
    h = layers.Dense(5, use_bias=False, name="features_2")(h)
    h = layers.BatchNormalization(name="norm_2")(h)
    h = layers.ReLU(name="relu_2")(h)
    base = keras.Model(inputs, h, name="pretrained_base")
    outer_inputs = keras.Input((6,), name="inputs")
    z = base(outer_inputs)
    z = layers.Dense(4, use_bias=False, name="mix")(z)
    z = layers.BatchNormalization(name="batch_normalization")(z)
    z = layers.ReLU(name="relu_3")(z)
    z = layers.Dense(3, name="classes")(z)
    model = keras.Model(outer_inputs, z, name="fine_tuned")
    for layer in _weighted_layers(model):
        layer.set_weights(
            [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()]
        )
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([np.abs(gamma) + 0.5, beta, mean, np.abs(var) + 0.5])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=_LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    x = (rng.normal(size=(16, 6)) * 2.0 + 1.0).astype(np.float32)
    y = rng.integers(0, 3, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.train_on_batch(x, y)
    return model, x, y


def _weighted_layers(model: Any) -> list[Any]:
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_weighted_layers(layer))
        elif layer.weights:
            found.append(layer)
    return found


def _snapshot(layers: list[Any]) -> dict[str, dict[str, np.ndarray]]:
    return {
        layer.name: {
            v.path.rsplit("/", 1)[-1]: np.array(v.numpy(), copy=True) for v in layer.weights
        }
        for layer in layers
    }


def _returned_names(value: Any) -> dict[str, Any]:
    if value is None:
        return {"kind": "none"}
    if isinstance(value, str):
        return {"kind": "str", "text": value[:200]}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return {"kind": "names", "names": sorted(items)}
        names = [getattr(item, "name", None) for item in items]
        if all(isinstance(name, str) for name in names):
            return {"kind": "layers", "names": sorted(names)}
        return {"kind": "other", "type": f"a {type(value).__name__} of {len(items)} items"}
    if isinstance(value, (int, np.integer)):
        return {"kind": "number", "value": int(value)}
    return {"kind": "other", "type": type(value).__name__}


def describe_freeze(
    model: Any, x: np.ndarray, y: np.ndarray, returned: Any, steps: int = 2
) -> dict:
    """Train ``model`` for ``steps`` fit steps and describe what moved (JSON-compatible)."""
    import keras

    layers = _weighted_layers(model)
    nested = {
        layer.name
        for sub in model.layers
        if isinstance(sub, keras.Model)
        for layer in _weighted_layers(sub)
    }
    flags = {layer.name: bool(layer.trainable) for layer in layers}
    variable_flags = {
        layer.name: all(
            bool(v.trainable)
            for v in layer.trainable_weights + layer.non_trainable_weights
            if "moving" not in v.path
        )
        for layer in layers
    }
    before = _snapshot(layers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            model.train_on_batch(x, y)
    keras_warned = any("trainable" in str(w.message) for w in caught)
    after = _snapshot(layers)
    entries = []
    for layer in layers:
        moved = sorted(
            k
            for k in before[layer.name]
            if not np.array_equal(before[layer.name][k], after[layer.name][k])
        )
        entries.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "is_bn": isinstance(layer, keras.layers.BatchNormalization),
                "nested": layer.name in nested,
                "trainable": flags[layer.name],
                "variables_trainable": variable_flags[layer.name],
                "moved": moved,
            }
        )
    optimizer = getattr(model, "optimizer", None)
    learning_rate = None
    try:
        learning_rate = float(np.asarray(optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - an exotic optimizer must not break the check
        learning_rate = None
    return {
        "kind": "model",
        "layers": entries,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "learning_rate": learning_rate,
        "keras_warned": keras_warned,
        "returned": _returned_names(returned),
    }


def _encode(description: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(json.dumps(description).encode("utf-8"), dtype=np.uint8).copy()


def _decode(returned: Returned | None) -> dict[str, Any] | None:
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


def invoke_freeze(fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """The learner side: a fresh trained model (built before the check's timer starts), the
    learner's function on it, two fit steps, and a description of what moved."""
    model, x, y = build_freeze_model()

    def freeze_and_train(*_case_args: Any) -> np.ndarray:
        returned = fn(model)
        return _encode(describe_freeze(model, x, y, returned))

    freeze_and_train.__name__ = getattr(fn, "__name__", "freeze_bn_layers")
    return freeze_and_train


def _names(entries: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"'{e['name']}'" + (" (inside the nested base)" if e["nested"] else "") for e in entries
    )


def _analyse_freeze(description: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(diagnoses, their details, other problems) for one description."""
    layers = description["layers"]
    bn = [e for e in layers if e["is_bn"]]
    others = [e for e in layers if not e["is_bn"]]
    diagnoses: list[str] = []
    details: list[str] = []
    problems: list[str] = []

    weights_only = [
        e
        for e in bn
        if e["trainable"] and (not e["variables_trainable"] or "gamma" not in e["moved"])
    ]
    untouched_bn = [e for e in bn if e["trainable"] and e not in weights_only]
    stale = [e for e in bn if not e["trainable"] and e["moved"]]
    frozen_others = [e for e in others if not e["trainable"] or not e["variables_trainable"]]

    if frozen_others:
        diagnoses.append("freeze-too-much")
        details.append(f"No longer trained: {_names(frozen_others)}.")
    if untouched_bn:
        diagnoses.append("freeze-misses-bn-layers")
        details.append(f"Still trainable, and fit still trained them: {_names(untouched_bn)}.")
    if weights_only:
        diagnoses.append("freeze-bn-weights-only")
        moved = [e for e in weights_only if any("moving" in k for k in e["moved"])]
        details.append(
            f"The layers themselves are still trainable: {_names(weights_only)}"
            + (", and fit still moved their moving statistics." if moved else ".")
        )
    if stale:
        diagnoses.append("freeze-without-recompile")
        warned = (
            " Keras itself warned that a layer's trainable state had changed."
            if description.get("keras_warned")
            else ""
        )
        details.append(
            f"trainable is False on {_names(stale)}, but the next fit steps still changed "
            f"them.{warned}"
        )

    if description.get("optimizer") != "SGD" or (
        description.get("learning_rate") is not None
        and not np.isclose(description["learning_rate"], _LEARNING_RATE)
    ):
        problems.append(
            f"The model now trains with {description.get('optimizer')} (learning rate "
            f"{description.get('learning_rate')}); it came with SGD at learning rate "
            f"{_LEARNING_RATE}. Keep the optimizer and loss the model already has."
        )
    returned = description.get("returned", {})
    wanted = sorted(e["name"] for e in bn)
    kind = returned.get("kind")
    if kind == "none":
        problems.append(
            f"Your function returned None; return the names of the layers it froze, {wanted}."
        )
    elif kind == "layers":
        problems.append("Your function returned layer objects; return their names (a list of str).")
    elif kind == "names" and returned["names"] != wanted:
        problems.append(
            f"Your function returned {returned['names']}; the model's BN layers are {wanted}."
        )
    elif kind not in ("names", "layers"):
        what = returned.get("type") or returned.get("text") or returned.get("value")
        problems.append(
            f"Your function returned {what!r}; return the names of the BN layers it froze, "
            "as a list of str."
        )
    return diagnoses, details, problems


def judge_freeze(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """Score the descriptions and name the misconception behind a model that still moves."""
    if untouched(observations):
        return not_attempted(exercise, cases)
    reports: list[CaseReport] = []
    findings: list[Finding] = []
    diagnoses: list[str] = []
    failing = None
    for case, observation in zip(cases, observations, strict=True):
        if observation.status != "ok":
            if observation.status == "timeout":
                message = f"On {case.label}, your function {observation.error}."
            elif observation.status == "not-implemented":
                message = f"On {case.label}, your function raised NotImplementedError."
            else:
                message = f"On {case.label}, your function raised {observation.error}."
            reports.append(CaseReport(case.label, case.kind, False, message))
            findings.append(Finding("problem", message))
            failing = failing or FailingCase(case.label, dict(case.args), error=observation.error)
            continue
        description = _decode(observation.returned)
        if description is None:
            message = f"On {case.label}, the check could not read what your function did."
            reports.append(CaseReport(case.label, case.kind, False, message))
            findings.append(Finding("problem", message))
            continue
        case_diagnoses, details, problems = _analyse_freeze(description)
        good = not case_diagnoses and not problems
        reports.append(CaseReport(case.label, case.kind, good, "" if good else "see the findings"))
        for diagnosis, detail in zip(case_diagnoses, details, strict=True):
            if diagnosis not in diagnoses:
                diagnoses.append(diagnosis)
                findings.append(mistake(exercise, diagnosis, detail))
        findings.extend(Finding("problem", problem) for problem in problems)
        if not good and not case_diagnoses:
            bn = [e for e in description["layers"] if e["is_bn"]]
            failing = failing or FailingCase(
                case.label,
                dict(case.args),
                expected={"returned": str(sorted(e["name"] for e in bn))},
                got={"returned": str(description.get("returned"))},
            )
    passed_count = sum(report.passed for report in reports)
    passed = passed_count == len(cases)
    if passed:
        status = "passed"
    elif observations and all(o.status == "timeout" for o in observations):
        status = "timeout"
    elif all(o.status != "ok" for o in observations):
        status = "error"
    else:
        status = "failed"
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=round(exercise.max_score * passed_count / len(cases), 2),
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        findings=[] if passed else findings,
        failing=None if passed else failing,
    )


def _freeze_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("the fine-tuning model", {"model": FREEZE_MODEL}, "model")]


EXERCISES = [
    Exercise(
        "adapt_statistics",
        LESSON,
        "adapt_statistics(x, kernels, gamma, beta, moving_mean, moving_var, eps=1e-3)",
        ("moving_mean", "moving_var"),
        _adapt_cases,
        ADAPT,
        wording=_ADAPT_WORDING,
        hints=(
            "A BN layer's moving statistics describe the values that arrive at it. In a stack "
            "of blocks, what arrives at block 2 depends on block 1: which statistics should "
            "block 1 use when you compute block 2's input?",
            "Block by block: z = h @ kernel; the new moving mean and variance are z's mean "
            "and biased variance per feature, over every other axis (they replace the old "
            "ones); then h = ReLU(BN(z)) in inference mode with the new statistics, and on to "
            "the next block.",
            "h = x; for k in range(len(kernels)): z = h @ kernels[k]; axes = tuple(range(z.ndim "
            "- 1)); mean, var = z.mean(axes), z.var(axes); store them; h = np.maximum(gamma[k] "
            "* (z - mean) / np.sqrt(var + eps) + beta[k], 0). Return the stacked means and "
            "variances as float32.",
        ),
    ),
    Exercise(
        "freeze_bn_layers",
        LESSON,
        "freeze_bn_layers(model)",
        ("frozen",),
        _freeze_cases,
        custom_judge=judge_freeze,
        custom_invoke=invoke_freeze,
        hints=(
            "Section 1 showed what one setting does to a BN layer in Keras, and section 3 "
            "what fit does when you change that setting after compile(). Which layers of "
            "the model are BN layers, including those inside the nested base?",
            "Walk through model.layers, and into every layer that is itself a keras.Model; set "
            "trainable = False on each keras.layers.BatchNormalization you find and collect "
            "its name; then compile the model again with the optimizer and loss it already "
            "has.",
            "for layer in the layers you found: if isinstance(layer, "
            "keras.layers.BatchNormalization): layer.trainable = False; names.append(layer."
            "name). Then model.compile(optimizer=model.optimizer, loss=model.loss) and "
            "return names.",
        ),
    ),
]
