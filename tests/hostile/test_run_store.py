"""Hostile input, surface "run store": one table of planted store rows, store files and tags, each driven through
the `deepscope runs` commands it targets.

Each case is a list of steps (a command, its exact exit code, texts its output must hold) run over a run root with
two runs in it, beside a project folder outside the root. After every case nothing outside the run root has been
created, changed or removed, and the runs inside it are still whole unless the case deleted one on purpose.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import EMPTY_SAFETENSORS, FAKE_MODEL_SPEC, FAKE_VERSIONS
from tests.hostile.harness import MESSAGE_LIMIT, snapshot, untouched

STORE = "runs.sqlite"


def write_run(folder: Path, *, accuracy: float = 0.9) -> Path:
    """A run folder as training leaves it (config, environment, metrics, model)."""
    (folder / "model").mkdir(parents=True)
    (folder / "config.yaml").write_text("data: {source: digits}\ntrain: {epochs: 1}\n")
    (folder / "env.json").write_text(json.dumps({"started": "2026-11-30T10:00:00+0000", "seed": 0, **FAKE_VERSIONS}))
    rows = [{"epoch": 1, "train.loss": 0.5}, {"split": "test", "accuracy": accuracy, "loss": 0.3}]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
    (folder / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
    return folder


def add_row(root: Path, name: str, path: Path | str) -> None:
    """A crafted row in the store: a run `name` whose folder the store says is `path`."""
    with sqlite3.connect(root / STORE) as con:
        con.execute("INSERT INTO runs (name, path, status, started) VALUES (?, ?, 'finished', NULL)", (name, str(path)))


def index(root: Path, deepscope) -> None:
    assert deepscope("runs", "list", "--root", str(root)).returncode == 0


# --- what each case plants (root: the run root, with runs a and b indexed; outside: the sandbox around it) -------
def alias(root: Path, outside: Path, deepscope) -> None:
    (root / "latest").symlink_to(root / "a", target_is_directory=True)


def alias_row(root: Path, outside: Path, deepscope) -> None:
    alias(root, outside, deepscope)
    add_row(root, "latest", root / "a")  # what an older deepscope recorded for the link


def row_to_project(root: Path, outside: Path, deepscope) -> None:
    add_row(root, "project", outside / "project")  # a folder holding a config.yaml (and even an env.json)


def row_to_project_beside_a_run(root: Path, outside: Path, deepscope) -> None:
    add_row(root, "c", outside / "project")  # the row of a run that is gone, pointed elsewhere
    (root / "c").mkdir()
    (root / "c" / "notes.txt").write_text("not a run")


def row_with_dots(root: Path, outside: Path, deepscope) -> None:
    add_row(root, "../project", root / ".." / "project")


def foreign_tables(root: Path, outside: Path, deepscope) -> None:
    (root / STORE).unlink()
    with sqlite3.connect(root / STORE) as con:  # another program's file, schema version 0
        con.execute("CREATE TABLE runs (id INTEGER, label TEXT)")


def partial_schema(root: Path, outside: Path, deepscope) -> None:
    with sqlite3.connect(root / STORE) as con:  # the latest version number, a column gone
        con.execute("ALTER TABLE runs DROP COLUMN signature")


def not_sqlite(root: Path, outside: Path, deepscope) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{root / STORE}{suffix}").unlink(missing_ok=True)
    (root / STORE).write_bytes(b"this is not a database, just text " * 100)


def store_linked_out(root: Path, outside: Path, deepscope) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{root / STORE}{suffix}").unlink(missing_ok=True)
    (outside / "elsewhere.sqlite").write_bytes(b"someone else's file")
    (root / STORE).symlink_to(outside / "elsewhere.sqlite")


def log_linked_out(root: Path, outside: Path, deepscope) -> None:
    Path(f"{root / STORE}-wal").unlink(missing_ok=True)
    (outside / "elsewhere.log").write_bytes(b"someone else's file")
    Path(f"{root / STORE}-wal").symlink_to(outside / "elsewhere.log")


def nothing(root: Path, outside: Path, deepscope) -> None:
    return None


@dataclass
class Step:
    args: tuple[str, ...]  # after `deepscope`; ROOT is replaced by the run root
    code: int
    texts: tuple[str, ...] = ()  # each must be in stdout + stderr
    absent: tuple[str, ...] = ()  # none may be


@dataclass
class Case:
    id: str
    plant: Callable[..., None]
    steps: list[Step]
    deleted: tuple[str, ...] = ()  # run folders the case deletes on purpose
    kept: tuple[str, ...] = ("a", "b")  # run folders that must stay exactly as they were (tagging writes tags.json)


def delete(name: str) -> tuple[str, ...]:
    return ("runs", "delete", name, "--files", "--yes", "--root", "ROOT")


LIST = ("runs", "list", "--root", "ROOT", "--json")
CASES = [
    Case("delete-an-alias-by-name", alias_row, [Step(delete("latest"), 2, ("no run named 'latest'",))]),
    Case("delete-an-alias-by-path", alias, [Step(("runs", "delete", "ROOT/latest", "--files", "--yes"), 2,
                                                 ("ROOT/latest is a link", "nothing deleted"))]),
    Case("a-row-pointing-at-a-project-outside", row_to_project,
         [Step(delete("project"), 2, ("ROOT/project: no such folder in the run root", "nothing deleted"))]),
    Case("a-row-pointing-outside-beside-a-folder", row_to_project_beside_a_run,
         [Step(delete("c"), 2, ("the run store says the folder of c is", "nothing deleted"))]),
    Case("a-row-with-dots", row_with_dots,
         [Step(delete("../project"), 2, ("not a folder name", "nothing deleted"))]),
    Case("a-folder-deepscope-did-not-make", lambda root, outside, deepscope: (root / "b" / "env.json").unlink(),
         [Step(delete("b"), 2, ("does not look like a folder deepscope trained in", "has no env.json",
                                "nothing deleted"))]),
    Case("a-real-run-is-deleted", nothing, [Step(delete("b"), 0, ("ROOT/b/env.json", "deleted b and its folder"))],
         deleted=("b",), kept=("a",)),
    Case("no-terminal-no-yes", nothing, [Step(("runs", "delete", "b", "--files", "--root", "ROOT"), 2,
                                              ("ROOT/b/metrics.jsonl", "no terminal to ask", "pass --yes"))]),
    Case("foreign-tables", foreign_tables, [
        Step(LIST, 2, ("ROOT/runs.sqlite: not a run store", "cannot be upgraded", "deepscope runs reindex --root")),
        Step(("runs", "reindex", "--root", "ROOT"), 0, ("was damaged", "reindexed 2 runs")),
        Step(LIST, 0, ('"name": "a"', '"status": "finished"'))]),
    Case("partial-schema", partial_schema, [
        Step(("runs", "show", "a", "--root", "ROOT"), 2, ("its table runs has no column signature", "runs reindex")),
        Step(("runs", "reindex", "--root", "ROOT"), 0, ("reindexed 2 runs",)),
        Step(LIST, 0, ('"name": "b"',))]),
    Case("not-sqlite", not_sqlite, [
        Step(LIST, 2, ("ROOT/runs.sqlite: not a run store", "file is not a database", "runs reindex")),
        Step(("runs", "reindex", "--root", "ROOT"), 0, ("reindexed 2 runs",)),
        Step(LIST, 0, ('"name": "a"',))]),
    Case("store-linked-out-of-the-root", store_linked_out, [
        Step(LIST, 2, ("ROOT/runs.sqlite is a link out of the run root",)),
        Step(("runs", "reindex", "--root", "ROOT"), 2, ("ROOT/runs.sqlite is a link out of the run root",))]),
    Case("store-log-linked-out-of-the-root", log_linked_out, [
        Step(("runs", "tag", "a", "group=x", "--root", "ROOT"), 2,
             ("ROOT/runs.sqlite-wal is a link out of the run root", "remove the link"))]),
    Case("rich-markup-in-tags", nothing, [
        Step(("runs", "tag", "a", "note=[/red]", "site=[link=https://evil.example]click[/link]", "--root", "ROOT"), 0),
        Step(("runs", "show", "a", "--root", "ROOT"), 0,
             ("note=[/red]", "site=[link=https://evil.example]click[/link]"), absent=("\x1b]8;",)),
        Step(("runs", "list", "--root", "ROOT", "--where", "tag:note=[/red]"), 0, ("a ",))], kept=("b",)),
    Case("unicode-and-control-characters-in-tags", nothing, [
        Step(("runs", "tag", "a", "名前=値🙂", "bell=\x1b[31mred\x07", "--root", "ROOT"), 0),
        Step(("runs", "show", "a", "--root", "ROOT"), 0, ("名前=値🙂", "[31mred"), absent=("\x1b", "\x07"))],
         kept=("b",)),
    Case("a-huge-tag", nothing, [
        Step(("runs", "tag", "a", "note=" + "ü" * 5000, "--root", "ROOT"), 2, ("5,000 characters", "at most 1,000")),
        Step(("runs", "show", "a", "--root", "ROOT", "--json"), 0, absent=("üüü",))]),
]


# --- the harness -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_run_store_trusts_no_row_no_file_and_no_tag(case, tmp_path, deepscope_in_process, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    root = tmp_path / "runs"
    write_run(root / "a"), write_run(root / "b", accuracy=0.8)
    project = write_run(tmp_path / "project")  # outside the root, and as run-like as a folder can be
    (project / "src.py").write_text("print('my project')\n")
    index(root, deepscope_in_process)
    # the indexing command is over, as its process would be: what it left open (a store connection, whose closing
    # removes SQLite's -wal file) goes now, not while a later command reads what the case plants
    gc.collect()
    case.plant(root, tmp_path, deepscope_in_process)
    before_outside, before_runs = snapshot(tmp_path, skip=root), {name: snapshot(root / name) for name in case.kept}

    for step in case.steps:
        args = [arg.replace("ROOT", str(root)) for arg in step.args]
        result = deepscope_in_process(*args, cwd=tmp_path)
        text = result.stdout + result.stderr
        assert "Traceback" not in text, text[-3000:]
        assert result.returncode == step.code, f"{step.args}: exit code {result.returncode}:\n{text}"
        assert len(text) < MESSAGE_LIMIT or step.code == 0, text[:500]
        flat = " ".join(text.split())
        for expected in step.texts:
            assert expected.replace("ROOT", str(root)) in flat, f"{expected!r} not in:\n{text}"
        for unexpected in step.absent:
            assert unexpected not in text, f"{unexpected!r} in:\n{text}"

    untouched(before_outside, snapshot(tmp_path, skip=root))
    for name, before in before_runs.items():
        untouched(before, snapshot(root / name))
    for name in case.deleted:
        assert not (root / name).exists()
    if (root / "latest").is_symlink():
        assert (root / "latest").resolve() == (root / "a").resolve()  # the alias is left as it was
