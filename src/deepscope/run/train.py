"""From a config to a finished run directory: the path the CLI and the Python API share.

    run = deepscope.train("examples/mnist.yaml", overrides={"train.epochs": 2})
    run.metrics["test"]["accuracy"], run.dir, run.diagnosis
    run = deepscope.train(resume="runs/mnist-20261123-214500")      # continue a killed run
    run = deepscope.train("data.csv", target="price")                # no config: everything inferred
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepscope.config.loading import config_to_yaml, load_config
from deepscope.config.schema import Config
from deepscope.data.features import describe_features
from deepscope.data.prepare import PreparedData, prepare_data
from deepscope.diagnose import Finding
from deepscope.diagnose.callback import Diagnostics
from deepscope.errors import UserError
from deepscope.io import append_line, write_text
from deepscope.models.builder import DeepscopeModel, build_model, load_pretrained
from deepscope.models.predictor import Predictor
from deepscope.models.saving import save_model
from deepscope.report import write_report
from deepscope.run.forecast import evaluate_run as evaluate_forecast_run
from deepscope.run.from_data import config_or_data
from deepscope.run.launch import announce_run_dir
from deepscope.run.phases import mark  # DEEPSCOPE_PROFILE phase timings (bench/command_breakdown.py)
from deepscope.run.recipe import trainer_for
from deepscope.run.resolved import resolved_config
from deepscope.track.rundir import RunDir, write_environment
from deepscope.training.callbacks import Callback, StoreLogger
from deepscope.training.distributed import SingleDevice, strategy_for
from deepscope.training.trainer import Trainer, seed_everything

log = logging.getLogger("deepscope")


@dataclass
class Run:
    """A finished run: its directory, final metrics by split, per-epoch history and the trained model."""

    dir: Path
    metrics: dict[str, dict[str, Any]]
    history: list[dict[str, Any]]
    model: DeepscopeModel
    data: PreparedData
    config: Config
    diagnosis: list[Finding] = field(default_factory=list)  # what the diagnostics found, worst first

    def predictor(self) -> Predictor:
        return Predictor(self.model, self.data.inputs, self.data.outputs)


def train(
    config: str | Path | Mapping[str, Any] | Config | None = None,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    target: str | None = None,
    resume: str | Path | None = None,
    progress: bool = True,
    callbacks: Iterable[Callback] = (),
) -> Run | None:
    """Train from a config (path, dict or Config) or resume the run directory `resume` from its last checkpoint.

    Args:
        config: the config; or data with no config (a CSV/TSV table, an .npz file, a folder of class
            sub-folders, a builtin dataset's name), everything inferred (`deepscope.run.from_data`); with
            `resume`, None (the run's own config.yaml is used).
        overrides: dotted keys and values on top (`{"train.epochs": 2}` or `["train.epochs=2"]`).
        target: with data and no config, the column to predict (a table needs it).
        resume: a run directory to continue on the same trajectory.
        progress: show progress and live diagnostics on the console.
        callbacks: more callbacks, run before the config's own (a search's trial pruning: run/tune.py).

    The run folder is locked while this process trains in it: another process training in it (a second
    `--resume`) is refused with a UserError naming this one's PID.

    Started by torchrun as one of N processes, it trains with DDP (`deepscope.training.distributed`): every rank
    prepares the same data and trains on its part of each batch; rank 0 alone writes the run and returns it, the
    other ranks return None.
    """
    mark("imports")  # profile: interpreter, imports and the command line up to here
    run_dir, config = resolve_run(config, overrides, target=target, resume=resume)
    strategy = strategy_for(config.train.device)
    if not strategy.is_main:
        log.setLevel(logging.WARNING)  # rank 0 says what happens, once
    with ExitStack() as held:
        held.callback(strategy.close)
        if run_dir is not None and strategy.is_main:  # a resume: the run is this process's before anything else
            held.enter_context(_training_in(run_dir))
        data = prepare_data(config.data)
        mark("data")  # profile
        config = resolved_config(config, data)  # what inference chose, written down: config.yaml trains it again
        model = model_for(config, data)
        log.info("%s", describe(config, data, model))
        # the device, the precision and the optimizer's and schedule's options, refused before a folder exists
        trainer_for(config, strategy=strategy).check_optimization(model)
        if run_dir is None and strategy.is_main:
            run_dir = RunDir.create(config.run.root, config.run.name or _default_name(config))
            held.enter_context(_training_in(run_dir))  # locked at once: a new folder is never written unlocked
            write_text(run_dir.config, config_to_yaml(config))
            announce_run_dir(run_dir.path)
        mark("model")  # profile
        return _fit_and_finish(run_dir, config, data, model, strategy, resume=resume is not None,
                               progress=progress, callbacks=callbacks)


@contextmanager
def _training_in(run_dir: RunDir) -> Iterator[None]:
    """Hold the run's lock for as long as this process trains in it (a second `--resume` is refused, naming this
    process), and clear the temporary files a killed run left, at the start and again at a finished run's end."""
    with run_dir.lock():
        _remove_stale_temp_files(run_dir)
        yield
        _remove_stale_temp_files(run_dir)


