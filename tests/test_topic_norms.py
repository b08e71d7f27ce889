"""The axes masks say exactly which values share statistics, and the cubes show them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from bncourse import reference as ref
from bncourse.topics import norms as norm_axes

N, H, W, C = 3, 2, 2, 6


def _normalize(method: str, x: np.ndarray, groups: int) -> np.ndarray:
    gamma, beta = np.ones(C), np.zeros(C)
    if method == "BN":
        return ref.batchnorm_forward(x, gamma, beta)
    if method == "LN":
        return ref.layer_norm(x, gamma, beta)
    if method == "IN":
        return ref.group_norm(x, gamma, beta, groups=C)
    return ref.group_norm(x, gamma, beta, groups=groups)


@pytest.mark.parametrize("method", norm_axes.METHODS)
@pytest.mark.parametrize("sample, channel", [(0, 0), (1, 4), (2, 5)])
def test_mask_is_the_set_that_moves_the_statistics_of_the_reference_functions(
    method, sample, channel
):
    # Changing one input value changes the output at (sample, channel) through the shared
    # mean and variance exactly when that value is in the mask.
    groups = 3
    x = np.random.default_rng(0).normal(size=(N, H, W, C))
    mask = norm_axes.shared_statistics(
        method, N, C, H * W, groups=groups, sample=sample, channel=channel
    )
    target = (sample, 0, 0, channel)
    base = _normalize(method, x, groups)[target]
    for n in range(N):
        for h in range(H):
            for w in range(W):
                for c in range(C):
                    if (n, h, w, c) == target:
                        continue
                    bumped = x.copy()
                    bumped[n, h, w, c] += 5.0
                    moved = abs(_normalize(method, bumped, groups)[target] - base) > 1e-6
                    assert moved == mask[n, c, h * W + w], (method, n, h, w, c)


def test_group_norm_with_one_group_is_layer_norm_and_with_c_groups_is_instance_norm():
    ln = norm_axes.shared_statistics("LN", 4, 6, 5, channel=2)
    in_ = norm_axes.shared_statistics("IN", 4, 6, 5, channel=2)
    assert np.array_equal(norm_axes.shared_statistics("GN", 4, 6, 5, groups=1, channel=2), ln)
    assert np.array_equal(norm_axes.shared_statistics("GN", 4, 6, 5, groups=6, channel=2), in_)
    # and the counts follow the table: BN sees N*S values, LN C*S, IN S, GN (C/G)*S
    assert norm_axes.shared_statistics("BN", 4, 6, 5).sum() == 4 * 5
    assert ln.sum() == 6 * 5 and in_.sum() == 5
    assert norm_axes.shared_statistics("GN", 4, 6, 5, groups=3).sum() == 2 * 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "XN"},
        {"method": "GN", "groups": 4},
        {"method": "BN", "sample": 3},
        {"method": "BN", "channel": -1},
        {"method": "LN", "samples": 0},
    ],
)
def test_bad_arguments_raise_value_error(kwargs):
    arguments = {"method": "BN", "samples": 3, "channels": 6, "positions": 4} | kwargs
    method = arguments.pop("method")
    with pytest.raises(ValueError):
        norm_axes.shared_statistics(
            method,
            arguments.pop("samples"),
            arguments.pop("channels"),
            arguments.pop("positions"),
            **arguments,
        )


def test_the_drawing_shades_exactly_the_visible_masked_cells():
    from matplotlib.colors import to_rgba

    fig = norm_axes.draw_normalization_axes(groups=3, channel=4, samples=3, channels=6, positions=2)
    shade = to_rgba(norm_axes._SHADE)
    try:
        assert len(fig.axes) == len(norm_axes.METHODS)
        for ax, method in zip(fig.axes, norm_axes.METHODS, strict=True):
            assert ax.get_title().startswith(norm_axes.METHOD_NAMES[method])
            mask = norm_axes.shared_statistics(method, 3, 6, 2, groups=3, channel=4)
            visible = norm_axes._cell_polygons(3, 6, 2, (0.55, 0.45))
            expected = sum(bool(mask[n, c, s]) for _, n, c, s, _ in visible)
            shaded = sum(1 for patch in ax.patches if np.allclose(patch.get_facecolor(), shade))
            assert shaded == expected > 0
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_no_methods_is_an_error():
    with pytest.raises(ValueError):
        norm_axes.draw_normalization_axes(())
