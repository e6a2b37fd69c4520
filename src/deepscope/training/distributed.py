"""Where training runs, as a small object: `SingleDevice` (one process) or `DDP` (one process per device, started
by torchrun). The trainer calls the same hooks on either and never branches on which it has.

Under DDP every rank runs the same program on its own part of each global batch (`shard`): `train.batch_size`
is the global batch, so N processes take the steps one process would. Gradients are averaged by PyTorch's
DistributedDataParallel; what the loop reads (the running loss, the stop flag, evaluation metrics) is reduced
over the ranks, so every rank decides alike; writing (logs, checkpoints, the model) is rank 0's alone.

    strategy = strategy_for("auto")   # DDP when started by torchrun (WORLD_SIZE > 1), else SingleDevice
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from deepscope.errors import ConfigError

# how long a rank waits in a collective for the others before it gives up with an error instead of hanging
# (a rank killed on another machine; on one node torchrun's agent stops the others at once)
COLLECTIVE_TIMEOUT_S = 600.0
TIMEOUT_VARIABLE = "DEEPSCOPE_DDP_TIMEOUT"


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """`auto` picks CUDA when there is a GPU, else the CPU; `cuda`, `cuda:1`, `cpu`, `mps` are taken as given.
    Under DDP, `auto` and `cuda` mean this process's own GPU, `cuda:LOCAL_RANK`."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"train.device: unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: cuda was asked for but no CUDA GPU is available; use device: auto or cpu")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


class SingleDevice:
    """One process, one device: the plain behaviour, whose hooks `DDP` overrides."""

    is_main = True
    rank = 0
    world_size = 1

    def __init__(self, device: torch.device):
        self.device = device

    @property
    def shard(self) -> tuple[int, int]:
        """(rank, world size): which part of each global batch this process reads."""
        return self.rank, self.world_size

    def setup(self, model: nn.Module) -> nn.Module:
        """The model on the device, ready to train; returns what the loop calls (DDP: a wrapper around it)."""
        model = model.to(self.device)
        if any(isinstance(m, nn.Conv2d) for m in model.modules()):
            # NHWC convolutions are faster on current CPUs (oneDNN) and on tensor-core GPUs; results are the same
            model = model.to(memory_format=torch.channels_last)
        return model

    def unwrap(self, model: nn.Module) -> nn.Module:
        """The model itself, from what `setup` returned."""
        return model

    def reduce_mean(self, value: torch.Tensor) -> torch.Tensor:
        """`value`'s mean over the ranks."""
        return value

    def reduce_sum(self, value: torch.Tensor) -> torch.Tensor:
        return value

    def any(self, flag: bool) -> bool:
        """True when `flag` is true on any rank: what every rank must agree on, such as stopping."""
        return flag

    def stops(self, flag: bool, *, at_log_point: bool) -> bool:
        """Whether the loop stops after this step, when a callback asked for it (`flag`) here or on any rank."""
        return flag

    def merge_metrics(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """Each metric over every rank's rows (`Metric.merge`)."""
        return dict(metrics)

    def broadcast_module(self, model: nn.Module) -> None:
        """Give every rank rank 0's weights and buffers (after rank 0 alone restored its best epoch)."""

    def barrier(self) -> None:
        pass

    def close(self) -> None:
        """End the process group (a no-op in one process)."""

    def alone(self) -> SingleDevice:
        """The strategy for what this process does by itself once the ranks are done together."""
        return self


class DDP(SingleDevice):
    """One process per device, started by torchrun (its RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR... variables):
    gloo on CPUs, NCCL on CUDA GPUs, through `torch.nn.parallel.DistributedDataParallel`."""

    def __init__(self, device_name: str = "auto", *, timeout_s: float | None = None,
                 environ: Mapping[str, str] | None = None):
        import torch.distributed as dist

        environ = os.environ if environ is None else environ
        self.rank, self.world_size = int(environ["RANK"]), int(environ["WORLD_SIZE"])
        self.local_rank = int(environ.get("LOCAL_RANK", 0))
        self.is_main = self.rank == 0
        super().__init__(resolve_device(device_name, self.local_rank))
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.backend = "nccl" if self.device.type == "cuda" else "gloo"
        timeout = timeout_s or float(environ.get(TIMEOUT_VARIABLE, COLLECTIVE_TIMEOUT_S))
        if not dist.is_initialized():
            dist.init_process_group(self.backend, timeout=datetime.timedelta(seconds=timeout),
                                    **({"device_id": self.device} if self.device.type == "cuda" else {}))
        self.dist = dist

    def setup(self, model: nn.Module) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        model = super().setup(model)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def unwrap(self, model: nn.Module) -> nn.Module:
        return getattr(model, "module", model)

    def reduce_sum(self, value: torch.Tensor) -> torch.Tensor:
        value = value.detach().clone()
        self.dist.all_reduce(value, op=self.dist.ReduceOp.SUM)
        return value

    def reduce_mean(self, value: torch.Tensor) -> torch.Tensor:
        return self.reduce_sum(value) / self.world_size

    def any(self, flag: bool) -> bool:
        return bool(self.reduce_sum(torch.tensor(float(flag), device=self.device)).item())

    def stops(self, flag: bool, *, at_log_point: bool) -> bool:
        # agreeing costs a collective, so the ranks agree at log points only: a stop asked between waits for one
        return self.any(flag) if at_log_point else False

    def merge_metrics(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        local = {name: _on_cpu(metric) for name, metric in metrics.items()}
        gathered: list[Any] = [None] * self.world_size
        self.dist.all_gather_object(gathered, local)  # small accumulators (sums, confusion matrices, ids)
        merged = gathered[0]
        for other in gathered[1:]:
            for name, metric in merged.items():
                metric.merge(other[name])
        return merged

    def broadcast_module(self, model: nn.Module) -> None:
        with torch.no_grad():
            for tensor in [*model.parameters(), *model.buffers()]:
                self.dist.broadcast(tensor.data, src=0)

    def barrier(self) -> None:
        self.dist.barrier()

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()

    def alone(self) -> SingleDevice:
        return SingleDevice(self.device)


def launched_by_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is one of several that torchrun started (WORLD_SIZE above 1)."""
    environ = os.environ if environ is None else environ
    return int(environ.get("WORLD_SIZE", "1") or 1) > 1


def lost_a_rank(error: BaseException) -> bool:
    """Whether `error` is this rank losing contact with another (which died): a consequence, said as one line
    while the launcher names the rank that failed."""
    import torch.distributed as dist

    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(
        mark in text for mark in ("gloo", "NCCL", "Connection reset by peer", "Connection closed by peer"))


def strategy_for(device_name: str = "auto") -> SingleDevice:
    """DDP when torchrun started this process as one of several, else one process on `device_name`."""
    return DDP(device_name) if launched_by_torchrun() else SingleDevice(resolve_device(device_name))


def _on_cpu(metric: Any) -> Any:
    """A copy of `metric` whose accumulator tensors are on the CPU, to send to the other ranks."""
    import copy

    copied = copy.copy(metric)
    for name, value in vars(metric).items():
        if isinstance(value, torch.Tensor):
            setattr(copied, name, value.detach().cpu())
        elif isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
            setattr(copied, name, [v.detach().cpu() for v in value])
        elif hasattr(value, "merge") and hasattr(value, "compute"):  # a metric inside a metric
            setattr(copied, name, _on_cpu(value))
    return copied


Strategy = SingleDevice  # what a strategy is: the plain behaviour, whose hooks DDP overrides
