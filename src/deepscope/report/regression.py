"""Regression: predicted against true values, residuals against predictions, and the spread of the residuals,
on the report's sample of the evaluation split, in the target's own units."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deepscope.report.context import ReportContext
from deepscope.report.html import figure, key_values, note
from deepscope.report.plots import COLOURS, WIDE, Plot, text


def render_output(context: ReportContext, name: str, key: Callable[[str], str]) -> str:
    parts = []
    saved = _saved(context, key)
    if saved:
        parts.append(key_values(saved))
    predictions = context.predictions().get(name)
    if predictions is None:
        reason = context.missing.get("data") or context.missing.get("model") or "no data"
        parts.append(note(f"{name}: residual plots need the model and the data ({reason})."))
        return "\n".join(parts)
    truth, predicted, label = predictions.target, predictions.predicted, text(name)
    residual = truth - predicted
    plot = Plot(WIDE, 3.0, ncols=3)
    with plot as (scatter, against, spread):
        low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
        scatter.scatter(truth, predicted, s=6, alpha=0.5, color=COLOURS[0])
        scatter.plot([low, high], [low, high], color="#9ca3af", linestyle="--", linewidth=0.8)
        scatter.set_xlabel(f"true {label}")
        scatter.set_ylabel(f"predicted {label}")
        against.scatter(predicted, residual, s=6, alpha=0.5, color=COLOURS[0])
        against.axhline(0, color="#9ca3af", linestyle="--", linewidth=0.8)
        against.set_xlabel(f"predicted {label}")
        against.set_ylabel("residual (true - predicted)")
        spread.hist(residual, bins=int(np.clip(len(residual) // 8, 5, 40)), color=COLOURS[2], alpha=0.8)
        spread.set_xlabel("residual")
        spread.set_ylabel("examples")
    caption = (f"{len(truth):,} {context.sample.split} examples. Points should hug the diagonal (left) and scatter "
               "evenly around zero (middle); a curve or a funnel means the model misses a pattern. Residual mean "
               f"{float(np.mean(residual)):.4g}, MAE {float(np.mean(np.abs(residual))):.4g}.")
    parts.append(figure(plot.svg, caption))
    return "\n".join(parts)


def _saved(context: ReportContext, key: Callable[[str], str]) -> list[tuple[str, float]]:
    for split in ("test", "val"):
        values = context.info.finals.get(split, {})
        found = [(f"{split} {metric}", values[key(metric)]) for metric in ("mae", "rmse", "r2")
                 if isinstance(values.get(key(metric)), (int, float))]
        if found:
            return found
    return []
