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
    where the source knows them; the user's config overrides them. `skipped` lists what was left out and why
    (for example a corrupt image), so it can be reported.
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
