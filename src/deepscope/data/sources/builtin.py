"""Builtin datasets by name: `source: mnist` in a config.

Where a dataset's files come from, in order:
1. `$DEEPSCOPE_DATA/<folder>/<file>` — files the user put there, used as they are (not checksummed, so a
   re-saved or converted copy works); the folder is the dataset's name unless it says otherwise
   (`olivetti` lives in `olivetti-faces/`);
2. the cache `$DEEPSCOPE_CACHE/<folder>/<file>` (default `~/.cache/deepscope`) — earlier downloads;
3. else a download into the cache, checked against the published checksum before it is kept.

    raw = BUILTIN_DATASETS.get("mnist").load()
    raw.splits["test"]["image"].shape    # (10000, 28, 28)
    dataset_status("mnist")              # (True, '/data/mnist') — without downloading anything
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepscope.config.registry import Registry
from deepscope.data.sources.base import RawData
from deepscope.data.sources.download import download
from deepscope.data.sources.idx import read_idx
from deepscope.data.sources.npz import load_npz
from deepscope.data.sources.olivetti import read_olivetti
from deepscope.errors import DataError

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# GLUE's SST-2 files, unmodified, in a pinned commit (GLUE itself ships one zip); train.tsv there is train_full.tsv
SST2_URL = "https://raw.githubusercontent.com/eyalbd2/Reproducing-AutoPrompt/53e9e221b58e5ed882a56c9d8be838b895351165/glue_data/SST-2/"


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
    folder: str = ""  # its folder under $DEEPSCOPE_DATA and the cache; default: the name

    @property
    def folder_name(self) -> str:
        return self.folder or self.name

    def load(self) -> RawData:
        paths = {file.name: find_or_download(self.folder_name, file) for file in self.files}
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
    found = {file.name: _find(dataset.folder_name, file) for file in dataset.files}
    missing = [file for file, path in found.items() if path is None]
    if missing:
        return False, f"downloads to {cache_folder() / dataset.folder_name} (missing: {', '.join(missing)})"
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


def _read_sst2(paths: dict[str, Path]) -> RawData:
    from deepscope.data.sources.csv_table import load_csv

    splits = {}
    # dev is the test split: GLUE's own test set has no labels and papers report dev, so it must stay unseen by
    # model selection (validation is carved from train, as for MNIST)
    for split, name in (("train", "train.tsv"), ("test", "dev.tsv")):
        columns = load_csv(paths[name], delimiter="\t", quoting=False).splits["train"]  # `"` is text in SST-2
        if set(columns) != {"sentence", "label"} or any(v not in ("0", "1") for v in columns["label"]):
            raise DataError(f"{paths[name]}: expected the GLUE SST-2 columns sentence and label (0 or 1); "
                            "the file is not SST-2's, download it again")
        splits[split] = {"sentence": columns["sentence"], "label": columns["label"].astype(np.int64)}
    return RawData(splits, inputs={"sentence": "text"}, outputs={"label": "category"})


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
    "sst2",
    "movie-review sentiment (GLUE SST-2), negative 0 / positive 1, 67,349 train phrases / 872 dev sentences "
    "as the test split (GLUE's test set has no labels; papers report dev)",
    _read_sst2,
    files=(
        DataFile("train.tsv", SST2_URL + "train_full.tsv",
                 "sha256:48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1"),
        DataFile("dev.tsv", SST2_URL + "dev.tsv",
                 "sha256:54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0"),
    ),
))
_register(BuiltinDataset(
    "breastmnist", "breast ultrasound (MedMNIST), 28x28 greyscale, malignant vs normal/benign, 546/78/156",
    _read_breastmnist,
    files=(DataFile(
        "breastmnist.npz", "https://zenodo.org/records/10519652/files/breastmnist.npz?download=1",
        "md5:750601b1f35ba3300ea97c75c52ff8f6",
    ),),
))

_register(BuiltinDataset(
    "olivetti",
    "Olivetti faces (AT&T Laboratories Cambridge): 64x64 greyscale, 40 people x 10 images, no official split "
    "(data.split: {test: 0.3, val: 0.0} gives 7 training / 3 test images per person); columns image, label (person)",
    lambda paths: read_olivetti(paths["olivettifaces.mat"]),
    # scikit-learn's copy and checksum (sklearn/datasets/_olivetti_faces.py); a placed copy is used as it is
    files=(DataFile("olivettifaces.mat", "https://ndownloader.figshare.com/files/5976027",
                    "sha256:b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794"),),
    folder="olivetti-faces",
))

# ---- the Free Spoken Digit Dataset, read straight from its tarball -------------------------------------------
FSDD_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"  # Jakobovski/free-spoken-digit-dataset, 2024-05-02
FSDD_TEST_REPETITIONS = 5  # the official split: repetitions 0-4 of every digit by every speaker are the test set


def _read_fsdd(paths: dict[str, Path]) -> RawData:
    """recordings/{digit}_{speaker}_{index}.wav in the tarball -> columns audio, label, speaker, index."""
    import tarfile

    from deepscope.data.sources.audio_folder import compile_pattern, note_skipped, to_columns
    from deepscope.data.wav import decode_wav

    tarball = paths["fsdd-recordings.tar.gz"]
    matcher = compile_pattern("{label}_{speaker}_{index}.wav")
    rows: dict[str, list] = {"train": [], "test": []}
    skipped: list[str] = []
    try:
        with tarfile.open(tarball) as archive:
            for member in archive:
                found = matcher.fullmatch(member.name.rsplit("/", 1)[-1]) if member.isfile() else None
                if found is None or not found["index"].isdigit():
                    continue
                name = f"{tarball}:{member.name}"
                try:
                    recording = decode_wav(archive.extractfile(member).read(), name)
                except DataError as error:
                    note_skipped(skipped, Path(name), str(error).removeprefix(f"{name}: "))
                    continue
                split = "test" if int(found["index"]) < FSDD_TEST_REPETITIONS else "train"
                rows[split].append({"audio": recording, **found.groupdict()})
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"{tarball}: not a readable .tar.gz archive ({error}); download or copy it again") from None
    if not rows["train"] or not rows["test"]:
        raise DataError(f"{tarball}: no recordings named {{digit}}_{{speaker}}_{{index}}.wav for both splits inside; "
                        "this is not the FSDD archive, download or copy it again")
    return RawData({split: to_columns(sorted(r, key=_repetition_first)) for split, r in rows.items()},
                   inputs={"audio": "audio"}, outputs={"label": "category"}, skipped=skipped)


def _repetition_first(row: dict) -> tuple:
    """Rows repetition by repetition, so that the first rows (data.limit) hold every digit from every speaker."""
    return int(row["index"]), row["speaker"], row["label"]


_register(BuiltinDataset(
    "fsdd",
    "Free Spoken Digit Dataset: spoken digits 0-9, 8 kHz mono WAV, 6 speakers x 50 repetitions; official split "
    "2,700 train / 300 test (repetitions 0-4); columns audio, label, speaker, index",
    _read_fsdd,
    # the checksum is that of the recordings/ folder packed with `git archive` at FSDD_COMMIT; GitHub's own
    # archive of the commit holds the whole repository, so a download is refused by the checksum: place the file
    files=(DataFile(
        "fsdd-recordings.tar.gz",
        f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/{FSDD_COMMIT}.tar.gz",
        "sha256:acdc9ae955db7cc71eda9a6bc08b055f1658dead1a44b07cd6fd30218d0aa53a",
    ),),
))


# ---- MNIST-1D (Greydanus 2020): 1-D signals of length 40, read from the npz copy (never the pickle) -----------
def _read_mnist1d(paths: dict[str, Path]) -> RawData:
    """x (4000, 40), y, x_test (1000, 40), y_test -> splits train/test with columns signal, label."""
    path = paths["mnist1d_data.npz"]
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x", "y", "x_test", "y_test")}
    except (KeyError, ValueError, OSError, EOFError) as error:
        raise DataError(f"{path}: not the MNIST-1D npz (arrays x, y, x_test, y_test): {error}; copy it again") from None
    splits = {split: {"signal": arrays[f"x{suffix}"].astype(np.float32), "label": arrays[f"y{suffix}"].astype(np.int64)}
              for split, suffix in (("train", ""), ("test", "_test"))}
    if any(len(s["signal"]) != len(s["label"]) or s["signal"].ndim != 2 for s in splits.values()):
        raise DataError(f"{path}: signals and labels of different lengths; copy the file again")
    return RawData(splits, inputs={"signal": "signal"}, outputs={"label": "category"})


_register(BuiltinDataset(
    "mnist1d",
    "MNIST-1D (Greydanus 2020): 1-D digit-like signals of length 40, 10 classes, 4,000 train / 1,000 test; "
    "columns signal, label",
    _read_mnist1d,
    # the upstream repository publishes only a pickle, which is never loaded (unpickling runs code); this is the
    # checksum of its npz copy (same arrays), so a download is refused by the checksum: place the npz by hand
    files=(DataFile("mnist1d_data.npz", "https://github.com/greydanus/mnist1d/raw/master/mnist1d_data.pkl",
                    "sha256:b1adc2b5206f50ab6f7dea5e16da94cabd5294c20563a6f631ab3615a9cb2e10"),),
))
