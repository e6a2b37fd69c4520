"""A split decoded lazily, batch by batch, in DataLoader worker processes: `TensorData`'s protocol, streamed.

    data = StreamData(BatchDecoder({"image": (image_feature, "image", paths)}, {"label": labels}))
    for batch in data.batches(256, shuffle=True, generator=torch.Generator().manual_seed(0)):
        batch["image"].shape   # (256, 1, 28, 28): the rows TensorData.batches would take, decoded by a worker

The main process draws the permutation and cuts the batches (data/stream/sampler.py); a batch sampler sends each
batch's row numbers to a worker, which reads the files and encodes them with the fitted features, so a worker
decodes a whole batch per task (no per-example collation). Workers are persistent: one DataLoader, and its
processes, serve every epoch. Columns that are cheap to hold (labels, loss weights) are encoded once, in memory.

A file that cannot be decoded stops the run with a DataError naming it: a streamed batch cannot leave a row out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from deepscope.data.dataset import Batch, TensorData
from deepscope.data.features import Feature
from deepscope.data.stream.reading import decoded_images, read_value
from deepscope.data.stream.sampler import BatchRows, batch_rows
from deepscope.errors import ConfigError, DataError

WORKERS_ENV = "DEEPSCOPE_STREAM_WORKERS"
PREFETCH = 4  # batches each worker decodes ahead: enough to hide a slow file, bounded in memory
MIN_WORKER_ROWS = 2_048  # a split with fewer rows is decoded in the main process (see StreamData)
SAMPLE_ROWS = 256  # rows of a split kept decoded for the consumers that need tensors (profile, report)

Lazy = dict[str, tuple[Feature, str, np.ndarray]]  # column -> (fitted feature, reference kind, references)


@dataclass
class Failed:
    """What a worker returns instead of a batch it could not decode (re-raised in the main process, where the
    message stays the user's message, not a worker's traceback)."""

    message: str


class BatchDecoder(Dataset):
    """`decoder[rows]` -> the encoded batch of those rows: lazy columns read and encoded, in-memory ones indexed."""

    def __init__(self, lazy: Lazy, tensors: dict[str, torch.Tensor], order: list[str] | None = None,
                 table: Any = None):
        # references as one bytes buffer, not a list of str objects: worker processes read them without touching
        # a reference count, so a forked worker does not copy them page by page (and 200,000 paths take 10 MB)
        self.lazy = {name: (feature, kind, _compact(refs)) for name, (feature, kind, refs) in lazy.items()}
        self.tensors = tensors
        self.table = table  # a table's TableRows: its lazy columns' references are row numbers, read together
        self.order = order or [*lazy, *tensors]  # the columns in the order an in-memory batch has them
        sizes = {len(refs) for _, _, refs in lazy.values()} | {len(t) for t in tensors.values()}
        if len(sizes) > 1:
            raise ValueError(f"columns differ in length: {sizes}")
        self.size = sizes.pop() if sizes else 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, rows: list[int]) -> Batch | Failed:
        if not rows and self.size:  # a rank's empty part of a last, small batch (DDP evaluation): no rows, same shapes
            batch = self[[0]]
            return batch if isinstance(batch, Failed) else {name: value[:0] for name, value in batch.items()}
        try:
            batch = self._read(rows)
        except DataError as error:
            return Failed(str(error))
        index = torch.as_tensor(rows, dtype=torch.long)
        batch.update({name: tensor.index_select(0, index) for name, tensor in self.tensors.items()})
        return {name: batch[name] for name in self.order}

    def _read(self, rows: list[int]) -> Batch:
        if self.table is not None:  # one read per row for all of a table's columns
            refs = next(iter(self.lazy.values()))[2]
            columns = self.table.read([int(refs[row]) for row in rows])
            return {name: feature.encode(columns[name]) for name, (feature, _, _) in self.lazy.items()}
        return {name: feature.encode(_raw(feature, kind, [refs[row].decode() for row in rows]))
                for name, (feature, kind, refs) in self.lazy.items()}

    def subset(self, index: torch.Tensor | slice) -> BatchDecoder:
        rows = np.arange(self.size)[index.numpy() if isinstance(index, torch.Tensor) else index]
        lazy = {name: (feature, kind, refs[rows]) for name, (feature, kind, refs) in self.lazy.items()}
        tensors = {k: v[torch.from_numpy(rows)] for k, v in self.tensors.items()}
        return BatchDecoder(lazy, tensors, self.order, self.table)


class StreamData(TensorData):
    """A split streamed from files, with TensorData's protocol (`len`, `device`, `to`, `num_batches`, `batches`,
    `subset`) and the same batches for the same arguments. It holds no `tensors`: `sample()` gives a bounded
    TensorData for the consumers that need tensors (the data profile, the report).

    Args:
        decoder: the columns (see BatchDecoder).
        transform: applied to shuffled (training) batches in the main process, on the device (augmentation).
        workers: decoding processes; default DEEPSCOPE_STREAM_WORKERS, else min(2, CPU cores), and none (the
            main process decodes) for a split of fewer than MIN_WORKER_ROWS rows. 0 decodes in the main process.
        sample_rows: the rows `sample()` decodes (default: SAMPLE_ROWS rows at random, seed 0).
    """

    def __init__(self, decoder: BatchDecoder, transform: Callable[[Batch], Batch] | None = None, *,
                 workers: int | None = None, device: torch.device | str = "cpu",
                 sample_rows: torch.Tensor | None = None):
        self.decoder, self.transform, self.lengths = decoder, transform, None
        # a small split decodes faster in the main process than worker processes start (tests, tiny val splits)
        self.workers = workers if workers is not None else default_workers() if len(decoder) >= MIN_WORKER_ROWS else 0
        self._device = torch.device(device)
        self.sample_rows = sample_rows if sample_rows is not None else sample_index(len(decoder), SAMPLE_ROWS)
        self._loader: DataLoader | None = None
        self._rows = BatchRows()
        self._passes = 0  # passes begun: the one DataLoader serves one at a time
        # how workers start: fork, except on CUDA, where a forked CUDA context is unusable (spawn pickles the decoder)
        self.start_method = "spawn" if self._device.type == "cuda" else None

    def __len__(self) -> int:
        return len(self.decoder)

    @property
    def device(self) -> torch.device:
        return self._device

    def to(self, device: torch.device | str) -> StreamData:
        return StreamData(self.decoder, self.transform, workers=self.workers, device=device,
                          sample_rows=self.sample_rows)

    def subset(self, index: torch.Tensor | slice) -> StreamData:
        return StreamData(self.decoder.subset(index), self.transform, device=self._device)

    def sample(self) -> TensorData:
        """The `sample_rows` rows decoded, as a TensorData on the CPU (bounded: SAMPLE_ROWS rows by default)."""
        return TensorData(_checked(self.decoder[self.sample_rows.tolist()]) if len(self.sample_rows) else
                          {name: torch.zeros(0) for name in self.decoder.order})

    def batches(self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None,
                drop_last: bool = False, skip: int = 0, shard: tuple[int, int] = (0, 1)) -> Iterator[Batch]:
        """TensorData.batches' batches (same rows, same order), decoded by the worker processes."""
        rows = batch_rows(len(self), batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last,
                          skip=skip, shard=shard)
        this_pass, pinned = None, self._device.type == "cuda"
        if self.workers == 0 or len(rows) <= 1:  # one batch (a first look at the data): not worth the workers
            decoded: Iterator[Any] = (self.decoder[index.tolist()] for index in rows)
        else:
            self._rows.set(rows)
            decoded = iter(self._loader_for())  # resets the persistent workers: a pass left unfinished ends here
            self._passes += 1
            this_pass = self._passes
        for batch in decoded:
            self._check_pass(this_pass)
            batch = {k: v.to(self._device, non_blocking=pinned) for k, v in _checked(batch).items()}
            yield self.transform(batch) if shuffle and self.transform else batch
        self._check_pass(this_pass)

    def _check_pass(self, this_pass: int | None) -> None:
        """Another pass took the workers since this one began: its rows, not this pass's, would come next."""
        if this_pass is not None and self._passes != this_pass:
            raise RuntimeError("a streamed split is read by two passes at once; finish (or drop) one first")

    def _loader_for(self) -> DataLoader:
        if self._loader is None:
            cuda = self._device.type == "cuda"
            self._loader = DataLoader(
                self.decoder, batch_size=None, sampler=self._rows, num_workers=self.workers,
                persistent_workers=True, pin_memory=cuda, prefetch_factor=PREFETCH, worker_init_fn=_one_thread,
                multiprocessing_context=self.start_method,
            )
        return self._loader

    @property
    def tensors(self) -> dict[str, torch.Tensor]:
        raise AttributeError("a streamed split holds no tensors; use .sample() for a bounded TensorData")


