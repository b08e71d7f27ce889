"""Small-batch statistics, the NumPy batch renorm, and the side-by-side training race."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse import reference as ref
from bncourse.data import digits
from bncourse.topics import small_batches


def _normal_features(n: int = 4000, features: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(3.0, 2.0, size=(n, features)) * rng.uniform(0.5, 2.0, features)


def test_batch_mean_scatters_like_one_over_root_m_and_variance_is_biased_by_m_minus_1_over_m():
    sizes = [2, 4, 16, 64]
    spread = small_batches.statistics_spread(_normal_features(), sizes, batches=2000, seed=1)
    assert np.allclose(spread.mean_spread, 1 / np.sqrt(sizes), rtol=0.08)
    assert np.allclose(spread.var_ratio, [(m - 1) / m for m in sizes], atol=0.03)
    assert np.all(np.diff(spread.var_spread) < 0)
    # normal data: the biased variance of m samples has std sqrt(2 (m - 1)) / m in units of σ²
    expected = [np.sqrt(2 * (m - 1)) / m for m in sizes]
    assert np.allclose(spread.var_spread, expected, rtol=0.1)


@pytest.mark.parametrize("sizes", [[1], [5000]])
def test_batch_sizes_outside_the_data_are_rejected(sizes):
    with pytest.raises(ValueError):
        small_batches.statistics_spread(_normal_features(), sizes)


def test_constant_features_are_rejected():
    x = _normal_features()
    x[:, 2] = 1.0
    with pytest.raises(ValueError, match="vary"):
        small_batches.statistics_spread(x, [4])


def test_layer_norm_output_never_depends_on_the_batch_but_bn_output_does():
    x = _normal_features(n=200).astype(np.float32)
    ln = small_batches.sample_outputs(x, 7, 8, method="layer", batches=20)
    bn = small_batches.sample_outputs(x, 7, 8, method="bn", batches=20)
    assert np.allclose(ln, ln[0])
    assert np.allclose(ln[0], ref.layer_norm(x[7:8], np.ones(8), np.zeros(8))[0])
    assert bn.std(axis=0).min() > 0.05
    # a batch of one: every BN output is 0, and no warning escapes
    alone = small_batches.sample_outputs(x, 7, 1, method="bn", batches=3)
    assert np.allclose(alone, 0.0)


def test_sample_outputs_rejects_unknown_methods():
    with pytest.raises(ValueError):
        small_batches.sample_outputs(_normal_features(n=20), 0, 4, method="group")


def test_unclipped_renorm_normalizes_with_the_moving_averages():
    rng = np.random.default_rng(2)
    x = rng.normal(1.0, 3.0, size=(6, 4))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    mu, sigma = rng.normal(size=4), rng.uniform(0.5, 3, 4)
    y, r, d = small_batches.batch_renorm_forward(x, gamma, beta, mu, sigma)
    assert np.allclose(y, gamma * (x - mu) / sigma + beta, atol=1e-4)
    sigma_b = np.sqrt(x.var(axis=0) + ref.DEFAULT_EPSILON)
    assert np.allclose(r, sigma_b / sigma, rtol=1e-5)
    assert np.allclose(d, (x.mean(axis=0) - mu) / sigma, rtol=1e-4, atol=1e-6)


def test_renorm_clipped_to_r_1_and_d_0_is_plain_batch_norm():
    x = np.random.default_rng(3).normal(2.0, 4.0, size=(5, 3, 3, 2))
    y, r, d = small_batches.batch_renorm_forward(
        x, np.ones(2), np.zeros(2), [5.0, -5.0], [10.0, 0.1], rmin=1.0, rmax=1.0, dmax=0.0
    )
    assert np.all(r == 1) and np.all(d == 0)
    assert np.allclose(y, ref.batchnorm_forward(x, np.ones(2), np.zeros(2)), atol=1e-5)


def test_numpy_renorm_matches_keras_renorm_layer_with_and_without_clipping():
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    x = rng.normal(0.5, 2.0, size=(8, 5)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 5).astype(np.float32)
    beta = rng.normal(size=5).astype(np.float32)
    mu = rng.normal(size=5).astype(np.float32)
    sigma = rng.uniform(0.5, 4.0, 5).astype(np.float32)
    for clipping in ({}, {"rmin": 0.5, "rmax": 1.5, "dmax": 0.3}):
        layer = keras.layers.BatchNormalization(renorm=True, renorm_clipping=clipping)
        layer.build((None, 5))
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
        layer.renorm_mean.assign(mu)
        layer.renorm_stddev.assign(sigma)
        got = layer(x, training=True).numpy()
        ours, r, d = small_batches.batch_renorm_forward(x, gamma, beta, mu, sigma, **clipping)
        assert np.allclose(got, ours, atol=1e-5)
        if clipping:
            assert np.any(r == 1.5) or np.any(r == 0.5) or np.any(np.abs(d) == 0.3)


@pytest.fixture(scope="module")
def small_digits():
    data = digits()
    return type(data)(
        data.x_train[:300],
        data.y_train[:300],
        data.x_val[:120],
        data.y_val[:120],
        data.x_test[:10],
        data.y_test[:10],
    )


def test_race_branches_train_exactly_as_they_would_alone(small_digits):
    pytest.importorskip("tensorflow")
    settings = {"steps": 30, "learning_rate": 0.05, "eval_every": 10}
    together = small_batches.compare_normalizations(
        small_digits, ("bn", "layer"), seeds=(0, 1), batch_sizes=(4, 8), **settings
    )
    alone = small_batches.compare_normalizations(
        small_digits, ("bn",), seeds=(1,), batch_sizes=(8,), **settings
    )
    race = together[4]
    assert list(race.steps) == [10, 20, 30] and race.settings["batch_size"] == 4
    assert race.val_accuracy["bn"].shape == (2, 3)
    assert np.allclose(race.final("bn"), race.val_accuracy["bn"][:, -1])
    assert not np.allclose(race.val_accuracy["bn"][0], race.val_accuracy["bn"][1])
    # seed 1's BN branch, trained next to seed 0 and next to Layer Norm, after another batch
    # size had trained the same model: the same numbers as seed 1 alone, from scratch
    assert np.allclose(together[8].val_accuracy["bn"][1], alone[8].val_accuracy["bn"][0])


def test_race_variants_start_from_the_same_kernels_per_seed():
    keras = pytest.importorskip("keras")
    model = small_batches._build_race(["bn", "layer"], 2, 8, (6,), 3, 2)
    small_batches._glorot_per_seed(model, (0, 1))
    bn_kernel = model.get_layer("bn_dense_1").kernel.numpy()
    ln_kernel = model.get_layer("layer_dense_1").kernel.numpy()
    assert np.array_equal(bn_kernel, ln_kernel)
    assert not np.allclose(bn_kernel[0], bn_kernel[1])
    limit = np.sqrt(6 / (8 + 6))
    assert np.abs(bn_kernel).max() <= limit
    assert isinstance(model.get_layer("bn_logits"), keras.layers.EinsumDense)


@pytest.mark.parametrize(
    "names, kwargs",
    [
        (("batchnorm",), {}),
        (("bn", "bn"), {}),
        (("group",), {"groups": 7}),
        (("bn",), {"seeds": ()}),
    ],
)
def test_race_rejects_bad_settings(small_digits, names, kwargs):
    with pytest.raises(ValueError):
        small_batches.compare_normalizations(small_digits, names, steps=1, **kwargs)


def test_spread_table_has_a_header_and_one_row_per_batch_size():
    sizes = [2, 8, 32]
    spread = small_batches.statistics_spread(_normal_features(), sizes, batches=50)
    rows = spread.table().splitlines()
    assert len(rows) == 1 + len(sizes) and "(m-1)/m" in rows[0]
    assert [int(row.split()[0]) for row in rows[1:]] == sizes
    assert rows[1].split()[-1] == "0.500"  # (m - 1)/m at m = 2


def _race(names, sizes=(2, 16), seeds=3):
    rng = np.random.default_rng(0)
    steps = np.array([100, 200, 300])
    return {
        m: small_batches.RaceResult(
            steps=steps,
            val_accuracy={name: rng.uniform(0.3, 1.0, (seeds, 3)) for name in names},
            settings={"seeds": list(range(seeds)), "batch_size": m},
        )
        for m in sizes
    }


def test_plots_fit_the_notebook_and_tell_lines_apart_without_color():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = small_batches.plot_race(_race(list(small_batches.NORMALIZATIONS)))
    try:
        assert fig.get_size_inches()[0] <= 9 and len(fig.axes) == 2
        lines = fig.axes[0].get_lines()
        assert len(lines) == len(small_batches.NORMALIZATIONS)
        styles = {(line.get_marker(), line.get_linestyle()) for line in lines}
        assert len(styles) == len(lines)  # marker and dash differ, not only the color
        labels = fig.axes[1].get_legend_handles_labels()[1]
        assert any(label.startswith("BatchNorm, renorm=True") for label in labels)
        assert "5 ways (3 seeds" in fig._suptitle.get_text()
    finally:
        plt.close(fig)
    spread = small_batches.statistics_spread(_normal_features(), [2, 4, 8], batches=50)
    fig = small_batches.plot_statistics_spread(spread)
    try:
        assert fig.get_size_inches()[0] <= 9 and len(fig.axes) == 2
        assert len(fig.axes[0].get_lines()) == 3 and len(fig.axes[1].get_lines()) == 2
    finally:
        plt.close(fig)
    with pytest.raises(ValueError):
        small_batches.plot_race({})
