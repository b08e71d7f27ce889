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
    fig = norms._draw_axes("IN", 2, 3)
    try:
        assert len(fig.axes) == 1 and fig.axes[0].get_title() == "Instance Norm"
    finally:
        plt.close(fig)


def test_noise_histogram_counts_every_batch_and_labels_both_methods():
    fig = small_batches.draw_noise(_features(), 4)
    try:
        ax = fig.axes[0]
        counts = sum(patch.get_height() for patch in ax.patches)
        assert counts == 300  # every batch's value lands in the histogram's range here
        labels = ax.get_legend_handles_labels()[1]
        assert any(label.startswith("BN, training mode") for label in labels)
        assert any(label.startswith("LayerNorm") for label in labels)
        assert "batches of 4" in ax.get_title()
    finally:
        plt.close(fig)


def test_batch_of_one_shows_zero_spread():
    fig = small_batches.draw_noise(_features(), 1)
    try:
        label = fig.axes[0].get_legend_handles_labels()[1][0]
        assert "std 0.00" in label
    finally:
        plt.close(fig)


def test_noise_explorer_only_offers_batch_sizes_the_data_can_fill():
    shown = small_batches.batch_noise_explorer(_features(n=40))
    assert list(shown.controls["batch_size"].options) == [1, 2, 4, 8, 16, 32]
    shown.controls["batch_size"].value = 16
    assert shown.values == {"batch_size": 16}


def _texts(fig):
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, *ax.texts]
    return [text for text in texts if text.get_text()]


@pytest.mark.parametrize("method", ["all", "BN", "GN"])
def test_axes_figure_fits_the_notebook_and_no_text_is_clipped(method):
    fig = norms._draw_axes(method, 2, 0)
    try:
        assert fig.get_size_inches()[0] <= 9.0
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        for text in _texts(fig):
            extent = text.get_window_extent(renderer)
            assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()
            assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, text.get_text()
            assert text.get_fontsize() >= 9, text.get_text()
    finally:
        plt.close(fig)
