"""Before the first step: the loss the untrained network gives, against the loss it should give, and the scale
of every layer's initial weights."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from deepscope.diagnose.probes import WeightProbe, layer_name


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
    smoothing = getattr(getattr(head, "options", None), "label_smoothing", None)
    if isinstance(smoothing, (int, float)) and smoothing > 0:  # sets a floor under the loss (see loss_floor)
        description["label_smoothing"] = float(smoothing)
    return description


def loss_floor(outputs: dict[str, dict[str, Any]]) -> float:
    """The lowest loss a perfect model can reach: 0, except under label smoothing, which asks a category output
    for probability 1 - s + s/C on the right class and s/C on each other one; a model that gives exactly that
    still pays their entropy (0.50 for s = 0.1 and 10 classes, 0.20 for 2)."""
    floor = 0.0
    for output in outputs.values():
        s, classes = output.get("label_smoothing") or 0.0, output.get("classes")
        if output.get("type") == "category" and s > 0 and classes and classes > 1:
            right, other = 1 - s + s / classes, s / classes
            floor += -right * math.log(right) - (classes - 1) * other * math.log(other)
    return floor


# activation modules by type; what the diagnostics advise depends on them (a deep ReLU net is not a sigmoid one)
ACTIVATION_NAMES = {nn.ReLU: "relu", nn.ReLU6: "relu", nn.LeakyReLU: "leaky_relu", nn.PReLU: "leaky_relu",
                    nn.GELU: "gelu", nn.SiLU: "silu", nn.ELU: "elu", nn.SELU: "selu", nn.Mish: "mish",
                    nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardtanh: "tanh", nn.Softplus: "softplus"}


def activation_counts(model: nn.Module) -> dict[str, int]:
    """{activation: number of modules} in the model, e.g. {"relu": 20} (activations applied as functions inside a
    module's forward are not seen)."""
    counts: dict[str, int] = {}
    for module in model.modules():
        kind = ACTIVATION_NAMES.get(type(module))
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


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
    lookups = {layer_name(f"{name}.weight")
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
            means[layer_name(name)] = float(bias.detach().float().mean())
    return means
