"""Metrics of class predictions: many classes, and one yes/no output."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from deepscope.metrics.base import Metric, _safe_divide, summed


class ClassificationMetrics(Metric):
    """Accuracy, top-k accuracy, macro precision / recall / F1 and the confusion matrix for C classes.

    Args:
        num_classes: C, the number of classes (the width of the logits).
        top_k: also report `top{k}_accuracy` (the true class among the k highest logits) when C > k.

    Targets outside [0, C) (such as cross-entropy's `ignore_index` of -100) are skipped.

    >>> metric = ClassificationMetrics(3, top_k=2)
    >>> metric.update(torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]]), torch.tensor([0, 1]))
    >>> metric.compute()["accuracy"], metric.compute()["top2_accuracy"]
    (0.5, 1.0)
    """

    directions = {"accuracy": "max", "top{k}_accuracy": "max", "precision_macro": "max", "recall_macro": "max",
                  "f1_macro": "max"}

    def __init__(self, num_classes: int, top_k: int = 5):
        if num_classes < 2:
            raise ValueError(f"ClassificationMetrics needs at least 2 classes, got {num_classes}")
        self.num_classes, self.top_k = num_classes, top_k
        self.reset()

    def reset(self) -> None:
        # Created on the first update, on the logits' device (the metric does not know it before).
        self.confusion: torch.Tensor | None = None  # (C * C,) int64, index = true * C + predicted
        self.top_k_hits: torch.Tensor | None = None  # () int64

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: logits (B, C); target: class indices (B,)."""
        C = self.num_classes
        if self.confusion is None:
            self.confusion = torch.zeros(C * C, dtype=torch.long, device=output.device)
            self.top_k_hits = torch.zeros((), dtype=torch.long, device=output.device)
        target = target.reshape(-1).long()
        valid = (target >= 0) & (target < C)  # (B,) bool; no host check, the mask does it on the device
        predicted = output.argmax(dim=-1).reshape(-1)
        index = torch.where(valid, target * C + predicted, 0)
        # scatter_add_ rather than torch.bincount: bincount on CUDA reads the input's min and max back to
        # the host to size its output, a sync on every batch.
        self.confusion.scatter_add_(0, index, valid.long())
        if C > self.top_k:
            top = output.topk(self.top_k, dim=-1).indices  # (B, k)
            hits = (top == target.unsqueeze(-1)).any(dim=-1) & valid
            self.top_k_hits += hits.sum()

    def merge(self, other: ClassificationMetrics) -> None:
        self.confusion = summed(self.confusion, other.confusion)
        self.top_k_hits = summed(self.top_k_hits, other.top_k_hits)

    def compute(self) -> dict[str, Any]:
        C = self.num_classes
        if self.confusion is None:
            confusion = np.zeros((C, C), dtype=np.int64)
            top_k_hits = 0
        else:
            confusion = self.confusion.reshape(C, C).cpu().numpy()  # rows: true class, columns: predicted
            top_k_hits = int(self.top_k_hits)
        n = int(confusion.sum())
        true_positive = np.diag(confusion)
        predicted_count, true_count = confusion.sum(axis=0), confusion.sum(axis=1)
        precision = _safe_divide(true_positive, predicted_count)
        recall = _safe_divide(true_positive, true_count)
        # 2TP / (2TP + FP + FN), as scikit-learn computes F1; 0 for a class never seen nor predicted
        f1 = _safe_divide(2 * true_positive, predicted_count + true_count)
        results: dict[str, Any] = {"accuracy": true_positive.sum() / n if n else math.nan}
        if C > self.top_k:
            results[f"top{self.top_k}_accuracy"] = top_k_hits / n if n else math.nan
        results.update(precision_macro=precision.mean(), recall_macro=recall.mean(), f1_macro=f1.mean())
        results = {key: float(value) for key, value in results.items()}
        return {**results, "confusion_matrix": confusion.tolist(), "n": n}


class BinaryMetrics(Metric):
    """Accuracy, precision, recall, F1, ROC AUC and the 2x2 confusion matrix for one yes/no output.

    Args:
        threshold: a probability at or above it counts as class 1 (the binary head predicts the same way).

    The scores are kept on the device, one tensor per batch, because ROC AUC needs all of them; they are
    joined and copied to the host once, in `compute`. They are kept as logits, not probabilities: float32
    sigmoid rounds every logit above ~17 to exactly 1.0, which would turn confident predictions into ties.

    >>> metric = BinaryMetrics()
    >>> metric.update(torch.tensor([2.0, -1.0, 0.5, -3.0]), torch.tensor([1.0, 0.0, 0.0, 1.0]))
    >>> result = metric.compute()
    >>> result["accuracy"], result["roc_auc"], result["confusion_matrix"]
    (0.5, 0.5, [[1, 1], [1, 1]])
    """

    directions = {"accuracy": "max", "precision": "max", "recall": "max", "f1": "max", "roc_auc": "max"}

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.logits: list[torch.Tensor] = []  # (B,) float32 per batch
        self.targets: list[torch.Tensor] = []  # (B,) bool per batch

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: raw logits (B,) or (B, 1); target: 0/1 (B,) or (B, 1), float, int or bool."""
        self.logits.append(output.detach().reshape(-1).float())
        self.targets.append(target.detach().reshape(-1) > 0.5)

    def merge(self, other: BinaryMetrics) -> None:
        self.logits += other.logits
        self.targets += other.targets

    def compute(self) -> dict[str, Any]:
        from sklearn.metrics import roc_auc_score  # imported here: scikit-learn is slow to import

        if not self.logits:
            logits, actual = torch.zeros(0), np.zeros(0, dtype=bool)
        else:
            logits, actual = torch.cat(self.logits).cpu(), torch.cat(self.targets).cpu().numpy()
        predicted = (logits.sigmoid() >= self.threshold).numpy()
        tp, fp = int(np.sum(predicted & actual)), int(np.sum(predicted & ~actual))
        fn, tn = int(np.sum(~predicted & actual)), int(np.sum(~predicted & ~actual))
        n = len(actual)
        precision, recall = float(_safe_divide(tp, tp + fp)), float(_safe_divide(tp, tp + fn))
        # ROC AUC is undefined unless both classes occur; NaN says so without raising mid-training
        roc_auc = float(roc_auc_score(actual, logits.double().numpy())) if 0 < actual.sum() < n else math.nan
        return {
            "accuracy": (tp + tn) / n if n else math.nan,
            "precision": precision,
            "recall": recall,
            "f1": float(_safe_divide(2 * tp, 2 * tp + fp + fn)),
            "roc_auc": roc_auc,
            "confusion_matrix": [[tn, fp], [fn, tp]],  # rows: true 0 / 1, columns: predicted 0 / 1
            "n": n,
        }
