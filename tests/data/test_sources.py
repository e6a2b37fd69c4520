"""Data sources: builtin datasets, IDX, image folders, CSV tables, npz archives, and load_source dispatch."""

from __future__ import annotations

import gzip
import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepscope.data.sources import load_source
from deepscope.data.sources.builtin import BUILTIN_DATASETS, dataset_status
from deepscope.data.sources.csv_table import infer_feature_type, load_csv
from deepscope.data.sources.idx import read_idx, write_idx
from deepscope.data.sources.image_folder import load_image_folder
from deepscope.data.sources.npz import load_npz
from deepscope.errors import ConfigError, DataError


@pytest.fixture
def shared_data(monkeypatch) -> Path:
    """The real datasets, found through DEEPSCOPE_DATA (CI: ../shared/data); skip when it is not set."""
    found = os.environ.get("DEEPSCOPE_DATA")
    if not found or not (Path(found) / "mnist").is_dir():
        pytest.skip("set DEEPSCOPE_DATA to the shared data folder to run this test")
    return Path(found)


# ---- builtin datasets ---------------------------------------------------------------------------------------


def test_digits_is_bundled_and_needs_no_files():
    raw = load_source("digits")
    images, labels = raw.splits["train"]["image"], raw.splits["train"]["label"]
    assert list(raw.splits) == ["train"]
    assert images.shape == (1797, 8, 8) and images.dtype.kind == "f"
    assert 0 <= images.min() and images.max() == 16
    assert sorted(set(labels.tolist())) == list(range(10))
    assert raw.inputs == {"image": "image"} and raw.outputs == {"label": "category"}
    assert dataset_status("digits")[0] is True


def test_every_builtin_has_a_description_and_checksummed_files():
    for name, dataset in BUILTIN_DATASETS.items():
        assert dataset.name == name and dataset.description
        for file in dataset.files:
            assert file.url.startswith("https://") and file.checksum.split(":")[0] in ("sha256", "md5")


def test_mnist_from_shared_data(shared_data):
    raw = load_source("mnist")
    assert raw.splits["train"]["image"].shape == (60000, 28, 28)
    assert raw.splits["test"]["image"].shape == (10000, 28, 28)
    assert raw.splits["train"]["image"].dtype == np.uint8
    assert raw.splits["test"]["label"].shape == (10000,)
    assert set(np.unique(raw.splits["train"]["label"]).tolist()) == set(range(10))
    assert dataset_status("mnist") == (True, str(shared_data / "mnist"))


def test_breastmnist_from_shared_data(shared_data):
    raw = load_source("breastmnist")  # the local copy differs from the official md5: used as is
    assert [raw.size(s) for s in ("train", "val", "test")] == [546, 78, 156]
    assert raw.splits["train"]["label"].ndim == 1
    assert raw.outputs == {"label": "binary"}


