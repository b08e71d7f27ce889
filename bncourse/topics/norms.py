"""Lesson 09 (beyond BN): which values share one mean and one variance in BN, LN, IN and GN.

A batch of feature maps has a batch axis N, a channel axis C and spatial axes H, W. Each
normalization method averages over a different part of that block (Wu & He, 2018,
"Group Normalization", Figure 2):

* Batch Norm: one channel, over every sample and every position;
* Layer Norm: one sample, over every channel and every position;
* Instance Norm: one sample and one channel, over every position;
* Group Norm: one sample and one group of consecutive channels, over every position.

``shared_statistics`` returns that set as a boolean mask; ``setup_normalization_axes`` draws
it on cubes (N into the page, C across, H and W flattened upwards), shaded like Wu & He's
figure but drawn by our own code, and recolours them in place. ``axes_explorer`` shows those
cubes with a method selector, the number of groups and the channel to highlight. matplotlib
and ipywidgets are imported only when drawing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bncourse.lab.explorer import Explorer, explorer

__all__ = [
    "METHODS",
    "METHOD_NAMES",
    "shared_statistics",
    "setup_normalization_axes",
    "axes_explorer",
]


METHODS = ("BN", "LN", "IN", "GN")
METHOD_NAMES = {
    "BN": "Batch Norm",
    "LN": "Layer Norm",
    "IN": "Instance Norm",
    "GN": "Group Norm",
}

_LABEL_PT = 9  # axis labels on the cubes: at least 9 pt as displayed
_WIDE = 9.0  # inches: four cubes side by side (wider figures get shrunk in JupyterLab)
_SHADE = "#56B4E9"  # sky blue: the values that share one mean and variance
_FACE = "#FFFFFF"
_EDGE = "#555555"


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def shared_statistics(
    method: str,
    samples: int,
    channels: int,
    positions: int,
    *,
    groups: int = 2,
    sample: int = 0,
    channel: int = 0,
) -> np.ndarray:
    """The values normalized with the same mean and variance as ``(sample, channel)``.

    Returns a boolean array of shape ``(samples, channels, positions)``; ``positions`` is
    height times width (flattened). ``groups`` is used by ``"GN"`` only and must divide
    ``channels``; the group holding ``channel`` is shaded.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    samples = _positive_int(samples, "samples")
    channels = _positive_int(channels, "channels")
    positions = _positive_int(positions, "positions")
    if not 0 <= sample < samples or not 0 <= channel < channels:
        raise ValueError(
            f"sample and channel must index the block ({samples} samples, {channels} channels); "
            f"got sample={sample}, channel={channel}"
        )
    same_sample = np.arange(samples)[:, None, None] == sample
    same_channel = np.arange(channels)[None, :, None] == channel
    if method == "BN":
        mask = np.broadcast_to(same_channel, (samples, channels, positions))
    elif method == "LN":
        mask = np.broadcast_to(same_sample, (samples, channels, positions))
    elif method == "IN":
        mask = np.broadcast_to(same_sample & same_channel, (samples, channels, positions))
    else:
        groups = _positive_int(groups, "groups")
        if channels % groups:
            raise ValueError(f"groups must divide channels ({channels}); got {groups}")
        size = channels // groups
        same_group = (np.arange(channels) // size)[None, :, None] == channel // size
        mask = np.broadcast_to(same_sample & same_group, (samples, channels, positions))
    return np.array(mask, dtype=bool)


def _cell_polygons(
    samples: int, channels: int, positions: int, depth: tuple[float, float]
) -> list[tuple[str, int, int, int, np.ndarray]]:
    """The visible cells of the cube: (face, n, c, s, corners) in drawing order."""
    dx, dy = depth
    cells = []
    for n in range(samples - 1, -1, -1):  # back to front on the top and side faces
        for c in range(channels):  # top face: s = positions - 1
            top = positions
            corners = np.array(
                [
                    (c + n * dx, top + n * dy),
                    (c + 1 + n * dx, top + n * dy),
                    (c + 1 + (n + 1) * dx, top + (n + 1) * dy),
                    (c + (n + 1) * dx, top + (n + 1) * dy),
                ]
            )
            cells.append(("top", n, c, positions - 1, corners))
        for s in range(positions):  # right face: c = channels - 1
            corners = np.array(
                [
                    (channels + n * dx, s + n * dy),
                    (channels + (n + 1) * dx, s + (n + 1) * dy),
                    (channels + (n + 1) * dx, s + 1 + (n + 1) * dy),
                    (channels + n * dx, s + 1 + n * dy),
                ]
            )
            cells.append(("side", n, channels - 1, s, corners))
    for c in range(channels):  # front face: n = 0
        for s in range(positions):
            corners = np.array([(c, s), (c + 1, s), (c + 1, s + 1), (c, s + 1)], dtype=float)
            cells.append(("front", 0, c, s, corners))
    return cells


def _draw_cube(
    ax: Any,
    samples: int,
    channels: int,
    positions: int,
    depth: tuple[float, float] = (0.55, 0.45),
) -> tuple[Any, list[tuple[int, int, int]]]:
    """An unshaded cube in ``ax``: one PolyCollection of its visible cells, whose face colours
    ``_shade`` sets later, plus the arrows and labels of its axes. Returns the collection and
    the (n, c, s) index of each of its cells."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import FancyArrowPatch

    cells = _cell_polygons(samples, channels, positions, depth)
    collection = PolyCollection(
        [corners for *_, corners in cells], facecolors=_FACE, edgecolors=_EDGE, linewidths=0.6
    )
    ax.add_collection(collection)
    dx, dy = depth
    arrow = {"arrowstyle": "->", "mutation_scale": 10, "color": "#222222", "lw": 1.0}
    arrow.update(shrinkA=0, shrinkB=0)  # no clipping of the arrows' ends: faster to draw
    # C: along the bottom edge of the front face
    ax.add_patch(FancyArrowPatch((0, -0.6), (channels, -0.6), **arrow))
    ax.text(channels / 2, -1.0, "C (channels)", ha="center", va="top", fontsize=_LABEL_PT)
    # H, W: up the left edge of the front face
    ax.add_patch(FancyArrowPatch((-0.6, 0), (-0.6, positions), **arrow))
    ax.text(-1.0, positions / 2, "H, W", ha="right", va="center", fontsize=_LABEL_PT, rotation=90)
    # N: into the page, along the top-left edge
    start = (0, positions + 0.35)
    end = (samples * dx, positions + 0.35 + samples * dy)
    ax.add_patch(FancyArrowPatch(start, end, **arrow))
    ax.text(end[0] - 0.2, end[1] + 0.25, "N (batch)", ha="right", va="bottom", fontsize=_LABEL_PT)
    ax.set_xlim(-1.8, channels + samples * dx + 0.6)
    ax.set_ylim(-1.9, positions + samples * dy + 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_xticks([])  # no ticks to place at every draw
    ax.set_yticks([])
    return collection, [(n, c, s) for _, n, c, s, _ in cells]


def _shade(collection: Any, cells: list[tuple[int, int, int]], mask: np.ndarray) -> None:
    collection.set_facecolor([_SHADE if mask[cell] else _FACE for cell in cells])


def _cube_title(method: str, groups: int) -> str:
    return METHOD_NAMES[method] + (f" (G = {groups})" if method == "GN" else "")


_CHANNELS = 6
_HEIGHT = 3.3  # inches: one line of figure title, then the cubes


def setup_normalization_axes(
    method: str = "all",
    groups: int = 2,
    channel: int = 0,
    *,
    samples: int = 4,
    channels: int = _CHANNELS,
    positions: int = 4,
) -> tuple[Any, Any]:
    """The explorer's figure, built once: shaded cells share one mean and variance.

    ``method`` is ``"all"`` (one cube per method, side by side) or one of ``METHODS`` (that
    cube alone, larger). The front face is the first sample (every channel and position);
    ``channel`` picks the channel (or, for GN, its group) that is shaded. Returns
    ``(figure, update)``; ``update(method=..., groups=..., channel=...)`` recolours the cells
    and shows the cubes asked for (``bncourse.lab.explorer.LiveFigure``). 9 inches wide, with
    room for every title at every control value.
    """
    import matplotlib.pyplot as plt

    from bncourse import plotting

    plotting.use_style()
    figure = plt.figure(figsize=(_WIDE, _HEIGHT), layout="none")
    # Four cubes in a row, and one larger cube in the middle for a single method; the
    # top 0.5 inch holds the figure's title, each cube's title sits just above its cube.
    top = 1 - 0.5 / _HEIGHT
    small = [figure.add_axes((0.01 + 0.25 * i, 0.02, 0.23, top - 0.1)) for i in range(4)]
    large = figure.add_axes((0.2, 0.02, 0.6, top - 0.1))
    panels = []
    for ax in [*small, large]:
        collection, cells = _draw_cube(ax, samples, channels, positions)
        panels.append((ax, collection, cells))
    for ax, method in zip(small, METHODS, strict=True):
        ax.set_title(_cube_title(method, groups))
    block = f"a block of {samples} samples × {channels} channels × {positions} positions"
    figure.suptitle(
        f"Shaded: the values that share one mean and one variance ({block})",
        fontsize=10,
        y=1 - 0.12 / _HEIGHT,
        va="top",
    )

    def update(method: str = "all", groups: int = 2, channel: int = 0) -> list[Any]:
        if method != "all" and method not in METHODS:
            raise ValueError(f"method must be 'all' or one of {METHODS}; got {method!r}")
        one = method != "all"
        for ax in small:
            ax.set_visible(not one)
        large.set_visible(one)
        shown = [(method, panels[4])] if one else list(zip(METHODS, panels[:4], strict=True))
        changing = []
        for name, (ax, collection, cells) in shown:
            mask = shared_statistics(
                name, samples, channels, positions, groups=groups, channel=channel
            )
            _shade(collection, cells, mask)
            changing.append(collection)
            if one or name == "GN":  # the other titles never change
                ax.title.set_text(_cube_title(name, groups))
                changing.append(ax.title)
        # The same artists for every value of one kind of view (four cubes, or one): the
        # colours and a title redraw in place; switching between the two kinds of view draws
        # the whole figure again (LiveFigure notices the other artists).
        return changing

    return figure, update


def axes_explorer() -> Explorer:
    """Pick a method (or all four), the number of GN groups and the highlighted channel."""
    import ipywidgets as widgets

    controls = {
        "method": widgets.Dropdown(
            options=[("all four", "all")] + [(METHOD_NAMES[m], m) for m in METHODS],
            value="all",
            description="method",
        ),
        "groups": widgets.Dropdown(
            options=[g for g in range(1, _CHANNELS + 1) if _CHANNELS % g == 0],
            value=2,
            description="GN groups",
        ),
        "channel": widgets.IntSlider(value=0, min=0, max=_CHANNELS - 1, description="channel"),
    }
    return explorer(
        controls=controls,
        live=setup_normalization_axes,
        title="Which values share one mean and variance?",
        description=(
            "Shaded cells are normalized together. Try GN with 1 group and with "
            f"{_CHANNELS} groups, and compare with LN and IN."
        ),
    )
