"""`train.epochs` left out: the run chooses enough epochs for its data, says so once, and config.yaml keeps the number
used; explicit epochs win; every example and benchmark config sets its own."""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.training.length import MIN_STEPS, training_length

ROOT = Path(__file__).parents[2]
FAST = ["diagnose=false", "run.report=false"]


def write_small_table(path: Path, rows: int = 40) -> Path:
    """A few dozen rows like a small lab table: two measurements and the class they separate."""
    rng = np.random.default_rng(1)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["length", "width", "species"])
        for i in range(rows):
            species = ("setosa", "virginica")[i % 2]
            centre = 1.0 if species == "virginica" else -1.0
            writer.writerow([f"{centre + rng.normal(0, 0.6):.3f}", f"{centre + rng.normal(0, 0.6):.3f}", species])
    return path


def test_auto_epochs_are_chosen_stated_once_and_saved(tmp_path, caplog):
    table = write_small_table(tmp_path / "plants.csv")
    with caplog.at_level(logging.INFO, logger="deepscope"):
        run = ds.train(table, FAST + [f"run.root={tmp_path}"], target="species", progress=False)
    rows = len(run.data.splits["train"])
    expected = training_length(rows)
    assert expected.epochs * math.ceil(rows / expected.batch_size) >= MIN_STEPS
    assert len(run.history) <= expected.epochs  # early stopping may end it sooner
    notes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epochs: ")]
    assert notes == [f"{expected.note}; early stopping after {expected.patience} epochs without improvement"]
    saved = yaml.safe_load((run.dir / "config.yaml").read_text())["train"]
    assert (saved["epochs"], saved["batch_size"]) == (expected.epochs, expected.batch_size)
    assert saved["early_stopping"]["patience"] == expected.patience


def test_auto_epochs_keep_the_configs_own_early_stopping(tmp_path):
    table = write_small_table(tmp_path / "plants.csv")
    run = ds.train(table, FAST + [f"run.root={tmp_path}", "train.early_stopping.patience=3"], target="species",
                   progress=False)
    assert run.config.train.early_stopping.patience == 3
    assert run.config.train.epochs == training_length(len(run.data.splits["train"])).epochs


def test_the_saved_auto_config_trains_the_same_model_again(tmp_path, caplog):
    table = write_small_table(tmp_path / "plants.csv")
    first = ds.train(table, FAST + [f"run.root={tmp_path / 'a'}"], target="species", progress=False)
    with caplog.at_level(logging.INFO, logger="deepscope"):
        again = ds.train(first.dir / "config.yaml", [f"run.root={tmp_path / 'b'}"], progress=False)
    assert not [r for r in caplog.records if "(auto:" in r.getMessage()]  # nothing left to choose
    assert again.metrics == first.metrics and len(again.history) == len(first.history)


def test_explicit_epochs_win(tmp_path, caplog):
    table = write_small_table(tmp_path / "plants.csv")
    with caplog.at_level(logging.INFO, logger="deepscope"):
        run = ds.train(table, FAST + [f"run.root={tmp_path}", "train.epochs=3", "train.batch_size=16"],
                       target="species", progress=False)
    assert len(run.history) == 3 and run.config.train.batch_size == 16
    assert not [r for r in caplog.records if "(auto:" in r.getMessage()]


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_sets_its_own_epochs_and_batch_size(example):
    """The examples' numbers (README Results, bench/) were measured with these settings: the auto length must not
    change them."""
    train = load_config(example).train
    assert train.epochs is not None and train.batch_size is not None


def test_benchmarks_set_their_epochs():
    """Every bench/ script trains an example config (above) or passes epochs= to the Trainer itself."""
    for script in sorted((ROOT / "bench").glob("*.py")):
        text = script.read_text()
        trains = "Trainer(" in text or "ds.train(" in text or "learning_curve(" in text
        assert not trains or "epochs" in text or "examples" in text, script.name
