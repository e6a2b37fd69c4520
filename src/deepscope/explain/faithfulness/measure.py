"""The faithfulness numbers of one set of explanations, side by side, as deepscope reports them.

    f = measure_faithfulness("saliency", view.scores, x, attributions, baseline)
    f.deletion_area, f.deletion_random_area      # 0.18 next to 0.52: the map's top pixels matter most
    f.to_dict()                                  # JSON values, for run folders and reports
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from deepscope.explain.faithfulness.curves import STEPS, Scores, area, deletion_curve, insertion_curve
from deepscope.explain.faithfulness.randomisation import RandomisationResult

# the map is clearly better than random when its deletion area is at least this fraction below the random
# order's (and its insertion area this fraction above): a map of random noise lands within a few percent of it
MARGIN = 0.1


@dataclass
class Faithfulness:
    method: str
    deletion_area: float  # lower is better: the score falls fast as the top-ranked units go
    deletion_random_area: float  # the same, removing units in a random order
    insertion_area: float  # higher is better: the score comes back fast as the top-ranked units return
    insertion_random_area: float
    completeness_error: float | None = None  # integrated gradients: mean relative gap, else None
    randomisation: RandomisationResult | None = None
    curves: dict[str, list[float]] = field(default_factory=dict)  # deletion, deletion_random, insertion, ...
    values: bool = False  # the scores are values (a regression, a forecast's steps), not probabilities

    @property
    def deletion_gain(self) -> float:
        """How much faster than random the score falls (0 = no better, < 0 = worse). Probabilities: 1 - area /
        random area. Values have no natural zero (a forecast in standardised units goes negative), so there the
        gap is measured against the whole way the score moves, from the intact input to the full baseline (the
        curves' two ends, the same in either order): a shift or a scaling of the output's units changes nothing."""
        if self.values:
            return _share(self.deletion_random_area - self.deletion_area, self._span())
        return 1 - self.deletion_area / self.deletion_random_area if self.deletion_random_area > 0 else 0.0

    @property
    def insertion_gain(self) -> float:
        """How much faster than random the score comes back: area / random area - 1 (values: see deletion_gain)."""
        if self.values:
            return _share(self.insertion_area - self.insertion_random_area, self._span())
        return self.insertion_area / self.insertion_random_area - 1 if self.insertion_random_area > 0 else 0.0

    def _span(self) -> float:
        curve = self.curves.get("deletion") or [0.0]
        return abs(curve[0] - curve[-1])

    @property
    def beats_random(self) -> bool:
        return self.deletion_gain >= MARGIN

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "deletion_area": self.deletion_area,
                "deletion_random_area": self.deletion_random_area, "deletion_gain": self.deletion_gain,
                "insertion_area": self.insertion_area, "insertion_random_area": self.insertion_random_area,
                "insertion_gain": self.insertion_gain, "beats_random": self.beats_random,
                "completeness_error": self.completeness_error,
                "randomisation": self.randomisation.to_dict() if self.randomisation else None,
                "curves": {name: [float(v) for v in values] for name, values in self.curves.items()},
                "values": self.values}


def _share(gap: float, span: float) -> float:
    return gap / span if span > 0 else 0.0


def measure_faithfulness(method: str, scores: Scores, inputs: torch.Tensor, attributions: torch.Tensor,
                         baseline: torch.Tensor | float | None, *, steps: int = STEPS, seed: int = 0,
                         completeness: np.ndarray | None = None,
                         randomisation: RandomisationResult | None = None, values: bool = False) -> Faithfulness:
    """Deletion and insertion curves in the map's order and in a random one (seeded), with their areas.

    `completeness` (per-example errors from `completeness_error`) and `randomisation` (from
    `randomisation_check`) are passed through, as only some methods have them and they cost extra passes.
    `values`: the scores are a regression's or a forecast's values, not probabilities (see `deletion_gain`).
    """
    curves = {}
    for name, curve in (("deletion", deletion_curve), ("insertion", insertion_curve)):
        for order in ("attribution", "random"):
            generator = torch.Generator(device=inputs.device).manual_seed(seed)
            key = name if order == "attribution" else f"{name}_random"
            curves[key] = curve(scores, inputs, attributions, baseline, steps=steps, order=order,
                                generator=generator).tolist()
    return Faithfulness(
        method, area(curves["deletion"]), area(curves["deletion_random"]), area(curves["insertion"]),
        area(curves["insertion_random"]),
        float(np.mean(completeness)) if completeness is not None else None, randomisation, curves, values)
