"""How the model does on held-out data, per output: classification (confusion matrix, per-class metrics),
regression (residual plots) or forecasting (forecast against actual, beside naive baselines)."""

from __future__ import annotations

from functools import partial

from deepscope.metrics import metric_key
from deepscope.report import classification, forecast, regression
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, note


def render(context: ReportContext) -> str:
    kinds = output_kinds(context)
    if not kinds:
        return note("Nothing to evaluate: the run saved no model description and no final evaluation.")
    parts = []
    for name, kind in kinds.items():
        key = partial(metric_key, name, outputs=kinds)  # how this output's final metrics are named
        if len(kinds) > 1:
            parts.append(f"<h3>{escape(name)} ({escape(kind)})</h3>")
        if kind in ("category", "binary"):
            parts.append(classification.render_output(context, name, kind, key))
        elif kind == "number":
            parts.append(regression.render_output(context, name, key))
        elif kind == "forecast":
            parts.append(forecast.render_output(context, name))
        else:
            parts.append(note(f"{name}: no evaluation view for {kind} outputs yet."))
    return "\n".join(parts)


def output_kinds(context: ReportContext) -> dict[str, str]:
    """output name -> feature type; from the saved features, else guessed from the final metrics."""
    if context.outputs:
        return {name: feature.type for name, feature in context.outputs.items()}
    if context.info.forecast:
        return {"forecast": "forecast"}
    finals = context.info.finals.get("test") or context.info.finals.get("val") or {}
    if "confusion_matrix" in finals:
        return {"output": "binary" if "roc_auc" in finals else "category"}
    return {}
