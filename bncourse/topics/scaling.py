"""Lesson 01 (normalization vs. standardization): gradient descent on raw and rescaled features.

The loss of a linear model ``x @ w + b`` under the mean squared error is a quadratic
bowl in the parameters. Its shape, and with it how fast gradient descent finds the bottom,
depends only on the features' second moments, which is why rescaling the inputs matters.

Everything here works on the *whole* data set (full-batch gradient descent) and in
float64, so that the measured numbers are those of gradient descent itself and not of
sampling noise or rounding. Parameters are ``theta = (w_1, ..., w_k[, b])``: the weights,
then the intercept when the model has one. Functions accept a stack of parameter vectors
(``theta`` of shape ``(..., p)``), so a whole grid of learning rates or a contour grid
is evaluated in one call.

The explorer (``descent_explorer`` over ``setup_descent``): the learner picks how the two
house-price features are scaled, a learning rate and a number of steps, and sees the loss
contours over the two weights with the descent path on them, and the loss curve beside it.
To draw the loss in two dimensions the intercept is held at its best value (subtracted
from the target), so both weights are the only parameters; lesson 01 says so where it
uses the figure.

matplotlib and ipywidgets are imported only when a figure or an explorer is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bncourse.validation import float64_array

__all__ = [
    "QuadraticLoss",
    "Descent",
    "gradient_descent",
    "steps_to_reach",
    "largest_stable_rate",
    "Sweep",
    "sweep",
    "sweep_table",
    "line_style",
    "plot_descent",
    "draw_descent_paths",
    "plot_convergence",
    "SCALINGS",
    "scale_features",
    "weight_plane",
    "RATE_EXPONENTS",
    "MAX_STEPS",
    "setup_descent",
    "descent_explorer",
]


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value}")
    return float(value)


def _positive_int(value: Any, name: str, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if value < least:
        raise ValueError(f"{name} must be >= {least}; got {value}")
    return int(value)


@dataclass(frozen=True)
class QuadraticLoss:
    """``L(theta) = 1/2 * mean((x @ w + b - y)**2)``, stored through its moments.

    Expanding the square gives ``L = 1/2 theta' H theta - c' theta + 1/2 mean(y**2)``
    with ``H = X'X / n`` (``X`` is ``x`` with a column of ones appended when the model has
    an intercept) and ``c = X'y / n``. ``H`` is also the Hessian: the curvature of the bowl.
    Build one with ``QuadraticLoss.from_data``.
    """

    hessian: np.ndarray
    moment: np.ndarray
    mean_square_target: float
    fit_intercept: bool

    @classmethod
    def from_data(cls, x: Any, y: Any, *, fit_intercept: bool = True) -> QuadraticLoss:
        """The loss of a linear model on ``x`` (``(samples, features)``) and targets ``y``."""
        x = float64_array(x, "x")
        y = float64_array(y, "y")
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"x must have shape (samples, features); got shape {x.shape}")
        if y.shape != (x.shape[0],):
            raise ValueError(
                f"y must have shape ({x.shape[0]},), one target per row of x; got {y.shape}"
            )
        if not isinstance(fit_intercept, bool):
            raise TypeError(f"fit_intercept must be True or False; got {fit_intercept!r}")
        design = np.column_stack([x, np.ones(len(x))]) if fit_intercept else x
        n = len(x)
        return cls(design.T @ design / n, design.T @ y / n, float(np.mean(y**2)), fit_intercept)

    @property
    def n_parameters(self) -> int:
        return len(self.moment)

    def _theta(self, theta: Any) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (self.n_parameters,):
            raise ValueError(
                f"theta must have shape (..., {self.n_parameters}) (the weights"
                f"{', then the intercept' if self.fit_intercept else ''}); got {theta.shape}"
            )
        return theta

    def __call__(self, theta: Any) -> np.ndarray:
        """The loss at ``theta`` (shape ``(..., p)``); returns shape ``(...)``."""
        theta = self._theta(theta)
        quadratic = np.sum((theta @ self.hessian) * theta, axis=-1)
        return 0.5 * quadratic - theta @ self.moment + 0.5 * self.mean_square_target

    def gradient(self, theta: Any) -> np.ndarray:
        """``H theta - c``, the gradient at ``theta`` (same shape as ``theta``)."""
        return self._theta(theta) @ self.hessian - self.moment

    def minimizer(self) -> np.ndarray:
        """The parameters at the bottom of the bowl (the least-squares solution)."""
        return np.linalg.solve(self.hessian, self.moment)

    def minimum(self) -> float:
        """The smallest loss any parameters reach."""
        return float(self(self.minimizer()))

    def curvatures(self) -> np.ndarray:
        """The Hessian's eigenvalues, smallest first: the bowl's curvature along its axes."""
        return np.linalg.eigvalsh(self.hessian)

    def condition_number(self) -> float:
        """Largest over smallest curvature: 1 for a round bowl, large for a narrow valley."""
        curvatures = self.curvatures()
        return float(curvatures[-1] / curvatures[0])

    def stability_limit(self) -> float:
        """``2 / largest curvature``: gradient descent diverges above this learning rate.

        Along an eigenvector with curvature ``lam`` the distance to the minimum is
        multiplied by ``1 - lr * lam`` at every step, which grows when ``lr > 2 / lam``.
        """
        return float(2.0 / self.curvatures()[-1])

    def predicted_losses(self, learning_rate: float, steps: int, start: Any = None) -> np.ndarray:
        """The loss after 0, 1, ..., ``steps`` steps, from the eigen-decomposition alone.

        Gradient descent on a quadratic can be solved exactly: the component of
        ``theta - theta*`` along eigenvector ``i`` is multiplied by ``(1 - lr * lam_i)``
        per step, so ``L_t - L* = 1/2 * sum_i lam_i * (1 - lr * lam_i)**(2t) * e_i**2``.
        """
        rate = _positive_number(learning_rate, "learning_rate")
        steps = _positive_int(steps, "steps", least=0)
        start = np.zeros(self.n_parameters) if start is None else self._theta(start)
        curvatures, vectors = np.linalg.eigh(self.hessian)
        error = vectors.T @ (start - self.minimizer())
        t = np.arange(steps + 1)[:, np.newaxis]
        with np.errstate(over="ignore"):
            factors = (1.0 - rate * curvatures) ** (2 * t)
        return self.minimum() + 0.5 * (factors * curvatures * error**2).sum(axis=1)

    def predicted_steps_to_reach(
        self, learning_rate: float, target: float, start: Any = None, max_steps: int = 10**8
    ) -> int | None:
        """The first step whose predicted loss is <= ``target`` (``None`` if none up to
        ``max_steps``). Exact for a stable learning rate, where the loss never increases."""
        rate = _positive_number(learning_rate, "learning_rate")
        max_steps = _positive_int(max_steps, "max_steps", least=0)
        start = np.zeros(self.n_parameters) if start is None else self._theta(start)
        curvatures, vectors = np.linalg.eigh(self.hessian)
        error = vectors.T @ (start - self.minimizer())
        floor = self.minimum()

        def loss_at(step: int) -> float:
            factors = (1.0 - rate * curvatures) ** (2 * step)
            return floor + 0.5 * float((factors * curvatures * error**2).sum())

        if loss_at(max_steps) > target:
            return None
        low, high = 0, max_steps
        while low < high:  # bisection on a non-increasing sequence
            middle = (low + high) // 2
            if loss_at(middle) <= target:
                high = middle
            else:
                low = middle + 1
        return low


@dataclass(frozen=True)
class Descent:
    """What ``gradient_descent`` recorded, one column per learning rate.

    ``losses[t, j]`` is the loss after ``t`` steps at ``learning_rates[j]`` (``inf`` once a
    run has diverged); ``path[t, j]`` the parameters then (``None`` unless recorded).
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    path: np.ndarray | None

    @property
    def diverged(self) -> np.ndarray:
        """True for the runs whose loss ended above where it started (or overflowed)."""
        final = self.losses[-1]
        return ~np.isfinite(final) | (final > self.losses[0])


