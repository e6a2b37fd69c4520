"""The rows of each batch a streamed split yields: exactly the rows `TensorData.batches` would take.

    index = batch_rows(60_000, 256, shuffle=True, generator=g, skip=3, shard=(0, 2))
    index[0]   # LongTensor: rank 0's half of the 4th global batch of the permutation g draws

The permutation is drawn in the main process with `torch.randperm(n, generator=generator)`, one draw per epoch
as TensorData draws it, so a streamed run shuffles, resumes mid-epoch (`skip`) and shards over DDP ranks
(`shard`) on the same trajectory as an in-memory one with the same seed. The worker processes only decode the
rows they are given: `BatchRows` hands the DataLoader one whole batch of row numbers at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from deepscope.data.dataset import last_row, rows_of


def batch_rows(n: int, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None,
               drop_last: bool = False, skip: int = 0, shard: tuple[int, int] = (0, 1)) -> list[torch.Tensor]:
    """Row numbers (LongTensor) of each batch this rank reads, with TensorData.batches' arguments and meaning."""
    stop = n - n % batch_size if drop_last else n
    if shuffle:  # training: a last batch too small to give each rank a row is left out; in order, a part may be empty
        stop = min(stop, last_row(n, batch_size, shard[1]))
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return [rows_of(order[start : start + batch_size], shard) for start in range(skip * batch_size, stop, batch_size)]


class BatchRows(Sampler[list[int]]):
    """A batch sampler whose batches are set before each pass (`set`), so that one DataLoader, and its
    persistent worker processes, serves every epoch."""

    def __init__(self) -> None:
        self.rows: list[torch.Tensor] = []

    def set(self, rows: list[torch.Tensor]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[list[int]]:
        return (index.tolist() for index in self.rows)

    def __len__(self) -> int:
        return len(self.rows)
