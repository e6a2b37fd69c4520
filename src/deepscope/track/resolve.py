"""From what a person typed to a run: a run folder checked to be one, or a run found by name in a root's store.
Every command that takes a RUN goes through here, so each gets the same helpful message when RUN is wrong.

    run_folder("runs/mnist-20261130-192105")       # Path, or a UserError that points the way
    run_folder("runs")                             # UserError: a folder of runs; the latest: ...
    store, row = find_run("mnist-20261130-192105", root="runs")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.track.runinfo import is_run_dir, read_run
from deepscope.track.store import RunStore

RUNS_SUGGESTED = 2  # name the latest runs, not a whole folder listing


def run_folder(path: str | Path, *, command: str = "report") -> Path:
    """`path` if it is a run folder (finished or not); otherwise a UserError naming the fix, with the latest runs
    when `path` is a folder of runs (`command` is the deepscope command the hint suggests)."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{path}: no such run directory; give a folder made by `deepscope train` (runs/NAME-DATE)")
    if is_run_dir(folder):
        return folder
    runs = latest_runs(folder)
    if runs:
        names = " or ".join(f"`deepscope {command} {run}`" for run in runs)
        raise UserError(f"{path}: this is a folder of runs, not a run; the latest: {names}")
    raise UserError(f"{path}: not a run directory (no config.yaml, metrics.jsonl, diagnosis.json or model/ "
                    "inside); pass the folder `deepscope train` printed as 'run directory'")


def latest_runs(folder: Path, count: int = RUNS_SUGGESTED) -> list[Path]:
    """The most recently written run directories directly inside `folder`, newest first."""
    try:
        runs = [(p.lstat().st_mtime, p) for p in folder.iterdir() if not p.is_symlink() and is_run_dir(p)]
    except OSError:  # unreadable, or changed while listed: no suggestion rather than a traceback
        return []
    return [p for _, p in sorted(runs, key=lambda pair: pair[0], reverse=True)[:count]]


def open_store(root: str | Path, *, sync: bool = True) -> RunStore:
    """The run store of `root` (`<root>/runs.sqlite`), brought up to date with its run folders when `sync`."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such folder of runs; pass --root with the folder runs are written to "
                        "(run.root in the config, 'runs' by default)")
    store = RunStore.for_root(root)
    if sync:
        store.sync(root)
    return store


def find_run(run: str, root: str | Path, store: RunStore | None = None) -> tuple[RunStore, dict[str, Any]]:
    """A run given by name (in the store of `root`) or by its folder (in the store of the folder's root, recorded
    on the way); a UserError naming the known runs when there is none."""
    folder = Path(run)
    if os.sep in run and is_run_dir(folder):
        store = store or open_store(folder.resolve().parent, sync=False)
        store.record_run(read_run(folder))
        run = folder.resolve().name
    store = store or open_store(root)
    return store, store.require_run(run)
