"""Lesson 07 (where to put BN): studies of BN's placement and of Dropout next to BN, the
figures that show them, two explorers (training curves by placement, and the variance a BN
layer sees when Dropout comes before it), the course's versions of the lesson's two
exercises (``dropout_variance_ratio``, ``population_statistics``) for the cells after them,
and what those cells apply them to (``layer_probe``, ``as_batches``, ``median_ratio``).

The explorers redraw from numbers already computed (or from a NumPy simulation of a few
milliseconds); nothing trains inside a callback.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bncourse.data import DataSplit
from bncourse.lab import experiments as ex
from bncourse.lab.training import MLP, Run, Trainer
from bncourse.seeding import resolve

__all__ = [
    "DROPOUT_FED_MARGIN",
    "KERAS_BLOCKS",
    "METRICS",
    "NO_DROPOUT_MARGIN",
    "PlacementStudy",
    "SHIFT_MEANS",
    "SHIFT_RATES",
    "as_batches",
    "block_problem",
    "check_block_prediction",
    "curves_explorer",
    "dropout_reaches_first_bn",
    "dropout_variance",
    "dropout_variance_ratio",
    "fit_without_dropout",
    "input_shape",
    "keras_layer_orders",
    "layer_probe",
    "median_ratio",
    "placement_study",
    "population_statistics",
    "plot_bn_inputs",
    "setup_curves",
    "setup_variance_shift",
    "try_block",
    "variance_shift_explorer",
]

METRICS = {
    "validation accuracy": "val_accuracy",
    "training accuracy": "train_accuracy",
    "training loss": "train_loss",
}


@dataclass
class PlacementStudy(ex.ShiftStudy):
    """A ``ShiftStudy`` (runs, variance ratios, accuracy after re-estimating the moving
    statistics) plus how well each seed's network fits its training images once the
    statistics are re-estimated, measured in inference mode (Dropout off, so its noise does
    not inflate the numbers). ``train_loss[seed]``: mean cross-entropy on the training
    images; ``train_accuracy[seed]``: accuracy on them.
    """

    train_loss: np.ndarray
    train_accuracy: np.ndarray


def fit_without_dropout(trainer: Trainer, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``trainer``'s network on ``(x, y)`` in inference
    mode: Dropout off, BN with its moving statistics."""
    logits = np.asarray(trainer.model(np.asarray(x, dtype=np.float32), training=False))
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    y = np.asarray(y)
    loss = -float(log_probs[np.arange(len(y)), y].mean())
    return loss, float(np.mean(logits.argmax(axis=1) == y))


def placement_study(
    trainer: Trainer, *, data: DataSplit, seeds: Sequence[int], **settings: Any
) -> PlacementStudy:
    """Train ``trainer``'s network once per seed (``settings`` go to ``Trainer.run``) and
    measure, after each run: every BN layer's variance shift and the validation accuracy
    after re-estimating the moving statistics (``experiments.shift_study``), then the
    training loss and accuracy with those statistics and Dropout off."""
    if not len(seeds):
        raise ValueError("placement_study needs at least one seed")
    parts, fits = [], []
    for seed in seeds:
        parts.append(ex.shift_study(trainer, data, [seed], **settings))
        fits.append(fit_without_dropout(trainer, data.x_train, data.y_train))
    loss, accuracy = np.array(fits).T
    return PlacementStudy(
        runs=[run for part in parts for run in part.runs],
        layers=parts[0].layers,
        ratio=np.concatenate([part.ratio for part in parts]),
        recalibrated=np.concatenate([part.recalibrated for part in parts]),
        train_loss=loss,
        train_accuracy=accuracy,
    )


KERAS_BLOCKS = {
    "ResNet50, residual block": ("resnet", "residual_block_v1"),
    "MobileNet, first block": ("mobilenet", "_conv_block"),
    "DenseNet121, conv block": ("densenet", "conv_block"),
    "MobileNet, whole model": ("mobilenet", "MobileNet"),
}
"""Functions of the Keras Applications whose layer order lesson 07 reads:
``{what: (module in keras/src/applications/, function)}``."""


