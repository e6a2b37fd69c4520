"""Metrics accumulated on the device: `update` never waits for the GPU, only `compute` does.

`update` is called once per batch inside the evaluation loop, so it must not call `.item()`, `.cpu()`,
`.tolist()` or anything else that makes the host wait for the device: it only launches kernels that add to
small accumulator tensors. `compute` copies the accumulators to the host once and returns plain Python values
(JSON-ready), checked against scikit-learn in the tests.

    metric = ClassificationMetrics(num_classes=3)
    for logits, target in batches:          # logits (B, C), target (B,) class indices
        metric.update(logits, target)
    metric.compute()["accuracy"]            # a float; the one host-device sync
"""

from __future__ import annotations

import re
from collections.abc import Collection

from deepscope.metrics.base import Metric
from deepscope.metrics.classification import BinaryMetrics, ClassificationMetrics
from deepscope.metrics.language import LanguageModelMetrics, TranslationMetrics
from deepscope.metrics.regression import ForecastMetrics, RegressionMetrics

__all__ = ["Metric", "ClassificationMetrics", "BinaryMetrics", "RegressionMetrics", "ForecastMetrics",
           "LanguageModelMetrics", "TranslationMetrics", "direction", "metric_key", "DIRECTIONS"]


# --- what the reported values mean ------------------------------------------------------------------------------
# values the trainer logs beside the heads' metrics: the loss goes down; the others are not scores
LOGGED = {"loss": "min", "lr": None, "time": None, "compile_time": None, "epoch": None, "n": None}
METRICS = (ClassificationMetrics, BinaryMetrics, RegressionMetrics, ForecastMetrics, LanguageModelMetrics,
           TranslationMetrics)


def _directions() -> dict[str, str | None]:
    table: dict[str, str | None] = dict(LOGGED)
    for metric in METRICS:
        for name, way in metric.directions.items():
            if table.get(name, way) != way:
                raise AssertionError(f"metric {name!r} is declared both {table[name]} and {way}")
            table[name] = way
    return table


DIRECTIONS = _directions()


def direction(key: str) -> str | None:
    """"min" when lower is better, "max" when higher is, None for values that are not scores (lr, time, n).

    `key` may carry a split and an output (`val.label.accuracy`): the last part decides. A name no metric
    declares counts as a score that goes up, as accuracy does.

    >>> direction("val.loss"), direction("test.price.mae"), direction("top3_accuracy"), direction("lr")
    ('min', 'min', 'max', None)
    """
    name = key.rsplit(".", 1)[-1]
    if name in DIRECTIONS:
        return DIRECTIONS[name]
    return DIRECTIONS.get(re.sub(r"\d+", "{k}", name), "max")


def metric_key(output: str, metric: str, outputs: Collection[str] | int, split: str | None = None) -> str:
    """The name a metric is logged under: `accuracy` for a model with one output, `label.accuracy` with several,
    prefixed by the split when one is given (`val.accuracy`).

    >>> metric_key("label", "accuracy", 1, "val"), metric_key("label", "accuracy", ["label", "price"])
    ('val.accuracy', 'label.accuracy')
    """
    count = outputs if isinstance(outputs, int) else len(outputs)
    name = metric if count <= 1 else f"{output}.{metric}"
    return f"{split}.{name}" if split else name
