"""The detector contract over every registered detector: a pure function of a `Record` that says nothing about an
empty one, and whose findings carry plain-JSON evidence, advice to act on, a known severity and a stable code.

The findings come from planted records: hand-made ones aimed at each detector (as in test_detectors.py), the
data profile of a CSV with planted data faults (as in test_data_checks.py) and the record of a short real
training run with a planted fault (as in test_fault_zoo.py). A newly registered detector fails here until one of
them makes it fire.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.diagnose import Finding, Record
from deepscope.diagnose.callback import Diagnostics
from deepscope.diagnose.detectors import load_all
from deepscope.diagnose.finding import SEVERITIES
from deepscope.diagnose.judge import CAUSES, EXPLAINED_BY
from deepscope.diagnose.profile import profile_data
from deepscope.training.trainer import Trainer, TrainingDiverged

DETECTORS = load_all()

# Most detectors report under their registered name; these also (or only) report under finer codes, each owned
# by one detector. A new code belongs here, so that the codes the judge and the report rely on stay deliberate.
CODES_BEYOND_THE_NAME = {
    "data_quality": {"missing_values", "constant_features"},
    "init_scale": {"bias_init"},
    "leakage": {"duplicates", "conflicting_labels", "near_duplicates"},
    "learning_rate": {"lr_too_low", "lr_too_high"},
    "not_enough_data": {"learning_curve_noisy", "learning_curve_flat"},
}
# a loss that is NaN before training is the finding itself: diagnosis.json writes it as NaN (Python's json reads
# it back) and the report shows n/a; any other non-finite evidence is a bug
NON_FINITE_EVIDENCE = {("initial_loss", "initial_loss")}  # (code, evidence key)
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# --- hand-made records -------------------------------------------------------------------------------------------
def history(train: list[float], val: list[float] | None = None, *,
            val_accuracy: list[float] | None = None) -> list[dict]:
    """The trainer's epoch logs: training and validation loss (validation = training when not given)."""
    val = val if val is not None else train
    logs = [{"epoch": i + 1, "train.loss": t, "val.loss": v} for i, (t, v) in enumerate(zip(train, val))]
    for log, accuracy in zip(logs, val_accuracy or []):
        log["val.accuracy"] = accuracy
    return logs


def sample(step: int, grads: dict[str, float], *, loss: float = 1.0, lr: float = 1e-3, update_ratio: float = 1e-3,
           grad_norm: float = 1.0, acts: dict[str, tuple[str, float, float]] | None = None) -> dict:
    """One diagnostics sample: per-layer gradients (input side first) and activations (kind, dead, saturated)."""
    return {"step": step, "epoch": 1, "loss": loss, "lr": lr, "grad_norm": grad_norm,
            "layers": [{"name": n, "grad_norm": g, "grad_rms": g, "weight_norm": 1.0, "update_ratio": update_ratio}
                       for n, g in grads.items()],
            "activations": [{"name": n, "kind": k, "dead": d, "saturated": s} for n, (k, d, s) in (acts or {}).items()]}


def learning_curve(scores: list[float], projected_2x: float, n_scored: int = 2000) -> dict:
    return {"metric": "accuracy", "higher_is_better": True, "split": "val", "sizes": [100, 200, 400, 800],
            "scores": scores, "projected": {"2x": projected_2x, "10x": projected_2x + 0.01}, "fit": {"b": 0.5},
            "n_scored": n_scored}


