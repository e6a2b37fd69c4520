"""Training on a run folder that is damaged, tampered with or in use: `deepscope train --resume RUN`.

One table of planted cases, one harness: copy a small finished digits run, plant the case, resume it, and assert
the exact outcome: exit code 2 with a message naming the file (or the lock holder's PID) and what to do, or a
resume that works and leaves the folder clean. Plus two real processes resuming one run at once.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

import deepscope as ds
from deepscope.io import load_tensors, save_tensors
from deepscope.track.lock import FolderLock
from deepscope.track.rundir import STALE_TEMP_SECONDS, RunDir
from tests.hostile.harness import refused, snapshot, succeeded, untouched

CONFIG = {
    "data": {"source": "digits"},
    "model": {"encoder": {"name": "cnn", "filters": [8]}},
    "train": {"epochs": 2, "batch_size": 128, "seed": 3},
    "diagnose": {"enabled": False},
    "run": {"root": "runs", "name": "base", "report": False},
}
LAST, BEST = "checkpoints/last.safetensors", "checkpoints/best.safetensors"
DAMAGED_FIX = "start a new run"  # what every damaged checkpoint's message ends with


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-epoch digits run (checkpoints, model, metrics), made once and copied for each case."""
    folder = tmp_path_factory.mktemp("base")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return ds.train(CONFIG, progress=False).dir.resolve()


# --- how each case is planted --------------------------------------------------------------------------------
def cut_short(name: str) -> Callable[[Path], None]:
    def plant(run: Path) -> None:
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 2])

    return plant


