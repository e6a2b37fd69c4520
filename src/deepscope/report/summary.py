"""The summary: which run, whether it finished (and if not, why), the task, the data and the headline numbers."""

from __future__ import annotations

from typing import Any

from deepscope.report.context import ReportContext
from deepscope.report.html import badge, bullet_list, cards, escape, key_values, note, number

# the numbers a reader looks for first, in this order, when the run has them
HEADLINE = ("accuracy", "f1_macro", "f1", "roc_auc", "mae", "rmse", "r2", "smape", "nats", "perplexity",
            "bits_per_char", "loss")
TASKS = {"category": "classification", "binary": "yes/no classification", "number": "regression",
         "forecast": "time-series forecasting", "next_token": "language model (next-token prediction)"}


def render(context: ReportContext) -> str:
    info = context.info
    title = f"<h1>{escape(info.name)} {badge(info.status, info.status)}</h1>"
    parts = [title, f"<p class=\"muted\">{escape(_subtitle(context))}</p>"]
    if info.status != "finished":
        reasons = info.problems or ["the run has not finished"]
        heading = "This run is incomplete" if info.status == "incomplete" else "This run is still training"
        parts.append(f"<div class=\"problem\"><strong>{escape(heading)}:</strong>{bullet_list(reasons)}"
                     "Sections below show what could be read.</div>")
    elif info.problems:
        parts.append(note("; ".join(info.problems)))
    parts.append(cards(headline(context)))
    parts.append(key_values(_facts(context)))
    return "\n".join(parts)


def _subtitle(context: ReportContext) -> str:
    info = context.info
    started = f"started {info.started}" if info.started else ""
    return " · ".join(p for p in (task_name(context), started, str(info.path)) if p)


def task_name(context: ReportContext) -> str:
    task = (context.info.task or "+".join(sorted({f.type for f in context.outputs.values()}))
            or _configured_task(context))
    return " + ".join(TASKS.get(t, t) for t in task.split("+")) if task else "unknown task"


def _configured_task(context: ReportContext) -> str:
    """The output types the config names, for a run that saved no model ({label: binary} -> "binary")."""
    data = context.info.config.get("data")
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(outputs, dict):
        return ""
    types = {spec if isinstance(spec, str) else spec.get("type") if isinstance(spec, dict) else None
             for spec in outputs.values()}
    return "+".join(sorted(t for t in types if isinstance(t, str)))


def headline(context: ReportContext) -> list[tuple[str, Any]]:
    """A few final metrics of the evaluation split ("test accuracy", ...); the forecast's model MAE beside naive's."""
    info = context.info
    split = "test" if "test" in info.finals else "val" if "val" in info.finals else None
    shown: list[tuple[str, Any]] = []
    if split:
        values = info.finals[split]
        for key in HEADLINE:
            for name in sorted(k for k in values if k == key or k.endswith(f".{key}")):
                if isinstance(values[name], (int, float)) and len(shown) < 5:
                    shown.append((f"{split} {name}", values[name]))
    forecast = info.forecast.get("test") or info.forecast.get("val")
    if forecast:
        one_step = forecast.get("one_step", {})
        for method in ("model", "naive"):
            if method in one_step:
                shown.append((f"1-step MAE, {method}", one_step[method].get("mae")))
    return shown


def _facts(context: ReportContext) -> list[tuple[str, Any]]:
    info = context.info
    facts: list[tuple[str, Any]] = [("task", task_name(context))]
    source = info.config.get("data", {}).get("source") if isinstance(info.config.get("data"), dict) else None
    if source:
        facts.append(("data", source))
    sizes = context.record("data").get("sizes")
    if context.data is not None and context.data.splits:
        sizes = context.data.sizes()
    if isinstance(sizes, dict) and sizes:
        facts.append(("examples", ", ".join(f"{split} {number(n)}" for split, n in sizes.items())))
    if context.inputs:
        facts.append(("inputs", ", ".join(f"{n} ({f.type})" for n, f in context.inputs.items())))
    if context.outputs:
        facts.append(("outputs", ", ".join(f"{n} ({f.type})" for n, f in context.outputs.items())))
    parameters = _parameters(context)
    if parameters:
        facts.append(("parameters", parameters))
    if info.epochs:
        facts.append(("epochs trained", len(info.epochs)))
        seconds = sum(r.get("time", 0) or 0 for r in info.epochs)
        if seconds:
            facts.append(("training time", f"{seconds:.1f} s"))
    findings = info.findings
    if info.diagnosis:
        counts = {s: sum(1 for f in findings if isinstance(f, dict) and f.get("severity") == s)
                  for s in ("error", "warning", "info")}
        facts.append(("diagnostics", ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"))
    return facts


def _parameters(context: ReportContext) -> int | None:
    if context.model is not None:
        return sum(p.numel() for p in context.model.parameters())
    return context.record("task").get("n_params")
