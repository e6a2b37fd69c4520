"""Losses by the names configs and the Trainer use; the heads and the trainer's task for plain modules share them.

Each loss says what its target is: class indices ("class"), 0/1 ("binary") or real values ("value"), so a
plain module trained with a loss gets the metrics that go with it, and a head can list the losses it takes.

    LOSSES.get("huber")(prediction, target)              # a scalar tensor
    loss_names("value")                                   # ['huber', 'mae', 'mse']
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from deepscope.config.registry import Registry

Loss = Callable[..., torch.Tensor]
LOSSES: Registry[Loss] = Registry("loss")


def register(name: str, target: str) -> Callable[[Loss], Loss]:
    def add(loss: Loss) -> Loss:
        loss.target = target  # type: ignore[attr-defined]
        return LOSSES.register(name)(loss)
    return add


def loss_names(target: str) -> list[str]:
    """The registered losses for one kind of target: "class", "binary" or "value"."""
    return [name for name, loss in LOSSES.items() if loss.target == target]  # type: ignore[attr-defined]


# computed in float32 under bf16/fp16 autocast: reductions over a batch lose too much in half precision
@register("cross_entropy", "class")
def cross_entropy(output: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
                  label_smoothing: float = 0.0) -> torch.Tensor:
    """output: logits (B, C); target: class indices (B,)."""
    return F.cross_entropy(output.float(), target, weight=weight, label_smoothing=label_smoothing)


@register("bce", "binary")
def binary_cross_entropy(output: torch.Tensor, target: torch.Tensor, *,
                         pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """output: logits, (B,) or (B, 1); target: 0/1 of the same number of elements."""
    return F.binary_cross_entropy_with_logits(output.float().reshape(target.shape), target.float(),
                                              pos_weight=pos_weight)


@register("mse", "value")
def mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output.float().reshape(target.shape), target.float())


@register("mae", "value")
def mae(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(output.float().reshape(target.shape), target.float())


@register("huber", "value")
def huber(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.huber_loss(output.float().reshape(target.shape), target.float())
