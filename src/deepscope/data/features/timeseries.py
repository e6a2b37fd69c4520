"""Windows of a numeric series as a model input: (N, lookback, C) floats, scaled with training-period statistics.

The channels are the value columns, each scaled on its own (statistics of the training period only), then
the calendar covariates as sin/cos pairs (month, day of year, ...), which need no fitting.

    feature = TimeseriesFeature("history", {"time": "Month", "values": ["Passengers"], "target": "Passengers",
                                            "lookback": 24, "scale": "log", "covariates": ["month"]})
    feature.fit(train_windows)            # SeriesWindows of the training period
    feature.encode(test_windows).shape    # (N, 24, 3): passengers, sin(month), cos(month)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions
from deepscope.data.timeseries import Series, calendar_covariates
from deepscope.data.windows import SeriesWindows, sliding
from deepscope.errors import DataError

Scale = Literal["standard", "minmax", "log", "none"]
Covariate = Literal["month", "day_of_year", "day_of_week", "hour"]


def fit_scaling(values: np.ndarray, method: str, where: str) -> dict[str, Any]:
    """{shift, scale, log}: z = (f(v) - shift) / scale with f = log when `log`, else the identity.

    `log` is the natural log then standardisation: it turns growth by a percentage into growth by a constant
    (airline passengers), which a model extrapolates far better.

    >>> fit_scaling(np.array([1.0, 3.0]), "standard", "x")
    {'shift': 2.0, 'scale': 1.0, 'log': False}
    """
    log = method == "log"
    if log and (values <= 0).any():
        raise DataError(f"{where}: scale: log needs positive values, and the training period holds "
                        f"{values.min():g}; use scale: standard")
    x = np.log(values) if log else values
    if method in ("standard", "log"):
        shift, scale = float(x.mean()), float(x.std())
    elif method == "minmax":
        shift, scale = float(x.min()), float(x.max() - x.min())
    else:
        shift, scale = 0.0, 1.0
    return {"shift": shift, "scale": scale if scale > 0 else 1.0, "log": log}


def apply_scaling(values: np.ndarray, scaling: dict[str, Any], where: str) -> np.ndarray:
    if scaling["log"]:
        if (values <= 0).any():
            raise DataError(f"{where}: scale: log needs positive values, and the series holds {values.min():g}")
        values = np.log(values)
    return (values - scaling["shift"]) / scaling["scale"]


class TimeseriesOptions(FeatureOptions):
    time: str
    values: list[str]
    target: str
    lookback: int = Field(24, ge=1)
    scale: Scale = "standard"
    relative: bool = False  # the model sees the window minus its last value (models/layers/window_level.py)
    covariates: list[Covariate] = Field(default_factory=list)


@FEATURES.register("timeseries")
class TimeseriesFeature(Feature):
    """The lookback window of a series: value channels scaled, then calendar sin/cos channels.

    encode(SeriesWindows) -> FloatTensor (N, lookback, C); encode(Series) -> the window at its end, (1, L, C);
    encode([Series, ...]) -> one window per series.
    """

    type = "timeseries"
    kind = "sequence"
    Options = TimeseriesOptions

    def _fit(self, windows: SeriesWindows) -> dict[str, Any]:
        series = _series(windows)
        o = self.options
        scaling = [fit_scaling(series.column(c), o.scale, self._where(c)) for c in o.values]
        names = list(o.values) + [f"{c}_{f}" for c in o.covariates for f in ("sin", "cos")]
        step = series.step if len(series) > 1 else None
        return {
            "channels": len(names),
            "length": o.lookback,
            "channel_names": names,
            "target_channel": o.values.index(o.target),
            "scaling": scaling,
            "step": _step_state(step),
        }

    def steps(self, series: Series) -> np.ndarray:
        """(n, C) float32: every step of the series encoded (scaled values, then covariates)."""
        missing = [c for c in self.options.values if c not in series.columns]
        if missing:
            raise DataError(f"{series.source}: no column(s) {missing}; this model reads {self.options.values}")
        scaled = [apply_scaling(series.column(c), s, self._where(c))
                  for c, s in zip(self.options.values, self.fitted["scaling"])]
        parts = [np.stack(scaled, axis=1), calendar_covariates(series.times, list(self.options.covariates))]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def encode(self, windows: SeriesWindows | Series | list[Series]) -> torch.Tensor:
        if isinstance(windows, (list, tuple)):  # a batch of series, each forecast from its end (prediction)
            return torch.cat([self.encode(series) for series in windows]) if windows else torch.zeros(0)
        if isinstance(windows, Series):
            windows = SeriesWindows.at_end(windows, lookback=self.options.lookback, horizon=0)
        lookback = self.options.lookback
        if len(windows.origins) and windows.origins.min() < lookback:
            raise DataError(f"{windows.series.source}: a window needs {lookback} steps before it (lookback), and "
                            f"only {int(windows.origins.min())} are given; give at least {lookback} rows")
        return torch.from_numpy(sliding(self.steps(windows.series), windows.origins, lookback, -lookback))  # (N, L, C)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "covariates": list(self.options.covariates), "relative": self.options.relative,
                "value_channels": len(self.options.values)}

    def _where(self, column: str) -> str:
        return f"data.series ({column})"


def _series(windows: Any) -> Series:
    if isinstance(windows, SeriesWindows):
        return windows.series
    if isinstance(windows, Series):
        return windows
    raise TypeError(f"time series features read SeriesWindows or Series, not {type(windows).__name__}")


def _step_state(step: Any) -> list[Any] | None:
    """np.timedelta64(1, 'M') -> [1, "M"]; an int step -> [1, ""] (JSON for the fitted state)."""
    if step is None:
        return None
    if isinstance(step, np.timedelta64):
        unit = np.datetime_data(step.dtype)[0]
        return [int(step.astype(np.int64)), unit]
    return [int(step), ""]


def step_from_state(state: list[Any] | None) -> Any:
    if state is None:
        return None
    count, unit = state
    return np.timedelta64(count, unit) if unit else count
