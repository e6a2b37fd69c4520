"""What made the run and what it cost: the resolved config, the environment (versions, hardware, seed) and
timings (per epoch, in all), with the files the run folder holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deepscope.report.context import ReportContext
from deepscope.report.html import escape, key_values, note, table
from deepscope.track.runfiles import folder_text

MAX_CONFIG_CHARS = 20_000


def config(context: ReportContext) -> str:
    if context.info.config:
        text = yaml.safe_dump(context.info.config, sort_keys=False, default_flow_style=None, width=100)
        return f"<pre>{escape(text[:MAX_CONFIG_CHARS])}</pre>"
    # unreadable as a config: show its text, so the reader can see what went wrong, but only a file of the run
    # folder and within bounds (a link to a secrets file is never copied into the report)
    text, problem = folder_text(context.path, "config.yaml")
    if text is not None:
        shown = f"<pre>{escape(text[:MAX_CONFIG_CHARS])}</pre>"
        return note("config.yaml could not be read as a config; its text:") + shown
    return note(f"{problem}; it is not shown." if problem else "config.yaml is missing.")


def environment(context: ReportContext) -> str:
    env = context.info.env
    if not env:
        return note("env.json is missing or unreadable.")
    pairs: list[tuple[str, Any]] = []
    for group in ("versions", "hardware"):
        for key, value in (env.get(group) or {}).items():
            pairs.append((f"{key}" if group == "hardware" else f"{key} version", value))
    for key in ("seed", "started"):
        if key in env:
            pairs.append((key, env[key]))
    if env.get("command"):
        pairs.append(("command", " ".join(str(part) for part in env["command"])))
    return key_values(pairs)


def timings(context: ReportContext) -> str:
    epochs = context.info.epochs
    times = [r.get("time") for r in epochs if isinstance(r.get("time"), (int, float))]
    parts = []
    if times:
        pairs: list[tuple[str, Any]] = [("epochs", len(times)), ("training time, s", sum(times)),
                                        ("mean per epoch, s", sum(times) / len(times))]
        if len(times) > 1:
            pairs.append(("first epoch, s (includes warm-up)", times[0]))
            pairs.append(("slowest epoch, s", max(times)))
        n_train, epochs_done = context.record("task").get("n_train"), len(times)
        if n_train:
            pairs.append(("training examples per second", n_train * epochs_done / max(sum(times), 1e-9)))
        parts.append(key_values(pairs))
    else:
        parts.append(note("No epoch times were recorded."))
    parts.append("<h3>Files</h3>" + files_table(context.path))
    return "\n".join(parts)


def files_table(folder: Path) -> str:
    rows = []
    # a link is listed as a link, never followed (its size is the link's own)
    for path in sorted(p for p in folder.rglob("*") if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")):
        rows.append([str(path.relative_to(folder)) + (" (a link)" if path.is_symlink() else ""),
                     _size(path.lstat().st_size)])
    return table(["file", "size"], rows[:50])


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""
