"""Optimizers and learning-rate schedules, by the names configs use.

    optimizer = build_optimizer(model, "adamw", lr=3e-3, weight_decay=0.05)
    schedule = build_schedule(optimizer, {"name": "onecycle"}, total_steps=1000, steps_per_epoch=100)
    for batch in batches:
        ...; optimizer.step(); schedule.step_batch()
    schedule.step_epoch(val_loss)                  # once per epoch, after validation
    json.dumps(schedule.state_dict())              # checkpoints store it as JSON

Optimizers are PyTorch's own. Schedules are written here, each a closed-form function of the step and
epoch counters, checked against `torch.optim.lr_scheduler` in the tests. Why not wrap torch's schedulers:
warm-up runs per batch while `step` and `plateau` decay per epoch, which `SequentialLR` cannot combine;
and a closed form makes the state a few integers, so a resumed run continues on exactly the same
learning rates.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from deepscope.config.echo import cut
from deepscope.config.registry import Registry
from deepscope.errors import ConfigError
from deepscope.training.monitor import improves

# --- optimizers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerRecipe:
    """A torch optimizer class and the defaults deepscope uses where they differ from torch's."""

    cls: type[torch.optim.Optimizer]
    defaults: dict[str, Any] = field(default_factory=dict)

    def options(self) -> list[str]:
        """The keyword arguments the class accepts, besides params, lr and weight_decay."""
        return [name for name in inspect.signature(self.cls).parameters if name not in ("params", "lr", "weight_decay")]


OPTIMIZERS: Registry[OptimizerRecipe] = Registry("optimizer")
OPTIMIZERS.register("sgd")(OptimizerRecipe(torch.optim.SGD, {"momentum": 0.9}))  # plain SGD is rarely wanted
OPTIMIZERS.register("adam")(OptimizerRecipe(torch.optim.Adam))
OPTIMIZERS.register("adamw")(OptimizerRecipe(torch.optim.AdamW))
OPTIMIZERS.register("rmsprop")(OptimizerRecipe(torch.optim.RMSprop))


def build_optimizer(params: nn.Module | Iterable[Any], name: str, *, lr: float, weight_decay: float = 0.0,
                    **options: Any) -> torch.optim.Optimizer:
    """A registered optimizer over a model's parameters, with weight decay on weight matrices only.

    Args:
        params: a module (the usual case), an iterable of parameters, or a list of param-group dicts
            (used as given).
        name: `sgd` (momentum 0.9 unless given), `adam`, `adamw` or `rmsprop`.
        lr: the learning rate (the peak, for `onecycle`).
        weight_decay: applied to parameters of 2 or more dimensions (weights of linear, convolution and
            embedding layers); biases and normalisation scales and shifts (1-D) are not decayed.
        options: the optimizer's other keyword arguments (`momentum`, `nesterov`, `betas`, `eps`, ...).

    >>> optimizer = build_optimizer(nn.Linear(3, 1), "sgd", lr=0.1, weight_decay=1e-4, nesterov=True)
    >>> [group["weight_decay"] for group in optimizer.param_groups]
    [0.0001, 0.0]
    """
    recipe = OPTIMIZERS.get(name, where="train.optimizer.name")
    allowed = recipe.options()
    for key in options:
        if key not in allowed:
            raise ConfigError(f"train.optimizer.{key}: {name} has no option {key!r}; "
                              f"its options are: {', '.join(['lr', 'weight_decay', *allowed])}")
    if not lr > 0:
        raise ConfigError(f"train.optimizer.lr: the learning rate must be positive, got {lr}; try 1e-3")
    if not weight_decay >= 0:
        raise ConfigError(f"train.optimizer.weight_decay: must be 0 or more, got {weight_decay}")
    groups = _param_groups(params, weight_decay)
    kwargs = {**recipe.defaults, **options}
    if "fused" in allowed and "fused" not in options and "foreach" not in options and _all_on_cuda(groups):
        kwargs["fused"] = True  # one kernel for all parameters: fewer launches per step on a GPU
    try:
        return recipe.cls(groups, lr=lr, weight_decay=weight_decay, **kwargs)
    except (TypeError, ValueError) as error:  # torch's own checks of its options (betas: 3, momentum: -1)
        raise ConfigError(f"train.optimizer: {name} refuses these options ({cut(str(error))}); "
                          f"check {', '.join(sorted(options)) or 'its options'}") from None


