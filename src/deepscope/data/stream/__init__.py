"""Data larger than memory: folders of images, WAVs or texts, CSV/TSV tables and `deepscope shard` tars, decoded
as they are read.

    data: {source: photos/, stream: auto}    # auto (the default), true or false

`stream: auto` streams when the in-memory path would hold more than the budget (data/stream/memory.py): half of
the memory the kernel reports available (MemAvailable), or DEEPSCOPE_MEMORY_LIMIT (`2G`, `512M`) where set. A
folder's size is estimated from SAMPLE_FILES decoded training files times the number of files listed; a table's
from its size on disk, its first lines' length and its number of fields. Small data stays in the in-memory fast
path (TensorData). A folder of shards always streams. Builtin data sets, IDX folders, .npz files, text files of
one example per line, and series, corpora, melodies and translations are read in memory (`stream: true` on them
is refused).

How each feature is fitted when streaming (the in-memory path fits on every training example):

| feature | fitted on |
| --- | --- |
| category, binary labels of a folder | the listing: labels are folder names, known without decoding a file |
| image | a sample of 1,000 training images (seed 0): size, channels, pixel mean and std |
| audio | a sample of 1,000 training recordings: sample rate, clip length (99th percentile) |
| text in a folder | a sample of 50,000 training texts: the vocabulary (one pass over them) |
| a table's outputs (and `weights.balance` columns) | every training row, read in the one pass that lists the rows |
| a table's inputs (number, category, binary, text) | the training rows of a reservoir sample of 100,000 rows |

Batches are decoded in DataLoader worker processes (DEEPSCOPE_STREAM_WORKERS, default min(2, cores)),
persistent across epochs, with pinned memory when training on CUDA; they are the batches TensorData would give
for the same seed (same rows, in the same order; `skip` and `shard` too). `PreparedData.raw` keeps a sample of
SAMPLE_ROWS decoded rows per split for the report and the data profile, never every example.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from deepscope.config.schema import DataConfig
from deepscope.data.stream.dataset import StreamData
from deepscope.data.stream.listing import Listing, list_source, streamable
from deepscope.data.stream.memory import describe_bytes, in_memory_bytes, memory_budget, table_bytes
from deepscope.errors import ConfigError, UserError

if TYPE_CHECKING:
    from deepscope.data.prepare import PreparedData

__all__ = ["StreamData", "bounded", "stream_listing"]

log = logging.getLogger("deepscope")
IN_MEMORY_ONLY = ("series", "corpus", "music", "translation")


def stream_listing(config: DataConfig) -> Listing | None:
    """The listing to stream from when `config` streams (stream: true, a shard folder, or auto and too large for
    the memory budget); None for the in-memory path."""
    from deepscope.data.sources import BUILTIN_DATASETS
    from deepscope.data.timeseries import expand_path

    mode = config.stream
    special = next((key for key in IN_MEMORY_ONLY if getattr(config, key) is not None), None)
    if special or config.source in BUILTIN_DATASETS:
        if mode is True:
            what = f"data.{special}" if special else f"the builtin dataset {config.source!r}"
            raise ConfigError(f"data.stream: {what} is read in memory; leave stream out (auto) or set it to false")
        return None
    path = expand_path(config.source)
    kind = streamable(path)
    if kind is None:
        if mode is True:
            raise ConfigError(f"data.stream: {config.source} cannot be streamed; streaming reads folders of class "
                              "sub-folders of images, WAVs or texts, CSV/TSV tables and `deepscope shard` folders")
        return None
    if mode is False:
        if kind == "shards":
            raise ConfigError(f"data.stream: false, but {config.source} is a folder of shards, which is streamed; "
                              "leave stream out (auto), or give the folder the shards were made from")
        return None
    if mode == "auto" and kind != "shards" and (config.test_source is not None or config.pattern is not None):
        return None  # options only the in-memory loaders take
    if config.test_source is not None:
        raise ConfigError("data.test_source: a streamed source gives its own test split (a test/ folder); leave "
                          "test_source out, or set data.stream: false")
    if mode == "auto" and kind == "table" and not _too_large_table(config, path):
        return None  # judged from the file's size and first lines, before the one pass listing takes
    try:
        listing = list_source(path, kind, pattern=config.pattern, config=config)
    except UserError:  # a layout only the in-memory loader reads (one example per line), or a folder it will
        if mode is True or kind in ("shards", "table"):  # refuse in its own words (no class folders, no files)
            raise
        return None
    if mode is True or kind in ("shards", "table"):
        return listing
    return listing if _too_large(config, listing) else None


def _too_large_table(config: DataConfig, path: Path) -> bool:
    need, budget = table_bytes(path), memory_budget()
    if need > budget:
        log.info("data.stream: auto: %s would take about %s in memory, more than the budget of %s (half the "
                 "available memory, or DEEPSCOPE_MEMORY_LIMIT): streaming it", config.source, describe_bytes(need),
                 describe_bytes(budget))
    return need > budget


def _too_large(config: DataConfig, listing: Listing) -> bool:
    raw = listing.raw
    rows = sum(raw.size(split) for split in raw.splits)
    if config.limit is not None:
        rows = min(rows, config.limit + sum(raw.size(s) for s in raw.splits if s != "train"))
    column, kind = next(iter(listing.lazy.items()))
    need, budget = in_memory_bytes(raw.splits["train"][column], kind, rows), memory_budget()
    if need <= budget:
        return False
    log.info("data.stream: auto: %s would take about %s in memory, more than the budget of %s (half the available "
             "memory, or DEEPSCOPE_MEMORY_LIMIT): streaming it", config.source, describe_bytes(need),
             describe_bytes(budget))
    return True


def bounded(data: PreparedData) -> PreparedData:
    """`data` with every streamed split replaced by its bounded sample (a TensorData aligned with `data.raw`'s
    rows): for the consumers that need tensors, such as the data profile. In-memory data is returned as it is."""
    if not any(isinstance(split, StreamData) for split in data.splits.values()):
        return data
    splits = {name: split.sample() if isinstance(split, StreamData) else split for name, split in data.splits.items()}
    return type(data)(data.inputs, data.outputs, splits, data.raw)
