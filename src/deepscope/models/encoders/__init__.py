"""Encoders by the names configs use; each registers itself in `ENCODERS` where it is defined."""

from deepscope.models.encoders import cnn, cnn1d, layers, mlp, recurrent, resnet, transformer  # noqa: F401  (registration)
from deepscope.models.encoders.base import ENCODERS, Encoder

# the encoder used for a kind of input when the config names none
# ("tokens": a language model's body, from models/language, which the builder builds apart)
DEFAULT_ENCODER = {"image": "cnn", "tabular": "tabular", "sequence": "lstm", "audio": "cnn", "tokens": "transformer"}
# kinds whose every input gets an encoder of its own; tabular columns share one
PER_INPUT_KINDS = frozenset({"image", "sequence", "audio", "tokens"})

__all__ = ["ENCODERS", "Encoder", "DEFAULT_ENCODER", "PER_INPUT_KINDS"]
