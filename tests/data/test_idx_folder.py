"""A folder of IDX files as a source: Fashion-MNIST's four files (gzipped or not), class names from classes.txt,
and clear messages for the folders that are not quite right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.data.sources import load_source
from deepscope.data.sources.idx import write_idx
from deepscope.errors import ConfigError, DataError

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def fashion_like(folder: Path, *, gz: bool = True, train: int = 60, test: int = 20, names=FILES) -> Path:
    """Fashion-MNIST's layout: 28x28 uint8 noise with a bright patch whose place tells the class, labels 0-9."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for (images_name, labels_name), n in zip((names[:2], names[2:]), (train, test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, label in zip(images, labels):
            row, column = 14 * (label // 5), 5 * (label % 5)
            image[row:row + 14, column:column + 5] = 255
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{images_name}{suffix}", images)
        write_idx(folder / f"{labels_name}{suffix}", labels)
    return folder


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_a_folder_of_four_idx_files_is_a_source(tmp_path, gz):
    raw = load_source(str(fashion_like(tmp_path / "fashion", gz=gz)))
    assert list(raw.splits) == ["train", "test"]
    assert raw.splits["train"]["image"].shape == (60, 28, 28) and raw.splits["train"]["image"].dtype == np.uint8
    assert raw.splits["test"]["label"].tolist() == [i % 10 for i in range(20)]
    assert raw.inputs == {"image": "image"} and raw.outputs == {"label": "category"}
    assert raw.description == "IDX files in fashion/: train 60, test 20"


def test_kaggle_and_emnist_style_names_are_read_too(tmp_path):
    kaggle = ("train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte")
    assert load_source(str(fashion_like(tmp_path / "kaggle", gz=False, names=kaggle))).size("test") == 20
    emnist = tuple(f"emnist-digits-{name.replace('t10k', 'test')}" for name in FILES)
    assert load_source(str(fashion_like(tmp_path / "emnist", names=emnist))).size("train") == 60


def test_class_names_from_classes_txt_become_the_labels(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    (folder / "classes.txt").write_text("\n".join(FASHION_CLASSES) + "\n\n")
    raw = load_source(str(folder))
    assert raw.splits["train"]["label"][:3].tolist() == ["T-shirt/top", "Trouser", "Pullover"]
    data = prepare_data(load_config({"data": {"source": str(folder)}}).data)  # inputs and outputs from the source
    assert sorted(data.outputs["label"].classes) == sorted(FASHION_CLASSES)


def test_a_short_run_trains_on_the_folder_and_predicts_class_names(tmp_path):
    folder = fashion_like(tmp_path / "fashion", train=200, test=50)
    (folder / "classes.txt").write_text("\n".join(FASHION_CLASSES))
    run = ds.train({"data": {"source": str(folder)}, "model": {"encoder": {"name": "mlp", "hidden": [32]}},
                    "train": {"epochs": 3, "batch_size": 32}, "diagnose": False,
                    "run": {"root": str(tmp_path / "runs"), "report": False}}, progress=False)
    assert run.metrics["test"]["accuracy"] > 0.5  # the patch tells the class: far above chance (0.1)
    image = load_source(str(folder)).splits["test"]["image"][:1]
    assert run.predictor().predict({"image": image})[0]["label"] in FASHION_CLASSES


def test_classes_txt_must_name_every_label(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    (folder / "classes.txt").write_text("\n".join(FASHION_CLASSES[:9]))
    with pytest.raises(DataError, match=r"classes.txt: names 9 classes, and the labels go up to 9.*10 lines"):
        load_source(str(folder))
    (folder / "classes.txt").write_text("a\n\nb\n")
    with pytest.raises(DataError, match=r"classes.txt: line 2 is blank"):
        load_source(str(folder))


def test_a_missing_labels_file_is_named(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz holds the test images, and no IDX file holds "
                                        r"their labels"):
        load_source(str(folder))


def test_images_and_labels_of_different_counts(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz holds 20 images and t10k-labels-idx1-ubyte.gz "
                                        r"19 labels"):
        load_source(str(folder))


def test_a_gunzipped_copy_beside_its_gz_is_named(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(60, dtype=np.uint8))
    with pytest.raises(DataError, match=r"both train-labels-idx1-ubyte and train-labels-idx1-ubyte.gz hold the "
                                        r"train labels; keep one"):
        load_source(str(folder))


def test_a_file_whose_name_gives_no_split(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    write_idx(folder / "extra-images-idx3-ubyte", np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(DataError, match=r"extra-images-idx3-ubyte: the name does not say which split"):
        load_source(str(folder))


def test_no_training_files(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    for name in FILES[:2]:
        (folder / f"{name}.gz").unlink()
    with pytest.raises(DataError, match=r"IDX files for test but none for training"):
        load_source(str(folder))


def test_one_idx_file_as_the_source_points_to_its_folder(tmp_path):
    folder = fashion_like(tmp_path / "fashion")
    with pytest.raises(DataError, match=rf"one IDX array .*source: {folder}\)"):
        load_source(str(folder / "train-images-idx3-ubyte.gz"))


def test_options_that_do_not_apply_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"data.pattern: does not apply to a folder of IDX files"):
        load_source(str(fashion_like(tmp_path / "fashion")), pattern="{label}.png")


def test_the_folder_may_be_given_through_an_environment_variable(tmp_path, monkeypatch):
    fashion_like(tmp_path / "fashion")
    monkeypatch.setenv("MY_DATA", str(tmp_path))
    assert load_source("$MY_DATA/fashion").size("train") == 60
    monkeypatch.delenv("MY_DATA")
    with pytest.raises(DataError, match=r"\$MY_DATA, which is not set"):
        load_source("$MY_DATA/fashion")
