"""Claim: on BreastMNIST, `examples/breastmnist.yaml` beats the MedMNIST v2 paper's ResNet-18 (28)
(test ACC 0.863, AUC 0.901), as a mean over 3 seeds.

    DEEPSCOPE_DATA=../shared/data python bench/breastmnist.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

import deepscope as ds  # noqa: E402

ROOT = Path(__file__).parents[1]
PAPER = {"accuracy": 0.863, "roc_auc": 0.901}  # Yang et al. 2023, Table: BreastMNIST, ResNet-18 (28)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench"))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    accuracies, aucs, times = [], [], []
    for seed in range(args.seeds):
        started = time.perf_counter()
        run = ds.train(ROOT / "examples" / "breastmnist.yaml", {"train.seed": seed, "run.root": str(args.root)},
                       progress=False)
        times.append(time.perf_counter() - started)
        test = run.metrics["test"]
        accuracies.append(test["accuracy"])
        aucs.append(test["roc_auc"])
        print(f"seed {seed}: test accuracy {test['accuracy']:.4f}  ROC-AUC {test['roc_auc']:.4f}  "
              f"({times[-1]:.0f}s, {run.dir})", flush=True)
    print(f"deepscope  mean test ACC {statistics.mean(accuracies):.3f}  AUC {statistics.mean(aucs):.3f}  "
          f"(ACC {summary(accuracies, '', 3)}; AUC {summary(aucs, '', 3)})")
    print(f"paper      ResNet-18 (28)   ACC {PAPER['accuracy']:.3f}  AUC {PAPER['roc_auc']:.3f}")
    print(f"beats both: {statistics.mean(accuracies) > PAPER['accuracy'] and statistics.mean(aucs) > PAPER['roc_auc']}"
          f"; training time {summary(times, 's', 0)}")


if __name__ == "__main__":
    main()
