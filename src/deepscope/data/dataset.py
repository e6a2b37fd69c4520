"""Small data as a dict of tensors, batched by index slicing.

No per-sample `__getitem__` and no worker processes: a batch is one `index_select` per column, which is what
makes an in-memory dataset as fast as a hand-written loop over tensors, on the CPU or on the GPU.

    data = TensorData({"image": images, "label": labels})
    for batch in data.batches(256, shuffle=True, generator=torch.Generator().manual_seed(0)):
        batch["image"].shape   # (256, 1, 28, 28)

Sentences of many lengths (`lengths` given) are shuffled in buckets: the shuffled rows are cut into pools of
BUCKET_BATCHES batches, each pool sorted by length and cut into batches, and the batches shuffled. A batch then
holds sentences of about one length, and a model that cuts each batch to its longest sentence (translation) does
little work on padding, while every epoch still sees new batches in a new order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from deepscope.errors import UserError

Batch = dict[str, torch.Tensor]
BUCKET_BATCHES = 64  # batches per pool sorted by length: sorted enough to cut padding, mixed enough to vary


class TensorData:
    """Columns of equal length N. `transform` (e.g. augmentation) is applied to shuffled (training) batches."""

    def __init__(self, tensors: Mapping[str, torch.Tensor], transform: Callable[[Batch], Batch] | None = None,
                 lengths: torch.Tensor | None = None):
        sizes = {name: len(t) for name, t in tensors.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"columns differ in length: {sizes}")
        self.tensors = dict(tensors)
        self.transform = transform
        self.lengths = lengths  # (N,) each row's length, for bucketed shuffling; None: plain shuffling

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values()))) if self.tensors else 0

    @property
    def device(self) -> torch.device:
        return next(iter(self.tensors.values())).device

    def to(self, device: torch.device | str) -> TensorData:
        return TensorData({k: v.to(device) for k, v in self.tensors.items()}, self.transform, self.lengths)

    def subset(self, index: torch.Tensor | slice) -> TensorData:
        lengths = None if self.lengths is None else self.lengths[index]
        return TensorData({k: v[index] for k, v in self.tensors.items()}, self.transform, lengths)

    def num_batches(self, batch_size: int, drop_last: bool = False, world: int = 1) -> int:
        """Batches an epoch yields: every global batch of `batch_size` rows, less a last one too small to give
        each of `world` ranks a row."""
        return num_batches(len(self), batch_size, drop_last, world)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        skip: int = 0,
        shard: tuple[int, int] = (0, 1),
    ) -> Iterator[Batch]:
        """Yield batches; `skip` leaves out the first batches (resuming mid-epoch on the same permutation).

        `shard=(rank, world)`: this rank's part of each global batch (`tensor_split` into `world` parts), with
        every rank drawing the same permutation from an equally seeded `generator`. The ranks together see each
        global batch once, so N processes step as one process with the same `batch_size` does. In order (not
        shuffled: evaluation) every row is kept, and a rank's part of a last, small batch may be empty."""
        n = len(self)
        stop = n - n % batch_size if drop_last else n
        if shuffle:  # training: a last batch too small to give each rank a row is left out
            stop = min(stop, last_row(n, batch_size, shard[1]))
            order = torch.randperm(n, generator=generator)
            if self.lengths is not None:
                order = self._bucketed(order, batch_size, stop, generator)
            order = order.to(self.device)
            for start in range(skip * batch_size, stop, batch_size):
                index = rows_of(order[start : start + batch_size], shard)
                batch = {k: v.index_select(0, index) for k, v in self.tensors.items()}
                yield self.transform(batch) if self.transform else batch
        elif shard[1] > 1:
            for start in range(skip * batch_size, stop, batch_size):
                index = rows_of(torch.arange(start, min(start + batch_size, n), device=self.device), shard)
                yield {k: v.index_select(0, index) for k, v in self.tensors.items()}
        else:
            for start in range(skip * batch_size, stop, batch_size):
                yield {k: v[start : start + batch_size] for k, v in self.tensors.items()}

    def _bucketed(self, order: torch.Tensor, batch_size: int, stop: int, generator: torch.Generator | None
                  ) -> torch.Tensor:
        """`order` with each pool of BUCKET_BATCHES batches sorted by length and the batches shuffled; the rows a
        drop_last would leave out (past `stop`) stay at the end."""
        pool = batch_size * BUCKET_BATCHES
        lengths = self.lengths.cpu()
        kept = order[:stop]
        pools = [chunk[lengths[chunk].argsort(stable=True)] for chunk in kept.split(pool)]
        batches = torch.cat(pools).split(batch_size)
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        return torch.cat([*shuffled, order[stop:]])


def num_batches(n: int, batch_size: int, drop_last: bool = False, world: int = 1) -> int:
    """Global batches of `batch_size` over `n` rows; a last partial one is kept unless `drop_last`, or unless it
    has fewer rows than the `world` ranks that share it (a rank must not get an empty batch)."""
    full, rest = divmod(n, batch_size)
    return full + (1 if rest and not drop_last and rest >= world else 0)


def last_row(n: int, batch_size: int, world: int) -> int:
    """Where the rows a `world` of ranks can share end: a last partial batch smaller than `world` is left out."""
    rest = n % batch_size
    return n - rest if rest and rest < world else n


def rows_of(index: torch.Tensor, shard: tuple[int, int]) -> torch.Tensor:
    """Rank `shard[0]`'s part of a global batch's row index, of `shard[1]` ranks."""
    rank, world = shard
    return index if world == 1 else index.tensor_split(world)[rank]


def as_data(data: Any, device: torch.device) -> Any:
    """What the trainer reads batches from, on `device`: TensorData or a stream as they are (any object with
    TensorData's `batches`, `num_batches`, `device` and `to`), a dict of tensors or an (inputs, targets) pair as
    TensorData."""
    if data is None:
        return None
    if hasattr(data, "batches") and hasattr(data, "to"):
        return data if data.device == device else data.to(device)
    if isinstance(data, dict):
        return TensorData(data).to(device)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return TensorData({"input": torch.as_tensor(data[0]), "target": torch.as_tensor(data[1])}).to(device)
    raise UserError(
        f"training data must be a TensorData, a dict of tensors or an (inputs, targets) pair, got {type(data).__name__}"
    )
