"""The options of each sequence-to-sequence network, checked by pydantic, and their registry by config name.

A network reads source ids (B, S) and the target so far (B, T) and gives the next target token's logits
(B, T, target vocab). Sizes that come from the data (vocabularies, the longest sentence) are constructor
arguments; what a config may choose is here, so that a typo names its config path (`model.encoder.d_modle`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from deepscope.config.registry import Registry

SEQ2SEQ_MODELS: Registry[type[nn.Module]] = Registry("sequence-to-sequence model")


class Seq2SeqOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    d_model: int = Field(256, ge=1, description="width of every token's vector")
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="in training only")
    tie_weights: bool = Field(True, description="the output projection reuses the target embedding's weight (and "
                              "with a shared vocabulary, the source embedding is that same table)")


class TransformerOptions(Seq2SeqOptions):
    heads: int = Field(4, ge=1, description="attention heads; must divide d_model")
    encoder_layers: int = Field(3, ge=1)
    decoder_layers: int = Field(3, ge=1)
    feedforward: int | None = Field(None, ge=1, description="hidden units of each block's MLP (default 4 x d_model)")

    @model_validator(mode="after")
    def _heads_fit(self) -> TransformerOptions:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


class GRUOptions(Seq2SeqOptions):
    layers: int = Field(1, ge=1, description="GRU layers of the encoder (bidirectional) and of the decoder")
