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

import math
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any, ClassVar

import numpy as np
import torch


class Metric:
    """The metric contract: `update(output, target)` per batch, `compute()` at the end, `reset()` to reuse.

    `update` must not sync with the device; `compute` returns plain Python values (float, int, lists).
    `directions` says, for each value `compute` reports, whether higher ("max") or lower ("min") is better;
    values that are not scores (counts, matrices) are left out. Early stopping, checkpoints, the plateau
    schedule, learning curves and the dashboard all read it through `direction`.
    """

    directions: ClassVar[dict[str, str]] = {}

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, with 0 where the denominator is 0 (scikit-learn's `zero_division=0`)."""
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


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


class RegressionMetrics(Metric):
    """Mean absolute error, root mean squared error and R² of predictions in the data's own units.

    The caller de-normalises first (the number head does), so the errors read in the target's units.
    With K outputs per sample, (B, K), every element counts once: R² is over all elements flattened, and
    `n` is the number of samples B.

    Only five running sums are kept on the device, in float64 (float32 where the device has no float64, MPS).
    The target sums are taken about the first batch's mean, which keeps SST = Σ(y - c)² - (Σ(y - c))² / N
    accurate when the targets have a large mean and a small spread (prices, years, kelvins).

    >>> metric = RegressionMetrics()
    >>> metric.update(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 3.0, 5.0]))
    >>> result = metric.compute()
    >>> round(result["mae"], 4), round(result["rmse"], 4), round(result["r2"], 4)
    (0.6667, 0.8165, 0.75)
    """

    directions = {"mae": "min", "rmse": "min", "r2": "max"}

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (4,): Σ|e|, Σe², Σ(y - c), Σ(y - c)²
        self.shift: torch.Tensor | None = None  # () c, the first batch's mean target
        self.n = 0  # samples; a Python int, read from shapes, so counting never syncs
        self.count = 0  # elements

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: predictions (B,) or (B, K); target: the same shape (or the same number of elements)."""
        if output.numel() != target.numel():
            raise ValueError(f"RegressionMetrics: prediction shape {tuple(output.shape)} does not match "
                             f"target shape {tuple(target.shape)}")
        dtype = torch.float32 if output.device.type == "mps" else torch.float64
        prediction, target = output.detach().reshape(-1).to(dtype), target.detach().reshape(-1).to(dtype)
        if self.sums is None:
            self.sums = torch.zeros(4, dtype=dtype, device=output.device)
            self.shift = target.mean() if target.numel() else torch.zeros((), dtype=dtype, device=output.device)
        error, centred = prediction - target, target - self.shift
        self.sums += torch.stack([error.abs().sum(), error.square().sum(), centred.sum(), centred.square().sum()])
        self.n += output.shape[0] if output.dim() else 1
        self.count += target.numel()

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"mae": math.nan, "rmse": math.nan, "r2": math.nan, "n": self.n}
        abs_error, squared_error, centred, centred_squared = self.sums.double().cpu().tolist()
        total = max(centred_squared - centred * centred / self.count, 0.0)  # SST, Σ(y - ȳ)²
        if total > 0:
            r2 = 1.0 - squared_error / total
        else:  # constant targets: scikit-learn's convention (force_finite=True)
            r2 = 1.0 if squared_error == 0 else 0.0
        return {
            "mae": abs_error / self.count,
            "rmse": math.sqrt(squared_error / self.count),
            "r2": r2,
            "n": self.n,
        }


class ForecastMetrics(Metric):
    """MAE, RMSE, MAPE and sMAPE (percent) of forecasts in the data's own units, and the MAE of each step ahead.

    MAPE = mean |F - A| / |A| x 100 over the steps where A != 0; sMAPE = mean 2 |F - A| / (|A| + |F|) x 100
    (0 where both are 0), the M4 competition's definitions. Sums are kept on the device (float64 where it
    has it), so `update` never syncs.

    >>> metric = ForecastMetrics()
    >>> metric.update(torch.tensor([[110.0, 90.0]]), torch.tensor([[100.0, 100.0]]))
    >>> {k: round(v, 3) for k, v in metric.compute().items() if k != "mae_by_step"}
    {'mae': 10.0, 'rmse': 10.0, 'mape': 10.0, 'smape': 10.025, 'n': 1}
    """

    directions = {"mae": "min", "rmse": "min", "mape": "min", "smape": "min"}

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (5,): Σ|e|, Σe², Σ|e|/|A| (A != 0), count(A != 0), Σ sMAPE terms
        self.by_step: torch.Tensor | None = None  # (H,): Σ|e| per step ahead
        self.n = 0  # windows
        self.count = 0  # values

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output, target: (B, H) (or (B,)) in the data's own units."""
        if output.shape != target.shape:
            raise ValueError(f"ForecastMetrics: forecast shape {tuple(output.shape)} != target {tuple(target.shape)}")
        dtype = torch.float32 if output.device.type == "mps" else torch.float64
        forecast = output.detach().to(dtype).reshape(output.shape[0], -1)  # (B, H)
        actual = target.detach().to(dtype).reshape(forecast.shape)
        error = (forecast - actual).abs()
        nonzero = actual != 0
        denominator = actual.abs() + forecast.abs()
        if self.sums is None:
            self.sums = torch.zeros(5, dtype=dtype, device=output.device)
            self.by_step = torch.zeros(forecast.shape[1], dtype=dtype, device=output.device)
        self.sums += torch.stack([
            error.sum(), error.square().sum(),
            torch.where(nonzero, error / actual.abs().clamp(min=1e-300), 0.0).sum(), nonzero.sum().to(dtype),
            torch.where(denominator > 0, 2 * error / denominator.clamp(min=1e-300), 0.0).sum(),
        ])
        self.by_step += error.sum(dim=0)
        self.n += forecast.shape[0]
        self.count += forecast.numel()

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"mae": math.nan, "rmse": math.nan, "mape": math.nan, "smape": math.nan, "n": 0, "mae_by_step": []}
        abs_error, squared_error, relative, nonzero, symmetric = self.sums.double().cpu().tolist()
        return {
            "mae": abs_error / self.count,
            "rmse": math.sqrt(squared_error / self.count),
            "mape": 100 * relative / nonzero if nonzero else math.nan,
            "smape": 100 * symmetric / self.count,
            "n": self.n,
            "mae_by_step": (self.by_step.double().cpu() / self.n).tolist(),
        }


