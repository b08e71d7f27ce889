"""Lesson 11's helpers: the NumPy network around the learner's layer, its Keras twin, and
BN folded into a convolution."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bncourse.data import digits
from bncourse.grading import check
from bncourse.topics import capstone

from .test_grading_capstone import LayerStaged as Float64Layer  # keeps the dtype of x


@pytest.fixture(scope="module")
def data():
    return digits(seed=0)


def test_the_course_layer_meets_the_exercise_contract():
    assert check("BatchNormLayer", capstone.CourseBatchNormLayer).passed


def test_usable_layer_falls_back_to_the_course_layer_for_a_stub(capsys):
    class Stub:
        def __init__(self, features, momentum=0.99, epsilon=1e-3):
            raise NotImplementedError

    assert capstone.usable_layer(Stub) is capstone.CourseBatchNormLayer
    assert "not written yet" in capsys.readouterr().out
    assert capstone.usable_layer(capstone.CourseBatchNormLayer) is capstone.CourseBatchNormLayer


def test_weights_and_orders_are_repeatable():
    first, again = capstone.mlp_weights(seed=3), capstone.mlp_weights(seed=3)
    assert [w.shape for w in first] == [(64, 64), (64, 64), (64, 10), (10,)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    orders = capstone.epoch_orders(samples=10, epochs=2, seed=0)
    assert len(orders) == 2 and sorted(orders[0]) == list(range(10))


def _loss(model, x, labels):
    logits = model.forward(x, training=True).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


@pytest.mark.parametrize("layer_class", [None, Float64Layer])
def test_an_sgd_step_follows_the_numerical_gradient(data, layer_class):
    weights = [w.astype(np.float64) for w in capstone.mlp_weights(seed=0)]
    x, labels = data.x_train[:16].astype(np.float64), data.y_train[:16]
    model = capstone.NumpyMLP(weights, layer_class)
    model.kernels = [k.astype(np.float64) for k in model.kernels]
    before = copy.deepcopy(model)
    stepped = copy.deepcopy(model)
    stepped.sgd_step(x, labels, lr=1.0)
    analytic = before.kernels[0] - stepped.kernels[0]  # lr = 1: the update is the gradient
    h = 1e-5
    for i, j in [(10, 3), (20, 40), (35, 7)]:
        plus, minus = copy.deepcopy(before), copy.deepcopy(before)
        plus.kernels[0][i, j] += h
        minus.kernels[0][i, j] -= h
        numeric = (_loss(plus, x, labels) - _loss(minus, x, labels)) / (2 * h)
        assert analytic[i, j] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_numpy_training_learns_with_and_without_bn(data):
    weights = capstone.mlp_weights(seed=0)
    orders = capstone.epoch_orders(samples=len(data.x_train), epochs=1, seed=0)
    for layer_class in (None, capstone.CourseBatchNormLayer):
        history = capstone.train_numpy(
            weights=weights, data=data, orders=orders, layer_class=layer_class
        )
        assert history.shape == (1,) and history[0] > 0.5


def test_the_keras_twin_follows_the_numpy_network(data):
    weights = capstone.mlp_weights(seed=0)
    orders = capstone.epoch_orders(samples=len(data.x_train), epochs=2, seed=0)
    mine = capstone.train_numpy(
        weights=weights, data=data, orders=orders, layer_class=capstone.CourseBatchNormLayer
    )
    theirs = capstone.train_keras(weights=weights, data=data, orders=orders, batch_norm=True)
    assert np.max(np.abs(mine - theirs)) <= 0.02


def test_compare_mlps_and_its_plot(data):
    runs = capstone.compare_mlps(
        layer_class=capstone.CourseBatchNormLayer, data=data, seeds=[0], epochs=1
    )
    assert set(runs) == {"NumPy, your BN", "NumPy, no BN", "Keras, BN"}
    assert all(values.shape == (1, 1) for values in runs.values())
    figure = capstone.plot_mlps(runs)
    ax = figure.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_legend().get_texts()) == 3


def test_folding_the_conv_network_keeps_its_predictions():
    from bncourse import reference as ref

    model = capstone.build_conv_bn()
    rng = np.random.default_rng(0)
    bn = model.get_layer("bn")
    bn.set_weights(
        [
            rng.uniform(0.5, 2.0, 8),
            rng.normal(size=8),
            rng.normal(size=8),
            rng.uniform(0.5, 2.0, 8),
        ]
    )
    parts = capstone.conv_bn_parts(model)
    assert parts["kernel"].shape == (3, 3, 1, 8) and parts["bias"] is None
    kernel, bias = ref.fold_batchnorm(
        parts["kernel"],
        None,
        parts["gamma"],
        parts["beta"],
        parts["mean"],
        parts["var"],
        parts["eps"],
    )
    x = rng.uniform(0, 1, (5, 8, 8, 1)).astype(np.float32)
    original = np.asarray(model.predict(x, verbose=0))
    folded = capstone.folded_predictions(model, kernel=kernel, bias=bias, x=x)
    np.testing.assert_allclose(folded, original, rtol=1e-4, atol=1e-5)


def test_adapting_sets_the_statistics_of_the_conv_output():
    model = capstone.build_conv_bn()
    x = np.random.default_rng(1).uniform(0, 1, (6, 8, 8, 1)).astype(np.float32)
    capstone.adapt_conv_bn(model, x=x)
    z = np.asarray(model.get_layer("conv")(x))
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), z.mean(axis=(0, 1, 2)), atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), z.var(axis=(0, 1, 2)), rtol=1e-5)


# ---------------------------------------------------------------------------
# Part (b): placements and heads trained side by side.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images():
    return digits(flatten=False, seed=0)


def test_image_patches_make_a_same_convolution_a_matrix_product():
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((3, 8, 8, 1)).astype(np.float32)
    conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)
    expected = np.asarray(conv(x))
    kernel = np.asarray(conv.kernel).reshape(9, 4)
    patches = capstone.image_patches(x)
    assert patches.shape == (3, 8, 8, 9) and patches.dtype == np.float32
    np.testing.assert_allclose(patches @ kernel, expected, atol=1e-5)
    assert np.all(patches[:, 0, :, :3] == 0)  # the zero padding above the first row


def _weights_for_branch(model, name, seed_index, head):
    """A plain Keras network (Conv2D, BN, Dense layers) carrying branch ``seed_index``'s
    weights of variant ``name``, to compare with the side-by-side model."""
    import keras

    conv = model.get_layer(f"{name}_conv")
    bn = model.get_layer(f"{name}_conv_bn")
    filters = conv.kernel.shape[-1]
    channels = slice(seed_index * filters, (seed_index + 1) * filters)
    layers = [
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(epsilon=bn.epsilon),
        keras.layers.ReLU(),
        keras.layers.Flatten(),
    ]
    if head:
        layers += [keras.layers.Dense(32), keras.layers.ReLU()]
    layers.append(keras.layers.Dense(10))
    plain = keras.Sequential(layers)
    kernel = np.asarray(conv.kernel)[seed_index].reshape(3, 3, 1, filters)
    plain.layers[0].set_weights([kernel])
    plain.layers[1].set_weights([np.asarray(w)[channels] for w in bn.get_weights()])
    dense_names = [f"{name}_dense_1", f"{name}_logits"] if head else [f"{name}_logits"]
    dense_layers = [layer for layer in plain.layers if isinstance(layer, keras.layers.Dense)]
    for layer, dense_name in zip(dense_layers, dense_names, strict=True):
        source = model.get_layer(dense_name)
        kernel = np.asarray(source.kernel)[seed_index]
        layer.set_weights(
            [kernel.reshape(-1, kernel.shape[-1]), np.asarray(source.bias)[seed_index]]
        )
    return plain


def test_each_branch_computes_its_own_plain_conv_network(images):
    model = capstone._side_by_side_model(
        [("before", "before", ""), ("none", "before", "none")], 2, 4, 32, 10
    )
    rng = np.random.default_rng(1)
    for weight in model.weights:
        if "moving_variance" in weight.path or "gamma" in weight.path:
            weight.assign(rng.uniform(0.5, 2.0, weight.shape).astype(np.float32))
        else:
            weight.assign(rng.normal(0.0, 0.3, weight.shape).astype(np.float32))
    x = images.x_val[:5]
    patches = np.stack(
        [capstone.image_patches(x), capstone.image_patches(images.x_val[5:10])], axis=3
    )  # branch 0 sees images 0-4, branch 1 images 5-9
    outputs = [np.asarray(o) for o in model(patches, training=False)]
    for variant, (name, head) in enumerate([("before", False), ("none", True)]):
        for seed_index, batch in enumerate([x, images.x_val[5:10]]):
            plain = _weights_for_branch(model, name, seed_index, head)
            np.testing.assert_allclose(
                outputs[variant][:, seed_index], np.asarray(plain(batch)), rtol=1e-4, atol=1e-4
            )


def test_a_seeds_result_does_not_depend_on_the_other_seeds(images):
    together = capstone.compare_placements(data=images, seeds=[4, 7], epochs=1)
    alone = capstone.compare_placements(data=images, seeds=[7], epochs=1)
    assert set(together.accuracy) == {"before", "after"}
    for name in ("before", "after"):
        assert together.accuracy[name].shape == (2,)
        assert abs(together.accuracy[name][1] - alone.accuracy[name][0]) <= 2 / len(images.y_val)
        assert np.all(together.accuracy[name] > 0.5)  # one epoch already learns the digits


def test_compare_heads_measures_accuracy_and_variance_ratios(images):
    result = capstone.compare_heads(
        data=images, seeds=[0, 1], heads=("none", "bn"), batch_size=8, steps=120
    )
    assert set(result.accuracy) == {"none", "bn"}
    assert all(values.shape == (2,) for values in result.accuracy.values())
    assert set(result.variance_ratio) == {"none conv", "bn conv", "bn head"}
    # with 8 x 8 x 8 = 512 values per statistic the convolution's BN tracks its input closely
    assert np.all(np.abs(result.variance_ratio["bn conv"] - 1) < 0.3)
    assert result.settings["batch_size"] == 8


def test_the_helpers_refuse_flat_data_and_unknown_heads(images):
    with pytest.raises(ValueError, match="data"):
        capstone.compare_placements(data=digits(seed=0), seeds=[0])
    with pytest.raises(ValueError, match="heads"):
        capstone.compare_heads(data=images, seeds=[0], heads=("bn", "layer"))


@pytest.mark.parametrize(
    "before, after, decision",
    [
        ([0.9, 0.95], [0.8, 0.85, 0.7], "before"),
        ([0.6, 0.62], [0.7, 0.65], "after"),
        ([0.9, 0.8], [0.85, 0.82], "tie"),
        ([0.9, 0.8], [0.8, 0.7], "tie"),  # touching ranges
    ],
)
def test_the_course_rule(before, after, decision):
    assert capstone.course_choose_placement(before, after) == decision


def test_the_course_rule_meets_the_exercise_contract_and_refuses_one_seed():
    assert check("choose_placement", capstone.course_choose_placement).passed
    with pytest.raises(ValueError, match="after"):
        capstone.course_choose_placement([0.9, 0.8], [0.7])


def test_usable_rule_falls_back_to_the_course_rule_for_a_stub(capsys):
    def stub(before, after):
        raise NotImplementedError

    assert capstone.usable_rule(stub) is capstone.course_choose_placement
    assert "not written yet" in capsys.readouterr().out
    assert capstone.usable_rule(min) is min


def test_plot_seeds_draws_one_marker_per_seed():
    fig = capstone.plot_seeds(
        {"a": np.array([0.9, 0.8, 0.85]), "b": np.array([0.7, 0.75, 0.72])},
        labels={"a": "first"},
        title="t",
    )
    ax = fig.axes[0]
    markers = [line for line in ax.lines if line.get_linestyle() == "None"]
    assert len(markers) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first", "b"]
