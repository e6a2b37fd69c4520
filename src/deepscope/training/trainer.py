"""The training loop: `fit`, `evaluate`, `predict`, with `train_step` as the one override point.

The loop reads straight through; progress, checkpoints, early stopping and logging are callbacks. It never
syncs with the device inside a step: the loss is accumulated on the device and read every `log_every` steps.

    trainer = Trainer(epochs=3, optimizer="adam", lr=1e-3, callbacks=[EarlyStopping(patience=2)])
    history = trainer.fit(model, train_data, val_data)
    trainer.evaluate(model, test_data)   # {"loss": ..., "label.accuracy": ...}
"""

from __future__ import annotations

import copy
import math
import random
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from deepscope.data.dataset import TensorData
from deepscope.errors import UserError
from deepscope.training.callbacks.base import Callback, CallbackList
from deepscope.training.callbacks.early_stopping import mode_for
from deepscope.training.checkpoint import has_tensors, load_checkpoint, save_checkpoint
from deepscope.training.distributed import SingleDevice, resolve_device
from deepscope.training.optim import build_optimizer, build_schedule
from deepscope.training.precision import get_precision
from deepscope.training.task import task_for

Batch = dict[str, torch.Tensor]


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""

    diverged = True


RECURRENT_GRAD_CLIP = 1.0  # recurrent nets multiply gradients through every time step: clip them by default


def resolve_grad_clip(spec: float | str | None, model: nn.Module) -> float | None:
    """The global gradient-norm limit: a number, None or 0 (off), or "auto" (on for recurrent models only)."""
    if spec == "auto":
        return RECURRENT_GRAD_CLIP if any(isinstance(m, nn.RNNBase) for m in model.modules()) else None
    return float(spec) if spec else None


