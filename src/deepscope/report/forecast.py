"""Forecasting: the run's forecast evaluation (saved in metrics.jsonl) beside the naive baselines, as a table and
as plots of forecast against actual.

- From the cut-off: the one forecast made at the start of the held-out period, of its first `horizon` steps,
  with naive (the last value repeated) and seasonal naive (the last season repeated). Drawn from the saved
  evaluation alone, so it needs neither the model nor the data.
  With the series at hand, the end of the history leads into it, so that a short horizon (one step: one
  point per method) still reads as a continuation. A horizon of one step without the series is not drawn: its
  one point is the first of the one-step-ahead plot, and its error is in the table.
- One step ahead: at every step of the period, the model's next-step forecast from the true values before it,
  beside naive (the previous value), over the end of the history. Needs the model and the series. A long
  period (an hourly year: 8,760 steps) would be a solid block at a page's width, so the plot shows the first
  DETAIL_STEPS of it in detail, and an overview of the whole series (each pixel column's minimum and maximum)
  marks where that window sits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepscope.data.timeseries import format_time
from deepscope.models.predictor import predict_windows
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, figure, note, table
from deepscope.report.plots import COLOURS, WIDE, Plot, min_max_envelope, text

METHODS = {"model": "model", "naive": "naive (last value)", "seasonal_naive": "seasonal naive"}
STYLES = {"model": dict(color=COLOURS[0], linewidth=1.8), "naive": dict(color="#9ca3af", linestyle="--"),
          "seasonal_naive": dict(color=COLOURS[2], linestyle=":")}
HISTORY_SEASONS = 3  # seasons of history drawn before the period, for context
# steps drawn one by one in a plot 9.5 inches (~900 px) wide: about 2 px a step, so a daily or hourly cycle stays
# visible; a longer period is shown in a window of this many steps (with its history) and an overview
DETAIL_STEPS = 400
OVERVIEW_BINS = 450  # pixel columns of the overview, each drawn as its minimum-maximum range


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
        windows = _windows(context, split, name)
        horizon = horizon_plot(evaluation, name, _history(context, windows, name))
        ahead = evaluation.get("horizon", {}).get("steps")
        if horizon:
            made = f"the first {ahead} steps" if ahead != 1 else "the first step"
            parts.append(figure(horizon, f"Forecast of {made} made at the cut-off (the start of the {split} period), "
                                         "against what happened and the naive baselines, after the end of the "
                                         "history."))
        one_step = one_step_plots(context, windows, split, name)
        for svg, caption in one_step:
            parts.append(figure(svg, caption))
    if "data" in context.missing or "model" in context.missing:
        reason = context.missing.get("model") or context.missing.get("data")
        parts.append(note(f"One-step-ahead plots need the model and the series: {reason}."))
    return "\n".join(parts)


def error_table(evaluation: dict[str, Any]) -> str:
    """One row per method: its one-step-ahead errors over the period, and (for a horizon of more than one step)
    its errors over the horizon from the cut-off; a horizon of one step would repeat the first column's name."""
    one_step, horizon = evaluation.get("one_step", {}), evaluation.get("horizon", {})
    naive = one_step.get("naive", {}).get("mae")
    season = evaluation.get("season")
    steps = horizon.get("steps", "?")
    from_cutoff = steps != 1 and any(horizon.get(method) for method in METHODS)
    rows = []
    for method in ("model", "naive", "seasonal_naive"):
        if method not in one_step:
            continue
        one, ahead = one_step[method], horizon.get(method, {})
        label = METHODS[method] + (f" ({season} steps back)" if method == "seasonal_naive" and season else "")
        ratio = f"{one['mae'] / naive:.2f}x" if naive else ""
        rows.append([label, one.get("mae"), one.get("rmse"), one.get("smape")]
                    + ([ahead.get("mae"), ahead.get("smape")] if from_cutoff else []) + [ratio])
    header = (["method", "1-step-ahead MAE", "1-step-ahead RMSE", "1-step-ahead sMAPE %"]
              + ([f"MAE, {steps} steps from the cut-off", f"sMAPE %, {steps} steps from the cut-off"]
                 if from_cutoff else [])
              + ["1-step MAE vs naive"])
    return table(header, rows, numeric=[False] + [True] * (len(header) - 1))


