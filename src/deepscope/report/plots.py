"""Every plot deepscope draws: the report's (matplotlib on Agg, no display, to inline SVG; arrays to PNG bytes)
and the PNG files the commands write (`write_png`, atomically): the learning-rate range test, the learning
curve, and a metric across runs.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.diagnose.lr_range import LRFindResult
from deepscope.diagnose.scaling import power_law, score_of
from deepscope.io import atomic_write
from deepscope.training.callbacks.lr_finder import DIVERGENCE_FACTOR

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


def min_max_envelope(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A long series for a plot of `bins` pixel columns: each column's centre (in steps), lowest and highest value,
    so that peaks survive (a mean or every n-th point would drop them). Missing values (NaN) are skipped.

    >>> centres, low, high = min_max_envelope(np.arange(10.0), 5)
    >>> centres.tolist(), low.tolist(), high.tolist()
    ([0.5, 2.5, 4.5, 6.5, 8.5], [0.0, 2.0, 4.0, 6.0, 8.0], [1.0, 3.0, 5.0, 7.0, 9.0])
    """
    values = np.asarray(values, dtype=float)
    if len(values) <= bins:
        steps = np.arange(len(values), dtype=float)
        return steps, values, values
    edges = np.linspace(0, len(values), bins + 1).astype(int)
    parts = [values[a:b] for a, b in zip(edges[:-1], edges[1:])]
    with np.errstate(all="ignore"):
        low = np.array([np.nanmin(p) if np.isfinite(p).any() else np.nan for p in parts])
        high = np.array([np.nanmax(p) if np.isfinite(p).any() else np.nan for p in parts])
    return (edges[:-1] + edges[1:] - 1) / 2, low, high


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


