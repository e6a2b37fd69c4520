"""Attribution maps drawn over what they explain: images, spectrograms, and a forecaster's lookback window.

Colours mean the same everywhere (`explain_colours`): blue towards the target, red against it, a sequential scale
for maps without sign (Grad-CAM). Each function takes plain arrays (numpy or torch), writes one PNG atomically and
returns its path.

    image_attribution_png(images, maps, "ig.png", titles=["7 (p=0.98)", ...])   # images (n, C, H, W)
    spectrogram_attribution_png(mel, mel_map, "clip.png", title="'three' (p=0.91)")
    series_attribution_png(window_map, ["passengers"], "lookback.png")          # (lookback, channels)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import DataError
from deepscope.report.explain_colours import (
    as_array,
    colour_limit,
    colour_map,
    is_signed,
    overlay,
    scale_bar,
)
from deepscope.report.plots import grid_figure, text, write_png

PANEL = 1.6  # inches per image in a grid (160 px at the PNG's 100 dpi)
LUMINANCE = np.array([0.299, 0.587, 0.114])  # ITU-R 601: an RGB image's grey, as PIL's convert("L") makes it
SCALE_NOTE = "attribution, each map on its own scale (1 = its 99th percentile of |attribution|)"
MIN_WIDTH = 4.5  # inches: room for the colour bar's words under a single image


def image_attribution_png(images: Any, attributions: Any, path: str | Path, *, titles: Sequence[str] | None = None,
                          cols: int = 8) -> Path:
    """A grid of images, each in grey under its attribution map.

    Args:
        images: (n, C, H, W) floats on any scale (each image is stretched to black..white for display), or one
            image (C, H, W) or (H, W).
        attributions: (n, 1, H, W) or (n, C, H, W) (channels are summed: the map per pixel), or (n, H, W); for one
            image also (H, W) or (1 | C, H, W).
        titles: one per image, e.g. "7 (p=0.98)".
        cols: images per row.
    Raises:
        DataError: a map that does not fit its image, titles of another count, NaN in the map.
    """
    pixels, maps = _image_batch(as_array(images, "images"), as_array(attributions, "image attribution"))
    n = len(maps)
    titles = _titles(titles, n, "images")
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    figure, axes = grid_figure(rows, cols, max(MIN_WIDTH, PANEL * cols + 0.4), (PANEL + 0.25) * rows + 0.8)
    signed = is_signed(maps)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        ax.set_xticks([]), ax.set_yticks([])  # unseen, but the layout would make and measure ticks: 2x the time
        if i < n:
            ax.imshow(overlay(_grey(pixels[i]), maps[i], colour_limit(maps[i]), signed), interpolation="nearest")
            ax.set_title(text(titles[i]), fontsize=8)
    scale_bar(figure, list(axes.flat), signed, SCALE_NOTE)
    return write_png(figure, path)


def spectrogram_attribution_png(spectrogram: Any, attribution: Any, path: str | Path, *, title: str = "") -> Path:
    """The spectrogram (mel bins x frames, low frequencies at the bottom) and, below it, the attribution over it
    in grey, on shared axes.

    Raises:
        DataError: an attribution of another shape than the spectrogram, or either one not 2-D.
    """
    mel = _two_dimensional(as_array(spectrogram, "spectrogram"), "spectrogram", "(mel bins, frames)")
    values = _two_dimensional(as_array(attribution, "spectrogram attribution"), "spectrogram attribution",
                              "(mel bins, frames)")
    if values.shape != mel.shape:
        raise DataError(f"spectrogram attribution: shape {values.shape} does not match the spectrogram's "
                        f"{mel.shape}; give one value per mel bin and frame")
    figure, axes = grid_figure(2, 1, 7.5, 5.6, sharex=True)
    top, bottom = axes[:, 0]
    top.imshow(mel, origin="lower", aspect="auto", cmap="magma", interpolation="nearest")
    top.set_title(text(title or "spectrogram"), fontsize=10)
    signed = is_signed(values)
    bottom.imshow(overlay(_stretched(mel), values, colour_limit(values), signed), origin="lower", aspect="auto",
                  interpolation="nearest")
    bottom.set_title("attribution over the spectrogram", fontsize=10)
    for ax in (top, bottom):
        ax.set_ylabel("frequency (mel bin)")
    bottom.set_xlabel("time (frame)")
    scale_bar(figure, [top, bottom], signed, "1 = the 99th percentile of |attribution|")
    return write_png(figure, path)


def series_attribution_png(attribution: Any, channel_names: Sequence[str], path: str | Path, *,
                           title: str = "") -> Path:
    """A heatmap of the attribution over the lookback window: steps back from the forecast origin (-L ... -1,
    oldest left) across, channels down.

    Args:
        attribution: (lookback, channels) in the window's time order, oldest step first (as the model reads it);
            a single channel may be (lookback,).
        channel_names: one per channel, or [] for "channel 1", "channel 2", ...
    """
    values = as_array(attribution, "series attribution")
    values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2 or 0 in values.shape:
        raise DataError(f"series attribution: shape {values.shape} is not (lookback steps, channels)")
    lookback, channels = values.shape
    names = list(channel_names) or [f"channel {c + 1}" for c in range(channels)]
    if len(names) != channels:
        raise DataError(f"series attribution: {len(names)} channel names for {channels} channels; give one per column "
                        "of the (lookback, channels) attribution")
    figure, axes = grid_figure(1, 1, min(12.0, 2.5 + 0.35 * lookback), min(8.0, 1.6 + 0.45 * channels))
    ax, signed, limit = axes[0, 0], is_signed(values), colour_limit(values)
    image = ax.imshow(values.T, aspect="auto", interpolation="nearest", cmap=colour_map(signed),
                      vmin=-limit if signed else 0.0, vmax=limit)
    ticks = _steps_back_ticks(lookback)
    ax.set_xticks([lookback - s for s in ticks], [f"-{s}" for s in ticks])
    ax.set_yticks(range(channels), [text(name) for name in names])
    ax.set_xlabel("steps back from the forecast origin")
    ax.set_title(text(title or "attribution over the lookback window"), fontsize=10)
    bar = figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("attribution (blue towards, red against)" if signed else "attribution", fontsize=8)
    return write_png(figure, path)


# --- shapes and pixels ----------------------------------------------------------------------------------------------
def _image_batch(images: np.ndarray, maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """images (n, C, H, W) and one map per image (n, H, W), channels summed; a clear error when they do not fit."""
    if images.ndim not in (2, 3, 4) or 0 in images.shape:
        raise DataError(f"image attribution: images of shape {images.shape} are not (n, C, H, W), (C, H, W) or (H, W)")
    images, given = images.reshape((1,) * (4 - images.ndim) + images.shape), maps.shape
    n, channels, height, width = images.shape
    if maps.ndim == 2 or (maps.ndim == 3 and n == 1 and maps.shape[0] in (1, channels)):
        maps = maps.reshape((1,) * (4 - maps.ndim) + maps.shape)  # one image's map: (H, W) or (1 | C, H, W)
    elif maps.ndim == 3:
        maps = maps[:, None]  # (n, H, W)
    if maps.ndim != 4 or maps.shape[0] != n or maps.shape[1] not in (1, channels) or maps.shape[2:] != (height, width):
        raise DataError(f"image attribution: attributions of shape {given} do not fit images of shape "
                        f"{images.shape} (read as (n, C, H, W), channels first); give one map per image: (n, 1, "
                        f"{height}, {width}), (n, {channels}, {height}, {width}) or (n, {height}, {width})")
    return images, maps.sum(axis=1)


def _grey(image: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] from (C, H, W): an RGB image's luminance, otherwise the mean over channels. The overlay's
    colours carry the meaning, so what lies under them is grey for every image."""
    grey = np.tensordot(LUMINANCE, image, axes=1) if image.shape[0] == 3 else image.mean(axis=0)
    return _stretched(grey)


def _stretched(values: np.ndarray) -> np.ndarray:
    """Values on any scale (normalised pixels, log-mel decibels) stretched to 0..1 (a flat array: mid grey)."""
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.full_like(values, 0.5)


def _two_dimensional(values: np.ndarray, what: str, expected: str) -> np.ndarray:
    """A 2-D array; leading dimensions of 1 (a batch or channel of one) are dropped."""
    while values.ndim > 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 2 or 0 in values.shape:
        raise DataError(f"{what}: shape {values.shape} is not {expected}")
    return values


def _titles(titles: Sequence[str] | None, n: int, what: str) -> list[str]:
    if titles is None:
        return [""] * n
    if len(titles) != n:
        raise DataError(f"{len(titles)} titles for {n} {what}; give one title per item, or none")
    return [str(t) for t in titles]


def _steps_back_ticks(lookback: int) -> list[int]:
    """Steps back to label, at most about 12: every step, or every k-th plus the last one (-1), so a yearly lag
    in monthly data (-12, -24) is labelled when the stride divides it."""
    stride = math.ceil(lookback / 12)
    return sorted({1, *range(stride, lookback + 1, stride)}, reverse=True)

