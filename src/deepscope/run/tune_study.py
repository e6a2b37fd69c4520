"""The Optuna side of a search: where a study is kept, its sampler and pruner, and how a dimension is sampled.
The one module (with run/tune_worker.py) that imports optuna, which is an extra: `pip install "deepscope[tune]"`.

Storage. By default a study lives in a journal file in the run root, RUN_ROOT/STUDY.optuna.journal (Optuna's
JournalFileBackend): each change is one JSON line appended under a lock file, so any number of processes on this
machine (or on machines sharing the folder over NFS, where SQLite's fcntl locks are not to be trusted) add trials
to one study safely, and nothing loaded from it is unpickled. The lock is `JournalFileOpenLock` (an O_EXCL
create, which every file system has; symlinks are not everywhere). SQLite through `--storage sqlite:///x.db` also
works, but it serialises writers with a database-wide lock that Optuna's docs warn against under parallel
workers. A cluster gives a database URL (postgresql://, mysql://): Optuna's RDBStorage, with heartbeats, so a
trial whose machine died is marked failed instead of running forever.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

from deepscope.config.tune import Dimension, PrunerConfig, TuneConfig
from deepscope.errors import UserError
from deepscope.io import resolves_inside

JOURNAL_SUFFIX = ".optuna.journal"
HEARTBEAT_SECONDS, GRACE_SECONDS = 60, 180  # a database trial not heard from in 3 minutes has failed
MISSING = 'hyperparameter search needs Optuna: pip install "deepscope[tune]"'
# Optuna's trial states, as deepscope names them (counts, the dashboard, the `tune.state` tag of a trial's run)
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


def import_optuna() -> Any:
    """optuna, quiet (the search prints its own line per trial), or a UserError naming the extra to install."""
    try:
        import optuna
    except ImportError:
        raise UserError(MISSING) from None
    optuna.logging.set_verbosity(logging.ERROR)  # not its line per trial, nor its warning for a failed one
    return optuna


def journal_path(root: str | Path, study: str) -> Path:
    return Path(root) / f"{study}{JOURNAL_SUFFIX}"


def storage_for(spec: str | None, root: str | Path, study: str) -> Any:
    """The Optuna storage `spec` names: a database URL (it has "://"), a journal file's path, or None for the
    study's journal file in the run root."""
    optuna = import_optuna()
    if spec is not None and "://" in spec:
        options: dict[str, Any] = {"heartbeat_interval": HEARTBEAT_SECONDS, "grace_period": GRACE_SECONDS}
        if spec.startswith("sqlite"):  # writers queue on SQLite's lock: wait for it rather than fail at once
            options["engine_kwargs"] = {"connect_args": {"timeout": 60}}
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's words, and stable in use
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(spec, **options)
        except Exception as error:  # a driver missing, a server down, a bad URL: the user's to fix
            raise UserError(f"--storage {spec}: cannot open the study storage ({type(error).__name__}: "
                            f"{str(error).splitlines()[0][:300] if str(error) else ''})") from None
    path = Path(spec) if spec is not None else journal_path(root, study)
    if path.is_symlink():  # the lock file beside it would be made wherever the link points
        raise UserError(f"study storage {path} is a link; give the journal file itself")
    path.parent.mkdir(parents=True, exist_ok=True)
    journal = optuna.storages.journal
    return optuna.storages.JournalStorage(journal.JournalFileBackend(str(path), journal.JournalFileOpenLock(str(path))))


def describe_storage(spec: str | None, root: str | Path, study: str) -> str:
    """Where the study is, for the console; a database URL without its password."""
    if spec is None or "://" not in spec:
        return str(Path(spec) if spec else journal_path(root, study))
    scheme, _, rest = spec.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}" if "@" in rest else spec


def sampler_for(tune: TuneConfig, worker: int) -> Any:
    """TPE (with the constant liar: a worker counts the trials others are running as bad, so parallel workers do
    not all sample the same promising point) or random. A seed is offset by the worker's number, since workers
    with one seed would draw the same first trials."""
    optuna = import_optuna()
    seed = None if tune.seed is None else tune.seed + worker
    if tune.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def pruner_for(pruner: PrunerConfig) -> Any:
    optuna = import_optuna()
    if pruner.name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=pruner.startup_trials, n_warmup_steps=pruner.warmup_epochs)
    if pruner.name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=pruner.min_epochs or "auto",
                                                      reduction_factor=pruner.reduction_factor)
    return optuna.pruners.NopPruner()


def open_study(name: str, storage: Any, *, direction: str, metric: str, tune: TuneConfig, worker: int = 0) -> Any:
    """The study `name` in `storage`, made if new. One that exists must optimise the same metric the same way."""
    optuna = import_optuna()
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction=direction, load_if_exists=True,
                                    sampler=sampler_for(tune, worker), pruner=pruner_for(tune.pruner))
    except ValueError as error:  # e.g. a study of this name with another direction
        raise UserError(f"study {name}: {error}; give another --study") from None
    known = study.user_attrs.get("metric")
    if study.direction.name.lower() != direction or known not in (None, metric):
        raise UserError(f"study {name} already {study.direction.name.lower()}s {known or 'another metric'}, but this "
                        f"config's objective is to {direction} {metric}; give another --study for this search")
    if known is None:
        study.set_user_attr("metric", metric)
    return study


def suggest(trial: Any, key: str, dimension: Dimension) -> Any:
    """The value `trial` tries for `key`. A choice of lists (filter sizes) is offered to Optuna by position, since
    its choices must be plain values; the value itself is what the trial trains with."""
    if dimension.kind == "choice":
        if dimension.scalar_choices:
            return trial.suggest_categorical(key, list(dimension.choices))
        labels = [_label(c) for c in dimension.choices]
        return dimension.choices[labels.index(trial.suggest_categorical(key, labels))]
    if dimension.kind == "int":
        return trial.suggest_int(key, int(dimension.low), int(dimension.high), step=int(dimension.step or 1),
                                 log=dimension.log)
    return trial.suggest_float(key, dimension.low, dimension.high, step=dimension.step, log=dimension.log)


def decoded(params: dict[str, Any], dimensions: dict[str, Dimension]) -> dict[str, Any]:
    """A trial's params as config values: a choice offered by its label becomes the value again."""
    values = dict(params)
    for key, dimension in dimensions.items():
        if key in values and dimension.kind == "choice" and not dimension.scalar_choices:
            labels = [_label(c) for c in dimension.choices]
            values[key] = dimension.choices[labels.index(values[key])] if values[key] in labels else values[key]
    return values


def _label(choice: Any) -> str:
    return json.dumps(choice, sort_keys=True)


def studies_in(root: str | Path) -> list[str]:
    """The studies kept in journal files in the run root (the default storage), by name; links are left out."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.glob(f"*{JOURNAL_SUFFIX}") if p.is_file() and not p.is_symlink()
             and resolves_inside(p, root)]
    return sorted(p.name[: -len(JOURNAL_SUFFIX)] for p in found)
