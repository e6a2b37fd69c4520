"""`cnn1d`: Kim-style text CNN — convolutions of several widths side by side, max over time, dropout.

Kim (2014), "Convolutional Neural Networks for Sentence Classification": filters of widths 3, 4 and 5 (100
each) slide over the embedded words; each filter keeps its strongest response anywhere in the sentence.

Padding never leaks: padded steps are zeroed, every convolution is padded by width-1 zeros on both sides, and
the max runs only over windows that start at or before a row's last real step — exactly the windows the
sentence has when it is alone, zero-padded the same way.

    encoder = ENCODERS.get("cnn1d")([text_description], widths=[3, 4, 5], filters=100)
    encoder({"review": ids}).shape   # (B, 300)
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.config.values import Size
from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions
from deepscope.models.encoders.sequence_input import EmbeddingOptions, SequenceInput, single_sequence
from deepscope.models.layers.activations import activation


class Cnn1dOptions(EncoderOptions):
    widths: list[Size] = Field(default_factory=lambda: [3, 4, 5], min_length=1, description="window sizes, in steps")
    filters: int = Field(100, ge=1, description="filters per width")
    activation: str = "relu"
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="on the pooled features (Kim used 0.5)")
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


@ENCODERS.register("cnn1d")
class Cnn1dEncoder(Encoder):
    """Multi-width 1-D convolutions with masked max-over-time pooling: (B, T, D) -> (B, len(widths) * filters)."""

    accepts = frozenset({"sequence", "audio"})
    Options = Cnn1dOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        o = self.options
        self.input = SequenceInput(single_sequence(inputs, where), o.embedding, where=where)
        self.convs = nn.ModuleList(
            nn.Conv1d(self.input.output_size, o.filters, width, padding=width - 1) for width in o.widths
        )
        self.activation = activation(o.activation, where=f"{where}.activation")
        self.dropout = nn.Dropout(o.dropout)
        self.output_size = len(o.widths) * o.filters

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, mask = self.input(batch)  # (B, T, D), (B, T)
        x = x.masked_fill(~mask.unsqueeze(-1), 0.0).transpose(1, 2)  # (B, D, T): padded steps read as zeros
        lengths = mask.sum(dim=1, keepdim=True)  # (B, 1)
        pooled = []
        for conv in self.convs:
            h = self.activation(conv(x))  # (B, filters, T + width - 1); output j starts at step j - (width - 1)
            steps = torch.arange(h.shape[2], device=h.device)
            valid = steps < lengths + conv.kernel_size[0] - 1  # (B, T + width - 1): starts at or before the last step
            pooled.append(h.masked_fill(~valid.unsqueeze(1), float("-inf")).amax(dim=2))  # (B, filters)
        return self.dropout(torch.cat(pooled, dim=1))
