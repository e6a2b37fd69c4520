"""The learning-rate range test (Smith 2015; fastai's and Lightning's `lr_find`): which learning rate to train with.

    result = lr_find("examples/mnist.yaml", steps=100)
    result.suggestion          # e.g. 3.2e-03: use it as train.optimizer.lr
    plot_lr_find(result, "runs/lr-find-mnist.png")

A fresh copy of the config's model is trained for `steps` mini-batches while the learning rate grows
exponentially from `start` to `end`; the loss first falls, then, once the rate is too large, rises and
diverges. The rate where the loss falls fastest is a good one to train with. The model is thrown away: the test
leaves no run directory and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from deepscope.config.loading import load_config
from deepscope.config.schema import Config
from deepscope.data.dataset import TensorData
from deepscope.data.prepare import prepare_data
from deepscope.errors import ConfigError
from deepscope.models.builder import build_model
from deepscope.serve.predictor import model_description
from deepscope.training.distributed import resolve_device
from deepscope.training.optim import build_optimizer
from deepscope.training.precision import Precision, get_precision
from deepscope.training.task import task_for
from deepscope.training.trainer import seed_everything

DIVERGENCE_FACTOR = 4.0  # stop once the smoothed loss is this many times its minimum (fastai, Lightning)
SKIP_START = 3  # the first smoothed points follow single noisy batches: their slopes are not trusted


@dataclass
class LRFindResult:
    """The learning rates tried, their losses (raw and smoothed), and what to make of them.

    `suggestion` is the rate to train with; `minimum_lr` is where the smoothed loss was lowest (already too
    large to train with: the loss is about to rise); `steep_range` is the span of rates around the suggestion
    where the loss falls at least half as fast as at its steepest. `rule` says which rule gave the suggestion:
    "steepest" or "minimum/10" (the fallback, when the loss never clearly fell).
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    minimum_lr: float
    steep_range: tuple[float, float]
    stopped_early: bool  # the loss diverged before the rate reached `end`
    rule: str

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["steep_range"] = list(self.steep_range)
        return values


def lr_find(
    config: str | Path | Mapping[str, Any] | Config,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.98,
    seed: int | None = None,
) -> LRFindResult:
    """Run the learning-rate range test on the config's data, model and optimizer.

    Data, model and optimizer are built as `deepscope.train` builds them (`seed` defaults to train.seed); the
    optimizer's lr and the schedule are replaced by the exponential sweep. Each step trains on the next
    shuffled (and augmented) training batch, cycling over the data, with the i-th learning rate
    `start * (end / start) ** (i / (steps - 1))`. The loss is smoothed with a bias-corrected exponential moving
    average (`smoothing` is its beta). The test stops early when the smoothed loss exceeds 4x its minimum or
    the loss is NaN or infinite.

    The suggestion is fastai's "steep" rule: the rate at which the smoothed loss falls fastest against
    log10(lr), looking only at the points before the smoothed loss's minimum (past it, any slope is the start
    of divergence) and after the first three (which follow single batches). When there is no falling stretch
    there to judge (the loss was lowest at the very start, or never fell), the suggestion falls back to
    `minimum_lr / 10`, fastai's "minimum" rule.
    """
    check_range(start, end, steps, smoothing)
    config = load_config(config, overrides)
    data = prepare_data(config.data)
    seed = config.train.seed if seed is None else seed
    seed_everything(seed, deterministic=config.train.deterministic)  # the initial weights too
    model_config = config.model.model_dump(mode="json", exclude_none=True)
    model = build_model(model_config, model_description(data.inputs), model_description(data.outputs))
    device = resolve_device(config.train.device)
    model = model.to(device).train()
    rates = exponential_rates(start, end, steps)
    losses = _sweep(model, config, data.splits["train"].to(device), rates, smoothing, seed, device)
    return summarise(rates[: len(losses)], losses, smoothing, stopped_early=len(losses) < steps)


def check_range(start: float, end: float, steps: int, smoothing: float = 0.98) -> None:
    """The sweep options make sense; a ConfigError naming the option otherwise."""
    if not (math.isfinite(start) and start > 0):
        raise ConfigError(f"lr-find: the start learning rate must be positive, got {start}; e.g. 1e-7")
    if not (math.isfinite(end) and end > start):
        raise ConfigError(f"lr-find: the start learning rate ({start:g}) must be below the end ({end:g}); "
                          "e.g. --start 1e-7 --end 10")
    if steps < 10:
        raise ConfigError(f"lr-find: {steps} steps are too few to see the loss fall and rise; use 50 to 200")
    if not 0 <= smoothing < 1:
        raise ConfigError(f"lr-find: smoothing must be in [0, 1), got {smoothing}; 0.98 is usual")


