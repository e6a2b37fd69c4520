"""Checkpoints that resume a run on the same trajectory, in one safetensors file (no pickle).

Tensors (weights, optimizer moments, RNG states) go in the safetensors body; everything else (epoch, step,
schedule, callbacks, NumPy and Python RNG states) goes as JSON in its header. One file means one atomic
rename: a run killed while checkpointing keeps the previous checkpoint intact.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.io import load_tensors, save_tensors


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split `optimizer.state_dict()` into tensors and JSON."""
    state = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value
            else:
                plain[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "plain": plain}


def load_optimizer_state(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                         meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in meta["plain"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_state(shuffle: torch.Generator) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"rng.torch": torch.get_rng_state(), "rng.shuffle": shuffle.get_state()}
    if torch.cuda.is_available():
        tensors.update({f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    version, python_state, python_gauss = random.getstate()
    plain = {
        "numpy": [kind, keys.tolist(), position, has_gauss, gauss],
        "python": [version, list(python_state), python_gauss],
    }
    return tensors, plain


def load_rng_state(shuffle: torch.Generator, tensors: dict[str, torch.Tensor], plain: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    shuffle.set_state(tensors["rng.shuffle"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, keys, position, has_gauss, gauss = plain["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, gauss))
    version, python_state, python_gauss = plain["python"]
    random.setstate((version, tuple(python_state), python_gauss))


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    shuffle: torch.Generator, meta: dict[str, Any],
                    extra: dict[str, torch.nn.Module] | None = None) -> Path:
    """Everything needed to continue: model, optimizer, RNGs, the trainer's `meta` (JSON), and `extra` modules
    (e.g. a weight average) by name."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    for name, module in (extra or {}).items():
        tensors.update({f"{name}.{k}": v for k, v in module.state_dict().items()})
    optimizer_tensors, optimizer_plain = optimizer_state(optimizer)
    rng_tensors, rng_plain = rng_state(shuffle)
    tensors.update(optimizer_tensors)
    tensors.update(rng_tensors)
    return save_tensors(path, tensors, {**meta, "optimizer": optimizer_plain, "rng": rng_plain})


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    shuffle: torch.Generator, extra: dict[str, torch.nn.Module] | None = None) -> dict[str, Any]:
    """Restore model, extra modules, optimizer and RNGs in place; return the trainer's meta."""
    tensors, meta = load_tensors(path)
    for name, module in {"model": model, **(extra or {})}.items():
        module.load_state_dict({k[len(name) + 1 :]: v for k, v in tensors.items() if k.startswith(f"{name}.")})
    load_optimizer_state(optimizer, tensors, meta["optimizer"])  # torch moves moments to the params' device
    load_rng_state(shuffle, tensors, meta["rng"])
    return meta


def has_tensors(path: str | Path, prefix: str) -> bool:
    """Whether the checkpoint holds tensors named `prefix.*` (e.g. a weight average), without loading them."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return any(key.startswith(f"{prefix}.") for key in handle.keys())
