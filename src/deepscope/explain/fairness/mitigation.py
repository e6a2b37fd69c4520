"""Group-specific thresholds (post-processing): fairlearn's ThresholdOptimizer over a trained model's scores.

    thresholds = fit_thresholds(val_scores, val_y, val_groups, constraint="demographic_parity")
    y_fair = thresholds.predict(test_scores, test_groups)
    thresholds.to_dict()    # per group: the thresholds and how often each is used (JSON)

The model is not touched: the thresholds are fitted on the validation split's scores and applied to the audited
split, so the audit measures them on examples they were not fitted on. fairlearn's solution may mix two thresholds
in a group at random (that is what reaches the constraint exactly); the mixing is seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepscope.errors import UserError
from deepscope.explain.fairness.requirement import require_fairlearn

CONSTRAINTS = ("demographic_parity", "equalized_odds")


def _scores_estimator() -> Any:
    """A prefit scikit-learn-style estimator whose input is the model's positive-class probability itself: the
    optimizer needs `predict_proba(X)`, and the scores are all it has to decide with. Made here, not at import:
    scikit-learn takes half a second to import, and the report imports this module for every run."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Scores(ClassifierMixin, BaseEstimator):
        def __init__(self) -> None:
            self.classes_ = np.array([0, 1])  # ends in "_": what scikit-learn's check_is_fitted looks for

        def fit(self, X: Any, y: Any) -> Scores:  # noqa: N803 (scikit-learn's names)
            return self

        def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
            positive = np.asarray(X, dtype=float).reshape(-1)
            return np.stack([1 - positive, positive], axis=1)

    return Scores()


@dataclass
class GroupThresholds:
    constraint: str
    optimizer: Any  # the fitted fairlearn ThresholdOptimizer
    seed: int

    def predict(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        unseen = sorted(set(map(str, groups)) - set(self.to_dict()["groups"]))
        if unseen:
            raise UserError(f"--mitigate thresholds: the group(s) {', '.join(unseen[:5])} are not in the validation "
                            "split, so they have no threshold; group more coarsely or make the validation split larger")
        return np.asarray(self.optimizer.predict(_column(scores), sensitive_features=_texts(groups),
                                                 random_state=self.seed), dtype=int)

    def to_dict(self) -> dict[str, Any]:
        """{"constraint": ..., "groups": {group: [{"threshold", "operator", "weight"}, ...]}}: predict positive
        when `score operator threshold`, using each rule for `weight` of the group's examples."""
        rules = self.optimizer.interpolated_thresholder_.interpolation_dict
        return {"constraint": self.constraint,
                "groups": {str(group): _rules(rule) for group, rule in rules.items()}}


def fit_thresholds(scores: np.ndarray, y_true: np.ndarray, groups: np.ndarray, *,
                   constraint: str = "demographic_parity", seed: int = 0) -> GroupThresholds:
    """Thresholds per group that meet `constraint` (demographic_parity or equalized_odds) at the best accuracy."""
    if constraint not in CONSTRAINTS:
        raise UserError(f"--constraint {constraint}: choose one of {', '.join(CONSTRAINTS)}")
    y_true, groups = np.asarray(y_true, dtype=int), _texts(groups)
    # fairlearn needs both classes in every group to trace its trade-off curve; say which group lacks one
    one_class = sorted(str(g) for g in np.unique(groups) if len(np.unique(y_true[groups == g])) < 2)
    if one_class:
        raise UserError(f"--mitigate thresholds: in the validation split the group(s) {', '.join(one_class[:5])} "
                        "hold only one class, so no threshold can be fitted for them; group more coarsely (fewer "
                        "--by columns) or make the validation split larger (data.split.val)")
    require_fairlearn()
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(estimator=_scores_estimator(), constraints=constraint, objective="accuracy_score",
                                   prefit=True, predict_method="predict_proba")
    optimizer.fit(_column(scores), y_true, sensitive_features=groups)
    return GroupThresholds(constraint, optimizer, seed)


def _rules(rule: Any) -> list[dict[str, Any]]:
    out = []
    for weight, operation in ((rule.p0, rule.operation0), (rule.p1, rule.operation1)):
        if weight > 0:
            threshold = float(operation.threshold)
            # an infinite threshold is "always" or "never": JSON has no infinity, so it is said in words
            out.append({"threshold": threshold if math.isfinite(threshold) else ("inf" if threshold > 0 else "-inf"),
                        "operator": operation.operator, "weight": float(weight)})
    return out


def _column(scores: np.ndarray) -> np.ndarray:
    return np.asarray(scores, dtype=float).reshape(-1, 1)


def _texts(groups: np.ndarray) -> np.ndarray:
    return np.asarray(groups, dtype=object).astype(str)
