"""Input columns that give the target away (target leakage), measured on the training split before training.

    leaking_columns({"age": ages, "code": codes}, {"risk": ("class", labels)})
    # [{"column": "code", "output": "risk", "measure": "held_out_accuracy", "value": 1.0, "baseline": 0.5}]

For a class output, a column leaks when the label can be read off its value: the rows are grouped by the
column's value (numbers with many values in QUANTILE_BINS bins), the commonest label of each group is learned on
one half of the rows and predicts the other half, and the other way round. The column leaks when that gets at
least PURITY of the rows right *and* makes at most BASELINE_ERRORS of the errors of always answering the
commonest class (on a 99:1 task a constant column is 99 % "right"). Learning on one half and testing on the
other keeps identifier-like columns (a new value in every row) from looking perfect: their values never recur.

For a number output, a number column leaks when it is (nearly) a linear or a monotone function of the target:
|Pearson| or |Spearman| correlation >= CORRELATION.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

MIN_ROWS = 50  # fewer training rows say too little to accuse a column
PURITY = 0.99  # share of held-out rows whose label the column's value predicts
BASELINE_ERRORS = 0.1  # ... with at most this share of the errors of always answering the commonest class
CORRELATION = 0.99  # |correlation| of a number column with a number target
QUANTILE_BINS = 100  # a number column with more distinct values is cut into this many equal-count bins

Target = tuple[Literal["class", "number"], np.ndarray]


def leaking_columns(inputs: dict[str, np.ndarray], targets: dict[str, Target]) -> list[dict[str, Any]]:
    """Each (input column, output) pair where the column gives the output away.

    Args:
        inputs: column -> (N,) values of the training rows: float for numbers (NaN where missing), int64
            codes for categories and texts (equal codes for equal values).
        targets: output -> ("class", (N,) int64 labels) or ("number", (N,) floats).
    """
    found = []
    for output, (kind, target) in targets.items():
        for column, values in inputs.items():
            if len(values) < MIN_ROWS or len(values) != len(target):
                continue
            relation = _class_relation(values, target) if kind == "class" else _number_relation(values, target)
            if relation:
                found.append({"column": column, "output": output, **relation})
    return found


def _class_relation(values: np.ndarray, labels: np.ndarray) -> dict[str, Any] | None:
    groups = _groups(values)
    halves = np.random.default_rng(0).permutation(len(labels)) % 2 == 0
    right = _predicted_right(groups, labels, fit=halves) + _predicted_right(groups, labels, fit=~halves)
    accuracy = right / len(labels)
    baseline = np.bincount(labels).max() / len(labels)
    if accuracy >= PURITY and 1 - accuracy <= BASELINE_ERRORS * (1 - baseline):
        return {"measure": "held_out_accuracy", "value": round(float(accuracy), 4),
                "baseline": round(float(baseline), 4), "groups": int(groups.max() + 1)}
    return None


def _groups(values: np.ndarray) -> np.ndarray:
    """(N,) int64 group per row: its value, or for numbers with many values its quantile bin; NaN its own."""
    if values.dtype.kind != "f":
        return np.unique(values, return_inverse=True)[1].reshape(-1)
    present = ~np.isnan(values)
    distinct = np.unique(values[present])
    if len(distinct) > QUANTILE_BINS:
        edges = np.unique(np.quantile(values[present], np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1]))
        groups = np.searchsorted(edges, values, side="right")
    else:
        groups = np.searchsorted(distinct, values)
    return np.where(present, groups, groups.max(initial=0) + 1).astype(np.int64)


def _predicted_right(groups: np.ndarray, labels: np.ndarray, *, fit: np.ndarray) -> int:
    """How many rows outside `fit` get their label right from the commonest label of their group within `fit`
    (the commonest label overall for a group `fit` never saw)."""
    n_groups, n_labels = int(groups.max()) + 1, int(labels.max()) + 1
    counts = np.bincount(groups[fit] * n_labels + labels[fit], minlength=n_groups * n_labels)
    counts = counts.reshape(n_groups, n_labels)
    commonest = np.where(counts.sum(1) > 0, counts.argmax(1), np.bincount(labels[fit], minlength=n_labels).argmax())
    return int((commonest[groups[~fit]] == labels[~fit]).sum())


def _number_relation(values: np.ndarray, target: np.ndarray) -> dict[str, Any] | None:
    if values.dtype.kind != "f":
        return None  # a category against a number target: not judged
    present = ~np.isnan(values) & ~np.isnan(target)
    x, y = values[present], target[present]
    if len(x) < MIN_ROWS or x.std() == 0 or y.std() == 0:
        return None
    from scipy.stats import rankdata  # imported here: scipy.stats takes 1.5 s, and most data has no number columns

    pearson = float(np.corrcoef(x, y)[0, 1])
    spearman = float(np.corrcoef(rankdata(x), rankdata(y))[0, 1])
    measure, value = max((("correlation", pearson), ("rank_correlation", spearman)), key=lambda m: abs(m[1]))
    return {"measure": measure, "value": round(value, 4)} if abs(value) >= CORRELATION else None
