"""Builtin datasets by name: `source: mnist` in a config.

Where a dataset's files come from, in order:
1. `$DEEPSCOPE_DATA/<name>/<file>` — files the user put there, used as they are (not checksummed, so a
   re-saved or converted copy works);
2. the cache `$DEEPSCOPE_CACHE/<name>/<file>` (default `~/.cache/deepscope`) — earlier downloads;
3. else a download into the cache, checked against the published checksum before it is kept.

    raw = BUILTIN_DATASETS.get("mnist").load()
    raw.splits["test"]["image"].shape    # (10000, 28, 28)
    dataset_status("mnist")              # (True, '/data/mnist') — without downloading anything
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from deepscope.config.registry import Registry
from deepscope.data.sources.base import RawData
from deepscope.data.sources.download import download
from deepscope.data.sources.idx import read_idx
from deepscope.data.sources.npz import load_npz
from deepscope.errors import DataError

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"


@dataclass(frozen=True)
class DataFile:
    """One file of a builtin dataset: its name on disk, where to download it, and its checksum."""

    name: str
    url: str
    checksum: str  # "sha256:<hex>" or "md5:<hex>"


@dataclass
class BuiltinDataset:
    """A named dataset: `load()` finds (or downloads) its files and reads them into RawData."""

    name: str
    description: str
    read: Callable[[dict[str, Path]], RawData]  # file name -> local path, to RawData
    files: tuple[DataFile, ...] = field(default_factory=tuple)

    def load(self) -> RawData:
        paths = {file.name: find_or_download(self.name, file) for file in self.files}
        raw = self.read(paths)
        raw.description = raw.description or self.description
        return raw


BUILTIN_DATASETS: Registry[BuiltinDataset] = Registry("builtin dataset")


def _register(dataset: BuiltinDataset) -> BuiltinDataset:
    return BUILTIN_DATASETS.register(dataset.name)(dataset)


def data_folder() -> Path | None:
    """`$DEEPSCOPE_DATA`, where users keep datasets they placed by hand; None when unset."""
    value = os.environ.get("DEEPSCOPE_DATA")
    return Path(value).expanduser() if value else None


def cache_folder() -> Path:
    """`$DEEPSCOPE_CACHE`, default `~/.cache/deepscope`: where downloads go."""
    return Path(os.environ.get("DEEPSCOPE_CACHE") or "~/.cache/deepscope").expanduser()


def find_or_download(dataset: str, file: DataFile) -> Path:
    """The local path of one file of a builtin dataset, downloading it into the cache if it is nowhere."""
    found = _find(dataset, file)
    if found is not None:
        return found
    data = data_folder()
    place = data / dataset / file.name if data else f"<folder>/{dataset}/{file.name} and set DEEPSCOPE_DATA=<folder>"
    hint = f"To work offline, put the file at {place}."
    return download(file.url, cache_folder() / dataset / file.name, file.checksum, hint=hint)


def _find(dataset: str, file: DataFile) -> Path | None:
    for folder in (data_folder(), cache_folder()):
        if folder is not None and (folder / dataset / file.name).is_file():
            return folder / dataset / file.name
    return None


def dataset_status(name: str) -> tuple[bool, str]:
    """Whether a builtin dataset is on this machine, and where (or where it would be downloaded to).

    Looks only; never downloads. For the `deepscope datasets` listing.

    Example:
        >>> dataset_status("digits")
        (True, 'bundled with scikit-learn')
    """
    dataset = BUILTIN_DATASETS.get(name)
    if not dataset.files:
        return True, "bundled with scikit-learn"
    found = {file.name: _find(name, file) for file in dataset.files}
    missing = [file for file, path in found.items() if path is None]
    if missing:
        return False, f"downloads to {cache_folder() / name} (missing: {', '.join(missing)})"
    folders = sorted({str(path.parent) for path in found.values() if path is not None})
    return True, ", ".join(folders)


# ---- readers: local paths -> RawData ------------------------------------------------------------------------


def _read_digits(paths: dict[str, Path]) -> RawData:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    digits = load_digits()
    images = digits.images.astype(np.float32)  # (1797, 8, 8), values 0..16
    labels = digits.target.astype(np.int64)
    return RawData(
        {"train": {"image": images, "label": labels}},
        inputs={"image": "image"}, outputs={"label": "category"},
    )


def _read_mnist(paths: dict[str, Path]) -> RawData:
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"])  # uint8 (N, 28, 28)
        labels = read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"]).astype(np.int64)  # (N,) 0..9
        if images.ndim != 3 or len(images) != len(labels):
            raise DataError(
                f"{paths[f'{prefix}-images-idx3-ubyte.gz']}: {images.shape} images but {len(labels)} labels "
                f"in {paths[f'{prefix}-labels-idx1-ubyte.gz']}; one of the files is wrong, download it again"
            )
        splits[split] = {"image": images, "label": labels}
    return RawData(splits, inputs={"image": "image"}, outputs={"label": "category"})


def _read_breastmnist(paths: dict[str, Path]) -> RawData:
    raw = load_npz(paths["breastmnist.npz"])  # label (N, 1) in the official file is flattened to (N,)
    for split in ("train", "val", "test"):
        if "image" not in raw.splits.get(split, {}) or "label" not in raw.splits[split]:
            raise DataError(f"{paths['breastmnist.npz']}: no {split}_images / {split}_labels arrays")
    raw.inputs, raw.outputs, raw.description = {"image": "image"}, {"label": "binary"}, ""
    return raw


_register(BuiltinDataset(
    "digits", "handwritten digits, 8x8 greyscale, 10 classes, 1,797 images (bundled with scikit-learn)",
    _read_digits,
))
_register(BuiltinDataset(
    "mnist", "handwritten digits, 28x28 greyscale, 10 classes, 60,000 train / 10,000 test",
    _read_mnist,
    files=tuple(DataFile(name, MNIST_URL + name, f"sha256:{sha}") for name, sha in (
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    )),
))
_register(BuiltinDataset(
    "breastmnist", "breast ultrasound (MedMNIST), 28x28 greyscale, malignant vs normal/benign, 546/78/156",
    _read_breastmnist,
    files=(DataFile(
        "breastmnist.npz", "https://zenodo.org/records/10519652/files/breastmnist.npz?download=1",
        "md5:750601b1f35ba3300ea97c75c52ff8f6",
    ),),
))
