"""A classification head's outputs on a split, kept from a pass that already runs over it (the final evaluation),
so that calibration is measured without predicting the split a second time (on MNIST's test split, a second of
`deepscope train`).

    with keep_outputs(model, "label", test_data) as kept:
        trainer.evaluate(model, test_data)
    kept.logits_and_targets()     # (logits, targets) of every test row in order, or None

Only batches read straight from the split's own tensors count (slices of them: an evaluation in order, on the
device the data lives on), and only float32 outputs (no autocast: calibration is measured at full precision). If
anything else ran (a sharded evaluation under DDP, batches copied to another device), not every row is kept and
`logits_and_targets` is None: the caller predicts the split itself, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


class KeptOutputs:
    def __init__(self, name: str, targets: torch.Tensor | None) -> None:
        self.name, self.targets = name, targets
        self.storage = targets.untyped_storage().data_ptr() if targets is not None else None
        self.rows = (targets.storage_offset(), targets.storage_offset() + targets.numel()) if targets is not None \
            else (0, 0)  # where the split's targets lie in their storage (splits may share one)
        self.parts: list[tuple[torch.Tensor, torch.Tensor]] = []

    def hook(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        batch = args[0] if args else None
        target = batch.get(self.name) if isinstance(batch, dict) else None
        logits = output.get(self.name) if isinstance(output, dict) else None
        if (isinstance(target, torch.Tensor) and isinstance(logits, torch.Tensor) and logits.dtype == torch.float32
                and target.untyped_storage().data_ptr() == self.storage
                and self.rows[0] <= target.storage_offset() < self.rows[1]):
            self.parts.append((logits.detach(), target))

    def logits_and_targets(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Every row's logits and targets, in the split's order; None unless exactly the split's rows were kept."""
        if not self.parts or self.targets is None:
            return None
        targets = torch.cat([t for _, t in self.parts])
        if not torch.equal(targets, self.targets):  # a row missing or read twice
            return None
        return torch.cat([logits for logits, _ in self.parts]), targets


@contextmanager
def keep_outputs(model: nn.Module, name: str, data: Any) -> Iterator[KeptOutputs]:
    """Keep output `name` of every forward pass of `model` on a slice of `data`'s tensors while inside."""
    tensors = getattr(data, "tensors", None)
    kept = KeptOutputs(name, tensors.get(name) if isinstance(tensors, dict) else None)
    handle = model.register_forward_hook(kept.hook)
    try:
        yield kept
    finally:
        handle.remove()