_SUPERSCRIPTS = str.maketrans("-−0123456789", "⁻⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_SCIENTIFIC = re.compile(r"\$\\mathdefault\{(?:(.+?)\\times)?10\^\{(.+?)\}\}\$")


def log_scale(ax: Any, axis: str = "y") -> None:
    """A log scale on `axis` ("x" or "y") with matplotlib's tick labels written as plain text ("10⁻³",
    "2×10⁻¹"): the same labels, but drawn without matplotlib's mathtext parser, which costs the first
    log plot of a process 0.7 s and every later one a few tenths."""
    from matplotlib.ticker import LogFormatterSciNotation

    class Plain(LogFormatterSciNotation):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return plain_label(super().__call__(x, pos))

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(Plain(base=10))
    target.set_minor_formatter(Plain(base=10, labelOnlyBase=False))  # what matplotlib's log scale sets


def plain_label(label: str) -> str:
    """"$\\mathdefault{2\\times10^{-1}}$" -> "2×10⁻¹"; other labels as they are."""
    match = _SCIENTIFIC.fullmatch(label)
    if not match:
        return label
    coefficient, exponent = match.groups()
    return f"{coefficient + chr(0xd7) if coefficient else ''}10{exponent.translate(_SUPERSCRIPTS)}"


def thin(names: Sequence[str], limit: int) -> list[str]:
    """At most `limit` of `names`, evenly spread, the first and the last always kept (for one line per layer)."""
    if len(names) <= limit:
        return list(names)
    index = np.unique(np.linspace(0, len(names) - 1, limit).round().astype(int))
    return [names[i] for i in index]


# --- PNG files the commands write -----------------------------------------------------------------------------------
def write_png(figure: Any, path: str | Path, dpi: int = 100) -> Path:
    """Save a matplotlib Figure as PNG atomically: a reader never sees half a file. A figure made with a layout
    engine of its own (constrained layout, which makes room for colour bars) keeps it."""
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=dpi))


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # no pyplot: no display needed, and no global figure state

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def grid_figure(rows: int, cols: int, width: float, height: float, **options: Any) -> tuple[Any, np.ndarray]:
    """A figure with a (rows, cols) array of axes, in constrained layout (it leaves room for colour bars)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(rows, cols, squeeze=False, **options)


def plot_lr_find(result: LRFindResult, path: str | Path) -> Path:
    """The loss against the learning rate (log scale), with the suggestion marked."""
    figure, axes = _figure(6.4, 4.2)
    axes.plot(result.lrs, result.losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="loss per batch")
    axes.plot(result.lrs, result.smoothed, color="tab:blue", label="smoothed loss")
    y = float(np.interp(np.log10(result.suggestion), np.log10(result.lrs), result.smoothed))
    axes.plot([result.suggestion], [y], "o", color="tab:red", markersize=8,
              label=f"suggested lr {result.suggestion:.1e} ({result.rule})")
    axes.axvspan(*result.steep_range, color="tab:green", alpha=0.1, label="loss falls fastest")
    axes.set_xscale("log")
    axes.set_ylim(*_loss_limits(result))
    axes.set_xlabel("learning rate")
    axes.set_ylabel("training loss")
    axes.set_title("learning-rate range test")
    axes.legend(loc="upper left")
    axes.grid(True, which="major", alpha=0.3)
    return write_png(figure, path)


def _loss_limits(result: LRFindResult) -> tuple[float, float]:
    """From the lowest loss to the start, or to 4x the smoothed minimum when the divergence climbs higher: the
    last points of a diverging run can be orders of magnitude above the rest and would flatten the curve."""
    lowest, smoothed = min(min(result.losses), min(result.smoothed)), result.smoothed
    top = max(smoothed[0], min(max(smoothed), DIVERGENCE_FACTOR * min(smoothed)))
    margin = 0.05 * (top - lowest) or 0.05 * abs(lowest) or 1.0
    return lowest - margin, top + margin


def plot_learning_curve(curve: dict[str, Any], path: str | Path) -> Path:
    """The measured points, the fitted power law and the projections."""
    figure, axes = _figure(6, 4)
    sizes, higher = curve["sizes"], curve["higher_is_better"]
    span = np.geomspace(sizes[0], 10 * sizes[-1], 100)
    noise = _score_noise(curve)
    axes.errorbar(sizes, curve["scores"], yerr=noise, fmt="o", color="C0", capsize=3,
                  label=f"measured ({curve['split']}{', ±2 standard errors' if noise else ''})")
    axes.plot(span, [score_of(power_law(n, **curve["fit"]), higher) for n in span], "-", color="C0", alpha=0.6,
              label="power-law fit")
    projected = [(k * sizes[-1], curve["projected"][f"{k}x"]) for k in (2, 10)]
    axes.plot(*zip(*projected), "s--", color="C1", label="projected (2x, 10x data)")
    axes.set_xscale("log")
    axes.set_xlabel("training examples")
    axes.set_ylabel(curve["metric"])
    axes.grid(True, alpha=0.3)
    axes.legend()
    return write_png(figure, path, dpi=110)


def _score_noise(curve: dict[str, Any]) -> list[float] | None:
    """About two binomial standard errors per accuracy (what the held-out size allows); None for regression."""
    n = curve.get("n_scored")
    if not n or not curve["higher_is_better"]:
        return None
    accuracy = np.clip(curve["scores"], 0.0, 1.0)
    return (2 * np.sqrt(accuracy * (1 - accuracy) / n)).tolist()


def plot_across_runs(metric: str, series: dict[str, list[tuple[float, float]]], finals: dict[str, float],
                     path: str | Path) -> Path:
    """A line per run of `metric` over epochs (`series`: run -> [(epoch, value)]), or, when no run logged it per
    epoch, a bar per run of its final value (`finals`: run -> value)."""
    figure, axes = _figure(8, 4.5)
    if any(series.values()):
        for name, points in series.items():
            if points:
                axes.plot(*zip(*points), marker="o" if len(points) < 30 else None, markersize=3, label=name)
        axes.set_xlabel("epoch")
        whole_numbers(axes)
        axes.legend(fontsize="small")
    else:
        axes.bar(list(finals), list(finals.values()))
        axes.tick_params(axis="x", labelrotation=20)
    axes.set_ylabel(metric)
    axes.set_title(f"{metric} across runs")
    axes.grid(alpha=0.3)
    return write_png(figure, path)
