"""bncourse.lab.training: the MLP spec, the Trainer and its Run records."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.data import DataSplit, digits
from bncourse.lab.training import MLP, Run, Trainer, _batch_indices, stack

SMALL = (16, 16)


@pytest.fixture(scope="module")
def data() -> DataSplit:
    return digits()


def trainer(block: tuple[str, ...], **kwargs) -> Trainer:
    spec_keys = {"activation", "dropout", "init_scale", "head_dropout"}
    spec = MLP(hidden=SMALL, block=block, **{k: v for k, v in kwargs.items() if k in spec_keys})
    rest = {k: v for k, v in kwargs.items() if k not in spec_keys}
    return Trainer(spec, input_dim=64, num_classes=10, **rest)


# ----------------------------------------------------------------------------- MLP spec


@pytest.mark.parametrize("block", [("bn",), ("act", "pool"), ()])
def test_a_block_needs_an_activation_and_known_parts(block):
    with pytest.raises(ValueError, match="block must contain 'act'"):
        MLP(block=block)


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_head_dropout_must_be_a_rate(rate):
    with pytest.raises(ValueError, match="head_dropout"):
        MLP(head_dropout=rate)


def test_labels_name_the_layers_in_order():
    assert MLP(block=("bn", "act")).label == "Dense → BN → activation"
    assert MLP(block=("act", "dropout")).label == "Dense → activation → Dropout"
    assert "Dropout before the output" in MLP(block=("bn", "act"), head_dropout=0.5).label


def test_dense_feeding_bn_has_no_bias_and_head_dropout_sits_before_the_logits():
    pytest.importorskip("keras")
    before = MLP(hidden=SMALL, block=("bn", "act"), head_dropout=0.3).build(64, 10)
    after = MLP(hidden=SMALL, block=("act", "bn")).build(64, 10)
    assert before.get_layer("dense_1").bias is None
    assert after.get_layer("dense_1").bias is not None
    names = [layer.name for layer in before.layers]
    assert names[-2:] == ["dropout_head", "logits"]
    assert names[1:4] == ["dense_1", "bn_1", "act_1"]
    assert "dropout_head" not in [layer.name for layer in after.layers]


# ----------------------------------------------------------------------------- batches


def test_a_batch_larger_than_the_data_is_the_whole_data_reshuffled_every_step():
    batches = _batch_indices(np.random.default_rng(0), n=5, batch_size=8, steps=3)
    assert batches.shape == (3, 5)
    assert all(sorted(row.tolist()) == [0, 1, 2, 3, 4] for row in batches)
    assert len({tuple(row) for row in batches}) == 3


def test_batches_walk_through_shuffled_epochs_and_drop_the_remainder():
    batches = _batch_indices(np.random.default_rng(0), n=10, batch_size=4, steps=6)
    assert batches.shape == (6, 4)
    for epoch in (batches[0:2], batches[2:4], batches[4:6]):  # 2 full batches per epoch
        assert len(set(epoch.ravel().tolist())) == 8  # no example twice within an epoch
    assert not np.array_equal(batches[0:2], batches[2:4])


# ----------------------------------------------------------------------------- Run


def fake_run(val, train=None, loss=None) -> Run:
    val = np.asarray(val, dtype=float)
    steps = np.arange(1, len(val) + 1) * 10
    train = np.ones_like(val) if train is None else np.asarray(train, dtype=float)
    loss = np.linspace(1, 0.1, len(val)) if loss is None else np.asarray(loss, dtype=float)
    return Run(steps, loss, train, val, diverged=False)


def test_run_steps_to_final_gap_and_stack():
    run = fake_run([0.5, 0.8, 0.9], train=[0.6, 0.9, 1.0])
    assert run.steps_to(0.8) == 20.0
    assert np.isnan(run.steps_to(0.95))
    assert run.final_val_accuracy == 0.9
    assert run.final_gap == pytest.approx(0.1)
    both = stack([run, fake_run([0.1, 0.2, 0.3])], "val_accuracy")
    assert both.shape == (2, 3) and both[1, 2] == pytest.approx(0.3)


# ----------------------------------------------------------------------------- Trainer


def test_a_tiny_run_learns_and_records_every_evaluation(data):
    run = trainer(("bn", "act")).run(data, seed=0, steps=60, eval_every=25, learning_rate=0.05)
    assert run.steps.tolist() == [25, 50, 60]  # the last step is always measured
    for name in ("train_loss", "train_accuracy", "val_accuracy"):
        assert getattr(run, name).shape == (3,)
    assert not run.diverged
    assert run.val_accuracy[-1] > 0.5  # far above chance (0.1) after 60 steps
    assert run.settings["block"] == ("bn", "act") and run.settings["seed"] == 0


def test_same_seed_same_run_other_seed_other_run(data):
    tr = trainer(("bn", "act", "dropout"))
    a = tr.run(data, seed=3, steps=30, eval_every=10)
    b = tr.run(data, seed=3, steps=30, eval_every=10)
    c = tr.run(data, seed=4, steps=30, eval_every=10)
    assert np.array_equal(a.train_loss, b.train_loss)
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_fused_steps_give_exactly_the_stepwise_results(data):
    kwargs = {"block": ("bn", "act", "dropout"), "probe": "act_2"}
    stepwise = trainer(**kwargs).run(data, seed=1, steps=35, eval_every=10)
    fused = trainer(**kwargs, fused=True).run(data, seed=1, steps=35, eval_every=10)
    for name in ("steps", "train_loss", "train_accuracy", "val_accuracy", "probe"):
        assert np.array_equal(getattr(stepwise, name), getattr(fused, name)), name


def test_init_scale_sets_the_hidden_kernels_standard_deviation(data):
    tr = Trainer(MLP(hidden=(200, 200)), input_dim=64, num_classes=10)
    for scale in (0.1, 3.0):
        tr.reset(seed=0, learning_rate=0.01, init_scale=scale)
        kernel = np.asarray(tr.model.get_layer("dense_2").kernel)
        assert kernel.std() == pytest.approx(scale / np.sqrt(200), rel=0.05)
    run = tr.run(data, seed=0, steps=5, eval_every=5, init_scale=0.5)
    assert run.settings["init_scale"] == 0.5


def test_a_huge_learning_rate_diverges_and_keeps_the_curves_length(data):
    tr = trainer(("act",), activation="linear", init_scale=5.0)  # no dead units to hide in
    run = tr.run(data, seed=0, steps=200, eval_every=20, learning_rate=1e3)
    assert run.diverged
    assert len(run.steps) == len(run.val_accuracy) == 10
    assert np.isnan(run.val_accuracy[-1])


def test_probe_records_sorted_percentiles_and_training_mode_probing_changes_nothing(data):
    kwargs = {"block": ("bn", "act", "dropout"), "activation": "sigmoid", "fused": True}
    plain = trainer(**kwargs).run(data, seed=0, steps=40, eval_every=20)
    probed = trainer(**kwargs, probe="act_2", probe_training=True).run(
        data, seed=0, steps=40, eval_every=20
    )
    assert plain.probe is None
    assert probed.probe.shape == (2, 3)
    assert np.all(np.diff(probed.probe, axis=1) >= 0)  # 15th <= 50th <= 85th
    assert np.array_equal(plain.train_loss, probed.train_loss)
    assert np.array_equal(plain.val_accuracy, probed.val_accuracy)


def test_training_mode_probe_sees_batch_statistics_not_the_moving_ones(data):
    # Right after the first steps the moving variance is still close to its start (1.0),
    # so the inference-mode probe is squeezed; the training-mode probe is normalized.
    common = {"block": ("bn", "act"), "activation": "sigmoid", "probe": "act_1"}
    inference = trainer(**common).run(data, seed=0, steps=5, eval_every=5)
    training = trainer(**common, probe_training=True).run(data, seed=0, steps=5, eval_every=5)
    spread = lambda run: run.probe[0, 2] - run.probe[0, 0]  # noqa: E731
    assert spread(training) > 1.0  # roughly +-1 standard deviation of a normalized unit
    assert spread(inference) < 0.5 * spread(training)


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"eval_every": 0}, {"batch_size": 0}])
def test_bad_run_settings_raise(data, kwargs):
    settings = {"steps": 5, "eval_every": 5} | kwargs
    with pytest.raises(ValueError):
        trainer(("act",)).run(data, seed=0, **settings)


def test_unknown_optimizer_raises():
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(MLP(hidden=SMALL), input_dim=64, num_classes=10, optimizer="rmsprop")
