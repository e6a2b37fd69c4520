"""`deepscope runs list | show | compare | delete | reindex` over folders of runs, damaged ones included, and
every user mistake as one line and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import EMPTY_SAFETENSORS, FAKE_MODEL_SPEC, FAKE_VERSIONS


def make_run(root: Path, name: str, *, accuracy: float | None = 0.9, optimizer: str = "adam", model: bool = True,
             started: str = "2026-11-30T10:00:00+0000", epochs: int = 3) -> Path:
    run = root / name
    (run / "model").mkdir(parents=True)
    (run / "config.yaml").write_text(f"data: {{source: digits}}\ntrain: {{optimizer: {{name: {optimizer}}}}}\n")
    (run / "env.json").write_text(json.dumps({"started": started, **FAKE_VERSIONS}))
    rows = [{"epoch": e, "train.loss": 1.0 / e, "val.loss": (1.5 if optimizer == "sgd" else 1.0) / e,
             "val.accuracy": 0.5 + e / 10, "lr": 0.01} for e in range(1, epochs + 1)]
    rows += [{"split": "test", "accuracy": accuracy, "loss": 1 - accuracy}] if accuracy is not None else []
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if model:
        (run / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
        (run / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
    return run


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three finished runs, a killed one, one cut short, one whose config no longer parses, and a stray folder."""
    monkeypatch.setenv("COLUMNS", "250")  # rich tables as wide as their content: no folded words to match
    runs = tmp_path / "runs"
    make_run(runs, "adam-1", accuracy=0.91, started="2026-11-30T10:00:00+0000")
    make_run(runs, "sgd-1", accuracy=0.95, optimizer="sgd", started="2026-11-30T11:00:00+0000")
    make_run(runs, "adam-2", accuracy=0.80, started="2026-11-30T12:00:00+0000")
    killed = make_run(runs, "killed", accuracy=None, model=False, started="2026-11-30T13:00:00+0000")
    then = time.time() - 3600
    for path in [killed, *killed.rglob("*")]:
        os.utime(path, (then, then))
    cut = make_run(runs, "cut", started="2026-11-30T14:00:00+0000")
    with open(cut / "metrics.jsonl", "a") as handle:
        handle.write('{"epoch": 4, "train.lo')
    broken = make_run(runs, "broken", started="2026-11-30T15:00:00+0000")
    (broken / "config.yaml").write_text("train: [unclosed\n")
    (runs / "notes").mkdir()
    return runs


def listed(deepscope_in_process, *args: str) -> list[dict]:
    result = deepscope_in_process("runs", "list", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_list_shows_every_run_and_why_the_incomplete_ones_are(deepscope_in_process, root):
    result = deepscope_in_process("runs", "list", "--root", str(root))
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:] if line.strip()}
    assert set(lines) == {"adam-1", "sgd-1", "adam-2", "killed", "cut", "broken"}
    assert "test.accuracy" in result.stdout.splitlines()[0] and "0.95" in lines["sgd-1"]
    assert "finished" in lines["adam-1"] and "2026-11-30 10:00" in lines["adam-1"]
    assert "incomplete" in lines["killed"] and "no trained model" in lines["killed"]
    assert "incomplete" in lines["cut"] and "metrics.jsonl line 5 is not JSON (cut short?)" in lines["cut"]
    assert "incomplete" in lines["broken"] and "config.yaml cannot be read" in lines["broken"]
    rows = listed(deepscope_in_process, "--root", str(root))
    assert [r["name"] for r in rows] == ["broken", "cut", "killed", "adam-2", "sgd-1", "adam-1"]  # newest first
    assert (root / "runs.sqlite").exists()


def test_list_filters_sorts_and_limits(deepscope_in_process, root):
    rows = listed(deepscope_in_process, "--root", str(root), "--where", "test.accuracy>0.85", "-w", "status=finished",
                  "--sort", "test.accuracy")
    assert [(r["name"], r["metrics"]["test.accuracy"]) for r in rows] == [("sgd-1", 0.95), ("adam-1", 0.91)]
    rows = listed(deepscope_in_process, "--root", str(root), "--where", "train.optimizer.name=adam",
                  "--sort", "test.accuracy", "--ascending", "--limit", "2")
    assert [r["name"] for r in rows] == ["adam-2", "cut"]  # 0.80, 0.90 (cut short, but its test line was written)
    result = deepscope_in_process("runs", "list", "--root", str(root), "--sort", "val.loss", "-w", "status=nothing")
    assert result.returncode == 0 and "no runs in" in result.stdout and "match the filters" in result.stdout
    result = deepscope_in_process("runs", "list", "--root", str(root), "--sort", "val.loss", "--limit", "3")
    assert "val.loss" in result.stdout.splitlines()[0]  # the sort key is a column