def _param_groups(params: nn.Module | Iterable[Any], weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: decayed weight matrices, and undecayed 1-D parameters (biases, norm scales)."""
    tensors = list(params.parameters() if isinstance(params, nn.Module) else params)  # shared ones once
    if tensors and isinstance(tensors[0], dict):
        return tensors
    tensors = [p for p in tensors if p.requires_grad]
    if not tensors:
        raise ConfigError("the model has no trainable parameters (all have requires_grad=False)")
    # Decaying a bias or a normalisation scale pulls it towards 0, which only hurts: the layer's output
    # scale is then set by the decay, not the data.
    decay = [p for p in tensors if p.dim() >= 2]
    no_decay = [p for p in tensors if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]


def _all_on_cuda(groups: list[dict[str, Any]]) -> bool:
    return all(p.is_cuda and p.is_floating_point() for group in groups for p in group["params"])


# --- schedules -----------------------------------------------------------------------------------------------


class Schedule:
    """The learning rate as a function of the step and epoch counters; the base class holds it constant.

    A variant overrides `decay(base_lr)`, the learning rate after warm-up, and lists its options (with their
    defaults) in `defaults`. The optimizer's learning rate is rewritten after every counter change.

    Args:
        optimizer: the optimizer whose param groups' `lr` this schedule sets; each group's lr at
            construction is its base (peak) lr.
        total_steps: optimizer steps in the whole run (epochs x steps_per_epoch).
        steps_per_epoch: optimizer steps per epoch.
        warmup: a fraction of total_steps (0 < warmup < 1) or a number of steps (an int >= 1) over which the
            learning rate rises linearly to its base value; 0 for none.

    >>> optimizer = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> schedule = build_schedule(optimizer, {"name": "constant", "warmup": 4}, total_steps=10, steps_per_epoch=5)
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(round(schedule.current_lr(), 3))
    ...     schedule.step_batch()
    >>> lrs
    [0.02, 0.04, 0.06, 0.08, 0.1, 0.1]
    """

    name: ClassVar[str] = "constant"
    defaults: ClassVar[dict[str, Any]] = {"warmup": 0}
    state_keys: ClassVar[tuple[str, ...]] = ()  # a variant's own attributes to checkpoint (JSON values)

    def __init__(self, optimizer: torch.optim.Optimizer, *, total_steps: int, steps_per_epoch: int,
                 warmup: float | int = 0):
        self.optimizer, self.total_steps, self.steps_per_epoch = optimizer, total_steps, steps_per_epoch
        self.warmup_steps = _warmup_steps(warmup, total_steps)
        # like torch's schedulers: a second schedule on the same optimizer keeps the first one's base
        self.base_lrs = [group.setdefault("initial_lr", float(group["lr"])) for group in optimizer.param_groups]
        # not `step`/`epoch`: a torch-style `schedule.step()` call should fail as a missing method
        self.step_count = self.epoch_count = 0  # optimizer steps taken, epochs finished
        self._apply()

    # hooks for variants --------------------------------------------------------------------------------------
    def decay(self, base_lr: float) -> float:
        """The learning rate at the current counters, ignoring warm-up."""
        return base_lr

    def momentum(self) -> float | None:
        """A momentum (or Adam's beta1) to set at the current counters, or None to leave it alone."""
        return None

    def on_epoch(self, metric: float | None) -> None:
        """Update any state that depends on the epoch's validation metric."""

    # the interface the trainer calls ----------------------------------------------------------------------
    def step_batch(self) -> None:
        """Call after every optimizer step."""
        self.step_count += 1
        self._apply()

    def step_epoch(self, metric: float | None = None) -> None:
        """Call after each epoch's validation; only `plateau` uses the metric."""
        self.epoch_count += 1
        self.on_epoch(metric)
        self._apply()

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON (no NaN or infinities): the counters and base lrs, plus a variant's own state."""
        return {"name": self.name, "step": self.step_count, "epoch": self.epoch_count,
                "base_lrs": list(self.base_lrs), **{key: getattr(self, key) for key in self.state_keys}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ConfigError(f"train.schedule: the checkpoint was written with schedule {state.get('name')!r} "
                              f"but the config asks for {self.name!r}; use the same schedule to resume")
        self.step_count, self.epoch_count = int(state["step"]), int(state["epoch"])
        self.base_lrs = [float(lr) for lr in state["base_lrs"]]
        for key in self.state_keys:
            setattr(self, key, state[key])
        self._apply()

    def _apply(self) -> None:
        warm = min(1.0, (self.step_count + 1) / (self.warmup_steps + 1))  # linear from lr/(w+1) to lr at step w
        momentum = self.momentum()
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = warm * self.decay(base_lr)
            if momentum is not None:
                _set_momentum(group, momentum)


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    if "betas" in group:
        group["betas"] = (momentum, *group["betas"][1:])
    elif group.get("momentum", 0) > 0:  # SGD without momentum, or RMSprop, stay as they are
        group["momentum"] = momentum


def _warmup_steps(warmup: float | int, total_steps: int) -> int:
    if isinstance(warmup, bool) or not isinstance(warmup, (int, float)) or not warmup >= 0:
        raise ConfigError(f"train.schedule.warmup: expected a fraction of the run (0.1) or a number of steps "
                          f"(500), got {warmup!r}")
    if warmup < 1:
        return int(round(warmup * total_steps))
    if warmup != int(warmup):
        raise ConfigError(f"train.schedule.warmup: {warmup} is neither a fraction below 1 nor a whole number of steps")
    return min(int(warmup), total_steps)


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"train.schedule.{key}: {message}")


SCHEDULES: Registry[type[Schedule]] = Registry("schedule")
SCHEDULES.register("constant")(Schedule)


def build_schedule(optimizer: torch.optim.Optimizer, spec: dict[str, Any] | str, *, total_steps: int,
                   steps_per_epoch: int) -> Schedule:
    """The schedule named by `spec["name"]`, with the rest of `spec` as its options.

    Args:
        optimizer: the optimizer to drive; its current lr is the schedule's base (peak) lr.
        spec: `{"name": "onecycle", "warmup": 0.1}`, or just a name.
        total_steps: optimizer steps in the whole run.
        steps_per_epoch: optimizer steps per epoch (`step` and `plateau` count epochs).

    Options (defaults): constant (warmup 0); onecycle (warmup = pct_start 0.25, div_factor 25,
    final_div_factor 1e4, three_phase False, cycle_momentum True, base_momentum 0.85, max_momentum 0.95);
    cosine (min_lr 0, warmup 0); step (step_size: a third of the epochs, gamma 0.1, warmup 0);
    plateau (factor 0.5, patience 3, mode min, threshold 1e-4, min_lr 0, warmup 0).

    >>> optimizer = torch.optim.AdamW(nn.Linear(2, 1).parameters(), lr=0.01)
    >>> schedule = build_schedule(optimizer, {"name": "cosine", "min_lr": 1e-4}, total_steps=100, steps_per_epoch=10)
    >>> for _ in range(100): schedule.step_batch()
    >>> schedule.current_lr()
    0.0001
    """
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    cls = SCHEDULES.get(spec.pop("name", None) or "constant", where="train.schedule.name")
    for key in spec:
        _require(key in cls.defaults, key, f"{cls.name} has no option {key!r}; its options are: "
                 f"{', '.join(cls.defaults)}")
    # at least one step: a run of 0 epochs (evaluation only, or resuming a finished run) still builds one
    try:
        return cls(optimizer, total_steps=max(1, total_steps), steps_per_epoch=max(1, steps_per_epoch),
                   **{**cls.defaults, **spec})
    except (TypeError, ValueError, ArithmeticError) as error:  # a value of the wrong kind (warmup: "a lot")
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"train.schedule: {cls.name} refuses these options ({cut(str(error))}); "
                          f"check {', '.join(sorted(spec)) or 'its options'}") from None


@SCHEDULES.register("cosine")
class CosineSchedule(Schedule):
    """Warm-up, then half a cosine from the base lr down to `min_lr` at the last step."""

    name = "cosine"
    defaults = {"min_lr": 0.0, "warmup": 0}

    def __init__(self, optimizer: torch.optim.Optimizer, *, min_lr: float, **common: Any):
        _require(min_lr >= 0, "min_lr", f"must be 0 or more, got {min_lr}")
        self.min_lr = min_lr
        super().__init__(optimizer, **common)

    def decay(self, base_lr: float) -> float:
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, max(0.0, (self.step_count - self.warmup_steps) / decay_steps))
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2


