"""What the report sections draw from: the run as read from its folder, and the model and data where they can be
had (given in memory at the end of training, or loaded again from the run), with the reason when they cannot.

    context = ReportContext.gather("runs/mnist-20261130-191936")
    context.info.status            # "finished"
    context.model                  # the trained model, or None (then context.missing["model"] says why)
    context.sample                 # up to MAX_EXAMPLES rows of the evaluation split: raw values + tensors
    context.predictions()          # {output name: Predictions} on that sample, computed once
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.config.loading import load_config
from deepscope.data.features import Feature
from deepscope.data.prepare import PreparedData, load_splits
from deepscope.data.sources.builtin import BUILTIN_DATASETS, dataset_status
from deepscope.models.saving import load_model
from deepscope.track.runfiles import link_out
from deepscope.track.runinfo import MODEL_JSON, WEIGHTS, RunInfo, read_run

log = logging.getLogger("deepscope")

MAX_EXAMPLES = 2000  # rows of the evaluation split predicted for the report: enough to find the worst errors
SAMPLE_SEED = 0


@dataclass
class Sample:
    """Rows of one split: `index` into the split, their raw values (column -> array/list) and encoded tensors."""

    split: str
    size: int  # rows in the whole split
    index: np.ndarray
    raw: dict[str, Any]
    tensors: dict[str, torch.Tensor]


@dataclass
class Predictions:
    """One output's predictions on the sample, in the data's own units.

    kind "category": probabilities (N, C), predicted (N,) class index, target (N,) class index;
    kind "binary": probabilities (N,) of the positive class, predicted (N,) 0/1, target (N,) 0/1;
    kind "number": predicted (N,) and target (N,) values.
    `error` (N,) ranks examples, worst first: for classes 1 - p(true class), plus 1 when the prediction is wrong
    (so that every wrong example ranks before every right one); |target - predicted| for numbers.
    """

    kind: str
    predicted: np.ndarray
    target: np.ndarray
    error: np.ndarray
    probabilities: np.ndarray | None = None


@dataclass
class ReportContext:
    info: RunInfo
    model: torch.nn.Module | None = None
    inputs: dict[str, Feature] = field(default_factory=dict)
    outputs: dict[str, Feature] = field(default_factory=dict)
    data: Any = None  # a PreparedData: given at the end of training, or prepared again from config.yaml
    sample: Sample | None = None
    missing: dict[str, str] = field(default_factory=dict)  # "model" / "data" -> why it is not available

    @classmethod
    def gather(cls, run_dir: str | Path, *, model: torch.nn.Module | None = None, data: Any = None,
               load: bool = True) -> ReportContext:
        """Read the run; use `model` / `data` when given, else (when `load`) load them from the run folder."""
        context = cls(read_run(run_dir), model=model, data=data)
        context._features()
        if context.model is None and load:
            context._load_model()
        if context.data is None and load and context.model is not None:
            context._load_data()
        if context.model is None and "model" not in context.missing:
            context.missing["model"] = "the model was not loaded"
        if context.data is not None:
            context._sample()
        elif "data" not in context.missing:
            context.missing["data"] = ("the data were not prepared again (the model is not available)"
                                       if context.model is None else "the data were not loaded")
        return context

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def is_forecast(self) -> bool:
        return self.info.task == "forecast" or any(f.type == "forecast" for f in self.outputs.values())

    @property
    def is_language_model(self) -> bool:
        return any(f.type == "next_token" for f in self.outputs.values())

    @property
    def is_translation(self) -> bool:
        return any(f.type == "sequence" for f in self.outputs.values())

    @property
    def eval_split(self) -> str | None:
        """The split the report evaluates on: test, else val."""
        if self.data is not None:
            splits = self.data.raw.splits
            return "test" if "test" in splits else "val" if "val" in splits else None
        return "test" if "test" in self.info.finals else "val" if "val" in self.info.finals else None

    def record(self, part: str, kind: type = dict) -> Any:
        """One part of the diagnostics record (diagnosis.json), or an empty `kind` when absent or malformed."""
        record = self.info.diagnosis.get("record")
        value = record.get(part) if isinstance(record, dict) else None
        return value if isinstance(value, kind) else kind()

    # --- loading -----------------------------------------------------------------------------------------------
    def _features(self) -> None:
        """Fitted features: from the data given, else from model/model.json (they are saved with the model)."""
        if self.data is not None:
            self.inputs, self.outputs = dict(self.data.inputs), dict(self.data.outputs)
            return
        spec = self.info.model
        try:
            self.inputs = {n: Feature.from_state(s) for n, s in (spec.get("inputs") or {}).items()}
            self.outputs = {n: Feature.from_state(s) for n, s in (spec.get("outputs") or {}).items()}
        except Exception as error:  # a damaged model.json: the report says so and goes on without features
            self.missing["model"] = f"model/model.json does not describe the features ({_reason(error)})"
            self.inputs, self.outputs = {}, {}

    def _load_model(self) -> None:
        if not (self.path / MODEL_JSON).exists():
            self.missing["model"] = "no trained model in this run (model/model.json is missing)"
            return
        links = [name for name in (MODEL_JSON, WEIGHTS) if link_out(self.path, name)]
        if links:  # never read through a link out of the run folder (a planted link to another file)
            self.missing["model"] = f"{' and '.join(links)} link out of the run folder: the model is not loaded"
            return
        try:
            saved = load_model(self.path)
        except Exception as error:  # damaged weights or spec: reported in the page, never raised
            self.missing["model"] = f"the model could not be loaded ({_reason(error)})"
            return
        self.model, self.inputs, self.outputs = saved.model, saved.inputs, saved.outputs

    def _load_data(self) -> None:
        """The raw splits again from config.yaml (as `read_run` read it: bounded, never through a link), encoded
        with the *saved* features (as at prediction time)."""
        if not self.info.config:
            self.missing["data"] = "the run's data could not be read again (config.yaml is missing or unreadable)"
            return
        try:
            config = load_config(self.info.config)
            absent = _absent_builtin(config.data.source)
            if absent:
                self.missing["data"] = absent
                return
            raw, _, _ = load_splits(config.data)
        except Exception as error:  # the data moved, the config no longer parses: say so in the sections
            self.missing["data"] = f"the run's data could not be read again ({_reason(error)})"
            return
        self.data = PreparedData(self.inputs, self.outputs, {}, raw)

    def _sample(self) -> None:
        """Up to MAX_EXAMPLES rows of the evaluation split, raw and encoded (not for forecasting: its windows
        are evaluated whole by the forecast section)."""
        split = self.eval_split
        if split is None or self.is_forecast or self.is_language_model:  # windows, evaluated whole
            return
        raw = self.data.raw.splits[split]
        size = len(next(iter(raw.values())))
        index = np.arange(size)
        if size > MAX_EXAMPLES:
            index = np.sort(np.random.default_rng(SAMPLE_SEED).choice(size, MAX_EXAMPLES, replace=False))
        columns = {name: _take(values, index) for name, values in raw.items()}
        encoded = self.data.splits.get(split)
        try:
            if encoded is not None and len(encoded) == size and hasattr(encoded, "tensors"):  # streamed: none
                tensors = {k: v[torch.from_numpy(index).to(v.device)] for k, v in encoded.tensors.items()}
            else:
                features = {**self.inputs, **self.outputs}
                tensors = {n: f.encode(columns[n]) for n, f in features.items() if n in columns}
        except Exception as error:
            self.missing["data"] = f"the {split} examples could not be encoded ({_reason(error)})"
            return
        self.sample = Sample(split, size, index, columns, tensors)

    # --- predictions ---------------------------------------------------------------------------------------------
    def predictions(self) -> dict[str, Predictions]:
        return self._predictions

    @cached_property
    def _predictions(self) -> dict[str, Predictions]:
        if self.model is None or self.sample is None:
            return {}
        outputs = _predict(self.model, {n: self.sample.tensors[n] for n in self.inputs}, batch_size=256)
        found = {}
        for name, feature in self.outputs.items():
            if name in outputs and name in self.sample.tensors:
                made = _as_predictions(feature, outputs[name], self.sample.tensors[name])
                if made is not None:
                    found[name] = made
        return found

    def example_input(self) -> dict[str, torch.Tensor] | None:
        """One real example (batch of 1) for the layer table: the sample's first row, else the evaluation split's
        first window (forecasting); None without data."""
        if self.sample is not None and len(self.sample.index):
            return {n: self.sample.tensors[n][:1] for n in self.inputs if n in self.sample.tensors}
        split = self.eval_split
        if self.data is None or split is None:
            return None
        raw = self.data.raw.splits[split]
        try:
            return {n: f.encode(raw[n][:1]) for n, f in self.inputs.items()}
        except Exception:  # an odd column: the layer table falls back to a blank example
            return None


def _predict(model: torch.nn.Module, tensors: dict[str, torch.Tensor], batch_size: int) -> dict[str, dict[str, Any]]:
    """model.predict over the tensors in batches, on the model's device; results on the CPU."""
    device = next(model.parameters()).device
    n = len(next(iter(tensors.values())))
    parts: dict[str, dict[str, list[torch.Tensor]]] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                batch = {k: v[start:start + batch_size].to(device) for k, v in tensors.items()}
                for name, values in model.predict(batch).items():
                    for key, tensor in values.items():
                        parts.setdefault(name, {}).setdefault(key, []).append(tensor.detach().float().cpu())
    finally:
        model.train(was_training)
    return {name: {key: torch.cat(chunks) for key, chunks in keys.items()} for name, keys in parts.items()}


