"""Reading one file of a run folder as untrusted data: a run folder may come from someone else (a shared drive, a
colleague's archive, a downloaded example), so a reader never follows a link out of it, never reads more than a
run's file of that kind can hold, and turns every failure into one short problem text instead of raising.

    text, problem = folder_text(run, "config.yaml")   # (the text, None) or (None, "config.yaml is a link out ...")
    value, problem = parse_json(text, "env.json")     # deep nesting ([[[[...) is a problem, not a RecursionError

The limits are far above what deepscope writes (a config is a few kB, metrics.jsonl about 300 bytes an epoch) and
far below what would exhaust a machine's memory when `runs list` reads every folder of a root.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from deepscope.config.echo import cut
from deepscope.io import resolves_inside

MB = 2**20
# the most bytes read of each file a run folder holds (bigger: a problem, and the file is not read)
READ_LIMITS = {"config.yaml": 1 * MB, "env.json": 1 * MB, "tags.json": 1 * MB, "model/model.json": 32 * MB,
               "diagnosis.json": 16 * MB}
DEFAULT_LIMIT = 1 * MB
PROBLEM_CHARS = 300  # a problem text is one line of a table: a planted megabyte message is cut
# JSON may spell a lone UTF-16 surrogate ("\ud800"), which Python keeps but SQLite and UTF-8 files cannot hold
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def link_out(folder: Path, name: str) -> bool:
    """Whether `folder/name` exists (as a file or a link) but is a link leading out of the folder, or a broken one."""
    path = folder / name
    return os.path.lexists(path) and not resolves_inside(path, folder)


def folder_text(folder: Path, name: str, limit: int | None = None) -> tuple[str | None, str | None]:
    """The UTF-8 text of `folder/name`: (text, None); (None, None) when it does not exist; (None, problem) when it
    is a link out of the folder, not a plain file, larger than `limit` bytes (READ_LIMITS by default) or not
    UTF-8 text."""
    path = folder / name
    if not os.path.lexists(path):
        return None, None
    if not resolves_inside(path, folder):
        return None, f"{name} is a link out of the run folder (not read)"
    limit = limit if limit is not None else READ_LIMITS.get(name, DEFAULT_LIMIT)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            return None, f"{name} is not a plain file (not read)"
        if status.st_size > limit:
            held = size_text(limit)
            return None, f"{name} is {size_text(status.st_size)}, more than a run's {name} holds ({held}; not read)"
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        return None, f"{name} cannot be read ({error.strerror or type(error).__name__})"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, f"{name} cannot be read (not UTF-8 text: byte {data[error.start]:#04x} at offset {error.start})"


def parse_json(text: str, name: str) -> tuple[Any, str | None]:
    """(value, None), or (None, problem) for text that is not JSON, nested too deep for the parser included."""
    try:
        return without_surrogates(json.loads(text), text), None
    except RecursionError:
        return None, f"{name} cannot be read (nested too deep to be JSON deepscope wrote)"
    except ValueError as error:
        return None, problem_text(f"{name} cannot be read ({type(error).__name__}: {str(error).splitlines()[0]})")


def without_surrogates(value: Any, text: str) -> Any:
    """`value` (parsed from JSON `text`) with every lone surrogate in its strings replaced; itself when the text
    spells none (the common case costs one regular-expression scan)."""
    return _clean(value) if SURROGATE_ESCAPE.search(text) else value


def text_only(text: str) -> str:
    """`text` with lone surrogates (from JSON escapes, or a file name's bytes that are not UTF-8) replaced."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return text_only(value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return [_clean(v) for v in value] if isinstance(value, list) else value


def problem_text(text: str) -> str:
    """One line, at most PROBLEM_CHARS characters."""
    return cut(" ".join(text.split()), PROBLEM_CHARS)


def size_text(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size:,} bytes"
