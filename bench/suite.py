"""The bench suite: deepscope against its peers, one command, one table.

Claims (targets on 2 CPU cores, medians over --seeds):
- MNIST to 99 % test accuracy: deepscope's default (examples/mnist.yaml) in <= 0.6x the hand-written loop's time,
  <= 0.5x PyTorch Lightning's (the same net and recipe) and <= 0.1x the keras.io "Simple MNIST convnet" example's;
- the trainer adds no measurable overhead over the hand-written loop (steps/s ratio >= 0.97);
- MNIST-1D: deepscope's default (examples/mnist1d.yaml) >= 94 % test accuracy in <= 10 s of training, beating
  every row of the paper's table (reproduced here with the paper's models and loop);
- with CUDA: MNIST to 99.0 % with the data on the GPU, and the share of the GPU's bf16 peak a ResNet step reaches.

Times are training time: the epochs themselves, for every peer alike (setup and test evaluation excluded; the
keras.io example's per-epoch validation is part of it as written). "Time to X %" is the training time at the end
of the first epoch whose test accuracy reaches X %. The recipes of one epoch (deepscope's, the hand loop,
Lightning, Keras with deepscope's net) train 1, 2, ... epochs, each a fresh run with its one-cycle schedule
stretched over them, until a run reaches X %: the shortest such run gives the time, and the table says how many
epochs it took (bench/common.py's shortest_budget). The keras.io example runs its 15 epochs as written. Each
measurement runs in its own process (bench/suite_jobs.py); seeds are the outer loop, so every peer sees the same
machine load.

    pip install -e ".[bench]"
    DEEPSCOPE_DATA=../shared/data python bench/suite.py [--seeds 5] [--threads 2] [--json results.json]
    python bench/suite.py --quick            # every row on small sizes: checks, not results
    python bench/suite.py --quick --dry-run  # the table's rows, nothing run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import COMMAND_TARGET, MNIST_TARGET, QUICK_MNIST_TARGET, machine, time_to_accuracy  # noqa: E402

HERE = Path(__file__).parent
MNIST1D_ACCURACY, MNIST1D_SECONDS = 0.94, 10.0
KERAS_EXAMPLE_SEEDS = 2
PAPER_MNIST1D = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91}  # bench/mnist1d.py cites them


@dataclass
class Row:
    """One line of the table: a measurement (`job`, run once per seed) or a placeholder until one lands."""

    key: str
    what: str
    job: str | None = None  # a bench/suite_jobs.py job; None: a placeholder
    target: str = ""
    # (this row's results over seeds, every row's results, quick) -> (value, accuracy, ratio, met) as text
    judge: Callable[[list[dict], dict[str, list[dict]], bool], tuple[str, str, str, str]] | None = None
    note: str = ""  # a placeholder's text
    gpu: bool = False
    needs: list[str] = field(default_factory=list)  # other rows the judge reads (run even under --only)
    max_seeds: int | None = None  # a row too long to run every seed (its label says how many it ran)


# --- judging: results -> the table's cells ---------------------------------------------------------------------
def _target(quick: bool) -> float:
    return QUICK_MNIST_TARGET if quick else MNIST_TARGET


def time_to(results: list[dict], target: float) -> tuple[float | None, float, int]:
    """(median time to `target` over the seeds that reached it or None if any did not, median final accuracy,
    seeds that reached it)."""
    times = [time_to_accuracy(r["points"], target) for r in results]
    reached = [t for t in times if t is not None]
    final = statistics.median(r["points"][-1][1] for r in results)
    return (statistics.median(reached) if len(reached) == len(times) else None), final, len(reached)


def _seconds(results: list[dict], target: float) -> tuple[str, float | None, float]:
    """The time cell, the time (or, never reaching, the whole training time as a lower bound: None) and accuracy."""
    seconds, final, reached = time_to(results, target)
    if seconds is not None:
        return f"{seconds:.2f}s{_budget(results)}", seconds, final
    return f"not reached ({reached}/{len(results)} seeds){_budget(results)}", None, final


def _budget(results: list[dict]) -> str:
    """The epochs the shortest reaching runs took (bench/common.py's shortest_budget), where the job searched."""
    epochs = sorted({r["epochs"] for r in results if "epochs" in r})
    if not epochs:
        return ""
    span = str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}-{epochs[-1]}"
    return f", {span} epoch{'s' * (epochs[-1] > 1)}"


