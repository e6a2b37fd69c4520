"""How the trainer computes a loss and metrics for a model, so any `torch.nn.Module` can be trained.

A deepscope model knows its own losses and metrics (its heads do). A plain module is trained on batches
`{"input": x, "target": y}` with a named loss from `deepscope.models.losses`, and gets the metrics that go with
that loss's target.

    Trainer(loss="cross_entropy").fit(my_module, (x_train, y_train))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from deepscope.errors import ConfigError
from deepscope.metrics import BinaryMetrics, ClassificationMetrics, Metric, RegressionMetrics
from deepscope.models.losses import LOSSES

Batch = dict[str, torch.Tensor]


class ModelTask:
    """For deepscope models (anything with `loss`, `metrics` and `update_metrics`): the batch dict goes in whole."""

    def forward(self, model: nn.Module, batch: Batch) -> Any:
        return model(batch)

    def forward_loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Any]:
        outputs = self.forward(model, batch)
        return _unwrap(model).loss(outputs, batch), outputs

    def metrics(self, model: nn.Module) -> dict[str, Metric]:
        return _unwrap(model).metrics()

    def update_metrics(self, model: nn.Module, metrics: dict[str, Metric], outputs: Any, batch: Batch) -> None:
        _unwrap(model).update_metrics(metrics, outputs, batch)


class SupervisedTask:
    """For plain modules: `model(batch["input"])` against `batch["target"]` with a named or given loss."""

    def __init__(self, loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None):
        self.loss_name = loss if isinstance(loss, str) else None
        self.loss = LOSSES.get(loss, where="loss") if isinstance(loss, str) else loss

    def forward(self, model: nn.Module, batch: Batch) -> Any:
        return model(batch["input"])

    def forward_loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Any]:
        if self.loss is None:
            raise _no_loss()
        outputs = self.forward(model, batch)
        return self.loss(outputs, batch["target"]), outputs

    def metrics(self, model: nn.Module) -> dict[str, Metric]:
        target = getattr(self.loss, "target", None)
        if target == "class":
            return {"target": _LazyClassification()}
        if target == "binary":
            return {"target": BinaryMetrics()}
        if target == "value":
            return {"target": RegressionMetrics()}
        return {}

    def update_metrics(self, model: nn.Module, metrics: dict[str, Metric], outputs: Any, batch: Batch) -> None:
        if "target" in metrics:
            target = batch["target"]
            output = outputs.detach()
            metrics["target"].update(output.reshape(target.shape) if output.numel() == target.numel() else output,
                                     target)


class _LazyClassification(Metric):
    """ClassificationMetrics whose class count is read off the first batch of logits."""

    def __init__(self) -> None:
        self.inner: ClassificationMetrics | None = None

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        if self.inner is None:
            self.inner = ClassificationMetrics(output.shape[-1])
        self.inner.update(output, target)

    def compute(self) -> dict[str, Any]:
        return self.inner.compute() if self.inner else {}

    def reset(self) -> None:
        self.inner = None

    def merge(self, other: _LazyClassification) -> None:
        if self.inner is None or other.inner is None:
            self.inner = self.inner or other.inner
        else:
            self.inner.merge(other.inner)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DistributedDataParallel keeps the model in .module


def task_for(model: nn.Module, loss: Any, *, need_loss: bool = True) -> ModelTask | SupervisedTask:
    """How to train (or, without `need_loss`, only call) `model`: by its own losses when it has them and no loss
    is given, else with `loss` on {"input", "target"} batches."""
    if loss is None and hasattr(_unwrap(model), "loss"):
        return ModelTask()
    if loss is None and need_loss:
        raise _no_loss()
    return SupervisedTask(loss)


def _no_loss() -> ConfigError:
    return ConfigError(
        "Trainer: this model has no `loss` method; pass loss='cross_entropy' (or bce, mse, huber, mae, "
        "or a function of (outputs, targets)) and data as (inputs, targets)"
    )
