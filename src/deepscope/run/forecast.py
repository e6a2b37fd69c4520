"""Forecast evaluation beside naive baselines, and forecasts from a CSV's tail.

Two evaluations of each held-out period (validation and test), for the model and two baselines that need no
training, so that a person sees whether the network earns its keep:

- one step ahead: at every step t of the period, forecast y[t] from the true values before it (the first
  step of the model's forecast; naive: y[t-1]; seasonal naive: y[t-season]);
- the full horizon from the cut-off: one forecast made at the start of the period, of its first `horizon`
  steps (naive repeats the last value before the period; seasonal naive repeats the last season).

    evaluation = evaluate_forecasts(model, data.inputs, data.outputs, data.raw.splits["test"]["Passengers"],
                                    season=12)
    evaluation["one_step"]["model"]["mae"], evaluation["one_step"]["naive"]["mae"]   # 11.6, 44.2
    forecast_from_csv("runs/airline-...", "airline-passengers.csv")   # [{"Month": "1961-01", "Passengers": 447.1}, ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from deepscope.data.features import Feature
from deepscope.data.features.timeseries import TimeseriesFeature, step_from_state
from deepscope.data.sources.series import HISTORY
from deepscope.data.timeseries import default_season, format_time, future_times, read_series
from deepscope.data.windows import SeriesWindows
from deepscope.errors import DataError
from deepscope.io import append_line
from deepscope.metrics import ForecastMetrics
from deepscope.models.predictor import Predictor, predict_windows

BASELINES = ("naive", "seasonal_naive")
SHOWN = ("mae", "rmse", "mape", "smape")


def evaluate_forecasts(model: torch.nn.Module, inputs: dict[str, Feature], outputs: dict[str, Feature],
                       windows: SeriesWindows, *, season: int, batch_size: int = 1024) -> dict[str, Any]:
    """One-step-ahead and full-horizon errors of the model and the baselines over `windows`' period.

    Args:
        model: a trained forecasting model (a DeepscopeModel with one `forecast` output).
        inputs, outputs: its fitted features.
        windows: a split's SeriesWindows: its series runs to the end of the period [start, stop).
        season: steps per season for the seasonal-naive baseline.

    Returns:
        {"period": {...}, "season": m, "one_step": {method: errors}, "horizon": {"steps": k, method: errors,
        "forecast": {...}}} with errors {mae, rmse, mape, smape} in the data's own units (MAPE and sMAPE in %).
    """
    target_name, target = next(iter(outputs.items()))
    series, start, stop = windows.series, windows.start, windows.stop
    actual = series.column(target.options.target)
    horizon = target.options.horizon
    origins = np.arange(start, stop)
    forecasts = predict_windows(model, inputs, windows.with_origins(origins), target_name, batch_size)  # (N, H)
    one_step = {"model": forecasts[:, 0], "naive": actual[origins - 1]}
    if start >= season:
        one_step["seasonal_naive"] = actual[origins - season]
    steps = min(horizon, stop - start)
    ahead = np.arange(steps)
    from_cutoff = {"model": forecasts[0, :steps], "naive": np.repeat(actual[start - 1], steps)}
    if start >= season:
        from_cutoff["seasonal_naive"] = actual[start - season + ahead % season]
    truth, future = actual[start:stop], actual[start:start + steps]
    return {
        "period": {"start": format_time(series.times[start]), "end": format_time(series.times[stop - 1]),
                   "steps": int(stop - start)},
        "season": season,
        "one_step": {name: errors(values, truth) for name, values in one_step.items()},
        "horizon": {
            "steps": int(steps),
            **{name: errors(values, future) for name, values in from_cutoff.items()},
            "forecast": {"time": [format_time(t) for t in series.times[start:start + steps]], "actual": future.tolist(),
                         **{name: np.asarray(values, dtype=float).tolist() for name, values in from_cutoff.items()}},
        },
    }


def errors(forecast: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, MAPE %, sMAPE % of a forecast (the head's metric, so both agree to the last digit)."""
    metric = ForecastMetrics()
    metric.update(torch.as_tensor(np.asarray(forecast, dtype=np.float64)).reshape(1, -1),
                  torch.as_tensor(np.asarray(actual, dtype=np.float64)).reshape(1, -1))
    values = metric.compute()
    return {name: values[name] for name in SHOWN}