def keras_layer_orders() -> dict[str, tuple[str, list[str]]]:
    """The Keras layers each function of ``KERAS_BLOCKS`` calls, in source order.

    Returns ``{what: (where, layers)}``, ``where`` being the file and function read (in
    Keras's internal package ``keras.src``, fine for reading, not for building on).
    """
    import importlib

    orders = {}
    for what, (module, function) in KERAS_BLOCKS.items():
        source = importlib.import_module(f"keras.src.applications.{module}")
        where = f"keras/src/applications/{module}.py, {function}"
        orders[what] = (where, ex.layer_sequence(getattr(source, function)))
    return orders


def input_shape(values: np.ndarray) -> tuple[float, float]:
    """(fraction of exact zeros, median over units of the skewness) of a layer's input,
    ``values`` being (examples, units): a ReLU's output has many zeros and a long right
    tail; a Dense layer's output has neither."""
    values = np.asarray(values)
    return float(np.mean(values == 0)), float(np.median(ex.skewness(values)))


def plot_bn_inputs(
    seen: Mapping[str, np.ndarray], *, layer: str, colors: Mapping[str, str] | None = None
) -> Any:
    """One histogram per placement of what the BN layer ``layer`` receives, each unit
    standardized (so all units share one axis); ``seen[label]`` is (examples, units)."""
    from bncourse import plotting

    fig, axes = plotting.subplots(1, len(seen), width=9, sharey=True)
    for index, (ax, (label, values)) in enumerate(zip(axes[0], seen.items(), strict=True)):
        standardized = (values - values.mean(axis=0)) / (values.std(axis=0) + 1e-6)
        ax.hist(
            standardized.ravel(),
            bins=np.linspace(-4, 6, 81),
            density=True,
            color=ex.color_for(index, label, colors),
        )
        plotting.finish(
            ax,
            title=f"{label}: input of {layer}",
            xlabel="value, standardized per unit",
            ylabel="density" if index == 0 else "",
            legend=False,
        )
    return fig


DROPOUT_FED_MARGIN = 0.1
"""How far above the keep probability the first BN layer's measured ratio may lie when
Dropout reaches it (the formula's bound, plus moving-average lag and validation images)."""

NO_DROPOUT_MARGIN = 0.3
"""How far from 1 the first BN layer's measured ratio may lie when no Dropout reaches it."""


def dropout_reaches_first_bn(block: Sequence[str]) -> bool:
    """Whether, in an ``MLP`` whose hidden layers are each followed by ``block``, the first
    BN layer receives Dropout's output with at most the activation in between.

    A ReLU keeps Dropout's zeros and commutes with its scaling by 1/keep, so Dropout
    followed by ReLU and then BN is still "Dropout right before BN" for the formula.
    """
    block = tuple(block)
    return "dropout" in block and "bn" in block and block.index("dropout") < block.index("bn")


def block_problem(block: Sequence[str], rate: float) -> str:
    """Why ``block`` and ``rate`` cannot go into the "your turn" study ('' if they can):
    the block lists "bn", "act" and optionally "dropout", each at most once, and the
    rate lies in [0, 1)."""
    block = tuple(block)
    unknown = [part for part in block if part not in ("bn", "act", "dropout")]
    if unknown:
        return f"{unknown} is not a part: use only 'bn', 'act' and 'dropout'."
    if len(set(block)) != len(block):
        return "use each part at most once."
    if "bn" not in block or "act" not in block:
        return "the block needs both 'bn' and 'act'."
    if not 0.0 <= rate < 1.0:
        return f"the Dropout rate must lie in [0, 1); got {rate}."
    return ""


