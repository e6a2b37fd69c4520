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

    @property
    def deletion_gain(self) -> float:
        """How much faster than random the score falls: 1 - area / random area (0 = no better, < 0 = worse)."""
        return 1 - self.deletion_area / self.deletion_random_area if self.deletion_random_area > 0 else 0.0

    @property
    def insertion_gain(self) -> float:
        """How much faster than random the score comes back: area / random area - 1."""
        return self.insertion_area / self.insertion_random_area - 1 if self.insertion_random_area > 0 else 0.0

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
                "curves": {name: [float(v) for v in values] for name, values in self.curves.items()}}


def measure_faithfulness(method: str, scores: Scores, inputs: torch.Tensor, attributions: torch.Tensor,
                         baseline: torch.Tensor | float | None, *, steps: int = STEPS, seed: int = 0,
                         completeness: np.ndarray | None = None,
                         randomisation: RandomisationResult | None = None) -> Faithfulness:
    """Deletion and insertion curves in the map's order and in a random one (seeded), with their areas.

    `completeness` (per-example errors from `completeness_error`) and `randomisation` (from
    `randomisation_check`) are passed through, as only some methods have them and they cost extra passes.
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
        float(np.mean(completeness)) if completeness is not None else None, randomisation, curves)