class Trainer:
    def __init__(
        self,
        *,
        epochs: int = 10,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        optimizer: str | dict[str, Any] = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        schedule: str | dict[str, Any] | None = "onecycle",
        grad_clip: float | str | None = "auto",
        loss: Any = None,
        callbacks: Iterable[Callback] = (),
        monitor: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        seed: int = 0,
        deterministic: bool = False,
        log_every: int = 50,
    ):
        self.epochs, self.batch_size = epochs, batch_size
        self.eval_batch_size = eval_batch_size or max(batch_size, 512)
        self.optimizer_spec = {"name": optimizer} if isinstance(optimizer, str) else dict(optimizer)
        self.optimizer_spec.setdefault("lr", lr)
        self.optimizer_spec.setdefault("weight_decay", weight_decay)
        self.schedule_spec = {"name": schedule or "constant"} if not isinstance(schedule, dict) else dict(schedule)
        self.grad_clip_spec, self.loss_spec, self.monitor_spec = grad_clip, loss, monitor
        self.grad_clip: float | None = None  # resolved in fit: "auto" depends on the model
        self.callbacks = CallbackList(list(callbacks))
        self.strategy = SingleDevice(resolve_device(device))
        self.precision = get_precision(precision, self.strategy.device)
        self.seed, self.deterministic, self.log_every = seed, deterministic, log_every
        self.epoch = self.global_step = self.batch_in_epoch = 0
        self.history: list[dict[str, float]] = []
        self.should_stop = False
        self.model: nn.Module | None = None
        self.eval_model: nn.Module | None = None  # what validation uses: the model, or e.g. its weight average

    @property
    def device(self) -> torch.device:
        return self.strategy.device

    # --- fit ---------------------------------------------------------------------------------------------
    def fit(self, model: nn.Module, train_data: Any, val_data: Any = None, *, resume_from: str | Path | None = None) -> list[dict[str, float]]:
        """Train for `epochs` epochs (or until a callback stops it); return the per-epoch logs."""
        model = self._setup(model, train_data, val_data)
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        self.callbacks.on_fit_start(self)
        try:
            while self.epoch < self.epochs and not self.should_stop:
                self._run_epoch(model)
        except Exception as error:  # callbacks may report (e.g. where a NaN began) before it reaches the user
            self.callbacks.on_exception(self, error)
            raise
        self.callbacks.on_fit_end(self)
        return self.history

    def _setup(self, model: nn.Module, train_data: Any, val_data: Any) -> nn.Module:
        """Seed, place model and data, and build the optimizer, the schedule and the shuffling generator."""
        self._seed_everything()
        self.task = task_for(model, self.loss_spec)
        self.train_data, self.val_data = as_data(train_data, self.device), as_data(val_data, self.device)
        self.grad_clip = resolve_grad_clip(self.grad_clip_spec, model)
        self.model = self.eval_model = model = self.strategy.setup(model)  # a callback may swap eval_model
        self.monitor = self.monitor_spec or ("val.loss" if self.val_data is not None else "train.loss")
        self.steps_per_epoch = self.train_data.num_batches(self.batch_size)
        options = {k: v for k, v in self.optimizer_spec.items() if k != "name"}
        self.optimizer = build_optimizer(model, self.optimizer_spec.get("name") or "adam", **options)
        schedule_spec = dict(self.schedule_spec)
        if schedule_spec.get("name") == "plateau":  # lower the LR when the monitored metric stops improving
            schedule_spec.setdefault("mode", mode_for(self.monitor))
        self.schedule = build_schedule(self.optimizer, schedule_spec, total_steps=self.epochs * self.steps_per_epoch,
                                       steps_per_epoch=self.steps_per_epoch)
        self.shuffle = torch.Generator().manual_seed(self.seed)
        self.epoch_shuffle_state = self.shuffle.get_state()
        self.epoch_loss = torch.zeros((), device=self.device)
        return model

    def _run_epoch(self, model: nn.Module) -> None:
        if self.batch_in_epoch == 0:  # a fresh epoch, not one resumed midway
            self.epoch_shuffle_state = self.shuffle.get_state()
            self.epoch_loss = torch.zeros((), device=self.device)
        else:
            self.shuffle.set_state(self.epoch_shuffle_state)  # the same permutation as before the interruption
        self.callbacks.on_epoch_start(self)
        started = time.perf_counter()
        model.train()
        batches = self.train_data.batches(self.batch_size, shuffle=True, generator=self.shuffle, skip=self.batch_in_epoch)
        for batch in batches:
            self.epoch_loss += self.train_step(model, batch).detach()
            self.global_step += 1
            self.batch_in_epoch += 1
            if self.global_step % self.log_every == 0:
                self._log_point()
            self.callbacks.on_batch_end(self)
        logs = {"epoch": self.epoch + 1, "train.loss": self._mean_epoch_loss(), "lr": self.schedule.current_lr()}
        if self.val_data is not None:
            logs.update({f"val.{k}": v for k, v in self.evaluate(self.eval_model, self.val_data).items() if _scalar(v)})
        logs["time"] = time.perf_counter() - started
        self.schedule.step_epoch(logs.get(self.monitor))
        self.history.append(logs)
        self.epoch += 1
        self.batch_in_epoch = 0
        self.callbacks.on_epoch_end(self, logs)

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
        loss = self.epoch_loss.item() / max(self.batch_in_epoch, 1)
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
        total, count = torch.zeros((), device=self.device, dtype=torch.float64), 0
        for batch in data.batches(self.eval_batch_size):
            with self.precision.autocast():
                loss, outputs = task.forward_loss(model, batch)
            n = len(next(iter(batch.values())))
            total += loss.double() * n
            count += n
            task.update_metrics(model, metrics, outputs, batch)
        model.train(was_training)
        results: dict[str, Any] = {"loss": total.item() / max(count, 1)}
        for name, metric in metrics.items():  # one output: plain names; several: prefixed by the output
            for key, value in metric.compute().items():
                results[f"{name}.{key}" if len(metrics) > 1 else key] = value
        return results

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Any) -> list[Any]:
        """Raw model outputs per batch (decoded predictions come from `deepscope.load(run).predict`)."""
        data = as_data(data, self.device)
        model.eval()
        with self.precision.autocast():
            return [model(batch if "input" not in batch else batch["input"]) for batch in data.batches(self.eval_batch_size)]

    # --- checkpoints ----------------------------------------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> Path:
        meta = {
            "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "global_step": self.global_step,
            "history": self.history, "schedule": self.schedule.state_dict(), "precision": self.precision.state_dict(),
            "callbacks": self.callbacks.state_dict(), "should_stop": self.should_stop,
            "epoch_loss": self.epoch_loss.item(), "epoch_shuffle_state": self.epoch_shuffle_state.tolist(),
        }
        extra = {} if self.eval_model is self.model else {"eval_model": self.eval_model}
        return save_checkpoint(path, self.model, self.optimizer, self.shuffle, meta, extra)

    def load_checkpoint(self, path: str | Path) -> None:
        if self.eval_model is self.model and has_tensors(path, "eval_model"):
            self.eval_model = copy.deepcopy(self.model)  # the saved weight average is restored into its own copy
        extra = {} if self.eval_model is self.model else {"eval_model": self.eval_model}
        meta = load_checkpoint(path, self.model, self.optimizer, self.shuffle, extra)
        self.epoch, self.batch_in_epoch, self.global_step = meta["epoch"], meta["batch_in_epoch"], meta["global_step"]
        self.history, self.should_stop = meta["history"], meta["should_stop"]
        self.schedule.load_state_dict(meta["schedule"])
        self.precision.load_state_dict(meta["precision"])
        self.callbacks.load_state_dict(meta["callbacks"])
        self.epoch_loss = torch.tensor(meta["epoch_loss"], device=self.device)
        self.epoch_shuffle_state = torch.tensor(meta["epoch_shuffle_state"], dtype=torch.uint8)

    def _seed_everything(self) -> None:
        seed_everything(self.seed, deterministic=self.deterministic)


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


def as_data(data: Any, device: torch.device) -> TensorData | None:
    """TensorData, a dict of tensors, or an (inputs, targets) pair -> TensorData on `device`."""
    if data is None:
        return None
    if isinstance(data, TensorData):
        return data if data.device == device else data.to(device)
    if isinstance(data, dict):
        return TensorData(data).to(device)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return TensorData({"input": torch.as_tensor(data[0]), "target": torch.as_tensor(data[1])}).to(device)
    raise UserError(
        f"training data must be a TensorData, a dict of tensors or an (inputs, targets) pair, got {type(data).__name__}"
    )