def gradient_descent(
    loss: QuadraticLoss,
    learning_rates: Any,
    steps: int,
    *,
    start: Any = None,
    record_path: bool = True,
) -> Descent:
    """Run ``theta <- theta - lr * gradient(theta)`` for every learning rate at once.

    ``learning_rates``: one number or a 1-D array; ``start`` defaults to all zeros. A run
    whose loss overflows is stopped and reported as ``inf`` from then on.
    """
    if not isinstance(loss, QuadraticLoss):
        raise TypeError(f"loss must be a QuadraticLoss; got {type(loss).__name__}")
    rates = float64_array(learning_rates, "learning_rates")
    if rates.ndim > 1 or np.any(rates <= 0):
        raise ValueError("learning_rates must be one positive number or a 1-D array of them")
    rates = np.atleast_1d(rates)
    steps = _positive_int(steps, "steps", least=0)
    start = np.zeros(loss.n_parameters) if start is None else loss._theta(start)
    theta = np.broadcast_to(start, (len(rates), loss.n_parameters)).copy()
    losses = np.empty((steps + 1, len(rates)))
    path = np.empty((steps + 1, len(rates), loss.n_parameters)) if record_path else None
    alive = np.ones(len(rates), dtype=bool)
    step_sizes = rates[:, np.newaxis]
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps + 1):
            current = loss(theta)
            alive &= np.isfinite(current) & (np.abs(theta).max(axis=1) < 1e150)
            losses[step] = np.where(alive, current, np.inf)
            if path is not None:
                path[step] = np.where(alive[:, np.newaxis], theta, np.nan)
            if step < steps:
                theta = np.where(
                    alive[:, np.newaxis], theta - step_sizes * loss.gradient(theta), 0.0
                )
    return Descent(rates, losses, path)


