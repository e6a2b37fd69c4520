"""`gru`: a GRU encoder-decoder with attention (Bahdanau et al. 2015; the attention of Luong et al. 2015).

A bidirectional GRU reads the source (packed, so padding is never read); the decoder GRU starts from a projection
of the encoder's last states and, at each target position, scores every source position against its own state
(Luong's "general" score), takes the weighted sum of the source states and mixes it with its state before the
output projection. Without input feeding, the decoder GRU runs over the whole target in one call in training,
and `step` computes exactly the same logits one token at a time from the hidden state kept in the
`DecoderState`.

    model = GRUSeq2Seq(src_vocab=8000, tgt_vocab=8000, context=128, d_model=256)
    logits = model(src, tgt_in)                  # (B, T, 8000)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepscope.config.options import parse_options
from deepscope.models.seq2seq.memory import DecoderState, Memory, Seq2SeqNetwork
from deepscope.models.seq2seq.options import SEQ2SEQ_MODELS, GRUOptions


@SEQ2SEQ_MODELS.register("gru")
class GRUSeq2Seq(Seq2SeqNetwork):
    Options = GRUOptions

    def __init__(self, src_vocab: int, tgt_vocab: int, context: int, *, shared_vocabulary: bool = False,
                 where: str = "model.encoder", **options: Any):
        super().__init__(context)
        o = self.options = parse_options(self.Options, options, where, what="the translation GRU")
        if o.d_model % 2:
            raise ValueError(f"d_model ({o.d_model}) must be even: the bidirectional encoder's halves")
        self.layers = o.layers
        d = o.d_model
        self._embeddings(src_vocab, tgt_vocab, d, shared=shared_vocabulary, tied=o.tie_weights, padding_idx=0)
        self.dropout = nn.Dropout(o.dropout)
        between = o.dropout if o.layers > 1 else 0.0
        self.encoder = nn.GRU(d, d // 2, o.layers, batch_first=True, bidirectional=True, dropout=between)
        self.bridge = nn.Linear(d, d)  # the encoder's last forward and backward states -> the decoder's first
        self.decoder = nn.GRU(d, d, o.layers, batch_first=True, dropout=between)
        self.score = nn.Linear(d, d, bias=False)  # Luong's general score: h_t^T W s
        self.combine = nn.Linear(2 * d, d)

    def encode(self, src: torch.Tensor) -> Memory:
        mask = src != 0
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.dropout(self.source_embedding(src)), lengths, batch_first=True,
                                      enforce_sorted=False)
        states, last = self.encoder(packed)  # last: (layers * 2, B, d / 2)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=src.shape[1])
        self.attention = {}
        # the decoder's first state, per layer tanh(W [forward last; backward last]), kept batch first (B, layers, d)
        B = src.shape[0]
        last = last.view(self.layers, 2, B, -1).permute(2, 0, 1, 3).reshape(B, self.layers, -1)
        return Memory(states, mask, torch.tanh(self.bridge(last)))

    def start(self, memory: Memory) -> DecoderState:
        return DecoderState(memory, self._first_hidden(memory))

    @staticmethod
    def _first_hidden(memory: Memory) -> torch.Tensor:
        return memory.initial.transpose(0, 1).contiguous()  # (layers, B, d), as nn.GRU takes it

    def step(self, tgt: torch.Tensor, state: DecoderState) -> torch.Tensor:
        logits, state.cache = self._decode(tgt, state.memory, state.cache)
        return logits

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        memory = self.encode(src)
        return self._decode(tgt, memory, self._first_hidden(memory))[0]

    def _decode(self, tgt: torch.Tensor, memory: Memory, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tgt.shape[1] > self.context:
            raise ValueError(f"the model writes at most {self.context} positions; got {tgt.shape[1]}")
        outputs, hidden = self.decoder(self.dropout(self.target_embedding(tgt)), hidden)  # (B, T, d)
        scores = self.score(outputs) @ memory.states.transpose(1, 2) / math.sqrt(outputs.shape[-1])  # (B, T, S)
        weights = scores.masked_fill(~memory.mask[:, None, :], float("-inf")).softmax(dim=-1)
        if self.keep_attention:
            self.attention.setdefault("cross", []).append(weights.unsqueeze(1))  # (B, 1 head, T, S)
        context = weights @ memory.states  # (B, T, d)
        mixed = self.dropout(torch.tanh(self.combine(torch.cat([context, outputs], dim=-1))))
        return F.linear(mixed, self.output_weight), hidden