def horizon_plot(evaluation: dict[str, Any], name: str, history: tuple[list[str], np.ndarray] | None = None) -> str:
    """The forecast from the cut-off against what happened, after `history` (times, values) when given."""
    forecast = evaluation.get("horizon", {}).get("forecast") or {}
    times, actual = forecast.get("time") or [], forecast.get("actual") or []
    if not times or not actual or (len(times) < 2 and history is None):
        return ""
    past_times, past = history if history is not None else ([], np.array([]))
    x = np.arange(len(times)) + len(past)
    # every line starts from the last known value, so a forecast reads as the history's continuation
    joined = (lambda values: ([len(past) - 1, *x], [past[-1], *values])) if len(past) else (lambda v: (x, v))
    marks = {"marker": "o", "markersize": 5, "markevery": slice(1 if len(past) else 0, None)} if len(x) < 4 else {}
    plot = Plot(WIDE, 3.2)
    with plot as ax:
        if len(past):
            ax.plot(np.arange(len(past)), past, color="#6b7280", linewidth=1.2, label="history")
            ax.axvline(len(past) - 0.5, color="#9ca3af", linewidth=0.8)
        ax.plot(*joined(actual), color="#111827", linewidth=2, label="actual",
                **(marks or {"marker": "o", "markersize": 3, "markevery": slice(1 if len(past) else 0, None)}))
        for method, style in STYLES.items():
            if forecast.get(method):
                ax.plot(*joined(forecast[method]), label=METHODS[method], **marks, **style)
        ax.set_xlim(-0.5, len(past) + len(x) - 0.5 + max(1, len(x) // 10))  # room after the last point
        _time_ticks(ax, np.arange(len(past) + len(x)), [*past_times, *times])
        ax.set_ylabel(text(name))
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return plot.svg


def _history(context: ReportContext, windows: Any, name: str) -> tuple[list[str], np.ndarray] | None:
    """The end of the history before the period: a few horizons' worth, at least a day or a season's start."""
    if windows is None or name not in context.outputs:
        return None
    length = min(windows.start, max(4 * windows.horizon, 24))
    if length < 1:
        return None
    actual = windows.series.column(context.outputs[name].options.target)
    rows = slice(windows.start - length, windows.start)
    return [format_time(t) for t in windows.series.times[rows]], actual[rows]


def one_step_plots(context: ReportContext, windows: Any, split: str, name: str) -> list[tuple[str, str]]:
    """[(svg, caption)]: the one-step-ahead forecasts over (the start of) the period; an overview when long."""
    if windows is None or context.model is None:
        return []
    series, start, stop = windows.series, windows.start, windows.stop
    actual = series.column(context.outputs[name].options.target)
    season = context.info.forecast.get(split, {}).get("season") or 12
    shown = min(stop, start + DETAIL_STEPS)  # the detail window ends here
    first = max(0, start - min(HISTORY_SEASONS * season, DETAIL_STEPS // 4))
    origins = np.arange(max(start, 1), shown)
    forecasts = predict_windows(context.model, context.inputs, windows.with_origins(origins), name)[:, 0]
    x = np.arange(first, shown)
    plot = Plot(WIDE, 3.2)
    with plot as ax:
        ax.axvspan(start - 0.5, shown - 0.5, color="#eff6ff", zorder=0)
        ax.plot(x, actual[first:shown], color="#111827", linewidth=1.2, label="actual")
        ax.plot(origins, actual[origins - 1], label=METHODS["naive"], **STYLES["naive"])
        ax.plot(origins, forecasts, label="model, 1 step ahead", **STYLES["model"])
        _time_ticks(ax, x, [format_time(t) for t in series.times[first:shown]], season)
        ax.set_ylabel(text(name))
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    caption = ("One step ahead over the period: each point forecast from the true values before it. The end of the "
               "history is drawn for context.")
    if shown == stop:
        return [(plot.svg, caption)]
    caption = (f"One step ahead over the first {shown - start:,} of the period's {stop - start:,} steps (the table's "
               f"errors cover them all): each point forecast from the true values before it, after the end of the "
               "history.")
    return [(plot.svg, caption), (overview_plot(series, actual, start, stop, (first, shown), name),
                                  f"The whole series ({stop:,} steps to the end of the period), each pixel column "
                                  "drawn as its lowest and highest value; shaded: the period; framed: the window "
                                  "drawn above.")]


def overview_plot(series: Any, actual: np.ndarray, start: int, stop: int, window: tuple[int, int], name: str) -> str:
    """The series up to `stop` as a min-max band of OVERVIEW_BINS columns, the period shaded, `window` framed."""
    centres, low, high = min_max_envelope(actual[:stop], OVERVIEW_BINS)
    plot = Plot(WIDE, 1.9)
    with plot as ax:
        ax.axvspan(start - 0.5, stop - 0.5, color="#dbeafe", zorder=0)
        ax.fill_between(centres, low, high, color="#4b5563", linewidth=0.5, step="mid")
        ax.axvspan(window[0] - 0.5, window[1] - 0.5, fill=False, edgecolor=COLOURS[0], linewidth=1.5)
        x = np.arange(stop)
        _time_ticks(ax, x, [format_time(t) for t in series.times[:stop]], most=8)
        ax.set_ylabel(text(name))
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
