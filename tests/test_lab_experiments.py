"""bncourse.lab.experiments: sweeps, summaries, the variance-shift measurements and plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bncourse.data import DataSplit, digits  # noqa: E402
from bncourse.lab import experiments as ex  # noqa: E402
from bncourse.lab.training import MLP, Run, Trainer  # noqa: E402


def fake_run(val, *, diverged=False, train=None) -> Run:
    val = np.asarray(val, dtype=float)
    steps = np.arange(1, len(val) + 1) * 10
    train = np.ones_like(val) if train is None else np.asarray(train, dtype=float)
    return Run(steps, np.linspace(1, 0.1, len(val)), train, val, diverged=diverged)


def fake_sweep() -> ex.Sweep:
    # learning rates 0.1, 1, 10; two seeds; the largest diverges for seed 1
    runs = [
        [fake_run([0.5, 0.7]), fake_run([0.6, 0.8])],
        [fake_run([0.8, 0.9]), fake_run([0.85, 0.95])],
        [fake_run([0.3, 0.6]), fake_run([np.nan, np.nan], diverged=True)],
    ]
    return ex.Sweep("learning_rate", (0.1, 1.0, 10.0), (0, 1), runs)


# ----------------------------------------------------------------------------- summaries


def test_sweep_final_diverged_curves_and_working_range():
    result = fake_sweep()
    assert result.final().shape == (3, 2)
    assert result.final()[1].tolist() == [0.9, 0.95]
    assert result.diverged().tolist() == [[False, False], [False, False], [False, True]]
    assert result.curves(1.0).tolist() == [[0.8, 0.9], [0.85, 0.95]]
    assert result.steps().tolist() == [10, 20]
    # every seed >= 0.65 at 0.1 and 1; at 10 one seed diverged
    assert ex.working_range(result, threshold=0.65) == (0.1, 1.0)
    assert ex.working_range(result, threshold=0.85) == (1.0, 1.0)
    assert all(np.isnan(ex.working_range(result, threshold=0.99)))


def test_final_steps_to_spread_describe_and_overlap():
    runs = [fake_run([0.5, 0.9]), fake_run([0.7, 0.8])]
    assert ex.final(runs).tolist() == [0.9, 0.8]
    assert ex.steps_to(runs, 0.75).tolist() == [20.0, 20.0]
    assert np.isnan(ex.steps_to(runs, 0.95)).all()
    assert ex.spread([1.0, 2.0, 6.0]) == (3.0, 1.0, 6.0)
    assert ex.describe([0.95, 0.97]) == "0.960 (seeds: 0.950 to 0.970)"
    assert ex.overlap([1, 3], [2, 5]) and ex.overlap([1, 2], [2, 3])
    assert not ex.overlap([1, 2], [2.5, 3])


def test_test_as_validation_puts_the_test_set_in_the_validation_slot():
    data = DataSplit(*(np.full((2, 1), k) for k in range(6)))
    swapped = ex.test_as_validation(data)
    assert np.array_equal(swapped.x_val, data.x_test) and np.array_equal(swapped.y_val, data.y_test)
    assert np.array_equal(swapped.x_train, data.x_train)


def test_sweep_rejects_unknown_settings_and_empty_grids():
    with pytest.raises(ValueError, match="setting"):
        ex.sweep(None, None, "momentum", [0.9], [0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        ex.sweep(None, None, "batch_size", [], [0])  # type: ignore[arg-type]


def test_layer_sequence_reads_layer_calls_in_order():
    def block(x, layers):
        x = layers.Dense(3, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    assert ex.layer_sequence(block) == ["Dense", "BatchNormalization", "Activation"]


def test_the_keras_application_blocks_the_lessons_quote():
    pytest.importorskip("keras")
    from keras.src.applications import densenet, mobilenet, resnet

    after_shortcut = ex.layer_sequence(resnet.residual_block_v1)[2:5]
    assert after_shortcut == ["Conv2D", "BatchNormalization", "Activation"]
    assert ex.layer_sequence(mobilenet._conv_block) == ["Conv2D", "BatchNormalization", "ReLU"]
    assert ex.layer_sequence(densenet.conv_block)[:3] == [
        "BatchNormalization",
        "Activation",
        "Conv2D",
    ]
    top = ex.layer_sequence(mobilenet.MobileNet)
    assert top[top.index("Dropout") - 1 : top.index("Dropout") + 2] == [
        "GlobalAveragePooling2D",
        "Dropout",
        "Conv2D",
    ]


# ----------------------------------------------------------------------------- with Keras


@pytest.fixture(scope="module")
def data() -> DataSplit:
    return digits()


@pytest.fixture(scope="module")
def dropout_first(data) -> Trainer:
    """Dense -> Dropout(0.5) -> BN -> ReLU, trained a little."""
    tr = Trainer(
        MLP(hidden=(32, 32), block=("dropout", "bn", "act")),
        input_dim=64,
        num_classes=10,
        fused=True,
    )
    tr.run(data, seed=0, steps=150, eval_every=150)
    return tr


def test_dropout_right_before_bn_shifts_the_variance_by_about_the_keep_probability(
    dropout_first, data
):
    shifts = ex.variance_shift(dropout_first, data.x_val)
    assert [s.layer for s in shifts] == ["bn_1", "bn_2"]
    first = shifts[0]
    assert first.moving.shape == first.inference.shape == (32,)
    # (c^2 + v)/p - c^2 in training against v at inference: ratio <= p = 0.5 per unit
    assert 0.3 < np.median(first.ratio) < 0.6
    assert np.median(first.training / first.moving) > 0.8  # the moving variance follows training


def test_recalibration_makes_the_moving_statistics_those_of_inference(dropout_first, data):
    ex.recalibrate(dropout_first, data.x_train)
    for shift in ex.variance_shift(dropout_first, data.x_train):
        np.testing.assert_allclose(shift.ratio, 1.0, rtol=1e-3)
    dropout_first.run(data, seed=0, steps=150, eval_every=150)  # as the fixture left it


def test_layer_input_in_training_mode_leaves_the_model_unchanged(dropout_first, data):
    before = [np.asarray(v).copy() for v in dropout_first.model.non_trainable_variables]
    seen = ex.layer_input(dropout_first, "bn_1", data.x_val, training=True)
    assert seen.shape == (len(data.x_val), 32)
    after = [np.asarray(v) for v in dropout_first.model.non_trainable_variables]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert (ex.layer_input(dropout_first, "act_1", data.x_val) < 0).any()  # BN output: any sign
    assert (ex.layer_input(dropout_first, "dense_2", data.x_val) >= 0).all()  # ReLU output


def test_shift_study_and_compare_and_sweep(data):
    tr = Trainer(
        MLP(hidden=(16, 16), block=("bn", "act")), input_dim=64, num_classes=10, fused=True
    )
    study = ex.shift_study(tr, data, [0, 1], steps=30, eval_every=15)
    assert study.layers == ("bn_1", "bn_2")
    assert study.ratio.shape == (2, 2) and study.recalibrated.shape == (2,)
    assert study.accuracy.shape == (2,) and np.all(study.recalibrated > 0.3)
    results = ex.compare({"a": tr}, data, [0, 1], steps=20, eval_every=10)
    assert [r.settings["seed"] for r in results["a"]] == [0, 1]
    result = ex.sweep(tr, data, "batch_size", [8, 16], [0], steps=20, eval_every=10)
    assert [row[0].settings["batch_size"] for row in result.runs] == [8, 16]


# ----------------------------------------------------------------------------- plotting


def test_plot_helpers_draw_labeled_lines_bars_and_divergence_marks():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ex.plot_curves(ax, {"A": [fake_run([0.5, 0.9])] * 2, "B": [fake_run([0.4, 0.6])]})
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["A (mean of 2)", "B (mean of 1)"]
    ax.clear()
    ex.plot_curves(ax, {"A": [fake_run([0.5, 0.9]), fake_run([0.6, 0.8])]}, each_seed=True)
    assert len(ax.get_lines()) == 3  # two seeds and one legend entry
    ax.clear()
    ex.plot_sweep(ax, {"plain": fake_sweep()})
    markers = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(markers) == 1 and markers[0].get_xdata().tolist() == [10.0]
    assert ax.get_xscale() == "log"
    ax.clear()
    with pytest.raises(ValueError, match="probe"):
        ex.plot_percentiles(ax, fake_run([0.5]))
    run = fake_run([0.5, 0.6])
    run.probe = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]])
    ex.plot_percentiles(ax, run, label="BN")
    assert [line.get_label() for line in ax.get_lines()][0] == "BN: 15th percentile"
    ax.clear()
    study = ex.ShiftStudy([], ("bn_1", "bn_2"), np.array([[0.5, 0.9], [0.4, 1.0]]), np.zeros(2))
    ex.plot_shift_ratios(ax, {"Dropout → BN": study, "other": study})
    assert len(ax.patches) == 4
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["bn_1", "bn_2"]
    plt.close(fig)


def test_median_ratio_leaves_out_units_that_never_vary():
    shift = ex.VarianceShift(
        layer="bn_1",
        moving=np.array([2.0, 2.0, 2.0, 0.5]),
        training=np.array([2.0, 2.0, 2.0, 0.5]),
        inference=np.array([1.0, 1.2, 0.8, 0.0]),  # the last unit is dead at inference
    )
    assert shift.ratio.tolist() == [0.5, 0.6, 0.4, 0.0]
    assert shift.median_ratio == pytest.approx(0.5)
    dead = ex.VarianceShift("bn_2", np.ones(2), np.ones(2), np.zeros(2))
    assert np.isnan(dead.median_ratio)
