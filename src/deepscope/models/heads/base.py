"""The head contract: the last layer for one output, with its loss, its metrics and its predictions.

A head declares its options (loss settings such as label smoothing) once, in its `Options`; an output's
config options that its feature does not take are the head's.

    head = HEADS.get("category")(in_features=256, output={"name": "label", "type": "category", "cardinality": 10})
    logits = head(h)                       # (B, 10)
    head.loss(logits, target)              # cross-entropy (with label smoothing if asked)
    head.predict(logits)["probabilities"]  # (B, 10)
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from deepscope.config.options import parse_options
from deepscope.config.registry import Registry
from deepscope.metrics import Metric

HEADS: Registry[type[Head]] = Registry("head")


class HeadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Head(nn.Module):
    """Base class. `output` is the output feature's description (name, type, and what the feature fitted)."""

    Options: ClassVar[type[HeadOptions]] = HeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__()
        self.name = output["name"]
        where = output.get("where") or f"data.outputs.{self.name}"
        self.options = parse_options(self.Options, options, where, what=f"the {output.get('type', '?')} head")

    def loss(self, output: torch.Tensor, target: torch.Tensor, example_weights: torch.Tensor | None = None
             ) -> torch.Tensor:
        """The batch's loss; with `example_weights` (B,) (`data.weights`), their weighted mean (models/losses.py)."""
        raise NotImplementedError

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def metrics(self) -> Metric:
        raise NotImplementedError

    def update_metrics(self, metric: Metric, output: torch.Tensor, target: torch.Tensor) -> None:
        metric.update(output.detach(), target)
