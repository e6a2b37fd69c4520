"""The options of each language model, checked by pydantic, and the registry of language models by config name.

A language model reads token ids (B, T) and gives next-token logits (B, T, vocab). Its sizes that come from the
data (`vocab_size`, `context`) are constructor arguments; what a config may choose is here, so that a typo names
its config path:

    CausalTransformer(65, 256, where="model.encoder", d_modle=128)
    # ConfigError: model.encoder.d_modle: unknown key 'd_modle' (options for the transformer language model: ...)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from deepscope.config.registry import Registry

# the registry lives here, beside the options, so that each model registers where it is defined without the
# package's __init__ importing its own modules in a cycle
LANGUAGE_MODELS: Registry[type[nn.Module]] = Registry("language model")


class LanguageModelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    d_model: int = Field(256, ge=1, description="width of every token's vector (embedding and hidden state)")
    layers: int = Field(4, ge=1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="in training only (decoding runs in eval mode); "
                           "transformer: on the embeddings and each block's outputs; lstm: on the embeddings, "
                           "between layers and on the output")
    tie_weights: bool = Field(True, description="the output projection reuses the token embedding's weight")


class TransformerLMOptions(LanguageModelOptions):
    heads: int = Field(4, ge=1, description="attention heads; must divide d_model")
    feedforward: int | None = Field(None, ge=1, description="hidden units of each block's MLP (default 4 x d_model)")
    positions: Literal["rotary", "learned"] = Field(
        "rotary", description="rotary: queries and keys rotated by their position (RoPE); learned: a (context, "
        "d_model) table added to the embeddings")

    @model_validator(mode="after")
    def _heads_fit(self) -> TransformerLMOptions:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        if self.positions == "rotary" and (self.d_model // self.heads) % 2:
            raise ValueError(f"rotary positions rotate pairs of features: d_model / heads "
                             f"({self.d_model} / {self.heads}) must be even")
        return self


class LSTMLMOptions(LanguageModelOptions):
    layers: int = Field(2, ge=1)