@SCHEDULES.register("step")
class StepSchedule(Schedule):
    """Warm-up, then the lr times `gamma` every `step_size` epochs (by default a third of the run)."""

    name = "step"
    defaults = {"step_size": None, "gamma": 0.1, "warmup": 0}

    def __init__(self, optimizer: torch.optim.Optimizer, *, step_size: int | None, gamma: float, **common: Any):
        epochs = math.ceil(common["total_steps"] / common["steps_per_epoch"])
        self.step_size = step_size if step_size is not None else max(1, round(epochs / 3))
        _require(isinstance(self.step_size, int) and self.step_size >= 1, "step_size",
                 f"a whole number of epochs >= 1, got {step_size!r}")
        _require(gamma > 0, "gamma", f"must be positive, got {gamma}")
        self.gamma = gamma
        super().__init__(optimizer, **common)

    def decay(self, base_lr: float) -> float:
        return base_lr * self.gamma ** (self.epoch_count // self.step_size)


@SCHEDULES.register("plateau")
class PlateauSchedule(Schedule):
    """Warm-up, then the lr times `factor` whenever the metric has not improved for more than `patience`
    epochs, as `torch.optim.lr_scheduler.ReduceLROnPlateau` does (relative `threshold`, floor `min_lr`)."""

    name = "plateau"
    defaults = {"factor": 0.5, "patience": 3, "mode": "min", "threshold": 1e-4, "min_lr": 0.0, "warmup": 0}
    state_keys = ("best", "bad_epochs", "scale")

    def __init__(self, optimizer: torch.optim.Optimizer, *, factor: float, patience: int, mode: str,
                 threshold: float, min_lr: float, **common: Any):
        _require(0 < factor < 1, "factor", f"must be between 0 and 1, got {factor}")
        _require(isinstance(patience, int) and patience >= 0, "patience", f"a whole number of epochs, got {patience!r}")
        _require(mode in ("min", "max"), "mode", f"min (for a loss) or max (for accuracy), got {mode!r}")
        _require(threshold >= 0 and min_lr >= 0, "threshold", "threshold and min_lr must be 0 or more")
        self.factor, self.patience, self.mode, self.threshold, self.min_lr = factor, patience, mode, threshold, min_lr
        self.best: float | None = None  # None until a first finite metric (JSON has no infinity)
        self.bad_epochs, self.scale = 0, 1.0  # the lr is base_lr * scale
        super().__init__(optimizer, **common)

    def on_epoch(self, metric: float | None) -> None:
        if metric is None:  # no validation this epoch: nothing to judge
            return
        improved = improves(metric, self.best, self.mode, relative=self.threshold)  # torch's relative threshold
        self.best = float(metric) if improved else self.best
        self.bad_epochs = 0 if improved else self.bad_epochs + 1
        if self.bad_epochs > self.patience:
            self.scale, self.bad_epochs = self.scale * self.factor, 0

    def decay(self, base_lr: float) -> float:
        return max(base_lr * self.scale, self.min_lr) if self.scale < 1 else base_lr


@SCHEDULES.register("onecycle")
class OneCycleSchedule(Schedule):
    """Smith's one-cycle policy, step for step as `torch.optim.lr_scheduler.OneCycleLR` (cosine annealing).

    The lr rises from lr/div_factor to lr over the first `warmup` (pct_start) of the run, then falls to
    lr/div_factor/final_div_factor; momentum (Adam's beta1) moves the opposite way, between max_momentum
    and base_momentum, when the optimizer has one. `three_phase` comes back down to lr/div_factor
    symmetrically before the final fall.
    """

    name = "onecycle"
    defaults = {"warmup": 0.25, "div_factor": 25.0, "final_div_factor": 1e4, "three_phase": False,
                "cycle_momentum": True, "base_momentum": 0.85, "max_momentum": 0.95}

    def __init__(self, optimizer: torch.optim.Optimizer, *, warmup: float | int, div_factor: float,
                 final_div_factor: float, three_phase: bool, cycle_momentum: bool, base_momentum: float,
                 max_momentum: float, **common: Any):
        total = common["total_steps"]
        # pct_start: the cycle's rise is its warm-up; a fraction is used as is, like torch's pct_start
        steps = _warmup_steps(warmup, total)
        peak = warmup if warmup < 1 else steps / total
        _require(0 < peak < 1, "warmup", f"onecycle needs a rise between 0 and the whole run, got {warmup!r}")
        _require(div_factor > 0 and final_div_factor > 0, "div_factor", "div_factors must be positive")
        self.cycle_momentum = cycle_momentum and all(
            "betas" in group or group.get("momentum", 0) > 0 for group in optimizer.param_groups)
        # phases: (end step, start and end lr as a fraction of the peak lr, start and end momentum)
        up, low, final = peak * total - 1, 1 / div_factor, 1 / div_factor / final_div_factor
        m_low, m_high = base_momentum, max_momentum
        self.phases = [(up, low, 1.0, m_high, m_low), (total - 1, 1.0, final, m_low, m_high)]
        if three_phase:  # back down to the start as fast as it rose, then the final fall at high momentum
            self.phases[1:] = [(2 * up, 1.0, low, m_low, m_high), (total - 1, low, final, m_high, m_high)]
        super().__init__(optimizer, **common)  # no extra warm-up: the cycle's rise is the warm-up

    def _phase(self) -> tuple[float, ...]:
        """(fraction of the phase done, start lr, end lr, start momentum, end momentum) at the current step."""
        start, index = 0.0, 0
        while index < len(self.phases) - 1 and self.step_count > self.phases[index][0]:
            start, index = self.phases[index][0], index + 1
        end, *values = self.phases[index]
        return (min(1.0, (self.step_count - start) / (end - start)) if end > start else 1.0, *values)

    def decay(self, base_lr: float) -> float:
        done, start, end, _, _ = self._phase()
        return base_lr * _cosine_anneal(start, end, done)

    def momentum(self) -> float | None:
        if not self.cycle_momentum:
            return None
        done, _, _, start, end = self._phase()
        return _cosine_anneal(start, end, done)


def _cosine_anneal(start: float, end: float, done: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * done) + 1)
