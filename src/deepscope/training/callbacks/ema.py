"""An exponential moving average of the weights, used for validation and kept as the final model.

Averaging the weights of the last few hundred steps smooths out the noise of small batches and small data
sets (Polyak averaging; timm's ModelEmaV2, Keras' `use_ema`). The average lives in its own copy of the
model, `trainer.eval_model`, which validation, the best checkpoint and the final model use; the trainer
also saves it in `last.safetensors`, so a resumed run continues the same average.

    Trainer(callbacks=[ExponentialMovingAverage(decay=0.99)])   # ~100-step window
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from deepscope.training.callbacks.base import Callback


class ExponentialMovingAverage(Callback):
    def __init__(self, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be between 0 and 1, got {decay}")
        self.decay = decay

    def on_fit_start(self, trainer: Any) -> None:
        if trainer.eval_model is trainer.model:  # not already set up (fit may be called again)
            trainer.eval_model = copy.deepcopy(trainer.model)
        live, average = trainer.model.state_dict(), trainer.eval_model.state_dict()
        floats = [k for k, v in live.items() if v.is_floating_point()]
        self.live = [live[k] for k in floats]
        self.average = [average[k] for k in floats]
        self.live_counters = [v for k, v in live.items() if not v.is_floating_point()]  # e.g. BN batch counts
        self.average_counters = [average[k] for k, v in live.items() if not v.is_floating_point()]

    @torch.no_grad()
    def on_batch_end(self, trainer: Any) -> None:
        torch._foreach_lerp_(self.average, self.live, 1.0 - self.decay)  # one fused kernel, no sync
        for average, live in zip(self.average_counters, self.live_counters):
            average.copy_(live)

    @torch.no_grad()
    def on_fit_end(self, trainer: Any) -> None:
        trainer.model.load_state_dict(trainer.eval_model.state_dict())
