"""What the diagnostics found, worst first, each with its evidence and advice; and the measurements behind them:
gradient norms by layer over training, and the share of dead (always-zero) units by activation layer.

Both plots read `record.samples` in diagnosis.json: one entry every few steps with per-layer gradient norms
and, for each activation layer, the fraction of its units that were dead and saturated in that batch.
"""

from __future__ import annotations

import json
from typing import Any

from deepscope.report.context import ReportContext
from deepscope.report.html import badge, bullet_list, escape, figure, key_values, note, paragraph
from deepscope.report.plots import WIDE, Plot, line, log_scale, thin, whole_numbers

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
MAX_LINES = 10  # layers drawn in one plot: more become unreadable; spread evenly, first and last kept


def render(context: ReportContext) -> str:
    diagnosis = context.info.diagnosis
    if not diagnosis:
        return note("No diagnosis.json in this run: the diagnostics were off (diagnose: false) or the run stopped "
                    "before they were saved.")
    findings = sorted((f for f in context.info.findings if isinstance(f, dict)),
                      key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 3))
    parts = [finding_html(f) for f in findings] or [paragraph("The diagnostics found nothing to report: training "
                                                              "looked healthy.")]
    nonfinite = context.record("nonfinite")
    if nonfinite:
        parts.append(note(f"The loss or the gradients became NaN or infinite: {json.dumps(nonfinite)}", "problem"))
    samples = context.record("samples", list)
    gradients = gradient_plot(samples)
    if gradients:
        parts.append("<h3>Gradient norms by layer</h3>" + figure(
            gradients, "The norm of each layer's weight gradient over training (log scale), input side first. "
                       "Norms falling by orders of magnitude towards the input layers mean vanishing gradients; "
                       "norms growing step after step mean exploding ones."))
    dead = dead_plot(samples)
    if dead:
        parts.append("<h3>Dead units</h3>" + figure(
            dead, "The share of each activation layer's units that output zero for the whole sampled batch. "
                  "A ReLU unit that is dead for every example gets no gradient and never learns again."))
    return "\n".join(parts)


def finding_html(finding: dict[str, Any]) -> str:
    """A finding as a box; an "info" one folded to its title (they are many, and the least urgent)."""
    severity = str(finding.get("severity", "info"))
    where = ", ".join(f"{k} {finding[k]}" for k in ("epoch", "step", "layer") if finding.get(k) is not None)
    title = f"{badge(severity, severity)} {escape(finding.get('title', finding.get('code', '')))}"
    folded = severity == "info"
    parts = [f"<details class=\"finding\"><summary>{title}</summary>" if folded else
             f"<div class=\"finding\"><h3>{title}</h3>"]
    if finding.get("explanation"):
        parts.append(paragraph(finding["explanation"]))
    if where:
        parts.append(paragraph(where, "muted"))
    evidence = finding.get("evidence")
    if isinstance(evidence, dict) and evidence:
        parts.append("<strong>Evidence</strong>" + key_values((k, _evidence_value(v)) for k, v in evidence.items()))
    advice = finding.get("advice")
    if advice:
        parts.append("<strong>What to try</strong>" + bullet_list(advice if isinstance(advice, list) else [advice]))
    return "\n".join(parts) + ("</details>" if folded else "</div>")


def _evidence_value(value: Any) -> Any:
    """Numbers as they are (formatted by the table), anything nested as short JSON."""
    if isinstance(value, (int, float, str)) or value is None:
        return value if value is not None else ""
    text = json.dumps(value, default=str)
    return text if len(text) <= 400 else text[:397] + "..."


def gradient_plot(samples: list[dict[str, Any]]) -> str:
    return _layer_plot(samples, "layers", "grad_norm", "gradient norm", height=3.4, log=True)


def dead_plot(samples: list[dict[str, Any]]) -> str:
    return _layer_plot(samples, "activations", "dead", "dead fraction", height=2.8)


def _layer_plot(samples: list[dict[str, Any]], group: str, key: str, label: str, *, height: float,
                log: bool = False) -> str:
    """One line per layer (at most MAX_LINES, spread over the depth) of a measurement over the sampled steps."""
    series = _by_layer(samples, group, key)
    if not series:
        return ""
    plot = Plot(WIDE, height)
    with plot as ax:
        for name in thin(list(series), MAX_LINES):
            points = [(s, v) for s, v in series[name] if v > 0] if log else series[name]  # log: zeros cannot show
            if points:
                line(ax, *zip(*points), label=_short(name), linewidth=1.2)
        if log:
            log_scale(ax, "y")
        else:
            ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        whole_numbers(ax)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return plot.svg


def _by_layer(samples: list[dict[str, Any]], section: str, key: str) -> dict[str, list[tuple[float, float]]]:
    """layer name -> [(step, value)], layers in the order they first appear (input side first). Entries that are
    not what the record format says (a damaged file) are skipped."""
    series: dict[str, list[tuple[float, float]]] = {}
    for sample in samples if isinstance(samples, list) else []:
        layers = sample.get(section) if isinstance(sample, dict) else None
        step = sample.get("step") if isinstance(sample, dict) else None
        if not isinstance(layers, list) or not _finite(step):
            continue
        for layer in layers:
            value = layer.get(key) if isinstance(layer, dict) else None
            if _finite(value):
                series.setdefault(str(layer.get("name")), []).append((step, float(value)))
    return series


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < float("inf")


def _short(name: str) -> str:
    """'encoders.image.layers.0.weight' -> 'image.layers.0' (legend space is short)."""
    for prefix in ("encoders.", "heads."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name.removesuffix(".weight")
