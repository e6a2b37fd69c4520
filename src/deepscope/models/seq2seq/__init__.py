"""Sequence-to-sequence networks (an encoder-decoder Transformer, a GRU with attention) and their decoding."""

from deepscope.models.seq2seq import gru, transformer  # noqa: F401  (registration)
from deepscope.models.seq2seq.decoding import beam_search, greedy
from deepscope.models.seq2seq.options import SEQ2SEQ_MODELS

__all__ = ["SEQ2SEQ_MODELS", "beam_search", "greedy"]