def _remove_stale_temp_files(run_dir: RunDir) -> None:
    if removed := run_dir.remove_stale_temp_files():
        log.info("removed %d temporary file(s) left by a stopped run: %s", len(removed),
                 ", ".join(str(p.relative_to(run_dir.path)) for p in removed[:5]))


def _fit_and_finish(run_dir: RunDir | None, config: Config, data: PreparedData, model: DeepscopeModel,
                    strategy: SingleDevice, *, resume: bool, progress: bool, callbacks: Iterable[Callback] = ()
                    ) -> Run | None:
    """Train in the locked `run_dir` (from its last checkpoint on a resume), then save, evaluate, diagnose and
    report. Under DDP the ranks train and evaluate together; rank 0 alone writes (on a new run `run_dir` is None
    elsewhere) and goes on to the diagnosis and the report by itself."""
    main = strategy.is_main
    trainer = trainer_for(config, run_dir if main else None, progress=progress and main, data=data,
                          strategy=strategy)
    trainer.callbacks.callbacks[:0] = list(callbacks)  # the caller's own first: the recipe's checkpoint stays last
    if main:
        write_environment(run_dir, config.train.seed, trainer.device)
    resume_from = run_dir.last_checkpoint if resume and run_dir.last_checkpoint.exists() else None
    mark("callbacks")  # profile: the trainer and its callbacks (the diagnostics' data profile)
    # with train.restore_best, the checkpoint callback leaves the best epoch on validation in `model`
    history = trainer.fit(model, data.splits["train"], data.splits.get("val"), resume_from=resume_from)
    mark("fit")  # profile
    if main:
        save_model(run_dir.model_dir, model, data.inputs, data.outputs, model_config=_model_config(config),
                   source=config.data.source)
    with _calibration_outputs_kept(trainer, model, data):  # the diagnostics' calibration reuses this pass
        metrics = {split: trainer.evaluate(model, tensors) for split, tensors in data.splits.items()
                   if split != "train"}
    trainer.strategy = strategy.alone()  # the ranks are done together: rank 0 goes on by itself
    if not main:
        return None
    for split, values in metrics.items():
        append_line(run_dir.metrics, {"split": split, **values})
    mark("evaluation")  # profile: the model saved, then val/test evaluated
    if config.data.series is not None:  # forecasting: one-step and full-horizon errors beside naive baselines
        metrics["forecast"] = evaluate_forecast_run(model, data, config, run_dir.metrics, show=progress)
    diagnosis = _finish_diagnostics(trainer, model, data)
    mark("diagnostics")  # profile
    if config.run.report:
        _write_report(run_dir, model, data)
    mark("report")  # profile
    for callback in trainer.callbacks.callbacks:
        if isinstance(callback, StoreLogger):  # the finished folder: final evaluations, artefacts, status
            callback.finish()
    mark("store")  # profile
    return Run(run_dir.path, metrics, history, model, data, config, diagnosis)


