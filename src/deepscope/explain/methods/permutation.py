"""Feature permutation (Breiman 2001; Captum's FeaturePermutation): the score's drop when one column's values are
shuffled across the batch, which breaks its link with the target and keeps its distribution. Tables permute
columns (a category's whole embedding moves with it), series permute channels (a whole window of one covariate).

`permutation_importance` repeats the shuffles for the global view: each column's mean drop over the examples, with
a 95 % interval over the repeats. For a regression or a forecast the drop is the size of the change (|f(x) -
f(shuffled)|): a signed change in a value averages out to about zero over the examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepscope.errors import UserError
from deepscope.explain.methods.base import METHODS, Method, input_modality
from deepscope.explain.methods.captum_api import attr
from deepscope.explain.view import ScoreView

REPEATS = 20  # shuffles for the global importance; the interval's width shrinks as 1/sqrt(repeats)


class PermutationMethod(Method):
    name = "permutation"
    modalities = frozenset({"table", "series"})
    uses_gradients = False
    options = {"seed": 0}

    def applies(self, view, input_name):
        if reason := super().applies(view, input_name):
            return reason
        if input_modality(view, input_name) == "series" and view.inputs[input_name].describe()["channels"] < 2:
            return "permutation shuffles one channel of a series across windows; this series has only one"
        return None

    def compute(self, view, x, context, targets, baseline, *, seed):
        if x.shape[0] < 2:
            raise UserError("permutation shuffles a column across examples: explain at least 2 (e.g. --n 100)")
        with torch.random.fork_rng(devices=[]):  # Captum shuffles with torch's global generator
            torch.manual_seed(seed)
            attributions = attr().FeaturePermutation(view).attribute(x, target=targets, additional_forward_args=context,
                                                              feature_mask=feature_mask(view, x))
        if view.modality == "table":  # every slot of a column holds the column's drop: keep it once, not per slot
            attributions = attributions / view.space.slices.bincount().to(x.device)[view.space.slices.to(x.device)]
        else:  # a series: a channel's drop spread over its steps, so that its steps add up to it
            attributions = attributions / x.shape[1]
        return attributions, {"seed": seed}


def feature_mask(view: ScoreView, x: torch.Tensor) -> torch.Tensor:
    if view.modality == "table":
        return view.space.feature_mask().to(x.device)  # (1, W)
    channels = torch.arange(x.shape[2], device=x.device)
    return channels.expand(1, x.shape[1], -1)  # (1, T, C): all steps of a channel move together


@dataclass
class Importance:
    """Global permutation importance: per unit (column, channel) the mean score drop and its 95 % interval."""

    labels: list[str]
    mean: torch.Tensor  # (units,)
    low: torch.Tensor
    high: torch.Tensor
    repeats: int

    def ranked(self) -> list[tuple[str, float, float, float]]:
        order = self.mean.argsort(descending=True).tolist()
        return [(self.labels[i], float(self.mean[i]), float(self.low[i]), float(self.high[i])) for i in order]


def permutation_importance(view: ScoreView, inputs: dict[str, torch.Tensor], targets: torch.Tensor, *,
                           repeats: int = REPEATS, seed: int = 0) -> Importance:
    """Each repeat shuffles every column once (one Captum call); the interval is the 2.5-97.5 % quantiles of the
    repeats' mean drops."""
    method = METHODS.get("permutation")
    drops = []
    for repeat in range(repeats):
        explained = method.attribute(view, inputs, targets, seed=seed + repeat)
        drop = explained.attributions if view.classifies else explained.attributions.abs()
        per_unit = drop.mean(dim=0)  # (n_columns,) or (T, C)
        drops.append(per_unit if per_unit.ndim == 1 else per_unit.sum(dim=0))  # series: a channel's drop
    stacked = torch.stack(drops)  # (repeats, units)
    low, high = torch.quantile(stacked, torch.tensor([0.025, 0.975]), dim=0)
    labels = explained.labels or [str(i) for i in range(stacked.shape[1])]
    return Importance(labels, stacked.mean(dim=0), low, high, repeats)


METHODS.register("permutation")(PermutationMethod())
