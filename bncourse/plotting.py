"""The course's one plotting style, and the few plot shapes several lessons share.

matplotlib is imported when a function here is first called, never by ``import bncourse``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["COLORS", "use_style", "subplots", "mean_with_spread", "finish", "figure_alt_text"]

# Okabe & Ito's color-blind-safe palette, with names for the roles colors play here.
COLORS = {
    "with_bn": "#0072B2",  # blue
    "without_bn": "#D55E00",  # vermillion
    "alt": "#009E73",  # green
    "alt2": "#CC79A7",  # purple
    "neutral": "#666666",
    "highlight": "#E69F00",  # orange
    "light": "#56B4E9",  # sky blue
}
_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Apply the course style to matplotlib (idempotent). Lessons call it once at the top."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 90,
            "figure.constrained_layout.use": True,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.prop_cycle": mpl.cycler(color=_CYCLE),
            "image.cmap": "viridis",
        }
    )


def figure_alt_text(figure: Any) -> str:
    """A figure's titles (the figure's own, then each panel's), as a figure's alt text."""
    titles = []
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        titles.append(suptitle.get_text().strip())
    for ax in figure.get_axes():
        title = ax.get_title().strip()
        if title and title not in titles:
            titles.append(title)
    text = "; ".join(" ".join(t.split()) for t in titles)
    return text or "A figure without a title"


def _describe_figures_in_notebooks() -> None:
    """In a notebook, give every displayed figure its titles as alt text (image metadata).

    The course site's pages use it for the images' alt attribute. Wraps the PNG formatter
    the inline backend registered; does nothing outside IPython or when already done.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        current = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(current, "_bncourse_alt", False):
        return

    def png_with_alt(figure: Any) -> Any:
        data = current(figure)
        if data is None or isinstance(data, tuple):
            return data
        return data, {"alt": figure_alt_text(figure)}

    png_with_alt._bncourse_alt = True  # type: ignore[attr-defined]
    formatter.for_type(Figure, png_with_alt)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float | None = None, **kwargs: Any):
    """``plt.subplots`` in the course style; ``width`` in inches (height follows the grid)."""
    import matplotlib.pyplot as plt

    use_style()
    if width is not None and "figsize" not in kwargs:
        kwargs["figsize"] = (width, max(2.6, width * 0.62 * nrows / max(ncols, 1)))
    figure_and_axes = plt.subplots(nrows, ncols, squeeze=False, **kwargs)
    _describe_figures_in_notebooks()  # after the first figure: the backend is set up by then
    return figure_and_axes


def mean_with_spread(
    ax: Any,
    x: Sequence[float] | np.ndarray,
    runs: Sequence[Sequence[float]] | np.ndarray,
    *,
    label: str,
    color: str | None = None,
    spread: str = "minmax",
    marker: str | None = None,
    linestyle: str = "-",
) -> None:
    """Plot the mean over runs (one row per seed) with a shaded band.

    ``spread="minmax"`` shades between the lowest and highest run (honest with 3 to 5
    seeds); ``spread="std"`` shades one standard deviation either side. NaN entries
    (a diverged run) are left out of the mean at that point.
    """
    values = np.asarray(runs, dtype=np.float64)
    if values.ndim == 1:
        values = values[np.newaxis, :]
    with np.errstate(all="ignore"), _quiet_nan_warnings():
        mean = np.nanmean(values, axis=0)
        if spread == "std":
            deviation = np.nanstd(values, axis=0)
            low, high = mean - deviation, mean + deviation
        else:
            low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    n = values.shape[0]
    (line,) = ax.plot(
        x, mean, label=f"{label} (mean of {n})", color=color, marker=marker, linestyle=linestyle
    )
    if n > 1:
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def finish(ax: Any, *, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    """Every figure gets a title and axis labels, and a legend when it has labeled lines."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()


class _quiet_nan_warnings:
    """Silence NumPy's 'mean of empty slice' warnings for all-NaN columns."""

    def __enter__(self) -> None:
        import warnings

        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)
