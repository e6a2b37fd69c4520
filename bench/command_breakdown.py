"""Claim: the whole `deepscope train examples/mnist.yaml` command, start to exit, takes <= 2x its training time.

Each run is a fresh process, as a user types it, in a fresh folder (so `runs/` and the run store start empty).
The command's phases come from its own marks (DEEPSCOPE_PROFILE=PATH: `deepscope.run.phases`, placed at the
phase boundaries of `deepscope.run.train`); the training time is the epochs' `time` in the run's metrics.jsonl
(the loop alone, as bench/mnist_time_to_accuracy.py measures it); the interpreter's own start is measured apart
(`python -c pass`). Medians over the runs; the machine's load makes single runs noisy.

    DEEPSCOPE_DATA=../shared/data python bench/command_breakdown.py [--runs 3] [--config examples/mnist.yaml]
        [--imports 15]     # also the slowest imports of the command line (python -X importtime)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import COMMAND_TARGET, machine  # noqa: E402

from deepscope.io import write_text  # noqa: E402

# the marks `deepscope.run.train` leaves, in order, and what the time up to each is spent on
PHASES = {
    "imports": "interpreter start, imports, command line",
    "data": "data loading (prepare_data)",
    "model": "resolved config, model build, optimizer check, run folder",
    "callbacks": "trainer and callbacks (diagnostics' data profile)",
    "fit": "fit (training epochs + fit start/end)",
    "evaluation": "model saved, val/test evaluation (kept for calibration)",
    "diagnostics": "diagnostics' finish (calibration, probes, judges)",
    "report": "report.html",
    "store": "run store and run folder finished",
}


def run_once(config: Path, overrides: list[str]) -> dict[str, float]:
    """One `deepscope train CONFIG` in a fresh folder: its wall time, training time and phase durations."""
    with tempfile.TemporaryDirectory(prefix="breakdown-") as folder:
        profile = Path(folder) / "phases.json"
        env = {**os.environ, "DEEPSCOPE_PROFILE": str(profile)}
        command = [*deepscope_command(), "train", str(config), *overrides]
        launched, started = time.time(), time.perf_counter()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        wall, ended = time.perf_counter() - started, time.time()
        if done.returncode:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        marks = json.loads(profile.read_text())["marks"]
        metrics = next(Path(folder, "runs").glob("*/metrics.jsonl"))
        epochs = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        training = sum(e["time"] for e in epochs if "epoch" in e and "time" in e)
    result, previous = {"whole": wall, "training": training}, launched
    for phase, at in marks:
        result[phase] = at - previous
        previous = at
    result["exit"] = ended - previous  # printing the metrics, interpreter shutdown
    return result


def deepscope_command() -> list[str]:
    """The `deepscope` script installed beside this interpreter (what a user types), else `python -m`."""
    script = Path(sys.executable).parent / "deepscope"
    return [str(script)] if script.exists() else [sys.executable, "-m", "deepscope.cli"]


# A plain PyTorch script doing the same training, start to exit, run beside each command: what any PyTorch program
# pays (the interpreter, `import torch`, reading MNIST, the first optimizer, which imports torch._dynamo)
BARE_SCRIPT = """
import sys, time
sys.path.insert(0, {bench!r})
started = time.perf_counter()
import torch
imported = time.perf_counter()
torch.optim.Adam(torch.nn.Linear(1, 1).parameters())  # torch imports torch._dynamo for its first optimizer
optimizer = time.perf_counter()
from common import mnist_tensors
from mnist_time_to_accuracy import reference_run
print(imported - started, optimizer - imported, reference_run(mnist_tensors(), seed=0)["seconds"])
"""


def bare_script() -> dict[str, float]:
    """The hand-written loop as a whole script in a fresh process: wall time, its training time, and the time
    `import torch` and the first optimizer take in it."""
    code = BARE_SCRIPT.format(bench=str(Path(__file__).parent))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    torch_import, first_optimizer, training = map(float, done.stdout.split())
    return {"whole": wall, "training": training, "torch": torch_import + first_optimizer}


def interpreter_start(runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def slowest_imports(count: int) -> list[tuple[float, str]]:
    """The `count` imports with the largest cumulative time when the command line and `deepscope.run.train`
    load (what `deepscope train` imports before it reads the config)."""
    code = "import deepscope.cli.main as m; m.register(); import deepscope.run.train"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            rows.append((int(cumulative) / 1e6, name.rstrip()))
    top = sorted(rows, reverse=True)[:count]
    return [(seconds, name) for seconds, name in top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", type=Path, default=Path(__file__).parents[1] / "examples" / "mnist.yaml")
    parser.add_argument("--imports", type=int, default=0, help="also list the N slowest imports")
    parser.add_argument("--json", type=Path, help="also write every run's phases (seconds) to this file")
    parser.add_argument("overrides", nargs="*", help="dotted overrides passed to the command (for quick checks)")
    args = parser.parse_args()
    print(f"# `deepscope train {args.config.name}` start to exit, {args.runs} fresh processes; {machine()}")
    runs, bare = [], []
    for i in range(args.runs):  # interleaved, so both see the same machine load
        runs.append(run_once(args.config.resolve(), args.overrides))
        bare.append(bare_script())
        print(f"run {i + 1}: whole {runs[-1]['whole']:.2f} s, training {runs[-1]['training']:.2f} s; the plain "
              f"script: whole {bare[-1]['whole']:.2f} s, training {bare[-1]['training']:.2f} s", flush=True)
    if args.json:
        write_text(args.json, json.dumps(runs, indent=1))
    median = {key: statistics.median(r[key] for r in runs if key in r) for key in runs[0]}
    python = interpreter_start()
    print(f"\n{'phase':<58} {'median s':>9} {'share':>6}")
    for phase in [*PHASES, "exit"]:
        if phase in median:
            label = PHASES.get(phase, "metrics printed, interpreter shutdown")
            print(f"{label:<58} {median[phase]:9.2f} {median[phase] / median['whole']:6.1%}")
            if phase == "imports":
                print(f"{'  of which the bare interpreter (python -c pass)':<58} {python:9.2f}")
            if phase == "fit":
                outside = statistics.median(r["fit"] - r["training"] for r in runs)
                print(f"{'  of which outside the epochs (setup, callbacks)':<58} {outside:9.2f}")
    print(f"{'whole command':<58} {median['whole']:9.2f}")
    print(f"{'training (epochs time in metrics.jsonl)':<58} {median['training']:9.2f}")
    ratios = [r["whole"] / r["training"] for r in runs]
    ratio = statistics.median(ratios)
    print(f"\nwhole / training: {ratio:.2f}x (median; runs {', '.join(f'{r:.2f}' for r in ratios)}), "
          f"target <= {COMMAND_TARGET:.1f}x: {'met' if ratio <= COMMAND_TARGET else 'NOT met'}")
    floor = statistics.median(b["whole"] / b["training"] for b in bare)
    torch_start = statistics.median(b["torch"] for b in bare)
    own = statistics.median(r["whole"] - r["training"] - b["torch"] for r, b in zip(runs, bare))
    print(f"the plain PyTorch script of the same training (bench/mnist_time_to_accuracy.py's loop), start to exit: "
          f"whole / training {floor:.2f}x; `import torch` + torch's first optimizer (it imports torch._dynamo) "
          f"{torch_start:.2f} s of every PyTorch program's start")
    print(f"deepscope's own time outside training (whole - training - torch's start): {own:.2f} s, "
          f"{own / median['training']:.2f}x the training time")
    if args.imports:
        print(f"\nslowest imports (cumulative, python -X importtime), top {args.imports}:")
        for seconds, name in slowest_imports(args.imports):
            print(f"  {seconds:6.3f} s  {name}")


if __name__ == "__main__":
    main()