def check_block_prediction(study: ex.ShiftStudy, *, block: Sequence[str], rate: float) -> None:
    """State, as a claim, what the formula predicts for the first BN layer of the network
    built from ``block`` with Dropout ``rate``, with the ratio measured in ``study``.

    If Dropout reaches the first BN layer (``dropout_reaches_first_bn``), the formula bounds
    its ratio (inference variance / moving variance) by the keep probability ``1 - rate``;
    a mean away from 0 only lowers it. Otherwise the first BN layer sees the same input in
    training and at inference, and its ratio is near 1. The margins
    (``DROPOUT_FED_MARGIN``, ``NO_DROPOUT_MARGIN``) allow for what the formula leaves out:
    moving averages that trail the weights, and validation images instead of training
    batches. Later BN layers receive earlier blocks' Dropout through a Dense layer, which
    the formula does not cover; their ratios are printed, not claimed.
    """
    from bncourse.claims import claim

    block = tuple(block)
    keep = 1.0 - rate
    first = study.ratio[:, 0]
    retry = (
        "Did the network learn (its validation accuracy)? "
        "Try another seed to see whether it repeats."
    )
    if dropout_reaches_first_bn(block):
        claim(
            "Dropout reaches the first BN layer (with at most the ReLU in between), so, as the "
            f"formula says, its ratio is at most the keep probability {keep:.2f} (up to "
            f"{keep + DROPOUT_FED_MARGIN:.2f}, allowing for moving-average lag and validation "
            "images)",
            holds=bool(np.all(first <= keep + DROPOUT_FED_MARGIN)),
            numbers={"first BN layer's ratio": first, "keep probability": keep},
            otherwise=f"The ratio is above what the formula allows. {retry}",
        )
    else:
        claim(
            "No Dropout comes before the first BN layer, so it sees the same input in training "
            f"and at inference: its ratio is near 1 (within {NO_DROPOUT_MARGIN}, allowing for "
            "moving-average lag and validation images)",
            holds=bool(np.all(np.abs(first - 1.0) <= NO_DROPOUT_MARGIN)),
            numbers={"first BN layer's ratio": first},
            otherwise=f"The ratio is further from 1 than in the lesson's runs. {retry}",
        )
    if "dropout" in block and len(study.layers) > 1:
        later = ", ".join(
            f"{name} {value:.2f}"
            for name, value in zip(study.layers[1:], study.ratio[:, 1:].mean(axis=0), strict=True)
        )
        print(
            f"Later BN layers ({later}) also receive the earlier blocks' Dropout through a Dense "
            "layer, which the formula does not cover: compare them with the table of section 4."
        )


def try_block(
    *, block: Sequence[str], rate: float, data: DataSplit, seed: int, **settings: Any
) -> PlacementStudy | None:
    """The "your turn" experiment: train an ``MLP`` whose hidden layers are each followed by
    ``block`` (Dropout at ``rate``) once, with ``seed`` and ``settings`` (as for
    ``Trainer.run``); print its validation accuracy and every BN layer's variance ratio,
    and compare the first BN layer's ratio with the formula (``check_block_prediction``).

    A block the study cannot use gets a sentence saying why, and ``None``.
    """
    problem = block_problem(block, rate)
    if problem:
        print(f"Choose another block: {problem}")
        return None
    spec = MLP(block=tuple(block), dropout=rate)
    trainer = Trainer(
        spec, input_dim=data.x_train.shape[1], num_classes=data.num_classes, fused=True
    )
    study = placement_study(trainer, data=data, seeds=[seed], **settings)
    ratios = ", ".join(
        f"{name} {value:.2f}" for name, value in zip(study.layers, study.ratio[0], strict=True)
    )
    print(spec.label)
    print(f"validation accuracy {study.accuracy[0]:.3f}; variance ratio per BN layer: {ratios}")
    if study.accuracy[0] < 0.5:
        print(
            "This network hardly learned the digits: with this much Dropout it can barely "
            "train, and a lower rate helps. The formula is about the statistics, so it still "
            "applies."
        )
    check_block_prediction(study, block=block, rate=rate)
    return study


