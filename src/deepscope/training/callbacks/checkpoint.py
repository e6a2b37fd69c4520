"""Write `last.safetensors` (everything needed to resume) and `best.safetensors` (the best weights so far), and
at the end put the best weights back into the model when asked to."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepscope.io import load_tensors, safetensors_problem, save_tensors
from deepscope.training.callbacks.base import Callback
from deepscope.training.checkpoint import DAMAGED_BEST_FIX, damaged, restoring, writing_checkpoint
from deepscope.training.monitor import improves, mode_of

LAST, BEST = "last.safetensors", "best.safetensors"


class ModelCheckpoint(Callback):
    """Checkpoint at every epoch end (and every `every_steps` steps); keep the best weights on `monitor`.

    Put it last in the callback list, so the checkpoint holds the other callbacks' updated state.

    Args:
        folder: where last.safetensors and best.safetensors go.
        every_steps: also write last.safetensors every this many optimizer steps.
        monitor: the metric that picks the best epoch (default: the trainer's).
        restore_best: when training ends, load the best epoch's weights into the model, so that what is
            evaluated and saved is the best epoch on validation rather than the last (only with validation data:
            without it the "best" epoch would be picked on the training loss).

        Trainer(callbacks=[..., ModelCheckpoint("runs/x/checkpoints", every_steps=500, restore_best=True)])
    """

    def __init__(self, folder: str | Path, *, every_steps: int | None = None, monitor: str | None = None,
                 restore_best: bool = False):
        self.folder = Path(folder)
        self.every_steps = every_steps
        self.monitor = monitor
        self.restore_best = restore_best
        self.best = math.nan
        self.best_epoch = 0

    def on_batch_end(self, trainer: Any) -> None:
        if self.every_steps and trainer.global_step % self.every_steps == 0:
            trainer.save_checkpoint(self.folder / LAST)

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        monitor = self.monitor or trainer.monitor
        value = logs.get(monitor, math.nan)
        if math.isnan(self.best) or improves(value, self.best, mode_of(monitor)):
            self.best, self.best_epoch = value, logs["epoch"]
            # the weights that were validated: the model's, or their average when one is kept
            with writing_checkpoint(self.folder / BEST):
                save_tensors(self.folder / BEST, dict(_unwrap(trainer.eval_model).state_dict()),
                             {"epoch": logs["epoch"], "monitor": monitor, "value": value})
        trainer.save_checkpoint(self.folder / LAST)

    def on_fit_start(self, trainer: Any) -> None:
        # a resumed run puts these weights back at its end: find them damaged now, not after the training
        best = self.folder / BEST
        if self.restore_best and best.is_file() and (problem := safetensors_problem(best)):
            raise damaged(best, f"it is damaged ({problem})", DAMAGED_BEST_FIX)

    def on_fit_end(self, trainer: Any) -> None:
        best = self.folder / BEST
        if self.restore_best and trainer.val_data is not None and best.exists():
            with restoring(best, DAMAGED_BEST_FIX):  # another model's weights are a damaged file, not a crash
                _unwrap(trainer.model).load_state_dict(load_tensors(best)[0])

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


def _unwrap(model: Any) -> Any:
    return getattr(model, "module", model)
