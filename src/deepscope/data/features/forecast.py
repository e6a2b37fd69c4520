"""The future of the target as a model output: (N, horizon) values, scaled exactly like the target channel.

Scaling is fitted on the training period with the same method as the input window's target channel, so the
two agree by construction; the head learns in these units and reports its metrics in the original ones.

    feature = ForecastFeature("Passengers", {"target": "Passengers", "horizon": 12, "scale": "log"})
    feature.fit(train_windows)
    feature.encode(test_windows).shape          # (N, 12)
    feature.decode({"values": values})[0]       # {"Passengers": [417.2, 391.0, ...]} in passengers
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import Field

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions
from deepscope.data.features.timeseries import Scale, apply_scaling, fit_scaling
from deepscope.data.windows import SeriesWindows, sliding
from deepscope.errors import DataError


class ForecastOptions(FeatureOptions):
    target: str
    horizon: int = Field(1, ge=1)
    scale: Scale = "standard"


@FEATURES.register("forecast")
class ForecastFeature(Feature):
    """`horizon` future steps of one column. As a head's target: (N, horizon) float32 in scaled units."""

    type = "forecast"
    kind = "forecast"
    Options = ForecastOptions
    output_only = True

    def _fit(self, windows: SeriesWindows) -> dict[str, Any]:
        values = windows.series.column(self.options.target)
        return {"horizon": self.options.horizon, **fit_scaling(values, self.options.scale, self._where)}

    def encode(self, windows: SeriesWindows) -> torch.Tensor:
        horizon, series = self.options.horizon, windows.series
        if len(windows.origins) and windows.origins.max() + horizon > len(series):
            raise DataError(f"{series.source}: a window's {horizon} target steps run past the series' end")
        scaled = apply_scaling(series.column(self.options.target), self.fitted, self._where)
        targets = sliding(scaled[:, None], windows.origins, horizon, 0)[..., 0]  # (N, horizon)
        return torch.from_numpy(targets.astype(np.float32))

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """{"values": (B, horizon) in original units} -> [{name: [horizon floats]}, ...]."""
        values = output["values"].detach().double().cpu().numpy()
        return [{self.name: row.tolist()} for row in values]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "where": "data.series"}  # its head's options come from data.series

    @property
    def _where(self) -> str:
        return f"data.series ({self.options.target})"
