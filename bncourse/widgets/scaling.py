"""Lesson 01's explorer: gradient descent on raw, min-max and standardized features.

The learner picks how the two house-price features are scaled, a learning rate and a
number of steps; the explorer draws the loss contours over the two weights with the
descent path on them, and the loss curve beside it. To draw the loss in two dimensions
the intercept is held at its best value (subtracted from the target), so both weights
are the only parameters; lesson 01 says so where it uses the figure.

ipywidgets and matplotlib are imported when an explorer or a figure is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse import gradient_descent as gd

__all__ = ["SCALINGS", "scale_features", "weight_plane", "draw_descent", "descent_explorer"]

SCALINGS = ("raw", "min-max", "standardized")


def scale_features(x: Any, scaling: str) -> np.ndarray:
    """``x`` unchanged (``"raw"``), min-max normalized or standardized, per column."""
    from bncourse import reference as ref

    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}; got {scaling!r}")
    if scaling == "min-max":
        return ref.min_max_normalize(x)
    if scaling == "standardized":
        return ref.standardize(x)
    return np.asarray(x, dtype=np.float32).copy()


def weight_plane(x: Any, y: Any) -> gd.QuadraticLoss:
    """The loss over the two weights alone, with the intercept held at its best value."""
    full = gd.QuadraticLoss.from_data(x, y)
    best_intercept = full.minimizer()[-1]
    return gd.QuadraticLoss.from_data(
        x, np.asarray(y, dtype=np.float64) - best_intercept, fit_intercept=False
    )


def _house_prices() -> tuple[np.ndarray, np.ndarray]:
    from bncourse import data

    x, y, _ = data.house_prices()
    return x, y


def draw_descent(
    scaling: str = "raw",
    learning_rate: float = 5e-5,
    steps: int = 30,
    *,
    x: Any = None,
    y: Any = None,
) -> Any:
    """Contours with the descent path (left) and loss above its minimum per step (right).

    ``x``, ``y`` default to ``bncourse.data.house_prices()``. A diverging run is drawn
    until its loss first exceeds four times its starting loss.
    """
    from bncourse import plotting

    if x is None or y is None:
        x, y = _house_prices()
    steps = int(steps)
    plane = weight_plane(scale_features(x, scaling), y)
    run = gd.gradient_descent(plane, learning_rate, steps)
    losses, path = run.losses[:, 0], run.path[:, 0]
    blown = np.flatnonzero(~(losses <= 4 * losses[0]))
    shown = int(blown[0]) + 1 if blown.size else steps + 1  # up to the first blown step
    limit = plane.stability_limit()
    if blown.size:
        verdict = f"diverged (loss above 4x its start) at step {shown - 1}"
    else:
        verdict = f"loss {losses[-1] / plane.minimum():.3g} x its minimum after {steps} steps"

    figure, axes = plotting.subplots(1, 2, figsize=(11.0, 4.4))
    contour_ax, loss_ax = axes[0]
    gd.plot_descent(
        contour_ax,
        plane,
        path[:shown],
        names=("weight of floor area", "weight of distance"),
        label=f"lr = {learning_rate:.3g}",
    )
    plotting.finish(
        contour_ax,
        title=f"{scaling} features: {verdict}",
        xlabel="weight of floor area",
        ylabel="weight of distance",
    )
    excess = np.maximum(losses[:shown] - plane.minimum(), 1e-12)
    loss_ax.semilogy(
        np.arange(shown),
        excess,
        color=plotting.COLORS["without_bn"],
        label=f"lr = {learning_rate:.3g}",
    )
    loss_ax.axhline(
        0.01 * plane.minimum(),
        color=plotting.COLORS["neutral"],
        linestyle=":",
        label="1% above the minimum",
    )
    plotting.finish(
        loss_ax,
        title=f"largest stable learning rate here: 2 / max curvature = {limit:.3g}",
        xlabel="step",
        ylabel="loss minus its minimum",
    )
    return figure


def descent_explorer(x: Any = None, y: Any = None) -> Any:
    """A scaling menu, a learning-rate slider and a steps slider over ``draw_descent``."""
    import ipywidgets as widgets

    from bncourse.widgets import explorer

    if x is None or y is None:
        x, y = _house_prices()
    controls = {
        "scaling": widgets.Dropdown(options=list(SCALINGS), value="raw", description="features"),
        "learning_rate": widgets.FloatLogSlider(
            value=5e-5, base=10, min=-6, max=0.5, step=0.05, description="learning rate"
        ),
        "steps": widgets.IntSlider(value=30, min=1, max=300, description="steps"),
    }

    def draw(scaling: str, learning_rate: float, steps: int) -> Any:
        return draw_descent(scaling, learning_rate, steps, x=x, y=y)

    return explorer(
        draw,
        controls,
        title="Gradient descent on the house prices: how feature scale shapes the bowl",
        description=(
            "The intercept is held at its best value so the loss can be drawn over the two "
            "weights. Try the same learning rate on each scaling, then push it past the "
            "stability limit shown on the right."
        ),
    )
