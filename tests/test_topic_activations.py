"""Lesson 02's deep-network statistics: nonlinearities, the hand-written backward pass,
BN's effect on the statistics, and the noise-injection trainer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse.topics import activations as act


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(48, 12))
    y = rng.integers(0, 4, size=48)
    return x, y


# ---------------------------------------------------------------------------
# Nonlinearities and saturation.
# ---------------------------------------------------------------------------


def test_activations_are_the_textbook_functions():
    z = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(act.activate(z, "tanh"), np.tanh(z), rtol=1e-6)
    np.testing.assert_allclose(act.activate(z, "sigmoid"), 1 / (1 + np.exp(-z)), rtol=1e-6)
    np.testing.assert_array_equal(act.activate(z, "relu"), np.maximum(z, 0).astype(np.float32))
    assert act.activate(z, "tanh").dtype == np.float32


def test_sigmoid_does_not_overflow_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = act.activate(np.array([-1000.0, 1000.0]), "sigmoid")
    np.testing.assert_allclose(out, [0.0, 1.0])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_local_gradient_matches_central_differences(activation):
    z = np.linspace(-3, 3, 13)
    h = 1e-5
    f = {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[activation]
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.local_gradient(z, activation), numeric, rtol=1e-5, atol=1e-7)


def test_relu_passes_gradient_only_where_it_is_on():
    np.testing.assert_array_equal(act.local_gradient([-1.0, 0.0, 2.0], "relu"), [0.0, 0.0, 1.0])


def test_saturated_fraction_on_hand_checked_values():
    # |tanh(3)| = 0.995 > 0.975 is saturated, |tanh(0.5)| = 0.46 is not
    assert act.saturated_fraction([0.0, 3.0, -3.0, 0.5], "tanh") == 0.5
    # sigmoid(5) = 0.9933, slope 0.0066 < 5% of 0.25; sigmoid(1) has slope 0.197
    assert act.saturated_fraction([0.0, 5.0, -5.0, 1.0], "sigmoid") == 0.5
    # a ReLU at z <= 0 passes no gradient at all
    assert act.saturated_fraction([-1.0, 0.0, 1.0, 2.0], "relu") == 0.5


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation"):
        act.activate([0.0], "gelu")
    with pytest.raises(ValueError, match="activation"):
        act.DeepMLP(4, 2, activation="swish")


# ---------------------------------------------------------------------------
# The network's backward pass: directional derivatives by central differences.
# ---------------------------------------------------------------------------


def _loss_at(net, params, x, y, shift):
    saved = net.params
    net.params = params
    try:
        return net.forward_backward(x, y, shift=shift).loss
    finally:
        net.params = saved


@pytest.mark.parametrize(
    "activation, batchnorm, with_shift",
    [
        ("tanh", False, False),
        ("sigmoid", True, False),
        ("relu", True, True),
        ("tanh", False, True),
    ],
)
def test_every_gradient_matches_a_central_difference(batch, activation, batchnorm, with_shift):
    x, y = batch
    net = act.DeepMLP(
        12, 4, depth=3, width=10, activation=activation, batchnorm=batchnorm, weight_scale=1.5
    )
    for name in list(net.params):
        if name.startswith("gamma") or name.startswith("beta"):  # move them off 1 and 0
            net.params[name] = net.params[name] + np.random.default_rng(1).normal(
                scale=0.3, size=net.params[name].shape
            )
    shift = act.random_shift(3, 10, 0.5, np.random.default_rng(2)) if with_shift else None
    result = net.forward_backward(x, y, shift=shift)
    assert set(result.grads) == set(net.params)
    for name, grad in result.grads.items():
        grad = grad.astype(np.float64)
        norm = np.linalg.norm(grad)
        assert norm > 0, name
        direction = grad / norm  # the derivative along the gradient's own direction is its norm
        h = 1e-3
        plus = {**net.params, name: net.params[name] + h * direction}
        minus = {**net.params, name: net.params[name] - h * direction}
        numeric = (_loss_at(net, plus, x, y, shift) - _loss_at(net, minus, x, y, shift)) / (2 * h)
        assert numeric == pytest.approx(norm, rel=2e-3, abs=1e-6), name


def test_without_bn_the_hidden_layers_have_biases_and_with_bn_gamma_and_beta():
    plain = act.DeepMLP(5, 3, depth=2, width=4)
    normed = act.DeepMLP(5, 3, depth=2, width=4, batchnorm=True)
    assert {"W1", "b1", "W2", "b2", "W_out", "b_out"} == set(plain.params)
    assert {"W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W_out", "b_out"} == set(
        normed.params
    )
    np.testing.assert_array_equal(normed.params["gamma1"], np.ones(4))


def test_weights_have_the_requested_scale():
    net = act.DeepMLP(400, 3, depth=2, width=400, weight_scale=2.0, seed=5)
    assert np.std(net.params["W1"]) == pytest.approx(2.0 / np.sqrt(400), rel=0.02)
    assert np.std(net.params["W2"]) == pytest.approx(2.0 / np.sqrt(400), rel=0.02)
    assert np.std(net.params["W_out"]) == pytest.approx(1.0 / np.sqrt(400), rel=0.05)


def test_the_input_is_not_modified(batch):
    x, y = batch
    before = x.copy()
    act.DeepMLP(12, 4, depth=2, width=8, batchnorm=True).forward_backward(x, y)
    np.testing.assert_array_equal(x, before)


def test_pass_statistics_and_table(batch):
    x, y = batch
    result = act.DeepMLP(12, 4, depth=3, width=8).forward_backward(x, y)
    assert result.depth == 3
    np.testing.assert_allclose(result.output_std, [np.std(a) for a in result.outputs])
    np.testing.assert_allclose(result.gradient_std, [np.std(g) for g in result.output_grads])
    assert result.table().count("\n") == 3
    assert all(a.dtype == np.float32 for a in result.outputs)


def test_bad_network_arguments_are_named(batch):
    x, y = batch
    with pytest.raises(ValueError, match="depth"):
        act.DeepMLP(12, 4, depth=0)
    with pytest.raises(TypeError, match="width"):
        act.DeepMLP(12, 4, width=2.5)
    with pytest.raises(ValueError, match="weight_scale"):
        act.DeepMLP(12, 4, weight_scale=-1.0)
    net = act.DeepMLP(12, 4, depth=2, width=8)
    with pytest.raises(ValueError, match="x"):
        net.forward_backward(x[:, :5], y)
    with pytest.raises(ValueError, match="y"):
        net.forward_backward(x, y + 10)


# ---------------------------------------------------------------------------
# The phenomena lesson 02 relies on.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wide_batch():
    rng = np.random.default_rng(11)
    return rng.normal(size=(128, 32)), rng.integers(0, 5, size=128)


def _ratio(result):
    return result.gradient_std[0] / result.gradient_std[-1]


def test_small_weights_make_tanh_gradients_vanish(wide_batch):
    x, y = wide_batch
    result = act.DeepMLP(32, 5, depth=8, width=64, weight_scale=0.5).forward_backward(x, y)
    assert _ratio(result) < 0.05  # about 0.5 per layer over 7 layers: 0.008
    assert result.output_std[-1] < 0.05 * result.output_std[0]


def test_large_weights_saturate_tanh(wide_batch):
    x, y = wide_batch
    result = act.DeepMLP(32, 5, depth=8, width=64, weight_scale=4.0).forward_backward(x, y)
    assert result.saturation.min() > 0.3


def test_relu_gradients_explode_above_he_initialization_and_stay_level_at_it(wide_batch):
    x, y = wide_batch
    big = act.DeepMLP(32, 5, depth=8, width=64, activation="relu", weight_scale=2.0)
    he = act.DeepMLP(32, 5, depth=8, width=64, activation="relu", weight_scale=np.sqrt(2))
    assert _ratio(big.forward_backward(x, y)) > 5  # sqrt(2) per layer over 7 layers: 11
    assert 0.4 < _ratio(he.forward_backward(x, y)) < 2.5


def test_bn_makes_the_forward_pass_independent_of_the_weight_scale(wide_batch):
    x, y = wide_batch
    small = act.DeepMLP(32, 5, depth=6, width=64, weight_scale=0.5, batchnorm=True, seed=4)
    large = act.DeepMLP(32, 5, depth=6, width=64, weight_scale=3.0, batchnorm=True, seed=4)
    a, b = small.forward_backward(x, y), large.forward_backward(x, y)
    for out_small, out_large in zip(a.outputs, b.outputs, strict=True):
        np.testing.assert_allclose(out_small, out_large, atol=0.05)
    assert a.loss == pytest.approx(b.loss, rel=1e-2)
    # without BN the same two scales give completely different layers
    plain_small = act.DeepMLP(32, 5, depth=6, width=64, weight_scale=0.5, seed=4)
    plain_large = act.DeepMLP(32, 5, depth=6, width=64, weight_scale=3.0, seed=4)
    gap = np.abs(
        plain_small.forward_backward(x, y).outputs[-1]
        - plain_large.forward_backward(x, y).outputs[-1]
    )
    assert gap.max() > 0.5


def test_bn_inputs_to_the_nonlinearity_have_mean_zero_and_unit_spread(wide_batch):
    x, y = wide_batch
    net = act.DeepMLP(32, 5, depth=4, width=64, weight_scale=3.0, batchnorm=True)
    for z in net.forward_backward(x, y).inputs:
        np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
        # sqrt(var / (var + eps)): within 0.5% of 1 when var is far above eps = 1e-3
        np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.005)


# ---------------------------------------------------------------------------
# Shifts and training.
# ---------------------------------------------------------------------------


def test_random_shift_has_the_documented_ranges():
    shift = act.random_shift(3, 50, 0.5, np.random.default_rng(0))
    assert shift.scale.shape == shift.offset.shape == (3, 50)
    assert np.all((shift.scale >= np.exp(-0.5)) & (shift.scale <= np.exp(0.5)))
    assert np.all(np.abs(shift.offset) <= 0.5)
    none = act.random_shift(2, 4, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(none.scale, 1.0)
    np.testing.assert_array_equal(none.offset, 0.0)
    with pytest.raises(ValueError, match="level"):
        act.random_shift(2, 4, -1.0, np.random.default_rng(0))


def test_distribution_shift_on_a_hand_made_record():
    record = act.TrainingRecord(
        losses=np.zeros(3),
        recorded_steps=np.array([0, 10, 20]),
        unit_means=np.array([[0.0], [1.0], [3.0]]),
        unit_stds=np.array([[1.0], [1.0], [2.0]]),
        percentiles=np.zeros((3, 3)),
    )
    # changes: (|1| + |0|) then (|2| + |1|); mean over the two = 2
    assert record.distribution_shift == pytest.approx(2.0)


def test_smoothed_losses_and_steps_to_loss_on_a_hand_made_record():
    record = act.TrainingRecord(
        losses=np.array([4.0, 3.0, 2.0, 1.0, 0.0]),
        recorded_steps=np.array([0]),
        unit_means=np.zeros((1, 1)),
        unit_stds=np.zeros((1, 1)),
        percentiles=np.zeros((1, 3)),
    )
    np.testing.assert_allclose(record.smoothed_losses(2), [3.5, 2.5, 1.5, 0.5])
    # the 2-step average first drops below 2 over steps 2 and 3, i.e. after 4 steps
    assert record.steps_to_loss(2.0, window=2) == 4
    assert record.steps_to_loss(0.1, window=2) is None
    with pytest.raises(ValueError, match="window"):
        record.smoothed_losses(6)


@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(5)
    centers = rng.normal(scale=3.0, size=(3, 8))
    y = rng.integers(0, 3, size=300)
    return centers[y] + rng.normal(size=(300, 8)), y


def test_training_lowers_the_loss_and_records_the_probe(separable):
    x, y = separable
    net = act.DeepMLP(8, 3, depth=2, width=16, batchnorm=True, seed=0)
    record = act.train(net, x, y, steps=60, learning_rate=0.3, batch_size=32, record_every=20)
    assert record.losses[-10:].mean() < 0.5 * record.losses[:10].mean()
    np.testing.assert_array_equal(record.recorded_steps, [0, 20, 40, 59])
    assert record.unit_means.shape == record.unit_stds.shape == (4, 16)
    assert record.percentiles.shape == (4, 3)
    assert np.all(record.percentiles[:, 0] <= record.percentiles[:, 2])


def test_training_is_repeatable_for_a_seed(separable):
    x, y = separable
    runs = [
        act.train(act.DeepMLP(8, 3, depth=2, width=8, seed=1), x, y, steps=20, seed=3).losses
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_injected_shift_moves_the_probed_distribution(separable):
    x, y = separable
    calm = act.train(act.DeepMLP(8, 3, depth=2, width=16, batchnorm=True), x, y, steps=40)
    shaken = act.train(
        act.DeepMLP(8, 3, depth=2, width=16, batchnorm=True), x, y, steps=40, shift_level=0.5
    )
    assert shaken.distribution_shift > 3 * calm.distribution_shift


def test_bad_training_arguments_are_named(separable):
    x, y = separable
    net = act.DeepMLP(8, 3, depth=2, width=8)
    with pytest.raises(ValueError, match="probe_layer"):
        act.train(net, x, y, steps=2, probe_layer=5)
    with pytest.raises(ValueError, match="steps"):
        act.train(net, x, y, steps=0)
    with pytest.raises(TypeError, match="net"):
        act.train("net", x, y)
    with pytest.raises(ValueError, match="learning_rate"):
        act.train(net, x, y, steps=2, learning_rate=0.0)
    with pytest.raises(ValueError, match="shift_level"):
        act.train(net, x, y, steps=2, shift_level=-0.5)


# ---------------------------------------------------------------------------
# Plotting and imports.
# ---------------------------------------------------------------------------


def test_layer_histograms_draw_one_labeled_line_per_layer(batch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = batch
    result = act.DeepMLP(12, 4, depth=3, width=8).forward_backward(x, y)
    figure, (left, right) = plt.subplots(1, 2)
    act.plot_layer_histograms(
        left, result.outputs, saturation=result.saturation, title="t", xlabel="a"
    )
    act.plot_layer_histograms(
        right, result.output_grads, log_magnitude=True, title="g", xlabel="log10 |g|"
    )
    assert len(left.get_lines()) == len(right.get_lines()) == 3
    assert all("saturated" in line.get_label() for line in left.get_lines())
    assert right.get_xlim()[1] < 0  # gradients are far below 1, so their log10 is negative
    plt.close(figure)


# ---------------------------------------------------------------------------
# Lesson 02's experiments and figures, as the notebook calls them.
# ---------------------------------------------------------------------------


def test_gradient_ratio_is_the_first_over_the_last_layers_gradient_spread(batch):
    x, y = batch
    result = act.DeepMLP(12, 4, depth=4, width=8).forward_backward(x, y)
    spread = result.gradient_std
    assert result.gradient_ratio == pytest.approx(spread[0] / spread[-1])


def test_measure_settings_runs_one_network_per_setting_in_order(batch):
    x, y = batch
    settings = [("tanh", 0.5), ("relu", 2.0), ("sigmoid", 1.0)]
    passes = act.measure_settings(x=x, y=y, settings=settings, batchnorm=True, depth=3, width=8)
    assert list(passes) == settings
    alone = act.DeepMLP(
        12, 4, depth=3, width=8, activation="relu", weight_scale=2.0, batchnorm=True
    )
    np.testing.assert_array_equal(
        passes["relu", 2.0].gradient_std, alone.forward_backward(x, y).gradient_std
    )
    assert all(p.depth == 3 for p in passes.values())


@pytest.fixture(scope="module")
def small_experiment(separable):
    x, y = separable
    variants = {
        "plain": {"batchnorm": False, "shift_level": 0.0},
        "shifted": {"batchnorm": True, "shift_level": 0.5},
    }
    return act.shift_experiment(
        x=x, y=y, variants=variants, seeds=range(2), steps=40, depth=2, width=8, batch_size=16
    )


def test_shift_experiment_trains_every_version_once_per_seed(small_experiment, separable):
    assert list(small_experiment.records) == ["plain", "shifted"]
    assert small_experiment.seeds == (0, 1)
    assert all(len(runs) == 2 for runs in small_experiment.records.values())
    for measure in (
        small_experiment.steps_to_loss(),
        small_experiment.final_losses(last=10),
        small_experiment.distribution_shifts(),
    ):
        assert set(measure) == {"plain", "shifted"}
        assert all(values.shape == (2,) for values in measure.values())
    # the same seed gives the same run as train() called by hand
    x, y = separable
    net = act.DeepMLP(8, 3, depth=2, width=8, activation="sigmoid", batchnorm=True, seed=1)
    by_hand = act.train(net, x, y, steps=40, batch_size=16, shift_level=0.5, seed=1)
    np.testing.assert_array_equal(small_experiment.records["shifted"][1].losses, by_hand.losses)


def test_steps_to_loss_is_infinite_when_the_level_is_never_reached(separable):
    x, y = separable
    experiment = act.shift_experiment(
        x=x, y=y, variants={"plain": {"batchnorm": False}}, seeds=[0], steps=25, depth=2,
        width=8, loss_level=1e-9,
    )  # fmt: skip
    assert np.isinf(experiment.steps_to_loss()["plain"][0])
    table = experiment.table()
    assert "plain" in table and "mean" in table and len(table.splitlines()) == 3


def test_shift_experiment_names_bad_settings(separable):
    x, y = separable
    with pytest.raises(ValueError, match="unknown settings"):
        act.shift_experiment(x=x, y=y, variants={"odd": {"dropout": 0.5}}, steps=5)
    with pytest.raises(ValueError, match="seeds"):
        act.shift_experiment(x=x, y=y, seeds=[], steps=5)


def test_shift_variants_are_the_three_versions_of_the_lesson():
    assert list(act.SHIFT_VARIANTS) == ["no BN", "BN", "BN + injected shift"]
    assert act.SHIFT_VARIANTS["no BN"]["batchnorm"] is False
    assert act.SHIFT_VARIANTS["BN + injected shift"]["shift_level"] > 0


def _figure_fits(figure):
    assert figure.get_size_inches()[0] <= 9.0  # wider figures get shrunk in JupyterLab


def test_layer_statistics_figure_has_histograms_a_colorbar_and_summaries(batch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = batch
    passes = {
        f"scale {s}": act.DeepMLP(12, 4, depth=3, width=8, weight_scale=s).forward_backward(x, y)
        for s in (0.5, 3.0)
    }
    outputs = act.draw_layer_statistics(passes, quantity="outputs", title="t")
    _figure_fits(outputs)
    histograms = outputs.axes[:2]
    assert [ax.get_title() for ax in histograms] == ["scale 0.5", "scale 3.0"]
    assert all(len(ax.get_lines()) == 3 for ax in histograms)  # one line per layer
    assert histograms[0].get_legend() is None  # the colorbar names the layers
    spread_ax, saturation_ax = outputs.axes[2:4]
    assert len(spread_ax.get_lines()) == len(saturation_ax.get_lines()) == 2
    low, high = spread_ax.get_ylim()
    assert np.log10(high / low) >= 2 - 1e-9  # small differences do not fill the panel
    gradients = act.draw_layer_statistics(passes, quantity="gradients")
    _figure_fits(gradients)
    assert len(gradients.axes[2].get_lines()) == 2
    with pytest.raises(ValueError, match="quantity"):
        act.draw_layer_statistics(passes, quantity="weights")
    with pytest.raises(TypeError, match="Pass"):
        act.draw_layer_statistics({"a": "not a pass"})
    plt.close("all")


def test_gradient_profiles_figure_shows_every_setting_on_both_panels(batch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = batch
    settings = [("tanh", 0.5), ("relu", 2.0)]
    without = act.measure_settings(x=x, y=y, settings=settings, depth=3, width=8)
    with_bn = act.measure_settings(x=x, y=y, settings=settings, batchnorm=True, depth=3, width=8)
    figure = act.draw_gradient_profiles(without, with_bn)
    _figure_fits(figure)
    left, right = figure.axes[:2]
    assert len(left.get_lines()) == len(right.get_lines()) == 2
    assert {line.get_marker() for line in left.get_lines()} == {"o", "^"}
    with pytest.raises(ValueError, match="same settings"):
        act.draw_gradient_profiles(without, {settings[0]: with_bn[settings[0]]})
    plt.close("all")


def test_shift_experiment_figure_has_the_loss_and_one_panel_per_version(small_experiment):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = act.draw_shift_experiment(small_experiment)
    _figure_fits(figure)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 3  # the loss panel and one per version
    assert visible[1].get_ylim() == visible[2].get_ylim()  # one shared scale
    with pytest.raises(TypeError, match="ShiftExperiment"):
        act.draw_shift_experiment("not an experiment")
    plt.close("all")
