"""'Training loss still falling fast at the end' is an underfitting finding of a finished run: raised for a run
too short for its data, not for a converged one, not mid-run, and not when validation already turned."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import deepscope as ds
from deepscope.diagnose import Record
from deepscope.diagnose.detectors.underfitting import underfitting

# the wine table's train.loss for 10 steps (10 epochs of one batch) and for 20 epochs of 4 batches
TOO_SHORT = [1.166, 1.170, 0.987, 0.820, 0.660, 0.589, 0.540, 0.510, 0.485, 0.477]
CONVERGED = [1.155, 1.033, 0.825, 0.592, 0.451, 0.435, 0.389, 0.368, 0.357, 0.345,
             0.351, 0.334, 0.338, 0.346, 0.333, 0.326, 0.339, 0.370, 0.329, 0.352]


def record(train: list[float], val: list[float] | None = None, *, planned: int | None = None) -> Record:
    history = [{"epoch": i + 1, "train.loss": t, **({"val.loss": val[i]} if val else {})} for i, t in enumerate(train)]
    return Record(history=history, init={"loss": 1.124},
                  task={"epochs": planned or len(train), "steps_per_epoch": 1})


def falling_fast(found: list) -> list:
    return [f for f in found if f.code == "underfitting" and "still falling fast" in f.title]


def test_a_run_that_ends_while_the_loss_falls_fast_is_underfitting():
    [finding] = falling_fast(underfitting(record(TOO_SHORT)))
    assert finding.severity == "warning"
    assert finding.evidence["fall_in_last_epochs"] > 0.05 and finding.evidence["steps"] == 10
    assert "10 optimizer steps" in finding.title and "train.epochs" in finding.advice[0]


def test_a_converged_run_is_not():
    assert underfitting(record(CONVERGED)) == []


def test_mid_run_it_says_nothing_yet():
    assert underfitting(record(TOO_SHORT, planned=50)) == []


def test_a_run_of_a_few_epochs_is_not_judged_by_its_end():
    """In 5 epochs 'the last quarter' would be most of the run: a short healthy run falls fast throughout."""
    six_epochs = [1.166, 1.170, 0.987, 0.820, 0.660, 0.410]  # still falling fast, but every short run does
    assert falling_fast(underfitting(record(six_epochs))) == []


def test_validation_that_already_turned_is_overfitting_not_this():
    val = [1.1, 0.9, 0.7, 0.5, 0.45, 0.44, 0.50, 0.56, 0.61, 0.66]  # best at epoch 6, rising since
    assert falling_fast(underfitting(record(TOO_SHORT, val))) == []
    still_improving = [1.1, 1.0, 0.9, 0.8, 0.7, 0.62, 0.58, 0.55, 0.53, 0.52]
    assert falling_fast(underfitting(record(TOO_SHORT, still_improving)))


def write_measurements(path: Path, rows: int = 150) -> Path:
    """A table shaped like the UCI wine data: numeric measurements, three classes, a few hundred rows at most."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1.5, (3, 6))
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"m{j}" for j in range(6)] + ["cultivar"])
        for i in range(rows):
            label = i % 3
            writer.writerow([f"{v:.3f}" for v in centres[label] + rng.normal(0, 1, 6)] + [f"class_{label}"])
    return path


def test_real_runs_too_short_and_converged(tmp_path):
    table = write_measurements(tmp_path / "wine-like.csv")
    options = [f"run.root={tmp_path}", "run.report=false"]
    short = ds.train(table, options + ["train.epochs=10", "train.batch_size=128"], target="cultivar", progress=False)
    assert falling_fast(short.diagnosis)
    converged = ds.train(table, options, target="cultivar", progress=False)  # the auto length: >= 1,000 steps
    assert not [f for f in converged.diagnosis if f.code == "underfitting"]
    assert converged.metrics["test"]["accuracy"] >= short.metrics["test"]["accuracy"]
