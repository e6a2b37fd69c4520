"""How a network's weights start: `init: xavier`, `init: {name: normal, std: 0.01}`, in a config or in Python.

    initialise(model, {"name": "kaiming", "nonlinearity": "relu"})

Applies to the weight matrices of dense, convolution, recurrent and attention layers (every parameter whose name
starts with `weight` or `in_proj_weight` and has two or more dimensions) and sets their biases to `bias` (0 by
default, as in Glorot & Bengio 2010 and Keras). Embedding tables and normalisation layers keep their own start:
a table's row is looked up, not summed over a fan-in, and may hold pretrained vectors.

| name | weights drawn from | std for fan_in inputs, fan_out outputs |
| --- | --- | --- |
| normal | N(mean, std^2) | std (default 0.01) |
| uniform | U(-limit, limit) | limit / sqrt(3) |
| xavier | U or N with Glorot's scale | gain * sqrt(2 / (fan_in + fan_out)) |
| kaiming | N or U with He's scale | gain(nonlinearity) / sqrt(fan_in) (mode fan_in) |
| orthogonal | a (semi-)orthogonal matrix times gain | gain / sqrt(fan_in) for a square matrix |
| default | PyTorch's own per layer (no change) | about 0.58 / sqrt(fan_in) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from deepscope.config.options import parse_options
from deepscope.config.registry import Registry
from deepscope.errors import ConfigError

Nonlinearity = Literal["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


class DefaultOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InitOptions(DefaultOptions):
    bias: float = Field(0.0, description="the value every bias starts at")


class NormalOptions(InitOptions):
    mean: float = 0.0
    std: float = Field(0.01, gt=0.0, description="standard deviation of every weight")


class UniformOptions(InitOptions):
    limit: float = Field(0.05, gt=0.0, description="weights drawn from U(-limit, limit)")


class XavierOptions(InitOptions):
    distribution: Literal["uniform", "normal"] = "uniform"
    gain: float | Nonlinearity = Field(1.0, description="a number, or the activation that follows (tanh: 5/3)")


class KaimingOptions(InitOptions):
    distribution: Literal["normal", "uniform"] = "normal"
    mode: Literal["fan_in", "fan_out"] = Field("fan_in", description="fan_in keeps the forward signal steady, "
                                               "fan_out the backward one")
    nonlinearity: Literal["relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"] = "relu"


class OrthogonalOptions(InitOptions):
    gain: float | Nonlinearity = 1.0


Draw = Callable[[torch.Tensor, Any], None]
INITIALISERS: Registry[tuple[type[DefaultOptions], Draw | None]] = Registry("initialisation")


def _gain(value: float | str) -> float:
    return nn.init.calculate_gain(value) if isinstance(value, str) else float(value)


def _xavier(weight: torch.Tensor, o: XavierOptions) -> None:
    draw = nn.init.xavier_uniform_ if o.distribution == "uniform" else nn.init.xavier_normal_
    draw(weight, gain=_gain(o.gain))


def _kaiming(weight: torch.Tensor, o: KaimingOptions) -> None:
    draw = nn.init.kaiming_normal_ if o.distribution == "normal" else nn.init.kaiming_uniform_
    draw(weight, mode=o.mode, nonlinearity=o.nonlinearity)


INITIALISERS.register("normal")((NormalOptions, lambda w, o: nn.init.normal_(w, o.mean, o.std)))
INITIALISERS.register("uniform")((UniformOptions, lambda w, o: nn.init.uniform_(w, -o.limit, o.limit)))
INITIALISERS.register("xavier")((XavierOptions, _xavier))
INITIALISERS.register("kaiming")((KaimingOptions, _kaiming))
INITIALISERS.register("orthogonal")((OrthogonalOptions, lambda w, o: nn.init.orthogonal_(w, gain=_gain(o.gain))))
INITIALISERS.register("default")((DefaultOptions, None))  # PyTorch's own: nothing to redraw

KEEP_THEIR_OWN = (nn.Embedding, nn.EmbeddingBag, nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def parse_init(spec: Any, where: str) -> tuple[str, DefaultOptions]:
    """`xavier` or `{name: normal, std: 0.01}` -> ("normal", NormalOptions(std=0.01)); mistakes name `where`."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ConfigError(f"{where}: write the initialisation as a name (init: xavier) or a name with settings "
                          f"(init: {{name: normal, std: 0.01}}); choose from {', '.join(INITIALISERS.names())}; "
                          f"got {spec!r}")
    options, _ = INITIALISERS.get(spec["name"], where=f"{where}.name")
    settings = {k: v for k, v in spec.items() if k != "name"}
    return spec["name"], parse_options(options, settings, where, what=f"the {spec['name']} initialisation")


def initialise(module: nn.Module, spec: Any, *, where: str = "init") -> int:
    """Redraw the weights of every layer in `module` as `spec` says; returns how many weight tensors it drew
    (0 for `default` or for a module without weights). `spec=None` leaves the module as it is."""
    if spec is None:
        return 0
    name, options = parse_init(spec, where)
    _, draw = INITIALISERS.get(name)
    if draw is None:
        return 0
    drawn = 0
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, KEEP_THEIR_OWN):
                continue
            for param_name, param in layer.named_parameters(recurse=False):
                if "weight" in param_name and param.dim() >= 2:
                    draw(param, options)
                    drawn += 1
                elif param_name.startswith("bias") or param_name.endswith("_bias"):
                    param.fill_(options.bias)
    return drawn
