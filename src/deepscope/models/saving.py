"""Save a trained model and load it again: `weights.safetensors` and `model.json`, side by side in one folder.

`model.json` holds what rebuilds the model without its data: the `model:` config, the fitted state of every
input and output feature (vocabularies, normalisation statistics), versions and the data source. Reading
either file never executes code: safetensors and JSON only.

    save_model("runs/mnist-.../model", model, inputs, outputs, model_config={"encoder": {"name": "cnn"}})
    saved = load_model("runs/mnist-...")          # a run folder, or the model folder itself
    saved.model, saved.inputs["image"], saved.outputs["label"]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from deepscope.data.features import Feature, describe_features
from deepscope.errors import UserError
from deepscope.io import load_tensors, save_tensors, write_json
from deepscope.models.builder import DeepscopeModel, build_model
from deepscope.track.rundir import MODEL_FILE, WEIGHTS_FILE, RunDir

MODEL_FORMAT = 1  # the layout of model.json; raise it when a change breaks older readers


@dataclass
class SavedModel:
    """A model with the fitted features that turn raw values into its inputs and its outputs back into values."""

    model: DeepscopeModel
    inputs: dict[str, Feature]
    outputs: dict[str, Feature]


def save_model(folder: str | Path, model: DeepscopeModel, inputs: dict[str, Feature], outputs: dict[str, Feature],
               *, model_config: dict[str, Any], source: str | None = None) -> Path:
    """Write the weights and model.json into `folder` (each atomically); returns the folder."""
    folder = Path(folder)
    save_tensors(folder / WEIGHTS_FILE, dict(model.state_dict()))
    spec = {
        "format": MODEL_FORMAT,
        "model": model_config,
        "inputs": {name: feature.state() for name, feature in inputs.items()},
        "outputs": {name: feature.state() for name, feature in outputs.items()},
        "versions": {"torch": torch.__version__},
        "source": source,
    }
    write_json(folder / MODEL_FILE, spec)
    return folder


def load_model(path: str | Path, device: str | torch.device = "cpu") -> SavedModel:
    """The model saved in a run folder (or in its model folder), on `device`, in eval mode."""
    folder = model_folder(path)
    spec = json.loads((folder / MODEL_FILE).read_text())
    inputs = {n: Feature.from_state(s, where="prediction input") for n, s in spec["inputs"].items()}
    outputs = {n: Feature.from_state(s, where="data.outputs") for n, s in spec["outputs"].items()}
    model = build_model(spec["model"], describe_features(inputs), describe_features(outputs))
    weights, _ = load_tensors(folder / WEIGHTS_FILE)
    model.load_state_dict(weights)
    return SavedModel(model.to(device).eval(), inputs, outputs)


def model_folder(path: str | Path) -> Path:
    """The folder holding model.json: `path` itself or its model/ folder; a UserError when there is none."""
    given = Path(path)
    nested = RunDir(given).model_dir
    folder = nested if (nested / MODEL_FILE).exists() else given
    if not (folder / MODEL_FILE).exists():
        raise UserError(
            f"{path}: no trained model here (model/model.json is missing); give a finished run directory, "
            "or finish this one with `deepscope train --resume RUN_DIR`"
        )
    return folder
