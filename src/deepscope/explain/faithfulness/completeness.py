"""Completeness of integrated gradients: the attributions of one example add up to how far its score moved.

Integrated gradients is exact when the path integral is: sum(attributions) = f(x) - f(baseline) (Sundararajan
et al., 2017, "Axiomatic Attribution for Deep Networks"). A numerical integral with too few steps misses part
of it, so the gap says how far the map can be taken at face value.

    errors = completeness_error(ig, view.scores(x, t), view.scores(baseline, t))   # (n,) e.g. 0.02 = 2 %

The rule: |sum(attributions) - (f(x) - f(baseline))| / max(|f(x) - f(baseline)|, FLOOR). `f` must be the
function the attributions were computed for (the target's probability, for a classifier explained through its
probabilities). The floor keeps an example whose score barely moves between baseline and input (there is
almost nothing to attribute) from turning a tiny absolute gap into a huge relative one.
"""

from __future__ import annotations

import numpy as np
import torch

from deepscope.errors import DataError

FLOOR = 1e-3  # a score difference below this counts as this: a thousandth of a probability


def completeness_error(attributions: torch.Tensor, scores_at_inputs: torch.Tensor,
                       scores_at_baseline: torch.Tensor) -> np.ndarray:
    """Per example, the gap between the sum of its attributions and f(x) - f(baseline), relative to the latter.

    Args:
        attributions: (n, *shape) integrated gradients of each example's target.
        scores_at_inputs, scores_at_baseline: (n,) f at the input and at the baseline (a scalar baseline score
            broadcasts).
    Returns: (n,) relative errors, 0 when the attributions account for the whole change.
    """
    attributions = torch.as_tensor(attributions).detach().double()
    n = attributions.shape[0] if attributions.ndim else 0
    at_inputs = torch.as_tensor(scores_at_inputs).detach().double().reshape(-1)
    at_baseline = torch.as_tensor(scores_at_baseline).detach().double().reshape(-1)
    if attributions.ndim < 1 or len(at_inputs) != n or len(at_baseline) not in (1, n):
        raise DataError(f"completeness: attributions of shape {tuple(attributions.shape)} need one score per example "
                        f"at the inputs and at the baseline; got {len(at_inputs)} and {len(at_baseline)}")
    total = attributions.reshape(n, -1).sum(dim=1)
    change = at_inputs - at_baseline
    return ((total - change).abs() / change.abs().clamp(min=FLOOR)).numpy()
