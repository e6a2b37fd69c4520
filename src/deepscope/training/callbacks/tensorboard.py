"""Write TensorBoard event files, for people who already live there.

    trainer = Trainer(callbacks=[TensorBoard("runs/tb")])        # then: tensorboard --logdir runs/tb
    # in a config: run: {tensorboard: true}  ->  RUN_DIR/tensorboard/

Scalars: the training loss and learning rate every `log_every` steps (the values the trainer has already
fetched, so no extra device sync), every epoch metric (`val.loss`, `val.accuracy`, ...) at the epoch's last step,
and with `histograms=True` each parameter's weights once an epoch. Needs the `tensorboard` package
(`pip install tensorboard`); torch's own SummaryWriter writes the files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.training.callbacks.base import Callback


class TensorBoard(Callback):
    def __init__(self, log_dir: str | Path, *, histograms: bool = False):
        self.log_dir = Path(log_dir)
        self.histograms = histograms
        self.writer: Any = None

    def on_fit_start(self, trainer: Any) -> None:
        if not trainer.strategy.is_main:  # one writer per run, not one per process
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:  # torch raises this when the tensorboard package is missing
            raise UserError("run.tensorboard: the tensorboard package is not installed; `pip install tensorboard`, "
                            "or remove the option") from error
        # purge_step drops events past the resumed step, so a resumed run's curves do not double back
        self.writer = SummaryWriter(str(self.log_dir), purge_step=trainer.global_step or None)

    def on_log(self, trainer: Any, logs: dict[str, float]) -> None:
        if self.writer is not None:
            self._scalars(logs, trainer.global_step)

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        if self.writer is None:
            return
        self._scalars({k: v for k, v in logs.items() if k != "epoch"}, trainer.global_step, prefix="epoch/")
        if self.histograms:
            for name, parameter in trainer.model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", parameter.detach().float().cpu(), trainer.global_step)
        self.writer.flush()  # a killed run keeps every finished epoch

    def on_fit_end(self, trainer: Any) -> None:
        self._close()

    def on_exception(self, trainer: Any, error: BaseException) -> None:
        self._close()

    def _scalars(self, logs: dict[str, float], step: int, prefix: str = "") -> None:
        for name, value in logs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self.writer.add_scalar(prefix + name, value, step)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
