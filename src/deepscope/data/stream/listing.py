"""A streamable source listed, not decoded: file references and labels per split.

    listing = list_source("photos/")             # folders of class sub-folders (images, WAVs, texts), or shards
    listing.raw.splits["train"]["image"][:1]     # array(['photos/cat/001.png'], dtype=object): a reference
    listing.raw.splits["train"]["label"][:1]     # array(['cat'], dtype=object): the class folder's name
    listing.lazy                                 # {"image": "image"}: which columns are read lazily, and how

The layouts are the in-memory loaders' (data/sources/*_folder.py), read by their own helpers, so both paths see
the same files in the same order and `make_splits` cuts the same splits from them. Listing reads names only
(labels are folder names): 200,000 images list in about a second. A folder of `deepscope shard` tars is listed
from the tar headers (data/stream/shards.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.sources.base import RawData
from deepscope.data.stream.shards import is_shard_folder, list_shards
from deepscope.data.suffixes import TABLE_SUFFIXES
from deepscope.errors import ConfigError, DataError


@dataclass
class Listing:
    raw: RawData  # per split: reference columns (object arrays of str; a table's: row numbers) and label columns
    lazy: dict[str, str]  # reference column -> what it holds: "image", "audio", "text", or "table" (a table's row)
    kind: str  # what the source is, for messages: "a folder of images", ...
    table: Any = None  # a table's TableRows (data/stream/table.py), which reads the rows
    sample: dict[str, np.ndarray] | None = None  # a table's sample of every column, to infer types and fit on
    sample_rows: np.ndarray | None = None  # the sample's row numbers


def streamable(path: Path) -> str | None:
    """The kind of source at `path` that can be streamed ("image", "audio", "text" folders, "shards", a "table"),
    else None."""
    if path.is_file():
        return "table" if path.suffix.lower() in TABLE_SUFFIXES else None
    if not path.is_dir():
        return None
    if is_shard_folder(path):
        return "shards"
    from deepscope.data.sources import folder_kind
    from deepscope.data.sources.idx_folder import idx_files

    return None if idx_files(path) else folder_kind(path)


def list_source(path: Path, kind: str, *, pattern: str | None = None, config: Any = None) -> Listing:
    """List the source at `path` of kind `kind` (as `streamable` says); a table reads its options from `config`
    (the DataConfig)."""
    if kind == "table":
        return _list_table(path, config)
    if kind == "shards":
        splits, lazy = list_shards(path)
        return Listing(RawData(splits, inputs={c: k for c, k in lazy.items()}, outputs={"label": "category"},
                               description=f"shards in {path}"), lazy, "a folder of shards")
    if kind == "image":
        return _list_images(path)
    if kind == "audio":
        return _list_audio(path, pattern)
    return _list_texts(path)


def _list_images(path: Path) -> Listing:
    from deepscope.data.sources.image_folder import LAYOUT, _image_files, _split_folders

    skipped: list[str] = []
    splits = {split: _columns("image", _image_files(folder, path, skipped)) for split, folder in
              _split_folders(path).items()}
    return _listing(path, splits, skipped, "image", LAYOUT, "a folder of images")


def _list_audio(path: Path, pattern: str | None) -> Listing:
    from deepscope.data.sources import audio_folder as audio

    if pattern is not None:
        raise ConfigError("data.pattern: streaming reads labels from class folders; file names that carry columns "
                          "are read in memory: set data.stream: false")
    skipped: list[str] = []
    splits = {}
    for split, folder in audio._split_folders(path).items():
        classes = audio._sub_folders(folder)
        if not classes:
            raise DataError(f"{folder}: no class sub-folders; {audio.LAYOUT.format(path=path)}")
        splits[split] = _columns("audio", [(c.name, f) for c in classes for f in audio._wav_files(c)])
    return _listing(path, splits, skipped, "audio", audio.LAYOUT, "a folder of WAV recordings")


def _list_texts(path: Path) -> Listing:
    from deepscope.data.sources import text_folder as text
    from deepscope.data.sources.image_folder import _split_folders, _sub_folders

    splits = {}
    for split, folder in _split_folders(path).items():
        classes = [c for c in _sub_folders(folder) if c.name.lower() not in text.UNLABELLED_FOLDERS]
        if not classes:  # one example per line: the lines are only known by reading the files
            raise ConfigError(f"data.stream: {folder} holds text files of one example per line, which are read in "
                              "memory; set data.stream: false (or auto), or put one example per file in class "
                              "sub-folders")
        splits[split] = _columns("text", [(c.name, f) for c in classes for f in text._text_files(c, recursive=True)])
    return _listing(path, splits, [], "text", text.LAYOUT, "a folder of text files")


def _columns(column: str, files: list[tuple[str, Path]]) -> dict[str, np.ndarray]:
    references, labels = np.empty(len(files), dtype=object), np.empty(len(files), dtype=object)
    references[:] = [str(file) for _, file in files]
    labels[:] = [label for label, _ in files]
    return {column: references, "label": labels}


def _listing(path: Path, splits: dict, skipped: list[str], column: str, layout: str, kind: str) -> Listing:
    splits = {split: columns for split, columns in splits.items() if len(columns["label"])}
    if "train" not in splits:
        raise DataError(f"{path}: no training files to stream. {layout.format(path=path)}")
    count = sum(len(c["label"]) for c in splits.values())
    raw = RawData(splits, inputs={column: column}, outputs={"label": "category"}, skipped=skipped,
                  description=f"{kind.removeprefix('a folder of ')} streamed from {path} ({count:,} files)")
    return Listing(raw, {column: column}, kind)


def _list_table(path: Path, config: Any) -> Listing:
    """A table's outputs (and the columns loss weights balance) in full, the other columns as row numbers."""
    from deepscope.data.stream.table import list_table

    outputs = list(config.outputs)
    if not outputs:
        raise DataError("data.outputs: say which column to predict, e.g. outputs: {price: number}; a streamed "
                        "table is read once, so its columns are named in the config")
    kept = outputs + [c for c in (config.weights.balance if config.weights else []) if c not in outputs]
    table, full, sample, rows, skipped = list_table(
        path, outputs=kept, delimiter=config.delimiter, header=config.header, columns=config.columns,
        encoding=config.encoding, strip=config.strip)
    numbers = np.arange(len(table.offsets))
    columns = {name: full[name] if name in full else numbers for name in table.names}
    raw = RawData({"train": columns}, skipped=skipped,
                  description=f"table {path.name} streamed ({len(numbers):,} rows)")
    lazy = {name: "table" for name in table.names if name not in full}
    return Listing(raw, lazy, "a table", table, sample, np.asarray(rows, np.int64))
