"""Cheap per-layer measurements, taken on sampled steps only and read with one device sync.

`WeightProbe` follows every weight matrix/kernel (parameters with 2+ dimensions, in definition order): gradient
norm, weight norm and the size of the last update relative to the weight. `ActivationProbe` hooks the activation
modules for one forward pass: the fraction of dead ReLU units and of saturated sigmoid/tanh outputs. `PathProbe`
watches one forward pass (before training) for the order the layers really run in and the layers that read an
input that is the same for every example.
"""

from __future__ import annotations

import torch
from torch import nn

from deepscope.models.layers.by_name import readable_path

# units that output exactly zero for a whole batch are dead: no gradient reaches their weights
DEAD_KINDS = {nn.ReLU: "relu", nn.ReLU6: "relu6"}
# outputs this close to the flat ends pass back almost no gradient (sigmoid'(y) < 0.01, tanh'(y) < 0.02)
SATURATING_KINDS = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardtanh: "hardtanh"}


class WeightProbe:
    def __init__(self, model: nn.Module):
        self.names, self.params = [], []
        for name, p in model.named_parameters():
            if p.requires_grad and p.dim() >= 2:
                self.names.append(layer_name(name))
                self.params.append(p)
        self.all_params = [p for p in model.parameters() if p.requires_grad]
        self.before: list[torch.Tensor] | None = None

    def snapshot(self) -> None:
        """Keep the weights as they are now, to measure the next update."""
        self.before = [p.detach().clone() for p in self.params]

    def measure(self) -> dict[str, torch.Tensor]:
        """Device tensors (no sync): per-layer grad/weight/update norms, element counts, and the total grad norm."""
        zero = torch.zeros((), device=self.params[0].device) if self.params else torch.zeros(())
        grads = [p.grad.detach() if p.grad is not None else torch.zeros_like(p) for p in self.params]
        weights = [p.detach() for p in self.params]
        grad_norm = _norms(grads, zero)
        weight_norm = _norms(weights, zero)
        updates = [w - b for w, b in zip(weights, self.before)] if self.before is not None else []
        update_norm = _norms(updates, zero) if updates else torch.full_like(weight_norm, float("nan"))
        every_grad = [p.grad.detach() for p in self.all_params if p.grad is not None]
        total = _norms(every_grad, zero).norm() if every_grad else zero
        self.before = None
        return {"grad_norm": grad_norm, "weight_norm": weight_norm, "update_norm": update_norm, "total": total}

    def sizes(self) -> list[int]:
        return [p.numel() for p in self.params]

    def first_nonfinite(self) -> tuple[str, str] | None:
        """The first layer (in depth order) whose weights or gradients hold NaN or Inf, and which of the two."""
        for name, p in zip(self.names, self.params):
            if not torch.isfinite(p.detach()).all():
                return name, "weights"
            if p.grad is not None and not torch.isfinite(p.grad).all():
                return name, "gradients"
        return None


def layer_name(name: str) -> str:
    """A parameter or module name as the user's model spells it (without DDP's or torch.compile's wrapper) and
    reads it (a column's `pm2%2E5` as pm2.5): the one place the record's layer names are made, so findings, the
    report and diagnosis.json all show these."""
    return readable_path(name.removeprefix("module.").removeprefix("_orig_mod."))


class PathProbe:
    """The network's actual path, seen in one forward pass: the order in which the measured layers run, and the
    layers whose input is the same for every example in the batch.

    Definition order is not depth: a table's category embeddings are defined before the dense layers but sit
    beside the numeric columns, not before them, and a model may define a layer it runs last. And a layer fed a
    constant (the embedding of a column with one value) gets no gradient by construction once batch
    normalisation removes the batch mean: its silence says nothing about how gradients flow through depth. Only
    inputs taken from the batch as they are (no gradient flows into them) count as constant.
    A forward pre-hook on each module that owns a measured weight records both (one device sync per layer, once).
    """

    def __init__(self, model: nn.Module, names: list[str]):
        wanted = set(names)
        self.owners: list[tuple[nn.Module, list[str]]] = []
        for module_name, module in model.named_modules():
            owned = [layer_name(f"{module_name}.{p}" if module_name else p)
                     for p, _ in module.named_parameters(recurse=False)]
            owned = [name for name in owned if name in wanted]
            if owned:
                self.owners.append((module, owned))
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self.order: list[str] = []
        self.constant_input: list[str] = []

    def install(self) -> None:
        self.order, self.constant_input = [], []
        for module, owned in self.owners:
            self.handles.append(module.register_forward_pre_hook(self._hook(owned)))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def _hook(self, owned: list[str]):
        def hook(_: nn.Module, args: tuple) -> None:
            if owned[0] in self.order:  # a shared module: where it first runs
                return
            self.order.extend(owned)
            x = args[0] if args else None
            # only data read straight from the batch: a hidden signal that has collapsed to the same value for
            # every example (deep saturated sigmoids) is on the path, and is itself the problem
            raw = isinstance(x, torch.Tensor) and not x.requires_grad
            if raw and x.dim() >= 1 and x.shape[0] > 1 and bool((x == x[:1]).all()):
                self.constant_input.extend(owned)

        return hook


