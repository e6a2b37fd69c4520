"""The runs of a run root, through its run store: `deepscope.runs` in Python, `deepscope runs ...` on the command line.

Each call first brings the store (`<root>/runs.sqlite`) up to date with the run folders, so runs trained without
the store, and damaged or half-written folders (listed as incomplete, with the reason), show up too.

    import deepscope as ds
    ds.runs.list_runs("runs", where=["test.accuracy>0.9", "status=finished"], sort="test.accuracy", limit=5)
    ds.runs.show("mnist-20261123-214500")                       # the row, with every metric's series
    ds.runs.compare(["mnist-...", "mnist-..."], metric="val.loss", plot="loss.png")
    ds.runs.tag("mnist-20261123-214500", {"group": "baseline"})
    ds.runs.delete("mnist-20261123-214500", files=True)          # only a folder deepscope trained in (see below)
    ds.runs.reindex("runs")
    ds.runs.status("runs/mnist-20261123-214500")                # ("finished", []) from the folder alone
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.report.plots import plot_across_runs
from deepscope.track.columns import headline_columns
from deepscope.track.deletion import Listing, folder_listing, folder_to_delete, link_refused
from deepscope.track.resolve import find_run, open_store
from deepscope.track.runfiles import text_only
from deepscope.track.runinfo import read_run
from deepscope.track.store import DamagedStoreError, RunStore
from deepscope.track.store_query import WHERE
from deepscope.track.store_rows import TAG_CHARS

DEFAULT_ROOT = "runs"
COMPARED = ("val.loss", "train.loss")  # the metric compared when none is named: the first any run has


def list_runs(root: str | Path = DEFAULT_ROOT, *, where: Iterable[str] = (), sort: str | None = None,
              descending: bool = True, limit: int | None = None) -> list[dict[str, Any]]:
    """The runs of `root`, newest first (or by `sort`): store rows with status, problems, task, metrics, params.

    `where` holds filters `KEY OP VALUE` (OP: = != > >= < <= ~), KEY a metric (test.accuracy), a param
    (train.optimizer.name), a field (status, name, task, started) or tag:KEY.
    """
    return open_store(root).runs(where=list(where), sort=sort, descending=descending, limit=limit)


def columns_for(rows: list[dict[str, Any]], *, sort: str | None = None, where: Iterable[str] = ()) -> list[str]:
    """The metric columns a table of `rows` shows: what was sorted and filtered on first."""
    keys = [key.split(":", 1)[-1] for key in [sort or "", *(_where_key(w) for w in where)] if key]
    return headline_columns(rows, first=[k for k in keys if any(k in r["metrics"] for r in rows)])


def show(run: str, root: str | Path = DEFAULT_ROOT) -> dict[str, Any]:
    """One run (by name, or its folder): its store row and "series", every metric's [(epoch, value), ...]."""
    store, row = find_run(run, root)
    return {**row, "series": {name: store.metric_series(row["name"], name) for name in store.metric_names(row["name"])}}


@dataclass
class Comparison:
    rows: list[dict[str, Any]]  # the runs, in the order given
    metric: str  # the metric plotted
    plot: Path | None  # where the plot went
    missing: list[str]  # runs without the metric (not in the plot)


def compare(runs: Iterable[str], *, metric: str | None = None, plot: str | Path | bool | None = None,
            root: str | Path = DEFAULT_ROOT) -> Comparison:
    """Runs side by side; with `plot` (a PNG path, or True for compare-METRIC.png here), `metric` (default
    val.loss, else train.loss) over epochs for each run, or a bar per run for a metric only evaluated at the end."""
    store, rows = None, []
    for run in dict.fromkeys(runs):
        store, row = find_run(run, root, store)
        rows.append(row)
    logged = {row["name"]: set(store.metric_names(row["name"])) | set(row["metrics"]) for row in rows}
    metric = metric or next((m for m in COMPARED if any(m in names for names in logged.values())), COMPARED[0])
    if not any(metric in names for names in logged.values()):
        known = sorted(set().union(*logged.values()))
        raise UserError(f"--metric {metric}: none of these runs has it; they have {', '.join(known) or 'no metrics'}")
    missing = [name for name, names in logged.items() if metric not in names]
    if plot is True:
        plot = Path(f"compare-{metric}.png")
    if plot:
        series = {row["name"]: store.metric_series(row["name"], metric) for row in rows}
        finals = {row["name"]: row["metrics"][metric] for row in rows if metric in row["metrics"]}
        if any(series.values()):  # plotted over epochs: a run with only a final value is not in the plot
            missing = [name for name, points in series.items() if not points]
        plot = plot_across_runs(metric, series, finals, plot)
    return Comparison(rows, metric, Path(plot) if plot else None, missing)


