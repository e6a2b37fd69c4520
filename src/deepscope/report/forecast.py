"""Forecasting: the run's forecast evaluation (saved in metrics.jsonl) beside the naive baselines, as a table and
as plots of forecast against actual.

- From the cut-off: the one forecast made at the start of the held-out period, of its first `horizon` steps,
  with naive (the last value repeated) and seasonal naive (the last season repeated). Drawn from the saved
  evaluation alone, so it needs neither the model nor the data.
- One step ahead: at every step of the period, the model's next-step forecast from the true values before it,
  beside naive (the previous value), over the end of the history. Needs the model and the series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepscope.data.timeseries import format_time
from deepscope.models.predictor import predict_windows
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, figure, note, table
from deepscope.report.plots import COLOURS, WIDE, Plot, text

METHODS = {"model": "model", "naive": "naive (last value)", "seasonal_naive": "seasonal naive"}
STYLES = {"model": dict(color=COLOURS[0], linewidth=1.8), "naive": dict(color="#9ca3af", linestyle="--"),
          "seasonal_naive": dict(color=COLOURS[2], linestyle=":")}
HISTORY_SEASONS = 3  # seasons of history drawn before the period, for context


def render_output(context: ReportContext, name: str) -> str:
    evaluations = context.info.forecast
    if not evaluations:
        return note("No forecast evaluation was saved in metrics.jsonl (the run stopped before its final evaluation).")
    parts = []
    for split in sorted(evaluations, key=lambda s: (s != "test", s != "val", s)):
        evaluation = evaluations[split]
        period = evaluation.get("period", {})
        start, end, steps = (escape(period.get(key, "?")) for key in ("start", "end", "steps"))
        parts.append(f"<h3>{escape(split)} period: {start} to {end} ({steps} steps)</h3>")
        parts.append(error_table(evaluation))
        horizon = horizon_plot(evaluation, name)
        if horizon:
            steps = evaluation.get("horizon", {}).get("steps")
            parts.append(figure(horizon, f"Forecast of the first {steps} steps made at the cut-off (the start of the "
                                         f"{split} period), against what happened and the naive baselines."))
        one_step = one_step_plot(context, split, name)
        if one_step:
            parts.append(figure(one_step, "One step ahead over the period: each point forecast from the true values "
                                          "before it. The end of the history is drawn for context."))
    if "data" in context.missing or "model" in context.missing:
        reason = context.missing.get("model") or context.missing.get("data")
        parts.append(note(f"One-step-ahead plots need the model and the series: {reason}."))
    return "\n".join(parts)


def error_table(evaluation: dict[str, Any]) -> str:
    one_step, horizon = evaluation.get("one_step", {}), evaluation.get("horizon", {})
    naive = one_step.get("naive", {}).get("mae")
    season = evaluation.get("season")
    rows = []
    for method in ("model", "naive", "seasonal_naive"):
        if method not in one_step:
            continue
        one, ahead = one_step[method], horizon.get(method, {})
        label = METHODS[method] + (f" ({season} steps back)" if method == "seasonal_naive" and season else "")
        ratio = f"{one['mae'] / naive:.2f}x" if naive else ""
        rows.append([label, one.get("mae"), one.get("rmse"), one.get("smape"), ahead.get("mae"), ahead.get("smape"),
                     ratio])
    steps = horizon.get("steps", "?")
    header = ["method", "1-step MAE", "1-step RMSE", "1-step sMAPE %", f"{steps}-step MAE", f"{steps}-step sMAPE %",
              "MAE vs naive"]
    return table(header, rows, numeric=[False] + [True] * 6)


def horizon_plot(evaluation: dict[str, Any], name: str) -> str:
    forecast = evaluation.get("horizon", {}).get("forecast") or {}
    times, actual = forecast.get("time") or [], forecast.get("actual") or []
    if not times or not actual:
        return ""
    x = np.arange(len(times))
    plot = Plot(WIDE, 3.2)
    with plot as ax:
        ax.plot(x, actual, color="#111827", linewidth=2, marker="o", markersize=3, label="actual")
        for method, style in STYLES.items():
            if forecast.get(method):
                ax.plot(x, forecast[method], label=METHODS[method], **style)
        _time_ticks(ax, x, times)
        ax.set_ylabel(text(name))
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return plot.svg


def one_step_plot(context: ReportContext, split: str, name: str) -> str:
    windows = _windows(context, split, name)
    if windows is None:
        return ""
    series, start, stop = windows.series, windows.start, windows.stop
    target = context.outputs[name].options.target
    actual = series.column(target)
    origins = np.arange(max(start, 1), stop)
    forecasts = predict_windows(context.model, context.inputs, windows.with_origins(origins), name)[:, 0]
    season = context.info.forecast.get(split, {}).get("season") or 12
    first = max(0, start - HISTORY_SEASONS * season)
    x = np.arange(first, stop)
    plot = Plot(WIDE, 3.2)
    with plot as ax:
        ax.axvspan(start - 0.5, stop - 0.5, color="#eff6ff", zorder=0)
        ax.plot(x, actual[first:stop], color="#111827", linewidth=1.5, label="actual")
        ax.plot(origins, actual[origins - 1], label=METHODS["naive"], **STYLES["naive"])
        ax.plot(origins, forecasts, label="model, 1 step ahead", **STYLES["model"])
        _time_ticks(ax, x, [format_time(t) for t in series.times[first:stop]], season)
        ax.set_ylabel(text(name))
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return plot.svg


def _windows(context: ReportContext, split: str, name: str) -> Any:
    if context.model is None or context.data is None or name not in context.outputs:
        return None
    columns = context.data.raw.splits.get(split) or {}
    windows = columns.get(name)
    return windows if hasattr(windows, "with_origins") and windows.stop > windows.start else None


def _time_ticks(ax: Any, x: np.ndarray, labels: list[str], season: int | None = None, most: int = 10) -> None:
    every = max(1, int(np.ceil(len(x) / most)))
    if season and every > 1 and len(x) >= 2 * season:  # ticks a whole number of seasons apart: every January
        every = season * max(1, round(every / season))
    ax.set_xticks(x[::every])
    ax.set_xticklabels(labels[::every], rotation=30, ha="right")