def steps_to_reach(descent: Descent, target: float) -> np.ndarray:
    """For each learning rate, the first step whose loss is <= ``target``; -1 if none."""
    if not isinstance(descent, Descent):
        raise TypeError(f"descent must be a Descent; got {type(descent).__name__}")
    reached = descent.losses <= target
    return np.where(reached.any(axis=0), reached.argmax(axis=0), -1)


def largest_stable_rate(descent: Descent) -> float:
    """The largest learning rate in ``descent`` whose run did not diverge (NaN if none)."""
    stable = descent.learning_rates[~descent.diverged]
    return float(stable.max()) if stable.size else float("nan")


@dataclass(frozen=True)
class Sweep:
    """Gradient descent on one loss at many learning rates side by side, and what it found.

    ``within`` sets the convergence target: a run has converged once its loss is at most
    ``(1 + within)`` times the minimum. Build one with ``sweep``.
    """

    loss: QuadraticLoss
    descent: Descent
    within: float

    @property
    def learning_rates(self) -> np.ndarray:
        return self.descent.learning_rates

    @property
    def target(self) -> float:
        """The loss a run must reach to count as converged."""
        return (1.0 + self.within) * self.loss.minimum()

    @property
    def largest_stable_rate(self) -> float:
        """The largest learning rate whose run did not diverge (NaN if none)."""
        return largest_stable_rate(self.descent)

    @property
    def steps(self) -> np.ndarray:
        """For each learning rate, the first step that reached the target; -1 if none."""
        return steps_to_reach(self.descent, self.target)

    @property
    def fewest_steps(self) -> int | None:
        """The fewest steps any learning rate needed to converge (``None``: none did)."""
        steps = self.steps
        return int(steps[steps >= 0].min()) if np.any(steps >= 0) else None

    @property
    def best_rate(self) -> float | None:
        """The learning rate that converged in the fewest steps (the smallest, on a tie)."""
        steps = self.steps
        if not np.any(steps >= 0):
            return None
        reached = np.flatnonzero(steps >= 0)
        return float(self.learning_rates[reached[np.argmin(steps[reached])]])

    @property
    def final_ratio(self) -> np.ndarray:
        """Each run's final loss over the minimum loss (``inf`` for a run that overflowed)."""
        return self.descent.losses[-1] / self.loss.minimum()


def sweep(loss: QuadraticLoss, *, learning_rates: Any, steps: int, within: float = 0.01) -> Sweep:
    """Run gradient descent from zero at every learning rate for ``steps`` steps.

    Returns a ``Sweep``: the largest stable rate, the fewest steps to within ``within``
    (relative) of the minimum, and the learning rate that achieved them.
    """
    within = _positive_number(within, "within")
    descent = gradient_descent(loss, learning_rates, steps, record_path=False)
    return Sweep(loss, descent, within)