def differing_params(rows: list[dict[str, Any]]) -> list[str]:
    """The params whose values differ among `rows` (what a comparison is about)."""
    keys = sorted({key for row in rows for key in row["params"]})
    return [key for key in keys if len({repr(row["params"].get(key)) for row in rows}) > 1]


def delete(run: str, root: str | Path = DEFAULT_ROOT, *, files: bool = False,
           confirm: Callable[[Listing], bool] | None = None) -> dict[str, Any] | None:
    """Remove a run from the store, and with `files` its folder too; returns the row it was, or None when
    `confirm(listing)` (asked with every file the folder holds before anything is removed) says no.

    The store is not trusted to point at a run: a folder is deleted only when it is a real folder (not a link)
    directly inside the run root, at the path the store recorded, and holds the env.json deepscope wrote
    (track/deletion.py has the rules); otherwise a UserError says why and nothing is deleted."""
    if files and os.sep in run and Path(run).is_symlink():  # an alias: its target is a run of its own
        raise link_refused(Path(run))
    store, row = find_run(run, root)
    store_root = store.path.parent
    if files and (os.path.lexists(store_root / row["name"]) or Path(row["path"]).exists()):
        listing = folder_listing(folder_to_delete(store_root, row["name"], row["path"]))
        if confirm is not None and not confirm(listing):
            return None
        try:
            shutil.rmtree(listing.folder)  # never follows a link inside it (and refuses a link in its place)
        except OSError as error:
            raise UserError(f"{listing.folder}: could not delete the folder ({error})") from None
    store.delete(row["name"])
    return row


def tag(run: str, tags: dict[str, str | None], root: str | Path = DEFAULT_ROOT) -> dict[str, str]:
    """Set tags of a run (a value of None removes that tag), kept in the run folder's tags.json; returns them all."""
    store, row = find_run(run, root)
    store.set_tags(row["path"], tags)
    return store.require_run(row["name"])["tags"]


def parse_tags(items: Iterable[str]) -> dict[str, str | None]:
    """`["group=baseline", "old="]` -> {"group": "baseline", "old": None} (KEY= removes a tag)."""
    changes: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"tag {item[:TAG_CHARS]!r}: write KEY=VALUE (e.g. group=baseline), or KEY= to remove a tag")
        if len(key) > TAG_CHARS or len(value) > TAG_CHARS:
            raise UserError(f"tag {key[:40]!r}: {max(len(key), len(value)):,} characters; a tag's key and value hold "
                            f"at most {TAG_CHARS:,} each (a longer note belongs in a file)")
        changes[text_only(key.strip())] = text_only(value.strip()) or None  # argv bytes that are not UTF-8
    return changes


def status(run: str | Path) -> tuple[str, list[str]]:
    """A run folder's status ("finished", "running" or "incomplete") and what is missing, read from its files
    alone (no store needed)."""
    info = read_run(run)
    return info.status, info.problems


@dataclass
class Reindexed:
    runs: int  # the runs recorded
    replaced: str | None  # why the store file was replaced by a new one (it was damaged), else None


def reindex(root: str | Path = DEFAULT_ROOT) -> Reindexed:
    """Rebuild the store from the run folders (they are the source of truth). A damaged store file (not SQLite,
    tables missing columns) is replaced by a new one: it is only an index of the folders."""
    try:
        return Reindexed(open_store(root, sync=False).reindex(root), None)
    except DamagedStoreError as error:
        return Reindexed(RunStore.replace_damaged(root).reindex(root), f"{error.path} was damaged ({error.problem})")


def _where_key(expression: str) -> str:
    match = WHERE.match(expression)
    return match["key"] if match else ""
