"""Would more data help: the power-law fit, the judgement, and a real curve on the bundled digits."""

from __future__ import annotations

import pytest

from deepscope.diagnose import Record, judge
from deepscope.diagnose.learning_curve import (
    check_fractions,
    fit_power_law,
    learning_curve,
    power_law,
)
from deepscope.errors import ConfigError


def test_fit_recovers_a_known_power_law():
    sizes = [100, 200, 400, 800, 1600]
    fit = fit_power_law(sizes, [power_law(n, a=2.0, b=0.6, c=0.03) for n in sizes])
    assert fit["b"] == pytest.approx(0.6, abs=0.01)
    assert fit["a"] == pytest.approx(2.0, rel=0.05) and fit["c"] == pytest.approx(0.03, abs=1e-3)


def test_fit_keeps_the_floor_non_negative():
    fit = fit_power_law([100, 200, 400], [0.30, 0.18, 0.05])  # falling faster than any power law with c >= 0
    assert fit["c"] >= 0 and fit["a"] >= 0


def curve(scores: list[float], projected_2x: float) -> dict:
    return {"metric": "accuracy", "higher_is_better": True, "split": "val", "sizes": [100, 200, 400, 800],
            "scores": scores, "projected": {"2x": projected_2x, "10x": projected_2x + 0.01}, "fit": {}}


def test_a_climbing_curve_asks_for_more_data():
    findings = judge(Record(learning_curve=curve([0.6, 0.7, 0.78, 0.84], 0.88)), only=["not_enough_data"])
    assert [(f.code, f.severity) for f in findings] == [("not_enough_data", "warning")]
    assert findings[0].evidence["projected_2x"] == 0.88


def test_a_flat_curve_says_more_of_the_same_data_would_barely_help():
    findings = judge(Record(learning_curve=curve([0.90, 0.91, 0.912, 0.913], 0.914)), only=["not_enough_data"])
    assert [(f.code, f.severity) for f in findings] == [("learning_curve_flat", "info")]


def test_no_curve_no_finding():
    assert judge(Record(), only=["not_enough_data"]) == []


@pytest.mark.parametrize("fractions", [(0.5, 1.0), (0.5, 0.25, 1.0), (0.25, 0.5, 1.5), (0.0, 0.5, 1.0)])
def test_bad_fractions(fractions):
    with pytest.raises(ConfigError, match="--fractions"):
        check_fractions(fractions)


def test_digits_curve_improves_with_more_data():
    config = {"data": {"source": "digits"}, "model": {"encoder": "mlp"}, "train": {"epochs": 5, "batch_size": 64}}
    result = learning_curve(config, fractions=(0.125, 0.25, 0.5, 1.0))
    assert result["metric"] == "accuracy" and result["split"] == "val"
    assert result["sizes"] == sorted(result["sizes"]) and result["sizes"][-1] == 1257
    assert result["scores"][-1] > result["scores"][0] + 0.2  # 157 examples are far too few for 10 classes
    assert result["projected"]["2x"] >= result["scores"][-1] - 0.02
