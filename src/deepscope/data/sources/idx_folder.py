"""A folder of IDX files as a dataset (MNIST's layout, which Fashion-MNIST, KMNIST, EMNIST and others copy):

    fashion/
      train-images-idx3-ubyte.gz    (60000, 28, 28) uint8
      train-labels-idx1-ubyte.gz    (60000,)        uint8
      t10k-images-idx3-ubyte.gz     (10000, 28, 28)
      t10k-labels-idx1-ubyte.gz     (10000,)
      classes.txt                   optional: one class name per line, line 1 names label 0

    raw = load_idx_folder("fashion")
    raw.splits["test"]["image"].shape, raw.splits["test"]["label"][:2]   # (10000, 28, 28), ['Ankle boot', 'Pullover']

Which split a file belongs to is read from its name (`train`; `t10k` or `test`; `val`), gzipped or not, with any
prefix (`emnist-digits-train-...`) or separator (`train-images.idx3-ubyte`, as Kaggle's copies are named); whether
it holds images or labels is read from its header: labels have one dimension, images two more (three with
colour channels).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from deepscope.data.sources.base import RawData
from deepscope.data.sources.idx import is_idx_name, read_idx
from deepscope.errors import DataError

# a word in a file name -> the split it names
SPLIT_WORDS = {"train": "train", "training": "train", "t10k": "test", "test": "test", "val": "val", "valid": "val",
               "validation": "val"}
CLASS_NAMES = "classes.txt"
LAYOUT = ("name the files like MNIST's: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
          "t10k-labels-idx1-ubyte (.gz or not)")


def idx_files(folder: Path) -> list[Path]:
    """The IDX files directly in `folder` (by name; hidden files aside), sorted."""
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".") and is_idx_name(f.name))


def load_idx_folder(folder: str | Path) -> RawData:
    """Images and labels per split from the IDX files in `folder`; labels named by `classes.txt` if it is there.

    Args:
        folder: a folder holding, for each split, one IDX file of images (N, H, W) or (N, H, W, C) and one of
            N integer labels. A train split is required; the others are made by `data.split` when missing.

    Returns:
        RawData with columns `image` (the file's dtype, e.g. uint8) and `label` (int64, or the class names as
        strings when `classes.txt` names them), suggesting an image input and a category output.

    Raises:
        DataError: a file whose split the name does not tell, two files for the same split and column, a split
            without its images or labels, images and labels of different counts, labels that are not whole
            numbers, or a classes.txt that names fewer classes than the labels use.

    Example:
        >>> raw = load_idx_folder("data/fashion-mnist")   # doctest: +SKIP
        >>> {split: len(columns["label"]) for split, columns in raw.splits.items()}
        {'train': 60000, 'test': 10000}
    """
    folder = Path(folder)
    found: dict[str, dict[str, tuple[Path, np.ndarray]]] = {}  # split -> column -> (file, its array)
    for file in idx_files(folder):
        split, array = _split_of(file), read_idx(file)
        column = "label" if array.ndim == 1 else "image"
        if column in found.setdefault(split, {}):
            raise DataError(f"{folder}: both {found[split][column][0].name} and {file.name} hold the {split} "
                            f"{column}s; keep one of them in the folder")
        found[split][column] = (file, array)
    splits = {split: _pair(folder, split, found[split]) for split in ("train", "val", "test") if split in found}
    if "train" not in splits:
        raise DataError(f"{folder}: IDX files for {', '.join(splits)} but none for training; {LAYOUT}")
    names = _class_names(folder, splits)
    if names is not None:
        for columns in splits.values():
            columns["label"] = np.array([names[i] for i in columns["label"]], dtype=object)
    sizes = ", ".join(f"{split} {len(columns['label']):,}" for split, columns in splits.items())
    return RawData(splits, inputs={"image": "image"}, outputs={"label": "category"},
                   description=f"IDX files in {folder.name}/: {sizes}")


def _split_of(file: Path) -> str:
    splits = {SPLIT_WORDS[word] for word in re.findall(r"[a-z0-9]+", file.name.lower()) if word in SPLIT_WORDS}
    if len(splits) != 1:
        what = "does not say" if not splits else f"names several ({', '.join(sorted(splits))})"
        raise DataError(f"{file}: the name {what} which split this IDX file is for (train, t10k/test or val); {LAYOUT}")
    return splits.pop()


def _pair(folder: Path, split: str, found: dict[str, tuple[Path, np.ndarray]]) -> dict[str, np.ndarray]:
    """A split's images and labels, checked against each other."""
    if len(found) < 2:
        (column, (file, _)), = found.items()
        other = "labels" if column == "image" else "images"
        raise DataError(f"{folder}: {file.name} holds the {split} {column}s, and no IDX file holds their {other}; "
                        f"add it ({LAYOUT})")
    (image_file, images), (label_file, labels) = found["image"], found["label"]
    if images.ndim not in (3, 4):
        raise DataError(f"{image_file}: an array of shape {images.shape}, and images are (N, height, width) or "
                        "(N, height, width, channels)")
    if len(images) != len(labels):
        raise DataError(f"{folder}: {image_file.name} holds {len(images):,} images and {label_file.name} "
                        f"{len(labels):,} labels; they must match one to one (a file from another split or a cut "
                        "download?)")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{label_file}: labels of type {labels.dtype}; class labels are whole numbers")
    return {"image": images, "label": labels.astype(np.int64)}


def _class_names(folder: Path, splits: dict[str, dict[str, np.ndarray]]) -> list[str] | None:
    """classes.txt: one name per line, line 1 names label 0; None when the folder has none."""
    path = folder / CLASS_NAMES
    if not path.is_file():
        return None
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error}); save it as UTF-8, one class name per line") from None
    while names and not names[-1]:
        names.pop()
    if "" in names or len(set(names)) != len(names):
        problem = f"line {names.index('') + 1} is blank" if "" in names else "a name appears twice"
        raise DataError(f"{path}: {problem}; give one distinct class name per line, line 1 for label 0")
    labels = np.concatenate([columns["label"] for columns in splits.values()])
    used = int(labels.max()) if len(labels) else -1
    if used >= len(names) or (len(labels) and labels.min() < 0):
        raise DataError(f"{path}: names {len(names)} classes, and the labels go up to {used}; give one name per "
                        f"label, line 1 for label 0 (so {used + 1} lines)")
    return names
