"""Encoders by the names configs use; each registers itself in `ENCODERS` where it is defined."""

from deepscope.models.encoders.base import ENCODERS, Encoder
from deepscope.models.encoders import cnn, layers, mlp, resnet  # noqa: F401  (registration)
from deepscope.models.encoders import cnn1d, recurrent, transformer  # noqa: F401  (registration)

# the encoder used for a kind of input when the config names none
DEFAULT_ENCODER = {"image": "cnn", "tabular": "tabular", "sequence": "lstm", "audio": "cnn"}
# kinds whose every input gets an encoder of its own; tabular columns share one
PER_INPUT_KINDS = frozenset({"image", "sequence", "audio"})

__all__ = ["ENCODERS", "Encoder", "DEFAULT_ENCODER", "PER_INPUT_KINDS"]
