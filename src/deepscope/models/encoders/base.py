"""The encoder contract: some input columns of a batch in, one (B, D) tensor out.

An encoder is built from the *descriptions* of the features it reads (plain dicts from
`Feature.describe()`: name, type, kind, shape or cardinality) and its options, which a pydantic `Options`
model checks so that a typo names its config path. `accepts` says which kinds of input it can read.

    encoder = ENCODERS.get("cnn")([{"name": "image", "kind": "image", "shape": [1, 28, 28]}])
    encoder({"image": torch.randn(8, 1, 28, 28)}).shape   # (8, encoder.output_size)
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from deepscope.config.options import parse_options
from deepscope.config.registry import Registry
from deepscope.errors import ConfigError

ENCODERS: Registry[type[Encoder]] = Registry("encoder")


class EncoderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Encoder(nn.Module):
    accepts: ClassVar[frozenset[str]]
    Options: ClassVar[type[EncoderOptions]] = EncoderOptions
    output_size: int

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__()
        self.input_names = [spec["name"] for spec in inputs]
        self.options = self.parse_options(options, where)
        kinds = {spec["kind"] for spec in inputs}
        if not kinds <= self.accepts:
            raise ConfigError(f"{where}: the {type(self).__name__} reads {sorted(self.accepts)} inputs, "
                              f"not {sorted(kinds - self.accepts)}")

    @classmethod
    def parse_options(cls, options: dict[str, Any], where: str) -> EncoderOptions:
        return parse_options(cls.Options, options, where, what=cls.__name__)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


def single_image(inputs: list[dict[str, Any]], where: str) -> dict[str, Any]:
    if len(inputs) != 1 or inputs[0]["kind"] != "image":
        raise ConfigError(f"{where}: reads exactly one image input, got {[i['name'] for i in inputs]}")
    return inputs[0]


class TabularInput(nn.Module):
    """Numbers and binaries as they are, categories through embeddings, concatenated: (B, width)."""

    def __init__(self, inputs: list[dict[str, Any]]):
        super().__init__()
        self.numeric = [s["name"] for s in inputs if s["type"] != "category"]
        self.categorical = [s["name"] for s in inputs if s["type"] == "category"]
        self.embeddings = nn.ModuleDict({
            s["name"]: nn.Embedding(s["cardinality"], embedding_size(s["cardinality"]))
            for s in inputs if s["type"] == "category"
        })
        self.width = len(self.numeric) + sum(e.embedding_dim for e in self.embeddings.values())

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        if self.numeric:
            parts.append(torch.stack([batch[name].float() for name in self.numeric], dim=1))
        parts += [self.embeddings[name](batch[name]) for name in self.categorical]
        return torch.cat(parts, dim=1)


def embedding_size(cardinality: int) -> int:
    """fastai's rule of thumb: grows with the number of categories, capped at 600."""
    return int(min(600, round(1.6 * cardinality**0.56)))
