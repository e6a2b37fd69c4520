"""examples/adult.yaml copes with UCI Adult as distributed (no header row, `?` for missing values, a separate test
file whose labels end in a full stop) through its data options, and trains: on small files shaped like UCI's, and
for 1 epoch on a 500-row slice of the real training file (`data.limit`) with the real test file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.prepare import load_splits, prepare_data
from deepscope.errors import ConfigError, DataError

EXAMPLE = Path(__file__).parents[2] / "examples" / "adult.yaml"
QUICK = {"train.epochs": 1, "diagnose.enabled": False, "run.report": False}

ROWS = [  # UCI's own rows (adult.data, adult.test), with its spaces and `?`
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, "
    "United-States, <=50K",
    "52, Self-emp-not-inc, 209642, HS-grad, 9, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 45, "
    "United-States, >50K",
    "28, Private, 338409, Bachelors, 13, Married-civ-spouse, Prof-specialty, Wife, Black, Female, 0, 0, 40, Cuba, "
    "<=50K",
    "54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, Male, 0, 0, 60, South, "
    ">50K",
]


@pytest.fixture
def adult_files(tmp_path: Path) -> dict[str, str]:
    """adult-train.csv (40 rows) and adult-test.csv (20 rows, labels `<=50K.` / `>50K.`, a blank last line)."""
    train, test = tmp_path / "adult-train.csv", tmp_path / "adult-test.csv"
    train.write_text("\n".join(ROWS * 10) + "\n")
    test.write_text("\n".join(row + "." for row in ROWS * 5) + "\n\n")
    return {"data.source": str(train), "data.test_source": str(test), "run.root": str(tmp_path / "runs")}


def test_the_example_reads_the_files_as_distributed(adult_files):
    config = load_config(EXAMPLE, [f"{key}={value}" for key, value in adult_files.items()])
    raw, _, outputs = load_splits(config.data)
    assert raw.size("test") == 20  # the test file is the test split; validation comes from the training file
    assert raw.size("train") + raw.size("val") == 40
    assert set(raw.splits["test"]["income"]) == {"<=50K", ">50K"}  # the full stop stripped
    assert raw.splits["test"]["workclass"][3] is None and raw.splits["test"]["occupation"][3] is None  # `?`
    prepared = prepare_data(config.data)
    test_labels = prepared.splits["test"].tensors["income"]
    np.testing.assert_array_equal(test_labels.numpy(), [0.0, 1.0, 0.0, 1.0] * 5)  # >50K is the positive class


def test_without_strip_the_test_labels_are_refused_by_name(adult_files):
    config = load_config(EXAMPLE, [f"{key}={value}" for key, value in adult_files.items()] + ["data.strip=null"])
    with pytest.raises(DataError, match=r"data.outputs.income: value\(s\) \['<=50K.', '>50K.'\] are neither"):
        prepare_data(config.data)


def test_a_test_file_with_other_columns_is_refused(adult_files, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a, b\n1, 2\n")
    config = load_config(EXAMPLE, [f"data.source={adult_files['data.source']}", f"data.test_source={other}"])
    with pytest.raises(DataError, match=r"other.csv, line 1: 2 fields, but there are 15 columns"):
        load_splits(config.data)
    config = load_config(EXAMPLE, [f"data.source={adult_files['data.source']}", f"data.test_source={other}",
                                   "data.header=true", "data.columns=null"])
    with pytest.raises(DataError, match=r"data.test_source: .*other.csv must have the columns of .*: it lacks"):
        load_splits(config.data)


def test_the_example_trains_one_epoch_with_weights(adult_files):
    run = ds.train(str(EXAMPLE), {**adult_files, **QUICK, "data.weights": {"balance": "sex"}}, progress=False)
    assert run.metrics["test"]["n"] == 20 and 0.0 <= run.metrics["test"]["accuracy"] <= 1.0


def test_the_example_on_a_500_row_slice_of_the_real_files(data_dir, tmp_path):
    run = ds.train(str(EXAMPLE), {**QUICK, "data.limit": 500, "run.root": str(tmp_path)}, progress=False)
    assert run.metrics["test"]["n"] == 16281  # the whole of UCI's test file
    assert run.metrics["val"]["n"] == 50  # a tenth of the 500 training rows
    assert run.metrics["test"]["accuracy"] > 0.5


def test_a_test_file_beside_a_source_with_its_own_test_split_is_refused(adult_files, tmp_path):
    arrays = tmp_path / "arrays.npz"
    np.savez(arrays, train_x=np.zeros(4), train_y=np.arange(4), test_x=np.zeros(2), test_y=np.arange(2))
    config = load_config({"data": {"source": str(arrays), "test_source": adult_files["data.test_source"]}})
    with pytest.raises(ConfigError, match=r"data.test_source: .*arrays.npz has a test split of its own"):
        load_splits(config.data)


def test_strip_naming_a_column_that_is_not_there_is_refused(adult_files):
    config = load_config(EXAMPLE, [f"{key}={value}" for key, value in adult_files.items()] + ["data.strip.incme=."])
    with pytest.raises(DataError, match=r"data.strip: no column 'incme' in the data; columns are: age, workclass"):
        load_splits(config.data)
