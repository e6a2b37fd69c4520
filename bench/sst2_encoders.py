"""Claim: on SST-2, trained from scratch (random embeddings, no pretrained vectors), the best of deepscope's
sequence encoders reaches >= 84 % dev accuracy at its last epoch. One table: rnn / lstm / gru / cnn1d /
transformer, each through the normal path (`deepscope.train` on `examples/sst2.yaml` with the encoder swapped),
dev accuracy at the LAST epoch (no early stopping, no best-epoch restore: dev never picks anything), training
time and parameters.

References measured here before this work: a plain word-level BiLSTM 82.6 % in about 2.5 minutes; a Kim-style
CNN 80.7 %.

    DEEPSCOPE_DATA=../shared/data python bench/sst2_encoders.py [--seeds 1] [--encoders lstm cnn1d] [--limit N]

The data: GLUE SST-2, 67,349 training phrases (sub-phrases of the treebank's sentences, each labelled) and the
872 dev sentences, which the `sst2` builtin gives as its *test* split (GLUE's test labels are hidden; papers
report dev). No validation slice (phrases repeat, so one carved from train overlaps it): dev is only measured
after the last epoch.

What was tuned, and how (so the dev number can be read for what it is): the recipe in `examples/sst2.yaml` was
chosen by dev accuracy among about 15 single runs of BiLSTM settings, each scored at its last epoch, 1-3 seeds
each: pooling last vs max; dropout 0 vs 0.25 (pooled features and embeddings); 2, 3 or 4 epochs; word dropout
0.1; a WordPiece tokenizer instead of words; weight averaging (EMA 0.999); and the embeddings' initial scale,
the one change that clearly paid (N(0, 0.1) instead of torch's N(0, 1): 82.8 -> 85.0 % on one seed, now the
default of every text embedding). Batch 64 and Adam at 2e-3 with one-cycle were kept from the first try.
Nothing is selected per run (no epoch, seed or checkpoint picking), but choosing the recipe on dev is still a
mild selection: dev has 872 sentences, so one run's accuracy carries about +-1.2 points of sampling noise
(binomial standard error) on top of seed-to-seed spread; `--seeds 3` prints the median and range. The other
encoders share the recipe's data, optimiser, schedule, epochs and embedding, with their usual sizes (ENCODERS
below), not tuned on dev. Timings are noisy where the cores are shared: the machine line says what ran.

Measured here (2 CPU cores, torch 2.13 CPU with 2 threads, machine otherwise nearly idle; seed 0; training time
is the epochs, validation-free): rnn 84.4 % (74 s), lstm 86.0 % (144 s), gru 85.0 % (127 s), cnn1d 83.9 % (89 s),
transformer 81.5 % (126 s). The lstm over seeds 0-2 (1 thread): 85.4 % median [85.4 - 85.6], 152 s each.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import yaml  # noqa: E402
from common import machine, summary  # noqa: E402

import deepscope as ds  # noqa: E402

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "examples" / "sst2.yaml"
TARGET = 0.84

RECIPE = yaml.safe_load(CONFIG.read_text())["model"]["encoder"]  # the example's BiLSTM
# each encoder as it is benchmarked: the recurrent ones are the recipe with another cell; the others keep its
# embedding (size, dropout) and take their usual sizes
ENCODERS: dict[str, dict] = {
    "rnn": {**RECIPE, "name": "rnn"},
    "lstm": RECIPE,
    "gru": {**RECIPE, "name": "gru"},
    "cnn1d": {"name": "cnn1d", "widths": [3, 4, 5], "filters": 100, "dropout": 0.5,  # Kim (2014)
              "embedding": RECIPE["embedding"]},
    # d_model 64 (not the default 128): a quarter of the compute, so it trains in minutes on 2 cores
    "transformer": {"name": "transformer", "d_model": 64, "heads": 4, "layers": 2, "pooling": "mean",
                    "embedding": {**RECIPE["embedding"], "dim": 64}},
}


def train(encoder: str, seed: int, args: argparse.Namespace) -> tuple[float, float, float, int]:
    """(dev accuracy at the last epoch, seconds in the training epochs, seconds in all, parameters) of one run."""
    overrides = {"train.seed": seed, "run.root": str(args.root), "train.restore_best": False,
                 "model.encoder": ENCODERS[encoder]}
    if args.limit:
        overrides["data.limit"] = args.limit
    if args.epochs:
        overrides["train.epochs"] = args.epochs
    started = time.perf_counter()
    run = ds.train(CONFIG, overrides, progress=False)
    seconds = time.perf_counter() - started
    assert run.config.train.early_stopping is None and not run.config.train.restore_best  # the last epoch, as trained
    epochs = sum(h["time"] for h in run.history)  # training steps and the per-epoch validation pass
    return run.metrics["test"]["accuracy"], epochs, seconds, sum(p.numel() for p in run.model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--encoders", nargs="+", choices=list(ENCODERS), default=list(ENCODERS))
    parser.add_argument("--limit", type=int, default=None, help="training phrases (quick trials; not the claim)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (not the claim)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench"))
    args = parser.parse_args()
    logging.getLogger("deepscope").setLevel(logging.WARNING)
    print(f"machine: {machine()}")
    print(f"recipe: {CONFIG.relative_to(ROOT)}, seeds {args.seeds}, dev accuracy at the last epoch"
          + (f", LIMITED to {args.limit} phrases" if args.limit else "") + "\n", flush=True)
    print(f"{'encoder':<12} {'dev accuracy':<30} {'training time':<26} {'all (data, checks, eval)':<26} "
          f"{'parameters':>10}")
    best = {}
    for encoder in args.encoders:
        runs = [train(encoder, seed, args) for seed in range(args.seeds)]
        accuracies = [100 * r[0] for r in runs]
        best[encoder] = statistics.median(accuracies)
        print(f"{encoder:<12} {summary(accuracies, ' %', 1):<30} {summary([r[1] for r in runs], ' s', 0):<26} "
              f"{summary([r[2] for r in runs], ' s', 0):<26} {runs[0][3]:>10,}", flush=True)
    winner = max(best, key=best.get)
    print(f"\nbest: {winner} {best[winner]:.1f} % (median) -> target >= {100 * TARGET:.0f} %: "
          f"{'met' if best[winner] >= 100 * TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
