"""Backends for exported files, served alone: an ONNX model on onnxruntime, a TorchScript or a pt2 archive.

A backend (see serve/backends.py) takes an encoded batch, the fitted input features' `encode` output by column,
and returns what `DeepscopeModel.predict` returns. The features come from the file's own metadata, so the
server encodes requests and decodes answers exactly as with the run's torch model.

    backend = OnnxBackend("runs/mnist-.../export/model.onnx")
    batch = {"image": backend.inputs["image"].encode(["digit.png"])}
    backend.outputs["label"].decode(backend.predict(batch)["label"])   # [{"label": "7", "probabilities": ...}]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deepscope.data.tokenizers import PAD_ID
from deepscope.errors import UserError
from deepscope.serve.export_formats import load_torchscript, onnx_session
from deepscope.serve.export_graph import unflatten
from deepscope.serve.export_metadata import export_features, load_export_metadata

Batch = dict[str, torch.Tensor]
Predictions = dict[str, dict[str, torch.Tensor]]
# what an ONNX input declares -> the numpy type fed to it (features encode float32 values and int64 ids)
ONNX_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
              "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


class ExportedBackend:
    """What every exported backend shares: the metadata, the features it holds, the inputs in the file's order
    and the flat outputs put back in shape. Subclasses load the file and run `_run`."""

    name = "exported"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.metadata = load_export_metadata(self.path)
        if self.metadata["export"] != self.name:
            raise UserError(f"{self.path}: a {self.metadata['export']} export, not {self.name}; serve it with "
                            f"--backend {self.metadata['export']}, or export the run as {self.name}")
        self.inputs, self.outputs = export_features(self.metadata, self.path)
        self.input_names: list[str] = self.metadata["input_names"]
        self.output_names: list[str] = self.metadata["output_names"]

    def predict(self, batch: Batch) -> Predictions:
        missing = [name for name in self.input_names if name not in batch]
        if missing:
            raise UserError(f"the batch lacks the input(s) {', '.join(missing)} that {self.path.name} reads")
        return unflatten(self.metadata["output_keys"], self._run([batch[name] for name in self.input_names]))

    def _run(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        raise NotImplementedError


class OnnxBackend(ExportedBackend):
    """An exported .onnx file on onnxruntime's CPU provider, as many intra-op threads as torch uses."""

    name = "onnx"

    def __init__(self, path: str | Path):
        super().__init__(path)
        self.session = onnx_session(self.path)
        declared = {entry.name: entry for entry in self.session.get_inputs()}
        self.types = {name: ONNX_TYPES.get(entry.type) for name, entry in declared.items()}
        # token ids of a file exported with a fixed length: (n, L) padded to it, see _fixed_length
        self.lengths = {name: declared[name].shape[1] for name, f in self.inputs.items()
                        if f.type == "text" and isinstance(declared[name].shape[1], int)}

    def _run(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        feed = {}
        for name, tensor in zip(self.input_names, tensors):
            if name in self.lengths:
                tensor = _fixed_length(tensor, self.lengths[name])
            array = tensor.detach().cpu().numpy()
            wanted = self.types.get(name)
            feed[name] = np.ascontiguousarray(array if wanted is None else array.astype(wanted, copy=False))
        return [torch.from_numpy(value) for value in self.session.run(self.output_names, feed)]


class TorchScriptBackend(ExportedBackend):
    """An exported TorchScript archive (.ts) through torch.jit, under inference mode."""

    name = "torchscript"

    def __init__(self, path: str | Path):
        super().__init__(path)
        self.module = load_torchscript(self.path)

    def _run(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        with torch.inference_mode():
            return list(self.module(*tensors))


class Pt2Backend(ExportedBackend):
    """An exported pt2 archive (torch.export) as a module, under inference mode."""

    name = "pt2"

    def __init__(self, path: str | Path):
        super().__init__(path)
        self.module = torch.export.load(str(self.path)).module()

    def _run(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        with torch.inference_mode():
            return list(self.module(*tensors))


BACKENDS = {backend.name: backend for backend in (OnnxBackend, TorchScriptBackend, Pt2Backend)}


def exported_backend(path: str | Path) -> ExportedBackend:
    """The backend for an exported file, whichever format its metadata names."""
    return BACKENDS[load_export_metadata(path)["export"]](path)


def _fixed_length(ids: torch.Tensor, length: int) -> torch.Tensor:
    """Token ids (n, L) -> (n, length): padded with <pad> on the right, which the model masks out; a longer
    batch may lose only padding (a text feature never encodes more than the exported length)."""
    if ids.shape[1] <= length:
        return F.pad(ids, (0, length - ids.shape[1]), value=PAD_ID)
    if (ids[:, length:] != PAD_ID).any():
        raise ValueError(f"token ids of length {ids.shape[1]}, longer than the {length} this file was exported with")
    return ids[:, :length]
