"""Detectors on hand-made records: each judgement's thresholds, and how a root cause explains its symptoms."""

from __future__ import annotations

import math

from deepscope.diagnose import Record, judge


def history(train: list[float], val: list[float]) -> list[dict]:
    return [{"epoch": i + 1, "train.loss": t, "val.loss": v} for i, (t, v) in enumerate(zip(train, val))]


def codes(record: Record, **options) -> dict[str, str]:
    return {f.code: f.severity for f in judge(record, **options)}


def sample(step: int, layers: dict[str, float], *, loss: float = 1.0,
           acts: dict[str, tuple[str, float, float]] | None = None):
    return {"step": step, "epoch": 1, "loss": loss, "lr": 1e-3, "grad_norm": 1.0,
            "layers": [{"name": n, "grad_norm": g, "grad_rms": g, "weight_norm": 1.0, "update_ratio": 1e-3}
                       for n, g in layers.items()],
            "activations": [{"name": n, "kind": k, "dead": d, "saturated": s} for n, (k, d, s) in (acts or {}).items()]}


OVERFIT = history([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9])


def test_overfitting_onset_is_the_epoch_after_the_best():
    finding = next(f for f in judge(Record(history=OVERFIT)) if f.code == "overfitting")
    assert finding.severity == "warning" and finding.epoch == 4 and finding.evidence["best_epoch"] == 3
    assert "early stopping would have stopped at epoch 6" in finding.advice[0]


def test_overfitting_caught_by_early_stopping_is_only_information():
    record = Record(history=OVERFIT, task={"early_stopping": True, "restore_best": True})
    assert codes(record)["overfitting"] == "info"


def test_no_overfitting_while_validation_keeps_improving():
    improving = history([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.0, 0.85, 0.7, 0.6, 0.55, 0.5])
    assert "overfitting" not in codes(Record(history=improving))


def test_a_root_cause_turns_its_symptoms_into_information():
    dead = {"relu1": ("relu", 1.0, 0.0)}
    flat = history([2.3] * 8, [2.3] * 8)
    record = Record(init={"loss": 2.3, "expected_loss": 2.3}, history=flat,
                    samples=[sample(s, {"a": 0.0, "b": 0.0, "c": 0.0}, loss=2.3, acts=dead) for s in range(5, 50, 5)])
    found = judge(record)
    severities = {f.code: f.severity for f in found}
    assert severities["dead_units"] == "warning" and severities["plateau"] == "info"
    assert "consequence of: dead_units" in next(f for f in found if f.code == "plateau").explanation


def test_vanishing_and_exploding_by_depth():
    shrinking = Record(samples=[sample(5, {"l0": 1e-9, "l1": 1e-6, "l2": 1e-3, "l3": 1e-1})])
    assert codes(shrinking, only=["vanishing_gradients"]) == {"vanishing_gradients": "error"}
    growing = Record(samples=[sample(5, {"l0": 10.0, "l1": 1.0, "l2": 0.1, "l3": 1e-3})], init={"grad_norm": 1.0})
    assert codes(growing, only=["exploding_gradients"]) == {"exploding_gradients": "warning"}
    steady = Record(samples=[sample(5, {"l0": 0.01, "l1": 0.02, "l2": 0.03})], init={"grad_norm": 1.0})
    assert codes(steady, only=["vanishing_gradients", "exploding_gradients"]) == {}


def test_saturation_names_the_layer():
    acts = {"sig1": ("sigmoid", 0.0, 0.1), "sig2": ("sigmoid", 0.0, 0.8)}
    finding = judge(Record(samples=[sample(5, {"a": 1.0}, acts=acts)]), only=["saturation"])[0]
    assert finding.severity == "warning" and finding.layer == "sig2"


def test_initial_loss_far_above_guessing():
    assert codes(Record(init={"loss": 9.0, "expected_loss": math.log(10)}), only=["initial_loss"]) == {
        "initial_loss": "warning"}
    assert codes(Record(init={"loss": 2.4, "expected_loss": math.log(10)}), only=["initial_loss"]) == {}


def test_init_scale_flags_layers_outside_the_usual_gain():
    layers = [{"name": "ok", "fan_in": 100, "weight_std": 0.06, "gain": 0.6},
              {"name": "huge", "fan_in": 100, "weight_std": 1.0, "gain": 10.0}]
    finding = judge(Record(init={"layers": layers}), only=["init_scale"])[0]
    assert finding.layer == "huge" and finding.evidence["gain_by_layer"] == {"huge": 10.0}


def test_calibration_over_confidence_warns_under_confidence_informs():
    over = {"ece": 0.2, "confidence": 0.95, "accuracy": 0.75, "temperature": 2.1, "ece_after": 0.03, "split": "val"}
    under = {"ece": 0.13, "confidence": 0.86, "accuracy": 0.99, "temperature": 0.4, "ece_after": 0.01, "split": "val"}
    assert codes(Record(calibration=over), only=["calibration"]) == {"calibration": "warning"}
    assert codes(Record(calibration=under), only=["calibration"]) == {"calibration": "info"}


def test_binary_imbalance_suggests_the_pos_weight_that_balances_it():
    record = Record(data={"classes": {"sick": {"names": ["no", "yes"], "counts": {"train": [950, 50]}}}},
                    task={"outputs": {"sick": {"type": "binary"}}})
    finding = judge(record, only=["class_imbalance"])[0]
    assert finding.severity == "warning" and "pos_weight: 19" in finding.advice[0]


def low_rate_record(update_ratio: float, dead: float) -> Record:
    samples = [sample(s, {"a": 1e-3, "b": 1e-3}, loss=2.3, acts={"relu1": ("relu", dead, 0.0)})
               for s in range(10, 60, 10)]
    for s in samples:
        for layer in s["layers"]:
            layer["update_ratio"] = update_ratio
    return Record(init={"loss": 2.3, "expected_loss": 2.3}, history=history([2.3] * 4, [2.3] * 4), samples=samples,
                  task={"lr": 1e-7})


def test_tiny_updates_mean_a_low_rate_unless_dead_units_explain_them():
    assert codes(low_rate_record(1e-7, dead=0.0))["lr_too_low"] == "warning"
    explained = codes(low_rate_record(1e-7, dead=1.0))
    assert explained["dead_units"] == "warning" and explained["lr_too_low"] == "info"
    # nothing moves at all: no gradient reaches the weights, which no learning rate would fix
    assert "lr_too_low" not in codes(low_rate_record(0.0, dead=1.0))
