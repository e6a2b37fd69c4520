"""Export a finished run's model to ONNX, TorchScript or pt2, and check it against PyTorch on held-out inputs.

    result = export_run("runs/mnist-...", "onnx", check_n=1000)   # writes runs/mnist-.../export/model.onnx
    result.exporter, result.max_abs_diff, result.worst          # 'dynamo', 3.1e-07, 'label.probabilities'

The file carries the fitted features and the output names as JSON (serve/export_metadata.py), so a server needs
nothing else (serve/onnx_backend.py). Every axis 0 is a dynamic batch size; a text's token ids (n, L) also have a
dynamic length. The parity check runs the test split's inputs (as `deepscope explain --split` samples them)
through the model and through the file's backend, as a server runs it, and keeps the largest difference of each
output tensor; token ids are checked a second time cut to half their length, so a length the exporter fixed
shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from deepscope.errors import UserError
from deepscope.models.saving import SavedModel, load_model
from deepscope.run.explain import split_sample
from deepscope.serve.export_formats import FORMATS, WRITERS, require_onnx
from deepscope.serve.export_graph import PredictGraph, example_inputs, output_keys, output_name
from deepscope.serve.export_metadata import export_metadata
from deepscope.serve.onnx_backend import BACKENDS, ExportedBackend

PARITY_TOLERANCE = 1e-4  # the largest |exported - torch| that counts as the same model (float32 reorderings)
CHECK_BATCH = 256  # rows per forward pass of the parity check
EXPORT_DIR = "export"  # RUN/export/model.onnx
SAMPLE_SEED = 0  # the parity check's rows: the same ones every time
HELD_OUT = ("test", "val", "train")  # the parity check's split when none is given: the first the run has


@dataclass
class ExportResult:
    path: Path
    format: str  # onnx | torchscript | pt2
    exporter: str  # onnx: "dynamo" or "torchscript" (the fallback); "torch.jit.trace"; "torch.export"
    n_checked: int  # held-out examples run through both; 0: no check
    split: str  # where they come from
    diffs: dict[str, float] = field(default_factory=dict)  # per output tensor (label.probabilities): max |diff|
    fallback_reason: str | None = None  # why the dynamo ONNX exporter was not used
    tolerance: float = PARITY_TOLERANCE

    @property
    def max_abs_diff(self) -> float | None:
        return max(self.diffs.values()) if self.diffs else None

    @property
    def worst(self) -> str | None:
        """The output tensor with the largest difference."""
        return max(self.diffs, key=self.diffs.get) if self.diffs else None

    @property
    def passes(self) -> bool:
        return self.max_abs_diff is None or self.max_abs_diff <= self.tolerance


def default_export_path(run: str | Path, fmt: str) -> Path:
    """Where `deepscope export RUN --format FMT` writes, and where `deepscope serve --backend onnx` looks."""
    return Path(run) / EXPORT_DIR / f"model{FORMATS[checked_format(fmt)]}"


def checked_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: not an export format; choose one of {', '.join(FORMATS)}")
    return fmt


def export_run(run: str | Path, fmt: str, out: str | Path | None = None, *, check_n: int = 256,
               split: str | None = None) -> ExportResult:
    """Export `run`'s model as `fmt` to `out` (default RUN/export/model.onnx, .ts or .pt2; a folder: model.SUFFIX
    in it) and compare it with the PyTorch model on `check_n` examples of `split` (default: test, or val, or
    train for a run that holds nothing out; 0 examples: no check)."""
    checked_format(fmt)
    if fmt == "onnx":
        require_onnx()
    if check_n < 0:
        raise UserError(f"--check {check_n}: give a number of examples, 0 to skip the check")
    saved = load_model(run)
    _check_exportable(saved)
    # the rows to trace with are held-out rows too; the file never stores them
    split, sample = _sample(run, saved, split, max(check_n, 2))
    names = list(saved.inputs)
    graph = PredictGraph(saved.model, names, output_keys(saved.model, sample)).eval()
    path = _out_path(run, fmt, out)
    run_name = Path(run).resolve().name

    def describe(exporter: str, axes: dict[str, dict[int, str]]) -> str:
        return json.dumps(export_metadata(saved, run_name, graph, fmt, exporter, axes))

    exporter, reason = WRITERS[fmt](graph, example_inputs(sample, names), saved.inputs, describe, path)
    checked = {name: tensor[:check_n] for name, tensor in sample.items()}
    diffs = parity(saved, BACKENDS[fmt](path), checked) if check_n else {}
    return ExportResult(path, fmt, exporter, len(checked[names[0]]) if check_n else 0, split, diffs, reason)


def _check_exportable(saved: SavedModel) -> None:
    """A model that writes (a language model, a translation) loops over its tokens with a cache and stops when it
    is done: a traced graph would keep one trace's number of steps, so it is refused rather than exported wrong."""
    writes = [f.type for f in saved.outputs.values() if f.type in ("next_token", "sequence")]
    if writes:
        raise UserError(f"this run's model writes its output token by token ({writes[0]}), which an exported graph "
                        "cannot do faithfully; serve it with `deepscope serve RUN` (PyTorch backend) instead")


def parity(saved: SavedModel, backend: ExportedBackend, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """Per output tensor (`label.probabilities`), max |backend - torch| over `batch`, in batches of CHECK_BATCH,
    and once more with token ids cut to half their length; a missing tensor or a wrong shape is infinite."""
    rows = len(next(iter(batch.values())))
    chunks = [{name: tensor[start:start + CHECK_BATCH] for name, tensor in batch.items()}
              for start in range(0, rows, CHECK_BATCH)]
    texts = [name for name, feature in saved.inputs.items() if feature.type == "text"]
    if texts:
        chunks.append({name: t[:, : max(t.shape[1] // 2, 1)] if name in texts else t for name, t in chunks[0].items()})
    diffs: dict[str, float] = {}
    for chunk in chunks:
        with torch.no_grad():
            ours = saved.model.predict(chunk)
        theirs = backend.predict(chunk)
        for output, tensors in ours.items():
            for key, tensor in tensors.items():
                other = theirs.get(output, {}).get(key)
                gap = float("inf") if other is None or other.shape != tensor.shape else \
                    (tensor.double() - other.double()).abs().max().item()
                diffs[output_name(output, key)] = max(diffs.get(output_name(output, key), 0.0), gap)
    return diffs


def _sample(run: str | Path, saved: SavedModel, split: str | None, n: int) -> tuple[str, dict[str, torch.Tensor]]:
    """`n` rows of `split` (seeded), encoded with the saved features; without a split the first of HELD_OUT the
    run has (a run trained with `split: {test: 0}` has no test split)."""
    if split is not None:
        return split, split_sample(run, saved, split, n, SAMPLE_SEED)
    for candidate in HELD_OUT[:-1]:
        try:
            return candidate, split_sample(run, saved, candidate, n, SAMPLE_SEED)
        except UserError:
            continue  # the run has no such split, or it is empty: the next one
    return HELD_OUT[-1], split_sample(run, saved, HELD_OUT[-1], n, SAMPLE_SEED)


def _out_path(run: str | Path, fmt: str, out: str | Path | None) -> Path:
    if out is None:
        return default_export_path(run, fmt)
    out = Path(out)
    return out / f"model{FORMATS[fmt]}" if out.is_dir() else out
