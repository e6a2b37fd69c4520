"""A study as the dashboard shows it: its trials (state, value, values tried, run), the best value so far over
the trials, and how much each setting mattered (Optuna's fANOVA parameter importance, on the finished trials).

    study_view("runs", "breastmnist-tune")["importance"]   # {"train.optimizer.lr": 0.71, ...}
    studies("runs")                                          # one summary per study kept in the run root

Studies are found where `deepscope tune` keeps them by default, as journal files in the run root
(RUN_ROOT/STUDY.optuna.journal). A journal is JSON lines that Optuna replays (nothing is unpickled); one bigger
than MAX_JOURNAL_BYTES is refused rather than read, since a run root may come from someone else. A view is
cached until its journal changes: importance fits a small random forest.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.run.tune_study import JOURNAL_SUFFIX, STATES, import_optuna, journal_path, storage_for, studies_in

MAX_JOURNAL_BYTES = 256 * 2**20
_cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
_lock = threading.Lock()


def studies(root: str | Path) -> list[dict[str, Any]]:
    """A summary per study in the root: name, metric, direction, counts by state, best value and trial; a study
    that cannot be read has its `error` instead."""
    found = []
    for name in studies_in(root):
        try:
            view = study_view(root, name)
        except UserError as error:
            found.append({"name": name, "error": str(error)})
            continue
        found.append({k: view[k] for k in ("name", "metric", "direction", "counts", "best")})
    return found


def study_view(root: str | Path, name: str) -> dict[str, Any]:
    """The whole view of one study (see the module docstring); a UserError when it is not there or not readable."""
    path = journal_path(root, name)
    if name not in studies_in(root):
        raise UserError(f"no study named {name} in {root} (a study is kept there as NAME{JOURNAL_SUFFIX})")
    stat = path.stat()
    if stat.st_size > MAX_JOURNAL_BYTES:
        raise UserError(f"{path}: {stat.st_size:,} bytes, more than the {MAX_JOURNAL_BYTES:,} a study view reads")
    key = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path.resolve())
        if cached is not None and cached[0] == key:
            return cached[1]
    view = _read(path, root, name)
    with _lock:
        _cache[path.resolve()] = (key, view)
    return view


def _read(path: Path, root: str | Path, name: str) -> dict[str, Any]:
    optuna = import_optuna()
    try:
        study = optuna.load_study(study_name=name, storage=storage_for(str(path), root, name))
        trials = study.get_trials(deepcopy=False)
    except Exception as error:  # a journal written by hand, cut short, or of another study: say so, do not crash
        raise UserError(f"{path}: not a study deepscope can read ({type(error).__name__}: "
                        f"{str(error).splitlines()[0][:200] if str(error) else ''})") from None
    rows = [_trial(t) for t in trials]
    direction = study.direction.name.lower()
    counts = dict.fromkeys(STATES.values(), 0)
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    complete = [r for r in rows if r["state"] == "complete" and _finite(r["value"])]
    pick = min if direction == "minimize" else max
    best = pick(complete, key=lambda r: r["value"]) if complete else None
    return {"name": name, "metric": study.user_attrs.get("metric"), "direction": direction, "counts": counts,
            "best": {k: best[k] for k in ("number", "value", "params", "run")} if best else None,
            "trials": rows, "best_so_far": best_so_far(rows, direction), **importance(study, optuna, len(complete))}


def _trial(trial: Any) -> dict[str, Any]:
    value = trial.value if trial.value is not None else trial.user_attrs.get("value")
    return {"number": trial.number, "state": STATES.get(trial.state.name, trial.state.name.lower()),
            "value": value if _finite(value) else None, "params": dict(trial.params),
            "run": trial.user_attrs.get("run"), "pruned_epoch": trial.user_attrs.get("pruned_epoch"),
            "error": trial.user_attrs.get("error"),
            "seconds": trial.duration.total_seconds() if trial.duration is not None else None}


def best_so_far(rows: list[dict[str, Any]], direction: str) -> list[list[float]]:
    """[[trial number, the best complete value up to it], ...] in trial order, from the first complete trial.

    >>> best_so_far([{"number": 0, "state": "complete", "value": 0.5}, {"number": 1, "state": "pruned",
    ...              "value": 0.9}, {"number": 2, "state": "complete", "value": 0.3}], "minimize")
    [[0, 0.5], [1, 0.5], [2, 0.3]]
    """
    points, best = [], None
    for row in sorted(rows, key=lambda r: r["number"]):
        value = row["value"] if row["state"] == "complete" else None
        if _finite(value) and (best is None or (value < best if direction == "minimize" else value > best)):
            best = value
        if best is not None:
            points.append([row["number"], best])
    return points


def importance(study: Any, optuna: Any, complete: int) -> dict[str, Any]:
    """{"importance": {param: share of the variance it explains}} (fANOVA, seeded so the numbers hold still
    between views), or None with a note saying why there is none yet."""
    if complete < 2:
        return {"importance": None, "importance_note": "parameter importance needs 2 or more finished trials"}
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError) as error:  # e.g. every trial tried the same values
        return {"importance": None, "importance_note": f"no parameter importance: {str(error)[:200]}"}
    return {"importance": {k: float(v) for k, v in found.items()}, "importance_note": None}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
