"""An exclusive OS lock on a file: one audit writer at a time, one app driving a data dir's
terminals, one sim trade server per state dir.

``flock`` on POSIX and ``msvcrt.locking`` on Windows: the OS drops the lock when the holding process
dies, however it dies, so a crash never leaves a stale lock behind (a lock file's mere existence
would). The file itself is never deleted, so every process contends on the same one.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:  # the first lock in a new directory
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, flags, 0o600)


class OsLock:
    """An exclusive lock on ``path``, held until :meth:`release` or the end of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no one holds it; False (at once) when another holder has it."""
        return self.acquire(timeout=0.0)

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds for another holder to let go (polling,
        backing off to 5 ms); False if it never did."""
        if self._fd is not None:
            return True
        fd = _open(self.path)
        deadline = time.monotonic() + timeout
        pause = 0.0002
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)


def is_locked(path: Path) -> bool:
    """Someone (this process included, through another :class:`OsLock`) holds the lock on ``path``."""
    if not path.exists():
        return False
    probe = OsLock(path)
    if probe.try_acquire():
        probe.release()
        return False
    return True
