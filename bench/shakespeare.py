"""Claim (issue 16): a character language model trained by `deepscope train examples/shakespeare.yaml` reaches a
validation loss of <= 1.60 nats per character within 20 minutes of training on 2 CPU cores (Tiny Shakespeare:
the first 90 % of its characters train, the last 10 % validate; nanoGPT's character model reaches 1.47 on a GPU
with a much larger budget).

Prints the parameter count, the training time (the trainer's own, from metrics.jsonl), the validation loss in
nats per character, perplexity and bits per character of the saved model, and three samples of 300 characters
(temperature 0.8, top-p 0.95, seeds 0-2), each after the prompt "ROMEO:".

    DEEPSCOPE_DATA=../shared/data python bench/shakespeare.py [--run RUN] [--set train.epochs=2 ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

import deepscope as ds  # noqa: E402
from deepscope.track.runinfo import read_run  # noqa: E402

ROOT = Path(__file__).parents[1]
TARGET_NATS, BUDGET_S = 1.60, 20 * 60
PROMPT = "ROMEO:"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a finished run of examples/shakespeare.yaml (default: train one)")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, e.g. train.epochs=1")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    run = args.run or str(ds.train(ROOT / "examples" / "shakespeare.yaml",
                                   {"run.root": tempfile.mkdtemp(prefix="shakespeare-"),
                                    **dict(item.split("=", 1) for item in args.set)}, progress=False).dir)
    info = read_run(run)
    val = info.finals["val"]
    seconds = sum(row["time"] for row in info.epochs)  # each epoch's training and validation
    model = ds.load(run)
    parameters = sum(p.numel() for p in model.model.parameters())
    print(f"run: {run}")
    print(f"parameters: {parameters:,}; training time: {seconds:.0f} s ({seconds / 60:.1f} min, budget "
          f"{BUDGET_S / 60:.0f}); epochs: {len(info.epochs)}")
    met = val["nats"] <= TARGET_NATS and seconds <= BUDGET_S
    print(f"validation: {val['nats']:.3f} nats/char (target <= {TARGET_NATS}), perplexity {val['perplexity']:.2f}, "
          f"{val['bits_per_char']:.3f} bits/char -> {'met' if met else 'MISSED'}")
    for seed in range(3):
        text = model.generate(PROMPT, max_tokens=300, temperature=0.8, top_p=0.95, seed=seed)[0]
        print(f"\n--- sample {seed + 1} (seed {seed})\n{PROMPT}{text}")


if __name__ == "__main__":
    main()
