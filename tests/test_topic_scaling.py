"""Lesson 01's gradient-descent tools, checked against formulas written out here."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import data
from bncourse import reference as ref
from bncourse.topics import scaling as gd


@pytest.fixture
def problem():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 2)) * np.array([3.0, 0.5]) + np.array([1.0, -2.0])
    y = x @ np.array([2.0, -1.0]) + 0.5 + rng.normal(scale=0.1, size=40)
    return x, y


def design(x):
    return np.column_stack([x, np.ones(len(x))])


def test_loss_is_half_the_mean_squared_error(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    theta = np.array([0.3, -0.7, 1.1])
    expected = 0.5 * np.mean((x @ theta[:2] + theta[2] - y) ** 2)
    assert loss(theta) == pytest.approx(expected, rel=1e-12)


def test_loss_evaluates_a_stack_of_parameter_vectors(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    thetas = np.random.default_rng(0).normal(size=(4, 5, 3))
    values = loss(thetas)
    assert values.shape == (4, 5)
    assert values[2, 3] == pytest.approx(float(loss(thetas[2, 3])), rel=1e-12)


def test_gradient_matches_the_written_out_formula(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    theta = np.array([0.3, -0.7, 1.1])
    residual = design(x) @ theta - y
    np.testing.assert_allclose(loss.gradient(theta), design(x).T @ residual / len(x), rtol=1e-12)


def test_minimizer_and_minimum_are_the_least_squares_solution(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    solution, *_ = np.linalg.lstsq(design(x), y, rcond=None)
    np.testing.assert_allclose(loss.minimizer(), solution, rtol=1e-10)
    assert loss.minimum() == pytest.approx(0.5 * np.mean((design(x) @ solution - y) ** 2))


def test_without_intercept_there_is_no_column_of_ones():
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    loss = gd.QuadraticLoss.from_data(x, np.zeros(4), fit_intercept=False)
    assert loss.n_parameters == 2
    # H = x'x / 4 = diag(2/4, 8/4), by hand
    np.testing.assert_allclose(loss.curvatures(), [0.5, 2.0])
    assert loss.condition_number() == pytest.approx(4.0)
    assert loss.stability_limit() == pytest.approx(1.0)


def test_gradient_descent_matches_a_plain_loop_on_the_data(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    rate = 0.02
    theta = np.zeros(3)
    expected = [theta.copy()]
    for _ in range(25):
        theta = theta - rate * design(x).T @ (design(x) @ theta - y) / len(x)
        expected.append(theta.copy())
    run = gd.gradient_descent(loss, rate, 25)
    np.testing.assert_allclose(run.path[:, 0], np.array(expected), rtol=1e-10, atol=1e-12)
    assert run.losses.shape == (26, 1)


def test_learning_rates_run_side_by_side_like_separate_runs(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    together = gd.gradient_descent(loss, [0.01, 0.05], 30)
    alone = gd.gradient_descent(loss, 0.05, 30)
    np.testing.assert_allclose(together.losses[:, 1], alone.losses[:, 0], rtol=1e-10)


def test_the_stability_limit_separates_converging_from_diverging_runs(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    limit = loss.stability_limit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a diverging run must not spray overflow warnings
        run = gd.gradient_descent(loss, [0.95 * limit, 1.05 * limit], 3000, record_path=False)
    assert not run.diverged[0] and run.diverged[1]
    assert run.losses[-1, 0] < 1.001 * loss.minimum()
    assert gd.largest_stable_rate(run) == pytest.approx(0.95 * limit)


def test_a_run_that_overflows_is_reported_as_infinite(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = gd.gradient_descent(loss, 100 * loss.stability_limit(), 400)
    assert np.isinf(run.losses[-1, 0])
    assert run.diverged[0]
    assert np.isnan(gd.largest_stable_rate(run))


def test_predicted_losses_match_the_measured_run(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    rate = 0.5 * loss.stability_limit()
    start = np.array([1.0, 2.0, -3.0])
    run = gd.gradient_descent(loss, rate, 200, start=start, record_path=False)
    np.testing.assert_allclose(loss.predicted_losses(rate, 200, start), run.losses[:, 0], rtol=1e-9)


def test_predicted_steps_match_the_first_measured_step_below_target(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    rate = 0.3 * loss.stability_limit()
    target = 1.01 * loss.minimum()
    run = gd.gradient_descent(loss, rate, 5000, record_path=False)
    measured = int(gd.steps_to_reach(run, target)[0])
    assert measured > 0
    assert loss.predicted_steps_to_reach(rate, target) == measured
    assert loss.predicted_steps_to_reach(rate, target, max_steps=measured - 1) is None


def test_steps_to_reach_is_minus_one_when_never_reached_and_zero_at_the_start(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    run = gd.gradient_descent(loss, [1e-9, 0.5 * loss.stability_limit()], 50, record_path=False)
    steps = gd.steps_to_reach(run, 1.01 * loss.minimum())
    assert steps[0] == -1 and steps[1] > 0
    assert np.all(gd.steps_to_reach(run, run.losses[0, 0]) == 0)


def test_start_is_not_modified_and_path_can_be_skipped(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    start = np.array([1.0, 2.0, 3.0])
    run = gd.gradient_descent(loss, 0.01, 5, start=start, record_path=False)
    np.testing.assert_array_equal(start, [1.0, 2.0, 3.0])
    assert run.path is None


def test_standardizing_the_house_prices_makes_the_bowl_nearly_round():
    x, y, _ = data.house_prices()
    raw = gd.QuadraticLoss.from_data(x, y)
    standardized = gd.QuadraticLoss.from_data(ref.standardize(x), y)
    # (1 + |r|) / (1 - |r|) for the sample correlation r of the two features, about 1.1 here;
    # below 2 for any |r| < 1/3, far beyond what 200 independent draws produce
    assert standardized.condition_number() < 2
    assert raw.condition_number() > 1000 * standardized.condition_number()
    # scaling moves the minimum in parameter space but not the fitted predictions
    fit_raw = design(x) @ raw.minimizer()
    fit_std = design(ref.standardize(x)) @ standardized.minimizer()
    np.testing.assert_allclose(fit_std, fit_raw, rtol=1e-4)


@pytest.mark.parametrize(
    "x, y, error, word",
    [
        (np.zeros(5), np.zeros(5), ValueError, "x"),
        (np.zeros((5, 2)), np.zeros(4), ValueError, "y"),
        ("text", np.zeros(5), TypeError, "x"),
        (np.array([[1.0, np.nan]]), np.zeros(1), ValueError, "x"),
    ],
)
def test_bad_data_names_the_argument(x, y, error, word):
    with pytest.raises(error, match=word):
        gd.QuadraticLoss.from_data(x, y)


def test_bad_descent_arguments_name_the_argument(problem):
    loss = gd.QuadraticLoss.from_data(*problem)
    with pytest.raises(ValueError, match="learning_rates"):
        gd.gradient_descent(loss, -0.1, 5)
    with pytest.raises(TypeError, match="steps"):
        gd.gradient_descent(loss, 0.1, 5.0)
    with pytest.raises(ValueError, match="theta"):
        gd.gradient_descent(loss, 0.1, 5, start=np.zeros(2))
    with pytest.raises(TypeError, match="loss"):
        gd.gradient_descent("not a loss", 0.1, 5)
    with pytest.raises(ValueError, match="learning_rate"):
        loss.predicted_losses(0.0, 5)
    with pytest.raises(TypeError, match="learning_rate"):
        loss.predicted_steps_to_reach("fast", 1.0)
    with pytest.raises(TypeError, match="descent"):
        gd.steps_to_reach(np.zeros((3, 1)), 1.0)


def test_plot_descent_draws_contours_and_the_path_with_equal_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    loss = gd.QuadraticLoss.from_data(x, x @ np.array([1.0, 1.0]), fit_intercept=False)
    run = gd.gradient_descent(loss, 0.4, 10)
    figure, ax = plt.subplots()
    gd.plot_descent(ax, loss, run.path[:, 0])
    assert ax.get_aspect() == 1.0
    assert ax.collections  # the contour set
    labels = [line.get_label() for line in ax.get_lines()]
    assert "minimum" in labels and "gradient descent" in labels
    plt.close(figure)
    with pytest.raises(ValueError, match="two-parameter"):
        gd.plot_descent(ax, gd.QuadraticLoss.from_data(x, np.zeros(4)), np.zeros((2, 3)))


def test_sweep_reports_what_the_runs_found(problem):
    x, y = problem
    loss = gd.QuadraticLoss.from_data(x, y)
    limit = loss.stability_limit()
    rates = np.array([1e-4, 0.3 * limit, 0.6 * limit, 1.2 * limit])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gd.sweep(loss, learning_rates=rates, steps=400, within=0.01)
    assert result.target == pytest.approx(1.01 * loss.minimum())
    assert result.largest_stable_rate == pytest.approx(0.6 * limit)
    run = gd.gradient_descent(loss, rates, 400, record_path=False)
    np.testing.assert_array_equal(result.steps, gd.steps_to_reach(run, 1.01 * loss.minimum()))
    reached = result.steps >= 0
    assert result.fewest_steps == result.steps[reached].min()
    assert result.best_rate == rates[reached][np.argmin(result.steps[reached])]
    np.testing.assert_allclose(result.final_ratio, run.losses[-1] / loss.minimum())


def test_a_sweep_that_never_converges_says_so(problem):
    loss = gd.QuadraticLoss.from_data(*problem)
    result = gd.sweep(loss, learning_rates=[1e-9, 2e-9], steps=5)
    assert result.fewest_steps is None and result.best_rate is None
    table = gd.sweep_table({"slow": result})
    assert "none within 5 steps" in table and len(table.splitlines()) == 2
    with pytest.raises(TypeError, match="Sweep"):
        gd.sweep_table({"slow": "not a sweep"})
    with pytest.raises(ValueError, match="within"):
        gd.sweep(loss, learning_rates=[0.1], steps=5, within=0.0)


def test_line_style_tells_the_scalings_apart():
    styles = [gd.line_style(name) for name in gd.SCALINGS]
    for key in ("color", "marker", "linestyle"):
        assert len({style[key] for style in styles}) == 3
    with pytest.raises(ValueError, match="scaling"):
        gd.line_style("log")


def _houses_scaled():
    x, y, _ = data.house_prices(60, seed=3)
    return {name: gd.scale_features(x, name) for name in gd.SCALINGS}, y


def test_descent_paths_figure_has_a_panel_per_scaling_and_the_loss_curves():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaled, y = _houses_scaled()
    planes = {name: gd.weight_plane(features, y) for name, features in scaled.items()}
    runs = {
        name: gd.gradient_descent(plane, 0.5 * plane.stability_limit(), 12)
        for name, plane in planes.items()
    }
    figure = gd.draw_descent_paths(planes, runs)
    assert figure.get_size_inches()[0] <= 9.0  # wider figures get shrunk in JupyterLab
    contour_axes, loss_ax = figure.axes[:3], figure.axes[3]
    for ax, name in zip(contour_axes, gd.SCALINGS, strict=True):
        assert ax.get_title().startswith(f"{name} features") and "x minimum" in ax.get_title()
        assert ax.get_aspect() == 1.0
    assert len(loss_ax.get_lines()) == 4  # three runs and the star's legend entry
    with pytest.raises(ValueError, match="same"):
        gd.draw_descent_paths(planes, {"raw": runs["raw"]})
    plt.close("all")


def test_convergence_plot_continues_the_raw_run_with_the_prediction():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaled, y = _houses_scaled()
    losses = {name: gd.QuadraticLoss.from_data(features, y) for name, features in scaled.items()}
    rates = np.logspace(-6, 1, 36)
    sweeps = {
        name: gd.sweep(loss, learning_rates=rates, steps=300) for name, loss in losses.items()
    }
    raw_rate = sweeps["raw"].largest_stable_rate
    raw_run = gd.gradient_descent(losses["raw"], raw_rate, 500, record_path=False)
    figure, ax = plt.subplots()
    gd.plot_convergence(ax, sweeps, raw_run=raw_run, horizon=5000)
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("predicted" in label for label in labels)
    assert sum("(measured)" in label for label in labels) == 3
    predicted = next(line for line in ax.get_lines() if "predicted" in line.get_label())
    assert predicted.get_xdata()[0] == 500 and predicted.get_xdata()[-1] == 5000
    with pytest.raises(ValueError, match="raw"):
        gd.plot_convergence(ax, {"min-max": sweeps["min-max"]}, raw_run=raw_run, horizon=10)
    plt.close(figure)
