"""Hyperparameter search on Optuna: the config's `tune:` section says what to vary (config/tune.py); each trial is
a normal run in the run store; the best trial's config is written out to train with.

    result = deepscope.tune("examples/breastmnist-tune.yaml", trials=30, jobs=2)
    result.best_value, result.best_params, result.counts      # {"complete": 21, "pruned": 8, "failed": 1, ...}
    deepscope.train(result.best_config)                       # RUN_ROOT/STUDY-best.yaml: the config, tuned

The objective is the monitored validation metric (`train.monitor`, default val.loss) of each trial's saved model,
in its direction. `jobs` worker processes on this machine, and any other `deepscope tune` given the same study and
storage (another machine, with a database URL or a journal on a shared folder), add trials to one study: Optuna's
storage hands each its own trial numbers, and the workers of one command share a count, so they run exactly the
trials asked for between them. The torch threads of this process are shared out among its workers.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deepscope.config.loading import load_config
from deepscope.config.overrides import apply_overrides
from deepscope.config.schema import Config
from deepscope.config.tune import TuneConfig, check_study_name
from deepscope.errors import ConfigError, UserError
from deepscope.formats import table_number
from deepscope.io import write_text
from deepscope.run.tune_space import check_space, check_values
from deepscope.run.tune_study import STATES, decoded, describe_storage, import_optuna, open_study, storage_for
from deepscope.run.tune_worker import Job, quiet, value_text, work
from deepscope.training.monitor import default_monitor, mode_of

log = logging.getLogger("deepscope")


@dataclass
class TuneResult:
    """What a search found. `counts` and `trials` are the whole study's (other commands' trials included);
    `ran` the trials this call added."""

    study: str
    storage: str
    metric: str
    direction: str
    ran: int
    counts: dict[str, int]
    best_value: float | None = None
    best_trial: int | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_run: Path | None = None
    best_config: Path | None = None  # RUN_ROOT/STUDY-best.yaml


def tune(config: str | Path | Mapping[str, Any] | Config, overrides: Iterable[str] | Mapping[str, Any] | None = None,
         *, trials: int | None = None, jobs: int | None = None, storage: str | None = None, study: str | None = None,
         timeout: float | None = None) -> TuneResult:
    """Search the config's `tune.space`; each argument given wins over the `tune:` section's own.

    Args:
        config, overrides: as for `deepscope.train`; the config must have a `tune:` section.
        trials: trials to run, all workers together. jobs: worker processes on this machine.
        storage: a database URL or a journal file (default RUN_ROOT/STUDY.optuna.journal).
        study: the study's name (default: the config file's); an existing study gets more trials.
        timeout: seconds after which no trial starts.
    """
    import_optuna()  # before any work: the message naming the extra
    loaded = load_config(config, overrides)
    settings = _settings(loaded, config, trials=trials, jobs=jobs, storage=storage, study=study, timeout=timeout)
    raw = loaded.model_dump(mode="json", exclude_unset=True)  # the config as written: what trials and best YAML use
    check_space(loaded, raw)
    dimensions = settings.dimensions()
    check_values(raw, dimensions)
    metric, direction = objective_of(loaded, settings)
    name, root = settings.study or "study", loaded.run.root
    shared = open_study(name, storage_for(settings.storage, root, name), direction=direction, metric=metric,
                        tune=settings)
    before = len(shared.trials)
    base = remember_config(shared, raw)
    log.info("study %s in %s: %d trials, %s %s, %d worker(s)", name, describe_storage(settings.storage, root, name),
             settings.trials, direction, metric, settings.jobs)
    deadline = None if settings.timeout is None else time.time() + settings.timeout
    job = Job(config=raw, study=name, storage=settings.storage, root=root, metric=metric, direction=direction,
              deadline=deadline, config_key=base)
    run_workers(job, settings.jobs, settings.trials)
    result = summarize(shared, describe_storage(settings.storage, root, name), metric, direction,
                       ran=len(shared.trials) - before, root=root)  # the storage reads what the workers wrote
    if result.best_trial is not None:
        result.best_params = decoded(result.best_params, dimensions)
        # the best trial's own config: the study may hold trials of an earlier, different command
        trained = shared.user_attrs.get(f"config:{shared.best_trial.user_attrs.get('config')}") or without_tune(raw)
        result.best_config = write_best_config(trained, result, Path(root) / f"{name}-best.yaml")
    return result


def _settings(config: Config, source: Any, **given: Any) -> TuneConfig:
    if config.tune is None:
        where = str(source) if isinstance(source, (str, Path)) else "the config"
        raise ConfigError(f"{where} has no `tune:` section, so there is nothing to search; add one, e.g.\n"
                          "tune:\n  space:\n    train.optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}\n"
                          "    model.encoder.dropout: [0.1, 0.3, 0.5]")
    chosen = {k: v for k, v in given.items() if v is not None}
    if chosen.get("study") is not None:
        try:
            check_study_name(chosen["study"])
        except ValueError as error:
            raise ConfigError(f"--study: {error}") from None
    for option in ("trials", "jobs"):
        if option in chosen and chosen[option] < 1:
            raise ConfigError(f"--{option} {chosen[option]}: give 1 or more")
    if "timeout" in chosen and chosen["timeout"] <= 0:
        raise ConfigError(f"--timeout {chosen['timeout']}: give a number of seconds above 0")
    settings = config.tune.model_copy(update=chosen)
    if settings.study is None:
        settings.study = default_study_name(source, config)
    return settings


def default_study_name(source: Any, config: Config) -> str:
    """The config file's name (breastmnist-tune.yaml -> breastmnist-tune), else the data's, as a plain name."""
    stem = Path(source).stem if isinstance(source, (str, Path)) else Path(config.data.source).stem
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).lstrip(".-_")[:100]
    return cleaned or "study"


def objective_of(config: Config, settings: TuneConfig) -> tuple[str, str]:
    """The metric a trial is scored on, and "minimize" or "maximize"."""
    metric = default_monitor(config.train.monitor, has_validation=True)
    if not metric.startswith("val."):
        raise ConfigError(f"train.monitor: {metric}; a search scores each trial on validation data: monitor a val.* "
                          "metric (val.loss, val.accuracy) and keep a validation split (data.split.val)")
    if settings.direction != "auto":
        return metric, settings.direction
    return metric, "minimize" if mode_of(metric) == "min" else "maximize"


def run_workers(job: Job, jobs: int, trials: int) -> None:
    """`jobs` workers (this process alone for one) take `trials` trials between them from a shared count."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch threads or open stores
    remaining = context.Value("i", trials)
    if jobs == 1:
        with _quiet_logs():
            work(job, 0, remaining)
        return
    threads = _threads_each(jobs)
    job = dataclasses.replace(job, threads=threads)
    errors = context.Queue()
    workers = [context.Process(target=work, args=(job, n, remaining, errors), name=f"deepscope-tune-{n}")
               for n in range(jobs)]
    with _environment(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)):
        for worker in workers:
            worker.start()
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: each fails its trial and stops
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()
        raise
    _check_workers(workers, errors)


