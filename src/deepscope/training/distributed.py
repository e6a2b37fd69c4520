"""Where training runs, as a small object. `SingleDevice` is the plain behaviour; a DDP strategy (torchrun)
overrides the same hooks."""

from __future__ import annotations

import torch
from torch import nn

from deepscope.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when there is a GPU, else the CPU; `cuda`, `cuda:1`, `cpu`, `mps` are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"train.device: unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: cuda was asked for but no CUDA GPU is available; use device: auto or cpu")
    return device


class SingleDevice:
    """One process, one device."""

    is_main = True
    world_size = 1

    def __init__(self, device: torch.device):
        self.device = device

    def setup(self, model: nn.Module) -> nn.Module:
        model = model.to(self.device)
        if any(isinstance(m, nn.Conv2d) for m in model.modules()):
            # NHWC convolutions are faster on current CPUs (oneDNN) and on tensor-core GPUs; results are the same
            model = model.to(memory_format=torch.channels_last)
        return model

    def reduce_mean(self, value: torch.Tensor) -> torch.Tensor:
        return value


Strategy = SingleDevice  # what a strategy is: the plain behaviour, whose hooks a DDP strategy overrides