def _compact(references: np.ndarray) -> np.ndarray:
    """Paths (str objects) -> a fixed-width UTF-8 bytes array; row numbers (a table's) as they are."""
    if references.dtype != object:
        return references
    return np.array([str(reference).encode() for reference in references], dtype=bytes)


def _raw(feature: Feature, kind: str, references: list[str]) -> Any:
    """The raw values of a batch: images straight into one uint8 array at the fitted size (twice as fast as
    a PIL image per example through the feature), recordings and texts one by one."""
    if kind == "image":
        fitted = feature.fitted
        return decoded_images(references, (fitted["height"], fitted["width"], fitted["channels"]))
    return [read_value(kind, reference) for reference in references]


def _checked(batch: Batch | Failed) -> Batch:
    if isinstance(batch, Failed):
        raise DataError(batch.message)
    return batch


def _one_thread(_: int) -> None:
    """A worker decodes with one thread: the cores are the workers' and the training step's."""
    torch.set_num_threads(1)


def default_workers() -> int:
    given = os.environ.get(WORKERS_ENV)
    if given is None:
        return min(2, os.cpu_count() or 1)
    if not given.strip().isdigit():
        raise ConfigError(f"{WORKERS_ENV}: {given!r} is not a number of worker processes (0 decodes in the main "
                          "process)")
    return int(given)


def sample_index(n: int, k: int, seed: int = 0) -> torch.Tensor:
    """`k` of `n` rows at random (all of them when k >= n), in order."""
    if n <= k:
        return torch.arange(n)
    return torch.from_numpy(np.sort(np.random.default_rng(seed).choice(n, k, replace=False)))
