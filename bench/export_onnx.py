"""Claim (issue 15): an ONNX export predicts what the PyTorch model predicts (max |difference| <= 1e-4 over 1,000
test inputs) for an image, a table and a text model, and this is what onnxruntime costs or saves against PyTorch
on the CPU at batch 1 and batch 64.

Models: the MNIST CNN (examples/mnist.yaml), the UCI Adult table model (examples/adult.yaml) and the SST-2
BiLSTM (examples/sst2.yaml), each trained here (--quick: a subset or fewer epochs, minutes on 2 cores) or given
with --mnist/--adult/--sst2 RUN. Each is exported with `deepscope.export` (the run's test split checked as
`deepscope export --check 1000` checks it; SST-2's test split holds 872 sentences, so its text model is also
checked on 1,000 training sentences). Latency: one forward pass on encoded inputs, PyTorch
(`model.predict` under inference mode) against the ONNX backend a server uses (onnxruntime, CPU provider, as many
intra-op threads as torch), both with torch's thread count; median over --repeats timed blocks, the two engines
interleaved so that a change in the machine's load hits both.

    DEEPSCOPE_DATA=../shared/data python bench/export_onnx.py [--quick] [--check 1000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

import deepscope as ds  # noqa: E402
from deepscope.models.saving import load_model  # noqa: E402
from deepscope.run.explain import split_sample  # noqa: E402
from deepscope.serve.export import PARITY_TOLERANCE, parity  # noqa: E402
from deepscope.serve.onnx_backend import OnnxBackend  # noqa: E402

ROOT = Path(__file__).parents[1]
MODELS = {"mnist": "image", "adult": "table", "sst2": "text"}  # examples/NAME.yaml -> what it stands for
QUICK = {  # --quick: each a few seconds to a minute of training on 2 CPU cores
    "mnist": {"data.limit": 6000},  # one epoch on 6,000 images: about 95 % accuracy
    "adult": {"train.epochs": 2},
    "sst2": {"data.limit": 10000, "train.epochs": 1},
}
BATCHES = (1, 64)
BLOCK_SECONDS = 0.2  # each timed block runs this long: many calls at batch 1, a few at 64


def trained_run(name: str, args: argparse.Namespace) -> Path:
    given = getattr(args, name)
    if given is not None:
        return given
    overrides = {"run.root": str(args.root), **(QUICK[name] if args.quick else {})}
    started = time.perf_counter()
    run = ds.train(ROOT / "examples" / f"{name}.yaml", overrides, progress=False)
    accuracy = run.metrics.get("test", {}).get("accuracy")
    recipe = f"quick: {QUICK[name]}" if args.quick else f"examples/{name}.yaml"
    scored = f"; test accuracy {accuracy:.4f}" if accuracy is not None else ""
    print(f"trained {run.dir} in {time.perf_counter() - started:.0f} s ({recipe}){scored}", flush=True)
    return run.dir


def per_call_ms(call: Callable[[], object]) -> Callable[[], float]:
    """A timer of `call`: calibrated once to BLOCK_SECONDS per block, then ms per call of one block."""
    for _ in range(5):  # warm-up: first calls allocate and pick kernels
        call()
    started, calls = time.perf_counter(), 0
    while time.perf_counter() - started < BLOCK_SECONDS / 4:
        call()
        calls += 1
    block = max(1, int(calls * 4))

    def timed() -> float:
        started = time.perf_counter()
        for _ in range(block):
            call()
        return 1000 * (time.perf_counter() - started) / block

    return timed


def latency(saved, backend: OnnxBackend, batch: dict[str, torch.Tensor], repeats: int) -> dict[str, list[float]]:
    def torch_call():
        with torch.inference_mode():
            return saved.model.predict(batch)

    timers = {"torch": per_call_ms(torch_call), "onnx": per_call_ms(lambda: backend.predict(batch))}
    times: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(repeats):  # interleaved: torch, onnx, torch, onnx, ...
        for name, timer in timers.items():
            times[name].append(timer())
    return times


def measure(name: str, args: argparse.Namespace) -> dict:
    run = trained_run(name, args)
    result = ds.export(run, "onnx", check_n=args.check)
    print(f"{name}: wrote {result.path} (exporter: {result.exporter}"
          + (f"; dynamo failed: {result.fallback_reason}" if result.fallback_reason else "") + ")")
    print(f"{name}: parity on {result.n_checked:,} {result.split} inputs: max |onnx - torch| = "
          f"{result.max_abs_diff:.2g} ({result.worst})", flush=True)
    saved, backend = load_model(run), OnnxBackend(result.path)
    row = {"name": name, "kind": MODELS[name], "exporter": result.exporter, "checks": [result]}
    if result.n_checked < args.check:  # a small test split (SST-2's 872): 1,000 training inputs as well
        extra = parity(saved, backend, split_sample(run, saved, "train", args.check, 0))
        print(f"{name}: parity on {args.check:,} train inputs: max |onnx - torch| = {max(extra.values()):.2g} "
              f"({max(extra, key=extra.get)})", flush=True)
        row["train_diff"] = max(extra.values())
    rows = split_sample(run, saved, "test", max(BATCHES), 1)
    for size in BATCHES:
        batch = {key: tensor[:size].contiguous() for key, tensor in rows.items()}
        times = latency(saved, backend, batch, args.repeats)
        row[size] = {engine: statistics.median(values) for engine, values in times.items()}
        print(f"{name} batch {size}: " + ", ".join(f"{engine} {summary(values, ' ms', 3)}"
                                                   for engine, values in times.items()), flush=True)
    return row


def print_table(rows: list[dict], check: int) -> None:
    print("\n| model | exporter | inputs checked | max abs diff | batch 1: torch / onnx ms (onnx/torch) "
          "| batch 64: torch / onnx ms (onnx/torch) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        result = row["checks"][0]
        checked = f"{result.n_checked:,} {result.split}"
        diff = f"{result.max_abs_diff:.2g}"
        if "train_diff" in row:
            checked += f" + {check:,} train"
            diff += f" / {row['train_diff']:.2g}"
        cells = [f"{row[size]['torch']:.3f} / {row[size]['onnx']:.3f} ({row[size]['onnx'] / row[size]['torch']:.2f})"
                 for size in BATCHES]
        print(f"| {row['name']} ({row['kind']}) | {row['exporter']} | {checked} | {diff} | {cells[0]} | {cells[1]} |")
    worst = max(max(r["checks"][0].max_abs_diff, r.get("train_diff", 0.0)) for r in rows)
    print(f"\nlargest difference {worst:.2g}: {'within' if worst <= PARITY_TOLERANCE else 'OVER'} the tolerance "
          f"{PARITY_TOLERANCE:g}; ratio < 1: onnxruntime is faster")


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in MODELS:
        parser.add_argument(f"--{name}", type=Path, help=f"a finished {name} run (default: train examples/{name}.yaml)")
    parser.add_argument("--quick", action="store_true", help="train on subsets / fewer epochs (see QUICK)")
    parser.add_argument("--check", type=int, default=1000, help="test inputs of the parity check")
    parser.add_argument("--repeats", type=int, default=15, help="timed blocks per engine and batch size (median)")
    parser.add_argument("--only", choices=list(MODELS), action="append", help="measure only these models")
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench"))
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    rows = [measure(name, args) for name in (args.only or MODELS)]
    print_table(rows, args.check)


if __name__ == "__main__":
    main()
