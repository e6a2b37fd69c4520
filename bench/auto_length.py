"""The default training length on small data: the old fixed recipe (10 epochs of batches of 128) against the auto
length (`train.epochs` and `train.batch_size` left out: at least 1,000 optimizer steps, deepscope/training/length.py).

Cases: the UCI wine table (178 rows, 13 numeric columns, 3 classes; scikit-learn's bundled copy) and
examples/data/customers.csv (600 rows) with examples/tabular.yaml's data and model but no train section; with
--images FOLDER also a folder of class sub-folders (README: the first 300 MNIST training digits of each class,
saved as PNGs in one folder per class). Prints, per case and recipe, the optimizer steps taken (first seed),
test accuracy (median [min - max] over the seeds) and seconds, and the accuracy ratio.

    python bench/auto_length.py                       # wine and customers, seeds 0, 1, 2
    python bench/auto_length.py --images digits_png --seeds 1
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

import deepscope as ds  # noqa: E402

ROOT = Path(__file__).parents[1]
OLD_DEFAULT = {"train.epochs": 10, "train.batch_size": 128}  # the fixed recipe before the auto length


def wine_csv(folder: Path) -> Path:
    """scikit-learn's copy of the UCI wine data as a CSV with a header and the cultivar as a class name."""
    from sklearn.datasets import load_wine

    wine = load_wine()
    path = folder / "wine.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([name.replace("/", "_") for name in wine.feature_names] + ["cultivar"])
        for row, label in zip(wine.data, wine.target):
            writer.writerow([f"{v:g}" for v in row] + [f"class_{label}"])
    return path


def cases(folder: Path, images: Path | None) -> dict[str, dict]:
    tabular = yaml.safe_load((ROOT / "examples" / "tabular.yaml").read_text())
    customers = {"data": {**tabular["data"], "source": str(ROOT / tabular["data"]["source"])},
                 "model": tabular["model"]}  # the example without its train section: the defaults apply
    found = {"wine (178 rows)": {"data": {"source": str(wine_csv(folder)), "outputs": {"cultivar": "category"}}},
             "customers (600 rows)": customers}
    if images is not None:
        found[f"images ({images.name})"] = {"data": {"source": str(images)}}
    return found


def measure(config: dict, overrides: dict, seeds: int, root: Path) -> tuple[int, list[float], list[float]]:
    """(optimizer steps of the first seed's run, test accuracies, seconds) over `seeds` runs."""
    accuracies, seconds, steps = [], [], 0
    for seed in range(seeds):
        started = time.perf_counter()
        run = ds.train(config, {**overrides, "train.seed": seed, "run.root": str(root), "run.report": False},
                       progress=False)
        seconds.append(time.perf_counter() - started)
        accuracies.append(run.metrics["test"]["accuracy"])
        steps = steps or len(run.history) * math.ceil(len(run.data.splits["train"]) / run.config.train.batch_size)
    return steps, accuracies, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--images", type=Path, default=None, help="also a folder of class sub-folders of images")
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.seeds} seed(s) per recipe")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, config in cases(folder, args.images).items():
            old = measure(config, OLD_DEFAULT, args.seeds, folder / "runs")
            auto = measure(config, {}, args.seeds, folder / "runs")
            for label, (steps, accuracies, seconds) in (("10 epochs x 128", old), ("auto", auto)):
                print(f"{name:22s} {label:16s} {steps:6,d} steps  test accuracy {summary(accuracies, digits=3)}  "
                      f"{summary(seconds, 's', 1)}")
            ratio = statistics.median(auto[1]) / statistics.median(old[1])
            print(f"{name:22s} accuracy ratio auto / old (medians): {ratio:.3f}")


if __name__ == "__main__":
    main()