def test_show_one_run(deepscope_in_process, root):
    result = deepscope_in_process("runs", "show", "sgd-1", "--root", str(root))
    assert result.returncode == 0, result.stderr
    for fragment in ("sgd-1", "finished", "test.accuracy", "0.95", "val.loss", "train.optimizer.name", "sgd",
                     "model/weights.safetensors", "weights"):
        assert fragment in result.stdout
    result = deepscope_in_process("runs", "show", str(root / "cut"), "--json")  # a folder works as well as a name
    shown = json.loads(result.stdout)
    assert shown["status"] == "incomplete" and shown["problems"] == ["metrics.jsonl line 5 is not JSON (cut short?)"]
    assert shown["series"]["train.loss"] == [[1, 1.0], [2, 0.5], [3, 1 / 3]]


def test_compare_prints_a_table_and_writes_a_plot(deepscope_in_process, root, tmp_path):
    from matplotlib.image import imread

    plot = tmp_path / "plots" / "loss.png"
    result = deepscope_in_process("runs", "compare", "adam-1", "sgd-1", "--root", str(root), "--metric", "val.loss",
                                  "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    header, *rows = [line.replace("│", " ").replace("┃", " ").split() for line in result.stdout.splitlines()
                     if "│" in line or "┃" in line]
    assert header == ["adam-1", "sgd-1"]
    table = {cells[0]: cells[1:] for cells in rows}
    assert table["test.accuracy"] == ["0.9100", "0.9500"] and table["val.loss"] == ["0.3333", "0.5000"]
    assert table["train.optimizer.name"] == ["adam", "sgd"] and "data.source" not in table  # params that differ
    assert f"plot of val.loss written to {plot}" in result.stdout
    image = imread(plot)
    assert image.shape[:2] == (450, 800)
    for colour in ((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)):  # one curve per run, in matplotlib's first two colours
        pixels = (abs(image[..., :3] * 255 - colour) < 8).all(axis=-1).sum()
        assert pixels > 300, colour

    result = deepscope_in_process("runs", "compare", "adam-1", "killed", "sgd-1", "--root", str(root), "--metric",
                                  "test.accuracy", cwd=tmp_path)  # a final metric: a bar per run
    assert result.returncode == 0, result.stderr
    assert "not in the plot (no test.accuracy): killed" in result.stdout
    assert imread(tmp_path / "compare-test.accuracy.png").shape[:2] == (450, 800)


def test_delete_hides_a_run_and_reindex_rebuilds_the_store(deepscope_in_process, root):
    before = listed(deepscope_in_process, "--root", str(root))
    result = deepscope_in_process("runs", "delete", "adam-2", "--root", str(root))
    assert result.returncode == 0 and "folder" in result.stdout and (root / "adam-2").is_dir()
    assert "adam-2" not in [r["name"] for r in listed(deepscope_in_process, "--root", str(root))]

    for name in ("runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"):
        (root / name).unlink(missing_ok=True)
    result = deepscope_in_process("runs", "reindex", "--root", str(root))
    assert result.returncode == 0 and "reindexed 6 runs" in result.stdout and "(3 incomplete)" in result.stdout

    def without_time(rows):
        return [{k: v for k, v in r.items() if k != "updated"} for r in rows]
    assert without_time(listed(deepscope_in_process, "--root", str(root))) == without_time(before)

    result = deepscope_in_process("runs", "delete", "killed", "--files", "--root", str(root))
    assert_one_line_error(result, "no terminal to ask", "nothing deleted", "pass --yes")  # stdin is not a terminal
    assert f"{root / 'killed' / 'config.yaml'}" in result.stdout and (root / "killed").is_dir()  # listed, kept
    result = deepscope_in_process("runs", "delete", "killed", "--files", "--yes", "--root", str(root))
    assert result.returncode == 0 and not (root / "killed").exists()
    assert "will be deleted: 3 files" in result.stdout
    assert "killed" not in [r["name"] for r in listed(deepscope_in_process, "--root", str(root))]


