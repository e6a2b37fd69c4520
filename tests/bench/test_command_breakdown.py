"""bench/command_breakdown.py on a small run: every phase of the command is timed, and the phases add up to the
whole command (they are consecutive intervals from its launch to its exit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"
EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.slow
def test_a_small_run_is_broken_down_into_phases_that_add_up(tmp_path):
    out = tmp_path / "phases.json"
    done = subprocess.run([sys.executable, str(BENCH / "command_breakdown.py"), "--runs", "1", "--json", str(out),
                           "--config", str(EXAMPLES / "digits-layers.yaml"), "train.epochs=1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (run,) = json.loads(out.read_text())
    phases = ["imports", "data", "model", "callbacks", "fit", "evaluation", "diagnostics", "report", "store", "exit"]
    assert all(run[p] >= 0 for p in phases)
    assert sum(run[p] for p in phases) == pytest.approx(run["whole"], abs=0.2)  # launch to exit, no gap
    assert 0 < run["training"] <= run["fit"]
    assert "whole / training" in done.stdout and "report.html" in done.stdout
