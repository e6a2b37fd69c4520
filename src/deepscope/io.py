"""Atomic file writes: a killed process leaves either the old file or the new one, never half of either.

Write to a temporary file in the same folder, fsync it, rename it over the target (atomic on POSIX), then
fsync the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from deepscope.errors import DamagedFileError

# a temporary file of `atomic_write`: `.NAME.RANDOM.tmp` beside its target (a kill can leave one behind)
TEMP_PREFIX, TEMP_SUFFIX = ".", ".tmp"


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` to produce the content, then move it onto `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp (and safetensors, which replaces the file) make 0600: a shared runs folder must stay readable
        os.chmod(tmp_path, 0o666 & ~_umask())
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def _umask() -> int:
    """The process's umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    """The JSON objects of a JSON-lines file, skipping any line that is not one (cut short by a kill, or junk)."""
    rows = []
    if not Path(path).exists():
        return rows
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        row = parse_json_line(line)
        if isinstance(row, dict):
            rows.append(row)
    return rows


def parse_json_line(line: str) -> Any:
    """One JSON value, or None where the line is not JSON. Nesting thousands deep (`[[[[...`) exhausts the
    parser's recursion: that is junk too, not a crash."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def resolves_inside(path: str | Path, folder: str | Path) -> bool:
    """Whether `path`, links followed, stays inside `folder`: a file of a run folder that is a link to
    `/etc/passwd` or to a secrets file is not the run's to read or to serve."""
    try:
        Path(path).resolve(strict=True).relative_to(Path(folder).resolve(strict=True))
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, or outside
        return False
    return True


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any] | None = None) -> Path:
    """safetensors file with optional JSON metadata stored in its header (one file, one atomic rename)."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    header = {"deepscope": json.dumps(metadata, default=_jsonable)} if metadata is not None else None
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=header))


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and the JSON metadata saved by `save_tensors`. Never unpickles; a damaged file (cut short,
    overwritten, a pickle under this name) raises `DamagedFileError` before a byte of it is allocated."""
    from safetensors import safe_open

    if not Path(path).is_file():
        raise DamagedFileError(f"{path} is missing")
    if problem := safetensors_problem(path):
        raise DamagedFileError(f"{path} is damaged: {problem}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        tensors = load_file(str(path))
    except Exception as error:  # safetensors' own checks (overlapping or unordered offsets) raise its error type
        raise DamagedFileError(f"{path} is damaged: {str(error)[:200]}") from error
    metadata = parse_json_line(header["deepscope"]) if "deepscope" in header else {}
    if not isinstance(metadata, dict):
        raise DamagedFileError(f"{path} is damaged: its deepscope metadata is not a JSON object")
    return tensors, metadata


# bytes per element of each safetensors dtype
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
# deepscope's headers are kilobytes; past this a "header" is not one
_MAX_HEADER_BYTES = 100 * 2**20


def safetensors_problem(path: str | Path) -> str | None:
    """Why a safetensors file cannot be whole, from its header alone, or None: the 8-byte header length, a JSON
    object, and for every tensor a known dtype, a shape of whole numbers and data offsets that match it and lie
    inside the file. Cheap (no tensor is read), so every reader can check before it loads or builds anything."""
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "shorter than its 8-byte header length (empty or cut short)"
        length = int.from_bytes(head, "little")
        if length > min(size - 8, _MAX_HEADER_BYTES):
            return "cut short inside its header (or not a safetensors file: a pickle renamed?)"
        header = parse_json_line(handle.read(length).decode("utf-8", errors="replace"))
    if not isinstance(header, dict):
        return "its header is not a JSON object"
    body = size - 8 - length
    for name, entry in header.items():
        problem = _metadata_problem(entry) if name == "__metadata__" else _tensor_problem(entry, body)
        if problem:
            return f"{name!s:.80}: {problem}"
    return None


def _metadata_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
        return "the metadata is not a mapping of text"
    return None


def _tensor_problem(entry: Any, body: int) -> str | None:
    if not isinstance(entry, dict):
        return "not a tensor entry"
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in _DTYPE_BYTES:
        return f"unknown dtype {str(dtype)[:40]!r}"
    if not isinstance(shape, list) or not all(_whole(n) for n in shape):
        return "its shape is not a list of whole numbers"
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_whole(n) for n in offsets):
        return "its data_offsets are not two whole numbers"
    begin, end = offsets
    if not begin <= end <= body:
        return "cut short: its data ends past the end of the file"
    if end - begin != math.prod(shape) * _DTYPE_BYTES[dtype]:
        return "its data_offsets do not match its shape"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
