"""The run directory: the artefact every command reads and writes.

    runs/mnist-20261123-214500/
      config.yaml        the fully resolved config
      env.json           versions, hardware, seed
      metrics.jsonl      one line per epoch, then one per final evaluation ({"split": "test", ...})
      samples.jsonl      a language model's: a few texts it wrote after each epoch ({"epoch": 1, "samples": [...]})
      checkpoints/       last.safetensors (resume), best.safetensors (best weights)
      model/             weights.safetensors + model.json (architecture, fitted features, versions)
      .lock              held by the process that trains in it (`RunDir.lock`), with its PID

A process that trains in a run folder holds its lock from before its first write to after its last, so two
`--resume` of one run cannot interleave; readers (runs, report, the dashboard) need no lock.
"""

from __future__ import annotations

import itertools
import os
import platform
import re
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from deepscope.io import TEMP_PREFIX, TEMP_SUFFIX, read_lines, write_json
from deepscope.track.lock import FolderLock

MODEL_DIR, WEIGHTS_FILE, MODEL_FILE = "model", "weights.safetensors", "model.json"  # written by models/saving.py
# `deepscope.io.atomic_write`'s temporary files, `.NAME.RANDOM.tmp` (RANDOM: mkstemp's 8 characters); nothing else
TEMP_FILE = re.compile(rf"{re.escape(TEMP_PREFIX)}.+\.[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}", re.IGNORECASE)
TEMP_FOLDERS = (".", "checkpoints", MODEL_DIR)  # where a run writes atomically
STALE_TEMP_SECONDS = 10.0  # a report or JSON file is written in well under a second: untouched this long, no live write


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
    samples = property(lambda self: self.path / "samples.jsonl")  # a language model's texts, epoch by epoch
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.path / "checkpoints" / "last.safetensors")
    best_checkpoint = property(lambda self: self.path / "checkpoints" / "best.safetensors")
    model_dir = property(lambda self: self.path / MODEL_DIR)
    weights = property(lambda self: self.path / MODEL_DIR / WEIGHTS_FILE)
    model_json = property(lambda self: self.path / MODEL_DIR / MODEL_FILE)
    diagnosis = property(lambda self: self.path / "diagnosis.json")

    def lock(self) -> FolderLock:
        """Hold this run for training (release it, or end the process); another holder is a clear UserError."""
        return FolderLock.acquire(self.path, "run {folder} is being trained by process {pid}; wait for it to "
                                             "finish or stop it, then try again")

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete the temporary files a killed writer left (`.NAME.RANDOM.tmp`, in the run folder, checkpoints/
        and model/) and return them. Call it holding the lock, so that no training process owns one; a file
        touched in the last STALE_TEMP_SECONDS is kept, as it may be a live write by a command that does not
        train (`deepscope report` writing report.html)."""
        removed, cutoff = [], time.time() - STALE_TEMP_SECONDS
        for folder in TEMP_FOLDERS:
            for path in _temp_files(self.path / folder):
                status = path.lstat()
                if stat.S_ISREG(status.st_mode) and status.st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    def read_metrics(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """(per-epoch rows, one per epoch in order, final evaluations by split)."""
        rows = read_lines(self.metrics)
        epochs = one_row_per_epoch([r for r in rows if "split" not in r])
        finals = {str(r["split"]): {k: v for k, v in r.items() if k != "split"} for r in rows if "split" in r}
        return epochs, finals


def one_row_per_epoch(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-epoch rows with an epoch logged twice kept once, the last line winning (a resume logs again what a
    killed run had logged past its checkpoint), ordered by epoch; rows without a whole epoch number are dropped."""
    latest = {row["epoch"]: row for row in rows if isinstance(row.get("epoch"), int)
              and not isinstance(row.get("epoch"), bool)}
    return [latest[epoch] for epoch in sorted(latest)]


def _temp_files(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in os.listdir(folder) if TEMP_FILE.fullmatch(name)]
    except OSError:  # no such folder (yet), or not a folder
        return []


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
