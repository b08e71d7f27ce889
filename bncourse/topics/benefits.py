"""Lesson 08 (what BN buys you): an explorer that browses a sweep value by value.

The sweep is computed once in the lesson; moving the slider only redraws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bncourse.lab.experiments import Sweep

__all__ = ["sweep_explorer"]


def _format(value: float) -> str:
    return f"{value:g}"


def sweep_explorer(
    sweeps: Mapping[str, Sweep],
    *,
    name: str,
    colors: Mapping[str, str] | None = None,
    start: float | None = None,
) -> Any:
    """A slider over the swept values of ``sweeps`` (one Sweep per variant, same values).

    Left: final validation accuracy against the swept value, with the chosen value marked.
    Right: every seed's validation accuracy over training at the chosen value.
    """
    import ipywidgets as widgets

    from bncourse import plotting
    from bncourse.lab.experiments import color_for, plot_sweep
    from bncourse.lab.explorer import explorer

    values = next(iter(sweeps.values())).values
    if any(sweep.values != values for sweep in sweeps.values()):
        raise ValueError("every variant must sweep the same values")

    def draw(value: float) -> Any:
        fig, axes = plotting.subplots(1, 2, width=10.5)
        left, right = axes[0]
        plot_sweep(left, sweeps, colors=colors, log_x=True)
        left.axvline(value, color=plotting.COLORS["neutral"], linestyle="--", linewidth=1)
        plotting.finish(
            left,
            title=f"final validation accuracy against {name}",
            xlabel=name,
            ylabel="validation accuracy",
        )
        for index, (label, sweep) in enumerate(sweeps.items()):
            color = color_for(index, label, colors)
            curves = sweep.curves(value)
            steps = sweep.steps()
            for seed, row in zip(sweep.seeds, curves, strict=True):
                shown = np.where(np.isfinite(row), row, np.nan)
                right.plot(steps, shown, color=color, alpha=0.85, marker=".")
                right.annotate(f"seed {seed}", (steps[-1], shown[-1]), fontsize=7, color=color)
            failed = int(sweep.diverged()[sweep.values.index(value)].sum())
            note = f", {failed} diverged" if failed else ""
            right.plot([], [], color=color, label=f"{label}{note}")
        right.set_ylim(0.0, 1.0)
        plotting.finish(
            right,
            title=f"{name} = {_format(value)}: each seed over training",
            xlabel="optimizer steps",
            ylabel="validation accuracy",
        )
        return fig

    options = [(_format(v), v) for v in values]
    first = start if start in values else values[len(values) // 2]
    controls = {"value": widgets.SelectionSlider(options=options, value=first, description=name)}
    return explorer(
        draw,
        controls,
        title=f"Browse the {name} sweep",
        description="Where does each network stop learning, and how does it fail?",
    )
