"""Folders of text files: one file per example in class folders, or one example per line in one file per class."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.prepare import prepare_data
from deepscope.data.sources import load_source
from deepscope.data.sources.text_folder import load_text_folder
from deepscope.errors import DataError


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def test_class_folders_with_given_splits_skip_bad_files_and_unlabelled_reviews(tmp_path, caplog):
    root = tmp_path / "aclImdb"
    write(root / "README", "not a review")
    write(root / "train" / "urls_pos.txt", "http://example.com\n")  # beside the class folders: not an example
    write(root / "train" / "pos" / "0_9.txt", "A wonderful film.<br />Truly.\n")
    write(root / "train" / "pos" / "1_8.txt", "\ufeffGreat fun")
    write(root / "train" / "neg" / "2_1.txt", "Dull and lifeless.")
    write(root / "train" / "neg" / "3_2.txt", b"caf\xe9 scenes, dreadful")  # Latin-1, not UTF-8
    write(root / "train" / "neg" / "4_3.txt", "   \n")
    write(root / "train" / "unsup" / "5_0.txt", "no label here")
    write(root / "test" / "pos" / "6_10.txt", "Loved it")
    write(root / "test" / "neg" / "7_1.txt", "Hated it")
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_source(str(root), encoding="utf-8")  # given: a file not valid in it is left out
    train = raw.splits["train"]
    assert list(raw.splits) == ["train", "test"]
    assert train["label"].tolist() == ["neg", "pos", "pos"]  # class folders in name order
    assert train["text"].tolist() == ["Dull and lifeless.", "A wonderful film.<br />Truly.", "Great fun"]
    assert raw.splits["test"]["text"].tolist() == ["Hated it", "Loved it"]
    assert raw.inputs == {"text": "text"} and raw.outputs == {"label": "category"}
    reasons = "\n".join(raw.skipped)
    assert "3_2.txt, line 1: not valid utf-8 text" in reasons and "4_3.txt: empty file" in reasons
    assert "unsup: unlabelled examples" in reasons and len(raw.skipped) == 3
    assert "3_2.txt" in caplog.text


def test_line_files_label_by_file_name_and_skip_only_the_lines_that_are_not_utf8(tmp_path):
    write(tmp_path / "movies" / "pos.txt", "a gripping film\n\nfunny and warm\r\n")
    write(tmp_path / "movies" / "neg.txt", b"dull\ncaf\xe9 of boredom\nlifeless")
    raw = load_text_folder(tmp_path / "movies", encoding="utf-8")
    assert list(raw.splits) == ["train"]
    assert raw.splits["train"]["text"].tolist() == ["dull", "lifeless", "a gripping film", "funny and warm"]
    assert raw.splits["train"]["label"].tolist() == ["neg", "neg", "pos", "pos"]
    assert len(raw.skipped) == 1 and "neg.txt, line 2: not valid utf-8 text" in raw.skipped[0]


def test_rt_polarity_suffixes_are_the_labels_and_line_files_may_be_split(tmp_path):
    write(tmp_path / "rt" / "rt-polarity.pos", "simply wonderful .\nthe best of the year .\n")
    write(tmp_path / "rt" / "rt-polarity.neg", "a mess .\n")
    assert load_source(str(tmp_path / "rt")).splits["train"]["label"].tolist() == ["neg", "pos", "pos"]
    write(tmp_path / "split" / "train" / "good.txt", "fine\nnice\n")
    write(tmp_path / "split" / "train" / "bad.txt", "awful\n")
    write(tmp_path / "split" / "validation" / "good.txt", "lovely\n")
    write(tmp_path / "split" / "test" / "bad.txt", "poor\n")
    raw = load_text_folder(tmp_path / "split")
    assert [raw.size(s) for s in ("train", "val", "test")] == [3, 1, 1]
    assert raw.splits["val"]["label"].tolist() == ["good"]


def test_text_folder_errors_name_the_folder_and_the_layout(tmp_path):
    with pytest.raises(DataError, match=r"no such folder; expected one sub-folder per class"):
        load_text_folder(tmp_path / "missing")
    write(tmp_path / "bad" / "pos" / "1.txt", b"\xff\xfe\x00junk")  # a UTF-16 byte-order mark, then an odd byte
    with pytest.raises(DataError, match=r"no readable training texts \(.*1.txt: not valid utf-16.*one text file per"):
        load_text_folder(tmp_path / "bad")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders and no text files"):
        load_text_folder(tmp_path / "empty")


def test_a_text_folder_trains_a_text_input_end_to_end(tmp_path):
    for i in range(12):
        write(tmp_path / "reviews" / "pos" / f"{i}.txt", f"a wonderful film number {i} , warm and funny")
        write(tmp_path / "reviews" / "neg" / f"{i}.txt", f"a dull film number {i} , cold and lifeless")
    data = prepare_data(DataConfig(source=str(tmp_path / "reviews"), split={"val": 0.25, "test": 0.25}))
    assert data.inputs["text"].type == "text" and data.outputs["label"].type == "category"
    assert data.sizes() == {"train": 12, "val": 6, "test": 6}
    assert data.splits["test"].tensors["text"].dtype == torch.long
    width = data.inputs["text"].describe()["max_length"]
    assert width == 9 and data.splits["train"].tensors["text"].shape[1] == width  # "a wonderful film number 1 , ..."
