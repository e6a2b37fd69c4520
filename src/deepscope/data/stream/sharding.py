"""`deepscope shard SOURCE OUT`: a folder of class sub-folders (images, WAVs, texts) -> tar shards (shards.py).

    summary = shard_source("photos/", "photos-shards/")   # {"kind": "image", "splits": {"train": {...}}, ...}

The files are copied into the tars as they are (not decoded), in the listing's order, split as the folder is
(train/ test/ val/ folders become train-*, test-*, val-* shards; a folder of plain class folders is one train
split, cut into validation and test when trained on, as the folder itself would be).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepscope.data.stream.listing import list_source, streamable
from deepscope.data.stream.shards import PER_SHARD, write_shards
from deepscope.data.timeseries import expand_path
from deepscope.errors import UserError


def shard_source(source: str | Path, out: str | Path, per_shard: int = PER_SHARD,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write the examples of `source` as tar shards into the new or empty folder `out`; returns shards.json's
    content. A UserError names what is wrong with the source, the folder or the shard size."""
    path, target = expand_path(str(source)), expand_path(str(out))
    if per_shard < 1:
        raise UserError(f"--per-shard {per_shard}: a shard holds at least 1 example (default {PER_SHARD:,})")
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise UserError(f"{source}: {what}; give a folder with one sub-folder of images, WAVs or texts per class")
    kind = streamable(path)
    if kind is None:
        raise UserError(f"{source}: not a folder of class sub-folders of images, WAVs or texts (an IDX folder is "
                        "read in memory); nothing to shard")
    if kind == "shards":
        raise UserError(f"{source}: already a folder of shards; train on it as it is (data.source: {source})")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{out}: exists and is not an empty folder; give a new folder for the shards")
    if target.resolve() == path.resolve() or target.resolve().is_relative_to(path.resolve()):
        raise UserError(f"{out}: inside {source}; write the shards beside the source, not into it")
    listing = list_source(path, kind)
    column = next(iter(listing.lazy))
    return write_shards(listing.raw.splits, column, listing.lazy[column], target, per_shard, progress)
