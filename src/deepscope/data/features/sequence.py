"""A text to write: the output of a sequence-to-sequence model (a translation), as token ids ending in `</s>`.

    feature = FEATURES.get("sequence")("de", {}, where="data.outputs").fit(german_training_sentences)
    feature.encode(["Ein Hund rennt."])        # (1, max_length + 1): ids, then </s> (2), then <pad> (0)
    feature.texts(ids)                         # ids -> ["Ein Hund rennt."], reading up to the first </s>

The tokenizer is the text feature's (BPE by default here, cased: a translation's capitals matter), trained on the
training texts only, with one more reserved token, `</s>` (id 2): the end of a text, and the decoder's start.
Ids turn back into text with `tokenizers.detokenize` (subword pieces joined, punctuation spacing restored).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from deepscope.data.features.base import FEATURES
from deepscope.data.features.text import TextFeature, TextOptions
from deepscope.data.tokenizers import EOS_ID, PAD_ID, SEQUENCE_SPECIAL_TOKENS, ids_to_text


class SequenceOptions(TextOptions):
    tokenizer: Literal["char", "word", "bpe", "wordpiece"] = "bpe"
    lowercase: bool = False


@FEATURES.register("sequence")
class SequenceFeature(TextFeature):
    """Example:
    >>> feature = SequenceFeature("de", {"min_frequency": 1}, where="data.outputs").fit(["ein Hund", "ein Ball"])
    >>> feature.texts(feature.encode(["ein Ball"]))
    ['ein Ball']
    """

    type = "sequence"
    output_only = True
    Options = SequenceOptions
    specials = SEQUENCE_SPECIAL_TOKENS

    def encode(self, values: Any) -> torch.Tensor:
        """Texts -> LongTensor (N, max_length + 1): each text's ids (cut to max_length), `</s>`, then `<pad>`."""
        texts = self._texts(values)
        length = self.fitted["max_length"]
        out = np.full((len(texts), length + 1), PAD_ID, dtype=np.int64)
        for row, ids in enumerate(self.tokenizer.encode_batch(texts)):
            ids = ids[:length] + [EOS_ID]
            out[row, : len(ids)] = ids
        return torch.from_numpy(out)

    def texts(self, ids: Any) -> list[str]:
        """(N, L) ids -> N texts, each read up to its first `</s>` (specials left out)."""
        return ids_to_text(np.asarray(ids.cpu() if isinstance(ids, torch.Tensor) else ids).tolist(),
                           self.tokenizer.tokens)

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """{"ids": (B, L)} written ids -> [{name: text}, ...]."""
        return [{self.name: text} for text in self.texts(output["ids"])]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "eos_id": EOS_ID}
