"""One harness for every table of hostile cases: plant the case, run the command, assert the exact outcome.

A hostile case ends in one of two ways, and nothing else counts:

    refused(result, "config.yaml", "line 3")   # exit code 2, one message naming every given place, no traceback
    untouched(before, snapshot(sandbox))       # and no file outside the run root was created, changed or removed

Cases that could exhaust memory run in a fresh process under an address-space limit (`run_bounded`): a bomb that
gets past the toolkit's own bounds dies there with a MemoryError instead of taking the machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

# a fresh `deepscope` process with torch imported needs about 1 GB of address space; a decoded bomb needs many more
MEMORY_LIMIT_MB = 2000
# a message is one sentence or a few; an echoed bomb is megabytes
MESSAGE_LIMIT = 2000


def refused(result: subprocess.CompletedProcess, *places: str) -> str:
    """Assert a clean refusal (exit code 2, no traceback, a bounded message naming every place); return the text."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text[-3000:]
    assert result.returncode == 2, f"exit code {result.returncode}, expected 2:\n{text[-3000:]}"
    assert len(text) < MESSAGE_LIMIT, f"a {len(text)}-character message (values echoed whole?): {text[:500]}..."
    for place in places:
        assert place in text, f"the message does not name {place!r}:\n{text}"
    return text


def succeeded(result: subprocess.CompletedProcess) -> str:
    """Assert the command worked (exit code 0, no traceback); return the text."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text[-3000:]
    assert result.returncode == 0, f"exit code {result.returncode}:\n{text[-3000:]}"
    return text


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple[int, int, bool]]:
    """(size, modification time, is a link) of everything under `folder`, except under `skip` (the run root)."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        status = path.lstat()
        seen[str(path.relative_to(folder))] = (status.st_size, status.st_mtime_ns, path.is_symlink())
    return seen


def untouched(before: dict[str, tuple[int, int, bool]], after: dict[str, tuple[int, int, bool]]) -> None:
    created = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
    assert not (created or removed or changed), f"created {created}, removed {removed}, changed {changed}"


def run_bounded(*args: str, cwd: Path, memory_mb: int = MEMORY_LIMIT_MB,
                timeout: float = 120) -> subprocess.CompletedProcess:
    """`deepscope ARGS...` in a fresh process that may not map more than `memory_mb` of memory."""
    limit = memory_mb * 2**20

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "deepscope.cli", *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=limit_memory, timeout=timeout,
                          env={**os.environ, "PYTHONFAULTHANDLER": "0"})
