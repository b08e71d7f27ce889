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


def _shaded_cells(ax) -> int:
    from matplotlib.colors import to_rgba

    (collection,) = ax.collections
    shade = to_rgba(norm_axes._SHADE)
    return sum(1 for color in collection.get_facecolor() if np.allclose(color, shade))


def test_the_drawing_shades_exactly_the_visible_masked_cells():
    import matplotlib.pyplot as plt

    figure, update = norm_axes.setup_normalization_axes(samples=3, channels=6, positions=2)
    update(method="all", groups=3, channel=4)
    try:
        shown = [ax for ax in figure.axes if ax.get_visible()]
        assert len(shown) == len(norm_axes.METHODS)
        for ax, method in zip(shown, norm_axes.METHODS, strict=True):
            assert ax.get_title().startswith(norm_axes.METHOD_NAMES[method])
            mask = norm_axes.shared_statistics(method, 3, 6, 2, groups=3, channel=4)
            visible = norm_axes._cell_polygons(3, 6, 2, (0.55, 0.45))
            expected = sum(bool(mask[n, c, s]) for _, n, c, s, _ in visible)
            assert _shaded_cells(ax) == expected > 0
    finally:
        plt.close(figure)


def test_moving_the_channel_or_the_groups_recolours_the_cells():
    import matplotlib.pyplot as plt

    figure, update = norm_axes.setup_normalization_axes()
    try:
        update(method="GN", groups=1, channel=0)
        (large,) = [ax for ax in figure.axes if ax.get_visible()]
        # one group: the whole first sample (LN): its front face, top row and side column
        assert _shaded_cells(large) == 6 * 4 + 6 + 4
        assert large.get_title() == "Group Norm (G = 1)"
        update(method="GN", groups=6, channel=0)
        assert _shaded_cells(large) == 4 + 1  # one channel of one sample (IN): front and top
        assert large.get_title() == "Group Norm (G = 6)"
        first = large.collections[0].get_facecolor().copy()
        update(method="GN", groups=6, channel=3)
        assert not np.array_equal(first, large.collections[0].get_facecolor())
    finally:
        plt.close(figure)


def test_an_unknown_method_is_an_error():
    import matplotlib.pyplot as plt

    figure, update = norm_axes.setup_normalization_axes()
    try:
        with pytest.raises(ValueError, match="method"):
            update(method="RMS", groups=2, channel=0)
    finally:
        plt.close(figure)
