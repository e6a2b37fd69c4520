"""One worker of a search: it takes trials of the shared study one at a time until the search's trials are all
claimed or its time is up. `deepscope tune --jobs N` runs N of these in their own processes; on one core or with
--jobs 1, one runs in the command's own process.

A trial is one `deepscope.train` of the config with the trial's values as overrides, named STUDY-trialNNN and
tagged `study` and `trial` in the run store. The pruner is asked after each epoch (the TrialPruning callback); a
pruned trial still ends as a finished run folder (saved, evaluated), tagged `tune.state: pruned`. A trial that
fails on its values (a loss that turns NaN at a high learning rate) is failed in the study and the search goes
on; a mistake that would fail every trial (a monitored metric the model does not report) stops it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepscope.config.echo import cut
from deepscope.config.loading import load_config
from deepscope.config.tune import Dimension
from deepscope.errors import ConfigError, UserError
from deepscope.formats import table_number
from deepscope.run.tune_study import import_optuna, open_study, storage_for, suggest
from deepscope.training.callbacks import TrialPruning

log = logging.getLogger("deepscope.tune")


class TrialFailed(Exception):
    """A trial's values made its training fail (the study records it as failed and goes on)."""


@dataclass(frozen=True)
class Job:
    """What every worker of one search shares (picklable: it crosses to worker processes)."""

    config: dict[str, Any]  # the config as given, overrides applied, its `tune` section included
    study: str
    storage: str | None  # a database URL or a journal path; None: the journal file in the run root
    root: str
    metric: str  # the objective: the monitored validation metric, e.g. val.loss
    direction: str  # minimize | maximize
    deadline: float | None = None  # time.time() after which no trial starts
    threads: int | None = None  # torch threads of a worker process (the cores shared out); None: leave as is
    config_key: str | None = None  # the study's user attribute config:KEY that holds this config (run/tune.py)


def claim(remaining: Any, deadline: float | None) -> bool:
    """Take one of the search's trials from the shared count (a multiprocessing.Value), unless none are left or
    time is up: the workers together run exactly the trials asked for, however long each one takes."""
    if deadline is not None and time.time() >= deadline:
        return False
    with remaining.get_lock():
        if remaining.value <= 0:
            return False
        remaining.value -= 1
        return True


def work(job: Job, worker: int, remaining: Any, errors: Any = None) -> None:
    """Run trials until `claim` says stop. In a worker process (`errors` a queue), a user's mistake is sent to the
    parent to print, and the process exits with 2."""
    if errors is not None:  # a process of its own: its console lines carry its number
        _quiet_console(f"[worker {worker}] ")
        if job.threads:
            import torch

            torch.set_num_threads(job.threads)
    try:
        _trials(job, worker, remaining)
    except UserError as error:
        if errors is None:
            raise
        errors.put(cut(str(error), 4000))
        raise SystemExit(2) from None


def _trials(job: Job, worker: int, remaining: Any) -> None:
    optuna = import_optuna()
    config = load_config(job.config)
    assert config.tune is not None
    study = open_study(job.study, storage_for(job.storage, job.root, job.study), direction=job.direction,
                       metric=job.metric, tune=config.tune, worker=worker)
    objective = Objective(job, config.tune.dimensions(), optuna)
    while claim(remaining, job.deadline):
        study.optimize(objective, n_trials=1, catch=(TrialFailed,), callbacks=[announce])


