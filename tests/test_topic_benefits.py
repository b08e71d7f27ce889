"""Lesson 08's explorer: browse a sweep value by value."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bncourse.lab.experiments import Sweep  # noqa: E402
from bncourse.lab.training import Run  # noqa: E402
from bncourse.topics import benefits  # noqa: E402


def run(final: float, diverged: bool = False) -> Run:
    val = np.array([np.nan, np.nan]) if diverged else np.array([final / 2, final])
    return Run(np.array([100, 200]), np.array([1.0, 0.5]), np.ones(2), val, diverged)


def sweep(finals: list[list[float]], values=(0.01, 0.1, 1.0)) -> Sweep:
    rows = [[run(f, diverged=np.isnan(f)) for f in row] for row in finals]
    return Sweep("learning_rate", tuple(values), (0, 1), rows)


def test_sweep_explorer_shows_the_chosen_value_and_counts_divergence():
    sweeps = {
        "without BN": sweep([[0.9, 0.9], [0.8, 0.7], [np.nan, 0.1]]),
        "with BN": sweep([[0.95, 0.9], [0.95, 0.96], [0.9, 0.85]]),
    }
    view = benefits.sweep_explorer(sweeps, name="learning rate", start=1.0)
    assert view.values == {"value": 1.0}
    assert view.static_png.startswith(b"\x89PNG")
    left, right = view.draw(value=1.0).axes
    assert "learning rate = 1" in right.get_title()
    labels = [
        line.get_label() for line in right.get_lines() if not line.get_label().startswith("_")
    ]
    assert labels == ["without BN, 1 diverged", "with BN"]
    vertical = [line for line in left.get_lines() if line.get_linestyle() == "--"]
    assert vertical and vertical[0].get_xdata()[0] == 1.0
    view.controls["value"].value = 0.01  # moving the slider redraws without error
    assert "diverged" not in " ".join(
        line.get_label() for line in view.draw(value=0.01).axes[1].get_lines()
    )


def test_sweep_explorer_starts_in_the_middle_and_rejects_mismatched_sweeps():
    a = sweep([[0.9, 0.9], [0.8, 0.7], [0.5, 0.1]])
    assert benefits.sweep_explorer({"a": a}, name="lr").values == {"value": 0.1}
    b = sweep([[0.9, 0.9], [0.8, 0.7], [0.5, 0.1]], values=(0.01, 0.1, 2.0))
    with pytest.raises(ValueError, match="same values"):
        benefits.sweep_explorer({"a": a, "b": b}, name="lr")