def deepscope_mnist(results, everything, quick):
    cell, _, final = _seconds(results, _target(quick))
    return cell, f"{final:.4f}", "1.00", ""


def versus(limit: float | None) -> Callable:
    """A peer's row: its time to the target, and deepscope's time over it against `limit` (None: no target)."""
    def judge(results, everything, quick):
        target = _target(quick)
        cell, peer, final = _seconds(results, target)
        ours, _, _ = time_to(everything["mnist.deepscope"], target)
        if ours is None:
            return cell, f"{final:.4f}", "deepscope did not reach it", "no" if limit else ""
        if peer is None:  # the peer never reached it: its whole training time bounds its time to the target
            total = statistics.median(r["points"][-1][0] for r in results)
            ratio, text = ours / total, f"< {ours / total:.3f}"
        else:
            ratio, text = ours / peer, f"{ours / peer:.3f}"
        return cell, f"{final:.4f}", text, ("" if limit is None else "yes" if ratio <= limit else "no")
    return judge


def overhead(results, everything, quick):
    ratio = statistics.median(r["ratio"] for r in results)
    steps = statistics.median(sum(r["trainer"]) / len(r["trainer"]) for r in results)
    return f"{steps:.1f} steps/s", "", f"{ratio:.3f}", "yes" if ratio >= 0.97 else "no"


def mnist1d_paper(name: str) -> Callable:
    def judge(results, everything, quick):
        accuracy = statistics.median(r["accuracy"] for r in results)
        seconds = statistics.median(r["seconds"] for r in results)
        bar = max(accuracy, PAPER_MNIST1D[name])  # to beat: the paper's figure or this run's, the higher
        ours, _, reached = time_to(everything["mnist1d.deepscope"], bar + 1e-9)
        if ours is None:
            return f"{seconds:.2f}s", f"{accuracy:.4f}", f"not beaten ({reached}/{len(results)} seeds)", "no"
        return f"{seconds:.2f}s", f"{accuracy:.4f}", f"beaten in {ours:.2f}s ({ours / seconds:.2f}x)", "yes"
    return judge


def mnist1d_deepscope(results, everything, quick):
    final = statistics.median(r["points"][-1][1] for r in results)
    seconds = statistics.median(r["points"][-1][0] for r in results)
    met = final >= MNIST1D_ACCURACY and seconds <= MNIST1D_SECONDS
    return f"{seconds:.2f}s", f"{final:.4f}", "", "yes" if met else "no"


def ddp_ratio(results, everything, quick):
    """Two processes' training throughput over one's, and both runs' validation accuracy (they should agree)."""
    one, two = (statistics.median(r[k]["throughput"] for r in results) for k in ("1", "2"))
    accuracy = "/".join(f"{statistics.median(r[k]['accuracy'] for r in results):.4f}" for k in ("1", "2"))
    return f"{two:,.0f} vs {one:,.0f} ex/s", accuracy, f"{two / one:.2f}", ""


def streaming_ratio(results, everything, quick):
    streamed, in_memory = (statistics.median(r[k] for r in results) for k in ("stream", "memory"))
    ratio = streamed / in_memory
    return f"{streamed:,.0f} vs {in_memory:,.0f} ex/s", "", f"{ratio:.2f}", "yes" if ratio >= 0.7 else "no"


def whole_command(results, everything, quick):
    """The command start to exit over its training time, beside the plain PyTorch script's same ratio."""
    whole, training = (statistics.median(r["command"][k] for r in results) for k in ("whole", "training"))
    ratio = statistics.median(r["command"]["whole"] / r["command"]["training"] for r in results)
    plain = statistics.median(r["plain"]["whole"] / r["plain"]["training"] for r in results)
    value = f"{whole:.2f}s for {training:.2f}s (a plain torch script: {plain:.2f}x)"
    return value, "", f"{ratio:.2f}", "yes" if ratio <= COMMAND_TARGET else "no"


