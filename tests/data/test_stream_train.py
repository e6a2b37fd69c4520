"""Training on a streamed image folder: a whole run (model, metrics, report) from data never held in memory."""

from __future__ import annotations

import json

import pytest

import deepscope as ds
from tests.cli.conftest import run_deepscope
from tests.data.test_stream import image_folder

CONFIG = "data: {source: images, stream: true, augment: {shift: 1}}\ntrain: {epochs: 2, batch_size: 8}\n"


def test_train_on_a_streamed_folder_finishes_a_run(tmp_path):
    image_folder(tmp_path / "images", classes=2, per_class=24)
    config = {"data": {"source": str(tmp_path / "images"), "stream": True, "augment": {"shift": 1}},
              "train": {"epochs": 2, "batch_size": 8}, "run": {"root": str(tmp_path / "runs")}}
    run = ds.train(config, progress=False)
    assert type(run.data.splits["train"]).__name__ == "StreamData"
    assert (run.dir / "model" / "weights.safetensors").is_file() and (run.dir / "report.html").is_file()
    assert run.metrics["test"]["n"] == 10  # 48 files: test 10, val 5, train 33; every test file evaluated
    assert "could not be" not in (run.dir / "report.html").read_text()
    assert len(run.history) == 2 and run.diagnosis is not None
    assert ds.evaluate(run.dir, split="test")["n"] == 10  # a finished run's data streamed again, not sampled


@pytest.mark.slow
def test_the_train_command_on_a_streamed_folder(tmp_path):
    image_folder(tmp_path / "images", classes=2, per_class=24)
    (tmp_path / "config.yaml").write_text(CONFIG + "run: {root: runs, name: streamed}\n")
    done = run_deepscope("train", "config.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "runs").glob("streamed*")
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert next(line for line in lines if line.get("split") == "test")["n"] == 10
    assert (run / "model" / "model.json").is_file() and (run / "report.html").is_file()
