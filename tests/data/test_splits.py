"""make_splits: sizes, stratification, determinism, and splits the source already gives."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

from deepscope.data.sources.base import RawData
from deepscope.data.splits import make_splits
from deepscope.errors import ConfigError, DataError


def table(n: int = 1000, minority: float = 0.1) -> RawData:
    """Rows 0..n-1 with a label that is "rare" for the first `minority` of rows: an imbalanced class."""
    labels = np.where(np.arange(n) < int(n * minority), "rare", "common").astype(object)
    return RawData({"train": {"row": np.arange(n), "label": labels}}, outputs={"label": "category"}, skipped=["x"])


def rows(raw: RawData, split: str) -> list[int]:
    return raw.splits[split]["row"].tolist()


def test_only_train_carves_val_and_test_as_fractions_of_the_whole():
    raw = make_splits(table(), val=0.1, test=0.2, seed=0, stratify=None)
    assert list(raw.splits) == ["train", "val", "test"]
    assert [raw.size(s) for s in raw.splits] == [700, 100, 200]
    every_row = rows(raw, "train") + rows(raw, "val") + rows(raw, "test")
    assert sorted(every_row) == list(range(1000))  # disjoint and complete
    assert rows(raw, "val") == sorted(rows(raw, "val"))  # source order kept within a split
    assert raw.outputs == {"label": "category"} and raw.skipped == ["x"]


def test_stratification_keeps_the_class_ratio():
    raw = make_splits(table(), val=0.1, test=0.2, seed=3, stratify="label")
    for split, size in (("train", 700), ("val", 100), ("test", 200)):
        assert Counter(raw.splits[split]["label"])["rare"] == size // 10  # exactly 10 % in every split


def test_same_seed_same_split_other_seed_other_split():
    first = make_splits(table(), val=0.1, test=0.2, seed=7, stratify="label")
    again = make_splits(table(), val=0.1, test=0.2, seed=7, stratify="label")
    other = make_splits(table(), val=0.1, test=0.2, seed=8, stratify="label")
    assert all(rows(first, s) == rows(again, s) for s in ("train", "val", "test"))
    assert rows(first, "test") != rows(other, "test")


def test_given_test_split_carves_val_from_train_only():
    source = table(100)
    source.splits["test"] = {"row": np.arange(1000, 1010), "label": np.array(["rare"] * 10, dtype=object)}
    raw = make_splits(source, val=0.2, test=0.5, seed=0, stratify="label")
    assert [raw.size(s) for s in ("train", "val", "test")] == [80, 20, 10]
    assert rows(raw, "test") == list(range(1000, 1010))  # untouched


def test_all_three_given_is_returned_as_is():
    source = table(10)
    source.splits["val"] = source.splits["test"] = source.splits["train"]
    assert make_splits(source, val=0.1, test=0.2, seed=0, stratify="label") is source


def test_zero_fractions_mean_no_split():
    raw = make_splits(table(50), val=0.0, test=0.2, seed=0, stratify=None)
    assert list(raw.splits) == ["train", "test"] and raw.size("test") == 10
    assert list(make_splits(table(50), val=0.0, test=0.0, seed=0, stratify=None).splits) == ["train"]


def test_falls_back_to_random_with_a_warning_when_a_class_is_too_rare(caplog):
    source = table(20, minority=0.05)  # one "rare" row: cannot be in two splits
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = make_splits(source, val=0.0, test=0.25, seed=0, stratify="label")
    assert raw.size("train") == 15 and raw.size("test") == 5
    assert "cannot stratify" in caplog.text


def test_stratify_tolerates_missing_labels_and_column_vectors():
    labels = np.array([["a"], ["b"], [None], ["a"]] * 5, dtype=object)
    raw = RawData({"train": {"label": labels}})
    assert make_splits(raw, val=0.0, test=0.2, seed=0, stratify="label").size("test") == 4


def test_user_mistakes_are_clear_errors():
    with pytest.raises(ConfigError, match=r"val \(0.5\) \+ test \(0.5\)"):
        make_splits(table(), val=0.5, test=0.5, seed=0, stratify=None)
    with pytest.raises(DataError, match="no such column; columns are: row, label"):
        make_splits(table(), val=0.1, test=0.1, seed=0, stratify="target")
    with pytest.raises(DataError, match="too few"):
        make_splits(table(1), val=0.1, test=0.1, seed=0, stratify=None)
