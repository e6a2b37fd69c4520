"""How the trainer computes a loss and metrics for a model, so any `torch.nn.Module` can be trained.

A deepscope model knows its own losses and metrics (its heads do). A plain module is trained on batches
`{"input": x, "target": y}` with a named loss, and gets the metrics that go with that loss.

    Trainer(loss="cross_entropy").fit(my_module, (x_train, y_train))
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.errors import ConfigError
from deepscope.metrics import BinaryMetrics, ClassificationMetrics, Metric, RegressionMetrics

Batch = dict[str, torch.Tensor]

LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross_entropy": lambda out, y: F.cross_entropy(out.float(), y),
    "bce": lambda out, y: F.binary_cross_entropy_with_logits(out.float().reshape(y.shape), y.float()),
    "mse": lambda out, y: F.mse_loss(out.float().reshape(y.shape), y.float()),
    "huber": lambda out, y: F.huber_loss(out.float().reshape(y.shape), y.float()),
    "mae": lambda out, y: F.l1_loss(out.float().reshape(y.shape), y.float()),
}


class ModelTask:
    """For deepscope models (anything with `loss`, `metrics` and `update_metrics`)."""

    def forward_loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Any]:
        outputs = model(batch)
        return _unwrap(model).loss(outputs, batch), outputs

    def metrics(self, model: nn.Module) -> dict[str, Metric]:
        return _unwrap(model).metrics()

    def update_metrics(self, model: nn.Module, metrics: dict[str, Metric], outputs: Any, batch: Batch) -> None:
        _unwrap(model).update_metrics(metrics, outputs, batch)


class SupervisedTask:
    """For plain modules: `model(batch["input"])` against `batch["target"]` with a named or given loss."""

    def __init__(self, loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
        if isinstance(loss, str) and loss not in LOSSES:
            raise ConfigError(f"loss: unknown {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
        self.loss_name = loss if isinstance(loss, str) else None
        self.loss = LOSSES[loss] if isinstance(loss, str) else loss

    def forward_loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Any]:
        outputs = model(batch["input"])
        return self.loss(outputs, batch["target"]), outputs

    def metrics(self, model: nn.Module) -> dict[str, Metric]:
        if self.loss_name == "cross_entropy":
            return {"target": _LazyClassification()}
        if self.loss_name == "bce":
            return {"target": BinaryMetrics()}
        if self.loss_name in ("mse", "huber", "mae"):
            return {"target": RegressionMetrics()}
        return {}

    def update_metrics(self, model: nn.Module, metrics: dict[str, Metric], outputs: Any, batch: Batch) -> None:
        if "target" in metrics:
            target = batch["target"]
            output = outputs.detach()
            metrics["target"].update(output.reshape(target.shape) if output.numel() == target.numel() else output, target)


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


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DistributedDataParallel keeps the model in .module


def task_for(model: nn.Module, loss: Any) -> ModelTask | SupervisedTask:
    if loss is None and hasattr(_unwrap(model), "loss"):
        return ModelTask()
    if loss is None:
        raise ConfigError(
            "Trainer: this model has no `loss` method; pass loss='cross_entropy' (or bce, mse, huber, mae, "
            "or a function of (outputs, targets)) and data as (inputs, targets)"
        )
    return SupervisedTask(loss)
