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


def test_the_figure_has_two_labeled_panels_and_fits_the_notebook():
    import matplotlib.pyplot as plt

    figure, update = ms.setup_moving_stats(momentum=0.9, batch_size=4, steps=50)
    update(momentum=0.9, batch_size=4)
    axes = figure.get_axes()
    assert len(axes) == 2
    assert figure.get_size_inches()[0] <= 9.0  # wider figures get shrunk in JupyterLab
    for ax in axes:
        assert ax.get_title() and ax.get_ylabel()
        assert ax.get_legend() is not None
    assert axes[-1].get_xlabel() == "training step"
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert any("Keras, momentum m" in label for label in labels)
    # PyTorch is simulated from its documented rule, and the labels say so
    assert any("PyTorch (simulated), momentum 1 - m" in label for label in labels)
    assert "m = 0.9" in axes[0].get_title() and "batches of 4" in axes[0].get_title()
    keras_line = axes[0].get_lines()[1]
    # The Keras rule from its start value 0: after one step, (1 - 0.9) times the batch mean
    means, _, _ = ms.batch_statistics(4, 50, seed=0)
    np.testing.assert_allclose(keras_line.get_ydata()[0], 0.1 * means[0], rtol=1e-6)
    plt.close(figure)


def test_settled_spread_matches_the_autoregressive_prediction():
    keep = 0.9
    spreads = ms.settled_spread(momentum=keep, convention="keras", batch_size=16, steps=20_000)
    predicted = ms.POPULATION_STD / np.sqrt(16) * np.sqrt((1 - keep) / (1 + keep))
    assert spreads.shape == (3,)
    np.testing.assert_allclose(spreads, predicted, rtol=0.1)
    # the same average in PyTorch's convention gives the very same numbers
    np.testing.assert_allclose(
        ms.settled_spread(momentum=1 - keep, convention="pytorch", batch_size=16, steps=20_000),
        spreads,
        rtol=1e-9,
    )


def test_settled_spread_rejects_a_burn_in_longer_than_the_run():
    with pytest.raises(ValueError, match="burn_in"):
        ms.settled_spread(momentum=0.9, convention="keras", steps=100, burn_in=100)
    with pytest.raises(ValueError, match="seeds"):
        ms.settled_spread(momentum=0.9, convention="keras", steps=100, burn_in=10, seeds=())


def test_x_hat_in_random_batches_normalizes_within_each_batch():
    # every batch mate is 0: a batch of two is {2, 0} (x_hat = 1), of three {2, 0, 0}
    # (mean 2/3, biased variance 8/9, x_hat = sqrt(2))
    x_hats = ms.x_hat_in_random_batches(2.0, [0.0], sizes=[2, 3], draws=50, eps=0.0)
    assert set(x_hats) == {2, 3}
    assert x_hats[2].shape == (50,)
    np.testing.assert_allclose(x_hats[2], 1.0)
    np.testing.assert_allclose(x_hats[3], np.sqrt(2.0))


def test_x_hat_in_random_batches_is_fixed_by_its_seed():
    pool = np.arange(20.0)
    first = ms.x_hat_in_random_batches(3.0, pool, sizes=[4], draws=30, seed=3)
    again = ms.x_hat_in_random_batches(3.0, pool, sizes=[4], draws=30, seed=3)
    other = ms.x_hat_in_random_batches(3.0, pool, sizes=[4], draws=30, seed=4)
    np.testing.assert_array_equal(first[4], again[4])
    assert not np.array_equal(first[4], other[4])


def test_x_hat_spread_shrinks_with_the_batch_size():
    pool = np.random.default_rng(0).normal(size=5000)
    x_hats = ms.x_hat_in_random_batches(1.0, pool, sizes=[2, 8, 64], draws=2000)
    spreads = [x_hats[size].std() for size in (2, 8, 64)]
    assert spreads[0] > spreads[1] > spreads[2]
    assert np.all(np.abs(x_hats[2]) <= 1.0 + 1e-12)  # |x_hat| <= sqrt(m - 1) = 1 for m = 2


def test_x_hat_in_random_batches_names_bad_input():
    with pytest.raises(ValueError, match="every size"):
        ms.x_hat_in_random_batches(1.0, [0.0, 1.0], sizes=[1])
    with pytest.raises(ValueError, match="pool"):
        ms.x_hat_in_random_batches(1.0, np.ones((2, 2)), sizes=[2])
    with pytest.raises(ValueError, match="draws"):
        ms.x_hat_in_random_batches(1.0, [0.0, 1.0], sizes=[2], draws=0)


def test_the_lesson_figures_are_labeled():
    import matplotlib.pyplot as plt

    means, _, _ = ms.batch_statistics(8, 40)
    curves = {
        "a": ms.moving_average(means, 0.9),
        "b": ms.moving_average(means, 0.1, "pytorch"),
    }
    figure = ms.plot_moving_means(means, curves=curves)
    ax = figure.get_axes()[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"a", "b", "true mean"} <= set(labels)
    styles = {line.get_linestyle() for line in ax.get_lines()[1:3]}
    assert len(styles) == 2  # the curves differ by more than color
    plt.close(figure)

    x_hats = ms.x_hat_in_random_batches(1.0, np.arange(10.0), sizes=[2, 4], draws=20)
    figure = ms.plot_x_hat_spread(x_hats)
    ax = figure.get_axes()[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_legend() is not None
    assert all(size <= 9.0 for size in figure.get_size_inches()[:1])
    plt.close(figure)


def test_the_explorer_has_momentum_and_batch_size_sliders():
    explorer = ms.moving_stats_explorer()
    assert set(explorer.controls) == {"momentum", "batch_size"}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["momentum"].value = 0.9  # redraws without raising
    assert "momentum=0.9" in explorer._repr_mimebundle_()["text/plain"]
