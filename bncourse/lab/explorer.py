"""Interactive explorers for the lessons, built on one mechanism.

An explorer is a drawing function (keyword arguments -> matplotlib Figure) plus
ipywidgets controls. In JupyterLab the learner moves the controls and the figure redraws.
Without a widget front end (nbval, nbconvert, a plain terminal) the same output carries a
static PNG of the figure at the controls' starting values, so notebooks still run headless
and exported notebooks still show something real.

Lesson-specific explorers live in this package's submodules (one per topic); they all
call ``explorer`` below. ipywidgets and matplotlib are imported on first use.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

__all__ = ["Explorer", "explorer", "figure_png", "fit_control", "SLIDER_WIDTH"]


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed afterwards)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


SLIDER_WIDTH = "390px"
"""Room for a slider: its label in full, a track of at least 200 px and its readout."""

_SLIDERS = ("IntSlider", "FloatSlider", "FloatLogSlider", "SelectionSlider", "IntRangeSlider")


def fit_control(control: Any) -> Any:
    """Lay a control out for the explorer's wrapping panel, in place; returns it.

    Labels are shown in full (``description_width="initial"``), sliders keep a track of
    at least 200 px at any window width (they wrap onto the next row instead of shrinking),
    and sliders redraw when released rather than at every pixel of a drag.
    """
    name = type(control).__name__
    control.layout.margin = "2px 18px 2px 0"
    if hasattr(control, "style") and hasattr(control.style, "description_width"):
        control.style.description_width = "initial"
    if name in _SLIDERS:
        control.layout.width = SLIDER_WIDTH
        control.layout.min_width = SLIDER_WIDTH
        control.continuous_update = False
    elif name in ("Dropdown", "ToggleButtons", "RadioButtons"):
        control.layout.width = "auto"
        control.layout.min_width = "220px"
    elif name == "Checkbox":
        control.indent = False
        control.layout.width = "auto"
    return control


class Explorer:
    """The object a lesson displays: a widget with a static fallback."""

    def __init__(
        self,
        draw: Callable[..., Any],
        controls: dict[str, Any],
        *,
        title: str,
        description: str = "",
    ) -> None:
        import ipywidgets as widgets

        self.draw = draw
        self.controls = controls
        self.title = title
        self.description = description
        self.output = widgets.Output()
        header = widgets.HTML(f"<b>{title}</b>" + (f"<br>{description}" if description else ""))
        for control in controls.values():
            fit_control(control)
        panel = widgets.HBox(
            list(controls.values()),
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.widget = widgets.VBox([header, panel, self.output])
        self.static_png = figure_png(self.draw(**self.values))
        for control in controls.values():
            control.observe(self._redraw, names="value")
        self._show(self.static_png)  # the first view is the static figure: drawn once

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _redraw(self, change: Any = None) -> None:
        self._show(figure_png(self.draw(**self.values)))

    def _show(self, png: bytes) -> None:
        # Set the Output widget's contents directly rather than display() inside
        # `with self.output:`, so no display messages are routed through the kernel while
        # a cell runs (headless runners such as nbclient have been seen to stall on them).
        image = base64.b64encode(png).decode("ascii")
        self.output.outputs = (
            {"output_type": "display_data", "data": {"image/png": image}, "metadata": {}},
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["image/png"] = base64.b64encode(self.static_png).decode("ascii")
        settings = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        bundle["text/plain"] = f"{self.title} (interactive in JupyterLab; shown at {settings})"
        return bundle


def explorer(
    draw: Callable[..., Any],
    controls: dict[str, Any],
    *,
    title: str,
    description: str = "",
) -> Explorer:
    """Build an explorer: ``draw(**{name: control.value})`` must return a Figure."""
    return Explorer(draw, controls, title=title, description=description)
