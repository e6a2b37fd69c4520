"""What a run directory holds, read without ever failing: the one place the store, the report and the dashboard
learn about a run.

A run directory can be finished, still training, killed half-way, damaged (a file cut short, a config that no
longer parses) or planted by someone else (a link to a secrets file, a 2 GB metrics.jsonl, JSON nested 3,000 deep,
a YAML alias bomb). `read_run` never raises for any of these: it reads what it can, within bounds and never
through a link out of the folder (track/runfiles.py), and says what is wrong in `status` and `problems`, so one
bad folder cannot break a listing.

    info = read_run("runs/mnist-20261123-214500")
    info.status      # "finished" | "running" | "incomplete"
    info.problems    # ["metrics.jsonl line 7 is not JSON (cut short?)", ...]
    info.epochs      # per-epoch rows of metrics.jsonl;  info.finals: {"test": {...}} final evaluations
    info.headline()  # {"test.accuracy": 0.99, ...}: the numbers a runs table shows

A run is `finished` when its model can be loaded (model.json holds what `load_model` reads, the weights' header
is whole) and its final evaluation was written (when the config made a val or test split); `running` when it
has not got that far and its metrics changed in the last RUNNING_FOR seconds; `incomplete` otherwise, with why.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepscope.config.loading import parse_yaml
from deepscope.errors import UserError
from deepscope.io import parse_json_line, safetensors_problem
from deepscope.track.rundir import MODEL_DIR, MODEL_FILE, WEIGHTS_FILE, one_row_per_epoch
from deepscope.track.runfiles import MB, folder_text, link_out, parse_json, problem_text, size_text, without_surrogates

FILES = ("config.yaml", "metrics.jsonl", "env.json", "model/model.json", "diagnosis.json")
MODEL_JSON, WEIGHTS = f"{MODEL_DIR}/{MODEL_FILE}", f"{MODEL_DIR}/{WEIGHTS_FILE}"
RUNNING_FOR = 120.0  # seconds: a run without a model whose metrics changed this recently is taken to be training
MODEL_KEYS = ("model", "inputs", "outputs")  # what models/saving.py's load_model reads from model.json
# metrics.jsonl is about 300 bytes an epoch (a final line with a confusion matrix, kilobytes): 64 MB is 200,000
# epochs; a line over 16 MB is not one deepscope wrote (a 1,000-class confusion matrix is about 4 MB)
METRICS_LIMIT, LINE_LIMIT = 64 * MB, 16 * MB
NAME_CHARS = 100  # a split name longer than this is cut: it is a key in tables
MAX_EPOCH = 10**9  # an epoch number past this is not one (and would not fit the store's integers)


@dataclass
class RunInfo:
    path: Path
    status: str = "incomplete"  # finished: model saved; running: metrics written recently; incomplete: neither
    problems: list[str] = field(default_factory=list)  # why it is incomplete, or what could not be read
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    epochs: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch, in order (the last line wins)
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
        started = self.env.get("started")
        return started[:NAME_CHARS] if isinstance(started, str) else None

    @property
    def task(self) -> str:
        """'forecast', or the output feature types joined ('category', 'binary+number'), or '' if unknown."""
        if _mapping(self.config.get("data")).get("series"):
            return "forecast"
        outputs = _mapping(self.model.get("outputs"))
        return "+".join(sorted({str(_mapping(o).get("type", "?"))[:NAME_CHARS] for o in outputs.values()}))

    @property
    def findings(self) -> list[dict[str, Any]]:
        findings = self.diagnosis.get("findings")
        return list(findings) if isinstance(findings, list) else []

    def headline(self) -> dict[str, float]:
        """Final scalar metrics as "split.metric" (test first), for tables and comparisons."""
        order = sorted(self.finals, key=lambda s: (s != "test", s != "val", s))
        return {f"{split}.{k}": v for split in order for k, v in self.finals[split].items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}

    def params(self) -> dict[str, Any]:
        """The config flattened to dotted keys ("train.optimizer.lr": 0.01): what a run was trained with."""
        return flatten(self.config)


@dataclass
class Metrics:
    """What metrics.jsonl holds: epoch rows (one per epoch), final evaluations, forecasts, and what was wrong."""

    epochs: list[dict[str, Any]] = field(default_factory=list)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    forecast: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_run(path: str | Path) -> RunInfo:
    """Everything readable in a run directory; never raises for a damaged, partial or planted one."""
    folder = Path(path)
    info = RunInfo(folder)
    if not folder.is_dir():
        info.problems.append("not a folder")
        return info
    info.config = _read(info, "config.yaml", _yaml) or {}
    info.env = _read(info, "env.json", parse_json) or {}
    info.model = _read(info, MODEL_JSON, parse_json, required=False) or {}
    if info.model and (problem := model_problem(info.model)):
        info.problems.append(problem)
    info.diagnosis = _read(info, "diagnosis.json", parse_json, required=False) or {}
    metrics = read_metrics(folder)
    info.epochs, info.finals, info.forecast = metrics.epochs, metrics.finals, metrics.forecast
    info.problems += metrics.problems
    info.modified = max((os.lstat(p).st_mtime for p in _existing(folder)), default=folder.stat().st_mtime)
    weights_whole = _check_weights(info)
    _judge(info, weights_whole)
    return info


def read_metrics(folder: str | Path) -> Metrics:
    """The rows of `folder/metrics.jsonl`, streamed and bounded: at most METRICS_LIMIT bytes, lines of at most
    LINE_LIMIT, junk lines (not JSON, nested past the parser, not an object) named in `problems` and skipped. An
    epoch logged twice (a resume replaying epochs past its checkpoint, two processes) counts once: the last line
    wins (`one_row_per_epoch`); the last final evaluation of a split wins too."""
    folder, found = Path(folder), Metrics()
    path = folder / "metrics.jsonl"
    if not os.path.lexists(path):
        found.problems.append("metrics.jsonl is missing")
        return found
    if link_out(folder, "metrics.jsonl") or not path.is_file():
        found.problems.append("metrics.jsonl is a link out of the run folder (not read)" if link_out(
            folder, "metrics.jsonl") else "metrics.jsonl is not a plain file (not read)")
        return found
    rows: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as handle:
            for number, line in _lines(handle, found):
                row = _row(line, number, found)
                if row is not None:
                    rows.append(row)
    except OSError as error:
        found.problems.append(f"metrics.jsonl cannot be read ({error.strerror or type(error).__name__})")
    for row in rows:
        if "forecast" in row:
            found.forecast[str(row["forecast"])[:NAME_CHARS]] = {k: v for k, v in row.items() if k != "forecast"}
        elif "split" in row:
            found.finals[str(row["split"])[:NAME_CHARS]] = {k: v for k, v in row.items() if k != "split"}
    epochs = [row for row in rows if "forecast" not in row and "split" not in row]
    if any(not _epoch_number(row.get("epoch")) for row in epochs):
        found.problems.append("metrics.jsonl has epoch rows without an epoch number (not read)")
    found.epochs = one_row_per_epoch([row for row in epochs if _epoch_number(row.get("epoch"))])
    return found


def _epoch_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_EPOCH


def model_problem(spec: dict[str, Any]) -> str | None:
    """Why model/model.json cannot rebuild a model (a key `load_model` reads is missing, a feature without its
    type), or None. Only the shape is checked here: whether the weights fit the architecture is for the loader."""
    missing = [key for key in MODEL_KEYS if not isinstance(spec.get(key), dict)]
    if missing:
        return f"{MODEL_JSON} does not hold {' and '.join(missing)}: the model cannot be loaded from it"
    for group in ("inputs", "outputs"):
        for name, state in spec[group].items():
            if not isinstance(state, dict) or not isinstance(state.get("type"), str):
                return problem_text(f"{MODEL_JSON}: the {group[:-1]} {name!r} has no feature type: the model "
                                    "cannot be loaded from it")
    return None


def is_run_dir(path: Path) -> bool:
    """A folder that looks like a run (any of its files present), finished or not."""
    return path.is_dir() and any(os.path.lexists(path / name) for name in FILES)


def find_runs(root: str | Path) -> list[Path]:
    """Run directories directly under `root` (and `root` itself if it is one), newest name first. A link (a
    `latest` alias) is not a run: the folder it points to is listed under its own name."""
    root = Path(root)
    if is_run_dir(root):
        return [root]
    try:
        entries = list(root.iterdir()) if root.is_dir() else []
    except OSError:
        return []
    return sorted((p for p in entries if not p.is_symlink() and _storable(p.name) and is_run_dir(p)),
                  key=lambda p: p.name, reverse=True)


def _storable(name: str) -> bool:
    """Whether a folder name is text (a name of bytes that are not UTF-8 cannot be a run's name in the store)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten(value, name) if isinstance(value, dict) and value else {name: value})
    return flat


# --- reading the files -------------------------------------------------------------------------------------------
def _read(info: RunInfo, name: str, parse: Any, required: bool = True) -> dict[str, Any] | None:
    """The mapping `name` holds, or None with the problem noted (a missing model is judged with the status)."""
    text, problem = folder_text(info.path, name)
    if problem is None and text is None:
        if required:
            info.problems.append(f"{name} is missing")
        return None
    if problem is None:
        value, problem = parse(text, name)
        if problem is None and not isinstance(value, dict):
            problem = f"{name} does not hold a mapping"
    if problem is not None:
        info.problems.append(problem)
        return None
    return value


def _yaml(text: str, name: str) -> tuple[Any, str | None]:
    try:  # bounded: aliases, depth, duplicate keys (config/yaml_text.py)
        return parse_yaml(text, where=name) or {}, None
    except UserError as error:
        return None, problem_text(f"{name} cannot be read ({str(error).removeprefix(name).lstrip(': ')})")


def _lines(handle: Any, found: Metrics) -> Any:
    """(line number, bytes) of each line of a JSON-lines file, within the limits."""
    read, number = 0, 0
    while True:
        line = handle.readline(LINE_LIMIT + 1)
        if not line:
            return
        number += 1
        read += len(line)
        if len(line) > LINE_LIMIT:  # skip the rest of the overlong line, a chunk at a time
            while line and not line.endswith(b"\n") and read <= METRICS_LIMIT:
                line = handle.readline(LINE_LIMIT)
                read += len(line)
            found.problems.append(f"metrics.jsonl line {number} is longer than {size_text(LINE_LIMIT)} (not read)")
        else:
            yield number, line
        if read > METRICS_LIMIT:
            size = os.fstat(handle.fileno()).st_size
            found.problems.append(f"metrics.jsonl is {size_text(size)}, more than a run writes "
                                  f"({size_text(METRICS_LIMIT)}): only its first {size_text(METRICS_LIMIT)} were read")
            return


def _row(line: bytes, number: int, found: Metrics) -> dict[str, Any] | None:
    text = line.decode("utf-8", errors="replace")
    if not text.strip():
        return None
    try:
        row = without_surrogates(parse_json_line(text), text)
    except RecursionError:  # nested nearly as deep as the parser goes: cleaning it recursed too far
        row = None
    if row is None:
        cut_short = not line.endswith(b"\n")  # only the last line can lack its newline: a write killed half-way
        found.problems.append(f"metrics.jsonl line {number} is not JSON" + (" (cut short?)" if cut_short else ""))
    elif not isinstance(row, dict):
        found.problems.append(f"metrics.jsonl line {number} is not an object")
        row = None
    return row


def _check_weights(info: RunInfo) -> bool:
    """Whether model/weights.safetensors is there and its header whole (`deepscope.io.safetensors_problem`)."""
    path = info.path / WEIGHTS
    if not os.path.lexists(path):
        return False
    if link_out(info.path, WEIGHTS):
        info.problems.append(f"{WEIGHTS} is a link out of the run folder (not read)")
        return False
    try:
        damage = safetensors_problem(path)
    except OSError as error:
        damage = error.strerror or type(error).__name__
    if damage:
        info.problems.append(problem_text(f"{WEIGHTS} is damaged ({damage})"))
    return damage is None


# --- judging the status ------------------------------------------------------------------------------------------
def _judge(info: RunInfo, weights_whole: bool) -> None:
    """Set the status, adding why a run is incomplete. model.json and the weights are written atomically, so a
    damaged one is never a run still training; a model without its final evaluation is, for RUNNING_FOR seconds
    (the evaluation follows the save)."""
    model_written = os.path.lexists(info.path / MODEL_JSON)
    model_sound = bool(info.model) and weights_whole and model_problem(info.model) is None
    unevaluated = model_sound and not info.finals and not info.forecast and _expects_final_evaluation(info)
    recent = time.time() - info.modified < RUNNING_FOR and os.path.lexists(info.path / "metrics.jsonl")
    if model_sound and not unevaluated and not info.problems:
        info.status = "finished"
    elif recent and (not model_written or unevaluated):
        info.status = "running"
    else:
        info.status = "incomplete"
        if not model_written:
            info.problems.append(f"no trained model ({MODEL_JSON} is missing): stopped before the end?")
        elif info.model and not os.path.lexists(info.path / WEIGHTS):
            info.problems.append(f"{WEIGHTS} is missing")
        elif unevaluated:
            info.problems.append("stopped before the final evaluation: the model was saved, but metrics.jsonl has "
                                 "no test or val result")


def _expects_final_evaluation(info: RunInfo) -> bool:
    """Whether training ends with a final evaluation line: the config asked for a val or test split, or the
    epochs were validated."""
    split = _mapping(_mapping(info.config.get("data")).get("split"))
    fractions = [split.get(key) for key in ("val", "test")]
    if any(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in fractions):
        return True
    return any(str(key).startswith("val.") for row in info.epochs for key in row)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _existing(folder: Path) -> list[Path]:
    return [folder / name for name in FILES if os.path.lexists(folder / name)]
