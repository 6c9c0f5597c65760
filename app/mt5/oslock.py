"""An exclusive OS lock on a file, taken without waiting: who runs what on a data dir.

``flock`` on POSIX and ``msvcrt.locking`` on Windows: the OS drops the lock when the holding process
dies, however it dies, so a crash never leaves a stale lock behind (a lock file's mere existence
would). The file itself is never deleted, so every process contends on the same one.
"""

from __future__ import annotations

import os
import sys
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
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)


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
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open(self.path)
        if not _try_lock(fd):
            os.close(fd)
            return False
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


TERMINALS_LOCK_FILE = "terminals.lock"


class TerminalsLock:
    """Real MetaTrader 5 terminals answer to one process at a time: the app holds
    ``<data dir>/terminals.lock`` while it drives them, and ``accounts sync`` refuses to drive them
    meanwhile (it would log the app's terminals in to other accounts). A runtime service."""

    name = "terminals-lock"

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TERMINALS_LOCK_FILE
        self._lock = OsLock(self.path)

    async def start(self) -> None:
        if not self._lock.try_acquire():
            raise RuntimeError(
                f"another mt5-console process drives the terminals of this data dir ({self.path.parent}); "
                "stop it first"
            )

    async def stop(self) -> None:
        self._lock.release()
