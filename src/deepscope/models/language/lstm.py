"""`lstm`: a character-RNN style LSTM language model, token ids (B, T) -> next-token logits (B, T, vocab).

Embedding, a stack of one-way LSTM layers as wide as the embedding (so that the output projection can share the
embedding's weight, Press & Wolf 2017), dropout on the embedded input, between layers and on the output. A
`RecurrentState` carries (h, c) from one call to the next, so decoding reads one token per step. Unlike the
Transformer it has no limit on the positions it reads; `context` is the window it is trained on, and `generate`
slides the same window for both models.

    model = LSTMLanguageModel(vocab_size=65, context=256, d_model=128, layers=2)
    logits = model(ids)                          # (B, T, 65)
    state = model.new_cache(batch_size=ids.shape[0])
    logits = model(ids, state)                   # the same logits; state now holds (h, c) after ids
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.config.options import parse_options
from deepscope.models.language.cache import RecurrentState
from deepscope.models.language.options import LANGUAGE_MODELS, LSTMLMOptions


@LANGUAGE_MODELS.register("lstm")
class LSTMLanguageModel(nn.Module):
    """Embedding -> LSTM layers -> (tied) output projection."""

    Options = LSTMLMOptions

    def __init__(self, vocab_size: int, context: int, *, where: str = "model.encoder", **options: Any):
        super().__init__()
        if vocab_size < 1 or context < 1:
            raise ValueError(f"vocab_size ({vocab_size}) and context ({context}) must be at least 1")
        o = self.options = parse_options(self.Options, options, where, what="the lstm language model")
        self.vocab_size, self.context = vocab_size, context
        self.embedding = nn.Embedding(vocab_size, o.d_model)
        self.dropout = nn.Dropout(o.dropout)
        self.lstm = nn.LSTM(o.d_model, o.d_model, num_layers=o.layers, batch_first=True,
                            dropout=o.dropout if o.layers > 1 else 0.0)
        # tied: the logits use the embedding's weight itself, so the state dict holds it once
        self.head = None if o.tie_weights else nn.Linear(o.d_model, vocab_size, bias=False)
        nn.init.normal_(self.embedding.weight, std=0.02)  # as the Transformer's; the LSTM keeps PyTorch's init
        if self.head is not None:
            nn.init.normal_(self.head.weight, std=0.02)

    @property
    def output_weight(self) -> torch.Tensor:
        """(vocab, d_model): the output projection's weight; the embedding's own tensor when tied."""
        return self.embedding.weight if self.head is None else self.head.weight

    def new_cache(self, batch_size: int) -> RecurrentState:
        return RecurrentState(batch_size)

    def forward(self, ids: torch.Tensor, cache: RecurrentState | None = None) -> torch.Tensor:
        """ids (B, T) long -> logits (B, T, vocab); with a state, start from it and leave the new one in it."""
        x = self.dropout(self.embedding(ids))  # (B, T, d_model)
        h, state = self.lstm(x, None if cache is None else cache.state)  # (B, T, d_model), ((L, B, d), (L, B, d))
        if cache is not None:
            cache.state = state
            cache.length += ids.shape[1]
        return F.linear(self.dropout(h), self.output_weight)  # (B, T, vocab)