def _check_workers(workers: list[Any], errors: Any) -> None:
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    if messages:
        raise UserError(messages[0])
    stopped = [f"{w.name} ({w.exitcode})" for w in workers if w.exitcode]
    if stopped:
        raise RuntimeError(f"tune worker(s) stopped with an error: {', '.join(stopped)}; their tracebacks are above, "
                           "and the trials they finished are kept in the study")


def _threads_each(jobs: int) -> int:
    import torch

    return max(1, torch.get_num_threads() // jobs)


@contextmanager
def _environment(**values: str) -> Any:
    """Environment variables set while worker processes start (they read them as they import torch)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _quiet_logs() -> Any:
    """Trials in this process: one line each (run/tune_worker.announce), not every run's own lines."""
    loggers = [logging.getLogger("deepscope"), logging.getLogger("deepscope.tune")]
    levels = [logger.level for logger in loggers]
    quiet()
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def summarize(study: Any, storage: str, metric: str, direction: str, *, ran: int, root: str | Path) -> TuneResult:
    counts = dict.fromkeys(STATES.values(), 0)
    for trial in study.get_trials(deepcopy=False):
        counts[STATES.get(trial.state.name, trial.state.name.lower())] += 1
    result = TuneResult(study.study_name, storage, metric, direction, ran, counts)
    if counts["complete"]:
        best = study.best_trial
        result.best_value, result.best_trial, result.best_params = best.value, best.number, dict(best.params)
        run = best.user_attrs.get("run")
        result.best_run = Path(root) / run if run else None
    return result


def without_tune(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in raw.items() if k != "tune"}


def remember_config(study: Any, raw: dict[str, Any]) -> str:
    """Keep the config this command searches in the study (a user attribute `config:KEY`, once per config), and
    return KEY, which each of its trials records: the best config is then written from the best trial's own
    config, whichever command ran it."""
    base = without_tune(raw)
    key = hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()[:12]
    others = [k for k in study.user_attrs if k.startswith("config:") and k != f"config:{key}"]
    if others:
        log.warning("study %s also holds trials of %d other config(s) (other overrides or edits); each trial's own "
                    "config is kept, and the best config is written from the best trial's", study.study_name,
                    len(others))
    if f"config:{key}" not in study.user_attrs:
        study.set_user_attr(f"config:{key}", base)
    return key


def write_best_config(base: dict[str, Any], result: TuneResult, path: Path) -> Path:
    """`base` (a config without its `tune:` section) with the best trial's values, atomically, checked to load."""
    best = copy.deepcopy(base)
    apply_overrides(best, result.best_params)
    load_config(best)  # what is written trains
    chosen = ", ".join(f"{k}={value_text(v)}" for k, v in result.best_params.items())
    header = (f"# The best trial of study {result.study} ({result.storage}): {result.metric} "
              f"{table_number(result.best_value)}, trial {result.best_trial}, run {result.best_run}\n"
              f"# {summary_counts(result)}. The values it chose: {chosen}\n"
              f"# Train it: deepscope train {path}\n")
    return write_text(path, header + yaml.safe_dump(best, sort_keys=False))


def summary_counts(result: TuneResult) -> str:
    counts = result.counts
    total = sum(counts.values())
    parts = [f"{counts[k]} {k}" for k in ("complete", "pruned", "failed", "running", "waiting") if counts[k]]
    return f"{total} trials in the study ({', '.join(parts) or 'none'}), {result.ran} run now"
