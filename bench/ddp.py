"""Two processes (DDP through torchrun, gloo) against one, on the same config, global batch and seed.

    DEEPSCOPE_DATA=../shared/data python bench/ddp.py [--config examples/mnist.yaml] [--runs 3]

Each run is the whole `deepscope train CONFIG` command, as a user types it, with and without `--devices 2`
(one process uses every core's threads; two split them, as `--devices` does). Printed: the training throughput
(training examples x epochs over the epochs' summed `time`, from metrics.jsonl), the whole command's seconds, and
the final validation metrics of each, whose agreement is the point of data parallelism with a global batch.
On one small CPU machine two processes buy no speed (they share the same cores); the row shows what DDP costs
there and that it gives the same model. Its speed is for many GPUs or many machines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402


def train(config: str, root: Path, devices: int, overrides: tuple[str, ...] = ()) -> dict:
    """One whole command; its throughput, seconds and final validation metrics."""
    command = [sys.executable, "-m", "deepscope", "train", config, f"run.root={root}", "run.report=false",
               "diagnose=false", *overrides, *(["--devices", str(devices)] if devices > 1 else [])]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seconds = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    run = Path(result.stdout.strip().splitlines()[-1].removeprefix("run directory: "))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    epochs = [row for row in rows if "epoch" in row]
    val = next(row for split in ("val", "test") for row in rows if row.get("split") == split)  # mnist: no val
    sizes = re.search(r"train ([\d,]+)", result.stderr)  # the command's own line: "data ...: train 54,000, ..."
    n_train = int(sizes.group(1).replace(",", "")) if sizes else None
    return {"seconds": seconds, "train_seconds": sum(row["time"] for row in epochs), "epochs": len(epochs),
            "val": val, "n_train": n_train,
            "throughput": n_train * len(epochs) / sum(row["time"] for row in epochs) if n_train else None}


def compare(config: str, overrides: tuple[str, ...] = ()) -> dict:
    """One run with 1 process and one with 2: {1: train(...), 2: train(...)} (bench/suite.py's `ddp` job)."""
    with tempfile.TemporaryDirectory() as folder:
        return {devices: train(config, Path(folder) / str(devices), devices, overrides) for devices in (1, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="examples/mnist.yaml")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    results: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(args.runs):
        for devices, result in compare(args.config).items():
            results[devices].append(result)
    table = []
    for devices, runs in results.items():
        throughput = statistics.median(r["throughput"] for r in runs) if runs[0]["throughput"] else None
        table.append((devices, throughput, statistics.median(r["seconds"] for r in runs), runs[-1]["val"]))
    print(f"{'processes':>9}  {'train ex/s':>10}  {'command s':>9}  val metrics (last run)")
    for devices, throughput, seconds, val in table:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k in ("loss", "accuracy"))
        shown = f"{throughput:10,.0f}" if throughput else f"{'?':>10}"
        print(f"{devices:>9}  {shown}  {seconds:9.1f}  {metrics}")
    one, two = table
    if one[1] and two[1]:
        print(f"2 processes / 1 process, training throughput: {two[1] / one[1]:.2f}x (median of {args.runs})")


if __name__ == "__main__":
    main()
