"""The run directory: the artefact every command reads and writes.

    runs/mnist-20261123-214500/
      config.yaml        the fully resolved config
      env.json           versions, hardware, seed
      metrics.jsonl      one line per epoch, then one per final evaluation ({"split": "test", ...})
      checkpoints/       last.safetensors (resume), best.safetensors (best weights)
      model/             weights.safetensors + model.json (architecture, fitted features, versions)
"""

from __future__ import annotations

import itertools
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from deepscope.io import read_lines, write_json

MODEL_DIR, WEIGHTS_FILE, MODEL_FILE = "model", "weights.safetensors", "model.json"  # written by models/saving.py


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, root: str | Path, name: str) -> RunDir:
        """A new, empty run folder `root/name-YYYYmmdd-HHMMSS` (with -2, -3… if taken)."""
        base = Path(root) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        base.parent.mkdir(parents=True, exist_ok=True)
        for n in itertools.count(1):
            path = base if n == 1 else base.with_name(f"{base.name}-{n}")
            try:
                path.mkdir()  # atomic: two runs started in the same second cannot both claim one name
                return cls(path)
            except FileExistsError:
                continue
        raise AssertionError("unreachable")

    config = property(lambda self: self.path / "config.yaml")
    env = property(lambda self: self.path / "env.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.path / "checkpoints" / "last.safetensors")
    best_checkpoint = property(lambda self: self.path / "checkpoints" / "best.safetensors")
    model_dir = property(lambda self: self.path / MODEL_DIR)
    weights = property(lambda self: self.path / MODEL_DIR / WEIGHTS_FILE)
    model_json = property(lambda self: self.path / MODEL_DIR / MODEL_FILE)
    diagnosis = property(lambda self: self.path / "diagnosis.json")

    def read_metrics(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """(per-epoch rows, final evaluations by split)."""
        rows = read_lines(self.metrics)
        epochs = [r for r in rows if "split" not in r]
        finals = {r["split"]: {k: v for k, v in r.items() if k != "split"} for r in rows if "split" in r}
        return epochs, finals


def environment(seed: int, device: torch.device) -> dict[str, Any]:
    """What made the run: versions, hardware and seed."""
    from deepscope import __version__

    hardware: dict[str, Any] = {"platform": platform.platform(), "processor": platform.machine(),
                                "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                                "device": str(device)}
    if device.type == "cuda":
        hardware["gpu"] = torch.cuda.get_device_name(device)
    return {
        "versions": {"deepscope": __version__, "python": sys.version.split()[0], "torch": torch.__version__},
        "hardware": hardware,
        "seed": seed,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": sys.argv,
    }


def write_environment(run: RunDir, seed: int, device: torch.device) -> None:
    write_json(run.env, environment(seed, device))
