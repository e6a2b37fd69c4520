"""The builtin `olivetti` (Olivetti faces): read from a .mat file shaped like the real one, upright, one label per
person, split 7 training / 3 test images per person; damaged files refused naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from deepscope.config.loading import load_config
from deepscope.data.sources import load_source
from deepscope.data.sources.builtin import dataset_status
from deepscope.data.sources.olivetti import read_olivetti
from deepscope.data.splits import make_splits
from deepscope.errors import DataError

ROOT = Path(__file__).parents[2]


def planted_faces() -> np.ndarray:
    """(400, 64, 64) uint8: each image's first pixel holds its index, and a bright bar runs along its top rows,
    so a transposed or flipped reading shows."""
    images = np.zeros((400, 64, 64), dtype=np.uint8)
    images[:, :4, :] = 200  # the top rows
    images[:, 0, 0] = np.arange(400) % 200
    images[:, 10, 1] = np.arange(400) // 200 + 1  # row 10, column 1: not symmetric under a transpose
    return images


def write_mat(path: Path, faces: np.ndarray, name: str = "faces") -> Path:
    """As the real file stores them: (4096, 400), column i image i, each image column-major (MATLAB's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {name: faces.transpose(0, 2, 1).reshape(len(faces), -1).T})
    return path


def planted_ids(images: np.ndarray) -> np.ndarray:
    """The index each planted image carries (see planted_faces)."""
    return images[:, 0, 0].astype(int) + 200 * (images[:, 10, 1].astype(int) - 1)


@pytest.fixture
def olivetti_folder(tmp_path, monkeypatch) -> Path:
    write_mat(tmp_path / "olivetti-faces" / "olivettifaces.mat", planted_faces())
    monkeypatch.setenv("DEEPSCOPE_DATA", str(tmp_path))
    return tmp_path / "olivetti-faces"


def test_the_builtin_reads_the_faces_upright_with_one_label_per_person(olivetti_folder):
    raw = load_source("olivetti")
    images, labels = raw.splits["train"]["image"], raw.splits["train"]["label"]
    np.testing.assert_array_equal(images, planted_faces())  # neither transposed nor flipped
    assert images.dtype == np.uint8 and list(raw.splits) == ["train"]
    np.testing.assert_array_equal(labels, np.repeat(np.arange(40), 10))  # images 10k .. 10k+9 are person k
    assert raw.inputs == {"image": "image"} and raw.outputs == {"label": "category"}
    assert dataset_status("olivetti") == (True, str(olivetti_folder))  # its folder is olivetti-faces/


def test_the_examples_split_is_7_training_and_3_test_images_per_person_seeded(olivetti_folder):
    split = load_config(ROOT / "examples" / "faces.yaml").data.split
    raw = load_source("olivetti")
    parts = make_splits(raw, val=split.val, test=split.test, seed=split.seed, stratify="label")
    assert list(parts.splits) == ["train", "test"]
    for name, each in (("train", 7), ("test", 3)):
        np.testing.assert_array_equal(np.bincount(parts.splits[name]["label"], minlength=40), [each] * 40)
    again = make_splits(raw, val=split.val, test=split.test, seed=split.seed, stratify="label")
    other = make_splits(raw, val=split.val, test=split.test, seed=split.seed + 1, stratify="label")
    test_ids = planted_ids(parts.splits["test"]["image"])
    assert np.array_equal(test_ids, planted_ids(again.splits["test"]["image"]))  # seeded
    assert not np.array_equal(test_ids, planted_ids(other.splits["test"]["image"]))
    assert not set(test_ids) & set(planted_ids(parts.splits["train"]["image"]))


@pytest.mark.parametrize("content, message", [
    (b"not a mat file at all", r"not a readable MATLAB v5 file"),
    ("cut short", r"not a readable MATLAB v5 file"),
    ({"pictures": np.zeros((4096, 400), np.uint8)}, r"holds the arrays \['pictures'\], not the Olivetti faces"),
    ({"faces": np.zeros((4096, 10), np.uint8)}, r"holds `faces` of shape \(4096, 10\), not"),
    ({"faces": np.zeros((4096, 400), np.float64)}, r"`faces` is float64 of shape \(4096, 400\), not uint8"),
])
def test_a_damaged_or_foreign_file_is_refused_naming_it(tmp_path, content, message):
    path = tmp_path / "olivettifaces.mat"
    if content == "cut short":
        whole = write_mat(tmp_path / "whole.mat", planted_faces()).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        savemat(path, content)
    with pytest.raises(DataError, match=rf"olivettifaces.mat: .*{message}.*download or copy it again"):
        read_olivetti(path)


def test_the_real_file(data_dir):
    raw = load_source("olivetti")
    images = raw.splits["train"]["image"]
    assert images.shape == (400, 64, 64) and images.dtype == np.uint8
    faces = images.astype(np.float64)
    # not transposed: faces are nearer left-right symmetric than top-bottom (measured 26.9 against 38.7)
    assert np.abs(faces - faces[:, :, ::-1]).mean() < 0.8 * np.abs(faces - faces[:, ::-1]).mean()
    # upright: the forehead (top rows) is lit, the neck below the chin in shadow (measured 152 against 111)
    assert faces[:, :10].mean() > faces[:, -10:].mean() + 20
