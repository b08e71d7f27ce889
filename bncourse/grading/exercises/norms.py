"""Lesson 09 (beyond BN): ``layer_norm``, ``group_norm`` and ``rms_norm`` in NumPy.

Layer Norm and Group Norm share one family of implementations: Layer Norm is Group Norm
with one group. The family's choices are where the statistics come from (which of the
batch, the positions and the group's channels they average over), how the channels are
split into groups, the variance (m or m - 1, two passes or E[x^2] - E[x]^2 in float32),
the normalizer, and how gamma and beta are applied (which parameter multiplies, and along
which axis). RMSNorm has a family of its own: it divides by the root mean square, with no
mean subtracted and no beta.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.families import (
    AFFINE_CHOICE,
    CENTERING_CHOICE,
    DDOF_CHOICE,
    DENOMINATOR_CHOICE,
    Choice,
    Family,
    Option,
    apply_affine,
    denominator,
    f64,
)
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES"]

LESSON = "09_beyond_batchnorm"
RMS_EPSILON = 1e-6
"""Keras's ``RMSNormalization`` default (``keras/src/layers/normalization/``)."""


# ---------------------------------------------------------------------------
# Test inputs: per-sample traps (LN and GN normalize each sample, not each feature).
# ---------------------------------------------------------------------------


