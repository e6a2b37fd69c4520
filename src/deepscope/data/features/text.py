"""Text: strings in, token ids out — LongTensor (N, L), left-aligned, padded with 0; unknown tokens are 1.

    feature = FEATURES.get("text")("sentence", {"tokenizer": "word"}).fit(train_sentences)
    feature.encode(["a gripping , funny film"])     # tensor([[5, 812, 3, 97, 18, 0, 0, ...]])  (1, L)
    feature.describe()["tokens"][5]                 # 'a'  (id -> token, for pretrained word vectors)

The tokenizer (characters, words, BPE or WordPiece; see `deepscope.data.tokenizers`) is trained on the
training split only and saved in the fitted state as JSON.

What counts as bad input, and why:
- a missing, empty or whitespace-only text, and a value that is not a string: an error, in training data as
  at prediction time — a model cannot say anything about nothing, and a number in a text column usually
  means the wrong column;
- a text in which *no* character ever occurs in the training texts (another script, a wrong file encoding):
  an error, because every token is `<unk>` and the model would see nothing of the input;
- unknown words or characters among known ones: `<unk>`, silently — normal for real text. A text of only
  rare words (all `<unk>` although its characters are familiar) is also kept: short phrases such as
  "gorgeously" are legitimate data and still get a prediction.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions, as_array
from deepscope.data.tokenizers import PAD_ID, SPECIAL_TOKENS, UNK_ID, Tokenizer, load_tokenizer, train_tokenizer

log = logging.getLogger("deepscope")

DEFAULT_VOCAB_SIZE = {"char": 1000, "word": 20000, "bpe": 8000, "wordpiece": 8000}
# word: 2, so that training sees <unk>: on SST-2 it keeps 14,276 of 14,771 words, and dev has 5.9 % unknown
# tokens (5.7 % with 1) that the model then knows how to read
DEFAULT_MIN_FREQUENCY = {"char": 1, "word": 2, "bpe": 2, "wordpiece": 2}
# the fitted max_length is the longest training text, at most this (IMDB reviews run to 2,500 words)
LONGEST_DEFAULT = {"char": 1024, "word": 512, "bpe": 512, "wordpiece": 512}


class TextOptions(FeatureOptions):
    tokenizer: Literal["char", "word", "bpe", "wordpiece"] = "word"
    vocab_size: int | None = Field(None, ge=3, description="largest vocabulary, <pad> and <unk> included; "
                                   "default 20000 for words, 8000 for bpe/wordpiece (which always keep every "
                                   "training character), 1000 for characters")
    min_frequency: int | None = Field(None, ge=1, description="rarer tokens become <unk>; default 2 (1 for char)")
    lowercase: bool = True
    max_length: int | None = Field(None, ge=1, description="tokens per text, longer ones are cut; default: "
                                   "the longest training text, at most 512 (1024 characters)")


@FEATURES.register("text")
class TextFeature(Feature):
    """Free text (a sentence, a review), tokenized into ids for an embedding layer.

    Example:
        >>> feature = TextFeature("review", {"min_frequency": 1}).fit(["a fine film", "a dull film"])
        >>> feature.encode(["a fine day"]).tolist()
        [[2, 5, 1]]
    """

    type = "text"
    kind = "sequence"
    Options = TextOptions
    specials = SPECIAL_TOKENS

    def __init__(self, name: str, options: dict[str, Any] | None = None, *, where: str = "data"):
        super().__init__(name, options, where=where)
        self._tokenizer_for: dict[str, Any] | None = None  # the fitted state the cached tokenizer was loaded from
        self._tokenizer: Tokenizer | None = None
        # one vocabulary for two texts (a translation's two languages): the first feature learns it from its own
        # training texts and `also_fit_on`, the second takes it over (`tokenizer_from`, fitted first)
        self.also_fit_on: list[str] = []
        self.tokenizer_from: TextFeature | None = None

    # --- fit ---------------------------------------------------------------------------------------------
    def _fit(self, values: Any) -> dict[str, Any]:
        texts = self._texts(values)
        kind = self.options.tokenizer
        tokenizer = self._shared_tokenizer() or train_tokenizer(
            kind, texts + (self._texts(self.also_fit_on) if self.also_fit_on else []),
            vocab_size=self.options.vocab_size or DEFAULT_VOCAB_SIZE[kind],
            min_frequency=self.options.min_frequency or DEFAULT_MIN_FREQUENCY[kind], specials=self.specials,
        )
        lengths = np.array([len(ids) for ids in tokenizer.encode_batch(texts)])
        max_length = self.options.max_length or min(int(lengths.max()), LONGEST_DEFAULT[kind])
        cut = float((lengths > max_length).mean())
        if cut > 0:
            log.info("%s.%s: %.1f%% of training texts are longer than max_length=%d tokens and are cut",
                     self.where, self.name, 100 * cut, max_length)
        characters = sorted({c for text in texts for c in text if not c.isspace()})
        self._tokenizer_for, self._tokenizer = None, None
        return {**tokenizer.state(), "max_length": max_length, "characters": "".join(characters)}

    def _shared_tokenizer(self) -> Tokenizer | None:
        if self.tokenizer_from is None:
            return None
        if not self.tokenizer_from.fitted:
            raise RuntimeError(f"{self.name}: {self.tokenizer_from.name} must be fitted first (its vocabulary)")
        return self.tokenizer_from.tokenizer

    # --- encode ------------------------------------------------------------------------------------------
    def encode(self, values: Any) -> torch.Tensor:
        """Texts -> LongTensor (N, max_length): ids left-aligned, then 0 (`<pad>`); 1 is `<unk>`."""
        texts = self._texts(values)
        ids = self.tokenizer.encode_batch(texts)
        self._check_something_known(texts, ids)
        length = self.fitted["max_length"]
        out = np.zeros((len(ids), length), dtype=np.int64)  # (N, L), 0 = <pad>
        for row, text_ids in enumerate(ids):
            text_ids = text_ids[:length]
            out[row, : len(text_ids)] = text_ids
        return torch.from_numpy(out)

    @property
    def tokenizer(self) -> Tokenizer:
        """The fitted tokenizer, loaded once from the JSON state (which `Feature.from_state` sets directly)."""
        if self._tokenizer is None or self._tokenizer_for is not self.fitted:
            if not self.fitted:
                raise RuntimeError(f"text feature {self.name!r} is used before fit()")
            self._tokenizer, self._tokenizer_for = load_tokenizer(self.options.tokenizer, self.fitted), self.fitted
        return self._tokenizer

    def _texts(self, values: Any) -> list[str]:
        """Values -> normalised texts; a missing, empty or non-string value is an error naming its row."""
        if isinstance(values, str):
            values = [values]
        texts = []
        for row, value in enumerate(as_array(values).reshape(-1).tolist()):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise self._error(f"row {row}: the text is missing; fill it in or remove the row")
            if not isinstance(value, str):
                raise self._error(
                    f"row {row}: {value!r} is a {type(value).__name__}, not text; a text column holds strings "
                    "(if this column holds numbers or labels, give it the type number or category)"
                )
            if not value.strip():
                raise self._error(f"row {row}: the text is empty ({value!r}); give some words or remove the row")
            texts.append(value.lower() if self.options.lowercase else value)
        if not texts:
            raise self._error("no texts were given")
        return texts

    def _check_something_known(self, texts: list[str], ids: list[list[int]]) -> None:
        """A text whose characters never occur in training is unreadable to the model: say so."""
        # ids that say nothing about the text: <unk>, and the space tokens of a character vocabulary
        silent = {UNK_ID} | {i for i, token in enumerate(self.tokenizer.tokens) if not token.strip()}
        known = None
        for row, (text, text_ids) in enumerate(zip(texts, ids)):
            if any(i not in silent for i in text_ids):
                continue  # the common case, checked without building the character set
            known = known if known is not None else set(self.fitted["characters"])
            if not known.intersection(text):
                shown = text if len(text) <= 40 else text[:40] + "..."
                raise self._error(
                    f"row {row}: none of the characters of {shown!r} occurs in the training texts, so every "
                    "token is <unk> and the model would see nothing of it; check the language and the file's "
                    "encoding (UTF-8), or train on texts that contain such characters"
                )

    # --- for the model builder ---------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        tokens = self.tokenizer.tokens
        return {
            "name": self.name, "type": self.type, "kind": self.kind, "tokenizer": self.options.tokenizer,
            "vocab_size": len(tokens), "pad_id": PAD_ID, "unk_id": UNK_ID,
            "max_length": self.fitted["max_length"], "tokens": list(tokens),
        }
