"""Small helpers detectors share to read a `Record`: finite samples, per-layer medians, chance level."""

from __future__ import annotations

import math
import statistics
from typing import Any

from deepscope.diagnose.record import Record
from deepscope.metrics import metric_key


def finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def median(values: list[Any]) -> float | None:
    values = finite(values)
    return statistics.median(values) if values else None


def healthy_samples(record: Record) -> list[dict[str, Any]]:
    """Samples taken before anything went NaN/Inf."""
    return [s for s in record.samples if math.isfinite(s["loss"]) and math.isfinite(s["grad_norm"])]


def late(samples: list[Any], fraction: float = 1 / 3) -> list[Any]:
    """The last part of a run's samples (at least one), where a problem has had time to show."""
    return samples[-max(1, int(len(samples) * fraction)):]


def layer_medians(samples: list[dict[str, Any]], key: str) -> dict[str, float]:
    """{layer: median of `key` over samples}, in depth order."""
    values: dict[str, list[Any]] = {}
    for sample in samples:
        for layer in sample["layers"]:
            values.setdefault(layer["name"], []).append(layer.get(key))
    return {name: m for name, v in values.items() if (m := median(v)) is not None}


def activation_means(samples: list[dict[str, Any]], key: str) -> dict[str, tuple[str, float]]:
    """{activation module: (kind, mean of `key` over samples)}."""
    values: dict[str, tuple[str, list[float]]] = {}
    for sample in samples:
        for act in sample["activations"]:
            values.setdefault(act["name"], (act["kind"], []))[1].append(act[key])
    return {name: (kind, sum(v) / len(v)) for name, (kind, v) in values.items() if v}


def initial_loss(record: Record) -> float | None:
    """The loss before training: measured, else the expected one."""
    loss = record.init.get("loss")
    return loss if isinstance(loss, (int, float)) and math.isfinite(loss) else record.init.get("expected_loss")


def chance_accuracy(record: Record, output: str) -> float | None:
    """The accuracy of always predicting the most common class (from the data profile), else 1/C."""
    counts = record.data.get("classes", {}).get(output, {}).get("counts", {}).get("train")
    if counts and sum(counts):
        return max(counts) / sum(counts)
    classes = record.task.get("outputs", {}).get(output, {}).get("classes")
    if classes:
        return 1 / classes
    return 0.5 if record.task.get("outputs", {}).get(output, {}).get("type") == "binary" else None


def validation_key(record: Record, output: str, metric: str) -> str:
    """The history key of a validation metric: `val.accuracy` with one output, `val.label.accuracy` with several."""
    return metric_key(output, metric, len(record.task.get("outputs", {})), split="val")


def through_time(samples: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{recurrent layer: medians over samples of steps and of the gradient norm reaching its first step, its
    last step, and its weakest and strongest step} (samples of RNN models carry `recurrent`)."""
    values: dict[str, dict[str, list[Any]]] = {}
    for sample in samples:
        for layer in sample.get("recurrent", []):
            per_layer = values.setdefault(layer["name"], {})
            for key, value in layer.items():
                if key != "name":
                    per_layer.setdefault(key, []).append(value)
    return {name: {key: m for key, v in per_layer.items() if (m := median(v)) is not None}
            for name, per_layer in values.items()}
