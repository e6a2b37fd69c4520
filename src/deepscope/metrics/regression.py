"""Metrics of numbers predicted in the data's own units: regression and forecasts."""

from __future__ import annotations

import math
from typing import Any

import torch

from deepscope.metrics.base import Metric, summed


class RegressionMetrics(Metric):
    """Mean absolute error, root mean squared error and R² of predictions in the data's own units.

    The caller de-normalises first (the number head does), so the errors read in the target's units.
    With K outputs per sample, (B, K), every element counts once: R² is over all elements flattened, and
    `n` is the number of samples B.

    Only five running sums are kept on the device, in float64 (float32 where the device has no float64, MPS).
    The target sums are taken about the first batch's mean, which keeps SST = Σ(y - c)² - (Σ(y - c))² / N
    accurate when the targets have a large mean and a small spread (prices, years, kelvins).

    >>> metric = RegressionMetrics()
    >>> metric.update(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 3.0, 5.0]))
    >>> result = metric.compute()
    >>> round(result["mae"], 4), round(result["rmse"], 4), round(result["r2"], 4)
    (0.6667, 0.8165, 0.75)
    """

    directions = {"mae": "min", "rmse": "min", "r2": "max"}

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (4,): Σ|e|, Σe², Σ(y - c), Σ(y - c)²
        self.shift: torch.Tensor | None = None  # () c, the first batch's mean target
        self.n = 0  # samples; a Python int, read from shapes, so counting never syncs
        self.count = 0  # elements

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: predictions (B,) or (B, K); target: the same shape (or the same number of elements)."""
        if output.numel() != target.numel():
            raise ValueError(f"RegressionMetrics: prediction shape {tuple(output.shape)} does not match "
                             f"target shape {tuple(target.shape)}")
        dtype = torch.float32 if output.device.type == "mps" else torch.float64
        prediction, target = output.detach().reshape(-1).to(dtype), target.detach().reshape(-1).to(dtype)
        if self.sums is None:
            self.sums = torch.zeros(4, dtype=dtype, device=output.device)
            self.shift = target.mean() if target.numel() else torch.zeros((), dtype=dtype, device=output.device)
        error, centred = prediction - target, target - self.shift
        self.sums += torch.stack([error.abs().sum(), error.square().sum(), centred.sum(), centred.square().sum()])
        self.n += output.shape[0] if output.dim() else 1
        self.count += target.numel()

    def merge(self, other: RegressionMetrics) -> None:
        if other.sums is None:
            return
        if self.sums is None:
            self.sums, self.shift = other.sums.clone(), other.shift
        else:  # move the other's target sums from its shift c' to ours c: y - c = (y - c') + d, d = c' - c
            d = other.shift.to(self.sums) - self.shift
            abs_error, squared_error, centred, centred_squared = other.sums.to(self.sums).unbind()
            self.sums += torch.stack([abs_error, squared_error, centred + other.count * d,
                                      centred_squared + 2 * d * centred + other.count * d * d])
        self.n += other.n
        self.count += other.count

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"mae": math.nan, "rmse": math.nan, "r2": math.nan, "n": self.n}
        abs_error, squared_error, centred, centred_squared = self.sums.double().cpu().tolist()
        total = max(centred_squared - centred * centred / self.count, 0.0)  # SST, Σ(y - ȳ)²
        if total > 0:
            r2 = 1.0 - squared_error / total
        else:  # constant targets: scikit-learn's convention (force_finite=True)
            r2 = 1.0 if squared_error == 0 else 0.0
        return {
            "mae": abs_error / self.count,
            "rmse": math.sqrt(squared_error / self.count),
            "r2": r2,
            "n": self.n,
        }


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

    directions = {"mae": "min", "rmse": "min", "mape": "min", "smape": "min"}

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

    def merge(self, other: ForecastMetrics) -> None:
        self.sums, self.by_step = summed(self.sums, other.sums), summed(self.by_step, other.by_step)
        self.n += other.n
        self.count += other.count

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
