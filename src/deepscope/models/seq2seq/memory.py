"""What a sequence-to-sequence decoder reads and keeps while it writes: the encoded source (`Memory`) and its own
state (`DecoderState`), both of which can keep some batch rows in a new order (`select`: beam search); and the
base of the networks (`Seq2SeqNetwork`: their embeddings and output projection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class Memory:
    states: torch.Tensor  # (B, S, d): the encoder's output per source position
    mask: torch.Tensor  # (B, S) bool: True for a real token, False for padding
    initial: torch.Tensor | None = None  # (B, ...): a recurrent decoder's first state, from the encoder

    def select(self, rows: torch.Tensor) -> Memory:
        return Memory(self.states[rows], self.mask[rows], None if self.initial is None else self.initial[rows])


@dataclass
class DecoderState:
    """A Transformer's: the self-attention cache and the cross-attention keys/values per layer; a GRU's: the
    hidden state in `cache` (a tensor) and no `cross`."""

    memory: Memory
    cache: Any
    cross: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)

    def select(self, rows: torch.Tensor) -> None:
        self.memory = self.memory.select(rows)
        self.cross = [(k[rows], v[rows]) for k, v in self.cross]
        if isinstance(self.cache, torch.Tensor):
            self.cache = self.cache[:, rows]  # (layers, B, hidden)
        else:
            self.cache.select(rows)


class Seq2SeqNetwork(nn.Module):
    """What every network here shares: the embeddings (a source and a target table, or one for a shared
    vocabulary), the output projection (the target table itself when tied), and the attention they keep."""

    def __init__(self, context: int):
        super().__init__()
        self.context = context
        self.keep_attention = False  # True: forward / step keep every layer's attention weights (self.attention)
        self.attention: dict[str, list[torch.Tensor]] = {}

    def _embeddings(self, src_vocab: int, tgt_vocab: int, d_model: int, *, shared: bool, tied: bool,
                    padding_idx: int | None = None) -> None:
        self.target_embedding = nn.Embedding(tgt_vocab, d_model, padding_idx=padding_idx)
        # shared: one table (not a second name for it, which safetensors refuses)
        self.own_source_embedding = None if shared else nn.Embedding(src_vocab, d_model, padding_idx=padding_idx)
        self.head = None if tied else nn.Linear(d_model, tgt_vocab, bias=False)

    @property
    def source_embedding(self) -> nn.Embedding:
        return self.target_embedding if self.own_source_embedding is None else self.own_source_embedding

    @property
    def output_weight(self) -> torch.Tensor:
        return self.target_embedding.weight if self.head is None else self.head.weight