def test_missing_builtin_is_reported_without_downloading(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPSCOPE_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("DEEPSCOPE_CACHE", str(tmp_path / "cache"))
    present, where = dataset_status("mnist")
    assert present is False and str(tmp_path / "cache" / "mnist") in where
    assert not (tmp_path / "cache").exists()


# ---- IDX ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_idx_round_trip_plain_and_gzipped(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(read_idx(path), images)


def test_idx_multi_byte_types_are_big_endian(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float32)
    path = write_idx(tmp_path / "f.idx", values)
    assert path.read_bytes()[:4] == b"\x00\x00\x0d\x02"
    assert path.read_bytes()[12:16] == np.array([1.5], dtype=">f4").tobytes()  # big-endian 0x3fc00000
    result = read_idx(path)
    assert result.dtype == np.float32 and result.dtype.isnative
    np.testing.assert_array_equal(result, values)


def test_idx_bad_magic_and_truncation_name_the_file(tmp_path):
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(b"\x12\x34\x56\x78" + b"\x00" * 10)
    with pytest.raises(DataError, match=f"{bad}: not an IDX file"):
        read_idx(bad)
    good = write_idx(tmp_path / "labels-idx1-ubyte", np.arange(100, dtype=np.uint8)).read_bytes()
    short = tmp_path / "short-idx1-ubyte"
    short.write_bytes(good[:50])
    with pytest.raises(DataError, match=f"{short}: this IDX file is truncated"):
        read_idx(short)
    cut_gzip = tmp_path / "cut-idx1-ubyte.gz"
    cut_gzip.write_bytes(gzip.compress(good)[:30])
    with pytest.raises(DataError, match=str(cut_gzip)):
        read_idx(cut_gzip)


# ---- image folders -----------------------------------------------------------------------------------------


def save_png(path: Path, size=(6, 5), value=0, mode="L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode == "L" else (value, 0, 255 - value)
    Image.new(mode, size, color).save(path)  # PIL sizes are (width, height)


def test_image_folder_skips_corrupt_files_and_resizes_odd_sizes(tmp_path, caplog):
    for i in range(3):
        save_png(tmp_path / "cat" / f"{i}.png", value=10 * i)
        save_png(tmp_path / "dog" / f"{i}.png", value=200)
    save_png(tmp_path / "dog" / "big.png", size=(12, 10), value=100)
    (tmp_path / "dog" / "broken.png").write_bytes(b"this is not a png")
    (tmp_path / "dog" / "notes.txt").write_text("ignored: not an image suffix")
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_image_folder(tmp_path)
    images, labels = raw.splits["train"]["image"], raw.splits["train"]["label"]
    assert images.shape == (7, 5, 6) and images.dtype == np.uint8  # most common size; greyscale -> no channel axis
    assert labels.tolist() == ["cat"] * 3 + ["dog"] * 4
    big = images[labels == "dog"][3]  # files in sorted order: 0.png 1.png 2.png big.png
    assert big.min() == big.max() == 100  # resized from 10x12, values kept
    assert len(raw.skipped) == 1 and raw.skipped[0].startswith(f"{tmp_path / 'dog' / 'broken.png'}: ")
    assert "broken.png" in caplog.text
    assert raw.inputs == {"image": "image"} and raw.outputs == {"label": "category"}


def test_image_folder_skips_an_image_whose_header_claims_too_many_pixels(tmp_path, monkeypatch):
    monkeypatch.setattr("deepscope.data.images.MAX_PIXELS", 100)
    for i in range(2):
        save_png(tmp_path / "cat" / f"{i}.png", value=10 * i)
        save_png(tmp_path / "dog" / f"{i}.png", value=200)
    save_png(tmp_path / "dog" / "huge.png", size=(20, 20), value=100)
    raw = load_image_folder(tmp_path)
    assert raw.splits["train"]["image"].shape[0] == 4  # the others are kept
    assert raw.skipped == [f"{tmp_path / 'dog' / 'huge.png'}: 20 x 20 pixels (0 Mpixel), more than the 0.0001 Mpixel "
                           f"deepscope decodes; shrink it first, e.g. `convert {tmp_path / 'dog' / 'huge.png'} "
                           "-resize 4000x4000 smaller.png` (ImageMagick)"]


def test_image_folder_colour_channels_and_explicit_size(tmp_path):
    save_png(tmp_path / "a" / "0.png", mode="RGB", value=50)
    save_png(tmp_path / "b" / "0.png", value=9)
    raw = load_image_folder(tmp_path)  # one colour image makes everything RGB
    assert raw.splits["train"]["image"].shape == (2, 5, 6, 3)
    assert raw.splits["train"]["image"][1].tolist() == [[[9, 9, 9]] * 6] * 5
    raw = load_image_folder(tmp_path, size=(4, 4), channels=1)
    assert raw.splits["train"]["image"].shape == (2, 4, 4)
    with pytest.raises(ConfigError, match="channels"):
        load_image_folder(tmp_path, channels=2)


def test_image_folder_with_given_splits(tmp_path):
    for split, n in (("train", 3), ("test", 2), ("val", 1)):
        for label in ("x", "y"):
            for i in range(n):
                save_png(tmp_path / split / label / f"{i}.png")
    raw = load_image_folder(tmp_path)
    assert list(raw.splits) == ["train", "val", "test"]
    assert [raw.size(s) for s in raw.splits] == [6, 2, 4]
    assert set(raw.splits["test"]["label"]) == {"x", "y"}


def test_image_folder_errors_name_the_path_and_the_layout(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'nope'}: no such folder.*one sub-folder per class"):
        load_image_folder(tmp_path / "nope")
    save_png(tmp_path / "flat" / "0.png")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path / "flat")
    (tmp_path / "junk" / "cat").mkdir(parents=True)
    (tmp_path / "junk" / "cat" / "0.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="no readable images.*0.png"):
        load_image_folder(tmp_path / "junk")


# ---- CSV ---------------------------------------------------------------------------------------------------


def test_csv_missing_values_become_none(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age, job ,smoker\n38,technician,yes\nNA, ,no\n\n?,N/A,null\n41,\"a, b\",nan\n")
    raw = load_csv(path)
    columns = raw.splits["train"]
    assert list(columns) == ["age", "job", "smoker"]
    assert columns["age"].dtype == object
    assert columns["age"].tolist() == ["38", None, None, "41"]
    assert columns["job"].tolist() == ["technician", None, None, "a, b"]
    assert columns["smoker"].tolist() == ["yes", "no", None, None]
    assert raw.inputs == {} and raw.outputs == {}


def test_tsv_delimiter_comes_from_the_extension(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("sentence\tlabel\nhello, world\t1\n")
    assert load_csv(path).splits["train"]["sentence"].tolist() == ["hello, world"]
    semicolons = tmp_path / "t.txt"
    semicolons.write_text("a;b\n1;2\n")
    assert load_csv(semicolons).splits["train"]["b"].tolist() == ["2"]


def test_csv_wrong_field_count_names_the_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=f"{path}, line 3: 3 fields, but the header has 2"):
        load_csv(path)


def test_csv_empty_or_headerless_files_are_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        load_csv(header_only)
    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("a,a\n1,2\n")
    with pytest.raises(DataError, match="'a' appears twice"):
        load_csv(duplicate)


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e309", "Infinity", "+INF"])
def test_csv_an_infinite_number_is_refused_naming_the_line_and_column(tmp_path, cell):
    path = tmp_path / "t.csv"
    path.write_text(f"age,job\n41,cook\n\n{cell},nurse\n")  # the blank line counts, as in a text editor
    with pytest.raises(DataError, match=rf"t.csv, line 4, column 'age': '{re.escape(cell)}' is not a finite number"):
        load_source(str(path))  # how training reads a table, too


def test_csv_inf_as_a_word_and_nan_as_missing_are_kept(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age,note\n41,inf\nnan,tall\n-nan,x\n")
    columns = load_csv(path).splits["train"]
    assert columns["note"].tolist() == ["inf", "tall", "x"]  # a column of words: "inf" is one
    assert columns["age"].tolist() == ["41", None, "-nan"]  # NaN stays a missing value for the number feature


def test_csv_separated_by_another_delimiter_says_which(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age;job;bought\n41;cook;yes\n")
    with pytest.raises(DataError, match='seems to be separated by ";", not ","') as error:
        load_source(str(path))
    assert 'set data.delimiter: ";"' in str(error.value)
    assert load_source(str(path), delimiter=";").columns == ["age", "job", "bought"]  # the fix it names works
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("age\tjob\n41\tcook\n")
    with pytest.raises(DataError, match=r'separated by "\\t".*data.delimiter: "\\t"'):
        load_csv(tabs)


@pytest.mark.parametrize(
    "values, expected",
    [
        (["yes", "no", None, "yes"], "binary"),
        (["0", "1", "1"], "binary"),
        (["1.5", "2", "3"], "number"),  # not whole numbers
        ([str(i) for i in range(20)], "number"),  # many distinct integers
        ([str(i % 5) for i in range(20)], "category"),  # few distinct integers: class labels
        (["red", "green", "blue", "NA"], "category"),
        (["1", "x", "2"], "category"),
        ([None, None], "category"),
    ],
)
def test_infer_feature_type(values, expected):
    column = np.empty(len(values), dtype=object)
    column[:] = values
    assert infer_feature_type(column) == expected


def test_infer_feature_type_on_numeric_and_image_arrays():
    assert infer_feature_type(np.arange(10) % 3) == "category"
    assert infer_feature_type(np.array([0.5, np.nan, 1.5, 2.5])) == "number"
    assert infer_feature_type(np.array([[0], [1], [1]])) == "binary"
    assert infer_feature_type(np.zeros((4, 8, 8), dtype=np.uint8)) == "image"


# ---- npz ---------------------------------------------------------------------------------------------------


def test_npz_keys_become_splits_and_singular_columns(tmp_path):
    path = tmp_path / "a.npz"
    arrays = dict(train_images=np.zeros((4, 3, 3)), train_labels=np.zeros((4, 1)), test_images=np.ones((2, 3, 3)),
                  test_labels=np.ones(2))
    np.savez(path, **arrays)
    raw = load_source(str(path))
    assert list(raw.splits) == ["train", "test"]
    assert sorted(raw.splits["train"]) == ["image", "label"]
    assert raw.splits["train"]["label"].shape == (4,)  # (N, 1) labels flattened
    np.savez(tmp_path / "plain.npz", images=np.zeros((3, 2, 2)), labels=np.arange(3), valid_labels=np.arange(2),
             valid_images=np.zeros((2, 2, 2)))
    assert [load_npz(tmp_path / "plain.npz").size(s) for s in ("train", "val")] == [3, 2]
    np.savez(tmp_path / "extra.npz", **arrays, extra=np.arange(4))
    with pytest.raises(DataError, match="the test split has no extra"):
        load_npz(tmp_path / "extra.npz")
    np.savez(tmp_path / "ragged.npz", images=np.zeros((3, 2, 2)), labels=np.arange(4))
    with pytest.raises(DataError, match="different lengths"):
        load_npz(tmp_path / "ragged.npz")


def test_npz_refuses_pickles_and_junk(tmp_path):
    pickled = tmp_path / "p.npz"
    np.savez(pickled, train_x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="Python objects"):
        load_npz(pickled)
    junk = tmp_path / "j.npz"
    junk.write_bytes(b"nope")
    with pytest.raises(DataError, match=str(junk)):
        load_npz(junk)


# ---- load_source dispatch ----------------------------------------------------------------------------------


def test_load_source_dispatches_on_what_the_source_is(tmp_path):
    save_png(tmp_path / "imgs" / "a" / "0.png")
    save_png(tmp_path / "imgs" / "b" / "0.png")
    assert load_source(str(tmp_path / "imgs")).size("train") == 2
    (tmp_path / "t.csv").write_text("a;b\n1;2\n")
    assert load_source(str(tmp_path / "t.csv"), delimiter=";").splits["train"]["b"].tolist() == ["2"]
    with pytest.raises(ConfigError, match="data.delimiter: does not apply to the builtin dataset 'digits'"):
        load_source("digits", delimiter=",")


def test_load_source_unknown_names_builtins_and_the_resolved_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as error:
        load_source("mnistt")
    message = str(error.value)
    assert "data.source" in message and "'mnistt'" in message and str(tmp_path / "mnistt") in message
    assert all(name in message for name in ("digits", "mnist", "breastmnist")) and "CSV" in message


def test_load_source_refuses_a_lone_idx_file(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), dtype=np.uint8))
    with pytest.raises(DataError, match="not a whole dataset"):
        load_source(str(path))


def test_image_folders_and_prediction_read_the_same_suffixes(tmp_path):
    """One table of image suffixes: a folder of TIFF and WebP images trains and predicts like one of PNGs."""
    from deepscope.data.suffixes import IMAGE_SUFFIXES
    from deepscope.run.predict import FILE_KINDS

    assert {".tif", ".tiff", ".webp", ".png", ".jpg"} <= IMAGE_SUFFIXES and FILE_KINDS["image"] is IMAGE_SUFFIXES
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i, suffix in enumerate((".tif", ".webp", ".png")):
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(tmp_path / label / f"{i}{suffix}")
    raw = load_image_folder(tmp_path)
    assert len(raw.splits["train"]["label"]) == 6 and not raw.skipped
