"""Lesson 02, section 8: probing the loss landscape along the gradient
(``probe_along_gradient``, ``loss_and_gradient``, ``smoothness_experiment`` and its figure).

Expected values come from closed forms (a quadratic loss) or from finite differences, never
from the functions under test."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics import activations

A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 2.0]])


def quadratic(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """L = theta @ A @ theta / 2 and its gradient A @ theta."""
    return float(theta @ A @ theta / 2), A @ theta


def test_on_a_quadratic_every_quantity_matches_its_closed_form():
    theta = np.array([1.0, -0.5, 2.0])
    etas = np.array([0.05, 0.1, 0.3])
    probe = activations.probe_along_gradient(quadratic, theta, step_sizes=etas)
    g = A @ theta
    # The gradient at theta - eta g is A theta - eta A g: it changes by exactly eta |A g|.
    np.testing.assert_allclose(probe.gradient_changes, etas * np.linalg.norm(A @ g))
    np.testing.assert_allclose(probe.step_lengths, etas * np.linalg.norm(g))
    np.testing.assert_allclose(probe.smoothness, np.linalg.norm(A @ g) / np.linalg.norm(g))
    # L(theta - eta g) = L(theta) - eta |g|^2 + eta^2 g A g / 2
    expected = theta @ A @ theta / 2 - etas * (g @ g) + etas**2 * (g @ A @ g) / 2
    np.testing.assert_allclose(probe.losses, expected)
    everything = np.append(expected, theta @ A @ theta / 2)
    assert probe.loss_range == pytest.approx(everything.max() - everything.min())
    assert probe.effective_smoothness == pytest.approx(np.linalg.norm(A @ g) / np.linalg.norm(g))


def test_distances_move_that_far_whatever_the_gradient_length():
    theta = np.array([3.0, 0.0, -1.0])
    probe = activations.probe_along_gradient(quadratic, theta, distances=[0.5, 2.0])
    np.testing.assert_allclose(probe.step_lengths, [0.5, 2.0])
    g = A @ theta
    np.testing.assert_allclose(
        probe.gradient_changes, np.array([0.5, 2.0]) * (np.linalg.norm(A @ g) / np.linalg.norm(g))
    )


def test_the_step_goes_down_the_gradient_and_params_are_left_alone():
    def cubic(theta):  # L = sum(theta**3) / 3: going up or down the gradient differs
        return float(np.sum(theta**3) / 3), theta**2

    theta = np.array([1.0, 2.0])
    kept = theta.copy()
    probe = activations.probe_along_gradient(cubic, theta, step_sizes=[0.1])
    moved = theta - 0.1 * theta**2
    assert probe.losses[0] == pytest.approx(np.sum(moved**3) / 3)
    assert probe.gradient_changes[0] == pytest.approx(np.linalg.norm(moved**2 - theta**2))
    np.testing.assert_array_equal(theta, kept)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one"),
        ({"step_sizes": [0.1], "distances": [0.1]}, "exactly one"),
        ({"step_sizes": [0.1, -0.1]}, "> 0"),
        ({"distances": []}, "non-empty"),
    ],
)
def test_bad_step_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        activations.probe_along_gradient(quadratic, np.ones(3), **kwargs)


def test_a_zero_gradient_has_no_direction():
    with pytest.raises(ValueError, match="zero"):
        activations.probe_along_gradient(quadratic, np.zeros(3), step_sizes=[0.1])


def _small_net(batchnorm: bool) -> activations.DeepMLP:
    return activations.DeepMLP(5, 3, depth=2, width=4, activation="tanh", batchnorm=batchnorm)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_loss_and_gradient_is_the_networks_gradient_on_one_fixed_batch(batchnorm):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    net = _small_net(batchnorm)
    before = {name: p.copy() for name, p in net.params.items()}
    evaluate = activations.loss_and_gradient(net, x, y)
    theta = activations.flat_parameters(net)
    loss, grad = evaluate(theta)
    assert loss == pytest.approx(net.forward_backward(x, y).loss)
    # central differences along a few coordinates, on the same batch (h well above the
    # float32 rounding of the reference BN's output, which the loss inherits)
    h = 1e-3
    for index in rng.choice(theta.size, size=5, replace=False):
        step = np.zeros_like(theta)
        step[index] = h
        slope = (evaluate(theta + step)[0] - evaluate(theta - step)[0]) / (2 * h)
        assert grad[index] == pytest.approx(slope, rel=1e-3, abs=1e-5)
    evaluate(theta + 1.0)  # another point does not move the network
    for name, value in before.items():
        np.testing.assert_array_equal(net.params[name], value)


def test_loss_and_gradient_refuses_a_vector_of_the_wrong_size():
    evaluate = activations.loss_and_gradient(_small_net(False), np.ones((4, 5)), np.zeros(4, int))
    with pytest.raises(ValueError, match="params must have shape"):
        evaluate(np.ones(3))


@pytest.fixture(scope="module")
def experiment() -> activations.SmoothnessExperiment:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 8))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    return activations.smoothness_experiment(
        x,
        y,
        seeds=(0, 1),
        steps=6,
        checkpoints=(0, 3, 6),
        step_sizes=(0.1, 1.0),
        distances=(0.5, 1.0),
        depth=2,
        width=8,
        learning_rate=0.1,
        batch_size=16,
    )


def test_the_experiment_probes_every_version_seed_and_checkpoint(experiment):
    for kind in ("step", "distance"):
        for name in activations.SMOOTHNESS_VERSIONS:
            assert experiment.loss_ranges(kind)[name].shape == (2, 3)
            assert experiment.gradient_changes(kind)[name].shape == (2, 3, 2)
    first = experiment.by_distance["BN"][0][0]
    np.testing.assert_allclose(first.step_lengths, [0.5, 1.0])


def test_the_probe_at_step_0_uses_the_first_training_batch(experiment):
    for name in activations.SMOOTHNESS_VERSIONS:
        for index in range(2):
            probe = experiment.by_step[name][index][0]
            assert probe.loss_at_start == pytest.approx(experiment.losses[name][index, 0])


def test_ratios_divide_no_bn_by_bn_over_the_kept_checkpoints(experiment):
    ranges = experiment.loss_ranges("step")
    later = experiment.ratios("step", from_step=3)["loss range"]
    expected = ranges["no BN"][:, 1:].mean(axis=1) / ranges["BN"][:, 1:].mean(axis=1)
    np.testing.assert_allclose(later, expected)
    with pytest.raises(ValueError, match="no checkpoint"):
        experiment.ratios("step", from_step=7)
    with pytest.raises(ValueError, match="kind"):
        experiment.loss_ranges("steps")
    assert "gradient length" in experiment.table()


def test_the_experiment_refuses_checkpoints_outside_training():
    with pytest.raises(ValueError, match="checkpoints"):
        activations.smoothness_experiment(
            np.ones((4, 2)), np.zeros(4, int), steps=5, checkpoints=(6,)
        )


def test_the_figure_has_six_titled_log_panels_and_a_legend(experiment):
    import matplotlib.pyplot as plt

    figure = activations.draw_smoothness_experiment(experiment)
    axes = figure.get_axes()
    assert len(axes) == 6
    assert all(ax.get_title() and ax.get_yscale() == "log" for ax in axes)
    assert figure.legends and figure.get_size_inches()[0] <= 9.0
    plt.close(figure)
    with pytest.raises(TypeError, match="SmoothnessExperiment"):
        activations.draw_smoothness_experiment("not an experiment")
