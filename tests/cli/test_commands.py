"""The commands a new user types, run as subprocesses exactly as from a shell."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def test_datasets_lists_builtins_and_where_they_are(tmp_path, data_dir, deepscope):
    result = deepscope("datasets", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for name in ("digits", "mnist", "breastmnist"):
        assert name in result.stdout
    assert str(data_dir / "mnist") in result.stdout.replace("\n", "")


def test_evaluate_reproduces_the_test_metrics(tmp_path, trained_digits_run, deepscope):
    result = deepscope("evaluate", str(trained_digits_run), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    saved = json.loads((trained_digits_run / "evaluation-test.json").read_text())
    final = [json.loads(line) for line in (trained_digits_run / "metrics.jsonl").read_text().splitlines()]
    test = next(row for row in final if row.get("split") == "test")
    assert saved["accuracy"] == test["accuracy"]
    assert f"{test['accuracy']:.4f}" in result.stdout


def test_predict_a_folder_writes_probabilities(tmp_path, trained_digits_run, deepscope):
    from sklearn.datasets import load_digits

    digits = load_digits()
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5):
        Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "predictions.csv"
    result = deepscope("predict", str(trained_digits_run), str(folder), "--output", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 5
    assert {f"p({d})" for d in range(10)} <= set(rows[0])
    assert sum(float(rows[0][f"p({d})"]) for d in range(10)) == pytest.approx(1.0, abs=1e-4)
    correct = sum(int(row["label"]) == digits.target[int(row["input"].split("/")[-1][0])] for row in rows)
    assert correct >= 4


def test_demo_trains_and_reports(tmp_path, deepscope):
    # its time (under a minute on 2 cores) is measured by `time deepscope demo`, not asserted in a test
    result = deepscope("demo", "--root", str(tmp_path / "runs"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "run directory:" in result.stdout
    accuracy_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("accuracy"))
    accuracy = float(accuracy_line.split()[-1])
    assert accuracy > 0.95
    report = next(line for line in result.stdout.splitlines() if line.startswith("report: ")).split()[1]
    assert Path(report).is_file() and Path(report).parent.parent == tmp_path / "runs"
