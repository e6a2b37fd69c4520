"""The faithfulness numbers of one `Explanation`: what `deepscope explain` and the report's Explanations section
both measure (deletion and insertion against a random order, and integrated gradients' completeness).

The faithfulness package itself takes plain tensors and a scores function; this is where an explanation's own
baseline, targets and Captum's convergence delta are turned into them, once.
"""

from __future__ import annotations

import numpy as np
import torch

from deepscope.explain.explanation import Explanation
from deepscope.explain.faithfulness import Faithfulness, RandomisationResult, completeness_error, measure_faithfulness
from deepscope.explain.view import ScoreView


def measure_explanation(view: ScoreView, batch: dict[str, torch.Tensor], explained: Explanation, *,
                        steps: int = 20, randomisation: RandomisationResult | None = None) -> Faithfulness:
    """`explained`'s faithfulness on `batch` (the rows it explains), through `view`'s scores of its targets."""
    view.bind(batch)
    baseline = explained.baseline if explained.baseline is not None else view.space.unit_baseline(
        torch.zeros_like(explained.inputs[:1]).float(), batch)
    return measure_faithfulness(explained.method, lambda units: view.scores(units, explained.targets),
                                explained.inputs, explained.attributions, baseline, steps=steps,
                                completeness=_completeness(explained), randomisation=randomisation,
                                values=not view.classifies)


def _completeness(explained: Explanation) -> np.ndarray | None:
    """Integrated gradients only: f(baseline) = f(x) - (sum of attributions - Captum's delta)."""
    if "delta" not in explained.extra:
        return None
    total = explained.attributions.reshape(len(explained), -1).sum(dim=1)
    at_baseline = explained.scores - (total - explained.extra["delta"].to(total.device))
    return completeness_error(explained.attributions, explained.scores, at_baseline)
