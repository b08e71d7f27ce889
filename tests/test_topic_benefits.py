"""Lesson 08's helpers: claims' numbers, tables, figures and the sweep explorer."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bncourse.lab.experiments import Sweep  # noqa: E402
from bncourse.lab.training import Run  # noqa: E402
from bncourse.topics import benefits  # noqa: E402

COLORS = {"without BN": "#D55E00", "with BN": "#0072B2"}


def run(final: float, diverged: bool = False, seed: int = 0) -> Run:
    val = np.array([np.nan, np.nan]) if diverged else np.array([final / 2, final])
    return Run(
        np.array([100, 200]),
        np.array([1.0, 0.5]),
        np.ones(2),
        val,
        diverged,
        settings={"seed": seed},
    )


def sweep(finals: list[list[float]], values=(0.01, 0.1, 1.0)) -> Sweep:
    rows = [[run(f, diverged=np.isnan(f)) for f in row] for row in finals]
    return Sweep("learning_rate", tuple(values), (0, 1), rows)


def probed(median: list[float], width: list[float], seed: int = 0) -> Run:
    steps = np.array([100, 200, 300, 400])
    median, width = np.array(median), np.array(width)
    probe = np.stack([median - width / 2, median, median + width / 2], axis=1)
    acc = np.linspace(0.2, 0.9, 4)
    return Run(steps, np.ones(4), acc, acc, False, probe=probe, settings={"seed": seed})


def test_difference_and_spread_compares_means_with_the_larger_range():
    difference, spread = benefits.difference_and_spread([100, 150, 200], [300, 310, 320])
    assert difference == pytest.approx(-160.0)
    assert spread == pytest.approx(100.0)  # the first network's range, the larger one
    difference, spread = benefits.difference_and_spread([1.0, np.nan], [1.0, 2.0])
    assert np.isnan(difference) and np.isnan(spread)  # a run that never got there: no claim
    assert not abs(difference) < spread
    with pytest.raises(ValueError, match="two seeds"):
        benefits.difference_and_spread([1.0], [1.0, 2.0])


def test_drift_after_measures_each_seed_after_the_given_step():
    runs = [
        probed([5.0, 0.0, 1.0, 0.5], [9.0, 1.0, 3.0, 2.0]),
        probed([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], seed=1),
    ]
    drift = benefits.drift_after(runs, after=200)
    np.testing.assert_allclose(drift, [[1.0, 2.0], [0.0, 0.0]])  # step 100 left out


def test_final_accuracy_counts_a_diverged_run_as_chance():
    result = sweep([[0.9, 0.8], [0.7, np.nan], [0.2, 0.3]])
    np.testing.assert_allclose(
        benefits.final_accuracy(result), [[0.9, 0.8], [0.7, 0.1], [0.2, 0.3]]
    )


def test_sweep_table_shows_means_lowest_seeds_and_divergence():
    table = benefits.sweep_table(
        {
            "without BN": sweep([[0.9, 0.8], [0.7, np.nan], [0.2, 0.3]]),
            "with BN": sweep([[0.95, 0.9], [0.9, 0.8], [0.6, 0.5]]),
        }
    )
    lines = table.splitlines()
    assert lines[0].split() == ["learning_rate", "0.01", "0.1", "1"]
    assert "0.850 (0.800)" in lines[1] and "diverged 1/2" in lines[1]
    assert lines[2].split()[-2:] == ["0.550", "(0.500)"]
    assert "mean over 2 seeds" in lines[-1]
    with pytest.raises(ValueError, match="same values"):
        benefits.sweep_table(
            {"a": sweep([[0.9, 0.9]] * 3), "b": sweep([[0.9, 0.9]] * 3, (1, 2, 3))}
        )


def test_plot_gaps_draws_every_seed_and_the_mean():
    fig, ax = plt.subplots()
    gaps = {"without BN": np.array([0.04, 0.05, 0.03]), "with BN": np.array([0.02, 0.03, 0.04])}
    benefits.plot_gaps(ax, gaps, colors=COLORS)
    markers = [line for line in ax.get_lines() if line.get_marker() not in ("None", None, "")]
    assert [len(line.get_xdata()) for line in markers] == [3, 3]
    bars = [line for line in ax.get_lines() if line not in markers]
    assert [line.get_ydata()[0] for line in bars] == pytest.approx([0.04, 0.03])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["without BN", "with BN"]
    plt.close(fig)


def test_plot_figure_1_fits_the_notebook_and_shares_the_percentile_axis():
    figure_1 = {
        "without BN": [
            probed([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]),
            probed([0] * 4, [1] * 4, 1),
        ],
        "with BN": [
            probed([0.0, 0.1, 0.0, 0.1], [1.0, 1.0, 1.1, 1.0]),
            probed([0] * 4, [1] * 4, 1),
        ],
    }
    fig = benefits.plot_figure_1(figure_1, colors=COLORS)
    assert fig.get_size_inches()[0] <= 9.0
    axes = {ax.get_title()[:3]: ax for ax in fig.axes}
    assert set(axes) == {"(a)", "(b)", "(c)"}
    assert axes["(b)"].get_ylim() == axes["(c)"].get_ylim()
    assert axes["(b)"].get_legend() is None and axes["(c)"].get_legend() is None
    legend = fig.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == [
        "15th percentile",
        "50th percentile",
        "85th percentile",
    ]
    plt.close(fig)


def shown_png(view) -> bytes:
    (item,) = view.output.outputs
    return base64.b64decode(item["data"]["image/png"])


def test_sweep_figure_shows_the_chosen_value_and_counts_divergence():
    sweeps = {
        "without BN": sweep([[0.9, 0.9], [0.8, 0.7], [np.nan, 0.1]]),
        "with BN": sweep([[0.95, 0.9], [0.95, 0.96], [0.9, 0.85]]),
    }
    figure, update = benefits.setup_sweep(sweeps, 1.0, name="learning rate", colors=COLORS)
    update(value=1.0)
    assert figure.get_size_inches()[0] <= 9.0
    left, right = figure.axes
    assert right.get_title() == "learning rate = 1, each seed\ndiverged: without BN 1 of 2"
    labels = [text.get_text() for text in right.get_legend().get_texts()]
    assert labels == ["without BN", "with BN", "seed 0", "seed 1"]
    assert not right.texts  # no per-line annotations to collide with the legend
    curves = [line for line in right.get_lines() if len(line.get_xdata())]
    assert len(curves) == 4  # every seed of every variant
    seed_styles = {line.get_linestyle() for line in curves}
    assert len(seed_styles) == 2  # the seeds are told apart by line style, not only by color
    # each line is that run's validation accuracy at the chosen value (a diverged run: NaN)
    np.testing.assert_allclose(curves[1].get_ydata(), [0.1 / 2, 0.1])
    np.testing.assert_allclose(curves[2].get_ydata(), [0.9 / 2, 0.9])
    assert np.isnan(curves[0].get_ydata()).all()
    vertical = [line for line in left.get_lines() if line.get_linestyle() == "--"]
    assert vertical and vertical[0].get_xdata()[0] == 1.0
    update(value=0.01)
    assert right.get_title().endswith("no run diverged")
    assert vertical[0].get_xdata()[0] == 0.01
    np.testing.assert_allclose(curves[3].get_ydata(), [0.9 / 2, 0.9])
    for ax in (left, right):  # every value on one scale, accuracy from 0 to 1
        assert ax.get_ylim() == (0.0, 1.0)
    assert left.get_xlim()[0] < 0.01 and left.get_xlim()[1] > 1.0
    assert right.get_xlim()[0] < 100 and right.get_xlim()[1] > 200


def test_sweep_explorer_redraws_in_place_for_any_swept_setting():
    finals = [[0.5, 0.6], [0.9, 0.9], [0.92, 0.91]]
    sweeps = {
        "without BN": sweep(finals, values=(2, 32, 128)),
        "with BN": sweep(finals, (2, 32, 128)),
    }
    view = benefits.sweep_explorer(sweeps, name="batch size", colors=COLORS, start=2)
    assert view.values == {"value": 2}
    assert view.static_png.startswith(b"\x89PNG")
    before = shown_png(view)
    view.controls["value"].value = 128
    assert shown_png(view) != before
    assert view.live.figure.axes[1].get_title().startswith("batch size = 128, each seed")
    assert view.live.full_redraws == 0  # only the changing artists were drawn again
    plt.close("all")


def test_sweep_explorer_starts_in_the_middle_and_rejects_mismatched_sweeps():
    a = sweep([[0.9, 0.9], [0.8, 0.7], [0.5, 0.1]])
    assert benefits.sweep_explorer({"a": a}, name="lr").values == {"value": 0.1}
    b = sweep([[0.9, 0.9], [0.8, 0.7], [0.5, 0.1]], values=(0.01, 0.1, 2.0))
    with pytest.raises(ValueError, match="same values"):
        benefits.sweep_explorer({"a": a, "b": b}, name="lr")


def test_steps_to_accuracy_passes_the_check_and_agrees_with_runs():
    from bncourse.grading import check

    assert check("steps_to_accuracy", benefits.steps_to_accuracy).passed
    curve = run(0.9)
    for target in (0.3, 0.45, 0.9, 0.95):
        expected = curve.steps_to(target)
        got = benefits.steps_to_accuracy(curve.steps, curve.val_accuracy, target)
        assert got == expected or (np.isnan(got) and np.isnan(expected))
    with pytest.raises(ValueError, match="same length"):
        benefits.steps_to_accuracy([1, 2], [0.5], 0.4)


def test_working_learning_rates_passes_the_check_and_agrees_with_working_range():
    from bncourse.grading import check
    from bncourse.lab.experiments import working_range

    assert check("working_learning_rates", benefits.working_learning_rates).passed
    for finals in (
        [[0.9, 0.8], [0.7, np.nan], [0.3, 0.6]],
        [[0.2, 0.3], [np.nan, 0.9], [0.1, 0.1]],
    ):
        result = sweep(finals)
        got = benefits.working_learning_rates(result.values, result.final(), threshold=0.5)
        assert np.array_equal(got, working_range(result, 0.5), equal_nan=True)
