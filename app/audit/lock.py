"""One writer at a time across processes: an OS lock (:mod:`app.oslock`) on ``<audit dir>/.lock``.

The OS drops the lock when the holder dies, so a killed process never leaves the trail locked. Not
re-entrant; one instance per thread that writes.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from app.audit.errors import AuditLockTimeout
from app.oslock import OsLock


class InterProcessLock:
    """An exclusive lock on a file, waited for up to ``timeout`` seconds; :class:`AuditLockTimeout`
    when another process keeps it longer."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._lock = OsLock(path)

    @property
    def held(self) -> bool:
        return self._lock.held

    def acquire(self) -> None:
        if self._lock.held:
            raise RuntimeError("lock already held")
        if not self._lock.acquire(self.timeout):
            raise AuditLockTimeout(f"audit trail locked by another process for over {self.timeout:g}s")

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> InterProcessLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
