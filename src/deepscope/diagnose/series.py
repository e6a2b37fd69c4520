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


# update / weight per step: about 1e-3 is healthy (Karpathy, "A Recipe for Training Neural Networks"); early steps
# that move the weights by a tenth of their size overshoot
UPDATE_TOO_LARGE = 1e-1
SAFE_EARLY_UPDATE = 1e-2  # a brisk but stable first step: a lower rate is suggested by scaling the one in use to it
# the highest rate commonly used: plain SGD runs at 0.01-0.1, the adaptive optimizers (Adam and kin) near 1e-3
USUAL_RATE = {"sgd": 0.1}
USUAL_ADAPTIVE_RATE = 1e-3


def usual_rate(optimizer: str | None) -> float:
    return USUAL_RATE.get(optimizer or "", USUAL_ADAPTIVE_RATE)


def lower_rate(record: Record) -> float | None:
    """The rate to suggest when the one in use is too high: scaled so the first steps would move the weights by
    about 1 % of their size, no higher than the usual rate for the optimizer, at least 3x below the rate in use,
    rounded down to 1 or 3 times a power of ten. None when the record does not know the rate."""
    lr = record.task.get("lr")
    if not lr or lr <= 0:
        return None
    early = early_update_ratio(record)
    scale = min(1 / 3, max(1e-3, SAFE_EARLY_UPDATE / early)) if early else 0.1
    rate = min(lr * scale, usual_rate(record.task.get("optimizer")), lr / 3)
    power = 10 ** math.floor(math.log10(rate))
    return float(f"{power * (3 if rate >= 3 * power else 1):.1g}")


def early_steps(record: Record) -> list[dict[str, Any]]:
    """The very first step (`record.first_step`, when measured) and the samples after it, as long as finite."""
    first = [record.first_step] if record.first_step else []
    return [s for s in first if math.isfinite(s["loss"]) and math.isfinite(s["grad_norm"])] + healthy_samples(record)


def early_update_ratio(record: Record) -> float | None:
    """How far the first steps moved the weights, relative to their size: over the very first step and the first
    sampled ones, the largest of each step's median over layers. None without update measurements."""
    steps = early_steps(record)
    per_step = [median([layer.get("update_ratio") for layer in s["layers"]]) for s in steps[: max(4, len(steps) // 10)]]
    per_step = [r for r in per_step if r is not None]
    return max(per_step) if per_step else None
