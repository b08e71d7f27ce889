"""Lesson 03's explorer: the numbers it draws, the figure and the widget."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics import four_steps as fs


def test_feature_batches_have_the_stated_mean_spread_and_skew():
    x = fs.feature_batches(64, 2000, seed=3).astype(np.float64)
    assert x.shape == (2000, 64) and fs.feature_batches(4, 3).dtype == np.float32
    assert abs(x.mean() - fs.POPULATION_MEAN) < 0.005
    assert abs(x.std() - fs.POPULATION_STD) < 0.005
    centered = x - x.mean()
    assert (centered**3).mean() > 0  # skewed to the right, not a normal distribution


def test_same_seed_same_batches_other_seed_other_batches():
    np.testing.assert_array_equal(
        fs.feature_batches(8, 5, seed=1), fs.feature_batches(8, 5, seed=1)
    )
    assert not np.array_equal(fs.feature_batches(8, 5, seed=1), fs.feature_batches(8, 5, seed=2))


def test_a_batch_of_one_normalizes_to_beta():
    out = fs.normalize_batches(fs.feature_batches(1, 50), gamma=2.0, beta=-0.7)
    np.testing.assert_allclose(out, -0.7, atol=1e-6)


def test_a_batch_of_two_normalizes_to_two_mirror_values():
    samples = np.array([[1.0, 1.2], [5.0, 4.0]])
    eps = 1e-3
    out = fs.normalize_batches(samples, epsilon=eps)
    # Two values a, b: the variance is ((a - b) / 2)**2 and each |x - mean| is |a - b| / 2.
    for row, (a, b) in zip(out, samples, strict=True):
        half = abs(a - b) / 2
        expected = half / np.sqrt(half**2 + eps)
        np.testing.assert_allclose(np.abs(row), expected, rtol=1e-5)
        assert row[0] == pytest.approx(-row[1], rel=1e-5)


def test_large_batches_get_mean_beta_and_spread_gamma():
    samples = fs.feature_batches(256, 20, seed=4)
    gamma, beta, eps = 1.7, 0.4, 1e-2
    out = fs.normalize_batches(samples, gamma, beta, eps).astype(np.float64)
    var = samples.astype(np.float64).var(axis=1)
    np.testing.assert_allclose(out.mean(axis=1), beta, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=1), gamma * np.sqrt(var / (var + eps)), rtol=1e-4)


def test_normalize_batches_leaves_its_input_alone_and_rejects_bad_input():
    samples = fs.feature_batches(4, 3)
    before = samples.copy()
    fs.normalize_batches(samples, 2.0, 1.0)
    np.testing.assert_array_equal(samples, before)
    with pytest.raises(ValueError, match="samples must have shape"):
        fs.normalize_batches(np.ones(5))
    with pytest.raises(ValueError, match="epsilon"):
        fs.normalize_batches(samples, epsilon=-1.0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        fs.feature_batches(0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        fs.feature_batches(2.5)


@pytest.mark.parametrize("batch_size", [1, 4, 16, 64])
def test_the_spread_of_batch_means_is_sigma_over_root_m(batch_size):
    means = fs.feature_batches(batch_size, 4000, seed=7).astype(np.float64).mean(axis=1)
    expected = fs.POPULATION_STD / np.sqrt(batch_size)
    assert means.std() == pytest.approx(expected, rel=0.1)


def test_the_figure_has_three_labeled_panels():
    import matplotlib.pyplot as plt

    figure = fs.draw_four_steps(batch_size=4, gamma=2.0, beta=1.0, epsilon=1e-2)
    axes = figure.get_axes()
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    assert "gamma = 2" in axes[1].get_title()
    plt.close(figure)


def test_the_explorer_has_the_four_sliders_and_a_static_picture():
    explorer = fs.four_steps_explorer()
    assert set(explorer.controls) == {"batch_size", "gamma", "beta", "epsilon"}
    assert explorer.values == {"batch_size": 8, "gamma": 1.0, "beta": 0.0, "epsilon": 1e-3}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["batch_size"].value = 2  # redraws without raising
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle and "batch_size=2" in bundle["text/plain"]