def _write_report(run_dir: RunDir, model: DeepscopeModel, data: PreparedData) -> None:
    """report.html from the model and data in memory. The run is complete without it (`deepscope report RUN`
    writes it again), so a failure to write it is a warning, not a lost run."""
    try:
        path = write_report(run_dir.path, model=model, data=data)
    except OSError as error:
        log.warning("report.html could not be written (%s); `deepscope report %s` tries again", error, run_dir.path)
        return
    log.info("report: %s", path)


def _finish_diagnostics(trainer: Trainer, model: DeepscopeModel, data: PreparedData) -> list[Finding]:
    """Judge the whole run with the model as saved; calibration is measured on validation (else test) data."""
    diagnostics, split = _diagnostics(trainer), _calibration_split(data)
    if diagnostics is None:
        return []
    return diagnostics.finish(model, data.splits.get(split) if split else None, split)


def _calibration_outputs_kept(trainer: Trainer, model: DeepscopeModel, data: PreparedData) -> AbstractContextManager:
    """While inside, the model's outputs on the calibration split are kept for `_finish_diagnostics` (a second
    pass over it saved: `deepscope.diagnose.kept_outputs`)."""
    diagnostics, split = _diagnostics(trainer), _calibration_split(data)
    return diagnostics.keeping_outputs(model, data.splits[split]) if diagnostics and split else nullcontext()


def _diagnostics(trainer: Trainer) -> Diagnostics | None:
    return next((c for c in trainer.callbacks.callbacks if isinstance(c, Diagnostics)), None)


def _calibration_split(data: PreparedData) -> str | None:
    return "val" if "val" in data.splits else "test" if "test" in data.splits else None


def model_for(config: Config, data: PreparedData) -> DeepscopeModel:
    """The config's model, sized for the data, with initial weights from the config's seed and any pretrained
    layers (GloVe vectors) filled in: what every workflow that trains starts from."""
    seed_everything(config.train.seed, deterministic=config.train.deterministic)
    model = build_model(_model_config(config), describe_features(data.inputs), describe_features(data.outputs))
    load_pretrained(model)
    return model


def describe(config: Config, data: PreparedData, model: DeepscopeModel) -> str:
    """One line for the console: what is trained on what."""
    sizes = ", ".join(f"{split} {n:,}" for split, n in data.sizes().items())
    bodies = model.encoders.values() if hasattr(model, "encoders") else [model.body]  # a language model: its body
    encoders = ", ".join(type(e).__name__ for e in bodies)
    parameters = sum(p.numel() for p in model.parameters())
    outputs = ", ".join(f"{n} ({f.type})" for n, f in data.outputs.items())
    return f"data {config.data.source}: {sizes}; model {encoders}, {parameters:,} parameters; predicting {outputs}"


def resolve_run(config: Any, overrides: Any = None, *, target: str | None = None, resume: str | Path | None = None
                ) -> tuple[RunDir | None, Config]:
    """The run folder to continue (None for a new run) and the config to train: what `train` checks first, and
    what `deepscope train --devices N` checks once before it starts its processes."""
    config = config_or_data(config, target)
    if resume is None:
        if config is None:
            raise UserError("give a config file or data to train on (deepscope train data.csv --target COLUMN), "
                            "or --resume RUN_DIR to continue a run")
        return None, load_config(config, overrides)
    run_dir = RunDir(Path(resume))
    if not run_dir.config.exists():
        raise UserError(f"--resume {resume}: not a run directory (config.yaml is missing)")
    if not run_dir.last_checkpoint.exists():
        log.warning("%s has no checkpoint yet; training starts from the beginning", resume)
    return run_dir, load_config(run_dir.config, overrides)


def _model_config(config: Config) -> dict[str, Any]:
    return config.model.model_dump(mode="json", exclude_none=True)


def _default_name(config: Config) -> str:
    source = Path(config.data.source)
    return source.stem if source.suffix else source.name or "run"