def replace_with(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes(content)


class MakesAFolder:
    """A pickle that, if ever unpickled, creates a folder: proof that no checkpoint is unpickled."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def pickle_renamed(run: Path) -> None:
    (run / LAST).write_bytes(pickle.dumps(MakesAFolder(run.parent / "unpickled")))


def edit_checkpoint(edit: Callable[[dict, dict], None]) -> Callable[[Path], None]:
    """Rewrite last.safetensors with `edit(tensors, meta)` applied: a whole file whose contents are wrong."""

    def plant(run: Path) -> None:
        tensors, meta = load_tensors(run / LAST)
        edit(tensors, meta)
        save_tensors(run / LAST, tensors, meta)

    return plant


def first_model_tensor(tensors: dict) -> str:
    return next(name for name in sorted(tensors) if name.startswith("model."))


def wrong_shape(tensors: dict, meta: dict) -> None:
    tensors[first_model_tensor(tensors)] = torch.zeros(3, 3)


def hold_lock(run: Path) -> FolderLock:
    return FolderLock.acquire(run)  # this test process is the holder: its PID must be named


STALE_TEMP_FILES = (".metrics.jsonl.a1b2c3d4.tmp", "checkpoints/.last.safetensors.k_9x2mqp.tmp",
                    "model/.weights.safetensors.zz00yy11.tmp")
NOT_OURS = ("notes.tmp", ".keep.tmp", "checkpoints/draft.safetensors.tmp")  # not deepscope's pattern: kept


def stale_temp_files(run: Path) -> None:
    (run / "model").mkdir(exist_ok=True)
    old = time.time() - STALE_TEMP_SECONDS - 60  # left by a run killed a while ago
    for name in STALE_TEMP_FILES + NOT_OURS:
        (run / name).write_bytes(b"half a file")
        os.utime(run / name, (old, old))


def no_temp_files_left(run: Path) -> None:
    for name in STALE_TEMP_FILES:
        assert not (run / name).exists(), name
    for name in NOT_OURS:
        assert (run / name).read_bytes() == b"half a file", name


def duplicated_epochs(run: Path) -> None:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    epochs = [line for line in lines if '"split"' not in line]
    (run / "metrics.jsonl").write_text("\n".join(epochs + epochs + lines) + "\n")  # two processes' lines
    assert [row["epoch"] for row in RunDir(run).read_metrics()[0]] == [1, 2]  # readers already see one per epoch


def one_line_per_epoch(run: Path) -> None:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows if "epoch" in row] == [1, 2]
    assert [row["split"] for row in rows if "split" in row] == ["val", "test"]


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the next checkpoint is written (as safetensors reports it)."""

    def full(tensors, path, metadata=None):
        Path(path).write_bytes(b"\0" * 100)  # the part written before the disk was full
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr("deepscope.io.save_file", full)


@dataclass(frozen=True)
class Case:
    id: str
    plant: Callable[[Path], object] | None  # changes the run folder; may return something to hold (a lock)
    places: tuple[str, ...] | None  # refused, naming these ({run}, {pid} filled in); None: the resume works
    check: Callable[[Path], None] | None = None  # what must hold in the run folder afterwards
    overrides: tuple[str, ...] = ()
    patch: Callable[[pytest.MonkeyPatch], None] | None = None  # what the process meets (a full disk)


CASES = [
    Case("truncated-last", cut_short(LAST), (LAST, "cut short", DAMAGED_FIX)),
    Case("empty-last", replace_with(LAST, b""), (LAST, DAMAGED_FIX)),
    Case("header-is-a-list", replace_with(LAST, (7).to_bytes(8, "little") + b"[1,2,3]"),
         (LAST, "not a JSON object", DAMAGED_FIX)),
    Case("pickle-renamed", pickle_renamed, (LAST, DAMAGED_FIX)),
    Case("shapes-of-another-model", edit_checkpoint(wrong_shape), (LAST, "in this run's model", DAMAGED_FIX)),
    Case("metadata-missing-keys", edit_checkpoint(lambda t, meta: [meta.pop("history"), meta.pop("rng")]),
         (LAST, "lacks history, rng", DAMAGED_FIX)),
    Case("metadata-wrong-type", edit_checkpoint(lambda t, meta: meta.update(epoch="two")),
         (LAST, "epoch is text, not a whole number", DAMAGED_FIX)),
    Case("optimizer-state-of-other-groups", edit_checkpoint(lambda t, meta: meta["optimizer"].update(param_groups=[])),
         (LAST, "do not fit", DAMAGED_FIX)),
    Case("no-metadata", edit_checkpoint(lambda t, meta: meta.clear()), (LAST, "lacks epoch", DAMAGED_FIX)),
    Case("history-of-junk", edit_checkpoint(lambda t, meta: meta.update(history=[1, "x"])),
         (LAST, "not mappings", DAMAGED_FIX)),
    Case("shuffle-state-cut-short", edit_checkpoint(lambda t, meta: meta.update(epoch_shuffle_state=[1, 2])),
         (LAST, "epoch_shuffle_state", DAMAGED_FIX)),
    Case("rng-state-of-the-wrong-size", edit_checkpoint(lambda t, meta: t.update({"rng.torch": torch.zeros(4)})),
         (LAST, "do not fit", DAMAGED_FIX)),
    Case("damaged-best", cut_short(BEST), (BEST, "cut short", DAMAGED_FIX)),
    Case("locked-by-another-process", hold_lock, ("{run}", "process {pid}", "wait for it")),
    Case("disk-full-while-checkpointing", None, ("no space left on device", "checkpoints/", ".safetensors",
         "the last good checkpoint is kept", "--resume"), overrides=("train.epochs=3",), patch=disk_full),
    Case("stale-temp-files", stale_temp_files, None, no_temp_files_left),
    Case("duplicated-epochs-in-metrics", duplicated_epochs, None, one_line_per_epoch),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_resume_a_planted_run_folder(case: Case, base_run: Path, tmp_path: Path, deepscope_in_process,
                                     monkeypatch: pytest.MonkeyPatch):
    run = tmp_path / "runs" / base_run.name
    shutil.copytree(base_run, run)
    held = case.plant(run) if case.plant else None
    planted = {name: (run / name).read_bytes() for name in (LAST, BEST)}
    if case.patch:
        case.patch(monkeypatch)
    before = snapshot(tmp_path, skip=tmp_path / "runs")
    try:
        result = deepscope_in_process("train", "--resume", str(run), *case.overrides, cwd=tmp_path)
    finally:
        if isinstance(held, FolderLock):
            held.release()
    untouched(before, snapshot(tmp_path, skip=tmp_path / "runs"))
    assert not (tmp_path / "unpickled").exists(), "a pickle was loaded"
    if case.places is None:
        succeeded(result)
    else:
        refused(result, *(place.format(run=run, pid=os.getpid()) for place in case.places))
        for name, content in planted.items():
            assert (run / name).read_bytes() == content, f"a refused resume changed {name}"
        assert not [p.name for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    if case.check is not None:
        case.check(run)


HOLDER = """
import sys, time
from deepscope.track.lock import FolderLock
lock = FolderLock.acquire(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


def test_a_lock_held_by_another_process_refuses_and_its_death_frees_it(base_run, tmp_path, deepscope_in_process):
    run = tmp_path / "runs" / base_run.name
    shutil.copytree(base_run, run)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused(deepscope_in_process("train", "--resume", str(run), cwd=tmp_path), str(run), f"process {holder.pid}")
    finally:
        holder.kill()  # SIGKILL: no chance to clean up, as when a training run is killed
        holder.wait()
    succeeded(deepscope_in_process("train", "--resume", str(run), cwd=tmp_path))  # no stale lock left behind


def test_without_fcntl_the_lock_is_the_file_and_a_leftover_one_says_how_to_clear_it(tmp_path, monkeypatch):
    from deepscope.track.lock import FolderBusy

    monkeypatch.setattr("deepscope.track.lock.fcntl", None)  # as on Windows
    lock = FolderLock.acquire(tmp_path)
    with pytest.raises(FolderBusy, match=f"process {os.getpid()}") as busy:
        FolderLock.acquire(tmp_path)
    assert str(tmp_path / ".lock") in str(busy.value) and busy.value.pid == os.getpid()
    lock.release()
    assert not (tmp_path / ".lock").exists()
    FolderLock.acquire(tmp_path).release()


# --- two real processes ------------------------------------------------------------------------------------
# each imports everything first, then waits for the same start signal: the two resumes reach the lock together
RACER = """
import pathlib, sys, time
from deepscope.cli.main import main
import deepscope.run.train  # noqa: F401  (torch and the workflows: the slow part, before the start)
ready, start, run = sys.argv[1:4]
pathlib.Path(ready).touch()
while not pathlib.Path(start).exists():
    time.sleep(0.002)
sys.argv = ["deepscope", "train", "--resume", run]
main()
"""


def test_two_concurrent_resumes_of_one_run_one_trains_the_other_is_refused(base_run, tmp_path):
    run = tmp_path / "runs" / "race"
    run.mkdir(parents=True)
    config = (base_run / "config.yaml").read_text().replace("epochs: 2", "epochs: 6")
    assert "epochs: 6" in config
    (run / "config.yaml").write_text(config)  # no checkpoint yet: each would train all 6 epochs from the start
    start = tmp_path / "start"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / f"ready{i}"), str(start), str(run)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i in range(2)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert all(r.poll() is None for r in racers), [r.communicate() for r in racers]
        assert time.monotonic() < deadline, "the racers never got ready"
        time.sleep(0.01)
    start.touch()
    results = [(r, *r.communicate(timeout=300)) for r in racers]

    codes = sorted(r.returncode for r, _, _ in results)
    assert codes == [0, 2], [(r.returncode, err[-2000:]) for r, _, err in results]
    (winner, _, _), (loser, out, err) = sorted(results, key=lambda result: result[0].returncode)
    message = refused(subprocess.CompletedProcess(loser.args, loser.returncode, out, err),
                      str(run), f"process {winner.pid}")
    assert "being trained" in message
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows if "epoch" in row] == [1, 2, 3, 4, 5, 6]
    assert (run / "model" / "weights.safetensors").exists()
