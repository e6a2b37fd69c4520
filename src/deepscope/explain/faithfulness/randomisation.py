"""The model-randomisation sanity check (Adebayo et al., 2018, "Sanity Checks for Saliency Maps").

If a map explains the model, it must change when the model's learned weights are destroyed. The check re-draws
the layers of a copy of the model one at a time, from the output layer down to the input layer (cascading
randomisation), recomputes the maps after each and measures the Spearman rank correlation with the trained
model's map, per example. A method whose maps still agree with the trained ones after every layer is random
shows something about the input (its edges, its bright pixels), not what the model learned.

The maps are compared as the method gives them, signs included: that is the order in which deepscope ranks the
units everywhere else (the deletion and insertion curves remove the most positive first) and the map a user
reads (diverging colours, for and against). The paper reports the rank correlation with and without absolute
values; the |map| one is kept beside it, as `magnitude_correlations`. For the methods that multiply by
(input - baseline) (integrated gradients, input x gradient, GradientSHAP) the two differ most: the signs follow
the model, the sizes partly follow the input's own contrast whatever the weights.

    result = randomisation_check(model, lambda m: saliency(m, x, targets))
    result.layers                   # ["head.out", "encoder.dense", "encoder.conv2", "encoder.conv1"]: re-drawn in turn
    result.correlations             # [0.61, 0.32, 0.11, 0.05]: mean rank correlation after each stage
    result.passes                   # True: the fully randomised model's maps share little with the trained one's
    result.magnitude_correlations   # the same for |map|

The caller's model is never touched: all of it runs on a deep copy, with the global random state restored after.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

# A method passes when the fully randomised model's maps keep less than this rank correlation with the trained
# model's. Adebayo et al. found plain gradients and Grad-CAM fall towards 0 once every layer is random, the
# guided methods (guided backpropagation, guided Grad-CAM) stay high, and methods that multiply by the input
# keep part of its structure. 0.5 is the middle of that range: a map that still orders its units half the way
# the trained model's did, with no learned weight left, owes more to the input (and the architecture: unpadded
# convolutions see border pixels less, whatever their weights) than to what the model learned.
THRESHOLD = 0.5


@dataclass
class RandomisationResult:
    layers: list[str]  # the parameterised layers, in the order they were re-drawn (output first)
    correlations: list[float]  # mean rank correlation of the map with the trained model's, after each stage
    magnitude_correlations: list[float] | None = None  # the same for |map| (None: not measured)
    threshold: float = THRESHOLD

    @property
    def final(self) -> float:
        """The correlation once every layer is random (1.0 when the model has no layer to re-draw)."""
        return self.correlations[-1] if self.correlations else 1.0

    @property
    def passes(self) -> bool:
        return self.final < self.threshold

    @property
    def magnitude_final(self) -> float | None:
        """|map|'s correlation once every layer is random."""
        return self.magnitude_correlations[-1] if self.magnitude_correlations else None

    def to_dict(self) -> dict[str, Any]:
        magnitudes = self.magnitude_correlations
        return {"layers": list(self.layers), "correlations": [float(c) for c in self.correlations],
                "final": float(self.final), "threshold": self.threshold, "passes": self.passes,
                "magnitude_correlations": None if magnitudes is None else [float(c) for c in magnitudes],
                "magnitude_final": self.magnitude_final}


def randomisation_check(model: nn.Module, attribute: Callable[[nn.Module], torch.Tensor], *,
                        seed: int = 0) -> RandomisationResult:
    """Cascading re-initialisation of a copy of `model`, output layer first.

    Args:
        model: the trained model (left as it is).
        attribute: model -> (n, *shape) maps for a fixed batch; called once on the trained copy and once per stage.
        seed: the random state of the re-drawn weights.
    Returns: the layers in the order they were re-drawn and the mean correlations (of the maps, of |map|) after
    each.
    """
    twin = copy.deepcopy(model)
    layers, trained = _layers_in_forward_order(twin, attribute)
    trained = _rows(trained)
    signed, magnitudes = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _, layer in reversed(layers):
            _redraw(layer)
            maps = _rows(attribute(twin))
            signed.append(float(np.mean(rank_correlation(trained, maps))))
            magnitudes.append(float(np.mean(rank_correlation(np.abs(trained), np.abs(maps)))))
    return RandomisationResult([name for name, _ in reversed(layers)], signed, magnitudes)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) Spearman's rank correlation between the rows of two (n, units) arrays (ties share their mean rank).

    A row that is constant has no order: against a row that has one it counts as 0 (the map changed beyond
    recognition, e.g. a random network whose units are all dead there), against another constant row as 1.
    """
    from scipy.stats import rankdata  # imported here: scipy.stats takes 1.5 s, and the report imports this module

    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    norms = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    flat_a, flat_b = (ra**2).sum(axis=1) == 0, (rb**2).sum(axis=1) == 0
    correlation = np.divide((ra * rb).sum(axis=1), norms, out=np.zeros(len(ra)), where=norms > 0)
    return np.where(flat_a & flat_b, 1.0, correlation)


def _layers_in_forward_order(model: nn.Module, attribute: Callable[[nn.Module], torch.Tensor]
                             ) -> tuple[list[tuple[str, nn.Module]], torch.Tensor]:
    """The modules that own parameters, in the order the forward pass first reaches them (definition order can
    differ: a model may define its head before its encoder), and the trained maps computed on the way. Modules
    whose forward never runs (a layer used only through its weights, or every layer, for a "method" that never
    calls the model) follow in definition order, so they are re-drawn first and a map that ignores the model
    still meets every layer."""
    owners = [(name or f"({type(m).__name__})", m) for name, m in model.named_modules()
              if any(True for _ in m.parameters(recurse=False))]  # the model's own parameters: by its class name
    reached: list[tuple[str, nn.Module]] = []
    def note(name: str, module: nn.Module) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            if all(m is not module for _, m in reached):
                reached.append((name, module))
        return hook
    handles = [m.register_forward_pre_hook(note(name, m)) for name, m in owners]
    try:
        maps = attribute(model)
    finally:
        for handle in handles:
            handle.remove()
    return reached + [(name, m) for name, m in owners if all(m is not r for _, r in reached)], maps


def _redraw(layer: nn.Module) -> None:
    """A layer's own initialisation where it has one; else its parameters shuffled, which keeps their scale and
    destroys what was learned."""
    with torch.no_grad():
        if callable(getattr(layer, "reset_parameters", None)):
            layer.reset_parameters()
            return
        for parameter in layer.parameters(recurse=False):
            flat = parameter.reshape(-1)
            parameter.copy_(flat[torch.randperm(flat.numel(), device=flat.device)].reshape(parameter.shape))


def _rows(maps: torch.Tensor) -> np.ndarray:
    """(n, units): each example's map as one row."""
    maps = torch.as_tensor(maps).detach()
    return maps.reshape(maps.shape[0], -1).double().cpu().numpy()
