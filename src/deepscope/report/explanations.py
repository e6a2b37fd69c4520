"""Why the model predicted what it did, on the examples it got most wrong, and how far those maps can be trusted.

The worst predictions of the report's sample (ranked as the Examples section ranks them) are explained with the
modality's default method (explain/defaults.py; images also with Grad-CAM where the encoder is convolutional), and
drawn by report/explain_plots.py: maps over images, highlighted tokens, the table columns each row leaned on. A
table gets the global view too: permutation importance of every column, with intervals. Below them, the
faithfulness numbers of each method (deletion and insertion areas against a random order, integrated gradients'
completeness error) and what they say, as findings.

The report is written at the end of every training, so the section is bounded: SHOWN examples drawn per method, the
faithfulness measured on as many others as fit FAITHFULNESS_SECONDS, PERMUTATION_ROWS rows for the importance. The
model-randomisation check re-runs a method once per layer and is left to `deepscope explain RUN --split test`.

    html = render(ReportContext.gather("runs/digits-..."))
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from deepscope.errors import UserError
from deepscope.explain.api import applicable_methods, explain
from deepscope.explain.defaults import DEFAULT_METHODS
from deepscope.explain.explanation import Explanation
from deepscope.explain.faithfulness import faithfulness_findings
from deepscope.explain.faithfulness.measure import Faithfulness
from deepscope.explain.measured import measure_explanation
from deepscope.explain.methods import METHODS
from deepscope.explain.methods.permutation import permutation_importance
from deepscope.explain.view import ScoreView
from deepscope.report import explain_plots as plots
from deepscope.report.context import ReportContext
from deepscope.report.diagnostics import finding_html
from deepscope.report.html import drawn_png, escape, figure, image, note, number, paragraph, table

SHOWN = 8  # worst examples drawn per method: a row of the image grid
# The faithfulness numbers are measured on other examples than the worst (the sample's first rows, a random draw):
# the worst alone are confidently wrong and would make every method look unfaithful. Their number follows the
# model's speed: as many as explaining and measuring fit in FAITHFULNESS_SECONDS per method (estimated from the
# time the worst took), between the bounds. The MNIST CNN gets the minimum, a small MLP the maximum; the report of
# MNIST must stay under 15 s (tests/report/test_report_real_data.py).
FAITHFULNESS_SECONDS = 1.0
FAITHFULNESS_EXAMPLES = (16, 64)
CURVE_COST = 1.5  # the deletion and insertion curves cost about 1.5 times the explanation itself (measured: MNIST)
CURVE_STEPS = 10  # deletion / insertion steps of 10 % each (`deepscope explain` takes 20)
PERMUTATION_ROWS = 256  # rows shuffled for a table's global permutation importance
PERMUTATION_REPEATS = 10  # shuffles per column: the interval is rougher than `deepscope explain`'s 20, twice as fast
AUDIO_SHOWN = 3  # spectrograms drawn (one picture each)
TOP_COLUMNS = 3  # columns named per table row
# the pictures are drawn at their natural size and shrink to the page's width (the report's CSS sizes only cards)
STYLE = ("<style>.ds-report img.attribution, .ds-report img.chart { display: block; max-width: 100%; height: auto; }"
         "</style>")


def render(context: ReportContext) -> str:
    if context.is_forecast:
        return note("A forecaster's explanations (the lags and covariates it leans on) are not drawn in the report "
                    "yet: run `deepscope explain RUN --split test`.")
    if context.is_language_model or context.is_translation:
        from deepscope.report.attention import render as attention

        return attention(context)
    predictions = context.predictions()
    if not predictions:
        reason = context.missing.get("model") or context.missing.get("data") or "no evaluation data"
        return note(f"Explanations need the model and the data: {reason}.")
    output, primary = next(iter(predictions.items()))
    try:
        view = ScoreView(context.model, context.inputs, output)
    except (UserError, KeyError, ValueError) as error:  # a model explain/ cannot wrap (several inputs, say)
        return note(f"No attribution method applies to this model: {error}")
    methods = [m for m in DEFAULT_METHODS.get(view.modality, ()) if m in applicable_methods(view)
               and METHODS.get(m).uses_gradients]  # per example; permutation is the global view below
    if not methods:
        return note(f"No attribution method applies to this model's {view.input_name!r} input ({view.modality}).")
    order = np.argsort(-primary.error, kind="stable")
    worst = [int(i) for i in order[:SHOWN]]
    shown = {name: context.sample.tensors[name][worst] for name in context.inputs}
    parts, measured = [], []
    for method in methods:
        started = time.perf_counter()
        explained = explain(context.model, context.inputs, output, shown, method, outputs=context.outputs)
        parts.append(f"<h3>{escape(method.replace('_', ' '))}</h3>")
        parts.append(_drawing(context, output, explained, primary, worst))
        rows = _faithfulness_rows(len(order), (time.perf_counter() - started) / len(worst))
        batch = {name: context.sample.tensors[name][rows] for name in context.inputs}
        checked = explain(context.model, context.inputs, output, batch, method, outputs=context.outputs)
        measured.append(_faithfulness(view, batch, checked))
    parts.insert(0, paragraph(
        f"The {len(worst)} worst {context.sample.split} predictions for {output!r} (as in Examples), each explained "
        "for the class the model predicted: blue pushes towards it, red against it. The faithfulness numbers are "
        f"over {len(rows)} other examples of the sample.", "muted"))
    if view.modality == "table" and "permutation" in applicable_methods(view):
        parts.append(_importance(context, view, output))
    parts.append(faithfulness_html(measured))
    return STYLE + "\n".join(parts)


# --- the drawings, per modality ------------------------------------------------------------------------------------
def _drawing(context: ReportContext, output: str, e: Explanation, primary: Any, rows: list[int]) -> str:
    n = len(rows)
    titles = [_title(context, output, e, i, primary, rows[i]) for i in range(n)]
    if e.modality == "image":
        png = drawn_png(lambda path: plots.image_attribution_png(e.inputs[:n], e.attributions[:n], path, titles=titles))
        return image(png, f"{e.method} maps", "attribution")
    if e.modality == "text":
        scores = [e.attributions[i, :len(e.tokens[i])].tolist() for i in range(n)]
        return plots.token_attribution_body(e.tokens[:n], scores, titles=titles)
    if e.modality == "audio":
        return "".join(image(drawn_png(lambda path, i=i: plots.spectrogram_attribution_png(
            e.inputs[i], e.attributions[i].expand(e.inputs.shape[1:]), path, title=titles[i])),
            f"{e.method} spectrogram map", "attribution") for i in range(min(AUDIO_SHOWN, n)))
    if e.modality == "table":
        return _rows_table(e, titles)
    if e.modality == "series":
        mean = e.attributions[:n].mean(dim=0).expand(e.inputs.shape[1:])  # (lookback, channels)
        labels = e.labels or [str(c) for c in range(mean.shape[1])]
        return image(drawn_png(lambda path: plots.series_attribution_png(
            mean, labels, path, title=f"{e.method}: mean over the {n} worst")), f"{e.method} map", "attribution")
    return note(f"Drawing {e.modality} explanations is not supported yet.")


def _rows_table(e: Explanation, titles: list[str]) -> str:
    """One line per table row: the columns it leaned on most, with their signed attributions."""
    lines = []
    for i, title in enumerate(titles):
        values = e.attributions[i].detach().cpu()
        top = values.abs().argsort(descending=True)[:TOP_COLUMNS].tolist()
        lines.append([title, ", ".join(f"{e.labels[c] if c < len(e.labels) else c} ({float(values[c]):+.3f})"
                                       for c in top)])
    return table(["example", f"the {TOP_COLUMNS} columns with the largest attributions"], lines)


def _importance(context: ReportContext, view: ScoreView, output: str) -> str:
    """The global view of a table: permutation importance of each column, over up to PERMUTATION_ROWS rows."""
    n = min(PERMUTATION_ROWS, len(context.sample.index))
    if n < 2:
        return ""
    batch = {name: context.sample.tensors[name][:n].to(_device(context)) for name in context.inputs}
    view.bind(batch)
    x, extra = view.prepare()
    with torch.no_grad():
        targets = view(x, *extra).argmax(dim=1) if view.classifies else torch.zeros(n, dtype=torch.long)
    importance = permutation_importance(view, batch, targets, repeats=PERMUTATION_REPEATS)
    intervals = list(zip(importance.low.tolist(), importance.high.tolist()))
    png = drawn_png(lambda path: plots.column_importance_png(
        importance.labels, importance.mean, path, intervals=intervals,
        title=f"permutation importance over {n} rows ({importance.repeats} shuffles)", xlabel="score drop"))
    return ("<h3>Column importance</h3>" + figure(image(png, "permutation importance", "chart"),
            "How far the score of the predicted class drops when a column's values are shuffled across rows (the "
            "bars: 95 % intervals over the shuffles). A column near zero is one the model does not use."))


def _title(context: ReportContext, output: str, e: Explanation, i: int, primary: Any, row: int) -> str:
    feature = context.outputs[output]
    classes = feature.classes if feature.type == "category" else (
        [feature.fitted["negative"], feature.fitted["positive"]] if feature.type == "binary" else None)
    target = int(e.targets[i])
    name = classes[target] if classes and target < len(classes) else target
    if primary.kind == "number":
        return f"row {int(context.sample.index[row])}: error {number(float(primary.error[row]))}"
    truth = classes[int(primary.target[row])] if classes else primary.target[row]
    return f"true {truth}, predicted {name} (p={float(e.scores[i]):.2f})"


# --- faithfulness ----------------------------------------------------------------------------------------------------
def _faithfulness_rows(size: int, seconds_per_example: float) -> list[int]:
    """The sample's rows the faithfulness is measured on: as many as fit the time budget, within the bounds."""
    low, high = FAITHFULNESS_EXAMPLES
    affordable = FAITHFULNESS_SECONDS / max(seconds_per_example * (1 + CURVE_COST), 1e-6)
    return list(range(min(size, int(np.clip(affordable, low, high)))))


