"""How a classifier treats each group: rates per group with bootstrap intervals, and the disparity between groups.

    table = group_table(y_true, y_pred, scores, groups)      # list[GroupStats], the worst slices first
    disparity(y_true, y_pred, groups)                        # {"demographic_parity_difference": 0.24, ...}

Everything is one class against the rest: `y_true` and `y_pred` are 0/1 ("is the positive class"), `scores` the
model's probability of the positive class. Point estimates come from fairlearn's `MetricFrame`; the intervals from
resampling each group's rows with replacement, all resamples at once as one (resamples, n) index array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepscope.diagnose.calibration import expected_calibration_error
from deepscope.explain.fairness.requirement import require_fairlearn

RESAMPLES = 200  # bootstrap resamples: a 95 % interval's ends settle to about a percentage point
CONFIDENCE = 0.95
CALIBRATION_BINS = 10  # equal-width bins of the positive-class probability
SMALL_GROUP = 30  # fewer examples than this: the group's interval is wide, and a finding says so

# column name -> what it measures; the order of the table's columns
RATES = {
    "base_rate": "share of the group that truly is the positive class",
    "selection_rate": "share the model predicts as the positive class",
    "accuracy": "share predicted correctly",
    "tpr": "true-positive rate: share of the truly positive the model finds",
    "fpr": "false-positive rate: share of the truly negative the model predicts positive",
    "precision": "share of the predicted positive that truly are",
    "calibration_error": "expected calibration error of the positive-class probability",
}


@dataclass
class GroupStats:
    group: str
    count: int
    values: dict[str, float]  # RATES' keys -> point estimate (NaN where undefined: no positives, say)
    intervals: dict[str, tuple[float, float]]  # RATES' keys -> (low, high) of the bootstrap interval
    gap: float  # the largest distance of this group's selection rate, TPR, FPR or accuracy from everyone's

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "count": self.count, "gap": _json_number(self.gap),
                **{name: _json_number(value) for name, value in self.values.items()},
                "intervals": {name: [_json_number(lo), _json_number(hi)] for name, (lo, hi) in self.intervals.items()}}


def group_table(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray, groups: np.ndarray, *,
                resamples: int = RESAMPLES, seed: int = 0) -> list[GroupStats]:
    """One row per group, the worst slices (farthest from the whole population's rates) first."""
    y_true, y_pred, scores, groups = _checked(y_true, y_pred, scores, groups)
    points = _point_estimates(y_true, y_pred, scores, groups)
    everyone = _rates_of(y_true[None], y_pred[None], scores[None])
    rng = np.random.default_rng(seed)
    rows = []
    for group, values in points.items():
        members = np.flatnonzero(groups == group)
        sample = members[rng.integers(0, len(members), size=(resamples, len(members)))]
        spread = _rates_of(y_true[sample], y_pred[sample], scores[sample])
        intervals = {name: _interval(spread[name]) for name in RATES}
        rows.append(GroupStats(group, len(members), values, intervals, _gap(values, everyone)))
    return sorted(rows, key=lambda row: (-_sortable(row.gap), row.group))


def disparity(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """The whole population's accuracy and selection rate, and fairlearn's disparity measures between groups:
    demographic parity difference (largest minus smallest selection rate) and ratio (smallest over largest),
    equalised odds difference (the larger of the TPR and FPR gaps)."""
    require_fairlearn()
    from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio, equalized_odds_difference

    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    groups = np.asarray(groups, dtype=object)
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "selection_rate": float(np.mean(y_pred)),
        "demographic_parity_difference": float(demographic_parity_difference(y_true, y_pred,
                                                                             sensitive_features=groups)),
        "demographic_parity_ratio": float(demographic_parity_ratio(y_true, y_pred, sensitive_features=groups)),
        "equalized_odds_difference": float(equalized_odds_difference(y_true, y_pred, sensitive_features=groups)),
    }


def calibration_error(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Expected calibration error of the positive-class probability: diagnose's measure, with `correct` being
    "is the positive class", so it compares the predicted probability with the observed frequency per bin."""
    return expected_calibration_error(torch.as_tensor(scores, dtype=torch.float64),
                                      torch.as_tensor(y_true, dtype=torch.float64), bins=CALIBRATION_BINS)


def _point_estimates(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray,
                     groups: np.ndarray) -> dict[str, dict[str, float]]:
    require_fairlearn()
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, precision_score

    metrics: dict[str, Callable[..., float]] = {
        "base_rate": lambda y, _p: float(np.mean(y)),
        "selection_rate": selection_rate,
        "accuracy": accuracy_score,
        "tpr": lambda y, p: true_positive_rate(y, p) if np.any(y == 1) else math.nan,
        "fpr": lambda y, p: false_positive_rate(y, p) if np.any(y == 0) else math.nan,
        "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
        "calibration_error": lambda y, _p, scores: calibration_error(y, scores),
    }
    frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=groups,
                        sample_params={"calibration_error": {"scores": scores}})
    by_group = frame.by_group
    return {str(group): {name: float(by_group.loc[group, name]) for name in RATES} for group in by_group.index}


def _rates_of(y: np.ndarray, p: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """RATES for each row of (resamples, n) 0/1 arrays `y` (truth) and `p` (prediction) and scores `s`."""
    n = y.shape[1]
    positives, predicted = y.sum(1), p.sum(1)
    hits, false_alarms = (y & p).sum(1), ((1 - y) & p).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "base_rate": positives / n,
            "selection_rate": predicted / n,
            "accuracy": (y == p).sum(1) / n,
            "tpr": np.where(positives > 0, hits / positives, np.nan),
            "fpr": np.where(n - positives > 0, false_alarms / (n - positives), np.nan),
            "precision": np.where(predicted > 0, hits / predicted, np.nan),
            "calibration_error": _calibration_errors(y, s),
        }


def _calibration_errors(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """`calibration_error` of every row at once: per-row bin sums through one bincount with offset bins."""
    rows, n = y.shape
    inner = np.linspace(0, 1, CALIBRATION_BINS + 1)[1:-1]
    # side="left" puts a score on an edge in the lower bin, as torch.bucketize does in diagnose's measure
    which = np.searchsorted(inner, np.clip(s, 1e-6, 1), side="left") + CALIBRATION_BINS * np.arange(rows)[:, None]
    size = rows * CALIBRATION_BINS
    confidence = np.bincount(which.ravel(), weights=s.ravel(), minlength=size)
    observed = np.bincount(which.ravel(), weights=y.ravel().astype(float), minlength=size)
    return np.abs(confidence - observed).reshape(rows, CALIBRATION_BINS).sum(1) / n


def _interval(values: np.ndarray) -> tuple[float, float]:
    present = values[~np.isnan(values)]
    if not len(present):
        return (math.nan, math.nan)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(present, [tail, 100 - tail])
    return (float(low), float(high))


def _gap(values: dict[str, float], everyone: dict[str, np.ndarray]) -> float:
    distances = [abs(values[name] - float(everyone[name][0])) for name in ("selection_rate", "tpr", "fpr")]
    distances.append(float(everyone["accuracy"][0]) - values["accuracy"])  # only a lower accuracy is worse
    present = [d for d in distances if not math.isnan(d)]
    return max(present) if present else math.nan


def _sortable(value: float) -> float:
    return -1.0 if math.isnan(value) else value


def _checked(y_true: Any, y_pred: Any, scores: Any, groups: Any) -> tuple[np.ndarray, ...]:
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    scores, groups = np.asarray(scores, dtype=float), np.asarray(groups, dtype=object).astype(str)
    lengths = {len(y_true), len(y_pred), len(scores), len(groups)}
    if len(lengths) != 1:
        raise ValueError(f"y_true, y_pred, scores and groups must have one length, got {sorted(lengths)}")
    return y_true, y_pred, scores, groups


def _json_number(value: float) -> float | None:
    """NaN (a rate with nothing to count) as JSON's null, which every reader understands."""
    return None if value is None or math.isnan(value) else float(value)