def _norms(tensors: list[torch.Tensor], zero: torch.Tensor) -> torch.Tensor:
    if not tensors:
        return zero.reshape(1)[:0]
    return torch.stack([n.float() for n in torch._foreach_norm(tensors)])


class ActivationProbe:
    """Forward hooks on ReLU/sigmoid/tanh modules, installed for one forward pass at a time."""

    def __init__(self, model: nn.Module):
        self.modules: list[tuple[str, str, nn.Module]] = []
        for name, module in model.named_modules():
            kind = DEAD_KINDS.get(type(module)) or SATURATING_KINDS.get(type(module))
            if kind:
                self.modules.append((layer_name(name), kind, module))
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self.stats: dict[str, torch.Tensor] = {}

    def install(self) -> None:
        self.stats = {}
        for name, kind, module in self.modules:
            self.handles.append(module.register_forward_hook(self._hook(name, kind)))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def _hook(self, name: str, kind: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            if name not in self.stats and isinstance(output, torch.Tensor) and output.dim() >= 2:
                self.stats[name] = activation_stats(output.detach(), kind)  # first call of a shared module

        return hook

    def kinds(self) -> dict[str, str]:
        return {name: kind for name, kind, _ in self.modules}


def activation_stats(output: torch.Tensor, kind: str) -> torch.Tensor:
    """[dead fraction, saturated fraction] of one activation's output, as a device tensor.

    A unit is a feature (B, D), a channel (B, C, H, W) or the last axis of a sequence (B, T, D); it is dead when
    it is zero for every example and position in the batch.
    """
    y = output.detach()
    unit_axis = y.dim() - 1 if y.dim() == 3 else 1
    if kind in ("relu", "relu6"):
        alive = y.amax(dim=[d for d in range(y.dim()) if d != unit_axis]) > 0
        return torch.stack([1 - alive.float().mean(), torch.zeros((), device=y.device)])
    if kind == "sigmoid":
        saturated = (y < 0.01) | (y > 0.99)
    else:
        saturated = y.abs() > 0.99
    return torch.stack([torch.zeros((), device=y.device), saturated.float().mean()])


class RecurrentProbe:
    """Gradient through time in RNN/LSTM/GRU layers: how strongly the loss reaches each step's input.

    The parameter gradients of a recurrent layer sum over all time steps, so they cannot show a gradient that
    fades (or blows up) on its way back through 200 steps. The gradient with respect to the layer's input at
    step t can: it is what backpropagation through time delivers to that step. A forward pre-hook, installed
    for one step at a time like `ActivationProbe`, hooks the input (a tensor or a packed sequence) and keeps,
    per time step, the mean over the batch of the gradient's norm.
    """

    def __init__(self, model: nn.Module):
        self.modules = [(layer_name(name), m)
                        for name, m in model.named_modules() if isinstance(m, nn.RNNBase)]
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self.stats: dict[str, torch.Tensor] = {}  # name -> gradient norm per step (T,)

    def cells(self) -> dict[str, str]:
        """{layer: "rnn" | "lstm" | "gru"}: a gated cell can learn to keep the gradient's path open, a plain one not."""
        return {name: type(module).__name__.lower() for name, module in self.modules}

    def install(self) -> None:
        self.stats = {}
        for name, module in self.modules:
            self.handles.append(module.register_forward_pre_hook(self._hook(name, module)))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def _hook(self, name: str, module: nn.RNNBase):
        def hook(_: nn.Module, args: tuple) -> tuple | None:
            if name in self.stats or not torch.is_grad_enabled() or not args:
                return None
            packed = isinstance(args[0], nn.utils.rnn.PackedSequence)
            x = args[0].data if packed else args[0]
            if not x.requires_grad:  # raw inputs (a series): a stand-in that asks for its gradient
                x = x.detach().requires_grad_(True)
            self.stats[name] = torch.zeros(0, device=x.device)
            x.register_hook(self._keep(name, args[0].batch_sizes if packed else None, module.batch_first))
            first = args[0]._replace(data=x) if packed else x
            return (first, *args[1:])

        return hook

    def _keep(self, name: str, batch_sizes: torch.Tensor | None, batch_first: bool):
        def keep(grad: torch.Tensor) -> None:
            norms = grad.detach().float().norm(dim=-1)  # (B, T) or (T, B); packed: (sum of lengths,)
            if batch_sizes is None:
                self.stats[name] = norms.mean(dim=0 if batch_first else 1)
            else:  # packed rows are step by step: batch_sizes[t] rows for step t
                sizes = batch_sizes.to(norms.device)
                step = torch.repeat_interleave(torch.arange(len(sizes), device=norms.device), sizes)
                self.stats[name] = torch.zeros(len(sizes), device=norms.device).index_add_(0, step, norms) / sizes

        return keep

    def summaries(self) -> dict[str, torch.Tensor]:
        """name -> [steps, first step, last step, smallest, largest] of the per-step gradient norms (device)."""
        out = {}
        for name, per_step in self.stats.items():
            if per_step.numel():
                out[name] = torch.stack([torch.tensor(float(per_step.numel()), device=per_step.device),
                                         per_step[0], per_step[-1], per_step.min(), per_step.max()])
        return out