def _faithfulness(view: ScoreView, batch: dict[str, torch.Tensor], e: Explanation) -> Faithfulness:
    """Deletion and insertion against a random order, and integrated gradients' completeness (as
    `deepscope explain` measures them, less the randomisation check)."""
    batch = {k: v.to(e.inputs.device) for k, v in batch.items()}
    return measure_explanation(view, batch, e, steps=CURVE_STEPS)


def faithfulness_html(measured: list[Faithfulness]) -> str:
    """The numbers side by side and the findings (none when the maps hold up); the curves themselves are drawn by
    `deepscope explain` (METHOD-faithfulness.png), a picture per method being too slow for every report."""
    rows = [[f.method, f.deletion_area, f.deletion_random_area, f"{f.deletion_gain:+.0%}", f.insertion_area,
             f.insertion_random_area, f"{f.insertion_gain:+.0%}",
             f"{f.completeness_error:.1%}" if f.completeness_error is not None else "-"] for f in measured]
    parts = ["<h3>Can these maps be trusted?</h3>",
             table(["method", "deletion area", "random", "gain", "insertion area", "random", "gain",
                    "completeness error"], rows, numeric=[False, True, True, True, True, True, True, True]),
             paragraph("Deletion removes the most attributed units first and follows the score of the explained class: "
                       "a faithful map makes it fall faster (a lower area) than a random order. Insertion puts them "
                       "back on the baseline: a faithful map makes it rise faster (a higher area). The completeness "
                       "error is how far integrated gradients' attributions miss f(x) - f(baseline). `deepscope "
                       "explain RUN --split test` draws the curves and runs the model-randomisation check.", "muted")]
    findings = [finding for f in measured for finding in faithfulness_findings(f)]
    parts += [finding_html(finding.to_dict()) for finding in findings] or [
        paragraph("Every method beats a random order on deletion by a clear margin.")]
    return "\n".join(parts)


def _device(context: ReportContext) -> torch.device:
    return next(context.model.parameters()).device


__all__ = ["FAITHFULNESS_EXAMPLES", "SHOWN", "faithfulness_html", "render"]
