"""A language model's input and output: windows of token ids, and each position's next token.

    tokens = TokensFeature("tokens", {}, where="data.corpus").fit(train_windows)
    tokens.encode(windows)            # (N, context) int64
    tokens.ids("To be")               # the prompt's ids; a character outside the vocabulary is a DataError
    tokens.text([20, 53, 1, 40, 43])  # ids -> text
    NextTokenFeature("next", {}, where="data.corpus").fit(train_windows).encode(windows)   # inputs shifted by one

Both fit the vocabulary the windows carry (data/corpus.py: fitted on the training text only), so the two always
agree; it is saved with the model like any fitted state. The tokens of melodies (data.music) are notes' token
names (data/music.py): their text is the names joined by spaces ("p67 d1 p69 d0.5"), and a prompt is written so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepscope.data.corpus import TokenWindows, character_ids, unknown_characters
from deepscope.data.features.base import FEATURES, Feature
from deepscope.data.music import duration_ids
from deepscope.data.subwords import ByteBPE


class _Vocabulary(Feature):
    kind = "tokens"

    def _fit(self, windows: TokenWindows) -> dict[str, Any]:
        fitted = {"vocabulary": list(windows.vocabulary), "vocab_size": len(windows.vocabulary),
                  "context": int(windows.context), "unit": windows.unit}
        if windows.unit == "notes":  # each note has one duration token: they count the notes (nats per note)
            fitted["note_ids"] = duration_ids(windows.vocabulary)
        if windows.unit == "subwords":
            fitted["subword"] = windows.tokenizer
        return fitted

    @property
    def subwords(self) -> ByteBPE:
        """The fitted byte-level BPE, loaded once from its JSON (again if the fitted state changes)."""
        cached = getattr(self, "_subwords", None)
        if cached is None or cached.state_json is not self.fitted["subword"]:
            cached = self._subwords = ByteBPE(self.fitted["subword"])
        return cached

    @property
    def is_music(self) -> bool:
        return self.fitted.get("unit") == "notes"

    def text(self, ids: Any) -> str:
        vocabulary = self.fitted["vocabulary"]
        if self.is_music:
            return " ".join(vocabulary[i] for i in np.asarray(ids).tolist())
        if self.fitted.get("unit") == "subwords":
            return self.subwords.decode(np.asarray(ids).tolist())
        return "".join(vocabulary[i] if i > 0 else "\N{REPLACEMENT CHARACTER}" for i in np.asarray(ids).tolist())


@FEATURES.register("tokens")
class TokensFeature(_Vocabulary):
    type = "tokens"

    def encode(self, windows: TokenWindows) -> torch.Tensor:
        return torch.from_numpy(windows.inputs())

    def ids(self, text: str) -> list[int]:
        """A prompt's ids. A character the training text never had is refused, naming it: the model would read
        it as <unk>, which it has hardly seen. A melody's prompt is token names separated by spaces."""
        if self.is_music:
            return self._note_ids(text)
        if self.fitted.get("unit") == "subwords":  # bytes: nothing is unknown
            return self.subwords.encode(text)
        unknown = unknown_characters(text, self.fitted["vocabulary"])
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            raise self._error(f"the prompt holds {len(unknown)} character(s) the training text never had: {shown}; "
                              "leave them out (the model knows "
                              f"{self.fitted['vocab_size'] - 1} characters)")
        return character_ids(text, self.fitted["vocabulary"]).tolist()

    def _note_ids(self, text: str) -> list[int]:
        vocabulary = self.fitted["vocabulary"]
        names = text.split()
        unknown = sorted({name for name in names if name not in vocabulary[1:]})
        if unknown:
            shown = ", ".join(repr(name) for name in unknown[:10])
            raise self._error(f"the prompt holds {len(unknown)} token(s) the training pieces never had: {shown}; a "
                              "melody's prompt is token names separated by spaces, e.g. \"p67 d1 p69 d0.5\" (a pitch "
                              "p<MIDI number> or rest, then a duration d<quarter notes>), known ones: "
                              f"{' '.join(vocabulary[1:])}")
        return [vocabulary.index(name) for name in names]


@FEATURES.register("next_token")
class NextTokenFeature(_Vocabulary):
    type = "next_token"
    output_only = True

    def encode(self, windows: TokenWindows) -> torch.Tensor:
        return torch.from_numpy(windows.targets())

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """{"ids": (B, N)} generated ids -> [{name: text}, ...]."""
        return [{self.name: self.text(row)} for row in output["ids"].cpu()]
