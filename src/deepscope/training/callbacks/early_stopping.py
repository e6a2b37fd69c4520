"""Stop when the monitored metric has not improved for `patience` epochs."""

from __future__ import annotations

import logging
import math
from typing import Any

from deepscope.training.callbacks.base import Callback
from deepscope.training.monitor import improves, mode_of

log = logging.getLogger("deepscope")


class EarlyStopping(Callback):
    """Stop training once `monitor` has gone `patience` epochs without beating its best by `min_delta`.

    Args:
        patience: epochs without improvement to wait.
        monitor: the metric to watch (default: the trainer's, val.loss when there is validation data).
        min_delta: how much a new value must beat the best by to count.

        trainer = Trainer(callbacks=[EarlyStopping(patience=3)])   # monitors val.loss (or train.loss)
    """

    def __init__(self, patience: int = 5, monitor: str | None = None, min_delta: float = 0.0):
        self.patience = patience
        self.monitor = monitor
        self.min_delta = min_delta
        self.best = math.nan
        self.best_epoch = -1
        self.wait = 0

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        monitor = self.monitor or trainer.monitor
        if monitor not in logs:
            return
        value = logs[monitor]
        if improves(value, self.best, mode_of(monitor), min_delta=self.min_delta):
            self.best, self.best_epoch, self.wait = value, trainer.epoch, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.should_stop = True
            log.info("early stopping: %s has not improved for %d epochs (best %.4g at epoch %d)",
                     monitor, self.patience, self.best, self.best_epoch + 1)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
