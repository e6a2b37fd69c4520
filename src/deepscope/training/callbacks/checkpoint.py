"""Write `last.safetensors` (everything needed to resume) and `best.safetensors` (the best weights so far)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepscope.io import save_tensors
from deepscope.training.callbacks.base import Callback
from deepscope.training.callbacks.early_stopping import is_better, mode_for

LAST, BEST = "last.safetensors", "best.safetensors"


class ModelCheckpoint(Callback):
    """Put it last in the callback list, so the checkpoint holds the other callbacks' updated state.

        Trainer(callbacks=[..., ModelCheckpoint("runs/x/checkpoints", every_steps=500)])
    """

    def __init__(self, folder: str | Path, *, every_steps: int | None = None, monitor: str | None = None):
        self.folder = Path(folder)
        self.every_steps = every_steps
        self.monitor = monitor
        self.best = math.nan
        self.best_epoch = 0

    def on_batch_end(self, trainer: Any) -> None:
        if self.every_steps and trainer.global_step % self.every_steps == 0:
            trainer.save_checkpoint(self.folder / LAST)

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        monitor = self.monitor or trainer.monitor
        value = logs.get(monitor, math.nan)
        if math.isnan(self.best) or is_better(value, self.best, mode_for(monitor)):
            self.best, self.best_epoch = value, logs["epoch"]
            # the weights that were validated: the model's, or their average when one is kept
            save_tensors(self.folder / BEST, dict(_unwrap(trainer.eval_model).state_dict()),
                         {"epoch": logs["epoch"], "monitor": monitor, "value": value})
        trainer.save_checkpoint(self.folder / LAST)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


def _unwrap(model: Any) -> Any:
    return getattr(model, "module", model)
