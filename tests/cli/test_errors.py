"""Every user mistake: one clear message naming the place and the fix, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).parents[2]


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def write_config(folder: Path, text: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def test_mistyped_config_key(tmp_path, deepscope):
    config = write_config(tmp_path, "data: {source: digits}\ntrain: {epocs: 3}\n")
    assert_user_error(deepscope("train", str(config), cwd=tmp_path), "train.epocs", "unknown key", "epochs")


def test_mistyped_override(tmp_path, deepscope):
    config = write_config(tmp_path, "data: {source: digits}\n")
    assert_user_error(deepscope("train", str(config), "train.optimizer.name=adamm", cwd=tmp_path),
                      "unknown optimizer 'adamm'", "adam")


def test_missing_dataset_path(tmp_path, deepscope):
    config = write_config(tmp_path, "data: {source: ./no/such/folder, outputs: {label: category}}\n")
    assert_user_error(deepscope("train", str(config), cwd=tmp_path), "data.source", "no/such/folder")


def test_csv_without_the_target_column(tmp_path, deepscope):
    (tmp_path / "table.csv").write_text("a,b\n1,x\n2,y\n3,x\n")
    config = write_config(tmp_path, "data: {source: table.csv, outputs: {price: number}}\n")
    assert_user_error(deepscope("train", str(config), cwd=tmp_path), "data.outputs", "'price'", "a, b")


def test_corrupt_image_in_a_folder_is_skipped_and_listed(tmp_path, deepscope):
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 256, (12, 12), dtype=np.uint8) // (2 if label == "cat" else 1)
            Image.fromarray(pixels).save(tmp_path / "images" / label / f"{i}.png")
    (tmp_path / "images" / "dog" / "broken.png").write_bytes(b"not a png at all")
    config = write_config(tmp_path, "data: {source: images}\ntrain: {epochs: 1}\n")
    result = deepscope("train", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "broken.png" in result.stderr and "skipped" in result.stderr


def test_prediction_input_of_the_wrong_shape(tmp_path, trained_digits_run, deepscope):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("x,y\n1,2\n")
    assert_user_error(deepscope("predict", str(trained_digits_run), str(wrong), cwd=tmp_path),
                      "reads", "image")
    from deepscope import load
    from deepscope.errors import DataError

    with pytest.raises(DataError, match=r"expected images of shape .*\(8, 8, 1\)"):
        load(trained_digits_run).predict({"image": np.zeros((2, 28, 28))})


def test_unreadable_prediction_image(tmp_path, trained_digits_run, deepscope):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    assert_user_error(deepscope("predict", str(trained_digits_run), str(bad), cwd=tmp_path),
                      "cannot read image", "bad.png")


def test_resume_of_something_that_is_not_a_run(tmp_path, deepscope):
    assert_user_error(deepscope("train", "--resume", str(tmp_path), cwd=tmp_path), "not a run directory")


def test_missing_argument_and_unknown_option_are_usage_errors(deepscope, tmp_path):
    for args in (("evaluate",), ("train", "--bogus")):
        result = deepscope(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "Error:" in result.stderr


def test_a_bug_keeps_its_traceback(monkeypatch):
    """Not a user error: the handler re-raises it as it is (it once crashed looking up click's Exit)."""
    import sys
    from unittest import mock

    from deepscope.cli import main as cli

    monkeypatch.setattr(cli, "app", mock.MagicMock(side_effect=RuntimeError("a bug")))
    monkeypatch.setattr(sys, "argv", ["deepscope"])
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main()


def test_a_device_this_machine_lacks_is_refused_before_a_run_folder_exists(tmp_path, deepscope_in_process):
    """The device is resolved before the run folder is made: a refused run leaves no half-made folder behind."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    config = write_config(tmp_path, "data: {source: digits}\ntrain: {epochs: 1, device: cuda}\n")
    result = deepscope_in_process("train", str(config), cwd=tmp_path)
    assert_user_error(result, "train.device", "no CUDA GPU", "auto or cpu")
    assert not (tmp_path / "runs").exists()
