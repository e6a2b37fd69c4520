"""Plots for the report: matplotlib (Agg, no display) drawn to inline SVG, and arrays to PNG bytes.

An inline SVG from matplotlib needs three changes to live inside an HTML page beside other plots:
- its XML prologue, DOCTYPE, metadata and namespace declarations go (they name w3.org and matplotlib.org
  URLs, and an inline SVG in HTML needs none of them);
- its ids (markers, clip paths) get a per-figure prefix, because two figures can draw the same marker and
  duplicate ids in one page make a <use> point into the wrong figure;
- its global `*{...}` style goes (it would apply to the whole page); the report's CSS carries it instead.

    plot = Plot(6, 3)
    with plot as ax:
        ax.plot(steps, losses)
    plot.svg                 # '<svg width="800" viewBox=...>...</svg>'
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any, Sequence

import numpy as np

_counter = itertools.count(1)

COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#db2777", "#475569",
           "#ca8a04", "#1e3a8a", "#7f1d1d"]


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported on first use: it takes a good part of a second)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "svg.fonttype": "none",
         "legend.frameon": False}
FEW_POINTS = 4  # a line of fewer points gets dots
WIDE = 9.5  # inches: a full-width plot (drawn at 96 px per inch at most)


def text(value: object) -> str:
    """User text (a class or column name) for a plot label: "$" is a dollar sign, not the start of maths."""
    return str(value).replace("$", r"\$")


class Plot:
    """A figure in the report's plain style, drawn inside `with` (the style applies there) and kept as SVG.

        plot = Plot(7, 3)
        with plot as ax:
            ax.plot(steps, losses)
        plot.svg          # '<svg ...>...</svg>'
    """

    def __init__(self, width: float = 7.0, height: float = 3.2, ncols: int = 1, png: bool = False):
        self.size, self.ncols, self.png = (width, height), ncols, png
        self.svg = ""
        self.png_bytes = b""

    def __enter__(self) -> Any:
        plt = pyplot()
        self._style = plt.rc_context(STYLE)
        self._style.__enter__()
        self.fig, axes = plt.subplots(1, self.ncols, figsize=self.size, squeeze=self.ncols == 1)
        self.axes = [axes] if self.ncols == 1 else list(axes[0])
        for ax in self.axes:
            _style(ax)
        return self.axes[0] if self.ncols == 1 else self.axes

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            if kind is None:
                if self.png:
                    self.png_bytes = to_png(self.fig)
                else:
                    self.svg = to_svg(self.fig)
        finally:
            pyplot().close(self.fig)
            self._style.__exit__(None, None, None)


def line(ax: Any, xs: Sequence[float], ys: Sequence[float], **style: Any) -> None:
    """A line that stays visible with one or two points (dots are drawn where points are few)."""
    if len(xs) < FEW_POINTS and "marker" not in style:
        style["marker"] = "o"
        style.setdefault("markersize", 4)
    ax.plot(xs, ys, **style)


def whole_numbers(ax: Any) -> None:
    """Ticks on whole numbers only: steps and epochs."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    low, high = ax.get_xlim()
    if high - low < 2:  # one epoch: a range with no whole number inside would get fractional ticks anyway
        middle = round((low + high) / 2)
        ax.set_xlim(middle - 1, middle + 1)


def _style(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_prop_cycle(color=COLOURS)


def to_svg(fig: Any) -> str:
    """The figure as an inline <svg> element (see the module docstring), and the figure closed."""
    plt = pyplot()
    buffer = io.StringIO()
    fig.tight_layout()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"ds{next(_counter)}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return clean_svg(buffer.getvalue(), prefix=f"f{next(_counter)}-")


def clean_svg(svg: str, prefix: str) -> str:
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style type=\"text/css\">.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r"\s+xmlns(:\w+)?=\"[^\"]*\"", "", svg)
    svg = re.sub(r"\bid=\"([^\"]+)\"", lambda m: f"id=\"{prefix}{m.group(1)}\"", svg)
    svg = re.sub(r"xlink:href=\"#([^\"]+)\"", lambda m: f"href=\"#{prefix}{m.group(1)}\"", svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    # scale with the page: the viewBox keeps the proportions; the natural size is the largest it gets
    match = re.match(r"<svg([^>]*?)width=\"([\d.]+)pt\" height=\"([\d.]+)pt\"", svg)
    if match:
        width = float(match.group(2))
        svg = svg.replace(match.group(0), f"<svg{match.group(1)}width=\"{width * 4 / 3:.0f}\"", 1)
    return svg


def to_png(fig: Any, dpi: int = 100) -> bytes:
    plt = pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def array_png(pixels: np.ndarray) -> bytes:
    """(H, W) or (H, W, C) uint8 pixels as PNG bytes."""
    from PIL import Image

    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return buffer.getvalue()


def heat_png(values: np.ndarray, colormap: str = "magma", flip: bool = True,
             size: tuple[int, int] | None = None) -> bytes:
    """A 2-D float array (e.g. a spectrogram, (F, T)) as a PNG through a colormap; low rows at the bottom;
    resized (smoothly) to `size` = (width, height) pixels when given."""
    from matplotlib import colormaps
    from PIL import Image

    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    rgba = colormaps[colormap](np.nan_to_num(scaled))  # (F, T, 4) floats
    pixels = (rgba[..., :3] * 255).astype(np.uint8)
    pixels = np.ascontiguousarray(pixels[::-1] if flip else pixels)
    if size is not None:
        pixels = np.asarray(Image.fromarray(pixels).resize(size, Image.BILINEAR))
    return array_png(pixels)


def thin(names: Sequence[str], limit: int) -> list[str]:
    """At most `limit` of `names`, evenly spread, the first and the last always kept (for one line per layer)."""
    if len(names) <= limit:
        return list(names)
    index = np.unique(np.linspace(0, len(names) - 1, limit).round().astype(int))
    return [names[i] for i in index]
