"""Save a trained model and load it again: `weights.safetensors` and `model.json`, side by side in one folder.

`model.json` holds what rebuilds the model without its data: the `model:` config, the fitted state of every
input and output feature (vocabularies, normalisation statistics), versions and the data source. Reading
either file never executes code: safetensors and JSON only.

    save_model("runs/mnist-.../model", model, inputs, outputs, model_config={"encoder": {"name": "cnn"}})
    saved = load_model("runs/mnist-...")          # a run folder, or the model folder itself
    saved.model, saved.inputs["image"], saved.outputs["label"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from deepscope.data.features import Feature, describe_features
from deepscope.errors import DamagedFileError, UserError
from deepscope.io import load_tensors, parse_json_line, resolves_inside, safetensors_problem, save_tensors, write_json
from deepscope.models.builder import DeepscopeModel, build_model
from deepscope.track.rundir import MODEL_FILE, WEIGHTS_FILE, RunDir

MODEL_FORMAT = 1  # the layout of model.json; raise it when a change breaks older readers
# what model.json must hold, and each feature state in its inputs and outputs (`save_model` writes more)
SPEC_KEYS = {"format": int, "model": dict, "inputs": dict, "outputs": dict}
FEATURE_KEYS = {"name": str, "type": str, "options": dict, "fitted": dict}
# a model.json is kilobytes (a 20,000-word vocabulary is about 1 MB); past this it is not one
MAX_SPEC_BYTES = 64 * 2**20
RETRAIN = "copy the run's model/ folder again from where it was made, or train it again"


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
        "inputs": feature_states(inputs),
        "outputs": feature_states(outputs),
        "versions": {"torch": torch.__version__},
        "source": source,
    }
    write_json(folder / MODEL_FILE, spec)
    return folder


def load_model(path: str | Path, device: str | torch.device = "cpu") -> SavedModel:
    """The model saved in a run folder (or in its model folder), on `device`, in eval mode.

    A model folder may come from someone else, so nothing is trusted: model.json is checked against the layout
    `save_model` writes, the weights' header against the file, and the model is built on the meta device
    (no memory) and its tensors' shapes compared with the file's before a byte is allocated. Every failure is a
    `DamagedFileError` naming the file and what is wrong with it."""
    folder = model_folder(path)
    spec_file, weights_file = _inside(folder, MODEL_FILE), _inside(folder, WEIGHTS_FILE)
    spec = read_spec(spec_file)
    inputs = read_features(spec["inputs"], spec_file, "inputs", where="prediction input")
    outputs = read_features(spec["outputs"], spec_file, "outputs", where="data.outputs")
    with torch.device("meta"):  # shapes only: a model.json claiming a billion-unit layer allocates nothing
        blueprint = _build(spec, inputs, outputs, spec_file)
    _check_shapes(blueprint, tensor_shapes(weights_file), weights_file, spec_file)
    model = _build(spec, inputs, outputs, spec_file)
    weights, _ = load_tensors(weights_file)
    model.load_state_dict(weights)
    return SavedModel(model.to(device).eval(), inputs, outputs)


def read_spec(path: Path) -> dict[str, Any]:
    """model.json as `save_model` writes it (keys and types of SPEC_KEYS and FEATURE_KEYS), or DamagedFileError."""
    if not path.is_file():
        raise DamagedFileError(f"{path} is not a file; {RETRAIN}")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise DamagedFileError(f"{path}: {path.stat().st_size:,} bytes, more than a model.json holds "
                               f"({MAX_SPEC_BYTES:,} at most); {RETRAIN}")
    try:
        spec = parse_json_line(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as error:
        raise DamagedFileError(f"{path}: cannot be read ({error.strerror or error}); {RETRAIN}") from None
    if not isinstance(spec, dict):
        what = "not a JSON object" if spec is not None else "not JSON (empty, cut short or junk)"
        raise DamagedFileError(f"{path}: {what}; {RETRAIN}")
    _check_keys(spec, SPEC_KEYS, path, "")
    if spec["format"] > MODEL_FORMAT:
        raise DamagedFileError(f"{path}: model format {spec['format']}, made by a newer deepscope than this one "
                               f"(which reads format {MODEL_FORMAT}); upgrade deepscope (pip install -U deepscope)")
    if not spec["outputs"]:
        raise DamagedFileError(f"{path}: `outputs` names no output; {RETRAIN}")
    for group in ("inputs", "outputs"):
        for name, state in spec[group].items():
            if not isinstance(state, dict):
                raise DamagedFileError(f"{path}: `{group}.{name!s:.80}` is not a JSON object; {RETRAIN}")
            _check_keys(state, FEATURE_KEYS, path, f"{group}.{name!s:.80}.")
    return spec


def _check_keys(data: dict[str, Any], keys: dict[str, type], path: Path, prefix: str) -> None:
    for key, kind in keys.items():
        if key not in data:
            raise DamagedFileError(f"{path}: the key `{prefix}{key}` is missing; {RETRAIN}")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise DamagedFileError(f"{path}: `{prefix}{key}` is a {type(data[key]).__name__}, not a "
                                   f"{kind.__name__}; {RETRAIN}")


def feature_states(features: dict[str, Feature]) -> dict[str, dict[str, Any]]:
    """The fitted features as JSON: what model.json carries, and an exported model file too (serve/export.py)."""
    return {name: feature.state() for name, feature in features.items()}


def read_features(states: dict[str, Any], path: Path, group: str, *, where: str) -> dict[str, Feature]:
    """The features `feature_states` wrote, rebuilt; anything else is a DamagedFileError naming `path`."""
    features = {}
    for name, state in states.items():
        if not isinstance(state, dict):
            raise DamagedFileError(f"{path}: `{group}.{name!s:.80}` is not a JSON object; {RETRAIN}")
        _check_keys(state, FEATURE_KEYS, path, f"{group}.{name!s:.80}.")
        try:
            features[name] = Feature.from_state(state, where=where)
        except (UserError, KeyError, TypeError, ValueError) as error:
            raise DamagedFileError(f"{path}: `{group}.{name!s:.80}` is not a feature deepscope can rebuild "
                                   f"({_short(error)}); {RETRAIN}") from None
    return features


def _build(spec: dict[str, Any], inputs: dict[str, Feature], outputs: dict[str, Feature],
           path: Path) -> DeepscopeModel:
    """The model model.json describes; a description that cannot be built (a fitted state of the wrong shape,
    an unknown encoder) is a damaged file, not a bug."""
    try:
        return build_model(spec["model"], describe_features(inputs), describe_features(outputs))
    except (UserError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as error:
        raise DamagedFileError(f"{path}: does not describe a model deepscope can build ({_short(error)}); "
                               f"{RETRAIN}") from None


def tensor_shapes(path: Path) -> dict[str, list[int]]:
    """Each tensor's shape, read from the header of a safetensors file that `safetensors_problem` passed."""
    if not path.is_file():
        raise DamagedFileError(f"{path} is {'not a file' if path.exists() else 'missing'}; {RETRAIN}")
    if problem := safetensors_problem(path):
        raise DamagedFileError(f"{path} is damaged: {problem}; {RETRAIN}")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {name: list(handle.get_slice(name).get_shape()) for name in handle.keys()}


