"""Windows of a numeric series as a model input: (N, lookback, C) floats, scaled with training-period statistics.

The channels are, in this order: the number columns, each scaled on its own (statistics of the training period
only); one 0/1 channel per category of each categorical column (the categories of the training period, sorted;
a category never seen there is all zeros, like an unknown category of a table); then the calendar covariates as
sin/cos pairs (month, day of year, ...), which need no fitting.

    feature = TimeseriesFeature("history", {"time": "Month", "values": ["Passengers"], "target": "Passengers",
                                            "lookback": 24, "scale": "log", "covariates": ["month"]})
    feature.fit(train_windows)            # SeriesWindows of the training period
    feature.encode(test_windows).shape    # (N, 24, 3): passengers, sin(month), cos(month)
    # categorical: ["cbwd"] adds cbwd=NE, cbwd=NW, cbwd=SE, cbwd=cv after the number channels
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from deepscope.config.series import FillMethod
from deepscope.data.features.base import FEATURES, Feature, FeatureOptions
from deepscope.data.timeseries import Series, calendar_covariates
from deepscope.data.windows import SeriesWindows, sliding
from deepscope.errors import DataError

Scale = Literal["standard", "minmax", "log", "none"]
Covariate = Literal["month", "day_of_year", "day_of_week", "hour"]
MAX_CATEGORIES = 100  # one-hot channels per categorical column; more is an identifier, not a category


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
    time: str | list[str]  # the column, or its parts' columns (data.series.time)
    values: list[str]  # the number columns
    target: str
    categorical: list[str] = Field(default_factory=list)
    fill: FillMethod | dict[str, FillMethod] | None = None  # so that prediction fills a CSV's gaps as training did
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
        self._check_columns(series)
        o = self.options
        scaling = [fit_scaling(series.column(c), o.scale, self._where(c)) for c in o.values]
        vocabularies = {c: self._vocabulary(series, c) for c in o.categorical}
        names = (list(o.values) + [f"{c}={v}" for c, vocabulary in vocabularies.items() for v in vocabulary]
                 + [f"{c}_{f}" for c in o.covariates for f in ("sin", "cos")])
        step = series.step if len(series) > 1 else None
        return {
            "channels": len(names),
            "length": o.lookback,
            "channel_names": names,
            "target_channel": o.values.index(o.target),
            "scaling": scaling,
            "vocabularies": vocabularies,
            "step": _step_state(step),
        }

    def _check_columns(self, series: Series) -> None:
        o = self.options
        missing = [c for c in o.values if c not in series.columns]
        missing += [c for c in o.categorical if c not in series.categories]
        if missing:
            raise DataError(f"{series.source}: no column(s) {missing}; this model reads {o.values + o.categorical}"
                            + (f" (categorical: {o.categorical})" if o.categorical else ""))

    def _vocabulary(self, series: Series, column: str) -> list[str]:
        vocabulary = sorted({str(v) for v in series.categories[column]})
        if len(vocabulary) > MAX_CATEGORIES:
            raise DataError(f"{self._where(column)}: {len(vocabulary)} different values in the training period, "
                            f"more than {MAX_CATEGORIES} one-hot channels; this is not a category (an id or a "
                            "free text?): remove it from data.series.categorical and data.series.values")
        return vocabulary

    def steps(self, series: Series) -> np.ndarray:
        """(n, C) float32: every step of the series encoded (scaled values, then covariates)."""
        self._check_columns(series)
        scaled = [apply_scaling(series.column(c), s, self._where(c))
                  for c, s in zip(self.options.values, self.fitted["scaling"])]
        one_hot = [one_hot_channels(series.categories[c], vocabulary)
                   for c, vocabulary in self.fitted.get("vocabularies", {}).items()]
        parts = [np.stack(scaled, axis=1), *one_hot, calendar_covariates(series.times, list(self.options.covariates))]
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


def one_hot_channels(labels: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    """(n,) categories -> (n, len(vocabulary)) 0/1; a category outside the vocabulary is all zeros.

    >>> one_hot_channels(np.array(["NW", "cv", "SW"], dtype=object), ["NW", "cv"])
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    index = {label: i for i, label in enumerate(vocabulary)}
    codes = np.array([index.get(str(label), -1) for label in labels], dtype=np.int64)
    return (codes[:, None] == np.arange(len(vocabulary))[None, :]).astype(np.float64)


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