def exponential_rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from `start` to `end`, evenly spaced on a log scale."""
    return [float(lr) for lr in np.geomspace(start, end, steps)]


def _sweep(model: nn.Module, config: Config, train: TensorData, rates: list[float], smoothing: float, seed: int,
           device: torch.device) -> list[float]:
    """Train one batch per rate; the raw losses, up to where the loss diverged."""
    spec = config.train.optimizer.model_dump(exclude_none=True)
    options = {k: v for k, v in spec.items() if k not in ("name", "lr")}
    optimizer = build_optimizer(model, spec.get("name") or "adam", lr=rates[0], **options)
    precision = get_precision(config.train.precision, device)
    task = task_for(model, None)
    batches = _endless_batches(train, config.train.batch_size, seed)
    smoother = _Smoother(smoothing)
    losses: list[float] = []
    for lr, batch in zip(rates, batches):
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = _train_step(model, task, optimizer, precision, batch, config.train.grad_clip)
        if not math.isfinite(loss):  # nothing to learn from a NaN, and JSON cannot hold it
            break
        losses.append(loss)
        smoothed = smoother.add(loss)
        if smoothed > DIVERGENCE_FACTOR * smoother.best and len(losses) > 1:
            break
    return losses


def _train_step(model: nn.Module, task: Any, optimizer: torch.optim.Optimizer, precision: Precision,
                batch: dict[str, torch.Tensor], grad_clip: float | None) -> float:
    """The trainer's step (autocast, loss scaling, clipping), returning the loss as a number."""
    optimizer.zero_grad(set_to_none=True)
    with precision.autocast():
        loss, _ = task.forward_loss(model, batch)
    precision.backward(loss)
    if grad_clip:
        precision.unscale(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    precision.step(optimizer)
    return float(loss.detach())


def _endless_batches(data: TensorData, batch_size: int, seed: int) -> Iterator[dict[str, torch.Tensor]]:
    """Shuffled training batches, epoch after epoch. Full batches only (when there are any), so that a small
    last batch does not put a jump into the loss curve."""
    generator = torch.Generator().manual_seed(seed)
    drop_last = len(data) >= batch_size
    while True:
        yield from data.batches(batch_size, shuffle=True, generator=generator, drop_last=drop_last)


class _Smoother:
    """Bias-corrected exponential moving average (as Adam corrects its moments), and its lowest value."""

    def __init__(self, beta: float):
        self.beta, self.average, self.count, self.best = beta, 0.0, 0, math.inf

    def add(self, value: float) -> float:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * value
        smoothed = self.average / (1 - self.beta**self.count)
        self.best = min(self.best, smoothed)
        return smoothed


def smooth(losses: list[float], beta: float) -> list[float]:
    smoother = _Smoother(beta)
    return [smoother.add(loss) for loss in losses]


def summarise(lrs: list[float], losses: list[float], smoothing: float, *, stopped_early: bool) -> LRFindResult:
    """The suggestion, the minimum and the steep range from the rates tried and their raw losses."""
    if not losses:
        raise ConfigError("lr-find: the loss was NaN or infinite from the first step; check the inputs for NaN "
                          "or extreme values, or lower --start")
    smoothed = smooth(losses, smoothing)
    lowest = int(np.argmin(smoothed))
    minimum_lr = lrs[lowest]
    slopes = _slopes(lrs, smoothed)
    steepest = _steepest_before(slopes, lowest)
    if steepest is None:
        return LRFindResult(lrs, losses, smoothed, minimum_lr / 10, minimum_lr, (lrs[0], minimum_lr),
                            stopped_early, "minimum/10")
    low, high = _steep_span(slopes, steepest, lowest)
    return LRFindResult(lrs, losses, smoothed, lrs[steepest], minimum_lr, (lrs[low], lrs[high]), stopped_early,
                        "steepest")


def _slopes(lrs: list[float], smoothed: list[float]) -> np.ndarray:
    """d(smoothed loss) / d(log10 lr) at each point (central differences inside, one-sided at the ends)."""
    if len(lrs) < 2:
        return np.zeros(len(lrs))
    return np.gradient(np.asarray(smoothed), np.log10(lrs))


def _steepest_before(slopes: np.ndarray, lowest: int) -> int | None:
    """Where the loss falls fastest, between the trusted start and the minimum; None without a clear fall."""
    if lowest - SKIP_START < 2:
        return None
    index = SKIP_START + int(np.argmin(slopes[SKIP_START:lowest]))
    return index if slopes[index] < 0 else None


def _steep_span(slopes: np.ndarray, steepest: int, lowest: int) -> tuple[int, int]:
    """The run of points around the steepest one where the loss falls at least half as fast."""
    half = slopes[steepest] / 2
    low = high = steepest
    while low > SKIP_START and slopes[low - 1] <= half:
        low -= 1
    while high < lowest - 1 and slopes[high + 1] <= half:
        high += 1
    return low, high


def plot_lr_find(result: LRFindResult, path: str | Path) -> Path:
    """Write the loss against the learning rate (log scale) to a PNG, with the suggestion marked."""
    # no pyplot: no display needed, and no global figure state
    from matplotlib.figure import Figure

    path = Path(path)
    figure = Figure(figsize=(6.4, 4.2), dpi=100)
    axes = figure.subplots()
    axes.plot(result.lrs, result.losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="loss per batch")
    axes.plot(result.lrs, result.smoothed, color="tab:blue", label="smoothed loss")
    y = float(np.interp(np.log10(result.suggestion), np.log10(result.lrs), result.smoothed))
    axes.plot([result.suggestion], [y], "o", color="tab:red", markersize=8,
              label=f"suggested lr {result.suggestion:.1e} ({result.rule})")
    axes.axvspan(*result.steep_range, color="tab:green", alpha=0.1, label="loss falls fastest")
    axes.set_xscale("log")
    axes.set_ylim(*_loss_limits(result))
    axes.set_xlabel("learning rate")
    axes.set_ylabel("training loss")
    axes.set_title("learning-rate range test")
    axes.legend(loc="upper left")
    axes.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def _loss_limits(result: LRFindResult) -> tuple[float, float]:
    """From the lowest loss to the start, or to 4x the smoothed minimum when the divergence climbs higher: the
    last points of a diverging run can be orders of magnitude above the rest and would flatten the curve."""
    lowest, smoothed = min(min(result.losses), min(result.smoothed)), result.smoothed
    top = max(smoothed[0], min(max(smoothed), DIVERGENCE_FACTOR * min(smoothed)))
    margin = 0.05 * (top - lowest) or 0.05 * abs(lowest) or 1.0
    return lowest - margin, top + margin
