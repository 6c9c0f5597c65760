"""One writer at a time across processes: an OS lock on ``<audit dir>/.lock``.

``flock`` on POSIX and ``msvcrt.locking`` on Windows: the OS drops the lock when the holder dies, so a
killed process never leaves the trail locked (a lock *file*'s mere existence would). The lock file is
never deleted, which keeps every process contending on the same inode. Not re-entrant; one instance
per thread that writes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import TracebackType

from app.audit.errors import AuditLockTimeout

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
    import errno
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class InterProcessLock:
    """An exclusive lock on a file, waited for up to ``timeout`` seconds (polling, backing off to 5 ms)."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            raise RuntimeError("lock already held")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        deadline = time.monotonic() + self.timeout
        pause = 0.0002
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise AuditLockTimeout(
                        f"audit trail locked by another process for over {self.timeout:g}s"
                    )
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> InterProcessLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
