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


def test_the_explorer_figure_reports_convergence_and_divergence(houses):
    x, y = houses
    import matplotlib.pyplot as plt

    plane = scaling.weight_plane(scaling.scale_features(x, "standardized"), y)
    figure, update = scaling.setup_descent("standardized", 1e-3, 20, x=x, y=y)
    contour_ax, loss_ax = figure.axes[:2]
    update(scaling="standardized", learning_rate=0.5 * plane.stability_limit(), steps=20)
    assert "minimum" in contour_ax.get_title() and "diverged" not in contour_ax.get_title()
    assert f"{plane.stability_limit():.3g}" in loss_ax.get_title()
    assert figure.get_size_inches()[0] <= 9.0  # fits the notebook without being shrunk
    update(scaling="standardized", learning_rate=1.5 * plane.stability_limit(), steps=40)
    assert "diverged" in contour_ax.get_title()
    plt.close(figure)


def test_the_curves_are_the_lessons_own_gradient_descent(houses):
    x, y = houses
    import matplotlib.pyplot as plt

    figure, update = scaling.setup_descent(x=x, y=y)
    contour_ax, loss_ax = figure.axes[:2]
    update(scaling="min-max", learning_rate=0.3, steps=25)
    plane = scaling.weight_plane(scaling.scale_features(x, "min-max"), y)
    run = scaling.gradient_descent(plane, 0.3, 25)
    path, curve = contour_ax.get_lines()[0], loss_ax.get_lines()[0]
    np.testing.assert_allclose(path.get_xdata(), run.path[:, 0, 0])
    np.testing.assert_allclose(path.get_ydata(), run.path[:, 0, 1])
    np.testing.assert_allclose(curve.get_ydata(), run.losses[:, 0] - plane.minimum(), rtol=1e-9)
    assert "lr = 0.3" in contour_ax.get_title()
    plt.close(figure)


def _inside(ax, xs, ys) -> bool:
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return bool(np.all((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)))


@pytest.mark.parametrize("name", scaling.SCALINGS)
def test_each_scaling_keeps_one_view_that_holds_every_path_the_sliders_allow(houses, name):
    x, y = houses
    import matplotlib.pyplot as plt

    figure, update = scaling.setup_descent(name, x=x, y=y)
    contour_ax, loss_ax = figure.axes[:2]
    plane = scaling.weight_plane(scaling.scale_features(x, name), y)
    limit = plane.stability_limit()
    first, last, step = scaling.RATE_EXPONENTS
    offered = 10.0 ** np.arange(first, last + step / 2, step)  # the slider's grid
    # the slowest and fastest rates, one well inside the limit and the limit's neighbours
    below, above = offered[offered < limit], offered[offered > limit]
    rates = [offered[0], below[len(below) * 3 // 4], below[-1], *above[:1], offered[-1]]
    views = set()
    for rate in rates:
        for steps in (1, scaling.MAX_STEPS):
            update(scaling=name, learning_rate=rate, steps=steps)
            views.add((contour_ax.get_xlim(), contour_ax.get_ylim(), loss_ax.get_ylim()))
            path, curve = contour_ax.get_lines()[0], loss_ax.get_lines()[0]
            diverged = "diverged" in contour_ax.get_title()
            # every point but a diverged run's last (drawn leaving the view) is in view
            end = -1 if diverged else None
            assert _inside(contour_ax, path.get_xdata()[:end], path.get_ydata()[:end])
            assert _inside(loss_ax, curve.get_xdata()[:end], curve.get_ydata()[:end])
            star = contour_ax.get_lines()[1]
            assert _inside(contour_ax, star.get_xdata(), star.get_ydata())
    assert len(views) == 1  # the sliders never move the axes: the redraws stay fast
    plt.close(figure)


def test_a_new_scaling_shows_its_own_bowl_and_redraws_the_whole_figure(houses):
    x, y = houses
    explorer = scaling.descent_explorer(x, y)
    contour_ax = explorer.live.figure.axes[0]
    raw_view = contour_ax.get_xlim()
    explorer.controls["learning_rate"].value = 1e-4
    explorer.controls["steps"].value = 200
    assert explorer.live.full_redraws == 0  # the sliders only blit
    explorer.controls["scaling"].value = "standardized"
    # the contours and the stability limit change with the scaling only, and are drawn
    # with the background: a new scaling must redraw it (its view differs)
    assert explorer.live.full_redraws == 1
    assert contour_ax.get_xlim() != raw_view
    visible = [c for c in contour_ax.collections if c.get_visible()]
    assert len(visible) == 1
    standardized = scaling.weight_plane(scaling.scale_features(x, "standardized"), y)
    assert f"{standardized.stability_limit():.3g}" in explorer.live.figure.axes[1].get_title()


def test_the_explorer_has_scaling_rate_and_steps_controls(houses):
    x, y = houses
    explorer = scaling.descent_explorer(x, y)
    assert set(explorer.controls) == {"scaling", "learning_rate", "steps"}
    assert explorer.static_png.startswith(b"\x89PNG")
    before = explorer.output.outputs
    explorer.controls["steps"].value = 100
    assert explorer.output.outputs != before  # the figure changes when a control moves