def sweep_table(sweeps: Mapping[str, Sweep]) -> str:
    """One line per scaling: largest stable rate, the theory's limit, fewest steps."""
    if not sweeps or not all(isinstance(result, Sweep) for result in sweeps.values()):
        raise TypeError("sweeps must map names to Sweep results (from scaling.sweep)")
    first = next(iter(sweeps.values()))
    within = f"{100 * first.within:.3g}%"
    lines = [
        f"{'features':>13}  {'largest stable lr':>17}  {'2 / max curvature':>17}  "
        f"fewest steps to within {within} of the minimum"
    ]
    for name, result in sweeps.items():
        if result.fewest_steps is None:
            outcome = f"none within {len(result.descent.losses) - 1:,} steps"
        else:
            outcome = f"{result.fewest_steps} steps (lr = {result.best_rate:.3g})"
        lines.append(
            f"{name:>13}  {result.largest_stable_rate:>17.3g}  "
            f"{result.loss.stability_limit():>17.3g}  {outcome}"
        )
    return "\n".join(lines)


_STYLES = {
    "raw": ("without_bn", "o", "-"),
    "min-max": ("alt", "s", "--"),
    "standardized": ("with_bn", "^", "-."),
}


def line_style(scaling: str) -> dict[str, str]:
    """The color, marker and line style lesson 01 draws each scaling with."""
    from bncourse import plotting

    if scaling not in _STYLES:
        raise ValueError(f"scaling must be one of {tuple(_STYLES)}; got {scaling!r}")
    color, marker, linestyle = _STYLES[scaling]
    return {"color": plotting.COLORS[color], "marker": marker, "linestyle": linestyle}


_PATH_STYLE = {"marker": "o", "linestyle": "-", "markersize": 2.5, "linewidth": 1}
"""How a descent path is drawn on the contours (``plot_descent`` and the explorer)."""


def _minimum_style() -> dict[str, Any]:
    """How the minimum is marked on the contours: a large orange star."""
    from bncourse import plotting

    return {
        "marker": "*",
        "markersize": 13,
        "color": plotting.COLORS["highlight"],
        "markeredgecolor": "black",
        "linestyle": "none",
        "label": "minimum",
    }


def plot_descent(
    ax: Any,
    loss: QuadraticLoss,
    path: Any,
    *,
    names: tuple[str, str] = ("$w_1$", "$w_2$"),
    label: str = "gradient descent",
    color: str | None = None,
    margin: float = 0.25,
) -> None:
    """Contours of a two-parameter loss, with a descent path drawn over them.

    The view is a square around the path and the minimum, with equal scales on both
    axes: gradient descent measures distance in parameter space that way, so a round
    bowl looks round and a narrow valley narrow. Contour levels are spaced evenly in
    log(loss - minimum), so both show.
    """
    if loss.n_parameters != 2:
        raise ValueError(
            f"plot_descent draws two-parameter losses; this one has {loss.n_parameters}"
        )
    from bncourse import plotting

    path = np.asarray(path, dtype=np.float64)
    best = loss.minimizer()
    finite = path[np.all(np.isfinite(path), axis=1)]
    points = np.vstack([finite, best[np.newaxis]])
    center = (points.min(axis=0) + points.max(axis=0)) / 2
    half = (1 + margin) * max(float((points.max(axis=0) - points.min(axis=0)).max()) / 2, 1e-9)
    low, high = center - half, center + half  # a square view: equal scales on both axes
    _contours(ax, loss, low, high)
    color = color or plotting.COLORS["without_bn"]
    ax.plot(finite[:, 0], finite[:, 1], color=color, label=label, **_PATH_STYLE)
    ax.plot(*best, **_minimum_style())
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])


