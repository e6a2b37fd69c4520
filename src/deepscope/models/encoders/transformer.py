"""`transformer`: a pre-norm Transformer encoder over one sequence or audio input.

Inputs become d_model-wide vectors (text: embeddings of that size, times sqrt(d_model); series and audio
frames: a linear map), positions are added (fixed sinusoids as in Vaswani et al. 2017, or learned vectors),
then `layers` pre-norm blocks (LayerNorm before attention and before the feed-forward net, which trains stably
without warm-up tricks) and a final LayerNorm. Padded steps are masked out of attention
(`src_key_padding_mask`) and out of the pooling: `mean` over real steps, or `cls`, the output at a learned
token put in front of every sequence.

    encoder = ENCODERS.get("transformer")([text_description], d_model=64, heads=4, layers=2, pooling="cls")
    encoder({"review": ids}).shape   # (B, 64)
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field, model_validator
from torch import nn

from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions
from deepscope.models.encoders.sequence_input import EmbeddingOptions, SequenceInput, pool, single_sequence


class TransformerOptions(EncoderOptions):
    d_model: int = Field(128, ge=1, description="width of every position's vector")
    heads: int = Field(4, ge=1, description="attention heads; must divide d_model")
    layers: int = Field(2, ge=1)
    feedforward: int | None = Field(None, ge=1, description="hidden units of each block's MLP (default 2 x d_model)")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    positions: Literal["sinusoidal", "learned"] = "sinusoidal"
    pooling: Literal["mean", "cls"] = "mean"
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerOptions:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


def sinusoids(length: int, width: int, device: torch.device) -> torch.Tensor:
    """(length, width): sin on even features, cos on odd ones, wavelengths from 2 pi to 10000 * 2 pi."""
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)  # (T, 1)
    frequency = torch.exp(torch.arange(0, width, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


@ENCODERS.register("transformer")
class TransformerEncoder(Encoder):
    """Pre-norm Transformer encoder with a padding mask: (B, T, D) -> (B, d_model)."""

    accepts = frozenset({"sequence", "audio"})
    Options = TransformerOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        o = self.options
        self.input = SequenceInput(single_sequence(inputs, where), o.embedding, default_dim=o.d_model, where=where)
        width = self.input.output_size
        # token vectors start small (std 0.1); scaled by sqrt(d_model) as in Vaswani et al., they weigh about as
        # much as the positions (amplitude 1) from the start
        self.embedding_scale = math.sqrt(o.d_model) if self.input.type == "text" else 1.0
        self.project = nn.Linear(width, o.d_model) if width != o.d_model else nn.Identity()
        if o.positions == "learned":
            self.positions = nn.Parameter(torch.randn(self.input.max_length, o.d_model) * 0.02)  # (T_max, d_model)
        if o.pooling == "cls":
            self.cls = nn.Parameter(torch.randn(1, 1, o.d_model) * 0.02)
        block = nn.TransformerEncoderLayer(o.d_model, o.heads, o.feedforward or 2 * o.d_model, o.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        # nested tensors (a fast path for padded batches) do not support pre-norm blocks
        self.blocks = nn.TransformerEncoder(block, o.layers, norm=nn.LayerNorm(o.d_model), enable_nested_tensor=False)
        self.output_size = o.d_model

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, mask = self.input(batch)  # (B, T, D), (B, T)
        x = self.project(x * self.embedding_scale)  # (B, T, d_model)
        T = x.shape[1]
        x = x + (self.positions[:T] if self.options.positions == "learned" else sinusoids(T, x.shape[2], x.device))
        if self.options.pooling == "cls":
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1 + T, d_model)
            mask = torch.cat([mask.new_ones(x.shape[0], 1), mask], dim=1)
        h = self.blocks(x, src_key_padding_mask=~mask)  # (B, T', d_model)
        return h[:, 0] if self.options.pooling == "cls" else pool(h, mask, "mean")
