"""Would more data help: the power-law fit, the judgement, and a real curve on the bundled digits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from deepscope.config.loading import load_config
from deepscope.diagnose import Record, judge
from deepscope.diagnose.scaling import fit_power_law, power_law
from deepscope.errors import ConfigError
from deepscope.run.learning_curve import _epochs_for, check_fractions, learning_curve
from deepscope.run.recipe import trainer_for
from deepscope.training.callbacks import EarlyStopping, ExponentialMovingAverage

CUSTOMERS = Path(__file__).parents[2] / "examples" / "data" / "customers.csv"


def test_fit_recovers_a_known_power_law():
    sizes = [100, 200, 400, 800, 1600]
    fit = fit_power_law(sizes, [power_law(n, a=2.0, b=0.6, c=0.03) for n in sizes])
    assert fit["b"] == pytest.approx(0.6, abs=0.01)
    assert fit["a"] == pytest.approx(2.0, rel=0.05) and fit["c"] == pytest.approx(0.03, abs=1e-3)


def test_fit_keeps_the_floor_non_negative():
    fit = fit_power_law([100, 200, 400], [0.30, 0.18, 0.05])  # falling faster than any power law with c >= 0
    assert fit["c"] >= 0 and fit["a"] >= 0


def curve(scores: list[float], projected_2x: float, n_scored: int = 2000) -> dict:
    return {"metric": "accuracy", "higher_is_better": True, "split": "val", "sizes": [100, 200, 400, 800],
            "scores": scores, "projected": {"2x": projected_2x, "10x": projected_2x + 0.01}, "fit": {},
            "n_scored": n_scored}


def test_a_climbing_curve_asks_for_more_data():
    findings = judge(Record(learning_curve=curve([0.6, 0.7, 0.78, 0.84], 0.88)), only=["not_enough_data"])
    assert [(f.code, f.severity) for f in findings] == [("not_enough_data", "warning")]
    assert findings[0].evidence["projected_2x"] == 0.88


def test_a_flat_curve_says_more_of_the_same_data_would_barely_help():
    findings = judge(Record(learning_curve=curve([0.90, 0.91, 0.912, 0.913], 0.914)), only=["not_enough_data"])
    assert [(f.code, f.severity) for f in findings] == [("learning_curve_flat", "info")]


def test_a_flat_curve_on_few_examples_is_inconclusive():
    # breastmnist, 20 epochs: 78 validation images know an accuracy of 0.68 only to about ±0.11
    flat = curve([0.667, 0.744, 0.641, 0.679], 0.684, n_scored=78)
    findings = judge(Record(learning_curve=flat), only=["not_enough_data"])
    assert [(f.code, f.severity) for f in findings] == [("learning_curve_noisy", "info")]
    assert findings[0].evidence["noise"] == pytest.approx(0.106, abs=0.001)


def test_a_projected_gain_the_points_cannot_back_is_inconclusive():
    within_noise = curve([0.80, 0.84, 0.79, 0.82], 0.85, n_scored=200)  # ±0.054: the rise is noise
    assert [f.code for f in judge(Record(learning_curve=within_noise), only=["not_enough_data"])] == [
        "learning_curve_noisy"]


def test_no_curve_no_finding():
    assert judge(Record(), only=["not_enough_data"]) == []


@pytest.mark.parametrize("fractions", [(0.5, 1.0), (0.5, 0.25, 1.0), (0.25, 0.5, 1.5), (0.0, 0.5, 1.0)])
def test_bad_fractions(fractions):
    with pytest.raises(ConfigError, match="--fractions"):
        check_fractions(fractions)


def test_digits_curve_improves_with_more_data_at_the_same_training_budget():
    config = {"data": {"source": "digits"}, "model": {"encoder": "mlp"}, "train": {"epochs": 3, "batch_size": 64}}
    result = learning_curve(config, fractions=(0.125, 0.25, 0.5, 1.0), match_steps=True)
    assert result["metric"] == "accuracy" and result["split"] == "val"
    assert result["sizes"] == [157, 314, 628, 1257] and result["epochs"] == [20, 12, 6, 3]  # 60 steps each
    # measured: 0.883 with 157 examples, 0.933 with all 1,257 (180 validation images, so one image is 0.0056)
    assert result["scores"][-1] > result["scores"][0]
    assert result["projected"]["2x"] >= result["scores"][-1] - 0.02


def test_matched_steps_give_a_small_subset_more_epochs():
    config = load_config({"data": {"source": "digits"}, "train": {"epochs": 5, "batch_size": 64}})
    assert _epochs_for(config, 1257, 1257) == 5
    assert _epochs_for(config, 157, 1257) == 33  # 3 batches an epoch instead of 20


def test_regression_scores_the_error_and_lower_is_better():
    config = {"data": {"source": str(CUSTOMERS), "outputs": {"income": "number"}}, "model": {"encoder": "tabular"},
              "train": {"epochs": 3, "batch_size": 32}}
    result = learning_curve(config, fractions=(0.25, 0.5, 1.0))
    assert result["metric"] == "mae" and result["higher_is_better"] is False
    assert all(math.isfinite(score) and score > 0 for score in result["scores"])
    assert result["projected"]["2x"] == pytest.approx(power_law(2 * result["sizes"][-1], **result["fit"]))


def test_without_validation_data_the_test_split_is_scored_and_said():
    config = {"data": {"source": "digits", "split": {"val": 0.0}}, "model": {"encoder": "mlp"}, "train": {"epochs": 1}}
    result = learning_curve(config, fractions=(0.25, 0.5, 1.0))
    assert result["split"] == "test" and "test split" in result["note"]


def test_the_recipe_keeps_early_stopping_and_weight_averaging():
    config = load_config({"data": {"source": "digits"}, "train": {"ema": 0.99, "early_stopping": {"patience": 3}}})
    kinds = {type(callback) for callback in trainer_for(config).callbacks.callbacks}
    assert kinds == {EarlyStopping, ExponentialMovingAverage}  # and no run-directory logger or checkpoint
