"""The fairness audit over plain predictions: a planted gap is found and a balanced case is not, the per-group numbers
match a computation written out here, the intervals behave, small groups are flagged, thresholds close the gap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepscope.diagnose.calibration import expected_calibration_error
from deepscope.errors import DataError, UserError
from deepscope.explain.fairness import (
    audit_predictions,
    disparity,
    fit_thresholds,
    group_labels,
    group_table,
    measure_thresholds,
    requirement,
)
from deepscope.explain.fairness import metrics as fairness_metrics


def planted(selected_a: float, selected_b: float, n: int = 1000, seed: int = 0):
    """Groups A and B of n rows each; the model predicts positive for exactly `selected_a` of A and `selected_b`
    of B; the truth agrees with the prediction on 80 % of the rows, chosen at random."""
    rng = np.random.default_rng(seed)
    groups = np.array(["A"] * n + ["B"] * n, dtype=object)
    y_pred = np.concatenate([np.arange(n) < selected_a * n, np.arange(n) < selected_b * n]).astype(int)
    y_true = np.where(rng.random(2 * n) < 0.8, y_pred, 1 - y_pred)
    scores = np.clip(0.5 + (y_pred - 0.5) * rng.uniform(0.1, 0.9, 2 * n), 0, 1)  # >= 0.5 exactly where predicted
    return y_true, y_pred, scores, groups


def codes(audit) -> set[str]:
    return {finding.code for finding in audit.findings}


def test_a_planted_gap_is_measured_and_put_in_words():
    y_true, y_pred, scores, groups = planted(0.6, 0.2)
    audit = audit_predictions(y_true, y_pred, scores, groups, by=["group"], positive=">50K")
    assert audit.overall["demographic_parity_difference"] == pytest.approx(0.4)
    assert audit.overall["demographic_parity_ratio"] == pytest.approx(1 / 3)
    finding = next(f for f in audit.findings if f.code == "demographic_parity")
    assert finding.severity == "warning"
    assert finding.title == ("the model predicts >50K for 20 % of group=B and 60 % of group=A; a ratio of 0.33, "
                             "far below the four-fifths rule's 0.8")
    assert any("--mitigate thresholds" in advice for advice in finding.advice)
    assert any("data.weights" in advice for advice in finding.advice)


def test_a_balanced_model_gets_no_disparity_finding():
    y_true, y_pred, scores, groups = planted(0.4, 0.4)
    audit = audit_predictions(y_true, y_pred, scores, groups, by=["group"], positive="yes")
    assert audit.overall["demographic_parity_difference"] == pytest.approx(0.0)
    assert audit.overall["demographic_parity_ratio"] == pytest.approx(1.0)
    assert audit.overall["equalized_odds_difference"] < 0.1
    assert codes(audit) == set()


def test_per_group_numbers_match_a_computation_written_out():
    rng = np.random.default_rng(3)
    groups = rng.choice(np.array(["A", "B", "C"], dtype=object), size=600, p=[0.5, 0.3, 0.2])
    y_true = (rng.random(600) < 0.4).astype(int)
    scores = np.clip(0.35 * y_true + rng.random(600) * 0.65, 0, 1)
    y_pred = (scores >= 0.5).astype(int)
    table = {row.group: row for row in group_table(y_true, y_pred, scores, groups)}
    assert set(table) == {"A", "B", "C"}
    for name in ("A", "B", "C"):
        t, p = y_true[groups == name], y_pred[groups == name]
        values = table[name].values
        assert table[name].count == len(t)
        assert values["base_rate"] == pytest.approx(t.sum() / len(t))
        assert values["selection_rate"] == pytest.approx(p.sum() / len(p))
        assert values["accuracy"] == pytest.approx((t == p).sum() / len(t))
        assert values["tpr"] == pytest.approx(((t == 1) & (p == 1)).sum() / (t == 1).sum())
        assert values["fpr"] == pytest.approx(((t == 0) & (p == 1)).sum() / (t == 0).sum())
        assert values["precision"] == pytest.approx(((t == 1) & (p == 1)).sum() / (p == 1).sum())
    rates = {name: table[name].values["selection_rate"] for name in table}
    overall = disparity(y_true, y_pred, groups)
    assert overall["demographic_parity_difference"] == pytest.approx(max(rates.values()) - min(rates.values()))
    assert overall["demographic_parity_ratio"] == pytest.approx(min(rates.values()) / max(rates.values()))


def test_the_worst_slice_comes_first():
    y_true, y_pred, scores, groups = planted(0.5, 0.5, n=400)
    y_pred[groups == "B"] = 0  # B: nothing selected, far from everyone's selection rate
    y_pred[:20] = 1
    extra = np.array(["C"] * 400, dtype=object)
    table = group_table(np.concatenate([y_true, y_true[:400]]), np.concatenate([y_pred, y_pred[:400]]),
                        np.concatenate([scores, scores[:400]]), np.concatenate([groups, extra]))
    assert table[0].group == "B"
    assert [row.gap for row in table] == sorted((row.gap for row in table), reverse=True)


def test_calibration_error_is_diagnoses_measure_and_the_resampled_one_agrees():
    rng = np.random.default_rng(1)
    scores = rng.random(500)
    y = (rng.random(500) < scores ** 2).astype(int)  # over-confident: observed frequency below the score
    expected = expected_calibration_error(torch.tensor(scores), torch.tensor(y, dtype=torch.float64), bins=10)
    assert fairness_metrics.calibration_error(y, scores) == pytest.approx(expected)
    assert fairness_metrics._calibration_errors(y[None], scores[None])[0] == pytest.approx(expected)
    assert expected > 0.1


def test_intervals_hold_the_estimate_and_shrink_with_more_data():
    def widths(n: int) -> dict[str, float]:
        y_true, y_pred, scores, groups = planted(0.5, 0.3, n=n, seed=5)
        row = next(r for r in group_table(y_true, y_pred, scores, groups, seed=0) if r.group == "A")
        for name, (low, high) in row.intervals.items():
            assert low <= row.values[name] <= high, name
        return {name: high - low for name, (low, high) in row.intervals.items()}

    small, large = widths(100), widths(2500)
    for name in small:
        assert large[name] < small[name] / 2, name  # about 1/sqrt(25) = 1/5 as wide


def test_the_bootstrap_is_seeded():
    y_true, y_pred, scores, groups = planted(0.5, 0.3, n=200)
    first = group_table(y_true, y_pred, scores, groups, seed=7)
    again = group_table(y_true, y_pred, scores, groups, seed=7)
    assert [r.intervals for r in first] == [r.intervals for r in again]


def test_a_group_of_twelve_is_reported_with_a_warning_about_its_wide_interval():
    y_true, y_pred, scores, groups = planted(0.5, 0.5, n=500)
    groups[:12] = "C"
    audit = audit_predictions(y_true, y_pred, scores, groups, by=["group"], positive="yes")
    small = [f for f in audit.findings if f.code == "small_group"]
    assert len(small) == 1 and small[0].severity == "warning"
    assert small[0].title == "group=C has only 12 examples"
    assert "its interval is wide: selection rate 100 % [" in small[0].explanation
    row = next(r for r in audit.groups if r.group == "C")
    assert row.count == 12  # reported, not dropped
    assert audit.to_dict()["groups"][[r.group for r in audit.groups].index("C")]["count"] == 12


def test_group_thresholds_close_a_planted_gap():
    rng = np.random.default_rng(0)

    def biased(n: int):
        groups = np.where(rng.random(n) < 0.5, "A", "B").astype(object)
        y_true = (rng.random(n) < np.where(groups == "A", 0.5, 0.3)).astype(int)
        # informative scores, pushed up for A: a model that also learned the group
        scores = np.clip(0.3 * y_true + 0.5 * rng.random(n) + np.where(groups == "A", 0.2, 0.0), 0, 1)
        return y_true, (scores >= 0.5).astype(int), scores, groups

    val_true, _, val_scores, val_groups = biased(3000)
    y_true, y_pred, scores, groups = biased(3000)
    thresholds = fit_thresholds(val_scores, val_true, val_groups, constraint="demographic_parity")
    measured = measure_thresholds(thresholds, y_true, y_pred, scores, groups)
    assert measured["before"]["demographic_parity_difference"] > 0.3
    assert measured["after"]["demographic_parity_difference"] < 0.05
    assert set(measured["thresholds"]) == {"A", "B"}
    rule = measured["thresholds"]["A"][0]
    assert rule["operator"] == ">" and 0 < rule["weight"] <= 1
    odds = measure_thresholds(fit_thresholds(val_scores, val_true, val_groups, constraint="equalized_odds"),
                              y_true, y_pred, scores, groups)
    assert odds["after"]["equalized_odds_difference"] < odds["before"]["equalized_odds_difference"] / 2


def test_thresholds_refuse_a_group_with_one_class_in_validation():
    groups = np.array(["A"] * 20 + ["B"] * 20, dtype=object)
    y_true = np.array([0, 1] * 10 + [0] * 20)
    with pytest.raises(UserError, match=r"group\(s\) B hold only one class"):
        fit_thresholds(np.linspace(0, 1, 40), y_true, groups)
    with pytest.raises(UserError, match="--constraint parity: choose one of demographic_parity, equalized_odds"):
        fit_thresholds(np.linspace(0, 1, 40), y_true, groups, constraint="parity")


def test_numbers_are_binned_by_quantiles_and_two_columns_intersect():
    ages = np.array([str(a) for a in range(20, 100)], dtype=object)  # 80 distinct ages: binned
    sex = np.array(["F", "M"] * 40, dtype=object)
    labels = group_labels({"age": ages, "sex": sex}, ["age"])
    assert sorted(set(labels)) == ["[20, 39.75)", "[39.75, 59.5)", "[59.5, 79.25)", "[79.25, 99]"]
    assert all((labels == name).sum() == 20 for name in set(labels))  # quartiles: equal counts
    both = group_labels({"age": ages, "sex": sex}, ["sex", "age"])
    assert both[0] == "F & [20, 39.75)" and both[-1] == "M & [79.25, 99]"
    few = group_labels({"children": np.array(["0", "1", "2", None], dtype=object)}, ["children"])
    assert list(few) == ["0", "1", "2", "(missing)"]  # few distinct numbers are groups as they are


def test_a_column_that_is_not_in_the_data_is_refused_listing_the_columns():
    with pytest.raises(DataError, match=r"--by gender: no column 'gender' in the data; columns are: age, sex"):
        group_labels({"age": np.array(["1"]), "sex": np.array(["F"])}, ["gender"])


def test_without_fairlearn_the_audit_names_the_extra(monkeypatch):
    monkeypatch.setattr(requirement, "PACKAGE", "fairlearn_is_not_installed")
    y_true, y_pred, scores, groups = planted(0.5, 0.5, n=50)
    with pytest.raises(UserError, match=r"pip install 'deepscope\[fairness\]'"):
        audit_predictions(y_true, y_pred, scores, groups, by=["group"], positive="yes")
