import json
import os
import time

from deepscope.track.runinfo import find_runs, read_run
from tests.conftest import EMPTY_SAFETENSORS, FAKE_MODEL_SPEC, FAKE_VERSIONS


def fake_run(root, name, *, model=True, metrics=None,
             config="data: {source: digits}\ntrain: {optimizer: {lr: 0.01}}\n"):
    run = root / name
    (run / "model").mkdir(parents=True)
    (run / "config.yaml").write_text(config)
    (run / "env.json").write_text(json.dumps({"started": "2026-11-30T10:00:00+0000", "seed": 0, **FAKE_VERSIONS}))
    rows = metrics if metrics is not None else [{"epoch": 1, "train.loss": 1.0}, {"epoch": 2, "train.loss": 0.5},
                                                 {"split": "test", "accuracy": 0.9, "loss": 0.3}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if model:
        (run / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
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
    assert read_run(run).problems == ["model/weights.safetensors is damaged (w: cut short: its data ends past the "
                                      "end of the file)"]
    weights.write_bytes(b"garbage!" * 4)
    assert "damaged (cut short inside its header" in read_run(run).problems[0]
    weights.write_bytes(b"")
    assert read_run(run).status == "incomplete"


def old(run):
    """A run whose files were last written an hour ago: not one still training."""
    then = time.time() - 3600
    for path in [run, *run.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)
    return run


def test_a_model_that_cannot_be_loaded_is_not_finished(tmp_path):
    for name, spec in [("list", [1]), ("no-inputs", {"format": 1, "model": {}, "outputs": {"y": {"type": "number"}}}),
                       ("no-type", {"model": {}, "inputs": {"x": {"type": "number"}}, "outputs": {"y": {}}})]:
        run = fake_run(tmp_path, name)
        (run / "model" / "model.json").write_text(json.dumps(spec))
        info = read_run(old(run))
        assert info.status == "incomplete", name
    assert read_run(tmp_path / "list").problems == ["model/model.json does not hold a mapping"]
    assert read_run(tmp_path / "no-inputs").problems == [
        "model/model.json does not hold inputs: the model cannot be loaded from it"]
    assert read_run(tmp_path / "no-type").problems == [
        "model/model.json: the output 'y' has no feature type: the model cannot be loaded from it"]


def test_a_run_stopped_between_saving_its_model_and_its_final_evaluation(tmp_path):
    config = "data: {source: digits, split: {val: 0.1, test: 0.2}}\n"
    run = fake_run(tmp_path, "killed", config=config, metrics=[{"epoch": 1, "train.loss": 1.0}])
    assert read_run(run).status == "running"  # the evaluation follows the save: just written, it is on its way
    info = read_run(old(run))
    assert info.status == "incomplete" and info.problems == [
        "stopped before the final evaluation: the model was saved, but metrics.jsonl has no test or val result"]
    no_splits = fake_run(tmp_path, "train-only", config="data: {source: digits, split: {val: 0, test: 0}}\n",
                         metrics=[{"epoch": 1, "train.loss": 1.0}])
    assert read_run(old(no_splits)).status == "finished"  # nothing to evaluate on: no final line is expected


def test_an_epoch_logged_twice_counts_once_and_the_last_line_wins(tmp_path):
    rows = [{"epoch": 1, "train.loss": 1.0}, {"epoch": 2, "train.loss": 0.5}, {"epoch": 3, "train.loss": 0.4},
            {"epoch": 2, "train.loss": 0.45}, {"epoch": 3, "train.loss": 0.3},  # a resume replayed epochs 2 and 3
            {"split": "test", "accuracy": 0.8}, {"split": "test", "accuracy": 0.9}]
    info = read_run(fake_run(tmp_path, "twice", metrics=rows))
    assert [(r["epoch"], r["train.loss"]) for r in info.epochs] == [(1, 1.0), (2, 0.45), (3, 0.3)]
    assert info.finals == {"test": {"accuracy": 0.9}} and info.status == "finished"


def test_links_out_of_the_run_folder_are_not_followed(tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("data: {source: secret-value}\n")
    run = fake_run(tmp_path / "runs", "linked")
    for name in ("config.yaml", "env.json", "metrics.jsonl"):
        (run / name).unlink()
        (run / name).symlink_to(secret)
    info = read_run(run)
    assert info.config == {} and info.env == {} and info.epochs == [] and info.status == "incomplete"
    assert [p for p in info.problems if "link out" in p] == [
        f"{name} is a link out of the run folder (not read)" for name in ("config.yaml", "env.json", "metrics.jsonl")]
    inside = fake_run(tmp_path / "runs", "inside")
    (inside / "saved.yaml").write_text((inside / "config.yaml").read_text())
    (inside / "config.yaml").unlink()
    (inside / "config.yaml").symlink_to(inside / "saved.yaml")  # a link that stays inside is the run's own file
    assert read_run(inside).config["data"] == {"source": "digits"}


def test_reading_is_bounded(tmp_path, monkeypatch):
    import deepscope.track.runinfo as runinfo

    monkeypatch.setattr(runinfo, "METRICS_LIMIT", 1000)
    monkeypatch.setattr(runinfo, "LINE_LIMIT", 200)
    rows = [{"epoch": 1, "train.loss": 1.0}, {"epoch": 2, "note": "x" * 500}, {"epoch": 3, "train.loss": 0.5}]
    run = fake_run(tmp_path, "long", metrics=rows + [{"epoch": n, "train.loss": 0.1} for n in range(4, 100)])
    info = read_run(run)
    assert [r["epoch"] for r in info.epochs][:3] == [1, 3, 4] and len(info.epochs) < 40  # the first 1000 bytes
    assert info.problems[0] == "metrics.jsonl line 2 is longer than 200 bytes (not read)"
    assert info.problems[1].startswith("metrics.jsonl is") and "only its first 1,000 bytes" in info.problems[1]
    (run / "config.yaml").write_text("data: {source: digits}\n" + "#" * (2**20))
    assert "config.yaml is 1 MB, more than a run's config.yaml holds (1 MB; not read)" in read_run(run).problems


def test_find_runs_skips_an_alias(tmp_path):
    fake_run(tmp_path, "a-1")
    (tmp_path / "latest").symlink_to(tmp_path / "a-1")
    assert [p.name for p in find_runs(tmp_path)] == ["a-1"]
