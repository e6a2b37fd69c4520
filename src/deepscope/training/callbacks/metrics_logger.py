"""Append one JSON line per epoch to `metrics.jsonl`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.io import append_line, write_text
from deepscope.training.callbacks.base import Callback


class MetricsLogger(Callback):
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_fit_start(self, trainer: Any) -> None:
        # on a resume, rewrite the file from the checkpoint's history: drops any epoch logged after it
        import json

        write_text(self.path, "".join(json.dumps(row) + "\n" for row in trainer.history))

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        append_line(self.path, logs)
