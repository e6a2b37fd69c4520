"""Would more data help? Train on growing fractions of the training data, fit a power law, extrapolate.

    curve = deepscope.learning_curve("examples/breastmnist.yaml", fractions=(0.125, 0.25, 0.5, 1.0))
    curve["scores"], curve["projected"]["2x"]

The error (1 - accuracy for classification, MAE for regression) of a well-regularised network falls as a power
of the training-set size, error(n) = a * n^-b + c (Hestness et al. 2017, "Deep Learning Scaling is
Predictable, Empirically"); c is the error no amount of this data would remove. Subsets are nested and seeded;
the validation split (else the test split) stays fixed, and every model trains with the config's recipe
(`deepscope.run.recipe`): its model with its pretrained layers, its trainer, its early stopping and weight averaging.
The `not_enough_data` detector judges the curve.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from deepscope.config.loading import load_config
from deepscope.config.schema import Config
from deepscope.data.prepare import PreparedData, prepare_data
from deepscope.diagnose import Finding, Record, judge
from deepscope.diagnose.scaling import fit_power_law, power_law, score_of
from deepscope.errors import ConfigError
from deepscope.io import write_json
from deepscope.metrics import direction, metric_key
from deepscope.report.plots import plot_learning_curve
from deepscope.run.recipe import output_path, trainer_for
from deepscope.run.train import model_for
from deepscope.training.length import TrainingLength, training_length


def check_fractions(fractions: Iterable[float]) -> tuple[float, ...]:
    values = tuple(float(f) for f in fractions)
    if len(values) < 3 or any(not 0 < f <= 1 for f in values) or list(values) != sorted(set(values)):
        raise ConfigError(f"--fractions {','.join(f'{f:g}' for f in values)}: give 3 or more increasing fractions "
                          "of the training data in (0, 1], e.g. 0.125,0.25,0.5,1")
    return values


def learning_curve(config: str | Path | Mapping[str, Any] | Config, overrides: Any = None, *,
                   fractions: Iterable[float] = (0.125, 0.25, 0.5, 1.0), match_steps: bool = False,
                   progress: bool = False, out: str | Path | bool | None = None) -> dict[str, Any]:
    """Train the config on each fraction of its training data and return the curve (JSON-able).

    With a fixed `train.epochs` a small subset also gets fewer optimizer steps, so a short recipe makes the curve
    look steeper than the data alone would; `match_steps` gives every subset as many steps as the full data
    gets (more epochs, slower). `progress` prints one line per fraction to stderr. `out`: also write the plot
    there (PNG) and the curve beside it (.json); True: RUN_ROOT/learning-curve-CONFIG.png (then curve["plot"]).
    """
    fractions = check_fractions(fractions)
    source, config = config, load_config(config, overrides)
    data = prepare_data(config.data)
    split = _scored_split(data)
    metric, higher_is_better = _metric(data)
    # one seeded order, cut at each size: the subsets are nested, so the points differ only in how much data
    order = torch.randperm(len(data.splits["train"]), generator=torch.Generator().manual_seed(config.train.seed))
    points = []
    for fraction in fractions:
        n = max(1, round(fraction * len(order)))
        epochs = _epochs_for(config, n, len(order)) if match_steps else _length(config, n).epochs
        points.append({"size": n, "epochs": epochs,
                       **_train_and_score(config, data, data.splits["train"].subset(order[:n]), epochs, split, metric)})
        if progress:
            print(f"{fraction:g} of the training data ({n:,} examples, {epochs} epochs): {metric} "
                  f"{points[-1]['score']:.4f} on {split}, {points[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    curve = _curve(points, fractions, metric, higher_is_better, split)
    curve["n_scored"] = len(data.splits[split])  # how precisely a score is known (the judgement needs it)
    plot = output_path(out, source, config, "learning-curve")
    if plot is not None:
        curve["plot"] = str(plot_learning_curve(curve, plot))
        write_json(plot.with_suffix(".json"), curve)
    return curve


def judge_curve(curve: dict[str, Any]) -> list[Finding]:
    """What the `not_enough_data` detector makes of a curve: would more data help?"""
    return judge(Record(learning_curve=curve), only=("not_enough_data",))


def _train_and_score(config: Config, data: PreparedData, train: Any, epochs: int, split: str, metric: str) -> dict:
    """Train the config's model on `train` and score it on `split`. Without a run folder there are no
    checkpoints, so `train.restore_best` cannot apply: the last (or averaged) weights are scored, which also
    keeps the validation score from picking its own epoch."""
    started = time.perf_counter()
    trainer, model = trainer_for(config, epochs=epochs), model_for(config, data)
    trainer.fit(model, train, data.splits.get("val"))
    results = trainer.evaluate(model, data.splits[split])
    return {"score": float(results[metric]), "loss": float(results["loss"]), "seconds": time.perf_counter() - started}


def _epochs_for(config: Config, n: int, n_full: int) -> int:
    """Epochs that give `n` examples as many optimizer steps as the configured epochs give the full data."""
    full = _length(config, n_full)
    batch = full.batch_size
    return max(1, round(full.epochs * -(-n_full // batch) / -(-n // batch)))


def _length(config: Config, n: int) -> TrainingLength:
    """The config's epochs and batch size for `n` training examples (auto ones chosen for `n`)."""
    return training_length(n, epochs=config.train.epochs, batch_size=config.train.batch_size)


def _curve(points: list[dict], fractions: tuple[float, ...], metric: str, higher_is_better: bool,
           split: str) -> dict[str, Any]:
    """The measured points, the power law fitted to their errors, and what it projects for 2x and 10x the data."""
    sizes, scores = [p["size"] for p in points], [p["score"] for p in points]
    fit = fit_power_law(sizes, [1 - s for s in scores] if higher_is_better else scores)
    curve = {"metric": metric, "higher_is_better": higher_is_better, "split": split, "fractions": list(fractions),
             "sizes": sizes, "epochs": [p["epochs"] for p in points], "scores": scores,
             "losses": [p["loss"] for p in points], "seconds": [p["seconds"] for p in points], "fit": fit,
             "projected": {f"{k}x": float(score_of(power_law(k * sizes[-1], **fit), higher_is_better))
                           for k in (2, 10)}}
    if split == "test":
        curve["note"] = "the config has no validation split: scored on the test split"
    return curve


def _scored_split(data: PreparedData) -> str:
    for split in ("val", "test"):
        if split in data.splits and len(data.splits[split]):
            return split
    raise ConfigError("a learning curve needs held-out data to score on: set data.split.val (e.g. 0.1)")


def _metric(data: PreparedData) -> tuple[str, bool]:
    """The first output's accuracy (classification) or MAE (regression), and whether higher is better."""
    first = next(iter(data.outputs.values()))
    name = metric_key(first.name, "accuracy" if first.type in ("category", "binary") else "mae", data.outputs)
    return name, direction(name) == "max"
