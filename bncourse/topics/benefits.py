"""Lesson 08 (what BN buys you): the lesson's tables, figures and its sweep explorer.

The experiments themselves run through ``bncourse.lab.experiments`` (``compare``,
``sweep``); this module turns their runs into what the lesson shows: per-seed numbers for
its claims, printed tables, the train/validation-gap figure, the reduced Figure 1 of
Ioffe & Szegedy (2015), and an explorer that browses a sweep value by value (the sweep is
computed once in the lesson; moving the slider only redraws it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bncourse.lab.experiments import Sweep, probe_drift
from bncourse.lab.training import Run

__all__ = [
    "steps_to_accuracy",
    "working_learning_rates",
    "difference_and_spread",
    "drift_after",
    "final_accuracy",
    "sweep_table",
    "plot_gaps",
    "plot_figure_1",
    "setup_sweep",
    "sweep_explorer",
]

_SEED_STYLES = ("-", "--", ":", "-.")


def _format(value: float) -> str:
    return f"{value:g}"


def steps_to_accuracy(
    steps: Sequence[int] | np.ndarray, accuracy: Sequence[float] | np.ndarray, target: float
) -> float:
    """The first recorded step at which ``accuracy`` reaches ``target`` (>=), NaN if none.

    ``steps`` holds the optimizer step of each evaluation and ``accuracy`` the accuracy
    measured there (the course's version of lesson 08's exercise).
    """
    steps, accuracy = np.asarray(steps), np.asarray(accuracy, dtype=np.float64)
    if steps.shape != accuracy.shape or steps.ndim != 1:
        raise ValueError("steps and accuracy must be 1-D arrays of the same length")
    reached = np.flatnonzero(accuracy >= target)
    return float(steps[reached[0]]) if len(reached) else float("nan")


def working_learning_rates(
    learning_rates: Sequence[float] | np.ndarray,
    final_accuracy: Sequence[Sequence[float]] | np.ndarray,
    threshold: float = 0.5,
) -> tuple[float, float]:
    """The smallest and largest learning rate at which every seed's final accuracy reached
    ``threshold`` (>=), or (NaN, NaN) if none did; a diverged run (NaN) is a failure.

    ``final_accuracy`` is (learning rates, seeds), as ``Sweep.final()`` returns it (the
    course's version of lesson 08's second exercise).
    """
    rates = np.asarray(learning_rates, dtype=np.float64)
    finals = np.asarray(final_accuracy, dtype=np.float64).reshape(len(rates), -1)
    with np.errstate(invalid="ignore"):
        working = np.flatnonzero((finals >= threshold).all(axis=1))
    if not len(working):
        return float("nan"), float("nan")
    return float(rates[working[0]]), float(rates[working[-1]])


def difference_and_spread(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """Compare one measurement of two networks over seeds: (mean of ``a`` minus mean of
    ``b``, the larger of the two seed-to-seed ranges). A difference smaller than the spread
    is one that these seeds cannot tell from seed noise. NaN entries (a run that never got
    there) make both NaN, so a comparison with them is False."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise ValueError("a spread between seeds needs at least two seeds on each side")
    return float(a.mean() - b.mean()), float(max(np.ptp(a), np.ptp(b)))


def drift_after(runs: Sequence[Run], *, after: int) -> np.ndarray:
    """(seeds, 2): for each run, how far the probed input's median and its 15th-to-85th
    percentile width move once the first ``after`` steps are over (``probe_drift``)."""
    return np.array([probe_drift(run, after=after) for run in runs], dtype=np.float64)


def final_accuracy(result: Sweep) -> np.ndarray:
    """(values, seeds) final validation accuracy of a sweep, a diverged run counting as
    0.1 (chance on ten classes), as ``plot_sweep`` draws it: a failure, not a gap."""
    return np.where(result.diverged(), 0.1, result.final())


