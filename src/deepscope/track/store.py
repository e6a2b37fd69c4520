"""The run store: the runs of a run root in one SQLite file (`<root>/runs.sqlite`), to list, filter, sort and
compare them without reading every folder.

The run directories stay the source of truth. `record_run` copies what `read_run` found in one folder,
`sync(root)` brings the store up to date with the folders (new, changed, vanished), `reindex(root)` rebuilds it
from them; training also writes to it live through the `StoreLogger` callback.

    store = RunStore.for_root("runs")
    store.sync("runs")
    store.runs(where=["test.accuracy>0.9", "status=finished"], sort="test.accuracy", limit=5)
    store.metric_series("mnist-20261123-214500", "val.loss")   # [(epoch, value), ...]

Several processes write at once (trainings sharing a root, a dashboard): the database is in WAL mode (readers
never block the writer nor the writer them); every write is one short `BEGIN IMMEDIATE` transaction, which takes
the write lock up front, so two writers never deadlock upgrading a read lock; SQLite waits up to `timeout` for the
lock; a statement that still finds the database locked (SQLite gives up at once in a few cases, e.g. while another
connection recovers the WAL) is retried with jittered exponential backoff.

The store is an index of the run folders, never their only copy: a store file that is not SQLite, or whose tables
lack what this version reads (another program's file, a table dropped by hand, a page overwritten) is refused
with one `DamagedStoreError` naming `deepscope runs reindex`, which replaces it by one rebuilt from the folders
(`RunStore.replace_damaged`). A `runs.sqlite` that is a link out of its run root is refused too.

The schema version is `PRAGMA user_version`. `MIGRATIONS[v]` takes a store from version v to v + 1, inside the
same transaction as the version bump, so a store is never left half-migrated. A new store is built by the same
migrations an old one is upgraded with, so the upgrade path runs every time a store is created.

Metric rows: (run, step, epoch, name, value). A per-epoch row has its epoch; a final evaluation (`test.accuracy`)
has no step. NaN is stored as NULL by SQLite and read back as NaN.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from deepscope.errors import UserError
from deepscope.io import resolves_inside, write_json
from deepscope.track.runinfo import RunInfo, find_runs
from deepscope.track.store_query import as_number, check_key, lookup, matches, parse_where, sorted_rows
from deepscope.track.store_rows import folder_artefacts, folder_signature, read_folder
from deepscope.track.store_schema import MIGRATIONS, schema_problem, schema_version
from deepscope.track.store_sql import ensure_run, put_run, record_folder, replace_runs, run_rows

T = TypeVar("T")

FILENAME = "runs.sqlite"
STATUSES = ("finished", "running", "incomplete")
TIMEOUT = 10.0  # seconds SQLite waits for another writer's lock before a statement fails as "locked"
RETRIES = 8  # attempts after a "locked" failure, waiting BACKOFF * 2**n seconds (jittered, at most MAX_BACKOFF)
BACKOFF = 0.02
MAX_BACKOFF = 2.0
STORE_FILES = ("", "-wal", "-shm")  # the database and SQLite's write-ahead log and index beside it


class DamagedStoreError(UserError):
    """The store file is not a run store this deepscope can read; `deepscope runs reindex` rebuilds it."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: not a run store this deepscope can read ({problem}); it is only an index of the "
                         f"run folders: `deepscope runs reindex --root {path.parent}` rebuilds it from them")


