"""`deepscope audit RUN --by COLUMN`: a real run on a planted table whose group column the model never reads, end to
end, and each user mistake as one line with exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import deepscope as ds
from deepscope.data.features import FEATURES
from deepscope.errors import UserError
from deepscope.explain.fairness import requirement
from deepscope.run.audit import positive_class

COLUMNS = ["score", "age", "group", "label"]


def planted_csv(folder: Path, n: int = 600) -> Path:
    """`group` (A/B) is not an input, but `score` is a proxy of it: the model selects many more of A."""
    rng = np.random.default_rng(0)
    group = np.where(rng.random(n) < 0.5, "A", "B")
    score = rng.normal(0, 1, n) + np.where(group == "A", 0.8, -0.8)
    age = rng.integers(18, 70, n)
    label = np.where(score + rng.normal(0, 0.5, n) > 0, "yes", "no")
    path = folder / "planted.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(zip(np.round(score, 3), age, group, label))
    return path


def train(folder: Path, inputs: dict, outputs: dict) -> Path:
    config = {"data": {"source": str(planted_csv(folder)), "inputs": inputs, "outputs": outputs},
              "model": {"encoder": "mlp"}, "train": {"epochs": 4, "batch_size": 64},
              "run": {"root": str(folder / "runs")}}
    return ds.train(config, progress=False).dir


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("planted"), {"score": "number", "age": "number"}, {"label": "binary"})


def assert_one_line_user_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_audits_a_column_the_model_does_not_read(classifier_run, deepscope, tmp_path):
    result = deepscope("audit", str(classifier_run), "--by", "group", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "group on test: predicted yes" in result.stdout and "worst first" in result.stdout
    for heading in ("sel.", "base", "acc.", "TPR", "FPR", "prec.", "ECE"):
        assert heading in result.stdout
    assert "demographic parity difference" in result.stdout
    assert "four-fifths rule's 0.8" in result.stdout  # the planted proxy is found
    saved = json.loads((classifier_run / "audit.json").read_text())
    assert saved["by"] == ["group"] and saved["split"] == "test" and saved["positive"] == "yes"
    assert {row["group"] for row in saved["groups"]} == {"A", "B"}
    assert sum(row["count"] for row in saved["groups"]) == 120  # the 20 % test split of 600 rows
    assert saved["overall"]["demographic_parity_difference"] > 0.3
    assert "demographic_parity" in {finding["code"] for finding in saved["findings"]}


def test_threshold_mitigation_prints_before_and_after_and_saves_the_thresholds(classifier_run,
                                                                               deepscope_in_process):
    result = deepscope_in_process("audit", str(classifier_run), "--by", "group", "--mitigate", "thresholds")
    assert result.returncode == 0, result.stderr
    assert "group thresholds (demographic_parity, fitted on val)" in result.stdout
    assert "before" in result.stdout and "after" in result.stdout
    mitigation = json.loads((classifier_run / "audit.json").read_text())["mitigation"]
    assert set(mitigation["thresholds"]) == {"A", "B"}
    assert mitigation["after"]["demographic_parity_difference"] < mitigation["before"]["demographic_parity_difference"]


def test_numeric_columns_are_binned_and_json_is_printed(classifier_run, deepscope_in_process):
    result = deepscope_in_process("audit", str(classifier_run), "--by", "age", "--json")
    assert result.returncode == 0, result.stderr
    groups = [row["group"] for row in json.loads(result.stdout)["groups"]]
    assert len(groups) == 4 and all(g.startswith("[") for g in groups)


def test_a_column_that_is_not_in_the_data(classifier_run, deepscope_in_process):
    result = deepscope_in_process("audit", str(classifier_run), "--by", "gender")
    assert_one_line_user_error(result, "--by gender: no column 'gender' in the data; columns are: score, age, "
                                       "group, label")


def test_an_unknown_positive_class(classifier_run, deepscope_in_process):
    result = deepscope_in_process("audit", str(classifier_run), "--by", "group", "--positive", "maybe")
    assert_one_line_user_error(result, "--positive maybe: not a class of 'label'; classes are: no, yes")


def test_a_regression_run_is_refused(tmp_path, deepscope_in_process):
    run = train(tmp_path, {"age": "number"}, {"score": "number"})
    result = deepscope_in_process("audit", str(run), "--by", "group")
    assert_one_line_user_error(result, "needs a classifier", "'score' is a number")


def test_an_unknown_mitigation(classifier_run, deepscope_in_process):
    result = deepscope_in_process("audit", str(classifier_run), "--by", "group", "--mitigate", "magic")
    assert_one_line_user_error(result, "--mitigate magic: choose one of thresholds")


def test_without_fairlearn_the_command_names_the_extra(classifier_run, deepscope_in_process, monkeypatch):
    monkeypatch.setattr(requirement, "PACKAGE", "fairlearn_is_not_installed")
    result = deepscope_in_process("audit", str(classifier_run), "--by", "group")
    assert_one_line_user_error(result, "pip install 'deepscope[fairness]'")


def test_a_multi_class_target_needs_the_positive_class():
    feature = FEATURES.get("category")("job", {}, where="data.outputs")
    feature.fit(np.array(["cook", "nurse", "pilot", "cook"], dtype=object))
    with pytest.raises(UserError, match=r"--positive: 'job' has 3 classes; say which one .*classes: cook, nurse"):
        positive_class(feature, None)
    assert positive_class(feature, "pilot") == ("pilot", 2)
    two = FEATURES.get("category")("income", {}, where="data.outputs")
    two.fit(np.array(["<=50K", ">50K"], dtype=object))
    assert positive_class(two, None) == (">50K", 1)  # a binary target's default: its second class