def sweep_table(sweeps: Mapping[str, Sweep], *, digits: int = 3) -> str:
    """A text table: one row per variant, one column per swept value, holding the mean
    final validation accuracy over seeds and, in brackets, the lowest seed. A value where
    some run diverged reads ``diverged`` (with how many of the seeds)."""
    first = next(iter(sweeps.values()))
    width = max(9, digits + 12)
    header = f"{first.setting:>14}" + "".join(f"{_format(v):>{width}}" for v in first.values)
    rows = [header]
    for label, result in sweeps.items():
        if result.values != first.values:
            raise ValueError("every variant must sweep the same values")
        accuracy, diverged = final_accuracy(result), result.diverged()
        cells = []
        for row, failed in zip(accuracy, diverged, strict=True):
            if failed.any():
                cells.append(f"diverged {int(failed.sum())}/{len(failed)}")
            else:
                cells.append(f"{row.mean():.{digits}f} ({row.min():.{digits}f})")
        rows.append(f"{label:>14}" + "".join(f"{cell:>{width}}" for cell in cells))
    rows.append(f"{'':>14}  mean over {len(first.seeds)} seeds (lowest seed in brackets)")
    return "\n".join(rows)


def plot_gaps(ax: Any, gaps: Mapping[str, np.ndarray], *, colors: Mapping[str, str]) -> None:
    """One column per network: each seed's train-minus-validation accuracy gap as a
    marker, the mean as a bar."""
    markers = ("o", "s", "^", "D")
    for index, (label, gap) in enumerate(gaps.items()):
        gap = np.asarray(gap, dtype=np.float64)
        ax.plot(
            np.full(len(gap), index),
            gap,
            markers[index % len(markers)],
            color=colors[label],
            label=f"{label}: each seed",
        )
        ax.plot([index - 0.2, index + 0.2], [gap.mean()] * 2, color=colors[label], linewidth=3)
    ax.set_xticks(range(len(gaps)), list(gaps))
    ax.set_xlim(-0.6, len(gaps) - 0.4)


