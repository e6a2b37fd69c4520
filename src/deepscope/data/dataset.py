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

import torch

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

    def num_batches(self, batch_size: int, drop_last: bool = False) -> int:
        n = len(self)
        return n // batch_size if drop_last else -(-n // batch_size)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        skip: int = 0,
    ) -> Iterator[Batch]:
        """Yield batches; `skip` leaves out the first batches (resuming mid-epoch on the same permutation)."""
        n = len(self)
        stop = n - n % batch_size if drop_last else n
        if shuffle:
            order = torch.randperm(n, generator=generator)
            if self.lengths is not None:
                order = self._bucketed(order, batch_size, stop, generator)
            order = order.to(self.device)
            for start in range(skip * batch_size, stop, batch_size):
                index = order[start : start + batch_size]
                batch = {k: v.index_select(0, index) for k, v in self.tensors.items()}
                yield self.transform(batch) if self.transform else batch
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