def gpu_mfu(results, everything, quick):
    r = results[0]
    if r["mfu"] is None:
        return f"{r['flops_per_s'] / 1e12:.1f} TFLOP/s", "", f"unknown peak ({r['device']})", ""
    return f"{r['flops_per_s'] / 1e12:.1f} TFLOP/s", "", f"{r['mfu']:.1%} of peak", ""


def rows(quick: bool) -> list[Row]:
    pct = f"{_target(quick):.0%}"
    ds_vs = "deepscope / this"
    return [
        Row("mnist.deepscope", f"MNIST {pct}: deepscope default (examples/mnist.yaml)", "mnist_deepscope",
            judge=deepscope_mnist),
        Row("mnist.hand", f"MNIST {pct}: hand-written torch loop, same net & recipe", "mnist_hand",
            f"{ds_vs} <= 0.6", versus(0.6), needs=["mnist.deepscope"]),
        Row("mnist.lightning", f"MNIST {pct}: Lightning, same net & recipe, DataLoader", "mnist_lightning",
            f"{ds_vs} <= 0.5", versus(0.5), needs=["mnist.deepscope"]),
        # 15 epochs at ~0.1-0.4 s a step on 2 cores: several minutes a seed, so at most KERAS_EXAMPLE_SEEDS of them
        Row("mnist.keras_example", f"MNIST {pct}: Keras 3 (torch), keras.io example as written "
            f"({2 if quick else 15} epochs, <= {KERAS_EXAMPLE_SEEDS} seeds)", "mnist_keras_example", f"{ds_vs} <= 0.1",
            versus(0.1), needs=["mnist.deepscope"], max_seeds=KERAS_EXAMPLE_SEEDS),
        Row("mnist.keras_same", f"MNIST {pct}: Keras 3 (torch), deepscope's net & recipe", "mnist_keras_same",
            "", versus(None), needs=["mnist.deepscope"]),
        Row("overhead", "trainer overhead: Trainer.fit / hand loop, steps/s", "trainer_overhead", ">= 0.97",
            overhead),
        *[Row(f"mnist1d.{name}", f"MNIST-1D {label}, paper's model & loop (paper {PAPER_MNIST1D[name]:.0%})",
              f"mnist1d_{name}", "deepscope beats it", mnist1d_paper(name), needs=["mnist1d.deepscope"])
          for name, label in (("logistic", "logistic regression"), ("mlp", "MLP"), ("cnn", "CNN"), ("gru", "GRU"))],
        Row("mnist1d.deepscope", "MNIST-1D: deepscope default (examples/mnist1d.yaml)", "mnist1d_deepscope",
            f">= {MNIST1D_ACCURACY:.0%} in <= {MNIST1D_SECONDS:.0f}s", mnist1d_deepscope),
        # Placeholders until their measurements are wired in: to fill one, give suite_jobs.JOBS a job returning a
        # dict (e.g. calling bench/ddp.py's or bench/streaming.py's functions), and the Row its job and a judge
        Row("ddp", "DDP on CPU: 2 processes vs 1 (gloo), examples/mnist.yaml, training ex/s", "ddp",
            "report the ratio", ddp_ratio),
        Row("streaming", "streamed (2 workers) vs in-memory image folder, training ex/s", "streaming", ">= 0.7",
            streaming_ratio, max_seeds=1),
        Row("command", "whole `deepscope train examples/mnist.yaml` / its training time (phases: "
            "bench/command_breakdown.py)", "command", f"<= {COMMAND_TARGET:.1f}", whole_command),
        Row("gpu.mnist.deepscope", "GPU: MNIST 99.0 %, deepscope, data on the GPU", "gpu_mnist_deepscope",
            judge=deepscope_mnist_gpu, gpu=True),
        Row("gpu.mnist.hand", "GPU: MNIST 99.0 %, hand-written loop on the GPU", "gpu_mnist_hand", "",
            judge=gpu_hand, gpu=True, needs=["gpu.mnist.deepscope"]),
        Row("gpu.resnet", "GPU: ResNet-18-like bf16 training step, share of bf16 peak", "gpu_resnet", "report",
            gpu_mfu, gpu=True, max_seeds=1),
    ]


