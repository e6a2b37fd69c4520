"""Regression: real values learnt in scaled units and reported in the data's own; one value or a forecast.

A `number` output is one value per example, (B,); a `forecast` output is the next `horizon` steps of a series,
(B, horizon), all forecast at once (no feeding back). Both are this head; the output's description says which.

    head = HEADS.get("number")(64, {"name": "price", "type": "number", "shift": 250.0, "scale": 80.0})
    head(h).shape                        # (B,)
    head = HEADS.get("forecast")(64, {"name": "Passengers", "type": "forecast", "horizon": 12, "shift": 5.5,
                                      "scale": 0.4, "log": True})
    z = head(h)                          # (B, 12), scaled like the target channel
    head.loss(z, target)                 # mse (or mae, huber) in scaled units
    head.predict(z)["values"]            # (B, 12) passengers
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import field_validator
from torch import nn

from deepscope.metrics import ForecastMetrics, Metric, RegressionMetrics
from deepscope.models.heads.base import HEADS, Head, HeadOptions
from deepscope.models.losses import LOSSES, loss_names


class RegressionHeadOptions(HeadOptions):
    loss: str = "mse"

    @field_validator("loss")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in loss_names("value"):
            raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(loss_names('value'))}")
        return name


@HEADS.register("number")
@HEADS.register("forecast")
class RegressionHead(Head):
    """A linear layer to one value, or to `horizon` values when the output description has a horizon."""

    Options = RegressionHeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__(in_features, output, **options)
        self.horizon = int(output["horizon"]) if output.get("horizon") is not None else None
        self.linear = nn.Linear(in_features, self.horizon or 1)
        # the target's scaling (fitted on the training data), to report in the data's own units
        self.shift, self.scale = float(output.get("shift", 0.0)), float(output.get("scale", 1.0))
        self.log = bool(output.get("log", False))
        self.loss_function = LOSSES.get(self.options.loss)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, horizon), or (B,) for one value
        z = self.linear(h)
        return z if self.horizon else z.squeeze(-1)

    def loss(self, output: torch.Tensor, target: torch.Tensor, example_weights: torch.Tensor | None = None
             ) -> torch.Tensor:
        if example_weights is None:
            return self.loss_function(output, target)
        return self.loss_function(output, target, example_weights=example_weights)

    def original_units(self, z: torch.Tensor) -> torch.Tensor:
        x = z.double() if z.device.type != "mps" else z.float()  # float64 keeps large values (prices, years) exact
        x = x * self.scale + self.shift
        return x.exp() if self.log else x

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"values" if self.horizon else "value": self.original_units(output)}

    def metrics(self) -> Metric:
        return ForecastMetrics() if self.horizon else RegressionMetrics()

    def update_metrics(self, metric: Metric, output: torch.Tensor, target: torch.Tensor) -> None:
        metric.update(self.original_units(output.detach()), self.original_units(target))
