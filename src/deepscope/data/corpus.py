"""A text as token ids, and the windows a language model trains on.

A window is `context + 1` consecutive ids: the model reads the first `context` and learns each next one, so
one window teaches `context` predictions at once. Characters are the tokens here: the vocabulary is <unk> and
every character of the training text, sorted (a held-out or prompted character outside it is <unk> in held-out
text, and refused in a prompt, where it could only be a mistake).

    vocabulary = character_vocabulary(train_text)         # ["<unk>", "\\n", " ", "!", ...]
    ids = character_ids(text, vocabulary)                 # (n,) int64
    windows = TokenWindows.over(ids, vocabulary, context=256, stride=128)
    windows.inputs().shape, windows.targets().shape       # (N, 256) each; targets are inputs shifted by one
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNK = "<unk>"


def character_vocabulary(text: str) -> list[str]:
    return [UNK, *sorted(set(text))]


def character_ids(text: str, vocabulary: list[str]) -> np.ndarray:
    """(len(text),) int64 ids; a character outside the vocabulary is 0 (<unk>). Vectorised: a million
    characters take milliseconds."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    known = np.array([ord(c) for c in vocabulary[1:]], dtype=np.uint32)  # sorted by character = by code point
    order = np.argsort(known)
    known = known[order]
    at = np.searchsorted(known, codes).clip(0, max(len(known) - 1, 0))
    found = known[at] == codes if len(known) else np.zeros(len(codes), dtype=bool)
    return np.where(found, order[at] + 1, 0).astype(np.int64)


def unknown_characters(text: str, vocabulary: list[str]) -> list[str]:
    known = set(vocabulary[1:])
    return sorted({c for c in text if c not in known})


@dataclass(frozen=True)
class TokenWindows:
    """The windows of one split: `ids` its text's token ids, `starts` where each window begins."""

    ids: np.ndarray
    starts: np.ndarray
    context: int
    vocabulary: tuple[str, ...]  # the training vocabulary, which the features fit from
    unit: str = "characters"  # what a token is: "characters", or "notes" (data/music.py: token names, two a note)
    tokenizer: str | None = None  # "subwords": the byte-level BPE's JSON (data/subwords.py), saved with the model

    @classmethod
    def over(cls, ids: np.ndarray, vocabulary: list[str], *, context: int, stride: int,
             unit: str = "characters", tokenizer: str | None = None) -> TokenWindows:
        starts = np.arange(0, len(ids) - context, stride, dtype=np.int64)  # each needs context + 1 ids
        return cls(ids, starts, context, tuple(vocabulary), unit, tokenizer)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: slice | np.ndarray) -> TokenWindows:
        """Some of the windows (`windows[:1]`, `windows[order]`), over the same ids."""
        return TokenWindows(self.ids, self.starts[index], self.context, self.vocabulary, self.unit, self.tokenizer)

    def inputs(self) -> np.ndarray:
        return self._slices(0)

    def targets(self) -> np.ndarray:
        return self._slices(1)

    def _slices(self, shift: int) -> np.ndarray:
        offsets = np.arange(self.context, dtype=np.int64)
        return self.ids[self.starts[:, None] + shift + offsets[None, :]]
