import json
import os
import time

from deepscope.track.runinfo import find_runs, read_run
from tests.conftest import EMPTY_SAFETENSORS


def fake_run(root, name, *, model=True, metrics=None,
             config="data: {source: digits}\ntrain: {optimizer: {lr: 0.01}}\n"):
    run = root / name
    (run / "model").mkdir(parents=True)
    (run / "config.yaml").write_text(config)
    (run / "env.json").write_text(json.dumps({"started": "2026-11-30T10:00:00+0000", "seed": 0}))
    rows = metrics if metrics is not None else [{"epoch": 1, "train.loss": 1.0}, {"epoch": 2, "train.loss": 0.5},
                                                 {"split": "test", "accuracy": 0.9, "loss": 0.3}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if model:
        (run / "model" / "model.json").write_text(json.dumps({"outputs": {"label": {"type": "category"}}}))
        (run / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
    return run


def test_a_finished_run_is_read_whole(tmp_path):
    info = read_run(fake_run(tmp_path, "a"))
    assert info.status == "finished" and info.problems == []
    assert [r["epoch"] for r in info.epochs] == [1, 2] and info.finals == {"test": {"accuracy": 0.9, "loss": 0.3}}
    assert info.headline() == {"test.accuracy": 0.9, "test.loss": 0.3}
    assert info.params() == {"data.source": "digits", "train.optimizer.lr": 0.01}
    assert info.task == "category" and info.started == "2026-11-30T10:00:00+0000"


def test_damaged_and_partial_runs_say_why_without_raising(tmp_path):
    killed = fake_run(tmp_path, "killed", model=False, metrics=[{"epoch": 1, "train.loss": 1.0}])
    old = time.time() - 3600
    for path in killed.rglob("*"):
        os.utime(path, (old, old))
    info = read_run(killed)
    assert info.status == "incomplete" and "no trained model" in info.problems[0]

    cut = fake_run(tmp_path, "cut")
    with open(cut / "metrics.jsonl", "a") as handle:
        handle.write('{"epoch": 3, "train.lo')
    info = read_run(cut)
    assert info.status == "incomplete" and info.problems == ["metrics.jsonl line 4 is not JSON (cut short?)"]
    assert len(info.epochs) == 2  # what could be read is kept

    bad = fake_run(tmp_path, "bad", config="data: [unclosed\n")
    (bad / "env.json").write_text("{")
    info = read_run(bad)
    assert info.status == "incomplete" and info.config == {} and info.env == {}
    assert any(p.startswith("config.yaml cannot be read") for p in info.problems)
    assert any(p.startswith("env.json cannot be read") for p in info.problems)

    running = fake_run(tmp_path, "running", model=False)
    assert read_run(running).status == "running"
    assert read_run(tmp_path / "nothing").problems == ["not a folder"]


def test_find_runs_lists_run_folders_only(tmp_path):
    fake_run(tmp_path, "b-2"), fake_run(tmp_path, "b-1"), (tmp_path / "notes").mkdir()
    assert [p.name for p in find_runs(tmp_path)] == ["b-2", "b-1"]
    assert find_runs(tmp_path / "b-1") == [tmp_path / "b-1"]


def test_weights_cut_short_or_overwritten_make_a_run_incomplete(tmp_path):
    import torch
    from safetensors.torch import save_file

    run = fake_run(tmp_path, "w")
    weights = run / "model" / "weights.safetensors"
    save_file({"w": torch.ones(100)}, str(weights))
    assert read_run(run).status == "finished"
    whole = weights.read_bytes()
    weights.write_bytes(whole[:-50])
    assert read_run(run).problems == ["model/weights.safetensors is damaged (cut short: its tensors end past the "
                                      "end of the file)"]
    weights.write_bytes(b"garbage!" * 4)
    assert "damaged (cut short inside its header)" in read_run(run).problems[0]
    weights.write_bytes(b"")
    assert read_run(run).status == "incomplete"