def deepscope_mnist_gpu(results, everything, quick):
    cell, _, final = _seconds(results, MNIST_TARGET)
    return cell, f"{final:.4f}", "1.00", ""


def gpu_hand(results, everything, quick):
    cell, peer, final = _seconds(results, MNIST_TARGET)
    ours, _, _ = time_to(everything["gpu.mnist.deepscope"], MNIST_TARGET)
    ratio = f"{ours / peer:.3f}" if ours is not None and peer else ""
    return cell, f"{final:.4f}", ratio, ""


# --- running and printing ---------------------------------------------------------------------------------------
def run_job(job: str, seed: int, quick: bool, threads: int | None) -> dict:
    """One measurement in a fresh process; its last `RESULT {json}` line."""
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    command = [sys.executable, str(HERE / "suite_jobs.py"), job, "--seed", str(seed)]
    command += ["--quick"] if quick else []
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
        command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{job} (seed {seed}) failed: " + " | ".join(tail))
    return json.loads(lines[-1].removeprefix("RESULT "))


def measure(table: list[Row], seeds: int, quick: bool, threads: int | None) -> dict[str, list[dict] | str]:
    """Every measured row's results over the seeds (seed outermost), or the error that stopped it."""
    results: dict[str, list[dict] | str] = {row.key: [] for row in table if row.job}
    for seed in range(seeds):
        for row in table:
            enough = row.max_seeds is not None and seed >= row.max_seeds
            if not row.job or isinstance(results[row.key], str) or enough:
                continue
            try:
                results[row.key].append(run_job(row.job, seed, quick, threads))
            except RuntimeError as error:
                results[row.key] = str(error)
            print(f"  seed {seed}: {row.key} done", file=sys.stderr, flush=True)
    return results


def cells(row: Row, results: dict, quick: bool, dry_run: bool, cuda: bool) -> tuple[str, str, str, str]:
    if row.job is None:
        return row.note, "", "", ""
    if row.gpu and not cuda:
        return "skipped: no CUDA GPU here", "", "", ""
    if dry_run:
        return "not run (dry run)", "", "", ""
    own = results.get(row.key)
    if isinstance(own, str):
        return f"failed: {own[:90]}", "", "", ""
    missing = [need for need in row.needs if not isinstance(results.get(need), list) or not results[need]]
    if missing:
        return f"needs {', '.join(missing)}", "", "", ""
    return row.judge(own, results, quick)


def render(table: list[Row], results: dict, quick: bool, dry_run: bool, cuda: bool) -> str:
    header = ("what", "time / value", "test acc", "ratio", "target", "met")
    lines = [header]
    for row in table:
        value, accuracy, ratio, met = cells(row, results, quick, dry_run, cuda)
        lines.append((row.what, value, accuracy, ratio, row.target, met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    out.insert(1, "-|-".join("-" * width for width in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes: every row runs; numbers are checks only")
    parser.add_argument("--dry-run", action="store_true", help="print the table's rows without running anything")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process (default: torch's)")
    parser.add_argument("--only", nargs="*", default=None, help="row keys (and prefixes) to run, e.g. mnist1d")
    parser.add_argument("--json", type=Path, default=None, help="also save the raw results there")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    table = rows(args.quick)
    if args.only:
        wanted = {row.key for row in table if any(row.key.startswith(prefix) for prefix in args.only)}
        wanted |= {need for row in table if row.key in wanted for need in row.needs}
        table = [row for row in table if row.key in wanted]
    print(f"machine: {machine()}; {args.seeds} seed(s){'; QUICK: small sizes, numbers are checks' * args.quick}")
    measured = [row for row in table if cuda or not row.gpu]
    results = {} if args.dry_run else measure(measured, args.seeds, args.quick, args.threads)
    print(render(table, results, args.quick, args.dry_run, cuda))
    if args.json and not args.dry_run:
        from deepscope.io import write_text

        write_text(args.json, json.dumps({"machine": machine(), "quick": args.quick, "seeds": args.seeds,
                                          "results": results}, indent=1))


if __name__ == "__main__":
    main()
