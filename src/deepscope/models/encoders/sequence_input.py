"""What every sequence encoder reads first: one input as a float sequence (B, T, D) and its mask (B, T).

- text (kind "sequence", type "text"): token ids (B, L), left-aligned, 0 = padding -> embeddings. The batch is
  trimmed to its longest real sequence, so a batch of short sentences costs what short sentences cost.
- numeric series (kind "sequence", type "timeseries"): floats (B, T, C) as they are; no padding.
- audio (kind "audio"): waveforms (B, S) -> log-mel or MFCC frames (B, T, F) through `Spectrogram`.

The mask is True on real steps. An empty text reads as one padding step (a zero vector), so that every pooling
has something to pool and a packed RNN a length of at least 1.

    inputs = SequenceInput({"name": "review", "type": "text", "kind": "sequence", "vocab_size": 100,
                            "pad_id": 0, "unk_id": 1, "max_length": 20, "tokens": [...]}, EmbeddingOptions())
    x, mask = inputs({"review": ids})     # (B, T, 128), (B, T)
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from deepscope.errors import ConfigError
from deepscope.models.layers.embedding import TokenEmbedding


class EmbeddingOptions(BaseModel):
    """`embedding:` options of a sequence encoder (used by text inputs only)."""

    model_config = ConfigDict(extra="forbid")
    dim: int | None = Field(None, ge=1, description="vector size per token (default: the encoder's choice)")
    pretrained: str | None = Field(None, description="a GloVe-format text file to start from")
    freeze: bool = Field(False, description="keep the embeddings fixed during training")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout on the embedded sequence")
    word_dropout: float = Field(0.0, ge=0.0, lt=1.0, description="in training, this share of the tokens reads as <unk>")


def single_sequence(inputs: list[dict[str, Any]], where: str) -> dict[str, Any]:
    if len(inputs) != 1 or inputs[0]["kind"] not in ("sequence", "audio"):
        raise ConfigError(f"{where}: reads exactly one sequence or audio input, got {[i['name'] for i in inputs]}")
    return inputs[0]


class SequenceInput(nn.Module):
    """One sequence input -> (x (B, T, D) float, mask (B, T) bool). `output_size` is D; `max_length` bounds T."""

    def __init__(self, description: dict[str, Any], embedding: EmbeddingOptions, *, default_dim: int = 128,
                 where: str = "model.encoder"):
        super().__init__()
        self.name = description["name"]
        self.type = "audio" if description["kind"] == "audio" else description["type"]  # text, timeseries, audio
        self.padded = self.type == "text"  # only text has padding; series and audio are full length
        if self.type == "text":
            self.dropout = nn.Dropout(embedding.dropout)
            dim = embedding.dim or default_dim
            tokens = description.get("tokens") or [str(i) for i in range(description["vocab_size"])]
            self.pad_id, self.unk_id = description.get("pad_id", 0), description.get("unk_id", 1)
            self.word_dropout = embedding.word_dropout
            self.embedding = TokenEmbedding(tokens, dim, pretrained=embedding.pretrained, freeze=embedding.freeze,
                                            padding_idx=self.pad_id, where=f"{where}.embedding")
            self.output_size, self.max_length = dim, int(description["max_length"])
        elif self.type == "audio":
            self.spectrogram = spectrogram(description)
            _, self.output_size, self.max_length = description["shape"]  # [1, F, T]
        else:
            self.output_size, self.max_length = int(description["channels"]), int(description["length"])

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        value = batch[self.name]
        if self.type == "text":
            return self._text(value)
        if self.type == "audio":
            x = self.spectrogram(value).transpose(1, 2)  # (B, F, T) -> (B, T, F)
        else:
            x = value.float() if value.ndim == 3 else value.float().unsqueeze(-1)  # (B, T) -> (B, T, 1)
        return x, torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)  # no padding: every step is real

    def _text(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = ids != self.pad_id  # (B, L)
        # an exported graph (ONNX, TorchScript, pt2) reads every step: the trim's size depends on the data, which
        # an export cannot hold, and padded steps are masked out either way
        if not (torch.compiler.is_exporting() or torch.jit.is_tracing()):
            # one host sync per batch: packed RNNs need the lengths on the host anyway
            longest = max(int(mask.sum(dim=1).max()), 1) if ids.numel() else 1
            ids, mask = ids[:, :longest], mask[:, :longest]
        mask = mask.clone()
        mask[:, 0] = True  # an empty text is one padding step
        if self.training and self.word_dropout:  # whole words hidden: the model learns not to lean on any one
            ids = ids.masked_fill((torch.rand(ids.shape, device=ids.device) < self.word_dropout) & (ids != self.pad_id),
                                  self.unk_id)
        return self.dropout(self.embedding(ids)), mask  # (B, T, D), (B, T)


def spectrogram(description: dict[str, Any]) -> nn.Module:
    try:
        from deepscope.models.layers.spectrogram import Spectrogram
    except ImportError as error:  # written alongside the audio feature; absent in a partial install
        raise ImportError("audio inputs need deepscope.models.layers.spectrogram (the Spectrogram layer), "
                          f"which cannot be imported: {error}") from error
    return Spectrogram(description)


Pooling = Literal["last", "mean", "max"]


def pool(x: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Masked pooling over time: (B, T, D), (B, T) -> (B, D). `last` is the last real step of each row."""
    if how == "mean":
        weights = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
    if how == "max":
        return x.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
    if how == "last":
        last = mask.sum(dim=1).clamp(min=1) - 1  # (B,) left-aligned sequences
        return x[torch.arange(x.shape[0], device=x.device), last]
    raise ValueError(f"unknown pooling {how!r}")
