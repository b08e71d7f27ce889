"""Lesson 06's moving-statistics explorer: Keras's layer, recorded step by step."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

from bncourse.topics import keras_bn  # noqa: E402


def data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(300, 3)) * [0.5, 2.0, 0.1] + [3.0, -1.0, 0.2]).astype(np.float32)


def test_every_step_follows_the_keras_momentum_rule():
    momentum = 0.9
    stats = keras_bn.moving_statistics(data(), momentum=momentum, steps=25, batch_size=8)
    assert stats.batches.shape == (25, 8, 3)
    assert stats.mean.shape == stats.variance.shape == (25, 3)
    mean, var = np.zeros(3), np.ones(3)  # Keras's initial moving statistics
    for step, batch in enumerate(stats.batches.astype(np.float64)):
        mean = momentum * mean + (1 - momentum) * batch.mean(axis=0)
        var = momentum * var + (1 - momentum) * batch.var(axis=0)  # biased, as in training
        np.testing.assert_allclose(stats.mean[step], mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(stats.variance[step], var, rtol=1e-5, atol=1e-6)


def test_batches_come_from_the_data_and_the_seed_fixes_them():
    x = data()
    first = keras_bn.moving_statistics(x, steps=5, batch_size=4, seed=1)
    again = keras_bn.moving_statistics(x, steps=5, batch_size=4, seed=1)
    other = keras_bn.moving_statistics(x, steps=5, batch_size=4, seed=2)
    np.testing.assert_array_equal(first.batches, again.batches)
    assert not np.array_equal(first.batches, other.batches)
    rows = {tuple(row) for row in x}
    assert all(tuple(row) in rows for row in first.batches.reshape(-1, 3))
    np.testing.assert_allclose(first.true_mean, x.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(first.true_variance, x.astype(np.float64).var(axis=0))


def test_calls_start_fresh_and_trace_once(caplog):
    x = data()
    first = keras_bn.moving_statistics(x, momentum=0.8, steps=6, batch_size=4, seed=5)
    for batch_size in (2, 3, 5, 7, 9, 11):  # other shapes: no new trace, no carried-over state
        keras_bn.moving_statistics(x, momentum=0.8, steps=3 + batch_size, batch_size=batch_size)
    again = keras_bn.moving_statistics(x, momentum=0.8, steps=6, batch_size=4, seed=5)
    np.testing.assert_array_equal(first.mean, again.mean)
    np.testing.assert_array_equal(first.variance, again.variance)
    assert "retracing" not in caplog.text


def test_momentum_zero_keeps_only_the_last_batch():
    stats = keras_bn.moving_statistics(data(), momentum=0.0, steps=3, batch_size=16)
    last = stats.batches[-1].astype(np.float64)
    np.testing.assert_allclose(stats.mean[-1], last.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats.variance[-1], last.var(axis=0), rtol=1e-5, atol=1e-6)


def test_the_gap_left_is_momentum_to_the_power_t_on_constant_data():
    x = np.full((50, 2), 2.5, dtype=np.float32)  # every batch has mean 2.5, variance 0
    stats = keras_bn.moving_statistics(x, momentum=0.95, steps=40, batch_size=4)
    expected = 0.95 ** np.arange(1, 41)
    np.testing.assert_allclose(stats.remaining_gap("mean")[:, 0], expected, rtol=1e-4)
    np.testing.assert_allclose(stats.remaining_gap("variance")[:, 1], expected, rtol=1e-4)
    with pytest.raises(ValueError, match="which"):
        stats.remaining_gap("std")


@pytest.mark.parametrize(
    "kwargs, error, phrase",
    [
        ({"x": np.ones(5)}, ValueError, "x must have shape"),
        ({"x": np.array([["a", "b"]] * 3)}, TypeError, "x must hold"),
        ({"momentum": 1.5}, ValueError, "momentum must lie"),
        ({"momentum": "0.99"}, TypeError, "momentum must be a number"),
        ({"steps": 0}, ValueError, "steps must be"),
        ({"steps": 2.5}, TypeError, "steps must be an int"),
        ({"batch_size": 1}, ValueError, "batch_size must be >= 2"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, phrase):
    arguments = {"x": data(), "steps": 2, "batch_size": 4} | kwargs
    x = arguments.pop("x")
    with pytest.raises(error, match=phrase):
        keras_bn.moving_statistics(x, **arguments)


def test_plot_has_titles_labels_and_legends_and_fits_the_notebook():
    import matplotlib.pyplot as plt

    stats = keras_bn.moving_statistics(data(), momentum=0.9, steps=30, batch_size=8)
    figure = keras_bn.plot_moving_statistics(stats, feature=1, steps=20, label="Feature one")
    axes = figure.axes
    assert len(axes) == 2
    assert figure.get_size_inches()[0] <= 9.0  # wider figures get shrunk in JupyterLab
    for ax in axes:
        assert ax.get_title() and ax.get_ylabel()
        assert ax.get_legend() is not None
        assert len(ax.lines[0].get_xdata()) == 20  # only the steps asked for
    assert axes[-1].get_xlabel() == "training step"
    assert "Feature one" in figure._suptitle.get_text()
    plt.close(figure)


def test_compare_with_reference_finds_only_round_off():
    rng = np.random.default_rng(0)
    dense = rng.normal(3.0, 0.5, size=(64, 5)).astype(np.float32)
    maps = rng.normal(0.1, 0.2, size=(16, 4, 4, 3)).astype(np.float32)
    for x in (dense, maps):
        differences = keras_bn.compare_with_reference(x, seed=2)
        assert set(differences) == {
            "training-mode output",
            "moving mean",
            "moving variance",
            "inference-mode output",
        }
        assert max(differences.values()) < 1e-4
        assert all(value >= 0.0 for value in differences.values())


def test_compare_with_reference_would_see_a_wrong_variance():
    # the reference with the unbiased variance differs from Keras by about 1/(m - 1)
    from bncourse import reference as ref

    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    biased = ref.batchnorm_forward(x, np.ones(3), np.zeros(3))
    unbiased = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + 1e-3)
    assert (np.abs(biased - unbiased) / (1 + np.abs(unbiased))).max() > 1e-3  # far above 1e-4


def test_compare_with_reference_names_bad_input():
    with pytest.raises(ValueError, match="x must be"):
        keras_bn.compare_with_reference(np.ones((4, 3, 2)))
    with pytest.raises(ValueError, match="x must be"):
        keras_bn.compare_with_reference(np.ones((1, 3)))


def test_channel_maps_have_a_row_per_stage_and_a_column_per_channel():
    import matplotlib.pyplot as plt

    before = np.random.default_rng(0).normal(size=(8, 8, 3))
    after = (before - before.mean(axis=(0, 1))) / before.std(axis=(0, 1))
    figure = keras_bn.plot_channel_maps(before, after, title="maps")
    axes = np.array(figure.axes).reshape(2, 3)
    assert figure.get_size_inches()[0] <= 9.0
    assert [ax.get_title() for ax in axes[0]] == ["channel 0", "channel 1", "channel 2"]
    assert axes[0, 0].get_ylabel() == "before BN" and axes[1, 0].get_ylabel() == "after BN"
    for ax in axes.ravel():
        assert " to " in ax.get_xlabel()  # each map's range of values
        assert ax.xaxis.label.get_fontsize() >= 9
    assert figure._suptitle.get_text() == "maps"
    plt.close(figure)
    with pytest.raises(ValueError, match="height, width, channels"):
        keras_bn.plot_channel_maps(before, after[..., :2], title="maps")


def test_explorer_has_its_controls_and_a_static_picture():
    widget = keras_bn.moving_stats_explorer()
    assert set(widget.values) == {"momentum", "steps", "batch_size"}
    assert widget.static_png.startswith(b"\x89PNG")
    widget.controls["steps"].value = 50  # a redraw from the cached run
    assert widget.live.full_redraws == 0
    assert "image/png" in widget._repr_mimebundle_()


def test_the_explorer_figure_draws_the_keras_run_on_fixed_axes():
    import matplotlib.pyplot as plt

    pixels = np.random.default_rng(0).uniform(0.0, 1.0, size=(200, 64)).astype(np.float32)
    figure, update = keras_bn.setup_moving_statistics(pixels=pixels)
    mean_ax, var_ax = figure.get_axes()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in (mean_ax, var_ax)]
    update(momentum=0.9, steps=30, batch_size=4)
    stats = keras_bn.moving_statistics(pixels, momentum=0.9, steps=30, batch_size=4)
    keras_mean = mean_ax.get_lines()[0]
    np.testing.assert_allclose(keras_mean.get_ydata(), stats.mean[:, keras_bn.PIXEL])
    assert "momentum 0.9" in figure._suptitle.get_text()
    for momentum in keras_bn.MOMENTA:
        for batch_size in (keras_bn.BATCH_SIZES[0], keras_bn.BATCH_SIZES[-1]):
            update(momentum=momentum, steps=keras_bn.MAX_STEPS, batch_size=batch_size)
            for ax, (xlim, ylim) in zip((mean_ax, var_ax), limits, strict=True):
                assert (ax.get_xlim(), ax.get_ylim()) == (xlim, ylim)
                values = ax.get_lines()[0].get_ydata()
                assert ylim[0] <= values.min() and values.max() <= ylim[1]
    plt.close(figure)