def draw_descent_paths(planes: Mapping[str, QuadraticLoss], runs: Mapping[str, Descent]) -> Any:
    """Contours and descent path for each scaling (one panel each, equal units on both
    axes, the star at the minimum), and a last panel with every run's loss above its
    minimum per step.

    ``planes`` and ``runs`` map the same scaling names to two-weight losses and to one
    recorded run on each (``gradient_descent(..., record_path=True)``, one learning rate).
    """
    from bncourse import plotting

    if set(planes) != set(runs) or not 1 <= len(planes) <= 3:
        raise ValueError("planes and runs must map the same 1 to 3 scaling names")
    figure, axes = plotting.subplots(2, 2, figsize=(9.0, 8.4))
    panels = list(axes.ravel())
    loss_ax = panels[-1]
    for ax, (name, plane) in zip(panels, planes.items(), strict=False):
        run = runs[name]
        if run.path is None or run.losses.shape[1] != 1:
            raise ValueError(f"runs[{name!r}] must be one learning rate with its path recorded")
        rate = float(run.learning_rates[0])
        ratio = run.losses[-1, 0] / plane.minimum()
        steps = len(run.losses) - 1
        plot_descent(ax, plane, run.path[:, 0], color=line_style(name)["color"])
        plotting.finish(
            ax,
            title=(
                f"{name} features, lr = {rate:.2g}:\nloss {ratio:.3g} x minimum after {steps} steps"
            ),
            xlabel="weight of floor area",
            ylabel="weight of distance",
            legend=False,
        )
        excess = run.losses[:, 0] / plane.minimum() - 1.0
        shown = excess > 1e-12  # below this the difference is round-off
        loss_ax.semilogy(
            np.arange(steps + 1)[shown],
            excess[shown],
            label=f"{name}, lr = {rate:.2g}",
            **line_style(name),
        )
    for ax in panels[len(planes) : -1]:
        ax.set_visible(False)
    loss_ax.plot(
        [],
        [],
        marker="*",
        markersize=11,
        color=plotting.COLORS["highlight"],
        markeredgecolor="black",
        linestyle="none",
        label="minimum (star, contour panels)",
    )
    plotting.finish(
        loss_ax,
        title="Loss above its minimum, step by step",
        xlabel="step",
        ylabel="loss / minimum - 1 (log scale)",
    )
    return figure


def plot_convergence(
    ax: Any, sweeps: Mapping[str, Sweep], *, raw_run: Descent, horizon: int
) -> None:
    """Loss above its minimum per step on log-log axes: every scaling except ``"raw"`` at
    its best learning rate from its sweep (measured), and ``raw_run`` (measured, one
    learning rate) continued to ``horizon`` steps by ``QuadraticLoss.predicted_losses``.
    """
    from bncourse import plotting

    if "raw" not in sweeps:
        raise ValueError("sweeps must include 'raw', whose loss raw_run was measured on")
    horizon = _positive_int(horizon, "horizon")
    for name, result in sweeps.items():
        if name == "raw" or result.best_rate is None:
            continue
        column = int(np.flatnonzero(result.learning_rates == result.best_rate)[0])
        excess = result.descent.losses[1:, column] / result.loss.minimum() - 1.0
        steps = np.arange(1, len(excess) + 1)
        shown = excess > 1e-9  # below this the curve is round-off
        ax.loglog(
            steps[shown],
            excess[shown],
            markevery=0.2,
            label=f"{name}, lr = {result.best_rate:.3g} (measured)",
            **line_style(name),
        )
    raw = sweeps["raw"].loss
    rate = float(raw_run.learning_rates[0])
    measured = raw_run.losses[1:, 0] / raw.minimum() - 1.0
    style = line_style("raw")
    ax.loglog(
        np.arange(1, len(measured) + 1),
        measured,
        color=style["color"],
        label=f"raw, lr = {rate:.3g} (measured)",
    )
    start = len(measured)
    if horizon > start:
        future = np.unique(np.geomspace(start, horizon, 200).astype(int))
        predicted = raw.predicted_losses(rate, horizon)[future] / raw.minimum() - 1.0
        ax.loglog(
            future,
            predicted,
            ":",
            color=style["color"],
            linewidth=2,
            label="raw (predicted exactly from the eigenvalues)",
        )
    within = sweeps["raw"].within
    ax.axhline(
        within,
        color=plotting.COLORS["neutral"],
        linestyle="--",
        linewidth=1,
        label=f"within {100 * within:.3g}% of the minimum",
    )


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


