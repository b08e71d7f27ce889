"""Interactive explorers for the lessons, built on one mechanism.

An explorer is a figure plus ipywidgets controls. In JupyterLab the learner moves the
controls and the figure redraws. Without a widget front end (nbval, nbconvert, a plain
terminal) the same output carries a static PNG of the figure at the controls' starting
values, so notebooks still run headless and exported notebooks still show something real.

The figure redraws in place, well inside the 300 ms budget: ``setup(**values)`` builds it
once (axes, labels, fixed limits, legends) and returns it with an ``update(**values)``
function that changes the data of some artists and returns them. The layout is solved
once; a redraw pastes the saved background and draws only the artists ``update``
returned (blitting). When ``update`` changes an axis' limits or returns other artists than
before, the whole figure is drawn again, still in the frozen layout, so the picture is
always right, only slower (about 0.3 to 0.5 s on 2 cores).

Lesson-specific explorers live in ``bncourse.topics`` (one module per topic); they all
call ``explorer`` below. ipywidgets and matplotlib are imported on first use.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Explorer",
    "LiveFigure",
    "explorer",
    "fit_control",
    "SLIDER_WIDTH",
]


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


Update = Callable[..., Sequence[Any]]
"""``update(**values)``: change some artists' data for these control values; return them."""


class LiveFigure:
    """A figure drawn once whose changing artists are redrawn in place (blitting).

    ``setup(**values)`` returns ``(figure, update)``. When ``update`` changes nothing but
    the artists it returns and axis limits, it may say so (``update.moved_axes_only =
    True``): a limit change then draws only the axes that moved again, not the whole
    figure; without it, a limit change redraws everything, so other static changes (a
    switched contour set, a relabelled axis) show too. The figure is taken from pyplot (so
    the notebook does not also show it), given its own Agg canvas, laid out once with its
    layout engine and then frozen. ``render(**values)`` returns the PNG for those values.
    """

    def __init__(self, setup: Callable[..., tuple[Any, Update]], values: dict[str, Any]):
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure, self._update = setup(**values)
        plt.close(self.figure)
        self.canvas = FigureCanvasAgg(self.figure)
        self._changing: list[Any] = []
        self._pasted: list[Any] = []
        self._legend_pixels: list[Any] = []
        self._background: Any = None
        self._limits: list[Any] = []
        self.full_redraws = 0
        self.axes_redraws = 0  # redraws of only the axes whose limits moved
        self._areas: dict[Any, Any] = {}
        artists = self._update(**values)
        self.canvas.draw()  # solves the layout once, with every artist in it
        self.figure.set_layout_engine("none")
        self._changing = self._animate(artists)
        self._draw_background()

    def _animate(self, artists: Sequence[Any]) -> list[Any]:
        """The changing artists in drawing order. A legend that sits over the data of an
        axes they are drawn in is not drawn again: it gets an opaque white box, and its
        pixels are pasted back over the redrawn data (drawing text is the slowest part of a
        redraw). A legend whose text ``update`` changes must be among the returned artists
        itself: its old text is otherwise in the background."""
        chosen = self._in_order(artists)
        renderer = self.canvas.get_renderer()
        self._pasted = []
        for ax in dict.fromkeys(getattr(artist, "axes", None) for artist in chosen):
            legend = getattr(ax, "legend_", None)
            if legend is None or legend in chosen or legend in self._pasted:
                continue
            if legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)):
                legend.set_frame_on(True)
                legend.get_frame().set_facecolor("white")
                legend.get_frame().set_edgecolor("none")
                legend.get_frame().set_alpha(1.0)
                self._pasted.append(legend)
        for artist in chosen:
            artist.set_animated(True)
        return chosen

    @staticmethod
    def _in_order(artists: Sequence[Any]) -> list[Any]:
        return sorted(dict.fromkeys(artists), key=lambda artist: artist.get_zorder())

    def _view_limits(self) -> list[Any]:
        return [(ax.get_xlim(), ax.get_ylim()) for ax in self.figure.get_axes()]

    def _draw_background(self) -> None:
        self.canvas.draw()  # animated artists are left out of a full draw
        self._keep_background()

    def _redraw_axes(self, changed: list[Any]) -> None:
        """Draw only the axes whose limits moved again, each over the area its old and new
        ticks, labels and title take (the frozen layout keeps axes apart), then keep the
        result as the background: a fraction of a full draw."""
        from matplotlib.patches import Rectangle
        from matplotlib.transforms import Bbox, IdentityTransform

        renderer = self.canvas.get_renderer()
        self.canvas.restore_region(self._background)
        for ax in changed:
            now = ax.get_tightbbox(renderer)
            area = Bbox.union([self._areas[ax], now]).padded(2)
            self._areas[ax] = now
            blank = Rectangle(
                (area.x0, area.y0),
                area.width,
                area.height,
                transform=IdentityTransform(),
                facecolor=self.figure.get_facecolor(),
                edgecolor="none",
            )
            blank.set_figure(self.figure)
            blank.draw(renderer)
            ax.draw(renderer)
        self._keep_background(areas=False)

    def _keep_background(self, *, areas: bool = True) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        renderer = self.canvas.get_renderer()
        if areas:  # what each axes covers with its ticks, labels and title
            self._areas = {ax: ax.get_tightbbox(renderer) for ax in self.figure.get_axes()}
        self._legend_pixels = [
            self.canvas.copy_from_bbox(legend.get_window_extent(renderer).padded(1))
            for legend in self._pasted
        ]
        self._limits = self._view_limits()

    def render(self, **values: Any) -> bytes:
        """Update the artists for these values and return the picture as PNG bytes."""
        changing = self._in_order(self._update(**values))
        limits = self._view_limits()
        partial = getattr(self._update, "moved_axes_only", False)
        if changing != self._changing or (limits != self._limits and not partial):
            for artist in self._changing:
                artist.set_animated(False)
            self._changing = self._animate(changing)
            self.full_redraws += 1
            self._draw_background()
        elif limits != self._limits:
            moved = [
                ax
                for ax, now, before in zip(
                    self.figure.get_axes(), limits, self._limits, strict=True
                )
                if now != before
            ]
            self.axes_redraws += 1
            self._redraw_axes(moved)
        else:
            self.canvas.restore_region(self._background)
        for artist in self._changing:
            self.figure.draw_artist(artist)
        for pixels in self._legend_pixels:  # legends over the data: pasted, not redrawn
            self.canvas.restore_region(pixels)
        return self.png()

    def png(self) -> bytes:
        """The canvas as it stands, as PNG bytes (fast compression: the picture is large
        and redrawn often)."""
        from PIL import Image

        rgba = self.canvas.buffer_rgba()
        image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


class Explorer:
    """The object a lesson displays: a widget with a static fallback."""

    def __init__(
        self,
        controls: dict[str, Any],
        *,
        live: Callable[..., tuple[Any, Update]],
        title: str,
        description: str = "",
    ) -> None:
        import ipywidgets as widgets

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
        self.live = LiveFigure(live, self.values)
        self.static_png = self.picture()
        for control in controls.values():
            control.observe(self._redraw, names="value")
        self._show(self.static_png)  # the first view is the static figure: drawn once

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def picture(self) -> bytes:
        """The figure at the controls' current values, as PNG bytes."""
        return self.live.render(**self.values)

    def _redraw(self, change: Any = None) -> None:
        self._show(self.picture())

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
    controls: dict[str, Any],
    *,
    live: Callable[..., tuple[Any, Update]],
    title: str,
    description: str = "",
) -> Explorer:
    """Build an explorer from ``controls`` ({name: ipywidgets control}) and ``live=setup``:
    ``setup(**values)`` returns ``(figure, update)``, and ``update(**values)`` changes
    artists in place and returns them (see ``LiveFigure``)."""
    return Explorer(controls, live=live, title=title, description=description)
