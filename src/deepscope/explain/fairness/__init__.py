"""The fairness audit: how a classifier treats groups of people, in numbers with intervals and in plain words, and
group thresholds that close the gap it finds (fairlearn does the group metrics and the post-processing).

    from deepscope.explain.fairness import audit_predictions, group_labels
    audit = audit_predictions(y_true, y_pred, scores, group_labels(columns, ["sex"]), by=["sex"], positive=">50K")
"""

from deepscope.explain.fairness.audit import FairnessAudit, audit_predictions, measure_thresholds
from deepscope.explain.fairness.groups import group_labels
from deepscope.explain.fairness.metrics import RATES, GroupStats, disparity, group_table
from deepscope.explain.fairness.mitigation import CONSTRAINTS, GroupThresholds, fit_thresholds
from deepscope.explain.fairness.requirement import INSTALL, require_fairlearn

__all__ = ["CONSTRAINTS", "INSTALL", "RATES", "FairnessAudit", "GroupStats", "GroupThresholds", "audit_predictions",
           "disparity", "fit_thresholds", "group_labels", "group_table", "measure_thresholds", "require_fairlearn"]
