"""Numeric precision as a small object: fp32 is the plain behaviour, bf16/fp16 override a few hooks.

    precision = get_precision("bf16", device)
    with precision.autocast():
        loss = model.loss(model(batch), batch)
    precision.backward(loss)
    precision.step(optimizer)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from deepscope.errors import ConfigError


class Precision:
    """fp32: no autocast, no loss scaling."""

    name = "fp32"

    def __init__(self, device: torch.device):
        self.device = device

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        yield

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Bring gradients to their true scale before clipping (a no-op without loss scaling)."""

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class BF16(Precision):
    """bfloat16 autocast: fp32's range, so no loss scaling is needed."""

    name = "bf16"

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            yield


class FP16(Precision):
    """float16 autocast with dynamic loss scaling (GradScaler), for GPUs without fast bf16."""

    name = "fp16"

    def __init__(self, device: torch.device):
        super().__init__(device)  # the CPU runs it too (slowly): the CPU suite tests the same code a GPU runs
        self.scaler = torch.amp.GradScaler(device.type)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        with torch.autocast(self.device.type, dtype=torch.float16):
            yield

    def backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.scaler.state_dict().items() if isinstance(v, (int, float, bool))}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            self.scaler.load_state_dict(state)


PRECISIONS = {"fp32": Precision, "bf16": BF16, "fp16": FP16}


def get_precision(name: str, device: torch.device) -> Precision:
    if name not in PRECISIONS:
        raise ConfigError(f"train.precision: unknown {name!r}; choose one of {', '.join(PRECISIONS)}")
    if name == "fp16" and device.type != "cuda":  # float16 pays on tensor cores only; bf16 needs no scaling
        raise ConfigError("train.precision: fp16 needs a CUDA GPU; on the CPU use bf16 or fp32")
    return PRECISIONS[name](device)