def _check_shapes(model: torch.nn.Module, shapes: dict[str, list[int]], weights: Path, spec: Path) -> None:
    """The file holds exactly the model's tensors, each of the model's shape."""
    expected = {name: list(tensor.shape) for name, tensor in model.state_dict().items()}
    problem = None
    if missing := sorted(set(expected) - set(shapes)):
        problem = f"it lacks {len(missing)} of the model's tensors ({', '.join(missing[:3])})"
    elif extra := sorted(set(shapes) - set(expected)):
        problem = f"it holds {len(extra)} tensors the model does not have ({', '.join(n[:80] for n in extra[:3])})"
    elif wrong := [name for name in expected if shapes[name] != expected[name]]:
        name = wrong[0]
        problem = f"the tensor {name} has the shape {shapes[name]}, but the model's is {expected[name]}"
    if problem:
        raise DamagedFileError(f"{weights} does not fit the model {spec.name} describes: {problem}; the two files "
                               f"come from different models, or one was changed; {RETRAIN}")


def _inside(folder: Path, name: str) -> Path:
    """A file of the model folder; a link leading out of the folder is not the model's to read."""
    path = folder / name
    if path.is_symlink() and not resolves_inside(path, folder):
        raise DamagedFileError(f"{path} is a link to a file outside {folder}; deepscope reads only the model "
                               "folder's own files: copy the real file there")
    return path


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


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
