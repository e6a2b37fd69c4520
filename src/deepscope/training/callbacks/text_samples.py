"""A language model's own words as it learns: after each epoch, a few short texts written by the model being
trained (the same seed every epoch, so they can be compared), appended to RUN/samples.jsonl; the report shows
them beside the loss curve.

    TextSamples(run_dir.samples, write=lambda model: generate_text(model, tokens, max_tokens=200, n=2, seed=0))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from deepscope.io import append_line
from deepscope.training.callbacks.base import Callback

if TYPE_CHECKING:
    from deepscope.training.trainer import Trainer


class TextSamples(Callback):
    def __init__(self, path: str | Path, write: Callable[[nn.Module], list[str]]):
        self.path, self.write = Path(path), write

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        model = trainer.eval_model or trainer.model
        append_line(self.path, {"epoch": int(logs["epoch"]), "samples": self.write(model)})
