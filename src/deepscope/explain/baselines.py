"""What "absent" means for a method that compares an input with a reference: `baseline: zeros | blurred | mean`.

- `zeros`: encoded zeros. Every image channel and every standardised number (the default normalisation) is
  encoded as (value - training mean) / std, so encoded zeros ARE the training mean for those; for text the zero
  vector is the padding token's embedding (nothing there).
- `mean`: the training mean in encoded units, read from the fitted features: for numbers normalised with
  `minmax` or `none` it is not zero; elsewhere it equals `zeros`.
- `blurred`: a Gaussian blur of the input (images and spectrograms over their two axes, series over time):
  the coarse content stays, the detail an attribution should point at is gone (Sturmfels et al. 2020).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from deepscope.errors import UserError
from deepscope.explain.spaces import Space, TableSpace

BASELINES = ("zeros", "blurred", "mean")
BLUR_SIGMA = 2.0  # pixels (or steps): enough to remove the strokes of a digit, not its position


def baseline_for(kind: str, space: Space, x: torch.Tensor) -> torch.Tensor:
    """The baseline of `x` (the explained tensor), broadcastable to it."""
    if kind not in BASELINES:
        raise UserError(f"baseline {kind!r}: choose one of {', '.join(BASELINES)}")
    if kind == "blurred":
        if space.modality not in ("image", "audio", "series"):
            raise UserError(f"baseline 'blurred' applies to images, spectrograms and series, not {space.modality}; "
                            "use zeros or mean")
        return blur(x, series=space.modality == "series")
    if kind == "mean" and isinstance(space, TableSpace):
        return table_mean(space, x)
    return torch.zeros_like(x[:1])


def table_mean(space: TableSpace, x: torch.Tensor) -> torch.Tensor:
    """(1, W): each number's training mean in encoded units ((mean - shift) / scale); category slots zero."""
    out = torch.zeros_like(x[:1])
    for i, column in enumerate(space.layer.numeric):
        fitted = space.features[column].fitted
        if "mean" in fitted and "shift" in fitted:
            out[0, i] = (fitted["mean"] - fitted["shift"]) / fitted["scale"]
    return out


def blur(x: torch.Tensor, *, series: bool = False, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """Gaussian blur, separable, edges replicated: images (n, C, H, W), spectrograms (n, F, T), series
    (n, T, C) along T only."""
    radius = max(1, int(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    if series:  # (n, T, C) -> blur each channel over time
        return _blur_rows(x.transpose(1, 2), kernel).transpose(1, 2)
    image = x if x.ndim == 4 else x.unsqueeze(1)  # (n, C, H, W)
    n, c, h, w = image.shape
    rows = _blur_rows(image.reshape(n * c, h, w), kernel)  # along W
    both = _blur_rows(rows.transpose(1, 2), kernel).transpose(1, 2)  # along H
    out = both.reshape(n, c, h, w)
    return out if x.ndim == 4 else out.squeeze(1)


def _blur_rows(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(n, rows, length): each row convolved with `kernel` along its length."""
    n, rows, length = x.shape
    radius = len(kernel) // 2
    flat = F.pad(x.reshape(n * rows, 1, length), (radius, radius), mode="replicate")
    return F.conv1d(flat, kernel.view(1, 1, -1)).reshape(n, rows, length)
