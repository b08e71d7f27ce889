"""Lesson 09's explorers build, show a static picture, and redraw when a control moves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from bncourse.lab.explorer import Explorer
from bncourse.topics import norms, small_batches

pytest.importorskip("ipywidgets")


def _features(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=(n, 6)).astype(np.float32)


def test_axes_explorer_offers_the_four_methods_and_the_divisors_of_the_channels():
    shown = norms.axes_explorer()
    assert isinstance(shown, Explorer)
    assert shown.static_png.startswith(b"\x89PNG")
    methods = [value for _, value in shown.controls["method"].options]
    assert methods == ["all", "BN", "LN", "IN", "GN"]
    assert list(shown.controls["groups"].options) == [1, 2, 3, 6]
    shown.controls["method"].value = "GN"  # redraws without error
    shown.controls["groups"].value = 3
    assert shown.values == {"method": "GN", "groups": 3, "channel": 0}
    bundle = shown._repr_mimebundle_()
    assert "image/png" in bundle and "GN" in bundle["text/plain"]


def test_single_method_drawing_has_one_cube():
    fig, update = norms.setup_normalization_axes()
    try:
        update(method="IN", groups=2, channel=3)
        shown = [ax for ax in fig.axes if ax.get_visible()]
        assert len(shown) == 1 and shown[0].get_title() == "Instance Norm"
        update(method="all", groups=2, channel=3)
        shown = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in shown] == [
            "Batch Norm",
            "Layer Norm",
            "Instance Norm",
            "Group Norm (G = 2)",
        ]
    finally:
        plt.close(fig)


def _noise(batch_size, n=120):
    fig, update = small_batches.setup_batch_noise(_features(n=n), batch_size)
    update(batch_size=batch_size)
    return fig, update


def test_noise_histogram_counts_every_batch_as_the_lesson_computes_them():
    x = _features()
    fig, update = _noise(4)
    try:
        ax = fig.axes[0]
        (stairs,) = ax.patches
        counts = stairs.get_data().values
        assert counts.sum() == 300  # every batch's value lands in the histogram's range here
        bn = small_batches.sample_outputs(x, 0, 4, method="bn", batches=300, seed=4)[:, 0]
        np.testing.assert_array_equal(counts, np.histogram(bn, bins=40, range=(-3.5, 3.5))[0])
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert labels[0].startswith("BN, training mode") and f"std {bn.std():.2f}" in labels[0]
        assert labels[1].startswith("LayerNorm")
        assert "batches of 4" in ax.get_title()
        update(batch_size=16)
        assert "batches of 16" in ax.get_title()
        assert not np.array_equal(stairs.get_data().values, counts)
    finally:
        plt.close(fig)


def test_batch_of_one_shows_zero_spread():
    fig, _ = _noise(1)
    try:
        label = fig.axes[0].get_legend().get_texts()[0].get_text()
        assert "std 0.00" in label
    finally:
        plt.close(fig)


def test_the_noise_axes_hold_every_batch_size_below_the_legend():
    from bncourse.lab.explorer import LiveFigure

    x = _features(n=200)  # room for the largest batch size
    live = LiveFigure(
        lambda batch_size: small_batches.setup_batch_noise(x, batch_size), {"batch_size": 4}
    )
    ax = live.figure.axes[0]
    renderer = live.canvas.get_renderer()
    legend_bottom = ax.transData.inverted().transform(
        ax.get_legend().get_window_extent(renderer).p0
    )[1]
    try:
        for batch_size in small_batches.BATCH_SIZES:
            live.render(batch_size=batch_size)
            counts = ax.patches[0].get_data().values
            assert counts.sum() == 300, batch_size  # no value falls off the x-axis
            assert counts.max() < legend_bottom, batch_size  # the legend covers no bar
        assert live.full_redraws == 0  # one scale for every batch size
    finally:
        plt.close(live.figure)


def test_noise_explorer_only_offers_batch_sizes_the_data_can_fill():
    shown = small_batches.batch_noise_explorer(_features(n=40))
    assert list(shown.controls["batch_size"].options) == [1, 2, 4, 8, 16, 32]
    shown.controls["batch_size"].value = 16
    assert shown.values == {"batch_size": 16}


def _texts(fig):
    texts = list(fig.texts)
    for ax in fig.axes:
        if ax.get_visible():
            texts += [ax.title, *ax.texts]
    return [text for text in texts if text.get_text()]


def test_axes_figure_fits_the_notebook_and_no_text_is_clipped_at_any_control_value():
    shown = norms.axes_explorer()
    live = shown.live
    fig = live.figure
    assert fig.get_size_inches()[0] <= 9.0
    box = fig.bbox
    renderer = live.canvas.get_renderer()
    try:
        for method in [value for _, value in shown.controls["method"].options]:
            for groups in shown.controls["groups"].options:
                live.render(method=method, groups=groups, channel=5)
                for text in _texts(fig):
                    extent = text.get_window_extent(renderer)
                    where = (method, groups, text.get_text())
                    assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, where
                    assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, where
                    assert text.get_fontsize() >= 9, where
                titles = [
                    ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_visible()
                ]
                for left, right in zip(titles, titles[1:], strict=False):  # no overlap
                    assert left.x1 < right.x0, where
    finally:
        plt.close(fig)
