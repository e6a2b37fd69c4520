"""Deletion and insertion curves: does the model's score move when the units a map ranks highest are taken away?

A map that shows what the model uses must make the score fall faster when its top-ranked units are replaced by
the baseline (deletion) than when random units are, and rise faster when they are put back first into an input
that starts as the baseline (insertion). Petsiuk et al., 2018 ("RISE"), the curves; the area under each, next
to the same curve in a random order, is the number deepscope reports.

    curve = deletion_curve(view.scores, x, attributions, baseline)              # (steps + 1,) mean score
    reference = deletion_curve(view.scores, x, attributions, baseline, order="random", generator=g)
    area(curve) < area(reference)                                               # the map is faithful

Shapes: `inputs` (n, *shape) as the model reads them; `attributions` (n, *unit_shape) broadcastable to `inputs`,
so an image map (n, 1, H, W) removes a pixel in every channel; `baseline` broadcastable to `inputs` (one value,
(*shape), or (n, *shape)). The ranking is over the attribution's own elements (units), by signed value, highest
first: a unit that pushes the score up is the first to go. Ties are broken at random by `generator`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from deepscope.errors import DataError

Scores = Callable[[torch.Tensor], torch.Tensor]  # inputs (n, *shape) -> (n,) score of each example's target
Order = Literal["attribution", "random"]
STEPS = 20  # fractions 0, 1/20, ..., 1 of the units replaced: 21 forward passes of the whole batch


def deletion_curve(scores: Scores, inputs: torch.Tensor, attributions: torch.Tensor,
                   baseline: torch.Tensor | float | None, *, steps: int = STEPS, order: Order = "attribution",
                   generator: torch.Generator | None = None) -> np.ndarray:
    """The mean score as the top-ranked fraction 0, 1/steps, ..., 1 of the units is replaced by the baseline.

    Args:
        scores: inputs (n, *shape) -> (n,) the score of each example's target (e.g. `ScoreView.scores`).
        inputs, attributions, baseline: see the module docstring; `baseline=None` means zeros.
        steps: how many equal fractions the units are removed in.
        order: "attribution" (highest first) or "random" (the reference a faithful map must beat).
        generator: seeds the random order and the breaking of ties.
    Returns: (steps + 1,) the score averaged over the n examples, from the intact input to the full baseline.
    """
    return _curve(scores, inputs, attributions, baseline, steps, order, generator, delete=True)


def insertion_curve(scores: Scores, inputs: torch.Tensor, attributions: torch.Tensor,
                    baseline: torch.Tensor | float | None, *, steps: int = STEPS, order: Order = "attribution",
                    generator: torch.Generator | None = None) -> np.ndarray:
    """The mean score as the top-ranked fraction 0, 1/steps, ..., 1 of the units is put back into the baseline
    (same arguments as `deletion_curve`): from the full baseline to the intact input."""
    return _curve(scores, inputs, attributions, baseline, steps, order, generator, delete=False)


def area(curve: np.ndarray | list[float]) -> float:
    """The area under a curve sampled at equal steps over [0, 1] (trapezoid rule)."""
    values = np.asarray(curve, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"a curve is at least two scores in a row, got shape {values.shape}")
    return float(np.trapezoid(values, np.linspace(0.0, 1.0, len(values))))


def _curve(scores: Scores, inputs: torch.Tensor, attributions: torch.Tensor, baseline: torch.Tensor | float | None,
           steps: int, order: Order, generator: torch.Generator | None, *, delete: bool) -> np.ndarray:
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    baseline = checked_baseline(inputs, baseline)
    check_attribution_shape(inputs, attributions)
    n, unit_shape = attributions.shape[0], attributions.shape[1:]
    ranks = unit_ranks(attributions.reshape(n, -1).detach(), order, generator)  # (n, units), 0 = first to go
    units = ranks.shape[1]
    means = []
    with torch.no_grad():
        for step in range(steps + 1):
            count = round(step * units / steps)
            chosen = (ranks < count).reshape(n, *unit_shape)  # broadcasts over what the map does not resolve
            x = torch.where(chosen, baseline, inputs) if delete else torch.where(chosen, inputs, baseline)
            means.append(scores(x).float().mean().item())
    return np.asarray(means)


def unit_ranks(flat: torch.Tensor, order: Order, generator: torch.Generator | None) -> torch.Tensor:
    """(n, units) the position of each unit in its example's removal order, 0 first. A random shuffle first,
    then a stable sort by value: equal values keep the shuffled order, so ties are broken at random."""
    if order not in ("attribution", "random"):
        raise ValueError(f"order must be 'attribution' or 'random', got {order!r}")
    shuffled = torch.rand(flat.shape, generator=generator, device=flat.device).argsort(dim=1)
    removal = shuffled
    if order == "attribution":
        by_value = flat.gather(1, shuffled).sort(dim=1, descending=True, stable=True).indices
        removal = shuffled.gather(1, by_value)
    positions = torch.arange(flat.shape[1], device=flat.device).expand_as(removal)
    return torch.empty_like(removal).scatter_(1, removal, positions)


def checked_baseline(inputs: torch.Tensor, baseline: torch.Tensor | float | None) -> torch.Tensor:
    """The baseline as a tensor of the inputs' dtype that broadcasts to them; a clear error when it does not."""
    if baseline is None:
        baseline = 0.0
    baseline = torch.as_tensor(baseline, device=inputs.device).to(inputs.dtype)
    if not _broadcasts(baseline.shape, inputs.shape):
        raise DataError(f"faithfulness: a baseline of shape {tuple(baseline.shape)} does not fit inputs of shape "
                        f"{tuple(inputs.shape)}; give one value, one example's shape {tuple(inputs.shape[1:])}, "
                        "or the inputs' shape")
    return baseline


def check_attribution_shape(inputs: torch.Tensor, attributions: torch.Tensor) -> None:
    """Attributions are one map per example that broadcasts to the inputs: (n, 1, H, W) for (n, C, H, W)."""
    fits = (attributions.ndim == inputs.ndim and attributions.shape[0] == inputs.shape[0]
            and _broadcasts(attributions.shape, inputs.shape))
    if not fits:
        raise DataError(f"faithfulness: attributions of shape {tuple(attributions.shape)} do not fit inputs of shape "
                        f"{tuple(inputs.shape)}; give one map per example with the inputs' shape, or 1 in the "
                        "dimensions the map spreads over (e.g. (n, 1, H, W) for images of any channel count)")


def _broadcasts(shape: torch.Size, target: torch.Size) -> bool:
    try:
        return torch.broadcast_shapes(shape, target) == target
    except RuntimeError:
        return False
