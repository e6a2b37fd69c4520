"""What every data source returns: raw columns per split, before any feature has been fitted."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass
class RawData:
    """Raw values by split and column.

    `splits` maps a split name ("train", and where the source gives them "val" and "test") to columns; every
    column of a split has the same length N. Images are uint8 (or float) arrays of shape (N, H, W) or
    (N, H, W, C); labels are arrays of ints or strings; CSV columns are object arrays of `str`, with `None`
    for a missing value.

    `inputs` / `outputs` suggest feature types for the columns (column -> type name, e.g. {"image": "image"})
    where the source knows them; the user's config overrides them. `skipped` lists every input left out and
    why, as "<path>: <reason>" or "<path>, line N: <reason>" (a corrupt image, a line not valid in the file's
    encoding), so that diagnosis.json and the report can show it; `split_skipped` reads an entry back.
    """

    splits: dict[str, dict[str, np.ndarray]]
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def columns(self) -> list[str]:
        return list(next(iter(self.splits.values())).keys())

    def size(self, split: str) -> int:
        columns = self.splits.get(split, {})
        return len(next(iter(columns.values()))) if columns else 0


def split_skipped(entry: str) -> tuple[str, str]:
    """(where, reason) of a `RawData.skipped` entry: ("a/neg.txt, line 12", "not valid utf-8 text (...)")."""
    where, sep, reason = entry.partition(": ")
    return (where, reason) if sep else ("", entry)
