"""Regression of one real value, learnt in normalised units and reported in the original ones."""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.metrics import Metric, RegressionMetrics
from deepscope.models.heads.base import HEADS, Head, HeadOptions

LOSSES = {"mse": F.mse_loss, "huber": F.huber_loss, "mae": F.l1_loss}


class NumberHeadOptions(HeadOptions):
    loss: Literal["mse", "huber", "mae"] = "mse"


@HEADS.register("number")
class NumberHead(Head):
    Options = NumberHeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__(in_features, output, **options)
        self.linear = nn.Linear(in_features, 1)
        # the feature's normalisation, to report metrics and predictions in the data's own units
        self.shift = float(output.get("shift", 0.0))
        self.scale = float(output.get("scale", 1.0))

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B,) normalised value
        return self.linear(h).squeeze(-1)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return LOSSES[self.options.loss](output.float(), target.float())

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"value": output.float() * self.scale + self.shift}

    def metrics(self) -> RegressionMetrics:
        return RegressionMetrics()

    def update_metrics(self, metric: Metric, output: torch.Tensor, target: torch.Tensor) -> None:
        metric.update(output.detach().float() * self.scale + self.shift, target.float() * self.scale + self.shift)
