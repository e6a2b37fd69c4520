"""Classification into one of C classes: logits, cross-entropy (optionally label-smoothed), softmax."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.metrics import ClassificationMetrics
from deepscope.models.heads.base import HEADS, Head, HeadOptions
from deepscope.models.losses import cross_entropy


class CategoryHeadOptions(HeadOptions):
    # 0.1 by default: better accuracy for free on most classification tasks (Szegedy et al. 2016)
    label_smoothing: float = Field(0.1, ge=0.0, lt=1.0)
    top_k: int = Field(5, ge=1)
    class_weights: list[float] | None = None


@HEADS.register("category")
class CategoryHead(Head):
    Options = CategoryHeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__(in_features, output, **options)
        self.num_classes = int(output["cardinality"])
        self.linear = nn.Linear(in_features, self.num_classes)
        weights = self.options.class_weights
        self.register_buffer("class_weights", torch.tensor(weights) if weights else None, persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, C) logits
        return self.linear(h)

    def loss(self, output: torch.Tensor, target: torch.Tensor, example_weights: torch.Tensor | None = None
             ) -> torch.Tensor:
        return cross_entropy(output, target, weight=self.class_weights, label_smoothing=self.options.label_smoothing,
                             example_weights=example_weights)

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        probabilities = output.float().softmax(dim=-1)
        return {"probabilities": probabilities, "class": probabilities.argmax(dim=-1)}

    def metrics(self) -> ClassificationMetrics:
        return ClassificationMetrics(self.num_classes, top_k=self.options.top_k)
