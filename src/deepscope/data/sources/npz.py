"""NumPy `.npz` archives: arrays named `<split>_<column>` become splits and columns.

    raw = load_npz("breastmnist.npz")   # train_images, train_labels, val_images, ... ->
    raw.splits["val"]["image"].shape    # (78, 28, 28)

Keys without a split prefix (`images`, `labels`) are the "train" split. Plural column names are made singular
(`images` -> `image`, `labels` -> `label`) so every image source has the same column names.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from deepscope.data.sources.base import SPLITS, RawData
from deepscope.errors import DataError

SPLIT_ALIASES = {"valid": "val", "validation": "val"}
COLUMN_ALIASES = {"images": "image", "labels": "label"}


def load_npz(path: str | Path) -> RawData:
    """Load an `.npz` archive into splits and columns, without ever unpickling (no code runs on load).

    Args:
        path: the `.npz` file.

    Returns:
        RawData with the splits found in the key names ("train" for keys without a split prefix). A `label`
        column of shape (N, 1), as MedMNIST stores it, is flattened to (N,).

    Raises:
        DataError: the file is not a readable npz, holds Python objects, has no training arrays, or has
            columns of different lengths within a split.

    Example:
        >>> np.savez("toy.npz", train_images=np.zeros((4, 8, 8)), train_labels=[0, 1, 0, 1])  # doctest: +SKIP
        >>> load_npz("toy.npz").splits["train"]["label"]                                       # doctest: +SKIP
        array([0, 1, 0, 1])
    """
    path = Path(path)
    splits: dict[str, dict[str, np.ndarray]] = {}
    for key, values in _read_arrays(path).items():
        split, column = split_key(key)
        if column in splits.setdefault(split, {}):
            raise DataError(f"{path}: the arrays {key!r} and another key both give {split} column {column!r}")
        if column == "label" and values.ndim == 2 and values.shape[1] == 1:
            values = values.reshape(-1)
        splits[split][column] = values
    _check_splits(path, splits)
    ordered = {name: splits[name] for name in sorted(splits, key=_split_order)}
    return RawData(ordered, description=f"arrays from {path.name}")


def split_key(key: str) -> tuple[str, str]:
    """`"train_images"` -> `("train", "image")`; `"labels"` -> `("train", "label")`."""
    prefix, sep, rest = key.partition("_")
    split = SPLIT_ALIASES.get(prefix, prefix)
    if sep and rest and split in SPLITS:
        return split, COLUMN_ALIASES.get(rest, rest)
    return "train", COLUMN_ALIASES.get(key, key)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as error:  # what numpy raises for object arrays when pickles are not allowed
        raise DataError(
            f"{path}: this npz holds Python objects, which are not loaded because unpickling can run code; "
            f"save plain numeric or string arrays instead ({error})"
        ) from error
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from error


def _check_splits(path: Path, splits: dict[str, dict[str, np.ndarray]]) -> None:
    if "train" not in splits:
        raise DataError(
            f"{path}: no training arrays; name them train_<column> (e.g. train_images, train_labels) "
            f"or <column> without a prefix. Keys found: {', '.join(_keys(splits)) or 'none'}"
        )
    for split, columns in splits.items():
        lengths = {column: len(values) if values.ndim else 0 for column, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise DataError(f"{path}: the {split} arrays have different lengths: {lengths}")
        missing = set(splits["train"]) - set(columns)
        if missing:
            raise DataError(f"{path}: the {split} split has no {', '.join(sorted(missing))} (train has)")


def _keys(splits: dict[str, dict[str, np.ndarray]]) -> list[str]:
    return [f"{split}_{column}" for split, columns in splits.items() for column in columns]


def _split_order(split: str) -> int:
    return SPLITS.index(split) if split in SPLITS else len(SPLITS)
