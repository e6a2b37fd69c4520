"""Checkpoints that resume a run on the same trajectory, in one safetensors file (no pickle).

Tensors (weights, optimizer moments, RNG states) go in the safetensors body; everything else (epoch, step,
schedule, callbacks, NumPy and Python RNG states) goes as JSON in its header. One file means one atomic
rename: a run killed while checkpointing, or stopped by a full disk, keeps the previous checkpoint intact.

A checkpoint is read as untrusted data (a run folder may come from someone else, or be damaged): a file that is
cut short or not safetensors, metadata without the keys the trainer wrote, tensors of another model's shapes,
or values that do not fit all raise one `DamagedFileError` naming the file and what to do.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.errors import DamagedFileError, UserError
from deepscope.io import load_tensors, save_tensors

# what to do about a checkpoint that cannot be resumed from: without checkpoints/last.safetensors, `--resume`
# trains the run again from its first epoch
DAMAGED_FIX = "move it away to train the run again from the beginning with --resume, or start a new run"
DAMAGED_BEST_FIX = "move it away and --resume again (the best weights so far are lost), or start a new run"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # "no space left", "disk quota exceeded"


class DiskFullError(UserError):
    """The disk filled up while a checkpoint was written; the previous checkpoint is whole."""


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
    with writing_checkpoint(path):
        return save_tensors(path, tensors, {**meta, "optimizer": optimizer_plain, "rng": rng_plain})


@contextmanager
def writing_checkpoint(path: str | Path) -> Iterator[None]:
    """A full disk while writing `path` becomes one clear `DiskFullError`; the atomic write has kept the previous
    file whole and removed its own temporary file."""
    try:
        yield
    except Exception as error:
        if not is_disk_full(error):
            raise
        raise DiskFullError(f"no space left on device while writing {path}; the last good checkpoint is kept: "
                            "free some space, then continue the run with `deepscope train --resume RUN_DIR`") from None


def is_disk_full(error: BaseException) -> bool:
    """An OSError of a full disk or quota, or safetensors' own error type carrying one ("... (os error 28)")."""
    if isinstance(error, OSError):
        return error.errno in DISK_FULL
    return type(error).__name__ == "SafetensorError" and any(f"(os error {code})" in str(error) for code in DISK_FULL)


def read_checkpoint(path: str | Path, meta_like: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A checkpoint's tensors and meta, checked before anything is restored: a whole safetensors file, and every
    key of `meta_like` (the trainer's own meta) present with a value of the same JSON type, the optimizer's and
    RNGs' parts too. Anything else raises `DamagedFileError` naming the file."""
    if not Path(path).is_file():
        raise UserError(f"checkpoint {path} does not exist (or is not a file)")
    try:
        tensors, meta = load_tensors(path)
    except DamagedFileError as error:
        raise DamagedFileError(f"checkpoint {error}; {DAMAGED_FIX}") from None
    if problem := _meta_problem(meta, {**meta_like, "optimizer": {}, "rng": {}}):
        raise damaged(path, problem)
    return tensors, meta


def restore_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                       modules: Mapping[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                       shuffle: torch.Generator) -> None:
    """Put what `read_checkpoint` returned into the modules (by prefix: "model", "eval_model"), the optimizer and
    the RNGs, in place, once each module's tensors are found to be exactly its names and shapes."""
    for prefix, module in modules.items():
        if problem := _shape_problem(tensors, prefix, module):
            raise damaged(path, f"{problem} (was the model's config changed since?)")
    with restoring(path):
        for name, module in modules.items():
            module.load_state_dict({k[len(name) + 1 :]: v for k, v in tensors.items() if k.startswith(f"{name}.")})
        load_optimizer_state(optimizer, tensors, meta["optimizer"])  # torch moves moments to the params' device
        load_rng_state(shuffle, tensors, meta["rng"])


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    shuffle: torch.Generator, extra: dict[str, torch.nn.Module] | None = None,
                    meta_like: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check and restore model, extra modules, optimizer and RNGs in place; return the trainer's meta."""
    tensors, meta = read_checkpoint(path, meta_like or {})
    restore_checkpoint(path, tensors, meta, {"model": model, **(extra or {})}, optimizer, shuffle)
    return meta


@contextmanager
def restoring(path: str | Path, fix: str = DAMAGED_FIX) -> Iterator[None]:
    """Values that pass the checks but still do not fit (an optimizer state of other parameter groups, an RNG
    state of the wrong size) are a damaged checkpoint too, not a crash. A deliberate refusal (a UserError, such
    as a schedule other than the checkpoint's) passes through as it is."""
    try:
        yield
    except UserError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        detail = str(error).splitlines()[0][:160] if str(error) else ""
        raise damaged(path, f"its contents do not fit this run ({type(error).__name__}: {detail})", fix) from error


def damaged(path: str | Path, problem: str, fix: str = DAMAGED_FIX) -> DamagedFileError:
    return DamagedFileError(f"checkpoint {path} cannot be resumed from: {problem}; {fix}")


def _meta_problem(meta: dict[str, Any], like: Mapping[str, Any]) -> str | None:
    missing = [key for key in like if key not in meta]
    if missing:
        return f"its metadata lacks {', '.join(missing)}"
    for key, value in like.items():
        expected, found = _json_kind(value), _json_kind(meta[key])
        if found != expected and (expected, found) != ("a number", "a whole number"):  # 3 is a number too
            return f"its metadata's {key} is {found}, not {expected}"
    return None


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    return {float: "a number", str: "text", list: "a list", dict: "a mapping"}.get(type(value), "null")


def _shape_problem(tensors: dict[str, torch.Tensor], prefix: str, module: torch.nn.Module) -> str | None:
    """Whether the checkpoint's `prefix.*` tensors are exactly `module`'s, name for name and shape for shape."""
    expected = {f"{prefix}.{k}": tuple(v.shape) for k, v in module.state_dict().items()}
    saved = {k: tuple(v.shape) for k, v in tensors.items() if k.startswith(f"{prefix}.")}
    if missing := sorted(set(expected) - set(saved)):
        return f"it has no {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
    if unexpected := sorted(set(saved) - set(expected)):
        return f"it holds {unexpected[0]}, which this run's model does not have"
    for name, shape in expected.items():
        if saved[name] != shape:
            return f"{name} is {list(saved[name])} in it but {list(shape)} in this run's model"
    return None
