"""A trained model that takes raw values and gives decoded predictions: what `deepscope.load(run)` returns.

    predictor = deepscope.load("runs/mnist-20261123-214500")
    predictor.predict({"image": "digit.png"})     # [{"label": 7, "probabilities": {...}}]
    predictor.predict([{"age": 41, "job": "admin"}, {"age": 29, "job": None}])

Inputs are encoded with the features fitted in training (saved beside the weights), so prediction preprocesses
exactly as training did; loading reads safetensors and JSON only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.data.features import Feature
from deepscope.data.windows import SeriesWindows
from deepscope.errors import DataError, UserError
from deepscope.models.builder import DeepscopeModel
from deepscope.models.saving import load_model


class Predictor:
    """Raw values in, decoded predictions out.

    Args:
        model: the trained model (moved to `device` and put in eval mode).
        inputs, outputs: its fitted features, by column name.
        device: where the forward passes run.
    """

    def __init__(self, model: DeepscopeModel, inputs: dict[str, Feature], outputs: dict[str, Feature],
                 device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.inputs, self.outputs = inputs, outputs

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> Predictor:
        """The model saved in a finished run folder (or its model/ folder)."""
        saved = load_model(path, device)
        return cls(saved.model, saved.inputs, saved.outputs, device)

    def predict(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | Path, *,
                batch_size: int = 256) -> list[dict[str, Any]]:
        """Raw values in (a dict of columns, a list of row dicts, or for a one-input model one image or WAV path or
        one text), one dict of decoded predictions per example out."""
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

    def generate(self, prompt: str = "", **options: Any) -> list[Any]:
        """Continuations of `prompt` from a language-model run (data.corpus); options and what is refused:
        models/generation.py (max_tokens, temperature, top_k, top_p, n, seed). A melody run (data.music) gives
        Melody objects instead (models/melody.py: notes, tokens, write_midi)."""
        from deepscope.models.generation import generate_text
        from deepscope.models.melody import generate_melodies

        tokens = next((f for f in self.inputs.values() if f.type == "tokens"), None)
        if tokens is None:
            raise UserError(f"this run is not a language model (it predicts {', '.join(self.outputs)}); generate "
                            "needs a run trained on a text with data.corpus")
        if tokens.is_music:
            return generate_melodies(self.model, tokens, prompt, **options)
        return generate_text(self.model, tokens, prompt, **options)

    def translate(self, texts: str | Sequence[str], *, beam: int = 5, alpha: float = 0.6,
                  batch_size: int = 64) -> list[str]:
        """Translations of `texts` (one text or a list) from a sequence-to-sequence run (data.translation); beam 1
        is greedy. What is refused: models/translating.py."""
        from deepscope.models.translating import translate_texts

        target = next((f for f in self.outputs.values() if f.type == "sequence"), None)
        if target is None:
            raise UserError(f"this run does not translate (it predicts {', '.join(self.outputs)}); translate needs a "
                            "run trained with data.translation (or a sequence output)")
        texts = [texts] if isinstance(texts, str) else list(texts)
        source = next(iter(self.inputs.values()))
        return translate_texts(self.model, source, target, texts, beam=beam, alpha=alpha, batch_size=batch_size)

    def check_predicts(self) -> None:
        """A UserError for a language model, which writes text (`generate`) rather than predicting from inputs."""
        if any(f.type == "tokens" for f in self.inputs.values()):
            raise UserError("this run is a language model: it writes text rather than predicting from it; use "
                            "`deepscope generate RUN --prompt \"...\"` or ds.load(run).generate(\"...\")")

    def _columns(self, data: Any) -> dict[str, Any]:
        self.check_predicts()
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


def predict_windows(model: torch.nn.Module, inputs: dict[str, Feature], windows: SeriesWindows, output: str,
                    batch_size: int = 1024) -> np.ndarray:
    """(N, horizon) forecasts of `output` in the data's own units, one row per origin of `windows`."""
    device = next(model.parameters()).device
    tensors = {name: feature.encode(windows) for name, feature in inputs.items()}
    n, rows = len(windows), []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for first in range(0, n, batch_size):
            batch = {k: v[first:first + batch_size].to(device) for k, v in tensors.items()}
            rows.append(model.predict(batch)[output]["values"].double().cpu())
    model.train(was_training)
    return torch.cat(rows).numpy() if rows else np.zeros((0, 0))


def _batch(value: Any) -> Any:
    """A single value becomes a batch of one; lists and arrays are batches already (or single images,
    which the image feature recognises by their shape)."""
    return value if isinstance(value, (list, tuple)) or hasattr(value, "shape") else [value]


def _length(tensors: dict[str, torch.Tensor]) -> int:
    lengths = {len(v) for v in tensors.values()}
    if len(lengths) != 1:
        raise DataError(f"prediction input: columns have different lengths {sorted(lengths)}")
    return lengths.pop()


def load(path: str | Path, device: str | torch.device = "cpu") -> Predictor:
    """A predictor for a finished run directory (or its model/ folder): `deepscope.load(run)`."""
    return Predictor.load(path, device)
