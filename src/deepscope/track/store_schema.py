"""The run store's schema: `MIGRATIONS[v]` takes a store from version v to v + 1 (`PRAGMA user_version`).

A new store is built by the same migrations an old one is upgraded with, so the upgrade path runs every time a
store is created. Never edit a released migration: add the next one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _v0_to_v1(con: sqlite3.Connection) -> None:
    """The first store: runs by name, params, metrics by step."""
    execute_all(con, """
        CREATE TABLE runs (name TEXT PRIMARY KEY, path TEXT NOT NULL, status TEXT NOT NULL, started TEXT);
        CREATE TABLE params (run TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (run, key));
        CREATE TABLE metrics (run TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL);
    """)


def _v1_to_v2(con: sqlite3.Connection) -> None:
    """Integer run ids with cascading deletes; a run's problems, task and file signature; epochs beside steps and
    final evaluations (no step) in metrics; each metric's last value kept by a trigger in `latest` (so listing runs
    does not scan every metric row); artefacts and tags. SQLite cannot change a column's constraints in
    place, so the old tables are renamed, copied into the new ones and dropped."""
    execute_all(con, """
        ALTER TABLE runs RENAME TO v1_runs;
        ALTER TABLE params RENAME TO v1_params;
        ALTER TABLE metrics RENAME TO v1_metrics;
        CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
                           status TEXT NOT NULL, problems TEXT NOT NULL DEFAULT '[]', task TEXT NOT NULL DEFAULT '',
                           started TEXT, signature TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0,
                           updated REAL NOT NULL DEFAULT 0);
        CREATE TABLE params (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, key TEXT NOT NULL,
                             value TEXT, PRIMARY KEY (run_id, key));
        CREATE TABLE metrics (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step INTEGER,
                              epoch INTEGER, name TEXT NOT NULL, value REAL);
        CREATE UNIQUE INDEX metrics_by_run ON metrics (run_id, name, step);
        CREATE TABLE latest (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, name TEXT NOT NULL,
                             step INTEGER NOT NULL, value REAL, PRIMARY KEY (run_id, name));
        CREATE TRIGGER metrics_latest AFTER INSERT ON metrics WHEN NEW.step IS NOT NULL BEGIN
            INSERT INTO latest (run_id, name, step, value) VALUES (NEW.run_id, NEW.name, NEW.step, NEW.value)
            ON CONFLICT (run_id, name) DO UPDATE SET step = excluded.step, value = excluded.value
            WHERE excluded.step >= latest.step;
        END;
        CREATE TABLE artefacts (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                                path TEXT NOT NULL, kind TEXT NOT NULL, bytes INTEGER, PRIMARY KEY (run_id, path));
        CREATE TABLE tags (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, key TEXT NOT NULL,
                           value TEXT NOT NULL, PRIMARY KEY (run_id, key));
        INSERT INTO runs (name, path, status, started) SELECT name, path, status, started FROM v1_runs;
        INSERT OR REPLACE INTO params (run_id, key, value)
            SELECT runs.id, p.key, p.value FROM v1_params p JOIN runs ON runs.name = p.run;
        INSERT OR REPLACE INTO metrics (run_id, step, name, value)
            SELECT runs.id, m.step, m.name, m.value FROM v1_metrics m JOIN runs ON runs.name = m.run ORDER BY m.rowid;
        DROP TABLE v1_metrics;
        DROP TABLE v1_params;
        DROP TABLE v1_runs;
    """)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v0_to_v1, _v1_to_v2]

# the tables and columns the migrations build: a store that claims the latest version but lacks one of them (a
# file another program wrote, a table dropped by hand) is damaged, and every query would fail on it
TABLES = {
    "runs": {"id", "name", "path", "status", "problems", "task", "started", "signature", "deleted", "updated"},
    "params": {"run_id", "key", "value"},
    "metrics": {"run_id", "step", "epoch", "name", "value"},
    "latest": {"run_id", "name", "step", "value"},
    "artefacts": {"run_id", "path", "kind", "bytes"},
    "tags": {"run_id", "key", "value"},
}


def execute_all(con: sqlite3.Connection, script: str) -> None:
    # one statement at a time: executescript() would COMMIT the migration's transaction half-way
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):  # a trigger's body holds ";" of its own
            if statement.strip(" \n;"):
                con.execute(statement)
            statement = ""


def schema_version(con: sqlite3.Connection) -> int:
    return con.execute("PRAGMA user_version").fetchone()[0]


def schema_problem(con: sqlite3.Connection) -> str | None:
    """What the store's tables lack of TABLES ("table runs has no column signature"), or None when they are whole."""
    for table, columns in TABLES.items():
        found = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
        if not found:
            return f"it has no table {table}"
        missing = sorted(columns - found)
        if missing:
            return f"its table {table} has no column {', '.join(missing)}"
    return None
