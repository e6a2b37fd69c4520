"""Healthy configurations raise no warning: diagnostics that cry wolf would be ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

import deepscope as ds
from deepscope.cli.demo import DEMO_CONFIG
from deepscope.diagnose import at_least, load_diagnosis

EXAMPLES = Path(__file__).parents[2] / "examples"


def assert_healthy(run: ds.Run) -> None:
    serious = at_least(run.diagnosis, "warning")
    assert serious == [], [f"{f.code}: {f.title}" for f in serious]
    saved, record = load_diagnosis(run.dir / "diagnosis.json")
    assert [f.code for f in saved] == [f.code for f in run.diagnosis]
    assert record.samples and record.init["layers"], "the run was really measured"


def test_tabular_mlp_is_healthy(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)  # the example names its CSV relative to the repository
    assert_healthy(ds.train(EXAMPLES / "tabular.yaml", {"run.root": str(tmp_path)}, progress=False))


def test_digits_cnn_demo_is_healthy(tmp_path):
    assert_healthy(ds.train(DEMO_CONFIG, {"run.root": str(tmp_path)}, progress=False))


def test_digits_convolutional_layer_list_is_healthy(tmp_path):
    assert_healthy(ds.train(EXAMPLES / "digits-layers.yaml", {"run.root": str(tmp_path)}, progress=False))


@pytest.mark.slow
def test_mnist_cnn_is_healthy(tmp_path, data_dir):
    # the example as shipped (one epoch), with a validation split so the epoch-level detectors have data too
    run = ds.train(EXAMPLES / "mnist.yaml", {"run.root": str(tmp_path), "data.split.val": 0.1}, progress=False)
    assert run.metrics["test"]["accuracy"] > 0.98
    assert_healthy(run)


def test_a_one_cycle_schedule_annealing_to_zero_is_not_a_learning_rate_too_low(tmp_path):
    """One epoch of 12 steps: the only sampled step falls where one-cycle has annealed the rate to ~0; the
    updates there are tiny by design, and the configured rate is not to blame."""
    run = ds.train({"data": {"source": "digits"}, "model": {"encoder": "cnn"}, "train": {"epochs": 1},
                    "run": {"root": str(tmp_path), "report": False}}, progress=False)
    samples = load_diagnosis(run.dir / "diagnosis.json")[1].samples
    assert samples and all(s["lr"] < 0.1 * run.config.train.optimizer.lr for s in samples)  # the case at hand
    assert "lr_too_low" not in {f.code for f in run.diagnosis}
