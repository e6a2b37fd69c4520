"""Attention maps of Transformer encoders: the weights of every layer and head, and attention rollout (Abnar &
Zuidema 2020): each layer's head-averaged weights, plus the identity for the residual path, row-normalised and
multiplied from the first layer up, say how much each input step feeds the pooled output.

Not a gradient method and not in Captum: the weights are read with hooks on the encoder's attention modules
(explain/layers.py). `attributions` are the rollout's share per step: text (n, L) per token, series (n, T, 1),
spectrograms (n, 1, T) per frame. `extra["attention"]` is (n, layers, heads, T', T') and `extra["rollout"]`
(n, T', T'), where T' counts a `cls` token first when the encoder pools with one.
"""

from __future__ import annotations

import torch

from deepscope.explain.layers import attention_layers, capturing_attention
from deepscope.explain.methods.base import METHODS, Method, encoder_of


class AttentionMethod(Method):
    name = "attention"
    modalities = frozenset({"text", "series", "audio"})
    uses_gradients = False

    def applies(self, view, input_name):
        if reason := super().applies(view, input_name):
            return reason
        if not attention_layers(encoder_of(view, input_name)):
            return f"attention needs a transformer encoder; the {input_name!r} input is read by a " \
                   f"{type(encoder_of(view, input_name)).__name__}"
        return None

    def compute(self, view, x, context, targets, baseline, **settings):
        encoder = encoder_of(view, view.input_name)
        with capturing_attention(attention_layers(encoder)) as captured, torch.enable_grad():
            view(x, *context)  # gradients on: PyTorch's fused fast path would bypass the attention modules
        weights = torch.stack(captured, dim=1)  # (n, layers, heads, T', T')
        rollout = attention_rollout(weights)  # (n, T', T')
        cls = getattr(encoder.options, "pooling", "mean") == "cls"
        # (n, T): what the pooled vector draws on, per input step
        share = rollout[:, 0, 1:] if cls else _real_queries_mean(rollout, weights)
        extra = {"attention": weights, "rollout": rollout, "cls": cls}
        return _shaped(view.modality, share), extra


def attention_rollout(weights: torch.Tensor) -> torch.Tensor:
    """(n, layers, heads, T, T) -> (n, T, T): prod over layers of normalise(mean_heads(A) + I)."""
    n, layers, _, steps, _ = weights.shape
    identity = torch.eye(steps, device=weights.device)
    rollout = identity.expand(n, steps, steps)
    for layer in range(layers):
        a = weights[:, layer].mean(dim=1) + identity  # (n, T, T) the residual path kept
        a = a / a.sum(dim=-1, keepdim=True)
        rollout = a @ rollout
    return rollout


def _real_queries_mean(rollout: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean pooling averages the real steps: a padded key gets no attention, so padded query rows are those
    that no real query attends to; average the rows of the steps that receive attention."""
    real = weights[:, 0].mean(dim=1).sum(dim=1) > 0  # (n, T) keys any query attends to
    rows = rollout * real.unsqueeze(-1)
    return rows.sum(dim=1) / real.sum(dim=1, keepdim=True).clamp(min=1)


def _shaped(modality: str, share: torch.Tensor) -> torch.Tensor:
    if modality == "text":
        return share.unsqueeze(-1)  # (n, T, 1): summed over its last axis into one score per token
    if modality == "audio":
        return share.unsqueeze(1)  # (n, 1, frames)
    return share.unsqueeze(-1)  # series (n, T, 1)


METHODS.register("attention")(AttentionMethod())
