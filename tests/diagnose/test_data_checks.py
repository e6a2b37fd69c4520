"""Before-training data checks on real prepared data: the profile's counts, and what the data detectors make of
them (class imbalance, leakage, duplicates, conflicting labels, missing values, constant columns, capacity).

Pathologies are planted in CSV or npz files a user could train on; where the random split decides which rows
a planted copy lands in, the expected count is recomputed independently from the raw split rows.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from torch import nn

from deepscope.config.loading import load_config
from deepscope.data.prepare import PreparedData, prepare_data
from deepscope.diagnose import Record, judge
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.profile import profile_data

DATA_DETECTORS = ["class_imbalance", "leakage", "data_quality", "parameters_vs_examples"]


# --- helpers ------------------------------------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def prepare(source: Path | str, **data: Any) -> PreparedData:
    return prepare_data(load_config({"data": {"source": str(source), **data}}).data)


def findings_for(prepared: PreparedData, **task: Any) -> list[Finding]:
    return judge(Record(data=profile_data(prepared), task=task), only=DATA_DETECTORS)


def find(findings: list[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert matches, f"no {code} finding among {[f.code for f in findings]}"
    return matches[0]


def input_rows(prepared: PreparedData, split: str) -> list[tuple]:
    """The raw input values of each row of a split, as tuples: what a duplicate means, counted independently."""
    columns = prepared.raw.splits[split]
    return list(zip(*(columns[name].tolist() for name in prepared.inputs)))


def distinct_table(n: int, rng: np.random.Generator) -> list[list[Any]]:
    """n rows of two 4-decimal numbers (distinct with near certainty, and checked) and a balanced label."""
    rows = [[f"{rng.normal():.4f}", f"{rng.normal():.4f}", "ab"[i % 2]] for i in range(n)]
    assert len({tuple(r[:2]) for r in rows}) == n
    return rows


# --- class imbalance ----------------------------------------------------------------------------------------------
def test_a_95_to_5_split_warns_and_names_the_rare_class(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[f"{rng.normal():.3f}", f"{rng.normal():.3f}", "sick" if i % 20 == 0 else "healthy"] for i in range(600)]
    prepared = prepare(write_csv(tmp_path / "patients.csv", ["x1", "x2", "diagnosis"], rows),
                       outputs={"diagnosis": "category"})
    profile = profile_data(prepared)
    counts = profile["classes"]["diagnosis"]["counts"]
    assert profile["classes"]["diagnosis"]["names"] == ["healthy", "sick"]
    assert counts["train"] == [sum(prepared.raw.splits["train"]["diagnosis"] == c) for c in ("healthy", "sick")]
    assert sum(map(sum, counts.values())) == 600

    finding = find(findings_for(prepared), "class_imbalance")
    assert finding.severity == "warning" and "sick" in finding.title and finding.evidence["rarest"] == "sick"
    assert finding.evidence["shares"]["sick"] == round(counts["train"][1] / sum(counts["train"]), 3)
    assert "accuracy" in finding.explanation


def test_the_advised_class_weights_are_an_option_the_config_accepts(tmp_path):
    rows = [[str(i), "sick" if i % 20 == 0 else "healthy"] for i in range(400)]
    source = write_csv(tmp_path / "patients.csv", ["x", "diagnosis"], rows)
    finding = find(findings_for(prepare(source, outputs={"diagnosis": "category"})), "class_imbalance")
    spec = yaml.safe_load(finding.advice[0].split("data.outputs.diagnosis: ")[1])
    weights = spec["class_weights"]
    # the rare class weighs more
    assert spec["type"] == "category" and len(weights) == 2 and weights[1] > 10 * weights[0]
    reweighted = prepare(source, outputs={"diagnosis": spec})
    assert reweighted.outputs["diagnosis"].head_config == {"class_weights": weights}


def test_a_binary_output_is_advised_pos_weight(tmp_path):
    rows = [[str(i), "yes" if i % 20 == 0 else "no"] for i in range(400)]
    prepared = prepare(write_csv(tmp_path / "churn.csv", ["x", "churned"], rows), outputs={"churned": "binary"})
    counts = profile_data(prepared)["classes"]["churned"]["counts"]["train"]
    finding = find(findings_for(prepared), "class_imbalance")
    spec = yaml.safe_load(finding.advice[0].split("data.outputs.churned: ")[1])
    assert spec == {"type": "binary", "pos_weight": float(f"{counts[0] / counts[1]:.3g}")}
    assert finding.evidence["rarest"] == "yes"


def test_balanced_clean_digits_give_no_warning():
    prepared = prepare("digits")
    profile = profile_data(prepared)
    assert profile["sizes"] == prepared.sizes() and sum(profile["sizes"].values()) == 1797
    assert profile["duplicates"]["train_test"] == 0 and profile["missing"] == {} and profile["constant"] == []
    train_params = sum(p.numel() for p in nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).parameters())
    findings = findings_for(prepared, n_params=train_params, n_train=profile["sizes"]["train"])
    assert [f.code for f in findings if f.severity != "info"] == []


def test_mnist_is_clean_and_profiled_without_false_duplicates(data_dir):
    prepared = prepare("mnist")
    profile = profile_data(prepared)
    duplicates = profile["duplicates"]
    assert [duplicates[k] for k in ("within_train", "train_val", "train_test", "conflicting_labels")] == [0, 0, 0, 0]
    assert [f.code for f in judge(Record(data=profile), only=DATA_DETECTORS)] == []


# --- leakage and duplicates ---------------------------------------------------------------------------------------
def test_test_rows_copied_from_training_are_counted_exactly(tmp_path):
    # the source gives train and test (and validation is switched off), so the planted rows stay where they are
    rng = np.random.default_rng(1)
    features, labels = rng.normal(size=(1250, 3)).astype(np.float32), rng.integers(0, 3, size=1250)
    train, test = slice(0, 1000), slice(1000, 1250)
    copied = rng.choice(1000, size=50, replace=False)  # 20 % of the 250 test rows
    planted = rng.choice(250, size=50, replace=False)
    test_features, test_labels = features[test].copy(), labels[test].copy()
    test_features[planted], test_labels[planted] = features[copied], labels[copied]
    # three number columns
    columns = {f"{split}_{name}": values[:, i]
               for split, values in (("train", features[train]), ("test", test_features))
               for i, name in enumerate(("a", "b", "c"))}
    np.savez(tmp_path / "leaky.npz", **columns, train_label=labels[train], test_label=test_labels)
    prepared = prepare(tmp_path / "leaky.npz", outputs={"label": "category"}, split={"val": 0.0})

    finding = find(findings_for(prepared), "leakage")
    assert finding.evidence["train_test"] == 50 and finding.evidence["test_size"] == 250
    assert finding.severity == "error" and finding.evidence["share"] == 0.2 and finding.layer == "test"
    assert finding.evidence["example_rows"] == sorted(planted)[:5]
    assert finding.evidence["near_train_test"] >= 50  # an exact copy is also a near one
    assert "split" in " ".join(finding.advice)


def test_duplicates_across_a_random_split_match_an_independent_count(tmp_path):
    rng = np.random.default_rng(2)
    rows = distinct_table(500, rng)
    rows += [list(rows[i]) for i in rng.choice(500, size=100)]  # 100 copies, scattered by the split
    rng.shuffle(rows)
    prepared = prepare(write_csv(tmp_path / "table.csv", ["x1", "x2", "label"], rows),
                       outputs={"label": "category"}, split={"val": 0.1, "test": 0.2})
    train, val, test = (input_rows(prepared, s) for s in ("train", "val", "test"))
    in_train = set(train)
    expected = {"within_train": len(train) - len(in_train), "train_val": sum(r in in_train for r in val),
                "train_test": sum(r in in_train for r in test), "val_test": sum(r in set(val) for r in test)}
    assert expected["within_train"] > 0 and expected["train_test"] > 0  # the seed planted some of each

    duplicates = profile_data(prepared)["duplicates"]
    assert {k: duplicates[k] for k in expected} == expected
    assert all(test[i] in in_train for i in duplicates["train_test_examples"])
    findings = findings_for(prepared)
    leaks = {f.layer: f for f in findings if f.code == "leakage"}
    assert leaks["test"].evidence["train_test"] == expected["train_test"]
    assert find(findings, "duplicates").evidence["within_train"] == expected["within_train"]
    assert find(findings, "duplicates").severity == "info"


def test_identical_inputs_with_different_labels_are_conflicting(tmp_path):
    rng = np.random.default_rng(3)
    rows = distinct_table(300, rng)
    rows += [[*rows[i][:2], "b" if rows[i][2] == "a" else "a"] for i in range(0, 300, 10)]  # 30 relabelled copies
    prepared = prepare(write_csv(tmp_path / "labels.csv", ["x1", "x2", "label"], rows),
                       outputs={"label": "category"}, split={"val": 0.1, "test": 0.1})
    labels_by_input = defaultdict(set)
    for row, label in zip(input_rows(prepared, "train"), prepared.raw.splits["train"]["label"]):
        labels_by_input[row].add(label)
    expected = sum(len(labels) > 1 for labels in labels_by_input.values())
    assert expected > 0

    finding = find(findings_for(prepared), "conflicting_labels")
    assert finding.severity == "warning" and finding.evidence["groups"] == expected
    train = input_rows(prepared, "train")
    assert all(len(labels_by_input[train[i]]) > 1 for i in finding.evidence["example_rows"])


def test_rows_that_differ_only_in_signs_are_not_duplicates(tmp_path):
    # two balanced 0/1 columns standardise to exactly +-1, so rows 0 and 1 (and 2 and 3) differ only in the
    # sign bits of two values, which a plain linear hash of the bytes cancels out: 4 distinct rows, 25 times each
    a, b = np.array([0, 1, 0, 1], np.float32), np.array([0, 1, 1, 0], np.float32)
    x0, x2 = np.array([0.5, 0.5, 0.7, 0.7], np.float32), np.array([0.25, 0.25, 0.9, 0.9], np.float32)
    columns = {"x0": x0, "a": a, "x2": x2, "b": b}  # a and b land in the high halves of 64-bit words
    balanced = {name: np.tile(values, 25) for name, values in columns.items()}
    np.savez(tmp_path / "signs.npz", **balanced, label=np.arange(100) % 2)
    prepared = prepare(tmp_path / "signs.npz", inputs={name: "number" for name in columns},
                       outputs={"label": "category"}, split={"val": 0.0, "test": 0.0})
    distinct = len(set(input_rows(prepared, "train")))
    assert distinct == 4
    assert profile_data(prepared)["duplicates"]["within_train"] == 100 - distinct


# --- missing values, constant columns ------------------------------------------------------------------------------
def test_missing_values_and_a_constant_column_are_reported(tmp_path):
    rng = np.random.default_rng(4)
    rows = [[f"{rng.normal():.3f}" if i % 10 >= 3 else "NA",  # 30 % missing: a warning
             f"{rng.normal():.3f}" if i % 50 else "",  # 2 % missing
             "NL", "ab"[i % 2]] for i in range(500)]
    prepared = prepare(write_csv(tmp_path / "survey.csv", ["income", "age", "country", "label"], rows),
                       outputs={"label": "category"})
    train = prepared.raw.splits["train"]
    profile = profile_data(prepared)
    assert profile["missing"] == {column: sum(v is None for v in train[column]) for column in ("income", "age")}
    assert profile["constant"] == ["country"]

    findings = findings_for(prepared)
    missing = find(findings, "missing_values")
    assert missing.severity == "warning" and missing.layer == "income" and "income" in missing.title
    assert missing.evidence["missing"] == profile["missing"]
    constant = find(findings, "constant_features")
    assert constant.severity == "info" and constant.evidence["columns"] == ["country"]
    assert "data.inputs" in constant.advice[0]


def test_a_few_missing_values_are_only_information(tmp_path):
    rows = [[str(i) if i % 25 else "?", "ab"[i % 2]] for i in range(300)]
    prepared = prepare(write_csv(tmp_path / "few.csv", ["x", "label"], rows), outputs={"label": "category"})
    assert find(findings_for(prepared), "missing_values").severity == "info"


# --- capacity -----------------------------------------------------------------------------------------------------
def test_many_more_parameters_than_examples_is_information_only():
    n_train = profile_data(prepare("digits"))["sizes"]["train"]
    wide = sum(p.numel() for p in nn.Sequential(nn.Linear(64, 4096), nn.ReLU(), nn.Linear(4096, 10)).parameters())
    finding = find(judge(Record(task={"n_params": wide, "n_train": n_train}), only=DATA_DETECTORS),
                   "parameters_vs_examples")
    assert finding.severity == "info" and finding.evidence["per_example"] == round(wide / n_train, 1)
    assert wide > 100 * n_train
    small = sum(p.numel() for p in nn.Linear(64, 10).parameters())
    assert judge(Record(task={"n_params": small, "n_train": n_train}), only=DATA_DETECTORS) == []


def test_without_a_data_section_the_data_detectors_say_nothing():
    assert judge(Record(), only=DATA_DETECTORS) == []
