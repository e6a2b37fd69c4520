"""`Diagnostics`: the callback that records training for the detectors and reports what they find.

Every `every` steps it measures each layer (gradients, weights, updates, activations) with one device sync;
at each epoch end it judges the record and prints findings the first time they appear; at the end it measures
calibration, prints a summary (naming any warning printed live that the whole run no longer supports, and why)
and writes `diagnosis.json`. The first step is measured too, and the state before it (the layers' order along the
forward path, dead units, initial scales). If the loss turns NaN/Inf, it finds the first layer
that went non-finite and reports before the error reaches the user.

    trainer = Trainer(callbacks=[Diagnostics(path="diagnosis.json")])
    trainer.fit(model, train, val); trainer.callbacks.callbacks[0].findings
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from deepscope.diagnose.calibration import calibration_stats
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.initial import (
    activation_counts,
    bias_means,
    expected_initial_loss,
    layer_init_scales,
    output_descriptions,
)
from deepscope.diagnose.judge import judge, save_diagnosis, withdrawals
from deepscope.diagnose.kept_outputs import KeptOutputs, keep_outputs
from deepscope.diagnose.probes import ActivationProbe, PathProbe, RecurrentProbe, WeightProbe
from deepscope.diagnose.record import Record
from deepscope.training.callbacks.base import Callback

INITIAL_LOSS_EXAMPLES = 512
# how often to measure: about 4 times an epoch, but never more than one step in 10 (a measured step costs about
# two plain ones) and at least every 50 steps
SAMPLES_PER_EPOCH = 4
MIN_EVERY, MAX_EVERY = 10, 50
LIVE_INTERVAL = 2.0  # seconds between live judgements: short epochs would otherwise spend their time judging


class Diagnostics(Callback):
    """Watch training and say, in plain words with the evidence, what is wrong and what to change.

    Args:
        every: steps between measurements (default: about 4 an epoch, 10 to 50 steps apart).
        path: where to write diagnosis.json (the findings and the measurements behind them); None: nowhere.
        console: where findings are printed (default stderr).
        live: print each new finding as it appears during training, and a summary at the end.
        skip: detectors to leave out, by name (e.g. ["calibration"]).
        record: a record to add to, e.g. one holding the data profile (`deepscope.diagnose.profile`).
        finish_at_fit_end: judge the whole run (with calibration on the validation data) when fit ends; the
            training workflow turns it off and calls `finish` itself with the model as saved.

    Example:
        >>> diagnostics = Diagnostics(live=False)                       # doctest: +SKIP
        >>> Trainer(callbacks=[diagnostics]).fit(model, train, val)     # doctest: +SKIP
        >>> [(f.severity, f.title) for f in diagnostics.findings]       # doctest: +SKIP
        [('warning', 'Overfitting from epoch 7')]
    """

    def __init__(self, *, every: int | None = None, path: str | Path | None = None, console: Console | None = None,
                 live: bool = True, skip: Iterable[str] = (), record: Record | None = None,
                 finish_at_fit_end: bool = True):
        self.every_option, self.path, self.live = every, path, live
        self.console = console or Console(file=sys.stderr)
        self.skip = tuple(skip)
        self.record = record or Record()
        self.kept: tuple[Any, KeptOutputs] | None = None  # (data, outputs kept on it): `keeping_outputs`
        self.finish_at_fit_end = finish_at_fit_end
        self.findings: list[Finding] = []
        self.shown: dict[str, dict[str, Any]] = {}  # finding key -> what was printed live, and at which epoch
        self.withdrawn: list[dict[str, Any]] = []
        self.last_judged = -math.inf

    # --- recording --------------------------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any) -> None:
        model = trainer.model
        self.every = self.every_option or max(MIN_EVERY, min(MAX_EVERY, trainer.steps_per_epoch // SAMPLES_PER_EPOCH))
        self.weights, self.activations = WeightProbe(model), ActivationProbe(model)
        self.recurrent = RecurrentProbe(model)
        self.pending, self.first_pending, self.loss_before = False, False, None
        task = self.record.task
        task.setdefault("outputs", output_descriptions(model, trainer.loss_spec))
        task.update(n_train=len(trainer.train_data), n_params=sum(p.numel() for p in model.parameters()),
                    epochs=trainer.epochs, steps_per_epoch=trainer.steps_per_epoch, batch_size=trainer.batch_size,
                    optimizer=trainer.optimizer_spec.get("name"), lr=trainer.optimizer_spec.get("lr"),
                    schedule=trainer.schedule_spec.get("name"), grad_clip=trainer.grad_clip, every=self.every,
                    activations=activation_counts(model), recurrent=self.recurrent.cells(),
                    early_stopping=any(type(c).__name__ == "EarlyStopping" for c in trainer.callbacks.callbacks))
        if trainer.global_step == 0 or not self.record.init:
            self.record.init = self._initial_state(trainer)
        if trainer.global_step == 0:  # the first step is measured too: a rate that is too high shows there first
            self._arm_sample(trainer)
            self.first_pending = True

    def _initial_state(self, trainer: Any) -> dict[str, Any]:
        model = trainer.model
        batch = next(trainer.train_data.batches(min(INITIAL_LOSS_EXAMPLES, len(trainer.train_data)), shuffle=False))
        was_training = model.training
        model.eval()  # no dropout draws and no batch-norm updates: training follows the same path as without us
        path = PathProbe(model, self.weights.names)  # the order the layers run in, and which read a constant
        path.install()
        self.activations.install()  # which units are dead before any update (a dead-at-birth ReLU is the init's)
        # cuDNN's RNN kernels refuse a backward pass in eval mode; the plain kernels compute the same gradient
        with torch.backends.cudnn.flags(enabled=False):
            with trainer.precision.autocast():
                loss, outputs = trainer.task.forward_loss(model, batch)
            path.remove()
            self.activations.remove()
            _count_classes(self.record.task["outputs"], outputs)
            loss.backward()
        grad_norm = self.weights.measure()["total"]
        no_gradient = [name for name, p in zip(self.weights.names, self.weights.params) if p.grad is None]
        model.zero_grad(set_to_none=True)
        model.train(was_training)
        kinds, stats = self.activations.kinds(), self.activations.stats
        activations = [{"name": n, "kind": kinds[n], "dead": float(a[0]), "saturated": float(a[1])}
                       for n, a in stats.items()]
        return {"loss": float(loss.detach()), "expected_loss": expected_initial_loss(self.record.task["outputs"]),
                "grad_norm": float(grad_norm), "layers": layer_init_scales(self.weights, model),
                "bias_means": bias_means(model), "activations": activations,
                "path": {"order": path.order, "constant_input": path.constant_input, "no_gradient": no_gradient}}

    def on_epoch_start(self, trainer: Any) -> None:
        self.activations.stats.clear()  # a validation pass may have run through the hooks since they went in

    def on_batch_end(self, trainer: Any) -> None:
        step = trainer.global_step
        if self.pending:
            self._take_sample(trainer)
        if (step + 1) % self.every == 0:  # the next step is sampled: keep what it starts from
            self._arm_sample(trainer)

    def _arm_sample(self, trainer: Any) -> None:
        self.weights.snapshot()
        self.activations.install()
        self.recurrent.install()
        self.loss_before = (trainer.epoch, trainer.epoch_loss.clone())
        self.pending = True

    def _take_sample(self, trainer: Any) -> None:
        self.pending = False
        self.activations.remove()
        self.recurrent.remove()
        measured = self.weights.measure()
        epoch, before = self.loss_before
        step_loss = trainer.epoch_loss - (before if epoch == trainer.epoch else 0.0)
        act_names = list(self.activations.stats)
        act = (torch.stack(list(self.activations.stats.values())) if act_names
               else torch.zeros((0, 2), device=trainer.device))
        grad_norm = getattr(trainer, "last_grad_norm", None)  # before clipping, when the trainer clips
        total = grad_norm if isinstance(grad_norm, torch.Tensor) else measured["total"]
        # the step's loss and the units' dead / saturated shares over every rank's rows (DDP); gradients and
        # weights are the same on every rank already
        local = torch.cat([step_loss.float().reshape(1), act.float().reshape(-1)])
        reduced = trainer.strategy.reduce_mean(local)
        act = reduced[1:].reshape(act.shape)
        head = torch.stack([reduced[0], total.float().reshape(()).to(reduced.device)]).cpu()
        per_layer = torch.stack([measured["grad_norm"], measured["weight_norm"], measured["update_norm"]]).cpu()
        values = (head.tolist(), per_layer.tolist(), act.float().cpu().tolist())  # the one sync of a sample
        sample = self._sample(trainer, *values, act_names)
        if self.recurrent.modules:  # RNNs only: gradient through time (one more sync, on sampled steps)
            sample["recurrent"] = _through_time(self.recurrent.summaries())
        if self.first_pending:  # kept apart: the samples stay evenly spaced for the detectors that read trends
            self.first_pending = False
            self.record.first_step = sample
        else:
            self.record.samples.append(sample)

    def _sample(self, trainer: Any, head: list, per_layer: list, act: list, act_names: list[str]) -> dict[str, Any]:
        loss, total = head
        kinds = self.activations.kinds()
        layers = []
        for i, (name, size) in enumerate(zip(self.weights.names, self.weights.sizes())):
            grad, weight, update = per_layer[0][i], per_layer[1][i], per_layer[2][i]
            layers.append({"name": name, "grad_norm": grad, "grad_rms": grad / math.sqrt(size), "weight_norm": weight,
                           "update_ratio": update / weight if weight > 0 and math.isfinite(update) else None})
        activations = [{"name": n, "kind": kinds[n], "dead": a[0], "saturated": a[1]} for n, a in zip(act_names, act)]
        sample = {"step": trainer.global_step, "epoch": trainer.epoch + 1, "loss": loss,
                  "lr": trainer.schedule.current_lr(), "grad_norm": total, "layers": layers, "activations": activations}
        if not (math.isfinite(loss) and math.isfinite(total)) and self.record.nonfinite is None:
            self._note_nonfinite(trainer)
        return sample

    def _note_nonfinite(self, trainer: Any) -> None:
        first = self.weights.first_nonfinite()
        self.record.nonfinite = {"step": trainer.global_step, "epoch": trainer.epoch + 1,
                                 "layer": first[0] if first else None, "where": first[1] if first else "loss",
                                 "last_finite_step": _last_finite_step(self.record.samples)}

    # --- judging and reporting --------------------------------------------------------------------------------
    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        self.record.history = [dict(h) for h in trainer.history]
        if self.live and time.monotonic() - self.last_judged >= LIVE_INTERVAL:
            self.last_judged = time.monotonic()
            self.findings = judge(self.record, skip=self.skip)
            self._show_new(self.findings)

    def on_exception(self, trainer: Any, error: BaseException) -> None:
        if self.pending:
            self.activations.remove()
            self.recurrent.remove()
        if getattr(error, "diverged", False):  # TrainingDiverged
            if self.record.nonfinite is None:
                self._note_nonfinite(trainer)
            self.record.history = [dict(h) for h in trainer.history]
            self.conclude()
            error.diagnosis = self.findings  # type: ignore[attr-defined]

    def on_fit_end(self, trainer: Any) -> None:
        self.activations.remove()
        self.recurrent.remove()
        self.pending = False
        self.record.history = [dict(h) for h in trainer.history]
        if self.finish_at_fit_end:
            data = trainer.val_data
            self.finish(trainer.eval_model, data, "val" if data is not None else None)

    def finish(self, model: nn.Module, data: Any, split: str | None) -> list[Finding]:
        """Measure calibration on `data` (the final model on validation or test data), judge, report and save."""
        kept, self.kept = (self.kept[1] if self.kept is not None and self.kept[0] is data else None), None
        if data is not None and split is not None:
            self.record.calibration = _calibration(model, data, split, kept)
        return self.conclude()

    @contextmanager
    def keeping_outputs(self, model: nn.Module, data: Any) -> Iterator[None]:
        """While inside, the calibrated output of `model` on `data` is kept from what runs over it (the final
        evaluation), and `finish` on the same data measures calibration from it (`kept_outputs`)."""
        head = _calibrated_head(model)
        if head is None or data is None:
            yield
            return
        with keep_outputs(model, head[0], data) as kept:
            yield
        self.kept = (data, kept)

    def conclude(self) -> list[Finding]:
        """Judge the whole run; say which live warnings the whole run no longer supports (`withdrawn`), print the
        summary and write diagnosis.json."""
        self.findings = judge(self.record, skip=self.skip)
        self.withdrawn = withdrawals(list(self.shown.values()), self.findings, self.record.history)
        if self.live:
            from deepscope.diagnose.console import print_summary

            self._show_new(self.findings)
            print_summary(self.console, self.findings, withdrawn=self.withdrawn)
        if self.path is not None:
            save_diagnosis(self.path, self.findings, self.record, withdrawn=self.withdrawn)
        return self.findings

    def _show_new(self, findings: list[Finding]) -> None:
        from deepscope.diagnose.console import print_new_finding

        for finding in findings:
            if finding.severity != "info" and finding.key not in self.shown:
                self.shown[finding.key] = {"code": finding.code, "severity": finding.severity, "title": finding.title,
                                           "layer": finding.layer, "shown_at_epoch": len(self.record.history)}
                print_new_finding(self.console, finding)

    # --- resume -----------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"record": self.record.to_dict(), "shown": list(self.shown.values())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.record = Record.from_dict(state["record"])
        shown = [s if isinstance(s, dict) else _shown_from_key(s) for s in state.get("shown", ())]
        self.shown = {f"{s['code']}:{s.get('layer') or ''}": s for s in shown}


def _shown_from_key(key: str) -> dict[str, Any]:
    """What an older checkpoint kept of a finding shown live: its key ("code:layer")."""
    code, _, layer = key.partition(":")
    return {"code": code, "severity": "warning", "title": code, "layer": layer or None, "shown_at_epoch": None}


def _count_classes(descriptions: dict[str, dict[str, Any]], outputs: Any) -> None:
    """A plain module trained with cross-entropy: the number of classes is the width of its output."""
    if isinstance(outputs, torch.Tensor) and outputs.dim() == 2:
        for description in descriptions.values():
            if description.get("type") == "category":
                description.setdefault("classes", outputs.shape[1])


def _through_time(summaries: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    """Per recurrent layer: steps, and the gradient norm reaching the first and last step, the smallest and largest."""
    if not summaries:
        return []
    values = torch.stack(list(summaries.values())).cpu().tolist()
    keys = ("steps", "grad_first", "grad_last", "grad_smallest", "grad_largest")
    return [{"name": name, **dict(zip(keys, v)), "steps": int(v[0])} for name, v in zip(summaries, values)]


def _last_finite_step(samples: list[dict[str, Any]]) -> int | None:
    finite = [s["step"] for s in samples if math.isfinite(s["loss"]) and math.isfinite(s["grad_norm"])]
    return finite[-1] if finite else None


def _calibrated_head(model: nn.Module) -> tuple[str, str] | None:
    """(name, kind) of the first classification head (None for regression or plain modules)."""
    heads = getattr(model, "heads", None)
    if not isinstance(heads, nn.ModuleDict):
        return None
    return next(((n, _kind(h)) for n, h in heads.items() if _kind(h) in ("category", "binary")), None)


@torch.no_grad()
def _calibration(model: nn.Module, data: Any, split: str, kept: KeptOutputs | None = None) -> dict[str, Any]:
    """Calibration of the first classification output on `data` (empty for regression or plain modules), from
    the outputs `kept` of a pass over it when they cover it, else predicted here."""
    head = _calibrated_head(model)
    if head is None:
        return {}
    name, kind = head
    pair = kept.logits_and_targets() if kept is not None else None
    logits, targets = pair if pair is not None else _predicted(model, data, name)
    stats = calibration_stats(logits, targets, binary=kind == "binary", split=split)
    return {"output": name, **stats}


def _predicted(model: nn.Module, data: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    data = data if data.device == device else data.to(device)  # the pipeline's splits stay on the CPU
    logits, targets = [], []
    for batch in data.batches(1024):
        logits.append(model(batch)[name].float())
        targets.append(batch[name])
    model.train(was_training)
    return torch.cat(logits), torch.cat(targets)


def _kind(head: nn.Module) -> str:
    return type(head).__name__.removesuffix("Head").lower()
