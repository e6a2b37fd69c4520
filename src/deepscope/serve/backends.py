"""What runs the forward pass for the server: a "backend" takes an encoded batch (the fitted input features'
`encode` output, by column) and returns what `DeepscopeModel.predict` returns, per output name its tensors
({"label": {"probabilities": (n, C)}}). The torch model is one backend; an exported ONNX file is another
(serve/onnx_backend.py), so the server never branches on which it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch

from deepscope.data.features import Feature
from deepscope.models.saving import load_model

Batch = dict[str, torch.Tensor]
Predictions = dict[str, dict[str, torch.Tensor]]


class Backend(Protocol):
    inputs: dict[str, Feature]
    outputs: dict[str, Feature]
    name: str

    def predict(self, batch: Batch) -> Predictions: ...


class TorchBackend:
    """The run's own model, in eval mode, under inference mode (no autograd bookkeeping)."""

    name = "torch"

    def __init__(self, run: str | Path, device: str = "cpu"):
        saved = load_model(run, device)
        self.model = saved.model.eval()
        self.inputs, self.outputs = saved.inputs, saved.outputs
        self.device = torch.device(device)

    def predict(self, batch: Batch) -> Predictions:
        with torch.inference_mode():
            return self.model.predict({k: v.to(self.device) for k, v in batch.items()})
