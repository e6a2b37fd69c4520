"""Claim: the default forecasting configs beat the naive baselines by far, and the published targets:
airline passengers (last 24 months held out) one-step MAE <= 20 (naive, the last value: 44.2), and Melbourne
minimum temperatures (last 365 days held out) one-step MAE <= 1.70 (yesterday's value: 2.03; a linear AR(30)
with day-of-year terms, fitted here by least squares as a reference row: 1.72). Both evaluations are printed,
one step ahead over the test period and the full horizon from the cut-off, each beside naive and seasonal
naive; the model's figures are the median [min - max] over `--seeds` seeds (default 3), each a whole
`deepscope train examples/<name>.yaml` run on this machine's CPU.

Protocol: hyperparameters (model, lookback, horizon, loss, epochs, learning rate) were chosen on validation
periods before the test period, never on the test period: for the airline the years 1957 and 1958 (each
forecast by a model trained on the years before it), for the temperatures the years 1988 and 1989. The
candidates and their validation errors are printed by `--select`. `--encoders` scores the example configs
with each sequence encoder (lstm, gru, cnn1d, transformer) in place of the chosen one, untuned. With the
settings fixed, the example configs train on every step before the test period (val: 0) and the test period
is scored once.

    DEEPSCOPE_DATA=../shared/data python bench/forecasting.py [--seeds 3] [--only airline] [--select | --encoders]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

import deepscope as ds  # noqa: E402
from deepscope.config.loading import load_config  # noqa: E402
from deepscope.data.timeseries import calendar_covariates, read_series  # noqa: E402

ROOT = Path(__file__).parents[1]
CASES = {
    "airline": {"config": "airline.yaml", "target": 20.0, "published": {"naive": 44.2}},
    "temperatures": {"config": "temperatures.yaml", "target": 1.70,
                     "published": {"naive": 2.03, "AR(30) + day of year": 1.72}},
}
# --select: candidates tried on the validation periods (overrides of the example config)
CANDIDATES: dict[str, list[dict[str, Any]]] = {
    "airline": [
        {},
        {"model.encoder": {"name": "mlp", "hidden": [32]}},
        {"data.series.lookback": 13},
        {"model.encoder": {"name": "gru", "hidden": 16}},
        {"data.series.relative": True},
        {"model.encoder": {"name": "gru", "hidden": 32, "bidirectional": False}, "data.series.relative": True},
    ],
    "temperatures": [
        {},
        {"model.combiner.hidden": [], "train.schedule": "onecycle", "train.ema": None},  # the plain GRU
        {"model.combiner.hidden": [64], "train.schedule": "onecycle", "train.ema": None},
        {"model.encoder": {"name": "mlp", "hidden": []}},  # a linear AR(30) with the season, learnt by SGD
        {"model.encoder": {"name": "mlp", "hidden": [32]}, "data.series.lookback": 14},
        {"model.encoder": {"name": "lstm", "hidden": 32, "bidirectional": False}},
        {"data.series.horizon": 1},
        {"data.series.relative": True},
        {"model.encoder": {"name": "transformer", "d_model": 32, "heads": 4, "layers": 1, "pooling": "cls"}},
    ],
}
# --encoders: each sequence encoder over the lookback window, small and otherwise at its defaults
SEQUENCE_ENCODERS = {
    "lstm": {"name": "lstm", "hidden": 32, "bidirectional": False},
    "gru": {"name": "gru", "hidden": 32, "bidirectional": False},
    "cnn1d": {"name": "cnn1d"},
    "transformer": {"name": "transformer", "d_model": 32, "heads": 4, "layers": 1},
}
# validation folds: the test period moved back, so that the "val" period is the year before it
FOLDS = {
    "airline": [{"data.series.holdout": 24, "data.series.val": 12}, {"data.series.holdout": 36, "data.series.val": 12}],
    "temperatures": [{"data.series.holdout": 365, "data.series.val": 365},
                     {"data.series.holdout": 730, "data.series.val": 365}],
}


def train(name: str, overrides: dict[str, Any], root: Path) -> Any:
    return ds.train(ROOT / "examples" / CASES[name]["config"], {"run.root": str(root), **overrides}, progress=False)


def test_runs(name: str, seeds: int, root: Path, overrides: dict[str, Any]) -> tuple[list[dict], list[float]]:
    """The test-period evaluation of `seeds` runs of the example config with `overrides`, and their times."""
    results, seconds = [], []
    for seed in range(seeds):
        started = time.perf_counter()
        run = train(name, {**overrides, "train.seed": seed}, root)
        seconds.append(time.perf_counter() - started)
        results.append(run.metrics["forecast"]["test"])
        test = results[-1]
        print(f"  seed {seed}: one-step MAE {test['one_step']['model']['mae']:.3f}, {test['horizon']['steps']}-step "
              f"MAE {test['horizon']['model']['mae']:.3f} ({seconds[-1]:.0f}s)", flush=True)
    return results, seconds


def evaluate(name: str, seeds: int, root: Path) -> None:
    results, seconds = test_runs(name, seeds, root, {})
    first = results[0]
    period, steps = first["period"], first["horizon"]["steps"]
    print(f"\n{name}: test period {period['start']} to {period['end']} ({period['steps']} steps); "
          f"training {statistics.median(seconds):.0f}s a run")
    print(f"  {'method':<28}{'one-step MAE':<36}{f'{steps}-step MAE from the cut-off':<36}")
    one = [r["one_step"]["model"]["mae"] for r in results]
    ahead = [r["horizon"]["model"]["mae"] for r in results]
    print(f"  {'model':<28}{summary(one, digits=3):<36}{summary(ahead, digits=3):<36}")
    labels = {"naive": "naive (last value)", "seasonal_naive": f"seasonal naive ({first['season']})"}
    for method, label in labels.items():
        if method in first["one_step"]:
            print(f"  {label:<28}{first['one_step'][method]['mae']:<36.3f}{first['horizon'][method]['mae']:<36.3f}")
    if name == "temperatures":
        print(f"  {'AR(30) + day of year, lstsq':<28}{ar_reference(ROOT / 'examples' / CASES[name]['config']):<36.3f}")
    target = CASES[name]["target"]
    median = statistics.median(one)
    print(f"  published: {CASES[name]['published']}; target one-step MAE <= {target}: "
          f"{'met' if median <= target else 'NOT met'} (median {median:.3f})\n", flush=True)


def ar_reference(config_path: Path, lags: int = 30) -> float:
    """One-step MAE over the test period of a linear AR(lags) with a day-of-year sin/cos pair, fitted by least
    squares on every step before the test period (the reference the target is set against)."""
    config = load_config(config_path).data
    series = read_series(config.source, time=config.series.time, values=config.series.values)
    y = series.column(config.series.target or series.columns[0])
    test_start = len(y) - int(config.series.holdout)
    season = calendar_covariates(series.times, ["day_of_year"])  # (n, 2)

    def design(rows: np.ndarray) -> np.ndarray:
        past = np.stack([y[rows - k] for k in range(1, lags + 1)], axis=1)  # (N, lags): y[t-1] ... y[t-lags]
        return np.column_stack([np.ones(len(rows)), past, season[rows]])

    train_rows, test_rows = np.arange(lags, test_start), np.arange(test_start, len(y))
    weights, *_ = np.linalg.lstsq(design(train_rows), y[train_rows], rcond=None)
    return float(np.abs(design(test_rows) @ weights - y[test_rows]).mean())


def compare_encoders(name: str, seeds: int, root: Path) -> None:
    """The example config with each sequence encoder in place of its own (the rest unchanged, not tuned for
    them): that every encoder forecasts, and how far from the chosen one."""
    print(f"{name}: each sequence encoder in the example config (test period; median of {seeds} seeds)")
    for label, spec in SEQUENCE_ENCODERS.items():
        results, seconds = test_runs(name, seeds, root, {"model.encoder": spec})
        one = [r["one_step"]["model"]["mae"] for r in results]
        ahead = [r["horizon"]["model"]["mae"] for r in results]
        print(f"  {label:<12} one-step MAE {summary(one, digits=3):<24} {results[0]['horizon']['steps']}-step MAE "
              f"{summary(ahead, digits=3):<24} {statistics.median(seconds):.0f}s a run", flush=True)
    print()


def select(name: str, seeds: int, root: Path) -> None:
    """The validation error of each candidate: the mean over folds of the median over seeds."""
    print(f"{name}: candidates on the validation periods (one-step MAE; the test period is not used)")
    for candidate in CANDIDATES[name]:
        per_fold = []
        for fold in FOLDS[name]:
            # the last epoch, as in the final fit: restoring the best validation epoch would select on val twice
            runs = [train(name, {**fold, **candidate, "train.seed": seed, "train.restore_best": False}, root)
                    for seed in range(seeds)]
            per_fold.append(statistics.median(r.metrics["forecast"]["val"]["one_step"]["model"]["mae"] for r in runs))
        print(f"  {str(candidate or 'the example config'):<80} folds {[round(v, 3) for v in per_fold]}  "
              f"mean {statistics.mean(per_fold):.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", choices=list(CASES))
    parser.add_argument("--select", action="store_true", help="print the validation errors of the candidates")
    parser.add_argument("--encoders", action="store_true", help="the test errors with each sequence encoder")
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads: models this small run fastest on one")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("deepscope").setLevel(logging.ERROR)
    print(f"machine: {machine()}; {args.seeds} seeds\n")
    for name in [args.only] if args.only else list(CASES):
        if args.select:
            select(name, args.seeds, args.root)
        elif args.encoders:
            compare_encoders(name, args.seeds, args.root)
        else:
            evaluate(name, args.seeds, args.root)


if __name__ == "__main__":
    main()
