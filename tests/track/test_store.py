"""The run store: what goes in comes out; an older schema is migrated in place; filters, sorting, sync, delete
and reindex; the StoreLogger never breaks training. (Four writers at once: test_store_concurrency.py.)"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from deepscope.errors import UserError
from deepscope.track.runinfo import read_run
from deepscope.track.store import RunStore
from tests.conftest import EMPTY_SAFETENSORS, FAKE_MODEL_SPEC, FAKE_VERSIONS


# --- run folders as `deepscope train` leaves them ----------------------------------------------------------------
def make_run(root: Path, name: str, *, accuracy: float | None = 0.9, optimizer: str = "adam", epochs: int = 3,
             model: bool = True, started: str = "2026-11-30T10:00:00+0000") -> Path:
    run = root / name
    (run / "model").mkdir(parents=True)
    (run / "config.yaml").write_text(f"data: {{source: digits}}\ntrain: {{epochs: {epochs}, "
                                     f"optimizer: {{name: {optimizer}, lr: 0.01}}}}\n")
    (run / "env.json").write_text(json.dumps({"started": started, "seed": 0, **FAKE_VERSIONS}))
    rows = [{"epoch": e, "train.loss": 1.0 / e, "lr": 0.01, "val.loss": 1.2 / e, "val.accuracy": 0.5 + e / 10,
             "time": 0.5} for e in range(1, epochs + 1)]
    if accuracy is not None:
        rows.append({"split": "test", "accuracy": accuracy, "loss": 1 - accuracy, "confusion": [[1, 0], [0, 1]]})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if model:
        (run / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
        (run / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "last.safetensors").write_bytes(b"checkpoint")
    return run


def age(run: Path, seconds: float = 3600) -> Path:
    """Make a run's files look old: a killed run, not one still training."""
    then = time.time() - seconds
    for path in [run, *run.rglob("*")]:
        os.utime(path, (then, then))
    return run


def comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "updated"} for row in rows]


