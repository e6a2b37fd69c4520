"""How an attribution becomes a colour, for every explanation drawing (images, spectrograms, series, tokens).

One meaning everywhere: **blue pushes towards the target, red against it** (the report's own blue and red, white
at 0), so a learner reads a digit's map, a spectrogram's and a sentence's the same way. Over an image the hue is
fixed by the sign and its opacity grows with |attribution|: a strong value stays bright over a black background
too (the dark ends of a scale like "RdBu" vanish on MNIST's black). A map with no negative values (Grad-CAM) has no
"against": it gets a sequential scale instead, dark to bright.

The scale of a map is a high percentile of |attribution|, not its maximum: gradients are spiky, and one hot pixel
at 50x the rest would otherwise leave the whole map pale. Values beyond it are drawn at full colour.

    limit = colour_limit(attribution)               # the 99th percentile of |attribution|
    rgb = overlay(grey_image, attribution, limit)   # (H, W, 3) floats in [0, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepscope.errors import DataError
from deepscope.report.plots import COLOURS

BLUE, RED = COLOURS[0], COLOURS[1]  # towards, against: the report's first two colours
SEQUENTIAL = "inferno"  # for maps without sign: dark (nothing) to bright yellow (most), visible over grey
SCALE_PERCENTILE = 99.0  # of |attribution| per map: 1 % of the pixels may saturate, the rest keep their contrast
MAX_OPACITY = 0.85  # of the strongest colour over the image: the image stays faintly visible under it
TOWARDS, AGAINST = "towards the target", "against the target"


def as_array(values: Any, what: str) -> np.ndarray:
    """A numpy float array from numpy or torch (detached, on the CPU); a clear error for NaN or infinity, which
    means the attribution went wrong before it was drawn."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().float().numpy()
    array = np.asarray(values, dtype=float)
    bad = int(np.size(array) - np.isfinite(array).sum())
    if bad:
        raise DataError(f"{what}: {bad} of {array.size} values are NaN or infinite; an attribution that overflowed "
                        "cannot be drawn (try a smaller number of integration steps or check the model's outputs)")
    return array


def is_signed(values: np.ndarray) -> bool:
    """Whether a map has an "against" half (any negative value): then it gets the diverging scale."""
    return bool((np.asarray(values) < 0).any())


def colour_limit(values: np.ndarray) -> float:
    """The |value| drawn at full colour: the SCALE_PERCENTILE of |values| (its maximum where that is 0, as in a
    map with a few non-zero pixels; 1 for an all-zero map, which then draws as nothing)."""
    magnitude = np.abs(np.asarray(values, dtype=float))
    limit = float(np.percentile(magnitude, SCALE_PERCENTILE)) if magnitude.size else 0.0
    if limit <= 0:
        limit = float(magnitude.max()) if magnitude.size else 0.0
    return limit if limit > 0 else 1.0


def colour_map(signed: bool) -> Any:
    """The matplotlib colormap of a map with sign (red, white at the middle, blue) or without (SEQUENTIAL)."""
    from matplotlib import colormaps
    from matplotlib.colors import LinearSegmentedColormap

    if signed:
        return LinearSegmentedColormap.from_list("deepscope-attribution", [RED, "#ffffff", BLUE])
    return colormaps[SEQUENTIAL]


def hue(values: np.ndarray, limit: float, signed: bool) -> np.ndarray:
    """(..., 3) RGB in [0, 1] laid over an image: blue or red by sign (full strength), or the sequential scale's
    colour of values / limit."""
    from matplotlib.colors import to_rgb

    if signed:
        return np.where((values >= 0)[..., None], to_rgb(BLUE), to_rgb(RED))
    return colour_map(False)(np.clip(values / limit, 0, 1))[..., :3]


def strength(values: np.ndarray, limit: float) -> np.ndarray:
    """|values| / limit, at most 1: how strongly each unit is drawn."""
    return np.clip(np.abs(values) / limit, 0, 1)


def overlay(grey: np.ndarray, values: np.ndarray, limit: float, signed: bool) -> np.ndarray:
    """(H, W, 3) the grey image `grey` (H, W) in [0, 1] under the map `values` (H, W): each pixel's colour is
    as opaque as its |value| is strong, so where the map is 0 the image shows through unchanged."""
    opacity = (MAX_OPACITY * strength(values, limit))[..., None]
    return (1 - opacity) * grey[..., None] + opacity * hue(values, limit, signed)


def scale_bar(figure: Any, axes: Any, signed: bool, label: str) -> Any:
    """A colour bar for maps drawn on their own scale each: -1..1 (or 0..1) in units of each map's limit, with
    the ends named in words."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    mappable = ScalarMappable(Normalize(-1.0 if signed else 0.0, 1.0), colour_map(signed))
    bar = figure.colorbar(mappable, ax=axes, orientation="horizontal", fraction=0.05, shrink=0.6, aspect=40)
    bar.set_ticks([-1.0, 0.0, 1.0] if signed else [0.0, 1.0])
    bar.set_ticklabels(["against", "0", "towards"] if signed else ["0", "strongest"])
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=8)
    return bar