def _samples(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 data whose samples have different means and spreads (and channels too)."""
    n = shape[0]
    means = rng.uniform(-2.0, 3.0, (n,) + (1,) * (len(shape) - 1))
    stds = rng.uniform(0.5, 3.0, (n,) + (1,) * (len(shape) - 1))
    channel_shift = rng.uniform(-1.0, 1.0, shape[-1])
    x = rng.normal(size=shape) * stds + means + channel_shift
    return x.astype(np.float32)


def _params(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, np.ndarray]:
    gamma = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = rng.uniform(-1.5, -0.2, channels).astype(np.float32)
    return gamma, beta


def _with_quiet_samples(x: np.ndarray) -> np.ndarray:
    """Sample 1 varies by about 0.01 (variance below eps), sample 2 is constant."""
    x = x.copy()
    x[1] = (0.02 + 0.01 * np.sign(np.sin(np.arange(x[1].size)))).reshape(x[1].shape)
    x[2] = 1.5
    return x


def _large_mean_sample(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Sample 0 is about 100 give or take 0.1: E[x^2] - E[x]^2 in float32 loses it."""
    x = _samples(rng, shape)
    x[0] = (100.0 + 0.1 * rng.normal(size=shape[1:])).astype(np.float32)
    return x


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    def case(label: str, x: np.ndarray, kind: str, **extra: Any) -> Case:
        gamma, beta = _params(rng, x.shape[-1])
        readable = extra.pop("readable", True)
        return Case(label, {"x": x, "gamma": gamma, "beta": beta, **extra}, kind, readable=readable)

    return [
        case("a (3, 4) batch", np.round(_samples(rng, (3, 4)), 3), "dense"),
        case("a (5, 5) batch (as many samples as features)", _samples(rng, (5, 5)), "dense"),
        case(
            "a (4, 6) batch whose sample 1 varies by about 0.01 and sample 2 is constant",
            _with_quiet_samples(_samples(rng, (4, 6))),
            "dense",
        ),
        case("a (2, 3, 4, 5) batch of feature maps", _samples(rng, (2, 3, 4, 5)), "conv"),
        case(
            "a (2, 4, 3, 6) batch of feature maps with eps=0.1",
            _samples(rng, (2, 4, 3, 6)),
            "conv",
            eps=0.1,
        ),
        case(
            "a (3, 8) batch whose sample 0 is about 100 give or take 0.1",
            _large_mean_sample(rng, (3, 8)),
            "dense",
            readable=False,
        ),
    ]


def _group_cases(rng: np.random.Generator) -> list[Case]:
    def case(label: str, x: np.ndarray, groups: int, kind: str, **extra: Any) -> Case:
        gamma, beta = _params(rng, x.shape[-1])
        readable = extra.pop("readable", True)
        args = {"x": x, "gamma": gamma, "beta": beta, "groups": groups, **extra}
        return Case(label, args, kind, readable=readable)

    quiet = _samples(rng, (4, 6))
    quiet[1, 3:] = 0.02 + 0.01 * np.array([1, -1, 1], dtype=np.float32)  # a quiet group
    quiet[2, :3] = 1.5  # a constant group
    return [
        case("a (3, 6) batch with groups=2", np.round(_samples(rng, (3, 6)), 3), 2, "dense"),
        case(
            "a (6, 6) batch with groups=3 (as many samples as channels)",
            _samples(rng, (6, 6)),
            3,
            "dense",
        ),
        case(
            "a (4, 6) batch with groups=2, where sample 1's second group varies by about 0.01 "
            "and sample 2's first group is constant",
            quiet,
            2,
            "dense",
        ),
        case(
            "a (2, 3, 4, 6) batch of feature maps with groups=3",
            _samples(rng, (2, 3, 4, 6)),
            3,
            "conv",
        ),
        case(
            "a (2, 2, 3, 8) batch of feature maps with groups=4 and eps=0.1",
            _samples(rng, (2, 2, 3, 8)),
            4,
            "conv",
            eps=0.1,
        ),
        case(
            "a (3, 6) batch with groups=2 whose sample 0 is about 100 give or take 0.1",
            _large_mean_sample(rng, (3, 6)),
            2,
            "dense",
            readable=False,
        ),
    ]


def _rms_cases(rng: np.random.Generator) -> list[Case]:
    def case(label: str, x: np.ndarray, kind: str, **extra: Any) -> Case:
        gamma = rng.uniform(0.5, 2.0, x.shape[-1]).astype(np.float32)
        return Case(label, {"x": x, "gamma": gamma, **extra}, kind)

    quiet = _samples(rng, (4, 6))
    quiet[1] = 1e-3 * np.array([1.0, -2.0, 1.5, -0.5, 2.0, -1.0], dtype=np.float32)
    quiet[2] = 0.0
    return [
        case("a (3, 4) batch", np.round(_samples(rng, (3, 4)), 3), "dense"),
        case("a (2, 3, 5) batch of 2 sequences of 3 tokens", _samples(rng, (2, 3, 5)), "tokens"),
        case(
            "a (4, 6) batch whose sample 1 has values of about 0.001 and sample 2 is all zeros",
            quiet,
            "dense",
        ),
        case("a (5, 5) batch (as many samples as features)", _samples(rng, (5, 5)), "dense"),
        case(
            "a (2, 4, 6) batch of sequences with eps=0.01",
            _samples(rng, (2, 4, 6)),
            "tokens",
            eps=0.01,
        ),
    ]


# ---------------------------------------------------------------------------
# Layer Norm and Group Norm: one family.
# ---------------------------------------------------------------------------

# The statistics of a (sample, group) pair average over some of three roles of the
# (batch, positions, channels of the group) block. Layer and Group Norm: positions and
# channels. Subsets with the batch mix samples; the others are per channel or per position.
_ROLES = ("batch", "positions", "channels")
_CORRECT_ROLES = (1, 2)


def _roles_choice() -> Choice:
    options = [Option(_CORRECT_ROLES)]
    for size in (1, 2, 3):
        for subset in itertools.combinations(range(3), size):
            if subset == _CORRECT_ROLES:
                continue
            diagnosis = "norm-stats-over-batch" if 0 in subset else "wrong-axis"
            options.append(Option(subset, diagnosis))
    return Choice("roles", tuple(options), per_case=True)


ROLES_CHOICE = _roles_choice()


def _group_ids(channels: int, groups: int, how: str) -> np.ndarray:
    """The group of each channel, as an implementation that splits them ``how`` gets it."""
    index = np.arange(channels)
    size = channels // groups
    if how == "blocks":  # (G, C // G): consecutive channels share a group
        return index // size
    if how == "interleaved":  # (C // G, G), grouped along the axis of size C // G
        return index % groups
    if how == "swapped":  # (C // G, G), grouped along the axis of size G
        return index // groups
    if how == "strided":  # (G, C // G), grouped along the axis of size G
        return index % size
    if how == "one-group":
        return np.zeros(channels, dtype=int)
    if how == "per-channel":
        return index
    raise KeyError(how)


GROUPING_CHOICE = Choice(
    "grouping",
    (
        Option("blocks"),
        Option("interleaved", "gn-wrong-groups"),
        Option("swapped", "gn-wrong-groups"),
        Option("strided", "gn-wrong-groups"),
        Option("one-group", "gn-wrong-groups"),
        Option("per-channel", "gn-wrong-groups"),
    ),
)


def _affine_axis_choice(args: dict[str, Any]) -> Choice:
    """Along which axis gamma and beta are indexed: per channel (right), per sample (only
    computable when there are as many samples as channels), or one per group."""
    x = np.asarray(args["x"])
    groups = int(args.get("groups", 1))
    options = [Option("channel")]
    if x.shape[0] == x.shape[-1]:
        options.append(Option("sample", "norm-affine-wrong-axis"))
    if 1 < groups < x.shape[-1]:
        options.append(Option("group", "norm-affine-wrong-axis"))
    return Choice("affine_axis", tuple(options), per_case=True)


def _has_large_mean_sample(x: np.ndarray) -> bool:
    flat = x.reshape(len(x), -1)
    spread = flat.std(axis=1)
    return bool(np.any(np.abs(flat.mean(axis=1)) > 100 * np.where(spread > 0, spread, np.inf)))


def _passes_choice(args: dict[str, Any]) -> Choice:
    trap = _has_large_mean_sample(np.asarray(args["x"], dtype=np.float64))
    wrong = (Option("one-pass-float32", "one-pass-variance"),) if trap else ()
    return Choice("passes", (Option("two-pass"), *wrong), per_case=True)


def _eps_choice(args: dict[str, Any], default: float) -> Choice:
    if "eps" in args:
        return Choice(
            "eps",
            (Option(float(args["eps"])), Option(default, "ignores-eps-argument")),
            per_case=True,
        )
    wrong = [w for w in (1e-5, 1e-3, 1e-6) if w != default]
    return Choice(
        "eps",
        (Option(default), *(Option(w, "wrong-eps-default") for w in wrong)),
        per_case=True,
    )


def _block_moments(
    block: np.ndarray, roles: tuple[int, ...], ddof: int, passes: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of a (batch, positions, channels) block over ``roles`` (keepdims)."""
    mean = block.mean(axis=roles, keepdims=True)
    count = int(np.prod([block.shape[r] for r in roles]))
    if passes == "one-pass-float32":
        b32 = block.astype(np.float32)
        var = (b32 * b32).mean(axis=roles, keepdims=True) - b32.mean(axis=roles, keepdims=True) ** 2
        var = var.astype(np.float64) * count / max(count - ddof, 1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            var = ((block - mean) ** 2).sum(axis=roles, keepdims=True) / (count - ddof)
    return mean, var


def _one_pass_as_written(args: dict[str, Any], values: dict[str, Any], groups: int) -> Any:
    """x_hat when E[x^2] - E[x]^2 is computed in float32 the way a learner writes it (on x,
    or on x reshaped to (..., groups, C // groups)), or None for the other choices.

    Float32 round-off depends on the order of the sums, so the trap input is only matched
    when the sums run over the same array shape as the learner's code."""
    if values["passes"] != "one-pass-float32" or values["roles"] != _CORRECT_ROLES:
        return None
    if values.get("grouping", "blocks") != "blocks":
        return None
    x32 = np.asarray(args["x"], dtype=np.float32)
    channels = x32.shape[-1]
    if groups == 1:
        shaped, axes = x32, tuple(range(1, x32.ndim))
    else:
        shaped = x32.reshape(*x32.shape[:-1], groups, channels // groups)
        axes = tuple(range(1, shaped.ndim - 2)) + (shaped.ndim - 1,)
    count = int(np.prod([shaped.shape[a] for a in axes]))
    mean32 = shaped.mean(axis=axes, keepdims=True)
    var = ((shaped * shaped).mean(axis=axes, keepdims=True) - mean32**2).astype(np.float64)
    var = var * count / max(count - values["ddof"], 1)
    centered = shaped - mean32 if values["centering"] else shaped
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = f64(centered) / denominator(var, values["eps"], values["denominator"])
    return x_hat.reshape(x32.shape)


def _affine_params(
    args: dict[str, Any], how: str, shape: tuple[int, ...], groups: int
) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta = f64(args["gamma"]), f64(args["beta"])
    if how == "channel":
        return gamma, beta
    ndim = len(shape)
    if how == "sample":  # gamma[n] scales sample n (gamma has as many entries as samples)
        per_sample = (shape[0],) + (1,) * (ndim - 1)
        return gamma.reshape(per_sample), beta.reshape(per_sample)
    # "group": one gamma per group, the first `groups` entries, spread over its channels
    ids = _group_ids(shape[-1], groups, "blocks")
    return gamma[:groups][ids], beta[:groups][ids]


def _normalize_part(part: np.ndarray, roles: tuple[int, ...], values: dict[str, Any]) -> Any:
    mean, var = _block_moments(part, roles, values["ddof"], values["passes"])
    centered = part - mean if values["centering"] else part
    with np.errstate(divide="ignore", invalid="ignore"):
        return centered / denominator(var, values["eps"], values["denominator"])


def _normalize_groups(
    block: np.ndarray, ids: np.ndarray, values: dict[str, Any], cache: dict
) -> np.ndarray:
    """x_hat of a (batch, positions, channels) block, each group of channels (``ids``)
    normalized on its own, as ``values`` describes."""
    x_hat = np.empty_like(block)
    sizes = np.bincount(ids)
    if sizes.min() != sizes.max():  # unequal groups: one at a time
        for group in np.unique(ids):
            mask = ids == group
            x_hat[:, :, mask] = _normalize_part(block[:, :, mask], values["roles"], values)
        return x_hat
    # Equal groups, all at once: each group's channels side by side on a new last axis
    # (thousands of variants run on one input, so the split is made once per grouping).
    split_key = ("split", values.get("grouping", "blocks"))
    if split_key not in cache:
        order = np.argsort(ids, kind="stable")
        shape = (block.shape[0], block.shape[1], sizes.size, sizes[0])
        cache[split_key] = order, block[:, :, order].reshape(shape)
    order, split = cache[split_key]
    roles = tuple(3 if role == 2 else role for role in values["roles"])
    x_hat[:, :, order] = _normalize_part(split, roles, values).reshape(block.shape)
    return x_hat


def _group_normalize(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple:
    groups = int(args.get("groups", 1))
    grouping = values.get("grouping", "blocks")
    # Thousands of variants run on the same input: convert it and split it into groups once.
    if ("input", grouping) not in cache:
        x64 = f64(args["x"])
        ids = _group_ids(x64.shape[-1], groups, grouping)
        cache[("input", grouping)] = (x64, ids, tuple(ids))
    x, ids, id_key = cache[("input", grouping)]
    n, channels = x.shape[0], x.shape[-1]
    block = x.reshape(n, -1, channels)  # (batch, positions, channels)
    key = (
        "normalized",
        values["roles"],
        values["ddof"],
        values["passes"],
        values["eps"],
        values["denominator"],
        values["centering"],
        id_key,
    )
    if key not in cache:
        learner_shaped = _one_pass_as_written(args, values, groups)
        if learner_shaped is None:
            learner_shaped = _normalize_groups(block, ids, values, cache).reshape(x.shape)
        cache[key] = learner_shaped
    affine_key = ("affine", values["affine_axis"])
    if affine_key not in cache:
        cache[affine_key] = _affine_params(args, values["affine_axis"], x.shape, groups)
    gamma, beta = cache[affine_key]
    with np.errstate(invalid="ignore", over="ignore"):
        return (apply_affine(cache[key], gamma, beta, values["affine"]),)


def _norm_choices(args: dict[str, Any], grouped: bool) -> tuple[Choice, ...]:
    shared = (
        DDOF_CHOICE,
        DENOMINATOR_CHOICE,
        CENTERING_CHOICE,
        AFFINE_CHOICE,
    )
    per_case = (
        ROLES_CHOICE,
        _affine_axis_choice(args),
        _eps_choice(args, 1e-3),
        _passes_choice(args),
    )
    return shared + ((GROUPING_CHOICE,) if grouped else ()) + per_case


LAYER_NORM = Family(
    choices_for=lambda args: _norm_choices(args, grouped=False), compute=_group_normalize
)
GROUP_NORM = Family(
    choices_for=lambda args: _norm_choices(args, grouped=True), compute=_group_normalize
)


# ---------------------------------------------------------------------------
# RMSNorm.
# ---------------------------------------------------------------------------


def _rms_axes_choice(args: dict[str, Any]) -> Choice:
    ndim = np.ndim(args["x"])
    correct = (ndim - 1,)
    options = [Option(correct)]
    for size in range(1, ndim + 1):
        for subset in itertools.combinations(range(ndim), size):
            if subset != correct:
                options.append(
                    Option(subset, "norm-stats-over-batch" if 0 in subset else "wrong-axis")
                )
    return Choice("axes", tuple(options), per_case=True)


def _rms(args: dict[str, Any], values: dict[str, Any], cache: dict) -> tuple:
    x, gamma = f64(args["x"]), f64(args["gamma"])
    axes = values["axes"]
    centered = x - x.mean(axis=axes, keepdims=True)
    if values["centering"] == "subtracts-mean":
        x = centered
    squares = ((centered if values["centering"] == "std" else x) ** 2).sum(axis=axes, keepdims=True)
    if values["reduce"] == "mean":
        squares = squares / int(np.prod([x.shape[a] for a in axes]))
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = x / denominator(squares, values["eps"], values["denominator"])
    return (gamma * x_hat if values["scale"] == "gamma" else x_hat,)


RMS_NORM = Family(
    choices_for=lambda args: (
        Choice(
            "centering",
            (
                Option("none"),
                Option("subtracts-mean", "rms-subtracts-mean"),
                Option("std", "rms-subtracts-mean"),
            ),
        ),
        Choice("reduce", (Option("mean"), Option("sum", "rms-uses-l2-norm"))),
        DENOMINATOR_CHOICE,
        Choice("scale", (Option("gamma"), Option("none", "missing-scale-shift"))),
        _rms_axes_choice(args),
        _eps_choice(args, RMS_EPSILON),
    ),
    compute=_rms,
)


# ---------------------------------------------------------------------------
# How these exercises word the general diagnoses.
# ---------------------------------------------------------------------------

_PER_SAMPLE_AXIS = Diagnosis(
    "wrong-axis",
    "statistics over the wrong axes for this normalization",
    "Layer Norm computes one mean and one variance per sample, over all of that sample's "
    "values: its features, or for images its height, width and channels (Wu & He's Figure "
    "2). Group Norm does the same for each group of channels. Your statistics leave some of "
    "those values out: they are per channel or per position, like Instance Norm or a "
    "per-pixel normalization.",
    "For one sample, which values share its mean? Average over every axis except the batch.",
)

_GROUP_AXIS = Diagnosis(
    "wrong-axis",
    "statistics over the wrong axes for Group Norm",
    "Group Norm computes one mean and one variance per sample and per group, over the "
    "group's channels and every position (height and width). Your statistics leave some of "
    "those out: they are per channel or per position within the group.",
    "After splitting the channels into groups, average over every axis except the batch "
    "and the group.",
)

_LN_GN_EPS = Diagnosis(
    "wrong-eps-default",
    "the default epsilon is not Keras's",
    "Called without eps, your function used another epsilon. Keras's LayerNormalization and "
    "GroupNormalization default to epsilon = 1e-3, as its BatchNormalization does; 1e-5 is "
    "PyTorch's default.",
    "Keep the signature's default, eps=1e-3.",
)

_RMS_AXIS = Diagnosis(
    "wrong-axis",
    "the root mean square is taken over the wrong axes",
    "RMSNorm, as transformers use it and as keras.layers.RMSNormalization() does by "
    "default, normalizes each token (each row of features) on its own: one root mean square "
    "per sample, or per token of a sequence, over the last axis only.",
    "Which axis holds one token's features? Reduce over that axis alone.",
)

_RMS_WORDING = {
    "wrong-axis": _RMS_AXIS,
    "wrong-eps-default": Diagnosis(
        "wrong-eps-default",
        "the default epsilon is not RMSNormalization's",
        "Called without eps, your function used another epsilon. The contract follows "
        "keras.layers.RMSNormalization, whose default is epsilon = 1e-6 (BatchNormalization's "
        "1e-3 is a different layer's default).",
        "Keep the signature's default, eps=1e-6.",
    ),
    "std-for-var": Diagnosis(
        "std-for-var",
        "divides by the mean square instead of its root",
        "RMSNorm divides by the root mean square, sqrt(mean(x^2) + eps). Dividing by the "
        "mean square itself leaves each row with a root mean square of 1/rms instead of 1.",
        "The denominator needs a square root.",
    ),
    "missing-scale-shift": Diagnosis(
        "missing-scale-shift",
        "gamma is not applied",
        "RMSNorm ends by multiplying each feature by its own gamma (Keras calls it 'scale'), "
        "so the network can give each feature the size it needs. Your output leaves gamma out.",
        "Every feature has its own gamma; use it.",
    ),
    "eps-outside-sqrt": Diagnosis(
        "eps-outside-sqrt",
        "epsilon is added outside the square root",
        "You divided by sqrt(mean(x^2)) + eps. RMSNorm (and Keras) add epsilon to the mean "
        "square, inside the root. The two differ most for rows whose values are tiny, which "
        "is exactly when epsilon matters.",
        "Look at where the parentheses of the square root close.",
    ),
    "missing-eps": Diagnosis(
        "missing-eps",
        "no epsilon",
        "Without epsilon, a row of zeros divides 0 by 0 and produces NaN, and a row of tiny "
        "values is blown up to a root mean square of 1.",
        "Use the eps argument; it belongs next to the mean square.",
    ),
}


# ---------------------------------------------------------------------------
# The exercises.
# ---------------------------------------------------------------------------

EXERCISES = [
    Exercise(
        "layer_norm",
        LESSON,
        "layer_norm(x, gamma, beta, eps=1e-3)",
        ("y",),
        _layer_cases,
        LAYER_NORM,
        wording={"wrong-axis": _PER_SAMPLE_AXIS, "wrong-eps-default": _LN_GN_EPS},
        hints=(
            "BN gives every feature one mean, shared by all samples. Layer Norm turns that "
            "around: which values should share one mean, and which axis must the statistics "
            "therefore never average over?",
            "For each sample, compute the mean and the biased variance of all its values (for "
            "images: height, width and channels), normalize with sqrt(var + eps) as in BN, "
            "then scale and shift each channel with its own gamma and beta (shape (C,), the "
            "last axis).",
            "axes = tuple(range(1, x.ndim)); take the mean and variance over those axes with "
            "keepdims=True so they broadcast against x; then gamma * x_hat + beta broadcasts "
            "along the last axis by itself.",
        ),
    ),
    Exercise(
        "group_norm",
        LESSON,
        "group_norm(x, gamma, beta, groups, eps=1e-3)",
        ("y",),
        _group_cases,
        GROUP_NORM,
        wording={"wrong-axis": _GROUP_AXIS, "wrong-eps-default": _LN_GN_EPS},
        hints=(
            "With 6 channels and groups=2, which channels share a mean: 0, 1, 2 and 3, 4, 5, "
            "or 0, 2, 4 and 1, 3, 5? And which axes does one group's mean average over?",
            "Give the channel axis two axes, (groups, C // groups) in that order, so that each "
            "group is a block of consecutive channels. Compute the mean and biased variance of "
            "each (sample, group) over the positions and the C // groups axis, normalize, "
            "reshape back to x's shape, then apply gamma and beta per channel.",
            "g = x.reshape(*x.shape[:-1], groups, C // groups); axes = tuple(range(1, g.ndim - "
            "2)) + (g.ndim - 1,); mean and var over axes with keepdims=True; x_hat = ((g - mean) "
            "/ np.sqrt(var + eps)).reshape(x.shape); then gamma * x_hat + beta.",
        ),
    ),
    Exercise(
        "rms_norm",
        LESSON,
        f"rms_norm(x, gamma, eps={RMS_EPSILON:g})",
        ("y",),
        _rms_cases,
        RMS_NORM,
        wording=_RMS_WORDING,
        hints=(
            "Layer Norm subtracts a mean and divides by a standard deviation. Which of those "
            "two steps does RMSNorm keep, and what does it divide by instead?",
            "For each row of features (the last axis), take the mean of the squared values, "
            "add eps, take the square root, divide the row by it, then multiply by gamma. No "
            "mean is subtracted and there is no beta.",
            "rms = np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + eps); return gamma * x / "
            "rms, computed in float64 and returned as float32.",
        ),
    ),
]