def test_threads_share_one_store_object(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")

    def write(thread: int) -> None:
        for step in range(100):
            store.log_metrics(tmp_path / f"thread-{thread}", step, {"loss": thread + step / 100})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in range(4):
        assert store.metric_series(f"thread-{t}", "loss") == [(s, t + s / 100) for s in range(100)]


def test_a_locked_store_is_waited_for_then_a_clear_error(tmp_path, monkeypatch):
    import deepscope.track.store as store_module

    store = RunStore(tmp_path / "runs.sqlite", timeout=0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock for 0.5 s
    release = threading.Timer(0.5, lambda: blocker.execute("COMMIT"))
    release.start()
    store.log_metrics(tmp_path / "run", 1, {"loss": 0.5})
    release.join()
    assert store.retries > 0 and store.metric_series("run", "loss") == [(1, 0.5)]

    monkeypatch.setattr(store_module, "RETRIES", 2)
    blocker.execute("BEGIN IMMEDIATE")  # and now it never lets go
    with pytest.raises(UserError, match="stayed locked by another process.*try again"):
        store.log_metrics(tmp_path / "run", 2, {"loss": 0.25})
    blocker.execute("ROLLBACK")
    assert store.metric_series("run", "loss") == [(1, 0.5)]


# --- schema migrations -------------------------------------------------------------------------------------------
V1_SCHEMA = """
CREATE TABLE runs (name TEXT PRIMARY KEY, path TEXT NOT NULL, status TEXT NOT NULL, started TEXT);
CREATE TABLE params (run TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (run, key));
CREATE TABLE metrics (run TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL);
INSERT INTO runs VALUES ('old-1', '/nowhere/old-1', 'finished', '2025-01-02T03:04:05+0000');
INSERT INTO runs VALUES ('old-2', '/nowhere/old-2', 'running', NULL);
INSERT INTO params VALUES ('old-1', 'train.optimizer.name', '"sgd"'), ('old-1', 'train.epochs', '2');
INSERT INTO metrics VALUES ('old-1', 1, 'train.loss', 0.75), ('old-1', 2, 'train.loss', 0.5),
                           ('old-1', 2, 'val.loss', 0.625), ('old-2', 1, 'train.loss', 1.5);
PRAGMA user_version = 1;
"""


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(V1_SCHEMA)
    inode = path.stat().st_ino

    store = RunStore(path)
    assert RunStore.SCHEMA_VERSION == 2 and path.stat().st_ino == inode  # the same file, upgraded
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (2,)
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"runs", "params", "metrics", "latest", "artefacts", "tags"}
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    old = store.run("old-1")
    assert old["status"] == "finished" and old["started"] == "2025-01-02T03:04:05+0000"
    assert old["params"] == {"train.optimizer.name": "sgd", "train.epochs": 2}
    assert old["metrics"] == {"train.loss": 0.5, "val.loss": 0.625} and old["problems"] == []
    assert store.metric_series("old-1", "train.loss") == [(1, 0.75), (2, 0.5)]
    assert store.metric_series("old-2", "train.loss") == [(1, 1.5)]
    assert [r["name"] for r in store.runs(where=["train.optimizer.name=sgd"])] == ["old-1"]

    store.log_metrics("/nowhere/old-2", 2, {"train.loss": 1.25}, epoch=2)  # and it takes new rows
    store.set_tags("old-2", {"group": "legacy"})
    assert RunStore(path).run("old-2")["tags"] == {"group": "legacy"}
    assert RunStore(path).metric_series("old-2", "train.loss") == [(1, 1.5), (2, 1.25)]


def test_a_newer_or_foreign_file_is_a_clear_error(tmp_path):
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as con:
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="schema version 99 is newer"):
        RunStore(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all " * 100)
    with pytest.raises(UserError, match="not a run store.*reindex"):
        RunStore(junk)


# --- what goes in comes out --------------------------------------------------------------------------------------
def test_a_recorded_run_reads_back_whole(tmp_path):
    run = make_run(tmp_path, "mnist-1", accuracy=0.97)
    store = RunStore.for_root(tmp_path)
    store.record_run(read_run(run))
    row = store.run("mnist-1")
    assert row["status"] == "finished" and row["problems"] == [] and row["task"] == "category"
    assert row["path"] == str(run.resolve()) and row["started"] == "2026-11-30T10:00:00+0000"
    assert row["metrics"]["test.accuracy"] == 0.97 and row["metrics"]["val.loss"] == pytest.approx(0.4)
    assert "test.confusion" not in row["metrics"]  # lists stay in the run folder
    assert row["params"] == {"data.source": "digits", "train.epochs": 3, "train.optimizer.name": "adam",
                             "train.optimizer.lr": 0.01}
    assert {a["path"]: a["kind"] for a in row["artefacts"]} == {
        "config.yaml": "config", "env.json": "environment", "metrics.jsonl": "metrics", "model/model.json": "model",
        "model/weights.safetensors": "weights", "checkpoints/last.safetensors": "checkpoint"}
    assert store.metric_series("mnist-1", "val.accuracy") == [(1, 0.6), (2, 0.7), (3, 0.8)]
    assert store.metric_names("mnist-1") == ["lr", "time", "train.loss", "val.accuracy", "val.loss"]
    assert store.run("nope") is None
    with pytest.raises(UserError, match="no run named 'mnist-2'.*did you mean mnist-1"):
        store.metric_series("mnist-2", "val.loss")


def test_a_forecasting_runs_errors_are_final_metrics(tmp_path):
    run = make_run(tmp_path, "airline", accuracy=None)
    evaluation = {"forecast": "test", "period": {"steps": 24}, "season": 12,
                  "one_step": {"model": {"mae": 15.5, "rmse": 20.0}, "naive": {"mae": 30.0, "rmse": 35.0}},
                  "horizon": {"steps": 12, "model": {"mae": 25.0}, "forecast": {"time": ["1960-01"], "model": [1.0]}}}
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(evaluation) + "\n")
    store = RunStore.for_root(tmp_path)
    store.record_run(read_run(run))
    finals = {k: v for k, v in store.run("airline")["metrics"].items() if k.startswith("forecast.")}
    assert finals == {"forecast.test.one_step.model.mae": 15.5, "forecast.test.one_step.model.rmse": 20.0,
                      "forecast.test.one_step.naive.mae": 30.0, "forecast.test.one_step.naive.rmse": 35.0,
                      "forecast.test.horizon.model.mae": 25.0}


