"""The learning-rate range test as a callback (Smith 2015; fastai's and Lightning's `lr_find`): the trainer's own
steps, one mini-batch per rate, while the rate grows exponentially from `start` to `end`.

    finder = LRFinder(start=1e-7, end=10, steps=100)
    Trainer(schedule="constant", callbacks=[finder]).fit(model, train_data)
    finder.lrs, finder.losses          # what `deepscope.diagnose.lr_range.summarise` turns into a suggestion

Because the steps are the trainer's, the test clips gradients, autocasts and shuffles (and augments) exactly as
training does. The callback takes the schedule over for the run (use a constant one: a one-cycle schedule has
already moved the optimizer's momentum by then), reads the loss after every step (one device sync per step,
which a range test of a hundred steps can afford), and stops training once it has tried every rate or the
smoothed loss has passed 4x its minimum. A loss that turns NaN or infinite ends the test too: the trainer then
raises `TrainingDiverged`, the ordinary end of a range test, which `deepscope.lr_find` expects.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepscope.errors import ConfigError
from deepscope.training.callbacks.base import Callback
from deepscope.training.optim import Schedule

DIVERGENCE_FACTOR = 4.0  # stop once the smoothed loss is this many times its minimum (fastai, Lightning)


def exponential_rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from `start` to `end`, evenly spaced on a log scale."""
    return [float(lr) for lr in np.geomspace(start, end, steps)]


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


class Smoother:
    """Bias-corrected exponential moving average (as Adam corrects its moments), and its lowest value."""

    def __init__(self, beta: float):
        self.beta, self.average, self.count, self.best = beta, 0.0, 0, math.inf

    def add(self, value: float) -> float:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * value
        smoothed = self.average / (1 - self.beta**self.count)
        self.best = min(self.best, smoothed)
        return smoothed


class RangeTestSchedule(Schedule):
    """Step i trains at `rates[i]` (the last rate once the sweep is over), whatever the optimizer's base rate."""

    name = "range_test"

    def __init__(self, optimizer: Any, rates: list[float]):
        self.rates = rates
        super().__init__(optimizer, total_steps=len(rates), steps_per_epoch=len(rates))

    def decay(self, base_lr: float) -> float:
        return self.rates[min(self.step_count, len(self.rates) - 1)]


class LRFinder(Callback):
    """Try `steps` learning rates from `start` to `end`, one training step each; `lrs` and `losses` hold the
    rates tried and the loss of each step, up to where the loss diverged.

    Args:
        start, end: the smallest and the largest rate.
        steps: rates to try (one mini-batch each; the data cycles when it has fewer batches).
        smoothing: beta of the loss's moving average that the divergence check reads.
    """

    def __init__(self, start: float = 1e-7, end: float = 10.0, steps: int = 100, smoothing: float = 0.98):
        check_range(start, end, steps, smoothing)
        self.rates = exponential_rates(start, end, steps)
        self.smoothing = smoothing
        self.lrs: list[float] = []
        self.losses: list[float] = []

    @property
    def stopped_early(self) -> bool:
        """The loss diverged before the rate reached `end`."""
        return len(self.losses) < len(self.rates)

    def on_fit_start(self, trainer: Any) -> None:
        self.lrs, self.losses, self.smoother = [], [], Smoother(self.smoothing)
        trainer.schedule = RangeTestSchedule(trainer.optimizer, self.rates)
        trainer.epochs = max(trainer.epochs, trainer.epoch + math.ceil(len(self.rates) / trainer.steps_per_epoch))

    def on_batch_end(self, trainer: Any) -> None:
        loss = float(trainer.last_loss)
        if not math.isfinite(loss):  # nothing to learn from a NaN, and JSON cannot hold it
            trainer.should_stop = True
            return
        self.lrs.append(self.rates[len(self.losses)])
        self.losses.append(loss)
        smoothed = self.smoother.add(loss)
        diverged = smoothed > DIVERGENCE_FACTOR * self.smoother.best and len(self.losses) > 1
        if diverged or len(self.losses) == len(self.rates):
            trainer.should_stop = True
