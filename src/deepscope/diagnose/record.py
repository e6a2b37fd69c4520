"""What the diagnostics record, as plain JSON-able data; detectors are pure functions of it.

Recording (callbacks, data profiling) and judging (detectors) are separate so that a detector can be tested on
a hand-made record, and `deepscope diagnose RUN` can judge a saved record again.

Sections, each filled by one recorder and absent when it did not run:

- ``task``: ``{"outputs": {name: {"type": "category", "classes": 10, "priors": [...]}}, "n_train": int,
  "n_params": int, "epochs": int, "steps_per_epoch": int, "batch_size": int, "optimizer": "adam", "lr": 0.001,
  "grad_clip": None}``
- ``data``: the data profile (``deepscope.diagnose.profile.profile_data``): sizes, class counts, duplicates,
  leakage, missing values, constant features.
- ``init``: before the first step: ``{"loss": 2.31, "expected_loss": 2.30, "layers": [{"name", "fan_in",
  "weight_std", "gain", "bias_mean"}]}``
- ``samples``: one entry every few steps: ``{"step", "epoch", "loss", "lr", "grad_norm" (total, before
  clipping), "layers": [{"name", "grad_norm", "grad_rms", "weight_norm", "update_ratio"}],
  "activations": [{"name", "kind", "dead", "saturated"}]}``; ``layers`` are in depth order (input first).
- ``history``: the trainer's epoch logs (``train.loss``, ``val.loss``, ``val.accuracy``, ``lr`` ...).
- ``nonfinite``: ``{"step", "epoch", "where", "layer"}`` when the loss or gradients became NaN or Inf.
- ``calibration``: ``{"split", "ece", "confidence", "accuracy", "temperature", "ece_after"}``
- ``learning_curve``: ``{"metric", "sizes": [...], "scores": [...], "projected": {...}}`` (on request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    task: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    init: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    nonfinite: dict[str, Any] | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    learning_curve: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    # helpers detectors share
    def outputs_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {n: o for n, o in self.task.get("outputs", {}).items() if o.get("type") in types}

    def series(self, key: str) -> list[float]:
        """One epoch-log value over epochs (missing epochs skipped)."""
        return [h[key] for h in self.history if isinstance(h.get(key), (int, float))]