def weight_plane(x: Any, y: Any) -> QuadraticLoss:
    """The loss over the two weights alone, with the intercept held at its best value."""
    full = QuadraticLoss.from_data(x, y)
    best_intercept = full.minimizer()[-1]
    return QuadraticLoss.from_data(
        x, np.asarray(y, dtype=np.float64) - best_intercept, fit_intercept=False
    )


def _house_prices() -> tuple[np.ndarray, np.ndarray]:
    from bncourse import data

    x, y, _ = data.house_prices()
    return x, y


RATE_EXPONENTS = (-6.0, 0.5, 0.05)
"""The explorer's learning rates: 10 ** exponent, from the first number to the second in
steps of the third (its slider's grid; ``setup_descent`` fixes its views over all of them)."""

MAX_STEPS = 300
"""The most steps the explorer's slider allows."""


_BLOWN = 4.0
"""The explorer draws a run until its loss first exceeds this many times its start."""


def _rates() -> np.ndarray:
    """Every learning rate the explorer's slider offers."""
    first, last, step = RATE_EXPONENTS
    return 10.0 ** np.arange(first, last + step / 2, step)


def _view(plane: QuadraticLoss) -> tuple[np.ndarray, np.ndarray]:
    """A square view (equal units on both axes) around the minimum and every point the
    explorer draws on ``plane``, for every learning rate its slider offers and up to
    ``MAX_STEPS`` steps, except the first point past ``_BLOWN`` times the start loss (the
    path is seen leaving the view there); a quarter of margin."""
    run = gradient_descent(plane, _rates(), MAX_STEPS)
    drawn = np.cumprod(run.losses <= _BLOWN * run.losses[0], axis=0).astype(bool)
    points = np.vstack([run.path[drawn], plane.minimizer()[np.newaxis]])
    center = (points.min(axis=0) + points.max(axis=0)) / 2
    half = 1.25 * max(float((points.max(axis=0) - points.min(axis=0)).max()) / 2, 1e-9)
    return center - half, center + half


def _contours(ax: Any, loss: QuadraticLoss, low: Any, high: Any) -> Any:
    """Contours of ``loss`` over the square from ``low`` to ``high``, spaced evenly in
    log(loss - minimum) so the floor and the walls of the bowl both show."""
    grid_1, grid_2 = np.meshgrid(
        np.linspace(low[0], high[0], 160), np.linspace(low[1], high[1], 160)
    )
    excess = loss(np.stack([grid_1, grid_2], axis=-1)) - loss.minimum()
    excess = np.maximum(excess, 1e-12 * max(1.0, float(excess.max())))
    levels = np.geomspace(max(excess.min() * 2, excess.max() * 1e-6), excess.max(), 14)
    return ax.contour(grid_1, grid_2, excess, levels=levels, cmap="viridis", linewidths=0.8)


