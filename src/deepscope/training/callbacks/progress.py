"""Progress with loss, throughput and ETA: a rich bar in a terminal, plain lines otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from deepscope.formats import table_number
from deepscope.training.callbacks.base import Callback

# the few numbers worth a glance every epoch; everything is in metrics.jsonl
HEADLINE = ("loss", "accuracy", "roc_auc", "mae", "r2")


def format_logs(logs: dict[str, Any]) -> str:
    parts = []
    for key, value in logs.items():
        if key in ("epoch", "time") or not isinstance(value, (int, float)):
            continue
        if key == "lr" or key.rsplit(".", 1)[-1] in HEADLINE:
            parts.append(f"{key} {table_number(value)}")
    return "  ".join(parts + [f"{logs.get('time', 0.0):.1f}s"])


class ProgressBar(Callback):
    def __init__(self, console: Console | None = None, plain: bool | None = None):
        self.console = console or Console(file=sys.stderr)
        self.plain = (not self.console.is_terminal) if plain is None else plain
        self.progress: Progress | None = None

    def on_fit_start(self, trainer: Any) -> None:
        self.total = trainer.epochs * trainer.steps_per_epoch
        self.started, self.start_step = time.perf_counter(), trainer.global_step
        if not self.plain:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(), console=self.console, transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total, completed=trainer.global_step, info="")

    def on_log(self, trainer: Any, logs: dict[str, float]) -> None:
        elapsed = time.perf_counter() - self.started
        rate = (trainer.global_step - self.start_step) * trainer.batch_size / max(elapsed, 1e-9)
        info = f"loss {logs['train.loss']:.4f}  {rate:,.0f} ex/s"
        description = f"epoch {trainer.epoch + 1}/{trainer.epochs}"
        if self.progress:
            self.progress.update(self.task, completed=trainer.global_step, info=info, description=description)
        else:
            eta = (self.total - trainer.global_step) / max(trainer.global_step - self.start_step, 1) * elapsed
            self.console.print(f"{description}  step {trainer.global_step}/{self.total}  {info}  eta {eta:.0f}s",
                               highlight=False, soft_wrap=True)

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        line = f"epoch {logs['epoch']}/{trainer.epochs}  {format_logs(logs)}"
        (self.progress.console if self.progress else self.console).print(line, highlight=False, soft_wrap=True)

    def on_fit_end(self, trainer: Any) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None

    def on_exception(self, trainer: Any, error: BaseException) -> None:
        self.on_fit_end(trainer)  # leave the terminal clean for the error message
