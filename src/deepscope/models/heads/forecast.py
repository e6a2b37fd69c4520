"""Multi-step forecasting: (B, D) -> (B, horizon) future values, learnt in scaled units, reported in the original.

    head = HEADS.get("forecast")(64, {"name": "Passengers", "horizon": 12, "shift": 5.5, "scale": 0.4, "log": True})
    z = head(h)                          # (B, 12), scaled like the target channel
    head.loss(z, target)                 # mse (or mae, huber) in scaled units
    head.predict(z)["values"]            # (B, 12) passengers
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.metrics import Metric
from deepscope.models.heads.base import HEADS, Head, HeadOptions

LOSSES = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}


class ForecastMetrics(Metric):
    """MAE, RMSE, MAPE and sMAPE (percent) of forecasts in the data's own units, and the MAE of each step ahead.

    MAPE = mean |F - A| / |A| x 100 over the steps where A != 0; sMAPE = mean 2 |F - A| / (|A| + |F|) x 100
    (0 where both are 0), the M4 competition's definitions. Sums are kept on the device (float64 where it
    has it), so `update` never syncs.

    >>> metric = ForecastMetrics()
    >>> metric.update(torch.tensor([[110.0, 90.0]]), torch.tensor([[100.0, 100.0]]))
    >>> {k: round(v, 3) for k, v in metric.compute().items() if k != "mae_by_step"}
    {'mae': 10.0, 'rmse': 10.0, 'mape': 10.0, 'smape': 10.025, 'n': 1}
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (5,): Σ|e|, Σe², Σ|e|/|A| (A != 0), count(A != 0), Σ sMAPE terms
        self.by_step: torch.Tensor | None = None  # (H,): Σ|e| per step ahead
        self.n = 0  # windows
        self.count = 0  # values

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output, target: (B, H) (or (B,)) in the data's own units."""
        if output.shape != target.shape:
            raise ValueError(f"ForecastMetrics: forecast shape {tuple(output.shape)} != target {tuple(target.shape)}")
        dtype = torch.float32 if output.device.type == "mps" else torch.float64
        forecast = output.detach().to(dtype).reshape(output.shape[0], -1)  # (B, H)
        actual = target.detach().to(dtype).reshape(forecast.shape)
        error = (forecast - actual).abs()
        nonzero = actual != 0
        denominator = actual.abs() + forecast.abs()
        if self.sums is None:
            self.sums = torch.zeros(5, dtype=dtype, device=output.device)
            self.by_step = torch.zeros(forecast.shape[1], dtype=dtype, device=output.device)
        self.sums += torch.stack([
            error.sum(), error.square().sum(),
            torch.where(nonzero, error / actual.abs().clamp(min=1e-300), 0.0).sum(), nonzero.sum().to(dtype),
            torch.where(denominator > 0, 2 * error / denominator.clamp(min=1e-300), 0.0).sum(),
        ])
        self.by_step += error.sum(dim=0)
        self.n += forecast.shape[0]
        self.count += forecast.numel()

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"mae": math.nan, "rmse": math.nan, "mape": math.nan, "smape": math.nan, "n": 0, "mae_by_step": []}
        abs_error, squared_error, relative, nonzero, symmetric = self.sums.double().cpu().tolist()
        return {
            "mae": abs_error / self.count,
            "rmse": math.sqrt(squared_error / self.count),
            "mape": 100 * relative / nonzero if nonzero else math.nan,
            "smape": 100 * symmetric / self.count,
            "n": self.n,
            "mae_by_step": (self.by_step.double().cpu() / self.n).tolist(),
        }


class ForecastHeadOptions(HeadOptions):
    loss: Literal["mse", "mae", "huber"] = "mse"


@HEADS.register("forecast")
class ForecastHead(Head):
    """A linear layer to `horizon` outputs: every step ahead is forecast at once (no feeding back)."""

    Options = ForecastHeadOptions

    def __init__(self, in_features: int, output: dict[str, Any], **options: Any):
        super().__init__(in_features, output, **options)
        self.horizon = int(output.get("horizon", 1))
        self.linear = nn.Linear(in_features, self.horizon)
        # the target's scaling (fitted on the training period), to report in the data's own units
        self.shift, self.scale = float(output.get("shift", 0.0)), float(output.get("scale", 1.0))
        self.log = bool(output.get("log", False))

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, horizon), scaled units
        return self.linear(h)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return LOSSES[self.options.loss](output.float(), target.float())

    def original_units(self, z: torch.Tensor) -> torch.Tensor:
        x = z.double() if z.device.type != "mps" else z.float()
        x = x * self.scale + self.shift
        return x.exp() if self.log else x

    def predict(self, output: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"values": self.original_units(output)}

    def metrics(self) -> ForecastMetrics:
        return ForecastMetrics()

    def update_metrics(self, metric: Metric, output: torch.Tensor, target: torch.Tensor) -> None:
        metric.update(self.original_units(output.detach()), self.original_units(target))
