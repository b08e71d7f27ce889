"""The explorer mechanism every lesson widget uses."""

from __future__ import annotations

import base64
import io

import ipywidgets
import matplotlib

from bncourse.lab.explorer import explorer

matplotlib.use("Agg")


def _bars(height: float = 1.0, flag: bool = False):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(2, 2))
    bar = ax.bar([0], [height])[0]
    ax.set_ylim(0, 3)

    def update(height: float = 1.0, flag: bool = False):
        bar.set_height(height)
        return [bar]

    return figure, update


def _shown(output: ipywidgets.Output) -> bytes:
    (item,) = output.outputs
    return base64.b64decode(item["data"]["image/png"])


def test_static_fallback_and_first_view_are_the_same_figure():
    view = explorer({"height": ipywidgets.FloatSlider(value=1.0, max=3.0)}, live=_bars, title="B")
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == view.static_png == _shown(view.output)
    assert "height=1.0" in bundle["text/plain"]


def test_moving_a_control_redraws_with_the_new_value():
    slider = ipywidgets.FloatSlider(value=1.0, max=3.0)
    view = explorer({"height": slider}, live=_bars, title="Bars")
    before = _shown(view.output)
    slider.value = 2.5
    after = _shown(view.output)
    assert after != before
    assert view.values == {"height": 2.5}
    slider.value = 1.0
    assert _shown(view.output) == before  # the same value draws the same picture


def test_controls_wrap_keep_their_labels_and_redraw_on_release():
    slider = ipywidgets.FloatSlider(value=1.0, max=3.0, description="weight scale")
    flag = ipywidgets.Checkbox(value=False, description="BN before each nonlinearity")
    view = explorer({"height": slider, "flag": flag}, live=_bars, title="B")
    panel = view.widget.children[1]
    assert panel.layout.flex_flow == "row wrap"
    assert slider.style.description_width == "initial" and not slider.continuous_update
    assert slider.layout.min_width == "390px"
    assert flag.indent is False


def _live_setup(height: float = 1.0, label: str = "a"):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(3, 2))
    bar = ax.bar([0, 1], [height, 1.0], color="C0")[0]
    title = ax.set_title("")
    ax.plot([0, 1], [2.5, 2.5], label="ceiling")
    ax.legend(loc="upper right")
    ax.set_ylim(0, 3)
    ax.grid(False)  # a grid over the bars would be drawn under them when blitting

    def update(height: float = 1.0, label: str = "a"):
        bar.set_height(height)
        title.set_text(f"bar {label} at {height:.2f}")
        ax.set_ylim(0, 3 if height <= 3 else height + 1)
        return [bar, title]

    return figure, update


def _pixels(png: bytes):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_a_live_redraw_paints_what_a_full_draw_of_the_same_figure_paints():
    height = ipywidgets.FloatSlider(value=1.0, max=5.0)
    label = ipywidgets.Dropdown(options=["a", "b"], value="a")
    view = explorer(controls={"height": height, "label": label}, live=_live_setup, title="Live")
    first = _shown(view.output)
    height.value = 2.5
    height.value = 1.5  # a shorter bar after a taller one: no stale pixels may remain
    label.value = "b"
    blitted = _pixels(_shown(view.output))
    assert view.live.full_redraws == 0
    assert (blitted != _pixels(first)).any()
    for artist in view.live._changing:
        artist.set_animated(False)
    view.live.canvas.draw()
    full = _pixels(view.live.png())
    # Only antialiasing may differ, where a redrawn artist crosses a static one drawn above
    # it (the bar's foot on the x-axis): a handful of pixels, by a few levels.
    differ = abs(blitted - full).max(axis=-1) > 12
    assert differ.mean() < 0.001
    for artist in view.live._changing:
        artist.set_animated(True)


def _moved_axes_only(height: float = 1.0):
    figure, update = _live_setup(height)
    update.moved_axes_only = True
    return figure, update


def test_a_limit_change_redraws_the_whole_figure_unless_update_says_only_limits_change():
    height = ipywidgets.FloatSlider(value=1.0, max=5.0)
    view = explorer({"height": height}, live=lambda height: _live_setup(height), title="L")
    height.value = 4.5
    assert (view.live.full_redraws, view.live.axes_redraws) == (1, 0)


def test_a_redraw_that_moves_an_axis_draws_that_axes_again_as_a_full_draw_would():
    height = ipywidgets.FloatSlider(value=1.0, max=5.0)
    view = explorer({"height": height}, live=_moved_axes_only, title="L")
    height.value = 4.5  # the update widens the y-axis: its ticks must be drawn again
    assert (view.live.axes_redraws, view.live.full_redraws) == (1, 0)
    moved = _pixels(_shown(view.output))
    for artist in view.live._changing:
        artist.set_animated(False)
    view.live.canvas.draw()
    full = _pixels(view.live.png())
    for artist in view.live._changing:
        artist.set_animated(True)
    assert (abs(moved - full).max(axis=-1) > 12).mean() < 0.001  # no stale tick labels
    height.value = 1.0
    height.value = 2.0
    assert view.live.axes_redraws == 2  # back to (0, 3) once, then blitting again
