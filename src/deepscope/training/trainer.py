"""The training loop: `fit`, `evaluate`, `predict`, with `train_step` as the one override point.

The loop reads straight through; progress, checkpoints, early stopping and logging are callbacks. It never
syncs with the device inside a step: the loss is accumulated on the device and read every `log_every` steps.

    trainer = Trainer(epochs=3, optimizer="adam", lr=1e-3, callbacks=[EarlyStopping(patience=2)])
    history = trainer.fit(model, train_data, val_data)
    trainer.evaluate(model, test_data)   # {"loss": ..., "accuracy": ...}: one output's metrics by their own names

Every default is the config's (`deepscope.config.schema.TrainConfig`), so `Trainer()` trains as a config with an
empty `train:` section does, and `Trainer.from_config(config.train)` as that section says.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError
from torch import nn

from deepscope.config.loading import format_validation_error
from deepscope.config.schema import TrainConfig
from deepscope.data.dataset import as_data
from deepscope.errors import ConfigError, UserError
from deepscope.metrics import metric_key
from deepscope.training.callbacks.base import Callback, CallbackList
from deepscope.training.checkpoint import read_checkpoint, restore_checkpoint, restoring, save_checkpoint
from deepscope.training.compiling import CompileClock, compiled
from deepscope.training.distributed import SingleDevice, Strategy, resolve_device
from deepscope.training.length import training_length
from deepscope.training.monitor import default_monitor, mode_of
from deepscope.training.optim import Schedule, build_optimizer, build_schedule
from deepscope.training.precision import get_precision
from deepscope.training.task import task_for

log = logging.getLogger("deepscope")
Batch = dict[str, torch.Tensor]
DEFAULTS = TrainConfig()  # the one place the training recipe's defaults are written


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""

    diverged = True


RECURRENT_GRAD_CLIP = 1.0  # recurrent nets multiply gradients through every time step: clip them by default


def resolve_grad_clip(limit: float | None, model: nn.Module) -> float | None:
    """The global gradient-norm limit: a number; 0 for off; None for the default, which clips recurrent models
    (anything with an `nn.RNNBase`) at 1.0 and leaves the others alone."""
    if limit is None:
        return RECURRENT_GRAD_CLIP if any(isinstance(m, nn.RNNBase) for m in model.modules()) else None
    return float(limit) if limit else None


class Trainer:
    """Trains any `torch.nn.Module`: a deepscope model (which knows its losses and metrics) or a plain module
    with a `loss`.

    Args:
        epochs: passes over the training data; None (default): chosen from the training set's size in `fit`,
            enough for at least 1,000 optimizer steps (`deepscope.training.length`).
        batch_size: examples per optimizer step; None (default): 128, less for tiny data; `eval_batch_size` for
            evaluation (default max(batch_size, 512)).
        optimizer: a name (adam, adamw, sgd, rmsprop) or a dict with `name` and its options (`momentum`, ...).
        lr, weight_decay: the optimizer's peak learning rate and weight decay (a dict's own values win).
        schedule: a name (onecycle, cosine, step, plateau, constant) or a dict with `name` and options; None for
            a constant rate.
        grad_clip: clip the global gradient norm to this; 0 turns clipping off; None (default) clips recurrent
            models at 1.0 and leaves the others alone, as `train.grad_clip` does in a config.
        loss: for a plain module: cross_entropy, bce, mse, huber, mae, or a function (outputs, targets) -> loss.
        callbacks: everything optional (progress, early stopping, checkpoints, diagnostics, logging).
        monitor: the metric that decides "better" (default val.loss, or train.loss without validation data).
        device: auto (CUDA when there is a GPU), cpu, cuda, cuda:1, mps. Ignored when `strategy` is given.
        precision: fp32, bf16 or fp16 (autocast; fp16 with loss scaling).
        seed, deterministic: the seed of every generator, and whether to ask torch for deterministic kernels.
        log_every: steps between the loss readings that progress, logging and NaN checks see.
        compile: train through `torch.compile`; each epoch then logs `compile_time` apart from its `time`.
        strategy: where and how training runs (default: `SingleDevice` on `device`).

    The config's early_stopping, ema, restore_best and checkpoint_every are callbacks (`EarlyStopping`,
    `ExponentialMovingAverage`, `ModelCheckpoint`); `deepscope.run.recipe.callbacks_for(config)` builds them.

    Example:
        >>> trainer = Trainer(epochs=2, loss="cross_entropy", lr=3e-3)
        >>> history = trainer.fit(nn.Linear(4, 3), (torch.randn(64, 4), torch.randint(0, 3, (64,))))
        >>> sorted(history[-1])
        ['epoch', 'lr', 'time', 'train.loss']
    """

    def __init__(
        self,
        *,
        epochs: int | None = DEFAULTS.epochs,
        batch_size: int | None = DEFAULTS.batch_size,
        eval_batch_size: int | None = DEFAULTS.eval_batch_size,
        optimizer: str | Mapping[str, Any] = DEFAULTS.optimizer.name,
        lr: float = DEFAULTS.optimizer.lr,
        weight_decay: float = DEFAULTS.optimizer.weight_decay,
        schedule: str | Mapping[str, Any] | None = DEFAULTS.schedule.name,
        grad_clip: float | None = DEFAULTS.grad_clip,
        loss: Any = None,
        callbacks: Iterable[Callback] = (),
        monitor: str | None = DEFAULTS.monitor,
        device: str = DEFAULTS.device,
        precision: str = DEFAULTS.precision,
        seed: int = DEFAULTS.seed,
        deterministic: bool = DEFAULTS.deterministic,
        log_every: int = DEFAULTS.log_every,
        compile: bool = DEFAULTS.compile,
        strategy: Strategy | None = None,
    ):
        self.epochs_spec, self.batch_size_spec = epochs, batch_size  # None: chosen from the data in fit
        self.epochs, self.batch_size = epochs, batch_size
        self.eval_batch_size = eval_batch_size or max(batch_size or 0, 512)
        self.optimizer_spec = {"name": optimizer} if isinstance(optimizer, str) else dict(optimizer)
        self.optimizer_spec.setdefault("lr", lr)
        self.optimizer_spec.setdefault("weight_decay", weight_decay)
        self.schedule_spec = dict(schedule) if isinstance(schedule, Mapping) else {"name": schedule or "constant"}
        self.grad_clip_spec, self.loss_spec, self.monitor_spec = grad_clip, loss, monitor
        self.grad_clip: float | None = None  # resolved in fit: the default depends on the model
        self.callbacks = CallbackList(list(callbacks))
        self.strategy = strategy or SingleDevice(resolve_device(device))
        self.precision = get_precision(precision, self.strategy.device)
        self.seed, self.deterministic, self.log_every = seed, deterministic, log_every
        self.compile, self.compile_clock = compile, CompileClock()
        self.epoch = self.global_step = self.batch_in_epoch = 0
        self.history: list[dict[str, float]] = []
        self.should_stop = False  # a callback sets it to end training after the current step
        self.model: nn.Module | None = None
        self.eval_model: nn.Module | None = None  # what validation uses: the model, or e.g. its weight average
        self.last_loss: torch.Tensor | None = None  # the last step's loss, on the device (reading it syncs)

    @classmethod
    def from_config(cls, train: TrainConfig | Mapping[str, Any] | None = None, **options: Any) -> Trainer:
        """The trainer a config's `train:` section describes (a TrainConfig or its dict); `options` (callbacks,
        loss, strategy, or any setting) are added, or win over the section.

            trainer = Trainer.from_config({"epochs": 3, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}})
        """
        t = train if isinstance(train, TrainConfig) else _train_config(train or {})
        settings = dict(
            epochs=t.epochs, batch_size=t.batch_size, eval_batch_size=t.eval_batch_size,
            optimizer=t.optimizer.model_dump(exclude_none=True), schedule=t.schedule.model_dump(exclude_none=True),
            grad_clip=t.grad_clip, monitor=t.monitor, device=t.device, precision=t.precision, seed=t.seed,
            deterministic=t.deterministic, log_every=t.log_every, compile=t.compile,
        )
        return cls(**{**settings, **options})

    @property
    def device(self) -> torch.device:
        return self.strategy.device

    # --- fit ---------------------------------------------------------------------------------------------
    def check_optimization(self, model: nn.Module) -> None:
        """Build the optimizer and the schedule once over `model`, as `fit` will: an option torch refuses
        (`betas: 3`) or a schedule's wrong value is refused before a run folder exists, not after."""
        self._schedule_for(self._optimizer_for(model), "min", epochs=2, steps_per_epoch=10)

    def _optimizer_for(self, model: nn.Module) -> torch.optim.Optimizer:
        options = {k: v for k, v in self.optimizer_spec.items() if k != "name"}
        return build_optimizer(model, self.optimizer_spec.get("name") or DEFAULTS.optimizer.name, **options)

    def _schedule_for(self, optimizer: torch.optim.Optimizer, mode: str, *, epochs: int,
                      steps_per_epoch: int) -> Schedule:
        spec = dict(self.schedule_spec)
        if spec.get("name") == "plateau":  # lower the LR when the monitored metric stops improving
            spec.setdefault("mode", mode)
        return build_schedule(optimizer, spec, total_steps=epochs * steps_per_epoch, steps_per_epoch=steps_per_epoch)

    def fit(self, model: nn.Module, train_data: Any, val_data: Any = None, *,
            resume_from: str | Path | None = None) -> list[dict[str, float]]:
        """Train for `epochs` epochs (or until a callback stops it); return the per-epoch logs."""
        model = self._setup(model, train_data, val_data)
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        self.callbacks.on_fit_start(self)
        self.compile_clock.start()
        try:
            while self.epoch < self.epochs and not self.should_stop:
                self._run_epoch(model)
        except Exception as error:  # callbacks may report (e.g. where a NaN began) before it reaches the user
            self.callbacks.on_exception(self, error)
            raise
        finally:
            self.compile_clock.stop()
        self.callbacks.on_fit_end(self)
        self.strategy.broadcast_module(self.model)  # e.g. the best epoch rank 0's checkpoint restored
        return self.history

    def _setup(self, model: nn.Module, train_data: Any, val_data: Any) -> nn.Module:
        """Seed, place model and data, and build the optimizer, the schedule and the shuffling generator."""
        self._seed_everything()  # each rank its own dropout and augmentation; the shuffling below is shared
        self.task = task_for(model, self.loss_spec)
        self.train_data, self.val_data = as_data(train_data, self.device), as_data(val_data, self.device)
        length = training_length(len(self.train_data), epochs=self.epochs_spec, batch_size=self.batch_size_spec)
        if length.note:
            log.info("%s", length.note)
        self.epochs, self.batch_size = length.epochs, length.batch_size
        self.grad_clip = resolve_grad_clip(self.grad_clip_spec, model)
        trained = self.strategy.setup(model)  # what the loop calls: the model, or DDP's wrapper around it
        self.model = self.eval_model = model = self.strategy.unwrap(trained)  # a callback may swap eval_model
        if self.compile:  # training steps only: evaluation sees new batch shapes, each one a recompile
            trained = compiled(trained)
        self.monitor = default_monitor(self.monitor_spec, has_validation=self.val_data is not None)
        self.steps_per_epoch = self.train_data.num_batches(self.batch_size, world=self.strategy.world_size)
        self.optimizer = self._optimizer_for(model)
        self.schedule = self._schedule_for(self.optimizer, mode_of(self.monitor), epochs=self.epochs,
                                           steps_per_epoch=self.steps_per_epoch)
        self.shuffle = torch.Generator().manual_seed(self.seed)
        self.epoch_shuffle_state = self.shuffle.get_state()
        self.epoch_loss = torch.zeros((), device=self.device)
        return trained

    def _run_epoch(self, model: nn.Module) -> None:
        if self.batch_in_epoch == 0:  # a fresh epoch, not one resumed midway
            self.epoch_shuffle_state = self.shuffle.get_state()
            self.epoch_loss = torch.zeros((), device=self.device)
        else:
            self.shuffle.set_state(self.epoch_shuffle_state)  # the same permutation as before the interruption
        self.callbacks.on_epoch_start(self)
        started, compiling = time.perf_counter(), self.compile_clock.seconds
        model.train()
        batches = self.train_data.batches(self.batch_size, shuffle=True, generator=self.shuffle,
                                          skip=self.batch_in_epoch, shard=self.strategy.shard)
        for batch in batches:
            self.last_loss = self.train_step(model, batch).detach()
            self.epoch_loss += self.last_loss
            self.global_step += 1
            self.batch_in_epoch += 1
            log_point = self.global_step % self.log_every == 0
            if log_point:
                self._log_point()
            self.callbacks.on_batch_end(self)
            if self.strategy.stops(self.should_stop, at_log_point=log_point):
                self.should_stop = True  # e.g. a range test that has seen enough; the epoch still ends as usual
                break
        logs = {"epoch": self.epoch + 1, "train.loss": self._mean_epoch_loss(), "lr": self.schedule.current_lr()}
        if self.val_data is not None:
            logs.update({f"val.{k}": v for k, v in self.evaluate(self.eval_model, self.val_data).items() if _scalar(v)})
        if self.compile:
            logs["compile_time"] = self.compile_clock.seconds - compiling
        logs["time"] = time.perf_counter() - started - logs.get("compile_time", 0.0)
        self.schedule.step_epoch(logs.get(self.monitor))
        self.history.append(logs)
        self.epoch += 1
        self.batch_in_epoch = 0
        self.callbacks.on_epoch_end(self, logs)
        self.should_stop = self.strategy.any(self.should_stop)

    def train_step(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """One optimisation step on one batch; returns the loss (not synced). Override for custom steps."""
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            loss, _ = self.task.forward_loss(model, batch)
        self.precision.backward(loss)
        if self.grad_clip:
            self.precision.unscale(self.optimizer)
            self.last_grad_norm = nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)  # before clipping
        self.precision.step(self.optimizer)
        self.schedule.step_batch()
        return loss

    def _mean_epoch_loss(self) -> float:
        loss = self.strategy.reduce_mean(self.epoch_loss).item() / max(self.batch_in_epoch, 1)
        self._check_finite(loss)
        return loss

    def _log_point(self) -> None:
        """The one place a step syncs with the device: read the running loss, check it, tell the callbacks."""
        self.callbacks.on_log(self, {"train.loss": self._mean_epoch_loss(), "lr": self.schedule.current_lr()})

    def _check_finite(self, loss: float) -> None:
        if not math.isfinite(loss):
            lr = self.schedule.current_lr()
            raise TrainingDiverged(
                f"training diverged: the loss became {loss} by step {self.global_step} (epoch {self.epoch + 1}, "
                f"learning rate {lr:.3g}). Try a learning rate 3-10x lower, train.grad_clip: 1.0, or check the "
                "inputs for NaN or extreme values"
            )

    # --- evaluate / predict ---------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: nn.Module, data: Any) -> dict[str, Any]:
        """Mean loss and every head's metrics: {"loss": 0.05, "accuracy": 0.99, ...} for one output,
        {"loss": ..., "label.accuracy": ..., "price.mae": ...} for several."""
        task = getattr(self, "task", None) or task_for(model, self.loss_spec)
        data = as_data(data, self.device)
        was_training = model.training
        model.eval()
        metrics = task.metrics(model)
        sums = torch.zeros(2, device=self.device, dtype=torch.float64)  # Σ loss x rows, rows
        for batch in data.batches(self.eval_batch_size, shard=self.strategy.shard):  # under DDP: this rank's rows
            n = len(next(iter(batch.values())))
            if n == 0:  # a last batch with fewer rows than ranks
                continue
            with self.precision.autocast():
                loss, outputs = task.forward_loss(model, batch)
            sums += torch.stack([loss.double() * n, torch.tensor(n, dtype=torch.float64, device=self.device)])
            task.update_metrics(model, metrics, outputs, batch)
        model.train(was_training)
        total, count = self.strategy.reduce_sum(sums).tolist()
        metrics = self.strategy.merge_metrics(metrics)
        results: dict[str, Any] = {"loss": total / max(count, 1)}
        for name, metric in metrics.items():  # one output: plain names; several: prefixed by the output
            for key, value in metric.compute().items():
                results[metric_key(name, key, metrics)] = value
        return results

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Any) -> list[Any]:
        """Raw model outputs per batch (decoded predictions come from `deepscope.load(run).predict`)."""
        task = task_for(model, self.loss_spec, need_loss=False)  # how this model is called, not what it computes
        data = as_data(data, self.device)
        model.eval()
        with self.precision.autocast():
            return [task.forward(model, batch) for batch in data.batches(self.eval_batch_size)]

    # --- checkpoints ---------------------------------------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> Path:
        extra = {} if self.eval_model is self.model else {"eval_model": self.eval_model}
        return save_checkpoint(path, self.model, self.optimizer, self.shuffle, self._checkpoint_meta(), extra)

    def _checkpoint_meta(self) -> dict[str, Any]:
        """The loop's state as JSON: what a checkpoint must hold to continue (loading checks it against this)."""
        return {
            "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "global_step": self.global_step,
            "history": self.history, "schedule": self.schedule.state_dict(), "precision": self.precision.state_dict(),
            "callbacks": self.callbacks.state_dict(), "should_stop": self.should_stop,
            "epoch_loss": self.epoch_loss.item(), "epoch_shuffle_state": self.epoch_shuffle_state.tolist(),
        }

    def load_checkpoint(self, path: str | Path) -> None:
        """Continue from `path`; a checkpoint that is damaged or another model's is a `DamagedFileError`."""
        tensors, meta = read_checkpoint(path, self._checkpoint_meta())
        if self.eval_model is self.model and any(name.startswith("eval_model.") for name in tensors):
            self.eval_model = copy.deepcopy(self.model)  # the saved weight average is restored into its own copy
        modules = {"model": self.model, **({} if self.eval_model is self.model else {"eval_model": self.eval_model})}
        restore_checkpoint(path, tensors, meta, modules, self.optimizer, self.shuffle)
        with restoring(path):
            self.epoch, self.batch_in_epoch = meta["epoch"], meta["batch_in_epoch"]
            self.global_step, self.history, self.should_stop = meta["global_step"], meta["history"], meta["should_stop"]
            self.schedule.load_state_dict(meta["schedule"])
            self.precision.load_state_dict(meta["precision"])
            self.callbacks.load_state_dict(meta["callbacks"])
            self.epoch_loss = torch.tensor(meta["epoch_loss"], device=self.device)
            self.epoch_shuffle_state = torch.tensor(meta["epoch_shuffle_state"], dtype=torch.uint8)
            # what is used only later, mid-epoch or by the loggers, is checked now, while its failure names the file
            if self.epoch_shuffle_state.shape != self.shuffle.get_state().shape:
                raise ValueError("epoch_shuffle_state is not a random generator's state")
            if not all(isinstance(row, dict) for row in self.history):
                raise TypeError("the history holds rows that are not mappings")

    def _seed_everything(self) -> None:
        seed_everything(self.seed + self.strategy.rank, deterministic=self.deterministic)


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (every device); `deterministic` also asks torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float))


def _train_config(values: Mapping[str, Any]) -> TrainConfig:
    try:
        return TrainConfig.model_validate(dict(values))
    except ValidationError as error:
        raise ConfigError(
            format_validation_error(error, "Trainer.from_config", schema=TrainConfig, prefix="train")) from None
