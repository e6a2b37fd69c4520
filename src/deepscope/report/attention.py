"""The explanations section of a language model or a translation run: its attention per layer and head on one
example (explain/attention.py) — a validation text's self-attention, or where each written token of one
translation looked in the source. Attention shows where a model looks, not why it decides."""

from __future__ import annotations

from deepscope.errors import UserError
from deepscope.explain.attention import AttentionMaps, attention_maps
from deepscope.models.predictor import Predictor
from deepscope.report.context import ReportContext
from deepscope.report.explain_plots import attention_png
from deepscope.report.html import drawn_png, image, note, paragraph

SHOWN_CHARACTERS = 48  # of a validation text: enough for a line of verse, few enough to label every position


def render(context: ReportContext) -> str:
    if context.model is None or context.data is None:
        return note("The attention needs the model and the data.")
    predictor = Predictor(context.model, context.inputs, context.outputs, next(context.model.parameters()).device)
    try:
        if context.is_translation:
            return _translation(context, predictor)
        return _language_model(context, predictor)
    except UserError as error:  # an LSTM: no attention
        return note(str(error))


def _translation(context: ReportContext, predictor: Predictor) -> str:
    if context.sample is None:
        return note("The attention needs the evaluation data.")
    sentence = str(context.sample.raw[next(iter(context.inputs))][0])
    maps = attention_maps(predictor, sentence)
    intro = (f"Where each token of the translation of {sentence!r} ({maps.text!r}) looked in the source, per layer "
             "and head (written tokens down, source tokens across).")
    return _drawn(intro, maps, "cross", "cross-attention per layer and head")


def _language_model(context: ReportContext, predictor: Predictor) -> str:
    tokens = next(iter(context.inputs.values()))
    if tokens.fitted.get("unit") != "characters":
        return note("The attention of a model over notes is not drawn.")
    splits = context.data.raw.splits
    windows = splits["val"]["tokens"] if "val" in splits else splits["train"]["tokens"]
    text = tokens.text(windows.inputs()[0][:SHOWN_CHARACTERS])
    maps = attention_maps(predictor, text)
    intro = ("Self-attention over the start of the validation text, per layer and head: each character (down) and "
             "the characters before it (across) that it looked at to predict the next.")
    return _drawn(intro, maps, "self", "self-attention per layer and head")


def _drawn(intro: str, maps: AttentionMaps, kind: str, title: str) -> str:
    queries = None if kind == "self" else maps.queries
    png = drawn_png(lambda path: attention_png(maps.weights[kind], maps.keys, path, query_tokens=queries, title=title))
    return paragraph(intro + " Attention shows where a model looks, not why it decides.", "muted") + image(
        png, title, "chart")
