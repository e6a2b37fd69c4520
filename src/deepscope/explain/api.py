"""Explain a model's predictions: one call from a model and a batch to an `Explanation`.

    from deepscope.explain import explain
    e = explain(model, inputs, "label", {"image": images}, method="grad_cam", outputs=outputs)
    e = explain(model, inputs, "label", batch, target="7", outputs=outputs)   # why "7", whatever was predicted

A method that does not fit the model (Grad-CAM on an MLP), a target that is not a class, and a batch of the wrong
shape are refused with one message that says what would work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from deepscope.data.features import Feature
from deepscope.errors import UserError
from deepscope.explain.defaults import default_method
from deepscope.explain.explanation import Explanation, concatenate
from deepscope.explain.methods import METHODS, Method
from deepscope.explain.spaces import TABLE, modality_of
from deepscope.explain.view import ScoreView

BATCH_SIZE = 64  # examples per Captum call; integrated gradients runs `steps` forward passes of this many


def explain(model: nn.Module, inputs_features: dict[str, Feature], output: str, batch_or_raw: Any,
            method: str | None = None, target: Any = None, *, outputs: dict[str, Feature] | None = None,
            input_name: str | None = None, batch_size: int = BATCH_SIZE, **options: Any) -> Explanation:
    """Attributions of `method` (default: the modality's, see explain/defaults.py) for the examples of
    `batch_or_raw`: encoded tensors by column, or raw values (a dict of columns, or a list of row dicts).

    Args:
        output: the output explained; `outputs` (its fitted feature among them) lets `target` name a class.
        target: None: each example's predicted class (a regression: its first value, a forecast's next step); a
            class ("7", "cat"); for a regression an output index (a forecast's step, from 0).
        input_name: the input column explained (default: the only one; "*" for a table's columns).
        options: the method's own (`steps=64`, `baseline="blurred"`, ...).
    """
    view = ScoreView(model, inputs_features, output, input_name=input_name)
    chosen = pick_method(view, method or default_method(view.modality))
    batch = encoded_batch(inputs_features, batch_or_raw, device_of(model))
    targets = resolve_targets(view, batch, target, (outputs or {}).get(output))
    n = len(targets)
    step = batch_size if chosen.uses_gradients else n  # permutation shuffles across the whole batch
    parts = [chosen.attribute(view, {k: v[i:i + step] for k, v in batch.items()}, targets[i:i + step], **options)
             for i in range(0, n, step)]
    return concatenate(parts)


def applicable_methods(view: ScoreView, input_name: str | None = None) -> list[str]:
    name = input_name or view.input_name
    return [n for n, m in METHODS.items() if m.applies(view, name) is None]


def pick_method(view: ScoreView, name: str) -> Method:
    fitting = applicable_methods(view)
    if name not in METHODS:
        raise UserError(f"unknown attribution method {name!r}; methods that apply to this model's "
                        f"{view.input_name!r} input: {', '.join(fitting)}")
    method = METHODS.get(name)
    if reason := method.applies(view, view.input_name):
        raise UserError(f"{reason}; methods that apply: {', '.join(fitting)}")
    return method


def resolve_targets(view: ScoreView, batch: dict[str, torch.Tensor], target: Any,
                    output: Feature | None) -> torch.Tensor:
    """(n,) the output index explained per example."""
    n = len(next(iter(batch.values())))
    if isinstance(target, torch.Tensor):  # one index per example, already resolved (e.g. the randomisation check)
        return target.long().reshape(n)
    classes = output_classes(output)
    if target is not None and classes is not None:  # a class by name: no forward pass needed
        matches = [i for i, c in enumerate(classes) if str(c) == str(target).strip()]
        if not matches:
            raise UserError(f"target {str(target)[:80]!r} is not a class of the output {view.output!r}; its classes: "
                            f"{', '.join(map(str, classes[:50]))}")
        return torch.full((n,), matches[0], dtype=torch.long, device=device_of(view.model))
    view.bind(batch)
    x, context = view.prepare()
    with torch.no_grad():
        scores = view(x, *context)  # (n, k)
    k = scores.shape[1]
    if target is None:  # the predicted class; for values, the first (a forecast's next step)
        return scores.argmax(dim=1) if view.classifies else torch.zeros(n, dtype=torch.long, device=scores.device)
    try:
        index = int(str(target))
    except ValueError:
        index = -1
    if not 0 <= index < k:
        raise UserError(f"target {str(target)[:80]!r}: the output {view.output!r} has {k} value(s); give an "
                        f"index from 0 to {k - 1}")
    return torch.full((n,), index, dtype=torch.long, device=scores.device)


def output_classes(output: Feature | None) -> list[Any] | None:
    """The class names in the order of the scores' columns, or None (a regression, or no feature given)."""
    if output is None:
        return None
    if output.type == "category":
        return output.classes
    if output.type == "binary":
        return [output.fitted["negative"], output.fitted["positive"]]  # the view's (no, yes) columns
    return None


def encoded_batch(features: dict[str, Feature], data: Any, device: torch.device) -> dict[str, torch.Tensor]:
    """Tensors by column, checked against the shapes the model reads; raw values are encoded first."""
    if isinstance(data, Mapping) and all(isinstance(v, torch.Tensor) for v in data.values()):
        batch = dict(data)
    else:
        batch = {name: feature.encode(column) for name, feature in features.items()
                 for column in [raw_column(data, name, features)]}
    missing = [name for name in features if name not in batch]
    if missing:
        raise UserError(f"explain input: missing column(s) {missing}; this model reads {list(features)}")
    for name, feature in features.items():
        check_shape(name, feature, batch[name])
    return {name: batch[name].to(device) for name in features}


def raw_column(data: Any, name: str, features: dict[str, Feature]) -> Any:
    if isinstance(data, Mapping):
        if name not in data:
            raise UserError(f"explain input: missing column {name!r}; this model reads {list(features)}")
        value = data[name]
        return value if isinstance(value, (list, tuple)) or hasattr(value, "shape") else [value]
    if isinstance(data, Sequence) and not isinstance(data, str) and all(isinstance(r, Mapping) for r in data):
        return [row.get(name) for row in data]
    raise UserError(f"explain input: give a dict of columns or a list of row dicts with {list(features)}, not a "
                    f"{type(data).__name__}")


def check_shape(name: str, feature: Feature, tensor: torch.Tensor) -> None:
    """A tensor the model cannot read is refused with the shape it expects (n examples first)."""
    expected = expected_shape(feature)
    if expected is None:
        return
    if tensor.ndim != len(expected) + 1 or any(e is not None and e != s for e, s in zip(expected, tensor.shape[1:])):
        shown = ", ".join("?" if e is None else str(e) for e in expected)
        raise UserError(f"input {name!r}: expected a tensor of shape (n, {shown}), got {tuple(tensor.shape)}; "
                        f"{_what(feature)}")


def expected_shape(feature: Feature) -> tuple[int | None, ...] | None:
    modality = modality_of(feature)
    described = feature.describe()
    if modality == "image":
        return tuple(feature.shape)
    if modality == "series":
        return (int(described["length"]), int(described["channels"]))
    if modality == "text":
        return (None,)
    if modality == "table":
        return ()
    if modality == "audio":
        return (int(described["n_samples"]),)  # the waveform; the model computes its spectrogram
    return None


ADVICE = {  # what to pass instead of a tensor of the wrong shape, per modality
    "image": "pass images of the training size (or image files, which are resized)",
    "series": "pass windows of the training lookback and channels",
    "text": "pass token ids (n, length), or the texts themselves",
    "table": "pass one value per example for each column",
    "audio": "pass WAV files (resampled, cut or padded) or waveforms of the training length",
}


def _what(feature: Feature) -> str:
    return ADVICE.get(modality_of(feature), "")


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


__all__ = ["explain", "applicable_methods", "TABLE"]
