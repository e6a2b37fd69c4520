"""`data.corpus`: a text file as a language model's data (next-token prediction).

The text is cut by position, never shuffled: the first characters for training, then `val`, then `test`, so no
window of a held-out part overlaps the training text. The vocabulary (characters) is fitted on the training
part only; a held-out character it lacks reads as <unk>.

    corpus: {context: 256}                       # characters, 90 % train / 10 % validation
    corpus: {context: 128, val: 0.05, test: 0.05, stride: 64}
    corpus: {tokens: subwords, vocab_size: 1024}  # byte-level BPE learned on the training part (data/subwords.py)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from deepscope.config.section import Section


class CorpusConfig(Section):
    tokens: Literal["characters", "subwords"] = Field(
        "characters", description="what a token is: one character, or a learned subword (byte-level BPE: frequent "
        "pieces of words, every text round-trips exactly)")
    vocab_size: int | None = Field(None, ge=257, le=65536, description="subwords: the vocabulary, the 256 bytes "
                                   "and <unk> included (default 1024)")
    context: int = Field(256, ge=2, le=8192, description="tokens the model reads at once (and predicts the next of)")
    val: float = Field(0.1, ge=0.0, lt=1.0, description="the fraction of the text after the training part, for "
                                                        "validation")
    test: float = Field(0.0, ge=0.0, lt=1.0, description="the fraction at the very end, for the test split")
    stride: int | None = Field(None, ge=1, description="tokens between the starts of consecutive training windows "
                                                       "(default: context / 2; held-out windows never overlap)")

    @model_validator(mode="after")
    def _training_left(self) -> CorpusConfig:
        if self.vocab_size is not None and self.tokens == "characters":
            raise ValueError("vocab_size applies to tokens: subwords (a character vocabulary is the text's characters)")
        if self.val + self.test >= 0.9:
            raise ValueError(f"val ({self.val:g}) and test ({self.test:g}) leave too little text to train on; keep "
                             "them under 0.9 together")
        return self
