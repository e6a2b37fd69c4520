"""The model as an exporter sees it: encoded input tensors in, positionally, a flat tuple of tensors out.

Exporters (ONNX, TorchScript, torch.export) take positional tensors and return tuples, not the dicts a
`DeepscopeModel` reads and `predict` returns. `PredictGraph` puts the inputs in the order of the saved input
features and the outputs in a recorded order of (output, key) pairs, so that a reader rebuilds
`{"label": {"probabilities": (n, 10), "class": (n,)}}` from the flat tuple with `unflatten`.

    graph = PredictGraph(saved.model, list(saved.inputs), output_keys(saved.model, batch))
    graph(*[batch[name] for name in graph.input_names])   # (probabilities (n, 10), class (n,))
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from deepscope.data.features import Feature

BATCH, LENGTH = "batch", "length"  # the dynamic axes' names, as ONNX and the metadata spell them


class PredictGraph(nn.Module):
    """`model.predict` with positional tensors in and a flat tuple out (see the module docstring)."""

    def __init__(self, model: nn.Module, input_names: Sequence[str], keys: Sequence[tuple[str, str]]):
        super().__init__()
        self.model = model
        self.input_names = list(input_names)
        self.keys = [tuple(key) for key in keys]

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        predictions = self.model.predict(dict(zip(self.input_names, tensors)))
        return tuple(predictions[output][key] for output, key in self.keys)

    @property
    def output_names(self) -> list[str]:
        return [output_name(output, key) for output, key in self.keys]


def output_keys(model: nn.Module, batch: dict[str, torch.Tensor]) -> list[tuple[str, str]]:
    """The (output, key) pairs of `model.predict(batch)`, in its order: what the flat tuple holds."""
    with torch.no_grad():
        predictions = model.predict(batch)
    return [(output, key) for output, tensors in predictions.items() for key in tensors]


def output_name(output: str, key: str) -> str:
    """How a graph output is named: `label.probabilities`."""
    return f"{output}.{key}"


def unflatten(keys: Sequence[Sequence[str]], tensors: Sequence[torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The flat tuple back into `{output: {key: tensor}}`, as `DeepscopeModel.predict` returns it."""
    predictions: dict[str, dict[str, torch.Tensor]] = {}
    for (output, key), tensor in zip(keys, tensors, strict=True):
        predictions.setdefault(output, {})[key] = tensor
    return predictions


def dynamic_axes(inputs: dict[str, Feature], *, lengths: bool = True) -> dict[str, dict[int, str]]:
    """Per input, its axes that may change size: the batch always; a text's token ids (n, L) their length too,
    unless `lengths` is False (an exporter that fixes them: the ONNX backend then pads to the fixed length)."""
    return {name: {0: BATCH, 1: LENGTH} if lengths and feature.type == "text" else {0: BATCH}
            for name, feature in inputs.items()}


def example_inputs(batch: dict[str, torch.Tensor], names: Sequence[str]) -> tuple[torch.Tensor, ...]:
    """A few rows to trace with. At least two: an exporter takes an axis of size 1 for a constant one."""
    rows = next(iter(batch.values())).shape[0]
    repeat, keep = -(-2 // rows), max(min(rows, 8), 2)  # ceil(2 / rows) copies; 2 to 8 rows
    return tuple(batch[name].repeat(repeat, *([1] * (batch[name].ndim - 1)))[:keep] for name in names)


def export_dims(inputs: dict[str, Feature], names: Sequence[str]) -> tuple[dict[int, torch.export.Dim], ...]:
    """`dynamic_axes` as torch.export's `Dim`s, one entry per positional input: one batch size for all, and a
    length per text input, at most the feature's `max_length` (its encoding never gives more, and learned
    positions have no more rows)."""
    batch = torch.export.Dim(BATCH)
    texts = [name for name in names if 1 in dynamic_axes({name: inputs[name]})[name]]
    dims = []
    for name in names:
        axes = {0: batch}
        if name in texts:
            label = LENGTH if len(texts) == 1 else f"{LENGTH}_{texts.index(name)}"
            axes[1] = torch.export.Dim(label, max=max(int(inputs[name].fitted["max_length"]), 2))
        dims.append(axes)
    return tuple(dims)
