"""Data sources: from a `data.source` string to raw columns per split (`RawData`).

    raw = load_source("mnist")                        # a builtin dataset
    raw = load_source("photos/")                      # a folder of class sub-folders (images, texts or WAVs)
    raw = load_source("table.tsv", delimiter="\\t")   # a CSV/TSV file
    raw = load_source("arrays.npz")                   # train_images, train_labels, test_images, ...
    raw = load_source("fashion-mnist/")               # a folder of IDX files: train-images-idx3-ubyte.gz, ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.data.sources.base import RawData
from deepscope.data.sources.builtin import BUILTIN_DATASETS
from deepscope.data.sources.csv_table import load_csv
from deepscope.data.sources.idx import is_idx_name
from deepscope.data.sources.idx_folder import idx_files, load_idx_folder
from deepscope.data.sources.image_folder import load_image_folder
from deepscope.data.sources.npz import load_npz
from deepscope.data.suffixes import AUDIO_SUFFIXES, TABLE_SUFFIXES, TEXT_SUFFIXES
from deepscope.data.timeseries import expand_path
from deepscope.errors import ConfigError, DataError

__all__ = ["BUILTIN_DATASETS", "RawData", "load_source", "load_csv", "load_idx_folder", "load_image_folder",
           "load_npz"]

TABLE_OPTIONS = ("delimiter", "header", "columns", "encoding", "strip")  # the DataConfig keys load_csv takes


def load_source(source: str, **options: Any) -> RawData:
    """Load a builtin dataset by name, or the file or folder at a path.

    Args:
        source: a builtin name (`mnist`, `digits`, `breastmnist`, ...), a folder of class sub-folders (or of
            train/ test/ [val/] folders of them), a folder of IDX files (MNIST's four files, named like them;
            see `idx_folder.py`), a `.csv` / `.tsv` / `.txt` table, or an `.npz` archive.
            Relative paths are relative to the current folder; `$VARS` are expanded (`$DEEPSCOPE_DATA/mnist`).
        **options: passed to the loader that reads the source: `delimiter`, `header`, `columns`, `encoding` and
            `strip` for tables, `encoding` for text folders, `size` and `channels` for image folders, `pattern` for
            folders of recordings. An option the source cannot use is a ConfigError; None means not given.

    Raises:
        DataError: no such builtin dataset or file, or a file type that is not a dataset.
        ConfigError: an option that does not apply to this kind of source.

    Example:
        >>> load_source("digits").splits["train"]["image"].shape
        (1797, 8, 8)
    """
    options = {key: value for key, value in options.items() if value is not None}
    if source in BUILTIN_DATASETS:
        _check_options(options, (), f"the builtin dataset {source!r}")
        return BUILTIN_DATASETS.get(source).load()
    path = expand_path(source)  # `$DEEPSCOPE_DATA/mnist`: an unset variable is named
    if path.is_dir():
        return _load_folder(path, options)
    if path.is_file():
        return _load_file(path, options)
    raise DataError(
        f"data.source: no builtin dataset or file named {source!r} (looked for {path.resolve()}); builtin "
        f"datasets are: {', '.join(BUILTIN_DATASETS.names())}; for your own data give a CSV/TSV file, an .npz "
        "file, a folder of IDX files (like MNIST's), or a folder with one sub-folder of images, texts or WAV "
        "recordings per class"
    )


def _load_folder(path: Path, options: dict[str, Any]) -> RawData:
    """A folder of IDX files is a dataset in MNIST's layout; another is read by what it holds most of: WAV
    recordings, text files, or images."""
    if idx_files(path):
        _check_options(options, (), "a folder of IDX files")
        return load_idx_folder(path)
    kind = folder_kind(path)
    if kind == "audio":
        from deepscope.data.sources.audio_folder import load_audio_folder

        _check_options(options, ("pattern",), "a folder of WAV recordings")
        return load_audio_folder(path, **options)
    if kind == "text":
        from deepscope.data.sources.text_folder import load_text_folder

        _check_options(options, ("encoding",), "a folder of text files")
        return load_text_folder(path, **options)
    _check_options(options, ("size", "channels"), "a folder of images")
    return load_image_folder(path, **options)


def folder_kind(path: Path) -> str:
    """"audio", "text" or "image": the kind of most files below `path` (hidden files aside)."""
    counts = {"audio": 0, "text": 0, "image": 0}
    for file in path.rglob("*"):
        if file.is_file() and not file.name.startswith("."):
            suffix = file.suffix.lower()
            kind = "audio" if suffix in AUDIO_SUFFIXES else "text" if suffix in TEXT_SUFFIXES else "image"
            counts[kind] += 1
    return max(counts, key=lambda kind: (counts[kind], kind == "image"))  # a tie (or nothing) reads as images


def _load_file(path: Path, options: dict[str, Any]) -> RawData:
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        _check_options(options, TABLE_OPTIONS, "a CSV/TSV table")
        return load_csv(path, **options)
    if suffix == ".npz":
        _check_options(options, (), "an .npz archive")
        return load_npz(path)
    if is_idx_name(path.name):
        raise DataError(
            f"data.source: {path} is one IDX array (images or labels), not a whole dataset; give the folder that "
            f"holds it with its images or labels (source: {path.parent}), as MNIST's four files are kept"
        )
    raise DataError(
        f"data.source: {path} is a {suffix or 'suffix-less'} file, which deepscope does not read as a dataset; "
        "give a .csv/.tsv/.txt table, an .npz archive, or a folder with one sub-folder of images per class"
    )


def _check_options(options: dict[str, Any], allowed: tuple[str, ...], kind: str) -> None:
    extra = sorted(set(options) - set(allowed))
    if extra:
        usable = f"it takes {', '.join(allowed)}" if allowed else "it takes no options"
        raise ConfigError(f"data.{extra[0]}: does not apply to {kind}; {usable}")