def hand_made_records() -> dict[str, Record]:
    flat = history([2.3] * 8)
    steady = {"a": 0.01, "b": 0.02, "c": 0.03}
    return {
        "overfitting": Record(history=history([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05],
                                              [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9])),
        "dead relu on a plateau": Record(
            init={"loss": 2.3, "expected_loss": 2.3, "bias_means": {"0": -3.0}}, history=flat,
            samples=[sample(s, {"a": 0.0, "b": 0.0, "c": 0.0}, loss=2.3, acts={"relu1": ("relu", 1.0, 0.0)})
                     for s in range(5, 50, 5)]),
        "vanishing by depth": Record(samples=[sample(5, {"l0": 1e-9, "l1": 1e-6, "l2": 1e-3, "l3": 1e-1})]),
        "exploding by depth": Record(samples=[sample(5, {"l0": 10.0, "l1": 1.0, "l2": 0.1, "l3": 1e-3})],
                                     init={"grad_norm": 1.0}),
        "exploding norm": Record(samples=[sample(s, steady, grad_norm=n) for s, n in ((5, 2.0), (10, 400.0))],
                                 init={"grad_norm": 1.0}, task={"grad_clip": None}),
        "rnn through time": Record(samples=[{**sample(5, steady), "recurrent": [
            {"name": "rnn", "steps": 200, "grad_first": 1e-9, "grad_last": 1.0, "grad_smallest": 1e-9,
             "grad_largest": 1.0}]}], init={"loss": 0.69}, history=history([0.69, 0.69, 0.69])),
        "saturated sigmoids": Record(samples=[sample(5, {"a": 1.0}, acts={"sig1": ("sigmoid", 0.0, 0.1),
                                                                          "sig2": ("sigmoid", 0.0, 0.8)})]),
        "confident initial loss": Record(init={"loss": 9.0, "expected_loss": math.log(10)}),
        "nan initial loss": Record(init={"loss": math.nan, "expected_loss": math.log(10)}),
        "badly scaled init": Record(init={"layers": [{"name": "ok", "fan_in": 100, "weight_std": 0.06, "gain": 0.6},
                                                     {"name": "huge", "fan_in": 100, "weight_std": 1.0, "gain": 10.0}],
                                          "bias_means": {"ok": 0.0, "huge": 2.5}}),
        "over-confident": Record(calibration={"ece": 0.2, "confidence": 0.95, "accuracy": 0.75, "temperature": 2.1,
                                              "ece_after": 0.03, "split": "val", "output": "label"}),
        "under-confident": Record(calibration={"ece": 0.13, "confidence": 0.86, "accuracy": 0.99, "temperature": 0.4,
                                               "ece_after": 0.01, "split": "val"}),
        "imbalanced binary": Record(
            data={"classes": {"sick": {"names": ["no", "yes"], "counts": {"train": [950, 50]}}}},
            task={"outputs": {"sick": {"type": "binary"}}}),
        "learning rate too low": Record(
            init={"loss": 2.3, "expected_loss": 2.3}, history=history([2.3] * 4), task={"lr": 1e-7},
            samples=[sample(s, {"a": 1e-3, "b": 1e-3}, loss=2.3, update_ratio=1e-7) for s in range(10, 60, 10)]),
        "learning rate too high": Record(
            init={"loss": 2.3, "expected_loss": 2.3}, history=history([2.4, 2.5, 2.6]), task={"lr": 3.0},
            samples=[sample(s, {"a": 1.0, "b": 1.0}, loss=2.5, lr=3.0, update_ratio=0.5) for s in range(10, 60, 10)]),
        "loss spikes": Record(samples=[sample(s, steady, loss=8.0 if s in (35, 50, 65) else 1.0)
                                       for s in range(5, 80, 5)], init={"loss": 2.3}),
        "shuffled labels": Record(task={"outputs": {"label": {"type": "category", "classes": 10}}},
                                  history=history([2.3, 1.5, 0.9, 0.4], [2.4, 2.6, 2.9, 3.2],
                                                  val_accuracy=[0.1, 0.11, 0.09, 0.1])),
        "diverged loss": Record(init={"loss": 2.3}, task={"lr": 10.0},
                                samples=[sample(s, steady, loss=loss) for s, loss in ((5, 2.3), (10, 40.0))]),
        "nan mid-run": Record(init={"loss": 2.3}, task={"lr": 10.0}, samples=[sample(5, steady)],
                              nonfinite={"step": 12, "epoch": 1, "where": "gradient", "layer": "0.weight",
                                         "last_finite_step": 10}),
        "still falling": Record(init={"loss": 2.3}, history=history([2.2, 2.1, 2.0, 1.9, 1.8])),
        "climbing curve": Record(learning_curve=learning_curve([0.6, 0.7, 0.78, 0.84], 0.88)),
        "flat curve": Record(learning_curve=learning_curve([0.90, 0.91, 0.912, 0.913], 0.914)),
        "noisy curve": Record(learning_curve=learning_curve([0.80, 0.82, 0.83, 0.84], 0.86, n_scored=60)),
        "wide network": Record(task={"n_params": 5_000_000, "n_train": 1_000}),
        "duplicated rows": Record(data={"sizes": {"train": 800, "val": 100, "test": 100},
                                        "duplicates": {"train_test": 20, "train_val": 3, "within_train": 12,
                                                       "conflicting_labels": 4, "train_test_examples": [1, 5]}}),
        "missing and constant": Record(data={"sizes": {"train": 500}, "missing": {"income": 150, "age": 10},
                                             "constant": ["country"]}),
        "edited image copies": Record(data={"sizes": {"train": 600, "test": 200}, "duplicates": {
            "near_method": "image_views", "near_train_test": 40, "near_train_test_edited": 40,
            "near_train_test_examples": [0, 1], "near_train_test_sources": [17, 301],
            "near_train_test_cosine": [0.99, 0.97]}}),
        "target leakage": Record(data={"target_leakage": [
            {"column": "risk_code", "output": "risk", "measure": "held_out_accuracy", "value": 1.0,
             "baseline": 0.55, "groups": 2, "other_inputs": {"age": "number", "job": "category"}}]}),
        "lines not utf-8": Record(data={"sizes": {"train": 98}, "skipped": [
            "rt.neg, line 4: not valid utf-8 text (byte 0xe9 at column 30)", "img/3.png: not a readable image"]}),
    }


