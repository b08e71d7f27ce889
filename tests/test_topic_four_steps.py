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


def test_the_figure_has_three_labeled_panels_and_shows_the_lessons_own_numbers():
    import matplotlib.pyplot as plt

    figure, update = fs.setup_four_steps(batch_size=4, gamma=2.0, beta=1.0, epsilon=1e-2)
    update(batch_size=4, gamma=2.0, beta=1.0, epsilon=1e-2)
    axes = figure.get_axes()
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    before, noise, after = (
        next(a for a in axes if a.get_title().startswith(p)) for p in ("Before", "Noise", "After")
    )
    assert "gamma = 2" in after.get_title() and "beta = 1" in after.get_title()
    assert figure.get_figwidth() <= 9.0  # wider figures get shrunk in JupyterLab
    # the after-BN histogram is the lesson's own normalize_batches of the same batches
    samples = fs.feature_batches(4, 25_600 // 4, seed=0)
    outputs = fs.normalize_batches(samples, gamma=2.0, beta=1.0, epsilon=1e-2)
    own = next(p for p in after.patches if p.get_label().startswith("each batch"))
    values, edges = own.get_data().values, own.get_data().edges
    expected, _ = np.histogram(outputs, bins=edges, density=True)
    np.testing.assert_allclose(values, expected)
    rug = before.get_lines()[0]
    np.testing.assert_array_equal(rug.get_xdata(), samples[0])
    assert "0.05" in " ".join(t.get_text() for t in noise.texts)  # sigma / sqrt(4)
    plt.close(figure)


def test_the_limits_hold_the_data_at_every_extreme_of_the_sliders():
    import matplotlib.pyplot as plt

    figure, update = fs.setup_four_steps()
    axes = figure.get_axes()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in axes]
    for batch_size in (1, 2, 256):
        for gamma in (0.1, 3.0):
            for beta in (-3.0, 3.0):
                for epsilon in (1e-5, 1.0):
                    update(batch_size=batch_size, gamma=gamma, beta=beta, epsilon=epsilon)
                    samples = fs.feature_batches(batch_size, max(400, 25_600 // batch_size))
                    outputs = fs.normalize_batches(samples, gamma, beta, epsilon)
                    low, high = np.percentile(outputs, [0.5, 99.5])
                    after_x = next(a for a in axes if a.get_title().startswith("After")).get_xlim()
                    assert after_x[0] <= low and high <= after_x[1]
                    assert limits[0][0][0] <= samples.min() and samples.max() <= limits[0][0][1]
    # no axis follows any slider
    for ax, (xlim, ylim) in zip(axes, limits, strict=True):
        assert ax.get_xlim() == xlim and ax.get_ylim() == ylim
    plt.close(figure)


def test_every_slider_redraws_in_place():
    explorer = fs.four_steps_explorer()
    first = explorer.static_png
    for name, value in (("gamma", 2.0), ("beta", 1.5), ("epsilon", 1.0), ("batch_size", 64)):
        explorer.controls[name].value = value
        assert explorer.picture() != first
    assert explorer.live.full_redraws == 0  # the axes did not move


def test_the_batch_means_bars_are_relative_to_the_tallest_and_narrow_with_the_batch():
    figure, update = fs.setup_four_steps()
    widths = {}
    for size in (2, 64):
        update(batch_size=size)
        noise = next(a for a in figure.get_axes() if a.get_title().startswith("Noise"))
        bars = noise.patches[0]
        heights, edges = bars.get_data().values, bars.get_data().edges
        assert heights.max() == 1.0 and heights.min() >= 0.0
        centers = (edges[:-1] + edges[1:]) / 2
        weights = heights * np.diff(edges)  # back to counts, up to one factor
        middle = np.average(centers, weights=weights)
        widths[size] = np.sqrt(np.average((centers - middle) ** 2, weights=weights))
        assert noise.get_ylim()[1] > 1.0
    assert widths[64] < widths[2] / 4  # as drawn: sigma / sqrt(m), 8 times narrower
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_the_explorer_has_the_four_sliders_and_a_static_picture():
    explorer = fs.four_steps_explorer()
    assert set(explorer.controls) == {"batch_size", "gamma", "beta", "epsilon"}
    assert explorer.values == {"batch_size": 8, "gamma": 1.0, "beta": 0.0, "epsilon": 1e-3}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["batch_size"].value = 2  # redraws without raising
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle and "batch_size=2" in bundle["text/plain"]


def test_spread_before_and_after_gives_the_gain_and_reuses_batches_across_eps():
    variances = np.array([1e-6, 1e-4, 1e-2, 1.0])
    before, after = fs.spread_before_and_after(variances=variances, eps=1e-3, seed=2)
    before_0, after_0 = fs.spread_before_and_after(variances=variances, eps=0.0, seed=2)
    assert before.shape == after.shape == (4,)
    np.testing.assert_array_equal(before, before_0)  # the same batches for every eps
    np.testing.assert_allclose(after_0, 1.0, rtol=1e-5)
    # after / before is the gain 1 / sqrt(var_batch + eps), below the cap 1 / sqrt(eps)
    np.testing.assert_allclose(after / before, 1 / np.sqrt(before**2 + 1e-3), rtol=1e-4)
    assert np.all(after / before <= 1 / np.sqrt(1e-3))
    assert np.all(after[:3] > before[:3])  # below variance 1 - eps: amplified
    with pytest.raises(ValueError, match="variances"):
        fs.spread_before_and_after(variances=[0.0, 1.0], eps=1e-3)
    with pytest.raises(ValueError, match="batch_size"):
        fs.spread_before_and_after(variances=[1.0], eps=1e-3, batch_size=1)


def test_statistics_spread_follows_one_over_root_m_and_the_seed():
    sizes = [1, 4, 16]
    means, variances = fs.statistics_spread(sizes=sizes, batches=3000, seed=5)
    assert means.shape == variances.shape == (3,)
    np.testing.assert_allclose(means * np.sqrt(sizes), 1.0, rtol=0.1)
    assert variances[0] == 0.0  # a batch of one has variance 0
    assert np.all(variances[1:] > means[1:])
    again = fs.statistics_spread(sizes=sizes, batches=3000, seed=5)
    np.testing.assert_array_equal(means, again[0])


def test_the_lessons_figures_are_labeled_and_at_most_nine_inches_wide():
    import matplotlib.pyplot as plt

    variances = np.logspace(-6, 0, 5)
    epsilons = {"eps = 0": 0.0, "eps = 1e-3": 1e-3}
    spreads = {
        label: fs.spread_before_and_after(variances=variances, eps=eps)
        for label, eps in epsilons.items()
    }
    sizes = np.array([1, 2, 4])
    means, variances_spread = fs.statistics_spread(sizes=sizes, batches=200)
    maps = np.random.default_rng(0).normal(size=(4, 3, 3, 2))
    figures = [
        fs.plot_epsilon_floor(variances=variances, epsilons=epsilons, spreads=spreads),
        fs.plot_statistics_spread(
            sizes=sizes, mean_spread=means, variance_spread=variances_spread, batches=200
        ),
        fs.plot_mean_maps(panels={"raw": maps, "centered": maps - maps.mean(axis=0)}),
    ]
    for figure in figures:
        assert figure.get_figwidth() <= 9.0
        for ax in figure.get_axes():
            if ax.get_label() == "<colorbar>":
                continue
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert figures[0].get_axes()[0].get_legend() is not None
    assert len(figures[2].get_axes()) == 3  # two panels and the shared color bar
    plt.close("all")
    with pytest.raises(ValueError, match="panels"):
        fs.plot_mean_maps(panels={})


def test_lesson_03_stubs_and_the_cells_before_them_hold_no_formula():
    import json
    from pathlib import Path

    lesson = Path(__file__).resolve().parents[1] / "lessons" / "03_the_four_steps.ipynb"
    cells = ["".join(c["source"]) for c in json.loads(lesson.read_text())["cells"]]
    forbidden = ("sqrt(var + eps)", "gamma * x_hat + beta", "tuple(range(", r"\gamma\,\hat{x}")
    stubs = [i for i, text in enumerate(cells) if "raise NotImplementedError" in text]
    assert len(stubs) == 6
    # before the first exercise nothing shows the code; before each, the cell just above
    for i in stubs:
        for text in cells[: i + 1] if i == stubs[0] else (cells[i - 1], cells[i]):
            assert not any(f in text for f in forbidden), text
            assert "(x - mean) / " not in text and "\\frac{x - \\mu}" not in text, text
    assert any('hint("batch_mean")' in text for text in cells[: stubs[0]])
