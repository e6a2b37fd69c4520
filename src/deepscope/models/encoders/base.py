"""The encoder contract: some input columns of a batch in, one (B, D) tensor out.

An encoder is built from the *descriptions* of the features it reads (plain dicts from
`Feature.describe()`: name, type, kind, shape or cardinality) and its options, which a pydantic `Options`
model checks so that a typo names its config path. `accepts` says which kinds of input it can read.

    encoder = ENCODERS.get("cnn")([{"name": "image", "kind": "image", "shape": [1, 28, 28]}])
    encoder({"image": torch.randn(8, 1, 28, 28)}).shape   # (8, encoder.output_size)

Every encoder takes `init` (how its weights start: `init: xavier`, `init: {name: normal, std: 0.01}`; see
`models/layers/init.py`), applied here once the encoder's own `__init__` has built its layers.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from deepscope.config.options import parse_options
from deepscope.config.registry import Registry
from deepscope.errors import ConfigError
from deepscope.models.layers.by_name import ModulesByName
from deepscope.models.layers.init import initialise

ENCODERS: Registry[type[Encoder]] = Registry("encoder")


class EncoderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    init: str | dict[str, Any] | None = Field(None, description="how the weights start: xavier, kaiming, orthogonal, "
                                              "{name: normal, std: 0.01}, ...; default: PyTorch's per layer")


class Encoder(nn.Module):
    accepts: ClassVar[frozenset[str]]
    Options: ClassVar[type[EncoderOptions]] = EncoderOptions
    output_size: int

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__()
        self.input_names = [spec["name"] for spec in inputs]
        self.where = where
        self.options = self.parse_options(options, where)
        kinds = {spec["kind"] for spec in inputs}
        if not kinds <= self.accepts:
            raise ConfigError(f"{where}: the {type(self).__name__} reads {sorted(self.accepts)} inputs, "
                              f"not {sorted(kinds - self.accepts)}")

    def __init_subclass__(cls, **kwargs: Any):
        """Wrap each subclass's `__init__` so that `initialise` runs once, after the outermost `__init__` has
        built every layer (a subclass calling `super().__init__` first must not be initialised half-built)."""
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        build = cls.__init__

        @functools.wraps(build)
        def build_then_initialise(self: Encoder, *args: Any, **options: Any) -> None:
            build(self, *args, **options)
            if type(self).__init__ is build_then_initialise:  # the outermost __init__ has finished
                self.initialise()

        cls.__init__ = build_then_initialise

    def initialise(self) -> None:
        """Redraw the weights as `options.init` says (nothing when it is None)."""
        initialise(self, self.options.init, where=f"{self.where}.init")

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
        self.embeddings = ModulesByName({  # keyed by column names, which may hold "." (y.z)
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