def test_live_logging_then_the_folder_record(tmp_path):
    run = tmp_path / "live"
    store = RunStore.for_root(tmp_path)
    store.start_run(run, {"train": {"epochs": 2}, "data": {"series": {"target": "y"}}})
    assert store.run("live")["status"] == "running" and store.run("live")["task"] == "forecast"
    store.log_metrics(run, 40, {"train.loss": 0.5, "lr": 0.1, "note": "text is skipped", "nan": math.nan}, epoch=1)
    store.log_metrics(run, 80, {"train.loss": 0.25, "lr": 0.1}, epoch=2)
    store.log_metrics(run, 80, {"train.loss": 0.2}, epoch=2)  # the same step again replaces it
    assert store.metric_series("live", "train.loss") == [(1, 0.5), (2, 0.2)]
    assert math.isnan(store.metric_series("live", "nan")[0][1]) and "note" not in store.metric_names("live")
    store.finish_run(run, "incomplete", ["training stopped: diverged"])
    row = store.run("live")
    assert row["status"] == "incomplete" and row["problems"] == ["training stopped: diverged"]
    with sqlite3.connect(store.path) as con:
        steps = con.execute("SELECT step FROM metrics WHERE name = 'train.loss' ORDER BY step").fetchall()
        assert steps == [(40,), (80,)]

    store.start_run(run, {"train": {"epochs": 2}})  # a restart drops what was logged before
    assert store.metric_names("live") == []
    store.log_metrics(run, 40, {"train.loss": 0.5}, epoch=1)
    make_run(tmp_path, "live", epochs=1)  # the run's own folder, as written meanwhile
    store.record_run(read_run(run))
    assert store.run("live")["status"] == "finished" and store.run("live")["metrics"]["test.accuracy"] == 0.9
    with sqlite3.connect(store.path) as con:  # the live step of epoch 1 is kept; metrics.jsonl knows epochs only
        assert con.execute("SELECT step, epoch FROM metrics WHERE name = 'train.loss'").fetchall() == [(40, 1)]


# --- filters and sorting -----------------------------------------------------------------------------------------
@pytest.fixture
def store_of_five(tmp_path):
    make_run(tmp_path, "a", accuracy=0.91, optimizer="adam", started="2026-11-30T10:00:00+0000")
    make_run(tmp_path, "b", accuracy=0.95, optimizer="sgd", started="2026-11-30T11:00:00+0000")
    make_run(tmp_path, "c", accuracy=0.80, optimizer="adam", started="2026-11-30T12:00:00+0000")
    make_run(tmp_path, "d", accuracy=None, optimizer="adamw", model=False, started="2026-11-30T13:00:00+0000")
    age(tmp_path / "d")
    broken = make_run(tmp_path, "e", started="2026-11-30T14:00:00+0000")
    (broken / "config.yaml").write_text("train: [unclosed\n")
    store = RunStore.for_root(tmp_path)
    assert store.sync(tmp_path) == 5
    store.set_tags(tmp_path / "a", {"group": "baseline"})
    store.set_tags(tmp_path / "b", {"group": "tuned"})
    return store


def names(rows):
    return [r["name"] for r in rows]


def test_filters(store_of_five):
    store = store_of_five
    assert names(store.runs(where=["test.accuracy>0.9"], sort="name", descending=False)) == ["a", "b"]
    assert names(store.runs(where=["test.accuracy>=0.9", "test.accuracy<0.95"])) == ["e", "a"]
    assert names(store.runs(where=["train.optimizer.name=adam"], sort="name")) == ["c", "a"]
    assert names(store.runs(where=["train.optimizer.name!=adam"], sort="name")) == ["d", "b"]
    assert names(store.runs(where=["train.optimizer.name~ADAM"], sort="name")) == ["d", "c", "a"]
    assert names(store.runs(where=["param:train.optimizer.lr==0.010"], sort="name")) == ["d", "c", "b", "a"]
    assert names(store.runs(where=["tag:group=tuned"])) == ["b"]
    assert names(store.runs(where=["status=incomplete"])) == ["e", "d"]
    assert names(store.runs(where=["started>2026-11-30T11:30"])) == ["e", "d", "c"]
    for bad, message in [("test.accuracy", "write KEY OP VALUE"), (">0.9", "write KEY OP VALUE"),
                         ("test.acuracy>0.9", "no run has .*'test.acuracy'; did you mean test.accuracy")]:
        with pytest.raises(UserError, match=message):
            store.runs(where=[bad])


