"""Lesson 07's explorers: placements seed by seed, and the Dropout-before-BN variance shift."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bncourse.lab.training import Run  # noqa: E402
from bncourse.topics import placement  # noqa: E402


def fake_runs(level: float, seeds: int = 3) -> list[Run]:
    steps = np.array([50, 100, 150])
    return [
        Run(steps, np.array([1.0, 0.5, 0.2]), np.ones(3), level + 0.01 * s + np.zeros(3), False)
        for s in range(seeds)
    ]


@pytest.mark.parametrize("rate, mean", [(0.5, 0.0), (0.2, 0.0), (0.5, 1.5), (0.0, 1.0)])
def test_dropout_variance_matches_the_formula(rate, mean):
    training, inference = placement.dropout_variance(rate, mean, n=200_000)
    keep = 1 - rate
    assert training.mean() == pytest.approx(mean, abs=0.02)  # inverted Dropout keeps the mean
    assert inference.var() == pytest.approx(1.0, rel=0.02)
    assert training.var() == pytest.approx((mean**2 + 1) / keep - mean**2, rel=0.03)


def test_dropout_variance_rejects_a_rate_of_one():
    with pytest.raises(ValueError, match="rate"):
        placement.dropout_variance(1.0, 0.0)


def test_curves_explorer_draws_the_two_chosen_variants_and_redraws():
    results = {"BN → ReLU": fake_runs(0.9), "ReLU → BN": fake_runs(0.8), "plain": fake_runs(0.7)}
    view = placement.curves_explorer(results)
    assert view.static_png.startswith(b"\x89PNG")
    figure = view.draw(**view.values)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["BN → ReLU (mean of 3)", "ReLU → BN (mean of 3)"]
    figure = view.draw(first="plain", second="plain", metric="training loss", each_seed=True)
    assert len(figure.axes[0].get_lines()) == 4  # three seeds and one legend entry
    assert "training loss" in figure.axes[0].get_title()
    view.controls["second"].value = "plain"  # a widget change redraws without error
    view.controls["metric"].value = "training accuracy"


def test_curves_explorer_needs_two_variants():
    with pytest.raises(ValueError, match="two variants"):
        placement.curves_explorer({"only": fake_runs(0.9)})


def test_variance_shift_explorer_reports_the_shrunken_inference_output():
    view = placement.variance_shift_explorer()
    figure = view.draw(rate=0.5, mean=0.0)
    title = figure.axes[1].get_title()
    # zero-mean unit, keep probability 0.5: the inference output's variance is about 0.5
    assert float(title.rsplit(" ", 1)[-1]) == pytest.approx(0.5, abs=0.03)
    no_dropout = view.draw(rate=0.0, mean=0.0).axes[1].get_title()
    assert float(no_dropout.rsplit(" ", 1)[-1]) == pytest.approx(1.0, abs=0.01)
