"""`deepscope predict RUN INPUT` from raw input: the text itself for a text model, and its mistakes."""

from __future__ import annotations

import pytest

import deepscope as ds
from tests.conftest import write_reviews


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    write_reviews(folder, 8)
    config = {"data": {"source": str(folder / "reviews.csv"), "inputs": {"review": "text"},
                       "outputs": {"sentiment": "category"}, "split": {"val": 0.0, "test": 0.0}},
              "model": {"encoder": {"name": "cnn1d"}},
              "train": {"epochs": 15, "batch_size": 16, "optimizer": {"lr": 0.01}},
              "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return ds.train(config, progress=False).dir


def test_a_text_model_predicts_from_the_text_itself(text_run, deepscope_in_process):
    result = deepscope_in_process("predict", str(text_run), "a gripping , funny film")
    assert result.returncode == 0, result.stderr
    assert "'sentiment': 'pos'" in result.stdout
    assert "'sentiment': 'neg'" in deepscope_in_process("predict", str(text_run), "dull and tedious").stdout


def test_empty_text_is_a_clear_error(text_run, deepscope_in_process):
    result = deepscope_in_process("predict", str(text_run), "   ")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "review" in result.stderr and "empty" in result.stderr.lower()


def test_a_text_model_takes_a_bare_string_in_python(text_run):
    predictor = ds.load(text_run)
    assert predictor.predict("a gripping , funny film")[0]["sentiment"] == "pos"
    assert predictor.predict("a gripping , funny film") == predictor.predict({"review": ["a gripping , funny film"]})


def test_a_text_of_characters_never_seen_in_training_is_a_clear_error(text_run, deepscope_in_process):
    result = deepscope_in_process("predict", str(text_run), "日本語")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "none of the characters of '日本語' occurs in the training texts" in result.stderr


def test_a_paragraph_longer_than_a_file_name_is_text(text_run, deepscope_in_process):
    paragraph = " ".join(["a gripping , funny film , wonderfully told"] * 40)  # 1.7 KB: no file name is that long
    result = deepscope_in_process("predict", str(text_run), paragraph)
    assert result.returncode == 0, result.stderr
    assert "'sentiment': 'pos'" in result.stdout
    assert len(result.stdout.splitlines()[0]) < 120  # the console shows its start; predictions.csv keeps it whole
    assert paragraph in (text_run / "predictions.csv").read_text()


def test_an_empty_argument_to_a_text_model_says_the_text_is_empty(text_run, deepscope_in_process):
    result = deepscope_in_process("predict", str(text_run), "")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the text is empty" in result.stderr and "'review'" in result.stderr
    assert "image" not in result.stderr  # "" is not the current folder of images
