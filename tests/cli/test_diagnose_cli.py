"""`deepscope diagnose RUN`: the saved findings read back, as text or JSON, and every user mistake as one line."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from deepscope.diagnose import Finding, Record, save_diagnosis
from deepscope.errors import UserError

FINDINGS = [
    Finding(code="overfitting", severity="warning", title="Overfitting from epoch 7",
            explanation="Validation loss rose while training loss fell.",
            evidence={"best_epoch": 6, "val_loss_best": 0.312345, "val_loss_last": 0.52},
            advice=["add dropout 0.3 or weight decay 1e-4"], epoch=7),
    Finding(code="calibration", severity="info", title="Predictions are a little over-confident",
            explanation="When the model says 90% it is right 85% of the time.", evidence={"ece": 0.0412},
            advice=["divide the logits by 1.3"]),
]
RECORD = Record(task={"epochs": 10, "optimizer": "adam", "lr": 0.001},
                history=[{"epoch": e, "train.loss": 1 / e, "val.loss": 0.3 + abs(e - 6) / 20} for e in range(1, 11)])


def make_run(folder: Path, findings: list[Finding] = FINDINGS, record: Record = RECORD) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("data: {source: digits}\n")
    save_diagnosis(folder / "diagnosis.json", findings, record)
    return folder


def assert_one_line_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "digits-20260101-120000")


# three run as a real `deepscope` process; the rest in-process through the same main()
def test_prints_the_summary_with_every_finding(tmp_path, run, deepscope):
    result = deepscope("diagnose", str(run), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Diagnosis: 1 warning, 1 info" in result.stdout
    assert "▲ warning  Overfitting from epoch 7" in result.stdout
    assert "val_loss_best 0.312" in result.stdout and "try: add dropout 0.3" in result.stdout
    assert "Predictions are a little over-confident" in result.stdout


def test_accepts_the_diagnosis_file_itself(tmp_path, run, deepscope_in_process):
    result = deepscope_in_process("diagnose", str(run / "diagnosis.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Overfitting from epoch 7" in result.stdout


def test_json_round_trips(tmp_path, run, deepscope):
    result = deepscope("diagnose", str(run), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [Finding.from_dict(f) for f in json.loads(result.stdout)] == FINDINGS


def test_min_severity_warning_hides_info(tmp_path, run, deepscope_in_process):
    result = deepscope_in_process("diagnose", str(run), "--min-severity", "warning", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Overfitting from epoch 7" in result.stdout
    assert "over-confident" not in result.stdout and "not shown: 1 info" in result.stdout
    as_json = json.loads(
        deepscope_in_process("diagnose", str(run), "--json", "--min-severity", "warning", cwd=tmp_path).stdout)
    assert [f["code"] for f in as_json] == ["overfitting"]


def test_healthy_run(tmp_path, deepscope_in_process):
    run = make_run(tmp_path / "healthy", findings=[])
    result = deepscope_in_process("diagnose", str(run), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "healthy — no warnings" in result.stdout


def test_unknown_min_severity(tmp_path, run, deepscope_in_process):
    result = deepscope_in_process("diagnose", str(run), "--min-severity", "fatal", cwd=tmp_path)
    assert_one_line_user_error(result, "--min-severity fatal", "info, warning, error")


def test_rejudge_judges_the_saved_record_not_the_saved_findings(run, monkeypatch):
    from deepscope.diagnose import read_findings

    judge_module = importlib.import_module("deepscope.diagnose.judge")  # the package re-exports judge() by name

    judged: list[Record] = []
    fresh = Finding(code="new", severity="error", title="Found by a newer detector", explanation="")
    monkeypatch.setattr(judge_module, "judge", lambda record: judged.append(record) or [fresh])
    assert read_findings(run, rejudge=True) == [fresh]
    assert judged == [RECORD]
    assert read_findings(run, rejudge=False) == FINDINGS


def test_rejudge_runs_the_current_detectors(tmp_path, run, deepscope_in_process):
    result = deepscope_in_process("diagnose", str(run), "--rejudge", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "judged again with the current detectors" in result.stdout
    assert "Diagnosis:" in result.stdout


def test_rejudge_without_a_saved_record(tmp_path, deepscope_in_process):
    run = make_run(tmp_path / "old", record=Record())
    assert_one_line_user_error(deepscope_in_process("diagnose", str(run), "--rejudge", cwd=tmp_path),
                               "no record", "--rejudge")


def test_missing_directory(tmp_path, deepscope):
    assert_one_line_user_error(deepscope("diagnose", str(tmp_path / "nope"), cwd=tmp_path), "nope", "no such run")


def test_run_without_a_diagnosis(tmp_path, deepscope_in_process):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("data: {source: digits}\n")
    assert_one_line_user_error(deepscope_in_process("diagnose", str(run), cwd=tmp_path),
                               "diagnosis.json", "no diagnosis")


def test_folder_that_is_not_a_run(tmp_path, deepscope_in_process):
    assert_one_line_user_error(deepscope_in_process("diagnose", str(tmp_path), cwd=tmp_path), "not a run directory")


def test_garbage_diagnosis(tmp_path, run, deepscope_in_process):
    (run / "diagnosis.json").write_text("{not json")
    assert_one_line_user_error(deepscope_in_process("diagnose", str(run), cwd=tmp_path), "not a readable diagnosis")


@pytest.mark.parametrize("content", ["[1, 2]", '{"findings": ["x"]}', '{"findings": [{"code": 1}]}',
                                     '{"findings": [], "record": "x"}'])
def test_json_of_the_wrong_shape_is_a_user_error(run, content):
    # in-process: each CLI start costs seconds of imports, and the message is the same path as above
    from deepscope.diagnose import read_findings

    (run / "diagnosis.json").write_text(content)
    with pytest.raises(UserError, match="not a readable diagnosis"):
        read_findings(run, rejudge=False)


def test_runs_root_names_the_latest_runs(tmp_path, deepscope_in_process):
    root = tmp_path / "runs"
    for age, name in enumerate(["digits-3", "digits-2", "digits-1"]):  # digits-3 is the newest
        run = make_run(root / name)
        os.utime(run, (1_700_000_000 - age * 60,) * 2)
    result = deepscope_in_process("diagnose", str(root), cwd=tmp_path)
    assert_one_line_user_error(result, "folder of runs", "digits-3", "digits-2")
    assert "digits-1" not in result.stderr
    assert result.stderr.index("digits-3") < result.stderr.index("digits-2")


def test_diagnose_a_real_run(trained_digits_run, deepscope_in_process, tmp_path):
    result = deepscope_in_process("diagnose", str(trained_digits_run), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    saved = json.loads((trained_digits_run / "diagnosis.json").read_text())
    assert [f["code"] for f in json.loads(result.stdout)] == [f["code"] for f in saved["findings"]]
    assert saved["record"]["samples"] and saved["record"]["data"]["sizes"]["train"] > 1000
