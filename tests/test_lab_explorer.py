"""The explorer mechanism every lesson widget uses."""

from __future__ import annotations

import base64

import ipywidgets
import matplotlib

from bncourse.lab.explorer import explorer

matplotlib.use("Agg")


def _draw(height: float = 1.0):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(2, 2))
    ax.bar([0], [height])
    ax.set_ylim(0, 3)
    return figure


def _shown(output: ipywidgets.Output) -> bytes:
    (item,) = output.outputs
    return base64.b64decode(item["data"]["image/png"])


def test_static_fallback_and_first_view_are_the_same_figure():
    view = explorer(_draw, {"height": ipywidgets.FloatSlider(value=1.0, max=3.0)}, title="Bars")
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == view.static_png == _shown(view.output)
    assert "height=1.0" in bundle["text/plain"]


def test_moving_a_control_redraws_with_the_new_value():
    slider = ipywidgets.FloatSlider(value=1.0, max=3.0)
    view = explorer(_draw, {"height": slider}, title="Bars")
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
    view = explorer(lambda height, flag: _draw(height), {"height": slider, "flag": flag}, title="B")
    panel = view.widget.children[1]
    assert panel.layout.flex_flow == "row wrap"
    assert slider.style.description_width == "initial" and not slider.continuous_update
    assert slider.layout.min_width == "390px"
    assert flag.indent is False
