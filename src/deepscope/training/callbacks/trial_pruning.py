"""Report the monitored metric to a hyperparameter search after each epoch, and stop the trial when the search
says it cannot win (pruning). The search itself is not known here: `report` is any function, so the trainer does
not depend on Optuna (run/tune_worker.py passes one that asks Optuna's pruner).

    pruning = TrialPruning(lambda epoch, value: value > 0.5 and epoch >= 2)   # stop a trial still above 0.5
    trainer = Trainer(callbacks=[pruning]); trainer.fit(model, train, val)
    pruning.pruned_epoch                                                      # None: it trained to its end
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from deepscope.training.callbacks.base import Callback

log = logging.getLogger("deepscope")


class TrialPruning(Callback):
    """Call `report(epoch, value)` with the monitored metric at each epoch's end; when it returns True, training
    stops after that epoch (the run then ends as any run does: saved, evaluated, recorded).

    Args:
        report: (epoch, 1 for the first; the monitored value) -> whether to stop now.
        monitor: the metric to report (default: the trainer's, val.loss when there is validation data).
    """

    def __init__(self, report: Callable[[int, float], bool], monitor: str | None = None):
        self.report = report
        self.monitor = monitor
        self.pruned_epoch: int | None = None

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        monitor = self.monitor or trainer.monitor
        value = logs.get(monitor)
        if value is None or not math.isfinite(value):  # nothing to judge on; a NaN loss stops training itself
            return
        if self.report(trainer.epoch, float(value)):
            self.pruned_epoch = trainer.epoch
            trainer.should_stop = True
            log.info("trial pruned after epoch %d: %s %.4g is not promising", trainer.epoch, monitor, value)

    def state_dict(self) -> dict[str, Any]:
        return {"pruned_epoch": self.pruned_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pruned_epoch = state.get("pruned_epoch")
