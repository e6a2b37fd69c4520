"""The metric contract every family of metrics follows (see the package's docstring for why `update` never syncs)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch


class Metric:
    """The metric contract: `update(output, target)` per batch, `compute()` at the end, `reset()` to reuse.

    `update` must not sync with the device; `compute` returns plain Python values (float, int, lists).
    `directions` says, for each value `compute` reports, whether higher ("max") or lower ("min") is better;
    values that are not scores (counts, matrices) are left out. Early stopping, checkpoints, the plateau
    schedule, learning curves and the dashboard all read it through `direction`.
    """

    directions: ClassVar[dict[str, str]] = {}

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def merge(self, other: Metric) -> None:
        """Add `other`'s accumulators (the same metric over other rows: another process's shard of the data)
        to this one's, so that `compute` reports over both."""
        raise NotImplementedError(f"{type(self).__name__} cannot merge another process's results")


def summed(mine: torch.Tensor | None, theirs: torch.Tensor | None) -> torch.Tensor | None:
    """Two optional accumulators added up (either may not have seen a batch yet)."""
    if mine is None or theirs is None:
        return theirs if mine is None else mine
    return mine + theirs.to(mine.device)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, with 0 where the denominator is 0 (scikit-learn's `zero_division=0`)."""
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
