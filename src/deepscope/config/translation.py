"""`data.translation`: pairs of sentences, one language into another (a sequence-to-sequence model).

`data.source` is a folder of parallel text files, one sentence per line, named NAME.LANGUAGE (gzipped or not),
as Multi30k, WMT and OPUS (Moses format) ship them: line i of train.en translates line i of train.de.

    source: $DEEPSCOPE_DATA/multi30k
    translation: {source_language: en, target_language: de, test: test_2016_flickr}

A table with a text column and a `sequence` output column trains the same model without this section:
`inputs: {en: {type: text, tokenizer: bpe, lowercase: false}}, outputs: {de: sequence}`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from deepscope.config.section import Section


class TranslationConfig(Section):
    source_language: str = Field(..., min_length=1, description="the files' suffix of the language translated from")
    target_language: str = Field(..., min_length=1, description="the suffix of the language translated into")
    train: str = Field("train", description="the training files' NAME")
    val: str | None = Field("val", description="the validation files' NAME (none: 5 % of the training pairs)")
    test: str | None = Field(None, description="the test files' NAME, e.g. test_2016_flickr")
    vocabulary: Literal["separate", "shared"] = Field(
        "separate", description="separate: a subword vocabulary per language; shared: one for both, learned from "
        "both sides of the training pairs (then the encoder, the decoder and the output share one embedding)")
    vocab_size: int = Field(8000, ge=16, description="subwords per vocabulary, <pad>, <unk> and </s> included")
    label_smoothing: float = Field(0.1, ge=0.0, lt=1.0, description="of the training loss (Vaswani et al.: 0.1)")
    max_length: int = Field(128, ge=4, le=4096, description="subword tokens per sentence at most: longer training "
                            "sentences are cut (counted in the log); a longer sentence to translate is refused")

    @model_validator(mode="after")
    def _two_languages(self) -> TranslationConfig:
        if self.source_language == self.target_language:
            raise ValueError(f"source_language and target_language are both {self.source_language!r}; give two")
        return self
