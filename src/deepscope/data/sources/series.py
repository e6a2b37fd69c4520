"""A `data.series` config -> the raw splits (windows per split) and the unfitted history and forecast features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.data.sources import TABLE_OPTIONS
from deepscope.data.timeseries import format_time, read_series
from deepscope.data.windows import SeriesWindows, split_periods
from deepscope.errors import ConfigError

HISTORY = "history"  # the name of the model input: the lookback window


def load_series_splits(config: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """`data:` with a `series:` section -> (RawData of SeriesWindows per split, {history: feature},
    {target: feature}), the features not yet fitted. `config` is a DataConfig."""
    from deepscope.data.features.forecast import ForecastFeature
    from deepscope.data.features.timeseries import TimeseriesFeature
    from deepscope.data.sources.base import RawData

    s = config.series
    _check_series_config(config)
    series = read_series(config.source, time=s.time, values=s.values, target=s.target, categorical=s.categorical,
                         fill=s.fill, **{key: getattr(config, key) for key in TABLE_OPTIONS})
    target = s.target or series.columns[0]
    periods = split_periods(len(series), lookback=s.lookback, horizon=s.horizon, holdout=s.holdout, val=s.val)
    splits = {}
    for split, (start, stop) in periods.items():
        windows = SeriesWindows.for_period(series, start, stop, lookback=s.lookback, horizon=s.horizon,
                                           stride=s.stride if split == "train" else 1)
        splits[split] = {HISTORY: windows, target: windows}
    history = TimeseriesFeature(HISTORY, {"time": s.time, "values": series.columns, "target": target,
                                          "categorical": list(series.categories), "fill": s.fill,
                                          "lookback": s.lookback, "scale": s.scale, "covariates": s.covariates,
                                          "relative": s.relative},
                                where="data.series")
    forecast = ForecastFeature(target, {"target": target, "horizon": s.horizon, "scale": s.scale, "loss": s.loss},
                               where="data.series")
    description = (f"series {Path(series.source).name}: {len(series)} steps, {format_time(series.times[0])} to "
                   f"{format_time(series.times[-1])}; " + ", ".join(f"{k} {a}-{b}" for k, (a, b) in periods.items()))
    raw = RawData(splits, {HISTORY: "timeseries"}, {target: "forecast"}, description=description)
    return raw, {HISTORY: history}, {target: forecast}


def _check_series_config(config: Any) -> None:
    if config.inputs or config.outputs:
        raise ConfigError("data.inputs / data.outputs: with data.series, the input is the lookback window of "
                          "series.values and the output the next series.horizon steps of series.target; remove them")
    if config.split != type(config.split)():  # changed from the defaults (a saved config holds them all)
        raise ConfigError("data.split: a series is split by time: set data.series.holdout (test steps) and "
                          "data.series.val (validation steps) instead")
    if config.augment != type(config.augment)():
        raise ConfigError("data.augment: augmentation is for images; remove it for a series")
