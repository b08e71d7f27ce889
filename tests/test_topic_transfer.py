"""Freezing, fine-tuning and re-estimating BN statistics, against the installed Keras."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.data import DataSplit, digits, shift_intensity
from bncourse.topics import transfer

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def data() -> DataSplit:
    return digits()


def _flat_bn_model(seed: int = 0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(12, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dense(8, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dense(10),
        ]
    )


def test_split_by_class_keeps_only_those_classes_relabeled(data):
    part = transfer.split_by_class(data, [7, 3])
    assert set(part.y_train) == {0, 1} and part.num_classes == 2
    assert len(part.x_train) == np.isin(data.y_train, [3, 7]).sum()
    sevens = data.x_train[data.y_train == 7]
    assert np.array_equal(part.x_train[part.y_train == 0], sevens)
    with pytest.raises(ValueError):
        transfer.split_by_class(data, [1, 1])


def test_batchnorm_layers_are_found_in_nested_models_and_frozen():
    base = transfer.build_base(64, (8, 4))
    inputs = keras.Input((64,))
    model = keras.Model(inputs, keras.layers.Dense(3)(base(inputs)))
    assert [layer.name for layer in transfer.batchnorm_layers(model)] == ["bn_1", "bn_2"]
    assert transfer.freeze_batchnorm(model) == 2
    assert all(not layer.trainable for layer in transfer.batchnorm_layers(model))
    assert base.get_layer("dense_1").trainable  # other layers untouched


def test_installed_keras_overrides_training_false_in_a_functional_graph(data):
    # The fact lesson 10 teaches: model(x, training=True), as fit() calls it, runs an
    # unfrozen base's BN layers in training mode although the graph says training=False.
    base = transfer.build_base(64, (8,))
    inputs = keras.Input((64,))
    model = keras.Model(inputs, keras.layers.Dense(3)(base(inputs, training=False)))
    before = transfer.moving_statistics(base)
    model(data.x_train[:16], training=True)
    after = transfer.moving_statistics(base)
    assert not np.allclose(after["bn_1"][0], before["bn_1"][0])
    # and setting trainable=False on the BN layers keeps them in inference mode
    transfer.freeze_batchnorm(base)
    x = data.x_train[16:32]
    assert np.allclose(model(x, training=True).numpy(), model(x, training=False).numpy())
    assert np.array_equal(transfer.moving_statistics(base)["bn_1"][0], after["bn_1"][0])


def test_adapted_statistics_are_the_statistics_of_what_reaches_each_layer(data):
    model = _flat_bn_model()
    x = shift_intensity(data.x_train[:400], contrast=0.7, brightness=0.2)
    new = transfer.adapt_bn_statistics(model, x)
    first, second = transfer.batchnorm_layers(model)
    reaching_first = model.layers[0](x).numpy()
    assert np.allclose(first.moving_mean.numpy(), reaching_first.mean(axis=0), atol=1e-5)
    assert np.allclose(first.moving_variance.numpy(), reaching_first.var(axis=0), atol=1e-5)
    # the second layer sees the first one's output with the *new* statistics
    h = model.layers[2](first(reaching_first, training=False))
    reaching_second = model.layers[3](h).numpy()
    assert np.allclose(second.moving_mean.numpy(), reaching_second.mean(axis=0), atol=1e-5)
    assert np.allclose(new[second.name][1], reaching_second.var(axis=0), atol=1e-5)


def test_adaptation_equals_one_training_mode_pass_with_momentum_zero(data):
    model = _flat_bn_model(1)
    x = shift_intensity(data.x_train[:300])
    untouched = transfer.moving_statistics(model)
    got = transfer.one_training_pass(model, x, momentum=0.0)
    partial = transfer.one_training_pass(model, x, momentum=0.99)
    after_pass = transfer.moving_statistics(model)
    assert all(np.array_equal(after_pass[k][i], untouched[k][i]) for k in untouched for i in (0, 1))
    wanted = transfer.adapt_bn_statistics(model, x)
    assert set(got) == set(wanted)
    for name, (mean, variance) in wanted.items():
        assert np.allclose(got[name][0], mean, atol=1e-4)
        assert np.allclose(got[name][1], variance, atol=1e-4)
    # with the default momentum the pass moves the statistics only 1% of the way
    for name, (_, variance) in wanted.items():
        assert np.allclose(partial[name][1], 0.99 * untouched[name][1] + 0.01 * variance, atol=1e-4)
        assert not np.allclose(partial[name][1], variance, atol=1e-2)


def test_adaptation_undoes_an_affine_intensity_shift_before_a_bias_free_dense_layer(data):
    model = _flat_bn_model(2)
    x = data.x_train[:500]
    transfer.adapt_bn_statistics(model, x)
    clean_logits = model(x, training=False).numpy()
    shifted = 0.5 * x + 0.3  # no clipping: an affine change of every first-layer unit
    before = model(shifted, training=False).numpy()
    transfer.adapt_bn_statistics(model, shifted)
    after = model(shifted, training=False).numpy()
    assert np.abs(after - clean_logits).max() < 0.1 * np.abs(before - clean_logits).max()


def test_adapt_refuses_bn_inside_a_nested_model_and_models_without_bn():
    base = transfer.build_base(64, (4,))
    inputs = keras.Input((64,))
    nested = keras.Model(inputs, base(inputs))
    with pytest.raises(ValueError, match="nested"):
        transfer.adapt_bn_statistics(nested, np.zeros((4, 64), np.float32))
    plain = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="no BatchNormalization"):
        transfer.adapt_bn_statistics(plain, np.zeros((4, 64), np.float32))


def test_adaptation_sweep_scores_and_puts_the_statistics_back(data):
    model = _flat_bn_model(3)
    original = transfer.moving_statistics(model)
    before, after = transfer.adaptation_sweep(
        model, data.x_train[:200], data.x_test, data.y_test, [0.0, 0.4]
    )
    assert before.shape == after.shape == (2,)
    assert np.all((0 <= before) & (before <= 1)) and np.all((0 <= after) & (after <= 1))
    restored = transfer.moving_statistics(model)
    assert all(np.array_equal(restored[k][0], original[k][0]) for k in original)


def test_step_trainer_learns_and_honours_trainable_flags_of_its_build_time(data):
    model = _flat_bn_model(4)
    trainer = transfer.StepTrainer(model, learning_rate=1e-2)
    losses = trainer.train(data.x_train, data.y_train, steps=60, batch_size=32, seed=0)
    assert losses.shape == (60,) and losses[-10:].mean() < losses[:10].mean()
    first_dense = model.layers[0]
    first_dense.trainable = False
    frozen = transfer.StepTrainer(model, learning_rate=1e-2)  # like recompiling
    kernel = first_dense.kernel.numpy().copy()
    frozen.train(data.x_train, data.y_train, steps=5, batch_size=32, seed=1)
    assert np.array_equal(first_dense.kernel.numpy(), kernel)
    assert transfer.accuracy(model, data.x_val, data.y_val) > 0.3
    with pytest.raises(ValueError):
        trainer.train(data.x_train, data.y_train, steps=1, batch_size=0, seed=0)


def test_fine_tuning_comparison_runs_the_three_variants(data):
    source = transfer.split_by_class(data, range(5))
    target = transfer.split_by_class(data, range(5, 10))
    result = transfer.compare_fine_tuning(
        source,
        target,
        seeds=(0,),
        labeled=40,
        units=(16, 16),
        pretrain_steps=30,
        head_steps=10,
        fine_tune_steps=10,
        eval_every=5,
    )
    assert list(result.steps) == [0, 5, 10]
    for variant in transfer.FINE_TUNING_VARIANTS:
        assert result.val_accuracy[variant].shape == (1, 3)
    # all variants start from the same head-only model
    starts = {v: result.val_accuracy[v][0, 0] for v in result.val_accuracy}
    assert len(set(starts.values())) == 1
    assert np.array_equal(result.val_accuracy["guide_idiom"], result.val_accuracy["bn_training"])
    assert result.stat_drift["bn_frozen"][0] == 0 < result.stat_drift["bn_training"][0]
    assert 0 <= result.pretrain_accuracy <= 1
    with pytest.raises(ValueError):
        transfer.compare_fine_tuning(source, target, ("freeze_everything",))


def test_adaptation_comparison_undoes_the_shift_exactly_until_pixels_clip(data):
    result = transfer.compare_adaptation(
        data, seeds=(0, 1), steps=40, brightness=(0.0, 0.3, 0.8), contrast=0.5
    )
    assert result.clean.shape == (2,)
    for scores in (result.before, result.after, result.plain):
        assert scores.shape == (2, 3) and np.all((0 <= scores) & (scores <= 1))
    assert result.at(0.3) == 1 and result.settings["steps"] == 40
    # 0.5 x + b with b <= 0.5 never clips: the re-estimated statistics remove it entirely
    assert np.ptp(result.after[:, :2], axis=1).max() <= 1 / len(data.y_test)
    with pytest.raises(ValueError, match="not measured"):
        result.at(0.5)


def _check_figure(fig, lines):
    import matplotlib.pyplot as plt

    try:
        ax = fig.axes[0]
        assert fig.get_size_inches()[0] <= 9 and ax.get_title() and ax.get_xlabel()
        labels = ax.get_legend_handles_labels()[1]
        assert len(labels) == lines
        styles = {(line.get_marker(), line.get_linestyle()) for line in ax.get_lines()[:lines]}
        assert len(styles) == lines  # told apart without color
    finally:
        plt.close(fig)


def test_experiment_plots_label_every_line():
    pytest.importorskip("matplotlib").use("Agg")
    rng = np.random.default_rng(0)
    fine = transfer.FineTuneResult(
        steps=np.array([0, 10, 20]),
        val_accuracy={v: rng.uniform(0.5, 0.9, (3, 3)) for v in transfer.FINE_TUNING_VARIANTS},
        stat_drift={v: np.zeros(3) for v in transfer.FINE_TUNING_VARIANTS},
        pretrain_accuracy=0.9,
        settings={"batch_size": 4},
    )
    _check_figure(transfer.plot_fine_tuning(fine), 3)
    shape = (3, 4)
    adaptation = transfer.AdaptationResult(
        brightness=np.array([0.0, 0.2, 0.4, 0.8]),
        contrast=0.5,
        clean=rng.uniform(0.9, 1.0, 3),
        before=rng.uniform(0.2, 0.9, shape),
        after=rng.uniform(0.8, 1.0, shape),
        plain=rng.uniform(0.2, 0.9, shape),
    )
    _check_figure(transfer.plot_adaptation(adaptation), 4)