# --- the store ---------------------------------------------------------------------------------------------------
class RunStore:
    """The run store at `path` (created, or migrated in place from an older schema, when opened).

    One connection per store object, guarded by a lock so that threads may share it; a process that forks opens
    its own connection on first use."""

    SCHEMA_VERSION = len(MIGRATIONS)

    def __init__(self, path: str | Path, *, timeout: float = TIMEOUT):
        self.path = Path(path)
        self.timeout = timeout
        self.retries = 0  # "database is locked" failures retried so far: how contended the store is
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._inherited: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._migrate()

    @classmethod
    def for_root(cls, root: str | Path, **options: Any) -> RunStore:
        """The store of a run root: `<root>/runs.sqlite` (refused when it is a link leading out of the root:
        every write would land in another file)."""
        path = Path(root) / FILENAME
        for linked in (Path(f"{path}{suffix}") for suffix in STORE_FILES):  # SQLite would write through a link
            if linked.is_symlink() and not resolves_inside(linked, root):
                raise UserError(f"{linked} is a link out of the run root; the run store must be a file inside it: "
                                f"remove the link, then `deepscope runs reindex --root {root}` builds the store again")
        return cls(path, **options)

    @classmethod
    def replace_damaged(cls, root: str | Path, **options: Any) -> RunStore:
        """A new, empty store in place of the damaged one of `root` (its WAL files too: a stale log replayed into
        a new file would damage it again). Only the store's own file names are removed, never through a link."""
        path = Path(root) / FILENAME
        for suffix in STORE_FILES:
            try:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            except OSError as error:
                raise UserError(f"{path}{suffix}: cannot remove the damaged run store ({error.strerror}); remove it "
                                "yourself, then run `deepscope runs reindex` again") from None
        return cls.for_root(root, **options)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------------------------
    def record_run(self, info: RunInfo) -> None:
        """Put what a run folder holds into the store: run, params, per-epoch and final metrics, artefacts, tags
        (replacing what the store had for it)."""
        signature, artefacts = folder_signature(info.path), folder_artefacts(info.path)
        self._write(lambda con: record_folder(con, info, signature, artefacts))

    def start_run(self, run_dir: str | Path, config: dict[str, Any]) -> None:
        """A run (re)starts: status running, its params; metrics logged before are dropped (a resume logs again
        the epochs it keeps, as metrics.jsonl is rewritten)."""
        info = RunInfo(Path(run_dir), status="running", config=config,
                       env={"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

        def work(con: sqlite3.Connection) -> None:
            run_id = put_run(con, info, signature="")
            for table in ("metrics", "latest"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
        self._write(work)

    def log_metrics(self, run_dir: str | Path, step: int, values: dict[str, float], epoch: int | None = None) -> None:
        """One row per value at `step` (and `epoch`); logging the same step and name again replaces it."""
        rows = [(name, number) for name, value in values.items() if (number := as_number(value)) is not None]

        def work(con: sqlite3.Connection) -> None:
            run_id = ensure_run(con, Path(run_dir))
            con.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, name, value) VALUES (?, ?, ?, ?, ?)",
                            [(run_id, int(step), epoch, name, number) for name, number in rows])
            con.execute("UPDATE runs SET updated = ? WHERE id = ?", (time.time(), run_id))
        self._write(work)

    def finish_run(self, run_dir: str | Path, status: str = "finished", problems: Iterable[str] = ()) -> None:
        if status not in STATUSES:
            raise ValueError(f"status {status!r}: one of {', '.join(STATUSES)}")

        def work(con: sqlite3.Connection) -> None:
            run_id = ensure_run(con, Path(run_dir))
            con.execute("UPDATE runs SET status = ?, problems = ?, updated = ? WHERE id = ?",
                        (status, json.dumps(list(problems)), time.time(), run_id))
        self._write(work)

    def set_tags(self, run_dir: str | Path, tags: dict[str, str | None]) -> None:
        """Add or change tags (a value None removes one). They are kept in the run folder too (tags.json), so a
        rebuilt store keeps them."""
        folder = self._folder(run_dir)

        def work(con: sqlite3.Connection) -> dict[str, str]:
            run_id = ensure_run(con, folder)
            for key, value in tags.items():
                if value is None:
                    con.execute("DELETE FROM tags WHERE run_id = ? AND key = ?", (run_id, str(key)))
                else:
                    con.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (run_id, str(key), str(value)))
            return dict(con.execute("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", (run_id,)))
        current = self._write(work)
        if self._writable_folder(folder):
            write_json(folder / "tags.json", current)

    def delete(self, name: str) -> None:
        """Forget a run. Its folder, if it is still there, stays hidden from `sync` (a tombstone) until `reindex`
        rebuilds the store; deleting the folder is the caller's choice."""
        row = self.require_run(name)
        gone = not Path(row["path"]).exists()

        def work(con: sqlite3.Connection) -> None:
            if gone:
                con.execute("DELETE FROM runs WHERE name = ?", (name,))
                return
            run_id = con.execute("SELECT id FROM runs WHERE name = ?", (name,)).fetchone()[0]
            for table in ("params", "metrics", "latest", "artefacts", "tags"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            con.execute("UPDATE runs SET deleted = 1, updated = ? WHERE id = ?", (time.time(), run_id))
        self._write(work)

    def sync(self, root: str | Path) -> int:
        """Bring the store up to date with the run folders under `root`: record new and changed folders (and
        those last seen running, whose status may have changed without a file changing), drop runs whose folder
        is gone. Returns how many runs were (re)recorded."""
        folders = find_runs(root)
        known = {row[0]: row[1:] for row in self._read(lambda con: con.execute(
            "SELECT name, path, signature, status, deleted FROM runs").fetchall())}
        stale = []
        for folder in folders:
            path, signature, status, deleted = known.get(folder.name, (None, None, None, 0))
            if deleted:
                continue
            if path != str(folder.resolve()) or signature != folder_signature(folder) or status == "running":
                stale.append(folder)
        infos = [read_folder(f) for f in stale]
        # a run whose folder is gone, or a `latest` link an older deepscope recorded as a run
        vanished = [name for name, (path, *_) in known.items()
                    if not Path(path).exists() or (Path(root) / name).is_symlink()]
        if infos or vanished:
            self._write(lambda con: replace_runs(con, infos, vanished))
        return len(infos)

    def reindex(self, root: str | Path) -> int:
        """Rebuild the store from the run folders under `root`: every run read again, deleted ones brought back,
        the rest dropped (a path the store holds is not trusted: only the folders are read). One transaction:
        readers see the old store or the new one. Returns the number of runs recorded."""
        infos = [read_folder(f) for f in find_runs(root)]
        keep = {info.name for info, _, _ in infos}

        def work(con: sqlite3.Connection) -> None:
            names = [name for (name,) in con.execute("SELECT name FROM runs") if name not in keep]
            replace_runs(con, infos, names)
        self._write(work)
        return len(infos)

    # --- reading ---------------------------------------------------------------------------------------------
    def runs(self, *, where: Iterable[str] = (), sort: str | None = None, descending: bool = True,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Runs as rows {"name", "path", "status", "problems", "task", "started", "updated", "metrics", "params",
        "tags"}, filtered by every `where` expression ("test.accuracy>0.9", "status=finished",
        "train.optimizer.name=adam", "tag:group=a"; a run without the key does not match), sorted by `sort` (a
        field, metric, param or tag:KEY; runs without it last; default: newest started first).

        "metrics" holds the final evaluations ("test.accuracy") and the last logged value of every per-epoch
        metric ("val.loss"). Raises UserError for an expression it cannot read or a key no run has."""
        rows = self._read(run_rows)
        filters = [parse_where(expression) for expression in where]
        for expression, key, _, _ in filters:
            check_key(rows, key, f"where {expression!r}")
        rows = [row for row in rows if all(matches(lookup(row, key), op, value) for _, key, op, value in filters)]
        if sort:
            check_key(rows, sort, f"sort {sort!r}")
        rows = sorted_rows(rows, sort, descending)
        return rows if limit is None else rows[:limit]

    def run(self, name: str) -> dict[str, Any] | None:
        """One run as in `runs()`, plus "artefacts" [{"path", "kind", "bytes"}]; None if the store has no such run."""
        def work(con: sqlite3.Connection) -> dict[str, Any] | None:
            found = con.execute("SELECT id FROM runs WHERE name = ? AND deleted = 0", (name,)).fetchone()
            if found is None:
                return None
            row = run_rows(con, found[0])[0]
            row["artefacts"] = [{"path": p, "kind": k, "bytes": b} for p, k, b in con.execute(
                "SELECT path, kind, bytes FROM artefacts WHERE run_id = ? ORDER BY path", found)]
            return row
        return self._read(work)

    def require_run(self, name: str) -> dict[str, Any]:
        """`run(name)`, or a UserError naming the closest runs the store has."""
        row = self.run(name)
        if row is None:
            raise self._unknown(name)
        return row

    def names(self) -> list[str]:
        return [n for (n,) in self._read(lambda con: con.execute(
            "SELECT name FROM runs WHERE deleted = 0 ORDER BY name").fetchall())]

    def metric_series(self, name: str, metric: str) -> list[tuple[int, float]]:
        """[(epoch, value)] of a per-epoch metric ((step, value) for rows logged without an epoch), in order;
        [] when the run never logged it."""
        run_id = self._run_id(name)
        rows = self._read(lambda con: con.execute(
            "SELECT COALESCE(epoch, step), value FROM metrics WHERE run_id = ? AND name = ? AND step IS NOT NULL "
            "ORDER BY step", (run_id, metric)).fetchall())
        return [(int(x), math.nan if value is None else float(value)) for x, value in rows]

    def metric_names(self, name: str) -> list[str]:
        """The metrics a run logged over time (those `metric_series` has), sorted."""
        run_id = self._run_id(name)
        return [n for (n,) in self._read(lambda con: con.execute(
            "SELECT DISTINCT name FROM metrics WHERE run_id = ? AND step IS NOT NULL ORDER BY name",
            (run_id,)).fetchall())]

    # --- internals: runs by name or folder -------------------------------------------------------------------
    def _run_id(self, name: str) -> int:
        found = self._read(lambda con: con.execute(
            "SELECT id FROM runs WHERE name = ? AND deleted = 0", (name,)).fetchone())
        if found is None:
            raise self._unknown(name)
        return found[0]

    def _unknown(self, name: str) -> UserError:
        close = difflib.get_close_matches(name, self.names(), n=3)
        hint = f"did you mean {' or '.join(close)}?" if close else "`deepscope runs list` shows the runs it has"
        return UserError(f"no run named {name!r} in {self.path}; {hint}")

    def _writable_folder(self, folder: Path) -> bool:
        """Whether deepscope may write into `folder` for this store: a real folder (not a link) inside its root.
        A path read from the store is not trusted to be one."""
        return folder.is_dir() and not folder.is_symlink() and resolves_inside(folder, self.path.parent)

    def _folder(self, run_dir: str | Path) -> Path:
        """A run folder given by path, or by the name of a run the store knows (UserError if neither)."""
        path = Path(run_dir)
        if path.exists():
            return path
        found = self._read(lambda con: con.execute("SELECT path FROM runs WHERE name = ?", (path.name,)).fetchone())
        if found is None:
            raise self._unknown(path.name)
        return Path(found[0])

    # --- internals: connection, transactions, retries, migrations --------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._con is not None and self._pid == os.getpid():
            return self._con
        if self._con is not None:  # forked: the parent's connection must be neither used nor closed here (closing
            self._inherited.append(self._con)  # its file would drop this process's locks on the database)
            self._con = None
        self._pid = os.getpid()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA foreign_keys = ON")
            self._retry(lambda: con.execute("PRAGMA journal_mode = WAL"))
            con.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable against a crashed process, and fast
        except sqlite3.OperationalError as error:
            if _locked(error):
                raise
            raise UserError(f"{self.path}: cannot open the run store ({error}); check that its folder exists and "
                            "is writable") from None
        except sqlite3.DatabaseError as error:
            raise DamagedStoreError(self.path, str(error)) from None
        self._con = con
        return con

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one write transaction, retried whole if the database stays locked."""
        return self._transaction(work, "BEGIN IMMEDIATE")

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on one consistent snapshot (a read transaction)."""
        return self._transaction(work, "BEGIN")

    def _transaction(self, work: Callable[[sqlite3.Connection], T], begin: str) -> T:
        def attempt() -> T:
            con = self._connection()
            con.execute(begin)
            try:
                result = work(con)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            return result
        with self._lock:
            return self._retry(attempt)

    def _retry(self, attempt: Callable[[], T]) -> T:
        for n in range(RETRIES + 1):
            try:
                return attempt()
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise
                if n == RETRIES:
                    raise UserError(f"{self.path}: the run store stayed locked by another process ({error}) after "
                                    f"{RETRIES} retries; try again") from None
                self.retries += 1
                time.sleep(min(BACKOFF * 2 ** n, MAX_BACKOFF) * random.uniform(0.5, 1.5))
            except sqlite3.DatabaseError as error:
                if type(error) is not sqlite3.DatabaseError:  # an IntegrityError is a bug, with its traceback
                    raise
                raise DamagedStoreError(self.path, str(error)) from None  # "disk image is malformed": overwritten
        raise AssertionError("unreachable")

    def _migrate(self) -> None:
        version = self._read(lambda con: schema_version(con))
        if version != self.SCHEMA_VERSION:
            self._upgrade()
        problem = self._read(schema_problem)
        if problem:
            raise DamagedStoreError(self.path, problem)

    def _upgrade(self) -> None:

        def work(con: sqlite3.Connection) -> None:
            current = schema_version(con)  # again, under the write lock: another process may have migrated meanwhile
            if current == self.SCHEMA_VERSION:
                return
            if current > self.SCHEMA_VERSION:
                raise UserError(f"{self.path}: run store schema version {current} is newer than this deepscope "
                                f"reads ({self.SCHEMA_VERSION}); upgrade deepscope, or delete the file and run "
                                f"`deepscope runs reindex --root {self.path.parent}`")
            try:
                for migration in MIGRATIONS[current:]:
                    migration(con)
            except sqlite3.OperationalError as error:  # tables of another program, or of a half-copied store
                if _locked(error):
                    raise
                raise DamagedStoreError(self.path, f"version {current} cannot be upgraded: {error}") from None
            con.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
        self._write(work)


def _locked(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message
