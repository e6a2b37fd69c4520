"""Stop when the monitored metric has not improved for `patience` epochs."""

from __future__ import annotations

import logging
import math
from typing import Any

from deepscope.training.callbacks.base import Callback

log = logging.getLogger("deepscope")


def is_better(value: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    if math.isnan(value):
        return False
    return value < best - min_delta if mode == "min" else value > best + min_delta


def mode_for(monitor: str) -> str:
    """Losses and errors go down; everything else (accuracy, AUC, R²) goes up."""
    name = monitor.rsplit(".", 1)[-1]
    return "min" if name in ("loss", "mae", "rmse", "mape", "smape") else "max"


class EarlyStopping(Callback):
    """
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
        value, mode = logs[monitor], mode_for(monitor)
        if math.isnan(self.best) or is_better(value, self.best, mode, self.min_delta):
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
