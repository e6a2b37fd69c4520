"""One writer per folder: an exclusive lock that a process holds for as long as it writes there.

    lock = FolderLock.acquire(run_folder)   # FolderBusy(pid) if another process holds it
    ...                                     # train, write checkpoints and metrics
    lock.release()                          # or let the process end: the OS releases it

The lock is `fcntl.flock` on `FOLDER/.lock`, a file that also holds the holder's PID for the message. The
operating system drops a flock when its process dies, however it dies (SIGKILL, power cut aside), so a killed
run never leaves a stale lock behind. The file itself stays: deleting it on release would let a third process
lock a new file while a second still waits on the old one, and two holders is what the lock is for.

Where there is no `fcntl` (Windows), the lock is the file's existence (`O_EXCL`) and is deleted on release; a
process that is killed leaves it behind, and the message says to delete it when that process no longer runs.
Readers never take the lock: they read only files that are written atomically.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from deepscope.errors import UserError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"
HOLDER_READS, HOLDER_WAIT = 10, 0.02  # tries and seconds between them: 0.2 s in all for the holder to write its PID


class FolderBusy(UserError):
    """Another process holds a folder's lock."""

    def __init__(self, message: str, pid: int | None):
        super().__init__(message)
        self.pid = pid


class FolderLock:
    def __init__(self, path: Path, fd: int):
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, folder: str | Path, describe: str = "folder {folder} is in use by process {pid}") -> FolderLock:
        """Lock `folder` (which must exist) for this process, or raise FolderBusy with `describe` filled in
        (`{folder}`, `{pid}`: the holder's process id, or "another process" where it cannot be read)."""
        path = Path(folder) / LOCK_FILE
        fd = _lock(path) if fcntl is not None else _create(path)
        if fd is None:
            pid = _holder(path)
            message = describe.format(folder=folder, pid=pid if pid is not None else "another process")
            if fcntl is None:
                message += f" (if no such process runs any more, delete {path})"
            raise FolderBusy(message, pid)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        if self._fd < 0:
            return
        os.ftruncate(self._fd, 0)  # nobody holds it now: a later reader of the file finds no PID
        os.close(self._fd)  # closing drops the flock
        self._fd = -1
        if fcntl is None:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _lock(path: Path) -> int | None:
    """An open descriptor of `path` holding its flock, or None where another process holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides who may read it, as for every file
    except OSError as error:
        raise UserError(f"cannot lock {path.parent} ({error.strerror}): a process that writes there needs to "
                        "create its lock file, so the folder must exist and be writable") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _create(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return None


def _holder(path: Path) -> int | None:
    """The PID the holder wrote, or None where it cannot be read. The holder writes it just after locking, so a
    file found empty is read again a few times first."""
    for _ in range(HOLDER_READS):
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text(encoding="ascii", errors="replace").strip()[:20])
        time.sleep(HOLDER_WAIT)
    return None