def _as_predictions(feature: Feature, predicted: dict[str, torch.Tensor], target: torch.Tensor) -> Predictions | None:
    if feature.type == "category" and "probabilities" in predicted:
        probabilities = predicted["probabilities"].numpy()
        truth = target.cpu().numpy().astype(int)
        p_true = probabilities[np.arange(len(truth)), truth]
        predicted = probabilities.argmax(1)
        return Predictions("category", predicted, truth, 1.0 - p_true + (predicted != truth), probabilities)
    if feature.type == "binary" and "probability" in predicted:
        probability = predicted["probability"].numpy().reshape(-1)
        truth = target.cpu().numpy().reshape(-1)
        threshold = float(feature.head_config.get("threshold", 0.5))
        predicted, truth = (probability >= threshold).astype(int), truth.astype(int)
        return Predictions("binary", predicted, truth, np.abs(truth - probability) + (predicted != truth), probability)
    if feature.type == "number" and "value" in predicted:
        value = predicted["value"].numpy().reshape(-1)
        truth = target.cpu().numpy().reshape(-1) * feature.fitted["scale"] + feature.fitted["shift"]
        return Predictions("number", value, truth, np.abs(truth - value))
    return None


def _absent_builtin(source: str) -> str:
    """Why a builtin dataset cannot be used without downloading it ('' when it is here): a report never
    downloads data."""
    if source not in BUILTIN_DATASETS:
        return ""
    present, where = dataset_status(source)
    return "" if present else (f"the builtin dataset {source!r} is not on this machine ({where}); the report does "
                               "not download it: set DEEPSCOPE_DATA to its folder, or train once to download it")


def _take(values: Any, index: np.ndarray) -> Any:
    if isinstance(values, np.ndarray):
        return values[index]
    if isinstance(values, (list, tuple)):
        return [values[i] for i in index]
    return np.asarray(values, dtype=object)[index]


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__
