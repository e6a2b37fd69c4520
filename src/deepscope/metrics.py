"""Metrics accumulated on the device: `update` never syncs with the host; only `compute` does.

    metric = ClassificationMetrics(num_classes=10)
    for logits, target in batches:
        metric.update(logits, target)
    metric.compute()   # {"accuracy": 0.98, "top5_accuracy": 1.0, "f1_macro": 0.98, "confusion_matrix": [...]}
"""

from __future__ import annotations

import math
from typing import Any

import torch


class Metric:
    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


class ClassificationMetrics(Metric):
    """Accuracy, top-k accuracy, macro precision / recall / F1 and the confusion matrix (rows: true class).

    Everything but top-k follows from the confusion matrix, which one `bincount` per batch accumulates.
    """

    def __init__(self, num_classes: int, top_k: int = 5):
        self.num_classes = num_classes
        self.top_k = top_k
        self.reset()

    def reset(self) -> None:
        self.confusion: torch.Tensor | None = None
        self.top_k_hits: torch.Tensor | None = None

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        c = self.num_classes
        predicted = output.argmax(dim=-1)
        counts = torch.bincount(target.long() * c + predicted, minlength=c * c).view(c, c)
        self.confusion = counts if self.confusion is None else self.confusion + counts
        if c > self.top_k:
            hits = (output.topk(self.top_k, dim=-1).indices == target.view(-1, 1)).any(dim=-1).sum()
            self.top_k_hits = hits if self.top_k_hits is None else self.top_k_hits + hits

    def compute(self) -> dict[str, Any]:
        if self.confusion is None:
            return {}
        confusion = self.confusion.double().cpu()
        n = confusion.sum().item()
        true_positive = confusion.diag()
        predicted, actual = confusion.sum(dim=0), confusion.sum(dim=1)
        precision = _safe_divide(true_positive, predicted)
        recall = _safe_divide(true_positive, actual)
        f1 = _safe_divide(2 * precision * recall, precision + recall)
        results: dict[str, Any] = {"accuracy": true_positive.sum().item() / n}
        if self.top_k_hits is not None:
            results[f"top{self.top_k}_accuracy"] = self.top_k_hits.item() / n
        results.update({
            "precision_macro": precision.mean().item(),
            "recall_macro": recall.mean().item(),
            "f1_macro": f1.mean().item(),
            "confusion_matrix": self.confusion.cpu().tolist(),
            "n": int(n),
        })
        return results


class BinaryMetrics(Metric):
    """Accuracy, precision, recall, F1 at a threshold, ROC-AUC (threshold-free), and the 2x2 confusion matrix.

    ROC-AUC needs every score, so scores are kept (on the device) until `compute`.
    """

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.scores: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        self.scores.append(output.detach().float().reshape(-1).sigmoid())
        self.targets.append(target.detach().reshape(-1))

    def compute(self) -> dict[str, Any]:
        if not self.scores:
            return {}
        scores = torch.cat(self.scores).cpu().double()
        target = torch.cat(self.targets).cpu().long()
        predicted = (scores >= self.threshold).long()
        counts = torch.bincount(target * 2 + predicted, minlength=4).view(2, 2).double()
        (tn, fp), (fn, tp) = counts.tolist()
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return {
            "accuracy": (tp + tn) / len(target),
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "roc_auc": roc_auc(scores, target),
            "confusion_matrix": counts.long().tolist(),
            "n": len(target),
        }


def roc_auc(scores: torch.Tensor, target: torch.Tensor) -> float:
    """Area under the ROC curve (scikit-learn's definition); NaN when only one class is present."""
    if target.min() == target.max():
        return math.nan
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(target.numpy(), scores.numpy()))


class RegressionMetrics(Metric):
    """MAE, RMSE and R², from running sums in float64 (so batches can be added up exactly enough)."""

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # n, sum|e|, sum e², sum y, sum y²

    def __init__(self) -> None:
        self.reset()

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        y = target.detach().double().reshape(-1)
        error = output.detach().double().reshape(-1) - y
        sums = torch.stack([torch.tensor(float(len(y)), dtype=torch.float64, device=y.device),
                            error.abs().sum(), error.square().sum(), y.sum(), y.square().sum()])
        self.sums = sums if self.sums is None else self.sums + sums

    def compute(self) -> dict[str, Any]:
        if self.sums is None:
            return {}
        n, abs_error, squared_error, total, total_squared = self.sums.cpu().tolist()
        variance_sum = total_squared - total * total / n
        return {
            "mae": abs_error / n,
            "rmse": math.sqrt(squared_error / n),
            "r2": 1 - squared_error / variance_sum if variance_sum > 0 else math.nan,
            "n": int(n),
        }


def _safe_divide(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(b > 0, a / b.clamp(min=1e-300), torch.zeros_like(a))
