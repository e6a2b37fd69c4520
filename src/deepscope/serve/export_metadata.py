"""What an exported file carries so that it can be served alone, as JSON (never a pickle): the fitted input and
output features (the same states model.json holds, written by models/saving.py), the graph's input and output
names and the (output, key) order of its outputs, deepscope's version and the run's name.

    metadata = load_export_metadata("runs/mnist-.../export/model.onnx")   # reads, never runs, the file
    metadata["output_keys"]             # [["label", "probabilities"], ["label", "class"]]
    inputs, outputs = export_features(metadata, path)                    # the fitted features again
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import torch

import deepscope
from deepscope.data.features import Feature
from deepscope.errors import DamagedFileError, UserError
from deepscope.models.saving import MAX_SPEC_BYTES, SavedModel, feature_states, read_features
from deepscope.serve.export_formats import EXTRA_FILE, METADATA_KEY, require_onnx
from deepscope.serve.export_graph import PredictGraph

EXPORT_FORMAT = 1  # the layout of the metadata; raise it when a change breaks older readers
METADATA_KEYS = {"format": int, "deepscope": str, "run": str, "export": str, "exporter": str, "inputs": dict,
                 "outputs": dict, "input_names": list, "output_names": list, "output_keys": list}
ZIP_MAGIC = b"PK\x03\x04"  # how a zip archive's first entry starts
EXPORT_AGAIN = "export the run again with `deepscope export RUN`"


def export_metadata(saved: SavedModel, run_name: str, graph: PredictGraph, fmt: str, exporter: str,
                    axes: dict[str, dict[int, str]]) -> dict[str, Any]:
    """`axes`: the dynamic axes per input, as the file was exported (see export_graph.dynamic_axes)."""
    return {
        "format": EXPORT_FORMAT,
        "deepscope": deepscope.__version__,
        "torch": torch.__version__,
        "run": run_name,
        "export": fmt,
        "exporter": exporter,
        "inputs": feature_states(saved.inputs),
        "outputs": feature_states(saved.outputs),
        "input_names": graph.input_names,
        "output_names": graph.output_names,
        "output_keys": [list(key) for key in graph.keys],
        "dynamic_axes": {name: {str(axis): label for axis, label in named.items()} for name, named in axes.items()},
    }


def load_export_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an exported file (ONNX, TorchScript or pt2), read as data: a zip's extra file is read with
    zipfile and an ONNX file parsed as protobuf, so nothing in the file runs. A file without it, or with it
    damaged, is a UserError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file; give a file `deepscope export` wrote")
    with open(path, "rb") as handle:
        archive = handle.read(4) == ZIP_MAGIC  # TorchScript and pt2 files are zip archives, ONNX ones protobuf
    text = _zip_metadata(path) if archive else _onnx_metadata(path)
    try:
        metadata = json.loads(text)
    except ValueError:
        raise DamagedFileError(f"{path}: its deepscope metadata is not JSON; {EXPORT_AGAIN}") from None
    _check(metadata, path)
    return metadata


def export_features(metadata: dict[str, Any], path: Path) -> tuple[dict[str, Feature], dict[str, Feature]]:
    """The fitted input and output features the metadata holds, as `load_model` rebuilds them."""
    inputs = read_features(metadata["inputs"], path, "inputs", where="prediction input")
    outputs = read_features(metadata["outputs"], path, "outputs", where="data.outputs")
    return inputs, outputs


def _zip_metadata(path: Path) -> str:
    """extra/deepscope.json of a TorchScript or pt2 archive (`ARCHIVE/extra/deepscope.json`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [e for e in archive.infolist() if e.filename.split("/")[1:] == ["extra", EXTRA_FILE]]
            if not entries:
                raise UserError(f"{path}: a zip archive without deepscope metadata (extra/{EXTRA_FILE}); give a "
                                f"file `deepscope export` wrote, or {EXPORT_AGAIN}")
            if entries[0].file_size > MAX_SPEC_BYTES:
                raise DamagedFileError(f"{path}: its metadata claims {entries[0].file_size:,} bytes, more than "
                                       f"deepscope writes; {EXPORT_AGAIN}")
            return archive.read(entries[0]).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DamagedFileError(f"{path}: a damaged archive ({error}); {EXPORT_AGAIN}") from None


def _onnx_metadata(path: Path) -> str:
    require_onnx("onnx")
    import onnx
    from google.protobuf.message import DecodeError

    try:
        # the weights are not needed, only the model's header: external data stays where it is
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError, RuntimeError) as error:
        raise DamagedFileError(f"{path}: neither an ONNX model nor a TorchScript or pt2 archive "
                               f"({type(error).__name__}); {EXPORT_AGAIN}") from None
    found = [entry.value for entry in model.metadata_props if entry.key == METADATA_KEY]
    if not found:
        raise UserError(f"{path}: an ONNX model without deepscope metadata (metadata_props[{METADATA_KEY!r}]); "
                        f"{EXPORT_AGAIN}")
    return found[0]


def _check(metadata: Any, path: Path) -> None:
    """The layout `export_metadata` writes: keys and types, and names that agree with each other."""
    if not isinstance(metadata, dict):
        raise DamagedFileError(f"{path}: its deepscope metadata is not a JSON object; {EXPORT_AGAIN}")
    for key, kind in METADATA_KEYS.items():
        if not isinstance(metadata.get(key), kind) or isinstance(metadata.get(key), bool):
            raise DamagedFileError(f"{path}: the metadata's `{key}` is missing or not a {kind.__name__}; "
                                   f"{EXPORT_AGAIN}")
    if metadata["format"] > EXPORT_FORMAT:
        raise DamagedFileError(f"{path}: export format {metadata['format']}, made by a newer deepscope (this one "
                               f"reads {EXPORT_FORMAT}); upgrade deepscope (pip install -U deepscope)")
    keys = metadata["output_keys"]
    if (metadata["input_names"] != list(metadata["inputs"]) or len(keys) != len(metadata["output_names"])
            or not all(isinstance(k, list) and len(k) == 2 and k[0] in metadata["outputs"] for k in keys)):
        raise DamagedFileError(f"{path}: the metadata's input or output names disagree with its features; "
                               f"{EXPORT_AGAIN}")