def test_mistakes_are_one_line_errors(deepscope_in_process, root, tmp_path):
    r = str(root)
    assert_one_line_error(deepscope_in_process("runs", "list", "--root", r, "--where", "test.accuracy"),
                          "write KEY OP VALUE")
    assert_one_line_error(deepscope_in_process("runs", "list", "--root", r, "--where", "test.acuracy>0.9"),
                          "'test.acuracy'", "did you mean test.accuracy")
    assert_one_line_error(deepscope_in_process("runs", "list", "--root", r, "--sort", "nothing"), "'nothing'")
    assert_one_line_error(deepscope_in_process("runs", "show", "adam-3", "--root", r), "no run named 'adam-3'",
                          "did you mean adam-2")
    assert_one_line_error(deepscope_in_process("runs", "compare", "adam-1", "sgd-2", "--root", r), "'sgd-2'")
    assert_one_line_error(deepscope_in_process("runs", "compare", "adam-1", "sgd-1", "--root", r, "--metric", "f1"),
                          "--metric f1: none of these runs has it", "val.loss")
    assert_one_line_error(deepscope_in_process("runs", "delete", "nope", "--root", r), "no run named 'nope'")
    assert_one_line_error(deepscope_in_process("runs", "list", "--root", str(tmp_path / "absent")),
                          "absent: no such folder of runs")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "runs.sqlite").write_text("junk " * 100)
    assert_one_line_error(deepscope_in_process("runs", "list", "--root", str(tmp_path / "junk")),
                          "not a run store", "runs reindex")
    assert deepscope_in_process("runs", "list", "--root", r, "--limit", "0").returncode == 2


def test_a_real_training_run(deepscope, trained_digits_run, tmp_path):
    """In a fresh process, as typed in a shell, over a run `deepscope train` wrote."""
    root = tmp_path / "runs"
    shutil.copytree(trained_digits_run, root / trained_digits_run.name)
    result = deepscope("runs", "list", "--root", str(root), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["status"] == "finished" and row["task"] == "category" and row["metrics"]["test.accuracy"] > 0.5
    assert row["params"]["data.source"] == "digits" and row["params"]["train.epochs"] == 3
    result = deepscope("runs", "compare", row["name"], "--root", str(root), cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "compare-val.loss.png").exists(), result.stderr
    result = deepscope("runs", "show", "nope", "--root", str(root), cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: no run named 'nope'"), result.stderr


def test_a_diverged_run_shows_nan_and_its_json_stays_strict(deepscope_in_process, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    run = make_run(tmp_path / "runs", "diverged", accuracy=None)
    with open(run / "metrics.jsonl", "a") as handle:  # what json.dumps writes for a NaN loss
        handle.write('{"epoch": 4, "train.loss": NaN, "val.loss": Infinity}\n')
    result = deepscope_in_process("runs", "list", "--root", str(tmp_path / "runs"), "--sort", "train.loss")
    assert result.returncode == 0 and "nan" in result.stdout and "inf" in result.stdout, result.stderr
    result = deepscope_in_process("runs", "show", "diverged", "--root", str(tmp_path / "runs"), "--json")
    shown = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
    assert shown["metrics"]["train.loss"] is None and shown["series"]["train.loss"][-1] == [4, None]


def test_tags_set_from_the_cli_filter_runs_and_survive_a_reindex(deepscope_in_process, root):
    result = deepscope_in_process("runs", "tag", "adam-1", "group=baseline", "note=first try", "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert "adam-1: group=baseline, note=first try" in result.stdout
    assert [r["name"] for r in listed(deepscope_in_process, "--root", str(root), "--where", "tag:group=baseline")] == [
        "adam-1"]
    assert json.loads((root / "adam-1" / "tags.json").read_text()) == {"group": "baseline", "note": "first try"}
    assert deepscope_in_process("runs", "tag", "adam-1", "note=", "--root", str(root)).stdout.strip() == (
        "adam-1: group=baseline")
    (root / "runs.sqlite").unlink()  # the store is rebuilt from the folders, tags included
    assert listed(deepscope_in_process, "--root", str(root), "--where", "tag:group=baseline")[0]["tags"] == {
        "group": "baseline"}
    assert_one_line_error(deepscope_in_process("runs", "tag", "adam-1", "group", "--root", str(root)), "KEY=VALUE")


def test_tags_from_the_config_reach_the_store(tmp_path):
    import deepscope as ds
    from deepscope.track.store import RunStore

    ds.train({"data": {"source": "digits"}, "model": {"encoder": {"name": "mlp", "hidden": [16]}},
              "train": {"epochs": 1}, "diagnose": False,
              "run": {"root": str(tmp_path), "report": False, "tags": {"group": "sweep-1"}}}, progress=False)
    rows = RunStore.for_root(tmp_path).runs(where=["tag:group=sweep-1"])
    assert len(rows) == 1 and rows[0]["status"] == "finished" and rows[0]["tags"] == {"group": "sweep-1"}
