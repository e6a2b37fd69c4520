"""`deepscope train CONFIG --devices N`: N training processes on this machine, started by PyTorch's own torchrun.

Each process runs the same `deepscope train` command; torchrun gives it its rank (RANK, WORLD_SIZE, LOCAL_RANK)
and `deepscope.training.distributed.strategy_for` turns that into the DDP strategy. Nothing here is deepscope's
own launcher: this is `torchrun --standalone --nproc-per-node N -m deepscope train ...`, called in-process so
that a failed rank becomes one clear message. Many machines use torchrun directly (README, "Many processes").

When one rank dies, torchrun's agent stops the others at once (and a rank left waiting in a collective gives
up after `distributed.COLLECTIVE_TIMEOUT_S`), so a run never hangs; its last checkpoint stays for `--resume`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from deepscope.errors import UserError
from deepscope.training.distributed import launched_by_torchrun, lost_a_rank

__all__ = ["launch", "check_devices", "announce_run_dir", "lost_a_rank", "RankFailed"]

RUN_DIR_FILE = "DEEPSCOPE_RUN_DIR_FILE"  # where rank 0 writes the path of the run folder it created


class RankFailed(UserError):
    """A training process died; the others were stopped. Not the user's mistake, but no bug of theirs to trace."""

    exit_code = 1


def check_devices(devices: int) -> None:
    """Refuse a device count this machine cannot give, before any process starts."""
    if launched_by_torchrun():
        raise UserError("--devices: this process was already started by torchrun, which set the number of "
                        "processes; leave --devices out")
    if devices < 1:
        raise UserError(f"--devices {devices}: give 1 or more processes")
    gpus = torch.cuda.device_count()
    if gpus and devices > gpus:
        raise UserError(f"--devices {devices}: this machine has {gpus} CUDA GPU(s); give at most {gpus}")


def launch(command: Sequence[str], devices: int, *, resume: str | Path | None = None) -> None:
    """Run `deepscope COMMAND...` in `devices` processes under torchrun; raise `RankFailed` when a rank dies."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    check_devices(devices)
    if "OMP_NUM_THREADS" not in os.environ and not torch.cuda.is_available():
        # torchrun's default is 1 thread a process: right on 2 cores, wasteful on 32; share the cores out instead
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // devices))
    args = parse_args(["--standalone", f"--nproc-per-node={devices}", "--monitor-interval=0.2",
                       "-m", "deepscope", *command])
    with tempfile.TemporaryDirectory(prefix="deepscope-launch-") as folder:
        run_dir_file = Path(folder) / "run_dir"
        os.environ[RUN_DIR_FILE] = str(run_dir_file)
        quiet = logging.getLogger("torch.distributed.elastic")
        level, quiet.level = quiet.level, logging.CRITICAL  # the failure is said once, below, in plain words
        try:
            run(args)
        except ChildFailedError as error:
            run_dir = resume or (run_dir_file.read_text() if run_dir_file.exists() else None)
            _raise_for(error, devices, run_dir)
        finally:
            quiet.setLevel(level)
            os.environ.pop(RUN_DIR_FILE, None)


def announce_run_dir(path: Path) -> None:
    """Tell the launcher (if there is one) which run folder rank 0 created, for its message should a rank die."""
    if target := os.environ.get(RUN_DIR_FILE):
        from deepscope.io import write_text

        write_text(Path(target), str(path))


def _raise_for(error: Exception, devices: int, run_dir: str | Path | None) -> None:
    failures = getattr(error, "failures", {})
    if failures and all(f.exitcode == 2 for f in failures.values()):
        raise SystemExit(2)  # a user's mistake, which rank 0 has already printed
    # the ranks torchrun itself stopped (SIGTERM) once another had failed are the consequence, not the cause
    causes = {rank: f for rank, f in failures.items() if f.exitcode != -15} or failures
    said = [_said(rank, failure) for rank, failure in sorted(causes.items())] or ["a training process failed"]
    resume = (f"continue from its last checkpoint with `deepscope train --resume {run_dir} --devices {devices}`"
              if run_dir else "no run folder was created yet")
    others = " torchrun stopped the other processes;" if len(causes) < devices else ""
    raise RankFailed(f"training stopped: {'; '.join(said)}.{others} {resume}")


def _said(rank: int, failure: object) -> str:
    pid, code = getattr(failure, "pid", "?"), getattr(failure, "exitcode", None)
    if code is not None and code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"rank {rank} (pid {pid}) was killed by {name}"
    return f"rank {rank} (pid {pid}) exited with code {code} (its error is printed above)"
