"""Where a command's time goes: with DEEPSCOPE_PROFILE=PATH in the environment, each `mark(phase)` notes the
wall-clock time at which `phase` ended, and at exit the marks are written to PATH as JSON
(`{"pid": ..., "marks": [[phase, unix time], ...]}`), for `bench/command_breakdown.py`. Without the variable
a mark costs one dictionary look-up, so the marks can stay in the workflows.

    mark("data")        # prepare_data has just returned
"""

from __future__ import annotations

import atexit
import json
import os
import time
from pathlib import Path

from deepscope.io import write_text  # imported now: at exit an import may register no more exit handlers

ENV = "DEEPSCOPE_PROFILE"
_marks: list[tuple[str, float]] = []


def mark(phase: str) -> None:
    """Note that `phase` ends now (wall-clock, comparable with the launching process's `time.time()`)."""
    path = os.environ.get(ENV)
    if not path:
        return
    if not _marks:
        atexit.register(_write, Path(path))
    _marks.append((phase, time.time()))


def _write(path: Path) -> None:
    write_text(path, json.dumps({"pid": os.getpid(), "marks": _marks}))
