"""`data.stream: auto`: would the data fit in memory? An estimate from a sample against a budget.

    budget = memory_budget()                      # half of MemAvailable, or DEEPSCOPE_MEMORY_LIMIT ("2G", "512M")
    need = in_memory_bytes(listing)               # what prepare_data's in-memory path would hold
    need > budget                                 # -> stream

The in-memory path holds every example twice: the decoded raw values (`PreparedData.raw`: uint8 pixels, float32
samples, Python strings) and the encoded tensors (float32 pixels, spectrogram inputs, token ids). A sample of
SAMPLE_FILES training files gives the bytes of one example; the listing gives the number of examples. Half of
the memory the kernel says is available leaves room for the model, the optimizer and the other processes.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import ConfigError, DataError

ENV = "DEEPSCOPE_MEMORY_LIMIT"
FRACTION = 0.5  # of MemAvailable: the rest is the model's, the optimizer's and the other processes'
SAMPLE_FILES = 32  # files decoded to estimate one example's size (sizes vary little within a data set)
LABEL_BYTES = 72  # a class name as a Python str in an object array (~56 bytes) and its int64 code
TEXT_FACTOR = 3  # a text held as str (about its size in bytes) and its token ids (8 bytes per ~4 characters)
CELL_BYTES = 64  # a table cell held as a Python str in an object array, and its encoded value
HEAD_LINES = 1_000  # a table's first lines, for its mean line length and number of fields
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def memory_budget() -> int:
    """Bytes the in-memory path may hold: DEEPSCOPE_MEMORY_LIMIT if set, else FRACTION of the available memory."""
    given = os.environ.get(ENV)
    return parse_bytes(given, ENV) if given else int(available_memory() * FRACTION)


def parse_bytes(text: str, where: str) -> int:
    """"2G", "512M", "1.5g", "1000000" -> bytes (powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not found:
        raise ConfigError(f"{where}: {text!r} is not an amount of memory; write e.g. 2G, 512M or 1000000 (bytes)")
    return int(float(found.group(1)) * UNITS[found.group(2)])


def available_memory() -> int:
    """MemAvailable from /proc/meminfo (what can be allocated without swapping), else the free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def in_memory_bytes(references: np.ndarray, kind: str, rows: int) -> int:
    """Bytes `rows` examples like `references` (files of `kind`) would take in memory, raw and encoded."""
    if not len(references):
        return 0
    picked = np.random.default_rng(0).choice(len(references), min(SAMPLE_FILES, len(references)), replace=False)
    sample = [str(references[i]) for i in picked]
    return int(_bytes_per_example(sample, kind) * rows) + LABEL_BYTES * rows


def _bytes_per_example(sample: list[str], kind: str) -> float:
    """Mean bytes of one example over the readable files of `sample` (0 if none: the in-memory loader then says
    what is wrong with them, and skips what it can)."""
    from deepscope.data.stream.reading import read_bytes, read_value

    read = (lambda reference: read_bytes(reference)[0]) if kind == "text" else partial(read_value, kind)
    values = [value for reference in sample if (value := _readable(read, reference)) is not None]
    if not values:
        return 0.0
    if kind == "image":
        (height, width), _ = Counter(image.size for image in values).most_common(1)[0]
        channels = 1 if all(image.mode in ("1", "L", "LA", "I", "I;16", "F") for image in values) else 3
        return height * width * channels * (1 + 4)  # uint8 raw + float32 encoded
    if kind == "audio":
        return float(np.mean([len(recording.samples) for recording in values])) * (4 + 4)  # raw + encoded float32
    return float(np.mean([len(data) for data in values])) * TEXT_FACTOR + 49


def _readable(read: Callable[[str], Any], reference: str) -> Any:
    try:
        return read(reference)
    except DataError:
        return None


def table_bytes(path: Path) -> int:
    """Bytes a table would take in memory: rows (its size over the mean length of its first lines) times fields
    (the most of `, TAB ; |` in the first line, plus one) times CELL_BYTES."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = [line for line in (handle.readline() for _ in range(HEAD_LINES)) if line.strip()]
    if not head:
        return size
    fields = 1 + max(head[0].count(d) for d in (b",", b"\t", b";", b"|"))
    rows = size / (sum(map(len, head)) / len(head))
    return int(rows * fields * CELL_BYTES) + size


def describe_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"
