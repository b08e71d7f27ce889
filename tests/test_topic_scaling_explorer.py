"""Lesson 01's explorer: descent paths on raw, min-max and standardized features."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse import data
from bncourse.topics import scaling
from bncourse.topics import scaling as gd


@pytest.fixture(scope="module")
def houses():
    x, y, _ = data.house_prices(60, seed=3)
    return x, y


def test_scale_features_gives_each_scaling_its_defining_property(houses):
    x, _ = houses
    raw = scaling.scale_features(x, "raw")
    np.testing.assert_array_equal(raw, x)
    assert raw is not x
    minmax = scaling.scale_features(x, "min-max")
    np.testing.assert_allclose(minmax.min(axis=0), 0.0, atol=1e-7)
    np.testing.assert_allclose(minmax.max(axis=0), 1.0, atol=1e-6)
    standardized = scaling.scale_features(x, "standardized")
    np.testing.assert_allclose(standardized.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(standardized.std(axis=0), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="scaling"):
        scaling.scale_features(x, "log")


def test_the_weight_plane_holds_the_intercept_at_its_best_value(houses):
    x, y = houses
    plane = scaling.weight_plane(x, y)
    full = gd.QuadraticLoss.from_data(x, y)
    assert plane.n_parameters == 2
    # with b fixed at b*, the best weights are the full least-squares weights
    np.testing.assert_allclose(plane.minimizer(), full.minimizer()[:2], rtol=1e-6)
    assert plane.minimum() == pytest.approx(full.minimum(), rel=1e-9)


def test_draw_descent_reports_convergence_and_divergence(houses):
    x, y = houses
    import matplotlib.pyplot as plt

    plane = scaling.weight_plane(scaling.scale_features(x, "standardized"), y)
    calm = scaling.draw_descent("standardized", 0.5 * plane.stability_limit(), 20, x=x, y=y)
    contour_ax, loss_ax = calm.axes
    assert "minimum" in contour_ax.get_title() and "diverged" not in contour_ax.get_title()
    assert f"{plane.stability_limit():.3g}" in loss_ax.get_title()
    assert calm.get_size_inches()[0] <= 9.0  # fits the notebook without being shrunk
    wild = scaling.draw_descent("standardized", 1.5 * plane.stability_limit(), 40, x=x, y=y)
    assert "diverged" in wild.axes[0].get_title()
    plt.close("all")


def test_the_explorer_has_scaling_rate_and_steps_controls(houses):
    x, y = houses
    explorer = scaling.descent_explorer(x, y)
    assert set(explorer.controls) == {"scaling", "learning_rate", "steps"}
    assert explorer.static_png.startswith(b"\x89PNG")
    explorer.controls["scaling"].value = "min-max"  # redraws without raising