# --- records from the real recorders -----------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def profiled_record(folder: Path) -> Record:
    """The data profile of a table with 30 % missing incomes, a constant column, a 95:5 label and copied rows."""
    rows = [[f"{(i * 37 % 101) / 10:.1f}" if i % 10 >= 3 else "NA", str(i), "NL", "sick" if i % 20 == 0 else "healthy"]
            for i in range(400)]
    rows += [list(rows[i]) for i in range(3, 400, 8)]  # 50 copies, scattered over the splits
    config = load_config({"data": {"source": str(write_csv(folder / "patients.csv", ["income", "id", "country",
                                                                                     "diagnosis"], rows)),
                                   "outputs": {"diagnosis": "category"}}})
    prepared = prepare_data(config.data)
    return Record(data=profile_data(prepared), task={"outputs": {"diagnosis": {"type": "category", "classes": 2}}})


def trained_record() -> Record:
    """The diagnostics record of a small MLP on the digits with learning rate 10 (diverges within two epochs)."""
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    diagnostics = Diagnostics(live=False)
    trainer = Trainer(epochs=2, batch_size=64, optimizer="sgd", lr=10.0, schedule="constant", loss="cross_entropy",
                      callbacks=[diagnostics])
    try:
        trainer.fit(model, (x[:1400], y[:1400]), (x[1400:], y[1400:]))
    except TrainingDiverged:
        pass  # what was planted: the record holds the samples up to the blow-up
    return diagnostics.record


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Record]:
    return {**hand_made_records(), "profiled table": profiled_record(tmp_path_factory.mktemp("table")),
            "digits at lr 10": trained_record()}


@pytest.fixture(scope="module")
def findings(records: dict[str, Record]) -> list[tuple[str, str, Finding]]:
    """(detector, record, finding) for every finding any detector gives on any planted record."""
    return [(name, label, finding) for label, record in records.items()
            for name, detector in DETECTORS.items() for finding in detector(record)]


# --- the contract ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,detector", DETECTORS.items(), ids=DETECTORS.names())
def test_an_empty_record_gives_no_finding(name, detector):
    assert detector(Record()) == []


def test_every_registered_detector_fires_on_some_planted_record(findings):
    fired = {name for name, _, _ in findings}
    silent = sorted(set(DETECTORS.names()) - fired)
    assert not silent, f"no planted record makes {silent} fire: add one to hand_made_records() in this file"
    assert len(fired) >= 19  # all 19 of today fire: a planted record that lost its teeth shows here