def test_incomplete_runs_say_why(store_of_five):
    rows = {r["name"]: r for r in store_of_five.runs()}
    assert rows["d"]["status"] == "incomplete" and "no trained model" in rows["d"]["problems"][0]
    assert rows["e"]["status"] == "incomplete" and rows["e"]["problems"][0].startswith("config.yaml cannot be read")
    assert rows["e"]["params"] == {} and rows["e"]["metrics"]["test.accuracy"] == 0.9  # what could be read is kept


def test_sorting(store_of_five):
    store = store_of_five
    assert names(store.runs()) == ["e", "d", "c", "b", "a"]  # newest started first
    assert names(store.runs(descending=False)) == ["a", "b", "c", "d", "e"]
    assert names(store.runs(sort="test.accuracy")) == ["b", "a", "e", "c", "d"]  # d has none: last
    assert names(store.runs(sort="test.accuracy", descending=False)) == ["c", "e", "a", "b", "d"]
    assert names(store.runs(sort="tag:group", limit=1)) == ["b"]
    ties_newest_first = ["c", "a", "d", "b", "e"]
    assert names(store.runs(sort="train.optimizer.name", descending=False)) == ties_newest_first
    with pytest.raises(UserError, match="sort 'accuracy'.*did you mean"):
        store.runs(sort="accuracy")


# --- the folders are the truth: sync, delete, reindex ------------------------------------------------------------
def test_sync_follows_the_folders(tmp_path):
    store = RunStore.for_root(tmp_path)
    make_run(tmp_path, "a"), make_run(tmp_path, "b"), (tmp_path / "notes").mkdir()
    assert store.sync(tmp_path) == 2 and store.sync(tmp_path) == 0  # nothing changed: nothing read again
    with open(tmp_path / "a" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"split": "val", "accuracy": 0.5}) + "\n")
    make_run(tmp_path, "c")
    import shutil

    shutil.rmtree(tmp_path / "b")
    assert store.sync(tmp_path) == 2
    assert names(store.runs(sort="name")) == ["c", "a"] and store.run("a")["metrics"]["val.accuracy"] == 0.5


def test_delete_hides_a_run_until_reindex_and_reindex_rebuilds_the_same_rows(store_of_five, tmp_path):
    store = store_of_five
    before = comparable(store.runs())
    store.delete("c")
    assert store.run("c") is None and "c" not in names(store.runs())
    store.sync(tmp_path)
    assert "c" not in names(store.runs())  # the folder is still there, but deleted stays deleted
    with pytest.raises(UserError, match="no run named 'zz'"):
        store.delete("zz")

    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.path}{suffix}").unlink(missing_ok=True)
    rebuilt = RunStore.for_root(tmp_path)
    assert rebuilt.reindex(tmp_path) == 5
    assert comparable(rebuilt.runs()) == before  # tags too: they live in the run folders' tags.json
    assert rebuilt.run("a")["tags"] == {"group": "baseline"}
    assert rebuilt.metric_series("c", "val.loss") == [(e, 1.2 / e) for e in (1, 2, 3)]


# --- the StoreLogger callback ------------------------------------------------------------------------------------
def fit(tmp_path, callbacks, epochs=3):
    import torch

    from deepscope.training.trainer import Trainer

    torch.manual_seed(0)
    x = torch.randn(96, 4)
    y = (x[:, 0] > 0).long()
    trainer = Trainer(epochs=epochs, batch_size=32, lr=0.05, loss="cross_entropy", device="cpu", callbacks=callbacks)
    trainer.fit(torch.nn.Linear(4, 2), (x[:64], y[:64]), (x[64:], y[64:]))
    return trainer


