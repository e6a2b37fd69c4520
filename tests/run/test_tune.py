"""Hyperparameter search (`deepscope.tune`, on Optuna): the space syntax and its errors, a tiny search on digits
that prunes, the best config that trains, and several processes sharing one study without a trial run twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.errors import ConfigError, UserError
from deepscope.track.store import RunStore

optuna = pytest.importorskip("optuna")


def tiny(root: Path, **tune: object) -> dict:
    """Digits, a 16-unit MLP, 2 epochs: about a second a trial."""
    return {"data": {"source": "digits", "inputs": {"image": "image"}},
            "model": {"encoder": {"name": "mlp", "hidden": [16]}},
            "train": {"epochs": 2, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}},
            "diagnose": False, "run": {"root": str(root), "report": False},
            "tune": {"space": {"train.optimizer.lr": {"log_uniform": [1e-3, 3e-2]}}, "trials": 2, **tune}}


# --- the space: syntax (read with the config) and paths (checked against the config) ------------------------------
@pytest.mark.parametrize(("entry", "fragments"), [
    (3, ["give a list of values", "log_uniform"]),
    ({"loguniform": [1e-4, 1e-1]}, ["unknown key 'loguniform'", "did you mean log_uniform"]),
    ({"int": [1.5, 8]}, ["int takes two whole numbers"]),
    ({"log_uniform": [0.0, 1.0]}, ["log scale needs low > 0"]),
    ({"uniform": [0.5, 0.1]}, ["low must be below high"]),
    ({"uniform": [0.0, 1.0], "step": 2.0}, ["step must be"]),
    ({"int": [1, 9], "log": True, "step": 2}, ["step and a log scale"]),
    ({"uniform": [0, 1], "int": [0, 1]}, ["both uniform and int"]),
    ([], ["a choice needs a list of one or more values"]),
    ([0.1, 0.1], ["listed twice"]),
])
def test_a_bad_dimension_is_refused_naming_its_key(entry, fragments):
    with pytest.raises(ConfigError) as error:
        load_config({"data": {"source": "digits"}, "tune": {"space": {"train.optimizer.lr": entry}}})
    assert "tune.space" in str(error.value) and "train.optimizer.lr" in str(error.value)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_every_kind_of_dimension_reads_and_round_trips():
    space = {"train.optimizer.lr": {"log_uniform": [1e-4, 1e-1]}, "train.optimizer.weight_decay": {"uniform": [0, 0.1],
             "step": 0.01}, "train.batch_size": {"int": [32, 256], "log": True}, "model.encoder.dropout": [0.1, 0.3],
             "model.encoder.filters": {"choice": [[16, 32], [32, 64]]}}
    config = load_config({"data": {"source": "digits"}, "tune": {"space": space, "pruner": "halving"}})
    dims = config.tune.dimensions()
    assert (dims["train.optimizer.lr"].kind, dims["train.optimizer.lr"].log) == ("float", True)
    assert (dims["train.batch_size"].kind, dims["train.batch_size"].low, dims["train.batch_size"].log) == ("int", 32,
                                                                                                           True)
    assert dims["model.encoder.filters"].choices == ([16, 32], [32, 64])
    assert config.tune.pruner.name == "halving"
    assert load_config(config.model_dump(mode="json")) == config  # a dumped config reads back the same
    assert "tune" not in load_config({"data": {"source": "digits"}}).model_dump()  # no `tune: null` in runs


@pytest.mark.parametrize(("space", "fragments"), [
    ({"train.epocs": [1, 2]}, ["tune.space.train.epocs", "did you mean train.epochs"]),
    ({"train.optimzer.lr": [0.1]}, ["train has no setting 'optimzer'", "train.optimizer"]),
    ({"model.encoder.dropuot": [0.1]}, ["tune.space.model.encoder.dropuot", "unknown key 'dropuot'", "dropout"]),
    ({"data.inputs.picture.size": [8]}, ["data.inputs has no column 'picture'", "columns: image"]),
    ({"train.epochs.count": [1]}, ["train.epochs is a value, not a section"]),
    ({"train.optimizer.lr": [-1.0]}, ["would try -1.0", "greater than 0"]),
    ({"train.batch_size": {"uniform": [8, 64]}}, ["train.batch_size", "valid integer"]),
    ({"run.name": ["a", "b"]}, ["cannot vary the `run` section"]),
])
def test_a_space_key_that_is_no_setting_is_refused_before_any_trial(tmp_path, space, fragments):
    config = tiny(tmp_path)
    config["tune"]["space"] = space
    with pytest.raises(ConfigError) as error:
        ds.tune(config)
    for fragment in fragments:
        assert fragment in str(error.value)
    assert not list(tmp_path.glob("*-trial*"))  # nothing trained


def test_a_config_without_a_tune_section_or_with_a_bad_study_name(tmp_path):
    config = tiny(tmp_path)
    del config["tune"]
    with pytest.raises(ConfigError, match="no `tune:` section"):
        ds.tune(config)
    with pytest.raises(ConfigError, match="--study"):
        ds.tune(tiny(tmp_path), study="../elsewhere")
    with pytest.raises(ConfigError, match="monitor a val"):
        ds.tune(tiny(tmp_path), {"train.monitor": "train.loss"})


def test_without_optuna_the_message_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    with pytest.raises(UserError, match=r'pip install "deepscope\[tune\]"'):
        ds.tune(tiny(tmp_path))


# --- a search ------------------------------------------------------------------------------------------------
def test_a_search_prunes_bad_trials_tags_every_run_and_writes_a_best_config_that_trains(tmp_path):
    # a learning rate of 1e-5 barely moves in 2 epochs: once one good trial has finished, the median pruner stops
    # each such trial after its first epoch
    config = tiny(tmp_path, trials=6, sampler="random", seed=0, pruner={"name": "median", "startup_trials": 1})
    config["tune"]["space"] = {"train.optimizer.lr": [1e-5, 0.03]}
    result = ds.tune(config)

    study = optuna.load_study(study_name=result.study, storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / f"{result.study}.optuna.journal"))))
    trials = study.get_trials()
    assert result.ran == len(trials) == 6 and sum(result.counts.values()) == 6
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned and result.counts["pruned"] == len(pruned)
    assert all(t.params["train.optimizer.lr"] == 1e-5 and t.user_attrs["pruned_epoch"] == 1 for t in pruned)
    assert result.metric == "val.loss" and result.direction == "minimize"
    assert result.best_params["train.optimizer.lr"] == 0.03

    with RunStore.for_root(tmp_path) as store:
        rows = store.runs(where=[f"tag:study={result.study}"])
    assert len(rows) == 6 and {r["tags"]["trial"] for r in rows} == {str(t.number) for t in trials}
    assert all(r["status"] == "finished" for r in rows)  # a pruned trial is a finished run folder too
    states = {r["tags"]["trial"]: r["tags"]["tune.state"] for r in rows}
    assert {states[str(t.number)] for t in pruned} == {"pruned"}
    for t in pruned:
        folder = tmp_path / t.user_attrs["run"]
        assert (folder / "model" / "weights.safetensors").exists()
        assert json.loads((folder / "tags.json").read_text())["tune.state"] == "pruned"
        epochs = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert [row["epoch"] for row in epochs if "epoch" in row] == [1]  # stopped after its first epoch

    best = yaml.safe_load(result.best_config.read_text())
    assert result.best_config == tmp_path / f"{result.study}-best.yaml"
    assert "tune" not in best and best["train"]["optimizer"]["lr"] == 0.03
    again = ds.train(result.best_config, progress=False)  # the best config trains, to the best trial's value
    assert again.metrics["val"]["loss"] == pytest.approx(result.best_value, rel=1e-4)


def test_a_trial_that_diverges_fails_and_the_search_goes_on(tmp_path):
    config = tiny(tmp_path, trials=2)
    config["tune"]["space"] = {"train.optimizer.lr": [1e30]}  # a valid learning rate that turns the loss NaN
    result = ds.tune(config)
    assert result.counts["failed"] == 2 and result.ran == 2  # both trials ran: a failure does not stop the search
    assert result.best_trial is None and result.best_config is None and not list(tmp_path.glob("*-best.yaml"))
    folders = sorted(tmp_path.glob("*-trial*"))
    assert len(folders) == 2 and all(json.loads((f / "tags.json").read_text())["tune.state"] == "failed"
                                     for f in folders)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(tmp_path / f"{result.study}.optuna.journal")))
    errors = [t.user_attrs["error"] for t in optuna.load_study(study_name=result.study, storage=storage).trials]
    assert all("NaN" in e or "nan" in e for e in errors), errors


def test_no_trial_starts_after_the_timeout(tmp_path):
    result = ds.tune(tiny(tmp_path, trials=5), timeout=1e-6)
    assert result.ran == 0 and result.best_config is None and not list(tmp_path.glob("*-trial*"))


@pytest.mark.distributed  # four interpreters importing torch: about 15 s on a quiet machine, in the default run
def test_two_tune_processes_on_one_storage_never_run_a_trial_twice_and_lose_none(tmp_path):
    """Two `deepscope tune` commands at once on one journal, the first with two worker processes of its own: the
    study ends with exactly the trials asked for (3 + 2), numbered 0-4 once each, each a run folder of its own
    with its own values."""
    config = tmp_path / "digits-tune.yaml"
    config.write_text(yaml.safe_dump(tiny(tmp_path / "runs")))
    storage = tmp_path / "shared.optuna.journal"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    commands = [["--trials", "3", "--jobs", "2"], ["--trials", "2"]]
    processes = [subprocess.Popen([sys.executable, "-m", "deepscope.cli", "tune", str(config), "--study", "shared",
                                   "--storage", str(storage), *extra], cwd=tmp_path, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for extra in commands]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, out + err

    study = optuna.load_study(study_name="shared", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(storage))))
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3, 4]
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    runs = [t.user_attrs["run"] for t in trials]
    assert len(set(runs)) == 5 and all((tmp_path / "runs" / r / "model").is_dir() for r in runs)
    assert len({t.params["train.optimizer.lr"] for t in trials}) == 5  # five trials, five values tried
    tags = [json.loads((tmp_path / "runs" / r / "tags.json").read_text()) for r in runs]
    assert sorted(int(t["trial"]) for t in tags) == [0, 1, 2, 3, 4] and {t["study"] for t in tags} == {"shared"}
    assert len(list((tmp_path / "runs").glob("shared-trial*"))) == 5  # no trial trained a second folder
