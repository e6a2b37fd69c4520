"""Atomic file writes: a killed process leaves either the old file or the new one, never half of either.

Write to a temporary file in the same folder, fsync it, rename it over the target (atomic on POSIX), then
fsync the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` to produce the content, then move it onto `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def fsync_folder(folder: Path) -> None:
    """Make a rename inside `folder` durable (POSIX); skipped where a folder cannot be opened or synced."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def append_line(path: str | Path, data: dict[str, Any]) -> None:
    """Append one JSON line and fsync. A kill mid-write can leave a partial last line; readers skip it."""
    with open(path, "a") as handle:
        handle.write(json.dumps(data, default=_jsonable) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_lines(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    if not Path(path).exists():
        return rows
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a killed process
    return rows


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any] | None = None) -> Path:
    """safetensors file with optional JSON metadata stored in its header (one file, one atomic rename)."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    header = {"deepscope": json.dumps(metadata, default=_jsonable)} if metadata is not None else None
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=header))


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and the JSON metadata saved by `save_tensors`. Never unpickles."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata() or {}
    metadata = json.loads(header["deepscope"]) if "deepscope" in header else {}
    return load_file(str(path)), metadata
