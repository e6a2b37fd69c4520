"""Load a trained model from its run directory and predict from raw values.

    predictor = deepscope.load("runs/mnist-20261123-214500")
    predictor.predict({"image": "digit.png"})     # [{"label": 7, "probabilities": {...}}]
    predictor.predict([{"age": 41, "job": "admin"}, {"age": 29, "job": None}])

Loading reads safetensors and JSON only: nothing in a run directory can execute code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from deepscope.data.features import Feature
from deepscope.errors import DataError, UserError
from deepscope.io import load_tensors
from deepscope.models.builder import DeepscopeModel, build_model


def model_description(features: dict[str, Feature]) -> dict[str, dict[str, Any]]:
    return {name: {**f.describe(), "head": f.head_config} for name, f in features.items()}


class Predictor:
    def __init__(self, model: DeepscopeModel, inputs: dict[str, Feature], outputs: dict[str, Feature],
                 device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.inputs, self.outputs = inputs, outputs

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> "Predictor":
        folder = Path(path)
        folder = folder / "model" if (folder / "model" / "model.json").exists() else folder
        if not (folder / "model.json").exists():
            raise UserError(
                f"{path}: no trained model here (model/model.json is missing); give a finished run directory, "
                "or finish this one with `deepscope train --resume RUN_DIR`"
            )
        spec = json.loads((folder / "model.json").read_text())
        inputs = {n: Feature.from_state(s, where="prediction input") for n, s in spec["inputs"].items()}
        outputs = {n: Feature.from_state(s, where="data.outputs") for n, s in spec["outputs"].items()}
        model = build_model(spec["model"], model_description(inputs), model_description(outputs))
        weights, _ = load_tensors(folder / "weights.safetensors")
        model.load_state_dict(weights)
        return cls(model, inputs, outputs, device)

    def predict(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | Path, *, batch_size: int = 256) -> list[dict[str, Any]]:
        """Raw values in (a dict of columns, a list of row dicts, or for a one-input model one image or WAV path or
        one text), decoded predictions out."""
        columns = self._columns(data)
        tensors = {name: feature.encode(_batch(columns[name])) for name, feature in self.inputs.items()}
        n = _length(tensors)
        rows: list[dict[str, Any]] = []
        for start in range(0, n, batch_size):
            batch = {k: v[start : start + batch_size].to(self.device) for k, v in tensors.items()}
            with torch.no_grad():
                predictions = self.model.predict(batch)
            decoded = [f.decode(predictions[name]) for name, f in self.outputs.items()]
            rows += [{k: v for part in parts for k, v in part.items()} for parts in zip(*decoded)]
        return rows

    def _columns(self, data: Any) -> dict[str, Any]:
        if isinstance(data, (str, Path)):  # one example for a one-input model: an image or WAV path, or a text
            single = [n for n, f in self.inputs.items() if f.kind in ("image", "audio") or f.type == "text"]
            if len(self.inputs) != 1 or not single:
                raise UserError(f"this model reads the columns {list(self.inputs)}; pass a dict or rows, not a "
                                "single value")
            return {single[0]: [data]}
        if isinstance(data, Mapping):
            columns = dict(data)
        else:
            columns = {name: [row.get(name) for row in data] for name in self.inputs}
        missing = [name for name in self.inputs if name not in columns]
        if missing:
            raise DataError(f"prediction input: missing column(s) {missing}; this model reads {list(self.inputs)}")
        return columns


def _batch(value: Any) -> Any:
    """A single value becomes a batch of one; lists and arrays are batches already (or single images,
    which the image feature recognises by their shape)."""
    return value if isinstance(value, (list, tuple)) or hasattr(value, "shape") else [value]


def _length(tensors: dict[str, torch.Tensor]) -> int:
    lengths = {len(v) for v in tensors.values()}
    if len(lengths) != 1:
        raise DataError(f"prediction input: columns have different lengths {sorted(lengths)}")
    return lengths.pop()
