"""The SQL behind `RunStore`: one run's rows written into the store's tables (runs, params, metrics, latest,
artefacts, tags) and read back as dicts. Each function works on an open connection inside the caller's
transaction, so that `store.py` decides where a transaction begins and ends, and these only what it holds."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

from deepscope.track.runinfo import RunInfo
from deepscope.track.store_rows import folder_tags, metric_rows


def record_folder(con: sqlite3.Connection, info: RunInfo, signature: str,
                  artefacts: list[tuple[str, str, int]]) -> None:
    """Replace what the store holds of one run by what its folder holds (what `read_folder` found)."""
    # steps the run logged live are kept: metrics.jsonl knows epochs only
    steps = dict(con.execute("SELECT m.epoch, MAX(m.step) FROM metrics m JOIN runs r ON r.id = m.run_id "
                             "WHERE r.name = ? AND m.epoch IS NOT NULL GROUP BY m.epoch", (info.name,)))
    run_id = put_run(con, info, signature)
    for table in ("metrics", "latest", "artefacts"):
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
    con.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, name, value) VALUES (?, ?, ?, ?, ?)",
                    [(run_id, *row) for row in metric_rows(info, steps)])
    con.executemany("INSERT INTO artefacts VALUES (?, ?, ?, ?)", [(run_id, *a) for a in artefacts])
    tags = folder_tags(info.path)
    if tags is not None:  # no tags.json: keep the store's
        con.execute("DELETE FROM tags WHERE run_id = ?", (run_id,))
        con.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(run_id, k, v) for k, v in tags.items()])


def put_run(con: sqlite3.Connection, info: RunInfo, signature: str) -> int:
    """Insert or update the run's row and its params; returns its id."""
    con.execute(
        "INSERT INTO runs (name, path, status, problems, task, started, signature, deleted, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (name) DO UPDATE SET path = excluded.path, "
        "status = excluded.status, problems = excluded.problems, task = excluded.task, "
        "started = excluded.started, signature = excluded.signature, deleted = 0, updated = excluded.updated",
        (info.name, str(info.path.resolve()), info.status, json.dumps(info.problems), info.task, info.started,
         signature, time.time()))
    run_id = con.execute("SELECT id FROM runs WHERE name = ?", (info.name,)).fetchone()[0]
    con.execute("DELETE FROM params WHERE run_id = ?", (run_id,))
    con.executemany("INSERT INTO params VALUES (?, ?, ?)",
                    [(run_id, key, json.dumps(value, default=str)) for key, value in info.params().items()])
    return run_id


def ensure_run(con: sqlite3.Connection, folder: Path) -> int:
    """The id of the run logged into `folder`, creating a running run if the store has not heard of it."""
    found = con.execute("SELECT id FROM runs WHERE name = ?", (folder.name,)).fetchone()
    if found is not None:
        return found[0]
    return put_run(con, RunInfo(folder, status="running"), signature="")


def replace_runs(con: sqlite3.Connection, infos: list[tuple[RunInfo, str, list]], drop: list[str]) -> None:
    """Record each of `infos` (as `read_folder` gives them) and forget the runs named in `drop`."""
    for info, signature, artefacts in infos:
        record_folder(con, info, signature, artefacts)
    con.executemany("DELETE FROM runs WHERE name = ?", [(name,) for name in drop])


def run_rows(con: sqlite3.Connection, run_id: int | None = None) -> list[dict[str, Any]]:
    """Rows for one run or all (not deleted) runs, in five queries whatever their number."""
    only, args = ("AND run_id = ?", (run_id,)) if run_id is not None else ("", ())
    rows: dict[int, dict[str, Any]] = {}
    for id_, name, path, status, problems, task, started, updated in con.execute(
            "SELECT id, name, path, status, problems, task, started, updated FROM runs WHERE deleted = 0 "
            + ("AND id = ?" if run_id is not None else ""), args):
        rows[id_] = {"name": name, "path": path, "status": status, "problems": json.loads(problems), "task": task,
                     "started": started, "updated": updated, "metrics": {}, "params": {}, "tags": {}}
    final = f"SELECT run_id, name, value FROM metrics WHERE step IS NULL {only} ORDER BY rowid"
    last = f"SELECT run_id, name, value FROM latest WHERE 1 {only}"
    for query in (final, last):  # a final evaluation wins over the last epoch's value of the same name
        for id_, name, value in con.execute(query, args):
            if id_ in rows:
                rows[id_]["metrics"].setdefault(name, math.nan if value is None else value)
    for id_, key, value in con.execute(f"SELECT run_id, key, value FROM params WHERE 1 {only}", args):
        if id_ in rows:
            rows[id_]["params"][key] = json.loads(value)
    for id_, key, value in con.execute(f"SELECT run_id, key, value FROM tags WHERE 1 {only} ORDER BY key", args):
        if id_ in rows:
            rows[id_]["tags"][key] = value
    return list(rows.values())
