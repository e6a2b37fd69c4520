"""Would more data help? Train on growing fractions of the training data, fit a power law, extrapolate.

    curve = learning_curve("examples/breastmnist.yaml", fractions=(0.125, 0.25, 0.5, 1.0))
    curve["scores"], curve["projected"]["2x"]

The error (1 - accuracy for classification, MAE for regression) of a well-regularised network falls as a power
of the training-set size, error(n) = a * n^-b + c (Hestness et al. 2017, "Deep Learning Scaling is
Predictable, Empirically"); c is the error no amount of this data would remove. Subsets are nested and seeded;
the validation split (else the test split) stays fixed, and every model trains with the config's recipe.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.config.loading import load_config
from deepscope.config.schema import Config
from deepscope.data.prepare import PreparedData, prepare_data
from deepscope.errors import ConfigError

EXPONENTS = np.linspace(0.02, 2.0, 199)


def check_fractions(fractions: Iterable[float]) -> tuple[float, ...]:
    values = tuple(float(f) for f in fractions)
    if len(values) < 3 or any(not 0 < f <= 1 for f in values) or list(values) != sorted(set(values)):
        raise ConfigError(f"--fractions {','.join(f'{f:g}' for f in values)}: give 3 or more increasing fractions "
                          "of the training data in (0, 1], e.g. 0.125,0.25,0.5,1")
    return values


def learning_curve(config: str | Path | Mapping[str, Any] | Config, overrides: Any = None, *,
                   fractions: Iterable[float] = (0.125, 0.25, 0.5, 1.0), match_steps: bool = False,
                   progress: bool = False) -> dict[str, Any]:
    """Train the config on each fraction of its training data and return the curve (JSON-able).

    With a fixed `train.epochs` a small subset also gets fewer optimizer steps, so a short recipe makes the curve
    look steeper than the data alone would; `match_steps` gives every subset as many steps as the full data
    gets (more epochs, slower). `progress` prints one line per fraction to stderr.
    """
    fractions = check_fractions(fractions)
    config = load_config(config, overrides)
    data = prepare_data(config.data)
    split = _scored_split(data)
    metric, higher_is_better = _metric(data)
    # one seeded order, cut at each size: the subsets are nested, so the points differ only in how much data
    order = torch.randperm(len(data.splits["train"]), generator=torch.Generator().manual_seed(config.train.seed))
    points = []
    for fraction in fractions:
        n = max(1, round(fraction * len(order)))
        epochs = _epochs_for(config, n, len(order)) if match_steps else config.train.epochs
        points.append({"size": n, "epochs": epochs,
                       **_train_and_score(config, data, data.splits["train"].subset(order[:n]), epochs, split, metric)})
        if progress:
            print(f"{fraction:g} of the training data ({n:,} examples, {epochs} epochs): {metric} "
                  f"{points[-1]['score']:.4f} on {split}, {points[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    curve = _curve(points, fractions, metric, higher_is_better, split)
    curve["n_scored"] = len(data.splits[split])  # how precisely a score is known (the judgement needs it)
    return curve


def _train_and_score(config: Config, data: PreparedData, train: Any, epochs: int, split: str, metric: str) -> dict:
    from deepscope.pipeline import model_for  # the same model as `deepscope train`

    started = time.perf_counter()
    trainer, model = _trainer(config, epochs), model_for(config, data)
    trainer.fit(model, train, data.splits.get("val"))
    results = trainer.evaluate(model, data.splits[split])
    return {"score": float(results[metric]), "loss": float(results["loss"]), "seconds": time.perf_counter() - started}


def _epochs_for(config: Config, n: int, n_full: int) -> int:
    """Epochs that give `n` examples as many optimizer steps as the configured epochs give the full data."""
    batch = config.train.batch_size
    return max(1, round(config.train.epochs * -(-n_full // batch) / -(-n // batch)))


def _curve(points: list[dict], fractions: tuple[float, ...], metric: str, higher_is_better: bool,
           split: str) -> dict[str, Any]:
    """The measured points, the power law fitted to their errors, and what it projects for 2x and 10x the data."""
    sizes, scores = [p["size"] for p in points], [p["score"] for p in points]
    fit = fit_power_law(sizes, [1 - s for s in scores] if higher_is_better else scores)
    curve = {"metric": metric, "higher_is_better": higher_is_better, "split": split, "fractions": list(fractions),
             "sizes": sizes, "epochs": [p["epochs"] for p in points], "scores": scores,
             "losses": [p["loss"] for p in points], "seconds": [p["seconds"] for p in points], "fit": fit,
             "projected": {f"{k}x": float(_score(power_law(k * sizes[-1], **fit), higher_is_better))
                           for k in (2, 10)}}
    if split == "test":
        curve["note"] = "the config has no validation split: scored on the test split"
    return curve


def _trainer(config: Config, epochs: int | None = None) -> Any:
    """`trainer_from_config` without the run directory: the same recipe (early stopping and weight averaging
    change the scores), no metrics log, no checkpoints. Without checkpoints `train.restore_best` cannot apply:
    the last (or averaged) weights are scored, which also keeps the validation score from picking its own epoch."""
    from deepscope.pipeline import trainer_options
    from deepscope.training.callbacks import EarlyStopping, ExponentialMovingAverage
    from deepscope.training.trainer import Trainer

    t = config.train
    callbacks: list[Any] = []
    if t.early_stopping:
        callbacks.append(EarlyStopping(t.early_stopping.patience, t.early_stopping.monitor, t.early_stopping.min_delta))
    if t.ema:
        callbacks.append(ExponentialMovingAverage(t.ema))
    return Trainer(callbacks=callbacks, **{**trainer_options(config), "epochs": epochs or t.epochs})


def _scored_split(data: PreparedData) -> str:
    for split in ("val", "test"):
        if split in data.splits and len(data.splits[split]):
            return split
    raise ConfigError("a learning curve needs held-out data to score on: set data.split.val (e.g. 0.1)")


def _metric(data: PreparedData) -> tuple[str, bool]:
    outputs = list(data.outputs.values())
    prefix = f"{outputs[0].name}." if len(outputs) > 1 else ""
    if outputs[0].type in ("category", "binary"):
        return f"{prefix}accuracy", True
    return f"{prefix}mae", False


def _score(error: float, higher_is_better: bool) -> float:
    return 1 - error if higher_is_better else error


def power_law(n: float | np.ndarray, a: float, b: float, c: float) -> float | np.ndarray:
    return a * np.power(n, -b) + c


def fit_power_law(sizes: list[int], errors: list[float]) -> dict[str, float]:
    """Least-squares a, b, c >= 0 for error = a * n^-b + c: for each exponent b on a grid, a and c are linear."""
    n, y = np.asarray(sizes, dtype=float), np.asarray(errors, dtype=float)
    best: tuple[float, dict[str, float]] | None = None
    for b in EXPONENTS:
        x = n ** -b
        design = np.stack([x, np.ones_like(x)], axis=1)
        (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
        if c < 0 or a < 0:  # the floor and the slope cannot be negative: fit the constrained form instead
            c = 0.0 if c < 0 else c
            a = max(float(x @ (y - c) / (x @ x)), 0.0)
        residual = float(((a * x + c - y) ** 2).sum())
        if best is None or residual < best[0]:
            best = (residual, {"a": float(a), "b": float(b), "c": float(c)})
    return best[1]


def plot_learning_curve(curve: dict[str, Any], path: str | Path) -> Path:
    """The measured points, the fitted power law and the projections, as a PNG (no display needed)."""
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(6, 4), dpi=110)
    axes = figure.subplots()
    sizes, higher = curve["sizes"], curve["higher_is_better"]
    span = np.geomspace(sizes[0], 10 * sizes[-1], 100)
    noise = _score_noise(curve)
    axes.errorbar(sizes, curve["scores"], yerr=noise, fmt="o", color="C0", capsize=3,
                  label=f"measured ({curve['split']}{', ±2 standard errors' if noise else ''})")
    axes.plot(span, [_score(power_law(n, **curve["fit"]), higher) for n in span], "-", color="C0", alpha=0.6,
              label="power-law fit")
    projected = [(k * sizes[-1], curve["projected"][f"{k}x"]) for k in (2, 10)]
    axes.plot(*zip(*projected), "s--", color="C1", label="projected (2x, 10x data)")
    axes.set_xscale("log")
    axes.set_xlabel("training examples")
    axes.set_ylabel(curve["metric"])
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    return path


def _score_noise(curve: dict[str, Any]) -> list[float] | None:
    """About two binomial standard errors per accuracy (what the held-out size allows); None for regression."""
    n = curve.get("n_scored")
    if not n or not curve["higher_is_better"]:
        return None
    accuracy = np.clip(curve["scores"], 0.0, 1.0)
    return (2 * np.sqrt(accuracy * (1 - accuracy) / n)).tolist()
