"""End to end on small real data: config -> run directory -> predictor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import deepscope as ds
from deepscope.config.loading import load_config

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_digits_run_directory_and_predictor(tmp_path):
    run = ds.train({"data": {"source": "digits"}, "train": {"epochs": 4, "batch_size": 64, "optimizer": {"lr": 0.01}}},
                   {"run.root": str(tmp_path)}, progress=False)
    assert run.metrics["test"]["accuracy"] > 0.9
    for name in ("config.yaml", "env.json", "metrics.jsonl", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors", "model/weights.safetensors", "model/model.json"):
        assert (run.dir / name).exists(), name
    assert load_config(run.dir / "config.yaml") == run.config  # the resolved config reloads identically
    env = json.loads((run.dir / "env.json").read_text())
    assert env["seed"] == 0 and env["versions"]["torch"]
    rows = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if "epoch" in r] == [1, 2, 3, 4]
    assert {r["split"] for r in rows if "split" in r} == {"val", "test"}

    predictor = ds.load(run.dir)
    images = run.data.raw.splits["test"]["image"]
    labels = run.data.raw.splits["test"]["label"]
    predictions = predictor.predict({"image": images})
    accuracy = np.mean([p["label"] == y for p, y in zip(predictions, labels)])
    assert accuracy == pytest.approx(run.metrics["test"]["accuracy"])
    assert sum(predictions[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)

    png = tmp_path / "digit.png"  # a file at a larger size is resized to the training size
    Image.fromarray((images[0] * 255 / 16).astype(np.uint8)).resize((32, 32), Image.NEAREST).save(png)
    assert predictor.predict(png)[0]["label"] in range(10)


def test_tabular_example_trains_and_predicts_from_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    run = ds.train(EXAMPLES / "tabular.yaml", {"run.root": str(tmp_path)}, progress=False)
    assert set(run.data.inputs) == {"age", "job", "hours_per_week", "smoker", "income"}
    assert run.data.inputs["smoker"].type == "binary" and run.data.inputs["job"].type == "category"
    assert run.metrics["test"]["accuracy"] > 0.75
    rows = ds.predict(run.dir, EXAMPLES / "data" / "customers.csv")
    assert len(rows) == 600 and rows[0]["risk"] in ("high", "low") and rows[0]["input"] == "row 1"


def test_layer_list_example(tmp_path, monkeypatch):
    config = yaml.safe_load((EXAMPLES / "digits-layers.yaml").read_text())
    run = ds.train(config, {"run.root": str(tmp_path), "train.epochs": 5}, progress=False)
    assert run.metrics["test"]["accuracy"] > 0.9
    assert "LayerListEncoder" in repr(type(run.model.encoders["image"]))


def test_every_example_config_is_valid():
    for path in EXAMPLES.glob("*.yaml"):
        load_config(path)


def test_training_releases_the_run_folder_lock_when_it_ends(tmp_path):
    from deepscope.track.lock import FolderLock

    config = {"data": {"source": "digits"}, "train": {"epochs": 1, "batch_size": 256},
              "diagnose": {"enabled": False}, "run": {"report": False}}
    run = ds.train(config, {"run.root": str(tmp_path)}, progress=False)
    FolderLock.acquire(run.dir).release()  # free again: this process may resume it, and so may any other
    again = ds.train(resume=run.dir, progress=False)  # in the same process, too
    assert again.dir == run.dir and (run.dir / ".lock").read_text() == ""  # no holder's PID left behind
