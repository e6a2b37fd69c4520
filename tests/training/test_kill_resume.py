"""SIGKILL a training process mid-run, `--resume` it, and get the same final weights as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

CONFIG = """
data: {source: digits}
model: {encoder: {name: cnn, dropout: 0.2}}
train: {epochs: 12, batch_size: 32, checkpoint_every: 7, seed: 5}
run: {root: runs, name: %s}
"""


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deepscope.cli", "train", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_dir(tmp_path: Path, name: str) -> Path:
    found = sorted((tmp_path / "runs").glob(f"{name}-*"))
    return found[0] if found else tmp_path / "runs" / "missing"


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    (tmp_path / "killed.yaml").write_text(CONFIG % "killed")
    (tmp_path / "full.yaml").write_text(CONFIG % "full")

    process = start(tmp_path, "killed.yaml")
    deadline = time.monotonic() + 120
    while not (run_dir(tmp_path, "killed") / "checkpoints" / "last.safetensors").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    time.sleep(0.3)  # let it train past the first checkpoint, then kill it without warning
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = run_dir(tmp_path, "killed")
    assert process.returncode == -signal.SIGKILL
    assert not (killed / "model" / "weights.safetensors").exists(), "the run finished before it was killed"

    resumed = subprocess.run([sys.executable, "-m", "deepscope.cli", "train", "--resume", str(killed)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    full = subprocess.run([sys.executable, "-m", "deepscope.cli", "train", "full.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr

    a = load_file(killed / "model" / "weights.safetensors")
    b = load_file(run_dir(tmp_path, "full") / "model" / "weights.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    epochs = [line for line in (killed / "metrics.jsonl").read_text().splitlines() if '"split"' not in line]
    assert len(epochs) == 12  # every epoch logged once, none lost or repeated
