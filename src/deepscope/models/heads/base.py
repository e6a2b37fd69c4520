"""The head contract: the last layer for one output, with its loss, its metrics and its predictions.

    head = HEADS.get("category")(in_features=256, output={"name": "label", "cardinality": 10})
    logits = head(h)                       # (B, 10)
    head.loss(logits, target)              # cross-entropy (with label smoothing if asked)
    head.predict(logits)["probabilities"]  # (B, 10)
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from deepscope.config.registry import Registry
from deepscope.errors import ConfigError
from deepscope.metrics import Metric

HEADS: Registry[type["Head"]] = Registry("head")


class HeadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Head(nn.Module):
    Options: ClassVar[type[HeadOptions]] = HeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], *, where: str = "data.outputs", **options: Any):
        super().__init__()
        self.name = output["name"]
        try:
            self.options = self.Options(**options)
        except ValidationError as error:
            problems = "; ".join(f"{where}.{self.name}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ConfigError(problems) from None

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def metrics(self) -> Metric:
        raise NotImplementedError

    def update_metrics(self, metric: Metric, output: torch.Tensor, target: torch.Tensor) -> None:
        metric.update(output.detach(), target)
