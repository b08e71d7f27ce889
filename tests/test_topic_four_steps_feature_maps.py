"""NumPy convolution feature maps: agree with a plain loop, respond to the right edges."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics.four_steps import conv2d, edge_kernels


def conv2d_loops(x, k):
    batch, height, width, _ = x.shape
    kh, kw, _, out = k.shape
    result = np.zeros((batch, height - kh + 1, width - kw + 1, out))
    for b in range(batch):
        for i in range(height - kh + 1):
            for j in range(width - kw + 1):
                for o in range(out):
                    result[b, i, j, o] = np.sum(x[b, i : i + kh, j : j + kw, :] * k[:, :, :, o])
    return result


def test_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 5, 3))
    k = rng.normal(size=(3, 2, 3, 4))
    got = conv2d(x, k)
    assert got.shape == (2, 4, 4, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, conv2d_loops(x, k), rtol=1e-5, atol=1e-5)


def test_hand_computed_example_is_not_flipped():
    x = np.arange(9, dtype=np.float64).reshape(1, 3, 3, 1)
    k = np.zeros((2, 2, 1, 1))
    k[0, 0, 0, 0] = 1.0  # picks the top-left value of each window
    np.testing.assert_array_equal(conv2d(x, k)[0, :, :, 0], [[0.0, 1.0], [3.0, 4.0]])


def test_edge_kernels_respond_to_their_own_edges():
    top_bright = np.zeros((1, 5, 5, 1))
    top_bright[0, :2] = 1.0  # a horizontal edge
    maps = conv2d(top_bright, edge_kernels())
    assert np.abs(maps[..., 0]).max() > 1.0
    np.testing.assert_allclose(maps[..., 1], 0.0, atol=1e-6)
    left_bright = np.transpose(top_bright, (0, 2, 1, 3))  # a vertical edge
    maps = conv2d(left_bright, edge_kernels())
    assert np.abs(maps[..., 1]).max() > 1.0
    np.testing.assert_allclose(maps[..., 0], 0.0, atol=1e-6)


def test_inputs_are_not_modified():
    x = np.ones((1, 4, 4, 1), dtype=np.float32)
    k = edge_kernels()
    x_before, k_before = x.copy(), k.copy()
    conv2d(x, k)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(k, k_before)


@pytest.mark.parametrize(
    "images, kernels, message",
    [
        (np.ones((4, 4, 1)), edge_kernels(), "images must have shape"),
        (np.ones((1, 4, 4, 1)), np.ones((3, 3, 1)), "kernels must have shape"),
        (np.ones((1, 4, 4, 2)), edge_kernels(), "expect 1 input channels"),
        (np.ones((1, 2, 4, 1)), edge_kernels(), "do not fit"),
    ],
)
def test_bad_shapes_are_named(images, kernels, message):
    with pytest.raises(ValueError, match=message):
        conv2d(images, kernels)


def test_feature_table_puts_one_channel_per_column_and_counts_m():
    from bncourse.topics.four_steps import feature_table

    text = feature_table((2, 2, 2, 3))
    lines = text.splitlines()
    assert "channel 0" in lines[2] and "channel 2" in lines[2]
    assert lines[3].startswith("(0, 0, 0)")
    assert lines[3].split("|")[1].split("  ") == [
        " x[0, 0, 0, 0]",
        "x[0, 0, 0, 1]",
        "x[0, 0, 0, 2]",
    ]
    assert "m = 2 x 2 x 2 = 8 values" in text
    short = feature_table((4, 3, 3, 2), rows=4)
    assert "... (32 more rows)" in short and "m = 4 x 3 x 3 = 36 values" in short
    dense = feature_table((5, 3))
    assert "a row per sample, a column per feature" in dense and "m = 5 values" in dense


@pytest.mark.parametrize("shape, rows", [((3,), 8), ((2, 0, 3), 8), ((2, 3), 0), ((2, 3), True)])
def test_feature_table_rejects_bad_arguments(shape, rows):
    from bncourse.topics.four_steps import feature_table

    with pytest.raises(ValueError):
        feature_table(shape, rows=rows)