def test_store_logger_logs_each_epoch(tmp_path):
    from deepscope.training.callbacks.metrics_logger import MetricsLogger
    from deepscope.training.callbacks.store_logger import StoreLogger

    run = tmp_path / "run-1"
    run.mkdir()
    logger = StoreLogger(tmp_path / "runs.sqlite", run, config={"train": {"epochs": 3}})
    trainer = fit(tmp_path, [MetricsLogger(run / "metrics.jsonl"), logger])
    store = RunStore.for_root(tmp_path)
    row = store.run("run-1")
    assert row["status"] == "running" and row["params"] == {"train.epochs": 3}
    for metric in ("train.loss", "val.loss", "val.accuracy", "lr"):
        assert store.metric_series("run-1", metric) == [(h["epoch"], pytest.approx(h[metric])) for h in trainer.history]
    (run / "config.yaml").write_text("train: {epochs: 3}\n")  # what the pipeline writes around the fit
    (run / "env.json").write_text(json.dumps({"started": "2026-11-30T10:00:00+0000", **FAKE_VERSIONS}))
    (run / "model").mkdir()
    (run / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
    (run / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"split": "test", "accuracy": 0.75}) + "\n")
    logger.finish()  # the whole folder recorded: finished, with its final evaluation and files
    row = store.run("run-1")
    assert row["status"] == "finished" and row["metrics"]["test.accuracy"] == 0.75 and len(row["artefacts"]) == 5
    with sqlite3.connect(store.path) as con:
        assert [s for (s,) in con.execute("SELECT step FROM metrics WHERE name = 'lr' ORDER BY step")] == [2, 4, 6]


def test_store_logger_never_breaks_training(tmp_path, caplog):
    from deepscope.training.callbacks.store_logger import StoreLogger

    junk = tmp_path / "runs.sqlite"
    junk.write_bytes(b"this is not a database " * 100)
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        trainer = fit(tmp_path, [StoreLogger(junk, tmp_path / "run", config={})])
    assert len(trainer.history) == 3
    warnings = [r for r in caplog.records if "run store" in r.getMessage()]
    assert len(warnings) == 1 and "runs reindex" in warnings[0].getMessage()


def test_store_logger_warns_once_when_the_store_fails_mid_run(tmp_path, caplog, monkeypatch):
    from deepscope.training.callbacks.store_logger import StoreLogger

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(RunStore, "log_metrics", locked)
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        trainer = fit(tmp_path, [StoreLogger(tmp_path / "runs.sqlite", tmp_path / "run", config={})], epochs=4)
    assert len(trainer.history) == 4
    assert [r.getMessage() for r in caplog.records if "run store" in r.getMessage()] == [
        f"run store {tmp_path / 'runs.sqlite'} is unavailable (OperationalError: database is locked); training goes "
        "on without it, the run folder has everything: `deepscope runs reindex` brings the run into the store later"]


# --- a store is only an index: damaged ones are refused, and replaced by reindex ---------------------------------
def test_a_damaged_store_is_refused_in_one_message_and_replaced_from_the_folders(tmp_path):
    from deepscope.track.store import DamagedStoreError

    make_run(tmp_path, "a")
    store = RunStore.for_root(tmp_path)
    store.sync(tmp_path)
    store.close()
    with sqlite3.connect(tmp_path / "runs.sqlite") as con:
        con.execute("DROP TABLE tags")
    with pytest.raises(DamagedStoreError, match=r"runs.sqlite: not a run store this deepscope can read \(it has no "
                                                r"table tags\).*`deepscope runs reindex --root"):
        RunStore.for_root(tmp_path)
    rebuilt = RunStore.replace_damaged(tmp_path)
    assert rebuilt.reindex(tmp_path) == 1 and names(rebuilt.runs()) == ["a"]


def test_a_path_in_the_store_is_not_trusted(tmp_path):
    root, outside = tmp_path / "runs", tmp_path / "project"
    make_run(root, "a"), make_run(tmp_path, "project")
    store = RunStore.for_root(root)
    store.sync(root)
    store._write(lambda con: con.execute("INSERT INTO runs (name, path, status) VALUES ('p', ?, 'finished')",
                                         (str(outside),)))
    store.set_tags("p", {"group": "x"})
    assert not (outside / "tags.json").exists()  # tags of a row pointing outside the root stay in the store
    assert store.reindex(root) == 1 and names(store.runs()) == ["a"]  # only the folders under the root are read