def _curve_limits(results: Mapping[str, Sequence[Run]], key: str) -> tuple[float, float]:
    """The vertical range of the curves explorer for one metric, the same whichever
    variants are chosen: for an accuracy, from 0.8 (or 0.05 below the lowest final value
    of any run, if lower) up to 1, so the end of training, where the variants are compared,
    fills the panel; for a loss, from 0 to above the highest value of any run."""
    if key.endswith("accuracy"):
        finals = np.array([getattr(run, key)[-1] for runs in results.values() for run in runs])
        low = np.nanmin(finals) if np.isfinite(finals).any() else 0.0
        return max(0.0, min(0.8, float(low) - 0.05)), 1.0
    values = np.concatenate([ex.stack(runs, key).ravel() for runs in results.values()])
    values = values[np.isfinite(values)]
    return 0.0, (1.05 * float(values.max()) if values.size and values.max() > 0 else 1.0)


def setup_curves(
    results: Mapping[str, Sequence[Run]],
    first: str | None = None,
    second: str | None = None,
    metric: str = "validation accuracy",
    each_seed: bool = False,
    *,
    colors: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """The curves explorer's figure, built once: two variants of ``results`` (the same
    one twice shows it alone) and a metric of ``METRICS``, as the mean over seeds with a
    band from the lowest to the highest seed, or (``each_seed``) every seed's curve.
    Returns ``(figure, update)``; ``update(first=..., second=..., metric=...,
    each_seed=...)`` redraws it in place (``bncourse.lab.explorer.LiveFigure``).

    The axes keep one range per metric whichever variants are shown (``_curve_limits``),
    so two pairs of variants compare on one scale; changing the metric draws the whole
    figure again (other limits, other axis label). The legend sits below the panel.
    """
    from matplotlib.lines import Line2D

    from bncourse import plotting

    labels = list(results)
    if len(labels) < 2:
        raise ValueError("curves_explorer needs at least two variants to compare")
    seeds = max(len(runs) for runs in results.values())
    figure, axes = plotting.subplots(width=7.5)
    ax = axes[0, 0]
    # Per metric, two slots (variant A and B), each with its mean line, its band and one
    # line per seed: a metric returns its own artists, so changing it redraws the whole
    # figure (and the axis label), while the variants and the seeds' view redraw in place.
    slots: dict[str, list[dict[str, Any]]] = {}
    for name in METRICS:
        slots[name] = []
        for index in range(2):
            marker, style = ex.MARKERS[index], ex.LINESTYLES[index]
            (mean,) = ax.plot([], [], marker=marker, visible=False)
            band = ax.fill_between([0.0], [0.0], [0.0], alpha=0.2, linewidth=0, visible=False)
            lines = [
                ax.plot([], [], linestyle=style, linewidth=1, alpha=0.8, visible=False)[0]
                for _ in range(seeds)
            ]
            slots[name].append({"mean": mean, "band": band, "seeds": lines})
    steps = np.concatenate([np.asarray(runs[0].steps) for runs in results.values()])
    margin = 0.05 * max(float(np.ptp(steps)), 1.0)
    ax.set_xlim(float(steps.min()) - margin, float(steps.max()) + margin)
    limits = {name: _curve_limits(results, key) for name, key in METRICS.items()}
    plotting.finish(ax, title=" ", xlabel="optimizer steps", ylabel=metric, legend=False)
    longest = max(labels, key=len)
    proxies = [Line2D([], [], marker=ex.MARKERS[index]) for index in range(2)]
    legend = ax.legend(
        proxies,
        [f"{longest} (mean of {seeds})"] * 2,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncols=2,
    )
    handles, texts = legend.legend_handles, legend.get_texts()

    def update(
        first: str | None = None,
        second: str | None = None,
        metric: str = "validation accuracy",
        each_seed: bool = False,
    ) -> list[Any]:
        chosen = list(dict.fromkeys([first or labels[0], second or labels[1]]))
        key = METRICS[metric]
        for pair in slots.values():
            for slot in pair:
                for artist in (slot["mean"], slot["band"], *slot["seeds"]):
                    artist.set_visible(False)
        for index, slot in enumerate(slots[metric]):
            handles[index].set_visible(index < len(chosen))
            texts[index].set_visible(index < len(chosen))
            if index >= len(chosen):
                continue
            label = chosen[index]
            runs = results[label]
            color = ex.color_for(index, label, colors)
            values = ex.stack(runs, key)
            x = np.asarray(runs[0].steps)
            handle = handles[index]
            handle.set_color(color)
            if each_seed:
                for line, row in zip(slot["seeds"], values, strict=False):
                    line.set_data(x, row)
                    line.set_color(color)
                    line.set_visible(True)
                handle.set_marker("None")
                handle.set_linestyle(ex.LINESTYLES[index])
                texts[index].set_text(f"{label} ({len(runs)} seeds)")
                continue
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a step where every run is NaN
                mean = np.nanmean(values, axis=0)
                low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            slot["mean"].set_data(x, mean)
            slot["mean"].set_color(color)
            slot["mean"].set_visible(True)
            if len(runs) > 1:
                slot["band"].set_data(x, low, high)
                slot["band"].set_color(color)
                slot["band"].set_visible(True)
            handle.set_marker(ex.MARKERS[index])
            handle.set_linestyle("-")
            texts[index].set_text(f"{label} (mean of {len(runs)})")
        ax.set_ylim(*limits[metric])
        ax.set_ylabel(metric)
        what = "every seed" if each_seed else "mean over seeds, band: lowest to highest seed"
        ax.title.set_text(f"{metric} ({what})")
        pair = slots[metric]
        artists = [
            artist for slot in pair for artist in (slot["band"], slot["mean"], *slot["seeds"])
        ]
        return [*artists, ax.title, legend]

    return figure, update


def curves_explorer(
    results: Mapping[str, Sequence[Run]],
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Compare two placements, seed by seed",
) -> Any:
    """Pick two variants and a metric; see their mean and range, or every seed's curve
    (``setup_curves``)."""
    from functools import partial

    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    labels = list(results)
    if len(labels) < 2:
        raise ValueError("curves_explorer needs at least two variants to compare")
    controls = {
        "first": widgets.Dropdown(options=labels, value=labels[0], description="variant A"),
        "second": widgets.Dropdown(options=labels, value=labels[1], description="variant B"),
        "metric": widgets.Dropdown(
            options=list(METRICS), value="validation accuracy", description="metric"
        ),
        "each_seed": widgets.Checkbox(value=False, description="show every seed"),
    }
    return explorer(
        controls=controls,
        live=partial(setup_curves, results, colors=colors),
        title=title,
        description="Is the gap between the two means larger than the spread between seeds?",
    )


def dropout_variance(
    rate: float, mean: float, *, variance: float = 1.0, n: int = 20_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One unit x ~ N(mean, variance) after (inverted) Dropout, in training and at inference.

    Returns ``(training, inference)`` samples: in training each value is kept with
    probability ``1 - rate`` and divided by ``1 - rate``; at inference Dropout is the
    identity. Their variances are ``(mean**2 + variance) / keep - mean**2`` and ``variance``.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must lie in [0, 1); got {rate}")
    rng = np.random.default_rng(resolve(seed))
    x = rng.normal(mean, np.sqrt(variance), n)
    keep = 1.0 - rate
    mask = rng.random(n) < keep
    return x * mask / keep, x


SHIFT_RATES = (0.0, 0.8, 0.1)
"""The variance-shift explorer's Dropout-rate slider: (lowest, highest, step)."""

SHIFT_MEANS = (0.0, 2.0, 0.25)
"""The variance-shift explorer's slider for the unit's mean: (lowest, highest, step)."""

_INPUT_EDGES = np.linspace(SHIFT_MEANS[0] - 4.5, SHIFT_MEANS[1] + 5.5, 81)
"""Histogram bins of BN's input, the same for every mean: N(mean, 1) within 4 standard
deviations for every mean the slider allows (a training tail further out is cut off)."""

_OUTPUT_EDGES = np.linspace(-4.0, 4.0, 81)
_INPUT_TOP = 0.6
"""Height of the input panel: above N(mean, 1)'s peak (0.4) and its histogram noise; the
spike of dropped values at 0 goes higher and is cut off and marked."""

_OUTPUT_TOP = 2.0
"""Height of the output panel: above the narrowest output histogram the sliders allow
(rate 0.8 and mean 2: standard deviation 1 / sqrt(21), peak about 1.85)."""


def setup_variance_shift(rate: float = 0.5, mean: float = 0.0, *, seed: int = 0) -> tuple[Any, Any]:
    """The variance-shift explorer's figure, built once, for one unit x ~ N(mean, 1) with
    Dropout at ``rate`` right before BN. Returns ``(figure, update)``;
    ``update(rate=..., mean=...)`` redraws it in place (``bncourse.lab.explorer.LiveFigure``).

    Left: BN's input in training (Dropout on) and at inference (Dropout off), with the
    spike of dropped values at 0 cut off and marked. Right: BN's output at inference when it
    normalizes with the training variance, against N(0, 1). The axes are the same for every
    slider value (so the panels compare across values), and every text (titles, the
    measured variances, the note on the spike) sits in a title or in a legend below its
    panel, so nothing collides at any slider value.
    """
    from bncourse import plotting

    colors = plotting.COLORS
    fig, axes = plotting.subplots(1, 2, figsize=(9.0, 3.9))
    left, right = axes[0]
    empty_input = np.zeros(len(_INPUT_EDGES) - 1)
    training_hist = left.stairs(
        empty_input, _INPUT_EDGES, fill=True, alpha=0.5, color=colors["without_bn"]
    )
    inference_hist = left.stairs(
        empty_input,
        _INPUT_EDGES,
        fill=True,
        alpha=0.5,
        facecolor=colors["with_bn"],
        edgecolor="#333333",
        linewidth=0,
        hatch="//",
    )
    (spike,) = left.plot(
        [0.0], [0.95 * _INPUT_TOP], marker="v", linestyle="none", color=colors["without_bn"]
    )
    left.set_xlim(_INPUT_EDGES[0], _INPUT_EDGES[-1])
    left.set_ylim(0.0, _INPUT_TOP)
    plotting.finish(
        left, title="BN's input", xlabel="value of the unit", ylabel="density", legend=False
    )
    output_hist = right.stairs(
        np.zeros(len(_OUTPUT_EDGES) - 1),
        _OUTPUT_EDGES,
        fill=True,
        alpha=0.6,
        color=colors["with_bn"],
    )
    grid = np.linspace(-4, 4, 200)
    (normal,) = right.plot(
        grid,
        np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi),
        color=colors["neutral"],
        linestyle="--",
    )
    right.set_xlim(_OUTPUT_EDGES[0], _OUTPUT_EDGES[-1])
    right.set_ylim(0.0, _OUTPUT_TOP)
    plotting.finish(
        right,
        title="BN's output at inference",
        xlabel="x̂ at inference",
        ylabel="density",
        legend=False,
    )
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncols": 1}
    left.legend(
        [training_hist, inference_hist, spike],
        [
            "training, Dropout on",
            "inference, Dropout off",
            "spike at 0 (cut off): the dropped values",
        ],
        **below,
    )
    right.legend(
        [output_hist, normal],
        ["x̂ normalized with the moving variance", "N(0, 1): what training saw"],
        **below,
    )
    # The measured variances change with the sliders: they go in the titles (the legends
    # stay as drawn once); the longest titles at setup, so the layout leaves room for them.
    left.set_title("BN's input\nvariance 00.00 in training, 0.00 at inference")
    right.set_title("BN's output at inference\nvariance 0.00 (in training: 1)")

    def update(rate: float = 0.5, mean: float = 0.0) -> list[Any]:
        training, inference = dropout_variance(rate, mean, seed=seed)
        moving_mean, moving_var = training.mean(), training.var()
        output = (inference - moving_mean) / np.sqrt(moving_var + 1e-3)
        training_hist.set_data(np.histogram(training, bins=_INPUT_EDGES, density=True)[0])
        inference_hist.set_data(np.histogram(inference, bins=_INPUT_EDGES, density=True)[0])
        output_hist.set_data(np.histogram(output, bins=_OUTPUT_EDGES, density=True)[0])
        spike.set_visible(rate > 0)
        left.title.set_text(
            f"BN's input\nvariance {training.var():.2f} in training, "
            f"{inference.var():.2f} at inference"
        )
        right.title.set_text(
            f"BN's output at inference\nvariance {output.var():.2f} (in training: 1)"
        )
        return [training_hist, inference_hist, spike, output_hist, left.title, right.title]

    return fig, update


def variance_shift_explorer(*, seed: int = 0) -> Any:
    """Dropout rate and the unit's mean as sliders: what BN's moving variance learns in
    training, what the unit really does at inference, and what BN then outputs."""
    from functools import partial

    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    controls = {
        "rate": widgets.FloatSlider(
            value=0.5,
            min=SHIFT_RATES[0],
            max=SHIFT_RATES[1],
            step=SHIFT_RATES[2],
            description="Dropout rate",
        ),
        "mean": widgets.FloatSlider(
            value=0.0,
            min=SHIFT_MEANS[0],
            max=SHIFT_MEANS[1],
            step=SHIFT_MEANS[2],
            description="unit's mean",
        ),
    }
    return explorer(
        controls=controls,
        live=partial(setup_variance_shift, seed=seed),
        title="Dropout right before BN: the variance shift",
        description="The unit is x ~ N(mean, 1). BN's moving variance learns the training "
        "variance; at inference the unit varies less.",
    )


# ----------------------------------------------------------------- the lesson's exercises


def dropout_variance_ratio(x: np.ndarray, rate: float) -> np.ndarray:
    """The course's version of the exercise: per unit of ``x`` (examples, units), the
    variance at inference divided by the expected variance in training when inverted
    Dropout at ``rate`` comes first (nan for a unit that never varies in either mode)."""
    x = np.asarray(x, dtype=np.float64)
    mean, variance = x.mean(axis=0), x.var(axis=0)
    keep = 1.0 - rate
    with np.errstate(divide="ignore", invalid="ignore"):
        return (variance / ((mean**2 + variance) / keep - mean**2)).astype(np.float32)


def population_statistics(forward: Any, batches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The course's version of the exercise: the mean and biased variance of what a BN
    layer receives over every example of ``batches`` (batches, batch size, inputs), with
    ``forward(x, training)``, the layers in front of it, in inference mode."""
    batches = np.asarray(batches)
    values = np.asarray(forward(batches.reshape(-1, batches.shape[-1]), training=False))
    values = values.astype(np.float64)
    return values.mean(axis=0).astype(np.float32), values.var(axis=0).astype(np.float32)


def layer_probe(trainer: Trainer, layer: str) -> Any:
    """``forward(x, training)``: what the layer named ``layer`` of ``trainer``'s network
    receives for the examples ``x`` (float32 (examples, units)), every layer before it in
    training or inference mode. Looking changes nothing: the moving statistics and Dropout's
    random state are put back after a training-mode call."""
    import keras

    model = trainer.model
    probe = keras.Model(model.inputs[0], model.get_layer(layer).input)

    def forward(x: np.ndarray, training: bool) -> np.ndarray:
        state = [variable.numpy().copy() for variable in model.non_trainable_variables]
        values = np.asarray(probe(np.asarray(x, dtype=np.float32), training=bool(training)))
        for variable, value in zip(model.non_trainable_variables, state, strict=True):
            variable.assign(value)
        return values

    return forward


def as_batches(x: np.ndarray, *, batch_size: int) -> np.ndarray:
    """``x`` (examples, features) cut into equal batches, (batches, batch_size, features),
    in order; the examples left over after the last full batch are left out."""
    x = np.asarray(x)
    count = len(x) // batch_size
    if count < 1:
        raise ValueError(f"{len(x)} examples make no batch of {batch_size}")
    return x[: count * batch_size].reshape(count, batch_size, *x.shape[1:])


def median_ratio(ratios: np.ndarray) -> float:
    """The median of per-unit variance ratios, leaving out the units whose ratio is not a
    number (a unit that never varies: a dead ReLU, say), as the lesson's study does."""
    ratios = np.asarray(ratios, dtype=np.float64)
    finite = ratios[np.isfinite(ratios)]
    return float(np.median(finite)) if finite.size else float("nan")
