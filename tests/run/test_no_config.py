"""Training from data with no YAML: `deepscope train data.csv --target price`, `deepscope train images/`; the run's
config.yaml, trained again, gives the same model and metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import deepscope as ds
from deepscope.errors import ConfigError

QUICK = ["train.epochs=3", "diagnose=false", "run.report=false"]  # a short run: what is inferred is the point


def write_houses(path: Path, rows: int = 80) -> Path:
    """A small table like a house-price CSV: numbers, a category, a yes/no column, and the price to predict."""
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["area", "rooms", "district", "garden", "price"])
        for _ in range(rows):
            area, rooms = rng.uniform(40, 160), int(rng.integers(1, 6))
            district, garden = rng.choice(["north", "south", "centre"]), rng.choice(["yes", "no"])
            price = 2000 * area + 15000 * rooms + (40000 if district == "centre" else 0) + rng.normal(0, 5000)
            writer.writerow([f"{area:.1f}", rooms, district, garden, f"{price:.0f}"])
    return path


def write_shapes(folder: Path, per_class: int = 12) -> Path:
    """A folder of 12x12 greyscale PNGs, one sub-folder per class: bright squares at the top or at the bottom."""
    rng = np.random.default_rng(0)
    for label, rows in (("top", slice(0, 6)), ("bottom", slice(6, 12))):
        (folder / label).mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 60, (12, 12)).astype(np.uint8)
            image[rows] += 150
            Image.fromarray(image).save(folder / label / f"{i}.png")
    return folder


def saved_config(run_dir: Path) -> dict:
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def test_train_a_csv_with_target_and_no_config(tmp_path, deepscope_in_process):
    table = write_houses(tmp_path / "houses.csv")
    result = deepscope_in_process("train", str(table), "--target", "price", *QUICK, f"run.root={tmp_path / 'runs'}",
                                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1].removeprefix("run directory: "))
    config = saved_config(run_dir)
    assert config["data"]["outputs"] == {"price": {"type": "number"}}
    assert {name: spec["type"] for name, spec in config["data"]["inputs"].items()} == {  # rooms: 5 whole numbers
        "area": "number", "rooms": "category", "district": "category", "garden": "binary"}
    assert config["model"]["encoder"]["name"] == "tabular"


def test_train_an_image_folder_with_no_config(tmp_path):
    folder = write_shapes(tmp_path / "shapes")
    run = ds.train(folder, QUICK + [f"run.root={tmp_path / 'runs'}"], progress=False)
    config = saved_config(run.dir)
    assert config["data"]["inputs"] == {"image": {"type": "image"}}
    assert config["data"]["outputs"] == {"label": {"type": "category"}}
    assert config["model"]["encoder"]["name"] == "cnn"
    assert run.metrics["test"]["accuracy"] >= 0.0  # evaluated; the saved config is retrained below


@pytest.mark.parametrize("make", ["table", "images"])
def test_the_saved_config_trains_the_same_model_again(tmp_path, make):
    source = write_houses(tmp_path / "houses.csv") if make == "table" else write_shapes(tmp_path / "shapes")
    target = "price" if make == "table" else None
    first = ds.train(source, QUICK + [f"run.root={tmp_path / 'a'}"], target=target, progress=False)
    again = ds.train(first.dir / "config.yaml", [f"run.root={tmp_path / 'b'}"], progress=False)
    assert again.config.data.inputs == first.config.data.inputs
    assert again.config.data.outputs == first.config.data.outputs
    assert again.config.model == first.config.model
    assert {n: f.type for n, f in again.data.features.items()} == {n: f.type for n, f in first.data.features.items()}
    assert [type(e).__name__ for e in again.model.encoders.values()] == \
        [type(e).__name__ for e in first.model.encoders.values()]
    assert again.metrics == first.metrics  # same seed, same data, same recipe: the same numbers
    assert saved_config(again.dir) == {**saved_config(first.dir), "run": saved_config(again.dir)["run"]}


def test_a_table_without_target_asks_for_one_and_lists_the_columns(tmp_path, deepscope_in_process):
    table = write_houses(tmp_path / "houses.csv", rows=10)
    result = deepscope_in_process("train", str(table), cwd=tmp_path)
    assert result.returncode == 2
    assert "--target COLUMN" in result.stderr and "area, rooms, district, garden, price" in result.stderr
    assert "Traceback" not in result.stderr


def test_target_with_a_yaml_config_says_where_outputs_go(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data": {"source": "digits"}}))
    with pytest.raises(ConfigError, match=r"data\.outputs"):
        ds.train(config, target="label", progress=False)


def test_a_missing_yaml_is_still_reported_as_a_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ds.train(tmp_path / "nowhere.yaml", progress=False)


def test_a_run_directory_is_not_taken_for_a_data_folder(tmp_path):
    run_dir = tmp_path / "runs" / "houses-1"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text("data: {source: digits}\n")
    with pytest.raises(ConfigError, match=r"run directory: continue it with --resume"):
        ds.train(run_dir, progress=False)
