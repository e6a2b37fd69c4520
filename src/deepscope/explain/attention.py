"""Where a language model or a translation model looks: its attention weights per layer and head, with the tokens.

    maps = attention_maps(predictor, "ROMEO: what say")          # a language model: self-attention over the text
    maps.weights["self"].shape                                   # (layers, heads, T, T)
    maps = attention_maps(predictor, "A man is riding a bike.")  # a translation: it translates first, then
    maps.weights["cross"].shape                                  # (layers, heads, T target, S source)
    maps.queries, maps.keys                                      # the tokens down and across

For a translation the weights are those of reading its own (greedy) translation back with teacher forcing, which
gives the very steps decoding took: each target token's row says which source tokens it was written from.
Attention is where the model looks, not why it decides (Jain and Wallace, 2019): the report draws it beside the
attribution methods, not instead of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepscope.errors import UserError


@dataclass
class AttentionMaps:
    weights: dict[str, np.ndarray]  # kind -> (layers, heads, queries, keys): "self"; or "encoder", "decoder", "cross"
    queries: list[str]  # the tokens of the rows (of "self" and "cross")
    keys: list[str]  # the tokens of the columns of "self" (a language model) or "cross" (the source)
    text: str = ""  # a translation's output


def attention_maps(predictor: Any, text: str) -> AttentionMaps:
    """The attention of the predictor's model (a language model or a Transformer translation) on `text`."""
    model, inputs, outputs = predictor.model, predictor.inputs, predictor.outputs
    if not hasattr(getattr(model, "body", None), "keep_attention"):
        raise UserError("attention maps need a language model or a translation model (data.corpus, "
                        "data.translation); this run's model has no attention to show")
    if any(f.type == "tokens" for f in inputs.values()):
        return _language_model(model, next(iter(inputs.values())), text)
    if any(f.type == "sequence" for f in outputs.values()):
        return _translation(predictor, text)
    raise UserError("attention maps need a language model or a translation model")


def _kept(model: Any, run: Any) -> dict[str, Any]:
    body = model.body
    was_keeping, was_training = body.keep_attention, model.training
    body.keep_attention = True
    model.eval()
    try:
        with torch.no_grad():
            run()
        return body.attention
    finally:
        body.keep_attention = was_keeping
        model.train(was_training)


def _language_model(model: Any, tokens: Any, text: str) -> AttentionMaps:
    if not text:
        raise UserError("give a text to show the attention over")
    ids = tokens.ids(text)[-model.context :]
    device = next(model.parameters()).device
    kept = _kept(model, lambda: model.body(torch.tensor([ids], device=device)))
    if not kept:
        raise UserError("this language model (an LSTM) has no attention to show; a transformer has")
    characters = [tokens.text([i]) for i in ids]
    return AttentionMaps({"self": _stack(kept)}, characters, characters)


def _translation(predictor: Any, text: str) -> AttentionMaps:
    model = predictor.model
    (source_name, source), (target_name, target) = next(iter(predictor.inputs.items())), \
        next(iter(predictor.outputs.items()))
    predictor.translate(text, beam=1)  # refuses what translating refuses (a text too long)
    device = next(model.parameters()).device
    src = source.encode([text]).to(device)
    written = model.translate(src)  # (1, L): the greedy ids, </s> last
    kept = _kept(model, lambda: model({source_name: src, target_name: written}))
    if "cross" not in kept:
        raise UserError("this translation model keeps no attention weights")
    src_ids = [i for i in src[0].tolist() if i != 0]
    tgt_ids = [i for i in written[0].tolist() if i != 0]  # the words, then </s>
    pieces = lambda feature, ids: [feature.tokenizer.tokens[i] for i in ids]  # noqa: E731
    weights = {kind: _stack(kept[kind]) for kind in ("encoder", "decoder", "cross") if kept.get(kind)}
    weights["cross"] = weights["cross"][:, :, : len(tgt_ids), : len(src_ids)]
    return AttentionMaps(weights, pieces(target, tgt_ids), pieces(source, src_ids), target.texts(written)[0])


def _stack(layers: list[torch.Tensor]) -> np.ndarray:
    """Per layer (1, heads, q, k) -> (layers, heads, q, k) of the one example."""
    return torch.stack([w[0] for w in layers]).float().cpu().numpy()
