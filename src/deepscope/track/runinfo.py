"""What a run directory holds, read without ever failing: the one place the store, the report and the dashboard
learn about a run.

A run directory can be finished, still training, killed half-way, or damaged (a file cut short, a config that
no longer parses). `read_run` never raises for any of these: it reads what it can and says what is missing in
`status` and `problems`, so one bad folder cannot break a listing.

    info = read_run("runs/mnist-20261123-214500")
    info.status      # "finished" | "running" | "incomplete"
    info.problems    # ["metrics.jsonl line 7 is not JSON (cut short?)", ...]
    info.epochs      # per-epoch rows of metrics.jsonl;  info.finals: {"test": {...}} final evaluations
    info.headline()  # {"test.accuracy": 0.99, ...}: the numbers a runs table shows
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FILES = ("config.yaml", "metrics.jsonl", "env.json", "model/model.json", "diagnosis.json")
RUNNING_FOR = 120.0  # seconds: a run without a model whose metrics changed this recently is taken to be training


@dataclass
class RunInfo:
    path: Path
    status: str = "incomplete"  # finished: model saved; running: metrics written recently; incomplete: neither
    problems: list[str] = field(default_factory=list)  # why it is incomplete, or what could not be read
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)  # split -> final metrics
    forecast: dict[str, Any] = field(default_factory=dict)  # split -> the forecasting evaluation
    model: dict[str, Any] = field(default_factory=dict)  # model/model.json
    diagnosis: dict[str, Any] = field(default_factory=dict)  # diagnosis.json: {"findings": [...], "record": {...}}
    modified: float = 0.0  # newest modification time of its files (seconds since the epoch)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def started(self) -> str | None:
        return self.env.get("started")

    @property
    def task(self) -> str:
        """'forecast', or the output feature types joined ('category', 'binary+number'), or '' if unknown."""
        if self.config.get("data", {}).get("series"):
            return "forecast"
        outputs = self.model.get("outputs") or {}
        return "+".join(sorted({o.get("type", "?") for o in outputs.values()}))

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.diagnosis.get("findings") or [])

    def headline(self) -> dict[str, float]:
        """Final scalar metrics as "split.metric" (test first), for tables and comparisons."""
        order = sorted(self.finals, key=lambda s: (s != "test", s != "val", s))
        return {f"{split}.{k}": v for split in order for k, v in self.finals[split].items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}

    def params(self) -> dict[str, Any]:
        """The config flattened to dotted keys ("train.optimizer.lr": 0.01): what a run was trained with."""
        return flatten(self.config)


def read_run(path: str | Path) -> RunInfo:
    """Everything readable in a run directory; never raises for a damaged or partial one."""
    folder = Path(path)
    info = RunInfo(folder)
    if not folder.is_dir():
        info.problems.append("not a folder")
        return info
    info.config = _read(info, "config.yaml", lambda text: yaml.safe_load(text) or {}) or {}
    info.env = _read(info, "env.json", json.loads) or {}
    info.model = _read(info, "model/model.json", json.loads) or {}
    info.diagnosis = _read(info, "diagnosis.json", json.loads, required=False) or {}
    _read_metrics(info)
    info.modified = max((p.stat().st_mtime for p in _existing(folder)), default=folder.stat().st_mtime)
    weights = folder / "model" / "weights.safetensors"
    if weights.exists() and (damage := _damaged_weights(weights)):
        info.problems.append(f"model/weights.safetensors is damaged ({damage})")
    if info.model and weights.exists() and not info.problems:
        info.status = "finished"
    elif not info.model and time.time() - info.modified < RUNNING_FOR and (folder / "metrics.jsonl").exists():
        info.status = "running"
    else:
        info.status = "incomplete"
        if not info.model and not any("model/model.json" in p for p in info.problems):
            info.problems.append("no trained model (model/model.json is missing): stopped before the end?")
        elif info.model and not weights.exists():
            info.problems.append("model/weights.safetensors is missing")
    return info


def is_run_dir(path: Path) -> bool:
    """A folder that looks like a run (any of its files present), finished or not."""
    return path.is_dir() and any((path / name).exists() for name in FILES)


def find_runs(root: str | Path) -> list[Path]:
    """Run directories directly under `root` (and `root` itself if it is one), newest name first."""
    root = Path(root)
    if is_run_dir(root):
        return [root]
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if is_run_dir(p)), key=lambda p: p.name, reverse=True)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten(value, name) if isinstance(value, dict) and value else {name: value})
    return flat


def _read(info: RunInfo, name: str, parse: Any, required: bool = True) -> Any:
    path = info.path / name
    if not path.exists():
        if required and name != "model/model.json":  # a missing model is judged with the status
            info.problems.append(f"{name} is missing")
        return None
    try:
        value = parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        info.problems.append(f"{name} cannot be read ({type(error).__name__}: {str(error).splitlines()[0][:120]})")
        return None
    if not isinstance(value, dict):
        info.problems.append(f"{name} does not hold a mapping")
        return None
    return value


def _read_metrics(info: RunInfo) -> None:
    path = info.path / "metrics.jsonl"
    if not path.exists():
        info.problems.append("metrics.jsonl is missing")
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            last = number == len(lines)
            info.problems.append(f"metrics.jsonl line {number} is not JSON" + (" (cut short?)" if last else ""))
            continue
        if not isinstance(row, dict):
            info.problems.append(f"metrics.jsonl line {number} is not an object")
        elif "forecast" in row:
            info.forecast[str(row["forecast"])] = {k: v for k, v in row.items() if k != "forecast"}
        elif "split" in row:
            info.finals[str(row["split"])] = {k: v for k, v in row.items() if k != "split"}
        else:
            info.epochs.append(row)


def _damaged_weights(path: Path) -> str | None:
    """Why a safetensors file cannot be whole, from its header alone (8-byte length, JSON, data offsets): a
    cheap check that catches a file cut short or overwritten, without loading a tensor."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "shorter than its header"
        length = int.from_bytes(head, "little")
        if length > size - 8:
            return "cut short inside its header"
        try:
            header = json.loads(handle.read(length))
        except ValueError:
            return "its header is not JSON"
    ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)
            and isinstance(t.get("data_offsets"), list) and len(t["data_offsets"]) == 2]
    if not isinstance(header, dict) or 8 + length + max(ends, default=0) > size:
        return "cut short: its tensors end past the end of the file"
    return None


def _existing(folder: Path) -> list[Path]:
    return [folder / name for name in FILES if (folder / name).exists()]
