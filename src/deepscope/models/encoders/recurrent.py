"""Recurrent encoders: `rnn`, `lstm` and `gru` are one encoder whose `cell` option picks the recurrence.

Padded text goes through `pack_padded_sequence`, so the recurrence stops at each row's last real token and
padding never changes the result. Pooling turns the states into one vector per example:
`last` is the final state (for a bidirectional net, the forward state at the last token beside the backward
state at the first), `mean` and `max` pool the top layer's outputs over real steps only.

Bidirectional by default: the encoder reads a whole sequence that is given at once (a sentence, a lookback
window), so nothing forbids looking ahead, and with `last` pooling a one-way net must carry the first words
through the whole sentence, while the backward direction ends on them.

    encoder = ENCODERS.get("gru")([text_description], hidden=64, pooling="max")
    encoder({"review": ids}).shape   # (B, 128): 2 directions x 64
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions
from deepscope.models.encoders.sequence_input import EmbeddingOptions, Pooling, SequenceInput, pool, single_sequence

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentOptions(EncoderOptions):
    cell: Literal["rnn", "lstm", "gru"] | None = Field(None, description="the recurrence (default: the encoder's name)")
    hidden: int = Field(128, ge=1, description="units per direction")
    layers: int = Field(1, ge=1)
    bidirectional: bool = True
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="between layers and on the pooled output")
    pooling: Pooling = "last"
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


class RecurrentEncoder(Encoder):
    """A (bi)directional RNN, LSTM or GRU over one sequence or audio input: (B, T, D) -> (B, directions*hidden)."""

    accepts = frozenset({"sequence", "audio"})
    Options = RecurrentOptions
    default_cell: ClassVar[str] = "lstm"

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        o = self.options
        self.cell = o.cell or self.default_cell
        self.input = SequenceInput(single_sequence(inputs, where), o.embedding, where=where)
        self.rnn = CELLS[self.cell](self.input.output_size, o.hidden, num_layers=o.layers, batch_first=True,
                                    bidirectional=o.bidirectional, dropout=o.dropout if o.layers > 1 else 0.0)
        self.directions = 2 if o.bidirectional else 1
        self.dropout = nn.Dropout(o.dropout)
        self.output_size = self.directions * o.hidden

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, mask = self.input(batch)  # (B, T, D), (B, T)
        if self.input.padded:
            lengths = mask.sum(dim=1).cpu()  # packing wants the lengths on the host
            outputs, state = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        else:
            outputs, state = self.rnn(x)
        if self.options.pooling == "last":
            h = state[0] if self.cell == "lstm" else state  # (layers * directions, B, H); LSTMs also give c
            h = h.view(self.options.layers, self.directions, *h.shape[1:])[-1]  # top layer: (directions, B, H)
            return self.dropout(torch.cat(list(h), dim=1))  # (B, directions * H)
        if self.input.padded:
            outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
        return self.dropout(pool(outputs, mask, self.options.pooling))  # (B, T, directions * H) -> (B, ...)


@ENCODERS.register("rnn")
class RnnEncoder(RecurrentEncoder):
    """A plain (tanh) RNN: simple, fast, and the classic case of vanishing and exploding gradients."""

    default_cell = "rnn"


@ENCODERS.register("lstm")
class LstmEncoder(RecurrentEncoder):
    default_cell = "lstm"


@ENCODERS.register("gru")
class GruEncoder(RecurrentEncoder):
    default_cell = "gru"
