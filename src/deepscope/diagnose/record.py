"""What the diagnostics record, as plain JSON-able data; detectors are pure functions of it.

Recording (callbacks, data profiling) and judging (detectors) are separate so that a detector can be tested on
a hand-made record, and `deepscope diagnose RUN` can judge a saved record again.

Sections, each filled by one recorder and absent when it did not run:

- ``task``: ``{"outputs": {name: {"type": "category", "classes": 10, "label_smoothing": 0.1}}, "n_train": int,
  "n_params": int, "epochs": int, "steps_per_epoch": int, "batch_size": int, "optimizer": "adam", "lr": 0.001
  (the configured, peak rate), "schedule": "onecycle", "grad_clip": None, "activations": {"relu": 2},
  "recurrent": {layer: "rnn" | "lstm" | "gru"}}``
- ``data``: the data profile (``deepscope.diagnose.profile.profile_data``): sizes, class counts, duplicates,
  leakage, missing values, constant features.
- ``init``: before the first step: ``{"loss": 2.31, "expected_loss": 2.30, "layers": [{"name", "fan_in",
  "weight_std", "gain", "bias_mean"}], "activations": [as in samples], "path": {"order": [layers in the order
  the forward pass runs them], "constant_input": [layers fed the same input for every example],
  "no_gradient": [layers the loss does not reach]}}``
- ``first_step``: the very first step, measured as a sample is (a rate that is too high shows there first).
- ``samples``: one every few steps: ``{"step", "epoch", "loss", "lr", "grad_norm" (total,
  before clipping), "layers": [{"name", "grad_norm", "grad_rms", "weight_norm", "update_ratio"}],
  "activations": [{"name", "kind", "dead", "saturated"}]}``; ``layers`` are in definition order (see
  `Record.depth_path` for the order along the network's path).
- ``history``: the trainer's epoch logs (``train.loss``, ``val.loss``, ``val.accuracy``, ``lr`` ...).
- ``nonfinite``: ``{"step", "epoch", "where", "layer"}`` when the loss or gradients became NaN or Inf.
- ``calibration``: ``{"split", "ece", "confidence", "accuracy", "temperature", "ece_after"}``
- ``learning_curve``: ``{"metric", "sizes": [...], "scores": [...], "projected": {...}}`` (on request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# PyTorch's name for the state-to-state weights of layer k of an nn.RNN / LSTM / GRU (its backward direction too)
RECURRENT_WEIGHT_NAME = re.compile(r"\.weight_hh_l\d+(_reverse)?$")
RECURRENT_WEIGHT = "a recurrent weight: it carries the state through time (judged through time), not to the next layer"


@dataclass
class Record:
    task: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    init: dict[str, Any] = field(default_factory=dict)
    first_step: dict[str, Any] = field(default_factory=dict)
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

    def depth_path(self, names: list[str]) -> tuple[list[str], dict[str, str]]:
        """The layers among `names` that lie on the network's path from input to output, input side first, and
        {layer: why it is left out} for the others.

        The order is the one the forward pass ran them in (`init["path"]`, without which `names` keep theirs).
        Left out: layers fed a constant (a column with one value carries no information, and its gradient is
        zero by construction), layers the loss never reaches, and the recurrent weights of an RNN, LSTM or GRU
        (`weight_hh_l0`: the same layer as its input weights, carrying the state through time, which is judged
        apart): none says how gradients fade with depth.
        """
        path = self.init.get("path") or {}
        left_out = {**{n: RECURRENT_WEIGHT for n in names if RECURRENT_WEIGHT_NAME.search(n)},
                    **{n: "the loss does not reach it" for n in path.get("no_gradient", ())},
                    **{n: "its input is the same for every example" for n in path.get("constant_input", ())}}
        rank = {name: i for i, name in enumerate(path.get("order", ()))}
        kept = sorted((n for n in names if n not in left_out), key=lambda n: rank.get(n, len(rank)))
        return kept, {n: why for n, why in left_out.items() if n in names}

    def trained_fraction(self) -> float | None:
        """The share of its planned epochs the run has trained so far (None without a plan: a hand-made record)."""
        planned = self.task.get("epochs")
        return len(self.history) / planned if isinstance(planned, int) and planned > 0 else None

    def series(self, key: str) -> list[float]:
        """One epoch-log value over epochs (missing epochs skipped)."""
        return [h[key] for h in self.history if isinstance(h.get(key), (int, float))]