class Objective:
    """A trial: train the config with the trial's values; its value is the saved model's validation metric."""

    def __init__(self, job: Job, dimensions: dict[str, Dimension], optuna: Any):
        self.job, self.dimensions, self.optuna = job, dimensions, optuna

    def __call__(self, trial: Any) -> float:
        from deepscope.run.train import train

        job = self.job
        values = {key: suggest(trial, key, dimension) for key, dimension in self.dimensions.items()}
        name = f"{job.study}-trial{trial.number:03d}"
        overrides = {**values, "tune": None, "run.name": name, "run.tags.study": job.study,
                     "run.tags.trial": str(trial.number)}
        pruning = TrialPruning(lambda epoch, value: _pruned(trial, epoch, value))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # which machine and process ran it
        try:
            run = train(job.config, overrides, progress=False, callbacks=[pruning])
        except UserError as error:  # the loss turned NaN at this learning rate; values refused together (each
            raise self._failed(trial, name, error) from error  # alone was checked before the search began)
        trial.set_user_attr("run", run.dir.name)
        if job.config_key:
            trial.set_user_attr("config", job.config_key)
        value = objective_value(run.metrics, job.metric)
        pruned = pruning.pruned_epoch is not None
        tag_run(run.dir, {"tune.state": "pruned" if pruned else "complete", "tune.value": f"{value:.6g}"})
        if pruned:
            trial.set_user_attr("pruned_epoch", pruning.pruned_epoch)
            trial.set_user_attr("value", value)  # the saved model's, though the study keeps none for a pruned trial
            raise self.optuna.TrialPruned(f"pruned after epoch {pruning.pruned_epoch}")
        return value

    def _failed(self, trial: Any, name: str, error: UserError) -> TrialFailed:
        trial.set_user_attr("error", cut(str(error), 500))
        for folder in Path(self.job.root).glob(f"{name}-2*"):  # its run folder, if it got that far
            tag_run(folder, {"tune.state": "failed"})
        return TrialFailed(str(error).splitlines()[0][:300])


def _pruned(trial: Any, epoch: int, value: float) -> bool:
    trial.report(value, step=epoch)
    return trial.should_prune()


def objective_value(metrics: dict[str, dict[str, Any]], metric: str) -> float:
    """`val.loss` -> metrics["val"]["loss"], the saved model's final evaluation on validation data."""
    split, _, name = metric.partition(".")
    found = metrics.get(split) or {}
    value = found.get(name)
    if not found:
        raise ConfigError(f"the search's objective {metric} needs validation data, and this data has no validation "
                          "split: keep data.split.val above 0 (e.g. 0.1)")
    if not isinstance(value, (int, float)):
        listed = ", ".join(f"{split}.{k}" for k, v in found.items() if isinstance(v, (int, float)))
        raise ConfigError(f"train.monitor: the search's objective {metric} is not among the model's validation "
                          f"metrics ({listed}); monitor one of them")
    return float(value)


def tag_run(folder: Path, tags: dict[str, str]) -> None:
    """Tags on a trial's run, in the run store and its tags.json; a store that fails is a warning (the run stays)."""
    from deepscope.track.store import RunStore

    try:
        with RunStore.for_root(folder.parent) as store:
            store.set_tags(folder, tags)
    except Exception as error:  # the run store is an index: a trial is not lost for it (deepscope runs reindex)
        log.warning("could not tag %s in the run store (%s: %s)", folder.name, type(error).__name__, error)


def announce(study: Any, trial: Any) -> None:
    """One console line per finished trial: its state, value, values tried and the best so far."""
    state = trial.state.name.lower()
    shown = trial.value if trial.value is not None else trial.user_attrs.get("value")
    value = f"{study.user_attrs.get('metric', 'value')} {table_number(shown)}" if shown is not None else ""
    where = f"after epoch {trial.user_attrs['pruned_epoch']}" if "pruned_epoch" in trial.user_attrs else ""
    error = trial.user_attrs.get("error", "").splitlines()[0] if state == "fail" else ""
    params = ", ".join(f"{key}={value_text(v)}" for key, v in trial.params.items())
    try:
        best = f"best {table_number(study.best_value)} (trial {study.best_trial.number})"
    except ValueError:  # no trial has finished yet
        best = ""
    parts = [f"trial {trial.number} {'failed' if state == 'fail' else state}", where, value, error, params, best]
    log.info("%s", " · ".join(p for p in parts if p))


def value_text(value: Any) -> str:
    """A value tried, short: 0.003162 rather than 0.0031622776601683794 (and 0.3 rather than a score's 0.3000)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _quiet_console(prefix: str) -> None:
    """In a worker process: warnings of training and this module's lines per trial, not every run's own lines."""
    logging.basicConfig(level=logging.WARNING, format=f"{prefix}%(message)s", force=True)
    quiet()


def quiet() -> None:
    logging.getLogger("deepscope").setLevel(logging.WARNING)
    log.setLevel(logging.INFO)
