"""Examples from the evaluation split with the model's predictions, worst errors first: images as images, text as
text, audio as the log-mel spectrogram the model reads, table rows as their values.

The worst come first: the wrong predictions, least probability on the true class first, then the right ones the
model was least sure of (for a number: the largest errors), among the report's sample of the split; a few of the
best follow, so that a reader also sees what the model gets right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepscope.report.context import Predictions, ReportContext
from deepscope.report.html import escape, image, note, number, paragraph, table
from deepscope.report.plots import array_png, heat_png

WORST = 16
BEST = 4
MAX_TEXT = 400  # characters of a text shown
MAX_COLUMNS = 8  # table columns shown per example
SPECTROGRAM_SIZE = (320, 120)  # pixels: a clip of any length reads as a strip, time along, frequency up


def render(context: ReportContext) -> str:
    if context.is_forecast:
        return note("A forecasting run's examples are its forecasts: see the evaluation above.")
    if context.is_language_model:
        from deepscope.report.samples import render as samples

        return samples(context)
    if context.is_translation:
        from deepscope.report.translations import render_examples

        return render_examples(context)
    predictions = context.predictions()
    if not predictions:
        reason = context.missing.get("model") or context.missing.get("data") or "no evaluation data"
        return note(f"Examples need the model and the data: {reason}.")
    name, primary = next(iter(predictions.items()))
    order = np.argsort(-primary.error, kind="stable")
    chosen = list(order[:WORST]) + [i for i in order[::-1][:BEST] if i not in order[:WORST]]
    if all(f.kind == "tabular" for f in context.inputs.values()):
        shown = rows_table(context, [int(i) for i in chosen], predictions)
    else:
        renderers = _renderers(context)
        wide = any(f.type in ("text", "audio") for f in context.inputs.values())
        cards = "".join(card(context, int(i), predictions, renderers) for i in chosen)
        shown = f"<div class=\"examples{' wide' if wide else ''}\">{cards}</div>"
    wrong = int(np.sum(primary.predicted != primary.target)) if primary.kind != "number" else None
    worst, best = min(WORST, len(order)), len(chosen) - min(WORST, len(order))
    what = "largest errors" if primary.kind == "number" else "worst predictions (wrong ones first)"
    intro = (f"{len(chosen)} of {len(primary.error):,} {context.sample.split} examples: the {worst} {what} for "
             f"{name!r}, then the {best} best.")
    if wrong is not None:
        intro += f" Wrong: {wrong:,} of {len(primary.error):,}."
    return paragraph(intro, "muted") + shown


def rows_table(context: ReportContext, chosen: list[int], predictions: dict[str, Predictions]) -> str:
    """Table inputs read best as a table: one row per example, its values, then each output's truth and guess."""
    columns = list(context.inputs)[:MAX_COLUMNS]
    header = ["row", *columns]
    for name in predictions:
        header += [f"true {name}", f"predicted {name}", ""]
    rows = []
    for i in chosen:
        cells = [number(int(context.sample.index[i]))] + [number(_plain(context.sample.raw[c][i])) for c in columns]
        for name, p in predictions.items():
            shown = (lambda v: number(float(v))) if p.kind == "number" else (lambda v: escape(v))  # noqa: E731
            cells += [shown(_label(context, name, p, p.target[i])), shown(_label(context, name, p, p.predicted[i])),
                      _verdict(p, i)]
        rows.append(cells)
    return table(header, rows, raw=True)


def _verdict(p: Predictions, i: int) -> str:
    """'right (92%)' / 'wrong (61%)' for a class; the error for a number."""
    if p.kind == "number":
        return f"error {number(float(p.error[i]))}"
    return f"{_mark(p, i)} ({_confidence(p, i):.0%})"


def _mark(p: Predictions, i: int) -> str:
    return "<span class=\"right\">right</span>" if p.predicted[i] == p.target[i] else \
        "<span class=\"wrongmark\">wrong</span>"


def _confidence(p: Predictions, i: int) -> float:
    """The probability of the predicted class."""
    return float(p.probabilities[i].max() if p.kind == "category" else max(p.probabilities[i], 1 - p.probabilities[i]))


def card(context: ReportContext, i: int, predictions: dict[str, Predictions], renderers: list[Any]) -> str:
    shown = "".join(render(i) for render in renderers)
    lines, wrong = [], False
    for name, p in predictions.items():
        truth, guess = _label(context, name, p, p.target[i]), _label(context, name, p, p.predicted[i])
        if p.kind == "number":
            lines.append(f"{escape(name)}: true {number(float(truth))}, predicted {number(float(guess))}")
            continue
        wrong = wrong or p.predicted[i] != p.target[i]
        lines.append(f"{_mark(p, i)} true <strong>{escape(truth)}</strong>, predicted <strong>{escape(guess)}</strong> "
                     f"({_confidence(p, i):.0%})")
    index = int(context.sample.index[i])
    return (f"<div class=\"example{' wrong' if wrong else ''}\">{shown}<div>{'<br>'.join(lines)}</div>"
            f"<div class=\"muted\">{escape(context.sample.split)} row {index:,}</div></div>")


def _label(context: ReportContext, name: str, p: Predictions, value: Any) -> Any:
    feature = context.outputs[name]
    if p.kind == "category":
        return feature.classes[int(value)]
    if p.kind == "binary":
        return feature.fitted["positive"] if int(value) == 1 else feature.fitted["negative"]
    return value


def _renderers(context: ReportContext) -> list[Any]:
    """Functions from a sample row to HTML, one per image, text or audio input (other inputs are not drawn)."""
    return [_renderer(context, n) for n in context.inputs]


def _renderer(context: ReportContext, name: str) -> Any:
    """A function from a sample row to HTML for the input `name`."""
    feature, sample = context.inputs[name], context.sample
    if feature.type == "image":
        return lambda i: image(array_png(image_pixels(feature, sample.raw[name][i])), f"{name} example", "pixels")
    if feature.type == "text":
        return lambda i: f"<div class=\"text\">{escape(_cut(str(sample.raw[name][i])))}</div>"
    if feature.type == "audio":
        return lambda i: image(spectrogram_png(feature, sample.tensors[name][i]), f"{name} spectrogram", "spectrogram")
    return lambda i: ""


def image_pixels(feature: Any, value: Any) -> np.ndarray:
    """One raw image (array or file path) as uint8 pixels for display."""
    if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
        return feature.read(value)
    pixels = np.asarray(value)
    if pixels.dtype != np.uint8:
        scale = float(feature.fitted.get("scale") or max(np.abs(pixels).max(), 1e-12))
        pixels = (np.clip(pixels / scale, 0, 1) * 255).astype(np.uint8)
    return pixels


def spectrogram_png(feature: Any, waveform: torch.Tensor) -> bytes:
    """The log-mel spectrogram (or MFCCs) the model computes from this clip, low frequencies at the bottom."""
    from deepscope.models.layers.spectrogram import Spectrogram

    layer = Spectrogram(feature.describe()).eval()
    with torch.no_grad():
        features = layer(waveform.reshape(1, -1).float().cpu())[0].numpy()  # (F, T)
    return heat_png(features, size=SPECTROGRAM_SIZE)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return "" if value is None else value
