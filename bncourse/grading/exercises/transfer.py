"""Lesson 10 (BN in deployment): ``adapt_statistics`` (AdaBN in NumPy) and ``frozen_bn_call``
(what a Keras BN layer does when it is frozen).

``adapt_statistics``: a stack of Dense -> BN -> ReLU blocks, given as arrays, meets new
inputs, and the learner returns every BN layer's re-estimated moving mean and variance.
The family's choices are which tensor the statistics describe, whether later blocks see
inputs normalized with the new or the old statistics, whether the new statistics replace
the old ones or are blended in with a momentum, the variance, the axes, epsilon and the
kernel's orientation.

``frozen_bn_call``: one call of a Keras ``BatchNormalization`` layer with given ``training``
and ``trainable`` flags; the learner returns the output and the moving statistics the layer
holds afterwards. The family's choices are the rule that decides between batch and moving
statistics (and whether they update), the momentum convention, the variance and the axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.families import (
    DDOF_CHOICE,
    Choice,
    Family,
    Option,
    axes_choice,
    eps_choice,
    f64,
    squeezed,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]

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
            "bn-output-new": normalize(batch_mean, batch_var),
            "relu-output-new": np.maximum(normalize(batch_mean, batch_var), 0.0),
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
        if np.shape(mean) != batch_mean.shape:
            # Statistics over the wrong axes still run (x.mean(axis=0) on feature maps)
            # when they broadcast against z; those that don't cannot be anyone's output.
            try:
                np.broadcast_shapes(np.shape(mean), z.shape)
            except ValueError:
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
        elif update == "batch" or values["chain"] == "measured":
            # a training-mode pass (BN normalizes with the batch), or code that normalizes
            # z with z's own statistics while it stores another tensor's
            y = normalize(batch_mean, batch_var)
        else:
            y = normalize(stored_mean, stored_var)
        h = np.maximum(y, 0.0) if values["relu"] else y
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
                Option("bn-output-new", "adapt-wrong-tensor"),
                Option("relu-output-new", "adapt-wrong-tensor"),
                Option("block-input", "adapt-wrong-tensor"),
            ),
        ),
        Choice(
            "chain",
            (Option("new"), Option("measured"), Option("old", "adapt-stale-upstream")),
        ),
        Choice("relu", (Option(True), Option(False, "adapt-skips-relu"))),
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
# frozen_bn_call: one call of a Keras BN layer, frozen or not.
# ---------------------------------------------------------------------------


def _frozen_args(
    rng: np.random.Generator, shape: tuple[int, ...], training: bool, trainable: bool, **extra: Any
) -> dict[str, Any]:
    channels = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, channels) + rng.uniform(-2.0, 4.0, channels)
    return {
        "x": x.astype(np.float32),
        "gamma": rng.uniform(0.5, 2.0, channels).astype(np.float32),
        "beta": rng.uniform(-1.0, 1.0, channels).astype(np.float32),
        "moving_mean": rng.uniform(-1.0, 1.0, channels).astype(np.float32),
        "moving_var": rng.uniform(0.5, 2.0, channels).astype(np.float32),
        "training": training,
        "trainable": trainable,
        **extra,
    }


def _frozen_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(
            "a frozen layer (trainable=False) called with training=True on a (6, 3) batch",
            _frozen_args(rng, (6, 3), training=True, trainable=False),
            "dense",
        ),
        Case(
            "a trainable layer called with training=True on an (8, 4) batch",
            _frozen_args(rng, (8, 4), training=True, trainable=True),
            "dense",
        ),
        Case(
            "a trainable layer called with training=False on a (5, 4) batch",
            _frozen_args(rng, (5, 4), training=False, trainable=True),
            "dense",
        ),
        Case(
            "a frozen layer called with training=False on a (4, 3) batch",
            _frozen_args(rng, (4, 3), training=False, trainable=False),
            "dense",
        ),
        Case(
            "a frozen layer called with training=True on (2, 3, 3, 4) feature maps",
            _frozen_args(rng, (2, 3, 3, 4), training=True, trainable=False),
            "conv",
        ),
        Case(
            "a trainable layer called with training=True on (2, 3, 3, 4) feature maps, "
            "momentum=0.9 and eps=0.1",
            _frozen_args(rng, (2, 3, 3, 4), training=True, trainable=True, momentum=0.9, eps=0.1),
            "conv",
        ),
    ]


# (normalize with the batch?, update the moving statistics?) for a training=True call of a
# frozen layer, and whether `training` or `trainable` decides at all.
_RULE_CHOICE = Choice(
    "rule",
    (
        Option("keras"),
        Option("training only", "frozen-bn-still-trains"),
        Option("batch, no update", "frozen-bn-normalizes-with-batch"),
        Option("moving, update", "frozen-bn-updates-statistics"),
        Option("trainable only", "bn-mode-ignores-training"),
    ),
)


def _frozen(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple[np.ndarray, ...]:
    x, gamma, beta = f64(args["x"]), f64(args["gamma"]), f64(args["beta"])
    moving_mean, moving_var = f64(args["moving_mean"]), f64(args["moving_var"])
    training, trainable = bool(args["training"]), bool(args["trainable"])
    momentum, eps = float(args.get("momentum", 0.99)), values["eps"]
    rule = values["rule"]
    if rule == "keras":
        use_batch = update = training and trainable
    elif rule == "training only":
        use_batch = update = training
    elif rule == "batch, no update":
        use_batch, update = training, training and trainable
    elif rule == "moving, update":
        use_batch, update = training and trainable, training
    else:  # "trainable only"
        use_batch = update = trainable
    axes = values["axes"]
    mean = x.mean(axis=axes, keepdims=True)
    count = int(np.prod([x.shape[a] for a in axes]))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (count - values["ddof"])
    batch_mean, batch_var = squeezed(mean, axes), squeezed(var, axes)
    if batch_mean.shape != moving_mean.shape:  # statistics of the wrong shape: no match
        return (np.full(x.shape, np.nan), moving_mean * np.nan, moving_var * np.nan)
    if use_batch:
        y = gamma * (x - batch_mean) / np.sqrt(batch_var + eps) + beta
    else:
        y = gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    if update:
        keep = momentum if values["convention"] == "keras" else 1 - momentum
        moving_mean = keep * moving_mean + (1 - keep) * batch_mean
        moving_var = keep * moving_var + (1 - keep) * batch_var
    return y, moving_mean, moving_var


FROZEN = Family(
    choices_for=lambda args: (
        _RULE_CHOICE,
        Choice("convention", (Option("keras"), Option("pytorch", "momentum-reversed"))),
        DDOF_CHOICE,
        axes_choice(np.ndim(args["x"])),
        eps_choice(args),
    ),
    compute=_frozen,
)


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
        "frozen_bn_call",
        LESSON,
        "frozen_bn_call(x, gamma, beta, moving_mean, moving_var, training, trainable, "
        "momentum=0.99, eps=1e-3)",
        ("y", "moving_mean", "moving_var"),
        _frozen_cases,
        FROZEN,
        hints=(
            "A Keras BN layer has two flags. Which of them decides whether it normalizes with "
            "the batch's statistics, and can `trainable=False` be overridden by `training=True`?",
            "The layer uses the batch's statistics, and updates its moving ones, only when it "
            "is called with training=True AND is trainable. In every other call it normalizes "
            "with the moving statistics and leaves them as they are. The update follows Keras's "
            "convention: the momentum weights the old value.",
            "if training and trainable: mean, var = x's mean and biased variance over every axis "
            "but the last; y = gamma * (x - mean) / np.sqrt(var + eps) + beta; moving_mean = "
            "momentum * moving_mean + (1 - momentum) * mean (the same for the variance). "
            "Otherwise: y from moving_mean and moving_var, statistics unchanged. Return "
            "(y, moving_mean, moving_var).",
        ),
    ),
]