def setup_descent(
    scaling: str = "raw",
    learning_rate: float = 5e-5,
    steps: int = 30,
    *,
    x: Any = None,
    y: Any = None,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: contours with the descent path (left) and the
    loss above its minimum per step (right). Returns ``(figure, update)``;
    ``update(scaling=..., learning_rate=..., steps=...)`` redraws the path, the curve and
    the titles in place (``bncourse.lab.explorer.LiveFigure``).

    ``x``, ``y`` default to ``bncourse.data.house_prices()``. A diverging run is drawn
    until its loss first exceeds four times its starting loss. Each scaling keeps one view
    for every learning rate and number of steps the explorer allows (``RATE_EXPONENTS``,
    ``MAX_STEPS``): a square around every such path (see ``_view``); the loss panel
    keeps one scale for all scalings, so their losses compare at a glance.
    """
    from bncourse import plotting

    if x is None or y is None:
        x, y = _house_prices()
    planes = {name: weight_plane(scale_features(x, name), y) for name in SCALINGS}
    views = {name: _view(plane) for name, plane in planes.items()}
    # the largest loss above the minimum a drawn point can have, for any scaling
    highest = max(_BLOWN * float(plane(np.zeros(2))) - plane.minimum() for plane in planes.values())

    figure, axes = plotting.subplots(1, 2, figsize=(9.0, 4.4))
    contour_ax, loss_ax = axes[0]
    contours = {}
    for name, plane in planes.items():
        contours[name] = _contours(contour_ax, plane, *views[name])
        contours[name].set_visible(name == scaling)
    color = plotting.COLORS["without_bn"]
    (path_line,) = contour_ax.plot([], [], color=color, label="gradient descent", **_PATH_STYLE)
    (star,) = contour_ax.plot([], [], **_minimum_style())
    contour_ax.set_aspect("equal")
    plotting.finish(
        contour_ax,
        title=" \n ",
        xlabel="weight of floor area",
        ylabel="weight of distance",
        legend=False,
    )
    (loss_line,) = loss_ax.semilogy([], [], color=color, label="loss minus its minimum")
    one_percent = loss_ax.axhline(
        1.0,
        color=plotting.COLORS["neutral"],
        linestyle=":",
        label="1% above the minimum",
    )
    loss_ax.set_xlim(-0.02 * MAX_STEPS, 1.02 * MAX_STEPS)
    loss_ax.set_ylim(10**-12.5, 3 * highest)  # from the round-off floor drawn below
    plotting.finish(
        loss_ax, title=" \n ", xlabel="step", ylabel="loss minus its minimum", legend=False
    )
    # One legend for both panels, below them: outside the axes it is drawn once, with the
    # background, and not again over every redraw.
    figure.legend(loc="outside lower center", ncols=4)

    def update(scaling: str = "raw", learning_rate: float = 5e-5, steps: int = 30) -> list[Any]:
        plane = planes[scaling]
        steps = int(steps)
        run = gradient_descent(plane, learning_rate, steps)
        losses, path = run.losses[:, 0], run.path[:, 0]
        blown = np.flatnonzero(~(losses <= _BLOWN * losses[0]))
        shown = int(blown[0]) + 1 if blown.size else steps + 1  # up to the first blown step
        if blown.size:
            verdict = f"diverged (loss above 4x its start) at step {shown - 1}"
        else:
            verdict = f"loss {losses[-1] / plane.minimum():.3g} x its minimum after {steps} steps"
        for name, contour in contours.items():
            contour.set_visible(name == scaling)
        low, high = views[scaling]
        contour_ax.set_xlim(low[0], high[0])  # a new scaling redraws the whole figure
        contour_ax.set_ylim(low[1], high[1])
        finite = path[:shown][np.all(np.isfinite(path[:shown]), axis=1)]
        path_line.set_data(finite[:, 0], finite[:, 1])
        star.set_data(*[[value] for value in plane.minimizer()])
        excess = np.maximum(losses[:shown] - plane.minimum(), 1e-12)
        loss_line.set_data(np.arange(shown), excess)
        one_percent.set_ydata([0.01 * plane.minimum()] * 2)
        contour_ax.title.set_text(f"{scaling} features, lr = {learning_rate:.3g}:\n{verdict}")
        loss_ax.title.set_text(
            f"largest stable learning rate here:\n2 / max curvature = {plane.stability_limit():.3g}"
        )
        # The contours, the 1% line and the right-hand title change only with the scaling,
        # whose new view redraws the whole figure: they are not redrawn on every move.
        return [path_line, star, loss_line, contour_ax.title]

    return figure, update


def descent_explorer(x: Any = None, y: Any = None) -> Any:
    """A scaling menu, a learning-rate slider and a steps slider over ``setup_descent``'s
    figure."""
    import ipywidgets as widgets

    from bncourse.lab.explorer import explorer

    if x is None or y is None:
        x, y = _house_prices()
    first, last, step = RATE_EXPONENTS
    controls = {
        "scaling": widgets.Dropdown(options=list(SCALINGS), value="raw", description="features"),
        "learning_rate": widgets.FloatLogSlider(
            value=5e-5, base=10, min=first, max=last, step=step, description="learning rate"
        ),
        "steps": widgets.IntSlider(value=30, min=1, max=MAX_STEPS, description="steps"),
    }

    def setup(scaling: str, learning_rate: float, steps: int) -> tuple[Any, Any]:
        return setup_descent(scaling, learning_rate, steps, x=x, y=y)

    return explorer(
        controls=controls,
        live=setup,
        title="Gradient descent on the house prices: how feature scale shapes the bowl",
        description=(
            "The intercept is held at its best value so the loss can be drawn over the two "
            "weights. Try the same learning rate on each scaling, then push it past the "
            "stability limit shown on the right."
        ),
    )
