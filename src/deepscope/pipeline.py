"""From a config to a finished run directory: the path the CLI and the Python API share.

    run = deepscope.train("examples/mnist.yaml", overrides={"train.epochs": 2})
    run.metrics["test"]["label.accuracy"], run.dir
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from deepscope.config.loading import config_to_yaml, load_config
from deepscope.config.schema import Config
from deepscope.data.prepare import PreparedData, prepare_data
from deepscope.diagnose import Finding, Record
from deepscope.diagnose.callback import Diagnostics
from deepscope.diagnose.profile import profile_data
from deepscope.errors import UserError
from deepscope.io import append_line, load_tensors, save_tensors, write_json, write_text
from deepscope.models.builder import DeepscopeModel, build_model, load_pretrained
from deepscope.serve.predictor import Predictor, model_description
from deepscope.track.rundir import MODEL_FORMAT, RunDir, environment
from deepscope.training.callbacks import (
    EarlyStopping,
    ExponentialMovingAverage,
    MetricsLogger,
    ModelCheckpoint,
    ProgressBar,
    StoreLogger,
    TensorBoard,
)
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
    resume: str | Path | None = None,
    progress: bool = True,
) -> Run:
    """Train from a config (path, dict or Config) or resume the run directory `resume` from its last checkpoint."""
    run_dir, config = _resolve_run(config, overrides, resume)
    data = prepare_data(config.data)
    model = model_for(config, data)
    for line in data.raw.skipped:
        log.warning("skipped %s", line)
    log.info("%s", describe(config, data, model))
    if run_dir is None:
        run_dir = RunDir.create(config.run.root, config.run.name or _default_name(config))
        write_text(run_dir.config, config_to_yaml(config))
    trainer = trainer_from_config(config, run_dir, progress=progress, data=data)
    write_json(run_dir.env, environment(config.train.seed, trainer.device))
    resume_from = run_dir.last_checkpoint if resume and run_dir.last_checkpoint.exists() else None
    history = trainer.fit(model, data.splits["train"], data.splits.get("val"), resume_from=resume_from)
    if config.train.restore_best and run_dir.best_checkpoint.exists() and "val" in data.splits:
        model.load_state_dict(load_tensors(run_dir.best_checkpoint)[0])  # the best epoch on validation
    save_model(run_dir, model, data, config)
    metrics = {split: trainer.evaluate(model, tensors) for split, tensors in data.splits.items() if split != "train"}
    for split, values in metrics.items():
        append_line(run_dir.metrics, {"split": split, **values})
    if config.data.series is not None:  # forecasting: one-step and full-horizon errors beside naive baselines
        from deepscope.forecasting import evaluate_run

        metrics["forecast"] = evaluate_run(model, data, config, run_dir.metrics, show=progress)
    diagnosis = _finish_diagnostics(trainer, model, data)
    if config.run.report:
        _write_report(run_dir, model, data)
    for callback in trainer.callbacks.callbacks:
        if isinstance(callback, StoreLogger):  # the finished folder: final evaluations, artefacts, status
            callback.finish()
    return Run(run_dir.path, metrics, history, model, data, config, diagnosis)


def _write_report(run_dir: RunDir, model: DeepscopeModel, data: PreparedData) -> None:
    """report.html from the model and data in memory. The run is complete without it (`deepscope report RUN`
    writes it again), so a failure to write it is a warning, not a lost run."""
    from deepscope.report import write_report

    try:
        path = write_report(run_dir.path, model=model, data=data)
    except OSError as error:
        log.warning("report.html could not be written (%s); `deepscope report %s` tries again", error, run_dir.path)
        return
    log.info("report: %s", path)


def _finish_diagnostics(trainer: Trainer, model: DeepscopeModel, data: PreparedData) -> list[Finding]:
    """Judge the whole run with the model as saved; calibration is measured on validation (else test) data."""
    diagnostics = next((c for c in trainer.callbacks.callbacks if isinstance(c, Diagnostics)), None)
    if diagnostics is None:
        return []
    split = "val" if "val" in data.splits else "test" if "test" in data.splits else None
    return diagnostics.finish(model, data.splits.get(split) if split else None, split)


def model_for(config: Config, data: PreparedData) -> DeepscopeModel:
    """The config's model, sized for the data, with initial weights from the config's seed."""
    seed_everything(config.train.seed, deterministic=config.train.deterministic)
    model = build_model(_model_config(config), model_description(data.inputs), model_description(data.outputs))
    load_pretrained(model)
    return model


def describe(config: Config, data: PreparedData, model: DeepscopeModel) -> str:
    """One line for the console: what is trained on what."""
    sizes = ", ".join(f"{split} {n:,}" for split, n in data.sizes().items())
    encoders = ", ".join(type(e).__name__ for e in model.encoders.values())
    parameters = sum(p.numel() for p in model.parameters())
    outputs = ", ".join(f"{n} ({f.type})" for n, f in data.outputs.items())
    return f"data {config.data.source}: {sizes}; model {encoders}, {parameters:,} parameters; predicting {outputs}"


def _resolve_run(config: Any, overrides: Any, resume: str | Path | None) -> tuple[RunDir | None, Config]:
    if resume is None:
        if config is None:
            raise UserError("give a config file to train, or --resume RUN_DIR to continue a run")
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


def trainer_from_config(config: Config, run_dir: RunDir, *, progress: bool = True,
                        data: PreparedData | None = None) -> Trainer:
    t = config.train
    bar = ProgressBar() if progress else None
    callbacks: list[Any] = [bar] if bar else []
    if t.early_stopping:
        callbacks.append(EarlyStopping(t.early_stopping.patience, t.early_stopping.monitor, t.early_stopping.min_delta))
    if t.ema:
        callbacks.append(ExponentialMovingAverage(t.ema))
    if config.diagnose.enabled:
        record = Record(data=profile_data(data)) if data is not None else Record()
        callbacks.append(Diagnostics(every=config.diagnose.every, path=run_dir.diagnosis, live=progress,
                                     console=bar.console if bar else None, skip=config.diagnose.skip,
                                     record=record, finish_at_fit_end=False))
    if config.run.tensorboard:
        callbacks.append(TensorBoard(run_dir.path / "tensorboard"))
    # the run store sits beside the run folders of the root (`deepscope runs`, `deepscope ui`)
    store = StoreLogger(Path(config.run.root) / "runs.sqlite", run_dir.path, config=config.model_dump(mode="json"),
                        tags=config.run.tags)
    # the checkpoint goes last, so it saves every other callback's updated state
    callbacks += [MetricsLogger(run_dir.metrics), store, ModelCheckpoint(run_dir.checkpoints, every_steps=t.checkpoint_every)]
    return Trainer(callbacks=callbacks, **trainer_options(config))


def trainer_options(config: Config) -> dict[str, Any]:
    """The `Trainer` arguments a config's `train:` section stands for (callbacks aside)."""
    t = config.train
    return dict(
        epochs=t.epochs, batch_size=t.batch_size, eval_batch_size=t.eval_batch_size,
        optimizer=t.optimizer.model_dump(exclude_none=True), schedule=t.schedule.model_dump(exclude_none=True),
        grad_clip="auto" if t.grad_clip is None else t.grad_clip, monitor=t.monitor, device=t.device, precision=t.precision,
        seed=t.seed, deterministic=t.deterministic, log_every=t.log_every,
    )


def save_model(run_dir: RunDir, model: DeepscopeModel, data: PreparedData, config: Config) -> None:
    """weights.safetensors + model.json: everything `deepscope.load` needs, and nothing that executes."""
    save_tensors(run_dir.weights, dict(model.state_dict()))
    spec = {
        "format": MODEL_FORMAT,
        "model": _model_config(config),
        "inputs": {n: f.state() for n, f in data.inputs.items()},
        "outputs": {n: f.state() for n, f in data.outputs.items()},
        "versions": {"torch": torch.__version__},
        "source": config.data.source,
    }
    write_json(run_dir.model_json, spec)


def load(path: str | Path, device: str = "cpu") -> Predictor:
    """A predictor for a finished run directory (or its model/ folder)."""
    return Predictor.load(path, device)

