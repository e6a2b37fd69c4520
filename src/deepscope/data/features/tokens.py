"""A language model's input and output: windows of token ids, and each position's next token.

    tokens = TokensFeature("tokens", {}, where="data.corpus").fit(train_windows)
    tokens.encode(windows)            # (N, context) int64
    tokens.ids("To be")               # the prompt's ids; a character outside the vocabulary is a DataError
    tokens.text([20, 53, 1, 40, 43])  # ids -> text
    NextTokenFeature("next", {}, where="data.corpus").fit(train_windows).encode(windows)   # inputs shifted by one

Both fit the vocabulary the windows carry (data/corpus.py: fitted on the training text only), so the two always
agree; it is saved with the model like any fitted state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepscope.data.corpus import TokenWindows, character_ids, unknown_characters
from deepscope.data.features.base import FEATURES, Feature


class _Vocabulary(Feature):
    kind = "tokens"

    def _fit(self, windows: TokenWindows) -> dict[str, Any]:
        return {"vocabulary": list(windows.vocabulary), "vocab_size": len(windows.vocabulary),
                "context": int(windows.context), "unit": "characters"}

    def text(self, ids: Any) -> str:
        vocabulary = self.fitted["vocabulary"]
        return "".join(vocabulary[i] if i > 0 else "\N{REPLACEMENT CHARACTER}" for i in np.asarray(ids).tolist())


@FEATURES.register("tokens")
class TokensFeature(_Vocabulary):
    type = "tokens"

    def encode(self, windows: TokenWindows) -> torch.Tensor:
        return torch.from_numpy(windows.inputs())

    def ids(self, text: str) -> list[int]:
        """A prompt's ids. A character the training text never had is refused, naming it: the model would read
        it as <unk>, which it has hardly seen."""
        unknown = unknown_characters(text, self.fitted["vocabulary"])
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            raise self._error(f"the prompt holds {len(unknown)} character(s) the training text never had: {shown}; "
                              "leave them out (the model knows "
                              f"{self.fitted['vocab_size'] - 1} characters)")
        return character_ids(text, self.fitted["vocabulary"]).tolist()


@FEATURES.register("next_token")
class NextTokenFeature(_Vocabulary):
    type = "next_token"
    output_only = True

    def encode(self, windows: TokenWindows) -> torch.Tensor:
        return torch.from_numpy(windows.targets())

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """{"ids": (B, N)} generated ids -> [{name: text}, ...]."""
        return [{self.name: self.text(row)} for row in output["ids"].cpu()]