# --- a run's evaluation: computed, shown, saved -----------------------------------------------------------------
def evaluate_run(model: torch.nn.Module, data: Any, config: Any, metrics_path: Path | None = None,
                 show: bool = True, console: Console | None = None) -> dict[str, Any]:
    """The evaluation of every held-out split (val, test) of a forecasting run; printed as a table beside the
    baselines when `show`, and appended to metrics.jsonl as {"forecast": split, ...} lines."""
    target = next(iter(data.outputs))
    results = {}
    for split in ("val", "test"):
        if split not in data.raw.splits:
            continue
        windows = data.raw.splits[split][target]
        season = config.data.series.season or default_season(windows.series)
        results[split] = evaluate_forecasts(model, data.inputs, data.outputs, windows, season=season)
        if metrics_path is not None:
            append_line(metrics_path, {"forecast": split, **results[split]})
    if show:
        console = console or Console()
        for split, evaluation in results.items():
            console.print(forecast_table(evaluation, split, model_name=_model_name(config)))
    return results


def _model_name(config: Any) -> str:
    encoder = config.model.encoder
    return f"model ({encoder.name})" if encoder is not None and encoder.name else "model"


def forecast_table(evaluation: dict[str, Any], split: str = "test", model_name: str = "model") -> Table:
    """One row per method (the model, naive, seasonal naive); one-step and from-the-cut-off errors side by side."""
    period, steps, season = evaluation["period"], evaluation["horizon"]["steps"], evaluation["season"]
    table = Table(title=f"forecast, {split} period {period['start']} to {period['end']} ({period['steps']} steps)",
                  caption=f"naive: the last value; seasonal naive: the value {season} steps before; vs naive: "
                          "one-step MAE over naive's; RMSE and MAPE in metrics.jsonl", show_edge=False)
    table.add_column("method", no_wrap=True)
    for label in ("1-step MAE", "sMAPE%", f"{steps}-step MAE", "sMAPE%", "vs naive"):
        table.add_column(label, justify="right", no_wrap=True)
    names = {"model": model_name, "naive": "naive", "seasonal_naive": f"seasonal naive ({season})"}
    naive = evaluation["one_step"]["naive"]["mae"]
    for method in ("model", *BASELINES):
        if method not in evaluation["one_step"]:
            continue
        one, ahead = evaluation["one_step"][method], evaluation["horizon"][method]
        cells = [one["mae"], one["smape"], ahead["mae"], ahead["smape"]]
        ratio = f"{one['mae'] / naive:.2f}x" if naive else ""
        table.add_row(names[method], *(f"{v:.2f}" if abs(v) >= 10 else f"{v:.3f}" for v in cells), ratio)
    return table


# --- forecasting from raw input ---------------------------------------------------------------------------------
def forecast_from_csv(run: str | Path, path: str | Path, *,
                      reading: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The next `horizon` steps after the CSV's last row: its last `lookback` rows are the window.

    The CSV has the run's time column(s) and value columns (more rows and other columns are fine); its gaps are
    filled as in training (`data.series.fill`); `reading` says how to read the file (`load_csv`'s header,
    columns, encoding, delimiter). Returns one row per future step: {time column: "1961-01", target: value in the
    data's own units}, with the time under `time` when training read it from several columns.

    Example:
        >>> forecast_from_csv("runs/airline-passengers-...", "airline-passengers.csv")[:2]   # doctest: +SKIP
        [{'Month': '1961-01', 'Passengers': 447.1}, {'Month': '1961-02', 'Passengers': 421.5}]
    """
    predictor = Predictor.load(run)
    history = predictor.inputs.get(HISTORY)
    if not isinstance(history, TimeseriesFeature):
        raise DataError(f"{run}: not a forecasting run (its inputs are {list(predictor.inputs)}); give a run "
                        "trained with data.series")
    o = history.options
    series = read_series(path, time=o.time, values=list(o.values), target=o.target, categorical=list(o.categorical),
                         fill=o.fill, **(reading or {}))  # read as training read its file (predict's table_reading)
    if len(series) < o.lookback:
        raise DataError(f"{path}: {len(series)} rows, and this model reads the last {o.lookback} (its lookback); "
                        f"give at least {o.lookback} rows")
    target = next(iter(predictor.outputs))
    values = predictor.predict({HISTORY: [series.tail(o.lookback)]})[0][target]  # horizon floats
    time, times = forecast_times(history, series, len(values))
    return [{time: t, target: float(v)} for t, v in zip(times, values)]


def forecast_times(history: TimeseriesFeature, series: Any, steps: int) -> tuple[str, list[str]]:
    """(the time column's name, the `steps` times after the series' end, as texts): what a forecast is for. A time
    read from its parts' columns is one column, `time`, here; a one-row series steps as the training period did."""
    step = series.step if len(series) > 1 else step_from_state(history.fitted["step"])
    time = history.options.time if isinstance(history.options.time, str) else "time"
    return time, [format_time(t) for t in future_times(series, steps, step)]
