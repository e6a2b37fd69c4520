"""Multi-layer perceptrons: `mlp` for images or series windows (flattened) or tables, `tabular` with defaults
for tables."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.config.values import Size
from deepscope.errors import ConfigError
from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions, TabularInput
from deepscope.models.layers.activations import activation


class MlpOptions(EncoderOptions):
    hidden: list[Size] = Field(default_factory=lambda: [256, 128], description="units per hidden layer")
    activation: str = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batchnorm: bool = False


def dense_stack(width: int, options: Any, where: str) -> tuple[nn.Sequential, int]:
    """Linear -> [BatchNorm] -> activation -> [Dropout], once per hidden size. Returns the stack and its width."""
    layers: list[nn.Module] = []
    for units in options.hidden:
        layers.append(nn.Linear(width, units))
        if options.batchnorm:
            layers.append(nn.BatchNorm1d(units))
        layers.append(activation(options.activation, where=f"{where}.activation"))
        if options.dropout:
            layers.append(nn.Dropout(options.dropout))
        width = units
    return nn.Sequential(*layers), width


@ENCODERS.register("mlp")
class MlpEncoder(Encoder):
    accepts = frozenset({"image", "tabular", "sequence"})
    reads_text = False  # of sequences, only series windows (fixed length, floats) can be flattened
    Options = MlpOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        images = [s for s in inputs if s["kind"] in ("image", "sequence")]
        if any(s.get("type") == "text" for s in images):
            raise ConfigError(f"{where}: mlp reads series windows, not token ids; use lstm, gru, cnn1d or transformer")
        if images:  # an image (B, C, H, W) or a series window (B, lookback, channels), flattened
            self.input = nn.Flatten()
            self.image = images[0]["name"]
            shape = images[0].get("shape") or [images[0]["length"], images[0]["channels"]]
            width = math.prod(shape)
        else:
            self.input = TabularInput(inputs)
            self.image = None
            width = self.input.width
        self.layers, self.output_size = dense_stack(width, self.options, where)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.input(batch[self.image]) if self.image else self.input(batch)
        return self.layers(x)


class TabularOptions(MlpOptions):
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    batchnorm: bool = True


@ENCODERS.register("tabular")
class TabularEncoder(MlpEncoder):
    """Numeric columns and category embeddings, through an MLP with batch norm (good defaults for tables)."""

    accepts = frozenset({"tabular"})
    Options = TabularOptions