class LanguageModelMetrics(Metric):
    """A language model's next-token predictions: the mean cross-entropy in nats per token, the perplexity
    (e^nats: as unsure as a uniform choice among that many tokens), bits per token (nats / ln 2; per character
    when the tokens are characters), and next-token accuracy. Given `note_ids` (a melody's duration tokens,
    one per note: data/music.py), also nats per note: every predicted token's nats over the notes among them.

    >>> metric = LanguageModelMetrics()
    >>> metric.update(torch.zeros(1, 2, 4), torch.tensor([[0, 3]]))   # uniform over 4 tokens
    >>> round(metric.compute()["perplexity"], 6), round(metric.compute()["bits_per_token"], 6)
    (4.0, 2.0)
    """

    directions = {"nats": "min", "perplexity": "min", "bits_per_token": "min", "bits_per_char": "min",
                  "nats_per_note": "min"}

    def __init__(self, characters: bool = False, note_ids: Sequence[int] | None = None) -> None:
        self.characters = characters  # tokens are characters: bits per token are bits per character
        self.note_ids = torch.tensor(list(note_ids), dtype=torch.long) if note_ids else None
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (3,): Σ nats, Σ correct, Σ notes
        self.count = 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: logits (B, T, V); target: ids (B, T)."""
        logits, target = output.detach().flatten(0, -2).float(), target.detach().reshape(-1)
        nats = torch.nn.functional.cross_entropy(logits, target, reduction="sum").double()
        correct = (logits.argmax(dim=-1) == target).sum().double()
        notes = (torch.isin(target, self.note_ids.to(target.device)).sum().double() if self.note_ids is not None
                 else torch.zeros((), dtype=torch.double, device=target.device))
        step = torch.stack([nats, correct, notes])
        self.sums = step if self.sums is None else self.sums + step
        self.count += target.numel()

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"nats": math.nan, "perplexity": math.nan, "bits_per_token": math.nan, "n": 0}
        total, correct, notes = self.sums.cpu().tolist()
        nats, correct = total / self.count, correct / self.count
        result = {"nats": nats, "perplexity": math.exp(min(nats, 700.0)), "bits_per_token": nats / math.log(2),
                  "accuracy": correct, "n": self.count}
        if self.characters:
            result["bits_per_char"] = result["bits_per_token"]
        if self.note_ids is not None and notes:
            result["nats_per_note"] = total / notes
        return result


class TranslationMetrics(LanguageModelMetrics):
    """A translation model's: per-token nats, perplexity and accuracy of the next target token under teacher
    forcing (padding left out), and sacreBLEU's corpus BLEU and chrF of the written translations against the
    references, both turned into text by `to_text` (rows of ids -> texts; the run's evaluation scores the raw
    reference texts instead)."""

    directions = {**LanguageModelMetrics.directions, "bleu": "max", "chrf": "max"}

    def __init__(self, to_text: Callable[[list[list[int]]], list[str]] | None = None) -> None:
        self.to_text = to_text
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.hypotheses: list[list[int]] = []
        self.references: list[list[int]] = []

    def update(self, output: torch.Tensor, target: torch.Tensor, written: torch.Tensor | None = None) -> None:
        """output: logits (B, T, V); target: ids (B, T), 0 = padding; written: the model's ids (B, L)."""
        keep = target.reshape(-1) != 0
        super().update(output.detach().flatten(0, -2)[keep], target.reshape(-1)[keep])
        if written is not None and self.to_text is not None:
            self.hypotheses += written.tolist()
            self.references += target.tolist()

    def compute(self) -> dict[str, Any]:
        result = super().compute()
        if self.hypotheses:
            import sacrebleu

            hypotheses, references = self.to_text(self.hypotheses), self.to_text(self.references)
            result["bleu"] = sacrebleu.corpus_bleu(hypotheses, [references]).score
            result["chrf"] = sacrebleu.corpus_chrf(hypotheses, [references]).score
        return result


# --- what the reported values mean ------------------------------------------------------------------------------
# values the trainer logs beside the heads' metrics: the loss goes down; the others are not scores
LOGGED = {"loss": "min", "lr": None, "time": None, "epoch": None, "n": None}
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