def test_the_real_recorders_make_detectors_fire(findings):
    """Evidence built by the real recorders (data profile, training diagnostics) is under the contract too."""
    by_record = {(label, name) for name, label, _ in findings}
    assert {"data_quality", "class_imbalance", "leakage"} <= {n for label, n in by_record if label == "profiled table"}
    assert "divergence" in {n for label, n in by_record if label == "digits at lr 10"}


def test_every_finding_keeps_the_finding_contract(findings):
    problems = [f"{name} on {label!r}: {problem}" for name, label, finding in findings
                for problem in contract_problems(finding)]
    assert not problems, "\n".join(problems)


def contract_problems(finding: Finding) -> list[str]:
    problems = []
    if finding.severity not in SEVERITIES:
        problems.append(f"severity {finding.severity!r} is not one of {SEVERITIES}")
    if not SNAKE_CASE.match(finding.code):
        problems.append(f"code {finding.code!r} is not a snake_case identifier")
    if not (finding.title.strip() and finding.explanation.strip()):
        problems.append("an empty title or explanation")
    if not (isinstance(finding.advice, list) and finding.advice
            and all(isinstance(a, str) and a.strip() for a in finding.advice)):
        problems.append(f"advice must be a non-empty list of non-empty strings, got {finding.advice!r}")
    try:
        json.dumps(strict_evidence(finding), allow_nan=False)
    except (TypeError, ValueError) as error:
        problems.append(f"evidence is not plain JSON ({error}): {finding.evidence!r}")
    else:  # what save_diagnosis writes and load_diagnosis reads back
        restored = Finding.from_dict(json.loads(json.dumps(finding.to_dict())))
        if json.dumps(restored.to_dict()) != json.dumps(finding.to_dict()):
            problems.append("to_dict -> JSON -> from_dict does not give the finding back")
    return problems


def strict_evidence(finding: Finding) -> dict:
    """The evidence, less the non-finite values that are allowed because they are the finding itself."""
    return {key: value for key, value in finding.evidence.items()
            if not ((finding.code, key) in NON_FINITE_EVIDENCE and isinstance(value, float)
                    and not math.isfinite(value))}


def test_codes_are_the_detector_name_or_its_own_finer_codes(findings):
    owners: dict[str, set[str]] = {}
    for name, _, finding in findings:
        owners.setdefault(finding.code, set()).add(name)
    wrong = sorted({(name, f.code) for name, _, f in findings
                    if f.code not in {name} | CODES_BEYOND_THE_NAME.get(name, set())})
    assert not wrong, f"(detector, code) outside the convention: {wrong}; add deliberate codes to CODES_BEYOND_THE_NAME"
    shared = {code: sorted(names) for code, names in owners.items() if len(names) > 1}
    assert not shared, f"codes given by more than one detector: {shared}"
    # another detector's name as a finer code would be read as that detector's finding
    assert not set().union(*CODES_BEYOND_THE_NAME.values()) & set(DETECTORS.names())


def test_the_codes_the_judge_ranks_are_codes_the_detectors_give(findings):
    """The judge demotes symptoms by code: a code it names that no detector gives is a typo that never matches."""
    given = {finding.code for _, _, finding in findings}
    named = set(CAUSES) | set(EXPLAINED_BY) | {cause for causes in EXPLAINED_BY.values() for cause in causes}
    assert named <= given, f"the judge names codes no planted record produced: {sorted(named - given)}"


def test_detectors_are_pure(records):
    """Judging twice gives the same findings, and judging leaves the record as it was (a saved record is re-judged)."""
    for label, record in records.items():
        before = json.dumps(record.to_dict(), sort_keys=True, default=repr)
        for name, detector in DETECTORS.items():
            first, second = detector(record), detector(record)
            assert [json.dumps(f.to_dict(), default=repr) for f in first] == \
                   [json.dumps(f.to_dict(), default=repr) for f in second], f"{name} on {label!r}"
        assert json.dumps(record.to_dict(), sort_keys=True, default=repr) == before, f"{label!r} was changed"
