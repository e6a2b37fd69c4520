"""A fairness audit of one classifier's predictions: the table per group, the disparity overall, the findings, and
(when asked) the before / after of group thresholds.

    audit = audit_predictions(y_true, y_pred, scores, groups, by=["sex"], positive=">50K")
    audit.groups[0].values["selection_rate"], audit.overall["demographic_parity_ratio"], audit.findings
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepscope.diagnose.finding import Finding
from deepscope.explain.fairness.findings import fairness_findings
from deepscope.explain.fairness.metrics import RESAMPLES, GroupStats, disparity, group_table
from deepscope.explain.fairness.mitigation import GroupThresholds


@dataclass
class FairnessAudit:
    by: list[str]
    positive: str  # the class audited against the rest, as the data writes it
    groups: list[GroupStats]  # the worst slices first
    overall: dict[str, float]  # accuracy, selection rate, demographic parity difference and ratio, equalised odds
    findings: list[Finding]
    mitigation: dict[str, Any] | None = None  # {"method", "constraint", "thresholds", "before", "after"}
    about: dict[str, Any] = field(default_factory=dict)  # where the predictions came from: run, split, output

    def to_dict(self) -> dict[str, Any]:
        return _without_nan({**self.about, "by": self.by, "positive": self.positive,
                             "groups": [g.to_dict() for g in self.groups], "overall": self.overall,
                             "findings": [f.to_dict() for f in self.findings], "mitigation": self.mitigation})


def audit_predictions(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray, groups: np.ndarray, *,
                      by: Sequence[str], positive: str, target: str | None = None, resamples: int = RESAMPLES,
                      seed: int = 0) -> FairnessAudit:
    """`y_true`, `y_pred`: 0/1 (is the positive class); `scores`: the positive class's probability; `groups`: a
    label per example (see groups.group_labels); `target`: the predicted column's name, for the advice."""
    table = group_table(y_true, y_pred, scores, groups, resamples=resamples, seed=seed)
    overall = disparity(y_true, y_pred, groups)
    return FairnessAudit(list(by), str(positive), table, overall,
                         fairness_findings(table, overall, by=by, positive=str(positive), target=target))


def measure_thresholds(thresholds: GroupThresholds, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray,
                       groups: np.ndarray) -> dict[str, Any]:
    """The thresholds applied to the audited split: accuracy and disparity before and after, and the thresholds."""
    fair = thresholds.predict(scores, groups)
    return {"method": "thresholds", "constraint": thresholds.constraint, "fitted_on": "val",
            "thresholds": thresholds.to_dict()["groups"],
            "before": disparity(y_true, y_pred, groups), "after": disparity(y_true, fair, groups)}


def _without_nan(value: Any) -> Any:
    """NaN (a ratio with nothing selected, a rate with nothing to count) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nan(v) for v in value]
    return value
