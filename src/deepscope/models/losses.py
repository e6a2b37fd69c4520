"""Losses by the names configs and the Trainer use; the heads and the trainer's task for plain modules share them.

Each loss says what its target is: class indices ("class"), 0/1 ("binary") or real values ("value"), so a
plain module trained with a loss gets the metrics that go with it, and a head can list the losses it takes.

    LOSSES.get("huber")(prediction, target)              # a scalar tensor
    loss_names("value")                                   # ['huber', 'mae', 'mse']

Every loss takes `example_weights` (B,), per-example weights (`data.weights`, data/weights.py): the loss is then
the weighted mean sum(w * loss) / sum(w) of the per-example losses (an example's loss of a forecast: its mean over
the horizon), so its scale is that of the unweighted loss. Without them each loss is PyTorch's own, unchanged.
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
                  label_smoothing: float = 0.0, example_weights: torch.Tensor | None = None) -> torch.Tensor:
    """output: logits (B, C); target: class indices (B,); weight: per class (C,), as PyTorch's."""
    if example_weights is None:
        return F.cross_entropy(output.float(), target, weight=weight, label_smoothing=label_smoothing)
    losses = F.cross_entropy(output.float(), target, weight=weight, label_smoothing=label_smoothing, reduction="none")
    # PyTorch's mean divides by the class weights of the targets: the example weights join them there
    total = example_weights.float() * (weight[target] if weight is not None else 1.0)
    return (example_weights.float() * losses).sum() / total.sum()


@register("bce", "binary")
def binary_cross_entropy(output: torch.Tensor, target: torch.Tensor, *, pos_weight: torch.Tensor | None = None,
                         example_weights: torch.Tensor | None = None) -> torch.Tensor:
    """output: logits, (B,) or (B, 1); target: 0/1 of the same number of elements."""
    reduction = "mean" if example_weights is None else "none"
    losses = F.binary_cross_entropy_with_logits(output.float().reshape(target.shape), target.float(),
                                                pos_weight=pos_weight, reduction=reduction)
    return losses if example_weights is None else weighted_mean(losses, example_weights)


@register("mse", "value")
def mse(output: torch.Tensor, target: torch.Tensor, *, example_weights: torch.Tensor | None = None) -> torch.Tensor:
    return _value_loss(F.mse_loss, output, target, example_weights)


@register("mae", "value")
def mae(output: torch.Tensor, target: torch.Tensor, *, example_weights: torch.Tensor | None = None) -> torch.Tensor:
    return _value_loss(F.l1_loss, output, target, example_weights)


@register("huber", "value")
def huber(output: torch.Tensor, target: torch.Tensor, *, example_weights: torch.Tensor | None = None) -> torch.Tensor:
    return _value_loss(F.huber_loss, output, target, example_weights)


def _value_loss(loss: Callable[..., torch.Tensor], output: torch.Tensor, target: torch.Tensor,
                example_weights: torch.Tensor | None) -> torch.Tensor:
    output, target = output.float().reshape(target.shape), target.float()
    if example_weights is None:
        return loss(output, target)
    return weighted_mean(loss(output, target, reduction="none"), example_weights)


def weighted_mean(losses: torch.Tensor, example_weights: torch.Tensor) -> torch.Tensor:
    """sum(w * loss) / sum(w) over examples; losses (B,) or (B, ...), averaged over the rest per example first."""
    per_example = losses.reshape(len(example_weights), -1).mean(dim=1)
    weights = example_weights.float()
    return (weights * per_example).sum() / weights.sum()