def plot_figure_1(
    figure_1: Mapping[str, Sequence[Run]], *, colors: Mapping[str, str], width: float = 9.0
) -> Any:
    """The reduced Figure 1: (a) test accuracy over training, mean and range over seeds, on
    top; below it, (b) without and (c) with BN, the 15th, 50th and 85th percentiles of the
    probed sigmoid's input over training, for the first seed, on a shared vertical axis."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from bncourse import plotting
    from bncourse.lab.experiments import plot_curves, plot_percentiles

    plotting.use_style()
    fig = plt.figure(figsize=(width, width * 0.75), layout="constrained")
    axes = fig.subplot_mosaic([["a", "a"], ["b", "c"]])
    plot_curves(axes["a"], figure_1, colors=colors)
    plotting.finish(
        axes["a"],
        title="(a) test accuracy (band: lowest to highest seed)",
        xlabel="training steps",
        ylabel="test accuracy",
    )
    labels = list(figure_1)
    for key, label in zip(("b", "c"), labels, strict=False):
        plot_percentiles(axes[key], figure_1[label][0], color=colors[label])
        plotting.finish(
            axes[key],
            title=f"({key}) {label}, seed {figure_1[label][0].settings.get('seed', 0)}",
            xlabel="training steps",
            ylabel="sigmoid input (unit 0, layer 3)",
            legend=False,
        )
    low = min(axes[key].get_ylim()[0] for key in ("b", "c"))
    high = max(axes[key].get_ylim()[1] for key in ("b", "c"))
    for key in ("b", "c"):
        axes[key].set_ylim(low, high)
    # one legend for the percentiles' line styles, below (b) and (c), clear of every line
    handles = [
        Line2D(
            [], [], linestyle=style, color=plotting.COLORS["neutral"], label=f"{name} percentile"
        )
        for name, style in (("15th", "--"), ("50th", "-"), ("85th", ":"))
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    return fig


def _diverged_note(sweeps: Mapping[str, Sweep], value: float) -> str:
    """Which variants had runs diverge at ``value``, e.g. "diverged: without BN 1 of 2"."""
    parts = []
    for label, sweep in sweeps.items():
        failed = sweep.diverged()[sweep.values.index(value)]
        if failed.any():
            parts.append(f"{label} {int(failed.sum())} of {len(failed)}")
    return "diverged: " + ", ".join(parts) if parts else "no run diverged"


def setup_sweep(
    sweeps: Mapping[str, Sweep],
    value: float,
    *,
    name: str,
    colors: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """The sweep explorer's figure, built once. Left: final validation accuracy against
    the swept value (``plot_sweep``), with the chosen ``value`` marked. Right: every seed's
    validation accuracy over training at that value (one line style per seed, one color
    per variant); its title says which runs diverged there.

    Returns ``(figure, update)``; ``update(value=...)`` moves the mark and redraws the
    right panel's curves in place (``bncourse.lab.explorer.LiveFigure``). Both panels
    keep their axes for every value (accuracy from 0 to 1); the legends sit below them.
    """
    from matplotlib.lines import Line2D

    from bncourse import plotting
    from bncourse.lab.experiments import color_for, plot_sweep

    values = next(iter(sweeps.values())).values
    if any(sweep.values != values for sweep in sweeps.values()):
        raise ValueError("every variant must sweep the same values")
    seeds = next(iter(sweeps.values())).seeds
    fig, axes = plotting.subplots(1, 2, figsize=(9.0, 3.4))
    left, right = axes[0]
    plot_sweep(left, sweeps, colors=colors, log_x=True)
    marker = left.axvline(value, color=plotting.COLORS["neutral"], linestyle="--", linewidth=1)
    left.set_ylim(0.0, 1.0)
    plotting.finish(
        left,
        title=f"final accuracy vs. {name}",
        xlabel=name,
        ylabel="validation accuracy",
        legend=False,
    )
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.22)}
    left.legend(**below, ncol=1)
    curves, handles = [], []
    for index, (label, sweep) in enumerate(sweeps.items()):
        color = color_for(index, label, colors)
        steps = sweep.steps()
        for number in range(len(sweep.seeds)):
            style = _SEED_STYLES[number % len(_SEED_STYLES)]
            (line,) = right.plot(steps, np.full(len(steps), np.nan), style, color=color)
            line.set(alpha=0.85, marker=".")
            curves.append((sweep, number, line))
        handles.append(Line2D([], [], color=color, label=label))
    for number, seed in enumerate(seeds[: len(_SEED_STYLES)]):
        style = _SEED_STYLES[number % len(_SEED_STYLES)]
        handles.append(
            Line2D([], [], linestyle=style, color=plotting.COLORS["neutral"], label=f"seed {seed}")
        )
    steps = np.concatenate([np.asarray(sweep.steps()) for sweep in sweeps.values()])
    margin = 0.05 * max(float(np.ptp(steps)), 1.0)
    right.set_xlim(float(steps.min()) - margin, float(steps.max()) + margin)
    right.set_ylim(0.0, 1.0)
    # the longest title at setup, so the layout leaves room for every value's
    longest = max((_diverged_note(sweeps, v) for v in values), key=len)
    plotting.finish(
        right,
        title=f"{name} = {_format(values[0])}, each seed\n{longest}",
        xlabel="optimizer steps",
        ylabel="validation accuracy",
        legend=False,
    )
    right.legend(handles=handles, **below, ncol=max(2, len(seeds)))

    def update(value: float) -> list[Any]:
        marker.set_xdata([value, value])
        for sweep, number, line in curves:
            row = sweep.curves(value)[number]
            line.set_ydata(np.where(np.isfinite(row), row, np.nan))
        right.title.set_text(
            f"{name} = {_format(value)}, each seed\n{_diverged_note(sweeps, value)}"
        )
        return [marker, *(line for _, _, line in curves), right.title]

    return fig, update


def sweep_explorer(
    sweeps: Mapping[str, Sweep],
    *,
    name: str,
    colors: Mapping[str, str] | None = None,
    start: float | None = None,
) -> Any:
    """A slider over the swept values of ``sweeps`` (one Sweep per variant, same values)
    over ``setup_sweep``'s figure: final accuracy against the swept value, and every
    seed's curve at the chosen value."""
    from functools import partial

    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    values = next(iter(sweeps.values())).values
    if any(sweep.values != values for sweep in sweeps.values()):
        raise ValueError("every variant must sweep the same values")
    options = [(_format(v), v) for v in values]
    first = start if start in values else values[len(values) // 2]
    controls = {"value": widgets.SelectionSlider(options=options, value=first, description=name)}
    return explorer(
        controls=controls,
        live=partial(setup_sweep, sweeps, name=name, colors=colors),
        title=f"Browse the {name} sweep",
        description="Where does each network stop learning, and how does it fail?",
    )
