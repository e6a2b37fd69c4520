"""`deepscope explain`: a sample of a split with its faithfulness numbers and files, texts given on the command line,
and the user's mistakes (exit 2, one message, no traceback)."""

from __future__ import annotations

import csv
import json

import pytest

import deepscope as ds
from tests.conftest import write_reviews


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    config = {"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
              "model": {"encoder": {"name": "cnn", "filters": [8], "dense": 32}}, "train": {"epochs": 1},
              "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return ds.train(config, progress=False).dir


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    write_reviews(folder, 6)
    config = {"data": {"source": str(folder / "reviews.csv"), "inputs": {"review": "text"},
                       "outputs": {"sentiment": "category"}, "split": {"val": 0.0, "test": 0.0}},
              "model": {"encoder": {"name": "cnn1d", "filters": 16, "embedding": {"dim": 16}}},
              "train": {"epochs": 8, "batch_size": 16, "optimizer": {"lr": 0.01}},
              "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return ds.train(config, progress=False).dir


def test_a_split_sample_is_explained_with_its_faithfulness_and_files(digits_run, tmp_path, deepscope_in_process):
    out = tmp_path / "explained"
    result = deepscope_in_process("explain", str(digits_run), "--split", "test", "--n", "20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "explained 20 examples of the test split with integrated_gradients, grad_cam" in result.stdout
    assert "integrated_gradients: deletion area" in result.stdout and "completeness error" in result.stdout
    assert "randomisation check" in result.stdout
    for name in ("integrated_gradients.png", "grad_cam.png", "integrated_gradients-faithfulness.png",
                 "integrated_gradients-class-means.png", "explanations.safetensors", "explanations.json"):
        assert (out / name).stat().st_size > 0 and f"wrote {out / name}" in result.stdout
    summary = json.loads((out / "explanations.json").read_text())
    assert summary["n"] == 20 and summary["faithfulness"]["grad_cam"]["completeness_error"] is None
    numbers = summary["faithfulness"]["integrated_gradients"]
    assert 0 <= numbers["completeness_error"] < 0.05  # 32 steps on a small CNN
    # what the numbers say is kept as findings and printed (wrapped to the terminal: compare the words)
    findings = [f for measured in summary["faithfulness"].values() for f in measured["findings"]]
    printed = " ".join(result.stdout.split())
    assert all(" ".join(f["title"].split()) in printed for f in findings)
    assert all(f["code"] in ("explanation_not_faithful", "explanation_ignores_model",
                             "explanation_sizes_follow_input", "completeness_error") for f in findings)


def test_texts_on_the_command_line_get_a_token_page(text_run, tmp_path, deepscope_in_process):
    out = tmp_path / "texts"
    result = deepscope_in_process("explain", str(text_run), "a gripping , funny film", "dull and lifeless",
                                  "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "explained 2 example(s) from 2 input(s) with integrated_gradients" in result.stdout
    page = (out / "integrated_gradients.html").read_text()
    assert "gripping" in page and "lifeless" in page
    towards = json.loads((out / "explanations.json").read_text())["tokens_by_class"]["integrated_gradients"]
    assert set(towards) <= {"neg", "pos"} and all(total > 0 for ranked in towards.values() for _, total, _ in ranked)
    assert "integrated_gradients: tokens towards" in result.stdout


def test_a_method_that_does_not_apply_exits_2_listing_those_that_do(text_run, deepscope_in_process):
    result = deepscope_in_process("explain", str(text_run), "warm and funny", "--method", "attention")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "attention needs a transformer encoder" in result.stderr
    assert "methods that apply:" in result.stderr and "integrated_gradients" in result.stderr


def test_an_unknown_method_exits_2(digits_run, deepscope_in_process):
    result = deepscope_in_process("explain", str(digits_run), "--split", "test", "--n", "4", "--method", "lime")
    assert result.returncode == 2 and "unknown attribution method 'lime'" in result.stderr
    assert "grad_cam" in result.stderr


def test_a_target_that_is_not_a_class_exits_2_with_the_classes(text_run, deepscope_in_process):
    result = deepscope_in_process("explain", str(text_run), "warm and funny", "--target", "neutral")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "target 'neutral' is not a class of the output 'sentiment'; its classes: neg, pos" in result.stderr


def test_a_missing_file_for_an_image_model_exits_2(digits_run, tmp_path, deepscope_in_process):
    result = deepscope_in_process("explain", str(digits_run), str(tmp_path / "nothing.png"))
    assert result.returncode == 2 and "no such file" in result.stderr and "image files" in result.stderr


def test_an_unknown_split_exits_2(digits_run, deepscope_in_process):
    result = deepscope_in_process("explain", str(digits_run), "--split", "holdout")
    assert result.returncode == 2 and "--split holdout" in result.stderr and "test" in result.stderr


@pytest.fixture(scope="module")
def text_and_number_run(tmp_path_factory):
    """Reads a review and a number (`stars`, which agrees with the sentiment): two inputs to choose from."""
    folder = tmp_path_factory.mktemp("reviews")
    rows = list(csv.DictReader(write_reviews(folder, 4).open()))
    with open(folder / "rated.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "stars", "sentiment"])
        writer.writerows([row["review"], 5 if row["sentiment"] == "pos" else 1, row["sentiment"]] for row in rows)
    config = {"data": {"source": str(folder / "rated.csv"), "inputs": {"review": "text", "stars": "number"},
                       "outputs": {"sentiment": "category"}, "split": {"val": 0.0, "test": 0.3}},
              "model": {"encoder": {"name": "cnn1d", "filters": 8, "embedding": {"dim": 8}}},
              "train": {"epochs": 2, "batch_size": 16}, "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return ds.train(config, progress=False).dir


def test_input_chooses_which_of_several_inputs_is_explained(text_and_number_run, tmp_path, deepscope_in_process):
    run = str(text_and_number_run)
    for chosen, picture in (("review", "integrated_gradients.html"), ("*", "integrated_gradients.png"),
                            ("stars", "integrated_gradients.png")):  # a table column: with the table's others
        out = tmp_path / chosen.replace("*", "table")
        result = deepscope_in_process("explain", run, "--split", "test", "--n", "8", "--input", chosen,
                                      "--method", "integrated_gradients", "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert (out / picture).stat().st_size > 0
    wrong = deepscope_in_process("explain", run, "--split", "test", "--input", "rating")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "--input 'rating': this model reads review, stars" in wrong.stderr
