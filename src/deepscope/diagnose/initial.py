"""Before the first step: the loss the untrained network gives, against the loss it should give, and the scale
of every layer's initial weights."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from deepscope.diagnose.probes import WeightProbe


def output_descriptions(model: nn.Module, loss_spec: Any = None) -> dict[str, dict[str, Any]]:
    """{output: {"type": "category", "classes": 10}} from a deepscope model's heads, or from a named loss."""
    heads = getattr(model, "heads", None)
    if isinstance(heads, nn.ModuleDict):
        return {name: _head_description(head) for name, head in heads.items()}
    kinds = {"cross_entropy": "category", "bce": "binary", "mse": "number", "huber": "number", "mae": "number"}
    return {"target": {"type": kinds.get(loss_spec, "unknown")}} if isinstance(loss_spec, str) else {}


def _head_description(head: nn.Module) -> dict[str, Any]:
    kind = type(head).__name__.removesuffix("Head").lower()
    description: dict[str, Any] = {"type": kind}
    if hasattr(head, "num_classes"):
        description["classes"] = int(head.num_classes)
    return description


def expected_initial_loss(outputs: dict[str, dict[str, Any]]) -> float | None:
    """The loss of a network that knows nothing yet: ln C per category output (uniform guesses), ln 2 per
    binary one. None when an output has no such reference (regression)."""
    total = 0.0
    for output in outputs.values():
        if output.get("type") == "category" and output.get("classes"):
            total += math.log(output["classes"])
        elif output.get("type") == "binary":
            total += math.log(2)
        else:
            return None
    return total if outputs else None


def layer_init_scales(probe: WeightProbe, model: nn.Module | None = None) -> list[dict[str, Any]]:
    """Per layer: fan-in, weight standard deviation, and gain = std * sqrt(fan_in) (about 0.6-1.4 for the usual
    PyTorch, Kaiming and Xavier initialisations). Embedding tables are marked `lookup`: a row is picked, not
    summed over a fan-in, so the gain rule does not apply to them."""
    lookups = {f"{name}.weight".removeprefix("module.").removeprefix("_orig_mod.")
               for name, m in (model.named_modules() if model is not None else ())
               if isinstance(m, (nn.Embedding, nn.EmbeddingBag))}
    layers = []
    for name, p in zip(probe.names, probe.params):
        fan_in = p[0].numel()
        std = float(p.detach().float().std()) if p.numel() > 1 else 0.0
        layer = {"name": name, "fan_in": fan_in, "weight_std": std, "gain": std * math.sqrt(fan_in)}
        layers.append({**layer, "lookup": True} if name in lookups else layer)
    return layers


def bias_means(model: nn.Module) -> dict[str, float]:
    """The mean initial bias of each layer that has one (a large negative bias can kill ReLU units at birth)."""
    means = {}
    for name, module in model.named_modules():
        bias = getattr(module, "bias", None)
        if isinstance(bias, torch.Tensor) and bias.dim() == 1 and bias.numel() > 1:
            means[name] = float(bias.detach().float().mean())
    return means
