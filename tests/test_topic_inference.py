"""Lesson 04's explorer: moving averages under both momentum conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bncourse.topics import inference as ms


def test_keras_convention_weights_the_old_value():
    got = ms.moving_average([10.0, 10.0, 10.0], momentum=0.9, convention="keras", start=0.0)
    np.testing.assert_allclose(got, [1.0, 1.9, 2.71])


def test_pytorch_convention_weights_the_new_value():
    got = ms.moving_average([10.0, 10.0], momentum=0.9, convention="pytorch", start=0.0)
    np.testing.assert_allclose(got, [9.0, 9.9])


def test_pytorch_momentum_p_equals_keras_momentum_one_minus_p():
    values = np.random.default_rng(0).normal(size=50)
    np.testing.assert_allclose(
        ms.moving_average(values, 0.1, "pytorch", start=1.0),
        ms.moving_average(values, 0.9, "keras", start=1.0),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "momentum, convention, keep",
    [(0.99, "keras", 0.99), (0.9, "keras", 0.9), (0.1, "pytorch", 0.9), (0.01, "pytorch", 0.99)],
)
def test_steps_to_one_percent_of_a_constant_target(momentum, convention, keep):
    target = 2.0
    trajectory = ms.moving_average(np.full(2000, target), momentum, convention, start=0.0)
    # From 0, the gap after t steps is target * keep**t; within 1% once keep**t <= 0.01.
    expected = math.ceil(math.log(0.01) / math.log(keep))
    assert ms.steps_until_within(trajectory, target, 0.01) == expected


def test_steps_until_within_edge_cases():
    assert ms.steps_until_within([2.0, 2.0], 2.0) == 1
    assert ms.steps_until_within([0.0, 1.0], 2.0) is None
    assert ms.steps_until_within([2.0, 0.0, 2.0, 2.0], 2.0) == 3  # must stay within


def test_batch_statistics_give_biased_and_unbiased_variances():
    means, biased, unbiased = ms.batch_statistics(4, 300, seed=2)
    assert means.shape == biased.shape == unbiased.shape == (300,)
    np.testing.assert_allclose(unbiased, biased * 4 / 3)
    assert abs(means.mean() - ms.POPULATION_MEAN) < 0.05
    assert abs(unbiased.mean() - ms.POPULATION_STD**2) < 0.02


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="batch_size must be >= 2"):
        ms.batch_statistics(1, 10)
    with pytest.raises(TypeError, match="steps must be an int"):
        ms.batch_statistics(4, 1.5)
    with pytest.raises(ValueError, match="convention"):
        ms.moving_average([1.0], 0.9, "tensorflow")
    with pytest.raises(ValueError, match="momentum must lie in"):
        ms.moving_average([1.0], 1.5)
    with pytest.raises(ValueError, match="batch_values must be 1-D"):
        ms.moving_average(np.ones((2, 2)), 0.9)


def test_moving_average_does_not_modify_its_input():
    values = np.array([1.0, 2.0, 3.0])
    ms.moving_average(values, 0.5)
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])


def test_the_figure_has_two_labeled_panels():
    import matplotlib.pyplot as plt

    figure = ms.draw_moving_stats(momentum=0.9, batch_size=4, steps=50)
    axes = figure.get_axes()
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert any("Keras, momentum=0.9" in label for label in labels)
    assert any("PyTorch, momentum=0.1" in label for label in labels)
    plt.close(figure)


def test_the_explorer_has_momentum_and_batch_size_sliders():
    explorer = ms.moving_stats_explorer()
    assert set(explorer.controls) == {"momentum", "batch_size"}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["momentum"].value = 0.9  # redraws without raising
    assert "momentum=0.9" in explorer._repr_mimebundle_()["text/plain"]
