"""Yes/no prediction: one logit, binary cross-entropy, sigmoid."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.metrics import BinaryMetrics
from deepscope.models.heads.base import HEADS, Head, HeadOptions
from deepscope.models.losses import binary_cross_entropy


class BinaryHeadOptions(HeadOptions):
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    pos_weight: float | None = Field(None, gt=0.0, description="weight of positive examples (imbalance)")


@HEADS.register("binary")
class BinaryHead(Head):
    Options = BinaryHeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__(in_features, output, **options)
        self.linear = nn.Linear(in_features, 1)
        weight = self.options.pos_weight
        self.register_buffer("pos_weight", torch.tensor(weight) if weight else None, persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B,) logits
        return self.linear(h).squeeze(-1)

    def loss(self, output: torch.Tensor, target: torch.Tensor, example_weights: torch.Tensor | None = None
             ) -> torch.Tensor:
        return binary_cross_entropy(output, target, pos_weight=self.pos_weight, example_weights=example_weights)

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        probability = output.float().sigmoid()
        return {"probability": probability, "class": (probability >= self.options.threshold).long()}

    def metrics(self) -> BinaryMetrics:
        return BinaryMetrics(threshold=self.options.threshold)
