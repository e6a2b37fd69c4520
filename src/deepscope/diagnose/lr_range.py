"""What a learning-rate range test says: the rate to train with, judged from the rates tried and their losses.

    result = summarise(finder.lrs, finder.losses, smoothing=0.98, stopped_early=finder.stopped_early)
    result.suggestion          # e.g. 3.2e-03: use it as train.optimizer.lr

The suggestion is fastai's "steep" rule: the rate at which the smoothed loss falls fastest against log10(lr),
looking only at the points before the smoothed loss's minimum (past it, any slope is the start of divergence)
and after the first three (which follow single batches). When there is no falling stretch there to judge (the
loss was lowest at the very start, or never fell), the suggestion falls back to `minimum_lr / 10`, fastai's
"minimum" rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import ConfigError
from deepscope.training.callbacks.lr_finder import Smoother

SKIP_START = 3  # the first smoothed points follow single noisy batches: their slopes are not trusted


@dataclass
class LRFindResult:
    """The learning rates tried, their losses (raw and smoothed), and what to make of them.

    `suggestion` is the rate to train with; `minimum_lr` is where the smoothed loss was lowest (already too
    large to train with: the loss is about to rise); `steep_range` is the span of rates around the suggestion
    where the loss falls at least half as fast as at its steepest. `rule` says which rule gave the suggestion:
    "steepest" or "minimum/10" (the fallback, when the loss never clearly fell).
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    minimum_lr: float
    steep_range: tuple[float, float]
    stopped_early: bool  # the loss diverged before the rate reached `end`
    rule: str
    plot: Path | None = None  # where the plot was written, if it was

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["steep_range"] = list(self.steep_range)
        return values


def smooth(losses: list[float], beta: float) -> list[float]:
    smoother = Smoother(beta)
    return [smoother.add(loss) for loss in losses]


def summarise(lrs: list[float], losses: list[float], smoothing: float, *, stopped_early: bool) -> LRFindResult:
    """The suggestion, the minimum and the steep range from the rates tried and their raw losses."""
    if not losses:
        raise ConfigError("lr-find: the loss was NaN or infinite from the first step; check the inputs for NaN "
                          "or extreme values, or lower --start")
    smoothed = smooth(losses, smoothing)
    lowest = int(np.argmin(smoothed))
    minimum_lr = lrs[lowest]
    slopes = _slopes(lrs, smoothed)
    steepest = _steepest_before(slopes, lowest)
    if steepest is None:
        return LRFindResult(lrs, losses, smoothed, minimum_lr / 10, minimum_lr, (lrs[0], minimum_lr),
                            stopped_early, "minimum/10")
    low, high = _steep_span(slopes, steepest, lowest)
    return LRFindResult(lrs, losses, smoothed, lrs[steepest], minimum_lr, (lrs[low], lrs[high]), stopped_early,
                        "steepest")


def _slopes(lrs: list[float], smoothed: list[float]) -> np.ndarray:
    """d(smoothed loss) / d(log10 lr) at each point (central differences inside, one-sided at the ends)."""
    if len(lrs) < 2:
        return np.zeros(len(lrs))
    return np.gradient(np.asarray(smoothed), np.log10(lrs))


def _steepest_before(slopes: np.ndarray, lowest: int) -> int | None:
    """Where the loss falls fastest, between the trusted start and the minimum; None without a clear fall."""
    if lowest - SKIP_START < 2:
        return None
    index = SKIP_START + int(np.argmin(slopes[SKIP_START:lowest]))
    return index if slopes[index] < 0 else None


def _steep_span(slopes: np.ndarray, steepest: int, lowest: int) -> tuple[int, int]:
    """The run of points around the steepest one where the loss falls at least half as fast."""
    half = slopes[steepest] / 2
    low = high = steepest
    while low > SKIP_START and slopes[low - 1] <= half:
        low -= 1
    while high < lowest - 1 and slopes[high + 1] <= half:
        high += 1
    return low, high
